/* pb.c — protobuf wire-format encode/decode primitives (see pb.h). */
#include "onnx/pb.h"

#include <stdlib.h>
#include <string.h>

void olm_pb_free(olm_pb_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

static bool reserve(olm_pb_buf *b, size_t extra) {
    if (b->oom) return false;
    if (b->len + extra <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void olm_pb_raw(olm_pb_buf *b, const void *data, size_t n) {
    if (!n || !reserve(b, n)) return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

size_t olm_pb_varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

void olm_pb_varint(olm_pb_buf *b, uint64_t v) {
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    olm_pb_raw(b, tmp, n);
}

void olm_pb_tag(olm_pb_buf *b, int field, int wire) { olm_pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wire); }

void olm_pb_int(olm_pb_buf *b, int field, int64_t v) {
    olm_pb_tag(b, field, OLM_PB_VARINT);
    olm_pb_varint(b, (uint64_t)v); /* negative → 10-byte two's complement, as protobuf does */
}

void olm_pb_float(olm_pb_buf *b, int field, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    olm_pb_tag(b, field, OLM_PB_I32);
    olm_pb_raw(b, le, 4);
}

void olm_pb_bytes(olm_pb_buf *b, int field, const void *data, size_t n) {
    olm_pb_tag(b, field, OLM_PB_LEN);
    olm_pb_varint(b, n);
    olm_pb_raw(b, data, n);
}

void olm_pb_str(olm_pb_buf *b, int field, const char *s) { olm_pb_bytes(b, field, s, strlen(s)); }

void olm_pb_msg(olm_pb_buf *b, int field, const olm_pb_buf *sub) {
    if (sub->oom) b->oom = true;
    olm_pb_bytes(b, field, sub->p, sub->len);
}

void olm_pb_packed_ints(olm_pb_buf *b, int field, const int64_t *v, int n) {
    size_t len = 0;
    for (int i = 0; i < n; i++) len += olm_pb_varint_size((uint64_t)v[i]);
    olm_pb_tag(b, field, OLM_PB_LEN);
    olm_pb_varint(b, len);
    for (int i = 0; i < n; i++) olm_pb_varint(b, (uint64_t)v[i]);
}

void olm_pb_packed_floats(olm_pb_buf *b, int field, const float *v, int n) {
    olm_pb_tag(b, field, OLM_PB_LEN);
    olm_pb_varint(b, (uint64_t)n * 4);
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
        olm_pb_raw(b, le, 4);
    }
}

/* ---- decoding ---- */
static bool read_varint(olm_pb_reader *r, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end) return false;
        uint8_t c = *r->p++;
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
    olm_pb_reader r = {f->data, f->data + f->len, f->wire != OLM_PB_LEN};
    return r;
}

float olm_pb_as_float(const olm_pb_field *f) {
    uint32_t u = (uint32_t)f->v;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

bool olm_pb_append_ints(const olm_pb_field *f, int64_t **out, int *n) {
    if (f->wire == OLM_PB_VARINT) {
        int64_t *p = realloc(*out, sizeof **out * (size_t)(*n + 1));
        if (!p) return false;
        p[(*n)++] = (int64_t)f->v;
        *out = p;
        return true;
    }
    if (f->wire != OLM_PB_LEN) return false;
    olm_pb_reader r = olm_pb_sub(f);
    while (r.p < r.end) {
        uint64_t v;
        if (!read_varint(&r, &v)) return false;
        int64_t *p = realloc(*out, sizeof **out * (size_t)(*n + 1));
        if (!p) return false;
        p[(*n)++] = (int64_t)v;
        *out = p;
    }
    return true;
}

bool olm_pb_append_floats(const olm_pb_field *f, float **out, int *n) {
    if (f->wire == OLM_PB_I32) {
        float *p = realloc(*out, sizeof **out * (size_t)(*n + 1));
        if (!p) return false;
        p[(*n)++] = olm_pb_as_float(f);
        *out = p;
        return true;
    }
    if (f->wire != OLM_PB_LEN || f->len % 4) return false;
    size_t k = f->len / 4;
    float *p = realloc(*out, sizeof **out * ((size_t)*n + k + 1));
    if (!p) return false;
    for (size_t i = 0; i < k; i++) {
        const uint8_t *q = f->data + 4 * i;
        uint32_t u = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        memcpy(&p[*n + (int)i], &u, 4);
    }
    *n += (int)k;
    *out = p;
    return true;
}

char *olm_pb_strdup(const olm_pb_field *f) {
    char *s = malloc(f->len + 1);
    if (!s) return NULL;
    if (f->len) memcpy(s, f->data, f->len);
    s[f->len] = 0;
    return s;
}
