/* ort_logits.c — test helper: a plain prefill run through the ORT C API. */
#include "ort_logits.h"

#include "writer/quant4.h"

#include <onnxruntime_c_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CK(expr)                                                                     \
    do {                                                                             \
        OrtStatus *st_ = (expr);                                                     \
        if (st_) {                                                                   \
            snprintf(errbuf, 256, "ORT: %s", ort->GetErrorMessage(st_));             \
            ort->ReleaseStatus(st_);                                                 \
            goto done;                                                               \
        }                                                                            \
    } while (0)

int ort_logits(const char *model_dir, int n_layers, int n_kv_heads, int head_dim, const int64_t *ids, int S, int V,
               int f16, float *logits, char *errbuf) {
    const OrtApi *ort = OrtGetApiBase()->GetApi(ORT_API_VERSION);
    int rc = -1, n_in = 2 + 2 * n_layers;
    OrtEnv *env = NULL;
    OrtSessionOptions *so = NULL;
    OrtSession *sess = NULL;
    OrtMemoryInfo *mi = NULL;
    OrtAllocator *alloc = NULL;
    OrtValue **in = calloc((size_t)n_in, sizeof *in), *out = NULL;
    char **names = calloc((size_t)n_in, sizeof *names);
    int64_t *mask = malloc((size_t)S * sizeof *mask);
    char path[1024];
    snprintf(path, sizeof path, "%s/model.onnx", model_dir);
    snprintf(errbuf, 256, "setup failed");
    if (!in || !names || !mask) goto done;
    for (int i = 0; i < S; i++) mask[i] = 1;
    CK(ort->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "convert-test", &env));
    CK(ort->CreateSessionOptions(&so));
    CK(ort->SetIntraOpNumThreads(so, 1));
    CK(ort->CreateSession(env, path, so, &sess));
    CK(ort->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &mi));
    CK(ort->GetAllocatorWithDefaultOptions(&alloc));
    int64_t shp[2] = {1, S};
    names[0] = strdup("input_ids");
    names[1] = strdup("attention_mask");
    CK(ort->CreateTensorWithDataAsOrtValue(mi, (void *)ids, sizeof *ids * (size_t)S, shp, 2,
                                           ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, &in[0]));
    CK(ort->CreateTensorWithDataAsOrtValue(mi, mask, sizeof *mask * (size_t)S, shp, 2,
                                           ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, &in[1]));
    int64_t kv[4] = {1, n_kv_heads, 0, head_dim};
    for (int l = 0; l < n_layers; l++)
        for (int k = 0; k < 2; k++) {
            char nm[64];
            snprintf(nm, sizeof nm, "past_key_values.%d.%s", l, k ? "value" : "key");
            names[2 + 2 * l + k] = strdup(nm);
            CK(ort->CreateTensorAsOrtValue(alloc, kv, 4,
                                           f16 ? ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 : ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT,
                                           &in[2 + 2 * l + k]));
        }
    const char *out_names[] = {"logits"};
    CK(ort->Run(sess, NULL, (const char *const *)names, (const OrtValue *const *)in, (size_t)n_in, out_names, 1, &out));
    void *y;
    CK(ort->GetTensorMutableData(out, &y));
    if (f16)
        for (size_t i = 0; i < (size_t)S * (size_t)V; i++) logits[i] = olm_f16_to_f32(((const uint16_t *)y)[i]);
    else
        memcpy(logits, y, sizeof *logits * (size_t)S * (size_t)V);
    rc = 0;
done:
    if (out) ort->ReleaseValue(out);
    for (int i = 0; in && i < n_in; i++)
        if (in[i]) ort->ReleaseValue(in[i]);
    for (int i = 0; names && i < n_in; i++) free(names[i]);
    free(in);
    free(names);
    free(mask);
    if (mi) ort->ReleaseMemoryInfo(mi);
    if (sess) ort->ReleaseSession(sess);
    if (so) ort->ReleaseSessionOptions(so);
    if (env) ort->ReleaseEnv(env);
    return rc;
}
