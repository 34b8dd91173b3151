/* oracle.c — driving onnxruntime-genai through its C API (ort_genai_c.h). */
#include "oracle.h"

#include <stdio.h>
#include <string.h>
#include <ort_genai_c.h>

#define OK(call)                                                                      \
    do {                                                                              \
        OgaResult *r_ = (call);                                                       \
        if (r_) {                                                                     \
            snprintf(errbuf, errcap, "genai: %s: %s", #call, OgaResultGetError(r_)); \
            OgaDestroyResult(r_);                                                     \
            goto fail;                                                                \
        }                                                                             \
    } while (0)

static int open_gen(const char *dir, int max_length, int threads, OgaModel **model, OgaGeneratorParams **params,
                    OgaGenerator **gen, char *errbuf, size_t errcap) {
    OgaConfig *cfg = NULL;
    char overlay[256];
    OK(OgaCreateConfig(dir, &cfg));
    snprintf(overlay, sizeof overlay,
             "{\"model\": {\"decoder\": {\"session_options\": {\"intra_op_num_threads\": %d}}}}", threads);
    OK(OgaConfigOverlay(cfg, overlay));
    OK(OgaConfigClearProviders(cfg)); /* CPU, also for models whose config names cuda */
    OK(OgaCreateModelFromConfig(cfg, model));
    OgaDestroyConfig(cfg);
    cfg = NULL;
    OK(OgaCreateGeneratorParams(*model, params));
    OK(OgaGeneratorParamsSetSearchNumber(*params, "max_length", max_length));
    OK(OgaGeneratorParamsSetSearchBool(*params, "do_sample", false));
    OK(OgaCreateGenerator(*model, *params, gen));
    return 0;
fail:
    if (cfg) OgaDestroyConfig(cfg);
    return -1;
}

static void close_gen(OgaModel *model, OgaGeneratorParams *params, OgaGenerator *gen) {
    if (gen) OgaDestroyGenerator(gen);
    if (params) OgaDestroyGeneratorParams(params);
    if (model) OgaDestroyModel(model);
}

int oracle_generate(const char *dir, const int32_t *prompt, size_t n_prompt, int max_new, int max_length,
                    int threads, int32_t *out, char *errbuf, size_t errcap) {
    OgaModel *model = NULL;
    OgaGeneratorParams *params = NULL;
    OgaGenerator *gen = NULL;
    int n = 0;
    if (open_gen(dir, max_length, threads, &model, &params, &gen, errbuf, errcap)) goto fail;
    OK(OgaGenerator_AppendTokens(gen, prompt, n_prompt));
    while (n < max_new && !OgaGenerator_IsDone(gen)) {
        OK(OgaGenerator_GenerateNextToken(gen));
        const int32_t *next = NULL;
        size_t cnt = 0;
        OK(OgaGenerator_GetNextTokens(gen, &next, &cnt));
        if (cnt != 1) {
            snprintf(errbuf, errcap, "genai returned %zu tokens", cnt);
            goto fail;
        }
        out[n++] = next[0];
    }
    close_gen(model, params, gen);
    return n;
fail:
    close_gen(model, params, gen);
    return -1;
}

int oracle_first_logits(const char *dir, const int32_t *prompt, size_t n_prompt, int max_length, int threads,
                        float *out, size_t vocab, char *errbuf, size_t errcap) {
    OgaModel *model = NULL;
    OgaGeneratorParams *params = NULL;
    OgaGenerator *gen = NULL;
    OgaTensor *t = NULL;
    if (open_gen(dir, max_length, threads, &model, &params, &gen, errbuf, errcap)) goto fail;
    OK(OgaGenerator_AppendTokens(gen, prompt, n_prompt));
    OK(OgaGenerator_GetLogits(gen, &t));
    void *data = NULL;
    OK(OgaTensorGetData(t, &data));
    memcpy(out, data, vocab * sizeof(float));
    OgaDestroyTensor(t);
    close_gen(model, params, gen);
    return 0;
fail:
    if (t) OgaDestroyTensor(t);
    close_gen(model, params, gen);
    return -1;
}

void oracle_shutdown(void) { OgaShutdown(); }
