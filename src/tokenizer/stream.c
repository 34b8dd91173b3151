/* stream.c — streaming detokenizer, HF tokenizers' DecodeStream algorithm
 * (tokenizers/src/tokenizer/mod.rs step_decode_stream):
 *   push id; s = decode(window); if s is longer than `prefix` and does not end in
 *   U+FFFD, emit s[len(prefix):], then drop the ids before prefix_index and
 *   re-decode the rest as the new prefix.
 * Decoding a small window (not single tokens) keeps context-dependent decoders
 * exact (Metaspace/Strip drop the first token's leading space, ByteFallback and
 * ByteLevel join the bytes of one character spread over several tokens), and the
 * U+FFFD rule never lets a partial UTF-8 sequence out.
 * All buffers belong to the handle and are reused: no allocation per token once
 * they have grown to the longest window seen. */
#include "tokenizer/tok_internal.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

struct onnxllm_detok {
    const onnxllm_tokenizer *tok;
    bool skip_special;
    int32_t *ids;
    size_t n, cap, prefix_index;
    olm_buf prefix, cur, out;
    olm_scratch sc;
};

onnxllm_status onnxllm_detok_create(const onnxllm_tokenizer *tok, bool skip_special, onnxllm_detok **out,
                                    onnxllm_error *err) {
    if (!tok || !out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "detok: NULL argument");
    onnxllm_detok *d = calloc(1, sizeof *d);
    if (!d) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "detok: out of memory");
    d->tok = tok;
    d->skip_special = skip_special;
    d->cap = 64;
    d->ids = malloc(d->cap * sizeof *d->ids);
    if (!d->ids || !olm_buf_reserve(&d->prefix, 256) || !olm_buf_reserve(&d->cur, 256) || !olm_buf_reserve(&d->out, 256)) {
        onnxllm_detok_free(d);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "detok: out of memory");
    }
    d->prefix.p[0] = d->cur.p[0] = d->out.p[0] = 0;
    *out = d;
    return ONNXLLM_OK;
}

void onnxllm_detok_free(onnxllm_detok *d) {
    if (!d) return;
    free(d->ids);
    olm_buf_free(&d->prefix);
    olm_buf_free(&d->cur);
    olm_buf_free(&d->out);
    olm_scratch_free(&d->sc);
    free(d);
}

void onnxllm_detok_reset(onnxllm_detok *d) {
    if (!d) return;
    d->n = d->prefix_index = 0;
    d->prefix.len = d->cur.len = d->out.len = 0;
    d->prefix.p[0] = d->out.p[0] = 0;
}

static bool decode_window(onnxllm_detok *d, const int32_t *ids, size_t n, olm_buf *into) {
    into->len = 0;
    return olm_decode_ids(d->tok, ids, n, d->skip_special, &d->sc, into);
}

static bool ends_with_fffd(const olm_buf *b) {
    return b->len >= 3 && !memcmp(b->p + b->len - 3, "\xEF\xBF\xBD", 3);
}

onnxllm_status onnxllm_detok_push(onnxllm_detok *d, int32_t id, const char **text, size_t *len, onnxllm_error *err) {
    if (!d || !text || !len) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "detok: NULL argument");
    *text = d->out.p;
    *len = 0;
    d->out.len = 0;
    d->out.p[0] = 0;
    if (d->n == d->cap) {
        int32_t *p = realloc(d->ids, d->cap * 2 * sizeof *p);
        if (!p) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "detok: out of memory");
        d->ids = p;
        d->cap *= 2;
    }
    d->ids[d->n++] = id;
    if (!decode_window(d, d->ids, d->n, &d->cur)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "detok: out of memory");
    if (d->cur.len <= d->prefix.len || ends_with_fffd(&d->cur)) return ONNXLLM_OK;
    if (memcmp(d->cur.p, d->prefix.p, d->prefix.len))
        return olm_fail(err, ONNXLLM_ERR_INTERNAL, "detok: decoded text no longer starts with the previous text (decoder not prefix-stable)");
    if (!olm_buf_put(&d->out, d->cur.p + d->prefix.len, d->cur.len - d->prefix.len))
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "detok: out of memory");
    size_t new_prefix_index = d->n - d->prefix_index;
    memmove(d->ids, d->ids + d->prefix_index, (d->n - d->prefix_index) * sizeof *d->ids);
    d->n -= d->prefix_index;
    if (!decode_window(d, d->ids, d->n, &d->prefix)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "detok: out of memory");
    d->prefix_index = new_prefix_index;
    *text = d->out.p;
    *len = d->out.len;
    return ONNXLLM_OK;
}

onnxllm_status onnxllm_detok_flush(onnxllm_detok *d, const char **text, size_t *len, onnxllm_error *err) {
    if (!d || !text || !len) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "detok: NULL argument");
    d->out.len = 0;
    d->out.p[0] = 0;
    if (d->n) {
        if (!decode_window(d, d->ids, d->n, &d->cur)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "detok: out of memory");
        if (d->cur.len > d->prefix.len && !memcmp(d->cur.p, d->prefix.p, d->prefix.len) &&
            !olm_buf_put(&d->out, d->cur.p + d->prefix.len, d->cur.len - d->prefix.len))
            return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "detok: out of memory");
    }
    d->n = d->prefix_index = 0;
    d->prefix.len = 0;
    d->prefix.p[0] = 0;
    *text = d->out.p;
    *len = d->out.len;
    return ONNXLLM_OK;
}
