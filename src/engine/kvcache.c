/* kvcache.c — a sequence's key/value cache.
 *
 * Shared mode (genai's past_present_share_buffer, the default for GQA graphs):
 * one [1, kv_heads, max_length, head_size] tensor per layer for K and one for V,
 * bound as BOTH past_key_values.i.* input and present.i.* output of every run.
 * GroupQueryAttention writes the new positions in place, so nothing is copied
 * between steps. On CPU all 2·L tensors live in one anonymous mapping: the
 * kernel hands out zero pages lazily, so only positions actually used count
 * towards RSS (genai zero-fills its buffers, touching all of them).
 *
 * Fallback mode (graphs that do not share): past tensors hold exactly the cached
 * positions; present outputs are allocated by ORT and become the next past.
 *
 * Layout note for batching: the tensors carry a batch dimension of 1; a future
 * batched decoder can allocate [B, ...] blocks and give each sequence a row. */
#include "engine/batch.h"
#include "common/error.h"
#include "common/checked.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static size_t elem_size(ONNXTensorElementDataType t) {
    return t == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ? 4 : 2;
}

onnxllm_status olm_kvcache_init(onnxllm_model *m, olm_kvcache *kv, onnxllm_error *err) {
    const OrtApi *api = m->api;
    memset(kv, 0, sizeof *kv);
    kv->n_layers = m->cfg.num_hidden_layers;
    kv->shared = m->shared_kv;
    kv->elem = elem_size(m->io.kv_type);
    kv->nkv = m->cfg.num_key_value_heads;
    kv->head = m->cfg.head_size;
    kv->cap = m->max_length;
    kv->k = calloc((size_t)kv->n_layers, sizeof *kv->k);
    kv->v = calloc((size_t)kv->n_layers, sizeof *kv->v);
    if (!kv->k || !kv->v) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "KV cache: out of memory");
    onnxllm_status st = ONNXLLM_OK;
    if (kv->shared) {
        int64_t shape[4] = {1, kv->nkv, kv->cap, kv->head}, elems;
        size_t layer_bytes, all;
        /* the sizes come from genai_config.json: checked products, not wrapped ones */
        if (!olm_dims_product(shape, 4, 0, &elems) || !olm_mul_size((size_t)elems, kv->elem, &layer_bytes) ||
            !olm_mul_size(layer_bytes, 2 * (size_t)kv->n_layers, &all))
            return olm_fail(err, ONNXLLM_ERR_FORMAT,
                            "KV cache: %d layers x 2 x [%lld, %lld, %lld] does not fit in memory (genai_config.json)",
                            kv->n_layers, (long long)kv->nkv, (long long)kv->cap, (long long)kv->head);
        if (!m->dev_alloc) {
            kv->block_bytes = all;
            kv->block = mmap(NULL, kv->block_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                             -1, 0);
            if (kv->block == MAP_FAILED) {
                kv->block = NULL;
                return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "KV cache: cannot reserve %zu bytes (max_length %d)",
                                kv->block_bytes, m->max_length);
            }
        }
        for (int i = 0; i < kv->n_layers && !st; i++)
            for (int j = 0; j < 2 && !st; j++) {
                OrtValue **slot = j ? &kv->v[i] : &kv->k[i];
                if (!m->dev_alloc) {
                    void *p = (char *)kv->block + ((size_t)i * 2 + (size_t)j) * layer_bytes;
                    st = olm_ort_status(api,
                                        api->CreateTensorWithDataAsOrtValue(m->cpu_mem, p, layer_bytes, shape, 4,
                                                                            m->io.kv_type, slot),
                                        ONNXLLM_ERR_RUNTIME, err, "KV cache tensor");
                } else {
                    /* Device memory from the session's CUDA allocator, zeroed via a copy from
                     * a lazily-zero CPU tensor. */
                    st = olm_ort_status(api, api->CreateTensorAsOrtValue(m->dev_alloc, shape, 4, m->io.kv_type, slot),
                                        ONNXLLM_ERR_OUT_OF_MEMORY, err, "KV cache (CUDA)");
                    if (st) break;
                    void *z = mmap(NULL, layer_bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                    OrtValue *zv = NULL;
                    if (z == MAP_FAILED) {
                        st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "KV cache: out of memory");
                        break;
                    }
                    st = olm_ort_status(api,
                                        api->CreateTensorWithDataAsOrtValue(m->cpu_mem, z, layer_bytes, shape, 4,
                                                                            m->io.kv_type, &zv),
                                        ONNXLLM_ERR_RUNTIME, err, "KV cache zero tensor");
                    /* Best effort: GQA reads only positions < total_sequence_length, so
                     * the zeros are hygiene, not correctness (CopyTensors needs the EP's
                     * data transfer registered with the environment). */
                    if (!st) olm_ort_void(api, api->CopyTensors(m->env, (const OrtValue *const *)&zv, slot, NULL, 1));
                    if (zv) api->ReleaseValue(zv);
                    munmap(z, layer_bytes);
                }
            }
    } else {
        st = olm_kvcache_truncate(m, kv, 0, err);
    }
    return st;
}

void olm_kvcache_free(onnxllm_model *m, olm_kvcache *kv) {
    for (int i = 0; i < kv->n_layers; i++) {
        if (kv->k && kv->k[i]) m->api->ReleaseValue(kv->k[i]);
        if (kv->v && kv->v[i]) m->api->ReleaseValue(kv->v[i]);
    }
    free(kv->k);
    free(kv->v);
    if (kv->block) munmap(kv->block, kv->block_bytes);
    memset(kv, 0, sizeof *kv);
}

