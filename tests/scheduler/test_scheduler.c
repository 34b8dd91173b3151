/* test_scheduler.c — the scheduler (src/scheduler/) against the engine run alone.
 *
 * The reference for every request is the same prompt generated greedily by
 * onnxllm_generate on its own sequence (itself token-exact with onnxruntime-genai,
 * tests/engine/test_oracle.c). Checked: batched == solo tokens with several batch
 * sizes, staggered joins/leaves, rows of different lengths and rows crossing the
 * tiny models' rotary switch (32); batched logits vs solo logits (bit-identical or
 * not: printed, and asserted where the kernels allow it); prefix reuse == fresh run
 * (own slot, copied from a busy slot, after eviction, from disk, the rotary rule);
 * cancellation mid-prefill and mid-decode frees the slot; queue full and too-long
 * requests are refused before any work; corrupt or foreign cache files are ignored;
 * 1,000 random submit / cancel / finish events leave nothing behind (ASan build).
 *
 * argv[1]: the engine's test models; argv[2]: a scratch folder. */
#include "test.h"
#include "engine/batch.h"
#include "onnxllm.h"
#include "writer/phi3.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *models_dir, *scratch;
enum { CTX = 128, MAXGEN = 128 };

static bool no_shared; /* load models in the non-shared KV mode (the scheduler's unbatched path) */

static onnxllm_model *load(const char *name) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", models_dir, name);
    onnxllm_model_params p = onnxllm_model_default_params();
    p.ep = "cpu";
    p.n_threads = 1;
    p.max_length = CTX;
    p.no_shared_kv = no_shared;
    onnxllm_model *m = NULL;
    onnxllm_error e = {0};
    if (onnxllm_model_load(dir, &p, &m, &e)) printf("  load %s: %s\n", dir, e.message);
    return m;
}

static void make_prompt(int32_t *p, int n, int vocab, int salt) {
    for (int i = 0; i < n; i++) p[i] = (int32_t)((i * 37 + salt * 101 + 11) % (vocab - 3) + 3);
}

/* The engine alone: greedy tokens of prompt (count, or -1). */
static int solo(onnxllm_model *m, const int32_t *prompt, int n, int max_new, int32_t *out) {
    onnxllm_sequence *s = NULL;
    onnxllm_error e = {0};
    onnxllm_generate_result r;
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    int got = -1;
    if (onnxllm_sequence_create(m, &s, &e) || onnxllm_sequence_append(s, prompt, (size_t)n, &e) ||
        onnxllm_generate(s, &sp, max_new, NULL, NULL, &r, &e)) {
        printf("  solo: %s\n", e.message);
    } else {
        got = r.n_generated;
        memcpy(out, onnxllm_sequence_tokens(s) + n, sizeof(int32_t) * (size_t)got);
    }
    onnxllm_sequence_free(s);
    return got;
}

/* One request's collected output. */
typedef struct job {
    int32_t prompt[CTX];
    int n_prompt, max_new;
    int32_t out[MAXGEN];
    atomic_int n_out;
    atomic_int done_calls;
    int cancel_after;             /* cancel itself from on_token after this many (0 = never) */
    int cancel_at_progress;       /* cancel itself from on_progress (prefill) */
    atomic_int *hold;             /* on_token waits while *hold is set (keeps a slot busy) */
    onnxllm_request *req;
    onnxllm_request_result res;
} job;

static bool on_token(int32_t t, void *u) {
    job *j = u;
    int k = atomic_load(&j->n_out);
    if (k < MAXGEN) j->out[k] = t;
    atomic_store(&j->n_out, k + 1);
    while (j->hold && atomic_load(j->hold)) usleep(200);
    if (j->cancel_after && k + 1 >= j->cancel_after) onnxllm_request_cancel(j->req);
    return true;
}

static void on_progress(int done, int n, void *u) {
    job *j = u;
    (void)n;
    if (j->cancel_at_progress && done >= j->cancel_at_progress) onnxllm_request_cancel(j->req);
}

static void on_done(const onnxllm_request_result *r, void *u) {
    job *j = u;
    j->res = *r;
    atomic_fetch_add(&j->done_calls, 1);
}

static onnxllm_status submit(onnxllm_scheduler *s, job *j, onnxllm_error *e) {
    onnxllm_request_params p = onnxllm_request_default_params();
    p.prompt = j->prompt;
    p.n_prompt = (size_t)j->n_prompt;
    p.max_new_tokens = j->max_new;
    p.on_token = on_token;
    p.on_progress = on_progress;
    p.on_done = on_done;
    p.user = j;
    atomic_store(&j->n_out, 0);
    atomic_store(&j->done_calls, 0);
    /* j->req must be set before any callback can use it: callbacks that cancel only
     * run for jobs whose req is published here first (cancel_* set after submit). */
    return onnxllm_scheduler_submit(s, &p, &j->req, e);
}

static onnxllm_scheduler *sched(onnxllm_model *m, int slots, const char *cache_dir, uint64_t budget) {
    onnxllm_scheduler_params p = onnxllm_scheduler_default_params();
    p.n_slots = slots;
    p.cache_dir = cache_dir;
    p.kv_budget_bytes = budget;
    p.prefill_chunk = 8; /* small: prompts of the tiny models span several chunks */
    onnxllm_scheduler *s = NULL;
    onnxllm_error e = {0};
    if (onnxllm_scheduler_create(m, &p, &s, &e)) printf("  scheduler: %s\n", e.message);
    return s;
}

static bool same(const char *what, const int32_t *a, int na, const int32_t *b, int nb) {
    bool eq = na == nb;
    for (int i = 0; eq && i < na; i++) eq = a[i] == b[i];
    if (!eq) {
        printf("  %s: %d vs %d tokens, first difference at", what, na, nb);
        int i = 0;
        while (i < na && i < nb && a[i] == b[i]) i++;
        printf(" %d\n", i);
    }
    return eq;
}

/* ---- batched == solo ------------------------------------------------------------------*/

/* Requests of many lengths (some crossing the rotary switch at 32 while decoding, some
 * starting past it), `slots` at a time, joining in two waves. */
static void batched_equals_solo(const char *model, int slots) {
    onnxllm_model *m = load(model);
    CHECK(m);
    if (!m) return;
    int V = onnxllm_model_vocab_size(m);
    static const int lens[] = {5, 17, 25, 30, 31, 33, 40, 60, 2, 12};
    static const int gens[] = {40, 30, 20, 12, 9, 25, 30, 20, 50, 18};
    enum { N = 10 };
    job *jobs = calloc(N, sizeof *jobs);
    onnxllm_scheduler *s = sched(m, slots, NULL, 0);
    CHECK(s);
    onnxllm_error e = {0};
    for (int i = 0; s && i < N; i++) {
        make_prompt(jobs[i].prompt, lens[i], V, i + slots);
        jobs[i].n_prompt = lens[i];
        jobs[i].max_new = gens[i];
        if (i == N / 2) /* second wave joins while the first decodes */
            while (atomic_load(&jobs[0].n_out) < 3 && !atomic_load(&jobs[0].done_calls)) usleep(100);
        CHECK(submit(s, &jobs[i], &e) == ONNXLLM_OK);
    }
    for (int i = 0; s && i < N; i++) {
        onnxllm_request_wait(jobs[i].req, NULL);
        onnxllm_request_free(jobs[i].req);
        int32_t ref[MAXGEN];
        int nref = solo(m, jobs[i].prompt, jobs[i].n_prompt, jobs[i].max_new, ref);
        char what[96];
        snprintf(what, sizeof what, "%s slots=%d request %d (prompt %d)", model, slots, i, lens[i]);
        CHECK(same(what, jobs[i].out, atomic_load(&jobs[i].n_out), ref, nref));
        CHECK_EQ_INT(atomic_load(&jobs[i].done_calls), 1);
        CHECK_EQ_INT(jobs[i].res.status, ONNXLLM_OK);
        CHECK_EQ_INT(jobs[i].res.n_generated, nref);
    }
    onnxllm_scheduler_free(s);
    onnxllm_model_free(m);
    free(jobs);
}

