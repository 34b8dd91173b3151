/* json.c — strict JSON parsing and range-checked getters (see json.h). */
#include "common/json.h"
#include "common/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *olm_json_type_name(const cJSON *v) {
    if (!v) return "absent";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "an invalid value";
}

static onnxllm_status fail_at(onnxllm_error *err, const char *what, const char *text, size_t off, const char *why) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
            col++;
        }
    }
    return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: %s at line %zu, column %zu (byte %zu)", what, why, line, col, off);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t k;
    unsigned min, cp;
    if (c >= 0xc2 && c <= 0xdf) k = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) k = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) k = 4, min = 0x10000, cp = c & 0x07;
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return k;
}

/* The checks cJSON does not make, in one pass over the text. */
static onnxllm_status prescan(const char *text, size_t len, const char *what, onnxllm_error *err) {
    const unsigned char *s = (const unsigned char *)text;
    bool in_str = false;
    int depth = 0;
    size_t i = 0;
    if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) i = 3; /* a BOM, as cJSON and Python skip it */
    while (i < len) {
        unsigned c = s[i];
        if (c >= 0x80) {
            size_t k = utf8_len(s + i, len - i);
            if (!k) return fail_at(err, what, text, i, "invalid UTF-8");
            i += k;
            continue;
        }
        if (in_str) {
            if (c == '"') in_str = false;
            else if (c < 0x20)
                return fail_at(err, what, text, i,
                               c ? "control character in a string (write it as an escape)" : "NUL byte in a string");
            else if (c == '\\' && i + 1 < len) {
                if (s[i + 1] == 'u' && i + 5 < len && !memcmp(s + i + 2, "0000", 4))
                    return fail_at(err, what, text, i, "NUL character (\\u0000) in a string is not supported");
                i++; /* the escaped character */
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > OLM_JSON_MAX_DEPTH) return fail_at(err, what, text, i, "nested too deeply");
        } else if (c == ']' || c == '}') {
            depth--;
        } else if (c == 0) {
            return fail_at(err, what, text, i, "NUL byte");
        }
        i++;
    }
    return ONNXLLM_OK;
}

static int cmp_key(const void *a, const void *b) {
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    if (x == y) return 0;
    int c = strcmp(x->string ? x->string : "", y->string ? y->string : "");
    if (c) return c;
    /* equal keys: document order (pointers do not give it; compare positions) */
    for (const cJSON *p = x->next; p; p = p->next)
        if (p == y) return -1;
    return 1;
}

/* Duplicate keys as Python's dict: the first key's place, the last key's value. */
static bool dedupe(cJSON *v) {
    if (!cJSON_IsArray(v) && !cJSON_IsObject(v)) return true;
    size_t n = 0;
    for (cJSON *c = v->child; c; c = c->next) {
        if (!dedupe(c)) return false;
        n++;
    }
    if (!cJSON_IsObject(v) || n < 2) return true;
    cJSON **a = malloc(n * sizeof *a);
    if (!a) return false;
    n = 0;
    for (cJSON *c = v->child; c; c = c->next) a[n++] = c;
    /* sort by key; a run of equal keys stays in document order (cmp_key) */
    qsort(a, n, sizeof *a, cmp_key);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && !strcmp(a[i]->string ? a[i]->string : "", a[j]->string ? a[j]->string : "")) j++;
        if (j - i > 1) {
            cJSON *last = cJSON_DetachItemViaPointer(v, a[j - 1]);
            for (size_t k = i + 1; k + 1 < j; k++) cJSON_Delete(cJSON_DetachItemViaPointer(v, a[k]));
            cJSON_ReplaceItemViaPointer(v, a[i], last);
        }
        i = j;
    }
    free(a);
    return true;
}

/* ---- numbers keep their source text ------------------------------------------------
 * cJSON keeps a double; Python keeps an int as written (any size) and tells 1 from 1.0
 * and -0 from -0.0. The text of each number literal is put in its node's valuestring
 * (document order: the literals outside strings, in the order cJSON built the nodes). */
typedef struct {
    const char *text;
    size_t len, at;
} numscan;

/* The next number literal at or after sc->at (outside strings): its start and length. */
static bool next_number(numscan *sc, size_t *start, size_t *n) {
    const char *s = sc->text;
    bool in_str = false;
    for (size_t i = sc->at; i < sc->len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i + 1;
            while (j < sc->len && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
                                   s[j] == '+' || s[j] == '-'))
                j++;
            *start = i;
            *n = j - i;
            sc->at = j;
            return true;
        }
    }
    return false;
}

static bool attach_numbers(cJSON *v, numscan *sc) {
    if (cJSON_IsNumber(v)) {
        size_t st, n;
        if (!next_number(sc, &st, &n)) return true; /* cannot happen for text cJSON accepted */
        char *t = malloc(n + 1);
        if (!t) return false;
        memcpy(t, sc->text + st, n);
        t[n] = 0;
        v->valuestring = t;
        return true;
    }
    for (cJSON *c = v->child; c; c = c->next)
        if (!attach_numbers(c, sc)) return false;
    return true;
}

bool olm_json_number_is_int(const cJSON *v) {
    if (!cJSON_IsNumber(v)) return false;
    if (!v->valuestring) return v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9007199254740992.0;
    return !strpbrk(v->valuestring, ".eE");
}

