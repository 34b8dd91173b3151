/* phi3_config.c — Phi-3-family hyper-parameters: Phi-4-mini's real values and the
 * consistency checks every writer route runs first. */
#include "writer/phi3.h"
#include "common/error.h"

#include <string.h>

/* HF microsoft/Phi-4-mini-instruct config.json rope_scaling.long_factor (48 values) */
static const float phi4_long_factor[48] = {
    1.0f, 1.118320672f, 1.250641126f, 1.398617824f, 1.564103225f, 1.74916897f, 1.956131817f, 2.187582649f,
    2.446418898f, 2.735880826f, 3.059592084f, 3.421605075f, 3.826451687f, 4.279200023f, 4.785517845f, 5.351743533f,
    5.984965424f, 6.693110555f, 7.485043894f, 8.370679318f, 9.36110372f, 10.4687158f, 11.70738129f, 13.09260651f,
    14.64173252f, 16.37415215f, 18.31155283f, 20.47818807f, 22.90118105f, 25.61086418f, 28.64115884f, 32.03f,
    32.1f, 32.13f, 32.23f, 32.6f, 32.61f, 32.64f, 32.66f, 32.7f, 32.71f, 32.93f, 32.97f, 33.28f, 33.49f, 33.5f,
    44.16f, 47.77f};

void olm_phi3_config_phi4_mini(olm_phi3_config *c) {
    memset(c, 0, sizeof *c);
    c->hidden_size = 3072;
    c->intermediate_size = 8192;
    c->num_hidden_layers = 32;
    c->num_attention_heads = 24;
    c->num_key_value_heads = 8;
    c->head_dim = 128;
    c->vocab_size = 200064;
    c->rms_norm_eps = 1e-5f;
    c->rope_theta = 10000.0f;
    c->partial_rotary_factor = 0.75f;
    c->max_position_embeddings = 131072;
    c->original_max_position_embeddings = 4096;
    c->longrope = true;
    c->n_rope_factors = 48;
    for (int i = 0; i < 48; i++) {
        c->short_factor[i] = 1.0f;
        c->long_factor[i] = phi4_long_factor[i];
    }
    c->tie_word_embeddings = true;
    c->bos_token_id = 199999;
    c->n_eos = 2;
    c->eos_token_id[0] = 200020;
    c->eos_token_id[1] = 199999;
    c->pad_token_id = 199999;
    c->context_length = 131072;
}

int olm_phi3_head_dim(const olm_phi3_config *c) {
    return c->head_dim > 0 ? c->head_dim : (c->num_attention_heads > 0 ? c->hidden_size / c->num_attention_heads : 0);
}

int olm_phi3_rotary_dim(const olm_phi3_config *c) {
    return (int)((float)olm_phi3_head_dim(c) * c->partial_rotary_factor);
}

onnxllm_status olm_phi3_config_validate(const olm_phi3_config *c, onnxllm_error *err) {
#define BAD(...) return olm_fail(err, ONNXLLM_ERR_FORMAT, "model config: " __VA_ARGS__)
    if (c->hidden_size <= 0 || c->intermediate_size <= 0 || c->num_hidden_layers <= 0 || c->vocab_size <= 0)
        BAD("hidden_size, intermediate_size, num_hidden_layers and vocab_size must be positive");
    if (c->num_attention_heads <= 0 || c->num_key_value_heads <= 0)
        BAD("num_attention_heads and num_key_value_heads must be positive");
    if (c->num_attention_heads % c->num_key_value_heads)
        BAD("num_attention_heads (%d) is not a multiple of num_key_value_heads (%d)", c->num_attention_heads,
            c->num_key_value_heads);
    int d = olm_phi3_head_dim(c);
    if (d <= 0) BAD("head_dim must be positive (%d)", d);
    if (d % 8) BAD("head_dim %d: GroupQueryAttention needs a multiple of 8", d);
    if (c->num_hidden_layers > 1000 || c->num_attention_heads > 1024) BAD("implausible layer/head counts");
    int r = olm_phi3_rotary_dim(c);
    if (c->partial_rotary_factor <= 0.0f || c->partial_rotary_factor > 1.0f)
        BAD("partial_rotary_factor %g not in (0, 1]", (double)c->partial_rotary_factor);
    if (r <= 0 || r % 2) BAD("rotary dimension %d (head_dim %d x %g) must be even and positive", r, d,
                            (double)c->partial_rotary_factor);
    if (r / 2 > OLM_PHI3_MAX_ROPE_FACTORS) BAD("rotary dimension %d too large", r);
    if ((r / 2) % 8)
        BAD("rotary dimension %d: GroupQueryAttention needs rotary_dim/2 to be a multiple of 8", r);
    if (!(c->rms_norm_eps > 0.0f) || !(c->rope_theta > 0.0f)) BAD("rms_norm_eps and rope_theta must be positive");
    if (c->max_position_embeddings <= 0) BAD("max_position_embeddings must be positive");
    if (c->longrope) {
        if (c->original_max_position_embeddings <= 0 ||
            c->original_max_position_embeddings > c->max_position_embeddings)
            BAD("original_max_position_embeddings %d not in [1, max_position_embeddings %d]",
                c->original_max_position_embeddings, c->max_position_embeddings);
        if (c->n_rope_factors != r / 2)
            BAD("LongRoPE needs rotary_dim/2 = %d short/long factors, config has %d", r / 2, c->n_rope_factors);
        for (int i = 0; i < c->n_rope_factors; i++)
            if (!(c->short_factor[i] > 0.0f) || !(c->long_factor[i] > 0.0f)) BAD("LongRoPE factor %d not positive", i);
    }
    if (c->context_length <= 0) BAD("context_length must be positive");
    if (c->n_eos < 1 || c->n_eos > 8) BAD("need 1 to 8 eos_token_id values (%d)", c->n_eos);
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_token_id[i] < 0 || c->eos_token_id[i] >= c->vocab_size)
            BAD("eos_token_id %d outside the vocabulary (%d)", c->eos_token_id[i], c->vocab_size);
    if (c->bos_token_id < 0 || c->bos_token_id >= c->vocab_size || c->pad_token_id < 0 ||
        c->pad_token_id >= c->vocab_size)
        BAD("bos/pad token id outside the vocabulary (%d)", c->vocab_size);
    return ONNXLLM_OK;
#undef BAD
}