TEST(batched_equals_solo_fp32) {
    for (int slots = 1; slots <= 4; slots++) batched_equals_solo("tiny-gqa", slots);
    batched_equals_solo("tiny-gqa", 8);
}
TEST(batched_equals_solo_int4) {
    batched_equals_solo("tiny-gqa-int4", 3);
    batched_equals_solo("tiny-gqa-int4", 8);
}
/* A model the scheduler cannot batch (KV not shared between past and present): one
 * ORT run per row, same tokens; reuse in place still works, copies do not apply. */
TEST(unbatched_path_equals_solo) {
    no_shared = true;
    batched_equals_solo("tiny-gqa", 3);
    no_shared = false;
}

TEST(batched_equals_solo_other_shapes) {
    batched_equals_solo("tiny-mha", 4);
    batched_equals_solo("tiny-gqa-untied", 4);
    batched_equals_solo("tiny-1layer", 4);
    batched_equals_solo("tiny-gqa-fp16", 4); /* fp16 KV and logits (GPU layout) on CPU */
}

/* The batch run's logits against each row run alone (engine internals). */
static float batch_vs_solo_maxdiff(const char *model, bool *bit_identical) {
    onnxllm_model *m = load(model);
    *bit_identical = false;
    if (!m) return INFINITY;
    int V = onnxllm_model_vocab_size(m);
    olm_slab sl;
    olm_batch b;
    onnxllm_error e = {0};
    enum { B = 4 };
    onnxllm_sequence *rows[B] = {0}, *alone[B] = {0};
    int slots[B] = {3, 0, 2, 1}; /* not consecutive: the view mapping */
    static const int lens[B] = {5, 20, 9, 27};
    float md = INFINITY, range = 0;
    if (olm_slab_init(m, &sl, B, &e) || olm_batch_init(m, &sl, &b, &e)) {
        printf("  %s\n", e.message);
        onnxllm_model_free(m);
        return md;
    }
    md = 0;
    bool ok = true;
    for (int i = 0; i < B && ok; i++) {
        int32_t p[64];
        make_prompt(p, lens[i] + 1, V, i);
        ok = !olm_sequence_create_in_slab(m, &sl, slots[i], &rows[i], &e) &&
             !onnxllm_sequence_create(m, &alone[i], &e) &&
             !onnxllm_sequence_append(rows[i], p, (size_t)lens[i], &e) &&
             !onnxllm_sequence_append(alone[i], p, (size_t)lens[i], &e) &&
             !onnxllm_sequence_append(alone[i], p + lens[i], 1, &e); /* the same token, decoded alone */
        if (ok) olm_sequence_push(rows[i], p[lens[i]]);
    }
    ok = ok && !olm_batch_decode(&b, rows, slots, B, &e);
    if (!ok) printf("  %s\n", e.message);
    *bit_identical = ok;
    for (int i = 0; ok && i < B; i++) {
        const float *x = olm_batch_logits(&b, i), *y = onnxllm_sequence_logits(alone[i]);
        if (memcmp(x, y, sizeof(float) * (size_t)V)) *bit_identical = false;
        for (int k = 0; k < V; k++) md = fmaxf(md, fabsf(x[k] - y[k])), range = fmaxf(range, fabsf(y[k]));
    }
    for (int i = 0; i < B; i++) {
        onnxllm_sequence_free(rows[i]);
        onnxllm_sequence_free(alone[i]);
    }
    olm_batch_free(&b);
    olm_slab_free(&sl);
    onnxllm_model_free(m);
    if (ok) printf("  %s: largest |logit| %g\n", model, (double)range);
    return ok ? md / range : INFINITY;
}

TEST(batch_logits_vs_solo) {
    bool bit;
    float d = batch_vs_solo_maxdiff("tiny-gqa", &bit);
    printf("  fp32 tiny-gqa: batched rows vs alone: max |diff| / max |logit| %g, bit-identical %s\n", (double)d,
           bit ? "yes" : "no");
    CHECK(bit); /* fp32 MLAS kernels compute rows independently of the row count */
    d = batch_vs_solo_maxdiff("tiny-gqa-int4", &bit);
    printf("  int4 tiny-gqa: batched rows vs alone: max |diff| / max |logit| %g, bit-identical %s\n", (double)d,
           bit ? "yes" : "no");
    /* int4 MatMulNBits (accuracy_level 4) computes a 1-row product and a B-row product
     * with different kernels (docs/scheduler.md): close, not bit-identical. A row mixed
     * up with another would be off by the size of the logits themselves. */
    CHECK(d < 0.02f);
}

/* ---- prefix reuse ----------------------------------------------------------------------*/

/* Runs j on s and checks its tokens against the engine alone; returns n_cached. */
static int run_checked(onnxllm_scheduler *s, onnxllm_model *m, job *j, const char *what) {
    onnxllm_error e = {0};
    if (submit(s, j, &e)) {
        printf("  %s: %s\n", what, e.message);
        CHECK(0);
        return -1;
    }
    onnxllm_request_wait(j->req, NULL);
    onnxllm_request_free(j->req);
    int32_t ref[MAXGEN];
    int nref = solo(m, j->prompt, j->n_prompt, j->max_new, ref);
    CHECK(same(what, j->out, atomic_load(&j->n_out), ref, nref));
    CHECK_EQ_INT(j->res.status, ONNXLLM_OK);
    return j->res.n_cached;
}

/* A follow-up turn: the previous prompt + what was generated + new tokens. */
static void follow_up(job *next, const job *prev, int extra, int salt, int V) {
    int n = 0;
    memcpy(next->prompt, prev->prompt, sizeof(int32_t) * (size_t)prev->n_prompt);
    n = prev->n_prompt;
    int g = atomic_load(&prev->n_out);
    memcpy(next->prompt + n, prev->out, sizeof(int32_t) * (size_t)g);
    n += g;
    make_prompt(next->prompt + n, extra, V, salt);
    next->n_prompt = n + extra;
}

TEST(prefix_reuse_own_slot) {
    onnxllm_model *m = load("tiny-gqa");
    if (!m) {
        CHECK(0);
        return;
    }
    int V = onnxllm_model_vocab_size(m);
    onnxllm_scheduler *s = sched(m, 2, NULL, 0);
    job *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b), *c = calloc(1, sizeof *c);
    make_prompt(a->prompt, 12, V, 1);
    a->n_prompt = 12;
    a->max_new = 6;
    CHECK_EQ_INT(run_checked(s, m, a, "turn 1"), 0);
    follow_up(b, a, 5, 2, V);
    b->max_new = 6;
    int cached = run_checked(s, m, b, "turn 2 (in place)");
    printf("  turn 2: %d of %d prompt tokens cached\n", cached, b->n_prompt);
    CHECK(cached >= a->n_prompt + 5); /* the prompt and the computed part of the answer */
    /* The same prompt again: everything but the last token comes from the cache. */
    *c = *b;
    CHECK_EQ_INT(run_checked(s, m, c, "same prompt again"), b->n_prompt - 1);
    onnxllm_scheduler_stats st;
    onnxllm_scheduler_get_stats(s, &st);
    CHECK(st.prefix_hits > 0 && st.prefix_queries >= st.prefix_hits);
    onnxllm_scheduler_free(s);
    onnxllm_model_free(m);
    free(a), free(b), free(c);
}

TEST(prefix_copied_from_busy_slot) {
    onnxllm_model *m = load("tiny-gqa");
    if (!m) {
        CHECK(0);
        return;
    }
    int V = onnxllm_model_vocab_size(m);
    onnxllm_scheduler *s = sched(m, 2, NULL, 0);
    job *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    make_prompt(a->prompt, 26, V, 3);
    a->n_prompt = 26;
    a->max_new = 90; /* keeps slot 0 busy */
    onnxllm_error e = {0};
    CHECK(submit(s, a, &e) == ONNXLLM_OK);
    while (atomic_load(&a->n_out) < 2) usleep(100);
    memcpy(b->prompt, a->prompt, sizeof(int32_t) * 24); /* shares 24 tokens with the running request */
    make_prompt(b->prompt + 24, 4, V, 9);
    b->n_prompt = 28;
    b->max_new = 10;
    int cached = run_checked(s, m, b, "copied prefix");
    CHECK(!atomic_load(&a->done_calls)); /* it really was busy */
    CHECK_EQ_INT(cached, 24);
    onnxllm_request_wait(a->req, NULL);
    onnxllm_request_free(a->req);
    int32_t ref[MAXGEN];
    int nref = solo(m, a->prompt, a->n_prompt, a->max_new, ref);
    CHECK(same("the source request", a->out, atomic_load(&a->n_out), ref, nref));
    onnxllm_scheduler_free(s);
    onnxllm_model_free(m);
    free(a), free(b);
}

