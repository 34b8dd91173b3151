/* scheduler.c — many requests on one model: admission, prefix reuse, the step loop.
 *
 * Each loop iteration (on the scheduler's own thread):
 *   1. admit: waiting requests take a slot while one is free and the KV budget allows;
 *      the slot is chosen for the longest reusable prefix (in place, copied from
 *      another slot, or loaded from cache_dir) and the least loss of cached prefixes;
 *   2. decode: the pending token of every decoding request is computed — one ORT run
 *      per side of the rotary switch (batch.c) — and the next token sampled;
 *   3. prefill: one chunk of the oldest prompt still being computed (so a long prompt
 *      delays the decoding requests by one chunk per step, not by the whole prompt).
 *
 * Reuse must never change tokens: a prefix is reused only if a fresh run of the new
 * prompt would have computed the same keys — same rotary table (positions computed
 * in runs wider than the graph's switch use the long-factor table; a fresh prompt
 * wider than the switch uses it everywhere) — see usable(). */
#include "scheduler/sched.h"
#include "common/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Prefill chunks (docs/scheduler.md has the measurements behind these):
 * - nothing decoding: prompts run DEFAULT_PREFILL_CHUNK tokens at a time (large enough
 *   to be compute-bound, small enough that a newly admitted request waits one chunk);
 * - requests decoding: a decode step and a prompt chunk cannot share an ORT run
 *   (GroupQueryAttention takes several tokens per row only with one row), so the two
 *   alternate, and the chunk is sized from measured times so that it takes about
 *   CHUNK_SHARE decode steps: the decoding requests keep 1 / (1 + CHUNK_SHARE) of their
 *   rate (44 %) and the prompt advances at the rest. */
#define DEFAULT_PREFILL_CHUNK 256
#define CHUNK_SHARE 1.25
#define MIN_CHUNK 4

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

onnxllm_scheduler_params onnxllm_scheduler_default_params(void) {
    return (onnxllm_scheduler_params){
        .n_slots = 4,
        .max_queue = 64,
        .prefill_chunk = 0,
        .kv_budget_bytes = 0,
        .min_reuse = 16,
        .cache_dir = NULL,
        .cache_dir_max_bytes = (uint64_t)8 << 30,
    };
}

onnxllm_request_params onnxllm_request_default_params(void) {
    onnxllm_request_params p = {0};
    p.sampler = onnxllm_sampler_greedy_params();
    p.max_new_tokens = 256;
    return p;
}

static uint64_t mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

static void *loop(void *arg);

/* ---- creation ----------------------------------------------------------------------*/

onnxllm_status onnxllm_scheduler_create(onnxllm_model *m, const onnxllm_scheduler_params *params,
                                        onnxllm_scheduler **out, onnxllm_error *err) {
    if (!out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "scheduler: out is NULL");
    *out = NULL;
    onnxllm_scheduler_params p = params ? *params : onnxllm_scheduler_default_params();
    if (!m) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "scheduler: no model");
    if (p.n_slots < 1 || p.n_slots > OLM_SLAB_MAX_SLOTS)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "scheduler: n_slots must be in [1, %d] (got %d)",
                        OLM_SLAB_MAX_SLOTS, p.n_slots);
    if (p.max_queue < 0 || p.prefill_chunk < 0 || p.min_reuse < 0)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                        "scheduler: max_queue, prefill_chunk and min_reuse must be >= 0");
    if (!p.prefill_chunk) p.prefill_chunk = DEFAULT_PREFILL_CHUNK;
    onnxllm_scheduler *s = calloc(1, sizeof *s);
    if (!s) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "scheduler: out of memory");
    s->m = m;
    s->p = p;
    s->p.cache_dir = NULL; /* not kept: the disk cache copies it */
    s->n_slots = p.n_slots;
    s->sw = m->rope_switch > 0 ? m->rope_switch : m->rope_switch == 0 ? INT64_MAX : -1;
    s->batchable = !m->dev_alloc && m->shared_kv && s->sw >= 0;
    s->slab.fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->done_cv, NULL);
    onnxllm_status st = ONNXLLM_OK;
    s->slots = calloc((size_t)s->n_slots, sizeof *s->slots);
    if (!s->slots) st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "scheduler: out of memory");
    if (!st && s->batchable) st = olm_slab_init(m, &s->slab, s->n_slots, err);
    if (!st && s->batchable) st = olm_batch_init(m, &s->slab, &s->batch, err);
    for (int i = 0; i < s->n_slots && !st; i++) {
        s->slots[i].idx = i;
        st = s->batchable ? olm_sequence_create_in_slab(m, &s->slab, i, &s->slots[i].seq, err)
                          : onnxllm_sequence_create(m, &s->slots[i].seq, err);
    }
    if (st) goto fail;
    /* The KV budget, in positions (every layer's K and V of one token). */
    size_t elem = m->io.kv_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ? 4 : 2;
    uint64_t pos_bytes = 2ull * (uint64_t)m->cfg.num_hidden_layers * (uint64_t)m->cfg.num_key_value_heads *
                         (uint64_t)m->cfg.head_size * elem;
    uint64_t all = (uint64_t)s->n_slots * (uint64_t)m->max_length * pos_bytes;
    uint64_t budget = p.kv_budget_bytes;
    if (!budget) {
        budget = mem_available() / 2;
        if (!budget || budget > all) budget = all;
    }
    s->budget_pos = budget / pos_bytes;
    if (s->budget_pos < 2) {
        st = olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                      "scheduler: a KV budget of %llu bytes holds no sequence (%llu bytes per position)",
                      (unsigned long long)budget, (unsigned long long)pos_bytes);
        goto fail;
    }
    if (params && params->cache_dir) {
        if (!s->batchable) {
            st = olm_fail(err, ONNXLLM_ERR_UNSUPPORTED,
                          "scheduler: the persistent prefix cache needs the CPU provider and a shared KV buffer");
            goto fail;
        }
        st = olm_disk_open(&s->disk, params->cache_dir, p.cache_dir_max_bytes, m, &s->slab, err);
        if (st) goto fail;
        s->disk_on = true;
    }
    olm_metrics_init(&s->mt, m->max_length);
    s->st.n_slots = s->n_slots;
    s->st.kv_budget_bytes = s->budget_pos * pos_bytes;
    if (pthread_create(&s->thread, NULL, loop, s) != 0) {
        st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "scheduler: cannot start its thread: %s", strerror(errno));
        goto fail;
    }
    s->thread_started = true;
    *out = s;
    return ONNXLLM_OK;
