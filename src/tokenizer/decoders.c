/* decoders.c — ids → text: token strings, then HF's decoder chain
 * (tokenizers/src/decoders/ decode_chain semantics), then concatenation.
 *
 * Token lists are (offset, length) ranges over a buffer; each decoder step reads
 * one list/buffer pair and writes the other (ping-pong in olm_scratch), so a
 * decode allocates nothing once the scratch buffers have grown. */
#include "tokenizer/tok_internal.h"
#include "common/error.h"
#include "common/json.h"

#include <stdlib.h>
#include <string.h>

typedef struct tokl {
    olm_buf *b;
    olm_range *v;
    size_t n, cap;
} tokl;

static bool tl_push(tokl *l, const char *s, size_t n) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        void *p = realloc(l->v, nc * sizeof *l->v);
        if (!p) return false;
        l->v = p;
        l->cap = nc;
    }
    size_t off = l->b->len;
    if (!olm_buf_put(l->b, s, n)) return false;
    l->v[l->n++] = (olm_range){(uint32_t)off, (uint32_t)n};
    return true;
}
/* start a new token at the end of the buffer; extend it with tl_append */
static bool tl_open(tokl *l) { return tl_push(l, "", 0); }
static bool tl_append(tokl *l, const char *s, size_t n) {
    if (!olm_buf_put(l->b, s, n)) return false;
    l->v[l->n - 1].len += (uint32_t)n;
    return true;
}
#define TOK(l, i) ((l)->b->p + (l)->v[i].off)

typedef struct {
    const char *content, *s;
    size_t cl, prev;
    tokl *o;
} repl_ctx;

static bool repl_match(void *user, size_t ms, size_t me) {
    repl_ctx *c = user;
    if (!tl_append(c->o, c->s + c->prev, ms - c->prev) || !tl_append(c->o, c->content, c->cl)) return false;
    c->prev = me;
    return true;
}

static bool replace_into(const olm_pattern *pat, const char *content, size_t cl, const char *s, size_t n, tokl *o,
                         pcre2_match_data **md) {
    if (!tl_open(o)) return false;
    repl_ctx c = {content, s, cl, 0, o};
    return olm_pattern_foreach(pat, s, n, md, repl_match, &c) && tl_append(o, s + c.prev, n - c.prev);
}

