/* rope.c — rotary cos/sin caches (see rope.h). */
#include "writer/rope.h"

#include <math.h>

double olm_rope_mscale(const olm_phi3_config *c, bool long_table) {
    if (!c->longrope) return 1.0;
    if (long_table && c->has_long_mscale) return c->long_mscale;
    if (!long_table && c->has_short_mscale) return c->short_mscale;
    double s = (double)c->max_position_embeddings / (double)c->original_max_position_embeddings;
    if (s <= 1.0) return 1.0;
    return sqrt(1.0 + log(s) / log((double)c->original_max_position_embeddings));
}

void olm_rope_cache(const olm_phi3_config *c, bool long_table, int length, float *cos_out, float *sin_out) {
    int dim = olm_phi3_rotary_dim(c), half = dim / 2;
    float m = (float)olm_rope_mscale(c, long_table);
    float inv_freq[OLM_PHI3_MAX_ROPE_FACTORS];
    for (int i = 0; i < half; i++) {
        float f = c->longrope ? (long_table ? c->long_factor[i] : c->short_factor[i]) : 1.0f;
        /* torch: theta ** (arange(0, dim, 2).float() / dim), all float32 */
        float e = (float)(2 * i) / (float)dim;
        inv_freq[i] = 1.0f / (f * powf(c->rope_theta, e));
    }
    for (int t = 0; t < length; t++) {
        for (int i = 0; i < half; i++) {
            float a = (float)t * inv_freq[i];
            cos_out[(size_t)t * half + i] = (float)cos((double)a) * m;
            sin_out[(size_t)t * half + i] = (float)sin((double)a) * m;
        }
    }
}