fail:
    onnxllm_scheduler_free(s);
    return st;
}

/* ---- requests ----------------------------------------------------------------------*/

onnxllm_status onnxllm_scheduler_submit(onnxllm_scheduler *s, const onnxllm_request_params *p,
                                        onnxllm_request **out, onnxllm_error *err) {
    if (!out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "submit: out is NULL");
    *out = NULL;
    if (!s || !p) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "submit: no scheduler or parameters");
    const onnxllm_model *m = s->m;
    if (!p->prompt || p->n_prompt == 0) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "submit: the prompt is empty");
    if (p->max_new_tokens < 1)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "submit: max_new_tokens must be >= 1 (got %d)",
                        p->max_new_tokens);
    for (size_t i = 0; i < p->n_prompt; i++)
        if (p->prompt[i] < 0 || p->prompt[i] >= m->cfg.vocab_size)
            return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "submit: token id %d at position %zu is outside [0, %d)",
                            p->prompt[i], i, m->cfg.vocab_size);
    uint64_t need = (uint64_t)p->n_prompt + (uint64_t)p->max_new_tokens;
    if (need > (uint64_t)m->max_length)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                        "the prompt (%zu tokens) plus max_new_tokens (%d) exceeds the context of %d tokens",
                        p->n_prompt, p->max_new_tokens, m->max_length);
    if (need > s->budget_pos)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                        "the prompt (%zu tokens) plus max_new_tokens (%d) exceeds the KV budget of %llu tokens",
                        p->n_prompt, p->max_new_tokens, (unsigned long long)s->budget_pos);
    onnxllm_request *r = calloc(1, sizeof *r);
    if (r) r->prompt = malloc(p->n_prompt * sizeof *r->prompt);
    if (!r || !r->prompt) {
        if (r) free(r);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "submit: out of memory");
    }
    memcpy(r->prompt, p->prompt, p->n_prompt * sizeof *r->prompt);
    r->p = *p;
    r->p.prompt = r->prompt;
    r->p.forced = NULL;
    r->p.n_forced = 0;
    if (p->forced && p->n_forced) {
        bool ok = (r->forced = malloc(p->n_forced * sizeof *r->forced)) != NULL;
        for (size_t i = 0; ok && i < p->n_forced; i++) ok = p->forced[i] >= 0 && p->forced[i] < m->cfg.vocab_size;
        if (!ok) {
            free(r->forced);
            free(r->prompt);
            free(r);
            return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "submit: a forced token is outside [0, %d)",
                            m->cfg.vocab_size);
        }
        memcpy(r->forced, p->forced, p->n_forced * sizeof *r->forced);
        r->p.forced = r->forced;
        r->p.n_forced = p->n_forced;
    }
    r->s = s;
    atomic_init(&r->cancel, false);
    atomic_init(&r->slot, -1);
    if (p->matcher) {
        /* The mask must cover exactly the model's ids: a larger grammar vocabulary could
         * force an id the model does not have, a smaller one would hide tokens. */
        size_t w = onnxllm_matcher_mask_words(p->matcher), want = ((size_t)m->cfg.vocab_size + 31) / 32;
        if (w != want || onnxllm_matcher_is_finished(p->matcher) || !(r->mask = malloc(w * sizeof *r->mask))) {
            free(r->forced);
            free(r->prompt);
            free(r);
            if (w != want)
                return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                                "submit: the matcher's grammar is over %zu ids, the model has %d (build the grammar "
                                "vocabulary with the model's vocabulary size)",
                                w * 32, m->cfg.vocab_size);
            if (onnxllm_matcher_is_finished(p->matcher))
                return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "submit: the matcher's output is already finished");
            return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "submit: out of memory");
        }
        r->mask_words = w;
    }
    onnxllm_status st = onnxllm_sampler_create(&p->sampler, m->cfg.vocab_size, &r->smp, err);
    if (st) {
        free(r->mask);
        free(r->forced);
        free(r->prompt);
        free(r);
        return st;
    }
    r->t_submit = now_ms();
    r->result.n_prompt = (int)p->n_prompt;
    r->sched_ref = true;
    pthread_mutex_lock(&s->mu);
    if (s->stopping) st = olm_fail(err, ONNXLLM_ERR_CANCELLED, "the scheduler is shutting down");
    else if (s->n_waiting >= s->p.max_queue + (s->n_slots - s->n_running)) {
        s->st.requests_refused++;
        st = olm_fail(err, ONNXLLM_ERR_OVERLOADED, "server busy: %d requests running and %d waiting (max_queue %d)",
                      s->n_running, s->n_waiting, s->p.max_queue);
    }
    if (!st) {
        *out = r; /* before the scheduler thread can see it: callbacks may use it */
        r->all_next = s->all;
        if (s->all) s->all->all_prev = r;
        s->all = r;
        r->state = REQ_WAITING;
        if (s->wait_tail) s->wait_tail->next = r;
        else s->wait_head = r;
        s->wait_tail = r;
        s->n_waiting++;
        pthread_cond_signal(&s->work);
    }
    pthread_mutex_unlock(&s->mu);
    if (st) {
        onnxllm_sampler_free(r->smp);
        free(r->mask);
        free(r->forced);
        free(r->prompt);
        free(r);
        return st;
    }
    return ONNXLLM_OK;
}