static int hexv(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* <0xXX> → byte value, else -1 */
static int byte_token(const char *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return -1;
    int a = hexv(s[3]), b = hexv(s[4]);
    return a < 0 || b < 0 ? -1 : a * 16 + b;
}

static bool flush_bytes(tokl *o, olm_buf *bytes) {
    if (!bytes->len) return true;
    bool ok;
    if (olm_utf8_valid_prefix(bytes->p, bytes->len) == bytes->len) ok = tl_push(o, bytes->p, bytes->len);
    else {
        ok = true;
        for (size_t i = 0; i < bytes->len && ok; i++) ok = tl_push(o, "\xEF\xBF\xBD", 3);
    }
    bytes->len = 0;
    return ok;
}

static bool step(const olm_decoder *d, tokl *in, tokl *out, olm_buf *aux, pcre2_match_data **md);

static bool run(const olm_decoder *d, tokl *a, tokl *b, olm_buf *aux, pcre2_match_data **md) {
    /* result always ends up in *a */
    if (d->kind == DEC_SEQUENCE) {
        for (size_t i = 0; i < d->nkids; i++)
            if (!run(&d->kids[i], a, b, aux, md)) return false;
        return true;
    }
    b->n = 0;
    b->b->len = 0;
    if (!step(d, a, b, aux, md)) return false;
    tokl t = *a;
    *a = *b;
    *b = t;
    return true;
}

static bool step(const olm_decoder *d, tokl *in, tokl *o, olm_buf *aux, pcre2_match_data **md) {
    switch (d->kind) {
    case DEC_BYTELEVEL: {
        aux->len = 0;
        for (size_t i = 0; i < in->n; i++) {
            const char *s = TOK(in, i);
            size_t n = in->v[i].len, mark = aux->len;
            bool all = true;
            for (size_t k = 0; k < n && all;) {
                int32_t cp;
                k += (size_t)olm_utf8_decode((const unsigned char *)s + k, n - k, &cp);
                int b = olm_bytelevel_byte(cp);
                if (b < 0) all = false;
                else if (!olm_buf_putc(aux, (char)b)) return false;
            }
            if (!all) {
                aux->len = mark;
                if (!olm_buf_put(aux, s, n)) return false;
            }
        }
        if (!tl_open(o)) return false;
        /* String::from_utf8_lossy over all bytes */
        size_t before = o->b->len;
        if (!olm_utf8_lossy(o->b, aux->p ? aux->p : "", aux->len)) return false;
        o->v[o->n - 1].len = (uint32_t)(o->b->len - before);
        return true;
    }
    case DEC_METASPACE:
        for (size_t i = 0; i < in->n; i++) {
            const char *s = TOK(in, i);
            size_t n = in->v[i].len;
            if (!tl_open(o)) return false;
            for (size_t k = 0; k < n;) {
                int32_t cp;
                int l = olm_utf8_decode((const unsigned char *)s + k, n - k, &cp);
                if (cp == d->replacement) {
                    if (!(i == 0 && d->prepend != PREPEND_NEVER) && !tl_append(o, " ", 1)) return false;
                } else if (!tl_append(o, s + k, (size_t)l))
                    return false;
                k += (size_t)l;
            }
        }
        return true;
    case DEC_BYTEFALLBACK:
        aux->len = 0;
        for (size_t i = 0; i < in->n; i++) {
            int b = byte_token(TOK(in, i), in->v[i].len);
            if (b >= 0) {
                if (!olm_buf_putc(aux, (char)b)) return false;
                continue;
            }
            if (!flush_bytes(o, aux) || !tl_push(o, TOK(in, i), in->v[i].len)) return false;
        }
        return flush_bytes(o, aux);
    case DEC_FUSE:
        if (!tl_open(o)) return false;
        for (size_t i = 0; i < in->n; i++)
            if (!tl_append(o, TOK(in, i), in->v[i].len)) return false;
        return true;
    case DEC_STRIP:
        for (size_t i = 0; i < in->n; i++) {
            const char *s = TOK(in, i);
            size_t n = in->v[i].len;
            /* positions of chars */
            size_t a = 0, b = n;
            for (int k = 0; k < d->start && a < n; k++) {
                int32_t cp;
                int l = olm_utf8_decode((const unsigned char *)s + a, n - a, &cp);
                if (cp != d->strip_char) break;
                a += (size_t)l;
            }
            for (int k = 0; k < d->stop && b > a; k++) {
                size_t p = b - 1;
                while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80) p--;
                int32_t cp;
                olm_utf8_decode((const unsigned char *)s + p, b - p, &cp);
                if (cp != d->strip_char) break;
                b = p;
            }
            if (!tl_push(o, s + a, b - a)) return false;
        }
        return true;
    case DEC_REPLACE:
        for (size_t i = 0; i < in->n; i++)
            if (!replace_into(&d->pat, d->content, d->content_len, TOK(in, i), in->v[i].len, o, md)) return false;
        return true;
    case DEC_SEQUENCE: return false;
    }
    return false;
}

bool olm_decode_ids(const onnxllm_tokenizer *t, const int32_t *ids, size_t n, bool skip_special, olm_scratch *sc,
                    olm_buf *out) {
    tokl a = {&sc->dec, sc->ra, 0, sc->ra_cap}, b = {&sc->tmp2, sc->rb, 0, sc->rb_cap};
    sc->dec.len = 0;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        int32_t id = ids[i];
        if (id < 0 || (size_t)id >= t->n_ids || !t->id_str[id]) continue; /* unknown ids are dropped */
        if (skip_special && t->is_special[id]) continue;
        ok = tl_push(&a, t->id_str[id], t->id_len[id]);
    }
    if (ok) {
        if (t->decoder) ok = run(t->decoder, &a, &b, &sc->tmp, &sc->md);
        else { /* no decoder: tokens joined with a space */
            b.n = 0;
            sc->tmp2.len = 0;
            ok = tl_open(&b);
            for (size_t i = 0; i < a.n && ok; i++) ok = (i == 0 || tl_append(&b, " ", 1)) && tl_append(&b, TOK(&a, i), a.v[i].len);
            tokl x = a;
            a = b;
            b = x;
        }
    }
    for (size_t i = 0; i < a.n && ok; i++) ok = olm_buf_put(out, TOK(&a, i), a.v[i].len);
    if (ok && !olm_buf_reserve(out, 0)) ok = false;
    if (ok) out->p[out->len] = 0;
    /* hand the (possibly grown) arrays back to the scratch for the next call */
    sc->ra = a.v;
    sc->ra_cap = a.cap;
    sc->rb = b.v;
    sc->rb_cap = b.cap;
    return ok;
}

