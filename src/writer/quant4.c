/* quant4.c — ONNX Runtime's symmetric RTN int4 block quantizer (MatMulNBits layout).
 *
 * Mirrors MLAS BlockwiseQuantizer<T, 32, 4, columnwise>::quantizeAndTranspose with
 * zero_points == nullptr (onnxruntime/core/mlas/lib/q4_dq.cpp, reached from the Python
 * MatMulNBitsQuantizer through the pybind `quantize_matmul_4bits`), step for step so
 * that every float operation rounds the same way:
 *   1. scan the block: min starts at FLT_MAX, max at -FLT_MAX; `v < min`, `v > max`;
 *   2. range2scale: m = |max| > |min| ? max : min   (a tie picks min, the negative one);
 *      scale = ScaleT(-m / 8.0f)   (so an all-zero block gets scale -0.0);
 *   3. the stored scale is read back as float, rs = scale ? 1.0f / scale : 0.0f;
 *   4. q = (uint8) clamp(roundf(v * rs + 8.0f), 0, 15)  — a multiply then an add, each
 *      rounded to float (ORT's x86-64 build has no FMA here; this file is compiled as
 *      ISO C, where GCC does not contract a*b+c, and we round explicitly anyway);
 *   5. element k of block b of row n goes to byte n*(K/32*16) + k/2, even k in the low
 *      nibble.
 * For the CUDA layout (fp16 scales) the builder quantizes fp16 weights (ElementT =
 * MLFloat16), so the source values are first rounded to fp16 as well. */
#include "writer/quant4.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Forces a float rounding step (guards against excess precision / contraction). */
static inline float f32_round(float x) {
    volatile float v = x;
    return v;
}

static void quantize_block(const float *src, uint8_t *dst, float *scale_f32, uint16_t *scale_f16) {
    float v[OLM_Q4_BLOCK];
    for (int i = 0; i < OLM_Q4_BLOCK; i++)
        v[i] = scale_f16 ? olm_f16_to_f32(olm_f32_to_f16(src[i])) : src[i];

    float mn = FLT_MAX, mx = -FLT_MAX;
    for (int i = 0; i < OLM_Q4_BLOCK; i++) {
        if (v[i] < mn) mn = v[i];
        if (v[i] > mx) mx = v[i];
    }
    float m = fabsf(mx) > fabsf(mn) ? mx : mn;
    float scale = f32_round(-m / 8.0f);
    if (scale_f16) {
        *scale_f16 = olm_f32_to_f16(scale);
        scale = olm_f16_to_f32(*scale_f16);
    } else {
        *scale_f32 = scale;
    }
    float rs = scale != 0.0f ? f32_round(1.0f / scale) : 0.0f;

    uint8_t q[OLM_Q4_BLOCK];
    for (int i = 0; i < OLM_Q4_BLOCK; i++) {
        float x = roundf(f32_round(f32_round(v[i] * rs) + 8.0f));
        if (!(x >= 0.0f)) x = 0.0f; /* std::clamp(NaN) keeps NaN; (uint8)NaN is UB — pin to 0 */
        if (x > 15.0f) x = 15.0f;
        q[i] = (uint8_t)x;
    }
    for (int j = 0; j < OLM_Q4_BLOCK / 2; j++) dst[j] = (uint8_t)((q[2 * j] & 0xF) | (q[2 * j + 1] << 4));
}

void olm_q4_quantize(const float *W, int64_t N, int64_t K, uint8_t *packed, float *scales_f32,
                     uint16_t *scales_f16) {
    const int64_t kb = K / OLM_Q4_BLOCK;
    for (int64_t n = 0; n < N; n++)
        for (int64_t b = 0; b < kb; b++) {
            const int64_t s = n * kb + b;
            quantize_block(W + n * K + b * OLM_Q4_BLOCK, packed + s * (OLM_Q4_BLOCK / 2),
                           scales_f16 ? NULL : scales_f32 + s, scales_f16 ? scales_f16 + s : NULL);
        }
}

void olm_q4_dequantize(const uint8_t *packed, const float *scales_f32, const uint16_t *scales_f16,
                       int64_t N, int64_t K, float *W) {
    const int64_t kb = K / OLM_Q4_BLOCK;
    for (int64_t n = 0; n < N; n++)
        for (int64_t b = 0; b < kb; b++) {
            const int64_t s = n * kb + b;
            const float scale = scales_f16 ? olm_f16_to_f32(scales_f16[s]) : scales_f32[s];
            const uint8_t *p = packed + s * (OLM_Q4_BLOCK / 2);
            float *w = W + n * K + b * OLM_Q4_BLOCK;
            for (int j = 0; j < OLM_Q4_BLOCK / 2; j++) {
                w[2 * j] = (float)((p[j] & 0xF) - 8) * scale;
                w[2 * j + 1] = (float)((p[j] >> 4) - 8) * scale;
            }
        }
}
