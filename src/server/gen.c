/* gen.c — one worker thread, one sequence, a FIFO queue (see gen.h). */
#include "server/gen.h"
#include "common/error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct gen_job {
    gen_engine *g;
    gen_request r;
    int32_t *prompt, *forced;
    atomic_bool cancelled;
    int state;          /* under g->lock */
    int refs;           /* under g->lock: the caller's and the engine's */
    gen_job *next;
    double t_submit;
};

struct gen_engine {
    onnxllm_model *model;
    onnxllm_sequence *seq;
    pthread_t worker;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    gen_job *head, *tail, *current;
    int waiting;
    bool quit;
};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void job_unref_locked(gen_job *j) {
    if (--j->refs > 0) return;
    free(j->prompt);
    free(j->forced);
    free(j);
}

/* Marks j done, calls on_done (without the lock), drops the engine's reference. */
static void finish(gen_engine *g, gen_job *j, const gen_result *res) {
    j->r.on_done(j->r.user, res);
    pthread_mutex_lock(&g->lock);
    j->state = JOB_DONE;
    if (g->current == j) g->current = NULL;
    pthread_cond_broadcast(&g->done);
    job_unref_locked(j);
    pthread_mutex_unlock(&g->lock);
}

typedef struct {
    gen_job *j;
    onnxllm_model *m;
    double t_first;
    int n;
} run_ctx;

static bool on_token(int32_t tok, void *user) {
    run_ctx *c = user;
    if (++c->n == 1) c->t_first = now_ms();
    if (atomic_load(&c->j->cancelled)) return false;
    if (onnxllm_model_is_eos(c->m, tok)) return true; /* generation stops after it */
    return c->j->r.on_token(c->j->r.user, tok);
}

/* Forced output (tests): the tokens, then an eos, each computed by the model. */
static onnxllm_status run_forced(gen_engine *g, gen_job *j, run_ctx *c, gen_result *res, onnxllm_error *err) {
    size_t n_eos = 0;
    const int32_t *eos = onnxllm_model_eos(g->model, &n_eos);
    for (size_t i = 0; i <= j->r.n_forced; i++) {
        if (res->n_generated >= j->r.max_tokens) {
            res->stop = ONNXLLM_STOP_MAX_TOKENS;
            return ONNXLLM_OK;
        }
        if (onnxllm_sequence_length(g->seq) >= (size_t)onnxllm_model_max_length(g->model)) {
            res->stop = ONNXLLM_STOP_MAX_LENGTH;
            return ONNXLLM_OK;
        }
        int32_t t = i < j->r.n_forced ? j->forced[i] : (n_eos ? eos[0] : 0);
        if (atomic_load(&j->cancelled)) return olm_fail(err, ONNXLLM_ERR_CANCELLED, "cancelled");
        res->n_generated++;
        bool go = on_token(t, c);
        if (i == j->r.n_forced) { /* the eos: not computed, as in onnxllm_generate */
            res->stop = ONNXLLM_STOP_EOS;
            return ONNXLLM_OK;
        }
        if (!go) {
            if (atomic_load(&j->cancelled)) return olm_fail(err, ONNXLLM_ERR_CANCELLED, "cancelled");
            res->stop = ONNXLLM_STOP_CALLBACK;
            return ONNXLLM_OK;
        }
        onnxllm_status st = onnxllm_sequence_append(g->seq, &t, 1, err);
        if (st) return st;
    }
    return ONNXLLM_OK;
}

