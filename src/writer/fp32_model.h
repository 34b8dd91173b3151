/* fp32_model.h — an fp32 CPU model folder written by olm_phi3_write, read back as
 * (olm_phi3_config, olm_weight_source) so that `onnxllm quantize` can feed it to the
 * same writer with precision int4.
 *
 * What is recovered from where:
 *   genai_config.json  sizes, head counts, layers, vocab, context length, bos/eos/pad;
 *   the graph          intermediate size (gate_proj weight), rms_norm_eps (layer-norm
 *                      epsilon), rotary dim (cos cache width), LongRoPE on/off (the If
 *                      node) and its original length (the small cache's rows);
 *   initializers       every weight (MatMul weights are stored [K, N] = HF W^T and are
 *                      transposed back).
 * rope_theta, the LongRoPE factors and mscales cannot be recovered exactly from the
 * cos/sin tables, so the config gets placeholders and olm_fp32_copy_rope_caches()
 * afterwards copies the fp32 tables byte for byte into the written model (int4 CPU
 * models keep fp32 caches of the same shape). */
#ifndef OLM_WRITER_FP32_MODEL_H
#define OLM_WRITER_FP32_MODEL_H

#include "onnxllm.h"
#include "writer/phi3.h"

typedef struct olm_fp32_model olm_fp32_model;

onnxllm_status olm_fp32_model_open(const char *dir, olm_fp32_model **out, onnxllm_error *err);
void olm_fp32_model_close(olm_fp32_model *fm);
const olm_phi3_config *olm_fp32_model_config(const olm_fp32_model *fm);
olm_weight_source olm_fp32_model_weights(olm_fp32_model *fm);

/* Overwrites the cos/sin cache tensors of out_dir/model.onnx (inline Constants of the
 * If branches, or initializers in model.onnx.data) with the source model's bytes;
 * names, dtypes and shapes must match. */
onnxllm_status olm_fp32_copy_rope_caches(const olm_fp32_model *fm, const char *out_dir, onnxllm_error *err);

#endif
