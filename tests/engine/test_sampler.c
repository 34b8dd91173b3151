/* test_sampler.c — the sampler against a naive reference written from the
 * definitions (full sort, double precision): the empirical distribution of many
 * draws must match the reference distribution, tokens outside its support must
 * never appear, greedy must be the argmax, and seeds must reproduce. */
#include "test.h"
#include "onnxllm.h"

#include <math.h>
#include <stdlib.h>

/* ---- naive reference ---------------------------------------------------------*/
static const double *g_keys;
static int cmp_desc(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    if (g_keys[x] != g_keys[y]) return g_keys[x] > g_keys[y] ? -1 : 1;
    return x - y;
}

/* Penalised logits: each distinct token of the window once. */
static void ref_penalise(const onnxllm_sampler_params *p, const float *l, int V, const int32_t *h, int nh, double *out) {
    for (int i = 0; i < V; i++) out[i] = l[i];
    if (p->penalty_last_n == -1) return;
    int start = p->penalty_last_n > 0 && p->penalty_last_n < nh ? nh - p->penalty_last_n : 0;
    for (int t = 0; t < V; t++) {
        int count = 0;
        for (int i = start; i < nh; i++) count += h[i] == t;
        if (!count) continue;
        double x = out[t];
        if (p->repetition_penalty != 1.0f) x = x > 0 ? x / p->repetition_penalty : x * p->repetition_penalty;
        x -= p->presence_penalty + p->frequency_penalty * count;
        out[t] = (float)x;
    }
}

static void ref_dist(const onnxllm_sampler_params *p, const float *l, int V, const int32_t *h, int nh, double *prob) {
    double *x = malloc(sizeof(double) * V);
    int *idx = malloc(sizeof(int) * V);
    ref_penalise(p, l, V, h, nh, x);
    for (int i = 0; i < V; i++) prob[i] = 0, idx[i] = i;
    g_keys = x;
    qsort(idx, V, sizeof(int), cmp_desc);
    if (p->temperature <= 0 || p->top_k == 1) {
        prob[idx[0]] = 1;
        goto out;
    }
    int n = p->top_k > 0 && p->top_k < V ? p->top_k : V;
    double sum = 0;
    for (int i = 0; i < n; i++) sum += prob[idx[i]] = exp((x[idx[i]] - x[idx[0]]) / p->temperature);
    if (p->top_p < 1) {
        double cum = 0;
        int keep = 0;
        while (keep < n) {
            cum += prob[idx[keep++]];
            if (cum >= p->top_p * sum) break;
        }
        for (int i = keep; i < n; i++) prob[idx[i]] = 0;
        n = keep;
    }
    if (p->min_p > 0) {
        double pmax = prob[idx[0]];
        for (int i = 0; i < n; i++)
            if (prob[idx[i]] < p->min_p * pmax) prob[idx[i]] = 0;
    }
    sum = 0;
    for (int i = 0; i < V; i++) sum += prob[i];
    for (int i = 0; i < V; i++) prob[i] /= sum;
out:
    free(x);
    free(idx);
}

/* ---- helpers -----------------------------------------------------------------*/
static uint64_t lcg = 12345;
static float frand(void) {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((lcg >> 40) & 0xffffff) / 16777216.0f;
}

static void random_logits(float *l, int V, float scale) {
    for (int i = 0; i < V; i++) l[i] = (frand() * 2 - 1) * scale;
}

