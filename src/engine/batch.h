/* batch.h — what the scheduler (src/scheduler/) needs from the engine: a KV slab
 * with one row per slot, sequences whose KV lives in a slot, and decode runs of
 * several sequences in one ORT run.
 *
 *   slab.c   the slab: one memfd, [layer][k|v][slot] regions of [kv_heads, cap, head];
 *            slot tensors, batch views, prefix copies, eviction, disk images
 *   batch.c  one decode run for B sequences (rows with their own lengths)
 *
 * Only the scheduler's thread touches these objects (no locking inside). */
#ifndef OLM_ENGINE_BATCH_H
#define OLM_ENGINE_BATCH_H

#include <stdio.h>
#include "engine/engine.h"

/* ---- slab.c ---------------------------------------------------------------------
 * The memory is a memfd: a slot's K (or V) region for one layer is `region` bytes at
 * file offset ((layer * 2 + kv) * n_slots + slot) * region, and the whole file is
 * mapped once ("home"). Rows of consecutive slots are therefore contiguous, so a
 * batch of slots a..a+B-1 is a [B, kv_heads, cap, head] tensor in place; any other
 * set of rows is made contiguous by mapping their regions side by side in a second
 * address range ("view", MAP_FIXED over the same file pages): no KV is ever copied
 * to form a batch. Pages are allocated when first written (lazily resident) and
 * given back with fallocate(PUNCH_HOLE) when a slot is evicted. */
#define OLM_SLAB_MAX_SLOTS 64

typedef struct olm_slab {
    onnxllm_model *m;
    int n_slots, n_layers;
    int64_t nkv, head, cap;       /* cap >= m->max_length: positions per slot, region page-aligned */
    size_t elem;                  /* bytes per element (fp32 4, fp16 2) */
    size_t region;                /* nkv * cap * head * elem */
    size_t pos_bytes;             /* KV bytes of one position over all layers (K and V) */
    int fd;
    uint8_t *home, *view;
    size_t bytes;                 /* 2 * n_layers * n_slots * region */
    int view_rows[OLM_SLAB_MAX_SLOTS]; /* slots currently mapped side by side in view */
    int view_n;
} olm_slab;

onnxllm_status olm_slab_init(onnxllm_model *m, olm_slab *sl, int n_slots, onnxllm_error *err);
void olm_slab_free(olm_slab *sl);
/* Start of (layer, kv, slot)'s region in the home mapping. */
uint8_t *olm_slab_region(const olm_slab *sl, int layer, int kv, int slot);
/* Base address of (layer, kv) for the rows `slots[0..n)`: the home mapping when the
 * slots are consecutive, else the view after (re)mapping them side by side. */
onnxllm_status olm_slab_rows(olm_slab *sl, const int *slots, int n, uint8_t **bases, onnxllm_error *err);
/* Copies positions [0, n) of every layer/head from slot src to slot dst. */
void olm_slab_copy(olm_slab *sl, int dst, int src, int64_t n);
/* Gives slot's pages back to the kernel (its KV becomes zeros). */
void olm_slab_release(olm_slab *sl, int slot);
/* Bytes of positions [p0, p0 + n) over all layers, K and V, heads. */
size_t olm_slab_span_bytes(const olm_slab *sl, int64_t n);
/* Copies positions [p0, p1) of slot into buf (layer, k|v, head order, each head's
 * positions contiguous) — olm_slab_span_bytes(p1 - p0) bytes. */
void olm_slab_gather(const olm_slab *sl, int slot, int64_t p0, int64_t p1, uint8_t *buf);
/* The reverse, writing only the first `keep` (<= p1 - p0) positions of each head. */
void olm_slab_scatter(olm_slab *sl, int slot, int64_t p0, int64_t p1, const uint8_t *buf, int64_t keep);

/* A sequence whose KV is slot `slot` of the slab (shared-buffer mode). */
onnxllm_status olm_sequence_create_in_slab(onnxllm_model *m, olm_slab *sl, int slot, onnxllm_sequence **out,
                                           onnxllm_error *err);
/* Keeps the first n tokens (n <= length): the cache of min(n, computed) positions is
 * kept as it is; the logits become invalid (the next append computes the rest). */
void olm_sequence_keep(onnxllm_sequence *s, size_t n);
/* Appends a sampled token, pending (not computed); the caller checks max_length. */
void olm_sequence_push(onnxllm_sequence *s, int32_t token);

/* ---- batch.c ----------------------------------------------------------------------*/
typedef struct olm_batch {
    onnxllm_model *m;
    olm_slab *sl;
    int max_rows;
    OrtIoBinding *bind;
    void *ids, *pos, *mask;       /* [max_rows], [max_rows], [max_rows * max_length] (int64 or int32) */
    void *logits_raw;             /* [max_rows, V] as the graph gives them (fp32 or fp16) */
    float *logits;                /* [max_rows, V] fp32 */
    OrtValue **kv_vals;           /* 2 * n_layers tensors of the bound rows */
    int rows[OLM_SLAB_MAX_SLOTS], n_rows; /* composition bound to kv_vals / logits */
    OrtValue *logits_val, *ids_val, *pos_val;
} olm_batch;

onnxllm_status olm_batch_init(onnxllm_model *m, olm_slab *sl, olm_batch *b, onnxllm_error *err);
void olm_batch_free(olm_batch *b);
/* One ORT run computing the single pending token of each of seqs[0..n) (each in
 * slot slots[i] of the slab). Row i's logits are then olm_batch_logits(b, i); the
 * sequences' own logits buffers are not written (logits_valid stays false) but
 * their computed counts advance. The caller keeps rows on one side of the rotary
 * switch (m->rope_switch). */
onnxllm_status olm_batch_decode(olm_batch *b, onnxllm_sequence **seqs, const int *slots, int n, onnxllm_error *err);
static inline const float *olm_batch_logits(const olm_batch *b, int row) {
    return b->logits + (size_t)row * (size_t)b->m->cfg.vocab_size;
}

#endif
