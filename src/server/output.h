/* output.h — generated token ids → what the APIs send: text pieces and tool calls.
 *
 * One parser per request, fed every generated token (eos excluded) in the thread
 * that generates. Text is decoded UTF-8-safely and run through the stop strings;
 * `<|tool_call|>` / `<|/tool_call|>` are recognised by token id (never by decoded
 * text, which a user or the model could spell out), and the JSON between them is
 * parsed as it streams: a call is announced (id + name) as soon as its name is
 * complete, its arguments follow in pieces (whitespace outside strings dropped),
 * and it is closed when its object ends. A segment that turns out not to be a call
 * comes out as text. Streaming and non-streaming responses are built from the same
 * events, so they always agree. No allocation per token in steady state. */
#ifndef OLM_SERVER_OUTPUT_H
#define OLM_SERVER_OUTPUT_H

#include "onnxllm.h"

typedef enum out_event {
    OUT_TEXT = 1,    /* s: text piece */
    OUT_CALL_START,  /* index; s: id, s2: name */
    OUT_CALL_ARGS,   /* index; s: a piece of the arguments JSON */
    OUT_CALL_END     /* index */
} out_event;

typedef void (*out_sink)(void *user, out_event ev, int index, const char *s, size_t n, const char *s2, size_t n2);

typedef struct out_params {
    const onnxllm_tokenizer *tok;
    bool parse_tools;          /* false: tool-call tokens are dropped like other special tokens */
    const char *const *stops;  /* stop strings (text outside calls) */
    size_t n_stops;
    const char *id_prefix;     /* tool call ids: prefix + 24 random alphanumerics ("call_") */
    out_sink sink;
    void *user;
} out_params;

typedef struct out_parser out_parser;

onnxllm_status out_create(const out_params *p, out_parser **out, onnxllm_error *err);
void out_free(out_parser *p);
/* Feeds one generated token. Returns false when generation should stop (a stop
 * string matched, or an error: see out_status). */
bool out_token(out_parser *p, int32_t token);
/* End of generation: hands out what the detokenizer / stop matcher still hold and
 * closes a call left open (max tokens inside a call, or a call ended by eos). */
void out_finish(out_parser *p);
/* Index of the stop string that matched, -1 if none. */
int out_stop_matched(const out_parser *p);
int out_calls(const out_parser *p); /* calls announced so far */
onnxllm_status out_status(const out_parser *p, onnxllm_error *err);

#endif
