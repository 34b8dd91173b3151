/* phi3.h — the Phi-3-family decoder (Phi-3-mini, Phi-3.5-mini, Phi-4-mini) as a
 * hyper-parameter struct, a source of weights, and the writer that emits the ONNX
 * graph of onnxruntime-genai's published layout (docs/reference/phi4-onnx-graph.md).
 *
 * Weights always travel as fp32 with Hugging Face names and HF shapes
 * ([out_features, in_features] for Linear), whatever produced them: the random
 * generator (build-model), a safetensors checkpoint (convert) or an fp32 ONNX model
 * (quantize). The writer transposes/quantizes/casts as the layout needs, so every
 * route yields byte-identical files for identical weights. */
#ifndef OLM_WRITER_PHI3_H
#define OLM_WRITER_PHI3_H

#include <stdbool.h>
#include <stdint.h>
#include "onnxllm.h"

#define OLM_PHI3_MAX_ROPE_FACTORS 256

typedef struct olm_phi3_config {
    int hidden_size;           /* H */
    int intermediate_size;     /* I */
    int num_hidden_layers;     /* L */
    int num_attention_heads;   /* Nq */
    int num_key_value_heads;   /* Nkv */
    int head_dim;              /* hidden_size / num_attention_heads unless given */
    int vocab_size;            /* embedding rows (200064 for Phi-4-mini) */
    float rms_norm_eps;        /* 1e-5 */
    float rope_theta;          /* 10000 */
    float partial_rotary_factor; /* 1.0 or 0.75 */
    int max_position_embeddings;          /* 131072 */
    int original_max_position_embeddings; /* 4096; == max_position_embeddings → no LongRoPE */
    bool longrope;             /* rope_scaling.type == "longrope" (or "su") */
    int n_rope_factors;        /* rotary_dim / 2 when longrope */
    float short_factor[OLM_PHI3_MAX_ROPE_FACTORS];
    float long_factor[OLM_PHI3_MAX_ROPE_FACTORS];
    bool has_short_mscale, has_long_mscale;  /* rope_scaling.short_mscale / long_mscale given */
    float short_mscale, long_mscale;
    bool tie_word_embeddings;
    int bos_token_id;
    int n_eos;
    int eos_token_id[8];       /* genai_config eos list, e.g. {200020, 199999} */
    int pad_token_id;
    int context_length;        /* genai_config model.context_length (= max_position_embeddings) */
} olm_phi3_config;

/* Fills c with Phi-4-mini-instruct's real hyper-parameters (HF config.json). */
void olm_phi3_config_phi4_mini(olm_phi3_config *c);
/* rotary_dim = (int)(head_dim * partial_rotary_factor) */
int olm_phi3_rotary_dim(const olm_phi3_config *c);
/* Checks the numbers are consistent (heads divide, rotary dim even, factors count...). */
onnxllm_status olm_phi3_config_validate(const olm_phi3_config *c, onnxllm_error *err);

/* HF tensor names used with a weight source (Linear weights are [out, in]):
 *   model.embed_tokens.weight                     [V, H]
 *   model.layers.{i}.input_layernorm.weight       [H]
 *   model.layers.{i}.self_attn.qkv_proj.weight    [(Nq + 2 Nkv) * D, H]  (rows Q|K|V)
 *   model.layers.{i}.self_attn.o_proj.weight      [H, Nq * D]
 *   model.layers.{i}.post_attention_layernorm.weight [H]
 *   model.layers.{i}.mlp.gate_up_proj.weight      [2 I, H]             (rows gate|up)
 *   model.layers.{i}.mlp.down_proj.weight         [H, I]
 *   model.norm.weight                             [H]
 *   lm_head.weight                                [V, H]   (absent when tied)
 */
