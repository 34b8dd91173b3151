/* test_phi3_ort.c — the written Phi-3 graphs run in ONNX Runtime and agree with the
 * naive reference forward pass (tests/ref/phi3_ref.c):
 *  - fp32 variants: every tiny preset (GQA/MHA, tied/untied, partial/full rotary,
 *    LongRoPE), prompts below and above the LongRoPE switch, full prompt in one run
 *    and runs continued from past KV (prefill + chunk, prefill + single tokens),
 *    max |diff| <= 1e-4;
 *  - int4 CPU (accuracy_level 4) against the reference fed with the dequantized
 *    weights (olm_q4_dequantize), tolerance justified below;
 *  - int4 CUDA layout (fp16 I/O) loaded and run by ORT's CPU provider where its
 *    kernels allow. */
#include "test.h"
#include "ort_util.h"
#include "phi3_ref.h"
#include "writer/phi3.h"
#include "writer/quant4.h"
#include "onnx/reader.h"
#include "common/error.h"

#include <math.h>
#include <stdint.h>
#include <unistd.h>

static char tmp_root[64];

static void build(const char *preset, uint64_t seed, onnxllm_precision prec, onnxllm_target tgt, char *dir,
                  size_t cap) {
    static int n;
    snprintf(dir, cap, "%s/m%d-%s", tmp_root, n++, preset);
    onnxllm_build_params p = onnxllm_build_default_params();
    p.precision = prec;
    p.target = tgt;
    onnxllm_error e = {0};
    onnxllm_status st = onnxllm_build_model(preset, seed, &p, dir, &e);
    if (st) printf("  build %s: %s\n", preset, e.message);
    CHECK_EQ_INT(st, ONNXLLM_OK);
}

static void tokens(int64_t *ids, int n, int vocab, uint64_t salt) {
    uint64_t s = 0x1234567ull + salt;
    for (int i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int64_t)((s >> 33) % (uint64_t)vocab);
    }
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN propagates */
    }
    return m;
}

static double max_abs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i]) > m) m = fabs(a[i]);
    return m;
}

/* Runs `steps` (token counts) through ORT and the reference; returns max |diff|
 * over all logits, or +inf on failure. */
static double compare_steps(ort_model *om, phi3_ref *ref, const olm_phi3_config *c, const int *steps, int n_steps,
                            uint64_t salt, double *scale) {
    int total = 0;
    for (int s = 0; s < n_steps; s++) total += steps[s];
    int64_t *ids = malloc(sizeof *ids * (size_t)total);
    float *lo = malloc(sizeof(float) * (size_t)total * c->vocab_size);
    float *lr = malloc(sizeof(float) * (size_t)total * c->vocab_size);
    tokens(ids, total, c->vocab_size, salt);
    ort_model_reset(om);
    phi3_ref_reset(ref);
    double worst = 0;
    int at = 0;
    onnxllm_error e = {0};
    for (int s = 0; s < n_steps; s++) {
        if (!ort_model_step(om, ids + at, steps[s], lo + (size_t)at * c->vocab_size)) {
            printf("  ORT: %s\n", om->error);
            worst = INFINITY;
            break;
        }
        if (phi3_ref_step(ref, ids + at, steps[s], lr + (size_t)at * c->vocab_size, &e)) {
            printf("  ref: %s\n", e.message);
            worst = INFINITY;
            break;
        }
        at += steps[s];
    }
    if (isfinite(worst)) {
        worst = max_abs_diff(lo, lr, (size_t)total * c->vocab_size);
        if (scale) *scale = max_abs(lr, (size_t)total * c->vocab_size);
    }
    free(ids), free(lo), free(lr);
    return worst;
}

typedef struct {
    const char *preset;
    int len_short, len_long;
} fp32_case;

