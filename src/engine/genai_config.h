/* genai_config.h — the onnxruntime-genai model folder's genai_config.json, parsed
 * and checked field by field (the fields a decoder-only model uses). */
#ifndef OLM_ENGINE_GENAI_CONFIG_H
#define OLM_ENGINE_GENAI_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include "onnxllm.h"

#define OLM_MAX_EOS 16
#define OLM_MAX_PROVIDER_OPTIONS 32
#define OLM_NAME_MAX 128
#define OLM_MAX_LAYERS 4096   /* model.decoder.num_hidden_layers (the largest models have ~130) */
#define OLM_MAX_THREADS 1024  /* intra/inter-op threads from a config or a caller */

typedef struct olm_kv_pair {
    char key[OLM_NAME_MAX];
    char value[OLM_NAME_MAX];
} olm_kv_pair;

typedef struct olm_genai_config {
    char *path;                  /* .../genai_config.json (for messages) */
    char type[64];               /* model.type */
    int32_t bos_token_id;        /* -1 when absent */
    int32_t eos_token_id[OLM_MAX_EOS];
    int n_eos;
    int32_t pad_token_id;        /* absent → eos[0] (as genai) */
    int context_length;
    int vocab_size;
    /* model.decoder */
    char filename[256];
    int head_size, hidden_size, num_attention_heads, num_key_value_heads, num_hidden_layers;
    char in_input_ids[OLM_NAME_MAX], in_attention_mask[OLM_NAME_MAX], in_position_ids[OLM_NAME_MAX];
    char in_past_key[OLM_NAME_MAX], in_past_value[OLM_NAME_MAX];     /* printf templates with one %d */
    char out_logits[OLM_NAME_MAX], out_present_key[OLM_NAME_MAX], out_present_value[OLM_NAME_MAX];
    /* model.decoder.session_options */
    int intra_op_num_threads;    /* 0 = not set */
    int inter_op_num_threads;    /* 0 = not set */
    int enable_cpu_mem_arena;    /* -1 = not set, else 0/1 */
    int enable_mem_pattern;      /* -1 = not set */
    int graph_optimization_level;/* -1 = not set, else ORT GraphOptimizationLevel */
    int log_severity_level;      /* -1 = not set */
    char log_id[64];
    bool has_cuda_provider;      /* provider_options contains {"cuda": {...}} */
    olm_kv_pair cuda_options[OLM_MAX_PROVIDER_OPTIONS];
    int n_cuda_options;
    char other_provider[64];     /* first provider that is neither cuda nor cpu ("" if none) */
    /* search */
    bool past_present_share_buffer;
    int search_max_length;       /* 0 = not set */
    bool do_sample;
    float temperature, top_p, repetition_penalty;
    int top_k;
} olm_genai_config;

/* Loads dir/genai_config.json. On failure, one line names the file and field. */
onnxllm_status olm_genai_config_load(const char *dir, olm_genai_config *c, onnxllm_error *err);
/* Parses already-read JSON text (path is used in messages only). */
onnxllm_status olm_genai_config_parse(const char *text, size_t len, const char *path,
                                      olm_genai_config *c, onnxllm_error *err);
void olm_genai_config_free(olm_genai_config *c);

/* Expands a "%d" name template for layer i into out (size OLM_NAME_MAX). */
void olm_layer_name(char *out, const char *tmpl, int i);

#endif