static void run_job(gen_engine *g, gen_job *j) {
    gen_result res = {0};
    onnxllm_error err = {0};
    double t0 = now_ms();
    res.queue_ms = t0 - j->t_submit;
    res.n_prompt = (int)j->r.n_prompt;
    run_ctx c = {.j = j, .m = g->model};
    onnxllm_status st = ONNXLLM_OK;
    if (atomic_load(&j->cancelled)) {
        st = olm_fail(&err, ONNXLLM_ERR_CANCELLED, "cancelled");
        goto done;
    }
    size_t cached = 0;
    size_t keep = onnxllm_sequence_reusable_prefix(g->seq, j->prompt, j->r.n_prompt, &cached);
    if ((st = onnxllm_sequence_rewind_to(g->seq, keep, &err))) goto done;
    res.n_cached = (int)cached;
    if (j->r.on_start) j->r.on_start(j->r.user, res.n_cached);
    if (atomic_load(&j->cancelled)) {
        st = olm_fail(&err, ONNXLLM_ERR_CANCELLED, "cancelled");
        goto done;
    }
    if ((st = onnxllm_sequence_append(g->seq, j->prompt + keep, j->r.n_prompt - keep, &err))) goto done;
    if (j->forced) {
        st = run_forced(g, j, &c, &res, &err);
    } else {
        onnxllm_generate_result gr = {0};
        st = onnxllm_generate(g->seq, &j->r.sampler, j->r.max_tokens, on_token, &c, &gr, &err);
        res.n_generated = gr.n_generated;
        res.stop = gr.stop;
        if (!st && gr.stop == ONNXLLM_STOP_CALLBACK && atomic_load(&j->cancelled)) {
            st = olm_fail(&err, ONNXLLM_ERR_CANCELLED, "cancelled");
        }
    }
done:;
    double t1 = now_ms();
    res.ttft_ms = c.n ? c.t_first - t0 : t1 - t0;
    res.decode_ms = c.n ? t1 - c.t_first : 0;
    res.status = st;
    if (st == ONNXLLM_ERR_CANCELLED) res.stop = ONNXLLM_STOP_CANCELLED;
    if (st) snprintf(res.message, sizeof res.message, "%s", err.message[0] ? err.message : onnxllm_status_name(st));
    if (st && st != ONNXLLM_ERR_CANCELLED) onnxllm_sequence_rewind_to(g->seq, 0, NULL); /* start clean */
    finish(g, j, &res);
}

static void *worker_main(void *arg) {
    gen_engine *g = arg;
    for (;;) {
        pthread_mutex_lock(&g->lock);
        while (!g->quit && !g->head) pthread_cond_wait(&g->wake, &g->lock);
        if (g->quit) {
            pthread_mutex_unlock(&g->lock);
            return NULL;
        }
        gen_job *j = g->head;
        g->head = j->next;
        if (!g->head) g->tail = NULL;
        g->waiting--;
        j->state = JOB_RUNNING;
        g->current = j;
        /* A cancel that reached the sequence after the previous job's last call is
         * still pending there: it was meant for that job, not this one. (Cancels for
         * this job need the lock and find it current, so they come after this.) */
        onnxllm_sequence_cancel_reset(g->seq);
        pthread_mutex_unlock(&g->lock);
        run_job(g, j);
    }
}

onnxllm_status gen_engine_create(onnxllm_model *model, gen_engine **out, onnxllm_error *err) {
    *out = NULL;
    gen_engine *g = calloc(1, sizeof *g);
    if (!g) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    g->model = model;
    onnxllm_status st = onnxllm_sequence_create(model, &g->seq, err);
    if (st) {
        free(g);
        return st;
    }
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, NULL);
    pthread_cond_init(&g->done, NULL);
    if (pthread_create(&g->worker, NULL, worker_main, g)) {
        onnxllm_sequence_free(g->seq);
        pthread_mutex_destroy(&g->lock);
        pthread_cond_destroy(&g->wake);
        pthread_cond_destroy(&g->done);
        free(g);
        return olm_fail(err, ONNXLLM_ERR_INTERNAL, "cannot start the generation thread");
    }
    *out = g;
    return ONNXLLM_OK;
}

