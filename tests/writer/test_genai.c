/* test_genai.c — onnxruntime-genai (the reference runtime) loads the written model
 * folders and generates; for the fp32 and exact int4 layouts its greedy tokens equal
 * the argmax of the reference forward pass step by step (prompt, then one token per
 * step, crossing the LongRoPE switch at 32 for tiny-gqa). */
#include "test.h"
#include "phi3_ref.h"
#include "writer/phi3.h"
#include "writer/quant4.h"

#include <ort_genai_c.h>
#include <onnxruntime_c_api.h>
#include <stdint.h>
#include <unistd.h>

static char tmp_root[64];

static bool oga_ok(OgaResult *r, const char *what) {
    if (!r) return true;
    printf("  %s: %s\n", what, OgaResultGetError(r));
    OgaDestroyResult(r);
    return false;
}

/* Greedy generation with GenAI: prompt + up to max_length total tokens. */
static int genai_generate(const char *dir, const int32_t *prompt, int n, int max_length, int32_t *out) {
    OgaModel *model = NULL;
    OgaGeneratorParams *params = NULL;
    OgaGenerator *gen = NULL;
    int count = -1;
    if (!oga_ok(OgaCreateModel(dir, &model), "OgaCreateModel")) return -1;
    if (oga_ok(OgaCreateGeneratorParams(model, &params), "params") &&
        oga_ok(OgaGeneratorParamsSetSearchNumber(params, "max_length", max_length), "max_length") &&
        oga_ok(OgaCreateGenerator(model, params, &gen), "OgaCreateGenerator") &&
        oga_ok(OgaGenerator_AppendTokens(gen, prompt, (size_t)n), "AppendTokens")) {
        bool good = true;
        while (good && !OgaGenerator_IsDone(gen)) good = oga_ok(OgaGenerator_GenerateNextToken(gen), "GenerateNextToken");
        if (good) {
            count = (int)OgaGenerator_GetSequenceCount(gen, 0);
            memcpy(out, OgaGenerator_GetSequenceData(gen, 0), sizeof(int32_t) * (size_t)count);
        }
    }
    OgaDestroyGenerator(gen);
    OgaDestroyGeneratorParams(params);
    OgaDestroyModel(model);
    return count;
}

/* Greedy with the reference, stopping at eos like GenAI (eos itself not kept). */
static int ref_generate(phi3_ref *ref, const olm_phi3_config *c, const int32_t *prompt, int n, int max_length,
                        int32_t *out) {
    int64_t ids[256];
    float *logits = malloc(sizeof(float) * (size_t)n * c->vocab_size);
    for (int i = 0; i < n; i++) ids[i] = out[i] = prompt[i];
    onnxllm_error e = {0};
    phi3_ref_reset(ref);
    int len = n, step = n;
    const float *last = NULL;
    while (len < max_length) {
        if (phi3_ref_step(ref, ids + len - step, step, logits, &e)) return -1;
        last = logits + (size_t)(step - 1) * c->vocab_size;
        int best = 0;
        for (int v = 1; v < c->vocab_size; v++)
            if (last[v] > last[best]) best = v;
        bool eos = false;
        for (int k = 0; k < c->n_eos; k++) eos |= best == c->eos_token_id[k];
        if (eos) break; /* GenAI 0.15.2 ends the sequence without appending eos (observed) */
        ids[len] = out[len] = best;
        len++;
        step = 1;
    }
    free(logits);
    return len;
}

static void check_preset(const char *preset, onnxllm_precision prec) {
    olm_phi3_config c;
    olm_phi3_preset(preset, &c);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s-%d", tmp_root, preset, (int)prec);
    onnxllm_error e = {0};
    int32_t prompt[24], got[128], want[128];
    for (int i = 0; i < 24; i++) prompt[i] = 3 + (i * 37) % (c.vocab_size - 3);
    int max_length = 40; /* 24 prompt + 16 new: crosses tiny-gqa's switch at 32 */
    if (prec == ONNXLLM_PRECISION_FP32) {
        onnxllm_build_params p = onnxllm_build_default_params();
        p.precision = prec;
        CHECK_EQ_INT(onnxllm_build_model(preset, 21, &p, dir, &e), ONNXLLM_OK);
    } else { /* int4 without accuracy_level: exact against dequantized weights */
        olm_random_weights rw = {21, olm_phi3_preset_init_std(preset)};
        olm_weight_source w = olm_random_weight_source(&rw);
        olm_build_options o = {.precision = OLM_PRECISION_INT4, .exact_activations = true};
        CHECK_EQ_INT(olm_phi3_write(&c, &w, &o, dir, &e), ONNXLLM_OK);
    }
    int n = genai_generate(dir, prompt, 24, max_length, got);
    CHECK(n > 24);
    if (n <= 24) return;
    /* reference on the same weights (dequantized for int4) */
    olm_random_weights rw = {21, olm_phi3_preset_init_std(preset)};
    olm_weight_source w = olm_random_weight_source(&rw);
    olm_phi3_config rc = c;
    float *dq = NULL;
    phi3_ref *ref = NULL;
    if (prec == ONNXLLM_PRECISION_FP32) {
        CHECK_EQ_INT(phi3_ref_create(&rc, &w, &ref, &e), ONNXLLM_OK);
    } else {
        extern onnxllm_status dequant_source_create(olm_weight_source inner, bool tied, olm_weight_source *out);
        olm_weight_source dw;
        dequant_source_create(w, c.tie_word_embeddings, &dw);
        rc.tie_word_embeddings = false;
        CHECK_EQ_INT(phi3_ref_create(&rc, &dw, &ref, &e), ONNXLLM_OK);
    }
    int m = ref ? ref_generate(ref, &c, prompt, 24, max_length, want) : -1;
    printf("  %-16s %s: genai %d tokens, reference %d:", preset, prec == ONNXLLM_PRECISION_FP32 ? "fp32" : "int4",
           n, m);
    for (int i = 24; i < n; i++) printf(" %d", got[i]);
    printf(" | ref:");
    for (int i = 24; i < m; i++) printf(" %d", want[i]);
    printf("\n");
    CHECK_EQ_INT(n, m);
    for (int i = 0; i < n && i < m; i++) CHECK_EQ_INT(got[i], want[i]);
    phi3_ref_free(ref);
    free(dq);
}

