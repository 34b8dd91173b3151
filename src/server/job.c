/* job.c — a generation request between the engine and the HTTP thread (see job.h). */
#include "server/job.h"

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

typedef struct {
    uint8_t type;
    int32_t index;
    uint32_t n, n2;
} evhdr;

/* ---- the generating thread ---------------------------------------------------------- */

static void wake(job *j) {
    uint64_t one = 1;
    if (write(j->efd, &one, sizeof one) < 0) { /* the counter is saturated: already awake */ }
}

static void sink(void *user, out_event ev, int index, const char *s, size_t n, const char *s2, size_t n2) {
    job *j = user;
    evhdr h = {(uint8_t)ev, index, (uint32_t)n, (uint32_t)n2};
    pthread_mutex_lock(&j->lock);
    olm_sb_put(&j->q, (const char *)&h, sizeof h);
    if (n) olm_sb_put(&j->q, s, n);
    if (n2) olm_sb_put(&j->q, s2, n2);
    pthread_mutex_unlock(&j->lock);
    wake(j);
}

static bool on_token(void *user, int32_t tok) {
    job *j = user;
    return out_token(j->out, tok);
}

static void on_done(void *user, const gen_result *r) {
    job *j = user;
    if (r->status == ONNXLLM_OK) out_finish(j->out);
    pthread_mutex_lock(&j->lock);
    j->res = *r;
    j->done = true;
    pthread_mutex_unlock(&j->lock);
    wake(j);
}

/* ---- the HTTP thread ------------------------------------------------------------------- */

static job_call *call_at(job *j, int index) {
    if (index < 0 || index >= j->n_calls) return NULL;
    return &j->calls[index];
}

/* Takes the queued events (writing them to o when streaming); true once the
 * generation is over and every event has been taken. */
static bool drain(job *j, olm_sb *o) {
    uint64_t v; /* clear the wake-up first: an event queued after this wakes us again */
    if (read(j->efd, &v, sizeof v) < 0) { /* nothing pending */ }
    pthread_mutex_lock(&j->lock);
    olm_sb t = j->q;
    j->q = j->q2;
    j->q2 = t;
    bool done = j->done;
    pthread_mutex_unlock(&j->lock);
    for (size_t at = 0; at + sizeof(evhdr) <= j->q2.len;) {
        evhdr h;
        memcpy(&h, j->q2.p + at, sizeof h);
        const char *s = j->q2.p + at + sizeof h, *s2 = s + h.n;
        at += sizeof h + h.n + h.n2;
        switch (h.type) {
        case OUT_TEXT:
            olm_sb_put(&j->text, s, h.n);
            if (o) j->w->text(j, s, h.n, o);
            break;
        case OUT_CALL_START: {
            job_call *g = realloc(j->calls, (size_t)(j->n_calls + 1) * sizeof *g);
            if (!g) break;
            j->calls = g;
            job_call *c = &j->calls[j->n_calls++];
            memset(c, 0, sizeof *c);
            snprintf(c->id, sizeof c->id, "%.*s", (int)h.n, s);
            olm_sb_put(&c->name, s2, h.n2);
            if (o) j->w->call_start(j, j->n_calls - 1, o);
            break;
        }
        case OUT_CALL_ARGS: {
            job_call *c = call_at(j, h.index);
            if (!c) break;
            olm_sb_put(&c->args, s, h.n);
            if (o) j->w->call_args(j, h.index, s, h.n, o);
            break;
        }
        case OUT_CALL_END: {
            job_call *c = call_at(j, h.index);
            if (!c) break;
            c->ended = true;
            if (!c->args.p) olm_sb_puts(&c->args, "{}");
            if (o) j->w->call_end(j, h.index, o);
            break;
        }
        }
    }
    j->q2.len = 0;
    return done;
}