/* The rotary rule: keys computed with the short table (runs no wider than 32) never
 * serve a prompt past the switch, and long keys never serve a short prompt. */
TEST(prefix_reuse_rotary_rule) {
    onnxllm_model *m = load("tiny-gqa");
    if (!m) {
        CHECK(0);
        return;
    }
    int V = onnxllm_model_vocab_size(m);
    onnxllm_scheduler *s = sched(m, 1, NULL, 0);
    job *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b), *c = calloc(1, sizeof *c), *d = calloc(1, sizeof *d);
    make_prompt(a->prompt, 20, V, 4);
    a->n_prompt = 20;
    a->max_new = 4;
    run_checked(s, m, a, "short prompt");
    follow_up(b, a, 16, 5, V); /* 40 tokens: a fresh run uses the long table everywhere */
    b->max_new = 5;
    CHECK_EQ_INT(run_checked(s, m, b, "past the switch after a short prefix"), 0);
    follow_up(d, b, 3, 6, V); /* extends b: long keys serve a long prompt */
    d->max_new = 5;
    CHECK(run_checked(s, m, d, "long after long") >= b->n_prompt);
    /* the only slot is long everywhere now: a short prompt sharing its start gets nothing */
    memcpy(c->prompt, d->prompt, sizeof(int32_t) * 25);
    c->n_prompt = 25;
    c->max_new = 5;
    CHECK_EQ_INT(run_checked(s, m, c, "short prompt after a long prefix"), 0);
    onnxllm_scheduler_free(s);
    onnxllm_model_free(m);
    free(a), free(b), free(c), free(d);
}

static int count_files(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name), k = strlen(suffix);
        n += l > k && !strcmp(de->d_name + l - k, suffix);
    }
    if (d) closedir(d);
    return n;
}

static void rm_rf(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[1024];
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2]))) continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

/* A budget of two sequences: a third conversation evicts the least recently used one
 * (to disk when cache_dir is set), and its next turn still equals a fresh run. */
static void eviction(bool with_disk) {
    onnxllm_model *m = load("tiny-gqa");
    if (!m) {
        CHECK(0);
        return;
    }
    int V = onnxllm_model_vocab_size(m);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/evict-cache", scratch);
    rm_rf(dir);
    /* tiny-gqa: 2 layers x K,V x 2 kv heads x 64 x 4 bytes = 2 KiB a position */
    onnxllm_scheduler *s = sched(m, 3, with_disk ? dir : NULL, 2048 * 60);
    job *t1[3], *t2 = calloc(1, sizeof *t2);
    for (int i = 0; i < 3; i++) {
        t1[i] = calloc(1, sizeof *t1[i]);
        make_prompt(t1[i]->prompt, 18, V, 20 + i);
        t1[i]->n_prompt = 18;
        t1[i]->max_new = 8;
        run_checked(s, m, t1[i], "first turns");
    }
    onnxllm_scheduler_stats st;
    onnxllm_scheduler_get_stats(s, &st);
    CHECK(st.cached <= 2);
    follow_up(t2, t1[0], 4, 30, V); /* conversation 0 was evicted */
    t2->max_new = 6;
    int cached = run_checked(s, m, t2, with_disk ? "after eviction to disk" : "after eviction");
    onnxllm_scheduler_get_stats(s, &st);
    if (with_disk) {
        CHECK(cached >= t1[0]->n_prompt);
        CHECK(st.disk_writes >= 1 && st.disk_loads == 1);
    } else {
        CHECK_EQ_INT(cached, 0);
    }
    onnxllm_scheduler_free(s);
    onnxllm_model_free(m);
    for (int i = 0; i < 3; i++) free(t1[i]);
    free(t2);
    rm_rf(dir);
}

TEST(prefix_after_eviction) { eviction(false); }
TEST(prefix_after_eviction_to_disk) { eviction(true); }

/* A restart: idle slots are written at shutdown and loaded by the next scheduler. */
TEST(prefix_from_disk_after_restart) {
    onnxllm_model *m = load("tiny-gqa-int4");
    if (!m) {
        CHECK(0);
        return;
    }
    int V = onnxllm_model_vocab_size(m);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/restart-cache", scratch);
    rm_rf(dir);
    onnxllm_scheduler *s = sched(m, 2, dir, 0);
    job *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b), *c = calloc(1, sizeof *c);
    make_prompt(a->prompt, 22, V, 7);
    a->n_prompt = 22;
    a->max_new = 7;
    run_checked(s, m, a, "before the restart");
    onnxllm_scheduler_free(s);
    CHECK_EQ_INT(count_files(dir, ".kv"), 1);
    s = sched(m, 2, dir, 0);
    follow_up(b, a, 3, 8, V);
    b->max_new = 6;
    int cached = run_checked(s, m, b, "after the restart");
    CHECK(cached >= a->n_prompt);
    onnxllm_scheduler_free(s);
    /* Corrupt every image (flip bytes in the KV data), add junk and truncated files:
     * ignored with a warning, results still equal a fresh run. */
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 4 || strcmp(de->d_name + l - 3, ".kv")) continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        FILE *f = fopen(p, "r+b");
        if (f) {
            fseek(f, -100, SEEK_END);
            fputc(0x5a, f);
            fputc(0xa5, f);
            fclose(f);
        }
    }
    if (d) closedir(d);
    char p[1024];
    snprintf(p, sizeof p, "%s/junk.kv", dir);
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs("OLMKVC01 this is not an image", f);
        fclose(f);
    }
    s = sched(m, 2, dir, 0);
    CHECK(s);
    *c = *b;
    cached = run_checked(s, m, c, "corrupt cache files");
    printf("  with corrupt files: %d cached (the corrupt image must not be loaded)\n", cached);
    CHECK_EQ_INT(cached, 0);
    onnxllm_scheduler_free(s);
    /* A cache folder shared with another model: its images are left alone, unused. */
    CHECK(count_files(dir, ".kv") >= 1);
    int before = count_files(dir, ".kv");
    onnxllm_model *other = load("tiny-gqa");
    onnxllm_scheduler *so = other ? sched(other, 2, dir, 0) : NULL;
    CHECK(so);
    job *fj = calloc(1, sizeof *fj);
    *fj = *c;
    if (so) CHECK_EQ_INT(run_checked(so, other, fj, "another model's cache folder"), 0);
    onnxllm_scheduler_stats st;
    if (so) onnxllm_scheduler_get_stats(so, &st);
    if (so) CHECK_EQ_INT(st.disk_loads, 0);
    onnxllm_scheduler_free(so);
    CHECK(count_files(dir, ".kv") >= before); /* the int4 model's images are still there */
    onnxllm_model_free(other);
    free(fj);
    onnxllm_model_free(m);
    free(a), free(b), free(c);
    rm_rf(dir);
}

/* ---- genai's LongRoPE rewind (4097) on a model whose rotary switch is at 4096 ---------------*/

static onnxllm_model *longrope_model(void) {
    olm_phi3_config c;
    if (!olm_phi3_preset("tiny-gqa", &c)) return NULL;
    c.original_max_position_embeddings = 4096;
    c.max_position_embeddings = 8192;
    c.context_length = 8192;
    c.num_hidden_layers = 1;
    c.hidden_size = 128;
    c.intermediate_size = 64;
    c.num_attention_heads = 2;
    c.num_key_value_heads = 1;
    c.head_dim = 64;
    c.n_rope_factors = 24;
    for (int i = 0; i < 24; i++) {
        c.short_factor[i] = 1.0f + 0.02f * (float)i;
        c.long_factor[i] = 1.0f + 0.9f * (float)i;
    }
    char dir[600];
    snprintf(dir, sizeof dir, "%s/tiny-longrope-4096", scratch);
    olm_random_weights rw = {3, olm_phi3_preset_init_std("tiny-gqa")};
    olm_weight_source w = olm_random_weight_source(&rw);
    olm_build_options o = {0};
    o.precision = OLM_PRECISION_FP32;
    o.ep = OLM_EP_CPU;
    onnxllm_error e = {0};
    if (olm_phi3_write(&c, &w, &o, dir, &e)) {
        printf("  build %s: %s\n", dir, e.message);
        return NULL;
    }
    onnxllm_model_params p = onnxllm_model_default_params();
    p.ep = "cpu";
    p.n_threads = 1;
    p.max_length = 4200;
    onnxllm_model *m = NULL;
    if (onnxllm_model_load(dir, &p, &m, &e)) printf("  load %s: %s\n", dir, e.message);
    return m;
}