void onnxllm_request_cancel(onnxllm_request *r) {
    if (!r) return;
    atomic_store(&r->cancel, true);
    onnxllm_scheduler *s = r->s;
    if (!s) return;
    /* Terminate a prompt run in flight. The slot may have changed hands since it was
     * read: the other request then sees a cancelled run without its own flag and
     * simply runs the chunk again. */
    int sl = atomic_load(&r->slot);
    if (sl >= 0) onnxllm_sequence_cancel(s->slots[sl].seq);
    pthread_mutex_lock(&s->mu);
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
}

void onnxllm_request_wait(onnxllm_request *r, onnxllm_request_result *out) {
    if (!r) {
        if (out) memset(out, 0, sizeof *out);
        return;
    }
    onnxllm_scheduler *s = r->s;
    if (s) {
        pthread_mutex_lock(&s->mu);
        s->users++;
        while (!r->done) pthread_cond_wait(&s->done_cv, &s->mu);
        s->users--;
        pthread_cond_broadcast(&s->done_cv);
        pthread_mutex_unlock(&s->mu);
    }
    if (out) *out = r->result;
}

/* Unlinks (under mu, held by the caller when s is set) and frees. */
static void request_destroy(onnxllm_scheduler *s, onnxllm_request *r) {
    if (s) {
        if (r->all_prev) r->all_prev->all_next = r->all_next;
        else s->all = r->all_next;
        if (r->all_next) r->all_next->all_prev = r->all_prev;
    }
    onnxllm_sampler_free(r->smp);
    free(r->mask);
    free(r->forced);
    free(r->prompt);
    free(r);
}

void onnxllm_request_free(onnxllm_request *r) {
    if (!r) return;
    onnxllm_scheduler *s = r->s;
    if (s) {
        if (s->thread_started && pthread_equal(pthread_self(), s->thread)) {
            /* From one of its own callbacks: the scheduler frees it when it is done. */
            atomic_store(&r->cancel, true);
            pthread_mutex_lock(&s->mu);
            if (r->sched_ref) r->user_freed = true;
            else request_destroy(s, r);
            pthread_mutex_unlock(&s->mu);
            return;
        }
        onnxllm_request_cancel(r);
        pthread_mutex_lock(&s->mu);
        s->users++;
        while (r->sched_ref) pthread_cond_wait(&s->done_cv, &s->mu);
        s->users--;
        request_destroy(s, r);
        pthread_cond_broadcast(&s->done_cv);
        pthread_mutex_unlock(&s->mu);
        return;
    }
    request_destroy(NULL, r);
}

/* ---- slots --------------------------------------------------------------------------*/

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Positions the budget counts for a slot: a running request may grow to its prompt +
 * max_new_tokens; an idle slot holds what was written. */
static uint64_t slot_positions(const olm_slot *sl) {
    if (sl->state == SLOT_BUSY) {
        uint64_t need = sl->req->p.n_prompt + (uint64_t)sl->req->p.max_new_tokens;
        return need > (uint64_t)sl->hw ? need : (uint64_t)sl->hw;
    }
    return (uint64_t)sl->hw;
}

static uint64_t total_positions(const onnxllm_scheduler *s) {
    uint64_t t = 0;
    for (int i = 0; i < s->n_slots; i++) t += slot_positions(&s->slots[i]);
    return t;
}

/* The prefix of prompt[0, n) that slot sl can serve without changing any result:
 * tokens equal, KV computed, at least one prompt token left to run (for its logits),
 * and keys computed with the rotary table a fresh run of the prompt would use. */
static int64_t usable(const onnxllm_scheduler *s, const olm_slot *sl, const int32_t *prompt, int64_t n) {
    if (sl->state == SLOT_FREE || s->sw < 0) return 0;
    const onnxllm_sequence *q = sl->seq;
    int64_t lim = min64((int64_t)q->n_computed, n - 1), k = 0;
    while (k < lim && q->tokens[k] == prompt[k]) k++;
    if (n > s->sw) return sl->n_short == 0 ? k : 0; /* a fresh run is long everywhere */
    return min64(k, sl->n_short);
}

/* After a run computed positions [a, b) of a slot with width b. */
static void note_run(olm_slot *sl, int64_t a, int64_t b, int64_t sw) {
    if (b > sl->hw) sl->hw = b;
    if (b > sw) {
        if (a == 0) sl->n_short = 0; /* everything long (a fresh prompt past the switch, a recompute) */
        else if (sl->n_short > a) sl->n_short = a;
    } else if (sl->n_short >= a) {
        sl->n_short = b;
    }
}

/* Empties a slot (its KV pages go back to the kernel), saving it to cache_dir first
 * when it holds something worth keeping that is not on disk already. */
static void evict(onnxllm_scheduler *s, olm_slot *sl) {
    onnxllm_sequence *q = sl->seq;
    if (s->disk_on && sl->state == SLOT_IDLE && q->n_computed >= (size_t)(s->p.min_reuse > 1 ? s->p.min_reuse : 1)) {
        olm_disk_save(&s->disk, &s->slab, sl->idx, q->tokens, (int64_t)q->n_computed, (int64_t)q->n_computed,
                      sl->n_short);
        pthread_mutex_lock(&s->mu);
        s->st.disk_writes++;
        pthread_mutex_unlock(&s->mu);
    }
    olm_sequence_keep(q, 0);
    if (s->batchable) olm_slab_release(&s->slab, sl->idx);
    sl->hw = 0;
    sl->n_short = 0;
    sl->state = SLOT_FREE;
}

