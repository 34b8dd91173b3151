/* api_util.c — POST /tokenize, /detokenize, /apply-template (llama.cpp's names and
 * shapes, with vLLM's field names accepted too). */
#include "server/chatreq.h"
#include "server/jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static void fail(srv_call *c, cJSON *b, chat_req *r, const req_err *e) {
    cJSON_Delete(b);
    if (r) creq_free(r);
    srv_error(c, e->status ? e->status : 500, e->param, "%s", e->msg);
}

/* {"content"|"prompt"|"text": "...", "add_special": false, "with_pieces": false} or
 * {"messages": [...], "tools": [...]} (rendered with the chat template first). */
void api_tokenize(srv_call *c) {
    size_t len;
    const char *body = http_body(c->rq, &len);
    req_err e = {0};
    cJSON *b = jparse_body(body, len, &e);
    if (!b) return fail(c, NULL, NULL, &e);
    const char *text = NULL;
    bool add_special = false, pieces = false;
    char *rendered = NULL;
    chat_req r;
    creq_init(&r, API_OPENAI, c->s);
    if (!jstr(b, "content", "content", false, &text, &e) || (!text && !jstr(b, "prompt", "prompt", false, &text, &e)) ||
        (!text && !jstr(b, "text", "text", false, &text, &e)) || !jbool(b, "add_special", "add_special", &add_special, &e) ||
        !jbool(b, "with_pieces", "with_pieces", &pieces, &e))
        return fail(c, b, &r, &e);
    if (!text) {
        if (!cJSON_GetObjectItemCaseSensitive(b, "messages"))
            return rerr(&e, 400, "content", "content: required field missing (or give messages)"), fail(c, b, &r, &e);
        if (!oa_parse_chat(&r, b, &e) || !(rendered = creq_render_text(c->s, &r, &e))) return fail(c, b, &r, &e);
        text = rendered;
    }
    onnxllm_tokens ids = {0};
    onnxllm_error err = {0};
    unsigned flags = ONNXLLM_TOKENIZE_PARSE_SPECIAL | (add_special ? ONNXLLM_TOKENIZE_ADD_SPECIAL : 0);
    if (onnxllm_tokenizer_encode(c->s->tok, text, strlen(text), flags, &ids, &err)) {
        free(rendered);
        rerr(&e, 500, NULL, "tokenizer: %s", err.message);
        return fail(c, b, &r, &e);
    }
    olm_sb o = {0};
    olm_sb_puts(&o, "{\"tokens\":[");
    for (size_t i = 0; i < ids.len; i++) {
        if (i) olm_sb_putc(&o, ',');
        if (pieces) {
            onnxllm_string piece = {0};
            onnxllm_tokenizer_decode(c->s->tok, &ids.ids[i], 1, false, &piece, NULL);
            olm_sb_puts(&o, "{\"id\":");
            jw_int(&o, ids.ids[i]);
            olm_sb_puts(&o, ",\"piece\":");
            jw_str(&o, piece.data ? piece.data : "", piece.len);
            olm_sb_puts(&o, "}");
            onnxllm_string_free(&piece);
        } else jw_int(&o, ids.ids[i]);
    }
    olm_sb_puts(&o, "],\"count\":");
    jw_int(&o, (long long)ids.len);
    olm_sb_puts(&o, ",\"max_model_len\":");
    jw_int(&o, c->s->ctx);
    olm_sb_puts(&o, "}");
    if (o.oom) srv_error(c, 500, NULL, "out of memory");
    else srv_reply_json(c, 200, o.p, o.len);
    olm_sb_free(&o);
    onnxllm_tokens_free(&ids);
    free(rendered);
    cJSON_Delete(b);
    creq_free(&r);
}

/* {"tokens": [ids]} → {"content": text, "prompt": text} */
void api_detokenize(srv_call *c) {
    size_t len;
    const char *body = http_body(c->rq, &len);
    req_err e = {0};
    cJSON *b = jparse_body(body, len, &e);
    if (!b) return fail(c, NULL, NULL, &e);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "tokens");
    if (!t) return rerr(&e, 400, "tokens", "tokens: required field missing"), fail(c, b, NULL, &e);
    if (!cJSON_IsArray(t)) return rerr(&e, 400, "tokens", "tokens: expected an array of token ids, got %s", jtype(t)), fail(c, b, NULL, &e);
    size_t n = (size_t)cJSON_GetArraySize(t), k = 0;
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) return rerr(&e, 500, NULL, "out of memory"), fail(c, b, NULL, &e);
    int vocab = onnxllm_model_vocab_size(c->s->model);
    const cJSON *x;
    cJSON_ArrayForEach(x, t) {
        if (!cJSON_IsNumber(x) || x->valuedouble != (double)(int32_t)x->valuedouble || x->valuedouble < 0 ||
            x->valuedouble >= vocab) {
            rerr(&e, 400, "tokens", "tokens[%zu]: expected a token id in [0, %d), got %s", k, vocab,
                 cJSON_IsNumber(x) ? "a number outside it" : jtype(x));
            free(ids);
            return fail(c, b, NULL, &e);
        }
        ids[k++] = (int32_t)x->valuedouble;
    }
    onnxllm_string s = {0};
    onnxllm_error err = {0};
    if (onnxllm_tokenizer_decode(c->s->tok, ids, k, false, &s, &err)) {
        free(ids);
        rerr(&e, 500, NULL, "tokenizer: %s", err.message);
        return fail(c, b, NULL, &e);
    }
    olm_sb o = {0};
    olm_sb_puts(&o, "{\"content\":");
    jw_str(&o, s.data ? s.data : "", s.len);
    olm_sb_puts(&o, ",\"prompt\":");
    jw_str(&o, s.data ? s.data : "", s.len);
    olm_sb_puts(&o, "}");
    if (o.oom) srv_error(c, 500, NULL, "out of memory");
    else srv_reply_json(c, 200, o.p, o.len);
    olm_sb_free(&o);
    onnxllm_string_free(&s);
    free(ids);
    cJSON_Delete(b);
}

/* {"messages": [...], "tools": [...]} → {"prompt": the rendered text} */
void api_apply_template(srv_call *c) {
    size_t len;
    const char *body = http_body(c->rq, &len);
    req_err e = {0};
    chat_req r;
    creq_init(&r, API_OPENAI, c->s);
    cJSON *b = jparse_body(body, len, &e);
    char *text = NULL;
    if (!b || !oa_parse_chat(&r, b, &e) || !(text = creq_render_text(c->s, &r, &e))) return fail(c, b, &r, &e);
    olm_sb o = {0};
    olm_sb_puts(&o, "{\"prompt\":");
    jw_cstr(&o, text);
    olm_sb_puts(&o, "}");
    if (o.oom) srv_error(c, 500, NULL, "out of memory");
    else srv_reply_json(c, 200, o.p, o.len);
    olm_sb_free(&o);
    free(text);
    cJSON_Delete(b);
    creq_free(&r);
}
