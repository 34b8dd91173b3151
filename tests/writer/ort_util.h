/* ort_util.h — running a Phi-3-layout model folder with the ONNX Runtime C API in
 * tests: one Run with input_ids, attention_mask and past KV, returning logits and
 * present KV (non-shared buffers, the simple mode GenAI also supports). */
#ifndef OLM_TEST_ORT_UTIL_H
#define OLM_TEST_ORT_UTIL_H

#include <onnxruntime_c_api.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct ort_model {
    const OrtApi *api;
    OrtEnv *env;
    OrtSession *sess;
    OrtMemoryInfo *mem;
    int layers, kv_heads, head_dim, vocab;
    bool f16;          /* fp16 I/O (CUDA layout) */
    /* KV cache between runs: [layers][2] tensors [1, kv_heads, len, head_dim] (io dtype bytes) */
    void **kv;
    int kv_len;
    char error[1024];
} ort_model;

/* Loads dir/model.onnx. Returns false with m->error set on failure. */
bool ort_model_open(ort_model *m, const char *dir, int layers, int kv_heads, int head_dim, int vocab, bool f16);
void ort_model_close(ort_model *m);
void ort_model_reset(ort_model *m);
/* Runs n new tokens (batch 1) on top of the cached ones; logits [n, vocab] as fp32. */
bool ort_model_step(ort_model *m, const int64_t *ids, int n, float *logits);

#endif