typedef enum { PLAN_NONE, PLAN_KEEP, PLAN_COPY, PLAN_DISK } plan_kind;
#define LOST_SLACK 256
typedef struct {
    olm_slot *target;
    plan_kind kind;
    int src;                      /* slot (COPY) or disk entry (DISK) */
    int64_t n;                    /* positions reused */
} plan_t;

/* Picks the slot for r and how to fill it; evicts idle slots when the budget needs it.
 * false: no slot can take r now (all busy, or the budget is held by running requests). */
static bool choose(onnxllm_scheduler *s, onnxllm_request *r, plan_t *pl) {
    int64_t T = (int64_t)r->p.n_prompt;
    int64_t P[OLM_SLAB_MAX_SLOTS];
    for (int i = 0; i < s->n_slots; i++) P[i] = usable(s, &s->slots[i], r->prompt, T);
    int disk_i = -1;
    int64_t dP = s->disk_on && s->sw >= 0 ? olm_disk_match(&s->disk, r->prompt, T, s->sw, &disk_i) : 0;
    int64_t min_copy = s->p.min_reuse > 0 ? s->p.min_reuse : 1;
    memset(pl, 0, sizeof *pl);
    int64_t best_lost = 0;
    bool best_copy = false;
    for (int t = 0; t < s->n_slots; t++) {
        olm_slot *sl = &s->slots[t];
        if (sl->state == SLOT_BUSY) continue;
        plan_t c = {sl, PLAN_NONE, -1, 0};
        /* Reusing an idle slot in place: worth it when the reuse is at least what a copy
         * would need, or little else is cached there. A few shared tokens (a chat
         * template's opening) must not cost another conversation its cache. */
        if (sl->state == SLOT_IDLE && P[t] > 0 && (P[t] >= min_copy || (int64_t)sl->seq->n_computed - P[t] <= LOST_SLACK))
            c = (plan_t){sl, PLAN_KEEP, -1, P[t]};
        for (int o = 0; o < s->n_slots; o++)
            if (o != t && P[o] >= min_copy && P[o] > c.n) c = (plan_t){sl, PLAN_COPY, o, P[o]};
        if (disk_i >= 0 && dP >= min_copy && dP > c.n) c = (plan_t){sl, PLAN_DISK, disk_i, dP};
        /* What filling this slot destroys: an idle slot's cached positions past the
         * reused prefix (a tail of up to LOST_SLACK tokens — typically the end of the
         * previous answer — is not worth a copy elsewhere). Then prefer no copy, then
         * the least recently used slot. */
        int64_t lost = sl->state == SLOT_IDLE ? (int64_t)sl->seq->n_computed - (c.kind == PLAN_KEEP ? c.n : 0) : 0;
        if (c.kind == PLAN_KEEP && lost <= LOST_SLACK) lost = 0;
        bool copy = c.kind == PLAN_COPY || c.kind == PLAN_DISK;
        bool better = !pl->target || c.n > pl->n ||
                      (c.n == pl->n && (lost < best_lost ||
                                        (lost == best_lost && (copy < best_copy ||
                                                               (copy == best_copy && sl->last_used < pl->target->last_used)))));
        if (better) {
            *pl = c;
            best_lost = lost;
            best_copy = copy;
        }
    }
    if (!pl->target) return false;
    /* Budget: the target's content is replaced by this request's reservation. */
    uint64_t need = (uint64_t)T + (uint64_t)r->p.max_new_tokens;
    for (;;) {
        uint64_t used = total_positions(s) - slot_positions(pl->target);
        if (used + (need > (uint64_t)pl->target->hw ? need : (uint64_t)pl->target->hw) <= s->budget_pos) break;
        olm_slot *victim = NULL;
        for (int i = 0; i < s->n_slots; i++) {
            olm_slot *sl = &s->slots[i];
            if (sl->state != SLOT_IDLE || sl == pl->target || (pl->kind == PLAN_COPY && i == pl->src)) continue;
            if (!victim || sl->last_used < victim->last_used) victim = sl;
        }
        if (victim) {
            evict(s, victim);
            continue;
        }
        /* Nothing idle left but the target itself: start it from scratch if that fits. */
        if (pl->target->state == SLOT_IDLE && pl->target->hw > 0 && used + need <= s->budget_pos) {
            if (pl->kind != PLAN_KEEP) evict(s, pl->target);
            else break;
            continue;
        }
        return false;
    }
    return true;
}

