/* sampler.c — turning one position's logits into a token.
 *
 * Pipeline (the llama.cpp / Hugging Face order): penalties over the recent
 * history → temperature → top-k → softmax → top-p → min-p → draw. Greedy is a
 * plain argmax (first maximum, like onnxruntime-genai's SelectTop) after the
 * penalties. The RNG is xoshiro256** seeded through splitmix64 and lives in the
 * sampler, so equal seeds give equal tokens and samplers never share state.
 *
 * Full-vocabulary sorting is avoided: candidates are the top-k (quickselect) or,
 * without top-k, the top 1024 by logit when their probability mass already
 * covers top-p, and only then the whole vocabulary. */
#include "common/error.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct onnxllm_sampler {
    onnxllm_sampler_params p;
    int vocab;
    uint64_t rng[4];
    float *work;     /* [vocab] penalised / scaled logits */
    int32_t *cand;   /* [vocab] candidate ids */
    float *prob;     /* [vocab] candidate probabilities */
    int32_t *count;  /* [vocab] token counts in the penalty window (kept all-zero between calls) */
};

onnxllm_sampler_params onnxllm_sampler_default_params(void) {
    onnxllm_sampler_params p = {0};
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.repetition_penalty = 1.0f;
    p.presence_penalty = 0.0f;
    p.frequency_penalty = 0.0f;
    p.penalty_last_n = 64;
    p.seed = 0;
    return p;
}

onnxllm_sampler_params onnxllm_sampler_greedy_params(void) {
    onnxllm_sampler_params p = onnxllm_sampler_default_params();
    p.temperature = 0.0f;
    return p;
}

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro_next(uint64_t s[4]) {
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void onnxllm_sampler_reset(onnxllm_sampler *s, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
}

onnxllm_status onnxllm_sampler_create(const onnxllm_sampler_params *p, int vocab_size, onnxllm_sampler **out,
                                      onnxllm_error *err) {
    *out = NULL;
    onnxllm_sampler_params d = p ? *p : onnxllm_sampler_default_params();
    if (vocab_size < 1) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "sampler: vocab size must be >= 1");
    if (!(d.temperature == d.temperature) || d.top_k < 0 || !(d.top_p > 0.0f && d.top_p <= 1.0f) ||
        !(d.min_p >= 0.0f && d.min_p <= 1.0f) || !(d.repetition_penalty > 0.0f) || d.penalty_last_n < -1 ||
        !isfinite(d.presence_penalty) || !isfinite(d.frequency_penalty))
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                        "sampler: bad parameters (need top_k >= 0, 0 < top_p <= 1, 0 <= min_p <= 1, "
                        "repetition_penalty > 0, finite penalties)");
    onnxllm_sampler *s = calloc(1, sizeof *s);
    if (!s) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "sampler: out of memory");
    s->p = d;
    s->vocab = vocab_size;
    s->work = malloc(sizeof(float) * (size_t)vocab_size);
    s->cand = malloc(sizeof(int32_t) * (size_t)vocab_size);
    s->prob = malloc(sizeof(float) * (size_t)vocab_size);
    s->count = calloc((size_t)vocab_size, sizeof(int32_t));
    if (!s->work || !s->cand || !s->prob || !s->count) {
        onnxllm_sampler_free(s);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "sampler: out of memory");
    }
    onnxllm_sampler_reset(s, d.seed);
    *out = s;
    return ONNXLLM_OK;
}

void onnxllm_sampler_free(onnxllm_sampler *s) {
    if (!s) return;
    free(s->work);
    free(s->cand);
    free(s->prob);
    free(s->count);
    free(s);
}

static bool has_penalties(const onnxllm_sampler_params *p) {
    return p->penalty_last_n != -1 &&
           (p->repetition_penalty != 1.0f || p->presence_penalty != 0.0f || p->frequency_penalty != 0.0f);
}

