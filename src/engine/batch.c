/* batch.c — one decode run for several sequences (continuous batching).
 *
 * Feeding, per row i of B: input_ids [B, 1] = the row's pending token, the
 * attention mask [B, W] with W = the longest row's length and row i right-padded
 * with zeros after its own length (the graph turns it into seqlens_k[i] = length-1,
 * so GroupQueryAttention writes the new key at the row's own position and attends
 * over exactly its own positions), position_ids [B, 1] when the graph has them, the
 * KV of the rows' slots as [B, kv_heads, cap, head] tensors bound as both past and
 * present (slab.c makes them contiguous without copying), logits [B, 1, V].
 *
 * Rows never influence each other except through the mask's width W, which the
 * graph also uses to choose the rotary table (If(W > switch)); the scheduler
 * therefore never puts rows from both sides of the switch in one run. */
#include "engine/batch.h"
#include "common/error.h"
#include "common/fp16.h"

#include <stdlib.h>
#include <string.h>

static size_t int_size(ONNXTensorElementDataType t) { return t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 ? 4 : 8; }

static void put_int(void *buf, ONNXTensorElementDataType t, size_t i, int64_t v) {
    if (t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32) ((int32_t *)buf)[i] = (int32_t)v;
    else ((int64_t *)buf)[i] = v;
}

onnxllm_status olm_batch_init(onnxllm_model *m, olm_slab *sl, olm_batch *b, onnxllm_error *err) {
    memset(b, 0, sizeof *b);
    b->m = m;
    b->sl = sl;
    b->max_rows = sl->n_slots;
    size_t R = (size_t)b->max_rows, V = (size_t)m->cfg.vocab_size, L = (size_t)m->max_length;
    bool half = m->io.logits_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    b->ids = malloc(R * 8);
    b->pos = malloc(R * 8);
    b->mask = malloc(R * L * 8);
    b->logits = malloc(R * V * sizeof(float));
    b->logits_raw = half ? malloc(R * V * 2) : (void *)b->logits;
    b->kv_vals = calloc(2 * (size_t)sl->n_layers, sizeof *b->kv_vals);
    if (!b->ids || !b->pos || !b->mask || !b->logits || !b->logits_raw || !b->kv_vals) {
        olm_batch_free(b);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "batch: out of memory");
    }
    onnxllm_status st =
        olm_ort_status(m->api, m->api->CreateIoBinding(m->session, &b->bind), ONNXLLM_ERR_RUNTIME, err, "IoBinding");
    if (st) olm_batch_free(b);
    return st;
}

static void release_bound(olm_batch *b) {
    const OrtApi *api = b->m->api;
    for (int i = 0; i < 2 * b->sl->n_layers; i++)
        if (b->kv_vals[i]) {
            api->ReleaseValue(b->kv_vals[i]);
            b->kv_vals[i] = NULL;
        }
    if (b->logits_val) api->ReleaseValue(b->logits_val);
    if (b->ids_val) api->ReleaseValue(b->ids_val);
    if (b->pos_val) api->ReleaseValue(b->pos_val);
    b->logits_val = b->ids_val = b->pos_val = NULL;
    b->n_rows = 0;
}

void olm_batch_free(olm_batch *b) {
    if (!b->m) return;
    if (b->kv_vals) release_bound(b);
    if (b->bind) b->m->api->ReleaseIoBinding(b->bind);
    if (b->logits_raw != (void *)b->logits) free(b->logits_raw);
    free(b->logits);
    free(b->ids);
    free(b->pos);
    free(b->mask);
    free(b->kv_vals);
    memset(b, 0, sizeof *b);
}

/* Binds the KV rows, ids, positions and logits of the composition slots[0..n)
 * unless it is the one already bound (composition changes only when requests join
 * or leave, so steady-state steps create nothing here). */
