/* pb.c — protobuf wire-format encoding (see pb.h). */
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
