/* json_reader.c — a fast single pass over tokenizer.json for the two big arrays.
 *
 * cJSON builds a node per vocab entry and merge (400k+ mallocs for o200k) and was
 * most of the load time. This reader walks the file once, feeds model.vocab straight
 * into the hash map and model.merges into a flat list, and hands every other value
 * (small: normalizer, pre_tokenizer, added_tokens, ...) to cJSON as before, so the
 * component parsers and their error messages stay the same. Anything unexpected
 * (syntax error, a vocab that is not an object of integers — e.g. Unigram's list —,
 * odd merges) makes it give up; the caller then parses the whole file with cJSON,
 * which produces the positioned error or the precise "unsupported ..." message. */
#include "tokenizer/tok_internal.h"
#include "common/json.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
} jr;

static inline void ws(jr *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t')) r->p++;
}

static int hexd(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}
static bool hex4(const char *s, unsigned *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hexd(s[i]);
        if (d < 0) return false;
        *v = *v * 16 + (unsigned)d;
    }
    return true;
}

/* JSON string at r->p → appended to out (UTF-8, NUL-safe). */
static bool str(jr *r, olm_buf *out) {
    if (r->p >= r->end || *r->p != '"') return false;
    const char *s = ++r->p;
    for (;;) { /* fast scan for the common escape-free case */
        const char *q = s;
        while (q < r->end && *q != '"' && *q != '\\') q++;
        if (q >= r->end) return false;
        if (!olm_buf_put(out, s, (size_t)(q - s))) return false;
        if (*q == '"') {
            r->p = q + 1;
            return true;
        }
        if (q + 1 >= r->end) return false;
        char e = q[1], c;
        s = q + 2;
        switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            unsigned v, w;
            if (r->end - s < 4 || !hex4(s, &v)) return false;
            s += 4;
            if (v >= 0xDC00 && v <= 0xDFFF) return false;
            if (v >= 0xD800 && v <= 0xDBFF) {
                if (r->end - s < 6 || s[0] != '\\' || s[1] != 'u' || !hex4(s + 2, &w) || w < 0xDC00 || w > 0xDFFF) return false;
                v = 0x10000 + ((v - 0xD800) << 10) + (w - 0xDC00);
                s += 6;
            }
            char u[4];
            if (!olm_buf_put(out, u, (size_t)olm_utf8_encode((int32_t)v, u))) return false;
            continue;
        }
        default: return false;
        }
        if (!olm_buf_putc(out, c)) return false;
    }
}

/* skips any value; strings/containers are scanned, not decoded */
static bool skip(jr *r) {
    ws(r);
    if (r->p >= r->end) return false;
    char c = *r->p;
    if (c == '"') {
        for (const char *q = r->p + 1; q < r->end; q++) {
            if (*q == '\\') { q++; continue; }
            if (*q == '"') { r->p = q + 1; return true; }
        }
        return false;
    }
    if (c == '{' || c == '[') {
        int depth = 0;
        for (const char *q = r->p; q < r->end; q++) {
            if (*q == '"') {
                for (q++; q < r->end && *q != '"'; q++)
                    if (*q == '\\') q++;
                if (q >= r->end) return false;
                continue;
            }
            if (*q == '{' || *q == '[') depth++;
            else if (*q == '}' || *q == ']') {
                if (--depth == 0) { r->p = q + 1; return true; }
            }
        }
        return false;
    }
    while (r->p < r->end && *r->p != ',' && *r->p != '}' && *r->p != ']' && *r->p != ' ' && *r->p != '\n' && *r->p != '\r' && *r->p != '\t') r->p++;
    return true;
}

static bool expect(jr *r, char c) {
    ws(r);
    if (r->p < r->end && *r->p == c) { r->p++; return true; }
    return false;
}

/* after a member: ',' → true (more), '}'/']' → false with *done */
static bool more(jr *r, char close, bool *ok) {
    ws(r);
    if (r->p < r->end && *r->p == ',') { r->p++; return true; }
    *ok = r->p < r->end && *r->p == close;
    if (*ok) r->p++;
    return false;
}

/* adds the value at r->p, parsed by cJSON, to obj under key */
/* A value handed to cJSON through the strict parser (common/json.h). A key given twice
 * gives up: the full parse resolves duplicates the way Python does. */
static bool add_cjson(jr *r, cJSON *obj, const char *key) {
    ws(r);
    const char *s = r->p;
    if (!skip(r) || cJSON_GetObjectItemCaseSensitive(obj, key)) return false;
    cJSON *v = NULL;
    if (olm_json_parse(s, (size_t)(r->p - s), "", &v, NULL)) return false;
    cJSON_AddItemToObject(obj, key, v);
    return true;
}