static void fp32_preset(const char *preset) {
    olm_phi3_config c;
    CHECK(olm_phi3_preset(preset, &c));
    char dir[256];
    build(preset, 7, ONNXLLM_PRECISION_FP32, ONNXLLM_TARGET_CPU, dir, sizeof dir);
    olm_random_weights rw = {7, olm_phi3_preset_init_std(preset)};
    olm_weight_source w = olm_random_weight_source(&rw);
    phi3_ref *ref = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(phi3_ref_create(&c, &w, &ref, &e), ONNXLLM_OK);
    ort_model om;
    bool opened = ort_model_open(&om, dir, c.num_hidden_layers, c.num_key_value_heads, olm_phi3_head_dim(&c),
                                 c.vocab_size, false);
    if (!opened) printf("  %s\n", om.error);
    CHECK(opened);
    if (opened && ref) {
        int sw = c.longrope ? c.original_max_position_embeddings : 64; /* switch point (or a mid length) */
        int below[] = {sw - 12}, above[] = {sw + 13}, at_switch[] = {sw}, crossing[] = {sw - 4, 8},
            decode[] = {sw - 2, 1, 1, 1, 1}, after[] = {sw + 3, 5, 1};
        struct {
            const char *what;
            const int *steps;
            int n;
        } cases[] = {
            {"prompt below switch", below, 1}, {"prompt above switch", above, 1}, {"prompt at switch", at_switch, 1},
            {"prefill + chunk crossing switch", crossing, 2}, {"prefill + 4 decode steps", decode, 5},
            {"long prefill + chunk + decode", after, 3},
        };
        for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
            double scale = 0, d = compare_steps(&om, ref, &c, cases[k].steps, cases[k].n, k, &scale);
            printf("  %-16s %-32s max|diff| %.3g (max|logit| %.3g)\n", preset, cases[k].what, d, scale);
            CHECK(d <= 1e-4);
            CHECK(scale > 0.1); /* logits are not trivially small */
        }
    }
    if (opened) ort_model_close(&om);
    phi3_ref_free(ref);
}

TEST(fp32_tiny_gqa) { fp32_preset("tiny-gqa"); }
TEST(fp32_tiny_mha) { fp32_preset("tiny-mha"); }
TEST(fp32_tiny_gqa_untied) { fp32_preset("tiny-gqa-untied"); }
TEST(fp32_tiny_1layer) { fp32_preset("tiny-1layer"); }

/* The LongRoPE switch is real: the same 40 tokens give different logits for the
 * last 8 positions when run as 40 at once (all long table) than as 32 + 8 (first
 * 32 keys cached with the short table) — in ORT and in the reference alike. */
TEST(longrope_switch_changes_logits) {
    olm_phi3_config c;
    olm_phi3_preset("tiny-gqa", &c);
    char dir[256];
    build("tiny-gqa", 3, ONNXLLM_PRECISION_FP32, ONNXLLM_TARGET_CPU, dir, sizeof dir);
    ort_model om;
    CHECK(ort_model_open(&om, dir, c.num_hidden_layers, c.num_key_value_heads, olm_phi3_head_dim(&c), c.vocab_size, false));
    int64_t ids[40];
    tokens(ids, 40, c.vocab_size, 99);
    size_t V = (size_t)c.vocab_size;
    float *a = malloc(sizeof(float) * 40 * V), *b = malloc(sizeof(float) * 40 * V);
    CHECK(ort_model_step(&om, ids, 40, a));
    ort_model_reset(&om);
    CHECK(ort_model_step(&om, ids, 32, b));
    CHECK(ort_model_step(&om, ids + 32, 8, b + 32 * V));
    double first = max_abs_diff(a, b, 32 * V), last = max_abs_diff(a + 32 * V, b + 32 * V, 8 * V);
    printf("  positions 0..31 differ by %.3g (short vs long table), 32..39 by %.3g\n", first, last);
    CHECK(first > 1e-2);
    CHECK(last > 1e-3);
    ort_model_close(&om);
    free(a), free(b);
}

/* ---- int4 ---- */

/* Weight source wrapper: Linear weights go through quantize → dequantize (fp16
 * scales when f16); the tied lm_head is served under its own name. */
typedef struct {
    olm_weight_source inner;
    bool f16, tied;
} dq_source;

static bool is_linear(const char *name) {
    return strstr(name, "_proj.weight") || !strcmp(name, "lm_head.weight");
}

