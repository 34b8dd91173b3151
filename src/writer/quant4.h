/* quant4.h — ONNX Runtime's symmetric round-to-nearest 4-bit block quantizer,
 * bit-exact (MatMulNBits layout, block 32; docs/reference/phi4-onnx-graph.md §3). */
#ifndef OLM_WRITER_QUANT4_H
#define OLM_WRITER_QUANT4_H

#include <stddef.h>
#include <stdint.h>
#include "common/fp16.h" /* olm_f32_to_f16 / olm_f16_to_f32 */

#define OLM_Q4_BLOCK 32

/* W is an HF Linear weight, row-major [N][K] (N = out features, K = in features;
 * K a multiple of 32 — callers pad otherwise). Writes
 *   packed: uint8 [N][K/32][16]  (low nibble = even k)
 *   scales: fp32 [N * K/32]      (scale = -max/8 where max is the signed value of
 *                                 largest magnitude; may be negative)
 * Scales stored as fp16 when scales_f16 != NULL (CUDA layout): quantization then uses
 * the fp16-rounded scale, as ORT does, and the weights themselves are first rounded to
 * fp16 (the builder quantizes the fp16 initializers of a CUDA model). Exactly one of
 * scales_f32 / scales_f16 is set. Deterministic: rows are independent, so callers may
 * split N across threads. */
void olm_q4_quantize(const float *W, int64_t N, int64_t K, uint8_t *packed, float *scales_f32,
                     uint16_t *scales_f16);

/* Dequantizes back to [N][K] fp32 (for tests and the reference forward pass). */
void olm_q4_dequantize(const uint8_t *packed, const float *scales_f32, const uint16_t *scales_f16,
                       int64_t N, int64_t K, float *W);


#endif