static onnxllm_status bind_rows(olm_batch *b, const int *slots, int n, onnxllm_error *err) {
    if (n == b->n_rows && !memcmp(slots, b->rows, (size_t)n * sizeof *slots)) return ONNXLLM_OK;
    onnxllm_model *m = b->m;
    const OrtApi *api = m->api;
    olm_slab *sl = b->sl;
    release_bound(b);
    uint8_t *bases[2 * 256];
    if (sl->n_layers > 256) return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "batch: more than 256 layers");
    onnxllm_status st = olm_slab_rows(sl, slots, n, bases, err);
    if (st) return st;
    int64_t kshape[4] = {n, sl->nkv, sl->cap, sl->head};
    for (int l = 0; l < sl->n_layers && !st; l++)
        for (int kv = 0; kv < 2 && !st; kv++)
            st = olm_ort_status(api,
                                api->CreateTensorWithDataAsOrtValue(m->cpu_mem, bases[l * 2 + kv],
                                                                    (size_t)n * sl->region, kshape, 4, m->io.kv_type,
                                                                    &b->kv_vals[l * 2 + kv]),
                                ONNXLLM_ERR_RUNTIME, err, "batch KV tensor");
    size_t V = (size_t)m->cfg.vocab_size;
    bool half = m->io.logits_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    int64_t lshape[3] = {n, 1, (int64_t)V}, ishape[2] = {n, 1};
    if (!st)
        st = olm_ort_status(api,
                            api->CreateTensorWithDataAsOrtValue(m->cpu_mem, b->logits_raw, (size_t)n * V * (half ? 2 : 4),
                                                                lshape, 3, m->io.logits_type, &b->logits_val),
                            ONNXLLM_ERR_RUNTIME, err, "batch logits tensor");
    if (!st)
        st = olm_ort_status(api,
                            api->CreateTensorWithDataAsOrtValue(m->cpu_mem, b->ids, (size_t)n * int_size(m->io.ids_type),
                                                                ishape, 2, m->io.ids_type, &b->ids_val),
                            ONNXLLM_ERR_RUNTIME, err, "batch input tensor");
    if (!st && m->io.has_pos)
        st = olm_ort_status(api,
                            api->CreateTensorWithDataAsOrtValue(m->cpu_mem, b->pos, (size_t)n * int_size(m->io.pos_type),
                                                                ishape, 2, m->io.pos_type, &b->pos_val),
                            ONNXLLM_ERR_RUNTIME, err, "batch input tensor");
    OrtStatus *os = NULL;
    for (int l = 0; l < sl->n_layers && !st && !os; l++) {
        os = api->BindInput(b->bind, m->io.past_k[l], b->kv_vals[l * 2]);
        if (!os) os = api->BindInput(b->bind, m->io.past_v[l], b->kv_vals[l * 2 + 1]);
        if (!os) os = api->BindOutput(b->bind, m->io.present_k[l], b->kv_vals[l * 2]);
        if (!os) os = api->BindOutput(b->bind, m->io.present_v[l], b->kv_vals[l * 2 + 1]);
    }
    if (!st && !os) os = api->BindOutput(b->bind, m->cfg.out_logits, b->logits_val);
    if (!st && !os) os = api->BindInput(b->bind, m->cfg.in_input_ids, b->ids_val);
    if (!st && !os && m->io.has_pos) os = api->BindInput(b->bind, m->cfg.in_position_ids, b->pos_val);
    if (!st) st = olm_ort_status(api, os, ONNXLLM_ERR_RUNTIME, err, "binding the batch");
    else if (os) api->ReleaseStatus(os);
    if (st) {
        release_bound(b);
        return st;
    }
    memcpy(b->rows, slots, (size_t)n * sizeof *slots);
    b->n_rows = n;
    return ONNXLLM_OK;
}

onnxllm_status olm_batch_decode(olm_batch *b, onnxllm_sequence **seqs, const int *slots, int n, onnxllm_error *err) {
    onnxllm_model *m = b->m;
    const OrtApi *api = m->api;
    if (n < 1 || n > b->max_rows) return olm_fail(err, ONNXLLM_ERR_INTERNAL, "batch: %d rows", n);
    size_t W = 0;
    for (int i = 0; i < n; i++) {
        if (seqs[i]->n_tokens != seqs[i]->n_computed + 1)
            return olm_fail(err, ONNXLLM_ERR_INTERNAL, "batch: row %d has %zu tokens pending (1 expected)", i,
                            seqs[i]->n_tokens - seqs[i]->n_computed);
        if (seqs[i]->n_tokens > W) W = seqs[i]->n_tokens;
    }
    onnxllm_status st = bind_rows(b, slots, n, err);
    if (st) return st;
    for (int i = 0; i < n; i++) {
        size_t len = seqs[i]->n_tokens;
        put_int(b->ids, m->io.ids_type, (size_t)i, seqs[i]->tokens[len - 1]);
        put_int(b->pos, m->io.pos_type, (size_t)i, (int64_t)len - 1);
        if (m->io.has_mask)
            for (size_t j = 0; j < W; j++) put_int(b->mask, m->io.mask_type, (size_t)i * W + j, j < len);
    }
    OrtValue *mask = NULL;
    if (m->io.has_mask) {
        int64_t mshape[2] = {n, (int64_t)W};
        st = olm_ort_status(api,
                            api->CreateTensorWithDataAsOrtValue(m->cpu_mem, b->mask,
                                                                (size_t)n * W * int_size(m->io.mask_type), mshape, 2,
                                                                m->io.mask_type, &mask),
                            ONNXLLM_ERR_RUNTIME, err, "batch mask tensor");
        if (!st)
            st = olm_ort_status(api, api->BindInput(b->bind, m->cfg.in_attention_mask, mask), ONNXLLM_ERR_RUNTIME, err,
                                "binding the batch mask");
    }
    if (!st)
        st = olm_ort_status(api, api->RunWithBinding(m->session, NULL, b->bind), ONNXLLM_ERR_RUNTIME, err,
                            "ONNX Runtime run failed (batch)");
    if (mask) api->ReleaseValue(mask);
    if (st) return st;
    size_t V = (size_t)m->cfg.vocab_size;
    if (m->io.logits_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16)
        for (size_t i = 0; i < (size_t)n * V; i++) b->logits[i] = olm_f16_to_f32(((const uint16_t *)b->logits_raw)[i]);
    for (int i = 0; i < n; i++) {
        seqs[i]->n_computed = seqs[i]->n_tokens;
        seqs[i]->logits_valid = false;
    }
    return ONNXLLM_OK;
}
