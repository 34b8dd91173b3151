/* gen.c — the generation glue over the scheduler (see gen.h).
 *
 * Every request goes through one onnxllm_scheduler: continuous batching of the
 * requests that decode, chunked prompts in between, a prefix cache shared by all
 * requests (and, with a cache folder, by later server processes), a bounded queue.
 * This file only translates: gen_request → onnxllm_request_params, the scheduler's
 * callbacks → the job's, its result → gen_result. */
#include "server/gen.h"
#include "common/error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gen_job {
    gen_engine *g;
    gen_request r;
    onnxllm_request *req;
    gen_job *prev, *next;         /* live jobs (gen_cancel_all) */
};

struct gen_engine {
    onnxllm_model *model;
    onnxllm_scheduler *sched;
    pthread_mutex_t lock;         /* the live-job list */
    gen_job *jobs;
};

/* ---- the scheduler's thread -------------------------------------------------------- */

static bool on_token(int32_t tok, void *user) {
    gen_job *j = user;
    /* eos ends the request inside the scheduler; the API layers never see it */
    if (onnxllm_model_is_eos(j->g->model, tok)) return true;
    return j->r.on_token(j->r.user, tok);
}

static void on_admit(int n_cached, void *user) {
    gen_job *j = user;
    if (j->r.on_start) j->r.on_start(j->r.user, n_cached);
}

static void on_done(const onnxllm_request_result *rr, void *user) {
    gen_job *j = user;
    gen_result res = {0};
    res.status = rr->status;
    if (rr->status) snprintf(res.message, sizeof res.message, "%s", rr->error.message);
    res.n_prompt = rr->n_prompt;
    res.n_cached = rr->n_cached;
    res.n_generated = rr->n_generated;
    res.stop = rr->stop;
    res.queue_ms = rr->queue_ms;
    res.ttft_ms = rr->n_generated ? rr->prefill_ms : rr->total_ms - rr->queue_ms;
    res.decode_ms = rr->decode_ms;
    j->r.on_done(j->r.user, &res);
}

/* ---- the API ------------------------------------------------------------------------ */

onnxllm_status gen_engine_create(onnxllm_model *model, const onnxllm_scheduler_params *sp, gen_engine **out,
                                 onnxllm_error *err) {
    *out = NULL;
    gen_engine *g = calloc(1, sizeof *g);
    if (!g) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    g->model = model;
    onnxllm_status st = onnxllm_scheduler_create(model, sp, &g->sched, err);
    if (st) {
        free(g);
        return st;
    }
    pthread_mutex_init(&g->lock, NULL);
    *out = g;
    return ONNXLLM_OK;
}

void gen_engine_free(gen_engine *g) {
    if (!g) return;
    /* Cancels what runs and waits (their on_done is called); idle slots go to the
     * cache folder. Jobs the server still holds stay valid until gen_release. */
    onnxllm_scheduler_free(g->sched);
    pthread_mutex_lock(&g->lock);
    for (gen_job *j = g->jobs; j; j = j->next) j->g = NULL;
    pthread_mutex_unlock(&g->lock);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

onnxllm_scheduler *gen_scheduler(gen_engine *g) { return g ? g->sched : NULL; }

bool gen_supports(const gen_engine *g, const gen_constraint *c, char *why, size_t n) {
    (void)g;
    if (!c || c->kind == GEN_CONSTRAINT_NONE) return true;
    static const char *const what[] = {"", "JSON output", "JSON-schema output", "a forced tool call",
                                       "a forced call of a named tool"};
    snprintf(why, n,
             "%s: %s needs constrained decoding, which this server does not support yet; "
             "the request would not be honoured, so it is refused",
             c->field ? c->field : "constraint", what[c->kind]);
    return false;
}

onnxllm_status gen_submit(gen_engine *g, const gen_request *r, gen_job **out, onnxllm_error *err) {
    *out = NULL;
    char why[256];
    if (!gen_supports(g, r->constraint, why, sizeof why)) return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s", why);
    if (!r->on_token || !r->on_done) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "callbacks missing");
    gen_job *j = calloc(1, sizeof *j);
    if (!j) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    j->g = g;
    j->r = *r;
    j->r.constraint = NULL;
    j->r.prompt = NULL; /* copied by the scheduler */
    j->r.forced = NULL;
    /* Test outputs: the given tokens, then an eos (gen.h). */
    int32_t *forced = NULL;
    if (r->forced) {
        size_t n_eos = 0;
        const int32_t *eos = onnxllm_model_eos(g->model, &n_eos);
        forced = malloc((r->n_forced + 1) * sizeof *forced);
        if (!forced) {
            free(j);
            return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        }
        if (r->n_forced) memcpy(forced, r->forced, r->n_forced * sizeof *forced);
        forced[r->n_forced] = n_eos ? eos[0] : 0;
    }
    onnxllm_request_params p = onnxllm_request_default_params();
    p.prompt = r->prompt;
    p.n_prompt = r->n_prompt;
    p.sampler = r->sampler;
    p.max_new_tokens = r->max_tokens;
    p.forced = forced;
    p.n_forced = forced ? r->n_forced + 1 : 0;
    p.on_token = on_token;
    p.on_admit = on_admit;
    p.on_done = on_done;
    p.user = j;
    pthread_mutex_lock(&g->lock); /* listed before any callback can run */
    j->next = g->jobs;
    if (g->jobs) g->jobs->prev = j;
    g->jobs = j;
    pthread_mutex_unlock(&g->lock);
    onnxllm_status st = onnxllm_scheduler_submit(g->sched, &p, &j->req, err);
    free(forced); /* copied by the scheduler */
    if (st) {
        pthread_mutex_lock(&g->lock);
        if (j->prev) j->prev->next = j->next;
        else g->jobs = j->next;
        if (j->next) j->next->prev = j->prev;
        pthread_mutex_unlock(&g->lock);
        free(j);
        return st;
    }
    *out = j;
    return ONNXLLM_OK;
}

void gen_cancel(gen_job *j) {
    if (j && j->req) onnxllm_request_cancel(j->req);
}

void gen_cancel_wait(gen_job *j) {
    if (!j || !j->req) return;
    onnxllm_request_cancel(j->req);
    onnxllm_request_wait(j->req, NULL);
}

void gen_release(gen_job *j) {
    if (!j) return;
    onnxllm_request_free(j->req); /* cancels if needed; no callback after this */
    gen_engine *g = j->g;
    if (g) {
        pthread_mutex_lock(&g->lock);
        if (j->prev) j->prev->next = j->next;
        else g->jobs = j->next;
        if (j->next) j->next->prev = j->prev;
        pthread_mutex_unlock(&g->lock);
    }
    free(j);
}

void gen_cancel_all(gen_engine *g) {
    pthread_mutex_lock(&g->lock);
    for (gen_job *j = g->jobs; j; j = j->next)
        if (j->req) onnxllm_request_cancel(j->req);
    pthread_mutex_unlock(&g->lock);
}

void gen_counts(gen_engine *g, int *running, int *waiting) {
    onnxllm_scheduler_stats st;
    onnxllm_scheduler_get_stats(g->sched, &st);
    *running = st.running;
    *waiting = st.waiting;
}