onnxllm_status olm_json_parse(const char *text, size_t len, const char *what, cJSON **out, onnxllm_error *err) {
    *out = NULL;
    if (!text) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "%s: no JSON text", what);
    onnxllm_status st = prescan(text, len, what, err);
    if (st) return st;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t off = end && end >= text ? (size_t)(end - text) : 0;
    if (off > len) off = len;
    if (!root) return fail_at(err, what, text, off, "malformed JSON");
    while (off < len && (text[off] == ' ' || text[off] == '\t' || text[off] == '\n' || text[off] == '\r')) off++;
    if (off < len) {
        cJSON_Delete(root);
        return fail_at(err, what, text, off, "unexpected text after the JSON value");
    }
    numscan sc = {text, len, 0};
    if (!attach_numbers(root, &sc) || !dedupe(root)) {
        cJSON_Delete(root);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", what);
    }
    *out = root;
    return ONNXLLM_OK;
}

/* ---- values ---------------------------------------------------------------------- */

#define EXACT_INT 9007199254740991.0 /* 2^53 - 1: from 2^53 on, a double is not an exact integer */

bool olm_json_as_int(const cJSON *v, int64_t lo, int64_t hi, int64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    double l = lo < -(int64_t)EXACT_INT ? -EXACT_INT : (double)lo, h = hi > (int64_t)EXACT_INT ? EXACT_INT : (double)hi;
    if (!(d >= l && d <= h) || d != floor(d)) return false;
    *out = (int64_t)d;
    return true;
}

bool olm_json_as_double(const cJSON *v, double lo, double hi, double *out) {
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return false;
    *out = v->valuedouble;
    return true;
}

/* The member, NULL when absent (or null and optional); *st set on a missing required one. */
static const cJSON *member(const cJSON *obj, const char *key, const char *where, bool required, const char *want,
                           onnxllm_status *st, onnxllm_error *err) {
    const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    *st = ONNXLLM_OK;
    if (v && !cJSON_IsNull(v)) return v;
    if (required)
        *st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s%s%s: %s, must be %s", where ? where : "", where ? "." : "", key,
                       v ? "null" : "missing", want);
    return NULL;
}

static onnxllm_status bad_value(const cJSON *v, const char *key, const char *where, const char *want,
                                onnxllm_error *err) {
    return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s%s%s: must be %s (got %s)", where ? where : "", where ? "." : "", key,
                    want, olm_json_type_name(v));
}

onnxllm_status olm_json_get_int(const cJSON *obj, const char *key, const char *where, int64_t lo, int64_t hi,
                                bool required, int64_t *out, onnxllm_error *err) {
    char want[96];
    snprintf(want, sizeof want, "an integer in [%lld, %lld]", (long long)lo, (long long)hi);
    onnxllm_status st;
    const cJSON *v = member(obj, key, where, required, want, &st, err);
    if (!v) return st;
    int64_t x;
    if (!olm_json_as_int(v, lo, hi, &x)) return bad_value(v, key, where, want, err);
    *out = x;
    return ONNXLLM_OK;
}

onnxllm_status olm_json_get_i32(const cJSON *obj, const char *key, const char *where, int32_t lo, int32_t hi,
                                bool required, int32_t *out, onnxllm_error *err) {
    int64_t x = *out;
    onnxllm_status st = olm_json_get_int(obj, key, where, lo, hi, required, &x, err);
    if (!st) *out = (int32_t)x;
    return st;
}

onnxllm_status olm_json_get_size(const cJSON *obj, const char *key, const char *where, uint64_t hi, bool required,
                                 uint64_t *out, onnxllm_error *err) {
    int64_t x = 0;
    int64_t h = hi > (uint64_t)EXACT_INT ? (int64_t)EXACT_INT : (int64_t)hi;
    onnxllm_status st = olm_json_get_int(obj, key, where, 0, h, required, &x, err);
    if (!st && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(obj, key))) *out = (uint64_t)x;
    return st;
}

onnxllm_status olm_json_get_double(const cJSON *obj, const char *key, const char *where, double lo, double hi,
                                   bool required, double *out, onnxllm_error *err) {
    char want[96];
    snprintf(want, sizeof want, "a number in [%g, %g]", lo, hi);
    onnxllm_status st;
    const cJSON *v = member(obj, key, where, required, want, &st, err);
    if (!v) return st;
    if (!olm_json_as_double(v, lo, hi, out)) return bad_value(v, key, where, want, err);
    return ONNXLLM_OK;
}

onnxllm_status olm_json_get_bool(const cJSON *obj, const char *key, const char *where, bool required, bool *out,
                                 onnxllm_error *err) {
    onnxllm_status st;
    const cJSON *v = member(obj, key, where, required, "true or false", &st, err);
    if (!v) return st;
    if (!cJSON_IsBool(v)) return bad_value(v, key, where, "true or false", err);
    *out = cJSON_IsTrue(v);
    return ONNXLLM_OK;
}

onnxllm_status olm_json_get_string(const cJSON *obj, const char *key, const char *where, size_t max_len,
                                   bool required, const char **out, onnxllm_error *err) {
    onnxllm_status st;
    const cJSON *v = member(obj, key, where, required, "a string", &st, err);
    if (!v) return st;
    if (!cJSON_IsString(v)) return bad_value(v, key, where, "a string", err);
    if (max_len && strlen(v->valuestring) > max_len)
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s%s%s: longer than %zu bytes", where ? where : "", where ? "." : "",
                        key, max_len);
    *out = v->valuestring;
    return ONNXLLM_OK;
}
