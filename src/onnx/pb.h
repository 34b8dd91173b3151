/* pb.h — the few protobuf wire-format primitives ONNX needs (encode + decode).
 *
 * ONNX files are protobuf messages. We write and read them by hand instead of
 * pulling in libprotobuf: the schema subset is small (ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto, ValueInfoProto) and a hand decoder can
 * keep pointers into the file buffer for big inline tensors instead of copying. */
#ifndef OLM_ONNX_PB_H
#define OLM_ONNX_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { OLM_PB_VARINT = 0, OLM_PB_I64 = 1, OLM_PB_LEN = 2, OLM_PB_I32 = 5 };

/* ---- encoding: a growable byte buffer; an allocation failure sets `oom` and
 * turns every later append into a no-op (checked once at the end). */
typedef struct olm_pb_buf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} olm_pb_buf;

void olm_pb_free(olm_pb_buf *b);
void olm_pb_raw(olm_pb_buf *b, const void *data, size_t n);
void olm_pb_varint(olm_pb_buf *b, uint64_t v);
void olm_pb_tag(olm_pb_buf *b, int field, int wire);
void olm_pb_int(olm_pb_buf *b, int field, int64_t v);   /* int32/int64/enum (varint) */
void olm_pb_float(olm_pb_buf *b, int field, float v);   /* fixed32 */
void olm_pb_bytes(olm_pb_buf *b, int field, const void *data, size_t n);
void olm_pb_str(olm_pb_buf *b, int field, const char *s);
void olm_pb_msg(olm_pb_buf *b, int field, const olm_pb_buf *sub); /* embeds sub as field */
/* Packed repeated int64 (one length-delimited field). */
void olm_pb_packed_ints(olm_pb_buf *b, int field, const int64_t *v, int n);
void olm_pb_packed_floats(olm_pb_buf *b, int field, const float *v, int n);
size_t olm_pb_varint_size(uint64_t v);

/* ---- decoding: a cursor over [p, end). Errors set `bad` (truncated varint,
 * length past the end, unknown wire type) and stop progress. */
typedef struct olm_pb_reader {
    const uint8_t *p, *end;
    bool bad;
} olm_pb_reader;

typedef struct olm_pb_field {
    int num, wire;
    uint64_t v;                 /* VARINT, I64, I32 (raw bits) */
    const uint8_t *data;        /* LEN */
    size_t len;
} olm_pb_field;

/* Next field; false at the end or on error (check r->bad). */
bool olm_pb_next(olm_pb_reader *r, olm_pb_field *f);
olm_pb_reader olm_pb_sub(const olm_pb_field *f);
float olm_pb_as_float(const olm_pb_field *f);
/* Reads packed varints of a LEN field (or the single value of a VARINT field) into
 * *out (realloc'd, *n updated). false on malformed data or allocation failure. */
bool olm_pb_append_ints(const olm_pb_field *f, int64_t **out, int *n);
bool olm_pb_append_floats(const olm_pb_field *f, float **out, int *n);
/* malloc'd NUL-terminated copy of a LEN field. */
char *olm_pb_strdup(const olm_pb_field *f);

#endif
