/* rope.h — the rotary cos/sin caches of the onnxruntime-genai Phi-3 layout
 * (docs/reference/phi4-onnx-graph.md §4): [length, rotary_dim/2] tables fed to GroupQueryAttention. */
#ifndef OLM_WRITER_ROPE_H
#define OLM_WRITER_ROPE_H

#include "writer/phi3.h"

/* Magnitude scale ("mscale") of the short (long = false) or long table: the
 * configured short/long_mscale when given, else sqrt(1 + ln(s)/ln(orig)) with
 * s = max_position_embeddings / original (1 when s <= 1 or no LongRoPE). */
double olm_rope_mscale(const olm_phi3_config *c, bool long_table);

/* Fills cos/sin [length, rotary_dim/2] (fp32), computed in float32 as the builder
 * does: inv_freq[i] = 1 / (f[i] * theta^(2i/rotary_dim)), angle = t * inv_freq[i],
 * value = cos/sin(angle) * mscale; f = long or short factors (1 without LongRoPE). */
void olm_rope_cache(const olm_phi3_config *c, bool long_table, int length, float *cos_out, float *sin_out);

#endif