typedef struct olm_weight_source {
    void *ctx;
    /* Writes the n = prod(shape) fp32 values of tensor `name` into dst. The caller
     * passes the shape it expects; a source whose tensor has another shape fails
     * with ONNXLLM_ERR_FORMAT naming the tensor and both shapes. */
    onnxllm_status (*get)(void *ctx, const char *name, const int64_t *shape, int rank, float *dst,
                          onnxllm_error *err);
    /* Optional (may be NULL): rows [row0, row0 + n_rows) of a 2-D tensor of shape
     * `shape` into dst ([n_rows, shape[1]]). When set, the writer streams the big
     * vocabulary-sized tensors (embedding, lm_head) in row chunks instead of holding
     * them whole (2.5 GB for Phi-4-mini). */
    onnxllm_status (*get_rows)(void *ctx, const char *name, const int64_t *shape, int64_t row0, int64_t n_rows,
                               float *dst, onnxllm_error *err);
} olm_weight_source;

typedef enum { OLM_PRECISION_INT4 = 0, OLM_PRECISION_FP32 = 1 } olm_precision;
typedef enum { OLM_EP_CPU = 0, OLM_EP_CUDA = 1 } olm_target_ep;

typedef struct olm_build_options {
    olm_precision precision;     /* int4 (MatMulNBits) or fp32 (MatMul) */
    olm_target_ep ep;            /* cpu: fp32 I/O, accuracy_level 4; cuda: fp16 I/O, no accuracy_level */
    const char *tokenizer_dir;   /* when set, tokenizer.json/tokenizer_config.json/... copied in */
    /* Optional progress: called after each layer with (done, total). */
    void (*progress)(void *user, int done, int total);
    void *progress_user;
    /* (addition) CPU int4 without accuracy_level: MatMulNBits then keeps fp32
     * activations, so ORT's output equals the dequantized-weight reference exactly
     * (tests). Default false = the published accuracy_level 4. */
    bool exact_activations;
} olm_build_options;

/* Writes out_dir/{model.onnx, model.onnx.data, genai_config.json[, tokenizer files]}.
 * Streams one layer at a time: peak memory is about one layer's weights plus the
 * embedding, never the whole model. Creates out_dir if needed. */
onnxllm_status olm_phi3_write(const olm_phi3_config *c, const olm_weight_source *w,
                              const olm_build_options *o, const char *out_dir, onnxllm_error *err);

/* The public entry points' common end (build-model, convert, quantize): checks p,
 * takes the writer options from it (tokenizer files from p->tokenizer_dir, else from
 * `in` when it holds a tokenizer.json), and writes the folder atomically through a
 * staging folder (common/fsutil.h olm_outdir), refusing an out_dir that is `in`.
 * rope_from (quantize): the fp32 model whose rope tables are copied in. */
struct olm_fp32_model;
onnxllm_status olm_write_model_folder(const olm_phi3_config *c, const olm_weight_source *w,
                                      const onnxllm_build_params *p, const char *in, const char *out_dir,
                                      const struct olm_fp32_model *rope_from, onnxllm_error *err);

/* ---- additions (writer engineer) ---- */

/* head_dim, or hidden_size / num_attention_heads when head_dim is 0. */
int olm_phi3_head_dim(const olm_phi3_config *c);

/* Named model presets of `onnxllm build-model` (tiny-gqa, tiny-mha, tiny-gqa-untied,
 * tiny-1layer, demo, phi-4-mini). Fills c; returns false for an unknown name. */
bool olm_phi3_preset(const char *name, olm_phi3_config *c);
/* Scale of the random weights that suit a preset (std of Linear/embedding values). */
float olm_phi3_preset_init_std(const char *name);
/* NULL-terminated list of preset names. */
const char *const *olm_phi3_preset_names(void);

/* Deterministic random weights: value i of tensor `name` is a pure function of
 * (seed, name, i) — a counter-based generator — so any tensor or row range can be
 * produced independently and every build of one seed sees the same weights.
 * Linear/embedding values ~ N(0, std^2) (approximately: Irwin-Hall sum of four
 * uniforms, |z| <= 3.46); norm weights (names ending in "norm.weight") ~ 1 + 0.1 z. */
typedef struct olm_random_weights {
    uint64_t seed;
    float std;
} olm_random_weights;
olm_weight_source olm_random_weight_source(olm_random_weights *rw);

#endif