/* Draws N tokens and compares with the reference distribution. */
static void check_distribution(const char *what, onnxllm_sampler_params p, const float *l, int V, const int32_t *h,
                               int nh, int N) {
    double *ref = malloc(sizeof(double) * V);
    int *cnt = calloc(V, sizeof(int));
    ref_dist(&p, l, V, h, nh, ref);
    onnxllm_sampler *s = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(onnxllm_sampler_create(&p, V, &s, &e), ONNXLLM_OK);
    for (int i = 0; i < N; i++) {
        int32_t t = onnxllm_sampler_sample(s, l, V, h, nh);
        CHECK(t >= 0 && t < V);
        if (t >= 0 && t < V) cnt[t]++;
    }
    int bad = 0;
    for (int t = 0; t < V; t++) {
        double f = (double)cnt[t] / N, q = ref[t];
        if (q == 0 && cnt[t]) {
            if (!bad++) printf("  %s: token %d drawn %d times but outside the reference support\n", what, t, cnt[t]);
        } else if (fabs(f - q) > 5 * sqrt(q * (1 - q) / N) + 2.0 / N) {
            if (!bad++) printf("  %s: token %d freq %.4f vs reference %.4f\n", what, t, f, q);
        }
    }
    CHECK_EQ_INT(bad, 0);
    onnxllm_sampler_free(s);
    free(ref);
    free(cnt);
}

/* ---- tests -------------------------------------------------------------------*/
TEST(greedy_is_argmax) {
    enum { V = 1000 };
    float l[V];
    random_logits(l, V, 5);
    l[617] = 9;
    onnxllm_sampler_params p = onnxllm_sampler_greedy_params();
    onnxllm_sampler *s = NULL;
    CHECK_EQ_INT(onnxllm_sampler_create(&p, V, &s, NULL), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sampler_sample(s, l, V, NULL, 0), 617);
    onnxllm_sampler_free(s);
    p = onnxllm_sampler_default_params(); /* temperature 1 but top_k 1 → greedy */
    p.top_k = 1;
    p.seed = 99;
    CHECK_EQ_INT(onnxllm_sampler_create(&p, V, &s, NULL), ONNXLLM_OK);
    for (int i = 0; i < 20; i++) CHECK_EQ_INT(onnxllm_sampler_sample(s, l, V, NULL, 0), 617);
    onnxllm_sampler_free(s);
    /* ties: the first maximum, as genai's SelectTop */
    l[3] = 9;
    p = onnxllm_sampler_greedy_params();
    CHECK_EQ_INT(onnxllm_sampler_create(&p, V, &s, NULL), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sampler_sample(s, l, V, NULL, 0), 3);
    onnxllm_sampler_free(s);
}

TEST(distributions_match_reference) {
    enum { V = 64, N = 40000 };
    float l[V];
    random_logits(l, V, 3);
    onnxllm_sampler_params p = onnxllm_sampler_default_params();
    p.seed = 1;
    check_distribution("temperature 1", p, l, V, NULL, 0, N);
    p.temperature = 0.5f;
    check_distribution("temperature 0.5", p, l, V, NULL, 0, N);
    p.temperature = 1.3f;
    p.top_k = 10;
    check_distribution("top-k 10", p, l, V, NULL, 0, N);
    p.top_k = 0;
    p.top_p = 0.8f;
    check_distribution("top-p 0.8", p, l, V, NULL, 0, N);
    p.top_k = 20;
    p.top_p = 0.7f;
    p.min_p = 0.1f;
    check_distribution("top-k 20 top-p 0.7 min-p 0.1", p, l, V, NULL, 0, N);
    p = onnxllm_sampler_default_params();
    p.min_p = 0.3f;
    check_distribution("min-p 0.3", p, l, V, NULL, 0, N);
}

TEST(large_vocab_top_p_paths) {
    /* > 1024 candidates: a peaked distribution (nucleus inside the top 1024) and a
     * flat one (nucleus beyond it: full sort path). */
    enum { V = 3000, N = 6000 };
    float *l = malloc(sizeof(float) * V);
    random_logits(l, V, 1);
    for (int i = 0; i < 30; i++) l[i * 97] += 8;
    onnxllm_sampler_params p = onnxllm_sampler_default_params();
    p.top_p = 0.9f;
    p.seed = 3;
    check_distribution("peaked top-p 0.9", p, l, V, NULL, 0, N);
    random_logits(l, V, 0.5f);
    p.top_p = 0.5f;
    check_distribution("flat top-p 0.5", p, l, V, NULL, 0, N / 3);
    free(l);
}

