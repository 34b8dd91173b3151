/* sequence.c — one conversation: token ids, KV cache, last logits, and the ORT run.
 *
 * Feeding is exactly what onnxruntime-genai feeds (see docs/reference/phi4-onnx-graph.md §8.3),
 * so greedy tokens match it bit for bit: input_ids [1, S] of the new tokens,
 * attention_mask [1, total] of ones, position_ids [1, S] when the graph has them,
 * the KV tensors, and logits of which only the last row is read: [1, min(S, 2), V]
 * when the model was loaded with the last-position edit (graph_edit.c, the
 * default), else [1, S, V].
 *
 * A 1-token run (decode) — and with the edit every run — binds logits to buffers
 * allocated at creation (1 row, or 2 rows for an edited prompt run), so the
 * per-token path allocates nothing of ours; a longer run of an unedited graph lets
 * ORT allocate [1, S, V] and copies the last row out. */
#include "engine/batch.h"
#include "common/error.h"
#include "common/fp16.h"

#include <stdlib.h>
#include <string.h>

static void release_values(const OrtApi *api, OrtValue **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (v[i]) api->ReleaseValue(v[i]);
}

static onnxllm_status int_tensor(onnxllm_model *m, void *buf, size_t n, ONNXTensorElementDataType t, OrtValue **out,
                                 onnxllm_error *err);

static onnxllm_status sequence_create(onnxllm_model *m, olm_slab *sl, int slot, onnxllm_sequence **out,
                                      onnxllm_error *err) {
    *out = NULL;
    const OrtApi *api = m->api;
    onnxllm_sequence *s = calloc(1, sizeof *s);
    if (!s) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "sequence: out of memory");
    s->m = m;
    atomic_init(&s->cancel, false);
    size_t cap = (size_t)m->max_length, V = (size_t)m->cfg.vocab_size;
    s->tokens = malloc(cap * sizeof *s->tokens);
    s->ids = malloc(cap * sizeof *s->ids);
    s->pos = malloc(cap * sizeof *s->pos);
    s->mask = malloc(cap * sizeof *s->mask);
    /* Two rows when the graph is edited: a prompt run of the edited graph writes
     * [1, 2, V] straight into this buffer (the second row is the one kept). */
    s->logits = malloc((m->last_logits_only ? 2 : 1) * V * sizeof *s->logits);
    bool half = m->io.logits_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    s->dec_logits = half ? malloc(V * 2) : (void *)s->logits;
    onnxllm_status st = ONNXLLM_OK;
    if (!s->tokens || !s->ids || !s->pos || !s->mask || !s->logits || !s->dec_logits) {
        st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "sequence: out of memory");
        goto fail;
    }
    /* The mask is all ones (batch 1, no padding); int32 graphs read the same
     * buffer through an int32 view, so fill both views' worth of ones. */
    if (m->io.mask_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32)
        for (size_t i = 0; i < cap; i++) ((int32_t *)s->mask)[i] = 1;
    else
        for (size_t i = 0; i < cap; i++) s->mask[i] = 1;
    int64_t lshape[3] = {1, 1, (int64_t)V};
    st = olm_ort_status(api,
                        api->CreateTensorWithDataAsOrtValue(m->cpu_mem, s->dec_logits, V * (half ? 2 : 4), lshape, 3,
                                                            m->io.logits_type, &s->dec_logits_val),
                        ONNXLLM_ERR_RUNTIME, err, "logits tensor");
    if (st) goto fail;
    if (m->last_logits_only) {
        int64_t pshape[3] = {1, 2, (int64_t)V};
        st = olm_ort_status(api,
                            api->CreateTensorWithDataAsOrtValue(m->cpu_mem, s->logits, 2 * V * sizeof(float), pshape,
                                                                3, m->io.logits_type, &s->pre_logits_val),
                            ONNXLLM_ERR_RUNTIME, err, "logits tensor");
        if (st) goto fail;
    }
    if ((st = int_tensor(m, s->ids, 1, m->io.ids_type, &s->dec_ids_val, err))) goto fail;
    if (m->io.has_pos && (st = int_tensor(m, s->pos, 1, m->io.pos_type, &s->dec_pos_val, err))) goto fail;
    if ((st = olm_ort_status(api, api->CreateIoBinding(m->session, &s->bind), ONNXLLM_ERR_RUNTIME, err, "IoBinding")))
        goto fail;
    if ((st = olm_ort_status(api, api->CreateRunOptions(&s->run_opts), ONNXLLM_ERR_RUNTIME, err, "run options")))
        goto fail;
    if ((st = sl ? olm_kvcache_init_slab(m, &s->kv, sl, slot, err) : olm_kvcache_init(m, &s->kv, err))) goto fail;
    if (s->kv.shared && (st = olm_kvcache_bind(m, &s->kv, s->bind, err))) goto fail;
    *out = s;
    return ONNXLLM_OK;
