/* gen.c — the generation glue over the scheduler (see gen.h).
 *
 * Every request goes through one onnxllm_scheduler: continuous batching of the
 * requests that decode, chunked prompts in between, a prefix cache shared by all
 * requests (and, with a cache folder, by later server processes), a bounded queue.
 * This file only translates: gen_request → onnxllm_request_params, the scheduler's
 * callbacks → the job's, its result → gen_result. */
#include "server/gen.h"
#include "common/error.h"
#include "common/strbuf.h"

#include <cjson/cJSON.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gen_job {
    gen_engine *g;
    gen_request r;
    onnxllm_request *req;
    onnxllm_matcher *mt;          /* the request's constraint state (the scheduler's until on_done) */
    gen_grammar *gr;              /* its grammar, held until the job is released */
    gen_job *prev, *next;         /* live jobs (gen_cancel_all) */
};

/* A compiled constraint, or the error compiling it gave (g NULL): both are kept, so a
 * client that resends the same tools every turn pays for the compile once. */
struct gen_grammar {
    onnxllm_grammar *g;
    onnxllm_status status;        /* of the compile */
    char *message;                /* its error */
    char *key;                    /* kind, options, text */
    atomic_int refs;
    uint64_t used;                /* LRU clock (under grammar_lock) */
};

/* Grammars kept: an agent's tool list, a few response formats. */
#define GEN_GRAMMARS 16