/* Fills the target slot per the plan (scheduler thread, no lock held). */
static void apply_plan(onnxllm_scheduler *s, onnxllm_request *r, plan_t *pl) {
    olm_slot *t = pl->target;
    onnxllm_sequence *q = t->seq;
    if (pl->kind != PLAN_KEEP && t->state == SLOT_IDLE) evict(s, t); /* its prefix is lost: save it first */
    if (pl->kind == PLAN_DISK) {
        /* Evictions may have written (and reordered) cache entries since the match. */
        int i = -1;
        int64_t n = olm_disk_match(&s->disk, r->prompt, (int64_t)r->p.n_prompt, s->sw, &i);
        if (i < 0 || n < pl->n) pl->kind = PLAN_NONE;
        else pl->src = i;
    }
    switch (pl->kind) {
    case PLAN_KEEP:
        olm_sequence_keep(q, (size_t)pl->n);
        if (t->n_short > pl->n) t->n_short = pl->n;
        break;
    case PLAN_COPY: {
        olm_slot *src = &s->slots[pl->src];
        olm_slab_copy(&s->slab, t->idx, src->idx, pl->n);
        olm_sequence_keep(q, 0);
        memcpy(q->tokens, src->seq->tokens, (size_t)pl->n * sizeof *q->tokens);
        q->n_tokens = q->n_computed = (size_t)pl->n;
        q->cache_long = src->seq->cache_long;
        t->n_short = min64(src->n_short, pl->n);
        if (pl->n > t->hw) t->hw = pl->n;
        break;
    }
    case PLAN_DISK: {
        olm_sequence_keep(q, 0);
        const olm_disk_entry *e = &s->disk.e[pl->src];
        int64_t n = pl->n, n_short = e->n_short;
        memcpy(q->tokens, e->tokens, (size_t)n * sizeof *q->tokens);
        if (olm_disk_load(&s->disk, pl->src, &s->slab, t->idx, n)) {
            q->n_tokens = q->n_computed = (size_t)n;
            q->cache_long = s->m->rope_threshold && n_short == 0 && (int64_t)s->m->rope_threshold <= n;
            t->n_short = min64(n_short, n);
            if (n > t->hw) t->hw = n;
            pthread_mutex_lock(&s->mu);
            s->st.disk_loads++;
            pthread_mutex_unlock(&s->mu);
        } else {
            olm_sequence_keep(q, 0);
            pl->n = 0;
        }
        break;
    }
    case PLAN_NONE:
        olm_sequence_keep(q, 0);
        t->n_short = 0;
        break;
    }
    if (q->n_tokens == 0) t->n_short = 0;
    r->n_cached = (int)q->n_computed;
}

/* ---- finishing -----------------------------------------------------------------------*/

static const char *finish_label(onnxllm_stop_reason stop) {
    switch (stop) {
    case ONNXLLM_STOP_EOS:
    case ONNXLLM_STOP_CALLBACK: return "stop";
    case ONNXLLM_STOP_MAX_TOKENS:
    case ONNXLLM_STOP_MAX_LENGTH: return "length";
    default: return "abort";
    }
}

static void finish(onnxllm_scheduler *s, onnxllm_request *r, onnxllm_stop_reason stop, onnxllm_status status,
                   const onnxllm_error *e) {
    double t = now_ms();
    int sl = atomic_load(&r->slot);
    if (sl >= 0) {
        olm_slot *slot = &s->slots[sl];
        slot->state = SLOT_IDLE;
        slot->req = NULL;
        slot->last_used = ++s->clock;
        if (slot->seq->n_computed == 0) {
            olm_sequence_keep(slot->seq, 0);
            slot->state = slot->hw ? SLOT_IDLE : SLOT_FREE;
        }
        atomic_store(&r->slot, -1);
    }
    onnxllm_request_result *res = &r->result;
    res->status = status;
    if (status && e) res->error = *e;
    else if (status) olm_fail(&res->error, status, "%s", onnxllm_status_name(status));
    res->stop = stop;
    res->n_cached = r->n_cached;
    res->n_generated = r->n_generated;
    if (!r->t_admit) r->t_admit = t;
    res->queue_ms = r->t_admit - r->t_submit;
    res->ttft_ms = r->t_first ? r->t_first - r->t_submit : 0;
    res->prefill_ms = r->t_first ? r->t_first - r->t_admit : t - r->t_admit;
    res->decode_ms = r->t_first ? r->t_last - r->t_first : 0;
    res->total_ms = t - r->t_submit;
    pthread_mutex_lock(&s->mu);
    if (r->state != REQ_WAITING) s->n_running--;
    r->state = REQ_DONE;
    s->st.requests_finished++;
    olm_hist_add(&s->mt.h[OLM_H_E2E], res->total_ms / 1e3);
    olm_hist_add(&s->mt.h[OLM_H_PROMPT], res->n_prompt);
    olm_hist_add(&s->mt.h[OLM_H_GEN], res->n_generated);
    if (status && status != ONNXLLM_ERR_CANCELLED) s->mt.finished_error++;
    else if (!strcmp(finish_label(stop), "stop")) s->mt.finished_stop++;
    else if (!strcmp(finish_label(stop), "length")) s->mt.finished_length++;
    else s->mt.finished_abort++;
    pthread_mutex_unlock(&s->mu);
    if (r->p.on_done) r->p.on_done(res, r->p.user);
    pthread_mutex_lock(&s->mu);
    r->done = true;
    r->sched_ref = false;
    if (r->user_freed) request_destroy(s, r);
    pthread_cond_broadcast(&s->done_cv);
    pthread_mutex_unlock(&s->mu);
}

static void finish_cancelled(onnxllm_scheduler *s, onnxllm_request *r) {
    onnxllm_error e = {0};
    olm_fail(&e, ONNXLLM_ERR_CANCELLED, "cancelled");
    finish(s, r, ONNXLLM_STOP_CANCELLED, ONNXLLM_ERR_CANCELLED, &e);
}

static void set_state(onnxllm_scheduler *s, onnxllm_request *r, olm_req_state st);

/* Hands a chosen token to the caller: metrics, the sequence (pending), on_token, and
 * whether the request goes on. false: it finished. */