/* Requests below, at and past the switch batched with short ones: the one whose
 * generation reaches 4097 is recomputed in one run (as genai does), the one past the
 * switch computes its first chunk wider than the switch; tokens equal the engine
 * alone. Then the reuse rule at the real threshold. */
TEST(longrope_rewind_and_reuse) {
    onnxllm_model *m = longrope_model();
    if (!m) {
        CHECK(0);
        return;
    }
    int V = onnxllm_model_vocab_size(m);
    enum { N = 4 };
    static const int lens[N] = {4090, 4100, 10, 30};
    typedef struct {
        int32_t prompt[4200];
        int n;
        int32_t out[16];
        atomic_int n_out;
        onnxllm_request *req;
    } big;
    big *b = calloc(N + 3, sizeof *b);
    onnxllm_scheduler_params sp = onnxllm_scheduler_default_params();
    sp.n_slots = N;
    sp.prefill_chunk = 512;
    onnxllm_scheduler *s = NULL;
    onnxllm_error e = {0};
    CHECK(onnxllm_scheduler_create(m, &sp, &s, &e) == ONNXLLM_OK);
    for (int i = 0; s && i < N; i++) {
        for (int k = 0; k < lens[i]; k++) b[i].prompt[k] = (int32_t)((k * 97 + 13 + i) % (V - 3) + 3);
        b[i].n = lens[i];
        onnxllm_request_params p = onnxllm_request_default_params();
        p.prompt = b[i].prompt;
        p.n_prompt = (size_t)lens[i];
        p.max_new_tokens = 12;
        CHECK(onnxllm_scheduler_submit(s, &p, &b[i].req, &e) == ONNXLLM_OK);
    }
    for (int i = 0; s && i < N; i++) {
        onnxllm_request_result r;
        onnxllm_request_wait(b[i].req, &r);
        onnxllm_request_free(b[i].req);
        CHECK_EQ_INT(r.status, ONNXLLM_OK);
    }
    /* the same four, tokens this time, against the engine alone (a fresh scheduler) */
    onnxllm_scheduler_free(s);
    s = NULL;
    CHECK(onnxllm_scheduler_create(m, &sp, &s, &e) == ONNXLLM_OK);
    job *j = calloc(N, sizeof *j);
    for (int i = 0; s && i < N; i++) {
        onnxllm_request_params p = onnxllm_request_default_params();
        p.prompt = b[i].prompt;
        p.n_prompt = (size_t)lens[i];
        p.max_new_tokens = 12;
        p.on_token = on_token;
        job *jj = &j[i];
        p.user = jj;
        atomic_store(&jj->n_out, 0);
        CHECK(onnxllm_scheduler_submit(s, &p, &b[i].req, &e) == ONNXLLM_OK);
    }
    for (int i = 0; s && i < N; i++) {
        onnxllm_request_wait(b[i].req, NULL);
        onnxllm_request_free(b[i].req);
        int32_t ref[MAXGEN];
        int nref = solo(m, b[i].prompt, lens[i], 12, ref);
        char what[64];
        snprintf(what, sizeof what, "longrope prompt %d", lens[i]);
        CHECK(same(what, j[i].out, atomic_load(&j[i].n_out), ref, nref));
    }
    /* Reuse at the real threshold. Slot contents now: 4090+12 (recomputed long at
     * 4097), 4100+12 (long), 10+12, 30+12 (short). */
    big *x = &b[N];
    /* (1) a prompt past the switch extending the recomputed one: long serves long */
    memcpy(x->prompt, b[0].prompt, sizeof(int32_t) * 4090);
    memcpy(x->prompt + 4090, j[0].out, sizeof(int32_t) * 11);
    x->prompt[4101] = 5;
    x->n = 4102;
    /* (2) a short prompt (4000) sharing the long slot's start: nothing to reuse */
    big *y = &b[N + 1];
    memcpy(y->prompt, b[0].prompt, sizeof(int32_t) * 4000);
    y->n = 4000;
    const big *cases[2] = {x, y};
    for (int c = 0; s && c < 2; c++) {
        job *jj = calloc(1, sizeof *jj);
        memcpy(jj->prompt, cases[c]->prompt, sizeof(int32_t) * (size_t)(cases[c]->n < CTX ? cases[c]->n : CTX));
        onnxllm_request_params p = onnxllm_request_default_params();
        p.prompt = cases[c]->prompt;
        p.n_prompt = (size_t)cases[c]->n;
        p.max_new_tokens = 6;
        p.on_token = on_token;
        p.on_done = on_done;
        p.user = jj;
        onnxllm_request *r = NULL;
        CHECK(onnxllm_scheduler_submit(s, &p, &r, &e) == ONNXLLM_OK);
        onnxllm_request_wait(r, NULL);
        onnxllm_request_free(r);
        int32_t ref[MAXGEN];
        int nref = solo(m, cases[c]->prompt, cases[c]->n, 6, ref);
        CHECK(same(c ? "short after long (4000)" : "long after long (4102)", jj->out, atomic_load(&jj->n_out), ref,
                   nref));
        printf("  %s: %d cached\n", c ? "short prompt after the long slot" : "long prompt after the long slot",
               jj->res.n_cached);
        if (c == 0) CHECK(jj->res.n_cached >= 4090);
        else CHECK_EQ_INT(jj->res.n_cached, 0);
        free(jj);
    }
    onnxllm_scheduler_free(s);
    onnxllm_model_free(m);
    free(b), free(j);
}

/* n_cached of one greedy request of prompt[0, n) on s. */
static int cached_of(onnxllm_scheduler *s, const int32_t *prompt, int n, int max_new) {
    onnxllm_request_params p = onnxllm_request_default_params();
    p.prompt = prompt;
    p.n_prompt = (size_t)n;
    p.max_new_tokens = max_new;
    onnxllm_request *r = NULL;
    onnxllm_error e = {0};
    onnxllm_request_result res = {0};
    CHECK(onnxllm_scheduler_submit(s, &p, &r, &e) == ONNXLLM_OK);
    if (!r) return -1;
    onnxllm_request_wait(r, &res);
    onnxllm_request_free(r);
    CHECK_EQ_INT(res.status, ONNXLLM_OK);
    return res.n_cached;
}

/* A prompt that shares only its first tokens (a chat template's opening: fewer than
 * min_reuse) with an idle slot holding a conversation takes the free slot: reusing two
 * tokens in place must not cost that conversation its cache. (deploy_fleet_kill: a moved
 * session's first turn on a replica wiped a resident session's 380 cached positions.) */
TEST(short_overlap_keeps_other_cache) {
    onnxllm_model *m = longrope_model(); /* 8192 positions: conversations longer than LOST_SLACK */
    if (!m) {
        CHECK(0);
        return;
    }
    int V = onnxllm_model_vocab_size(m);
    enum { A = 400, B = 300, A2 = 460 };
    int32_t *a = malloc(sizeof(int32_t) * A2), *b = malloc(sizeof(int32_t) * B);
    for (int k = 0; k < A2; k++) a[k] = (int32_t)((k * 97 + 13) % (V - 3) + 3);
    b[0] = a[0], b[1] = a[1];
    for (int k = 2; k < B; k++) b[k] = (int32_t)((k * 89 + 7) % (V - 3) + 3);
    CHECK(b[2] != a[2]);
    onnxllm_scheduler *s = sched(m, 2, NULL, 0);
    CHECK(s != NULL);
    if (s) {
        CHECK_EQ_INT(cached_of(s, a, A, 4), 0);
        cached_of(s, b, B, 4); /* slot 0 idle with a, slot 1 free */
        int c = cached_of(s, a, A2, 4);
        printf("  a's next turn after b: %d of %d cached\n", c, A2);
        CHECK(c >= A - 1);
    }
    onnxllm_scheduler_free(s);
    onnxllm_model_free(m);
    free(a), free(b);
}

