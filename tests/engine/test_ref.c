/* test_ref.c — the engine against two independent references on models built
 * in-process with the writer:
 *
 *  1. logits vs the naive forward pass (tests/ref/phi3_ref: fp32 weights, double
 *     accumulation, written from the math) at every step of a generation that
 *     crosses tiny-gqa's LongRoPE switch (original_max_position_embeddings 32),
 *     in the same step structure (prefill, then one token per step);
 *  2. onnxruntime-genai's Phi-3 LongRoPE rewind, which genai triggers at a fixed
 *     sequence length of 4097 (Generator::InitializePhi3RopeThreshold): a tiny
 *     model with original_max_position_embeddings 4096 and prompts below, at and
 *     above the switch, and a generation that crosses it — greedy tokens must be
 *     identical to genai's, and the logits after the rewind must equal the naive
 *     reference run as ONE step over all 4097 tokens (every key long-rotated). */
#include "test.h"
#include "oracle.h"
#include "phi3_ref.h"
#include "onnxllm.h"
#include "writer/phi3.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static char tmp[256];

static onnxllm_model *load(const char *dir, int max_length) {
    onnxllm_model_params p = onnxllm_model_default_params();
    p.n_threads = 1;
    p.max_length = max_length;
    onnxllm_model *m = NULL;
    onnxllm_error e = {0};
    if (onnxllm_model_load(dir, &p, &m, &e)) printf("  load %s: %s\n", dir, e.message);
    return m;
}