static bool deliver(onnxllm_scheduler *s, onnxllm_request *r, onnxllm_sequence *q, int32_t tok) {
    const onnxllm_model *m = s->m;
    double t = now_ms();
    pthread_mutex_lock(&s->mu);
    if (!r->t_first) {
        r->t_first = t;
        olm_hist_add(&s->mt.h[OLM_H_TTFT], (t - r->t_submit) / 1e3);
    } else {
        olm_hist_add(&s->mt.h[OLM_H_ITL], (t - r->t_last) / 1e3);
    }
    s->st.generation_tokens++;
    pthread_mutex_unlock(&s->mu);
    r->t_last = t;
    r->n_generated++;
    if (q->n_tokens < (size_t)m->max_length) olm_sequence_push(q, tok);
    bool go = r->p.on_token ? r->p.on_token(tok, r->p.user) : true;
    onnxllm_stop_reason stop = ONNXLLM_STOP_NONE;
    /* a finished grammar output ends the request whatever ignore_eos says */
    if (onnxllm_model_is_eos(m, tok) && (!r->p.sampler.ignore_eos || r->p.matcher)) stop = ONNXLLM_STOP_EOS;
    else if (!go) stop = ONNXLLM_STOP_CALLBACK;
    else if (r->n_generated >= r->p.max_new_tokens) stop = ONNXLLM_STOP_MAX_TOKENS;
    else if (q->n_tokens >= (size_t)m->max_length) stop = ONNXLLM_STOP_MAX_LENGTH;
    if (stop) {
        finish(s, r, stop, ONNXLLM_OK, NULL);
        return false;
    }
    if (atomic_load(&r->cancel)) {
        finish_cancelled(s, r);
        return false;
    }
    return true;
}

static bool grammar_failed(onnxllm_scheduler *s, onnxllm_request *r, onnxllm_status st, const onnxllm_error *e) {
    finish(s, r, ONNXLLM_STOP_NONE, st, e);
    return false;
}

/* Forced tokens gathered into one run at most (a tool call's fixed text: `", "arguments": {"`). */
#define FORCED_RUN_MAX 32

/* Samples the next token from logits, hands it to the caller and decides whether the
 * request goes on. true: still running (the token, and any the grammar forces after
 * it, pending in its sequence). */
static bool emit(onnxllm_scheduler *s, onnxllm_request *r, const float *logits) {
    olm_slot *sl = &s->slots[atomic_load(&r->slot)];
    onnxllm_sequence *q = sl->seq;
    const onnxllm_model *m = s->m;
    onnxllm_matcher *mt = r->p.matcher;
    onnxllm_error e = {0};
    onnxllm_status st;
    int32_t tok;
    if (r->n_generated < (int)r->p.n_forced) {
        tok = r->p.forced[r->n_generated];
    } else if (mt) {
        if (!r->mask_ready && (st = onnxllm_matcher_fill_mask(mt, r->mask, r->mask_words, &e)))
            return grammar_failed(s, r, st, &e);
        tok = onnxllm_sampler_sample_masked(r->smp, logits, m->cfg.vocab_size, r->mask, r->mask_words, q->tokens,
                                            q->n_tokens);
        if (tok < 0) { /* cannot happen: a matcher's mask is never empty before the end */
            olm_fail(&e, ONNXLLM_ERR_INTERNAL, "the grammar allows no token");
            return grammar_failed(s, r, ONNXLLM_ERR_INTERNAL, &e);
        }
    } else {
        tok = onnxllm_sampler_sample(r->smp, logits, m->cfg.vocab_size, q->tokens, q->n_tokens);
    }
    r->mask_ready = false;
    if (mt && (st = onnxllm_matcher_accept(mt, tok, &e))) return grammar_failed(s, r, st, &e);
    if (!deliver(s, r, q, tok)) return false;
    if (!mt || r->n_generated < (int)r->p.n_forced) return true;
    /* Tokens the grammar forces (one allowed, not eos) skip the sampler and are
     * computed together by the prefill phase, in one run. The run stays on one side
     * of the rotary switch and below the LongRoPE threshold (decode handles those). */
    int k = 0;
    for (;;) {
        if ((st = onnxllm_matcher_fill_mask(mt, r->mask, r->mask_words, &e))) return grammar_failed(s, r, st, &e);
        r->mask_ready = true;
        int32_t one = onnxllm_mask_single(r->mask, r->mask_words);
        if (one < 0 || onnxllm_model_is_eos(m, one) || k >= FORCED_RUN_MAX) break;
        int64_t n = (int64_t)q->n_tokens; /* after pushing `one`: n + 1 tokens */
        if (s->sw < 0 || (m->rope_threshold && n + 1 >= m->rope_threshold)) break;
        /* the run's first new token sees n_computed + 1 positions, its last n + 1 */
        if (s->sw != INT64_MAX && (int64_t)q->n_computed + 1 <= s->sw && n + 1 > s->sw) break;
        if ((st = onnxllm_matcher_accept(mt, one, &e))) return grammar_failed(s, r, st, &e);
        r->mask_ready = false;
        if (!deliver(s, r, q, one)) return false;
        k++;
    }
    if (k > 0) {
        r->forced_run = true;
        set_state(s, r, REQ_PREFILL);
    }
    return true;
}

/* ---- the three phases -------------------------------------------------------------*/