fail:
    onnxllm_sequence_free(s);
    return st;
}

onnxllm_status onnxllm_sequence_create(onnxllm_model *m, onnxllm_sequence **out, onnxllm_error *err) {
    return sequence_create(m, NULL, 0, out, err);
}

onnxllm_status olm_sequence_create_in_slab(onnxllm_model *m, olm_slab *sl, int slot, onnxllm_sequence **out,
                                           onnxllm_error *err) {
    return sequence_create(m, sl, slot, out, err);
}

void olm_sequence_keep(onnxllm_sequence *s, size_t n) {
    if (n >= s->n_tokens) return;
    s->n_tokens = n;
    if (s->n_computed > n) s->n_computed = n;
    s->logits_valid = false;
    if (s->n_computed == 0) s->cache_long = false;
}

void olm_sequence_push(onnxllm_sequence *s, int32_t token) {
    s->tokens[s->n_tokens++] = token;
    s->logits_valid = false;
}

void onnxllm_sequence_free(onnxllm_sequence *s) {
    if (!s) return;
    const OrtApi *api = s->m->api;
    if (s->bind) api->ReleaseIoBinding(s->bind);
    if (s->run_opts) api->ReleaseRunOptions(s->run_opts);
    if (s->dec_logits_val) api->ReleaseValue(s->dec_logits_val);
    if (s->pre_logits_val) api->ReleaseValue(s->pre_logits_val);
    if (s->dec_ids_val) api->ReleaseValue(s->dec_ids_val);
    if (s->dec_pos_val) api->ReleaseValue(s->dec_pos_val);
    olm_kvcache_free(s->m, &s->kv);
    if (s->dec_logits != (void *)s->logits) free(s->dec_logits);
    free(s->logits);
    free(s->tokens);
    free(s->ids);
    free(s->pos);
    free(s->mask);
    free(s);
}

size_t onnxllm_sequence_length(const onnxllm_sequence *s) { return s->n_tokens; }
const int32_t *onnxllm_sequence_tokens(const onnxllm_sequence *s) { return s->tokens; }
const float *onnxllm_sequence_logits(const onnxllm_sequence *s) { return s->logits_valid ? s->logits : NULL; }

void onnxllm_sequence_cancel(onnxllm_sequence *s) {
    /* Flag first, then ORT's terminate: olm_sequence_compute clears ORT's flag
     * before reading ours, so a cancel can never fall between the two. The flag
     * stays set until a call takes it (olm_sequence_take_cancel): the call running
     * now, or the next one — a request is never lost and stops exactly one call. */
    atomic_store(&s->cancel, true);
    olm_ort_void(s->m->api, s->m->api->RunOptionsSetTerminate(s->run_opts));
}

bool onnxllm_sequence_cancel_reset(onnxllm_sequence *s) { return atomic_exchange(&s->cancel, false); }

bool olm_sequence_take_cancel(onnxllm_sequence *s, onnxllm_error *err) {
    if (!atomic_exchange(&s->cancel, false)) return false;
    olm_fail(err, ONNXLLM_ERR_CANCELLED, "cancelled");
    return true;
}

/* An int tensor [1, n] over buf (int64 or int32 view). */
static onnxllm_status int_tensor(onnxllm_model *m, void *buf, size_t n, ONNXTensorElementDataType t, OrtValue **out,
                                 onnxllm_error *err) {
    int64_t shape[2] = {1, (int64_t)n};
    size_t es = t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 ? 4 : 8;
    return olm_ort_status(m->api, m->api->CreateTensorWithDataAsOrtValue(m->cpu_mem, buf, n * es, shape, 2, t, out),
                          ONNXLLM_ERR_RUNTIME, err, "input tensor");
}