/* max |a-b| / max(1, max |b|) */
static double rel_diff(const float *a, const float *b, int n) {
    double d = 0, s = 1;
    for (int i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    return d / s;
}

static int build(const olm_phi3_config *c, uint64_t seed, float std, const char *dir) {
    olm_random_weights rw = {seed, std};
    olm_weight_source w = olm_random_weight_source(&rw);
    olm_build_options o = {0};
    o.precision = OLM_PRECISION_FP32;
    o.ep = OLM_EP_CPU;
    onnxllm_error e = {0};
    if (olm_phi3_write(c, &w, &o, dir, &e)) {
        printf("  build %s: %s\n", dir, e.message);
        return -1;
    }
    return 0;
}

TEST(logits_match_naive_reference_across_rope_switch) {
    olm_phi3_config c;
    CHECK(olm_phi3_preset("tiny-gqa", &c));
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tiny-gqa", tmp);
    float std = olm_phi3_preset_init_std("tiny-gqa");
    if (build(&c, 7, std, dir)) {
        CHECK(0);
        return;
    }
    olm_random_weights rw = {7, std};
    olm_weight_source w = olm_random_weight_source(&rw);
    phi3_ref *ref = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(phi3_ref_create(&c, &w, &ref, &e), ONNXLLM_OK);
    onnxllm_model *m = load(dir, 128);
    CHECK(m && ref);
    if (!m || !ref) {
        onnxllm_model_free(m);
        phi3_ref_free(ref);
        return;
    }
    const int V = c.vocab_size, P = 20, G = 25; /* 20 + 25 crosses 32 */
    float *lr = malloc(sizeof(float) * (size_t)V * P);
    int32_t prompt[P];
    int64_t ids[P];
    for (int i = 0; i < P; i++) ids[i] = prompt[i] = (int32_t)((i * 53 + 7) % (V - 3) + 3);
    onnxllm_sequence *s = NULL;
    onnxllm_sampler *smp = NULL;
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    CHECK_EQ_INT(onnxllm_sequence_create(m, &s, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sampler_create(&sp, V, &smp, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_append(s, prompt, P, &e), ONNXLLM_OK);
    CHECK_EQ_INT(phi3_ref_step(ref, ids, P, lr, &e), ONNXLLM_OK);
    double worst = rel_diff(onnxllm_sequence_logits(s), lr + (size_t)(P - 1) * V, V);
    /* One token per run, as step() does: sample from our logits, append it (one
     * 1-token ORT run), and step the reference with the same token. */
    for (int g = 0; g < G; g++) {
        int32_t tok = onnxllm_sampler_sample(smp, onnxllm_sequence_logits(s), V, NULL, 0);
        int64_t id = tok;
        CHECK_EQ_INT(onnxllm_sequence_append(s, &tok, 1, &e), ONNXLLM_OK);
        CHECK_EQ_INT(phi3_ref_step(ref, &id, 1, lr, &e), ONNXLLM_OK);
        const float *ours = onnxllm_sequence_logits(s);
        CHECK(ours != NULL);
        if (ours) worst = fmax(worst, rel_diff(ours, lr, V));
    }
    printf("  worst relative logit difference vs naive reference: %.2e\n", worst);
    CHECK(worst < 1e-4);
    free(lr);
    onnxllm_sampler_free(smp);
    onnxllm_sequence_free(s);
    onnxllm_model_free(m);
    phi3_ref_free(ref);
}

/* genai's fixed 4097 rewind on a model whose rotary switch is at 4096. */
TEST(longrope_rewind_matches_genai_at_4097) {
    olm_phi3_config c;
    CHECK(olm_phi3_preset("tiny-gqa", &c));
    c.original_max_position_embeddings = 4096;
    c.max_position_embeddings = 8192;
    c.context_length = 8192;
    c.num_hidden_layers = 1;
    /* narrower than the preset: the naive reference's 4097-token attention dominates */
    c.hidden_size = 128;
    c.intermediate_size = 64;
    c.num_attention_heads = 2;
    c.num_key_value_heads = 1;
    c.head_dim = 64; /* rotary 48: GQA wants rotary_dim/2 a multiple of 8 */
    c.n_rope_factors = 24;
    for (int i = 0; i < 24; i++) {
        c.short_factor[i] = 1.0f + 0.02f * (float)i;
        c.long_factor[i] = 1.0f + 0.9f * (float)i;
    }
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tiny-longrope-4096", tmp);
    float std = olm_phi3_preset_init_std("tiny-gqa");
    if (build(&c, 3, std, dir)) {
        CHECK(0);
        return;
    }
    const int MAXLEN = 4200, V = c.vocab_size;
    onnxllm_model *m = load(dir, MAXLEN);
    CHECK(m != NULL);
    if (!m) return;
    int32_t *prompt = malloc(sizeof(int32_t) * MAXLEN), ref[64];
    for (int i = 0; i < MAXLEN; i++) prompt[i] = (int32_t)((i * 97 + 13) % (V - 3) + 3);
    /* below (generation crosses 4097), exactly at, and above the switch */
    static const int lens[] = {4090, 4096, 4100};
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        int n = lens[k];
        char eb[512];
        int nr = oracle_generate(dir, prompt, (size_t)n, 12, MAXLEN, 1, ref, eb, sizeof eb);
        if (nr < 0) printf("  %s\n", eb);
        onnxllm_sequence *s = NULL;
        onnxllm_error e = {0};
        onnxllm_generate_result r = {0};
        onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
        CHECK_EQ_INT(onnxllm_sequence_create(m, &s, &e), ONNXLLM_OK);
        CHECK_EQ_INT(onnxllm_sequence_append(s, prompt, (size_t)n, &e), ONNXLLM_OK);
        CHECK_EQ_INT(onnxllm_generate(s, &sp, 12, NULL, NULL, &r, &e), ONNXLLM_OK);
        const int32_t *got = onnxllm_sequence_tokens(s) + n;
        bool same = nr == r.n_generated;
        for (int i = 0; same && i < nr; i++) same = got[i] == ref[i];
        if (!same) {
            printf("  prompt %d: genai", n);
            for (int i = 0; i < nr; i++) printf(" %d", ref[i]);
            printf("\n  prompt %d: ours ", n);
            for (int i = 0; i < r.n_generated; i++) printf(" %d", got[i]);
            printf("\n");
        }
        CHECK(same);
        onnxllm_sequence_free(s);
    }
    /* Logits right after the rewind = the naive reference over all 4097 tokens in
     * one step (long table for every key); without the rewind they would not be. */
    olm_random_weights rw = {3, std};
    olm_weight_source w = olm_random_weight_source(&rw);
    phi3_ref *pr = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(phi3_ref_create(&c, &w, &pr, &e), ONNXLLM_OK);
    onnxllm_sequence *s = NULL;
    onnxllm_sampler *smp = NULL;
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    CHECK_EQ_INT(onnxllm_sequence_create(m, &s, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sampler_create(&sp, V, &smp, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_append(s, prompt, 4096, &e), ONNXLLM_OK);
    int32_t t1, t2;
    CHECK_EQ_INT(onnxllm_sequence_step(s, smp, &t1, &e), ONNXLLM_OK); /* sequence now 4097 (pending) */
    CHECK_EQ_INT(onnxllm_sequence_step(s, smp, &t2, &e), ONNXLLM_OK); /* rewinds, recomputes 4097 */
    CHECK_EQ_INT(onnxllm_sequence_length(s), 4098);
    int64_t *ids = malloc(sizeof(int64_t) * 4097);
    for (int i = 0; i < 4096; i++) ids[i] = prompt[i];
    ids[4096] = t1;
    float *lr = malloc(sizeof(float) * (size_t)V * 4097);
    CHECK_EQ_INT(phi3_ref_forward(pr, ids, 4097, lr, &e), ONNXLLM_OK);
    /* our logits of position 4096 chose t2; recompute them for the comparison */
    CHECK_EQ_INT(onnxllm_sequence_rewind_to(s, 4097, &e), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_sequence_append(s, NULL, 0, &e), ONNXLLM_OK);
    CHECK(onnxllm_sequence_logits(s) != NULL);
    if (onnxllm_sequence_logits(s)) {
        double d = rel_diff(onnxllm_sequence_logits(s), lr + (size_t)4096 * V, V);
        printf("  logits after the 4097 rewind vs one-step reference: %.2e\n", d);
        CHECK(d < 1e-4);
    }
    int32_t t3;
    CHECK_EQ_INT(onnxllm_sequence_step(s, smp, &t3, &e), ONNXLLM_OK);
    CHECK_EQ_INT(t3, t2);
    int32_t arg = 0;
    for (int i = 1; i < V; i++)
        if (lr[(size_t)4096 * V + i] > lr[(size_t)4096 * V + arg]) arg = i;
    CHECK_EQ_INT(t2, arg);
    free(lr);
    free(ids);
    phi3_ref_free(pr);
    onnxllm_sampler_free(smp);
    onnxllm_sequence_free(s);
    free(prompt);
    onnxllm_model_free(m);
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/olm_test_ref_%d", (int)getpid());
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", tmp);
    if (system(cmd)) return 1;
    RUN(logits_match_naive_reference_across_rope_switch);
    RUN(longrope_rewind_matches_genai_at_4097);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) printf("cleanup failed\n");
    oracle_shutdown();
    return test_summary("engine_ref");
}
