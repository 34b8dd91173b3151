/* phi3_ref.h — a naive reference forward pass of the Phi-3 family, written from the
 * math (HF Phi3ForCausalLM + LongRoPE), independent of the ONNX writer: fp32
 * weights, double accumulation, no kernels shared with the code under test.
 *
 *   x = embed[id]
 *   per layer: h = RMSNorm(x)·g_in; [q|k|v] = W_qkv h; rotate-half rotary on the first
 *              rotary_dim channels of each q/k head (partial rotary), cos/sin scaled by
 *              mscale; causal softmax(q·k·scale) with query head h reading kv head
 *              h / (Nq/Nkv); x += W_o attn; h = RMSNorm(x)·g_post;
 *              x += W_down (SiLU(W_gate h) ⊙ W_up h)
 *   logits = W_lm RMSNorm(x)·g_final   (W_lm = embedding when tied)
 *
 * KV handling is that of a cached engine run in steps (as ORT/GenAI do): each step
 * feeds some tokens; with LongRoPE the long table is used for a step's tokens iff the
 * total sequence length after that step exceeds original_max_position_embeddings,
 * and keys cached by earlier steps keep the rotation they were computed with. */
#ifndef OLM_TEST_PHI3_REF_H
#define OLM_TEST_PHI3_REF_H

#include "writer/phi3.h"

typedef struct phi3_ref phi3_ref;

/* Loads every weight (HF names) from w into memory. */
onnxllm_status phi3_ref_create(const olm_phi3_config *c, const olm_weight_source *w, phi3_ref **out,
                               onnxllm_error *err);
void phi3_ref_free(phi3_ref *r);

/* Forgets the cached sequence. */
void phi3_ref_reset(phi3_ref *r);
/* Number of cached tokens. */
int phi3_ref_length(const phi3_ref *r);

/* Appends n tokens as one step; writes their logits [n, vocab] (logits may be NULL). */
onnxllm_status phi3_ref_step(phi3_ref *r, const int64_t *ids, int n, float *logits, onnxllm_error *err);

/* reset + one step over the whole sequence. */
onnxllm_status phi3_ref_forward(phi3_ref *r, const int64_t *ids, int n, float *logits, onnxllm_error *err);

#endif
