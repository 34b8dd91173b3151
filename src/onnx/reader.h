/* reader.h — reading ONNX ModelProto files: graph inputs/outputs, nodes with their
 * attributes (If-subgraphs included), initializers with dtype/shape and access to
 * their data, inline (raw_data / typed fields) or in an external file
 * (`model.onnx.data`).
 *
 * Used by `onnxllm inspect`, by `quantize` (reads back an fp32 model's weights) and
 * by tests. The whole model.onnx is read into memory (tens of MB for Phi-4-mini,
 * mostly the rope caches); external data is read on demand. */
#ifndef OLM_ONNX_READER_H
#define OLM_ONNX_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "onnx/writer.h" /* dtype / attribute type enums */
#include "onnxllm.h"

#define OLM_ONNX_MAX_RANK 8

typedef struct olm_onnx_tensor {
    char *name;
    int dtype;                      /* OLM_ONNX_FLOAT, ... */
    int rank;
    int64_t dims[OLM_ONNX_MAX_RANK];
    /* data: exactly one of these forms (or none for an empty tensor) */
    const uint8_t *raw;             /* inline raw_data or packed typed field, points into the model buffer */
    size_t raw_len;
    int raw_field;                  /* TensorProto field the inline bytes came from (9 = raw_data) */
    bool external;
    char *location;                 /* external: file relative to the model's folder */
    uint64_t offset, length;
} olm_onnx_tensor;

typedef struct olm_onnx_graph olm_onnx_graph;

typedef struct olm_onnx_attr {
    char *name;
    int type;                       /* OLM_ONNX_ATTR_* */
    int64_t i;
    float f;
    char *s;                        /* STRING (NUL-terminated copy) */
    int64_t *ints;
    int n_ints;
    float *floats;
    int n_floats;
    olm_onnx_tensor *t;             /* TENSOR */
    olm_onnx_graph *g;              /* GRAPH */
} olm_onnx_attr;

typedef struct olm_onnx_node {
    char *name, *op, *domain;
    char **inputs, **outputs;       /* "" = optional slot left empty */
    int n_inputs, n_outputs;
    olm_onnx_attr *attrs;
    int n_attrs;
} olm_onnx_node;

typedef struct olm_onnx_value {
    char *name;
    int elem_type;                  /* 0 when no tensor type given */
    int rank;                       /* -1 when no shape given */
    int64_t dims[OLM_ONNX_MAX_RANK];
    char *params[OLM_ONNX_MAX_RANK];/* symbolic dimension names, NULL for fixed ones */
} olm_onnx_value;

struct olm_onnx_graph {
    char *name;
    olm_onnx_node *nodes;
    int n_nodes;
    olm_onnx_tensor *inits;
    int n_inits;
    olm_onnx_value *inputs, *outputs;
    int n_inputs, n_outputs;
};

typedef struct olm_onnx_opset_r {
    char *domain;
    int64_t version;
} olm_onnx_opset_r;

typedef struct olm_onnx_model {
    char *path;                     /* model.onnx */
    char *dir;                      /* its folder (external data is relative to it) */
    uint8_t *buf;                   /* whole file */
    size_t len;
    int64_t ir_version;
    char *producer_name, *producer_version;
    olm_onnx_opset_r *opsets;
    int n_opsets;
    olm_onnx_graph graph;
} olm_onnx_model;

/* path: a model folder (reads its model.onnx) or an .onnx file. */
onnxllm_status olm_onnx_load(const char *path, olm_onnx_model **out, onnxllm_error *err);
/* The same from bytes in memory (buf: malloc'd, owned by the model afterwards, freed on
 * failure too); external data is looked up relative to the current folder. */
onnxllm_status olm_onnx_load_buffer(uint8_t *buf, size_t len, const char *name, olm_onnx_model **out,
                                    onnxllm_error *err);
void olm_onnx_free(olm_onnx_model *m);

const olm_onnx_tensor *olm_onnx_find_init(const olm_onnx_model *m, const char *name);
const olm_onnx_node *olm_onnx_find_node(const olm_onnx_graph *g, const char *name);
const olm_onnx_attr *olm_onnx_node_attr(const olm_onnx_node *n, const char *name);
int64_t olm_onnx_tensor_numel(const olm_onnx_tensor *t);
/* Size of the tensor's element data in bytes (numel * element size). */
uint64_t olm_onnx_tensor_nbytes(const olm_onnx_tensor *t);

/* Copies the tensor's elements (little-endian, dtype as stored) into dst, which
 * holds dst_len >= olm_onnx_tensor_nbytes(t) bytes. Reads the external file when
 * needed; checks the location stays inside the model folder and the range inside
 * the file. */
onnxllm_status olm_onnx_tensor_read(const olm_onnx_model *m, const olm_onnx_tensor *t, void *dst, size_t dst_len,
                                    onnxllm_error *err);
/* Bytes [off, off + n) of the tensor's element data (inline or external). */
onnxllm_status olm_onnx_tensor_read_range(const olm_onnx_model *m, const olm_onnx_tensor *t, uint64_t off,
                                          size_t n, void *dst, onnxllm_error *err);
/* Same, converted to fp32 (from float32, float16 or bfloat16); n = numel. */
onnxllm_status olm_onnx_tensor_read_f32(const olm_onnx_model *m, const olm_onnx_tensor *t, float *dst, size_t n,
                                        onnxllm_error *err);

#endif
