/* generate.c — the convenience loop: step, stream, stop, time. */
#include "engine/engine.h"
#include "common/error.h"

#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

onnxllm_status onnxllm_generate(onnxllm_sequence *s, const onnxllm_sampler_params *sp, int max_new_tokens,
                                onnxllm_token_cb on_token, void *user, onnxllm_generate_result *result,
                                onnxllm_error *err) {
    onnxllm_generate_result r = {0};
    onnxllm_model *m = s->m;
    if (result) *result = r;
    if (max_new_tokens < 0) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "max_new_tokens must be >= 0");
    if (s->n_tokens == 0) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "generate: the sequence is empty");
    onnxllm_sampler *smp = NULL;
    const bool sp_ignore_eos = sp && sp->ignore_eos;
    onnxllm_status st = onnxllm_sampler_create(sp, m->cfg.vocab_size, &smp, err);
    if (st) return st;
    r.n_prompt = (int)(s->n_tokens - s->n_computed);
    double t0 = now_ms(), t1 = t0;
    if (olm_sequence_take_cancel(s, err)) { /* asked before the call: this call is the one cancelled */
        r.stop = ONNXLLM_STOP_CANCELLED;
        st = ONNXLLM_ERR_CANCELLED;
    }
    while (!st) {
        if (r.n_generated >= max_new_tokens) {
            r.stop = ONNXLLM_STOP_MAX_TOKENS;
            break;
        }
        if (s->n_tokens >= (size_t)m->max_length) {
            r.stop = ONNXLLM_STOP_MAX_LENGTH;
            break;
        }
        int32_t tok;
        st = onnxllm_sequence_step(s, smp, &tok, err);
        if (st) {
            if (st == ONNXLLM_ERR_CANCELLED) r.stop = ONNXLLM_STOP_CANCELLED;
            break;
        }
        r.n_generated++;
        if (r.n_generated == 1) t1 = now_ms();
        bool go_on = on_token ? on_token(tok, user) : true;
        if (!sp_ignore_eos && onnxllm_model_is_eos(m, tok)) {
            r.stop = ONNXLLM_STOP_EOS;
            break;
        }
        if (!go_on) {
            r.stop = ONNXLLM_STOP_CALLBACK;
            break;
        }
        if (olm_sequence_take_cancel(s, err)) {
            r.stop = ONNXLLM_STOP_CANCELLED;
            st = ONNXLLM_ERR_CANCELLED;
            break;
        }
    }
    double t2 = now_ms();
    r.prefill_ms = r.n_generated ? t1 - t0 : t2 - t0;
    r.decode_ms = r.n_generated ? t2 - t1 : 0;
    onnxllm_sampler_free(smp);
    if (result) *result = r;
    return st;
}