static void admit(onnxllm_scheduler *s) {
    for (;;) {
        /* Drop cancelled waiters; look at the head. */
        onnxllm_request *dropped = NULL, *r;
        pthread_mutex_lock(&s->mu);
        for (onnxllm_request **pp = &s->wait_head; *pp;) {
            onnxllm_request *w = *pp;
            if (atomic_load(&w->cancel) || s->stopping) {
                *pp = w->next;
                if (s->wait_tail == w) s->wait_tail = NULL;
                s->n_waiting--;
                w->next = dropped;
                dropped = w;
            } else {
                pp = &w->next;
            }
        }
        if (!s->wait_tail)
            for (onnxllm_request *w = s->wait_head; w; w = w->next) s->wait_tail = w;
        r = s->wait_head;
        pthread_mutex_unlock(&s->mu);
        while (dropped) {
            onnxllm_request *n = dropped->next;
            finish_cancelled(s, dropped);
            dropped = n;
        }
        plan_t pl;
        if (!r || !choose(s, r, &pl)) return;
        pthread_mutex_lock(&s->mu);
        s->wait_head = r->next;
        if (s->wait_tail == r) s->wait_tail = NULL;
        r->next = NULL;
        s->n_waiting--;
        s->n_running++;
        r->state = REQ_PREFILL;
        pthread_mutex_unlock(&s->mu);
        olm_slot *t = pl.target;
        /* A cancel aimed at the slot's previous request may still be pending on its
         * sequence: it must not stop this one (r's own cancel is r->cancel). */
        onnxllm_sequence_cancel_reset(t->seq);
        apply_plan(s, r, &pl);
        t->state = SLOT_BUSY;
        t->req = r;
        t->last_used = ++s->clock;
        atomic_store(&r->slot, t->idx);
        r->t_admit = now_ms();
        pthread_mutex_lock(&s->mu);
        olm_hist_add(&s->mt.h[OLM_H_QUEUE], (r->t_admit - r->t_submit) / 1e3);
        s->st.prefix_queries += r->p.n_prompt;
        s->st.prefix_hits += (uint64_t)r->n_cached;
        s->st.prompt_tokens += r->p.n_prompt;
        pthread_mutex_unlock(&s->mu);
        if (r->p.on_admit) r->p.on_admit(r->n_cached, r->p.user);
    }
}

static void set_state(onnxllm_scheduler *s, onnxllm_request *r, olm_req_state st) {
    pthread_mutex_lock(&s->mu);
    r->state = st;
    pthread_mutex_unlock(&s->mu);
}

static void fail_request(onnxllm_scheduler *s, onnxllm_request *r, onnxllm_status st, const onnxllm_error *e) {
    if (st == ONNXLLM_ERR_CANCELLED || atomic_load(&r->cancel)) finish_cancelled(s, r);
    else finish(s, r, ONNXLLM_STOP_NONE, st, e);
}

static void decode(onnxllm_scheduler *s) {
    onnxllm_sequence *seqs[2][OLM_SLAB_MAX_SLOTS];
    int slots[2][OLM_SLAB_MAX_SLOTS], n[2] = {0, 0};
    const onnxllm_model *m = s->m;
    for (int i = 0; i < s->n_slots; i++) {
        olm_slot *sl = &s->slots[i];
        if (sl->state != SLOT_BUSY || sl->req->state != REQ_DECODE) continue;
        onnxllm_request *r = sl->req;
        if (atomic_load(&r->cancel)) {
            finish_cancelled(s, r);
            continue;
        }
        onnxllm_sequence *q = sl->seq;
        /* genai's LongRoPE rewind: at the threshold the whole cache is recomputed in one
         * run with the long table — a prompt-sized run, done by the prefill phase. */
        if (m->rope_threshold && q->n_tokens == (size_t)m->rope_threshold && !q->cache_long) {
            r->recompute = true;
            set_state(s, r, REQ_PREFILL);
            continue;
        }
        int side = (int64_t)q->n_tokens > s->sw;
        seqs[side][n[side]] = q;
        slots[side][n[side]++] = i;
    }
    s->n_decoding = n[0] + n[1];
    double t0 = now_ms();
    for (int side = 0; side < 2; side++) {
        if (!n[side]) continue;
        onnxllm_error e = {0};
        if (s->batchable) {
            onnxllm_status st = olm_batch_decode(&s->batch, seqs[side], slots[side], n[side], &e);
            for (int k = 0; k < n[side]; k++) {
                olm_slot *sl = &s->slots[slots[side][k]];
                onnxllm_request *r = sl->req;
                if (st) {
                    fail_request(s, r, st, &e);
                    continue;
                }
                note_run(sl, (int64_t)sl->seq->n_tokens - 1, (int64_t)sl->seq->n_tokens, s->sw);
                emit(s, r, olm_batch_logits(&s->batch, k));
            }
        } else {
            for (int k = 0; k < n[side]; k++) {
                olm_slot *sl = &s->slots[slots[side][k]];
                onnxllm_request *r = sl->req;
                onnxllm_status st = onnxllm_sequence_append(sl->seq, NULL, 0, &e);
                if (st == ONNXLLM_ERR_CANCELLED && !atomic_load(&r->cancel)) continue; /* not ours: next step */
                if (st) {
                    fail_request(s, r, st, &e);
                    continue;
                }
                note_run(sl, (int64_t)sl->seq->n_tokens - 1, (int64_t)sl->seq->n_tokens, s->sw);
                emit(s, r, onnxllm_sequence_logits(sl->seq));
            }
        }
    }
    if (s->n_decoding) {
        double dt = now_ms() - t0;
        s->step_ms = s->step_ms > 0 ? 0.8 * s->step_ms + 0.2 * dt : dt;
    }
}

