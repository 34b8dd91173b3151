/* random_weights.c — deterministic random model weights (see phi3.h).
 *
 * Counter-based: tensor key = mix(seed, FNV-1a(name)); element i is a function of
 * the 64-bit hash of (key, i) only. No state is carried from one value to the
 * next, so row ranges, tensors and builds are all independent of generation order. */
#include "writer/phi3.h"
#include "common/error.h"

#include <string.h>

static inline uint64_t mix64(uint64_t z) { /* splitmix64 finaliser */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t name_key(uint64_t seed, const char *name) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 0x100000001b3ull;
    return mix64(mix64(seed + 0x9e3779b97f4a7c15ull) ^ h);
}

static bool is_norm(const char *name) {
    size_t n = strlen(name);
    return n >= 11 && !strcmp(name + n - 11, "norm.weight");
}

/* values [first, first + n) of the tensor with key `key`. Each value is the
 * Irwin-Hall sum of four 16-bit uniforms from one 64-bit hash, standardised:
 * mean 0, variance 1, bell-shaped within ±3.46 — close enough to a normal for
 * random weights and ~20x cheaper than Box-Muller (the full-size build draws
 * 3.8 billion values). */
static void fill(uint64_t key, bool norm, float std, int64_t first, int64_t n, float *dst) {
    const float k = 1.7320508075688772f / 65536.0f; /* sqrt(3): var of (sum of 4 U(0,1)) - 2 is 1/3 */
    float mean = norm ? 1.0f : 0.0f, s = (norm ? 0.1f : std) * k;
    for (int64_t j = 0; j < n; j++) {
        uint64_t h = mix64(key + 0x9e3779b97f4a7c15ull * (uint64_t)(first + j));
        int32_t sum = (int32_t)(h & 0xffff) + (int32_t)((h >> 16) & 0xffff) + (int32_t)((h >> 32) & 0xffff) +
                      (int32_t)(h >> 48) - 2 * 65535;
        dst[j] = mean + s * (float)sum;
    }
}

static onnxllm_status rw_get(void *ctx, const char *name, const int64_t *shape, int rank, float *dst,
                             onnxllm_error *err) {
    const olm_random_weights *rw = ctx;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "%s: negative dimension", name);
        n *= shape[i];
    }
    fill(name_key(rw->seed, name), is_norm(name), rw->std, 0, n, dst);
    return ONNXLLM_OK;
}

static onnxllm_status rw_get_rows(void *ctx, const char *name, const int64_t *shape, int64_t row0, int64_t n_rows,
                                  float *dst, onnxllm_error *err) {
    const olm_random_weights *rw = ctx;
    if (row0 < 0 || n_rows < 0 || row0 + n_rows > shape[0])
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "%s: rows [%lld, %lld) outside [0, %lld)", name,
                        (long long)row0, (long long)(row0 + n_rows), (long long)shape[0]);
    fill(name_key(rw->seed, name), is_norm(name), rw->std, row0 * shape[1], n_rows * shape[1], dst);
    return ONNXLLM_OK;
}

olm_weight_source olm_random_weight_source(olm_random_weights *rw) {
    olm_weight_source w = {rw, rw_get, rw_get_rows};
    return w;
}
