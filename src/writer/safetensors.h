/* safetensors.h — read-only access to a Hugging Face safetensors checkpoint.
 *
 * Format: 8-byte little-endian header length n, n bytes of JSON
 *   {"__metadata__": {...}, "name": {"dtype": "BF16", "shape": [..], "data_offsets": [b, e]}, ...}
 * then the data area; offsets are relative to its start. A checkpoint is either one
 * `model.safetensors` or several shards listed by `model.safetensors.index.json`
 * ({"weight_map": {"name": "model-00001-of-00002.safetensors", ...}}).
 *
 * Files are mmap'd; every tensor's byte range is checked against the file and
 * against the other tensors when the file is opened, so readers never go out of
 * bounds. Values are returned as fp32 (BF16, F16, F32 sources). */
#ifndef OLM_WRITER_SAFETENSORS_H
#define OLM_WRITER_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "onnxllm.h"
#include "writer/phi3.h"

#define OLM_ST_MAX_RANK 8

typedef struct olm_st_tensor {
    const char *name;
    const char *dtype;      /* as written: "BF16", "F16", "F32", "I8", ... */
    int rank;
    int64_t shape[OLM_ST_MAX_RANK];
    const uint8_t *data;    /* inside the mapping */
    size_t nbytes;
    const char *file;       /* path of the file holding it (for messages) */
} olm_st_tensor;

typedef struct olm_safetensors olm_safetensors;

/* Opens dir/model.safetensors.index.json (sharded) if present, else dir/model.safetensors. */
onnxllm_status olm_st_open_dir(const char *dir, olm_safetensors **out, onnxllm_error *err);
/* Opens one safetensors file. */
onnxllm_status olm_st_open_file(const char *path, olm_safetensors **out, onnxllm_error *err);
void olm_st_close(olm_safetensors *st);

/* NULL when absent. */
const olm_st_tensor *olm_st_find(const olm_safetensors *st, const char *name);
/* Converts a tensor to fp32 (n = prod(shape) values). Fails for other dtypes. */
onnxllm_status olm_st_to_f32(const olm_st_tensor *t, float *dst, onnxllm_error *err);

/* A weight source over the checkpoint (HF names, see phi3.h). Besides the packed
 * Phi-3 tensors it assembles `qkv_proj` from q_proj/k_proj/v_proj and `gate_up_proj`
 * from gate_proj/up_proj when a checkpoint stores them split. `where` names the
 * checkpoint in "missing tensor" messages. The source borrows st. */
typedef struct olm_st_source {
    const olm_safetensors *st;
    const char *where;
} olm_st_source;
olm_weight_source olm_st_weight_source(olm_st_source *s);

#endif