static void prefill(onnxllm_scheduler *s) {
    olm_slot *sl = NULL;
    for (int i = 0; i < s->n_slots; i++) {
        olm_slot *c = &s->slots[i];
        if (c->state == SLOT_BUSY && c->req->state == REQ_PREFILL &&
            (!sl || c->req->t_admit < sl->req->t_admit))
            sl = c;
    }
    if (!sl) return;
    onnxllm_request *r = sl->req;
    onnxllm_sequence *q = sl->seq;
    if (atomic_load(&r->cancel)) {
        finish_cancelled(s, r);
        return;
    }
    onnxllm_error e = {0};
    onnxllm_status st;
    int64_t T = (int64_t)r->p.n_prompt, a = 0;
    bool recompute = r->recompute, forced = r->forced_run;
    if (recompute) {
        q->n_computed = 0; /* the whole cache again, in one run (genai's LongRoPE rewind) */
        q->logits_valid = false;
        st = onnxllm_sequence_append(q, NULL, 0, &e);
    } else if (forced) { /* tokens the grammar forced (emit): pending, computed in one run */
        a = (int64_t)q->n_computed;
        st = onnxllm_sequence_append(q, NULL, 0, &e);
    } else {
        a = (int64_t)q->n_tokens;
        int64_t k = s->p.prefill_chunk;
        if (s->n_decoding && !s->chunk_k && s->tok_ms > 0 && s->step_ms > 0) /* first guess */
            s->chunk_k = (int64_t)(CHUNK_SHARE * s->step_ms / s->tok_ms) + 1;
        if (s->n_decoding && s->chunk_k > 0 && s->chunk_k < k) k = s->chunk_k;
        if (k < MIN_CHUNK && s->p.prefill_chunk >= MIN_CHUNK) k = MIN_CHUNK;
        /* Past the switch a fresh run computes every key with the long table: the
         * first run must already be wider than the switch. */
        if (T > s->sw && a + k <= s->sw) k = s->sw + 1 - a;
        if (a + k > T) k = T - a;
        double t0 = now_ms();
        st = onnxllm_sequence_append(q, r->prompt + a, (size_t)k, &e);
        double dt = now_ms() - t0;
        /* Steer the next chunk towards CHUNK_SHARE decode steps (only while others
         * decode; only from chunks that were not cut short by the prompt's end). */
        bool full = k >= (s->n_decoding && s->chunk_k > 0 ? s->chunk_k : s->p.prefill_chunk);
        if (!st && full && k >= 32) s->tok_ms = s->tok_ms > 0 ? 0.7 * s->tok_ms + 0.3 * dt / (double)k : dt / (double)k;
        if (!st && full && s->n_decoding && s->step_ms > 0 && dt > 0) {
            double want = (double)k * CHUNK_SHARE * s->step_ms / dt;
            if (want > 2.0 * (double)k) want = 2.0 * (double)k;
            int64_t nk = (int64_t)want;
            s->chunk_k = nk < MIN_CHUNK ? MIN_CHUNK : nk > s->p.prefill_chunk ? s->p.prefill_chunk : nk;
        }
        if (!st && r->p.on_progress) r->p.on_progress((int)q->n_tokens, (int)T, r->p.user);
    }
    if (st == ONNXLLM_ERR_CANCELLED && !atomic_load(&r->cancel)) return; /* another request's cancel: run again */
    if (st) {
        fail_request(s, r, st, &e);
        return;
    }
    note_run(sl, a, (int64_t)q->n_computed, s->sw);
    if (!recompute && !forced && (int64_t)q->n_computed < T) return; /* more chunks */
    r->recompute = false;
    r->forced_run = false;
    set_state(s, r, REQ_DECODE);
    emit(s, r, onnxllm_sequence_logits(q));
}

static bool has_work(const onnxllm_scheduler *s) {
    if (s->wait_head) return true;
    for (int i = 0; i < s->n_slots; i++)
        if (s->slots[i].state == SLOT_BUSY) return true;
    return false;
}

static void *loop(void *arg) {
    onnxllm_scheduler *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->stopping && !has_work(s)) pthread_cond_wait(&s->work, &s->mu);
        bool stop = s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (stop) break;
        admit(s);
        decode(s);
        prefill(s);
        /* Publish what readers of the stats see. */
        uint64_t kv = 0;
        int cached = 0;
        for (int i = 0; i < s->n_slots; i++) {
            kv += (uint64_t)s->slots[i].hw;
            cached += s->slots[i].state == SLOT_IDLE;
        }
        pthread_mutex_lock(&s->mu);
        s->kv_pos = kv;
        s->st.cached = cached;
        pthread_mutex_unlock(&s->mu);
    }
    /* Shutdown: everything still queued or running ends as cancelled. */
    admit(s); /* drops the waiting requests (stopping) */
    for (int i = 0; i < s->n_slots; i++)
        if (s->slots[i].state == SLOT_BUSY) finish_cancelled(s, s->slots[i].req);
    return NULL;
}

void onnxllm_scheduler_free(onnxllm_scheduler *s) {
    if (!s) return;
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->work);
        pthread_mutex_unlock(&s->mu);
        for (int i = 0; i < s->n_slots; i++)
            if (s->slots[i].seq) onnxllm_sequence_cancel(s->slots[i].seq);
        pthread_join(s->thread, NULL);
        s->thread_started = false;
        /* Every request is done; handles the caller still holds stop pointing here. */
        pthread_mutex_lock(&s->mu);
        for (onnxllm_request *r = s->all; r; r = r->all_next) r->s = NULL;
        s->all = NULL;
        while (s->users > 0) pthread_cond_wait(&s->done_cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
    }
    /* Idle slots outlive the process in cache_dir. */
    for (int i = 0; s->slots && i < s->n_slots; i++)
        if (s->disk_on && s->slots[i].state == SLOT_IDLE) evict(s, &s->slots[i]);
    for (int i = 0; s->slots && i < s->n_slots; i++) onnxllm_sequence_free(s->slots[i].seq);
    free(s->slots);
    if (s->disk_on) olm_disk_close(&s->disk);
    if (s->batch.m) olm_batch_free(&s->batch);
    if (s->slab.home) olm_slab_free(&s->slab);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->done_cv);
    free(s);
}

void onnxllm_scheduler_get_stats(onnxllm_scheduler *s, onnxllm_scheduler_stats *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    out->running = s->n_running;
    out->waiting = s->n_waiting;
    size_t elem = s->m->io.kv_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ? 4 : 2;
    out->kv_bytes = s->kv_pos * 2ull * (uint64_t)s->m->cfg.num_hidden_layers *
                    (uint64_t)s->m->cfg.num_key_value_heads * (uint64_t)s->m->cfg.head_size * elem;
    pthread_mutex_unlock(&s->mu);
}
