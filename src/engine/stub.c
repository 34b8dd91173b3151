/* stub.c — placeholder implementation of the engine API (replaced piece by piece). */
#include "common/error.h"

#include <stdlib.h>

onnxllm_model_params onnxllm_model_default_params(void) {
    onnxllm_model_params p = {0};
    return p;
}
onnxllm_status onnxllm_model_load(const char *dir, const onnxllm_model_params *params,
                                  onnxllm_model **out, onnxllm_error *err) {
    (void)params;
    *out = NULL;
    return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: engine not implemented yet", dir);
}
void onnxllm_model_free(onnxllm_model *m) { (void)m; }
const char *onnxllm_model_dir(const onnxllm_model *m) { (void)m; return ""; }
const char *onnxllm_model_type(const onnxllm_model *m) { (void)m; return ""; }
const char *onnxllm_model_ep(const onnxllm_model *m) { (void)m; return "cpu"; }
int onnxllm_model_vocab_size(const onnxllm_model *m) { (void)m; return 0; }
int onnxllm_model_context_length(const onnxllm_model *m) { (void)m; return 0; }
int onnxllm_model_max_length(const onnxllm_model *m) { (void)m; return 0; }
int onnxllm_model_n_threads(const onnxllm_model *m) { (void)m; return 0; }
int32_t onnxllm_model_bos(const onnxllm_model *m) { (void)m; return 0; }
int32_t onnxllm_model_pad(const onnxllm_model *m) { (void)m; return 0; }
const int32_t *onnxllm_model_eos(const onnxllm_model *m, size_t *n) { (void)m; *n = 0; return NULL; }
bool onnxllm_model_is_eos(const onnxllm_model *m, int32_t token) { (void)m; (void)token; return false; }
uint64_t onnxllm_model_weight_bytes_per_token(const onnxllm_model *m) { (void)m; return 0; }

onnxllm_sampler_params onnxllm_sampler_default_params(void) {
    onnxllm_sampler_params p = {1.0f, 0, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 64, 0};
    return p;
}
onnxllm_sampler_params onnxllm_sampler_greedy_params(void) {
    onnxllm_sampler_params p = onnxllm_sampler_default_params();
    p.temperature = 0;
    return p;
}
onnxllm_status onnxllm_sampler_create(const onnxllm_sampler_params *p, int vocab_size,
                                      onnxllm_sampler **out, onnxllm_error *err) {
    (void)p; (void)vocab_size;
    *out = NULL;
    return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "sampler not implemented yet");
}
void onnxllm_sampler_free(onnxllm_sampler *s) { (void)s; }
void onnxllm_sampler_reset(onnxllm_sampler *s, uint64_t seed) { (void)s; (void)seed; }
int32_t onnxllm_sampler_sample(onnxllm_sampler *s, const float *logits, int n_vocab,
                               const int32_t *history, size_t n_history) {
    (void)s; (void)logits; (void)n_vocab; (void)history; (void)n_history;
    return -1;
}
onnxllm_status onnxllm_sequence_create(onnxllm_model *m, onnxllm_sequence **out, onnxllm_error *err) {
    (void)m;
    *out = NULL;
    return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "engine not implemented yet");
}
void onnxllm_sequence_free(onnxllm_sequence *s) { (void)s; }
onnxllm_status onnxllm_sequence_append(onnxllm_sequence *s, const int32_t *ids, size_t n, onnxllm_error *err) {
    (void)s; (void)ids; (void)n;
    return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "engine not implemented yet");
}
onnxllm_status onnxllm_sequence_rewind_to(onnxllm_sequence *s, size_t n, onnxllm_error *err) {
    (void)s; (void)n;
    return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "engine not implemented yet");
}
size_t onnxllm_sequence_length(const onnxllm_sequence *s) { (void)s; return 0; }
const int32_t *onnxllm_sequence_tokens(const onnxllm_sequence *s) { (void)s; return NULL; }
const float *onnxllm_sequence_logits(const onnxllm_sequence *s) { (void)s; return NULL; }
onnxllm_status onnxllm_sequence_step(onnxllm_sequence *s, onnxllm_sampler *smp, int32_t *token, onnxllm_error *err) {
    (void)s; (void)smp; *token = -1;
    return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "engine not implemented yet");
}
void onnxllm_sequence_cancel(onnxllm_sequence *s) { (void)s; }
onnxllm_status onnxllm_generate(onnxllm_sequence *s, const onnxllm_sampler_params *sp,
                                int max_new_tokens, onnxllm_token_cb on_token, void *user,
                                onnxllm_generate_result *result, onnxllm_error *err) {
    (void)s; (void)sp; (void)max_new_tokens; (void)on_token; (void)user;
    if (result) *result = (onnxllm_generate_result){0};
    return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "engine not implemented yet");
}