/* ---- parsing --------------------------------------------------------------------------- */
static onnxllm_status parse_any(const cJSON *j, const char *file, void *p, onnxllm_error *err);
static void free_any(void *p);

onnxllm_status olm_decoder_parse(const cJSON *j, const char *file, olm_decoder *d, onnxllm_error *err) {
    memset(d, 0, sizeof *d);
    if (!cJSON_IsObject(j)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: decoder: expected an object, got %s", file, olm_json_type(j));
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(ty)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: decoder: missing string 'type'", file);
    const char *type = ty->valuestring;
    if (!strcmp(type, "ByteLevel")) { d->kind = DEC_BYTELEVEL; return ONNXLLM_OK; }
    if (!strcmp(type, "ByteFallback")) { d->kind = DEC_BYTEFALLBACK; return ONNXLLM_OK; }
    if (!strcmp(type, "Fuse")) { d->kind = DEC_FUSE; return ONNXLLM_OK; }
    if (!strcmp(type, "Metaspace")) {
        d->kind = DEC_METASPACE;
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "replacement");
        if (!cJSON_IsString(r) || !r->valuestring[0]) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: decoder Metaspace: 'replacement' must be a one-character string", file);
        olm_utf8_decode((const unsigned char *)r->valuestring, strlen(r->valuestring), &d->replacement);
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(j, "prepend_scheme");
        if (cJSON_IsString(ps)) {
            if (!strcmp(ps->valuestring, "always")) d->prepend = PREPEND_ALWAYS;
            else if (!strcmp(ps->valuestring, "first")) d->prepend = PREPEND_FIRST;
            else if (!strcmp(ps->valuestring, "never")) d->prepend = PREPEND_NEVER;
            else return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: decoder Metaspace: unknown prepend_scheme '%s'", file, ps->valuestring);
        } else {
            const cJSON *ap = cJSON_GetObjectItemCaseSensitive(j, "add_prefix_space");
            d->prepend = (!cJSON_IsBool(ap) || cJSON_IsTrue(ap)) ? PREPEND_ALWAYS : PREPEND_NEVER;
        }
        return ONNXLLM_OK;
    }
    if (!strcmp(type, "Strip")) {
        d->kind = DEC_STRIP;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "content");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "start"), *e = cJSON_GetObjectItemCaseSensitive(j, "stop");
        int64_t start, stop;
        if (!cJSON_IsString(c) || !c->valuestring[0] || !olm_json_as_int(s, 0, INT32_MAX, &start) ||
            !olm_json_as_int(e, 0, INT32_MAX, &stop))
            return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: decoder Strip: needs string 'content' and counts 'start', 'stop'", file);
        olm_utf8_decode((const unsigned char *)c->valuestring, strlen(c->valuestring), &d->strip_char);
        d->start = (int)start;
        d->stop = (int)stop;
        return ONNXLLM_OK;
    }
    if (!strcmp(type, "Replace")) {
        d->kind = DEC_REPLACE;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "content");
        if (!cJSON_IsString(c)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: decoder Replace: 'content' must be a string", file);
        d->content_len = strlen(c->valuestring);
        if (!(d->content = strdup(c->valuestring))) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
        return olm_pattern_parse(cJSON_GetObjectItemCaseSensitive(j, "pattern"), "decoder Replace", file, &d->pat, err);
    }
    if (!strcmp(type, "Sequence")) {
        d->kind = DEC_SEQUENCE;
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "decoders");
        if (!cJSON_IsArray(arr)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: decoder Sequence: 'decoders' must be an array", file);
        return olm_parse_sequence(arr, sizeof *d->kids, (void **)&d->kids, &d->nkids, file, parse_any, free_any, err);
    }
    return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: unsupported decoder type '%s'", file, type);
}

static onnxllm_status parse_any(const cJSON *j, const char *file, void *p, onnxllm_error *err) {
    return olm_decoder_parse(j, file, p, err);
}
static void free_any(void *p) { olm_decoder_free(p); }

void olm_decoder_free(olm_decoder *d) {
    if (!d) return;
    for (size_t i = 0; i < d->nkids; i++) olm_decoder_free(&d->kids[i]);
    free(d->kids);
    free(d->content);
    olm_pattern_free(&d->pat);
}
