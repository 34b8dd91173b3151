/* checked.h — size arithmetic on numbers that came from a file or a request.
 *
 * A product of dimensions, a count times an element size, an offset plus a length:
 * compute them with these and fail cleanly instead of wrapping around (or hitting
 * signed-overflow UB). Before allocating for a count read from an input, ask whether
 * the input can justify it (olm_count_justified): each element of a real file takes
 * bytes of that file, so a tiny file asking for billions of entries is malformed. */
#ifndef OLM_COMMON_CHECKED_H
#define OLM_COMMON_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* *out = a * b / a + b; false (and *out = 0) on overflow. */
static inline bool olm_mul_size(size_t a, size_t b, size_t *out) {
    if (__builtin_mul_overflow(a, b, out)) return *out = 0, false;
    return true;
}
static inline bool olm_add_size(size_t a, size_t b, size_t *out) {
    if (__builtin_add_overflow(a, b, out)) return *out = 0, false;
    return true;
}
static inline bool olm_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    if (__builtin_mul_overflow(a, b, out)) return *out = 0, false;
    return true;
}
static inline bool olm_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    if (__builtin_add_overflow(a, b, out)) return *out = 0, false;
    return true;
}
static inline bool olm_mul_i64(int64_t a, int64_t b, int64_t *out) {
    if (__builtin_mul_overflow(a, b, out)) return *out = 0, false;
    return true;
}

/* Product of n dimensions, each >= 0; false on a negative dimension or overflow of
 * int64 (or of `limit` when limit > 0). */
static inline bool olm_dims_product(const int64_t *dims, int n, int64_t limit, int64_t *out) {
    int64_t p = 1;
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (dims[i] < 0 || __builtin_mul_overflow(p, dims[i], &p)) return false;
        if (limit > 0 && p > limit) return false;
    }
    *out = p;
    return true;
}

/* A decimal number of n bytes (digits only, at most UINT64_MAX); false otherwise. */
static inline bool olm_parse_u64(const char *s, size_t n, uint64_t *out) {
    uint64_t v = 0;
    if (!s || n == 0 || n > 20) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9 || __builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v)) return false;
    }
    *out = v;
    return true;
}

/* true when an input of input_bytes bytes, in which each of `count` entries takes at
 * least min_bytes_each bytes, can hold count entries, allowing `slack` entries more
 * (defaults, sparse ids). Use before allocating count entries. */
static inline bool olm_count_justified(uint64_t count, uint64_t input_bytes, uint64_t min_bytes_each,
                                       uint64_t slack) {
    uint64_t room = min_bytes_each ? input_bytes / min_bytes_each : input_bytes;
    return count <= room || count - room <= slack;
}

#endif
