/* chatreq.h — a chat request as the three APIs have in common, once parsed:
 * a merged system prompt, user / assistant / tool turns (assistant tool calls and
 * tool results included), tools, sampling, limits, stop strings and the output
 * constraint; rendered with the model's chat template to token ids. Also the
 * typed JSON getters the parsers use, whose errors name the field. */
#ifndef OLM_SERVER_CHATREQ_H
#define OLM_SERVER_CHATREQ_H

#include "server/server.h"

#include <cjson/cJSON.h>

/* A request error: HTTP status, the field at fault, a message. */
typedef struct req_err {
    int status;
    char param[160];
    char msg[600];
} req_err;
/* Sets *e (first error wins) and returns false. */
bool rerr(req_err *e, int status, const char *param, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* JSON type name for messages ("a string", "an array", ...). */
const char *jtype(const cJSON *v);
/* Typed getters: absent or null → *present = false (optional) or an error naming
 * `path` (required). `path` is the field's full name, e.g. "messages[2].role". */
bool jstr(const cJSON *o, const char *key, const char *path, bool required, const char **out, req_err *e);
bool jnum(const cJSON *o, const char *key, const char *path, double lo, double hi, double *out, bool *present,
          req_err *e);
bool jint(const cJSON *o, const char *key, const char *path, long long lo, long long hi, long long *out,
          bool *present, req_err *e);
bool jbool(const cJSON *o, const char *key, const char *path, bool *out, req_err *e);
/* Parses the body: 400 "malformed JSON" with the position, or not an object. */
cJSON *jparse_body(const char *body, size_t len, req_err *e);

enum { R_SYSTEM, R_USER, R_ASSISTANT, R_TOOL };

typedef struct chat_tcall {
    char *id, *name, *args; /* args: JSON object text */
} chat_tcall;

typedef struct chat_msg {
    int role;
    olm_sb text;
    chat_tcall *calls;
    size_t n_calls;
} chat_msg;

typedef struct chat_req {
    srv_api api;
    char *model;               /* as requested (echoed back) */
    olm_sb system;             /* every system / developer text, merged */
    chat_msg *m;
    size_t n, cap;
    cJSON *tools;              /* tool definitions put in the prompt (owned); NULL: none */
    bool parse_tools;          /* turn <|tool_call|> output into calls */
    gen_constraint con;        /* the output constraint (kind NONE: none) */
    gen_grammar *grammar;      /* after creq_prepare: con compiled (NULL: unconstrained) */
    bool single_call;          /* parallel_tool_calls false / disable_parallel_tool_use: one call at most */
    bool tools_strict;         /* a tool asked for strict arguments (OpenAI strict): a schema we cannot
                                  enforce is then a 400, not an unconstrained call */
    char *con_schema, *con_tool, *con_tools;
    onnxllm_sampler_params sp;
    int max_tokens;            /* -1: not given */
    bool clamp_max_tokens;     /* over the context: clamp (Anthropic) instead of 400 */
    const char *max_tokens_field;
    char **stops;
    size_t n_stops;
    bool stream, include_usage;
    bool prefill;              /* the last message is an assistant turn to continue (Anthropic) */
    bool raw;                  /* /v1/completions: raw_text or raw_ids instead of messages */
    olm_sb raw_text;
    onnxllm_tokens raw_ids;
    /* after creq_prepare */
    onnxllm_tokens ids;
    int gen_max;               /* tokens to generate at most */
} chat_req;

/* s (may be NULL): the model whose sampling defaults apply. */
void creq_init(chat_req *r, srv_api api, const srv *s);
void creq_free(chat_req *r);
chat_msg *creq_add(chat_req *r, int role);
bool creq_add_call(chat_msg *m, const char *id, const char *name, const char *args_json);
bool creq_add_stop(chat_req *r, const char *s);
/* temperature, top_p, top_k, min_p, seed, presence / frequency / repetition
 * penalty from the body (whichever are present). */
bool creq_sampling(chat_req *r, const cJSON *body, req_err *e);
/* "stop" (string or array) / "stop_sequences" (array) under `key`. */
bool creq_stops(chat_req *r, const cJSON *body, const char *key, req_err *e);
/* Renders (template, tools) and tokenizes into r->ids; checks the context and sets
 * gen_max (clamped or 400, see clamp_max_tokens); compiles the constraint into
 * r->grammar (400 naming the keyword when it cannot be enforced). Tools without a
 * forcing tool_choice get the lazy tool grammar (free text, or calls that validate). */
bool creq_prepare(srv *s, chat_req *r, req_err *e);
/* The rendered prompt text (for /apply-template); caller frees. */
char *creq_render_text(srv *s, chat_req *r, req_err *e);

/* Each API's request parser (JSON body → chat_req), without rendering or the model:
 * what the handlers run first, and what the fuzz target drives. */
bool api_anthropic_parse(srv_call *c, const cJSON *b, chat_req *r, bool for_count, req_err *e);
bool api_openai_parse_chat(srv_call *c, const cJSON *b, chat_req *r, req_err *e);
bool api_responses_parse(srv_call *c, const cJSON *b, chat_req *r, req_err *e);
/* OpenAI chat messages + tools only (/apply-template, /tokenize). */
bool oa_parse_chat(chat_req *r, const cJSON *b, req_err *e);
/* tool_choice that forces a call: of any tool (name NULL) or of `name`. */
bool creq_force_tool(chat_req *r, const char *name, req_err *e);
/* tool_choice none: no tools in the prompt, no call parsing. */
void creq_no_tools(chat_req *r);
/* OpenAI Chat Completions and Responses: parallel_tool_calls, and tool_choice "auto",
 * "none", "required" or a named function (Chat {"type":"function","function":{"name"}},
 * Responses {"type":"function","name"}; either shape is accepted by both). */
bool creq_openai_tool_choice(chat_req *r, const cJSON *b, req_err *e);
/* response_format / text.format → r->con. */
bool oa_parse_format(chat_req *r, const cJSON *rf, const char *field, req_err *e);

#endif