/* The generation is over: the finish reason, the log fields, the metrics. */
static void finalize(job *j) {
    const gen_result *r = &j->res;
    onnxllm_error oe = {0};
    if (!r->status && out_status(j->out, &oe)) {
        j->res.status = oe.status;
        snprintf(j->res.message, sizeof j->res.message, "%s", oe.message);
    }
    j->stop_index = out_stop_matched(j->out);
    if (r->status == ONNXLLM_ERR_CANCELLED) { /* not by its client (that one is gone): by a shutdown */
        j->finish_reason = "cancelled";
        j->failed = true;
        snprintf(j->res.message, sizeof j->res.message, "the request was cancelled: the server is shutting down");
    }
    else if (r->status) j->finish_reason = "error", j->failed = true;
    else if (j->stop_index >= 0) j->finish_reason = "stop_sequence";
    else if (r->stop == ONNXLLM_STOP_MAX_TOKENS || r->stop == ONNXLLM_STOP_MAX_LENGTH) j->finish_reason = "length";
    else if (j->n_calls) j->finish_reason = "tool_calls";
    else j->finish_reason = "stop";
    srv_call *c = j->c;
    c->generated = true;
    c->n_prompt = r->n_prompt;
    c->n_cached = r->n_cached;
    c->n_generated = r->n_generated;
    c->ttft_ms = r->n_generated ? r->queue_ms + r->ttft_ms : 0;
}

const char *job_openai_finish(const job *j) {
    if (!strcmp(j->finish_reason, "stop_sequence")) return "stop";
    if (!strcmp(j->finish_reason, "length")) return "length";
    if (!strcmp(j->finish_reason, "tool_calls")) return "tool_calls";
    return "stop";
}

typedef struct {
    job *j;
    void *api;
    void (*free_api)(void *);
} job_box;

static void job_free(job *j, void *api, void (*free_api)(void *)) {
    if (j->g) {
        gen_cancel_wait(j->g); /* a no-op when it is done */
        gen_release(j->g);
        atomic_fetch_sub(&j->s->active, 1);
    }
    out_free(j->out);
    if (j->efd >= 0) close(j->efd);
    pthread_mutex_destroy(&j->lock);
    olm_sb_free(&j->q);
    olm_sb_free(&j->q2);
    olm_sb_free(&j->text);
    for (int i = 0; i < j->n_calls; i++) {
        olm_sb_free(&j->calls[i].name);
        olm_sb_free(&j->calls[i].args);
    }
    free(j->calls);
    creq_free(j->r);
    free(j->r);
    if (free_api) free_api(api);
    free(j);
}

/* Waits for events or the end; false when the client went away (the generation
 * is then cancelled and over). */
static bool wait_events(job *j, int timeout_ms) {
    struct pollfd p[2] = {{.fd = j->efd, .events = POLLIN}, {.fd = j->sock, .events = POLLRDHUP}};
    int n = poll(p, j->sock >= 0 ? 2 : 1, timeout_ms);
    if (n > 0 && j->sock >= 0 && (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))) {
        gen_cancel_wait(j->g);
        drain(j, NULL);
        finalize(j);
        return false;
    }
    return true;
}

static int pump(void *user, olm_sb *o) {
    job_box *b = user;
    job *j = b->j;
    if (!j->started) {
        j->started = true;
        j->w->start(j, o);
        j->t_last_write = srv_now_ms();
        return 1;
    }
    if (j->finished) return 0;
    for (;;) {
        if (drain(j, o)) {
            finalize(j);
            if (j->failed) j->w->fail(j, o);
            else j->w->finish(j, o);
            j->finished = true;
            return 1;
        }
        double now = srv_now_ms();
        if (o->len) {
            j->t_last_write = now;
            return 1;
        }
        int left = (int)(j->ping_ms - (now - j->t_last_write));
        if (left <= 0) {
            if (j->w->ping) j->w->ping(j, o);
            j->t_last_write = now;
            if (o->len) return 1;
            left = (int)j->ping_ms;
        }
        if (!wait_events(j, left)) return -1;
    }
}

static void box_free(void *user) {
    job_box *b = user;
    job_free(b->j, b->api, b->free_api);
    free(b);
}

