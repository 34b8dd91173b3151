/* test_oracle.c — greedy tokens identical to onnxruntime-genai 0.15.2 on every
 * tiny model variant (GQA/MHA heads, partial rotary, LongRoPE switch crossed by
 * prompt and by generation, tied/untied lm_head, int4/fp32, 1 and 2 layers), in
 * shared and non-shared KV modes, through the library and the CLI; plus the
 * engine behaviours genai cannot check directly (sampling seeds, rewind/prefix
 * reuse, cancellation from another thread, several sequences on one model).
 *
 * argv[1]: folder with the models built by the fixtures; argv[2]: the CLI. */
#include "test.h"
#include "oracle.h"
#include "onnxllm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

static const char *models_dir, *cli;
enum { MAXTOK = 512, CTX = 128 };

static void model_path(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", models_dir, name); }

static void make_prompt(int32_t *p, int n, int vocab, int salt) {
    for (int i = 0; i < n; i++) p[i] = (int32_t)((i * 37 + salt * 101 + 11) % (vocab - 3) + 3);
}

static onnxllm_model *load(const char *dir, int threads, int max_length, bool no_shared) {
    onnxllm_model_params p = onnxllm_model_default_params();
    p.ep = "cpu"; /* the fp16 (GPU-layout) model names cuda in its config; ORT's CPU kernels run it too */
    p.n_threads = threads;
    p.max_length = max_length;
    p.no_shared_kv = no_shared;
    onnxllm_model *m = NULL;
    onnxllm_error e = {0};
    if (onnxllm_model_load(dir, &p, &m, &e)) printf("  load %s: %s\n", dir, e.message);
    return m;
}

/* Our greedy generation; returns count (or -1). */
static int ours(onnxllm_model *m, const int32_t *prompt, int n, int max_new, int32_t *out) {
    onnxllm_sequence *s = NULL;
    onnxllm_error e = {0};
    onnxllm_generate_result r;
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    int got = -1;
    if (onnxllm_sequence_create(m, &s, &e) || onnxllm_sequence_append(s, prompt, (size_t)n, &e) ||
        onnxllm_generate(s, &sp, max_new, NULL, NULL, &r, &e)) {
        printf("  ours: %s\n", e.message);
    } else {
        got = r.n_generated;
        memcpy(out, onnxllm_sequence_tokens(s) + n, sizeof(int32_t) * (size_t)got);
    }
    onnxllm_sequence_free(s);
    return got;
}

static bool same_tokens(const char *what, const int32_t *a, int na, const int32_t *b, int nb) {
    bool same = na == nb && na >= 0;
    for (int i = 0; same && i < na; i++) same = a[i] == b[i];
    if (!same) {
        printf("  %s differ:\n    genai (%d):", what, na);
        for (int i = 0; i < na; i++) printf(" %d", a[i]);
        printf("\n    ours  (%d):", nb);
        for (int i = 0; i < nb; i++) printf(" %d", b[i]);
        printf("\n");
    }
    return same;
}

static const char *const variants[] = {"tiny-gqa",      "tiny-mha",           "tiny-gqa-untied", "tiny-1layer",
                                       "tiny-gqa-int4", "tiny-gqa-untied-int4", "tiny-mha-int4",
                                       "tiny-gqa-fp16"};

/* Prompt lengths around tiny-gqa's LongRoPE switch (original_max_position_embeddings 32):
 * below, at, just above, far above; 20 + 40 new tokens crosses it during generation. */
static const int prompt_lens[] = {1, 5, 20, 31, 32, 33, 60};

TEST(greedy_matches_genai_all_variants) {
    for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
        char dir[512];
        model_path(dir, sizeof dir, variants[v]);
        onnxllm_model *m = load(dir, 1, CTX, false);
        CHECK(m != NULL);
        if (!m) continue;
        int vocab = onnxllm_model_vocab_size(m);
        for (size_t k = 0; k < sizeof prompt_lens / sizeof *prompt_lens; k++) {
            int32_t prompt[MAXTOK], ref[MAXTOK], got[MAXTOK];
            char eb[512], what[640];
            int n = prompt_lens[k];
            make_prompt(prompt, n, vocab, (int)k);
            int nr = oracle_generate(dir, prompt, (size_t)n, 40, CTX, 1, ref, eb, sizeof eb);
            if (nr < 0) printf("  %s\n", eb);
            CHECK(nr > 0);
            int ng = ours(m, prompt, n, 40, got);
            snprintf(what, sizeof what, "%s prompt %d", variants[v], n);
            CHECK(same_tokens(what, ref, nr, got, ng));
        }
        onnxllm_model_free(m);
    }
}