/* ---- cancellation, admission ---------------------------------------------------------*/

TEST(cancel_mid_prefill_and_mid_decode) {
    onnxllm_model *m = load("tiny-gqa");
    if (!m) {
        CHECK(0);
        return;
    }
    int V = onnxllm_model_vocab_size(m);
    onnxllm_scheduler *s = sched(m, 1, NULL, 0);
    job *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b), *c = calloc(1, sizeof *c);
    onnxllm_error e = {0};
    make_prompt(a->prompt, 60, V, 11);
    a->n_prompt = 60;
    a->max_new = 40;
    a->cancel_at_progress = 16; /* after two 8-token chunks */
    CHECK(submit(s, a, &e) == ONNXLLM_OK);
    onnxllm_request_wait(a->req, NULL);
    CHECK_EQ_INT(a->res.stop, ONNXLLM_STOP_CANCELLED);
    CHECK_EQ_INT(a->res.status, ONNXLLM_ERR_CANCELLED);
    CHECK_EQ_INT(atomic_load(&a->n_out), 0);
    CHECK_EQ_INT(atomic_load(&a->done_calls), 1);
    onnxllm_request_free(a->req);
    make_prompt(b->prompt, 10, V, 12);
    b->n_prompt = 10;
    b->max_new = 60;
    b->cancel_after = 5;
    CHECK(submit(s, b, &e) == ONNXLLM_OK);
    onnxllm_request_wait(b->req, NULL);
    CHECK_EQ_INT(b->res.stop, ONNXLLM_STOP_CANCELLED);
    CHECK(atomic_load(&b->n_out) >= 5 && atomic_load(&b->n_out) <= 6);
    onnxllm_request_free(b->req);
    /* The only slot is free again: a new request runs and matches a fresh run. */
    make_prompt(c->prompt, 14, V, 13);
    c->n_prompt = 14;
    c->max_new = 8;
    run_checked(s, m, c, "after cancellations");
    onnxllm_scheduler_free(s);
    onnxllm_model_free(m);
    free(a), free(b), free(c);
}