static void fill_ints(void *buf, ONNXTensorElementDataType t, const int32_t *src, int64_t first, size_t n) {
    if (t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32) {
        int32_t *d = buf;
        for (size_t i = 0; i < n; i++) d[i] = src ? src[i] : (int32_t)(first + (int64_t)i);
    } else {
        int64_t *d = buf;
        for (size_t i = 0; i < n; i++) d[i] = src ? src[i] : first + (int64_t)i;
    }
}

static void copy_logits_row(onnxllm_sequence *s, const void *base, size_t row) {
    size_t V = (size_t)s->m->cfg.vocab_size;
    if (s->m->io.logits_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16) {
        const uint16_t *h = (const uint16_t *)base + row * V;
        for (size_t i = 0; i < V; i++) s->logits[i] = olm_f16_to_f32(h[i]);
    } else if (base != s->logits || row) {
        memcpy(s->logits, (const float *)base + row * V, V * sizeof(float));
    }
}

onnxllm_status olm_sequence_compute(onnxllm_sequence *s, onnxllm_error *err) {
    onnxllm_model *m = s->m;
    const OrtApi *api = m->api;
    const olm_io *io = &m->io;
    size_t start = s->n_computed, n = s->n_tokens - start, total = s->n_tokens;
    if (n == 0) return ONNXLLM_OK;
    OrtValue *in_ids = NULL, *in_mask = NULL, *in_pos = NULL;
    OrtValue **outs = NULL;
    char *out_names = NULL;
    size_t *out_lens = NULL, n_outs = 0;
    OrtAllocator *alloc = NULL;
    olm_ort_void(api, api->GetAllocatorWithDefaultOptions(&alloc));
    s->logits_valid = false;
    onnxllm_status st;
    /* 1-token runs reuse the [1, 1] tensors made at creation; only the mask, whose
     * width grows, needs a new (non-owning) OrtValue per run. */
    fill_ints(s->ids, io->ids_type, s->tokens + start, 0, n);
    if (n > 1 && (st = int_tensor(m, s->ids, n, io->ids_type, &in_ids, err))) goto done;
    if (io->has_mask && (st = int_tensor(m, s->mask, total, io->mask_type, &in_mask, err))) goto done;
    if (io->has_pos) {
        fill_ints(s->pos, io->pos_type, NULL, (int64_t)start, n);
        if (n > 1 && (st = int_tensor(m, s->pos, n, io->pos_type, &in_pos, err))) goto done;
    }
    OrtStatus *os = api->BindInput(s->bind, m->cfg.in_input_ids, n > 1 ? in_ids : s->dec_ids_val);
    if (!os && in_mask) os = api->BindInput(s->bind, m->cfg.in_attention_mask, in_mask);
    if (!os && io->has_pos) os = api->BindInput(s->bind, m->cfg.in_position_ids, n > 1 ? in_pos : s->dec_pos_val);
    bool one_row = n == 1, two_rows = n > 1 && m->last_logits_only, bound = one_row || two_rows;
    if (!os) os = one_row    ? api->BindOutput(s->bind, m->cfg.out_logits, s->dec_logits_val)
                  : two_rows ? api->BindOutput(s->bind, m->cfg.out_logits, s->pre_logits_val)
                             : api->BindOutputToDevice(s->bind, m->cfg.out_logits, m->cpu_mem);
    if ((st = olm_ort_status(api, os, ONNXLLM_ERR_RUNTIME, err, "binding inputs"))) goto done;
    if (!s->kv.shared && (st = olm_kvcache_bind(m, &s->kv, s->bind, err))) goto done;

    olm_ort_void(api, api->RunOptionsUnsetTerminate(s->run_opts));
    if (olm_sequence_take_cancel(s, err)) {
        st = ONNXLLM_ERR_CANCELLED;
        goto done;
    }
    os = api->RunWithBinding(m->session, s->run_opts, s->bind);
    if (os) {
        if (olm_sequence_take_cancel(s, err)) { /* the run was terminated */
            api->ReleaseStatus(os);
            st = ONNXLLM_ERR_CANCELLED;
        } else {
            st = olm_ort_status(api, os, ONNXLLM_ERR_RUNTIME, err, "ONNX Runtime run failed");
        }
        goto done;
    }
    if (bound && s->kv.shared) {
        if (one_row) copy_logits_row(s, s->dec_logits, 0);
        else copy_logits_row(s, s->logits, 1);
    } else {
        if ((st = olm_ort_status(api, api->GetBoundOutputNames(s->bind, alloc, &out_names, &out_lens, &n_outs),
                                 ONNXLLM_ERR_RUNTIME, err, "reading outputs")))
            goto done;
        if ((st = olm_ort_status(api, api->GetBoundOutputValues(s->bind, alloc, &outs, &n_outs), ONNXLLM_ERR_RUNTIME,
                                 err, "reading outputs")))
            goto done;
        char **names = malloc(n_outs * sizeof *names);
        if (!names) {
            st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        size_t off = 0;
        for (size_t i = 0; i < n_outs; i++) {
            names[i] = malloc(out_lens[i] + 1);
            if (names[i]) {
                memcpy(names[i], out_names + off, out_lens[i]);
                names[i][out_lens[i]] = 0;
            }
            off += out_lens[i];
        }
        for (size_t i = 0; i < n_outs; i++)
            if (names[i] && !strcmp(names[i], m->cfg.out_logits)) {
                void *data = NULL;
                olm_ort_void(api, api->GetTensorMutableData(outs[i], &data));
                copy_logits_row(s, data, one_row ? 0 : two_rows ? 1 : n - 1);
            }
        if (!s->kv.shared) st = olm_kvcache_take_present(m, &s->kv, outs, names, n_outs, err);
        for (size_t i = 0; i < n_outs; i++) free(names[i]);
        free(names);
        if (st) goto done;
    }
    s->n_computed = total;
    s->logits_valid = true;
    if (start == 0) s->cache_long = m->rope_threshold && total >= (size_t)m->rope_threshold;
done:
    if (outs) {
        release_values(api, outs, n_outs);
        alloc->Free(alloc, outs);
    }
    if (out_names) alloc->Free(alloc, out_names);
    if (out_lens) alloc->Free(alloc, out_lens);
    if (in_ids) api->ReleaseValue(in_ids);
    if (in_mask) api->ReleaseValue(in_mask);
    if (in_pos) api->ReleaseValue(in_pos);
    return st;
}

onnxllm_status onnxllm_sequence_append(onnxllm_sequence *s, const int32_t *ids, size_t n, onnxllm_error *err) {
    const olm_genai_config *c = &s->m->cfg;
    if (olm_sequence_take_cancel(s, err)) return ONNXLLM_ERR_CANCELLED; /* asked before the call: not lost */
    if (n == 0) { /* just compute what is pending (e.g. after rewind_to) */
        if (s->logits_valid || s->n_tokens == 0) return ONNXLLM_OK;
        if (s->n_computed == s->n_tokens) {
            s->n_computed--;
            onnxllm_status st = olm_kvcache_truncate(s->m, &s->kv, (int64_t)s->n_computed, err);
            if (st) return st;
        }
        return olm_sequence_compute(s, err);
    }
    if (!ids) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "append: ids is NULL");
    if (s->n_tokens + n > (size_t)s->m->max_length)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                        "sequence would exceed max_length %d (%zu tokens held + %zu new)", s->m->max_length,
                        s->n_tokens, n);
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab_size)
            return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "token id %d at position %zu is outside [0, %d)",
                            ids[i], i, c->vocab_size);
    size_t old = s->n_tokens;
    memcpy(s->tokens + old, ids, n * sizeof *ids);
    s->n_tokens += n;
    onnxllm_status st = olm_sequence_compute(s, err);
    if (st) s->n_tokens = old; /* the call is undone; the cache beyond n_computed is ignored */
    return st;
}