TEST(max_length_stop_and_non_shared_kv_match_genai) {
    for (size_t v = 0; v < 3; v++) {
        char dir[512];
        model_path(dir, sizeof dir, variants[v]);
        onnxllm_model *shared = load(dir, 1, CTX, false), *sep = load(dir, 1, CTX, true);
        CHECK(shared && sep);
        if (!shared || !sep) {
            onnxllm_model_free(shared);
            onnxllm_model_free(sep);
            continue;
        }
        int32_t prompt[MAXTOK], ref[MAXTOK], a[MAXTOK], b[MAXTOK];
        char eb[512];
        make_prompt(prompt, 100, onnxllm_model_vocab_size(shared), 9);
        /* 100 + 40 > 128: both engines stop at max_length (28 new tokens). */
        int nr = oracle_generate(dir, prompt, 100, 40, CTX, 1, ref, eb, sizeof eb);
        CHECK_EQ_INT(nr, 28);
        CHECK(same_tokens("shared, max_length stop", ref, nr, a, ours(shared, prompt, 100, 40, a)));
        CHECK(same_tokens("non-shared KV", ref, nr, b, ours(sep, prompt, 100, 40, b)));
        onnxllm_model_free(shared);
        onnxllm_model_free(sep);
    }
}

TEST(two_threads_match_genai) {
    char dir[512];
    model_path(dir, sizeof dir, "tiny-gqa-int4");
    onnxllm_model *m = load(dir, 2, 64, false);
    CHECK(m != NULL);
    if (!m) return;
    int32_t prompt[64], ref[64], got[64];
    char eb[512];
    make_prompt(prompt, 24, onnxllm_model_vocab_size(m), 4);
    int nr = oracle_generate(dir, prompt, 24, 30, 64, 2, ref, eb, sizeof eb);
    CHECK(same_tokens("2 threads", ref, nr, got, ours(m, prompt, 24, 30, got)));
    onnxllm_model_free(m);
}

TEST(cli_contract_prints_genai_ids) {
    char dir[512], cmd[2048], line[4096] = "";
    model_path(dir, sizeof dir, "tiny-gqa");
    int32_t prompt[3] = {5, 17, 3}, ref[64];
    char eb[512];
    int nr = oracle_generate(dir, prompt, 3, 40, 4096 < CTX ? 4096 : CTX, 1, ref, eb, sizeof eb);
    CHECK(nr > 0);
    snprintf(cmd, sizeof cmd, "%s generate -m %s --ids 5,17,3 -n 40 --greedy --print-ids --threads 1 2>/dev/null", cli,
             dir);
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    if (!f) return;
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    char extra[16];
    CHECK(fgets(extra, sizeof extra, f) == NULL); /* exactly one line on stdout */
    CHECK_EQ_INT(WEXITSTATUS(pclose(f)), 0);
    char want[4096] = "";
    size_t o = 0;
    for (int i = 0; i < nr; i++) o += (size_t)snprintf(want + o, sizeof want - o, i ? ",%d" : "%d", ref[i]);
    snprintf(want + o, sizeof want - o, "\n");
    CHECK_EQ_STR(line, want);
    /* usage errors exit 2 */
    snprintf(cmd, sizeof cmd, "%s generate -m %s --ids 5,x 2>/dev/null >/dev/null", cli, dir);
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 2);
    snprintf(cmd, sizeof cmd, "%s generate -m %s --ids 5 --ep tpu 2>/dev/null >/dev/null", cli, dir);
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 2);
    /* an id the model does not have: a failure (1), known only once the model is loaded */
    snprintf(cmd, sizeof cmd, "%s generate -m %s --ids 99999 2>/dev/null >/dev/null", cli, dir);
    CHECK_EQ_INT(WEXITSTATUS(system(cmd)), 1);
}