TEST(admission_refusals) {
    onnxllm_model *m = load("tiny-gqa");
    if (!m) {
        CHECK(0);
        return;
    }
    int V = onnxllm_model_vocab_size(m);
    onnxllm_scheduler_params p = onnxllm_scheduler_default_params();
    p.n_slots = 1;
    p.max_queue = 1;
    onnxllm_scheduler *s = NULL;
    onnxllm_error e = {0};
    CHECK(onnxllm_scheduler_create(m, &p, &s, &e) == ONNXLLM_OK);
    job *j = calloc(4, sizeof *j);
    for (int i = 0; i < 4; i++) {
        make_prompt(j[i].prompt, 8, V, i);
        j[i].n_prompt = 8;
        j[i].max_new = 100;
    }
    /* too long for the context: refused at once, nothing queued */
    j[3].max_new = CTX;
    CHECK_EQ_INT(submit(s, &j[3], &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    printf("  too long: %s\n", e.message);
    CHECK(strstr(e.message, "exceeds the context"));
    CHECK(j[3].req == NULL);
    atomic_int hold = 1;
    j[0].hold = &hold; /* the only slot stays busy until released */
    CHECK_EQ_INT(submit(s, &j[0], &e), ONNXLLM_OK);
    while (!atomic_load(&j[0].n_out)) usleep(100);
    CHECK_EQ_INT(submit(s, &j[1], &e), ONNXLLM_OK);
    CHECK_EQ_INT(submit(s, &j[2], &e), ONNXLLM_ERR_OVERLOADED); /* one running + one waiting */
    printf("  full: %s\n", e.message);
    onnxllm_request_cancel(j[0].req);
    atomic_store(&hold, 0);
    onnxllm_request_wait(j[0].req, NULL);
    onnxllm_request_wait(j[1].req, NULL);
    CHECK_EQ_INT(j[1].res.status, ONNXLLM_OK);
    CHECK_EQ_INT(j[1].res.n_generated, atomic_load(&j[1].n_out));
    onnxllm_request_free(j[0].req);
    onnxllm_request_free(j[1].req);
    /* bad ids, empty prompts */
    j[2].prompt[0] = V;
    CHECK_EQ_INT(submit(s, &j[2], &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    j[2].n_prompt = 0;
    CHECK_EQ_INT(submit(s, &j[2], &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    onnxllm_string txt = {0};
    CHECK(onnxllm_scheduler_metrics(s, "tiny \"model\"", &txt, &e) == ONNXLLM_OK);
    CHECK(txt.data && strstr(txt.data, "vllm:num_requests_waiting{model_name=\"tiny \\\"model\\\"\"} 0"));
    CHECK(txt.data && strstr(txt.data, "vllm:time_to_first_token_seconds_count{model_name="));
    CHECK(txt.data && strstr(txt.data, "vllm:request_success_total{model_name=\"tiny \\\"model\\\"\",finished_reason=\"abort\"} 1"));
    CHECK(txt.data && strstr(txt.data, "onnxllm:requests_refused_total{model_name=\"tiny \\\"model\\\"\"} 1"));
    onnxllm_string_free(&txt);
    onnxllm_scheduler_free(s);
    onnxllm_model_free(m);
    free(j);
}

/* Bad parameters: errors naming what is wrong, never a crash. */
TEST(create_and_submit_errors) {
    onnxllm_model *m = load("tiny-gqa");
    if (!m) {
        CHECK(0);
        return;
    }
    onnxllm_scheduler_params p = onnxllm_scheduler_default_params();
    onnxllm_scheduler *s = NULL;
    onnxllm_error e = {0};
    p.n_slots = 0;
    CHECK_EQ_INT(onnxllm_scheduler_create(m, &p, &s, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "n_slots") != NULL);
    p.n_slots = 65;
    CHECK_EQ_INT(onnxllm_scheduler_create(m, &p, &s, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    p = onnxllm_scheduler_default_params();
    p.max_queue = -1;
    CHECK_EQ_INT(onnxllm_scheduler_create(m, &p, &s, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    p = onnxllm_scheduler_default_params();
    p.kv_budget_bytes = 100; /* not one position */
    CHECK_EQ_INT(onnxllm_scheduler_create(m, &p, &s, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    p = onnxllm_scheduler_default_params();
    char file[600];
    snprintf(file, sizeof file, "%s/a-file", scratch);
    FILE *f = fopen(file, "w");
    if (f) fclose(f);
    p.cache_dir = file; /* a file, not a folder */
    CHECK_EQ_INT(onnxllm_scheduler_create(m, &p, &s, &e), ONNXLLM_ERR_IO);
    printf("  cache_dir on a file: %s\n", e.message);
    CHECK(s == NULL);
    CHECK_EQ_INT(onnxllm_scheduler_create(NULL, NULL, &s, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(onnxllm_scheduler_create(m, NULL, NULL, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(onnxllm_scheduler_create(m, NULL, &s, &e), ONNXLLM_OK);
    onnxllm_request_params rp = onnxllm_request_default_params();
    int32_t ids[3] = {5, 6, 7};
    rp.prompt = ids;
    rp.n_prompt = 3;
    onnxllm_request *r = NULL;
    CHECK_EQ_INT(onnxllm_scheduler_submit(s, &rp, NULL, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(onnxllm_scheduler_submit(s, NULL, &r, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(onnxllm_scheduler_submit(NULL, &rp, &r, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    rp.max_new_tokens = 0;
    CHECK_EQ_INT(onnxllm_scheduler_submit(s, &rp, &r, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    ids[1] = -1;
    rp.max_new_tokens = 4;
    CHECK_EQ_INT(onnxllm_scheduler_submit(s, &rp, &r, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "position 1") != NULL);
    onnxllm_request_result res;
    onnxllm_request_wait(NULL, &res); /* no-ops */
    onnxllm_request_cancel(NULL);
    onnxllm_request_free(NULL);
    onnxllm_scheduler_stats st;
    onnxllm_scheduler_get_stats(NULL, &st);
    CHECK_EQ_INT(st.n_slots, 0);
    onnxllm_scheduler_free(s);
    onnxllm_scheduler_free(NULL);
    onnxllm_model_free(m);
}

/* Handles outliving the scheduler, a free from inside a callback. */
static void free_self(const onnxllm_request_result *r, void *u) {
    (void)r;
    onnxllm_request_free(*(onnxllm_request **)u);
}

TEST(handle_lifetimes) {
    onnxllm_model *m = load("tiny-gqa");
    if (!m) {
        CHECK(0);
        return;
    }
    int V = onnxllm_model_vocab_size(m);
    onnxllm_scheduler *s = sched(m, 2, NULL, 0);
    int32_t prompt[10];
    make_prompt(prompt, 10, V, 1);
    onnxllm_request_params p = onnxllm_request_default_params();
    p.prompt = prompt;
    p.n_prompt = 10;
    p.max_new_tokens = 50;
    onnxllm_request *r1 = NULL, *r2 = NULL;
    onnxllm_error e = {0};
    CHECK(onnxllm_scheduler_submit(s, &p, &r1, &e) == ONNXLLM_OK);
    p.on_done = free_self;
    p.user = &r2;
    CHECK(onnxllm_scheduler_submit(s, &p, &r2, &e) == ONNXLLM_OK);
    onnxllm_scheduler_free(s); /* r1 still running: cancelled, handle stays valid */
    onnxllm_request_result res;
    onnxllm_request_wait(r1, &res);
    CHECK_EQ_INT(res.stop == ONNXLLM_STOP_CANCELLED || res.stop == ONNXLLM_STOP_MAX_TOKENS, 1);
    onnxllm_request_free(r1);
    onnxllm_model_free(m);
}

static void on_admit_rec(int n_cached, void *u) { *(int *)u = n_cached + 1000; }
static bool collect(int32_t t, void *u);

/* Forced tokens come out as given (each computed), then an eos among them ends it;
 * on_admit reports the reused prefix before the prompt is computed. */
TEST(forced_tokens_and_admit) {
    onnxllm_model *m = load("tiny-gqa");
    if (!m) {
        CHECK(0);
        return;
    }
    int V = onnxllm_model_vocab_size(m);
    onnxllm_scheduler *s = sched(m, 2, NULL, 0);
    int32_t prompt[12], out[16];
    make_prompt(prompt, 12, V, 5);
    size_t n_eos = 0;
    const int32_t *eos = onnxllm_model_eos(m, &n_eos);
    int32_t forced[4] = {7, 8, 9, n_eos ? eos[0] : 0};
    int admit = -1;
    struct {
        int32_t *out;
        int n;
    } col = {out, 0};
    onnxllm_request_params p = onnxllm_request_default_params();
    p.prompt = prompt;
    p.n_prompt = 12;
    p.max_new_tokens = 10;
    p.forced = forced;
    p.n_forced = 4;
    p.on_token = collect;
    p.user = &col;
    onnxllm_request *r = NULL;
    onnxllm_error e = {0};
    onnxllm_request_result res;
    CHECK(onnxllm_scheduler_submit(s, &p, &r, &e) == ONNXLLM_OK);
    onnxllm_request_wait(r, &res);
    onnxllm_request_free(r);
    CHECK_EQ_INT(col.n, 4);
    for (int i = 0; i < 4 && i < col.n; i++) CHECK_EQ_INT(out[i], forced[i]);
    CHECK_EQ_INT(res.stop, n_eos ? ONNXLLM_STOP_EOS : ONNXLLM_STOP_MAX_TOKENS);
    p.forced = NULL;
    p.n_forced = 0;
    p.on_token = NULL;
    p.on_admit = on_admit_rec; /* its own `user` */
    p.user = &admit;
    CHECK(onnxllm_scheduler_submit(s, &p, &r, &e) == ONNXLLM_OK);
    onnxllm_request_wait(r, &res);
    onnxllm_request_free(r);
    CHECK_EQ_INT(admit, 1000 + 11); /* the same prompt: all but its last token reused */
    CHECK_EQ_INT(res.n_cached, 11);
    forced[0] = V;
    p.forced = forced;
    p.n_forced = 1;
    CHECK_EQ_INT(onnxllm_scheduler_submit(s, &p, &r, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    onnxllm_scheduler_free(s);
    onnxllm_model_free(m);
}

static bool collect(int32_t t, void *u) {
    struct {
        int32_t *out;
        int n;
    } *c = u;
    if (c->n < 16) c->out[c->n] = t;
    c->n++;
    return true;
}

/* ---- constrained decoding ----------------------------------------------------------------*/

/* A byte-level tokenizer.json for the tiny models (as tests/grammar/make_byte_tokenizer.mjs):
 * 0 <pad>, 1 <s>, 2 <|end|> (the presets' pad/bos/eos), bytes at 3..258, <|tool_call|> 259,
 * <|/tool_call|> 260. GPT-2's byte-to-character table. */
static onnxllm_tokenizer *byte_tokenizer(void) {
    int bs[256], cs[256], n = 0, k = 0;
    for (int b = 0; b < 256; b++)
        if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) bs[n] = b, cs[n++] = b;
    for (int b = 0; b < 256; b++)
        if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255))) bs[n] = b, cs[n++] = 256 + k++;
    size_t cap = 16384, len = 0;
    char *j = malloc(cap);
    len += (size_t)snprintf(j + len, cap - len,
                            "{\"version\":\"1.0\",\"added_tokens\":["
                            "{\"id\":0,\"content\":\"<pad>\",\"special\":true},"
                            "{\"id\":1,\"content\":\"<s>\",\"special\":true},"
                            "{\"id\":2,\"content\":\"<|end|>\",\"special\":true},"
                            "{\"id\":259,\"content\":\"<|tool_call|>\",\"special\":false},"
                            "{\"id\":260,\"content\":\"<|/tool_call|>\",\"special\":false}],"
                            "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                            "\"trim_offsets\":true,\"use_regex\":false},\"post_processor\":null,"
                            "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,"
                            "\"use_regex\":false},\"model\":{\"type\":\"BPE\",\"vocab\":{");
    for (int i = 0; i < 256; i++)
        len += (size_t)snprintf(j + len, cap - len, "%s\"\\u%04x\":%d", i ? "," : "", cs[i], 3 + bs[i]);
    len += (size_t)snprintf(j + len, cap - len, "},\"merges\":[]}}");
    onnxllm_tokenizer *tok = NULL;
    onnxllm_error e = {0};
    if (onnxllm_tokenizer_load_from_memory(j, len, "byte-tokenizer", &tok, &e)) printf("  tokenizer: %s\n", e.message);
    free(j);
    return tok;
}

static const char TOOLS[] =
    "[{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\","
    "\"maxLength\":12},\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7}},\"required\":[\"city\"],"
    "\"additionalProperties\":false}},{\"name\":\"stop\",\"parameters\":{\"type\":\"object\",\"properties\":{}}}]";
static const char SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":8},\"tags\":{\"type\":\"array\","
    "\"items\":{\"enum\":[\"a\",\"b\"]},\"maxItems\":3}},\"required\":[\"name\",\"tags\"],\"additionalProperties\":false}";

/* The grammars the constrained tests use: a forced single call, a schema, auto tools. */
static int grammars(const onnxllm_grammar_vocab *v, onnxllm_grammar *g[3]) {
    onnxllm_error e = {0};
    int bad = 0;
    /* compact: the tiny context (128) holds whole documents more often */
    onnxllm_grammar_params gp = onnxllm_grammar_default_params();
    gp.whitespace = ONNXLLM_WS_COMPACT;
    if (onnxllm_grammar_compile_tools(v, TOOLS, "\"required\"", false, &gp, &g[0], &e)) bad++, printf("  %s\n", e.message);
    if (onnxllm_grammar_compile_json_schema(v, SCHEMA, strlen(SCHEMA), &gp, &g[1], &e)) bad++, printf("  %s\n", e.message);
    if (onnxllm_grammar_compile_tools(v, TOOLS, NULL, true, NULL, &g[2], &e)) bad++, printf("  %s\n", e.message);
    return bad;
}

/* The engine alone under the grammar (onnxllm_generate_ex, greedy). */
static int solo_constrained(onnxllm_model *m, const onnxllm_grammar *g, const int32_t *prompt, int n, int max_new,
                            int32_t *out, onnxllm_stop_reason *stop) {
    onnxllm_sequence *s = NULL;
    onnxllm_matcher *mt = NULL;
    onnxllm_error e = {0};
    onnxllm_generate_result r = {0};
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    onnxllm_generate_params gp = onnxllm_generate_default_params();
    gp.sampler = &sp;
    gp.max_new_tokens = max_new;
    int got = -1;
    if (onnxllm_matcher_create(g, &mt, &e) || onnxllm_sequence_create(m, &s, &e) ||
        onnxllm_sequence_append(s, prompt, (size_t)n, &e) || (gp.matcher = mt, onnxllm_generate_ex(s, &gp, &r, &e))) {
        printf("  solo constrained: %s\n", e.message);
    } else {
        got = r.n_generated;
        *stop = r.stop;
        memcpy(out, onnxllm_sequence_tokens(s) + n, sizeof(int32_t) * (size_t)got);
    }
    onnxllm_matcher_free(mt);
    onnxllm_sequence_free(s);
    return got;
}

/* A model, the byte tokenizer, a grammar vocabulary over the model's ids, the three grammars. */
typedef struct gfix {
    onnxllm_model *m;
    onnxllm_tokenizer *tok;
    onnxllm_grammar_vocab *v;
    onnxllm_grammar *g[3];
    int V;
    size_t n_eos;
    const int32_t *eos;
} gfix;

static bool gfix_open(gfix *f, const char *model) {
    memset(f, 0, sizeof *f);
    onnxllm_error e = {0};
    f->m = load(model);
    f->tok = byte_tokenizer();
    CHECK(f->m && f->tok);
    if (!f->m || !f->tok) return false;
    f->V = onnxllm_model_vocab_size(f->m);
    f->eos = onnxllm_model_eos(f->m, &f->n_eos);
    CHECK(onnxllm_grammar_vocab_create(f->tok, f->V, f->eos, f->n_eos, &f->v, &e) == ONNXLLM_OK);
    CHECK_EQ_INT(f->v ? grammars(f->v, f->g) : 1, 0);
    return f->v && f->g[0] && f->g[1] && f->g[2];
}

static void gfix_close(gfix *f) {
    for (int i = 0; i < 3; i++) onnxllm_grammar_free(f->g[i]);
    onnxllm_grammar_vocab_free(f->v);
    onnxllm_tokenizer_free(f->tok);
    onnxllm_model_free(f->m);
}

/* Requests under grammars, 3 slots at once, greedy: the same tokens as generate_ex under
 * the same grammar (which computes forced runs the same way), a finished output exactly
 * when the stop is eos, and the text re-accepted by a fresh matcher. tiny-gqa prompts
 * start past its rotary switch (32), so the forced runs need no splitting there. */
static void constrained_vs_generate_ex(const char *model) {
    gfix f;
    if (!gfix_open(&f, model)) {
        gfix_close(&f);
        return;
    }
    onnxllm_model *m = f.m;
    int V = f.V;
    onnxllm_grammar **g = f.g;
    onnxllm_error e = {0};
    enum { N = 6 };
    job *jobs = calloc(N, sizeof *jobs);
    onnxllm_matcher *mt[N] = {0};
    onnxllm_scheduler *s = sched(m, 3, NULL, 0);
    for (int i = 0; s && g[0] && g[1] && g[2] && i < N; i++) {
        make_prompt(jobs[i].prompt, 36 + i, V, 40 + i);
        jobs[i].n_prompt = 36 + i;
        jobs[i].max_new = 80;
        CHECK(onnxllm_matcher_create(g[i % 3], &mt[i], &e) == ONNXLLM_OK);
        onnxllm_request_params p = onnxllm_request_default_params();
        p.prompt = jobs[i].prompt;
        p.n_prompt = (size_t)jobs[i].n_prompt;
        p.max_new_tokens = jobs[i].max_new;
        p.on_token = on_token;
        p.on_done = on_done;
        p.user = &jobs[i];
        p.matcher = mt[i];
        CHECK(onnxllm_scheduler_submit(s, &p, &jobs[i].req, &e) == ONNXLLM_OK);
    }
    int finished = 0;
    for (int i = 0; s && g[0] && g[1] && g[2] && i < N; i++) {
        onnxllm_request_wait(jobs[i].req, NULL);
        onnxllm_request_free(jobs[i].req);
        int32_t ref[MAXGEN];
        onnxllm_stop_reason stop = ONNXLLM_STOP_NONE;
        int nref = solo_constrained(m, g[i % 3], jobs[i].prompt, jobs[i].n_prompt, jobs[i].max_new, ref, &stop);
        int n = atomic_load(&jobs[i].n_out);
        char what[96];
        snprintf(what, sizeof what, "%s constrained request %d (grammar %d)", model, i, i % 3);
        CHECK(same(what, jobs[i].out, n, ref, nref));
        CHECK_EQ_INT(jobs[i].res.status, ONNXLLM_OK);
        CHECK_EQ_INT(jobs[i].res.stop, stop);
        CHECK(jobs[i].res.stop == ONNXLLM_STOP_EOS || jobs[i].res.stop == ONNXLLM_STOP_MAX_TOKENS);
        CHECK_EQ_INT(onnxllm_matcher_is_finished(mt[i]), jobs[i].res.stop == ONNXLLM_STOP_EOS);
        if (jobs[i].res.stop == ONNXLLM_STOP_EOS) {
            finished++;
            /* the text without its eos, through a fresh matcher: a complete document */
            onnxllm_matcher *chk = NULL;
            CHECK(onnxllm_matcher_create(g[i % 3], &chk, &e) == ONNXLLM_OK);
            for (int t = 0; chk && t < n - 1; t++) CHECK(onnxllm_matcher_accept(chk, jobs[i].out[t], &e) == ONNXLLM_OK);
            CHECK(chk && onnxllm_matcher_is_accepting(chk));
            onnxllm_matcher_free(chk);
        }
        onnxllm_matcher_free(mt[i]);
    }
    printf("  %s: %d of %d constrained outputs finished (the others hit max tokens)\n", model, finished, N);
    CHECK(finished > 0);
    onnxllm_scheduler_free(s);
    gfix_close(&f);
    free(jobs);
}

TEST(constrained_equals_generate_ex) {
    constrained_vs_generate_ex("tiny-mha");
    constrained_vs_generate_ex("tiny-gqa");
}

/* Sampled (temperature 1, several seeds) under the tool grammar: every request that
 * ends on eos is one valid call; a forced token the grammar refuses fails the request;
 * a grammar over another vocabulary size and a finished matcher are refused at submit. */
TEST(constrained_sampled_and_refusals) {
    gfix f;
    if (!gfix_open(&f, "tiny-mha")) {
        gfix_close(&f);
        return;
    }
    int V = f.V;
    const int32_t *eos = f.eos;
    onnxllm_grammar **g = f.g;
    onnxllm_grammar_vocab *v_small = NULL;
    onnxllm_grammar *g_small = NULL;
    onnxllm_error e = {0};
    CHECK(onnxllm_grammar_vocab_create(f.tok, 0, eos, f.n_eos, &v_small, &e) == ONNXLLM_OK); /* 261 ids */
    CHECK(onnxllm_grammar_compile_json_schema(v_small, SCHEMA, strlen(SCHEMA), NULL, &g_small, &e) == ONNXLLM_OK);
    onnxllm_scheduler *s = sched(f.m, 4, NULL, 0);
    enum { N = 8 };
    job *jobs = calloc(N, sizeof *jobs);
    onnxllm_matcher *mt[N] = {0};
    int finished = 0;
    for (int i = 0; s && g[0] && i < N; i++) {
        make_prompt(jobs[i].prompt, 10 + i, V, 70 + i);
        CHECK(onnxllm_matcher_create(g[0], &mt[i], &e) == ONNXLLM_OK);
        onnxllm_request_params p = onnxllm_request_default_params();
        p.prompt = jobs[i].prompt;
        p.n_prompt = (size_t)(10 + i);
        p.max_new_tokens = 100;
        p.sampler = onnxllm_sampler_default_params();
        p.sampler.temperature = 1.0f;
        p.sampler.top_k = 0;
        p.sampler.top_p = 1.0f;
        p.sampler.seed = (uint64_t)(i + 1);
        p.on_token = on_token;
        p.on_done = on_done;
        p.user = &jobs[i];
        p.matcher = mt[i];
        CHECK(onnxllm_scheduler_submit(s, &p, &jobs[i].req, &e) == ONNXLLM_OK);
    }
    for (int i = 0; s && g[0] && i < N; i++) {
        onnxllm_request_wait(jobs[i].req, NULL);
        onnxllm_request_free(jobs[i].req);
        CHECK_EQ_INT(jobs[i].res.status, ONNXLLM_OK);
        int n = atomic_load(&jobs[i].n_out);
        CHECK(n >= 1 && jobs[i].out[0] == 259); /* <|tool_call|>: forced, never sampled */
        if (jobs[i].res.stop == ONNXLLM_STOP_EOS) {
            CHECK(onnxllm_matcher_is_finished(mt[i]));
            CHECK(n >= 2 && jobs[i].out[n - 2] == 260); /* <|/tool_call|> then eos */
        } else {
            CHECK_EQ_INT(jobs[i].res.stop, ONNXLLM_STOP_MAX_TOKENS);
        }
        finished += jobs[i].res.stop == ONNXLLM_STOP_EOS;
        onnxllm_matcher_free(mt[i]);
    }
    printf("  sampled: %d of %d calls finished (the others hit max tokens)\n", finished, N);
    CHECK(finished > 0);
    /* forced tokens the grammar refuses: the request fails, naming the token */
    onnxllm_matcher *m1 = NULL, *m2 = NULL;
    CHECK(onnxllm_matcher_create(g[1], &m1, &e) == ONNXLLM_OK);
    int32_t prompt[8], bad[2] = {3 + 'x', 3 + 'y'};
    make_prompt(prompt, 8, V, 3);
    onnxllm_request_params p = onnxllm_request_default_params();
    p.prompt = prompt;
    p.n_prompt = 8;
    p.max_new_tokens = 8;
    p.forced = bad;
    p.n_forced = 2;
    p.matcher = m1;
    onnxllm_request *r = NULL;
    onnxllm_request_result res;
    CHECK(s && onnxllm_scheduler_submit(s, &p, &r, &e) == ONNXLLM_OK);
    onnxllm_request_wait(r, &res);
    onnxllm_request_free(r);
    CHECK_EQ_INT(res.status, ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(res.n_generated, 0);
    /* a grammar over the tokenizer's 261 ids for a model of 1000: refused */
    p.forced = NULL;
    p.n_forced = 0;
    CHECK(onnxllm_matcher_create(g_small, &m2, &e) == ONNXLLM_OK);
    p.matcher = m2;
    CHECK(s && onnxllm_scheduler_submit(s, &p, &r, &e) == ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "1000") != NULL);
    /* a finished output: refused */
    onnxllm_matcher_reset(m1);
    CHECK(onnxllm_matcher_accept_bytes(m1, "{\"name\":\"x\",\"tags\":[]}", 22, &e) == ONNXLLM_OK);
    CHECK(onnxllm_matcher_accept(m1, eos[0], &e) == ONNXLLM_OK);
    p.matcher = m1;
    CHECK(s && onnxllm_scheduler_submit(s, &p, &r, &e) == ONNXLLM_ERR_INVALID_ARGUMENT);
    onnxllm_matcher_free(m1);
    onnxllm_matcher_free(m2);
    onnxllm_scheduler_free(s);
    onnxllm_grammar_free(g_small);
    onnxllm_grammar_vocab_free(v_small);
    gfix_close(&f);
    free(jobs);
}

/* ---- random events ---------------------------------------------------------------------*/

static uint64_t rng(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

TEST(random_submit_cancel_finish) {
    onnxllm_model *m = load("tiny-gqa");
    if (!m) {
        CHECK(0);
        return;
    }
    int V = onnxllm_model_vocab_size(m);
    onnxllm_scheduler_params p = onnxllm_scheduler_default_params();
    p.n_slots = 3;
    p.max_queue = 4;
    p.prefill_chunk = 8;
    p.kv_budget_bytes = 2048 * 200; /* evictions too */
    onnxllm_scheduler *s = NULL;
    onnxllm_error e = {0};
    CHECK(onnxllm_scheduler_create(m, &p, &s, &e) == ONNXLLM_OK);
    enum { LIVE = 8, EVENTS = 1000 };
    job *j = calloc(LIVE, sizeof *j);
    bool used[LIVE] = {0};
    uint64_t x = 0x5eed;
    int submitted = 0, refused = 0, cancelled = 0, finished = 0, checked = 0;
    for (int ev = 0; ev < EVENTS; ev++) {
        int k = (int)(rng(&x) % LIVE);
        int what = (int)(rng(&x) % 4);
        if (!used[k]) {
            /* submit: prompts share prefixes so reuse and copies happen */
            int n = 1 + (int)(rng(&x) % 40);
            make_prompt(j[k].prompt, n, V, (int)(rng(&x) % 3));
            j[k].n_prompt = n;
            j[k].max_new = 1 + (int)(rng(&x) % 12);
            j[k].cancel_after = 0;
            j[k].cancel_at_progress = 0;
            onnxllm_status st = submit(s, &j[k], &e);
            if (st == ONNXLLM_ERR_OVERLOADED) refused++;
            else if (st) CHECK(0);
            else used[k] = true, submitted++;
        } else if (what == 0) {
            onnxllm_request_cancel(j[k].req);
            cancelled++;
        } else if (what == 1 || atomic_load(&j[k].done_calls)) {
            onnxllm_request_wait(j[k].req, NULL);
            CHECK_EQ_INT(atomic_load(&j[k].done_calls), 1);
            if (j[k].res.status == ONNXLLM_OK && checked < 40) { /* a sample checked against the engine */
                int32_t ref[MAXGEN];
                int nref = solo(m, j[k].prompt, j[k].n_prompt, j[k].max_new, ref);
                CHECK(same("random event", j[k].out, atomic_load(&j[k].n_out), ref, nref));
                checked++;
            }
            onnxllm_request_free(j[k].req);
            used[k] = false;
            finished++;
        } else {
            usleep((useconds_t)(rng(&x) % 300));
        }
    }
    for (int k = 0; k < LIVE; k++)
        if (used[k]) onnxllm_request_free(j[k].req);
    printf("  %d submitted, %d refused (queue full), %d cancels, %d finished, %d checked against the engine\n",
           submitted, refused, cancelled, finished, checked);
    onnxllm_scheduler_stats st;
    onnxllm_scheduler_get_stats(s, &st);
    CHECK_EQ_INT(st.running, 0);
    CHECK_EQ_INT(st.waiting, 0);
    CHECK(st.kv_bytes <= st.kv_budget_bytes);
    onnxllm_scheduler_free(s);
    onnxllm_model_free(m);
    free(j);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_scheduler MODELS_DIR SCRATCH_DIR\n");
        return 2;
    }
    models_dir = argv[1];
    scratch = argv[2];
    mkdir(scratch, 0755);
    RUN(batched_equals_solo_fp32);
    RUN(batched_equals_solo_int4);
    RUN(batched_equals_solo_other_shapes);
    RUN(unbatched_path_equals_solo);
    RUN(batch_logits_vs_solo);
    RUN(prefix_reuse_own_slot);
    RUN(prefix_copied_from_busy_slot);
    RUN(prefix_reuse_rotary_rule);
    RUN(prefix_after_eviction);
    RUN(prefix_after_eviction_to_disk);
    RUN(prefix_from_disk_after_restart);
    RUN(longrope_rewind_and_reuse);
    RUN(short_overlap_keeps_other_cache);
    RUN(cancel_mid_prefill_and_mid_decode);
    RUN(admission_refusals);
    RUN(create_and_submit_errors);
    RUN(handle_lifetimes);
    RUN(forced_tokens_and_admit);
    RUN(constrained_equals_generate_ex);
    RUN(constrained_sampled_and_refusals);
    RUN(random_submit_cancel_finish);
    return test_summary("scheduler");
}
