/* writer.h — building ONNX ModelProto files: a graph builder (nodes, attributes,
 * If-subgraphs, graph inputs/outputs, initializers) plus the external data file
 * (`model.onnx.data`) that initializers stream into.
 *
 * Messages are encoded as they are added (no tree of objects in memory): a node
 * becomes NodeProto bytes at once, an initializer's data goes straight to the data
 * file and only its TensorProto header (name, dims, location/offset/length) stays
 * in memory. Failure to allocate is sticky and reported by olm_onnx_save. */
#ifndef OLM_ONNX_WRITER_H
#define OLM_ONNX_WRITER_H

#include <stdio.h>
#include "onnx/pb.h"
#include "onnxllm.h"

/* TensorProto.DataType values used here */
enum {
    OLM_ONNX_FLOAT = 1,
    OLM_ONNX_UINT8 = 2,
    OLM_ONNX_INT8 = 3,
    OLM_ONNX_UINT16 = 4,
    OLM_ONNX_INT16 = 5,
    OLM_ONNX_INT32 = 6,
    OLM_ONNX_INT64 = 7,
    OLM_ONNX_STRING = 8,
    OLM_ONNX_BOOL = 9,
    OLM_ONNX_FLOAT16 = 10,
    OLM_ONNX_DOUBLE = 11,
    OLM_ONNX_UINT32 = 12,
    OLM_ONNX_UINT64 = 13,
    OLM_ONNX_BFLOAT16 = 16,
};

/* AttributeProto.AttributeType values */
enum {
    OLM_ONNX_ATTR_FLOAT = 1,
    OLM_ONNX_ATTR_INT = 2,
    OLM_ONNX_ATTR_STRING = 3,
    OLM_ONNX_ATTR_TENSOR = 4,
    OLM_ONNX_ATTR_GRAPH = 5,
    OLM_ONNX_ATTR_FLOATS = 6,
    OLM_ONNX_ATTR_INTS = 7,
    OLM_ONNX_ATTR_STRINGS = 8,
};

/* Bytes per element (0 for STRING / unknown). */
size_t olm_onnx_dtype_size(int dtype);
/* "float32", "float16", "uint8", "int64"... ("?" when unknown). */
const char *olm_onnx_dtype_name(int dtype);

/* ---- graph builder ---- */
typedef struct olm_onnx_gb {
    char name[128];
    olm_pb_buf nodes, inits, inputs, outputs;
} olm_onnx_gb;

void olm_onnx_gb_init(olm_onnx_gb *g, const char *name);
void olm_onnx_gb_free(olm_onnx_gb *g);

/* Graph input (output = false) or output. dims[i] < 0 or params[i] != NULL →
 * symbolic dimension params[i] ("batch_size"); params may be NULL. */
void olm_onnx_gb_value(olm_onnx_gb *g, bool output, const char *name, int elem_type, int rank,
                       const int64_t *dims, const char *const *params);

/* Attributes accumulate in a buffer handed to olm_onnx_gb_node. */
void olm_onnx_attr_int(olm_pb_buf *a, const char *name, int64_t v);
void olm_onnx_attr_float(olm_pb_buf *a, const char *name, float v);
void olm_onnx_attr_ints(olm_pb_buf *a, const char *name, const int64_t *v, int n);
void olm_onnx_attr_string(olm_pb_buf *a, const char *name, const char *s);
/* Inline tensor (Constant's `value`), raw little-endian data. */
void olm_onnx_attr_tensor(olm_pb_buf *a, const char *name, int dtype, int rank, const int64_t *dims,
                          const void *data, size_t nbytes);
void olm_onnx_attr_graph(olm_pb_buf *a, const char *name, const olm_onnx_gb *sub);

/* Appends a node. Empty strings in inputs/outputs are optional slots. attrs may be
 * NULL; it is freed (consumed) either way. */
void olm_onnx_gb_node(olm_onnx_gb *g, const char *name, const char *op, const char *domain,
                      const char *const *inputs, int n_in, const char *const *outputs, int n_out,
                      olm_pb_buf *attrs);

/* Initializer with its data inline (raw_data) — small tensors and tests. */
void olm_onnx_gb_init_inline(olm_onnx_gb *g, const char *name, int dtype, int rank, const int64_t *dims,
                             const void *data, size_t nbytes);
/* Initializer whose bytes live in an external file. */
void olm_onnx_gb_init_external(olm_onnx_gb *g, const char *name, int dtype, int rank, const int64_t *dims,
                               const char *location, uint64_t offset, uint64_t length);

/* ---- external data file ---- */
#define OLM_ONNX_DATA_ALIGN 64 /* every tensor starts at a multiple of this */
typedef struct olm_onnx_data {
    FILE *f;
    char *path;     /* full path, for messages */
    char location[256]; /* as written in the model: relative to model.onnx */
    uint64_t off;   /* bytes written so far */
} olm_onnx_data;

onnxllm_status olm_onnx_data_open(olm_onnx_data *d, const char *dir, const char *location, onnxllm_error *err);
/* Pads to the alignment and returns the tensor's start offset. */
onnxllm_status olm_onnx_data_begin(olm_onnx_data *d, uint64_t *offset, onnxllm_error *err);
onnxllm_status olm_onnx_data_write(olm_onnx_data *d, const void *p, size_t n, onnxllm_error *err);
/* Registers the tensor written since `offset` as an initializer of g. */
void olm_onnx_data_finish(olm_onnx_data *d, olm_onnx_gb *g, const char *name, int dtype, int rank,
                          const int64_t *dims, uint64_t offset);
/* begin + write + finish for a tensor already in memory. */
onnxllm_status olm_onnx_add_external(olm_onnx_gb *g, olm_onnx_data *d, const char *name, int dtype, int rank,
                                     const int64_t *dims, const void *data, size_t nbytes, onnxllm_error *err);
/* Flushes and closes (also on error paths; safe to call twice). */
onnxllm_status olm_onnx_data_close(olm_onnx_data *d, onnxllm_error *err);

/* ---- model ---- */
typedef struct olm_onnx_opset {
    const char *domain; /* "" = ai.onnx */
    int64_t version;
} olm_onnx_opset;

/* Writes ModelProto{ir_version, opset_import, producer, graph=g} to path. */
onnxllm_status olm_onnx_save(const char *path, const olm_onnx_gb *g, int64_t ir_version, const olm_onnx_opset *opsets,
                             int n_opsets, const char *producer, const char *producer_version, onnxllm_error *err);

#endif
