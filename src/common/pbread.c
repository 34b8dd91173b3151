/* pbread.c — the bounded protobuf reader (see pbread.h). */
#include "common/pbread.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

olm_pb_reader olm_pb_reader_init(const uint8_t *p, size_t len) {
    olm_pb_reader r = {p, p + (len <= OLM_PB_MAX_INPUT ? len : 0), len > OLM_PB_MAX_INPUT, 0};
    return r;
}

static bool read_varint(olm_pb_reader *r, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) return false;
        uint8_t c = *r->p++;
        if (shift == 63 && c > 1) return false; /* the 10th byte holds only bit 63 */
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

bool olm_pb_next(olm_pb_reader *r, olm_pb_field *f) {
    if (r->bad || r->p >= r->end) return false;
    uint64_t key;
    if (!read_varint(r, &key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff) goto bad;
    f->num = (int)(key >> 3);
    f->wire = (int)(key & 7);
    f->data = NULL;
    f->len = 0;
    f->v = 0;
    f->depth = r->depth;
    switch (f->wire) {
    case OLM_PB_VARINT:
        if (!read_varint(r, &f->v)) goto bad;
        return true;
    case OLM_PB_I64:
        if (r->end - r->p < 8) goto bad;
        for (int i = 7; i >= 0; i--) f->v = (f->v << 8) | r->p[i];
        r->p += 8;
        return true;
    case OLM_PB_I32:
        if (r->end - r->p < 4) goto bad;
        for (int i = 3; i >= 0; i--) f->v = (f->v << 8) | r->p[i];
        r->p += 4;
        return true;
    case OLM_PB_LEN: {
        uint64_t n;
        if (!read_varint(r, &n) || n > (uint64_t)(r->end - r->p)) goto bad;
        f->data = r->p;
        f->len = (size_t)n;
        r->p += n;
        return true;
    }
    default:
        goto bad;
    }
bad:
    r->bad = true;
    return false;
}

olm_pb_reader olm_pb_sub(const olm_pb_field *f) {
    bool ok = f->wire == OLM_PB_LEN && f->depth < OLM_PB_MAX_DEPTH;
    olm_pb_reader r = {f->data, ok ? f->data + f->len : f->data, !ok, f->depth + 1};
    return r;
}

float olm_pb_as_float(const olm_pb_field *f) {
    uint32_t u = (uint32_t)f->v;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

bool olm_pb_append_ints(const olm_pb_field *f, int64_t **out, int *n) {
    size_t k = 0;
    if (f->wire == OLM_PB_VARINT) {
        k = 1;
    } else if (f->wire == OLM_PB_LEN) { /* count first: one allocation */
        for (size_t i = 0; i < f->len; i++) k += !(f->data[i] & 0x80);
        if (f->len && (f->data[f->len - 1] & 0x80)) return false; /* truncated last varint */
    } else {
        return false;
    }
    if (k > (size_t)(INT_MAX - 1 - *n)) return false;
    int64_t *p = realloc(*out, sizeof **out * ((size_t)*n + k + 1));
    if (!p) return false;
    *out = p;
    if (f->wire == OLM_PB_VARINT) {
        p[(*n)++] = (int64_t)f->v;
        return true;
    }
    olm_pb_reader r = {f->data, f->data + f->len, false, f->depth + 1};
    while (r.p < r.end) {
        uint64_t v;
        if (!read_varint(&r, &v)) return false;
        p[(*n)++] = (int64_t)v;
    }
    return true;
}

bool olm_pb_append_floats(const olm_pb_field *f, float **out, int *n) {
    size_t k;
    if (f->wire == OLM_PB_I32) k = 1;
    else if (f->wire == OLM_PB_LEN && f->len % 4 == 0) k = f->len / 4;
    else return false;
    if (k > (size_t)(INT_MAX - 1 - *n)) return false;
    float *p = realloc(*out, sizeof **out * ((size_t)*n + k + 1));
    if (!p) return false;
    *out = p;
    if (f->wire == OLM_PB_I32) {
        p[(*n)++] = olm_pb_as_float(f);
        return true;
    }
    for (size_t i = 0; i < k; i++) {
        const uint8_t *q = f->data + 4 * i;
        uint32_t u = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        memcpy(&p[*n + (int)i], &u, 4);
    }
    *n += (int)k;
    return true;
}

char *olm_pb_strdup(const olm_pb_field *f) {
    if (f->wire != OLM_PB_LEN) return strdup("");
    char *s = malloc(f->len + 1);
    if (!s) return NULL;
    if (f->len) memcpy(s, f->data, f->len);
    s[f->len] = 0;
    return s;
}

bool olm_pb_eq(const olm_pb_field *f, const char *s) {
    size_t n = strlen(s);
    return f->wire == OLM_PB_LEN && f->len == n && (!n || !memcmp(f->data, s, n));
}