/* Applies the three penalties to s->work for the tokens in the history window. */
static void apply_penalties(onnxllm_sampler *s, const int32_t *hist, size_t n) {
    const onnxllm_sampler_params *p = &s->p;
    size_t start = (p->penalty_last_n > 0 && (size_t)p->penalty_last_n < n) ? n - (size_t)p->penalty_last_n : 0;
    for (size_t i = start; i < n; i++)
        if (hist[i] >= 0 && hist[i] < s->vocab) s->count[hist[i]]++;
    for (size_t i = start; i < n; i++) {
        int32_t t = hist[i];
        if (t < 0 || t >= s->vocab || s->count[t] == 0) continue;
        float l = s->work[t];
        if (p->repetition_penalty != 1.0f) l = l > 0 ? l / p->repetition_penalty : l * p->repetition_penalty;
        l -= p->presence_penalty + p->frequency_penalty * (float)s->count[t];
        s->work[t] = l;
        s->count[t] = 0; /* once per distinct token; also restores the all-zero invariant */
    }
}

/* Candidate order: higher logit first, lower id first on ties (deterministic). */
static inline bool before(const float *w, int32_t a, int32_t b) { return w[a] > w[b] || (w[a] == w[b] && a < b); }

/* Moves the k best of cand[0..n) to the front (unordered). */
static void select_top(const float *w, int32_t *c, int n, int k) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int32_t pivot = c[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (before(w, c[i], pivot)) i++;
            while (before(w, pivot, c[j])) j--;
            if (i <= j) {
                int32_t t = c[i];
                c[i] = c[j];
                c[j] = t;
                i++;
                j--;
            }
        }
        if (k - 1 <= j) hi = j;
        else if (k - 1 >= i) lo = i;
        else break;
    }
}

static void sort_cands(const float *w, int32_t *c, int n) {
    /* insertion sort for small n, else heap-free quicksort via select_top recursion */
    if (n <= 32) {
        for (int i = 1; i < n; i++) {
            int32_t x = c[i];
            int j = i - 1;
            while (j >= 0 && before(w, x, c[j])) {
                c[j + 1] = c[j];
                j--;
            }
            c[j + 1] = x;
        }
        return;
    }
    int mid = n / 2;
    select_top(w, c, n, mid);
    sort_cands(w, c, mid);
    sort_cands(w, c + mid, n - mid);
}

static int32_t argmax(const float *l, int n) {
    int32_t best = 0;
    float bv = l[0];
    for (int i = 1; i < n; i++)
        if (l[i] > bv) {
            bv = l[i];
            best = i;
        }
    return best;
}

/* Draws from the candidates cand[0..n) of the (penalised) logits w. */
static int32_t sample_cands(onnxllm_sampler *s, float *w, int n) {
    const onnxllm_sampler_params *p = &s->p;
    /* Non-finite logits (-inf masks) get probability 0; NaN is treated as -inf. */
    for (int i = 0; i < n; i++)
        if (w[s->cand[i]] != w[s->cand[i]]) w[s->cand[i]] = -INFINITY;
    if (p->top_k > 0 && p->top_k < n) {
        select_top(w, s->cand, n, p->top_k);
        n = p->top_k;
    }
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = fmaxf(mx, w[s->cand[i]]);
    if (mx == -INFINITY) return s->cand[0];
    const double invT = 1.0 / (double)p->temperature;
    /* Unnormalised probabilities over the candidates. */
    double sum = 0;
    /* prob is indexed by token id; only candidates' entries are written and read. */
    for (int i = 0; i < n; i++) {
        int32_t t = s->cand[i];
        float e = (float)exp(((double)w[t] - mx) * invT);
        s->prob[t] = e;
        sum += e;
    }
    if (p->top_p < 1.0f) {
        /* Nucleus: the smallest prefix of the sorted candidates reaching top_p mass. */
        int m = n;
        if (n > 1024) {
            select_top(w, s->cand, n, 1024);
            double part = 0;
            for (int i = 0; i < 1024; i++) part += s->prob[s->cand[i]];
            if (part >= (double)p->top_p * sum) m = 1024;
        }
        sort_cands(w, s->cand, m);
        double cum = 0, target = (double)p->top_p * sum;
        int keep = 0;
        while (keep < m) {
            cum += s->prob[s->cand[keep++]];
            if (cum >= target) break;
        }
        n = keep;
    }
    if (p->min_p > 0.0f) {
        float pmax = 0;
        for (int i = 0; i < n; i++) pmax = fmaxf(pmax, s->prob[s->cand[i]]);
        float cut = p->min_p * pmax;
        int k = 0;
        for (int i = 0; i < n; i++)
            if (s->prob[s->cand[i]] >= cut) s->cand[k++] = s->cand[i];
        n = k;
    }
    sum = 0;
    for (int i = 0; i < n; i++) sum += s->prob[s->cand[i]];
    double u = (double)(xoshiro_next(s->rng) >> 11) * 0x1.0p-53 * sum;
    double acc = 0;
    for (int i = 0; i < n; i++) {
        acc += s->prob[s->cand[i]];
        if (u < acc) return s->cand[i];
    }
    return s->cand[n - 1];
}

