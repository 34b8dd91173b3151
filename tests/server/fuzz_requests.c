/* fuzz_requests.c — libFuzzer target (ctest fuzz_server_requests): request bodies of
 * the three generation APIs. Byte 0 picks the API (Anthropic / OpenAI chat /
 * Responses; bit 2: Anthropic count_tokens), the rest is the body. Any bytes: the
 * parser either accepts and the chat template renders the result, or answers a 4xx
 * with a one-line message — never a crash, a leak, or a 500. No model is loaded. */
#include "server/chatreq.h"
#include "server/jsonw.h"

#include <stdlib.h>
#include <string.h>

static srv S;
static srv_call C;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    if (onnxllm_template_builtin(ONNXLLM_TEMPLATE_PHI4, "<|endoftext|>", &S.tmpl, NULL)) abort();
    S.model_name = "fuzz-model";
    C.s = &S;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (!n) return 0;
    int api = d[0] % 3;
    req_err e = {0};
    chat_req r;
    C.session[0] = 0; /* each input derives its own x-session-id */
    creq_init(&r, api == 0 ? API_ANTHROPIC : api == 1 ? API_OPENAI : API_RESPONSES, NULL);
    cJSON *b = jparse_body((const char *)d + 1, n - 1, &e);
    bool ok = b && (api == 0 ? api_anthropic_parse(&C, b, &r, d[0] & 4, &e)
                    : api == 1 ? api_openai_parse_chat(&C, b, &r, &e)
                               : api_responses_parse(&C, b, &r, &e));
    if (ok) {
        char *t = creq_render_text(&S, &r, &e);
        if (!t && e.status != 400) abort();
        free(t);
    }
    if (!ok || e.status) {
        /* a client error with a message (the message may quote the request: the
         * response writer escapes it) */
        if (e.status < 400 || e.status > 499 || !e.msg[0] || strchr(e.msg, '\n')) abort();
        olm_sb o = {0};
        jw_str(&o, e.msg, strlen(e.msg));
        if (!o.oom && !jw_utf8_valid(o.p, o.len)) abort();
        olm_sb_free(&o);
    }
    cJSON_Delete(b);
    creq_free(&r);
    return 0;
}
