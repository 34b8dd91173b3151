/* fp16.c — see fp16.h. */
#include "common/fp16.h"

#include <string.h>

uint16_t olm_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    const uint32_t ax = x & 0x7FFFFFFFu;
    if (ax >= 0x7F800000u) /* inf or nan (keep a quiet nan, payload's top bits) */
        return (uint16_t)(sign | 0x7C00 | (ax > 0x7F800000u ? (0x200 | ((ax >> 13) & 0x3FF)) : 0));
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00); /* rounds to >= 65520 → inf */
    if (ax < 0x38800000u) {                                  /* below 2^-14: fp16 subnormal or 0 */
        if (ax < 0x33000000u) return sign;                   /* < 2^-25: rounds to 0 (2^-25 ties to 0) */
        const uint32_t e = ax >> 23;                         /* 102..112 */
        const uint32_t mant = (ax & 0x7FFFFFu) | 0x800000u;  /* 24-bit significand */
        const uint32_t shift = 126 - e;                      /* value = mant * 2^(e-150); unit 2^-24 */
        uint32_t h = mant >> shift;
        const uint32_t rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    /* normal: rebias exponent, round the 13 dropped bits to nearest even (carry may
     * ripple into the exponent, which is the correct result) */
    uint32_t h = ((ax - 0x38000000u) >> 13);
    const uint32_t rem = ax & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

float olm_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    const uint32_t e = (h >> 10) & 0x1F, m = h & 0x3FF;
    uint32_t x;
    if (e == 0x1F) {
        x = sign | 0x7F800000u | (m << 13);
    } else if (e == 0) {
        if (m == 0) {
            x = sign;
        } else { /* subnormal: m * 2^-24, exact in fp32 */
            float f = (float)m * 0x1p-24f;
            memcpy(&x, &f, 4);
            x |= sign;
        }
    } else {
        x = sign | ((e + 112) << 23) | (m << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

float olm_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