void gen_engine_free(gen_engine *g) {
    if (!g) return;
    gen_cancel_all(g);
    pthread_mutex_lock(&g->lock);
    while (g->current) pthread_cond_wait(&g->done, &g->lock);
    g->quit = true;
    pthread_cond_broadcast(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->worker, NULL);
    onnxllm_sequence_free(g->seq);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->wake);
    pthread_cond_destroy(&g->done);
    free(g);
}

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
    if (!r->n_prompt || !r->prompt) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "empty prompt");
    if (r->max_tokens <= 0) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "max_tokens must be > 0");
    if (!r->on_token || !r->on_done) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "callbacks missing");
    gen_job *j = calloc(1, sizeof *j);
    if (!j) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    j->g = g;
    j->r = *r;
    j->r.constraint = NULL;
    j->prompt = malloc(r->n_prompt * sizeof *j->prompt);
    if (r->forced) j->forced = malloc((r->n_forced ? r->n_forced : 1) * sizeof *j->forced);
    if (!j->prompt || (r->forced && !j->forced)) {
        free(j->prompt);
        free(j->forced);
        free(j);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    memcpy(j->prompt, r->prompt, r->n_prompt * sizeof *j->prompt);
    if (r->forced && r->n_forced) memcpy(j->forced, r->forced, r->n_forced * sizeof *j->forced);
    j->r.prompt = j->prompt;
    j->r.forced = j->forced;
    j->refs = 2;
    j->state = JOB_QUEUED;
    j->t_submit = now_ms();
    pthread_mutex_lock(&g->lock);
    if (g->tail) g->tail->next = j;
    else g->head = j;
    g->tail = j;
    g->waiting++;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    *out = j;
    return ONNXLLM_OK;
}

/* Under g->lock: takes j out of the queue; true when it was there. */
static bool unqueue_locked(gen_engine *g, gen_job *j) {
    gen_job **pp = &g->head, *prev = NULL;
    while (*pp && *pp != j) prev = *pp, pp = &(*pp)->next;
    if (!*pp) return false;
    *pp = j->next;
    if (g->tail == j) g->tail = prev;
    g->waiting--;
    return true;
}

static void cancel_queued(gen_engine *g, gen_job *j) {
    gen_result res = {.status = ONNXLLM_ERR_CANCELLED, .stop = ONNXLLM_STOP_CANCELLED, .n_prompt = (int)j->r.n_prompt};
    snprintf(res.message, sizeof res.message, "cancelled");
    res.queue_ms = now_ms() - j->t_submit;
    finish(g, j, &res);
}

void gen_cancel(gen_job *j) {
    if (!j) return;
    gen_engine *g = j->g;
    atomic_store(&j->cancelled, true);
    pthread_mutex_lock(&g->lock);
    bool queued = j->state == JOB_QUEUED && unqueue_locked(g, j);
    if (queued) j->state = JOB_RUNNING; /* finish() marks it done */
    else if (j->state == JOB_RUNNING && g->current == j) onnxllm_sequence_cancel(g->seq);
    pthread_mutex_unlock(&g->lock);
    if (queued) cancel_queued(g, j);
}

void gen_cancel_wait(gen_job *j) {
    if (!j) return;
    gen_engine *g = j->g;
    gen_cancel(j);
    pthread_mutex_lock(&g->lock); /* the engine never loses a cancel: one is enough */
    while (j->state != JOB_DONE) pthread_cond_wait(&g->done, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

void gen_release(gen_job *j) {
    if (!j) return;
    gen_engine *g = j->g;
    pthread_mutex_lock(&g->lock);
    job_unref_locked(j);
    pthread_mutex_unlock(&g->lock);
}

void gen_cancel_all(gen_engine *g) {
    for (;;) {
        pthread_mutex_lock(&g->lock);
        gen_job *j = g->head;
        if (j) {
            unqueue_locked(g, j);
            atomic_store(&j->cancelled, true);
            j->state = JOB_RUNNING;
        } else if (g->current) {
            atomic_store(&g->current->cancelled, true);
            onnxllm_sequence_cancel(g->seq);
        }
        pthread_mutex_unlock(&g->lock);
        if (!j) return;
        cancel_queued(g, j);
    }
}

void gen_counts(gen_engine *g, int *running, int *waiting) {
    pthread_mutex_lock(&g->lock);
    *running = g->current ? 1 : 0;
    *waiting = g->waiting;
    pthread_mutex_unlock(&g->lock);
}