static onnxllm_status dq_get(void *ctx, const char *name, const int64_t *shape, int rank, float *dst,
                             onnxllm_error *err) {
    dq_source *s = ctx;
    const char *src = s->tied && !strcmp(name, "lm_head.weight") ? "model.embed_tokens.weight" : name;
    onnxllm_status st = s->inner.get(s->inner.ctx, src, shape, rank, dst, err);
    if (st) return st;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= shape[i];
    if (is_linear(name)) {
        int64_t N = shape[0], K = shape[1], kb = K / OLM_Q4_BLOCK;
        uint8_t *q = malloc((size_t)(N * kb * 16));
        float *s32 = malloc(sizeof(float) * (size_t)(N * kb));
        uint16_t *s16 = malloc(sizeof(uint16_t) * (size_t)(N * kb));
        olm_q4_quantize(dst, N, K, q, s->f16 ? NULL : s32, s->f16 ? s16 : NULL);
        olm_q4_dequantize(q, s->f16 ? NULL : s32, s->f16 ? s16 : NULL, N, K, dst);
        free(q), free(s32), free(s16);
    } else if (s->f16) { /* fp16 initializers: embedding and norms are rounded too */
        for (int64_t i = 0; i < n; i++) dst[i] = olm_f16_to_f32(olm_f32_to_f16(dst[i]));
    }
    return ONNXLLM_OK;
}

/* Builds int4 CPU through the internal writer (to choose exact_activations). */
static void build_int4(const char *preset, uint64_t seed, bool exact, char *dir, size_t cap) {
    static int n;
    snprintf(dir, cap, "%s/q%d-%s", tmp_root, n++, preset);
    olm_phi3_config c;
    olm_phi3_preset(preset, &c);
    olm_random_weights rw = {seed, olm_phi3_preset_init_std(preset)};
    olm_weight_source w = olm_random_weight_source(&rw);
    olm_build_options o = {.precision = OLM_PRECISION_INT4, .ep = OLM_EP_CPU, .exact_activations = exact};
    onnxllm_error e = {0};
    onnxllm_status st = olm_phi3_write(&c, &w, &o, dir, &e);
    if (st) printf("  build %s: %s\n", preset, e.message);
    CHECK_EQ_INT(st, ONNXLLM_OK);
}

static void int4_preset(const char *preset, bool exact) {
    olm_phi3_config c;
    olm_phi3_preset(preset, &c);
    char dir[256];
    build_int4(preset, 11, exact, dir, sizeof dir);
    olm_random_weights rw = {11, olm_phi3_preset_init_std(preset)};
    dq_source dq = {olm_random_weight_source(&rw), false, c.tie_word_embeddings};
    olm_weight_source w = {&dq, dq_get, NULL};
    olm_phi3_config rc = c;
    rc.tie_word_embeddings = false; /* lm_head = dequantized embedding, embedding stays fp32 */
    phi3_ref *ref = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(phi3_ref_create(&rc, &w, &ref, &e), ONNXLLM_OK);
    ort_model om;
    bool opened = ort_model_open(&om, dir, c.num_hidden_layers, c.num_key_value_heads, olm_phi3_head_dim(&c),
                                 c.vocab_size, false);
    if (!opened) printf("  %s\n", om.error);
    CHECK(opened);
    if (opened && ref) {
        int sw = c.longrope ? c.original_max_position_embeddings : 64;
        int one[] = {sw + 5}, steps[] = {sw - 4, 6, 1};
        double scale1 = 0, scale2 = 0;
        double d1 = compare_steps(&om, ref, &c, one, 1, 1, &scale1);
        double d2 = compare_steps(&om, ref, &c, steps, 3, 2, &scale2);
        double rel = fmax(d1 / scale1, d2 / scale2);
        printf("  %-16s int4 cpu %s: max|diff| %.3g / %.3g (max|logit| %.3g) → relative %.3g\n", preset,
               exact ? "no accuracy_level" : "accuracy_level 4", d1, d2, scale1, rel);
        if (exact) {
            /* fp32 activations: only summation order differs from the reference */
            CHECK(d1 <= 1e-4 && d2 <= 1e-4);
        } else {
            /* accuracy_level 4 quantizes each block of 32 activations to int8 (MLAS
             * CompInt8): per-element error up to 1/254 of the block max, accumulated
             * over K and every layer. Measured 2.4-4.4e-2 of max|logit| on the tiny
             * presets (depending on the seed) (the exact variant above is at 2e-6, so all of it is activation
             * rounding); 0.1 leaves margin yet fails on any layout error (a wrong
             * scale or nibble order gives O(1) errors). */
            CHECK(rel < 0.1);
        }
    }
    if (opened) ort_model_close(&om);
    phi3_ref_free(ref);
}

