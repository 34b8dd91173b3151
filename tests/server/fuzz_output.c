/* fuzz_output.c — libFuzzer target (ctest fuzz_server_output): model outputs through
 * the streaming output parser. The input is text with special tokens (tokenized
 * with Phi-4-mini's tokenizer: $ONNXLLM_FUZZ_TOKENIZER), fed one token at a time,
 * with the first byte choosing tools on/off and a stop string. Invariants: events in
 * order (a call is started once, its arguments and end follow its start, every
 * started call is ended at the finish), all text is valid UTF-8, no crash or leak. */
#include "server/jsonw.h"
#include "server/output.h"

#include <stdlib.h>
#include <string.h>

static onnxllm_tokenizer *tok;

typedef struct {
    int started, ended;
    bool open[64];
} state;

static void sink(void *user, out_event ev, int i, const char *s, size_t n, const char *s2, size_t n2) {
    state *st = user;
    (void)s2;
    if (ev == OUT_TEXT || ev == OUT_CALL_ARGS) {
        if (ev == OUT_TEXT && !jw_utf8_valid(s, n)) abort();
        if (ev == OUT_CALL_ARGS && (i < 0 || i >= st->started || i >= 64 || !st->open[i])) abort();
        return;
    }
    if (ev == OUT_CALL_START) {
        if (i != st->started || !n || !n2) abort();
        if (i < 64) st->open[i] = true;
        st->started++;
    } else if (ev == OUT_CALL_END) {
        if (i < 0 || i >= st->started || (i < 64 && !st->open[i])) abort();
        if (i < 64) st->open[i] = false;
        st->ended++;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *path = getenv("ONNXLLM_FUZZ_TOKENIZER");
    if (!path || onnxllm_tokenizer_load(path, &tok, NULL)) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (!n || n > 4096) return 0;
    onnxllm_tokens ids = {0};
    if (onnxllm_tokenizer_encode(tok, (const char *)d + 1, n - 1, ONNXLLM_TOKENIZE_PARSE_SPECIAL, &ids, NULL)) abort();
    state st = {0};
    const char *stops[] = {"}]", "STOP"};
    out_params p = {.tok = tok, .parse_tools = d[0] & 1, .stops = stops, .n_stops = (d[0] >> 1) % 3,
                    .id_prefix = "call_", .sink = sink, .user = &st};
    out_parser *o = NULL;
    if (out_create(&p, &o, NULL)) abort();
    for (size_t i = 0; i < ids.len; i++)
        if (!out_token(o, ids.ids[i])) break;
    out_finish(o);
    if (out_status(o, NULL) || st.ended != st.started || st.started != out_calls(o)) abort();
    out_free(o);
    onnxllm_tokens_free(&ids);
    return 0;
}
