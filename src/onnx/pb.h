/* pb.h — the protobuf wire-format encoder ONNX writing needs (the decoder, which
 * reads untrusted files, is common/pbread.h).
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
#include "common/pbread.h" /* the decoder: OLM_PB_* wire types, olm_pb_reader */

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

#endif
