/* normalizers.c — HF normalizers: NFC, NFD, NFKC, NFKD (utf8proc), Prepend, Replace,
 * Lowercase, Strip, Sequence. Applied to each text segment between added tokens.
 * Semantics from tokenizers/src/normalizers/: Prepend only touches non-empty
 * strings; Lowercase is Rust's per-char to_lowercase (no final-sigma rule); Strip
 * removes Unicode White_Space. */
#include "tokenizer/tok_internal.h"
#include "common/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

static bool all_ascii(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) return false;
    return true;
}

static bool unicode_form(olm_norm_kind k, const char *s, size_t n, olm_buf *out) {
    out->len = 0;
    if (all_ascii(s, n)) return olm_buf_put(out, s, n);
    int opt = UTF8PROC_STABLE;
    switch (k) {
    case NORM_NFC: opt |= UTF8PROC_COMPOSE; break;
    case NORM_NFD: opt |= UTF8PROC_DECOMPOSE; break;
    case NORM_NFKC: opt |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    default: opt |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
    }
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst, (utf8proc_option_t)opt);
    if (r < 0) { /* cannot happen on valid UTF-8; keep the text */
        free(dst);
        return olm_buf_put(out, s, n);
    }
    bool ok = olm_buf_put(out, dst, (size_t)r);
    free(dst);
    return ok;
}

typedef struct {
    const olm_normalizer *nm;
    const char *s;
    size_t prev;
    olm_buf *out;
} repl_ctx;

static bool repl_match(void *user, size_t ms, size_t me) {
    repl_ctx *c = user;
    if (!olm_buf_put(c->out, c->s + c->prev, ms - c->prev) || !olm_buf_put(c->out, c->nm->s2, c->nm->l2)) return false;
    c->prev = me;
    return true;
}

static bool replace_all(const olm_normalizer *nm, const char *s, size_t n, olm_buf *out) {
    out->len = 0;
    pcre2_match_data *md = NULL;
    repl_ctx c = {nm, s, 0, out};
    bool ok = olm_pattern_foreach(&nm->pat, s, n, &md, repl_match, &c) && olm_buf_put(out, s + c.prev, n - c.prev);
    if (md) pcre2_match_data_free(md);
    return ok;
}

static bool lowercase(const char *s, size_t n, olm_buf *out) {
    out->len = 0;
    if (!olm_buf_reserve(out, n + 8)) return false;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (!olm_buf_putc(out, (char)(c >= 'A' && c <= 'Z' ? c + 32 : c))) return false;
            i++;
            continue;
        }
        int32_t cp;
        int l = olm_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        i += (size_t)l;
        char u[8];
        int ul;
        if (cp == 0x130) { /* İ → i + COMBINING DOT ABOVE (the one multi-char lowercase) */
            memcpy(u, "i\xCC\x87", 3);
            ul = 3;
        } else
            ul = olm_utf8_encode(utf8proc_tolower(cp), u);
        if (!olm_buf_put(out, u, (size_t)ul)) return false;
    }
    return true;
}

static bool is_ws_at_end(const char *s, size_t n, size_t *cl) {
    size_t k = n - 1;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    int32_t cp;
    olm_utf8_decode((const unsigned char *)s + k, n - k, &cp);
    *cl = n - k;
    return (olm_char_class(cp) & OLM_CC_WS) != 0;
}

static bool one(const olm_normalizer *nm, const char *s, size_t n, olm_buf *out, olm_buf *tmp);