static bool vocab(jr *r, onnxllm_tokenizer *t, olm_buf *key, int64_t *maxid) {
    if (!expect(r, '{')) return false;
    ws(r);
    if (r->p < r->end && *r->p == '}') { r->p++; return true; }
    bool ok = false;
    do {
        ws(r);
        key->len = 0;
        if (!str(r, key) || !expect(r, ':')) return false; /* a NUL in a key is kept (lengths, not C strings) */
        ws(r);
        int64_t v = 0;
        const char *d = r->p;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9' && v < 2147483647) v = v * 10 + (*r->p++ - '0');
        if (r->p == d || v > 2147483647 || (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))) return false;
        if (!olm_strmap_put(&t->vocab, key->p ? key->p : "", key->len, (int32_t)v)) return false;
        if (v > *maxid) *maxid = v;
    } while (more(r, '}', &ok));
    return ok;
}

static bool merges(jr *r, olm_fast_model *fm) {
    if (!expect(r, '[')) return false;
    ws(r);
    if (r->p < r->end && *r->p == ']') { r->p++; return true; }
    bool ok = false;
    do {
        ws(r);
        if (fm->n == fm->cap) {
            size_t nc = fm->cap ? fm->cap * 2 : 4096;
            void *p = realloc(fm->m, nc * sizeof *fm->m);
            if (!p) return false;
            fm->m = p;
            fm->cap = nc;
        }
        olm_fast_merge *m = &fm->m[fm->n++];
        olm_buf *a = &fm->text;
        if (r->p < r->end && *r->p == '"') { /* "a b": split at the first space */
            size_t start = a->len;
            if (!str(r, a)) return false;
            const char *sp = memchr(a->p + start, ' ', a->len - start);
            if (!sp) return false;
            m->a_off = (uint32_t)start;
            m->a_len = (uint32_t)(sp - (a->p + start));
            m->b_off = m->a_off + m->a_len + 1;
            m->b_len = (uint32_t)(a->len - m->b_off);
            if (memchr(a->p + m->b_off, ' ', m->b_len)) return false;
        } else { /* ["a", "b"] */
            if (!expect(r, '[')) return false;
            ws(r);
            m->a_off = (uint32_t)a->len;
            if (!str(r, a)) return false;
            m->a_len = (uint32_t)(a->len - m->a_off);
            if (!expect(r, ',')) return false;
            ws(r);
            m->b_off = (uint32_t)a->len;
            if (!str(r, a)) return false;
            m->b_len = (uint32_t)(a->len - m->b_off);
            if (!expect(r, ']')) return false;
        }
    } while (more(r, ']', &ok));
    return ok;
}

void olm_fast_model_free(olm_fast_model *fm) {
    free(fm->m);
    olm_buf_free(&fm->text);
    olm_buf_free(&fm->key);
    memset(fm, 0, sizeof *fm);
}

cJSON *olm_fast_read(onnxllm_tokenizer *t, const char *json, size_t len, olm_fast_model *fm) {
    jr r = {json, json + len};
    olm_buf key = {0};
    cJSON *root = cJSON_CreateObject(), *model = NULL;
    int64_t maxid = -1;
    bool ok = false, vocab_seen = false;
    memset(fm, 0, sizeof *fm);
    /* the strict parser's rules (common/json.h) that this reader would not see: invalid
     * UTF-8 gives up here (and gets the positioned error from the full parse) */
    if (olm_utf8_valid_prefix(json, len) != len) goto fail;
    if (!root || !olm_strmap_init(&t->vocab, len / 48 + 16) || !expect(&r, '{')) goto fail;
    ws(&r);
    if (r.p < r.end && *r.p == '}') goto fail; /* empty: let the slow path report */
    do {
        ws(&r);
        key.len = 0;
        if (!str(&r, &key) || !expect(&r, ':')) goto fail;
        if (memchr(key.p, 0, key.len)) goto fail;
        if (strcmp(key.p, "model")) {
            if (!add_cjson(&r, root, key.p)) goto fail;
            continue;
        }
        if (model || !(model = cJSON_CreateObject())) goto fail;
        cJSON_AddItemToObject(root, "model", model);
        if (!expect(&r, '{')) goto fail;
        bool mok = false;
        do {
            ws(&r);
            key.len = 0;
            if (!str(&r, &key) || !expect(&r, ':')) goto fail;
            if (!strcmp(key.p, "vocab")) {
                if (vocab_seen || !vocab(&r, t, &fm->key, &maxid)) goto fail;
                vocab_seen = true;
            } else if (!strcmp(key.p, "merges")) {
                if (fm->present || !merges(&r, fm)) goto fail;
                fm->present = true;
            } else if (!add_cjson(&r, model, key.p))
                goto fail;
        } while (more(&r, '}', &mok));
        if (!mok) goto fail;
    } while (more(&r, '}', &ok));
    ws(&r);
    if (!ok || r.p != r.end || !vocab_seen) goto fail;
    fm->maxid = maxid;
    olm_buf_free(&key);
    olm_buf_free(&fm->key);
    return root;
fail:
    olm_buf_free(&key);
    olm_fast_model_free(fm);
    olm_strmap_free(&t->vocab);
    cJSON_Delete(root);
    return NULL;
}
