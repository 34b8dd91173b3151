/* fp16.h — IEEE binary16 and bfloat16 conversions (the only copies in the tree).
 * Round-to-nearest-even as numpy / ORT's MLFloat16; NaN stays NaN, infinities and
 * subnormals are exact. */
#ifndef OLM_COMMON_FP16_H
#define OLM_COMMON_FP16_H

#include <stdint.h>

uint16_t olm_f32_to_f16(float f);
float olm_f16_to_f32(uint16_t h);
/* bfloat16 is the top half of an fp32: widening is exact. */
float olm_bf16_to_f32(uint16_t h);

#endif
