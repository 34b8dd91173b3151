/* ort_logits.h — test helper: one prompt through a model folder's model.onnx in ONNX
 * Runtime (empty past KV, all-ones attention mask), returning the logits. */
#ifndef OLM_TEST_ORT_LOGITS_H
#define OLM_TEST_ORT_LOGITS_H

#include <stdint.h>

/* logits: [S, V] floats. f16: the model's KV cache and logits are float16 (CUDA
 * layout, which ORT's CPU provider also runs). Returns 0, or -1 with a message in
 * errbuf (256 bytes). */
int ort_logits(const char *model_dir, int n_layers, int n_kv_heads, int head_dim, const int64_t *ids, int S, int V,
               int f16, float *logits, char *errbuf);

#endif
