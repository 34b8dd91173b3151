/* hf_config.h — a Hugging Face Phi-3-family config.json as an olm_phi3_config.
 *
 * Reads DIR/config.json and, when present, DIR/generation_config.json (which wins
 * for bos/eos/pad, as onnxruntime-genai's model builder does). Accepts the
 * transformers-4 layout (`rope_scaling` {type: longrope|su, short_factor,
 * long_factor, ...}, null for Phi-3-mini-4k) and the transformers-5 one
 * (`rope_parameters` {rope_type, rope_theta, ...}). Only architectures[0] ==
 * "Phi3ForCausalLM" is supported. */
#ifndef OLM_WRITER_HF_CONFIG_H
#define OLM_WRITER_HF_CONFIG_H

#include "onnxllm.h"
#include "writer/phi3.h"

onnxllm_status olm_hf_config_load(const char *dir, olm_phi3_config *c, onnxllm_error *err);

#endif
