/* vec.c — growth of the module's arrays (doubling, so appends are amortised O(1)). */
#include "grammar/grammar.h"

#include <stdlib.h>

bool olm_vec_grow(void **v, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 8;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem) return false;
        c *= 2;
    }
    void *p = realloc(*v, c * elem);
    if (!p) return false;
    *v = p;
    *cap = c;
    return true;
}
