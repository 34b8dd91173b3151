/* presets.c — the named models of `onnxllm build-model`.
 *
 * tiny-*: test models that build in milliseconds yet exercise every path of the
 * layout: GQA and MHA, partial and full rotary, LongRoPE with a switch point (32)
 * that short prompts cross, tied and untied lm_head. Their vocabularies (503,
 * 1000) differ from every projection width, so a mis-wired lm_head cannot produce
 * logits of the right shape by accident.
 * demo: Phi-4-mini's vocabulary, special tokens and LongRoPE table on a 256-wide,
 * 4-layer body, so the real tokenizer and chat template run end to end.
 * phi-4-mini: the real size (3.8B parameters). */
#include "writer/phi3.h"

#include <string.h>

static void tiny_gqa(olm_phi3_config *c) {
    memset(c, 0, sizeof *c);
    c->hidden_size = 256;
    c->intermediate_size = 320;
    c->num_hidden_layers = 2;
    c->num_attention_heads = 4;
    c->num_key_value_heads = 2;
    c->head_dim = 64; /* rotary 48: GQA wants rotary_dim/2 a multiple of 8 */
    c->vocab_size = 503;
    c->rms_norm_eps = 1e-5f;
    c->rope_theta = 10000.0f;
    c->partial_rotary_factor = 0.75f;
    c->max_position_embeddings = 128;
    c->original_max_position_embeddings = 32;
    c->longrope = true;
    c->n_rope_factors = 24;
    for (int i = 0; i < 24; i++) {
        c->short_factor[i] = 1.0f + 0.05f * (float)i; /* not all 1: the short table must be checked too */
        c->long_factor[i] = 1.0f + 0.75f * (float)i;
    }
    c->tie_word_embeddings = true;
    c->bos_token_id = 1;
    c->n_eos = 1;
    c->eos_token_id[0] = 2;
    c->pad_token_id = 0;
    c->context_length = 128;
}

static void tiny_mha(olm_phi3_config *c) {
    memset(c, 0, sizeof *c);
    c->hidden_size = 64;
    c->intermediate_size = 160;
    c->num_hidden_layers = 2;
    c->num_attention_heads = 4;
    c->num_key_value_heads = 4;
    c->head_dim = 16;
    c->vocab_size = 1000;
    c->rms_norm_eps = 1e-5f;
    c->rope_theta = 10000.0f;
    c->partial_rotary_factor = 1.0f;
    c->max_position_embeddings = 128;
    c->original_max_position_embeddings = 128;
    c->longrope = false;
    c->tie_word_embeddings = false;
    c->bos_token_id = 1;
    c->n_eos = 1;
    c->eos_token_id[0] = 2;
    c->pad_token_id = 0;
    c->context_length = 128;
}

static void demo(olm_phi3_config *c) {
    olm_phi3_config_phi4_mini(c); /* vocabulary, special tokens, rope table, contexts */
    c->hidden_size = 256;
    c->intermediate_size = 512;
    c->num_hidden_layers = 4;
    c->num_attention_heads = 2; /* head_dim 128 as Phi-4-mini: 48 LongRoPE factors */
    c->num_key_value_heads = 1;
    c->head_dim = 128;
}

static const struct {
    const char *name;
    float std;
} presets[] = {
    {"tiny-gqa", 0.0625f}, {"tiny-mha", 0.125f}, {"tiny-gqa-untied", 0.0625f}, {"tiny-1layer", 0.0625f},
    {"demo", 0.02f},      {"phi-4-mini", 0.02f},
};
static const char *const preset_names[] = {"tiny-gqa", "tiny-mha", "tiny-gqa-untied", "tiny-1layer",
                                           "demo",     "phi-4-mini", NULL};

const char *const *olm_phi3_preset_names(void) { return preset_names; }

float olm_phi3_preset_init_std(const char *name) {
    for (size_t i = 0; i < sizeof presets / sizeof *presets; i++)
        if (!strcmp(presets[i].name, name)) return presets[i].std;
    return 0.02f;
}

bool olm_phi3_preset(const char *name, olm_phi3_config *c) {
    if (!name) return false;
    if (!strcmp(name, "tiny-gqa")) {
        tiny_gqa(c);
    } else if (!strcmp(name, "tiny-gqa-untied")) {
        tiny_gqa(c);
        c->tie_word_embeddings = false;
    } else if (!strcmp(name, "tiny-1layer")) {
        tiny_gqa(c);
        c->num_hidden_layers = 1;
    } else if (!strcmp(name, "tiny-mha")) {
        tiny_mha(c);
    } else if (!strcmp(name, "demo")) {
        demo(c);
    } else if (!strcmp(name, "phi-4-mini")) {
        olm_phi3_config_phi4_mini(c);
    } else {
        return false;
    }
    return true;
}