TEST(penalties_match_reference) {
    enum { V = 32, N = 30000 };
    float l[V];
    random_logits(l, V, 2);
    int32_t hist[] = {3, 5, 5, 7, 3, 3, 30, 31, 5, 9};
    int nh = (int)(sizeof hist / sizeof *hist);
    onnxllm_sampler_params p = onnxllm_sampler_default_params();
    p.repetition_penalty = 1.5f;
    p.presence_penalty = 0.4f;
    p.frequency_penalty = 0.3f;
    p.penalty_last_n = 0; /* whole history */
    check_distribution("penalties all", p, l, V, hist, nh, N);
    p.penalty_last_n = 4;
    check_distribution("penalties last 4", p, l, V, hist, nh, N);
    /* greedy with a repetition penalty that flips the argmax */
    float g[V] = {0};
    g[3] = 2.0f;
    g[4] = 1.5f;
    p = onnxllm_sampler_greedy_params();
    p.repetition_penalty = 2.0f;
    onnxllm_sampler *s = NULL;
    CHECK_EQ_INT(onnxllm_sampler_create(&p, V, &s, NULL), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sampler_sample(s, g, V, hist, nh), 4);
    CHECK_EQ_INT(onnxllm_sampler_sample(s, g, V, NULL, 0), 3);
    CHECK(g[3] == 2.0f); /* logits untouched */
    onnxllm_sampler_free(s);
}

TEST(seeds_reproduce) {
    enum { V = 200, T = 200 };
    float l[V];
    random_logits(l, V, 2);
    onnxllm_sampler_params p = onnxllm_sampler_default_params();
    p.top_p = 0.95f;
    p.seed = 42;
    onnxllm_sampler *a, *b, *c;
    CHECK_EQ_INT(onnxllm_sampler_create(&p, V, &a, NULL), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sampler_create(&p, V, &b, NULL), ONNXLLM_OK);
    p.seed = 43;
    CHECK_EQ_INT(onnxllm_sampler_create(&p, V, &c, NULL), ONNXLLM_OK);
    int32_t first[T];
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < T; i++) {
        int32_t x = onnxllm_sampler_sample(a, l, V, NULL, 0), y = onnxllm_sampler_sample(b, l, V, NULL, 0),
                z = onnxllm_sampler_sample(c, l, V, NULL, 0);
        first[i] = x;
        same_ab += x == y;
        same_ac += x == z;
    }
    CHECK_EQ_INT(same_ab, T);
    CHECK(same_ac < T / 2);
    onnxllm_sampler_reset(a, 42);
    int again = 0;
    for (int i = 0; i < T; i++) again += onnxllm_sampler_sample(a, l, V, NULL, 0) == first[i];
    CHECK_EQ_INT(again, T);
    onnxllm_sampler_free(a);
    onnxllm_sampler_free(b);
    onnxllm_sampler_free(c);
}

TEST(bad_params_rejected) {
    onnxllm_sampler *s = (onnxllm_sampler *)1;
    onnxllm_error e = {0};
    onnxllm_sampler_params p = onnxllm_sampler_default_params();
    p.top_p = 0;
    CHECK_EQ_INT(onnxllm_sampler_create(&p, 10, &s, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK(s == NULL);
    p = onnxllm_sampler_default_params();
    p.top_k = -1;
    CHECK_EQ_INT(onnxllm_sampler_create(&p, 10, &s, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    p = onnxllm_sampler_default_params();
    p.repetition_penalty = 0;
    CHECK_EQ_INT(onnxllm_sampler_create(&p, 10, &s, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(onnxllm_sampler_create(NULL, 0, &s, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "sampler") != NULL);
}

int main(void) {
    RUN(greedy_is_argmax);
    RUN(distributions_match_reference);
    RUN(large_vocab_top_p_paths);
    RUN(penalties_match_reference);
    RUN(seeds_reproduce);
    RUN(bad_params_rejected);
    return test_summary("engine_sampler");
}