/* dequantizing weight source (int4 route) */
typedef struct {
    olm_weight_source inner;
    bool tied;
} dq_ctx;
static dq_ctx dq_state; /* test-local; one at a time */

static onnxllm_status dq_get(void *ctx, const char *name, const int64_t *shape, int rank, float *dst,
                             onnxllm_error *err) {
    dq_ctx *s = ctx;
    const char *src = s->tied && !strcmp(name, "lm_head.weight") ? "model.embed_tokens.weight" : name;
    onnxllm_status st = s->inner.get(s->inner.ctx, src, shape, rank, dst, err);
    if (st || !(strstr(name, "_proj.weight") || !strcmp(name, "lm_head.weight"))) return st;
    int64_t N = shape[0], K = shape[1];
    uint8_t *q = malloc((size_t)(N * K / 2));
    float *sc = malloc(sizeof(float) * (size_t)(N * K / 32));
    olm_q4_quantize(dst, N, K, q, sc, NULL);
    olm_q4_dequantize(q, sc, NULL, N, K, dst);
    free(q), free(sc);
    return ONNXLLM_OK;
}

onnxllm_status dequant_source_create(olm_weight_source inner, bool tied, olm_weight_source *out);
onnxllm_status dequant_source_create(olm_weight_source inner, bool tied, olm_weight_source *out) {
    dq_state.inner = inner;
    dq_state.tied = tied;
    out->ctx = &dq_state;
    out->get = dq_get;
    out->get_rows = NULL;
    return ONNXLLM_OK;
}

TEST(genai_fp32_tiny_gqa) { check_preset("tiny-gqa", ONNXLLM_PRECISION_FP32); }
TEST(genai_fp32_tiny_mha) { check_preset("tiny-mha", ONNXLLM_PRECISION_FP32); }
TEST(genai_fp32_tiny_gqa_untied) { check_preset("tiny-gqa-untied", ONNXLLM_PRECISION_FP32); }
TEST(genai_int4_tiny_gqa) { check_preset("tiny-gqa", ONNXLLM_PRECISION_INT4); }
TEST(genai_int4_tiny_mha) { check_preset("tiny-mha", ONNXLLM_PRECISION_INT4); }

/* The published CPU layout (accuracy_level 4) loads and generates in GenAI. */
TEST(genai_int4_published_layout_generates) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/pub", tmp_root);
    onnxllm_error e = {0};
    CHECK_EQ_INT(onnxllm_build_model("tiny-gqa", 1, NULL, dir, &e), ONNXLLM_OK);
    int32_t prompt[5] = {5, 6, 7, 8, 9}, got[64];
    int n = genai_generate(dir, prompt, 5, 20, got);
    CHECK(n > 5 && n <= 20);
}

int main(void) {
    /* GenAI dlopens libonnxruntime.so(.1) and first reuses an already loaded copy:
     * calling into ORT here makes it a NEEDED library of this binary (found through
     * the build rpath), so no LD_LIBRARY_PATH is required. */
    if (!OrtGetApiBase()) return 1;
    snprintf(tmp_root, sizeof tmp_root, "/tmp/olm-genai-test-XXXXXX");
    if (!mkdtemp(tmp_root)) return 1;
    RUN(genai_fp32_tiny_gqa);
    RUN(genai_fp32_tiny_mha);
    RUN(genai_fp32_tiny_gqa_untied);
    RUN(genai_int4_tiny_gqa);
    RUN(genai_int4_tiny_mha);
    RUN(genai_int4_published_layout_generates);
    OgaShutdown();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0) printf("warning: could not remove %s\n", tmp_root);
    return test_summary("writer-genai");
}
