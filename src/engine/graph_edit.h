/* graph_edit.h — load-time edit of model.onnx: lm_head on the last position only.
 *
 * The published decoder graphs compute logits [B, S, V] for every prompt position,
 * but generation reads only the last row. For Phi-4-mini (V = 200064, K = 3072) at
 * a 2048-token prompt the other rows are ~16% of prefill compute and 1.6 GB of fp32
 * logits. The edit slices lm_head's input to the last two positions, so logits are
 * [B, 1, V] for a decode run and [B, 2, V] for a prompt; the last row is computed
 * exactly as before (rows of a >= 2-row lm_head product are independent; a 1-row
 * product takes another kernel, which is why a prompt keeps two — graph_edit.c). */
#ifndef OLM_ENGINE_GRAPH_EDIT_H
#define OLM_ENGINE_GRAPH_EDIT_H

#include <stddef.h>
#include <stdint.h>
#include "onnxllm.h"

/* Edits the ModelProto bytes model[0, len) so that the graph output `logits`
 * holds only the last two sequence positions (one when S = 1). On success *out (malloc'd, *out_len
 * bytes) is the edited model. When the graph does not fit the pattern (logits
 * not produced by a MatMul / MatMulNBits, possibly through Casts, on a [B, S, K]
 * input; opset < 10; unparsable bytes) *out is NULL and why (if given) says why:
 * the caller loads the model unedited. Fails only on allocation failure. */
onnxllm_status olm_graph_last_logits(const uint8_t *model, size_t len, const char *logits, uint8_t **out,
                                     size_t *out_len, char *why, size_t why_cap, onnxllm_error *err);

/* The width (mask length) above which the graph switches rotary tables: LongRoPE
 * models choose cos/sin caches with If(Greater(total_sequence_length, C)), so a run
 * of width w uses the long table iff w > C. Returns 1 with *width = C, 0 when the
 * graph has no If node (one table), -1 when an If exists that is not of that form
 * (the switch is unknown: runs of different widths must not be mixed). */
int olm_graph_rope_switch(const uint8_t *model, size_t len, int64_t *width);

#endif