static int sample_run(onnxllm_model *m, const int32_t *prompt, int n, onnxllm_sampler_params sp, int32_t *out) {
    onnxllm_sequence *s = NULL;
    onnxllm_generate_result r = {0};
    onnxllm_error e = {0};
    int got = -1;
    if (!onnxllm_sequence_create(m, &s, &e) && !onnxllm_sequence_append(s, prompt, (size_t)n, &e) &&
        !onnxllm_generate(s, &sp, 30, NULL, NULL, &r, &e)) {
        got = r.n_generated;
        memcpy(out, onnxllm_sequence_tokens(s) + n, sizeof(int32_t) * (size_t)got);
    } else {
        printf("  %s\n", e.message);
    }
    onnxllm_sequence_free(s);
    return got;
}

TEST(sampling_seeds) {
    char dir[512];
    model_path(dir, sizeof dir, "tiny-gqa");
    onnxllm_model *m = load(dir, 1, CTX, false);
    CHECK(m != NULL);
    if (!m) return;
    int32_t prompt[8], a[64], b[64], c[64], g[64];
    make_prompt(prompt, 8, onnxllm_model_vocab_size(m), 1);
    onnxllm_sampler_params sp = onnxllm_sampler_default_params();
    sp.temperature = 1.5f; /* flat enough that seeds matter on random weights */
    sp.seed = 7;
    int na = sample_run(m, prompt, 8, sp, a), nb = sample_run(m, prompt, 8, sp, b);
    CHECK(same_tokens("same seed", a, na, b, nb));
    sp.seed = 8;
    int nc = sample_run(m, prompt, 8, sp, c);
    int diff = nc != na;
    for (int i = 0; !diff && i < na; i++) diff = a[i] != c[i];
    CHECK(diff);
    sp.top_k = 1;
    int n1 = sample_run(m, prompt, 8, sp, c);
    int ng = sample_run(m, prompt, 8, onnxllm_sampler_greedy_params(), g);
    CHECK(same_tokens("top-k 1 vs greedy", g, ng, c, n1));
    onnxllm_model_free(m);
}