static bool one(const olm_normalizer *nm, const char *s, size_t n, olm_buf *out, olm_buf *tmp) {
    switch (nm->kind) {
    case NORM_NFC: case NORM_NFD: case NORM_NFKC: case NORM_NFKD: return unicode_form(nm->kind, s, n, out);
    case NORM_PREPEND:
        out->len = 0;
        if (n && !olm_buf_put(out, nm->s1, nm->l1)) return false;
        return olm_buf_put(out, s, n);
    case NORM_REPLACE: return replace_all(nm, s, n, out);
    case NORM_LOWERCASE: return lowercase(s, n, out);
    case NORM_STRIP: {
        size_t a = 0, b = n, l;
        while (nm->left && a < b) {
            int32_t cp;
            int cl = olm_utf8_decode((const unsigned char *)s + a, b - a, &cp);
            if (!(olm_char_class(cp) & OLM_CC_WS)) break;
            a += (size_t)cl;
        }
        while (nm->right && b > a && is_ws_at_end(s + a, b - a, &l)) b -= l;
        out->len = 0;
        return olm_buf_put(out, s + a, b - a);
    }
    case NORM_SEQUENCE: {
        /* ping-pong between out and tmp; each child reads the other buffer */
        out->len = 0;
        if (!olm_buf_put(out, s, n)) return false;
        olm_buf inner = {0};
        bool ok = true;
        for (size_t i = 0; i < nm->nkids && ok; i++) {
            tmp->len = 0;
            ok = olm_buf_put(tmp, out->p, out->len) && one(&nm->kids[i], tmp->p, tmp->len, out, &inner);
            /* chained Replace normalizers (a -> aa, repeated) grow the text geometrically:
             * bounded instead of running out of memory */
            if (ok && out->len > OLM_NORM_MAX_GROWTH * (n + 64)) {
                errno = OLM_NORM_ERRNO;
                ok = false;
            }
        }
        olm_buf_free(&inner);
        return ok;
    }
    }
    return false;
}

bool olm_normalize(const olm_normalizer *nm, const char *s, size_t n, olm_buf *out, olm_buf *tmp) {
    return one(nm, s, n, out, tmp);
}

static onnxllm_status parse_any(const cJSON *j, const char *file, void *p, onnxllm_error *err) {
    return olm_normalizer_parse(j, file, p, err);
}
static void free_any(void *p) { olm_normalizer_free(p); }

onnxllm_status olm_normalizer_parse(const cJSON *j, const char *file, olm_normalizer *nm, onnxllm_error *err) {
    memset(nm, 0, sizeof *nm);
    if (!cJSON_IsObject(j)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: normalizer: expected an object, got %s", file, olm_json_type(j));
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsString(ty)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: normalizer: missing string 'type'", file);
    const char *type = ty->valuestring;
    if (!strcmp(type, "NFC")) { nm->kind = NORM_NFC; return ONNXLLM_OK; }
    if (!strcmp(type, "NFD")) { nm->kind = NORM_NFD; return ONNXLLM_OK; }
    if (!strcmp(type, "NFKC")) { nm->kind = NORM_NFKC; return ONNXLLM_OK; }
    if (!strcmp(type, "NFKD")) { nm->kind = NORM_NFKD; return ONNXLLM_OK; }
    if (!strcmp(type, "Lowercase")) { nm->kind = NORM_LOWERCASE; return ONNXLLM_OK; }
    if (!strcmp(type, "Strip")) {
        nm->kind = NORM_STRIP;
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "strip_left"), *r = cJSON_GetObjectItemCaseSensitive(j, "strip_right");
        nm->left = !cJSON_IsBool(l) || cJSON_IsTrue(l);
        nm->right = !cJSON_IsBool(r) || cJSON_IsTrue(r);
        return ONNXLLM_OK;
    }
    if (!strcmp(type, "Prepend")) {
        nm->kind = NORM_PREPEND;
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "prepend");
        if (!cJSON_IsString(p)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: normalizer Prepend: 'prepend' must be a string", file);
        nm->l1 = strlen(p->valuestring);
        nm->s1 = strdup(p->valuestring);
        return nm->s1 ? ONNXLLM_OK : olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    }
    if (!strcmp(type, "Replace")) {
        nm->kind = NORM_REPLACE;
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "content");
        if (!cJSON_IsString(c)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: normalizer Replace: 'content' must be a string", file);
        nm->l2 = strlen(c->valuestring);
        if (!(nm->s2 = strdup(c->valuestring))) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
        return olm_pattern_parse(cJSON_GetObjectItemCaseSensitive(j, "pattern"), "normalizer Replace", file, &nm->pat, err);
    }
    if (!strcmp(type, "Sequence")) {
        nm->kind = NORM_SEQUENCE;
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "normalizers");
        if (!cJSON_IsArray(arr)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: normalizer Sequence: 'normalizers' must be an array", file);
        return olm_parse_sequence(arr, sizeof *nm->kids, (void **)&nm->kids, &nm->nkids, file, parse_any, free_any, err);
    }
    return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: unsupported normalizer type '%s'", file, type);
}

void olm_normalizer_free(olm_normalizer *nm) {
    if (!nm) return;
    for (size_t i = 0; i < nm->nkids; i++) olm_normalizer_free(&nm->kids[i]);
    free(nm->kids);
    free(nm->s1);
    free(nm->s2);
    olm_pattern_free(&nm->pat);
}