onnxllm_status olm_kvcache_bind(onnxllm_model *m, olm_kvcache *kv, OrtIoBinding *b, onnxllm_error *err) {
    const OrtApi *api = m->api;
    const OrtMemoryInfo *out_mem = m->dev_mem ? m->dev_mem : m->cpu_mem;
    for (int i = 0; i < kv->n_layers; i++) {
        OrtStatus *s = api->BindInput(b, m->io.past_k[i], kv->k[i]);
        if (!s) s = api->BindInput(b, m->io.past_v[i], kv->v[i]);
        if (kv->shared) {
            if (!s) s = api->BindOutput(b, m->io.present_k[i], kv->k[i]);
            if (!s) s = api->BindOutput(b, m->io.present_v[i], kv->v[i]);
        } else {
            if (!s) s = api->BindOutputToDevice(b, m->io.present_k[i], out_mem);
            if (!s) s = api->BindOutputToDevice(b, m->io.present_v[i], out_mem);
        }
        onnxllm_status st = olm_ort_status(api, s, ONNXLLM_ERR_RUNTIME, err, "binding the KV cache");
        if (st) return st;
    }
    return ONNXLLM_OK;
}

onnxllm_status olm_kvcache_take_present(onnxllm_model *m, olm_kvcache *kv, OrtValue **outs, char **names, size_t n,
                                        onnxllm_error *err) {
    const OrtApi *api = m->api;
    int found = 0;
    for (size_t j = 0; j < n; j++) {
        for (int i = 0; i < kv->n_layers; i++) {
            OrtValue **slot = !strcmp(names[j], m->io.present_k[i])   ? &kv->k[i]
                            : !strcmp(names[j], m->io.present_v[i]) ? &kv->v[i]
                                                                    : NULL;
            if (!slot) continue;
            if (*slot) api->ReleaseValue(*slot);
            *slot = outs[j];
            outs[j] = NULL; /* ownership moved */
            found++;
            break;
        }
    }
    if (found != 2 * kv->n_layers) return olm_fail(err, ONNXLLM_ERR_INTERNAL, "KV cache: present outputs missing");
    OrtTensorTypeAndShapeInfo *info = NULL;
    int64_t dims[4] = {0};
    onnxllm_status st = olm_ort_status(api, api->GetTensorTypeAndShape(kv->k[0], &info), ONNXLLM_ERR_RUNTIME, err,
                                       "KV cache shape");
    if (st) return st;
    olm_ort_void(api, api->GetDimensions(info, dims, 4));
    api->ReleaseTensorTypeAndShapeInfo(info);
    kv->len = dims[2];
    return ONNXLLM_OK;
}

onnxllm_status olm_kvcache_truncate(onnxllm_model *m, olm_kvcache *kv, int64_t n, onnxllm_error *err) {
    const OrtApi *api = m->api;
    if (kv->shared) return ONNXLLM_OK; /* positions >= n are simply overwritten later */
    if (m->dev_alloc && n > 0)
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "rewinding a non-shared CUDA KV cache is not supported");
    OrtAllocator *alloc = NULL;
    olm_ort_void(api, api->GetAllocatorWithDefaultOptions(&alloc));
    int64_t shape[4] = {1, kv->nkv, n, kv->head};
    for (int i = 0; i < kv->n_layers; i++)
        for (int j = 0; j < 2; j++) {
            OrtValue **slot = j ? &kv->v[i] : &kv->k[i];
            OrtValue *nv = NULL;
            onnxllm_status st = olm_ort_status(
                api,
                m->dev_alloc ? api->CreateTensorAsOrtValue(m->dev_alloc, shape, 4, m->io.kv_type, &nv)
                             : api->CreateTensorAsOrtValue(alloc, shape, 4, m->io.kv_type, &nv),
                ONNXLLM_ERR_OUT_OF_MEMORY, err, "KV cache");
            if (st) return st;
            if (*slot && n > 0) {
                char *src = NULL, *dst = NULL;
                olm_ort_void(api, api->GetTensorMutableData(*slot, (void **)&src));
                olm_ort_void(api, api->GetTensorMutableData(nv, (void **)&dst));
                size_t row = (size_t)kv->head * kv->elem;
                for (int64_t h = 0; h < kv->nkv; h++)
                    memcpy(dst + (size_t)(h * n) * row, src + (size_t)(h * kv->len) * row, (size_t)n * row);
            }
            if (*slot) api->ReleaseValue(*slot);
            *slot = nv;
        }
    kv->len = n;
    return ONNXLLM_OK;
}

onnxllm_status olm_kvcache_init_slab(onnxllm_model *m, olm_kvcache *kv, olm_slab *sl, int slot, onnxllm_error *err) {
    const OrtApi *api = m->api;
    memset(kv, 0, sizeof *kv);
    kv->n_layers = sl->n_layers;
    kv->shared = true;
    kv->elem = sl->elem;
    kv->nkv = sl->nkv;
    kv->head = sl->head;
    kv->cap = sl->cap;
    kv->k = calloc((size_t)kv->n_layers, sizeof *kv->k);
    kv->v = calloc((size_t)kv->n_layers, sizeof *kv->v);
    if (!kv->k || !kv->v) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "KV cache: out of memory");
    int64_t shape[4] = {1, kv->nkv, kv->cap, kv->head};
    for (int i = 0; i < kv->n_layers; i++)
        for (int j = 0; j < 2; j++) {
            onnxllm_status st = olm_ort_status(
                api,
                api->CreateTensorWithDataAsOrtValue(m->cpu_mem, olm_slab_region(sl, i, j, slot), sl->region, shape, 4,
                                                    m->io.kv_type, j ? &kv->v[i] : &kv->k[i]),
                ONNXLLM_ERR_RUNTIME, err, "KV cache tensor");
            if (st) return st;
        }
    return ONNXLLM_OK;
}