int32_t onnxllm_sampler_sample(onnxllm_sampler *s, const float *logits, int n_vocab, const int32_t *history,
                               size_t n_history) {
    const onnxllm_sampler_params *p = &s->p;
    int V = n_vocab < s->vocab ? n_vocab : s->vocab;
    const float *l = logits;
    if (has_penalties(p) && history && n_history) {
        memcpy(s->work, logits, sizeof(float) * (size_t)V);
        apply_penalties(s, history, n_history);
        l = s->work;
    }
    if (p->temperature <= 0.0f || p->top_k == 1) return argmax(l, V);
    if (l != s->work) memcpy(s->work, logits, sizeof(float) * (size_t)V);
    for (int i = 0; i < V; i++) s->cand[i] = i;
    return sample_cands(s, s->work, V);
}

int32_t onnxllm_sampler_sample_masked(onnxllm_sampler *s, const float *logits, int n_vocab, const uint32_t *mask,
                                      size_t n_words, const int32_t *history, size_t n_history) {
    if (!mask) return onnxllm_sampler_sample(s, logits, n_vocab, history, n_history);
    const onnxllm_sampler_params *p = &s->p;
    int V = n_vocab < s->vocab ? n_vocab : s->vocab;
    if ((size_t)V > n_words * 32) V = (int)(n_words * 32);
    /* candidates: the allowed ids, in id order */
    int n = 0;
    for (size_t w = 0; w * 32 < (size_t)V; w++)
        for (uint32_t x = mask[w]; x; x &= x - 1) {
            int id = (int)(w * 32) + __builtin_ctz(x);
            if (id < V) s->cand[n++] = id;
        }
    if (!n) return -1;
    const float *l = logits;
    if (has_penalties(p) && history && n_history) {
        for (int i = 0; i < n; i++) s->work[s->cand[i]] = logits[s->cand[i]];
        /* penalties touch history ids: give the disallowed ones a value too */
        for (size_t i = 0; i < n_history; i++)
            if (history[i] >= 0 && history[i] < V && !((mask[history[i] >> 5] >> (history[i] & 31)) & 1))
                s->work[history[i]] = -INFINITY;
        apply_penalties(s, history, n_history);
        l = s->work;
    }
    if (p->temperature <= 0.0f || p->top_k == 1) { /* greedy among the allowed: first maximum */
        int32_t best = s->cand[0];
        float bv = l[best];
        for (int i = 1; i < n; i++)
            if (l[s->cand[i]] > bv || (bv != bv && l[s->cand[i]] == l[s->cand[i]])) {
                bv = l[s->cand[i]];
                best = s->cand[i];
            }
        return best;
    }
    if (l != s->work)
        for (int i = 0; i < n; i++) s->work[s->cand[i]] = logits[s->cand[i]];
    return sample_cands(s, s->work, n);
}
