/* ort_util.c — see ort_util.h. */
#include "ort_util.h"
#include "writer/quant4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool ok(ort_model *m, OrtStatus *s, const char *what) {
    if (!s) return true;
    snprintf(m->error, sizeof m->error, "%s: %s", what, m->api->GetErrorMessage(s));
    m->api->ReleaseStatus(s);
    return false;
}

bool ort_model_open(ort_model *m, const char *dir, int layers, int kv_heads, int head_dim, int vocab, bool f16) {
    memset(m, 0, sizeof *m);
    m->api = OrtGetApiBase()->GetApi(ORT_API_VERSION);
    m->layers = layers;
    m->kv_heads = kv_heads;
    m->head_dim = head_dim;
    m->vocab = vocab;
    m->f16 = f16;
    m->kv = calloc((size_t)layers * 2, sizeof *m->kv);
    char path[1024];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    OrtSessionOptions *so = NULL;
    bool good = ok(m, m->api->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "test", &m->env), "CreateEnv") &&
                ok(m, m->api->CreateSessionOptions(&so), "CreateSessionOptions") &&
                ok(m, m->api->SetIntraOpNumThreads(so, 1), "threads") &&
                ok(m, m->api->CreateSession(m->env, path, so, &m->sess), "CreateSession") &&
                ok(m, m->api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &m->mem), "mem");
    if (so) m->api->ReleaseSessionOptions(so);
    return good;
}

void ort_model_reset(ort_model *m) {
    for (int i = 0; m->kv && i < 2 * m->layers; i++) {
        free(m->kv[i]);
        m->kv[i] = NULL;
    }
    m->kv_len = 0;
}

void ort_model_close(ort_model *m) {
    ort_model_reset(m);
    free(m->kv);
    if (m->mem) m->api->ReleaseMemoryInfo(m->mem);
    if (m->sess) m->api->ReleaseSession(m->sess);
    if (m->env) m->api->ReleaseEnv(m->env);
    memset(m, 0, sizeof *m);
}

bool ort_model_step(ort_model *m, const int64_t *ids, int n, float *logits) {
    const OrtApi *a = m->api;
    int total = m->kv_len + n, nin = 2 + 2 * m->layers, nout = 1 + 2 * m->layers;
    size_t esz = m->f16 ? 2 : 4;
    ONNXTensorElementDataType et = m->f16 ? ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 : ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    int64_t *mask = malloc(sizeof(int64_t) * (size_t)total);
    for (int i = 0; i < total; i++) mask[i] = 1;
    char (*names)[64] = calloc((size_t)(nin + nout), 64);
    const char **in_names = calloc((size_t)nin, sizeof *in_names), **out_names = calloc((size_t)nout, sizeof *out_names);
    OrtValue **in = calloc((size_t)nin, sizeof *in), **out = calloc((size_t)nout, sizeof *out);
    static char dummy[8];
    bool good = true;
    int64_t ids_shape[2] = {1, n}, mask_shape[2] = {1, total};
    in_names[0] = "input_ids";
    in_names[1] = "attention_mask";
    good = good && ok(m, a->CreateTensorWithDataAsOrtValue(m->mem, (void *)ids, sizeof(int64_t) * (size_t)n, ids_shape, 2,
                                                           ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, &in[0]), "ids");
    good = good && ok(m, a->CreateTensorWithDataAsOrtValue(m->mem, mask, sizeof(int64_t) * (size_t)total, mask_shape, 2,
                                                           ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, &in[1]), "mask");
    int64_t kv_shape[4] = {1, m->kv_heads, m->kv_len, m->head_dim};
    size_t kv_bytes = (size_t)m->kv_heads * (size_t)m->kv_len * (size_t)m->head_dim * esz;
    for (int l = 0; good && l < m->layers; l++)
        for (int kv = 0; kv < 2; kv++) {
            int k = 2 + 2 * l + kv;
            snprintf(names[k], 64, "past_key_values.%d.%s", l, kv ? "value" : "key");
            in_names[k] = names[k];
            void *data = m->kv[2 * l + kv] ? m->kv[2 * l + kv] : dummy;
            good = good && ok(m, a->CreateTensorWithDataAsOrtValue(m->mem, data, kv_bytes, kv_shape, 4, et, &in[k]), "past");
        }
    out_names[0] = "logits";
    for (int l = 0; l < m->layers; l++)
        for (int kv = 0; kv < 2; kv++) {
            int k = 1 + 2 * l + kv;
            snprintf(names[nin + k], 64, "present.%d.%s", l, kv ? "value" : "key");
            out_names[k] = names[nin + k];
        }
    good = good && ok(m, a->Run(m->sess, NULL, in_names, (const OrtValue *const *)in, (size_t)nin, out_names,
                                (size_t)nout, out), "Run");
    if (good) {
        void *p;
        good = ok(m, a->GetTensorMutableData(out[0], &p), "logits");
        for (size_t i = 0; good && i < (size_t)n * (size_t)m->vocab; i++)
            logits[i] = m->f16 ? olm_f16_to_f32(((uint16_t *)p)[i]) : ((float *)p)[i];
        size_t new_bytes = (size_t)m->kv_heads * (size_t)total * (size_t)m->head_dim * esz;
        for (int k = 0; good && k < 2 * m->layers; k++) {
            OrtTensorTypeAndShapeInfo *info;
            int64_t dims[4] = {0};
            good = ok(m, a->GetTensorTypeAndShape(out[1 + k], &info), "shape");
            if (!good) break;
            good = ok(m, a->GetDimensions(info, dims, 4), "dims");
            a->ReleaseTensorTypeAndShapeInfo(info);
            if (dims[2] != total) {
                snprintf(m->error, sizeof m->error, "present length %lld, expected %d", (long long)dims[2], total);
                good = false;
                break;
            }
            good = ok(m, a->GetTensorMutableData(out[1 + k], &p), "present");
            free(m->kv[k]);
            m->kv[k] = malloc(new_bytes ? new_bytes : 1);
            memcpy(m->kv[k], p, new_bytes);
        }
        if (good) m->kv_len = total;
    }
    for (int i = 0; i < nin; i++)
        if (in[i]) a->ReleaseValue(in[i]);
    for (int i = 0; i < nout; i++)
        if (out[i]) a->ReleaseValue(out[i]);
    free(in), free(out), free(in_names), free(out_names), free(names), free(mask);
    return good;
}