TEST(rewind_and_prefix_reuse) {
    char dir[512];
    model_path(dir, sizeof dir, "tiny-gqa");
    for (int mode = 0; mode < 2; mode++) {
        onnxllm_model *m = load(dir, 1, CTX, mode == 1);
        CHECK(m != NULL);
        if (!m) return;
        int32_t prompt[40], fresh[64], again[64];
        make_prompt(prompt, 40, onnxllm_model_vocab_size(m), 5);
        int nf = ours(m, prompt, 40, 20, fresh);
        onnxllm_sequence *s = NULL;
        onnxllm_error e = {0};
        onnxllm_generate_result r;
        onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
        CHECK_EQ_INT(onnxllm_sequence_create(m, &s, &e), ONNXLLM_OK);
        /* A different conversation first, then rewind to a shared 25-token prefix and
         * append the rest of this prompt: same tokens as from scratch. */
        int32_t other[40];
        memcpy(other, prompt, sizeof other);
        for (int i = 25; i < 40; i++) other[i] = (other[i] + 50) % onnxllm_model_vocab_size(m);
        CHECK_EQ_INT(onnxllm_sequence_append(s, other, 40, &e), ONNXLLM_OK);
        CHECK_EQ_INT(onnxllm_generate(s, &sp, 10, NULL, NULL, &r, &e), ONNXLLM_OK);
        CHECK_EQ_INT(onnxllm_sequence_rewind_to(s, 25, &e), ONNXLLM_OK);
        CHECK_EQ_INT(onnxllm_sequence_length(s), 25);
        CHECK_EQ_INT(onnxllm_sequence_append(s, prompt + 25, 15, &e), ONNXLLM_OK);
        CHECK_EQ_INT(onnxllm_generate(s, &sp, 20, NULL, NULL, &r, &e), ONNXLLM_OK);
        memcpy(again, onnxllm_sequence_tokens(s) + 40, sizeof(int32_t) * (size_t)r.n_generated);
        CHECK(same_tokens(mode ? "prefix reuse (non-shared)" : "prefix reuse", fresh, nf, again, r.n_generated));
        /* Rewind into the generated part, regenerate: same continuation. */
        CHECK_EQ_INT(onnxllm_sequence_rewind_to(s, 45, &e), ONNXLLM_OK);
        CHECK(onnxllm_sequence_logits(s) == NULL);
        CHECK_EQ_INT(onnxllm_generate(s, &sp, 15, NULL, NULL, &r, &e), ONNXLLM_OK);
        memcpy(again, onnxllm_sequence_tokens(s) + 45, sizeof(int32_t) * (size_t)r.n_generated);
        CHECK(same_tokens("rewind into generated", fresh + 5, nf - 5, again, r.n_generated));
        CHECK_EQ_INT(onnxllm_sequence_rewind_to(s, 1000, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
        onnxllm_sequence_free(s);
        onnxllm_model_free(m);
    }
}

/* onnxllm_sequence_reusable_prefix: the longest common prefix, at most n - 1, and
 * the positions actually reused; keeping that many and appending the rest gives the
 * fresh run's tokens. (The LongRoPE rule needs 4097+ tokens: tests/server checks it
 * on the demo model.) */
TEST(reusable_prefix) {
    char dir[512];
    model_path(dir, sizeof dir, "tiny-gqa");
    onnxllm_model *m = load(dir, 1, CTX, false);
    CHECK(m != NULL);
    if (!m) return;
    int32_t a[40], b[40], fresh[64], again[64];
    make_prompt(a, 40, onnxllm_model_vocab_size(m), 9);
    memcpy(b, a, sizeof b);
    for (int i = 30; i < 40; i++) b[i] = (b[i] + 7) % onnxllm_model_vocab_size(m);
    int nf = ours(m, b, 40, 12, fresh);
    onnxllm_sequence *s = NULL;
    onnxllm_error e = {0};
    onnxllm_generate_result r;
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    size_t cached = 99;
    CHECK_EQ_INT(onnxllm_sequence_create(m, &s, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_reusable_prefix(s, a, 40, &cached), 0); /* nothing computed yet */
    CHECK_EQ_INT(cached, 0);
    CHECK_EQ_INT(onnxllm_sequence_append(s, a, 40, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_reusable_prefix(s, a, 40, &cached), 39); /* same prompt: one token re-runs */
    CHECK_EQ_INT(cached, 38);
    CHECK_EQ_INT(onnxllm_sequence_reusable_prefix(s, a, 20, &cached), 19);
    CHECK_EQ_INT(onnxllm_sequence_reusable_prefix(s, b, 40, &cached), 30);
    CHECK_EQ_INT(cached, 29);
    CHECK_EQ_INT(onnxllm_sequence_reusable_prefix(s, b, 0, &cached), 0);
    size_t keep = onnxllm_sequence_reusable_prefix(s, b, 40, NULL);
    CHECK_EQ_INT(onnxllm_sequence_rewind_to(s, keep, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_append(s, b + keep, 40 - keep, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_generate(s, &sp, 12, NULL, NULL, &r, &e), ONNXLLM_OK);
    memcpy(again, onnxllm_sequence_tokens(s) + 40, sizeof(int32_t) * (size_t)r.n_generated);
    CHECK(same_tokens("after reusable_prefix", fresh, nf, again, r.n_generated));
    onnxllm_sequence_free(s);
    onnxllm_model_free(m);
}

/* ---- cancellation from another thread ---------------------------------------------*/
typedef struct {
    onnxllm_sequence *s;
    atomic_int produced;
    atomic_bool sent;
} cancel_ctx;

/* The 5th token's callback waits (up to 10 s) until the other thread has called
 * cancel, so the test does not depend on scheduling on a loaded machine. */
static bool slow_cb(int32_t tok, void *user) {
    (void)tok;
    cancel_ctx *c = user;
    if (atomic_fetch_add(&c->produced, 1) + 1 == 5)
        for (int i = 0; i < 10000 && !atomic_load(&c->sent); i++) usleep(1000);
    return true;
}

static void *canceller(void *arg) {
    cancel_ctx *c = arg;
    while (atomic_load(&c->produced) < 5) usleep(200);
    onnxllm_sequence_cancel(c->s);
    atomic_store(&c->sent, true);
    return NULL;
}

TEST(cancel_from_another_thread) {
    char dir[512];
    model_path(dir, sizeof dir, "tiny-gqa");
    onnxllm_model *m = load(dir, 1, CTX, false);
    CHECK(m != NULL);
    if (!m) return;
    int32_t prompt[10], ref[MAXTOK];
    char eb[512];
    make_prompt(prompt, 10, onnxllm_model_vocab_size(m), 2);
    int nr = oracle_generate(dir, prompt, 10, 100, CTX, 1, ref, eb, sizeof eb);
    cancel_ctx c = {NULL, 0, false};
    onnxllm_error e = {0};
    CHECK_EQ_INT(onnxllm_sequence_create(m, &c.s, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_append(c.s, prompt, 10, &e), ONNXLLM_OK);
    pthread_t th;
    pthread_create(&th, NULL, canceller, &c);
    onnxllm_generate_result r;
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    onnxllm_status st = onnxllm_generate(c.s, &sp, 100, slow_cb, &c, &r, &e);
    pthread_join(th, NULL);
    CHECK_EQ_INT(st, ONNXLLM_ERR_CANCELLED);
    CHECK_EQ_INT(r.stop, ONNXLLM_STOP_CANCELLED);
    CHECK_EQ_INT(r.n_generated, 5);
    /* Still usable: continuing gives genai's uninterrupted sequence. */
    int first = (int)onnxllm_sequence_length(c.s) - 10;
    CHECK_EQ_INT(onnxllm_generate(c.s, &sp, 100 - first, NULL, NULL, &r, &e), ONNXLLM_OK);
    int total = (int)onnxllm_sequence_length(c.s) - 10;
    CHECK(same_tokens("after cancel", ref, nr, onnxllm_sequence_tokens(c.s) + 10, total));
    /* cancel before a run: the pending work is refused, state intact */
    size_t len = onnxllm_sequence_length(c.s);
    onnxllm_sequence_cancel(c.s);
    int32_t tok;
    onnxllm_sampler *smp = NULL;
    onnxllm_sampler_create(&sp, onnxllm_model_vocab_size(m), &smp, NULL);
    if (len < CTX) {
        CHECK_EQ_INT(onnxllm_sequence_step(c.s, smp, &tok, &e), ONNXLLM_ERR_CANCELLED);
        CHECK_EQ_INT(onnxllm_sequence_length(c.s), len);
    }
    onnxllm_sampler_free(smp);
    onnxllm_sequence_free(c.s);
    onnxllm_model_free(m);
}

TEST(interleaved_sequences_share_a_model) {
    char dir[512];
    model_path(dir, sizeof dir, "tiny-gqa-untied");
    onnxllm_model *m = load(dir, 1, CTX, false);
    CHECK(m != NULL);
    if (!m) return;
    int32_t p1[12], p2[30], r1[64], r2[64];
    char eb[512];
    make_prompt(p1, 12, onnxllm_model_vocab_size(m), 11);
    make_prompt(p2, 30, onnxllm_model_vocab_size(m), 12);
    int n1 = oracle_generate(dir, p1, 12, 25, CTX, 1, r1, eb, sizeof eb);
    int n2 = oracle_generate(dir, p2, 30, 25, CTX, 1, r2, eb, sizeof eb);
    onnxllm_sequence *a = NULL, *b = NULL;
    onnxllm_sampler *smp = NULL;
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    onnxllm_error e = {0};
    CHECK_EQ_INT(onnxllm_sequence_create(m, &a, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_create(m, &b, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sampler_create(&sp, onnxllm_model_vocab_size(m), &smp, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_append(a, p1, 12, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_append(b, p2, 30, &e), ONNXLLM_OK);
    int32_t g1[64], g2[64], t;
    int k1 = 0, k2 = 0;
    for (int i = 0; i < 25; i++) {
        if (k1 < n1 && (k1 == 0 || !onnxllm_model_is_eos(m, g1[k1 - 1])) && !onnxllm_sequence_step(a, smp, &t, &e))
            g1[k1++] = t;
        if (k2 < n2 && (k2 == 0 || !onnxllm_model_is_eos(m, g2[k2 - 1])) && !onnxllm_sequence_step(b, smp, &t, &e))
            g2[k2++] = t;
    }
    CHECK(same_tokens("interleaved A", r1, n1, g1, k1));
    CHECK(same_tokens("interleaved B", r2, n2, g2, k2));
    onnxllm_sampler_free(smp);
    onnxllm_sequence_free(a);
    onnxllm_sequence_free(b);
    onnxllm_model_free(m);
}

typedef struct {
    onnxllm_model *m;
    int32_t prompt[40];
    int n, got;
    int32_t out[64];
} conc_job;

static void *conc_run(void *arg) {
    conc_job *j = arg;
    j->got = ours(j->m, j->prompt, j->n, 30, j->out);
    return NULL;
}

/* Two threads, two sequences, one model (ORT runs on one session concurrently). */
TEST(concurrent_sequences_on_one_model) {
    char dir[512];
    model_path(dir, sizeof dir, "tiny-gqa-int4");
    onnxllm_model *m = load(dir, 1, CTX, false);
    CHECK(m != NULL);
    if (!m) return;
    conc_job jobs[2] = {{m, {0}, 9, 0, {0}}, {m, {0}, 33, 0, {0}}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        make_prompt(jobs[i].prompt, jobs[i].n, onnxllm_model_vocab_size(m), 20 + i);
        pthread_create(&th[i], NULL, conc_run, &jobs[i]);
    }
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        int32_t ref[64];
        char eb[512];
        int nr = oracle_generate(dir, jobs[i].prompt, (size_t)jobs[i].n, 30, CTX, 1, ref, eb, sizeof eb);
        CHECK(same_tokens(i ? "concurrent B" : "concurrent A", ref, nr, jobs[i].out, jobs[i].got));
    }
    onnxllm_model_free(m);
}

TEST(accessors_and_argument_errors) {
    char dir[512];
    model_path(dir, sizeof dir, "tiny-gqa");
    onnxllm_model *m = load(dir, 1, 0, false);
    CHECK(m != NULL);
    if (!m) return;
    CHECK_EQ_STR(onnxllm_model_type(m), "phi3");
    CHECK_EQ_STR(onnxllm_model_ep(m), "cpu");
    CHECK_EQ_STR(onnxllm_model_dir(m), dir);
    CHECK_EQ_INT(onnxllm_model_max_length(m), CTX); /* min(4096, context_length) */
    CHECK_EQ_INT(onnxllm_model_n_threads(m), 1);
    size_t ne = 0;
    const int32_t *eos = onnxllm_model_eos(m, &ne);
    CHECK(ne >= 1 && onnxllm_model_is_eos(m, eos[0]));
    CHECK(onnxllm_model_weight_bytes_per_token(m) > 0);
    onnxllm_sequence *s = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(onnxllm_sequence_create(m, &s, &e), ONNXLLM_OK);
    int32_t bad[2] = {1, 100000};
    CHECK_EQ_INT(onnxllm_sequence_append(s, bad, 2, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "outside") != NULL);
    CHECK_EQ_INT(onnxllm_sequence_length(s), 0);
    int32_t big[CTX + 1];
    make_prompt(big, CTX + 1, onnxllm_model_vocab_size(m), 0);
    CHECK_EQ_INT(onnxllm_sequence_append(s, big, CTX + 1, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "max_length") != NULL);
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    onnxllm_generate_result r;
    CHECK_EQ_INT(onnxllm_generate(s, &sp, 5, NULL, NULL, &r, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(onnxllm_sequence_append(s, big, 10, &e), ONNXLLM_OK);
    CHECK(onnxllm_sequence_logits(s) != NULL);
    onnxllm_sequence_free(s);
    onnxllm_model_free(m);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_engine_oracle MODELS_DIR ONNXLLM_CLI\n");
        return 2;
    }
    models_dir = argv[1];
    cli = argv[2];
    RUN(greedy_matches_genai_all_variants);
    RUN(max_length_stop_and_non_shared_kv_match_genai);
    RUN(two_threads_match_genai);
    RUN(cli_contract_prints_genai_ids);
    RUN(sampling_seeds);
    RUN(rewind_and_prefix_reuse);
    RUN(reusable_prefix);
    RUN(cancel_from_another_thread);
    RUN(interleaved_sequences_share_a_model);
    RUN(concurrent_sequences_on_one_model);
    RUN(accessors_and_argument_errors);
    oracle_shutdown();
    return test_summary("engine_oracle");
}