TEST(int4_cpu_tiny_gqa) {
    int4_preset("tiny-gqa", true);
    int4_preset("tiny-gqa", false);
}
TEST(int4_cpu_tiny_mha) {
    int4_preset("tiny-mha", true);
    int4_preset("tiny-mha", false);
}
TEST(int4_cpu_tiny_gqa_untied) {
    int4_preset("tiny-gqa-untied", true);
    int4_preset("tiny-gqa-untied", false);
}

/* The CUDA layout: fp16 everywhere. Structure checked with our reader; if ORT's
 * CPU provider has fp16 kernels for every op, its logits are also compared. */
TEST(int4_cuda_layout) {
    olm_phi3_config c;
    olm_phi3_preset("tiny-gqa", &c);
    char dir[256];
    build("tiny-gqa", 5, ONNXLLM_PRECISION_INT4, ONNXLLM_TARGET_CUDA, dir, sizeof dir);
    olm_onnx_model *m = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_onnx_load(dir, &m, &e), ONNXLLM_OK);
    if (!m) return;
    const olm_onnx_tensor *t = olm_onnx_find_init(m, "model.embed_tokens.weight");
    CHECK(t && t->dtype == OLM_ONNX_FLOAT16);
    t = olm_onnx_find_init(m, "model.layers.0.attn.qkv_proj.MatMul.weight_scales");
    CHECK(t && t->dtype == OLM_ONNX_FLOAT16 && t->rank == 2 && t->dims[0] == 512 && t->dims[1] == 8);
    const olm_onnx_node *n = olm_onnx_find_node(&m->graph, "/model/layers.0/attn/qkv_proj/MatMul_Q4");
    CHECK(n && !olm_onnx_node_attr(n, "accuracy_level"));
    CHECK(m->graph.outputs[0].elem_type == OLM_ONNX_FLOAT16);
    olm_onnx_free(m);
    ort_model om;
    bool opened = ort_model_open(&om, dir, c.num_hidden_layers, c.num_key_value_heads, olm_phi3_head_dim(&c),
                                 c.vocab_size, true);
    if (!opened) {
        printf("  ORT CPU cannot load the fp16 layout (%s) — structure checked only\n", om.error);
        return;
    }
    olm_random_weights rw = {5, olm_phi3_preset_init_std("tiny-gqa")};
    dq_source dq = {olm_random_weight_source(&rw), true, true};
    olm_weight_source w = {&dq, dq_get, NULL};
    olm_phi3_config rc = c;
    rc.tie_word_embeddings = false;
    phi3_ref *ref = NULL;
    CHECK_EQ_INT(phi3_ref_create(&rc, &w, &ref, &e), ONNXLLM_OK);
    int steps[] = {20, 1};
    double scale = 0, d = compare_steps(&om, ref, &c, steps, 2, 3, &scale);
    if (!isfinite(d)) {
        printf("  ORT CPU loads the fp16 layout but cannot run it — structure checked only\n");
    } else {
        printf("  int4 cuda layout on ORT CPU: max|diff| %.3g (max|logit| %.3g)\n", d, scale);
        CHECK(d / scale < 1e-2); /* fp16 activations and caches: measured 1.8e-3 of max|logit| */
    }
    phi3_ref_free(ref);
    ort_model_close(&om);
}

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/olm-writer-test-XXXXXX");
    if (!mkdtemp(tmp_root)) return 1;
    RUN(fp32_tiny_gqa);
    RUN(fp32_tiny_mha);
    RUN(fp32_tiny_gqa_untied);
    RUN(fp32_tiny_1layer);
    RUN(longrope_switch_changes_logits);
    RUN(int4_cpu_tiny_gqa);
    RUN(int4_cpu_tiny_mha);
    RUN(int4_cpu_tiny_gqa_untied);
    RUN(int4_cuda_layout);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0) printf("warning: could not remove %s\n", tmp_root);
    return test_summary("writer-ort");
}
