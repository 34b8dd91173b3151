/* generate.c — the convenience loop: step, stream, stop, time. */
#include "engine/engine.h"
#include "common/error.h"

#include <stdlib.h>
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

onnxllm_generate_params onnxllm_generate_default_params(void) {
    onnxllm_generate_params p = {0};
    p.max_new_tokens = 256;
    return p;
}

/* Constrained generation: the mask of the matcher before every token. Forced
 * tokens (the mask allows one, not eos) skip the sampler and are appended in
 * one run; everything else goes through onnxllm_sequence_step_masked. */
#define FORCED_MAX 32
static onnxllm_status generate_constrained(onnxllm_sequence *s, const onnxllm_generate_params *p,
                                           onnxllm_generate_result *r, onnxllm_error *err) {
    onnxllm_model *m = s->m;
    onnxllm_matcher *mt = p->matcher;
    size_t W = onnxllm_matcher_mask_words(mt);
    uint32_t *mask = malloc(W * sizeof *mask);
    onnxllm_sampler *smp = NULL;
    if (!mask) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "generate: out of memory");
    onnxllm_status st = onnxllm_sampler_create(p->sampler, m->cfg.vocab_size, &smp, err);
    if (st) {
        free(mask);
        return st;
    }
    r->n_prompt = (int)(s->n_tokens - s->n_computed);
    double t0 = now_ms(), t1 = t0;
    int32_t forced[FORCED_MAX];
    while (true) {
        if (onnxllm_matcher_is_finished(mt)) {
            r->stop = ONNXLLM_STOP_EOS;
            break;
        }
        if (r->n_generated >= p->max_new_tokens) {
            r->stop = ONNXLLM_STOP_MAX_TOKENS;
            break;
        }
        if (s->n_tokens >= (size_t)m->max_length) {
            r->stop = ONNXLLM_STOP_MAX_LENGTH;
            break;
        }
        if ((st = onnxllm_matcher_fill_mask(mt, mask, W, err))) break;
        int32_t one = onnxllm_mask_single(mask, W);
        if (one >= 0 && !onnxllm_model_is_eos(m, one)) {
            /* forced: no sampling; gather the run of forced tokens */
            int k = 0;
            bool go_on = true;
            while (one >= 0 && !onnxllm_model_is_eos(m, one) && k < FORCED_MAX && go_on &&
                   r->n_generated < p->max_new_tokens && s->n_tokens + (size_t)k < (size_t)m->max_length) {
                if ((st = onnxllm_matcher_accept(mt, one, err))) break;
                forced[k++] = one;
                r->n_generated++;
                if (r->n_generated == 1) t1 = now_ms();
                if (p->on_token && !p->on_token(one, p->user)) go_on = false;
                if ((st = onnxllm_matcher_fill_mask(mt, mask, W, err))) break;
                one = onnxllm_mask_single(mask, W);
            }
            if (st) break;
            if ((st = onnxllm_sequence_append(s, forced, (size_t)k, err))) {
                if (st == ONNXLLM_ERR_CANCELLED) r->stop = ONNXLLM_STOP_CANCELLED;
                break;
            }
            if (!go_on) {
                r->stop = ONNXLLM_STOP_CALLBACK;
                break;
            }
            continue;
        }
        int32_t tok;
        st = onnxllm_sequence_step_masked(s, smp, mask, W, &tok, err);
        if (st) {
            if (st == ONNXLLM_ERR_CANCELLED) r->stop = ONNXLLM_STOP_CANCELLED;
            break;
        }
        if ((st = onnxllm_matcher_accept(mt, tok, err))) break; /* cannot happen: tok came from the mask */
        r->n_generated++;
        if (r->n_generated == 1) t1 = now_ms();
        bool go_on = p->on_token ? p->on_token(tok, p->user) : true;
        if (onnxllm_model_is_eos(m, tok)) {
            r->stop = ONNXLLM_STOP_EOS;
            break;
        }
        if (!go_on) {
            r->stop = ONNXLLM_STOP_CALLBACK;
            break;
        }
        if (atomic_load(&s->cancel)) {
            r->stop = ONNXLLM_STOP_CANCELLED;
            st = olm_fail(err, ONNXLLM_ERR_CANCELLED, "cancelled");
            break;
        }
    }
    double t2 = now_ms();
    r->prefill_ms = r->n_generated ? t1 - t0 : t2 - t0;
    r->decode_ms = r->n_generated ? t2 - t1 : 0;
    onnxllm_sampler_free(smp);
    free(mask);
    return st;
}

onnxllm_status onnxllm_generate_ex(onnxllm_sequence *s, const onnxllm_generate_params *p,
                                   onnxllm_generate_result *result, onnxllm_error *err) {
    if (!s || !p) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "generate: NULL argument");
    if (!p->matcher) return onnxllm_generate(s, p->sampler, p->max_new_tokens, p->on_token, p->user, result, err);
    onnxllm_generate_result r = {0};
    atomic_store(&s->cancel, false);
    if (result) *result = r;
    if (p->max_new_tokens < 0) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "max_new_tokens must be >= 0");
    if (s->n_tokens == 0) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "generate: the sequence is empty");
    onnxllm_status st = generate_constrained(s, p, &r, err);
    if (result) *result = r;
    return st;
}