size_t onnxllm_sequence_reusable_prefix(const onnxllm_sequence *s, const int32_t *ids, size_t n, size_t *n_cached) {
    if (n_cached) *n_cached = 0;
    if (!s || !ids || n == 0 || s->n_computed == 0) return 0;
    /* A fresh run of n tokens computes every key with the long rotary table when n
     * reaches the switch (olm_sequence_compute from position 0); keys cached with the
     * other table would give different results. */
    const onnxllm_model *m = s->m;
    bool fresh_long = m->rope_threshold && n >= (size_t)m->rope_threshold;
    if (fresh_long != s->cache_long) return 0;
    size_t keep = 0;
    while (keep < s->n_tokens && keep < n && s->tokens[keep] == ids[keep]) keep++;
    if (keep >= n) keep = n - 1; /* one token must run to give the logits */
    /* rewind_to(keep) keeps the cache of the first keep - 1 tokens when keep is
     * computed (the last kept token is re-run), else what is computed. */
    if (n_cached) *n_cached = keep == 0 ? 0 : keep <= s->n_computed ? keep - 1 : s->n_computed;
    return keep;
}

onnxllm_status onnxllm_sequence_rewind_to(onnxllm_sequence *s, size_t n, onnxllm_error *err) {
    if (n > s->n_tokens)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "rewind_to(%zu): the sequence holds only %zu tokens", n,
                        s->n_tokens);
    if (n == s->n_tokens) return ONNXLLM_OK;
    s->n_tokens = n;
    if (s->n_computed >= n) {
        /* Keep the cache of the first n-1 tokens; the last kept token is re-run to
         * get its logits (its KV row is rewritten with the same values). */
        s->n_computed = n ? n - 1 : 0;
        s->logits_valid = false;
        onnxllm_status st = olm_kvcache_truncate(s->m, &s->kv, (int64_t)s->n_computed, err);
        if (st) return st;
    }
    if (s->n_computed == 0) s->cache_long = false;
    return ONNXLLM_OK;
}