struct gen_engine {
    onnxllm_model *model;
    onnxllm_scheduler *sched;
    pthread_mutex_t lock;         /* the live-job list */
    gen_job *jobs;
    onnxllm_grammar_vocab *vocab; /* the tokenizer's token bytes over the model's ids */
    pthread_mutex_t grammar_lock; /* the cache below */
    gen_grammar *grammars[GEN_GRAMMARS];
    uint64_t clock;
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

onnxllm_status gen_engine_create(onnxllm_model *model, const onnxllm_tokenizer *tok,
                                 const onnxllm_scheduler_params *sp, gen_engine **out, onnxllm_error *err) {
    *out = NULL;
    gen_engine *g = calloc(1, sizeof *g);
    if (!g) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    g->model = model;
    size_t n_eos = 0;
    const int32_t *eos = onnxllm_model_eos(model, &n_eos);
    onnxllm_status st = onnxllm_grammar_vocab_create(tok, onnxllm_model_vocab_size(model), eos, n_eos, &g->vocab, err);
    if (!st) st = onnxllm_scheduler_create(model, sp, &g->sched, err);
    if (st) {
        onnxllm_grammar_vocab_free(g->vocab);
        free(g);
        return st;
    }
    pthread_mutex_init(&g->lock, NULL);
    pthread_mutex_init(&g->grammar_lock, NULL);
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
    for (int i = 0; i < GEN_GRAMMARS; i++) gen_grammar_release(g->grammars[i]);
    pthread_mutex_destroy(&g->grammar_lock);
    onnxllm_grammar_vocab_free(g->vocab); /* jobs still held keep grammars, not the vocabulary */
    free(g);
}

onnxllm_scheduler *gen_scheduler(gen_engine *g) { return g ? g->sched : NULL; }

void gen_grammar_release(gen_grammar *gr) {
    if (!gr || atomic_fetch_sub(&gr->refs, 1) != 1) return;
    onnxllm_grammar_free(gr->g);
    free(gr->message);
    free(gr->key);
    free(gr);
}

/* The compile itself (no cache). */
static onnxllm_status compile(gen_engine *g, const gen_constraint *c, onnxllm_grammar **out, onnxllm_error *e) {
    const char *choice = NULL;
    char *named = NULL;
    onnxllm_status st;
    switch (c->kind) {
    case GEN_CONSTRAINT_JSON_OBJECT:
        return onnxllm_grammar_compile_response_format(g->vocab, "{\"type\":\"json_object\"}", NULL, out, e);
    case GEN_CONSTRAINT_JSON_SCHEMA: {
        const char *sc = c->schema ? c->schema : "{}";
        return onnxllm_grammar_compile_json_schema(g->vocab, sc, strlen(sc), NULL, out, e);
    }
    case GEN_CONSTRAINT_TOOL_CALL: choice = "\"required\""; break;
    case GEN_CONSTRAINT_TOOL_NAMED: {
        cJSON *o = cJSON_CreateObject();
        if (o && cJSON_AddStringToObject(o, "name", c->tool_name ? c->tool_name : "")) named = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!named) return olm_fail(e, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        choice = named;
        break;
    }
    case GEN_CONSTRAINT_TOOL_AUTO: break;
    default: return olm_fail(e, ONNXLLM_ERR_INVALID_ARGUMENT, "unknown constraint");
    }
    if (!c->tools) {
        free(named);
        return olm_fail(e, ONNXLLM_ERR_INVALID_ARGUMENT, "a tool call is required but no tools are given");
    }
    st = onnxllm_grammar_compile_tools(g->vocab, c->tools, choice, !c->single_call, NULL, out, e);
    free(named);
    return st;
}

bool gen_compile(gen_engine *g, const gen_constraint *c, gen_grammar **out, char *why, size_t n, bool *fallback) {
    *out = NULL;
    *fallback = false;
    if (!c || c->kind == GEN_CONSTRAINT_NONE) return true;
    const char *field = c->field ? c->field : "constraint";
    olm_sb k = {0};
    char head[64];
    snprintf(head, sizeof head, "%d|%d|%d|", (int)c->kind, (int)c->single_call, (int)c->strict);
    olm_sb_puts(&k, head);
    if (c->kind == GEN_CONSTRAINT_TOOL_NAMED && c->tool_name) olm_sb_puts(&k, c->tool_name);
    olm_sb_putc(&k, '|');
    const char *text = c->kind == GEN_CONSTRAINT_JSON_SCHEMA ? c->schema : c->kind >= GEN_CONSTRAINT_TOOL_CALL ? c->tools : NULL;
    if (text) olm_sb_puts(&k, text);
    char *key = olm_sb_finish(&k);
    if (!key) {
        snprintf(why, n, "out of memory");
        return false;
    }
    gen_grammar *gr = NULL;
    pthread_mutex_lock(&g->grammar_lock);
    for (int i = 0; i < GEN_GRAMMARS && !gr; i++)
        if (g->grammars[i] && !strcmp(g->grammars[i]->key, key)) {
            gr = g->grammars[i];
            gr->used = ++g->clock;
            atomic_fetch_add(&gr->refs, 1);
        }
    pthread_mutex_unlock(&g->grammar_lock);
    if (!gr) {
        onnxllm_error e = {0};
        onnxllm_grammar *cg = NULL;
        onnxllm_status st = compile(g, c, &cg, &e);
        gr = calloc(1, sizeof *gr);
        if (!gr || (st && !(gr->message = strdup(e.message)))) {
            onnxllm_grammar_free(cg);
            free(gr);
            free(key);
            snprintf(why, n, "out of memory");
            return false;
        }
        gr->g = cg;
        gr->status = st;
        if (st && c->kind == GEN_CONSTRAINT_TOOL_AUTO && !c->strict) /* once per tool list (it is kept) */
            fprintf(stderr, "onnxllm serve: warning: tool calls of this tool list are not constrained: %s\n", e.message);
        gr->key = key;
        key = NULL;
        atomic_init(&gr->refs, 1);
        if (st != ONNXLLM_ERR_OUT_OF_MEMORY) { /* keep it (the least recently used one goes) */
            pthread_mutex_lock(&g->grammar_lock);
            int slot = 0;
            for (int i = 0; i < GEN_GRAMMARS; i++) {
                if (!g->grammars[i]) {
                    slot = i;
                    break;
                }
                if (g->grammars[i]->used < g->grammars[slot]->used) slot = i;
            }
            gen_grammar *old = g->grammars[slot];
            g->grammars[slot] = gr;
            gr->used = ++g->clock;
            atomic_fetch_add(&gr->refs, 1);
            pthread_mutex_unlock(&g->grammar_lock);
            gen_grammar_release(old);
        }
    }
    free(key);
    if (gr->status == ONNXLLM_OK) {
        *out = gr;
        return true;
    }
    /* The lazy tool grammar is our own doing, not the client's request: a schema we
     * cannot enforce leaves that request unconstrained instead of refusing it (an agent
     * like Claude Code sends its tools with every request). Asked for (a forced call,
     * strict tools, a response format): refused, naming the keyword. */
    bool lazy = c->kind == GEN_CONSTRAINT_TOOL_AUTO && !c->strict;
    size_t fl = strlen(field);
    if (!strncmp(gr->message, field, fl) && gr->message[fl] == ':') snprintf(why, n, "%s", gr->message); /* named already */
    else snprintf(why, n, "%s: %s", field, gr->message);
    gen_grammar_release(gr);
    if (lazy) {
        *fallback = true;
        return true;
    }
    return false;
}

onnxllm_status gen_submit(gen_engine *g, const gen_request *r, gen_job **out, onnxllm_error *err) {
    *out = NULL;
    if (!r->on_token || !r->on_done) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "callbacks missing");
    gen_job *j = calloc(1, sizeof *j);
    if (!j) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    j->g = g;
    j->r = *r;
    j->r.grammar = NULL;
    j->r.grammar_prefix = NULL;
    j->r.prompt = NULL; /* copied by the scheduler */
    j->r.forced = NULL;
    /* The constraint's state for this output. Test outputs (r->forced) stand in for the
     * model, well-formed or not, so they run without one. */
    if (r->grammar && r->grammar->g && !r->forced) {
        onnxllm_status st = onnxllm_matcher_create(r->grammar->g, &j->mt, err);
        if (!st && r->grammar_prefix && *r->grammar_prefix &&
            onnxllm_matcher_accept_bytes(j->mt, r->grammar_prefix, strlen(r->grammar_prefix), err))
            st = olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                          "the assistant message to continue does not fit the output constraint: %s", err->message);
        if (st) {
            onnxllm_matcher_free(j->mt);
            free(j);
            return st;
        }
        j->gr = r->grammar;
        atomic_fetch_add(&j->gr->refs, 1);
    }
    /* Test outputs: the given tokens, then an eos (gen.h). */
    int32_t *forced = NULL;
    if (r->forced) {
        size_t n_eos = 0;
        const int32_t *eos = onnxllm_model_eos(g->model, &n_eos);
        forced = malloc((r->n_forced + 1) * sizeof *forced);
        if (!forced) {
            onnxllm_matcher_free(j->mt);
            gen_grammar_release(j->gr);
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
    p.matcher = j->mt;
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
        onnxllm_matcher_free(j->mt);
        gen_grammar_release(j->gr);
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
    onnxllm_matcher_free(j->mt); /* the scheduler is done with it (on_done ran) */
    gen_grammar_release(j->gr);
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