void job_run(srv_call *c, chat_req *r, const job_writer *w, void *api, void (*free_api)(void *api),
             const char *id_prefix, const char *call_id_prefix) {
    srv *s = c->s;
    job *j = calloc(1, sizeof *j);
    chat_req *rr = malloc(sizeof *rr);
    if (!j || !rr) {
        free(j);
        free(rr);
        creq_free(r);
        if (free_api) free_api(api);
        srv_error(c, 500, NULL, "out of memory");
        return;
    }
    *rr = *r; /* the job owns the request from here */
    memset(r, 0, sizeof *r);
    j->s = s;
    j->c = c;
    j->r = rr;
    j->w = w;
    j->api = api;
    j->stop_index = -1;
    j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&j->lock, NULL);
    j->sock = http_socket(c->rq);
    j->ping_ms = s->p.ping_interval_s > 0 ? s->p.ping_interval_s * 1000 : 5000;
    j->created = srv_unix_time();
    {
        static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        unsigned char rnd[24];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) memset(rnd, 7, sizeof rnd);
        size_t k = (size_t)snprintf(j->rid, sizeof j->rid - 25, "%s", id_prefix);
        for (size_t i = 0; i < sizeof rnd; i++) j->rid[k + i] = alnum[rnd[i] % 62];
        j->rid[k + sizeof rnd] = 0;
    }
    onnxllm_error err = {0};
    out_params op = {.tok = s->tok, .parse_tools = rr->parse_tools, .stops = (const char *const *)rr->stops,
                     .n_stops = rr->n_stops, .id_prefix = call_id_prefix, .sink = sink, .user = j};
    if (j->efd < 0 || out_create(&op, &j->out, &err)) {
        job_free(j, api, free_api);
        srv_error(c, 500, NULL, "cannot start the request: %s", err.message[0] ? err.message : "out of resources");
        return;
    }
    gen_request gr = {.prompt = rr->ids.ids, .n_prompt = rr->ids.len, .sampler = rr->sp, .max_tokens = rr->gen_max,
                      .grammar = rr->grammar, .on_token = on_token, .on_done = on_done, .user = j};
    if (rr->prefill && rr->n) gr.grammar_prefix = rr->m[rr->n - 1].text.p; /* the output so far */
    if (s->test_outputs) { /* tests: the outputs in turn, or the one the X-Test-Output header picks */
        const char *pick = http_header(c->rq, "X-Test-Output");
        unsigned long long k = pick && *pick >= '0' && *pick <= '9' ? strtoull(pick, NULL, 10) % s->p.n_test_outputs
                                                                   : atomic_fetch_add(&s->test_next, 1) % s->p.n_test_outputs;
        gr.forced = s->test_outputs[k].ids;
        gr.n_forced = s->test_outputs[k].len;
        if (!gr.forced) gr.forced = rr->ids.ids; /* an empty text: just the eos */
    }
    if (gen_submit(s->gen, &gr, &j->g, &err)) {
        j->g = NULL;
        job_free(j, api, free_api);
        /* A full queue: 429 for OpenAI clients, 529 (overloaded) for Anthropic ones, both
         * with Retry-After (srv_error); their SDKs retry. */
        int status = err.status == ONNXLLM_ERR_OVERLOADED ? (c->api == API_ANTHROPIC ? 529 : 429)
                   : err.status == ONNXLLM_ERR_UNSUPPORTED || err.status == ONNXLLM_ERR_INVALID_ARGUMENT ? 400
                                                                                                     : 500;
        srv_error(c, status, NULL, "%s", err.message);
        return;
    }
    atomic_fetch_add(&s->active, 1);
    if (rr->stream) {
        job_box *b = malloc(sizeof *b);
        if (!b) {
            job_free(j, api, free_api);
            srv_error(c, 500, NULL, "out of memory");
            return;
        }
        *b = (job_box){j, api, free_api};
        http_add_header(c->rq, "Cache-Control", "no-cache");
        http_add_header(c->rq, "X-Accel-Buffering", "no");
        srv_reply_stream(c, pump, b, box_free);
        return;
    }
    for (;;) {
        if (drain(j, NULL)) break;
        if (!wait_events(j, 1000)) { /* client gone: no answer */
            job_free(j, api, free_api);
            return;
        }
    }
    finalize(j);
    if (j->failed && j->res.status == ONNXLLM_ERR_CANCELLED) srv_error(c, 503, NULL, "%s", j->res.message);
    else if (j->failed) srv_error(c, 500, NULL, "generation failed: %s", j->res.message);
    else w->reply(j);
    job_free(j, api, free_api);
}