static onnxllm_status step(onnxllm_sequence *s, onnxllm_sampler *smp, const uint32_t *mask, size_t n_words,
                           int32_t *token, onnxllm_error *err) {
    onnxllm_model *m = s->m;
    *token = -1;
    /* also when the logits are ready and no run is needed (after append) */
    if (olm_sequence_take_cancel(s, err)) return ONNXLLM_ERR_CANCELLED;
    if (s->n_tokens == 0) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "step: the sequence is empty");
    if (s->n_tokens >= (size_t)m->max_length)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "step: the sequence is full (max_length %d)",
                        m->max_length);
    /* genai's LongRoPE switch: on reaching the threshold, recompute everything in
     * one run so every cached key uses the long-factor table. */
    if (m->rope_threshold && s->n_tokens == (size_t)m->rope_threshold && !s->cache_long) {
        s->n_computed = 0;
        s->logits_valid = false;
        onnxllm_status st = olm_kvcache_truncate(m, &s->kv, 0, err);
        if (st) return st;
    }
    if (!s->logits_valid) {
        if (s->n_computed == s->n_tokens) { /* e.g. after a cancelled append: re-run the last token */
            s->n_computed--;
            onnxllm_status st = olm_kvcache_truncate(m, &s->kv, (int64_t)s->n_computed, err);
            if (st) return st;
        }
        onnxllm_status st = olm_sequence_compute(s, err);
        if (st) return st;
    }
    int32_t t = mask ? onnxllm_sampler_sample_masked(smp, s->logits, m->cfg.vocab_size, mask, n_words, s->tokens, s->n_tokens)
                     : onnxllm_sampler_sample(smp, s->logits, m->cfg.vocab_size, s->tokens, s->n_tokens);
    if (t < 0) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "step: the mask allows no token");
    s->tokens[s->n_tokens++] = t;
    s->logits_valid = false;
    *token = t;
    return ONNXLLM_OK;
}

onnxllm_status onnxllm_sequence_step(onnxllm_sequence *s, onnxllm_sampler *smp, int32_t *token, onnxllm_error *err) {
    return step(s, smp, NULL, 0, token, err);
}

onnxllm_status onnxllm_sequence_step_masked(onnxllm_sequence *s, onnxllm_sampler *smp, const uint32_t *mask,
                                            size_t n_words, int32_t *token, onnxllm_error *err) {
    if (!mask) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "step: NULL mask");
    return step(s, smp, mask, n_words, token, err);
}
