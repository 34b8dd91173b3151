/* phi3.c — the Phi-3-family decoder graph in onnxruntime-genai's layout
 * (docs/reference/phi4-onnx-graph.md §1–§4; docs/reference/official-graphs/ for the current builder's names).
 *
 * Graph (per layer i; names as the builder writes them):
 *   embed Gather → [i=0: SimplifiedLayerNormalization | i>0: SkipSimplifiedLayerNormalization]
 *   → packed QKV MatMul(NBits) → GroupQueryAttention (rotary fused, past/present KV)
 *   → o_proj → SkipSimplifiedLayerNormalization (post-attention; output 3 = residual)
 *   → gate, up MatMul(NBits) → Sigmoid·Mul (SiLU) → Mul → down
 *   after the last layer: SkipSimplifiedLayerNormalization (final norm) → lm_head → logits.
 * seqlens_k = ReduceSum(attention_mask, keepdims=0) - 1 (1-D), total_sequence_length =
 * Shape(attention_mask)[1]; both cast to int32. LongRoPE: If(total > original) selects
 * the long or short cos/sin Constants; otherwise cos/sin are plain initializers.
 *
 * Weights arrive fp32 in HF names/shapes from a olm_weight_source and are written
 * layer by layer: fp32 → MatMul with B = W^T ([K, N], builder's pre-quantization
 * name `<node path>.weight`); int4 → MatMulNBits with `_Q4` [N, K/32, 16] and
 * `_scales` [N, K/32] (io dtype). Unlike the builder's phi4tiny graphs (which wired
 * lm_head to layer 0 because widths equalled vocab), lm_head always reads the final norm. */
#include "writer/phi3.h"
#include "writer/genai_config.h"
#include "writer/quant4.h"
#include "writer/rope.h"
#include "onnx/writer.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/fileio.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NAME_MAX_LEN 256
#define ROW_CHUNK_BYTES (64u << 20) /* vocabulary tensors are streamed in chunks of this size */

typedef struct {
    const olm_phi3_config *c;
    const olm_weight_source *w;
    const olm_build_options *o;
    olm_onnx_gb g;
    olm_onnx_data d;
    int io;        /* io dtype: FLOAT (cpu) or FLOAT16 (cuda) */
    bool int4;
    int H, I, D, Nq, Nkv, V, L;
    onnxllm_error *err;
    /* scratch reused by every layer (no fresh page faults per layer) */
    float *W;
    uint8_t *q;
    void *s;
    size_t W_cap, q_cap, s_cap;
} wctx;

/* Grows *p to at least n bytes (contents not kept). */
static bool scratch(void **p, size_t *cap, size_t n) {
    if (n <= *cap) return true;
    free(*p);
    *p = malloc(n);
    *cap = *p ? n : 0;
    return *p != NULL;
}

/* ---------------------------------------------------------------- weights */

static void *xmalloc(size_t n) { return malloc(n ? n : 1); }

/* Writes n fp32 values as the io dtype. */
static onnxllm_status write_io(wctx *x, const float *v, size_t n) {
    if (x->io == OLM_ONNX_FLOAT) return olm_onnx_data_write(&x->d, v, n * 4, x->err);
    uint16_t tmp[4096];
    for (size_t i = 0; i < n; i += 4096) {
        size_t k = n - i < 4096 ? n - i : 4096;
        for (size_t j = 0; j < k; j++) tmp[j] = olm_f32_to_f16(v[i + j]);
        onnxllm_status st = olm_onnx_data_write(&x->d, tmp, k * 2, x->err);
        if (st) return st;
    }
    return ONNXLLM_OK;
}

static onnxllm_status get(wctx *x, const char *name, int rank, int64_t d0, int64_t d1, float *dst) {
    int64_t shape[2] = {d0, d1};
    onnxllm_status st = x->w->get(x->w->ctx, name, shape, rank, dst, x->err);
    return st ? olm_wrap(x->err, st, "weight %s", name) : ONNXLLM_OK;
}

/* A norm vector → io-dtype initializer. */
static onnxllm_status put_vector(wctx *x, const char *hf_name, const char *onnx_name, int n) {
    float *v = xmalloc((size_t)n * 4);
    if (!v) return olm_fail(x->err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    onnxllm_status st = get(x, hf_name, 1, n, 0, v);
    uint64_t off = 0;
    if (!st) st = olm_onnx_data_begin(&x->d, &off, x->err);
    if (!st) st = write_io(x, v, (size_t)n);
    if (!st) {
        int64_t dims[1] = {n};
        olm_onnx_data_finish(&x->d, &x->g, onnx_name, x->io, 1, dims, off);
    }
    free(v);
    return st;
}

/* fp32: B = W^T [K, N], written row k of B at a time. Only possible with the whole
 * W in memory (columns of W), so the fp32 route does not stream by rows. */
static onnxllm_status put_linear_f32(wctx *x, const char *base, const float *W, int64_t N, int64_t K) {
    char name[NAME_MAX_LEN];
    snprintf(name, sizeof name, "%s.weight", base);
    uint64_t off;
    onnxllm_status st = olm_onnx_data_begin(&x->d, &off, x->err);
    float *row = xmalloc((size_t)N * 4 * 16);
    if (!row) return olm_fail(x->err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    for (int64_t k0 = 0; !st && k0 < K; k0 += 16) {
        int64_t kn = K - k0 < 16 ? K - k0 : 16;
        for (int64_t n = 0; n < N; n++)
            for (int64_t k = 0; k < kn; k++) row[k * N + n] = W[n * K + k0 + k];
        st = write_io(x, row, (size_t)(kn * N));
    }
    free(row);
    if (!st) {
        int64_t dims[2] = {K, N};
        olm_onnx_data_finish(&x->d, &x->g, name, x->io, 2, dims, off);
    }
    return st;
}

/* int4: the packed bytes and the scales are two tensors, so rows are quantized
 * into memory ([N, K/2] bytes + [N, K/32] scales, 1/7 of the fp32 size) and then
 * both written. */
typedef struct {
    const float *W;
    int64_t N, K;
    uint8_t *q;
    void *scales;
    bool f16;
} q4_job;

static void *q4_run(void *arg) {
    q4_job *j = arg;
    olm_q4_quantize(j->W, j->N, j->K, j->q, j->f16 ? NULL : j->scales, j->f16 ? j->scales : NULL);
    return NULL;
}

/* Rows are independent, so big matrices are split across up to 8 threads (the
 * quantizer is the slowest step of the full-size build). */
static void quantize_rows(wctx *x, const float *W, int64_t N, int64_t K, uint8_t *q, void *scales) {
    bool f16 = x->io == OLM_ONNX_FLOAT16;
    size_t ssz = f16 ? 2 : 4;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nt = N * K < (1 << 20) || ncpu < 2 ? 1 : ncpu > 8 ? 8 : (int)ncpu;
    q4_job jobs[8];
    pthread_t th[8];
    bool started[8] = {false};
    int64_t per = (N + nt - 1) / nt;
    for (int t = 0; t < nt; t++) {
        int64_t r0 = t * per, r1 = r0 + per < N ? r0 + per : N;
        jobs[t] = (q4_job){W + r0 * K, r1 > r0 ? r1 - r0 : 0, K, q + r0 * (K / 2),
                           (char *)scales + (size_t)(r0 * (K / OLM_Q4_BLOCK)) * ssz, f16};
        if (t > 0 && jobs[t].N > 0) started[t] = pthread_create(&th[t], NULL, q4_run, &jobs[t]) == 0;
    }
    q4_run(&jobs[0]);
    for (int t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else if (jobs[t].N > 0)
            q4_run(&jobs[t]); /* thread creation failed: do it here */
    }
}

static onnxllm_status finish_linear_q4(wctx *x, const char *base, int64_t N, int64_t K, const uint8_t *q,
                                       const void *scales) {
    char name[NAME_MAX_LEN];
    int64_t kb = K / OLM_Q4_BLOCK;
    int64_t qd[3] = {N, kb, 16}, sd[2] = {N, kb};
    snprintf(name, sizeof name, "%s.weight_Q4", base);
    onnxllm_status st = olm_onnx_add_external(&x->g, &x->d, name, OLM_ONNX_UINT8, 3, qd, q, (size_t)(N * kb * 16), x->err);
    snprintf(name, sizeof name, "%s.weight_scales", base);
    if (!st)
        st = olm_onnx_add_external(&x->g, &x->d, name, x->io, 2, sd, scales,
                                   (size_t)(N * kb) * olm_onnx_dtype_size(x->io), x->err);
    return st;
}

static onnxllm_status put_linear(wctx *x, const char *base, const float *W, int64_t N, int64_t K) {
    if (!x->int4) return put_linear_f32(x, base, W, N, K);
    int64_t kb = K / OLM_Q4_BLOCK;
    if (!scratch((void **)&x->q, &x->q_cap, (size_t)(N * kb * 16)) || !scratch(&x->s, &x->s_cap, (size_t)(N * kb) * 4))
        return olm_fail(x->err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    quantize_rows(x, W, N, K, x->q, x->s);
    return finish_linear_q4(x, base, N, K, x->q, x->s);
}

/* Embedding [V, H] and lm_head [V, H] (tied: the same values) — the two vocabulary-
 * sized tensors. With a row getter both are streamed in chunks; without one the
 * embedding is fetched whole once and serves the tied lm_head too. */
static onnxllm_status put_vocab_tensors(wctx *x) {
    const int64_t V = x->V, H = x->H;
    const char *lm_src = x->c->tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
    int64_t shape[2] = {V, H};
    onnxllm_status st = ONNXLLM_OK;
    if (!x->w->get_rows || !x->int4) {
        /* whole-tensor route (also fp32 lm_head, whose transpose needs all rows) */
        float *E = xmalloc((size_t)(V * H) * 4);
        if (!E) return olm_fail(x->err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory (%lld x %lld embedding)",
                                (long long)V, (long long)H);
        uint64_t off = 0;
        st = get(x, "model.embed_tokens.weight", 2, V, H, E);
        if (!st) st = olm_onnx_data_begin(&x->d, &off, x->err);
        if (!st) st = write_io(x, E, (size_t)(V * H));
        if (!st) olm_onnx_data_finish(&x->d, &x->g, "model.embed_tokens.weight", x->io, 2, shape, off);
        if (!st && !x->c->tie_word_embeddings) st = get(x, "lm_head.weight", 2, V, H, E);
        if (!st) st = put_linear(x, "lm_head.MatMul", E, V, H);
        free(E);
        return st;
    }
    /* streamed route: embedding rows, then lm_head rows quantized chunk by chunk */
    int64_t chunk = (int64_t)(ROW_CHUNK_BYTES / ((size_t)H * 4));
    if (chunk < 1) chunk = 1;
    float *buf = xmalloc((size_t)(chunk * H) * 4);
    int64_t kb = H / OLM_Q4_BLOCK;
    uint8_t *q = xmalloc((size_t)(V * kb * 16));
    void *s = xmalloc((size_t)(V * kb) * 4);
    if (!buf || !q || !s) {
        st = olm_fail(x->err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    uint64_t off = 0;
    st = olm_onnx_data_begin(&x->d, &off, x->err);
    for (int64_t r = 0; !st && r < V; r += chunk) {
        int64_t n = V - r < chunk ? V - r : chunk;
        st = x->w->get_rows(x->w->ctx, "model.embed_tokens.weight", shape, r, n, buf, x->err);
        if (st) st = olm_wrap(x->err, st, "weight model.embed_tokens.weight");
        if (!st) st = write_io(x, buf, (size_t)(n * H));
        if (!st && x->c->tie_word_embeddings)
            quantize_rows(x, buf, n, H, q + r * kb * 16, (char *)s + (size_t)(r * kb) * olm_onnx_dtype_size(x->io));
    }
    if (!st) olm_onnx_data_finish(&x->d, &x->g, "model.embed_tokens.weight", x->io, 2, shape, off);
    for (int64_t r = 0; !st && !x->c->tie_word_embeddings && r < V; r += chunk) {
        int64_t n = V - r < chunk ? V - r : chunk;
        st = x->w->get_rows(x->w->ctx, lm_src, shape, r, n, buf, x->err);
        if (st) st = olm_wrap(x->err, st, "weight %s", lm_src);
        if (!st) quantize_rows(x, buf, n, H, q + r * kb * 16, (char *)s + (size_t)(r * kb) * olm_onnx_dtype_size(x->io));
    }
    if (!st) st = finish_linear_q4(x, "lm_head.MatMul", V, H, q, s);
done:
    free(buf);
    free(q);
    free(s);
    return st;
}

static onnxllm_status put_layer_weights(wctx *x, int i) {
    char hf[NAME_MAX_LEN], on[NAME_MAX_LEN];
    const int64_t H = x->H, I = x->I, D = x->D, Nq = x->Nq, Nkv = x->Nkv;
    const int64_t qkv_n = (Nq + 2 * Nkv) * D;
    size_t biggest = (size_t)(2 * I * H);
    if ((size_t)(qkv_n * H) > biggest) biggest = (size_t)(qkv_n * H);
    if ((size_t)(H * Nq * D) > biggest) biggest = (size_t)(H * Nq * D);
    if (!scratch((void **)&x->W, &x->W_cap, biggest * 4))
        return olm_fail(x->err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory (layer %d weights)", i);
    float *W = x->W;
    onnxllm_status st;
    snprintf(hf, sizeof hf, "model.layers.%d.input_layernorm.weight", i);
    st = put_vector(x, hf, hf, x->H);
    if (!st) {
        snprintf(hf, sizeof hf, "model.layers.%d.self_attn.qkv_proj.weight", i);
        st = get(x, hf, 2, qkv_n, H, W);
    }
    if (!st) {
        snprintf(on, sizeof on, "model.layers.%d.attn.qkv_proj.MatMul", i);
        st = put_linear(x, on, W, qkv_n, H);
    }
    if (!st) {
        snprintf(hf, sizeof hf, "model.layers.%d.self_attn.o_proj.weight", i);
        st = get(x, hf, 2, H, Nq * D, W);
    }
    if (!st) {
        snprintf(on, sizeof on, "model.layers.%d.attn.o_proj.MatMul", i);
        st = put_linear(x, on, W, H, Nq * D);
    }
    if (!st) {
        snprintf(hf, sizeof hf, "model.layers.%d.post_attention_layernorm.weight", i);
        st = put_vector(x, hf, hf, x->H);
    }
    if (!st) {
        snprintf(hf, sizeof hf, "model.layers.%d.mlp.gate_up_proj.weight", i);
        st = get(x, hf, 2, 2 * I, H, W);
    }
    if (!st) {
        snprintf(on, sizeof on, "model.layers.%d.mlp.gate_proj.MatMul", i);
        st = put_linear(x, on, W, I, H); /* rows [0, I) */
    }
    if (!st) {
        snprintf(on, sizeof on, "model.layers.%d.mlp.up_proj.MatMul", i);
        st = put_linear(x, on, W + I * H, I, H); /* rows [I, 2I) */
    }
    if (!st) {
        snprintf(hf, sizeof hf, "model.layers.%d.mlp.down_proj.weight", i);
        st = get(x, hf, 2, H, I, W);
    }
    if (!st) {
        snprintf(on, sizeof on, "model.layers.%d.mlp.down_proj.MatMul", i);
        st = put_linear(x, on, W, H, I);
    }
    return st;
}

/* ---------------------------------------------------------------- nodes */

#define NODE(g, name, op, dom, ins, outs, attrs)                                                              \
    olm_onnx_gb_node((g), (name), (op), (dom), (ins), (int)(sizeof(ins) / sizeof *(ins)), (outs),            \
                     (int)(sizeof(outs) / sizeof *(outs)), (attrs))

static void const_i64(olm_onnx_gb *g, const char *value_name, const char *node_name, int64_t v, bool one_d) {
    olm_pb_buf a = {0};
    int64_t dims[1] = {1};
    olm_onnx_attr_tensor(&a, "value", OLM_ONNX_INT64, one_d ? 1 : 0, dims, &v, 8);
    const char *outs[] = {value_name};
    olm_onnx_gb_node(g, node_name, "Constant", "", NULL, 0, outs, 1, &a);
}

/* A projection node: MatMul (fp32) or MatMulNBits (int4). */
static void proj_node(wctx *x, const char *node_base, const char *input, const char *weight_base, int64_t N, int64_t K,
                      const char *output) {
    char name[NAME_MAX_LEN], w0[NAME_MAX_LEN], w1[NAME_MAX_LEN], out[NAME_MAX_LEN];
    if (output)
        snprintf(out, sizeof out, "%s", output);
    else
        snprintf(out, sizeof out, "%s/MatMul/output_0", node_base);
    const char *outs[] = {out};
    if (!x->int4) {
        snprintf(name, sizeof name, "%s/MatMul", node_base);
        snprintf(w0, sizeof w0, "%s.weight", weight_base);
        const char *ins[] = {input, w0};
        NODE(&x->g, name, "MatMul", "", ins, outs, NULL);
        return;
    }
    snprintf(name, sizeof name, "%s/MatMul_Q4", node_base);
    snprintf(w0, sizeof w0, "%s.weight_Q4", weight_base);
    snprintf(w1, sizeof w1, "%s.weight_scales", weight_base);
    const char *ins[] = {input, w0, w1};
    olm_pb_buf a = {0};
    olm_onnx_attr_int(&a, "K", K);
    olm_onnx_attr_int(&a, "N", N);
    if (x->o->ep == OLM_EP_CPU && !x->o->exact_activations) olm_onnx_attr_int(&a, "accuracy_level", 4);
    olm_onnx_attr_int(&a, "bits", 4);
    olm_onnx_attr_int(&a, "block_size", OLM_Q4_BLOCK);
    NODE(&x->g, name, "MatMulNBits", "com.microsoft", ins, outs, &a);
}

#define SEQLENS_K "/model/attn_mask_reformat/attn_mask_subgraph/Sub/Cast/output_0"
#define TOTAL_LEN "/model/attn_mask_reformat/attn_mask_subgraph/Gather/Cast/output_0"
#define TOTAL_LEN_I64 "/model/attn_mask_reformat/attn_mask_subgraph/Gather/output_0"
#define EMBED_OUT "/model/embed_tokens/Gather/output_0"

static void mask_nodes(wctx *x) {
    olm_onnx_gb *g = &x->g;
    const char *p = "/model/attn_mask_reformat/attn_mask_subgraph";
    char n[NAME_MAX_LEN], o[NAME_MAX_LEN];
    const_i64(g, "/model/constants/INT64/[1]", "/model/constant_nodes/INT64/[1]", 1, true);
    {
        snprintf(n, sizeof n, "%s/ReduceSum", p);
        snprintf(o, sizeof o, "%s/ReduceSum/output_0", p);
        const char *ins[] = {"attention_mask", "/model/constants/INT64/[1]"}, *outs[] = {o};
        olm_pb_buf a = {0};
        olm_onnx_attr_int(&a, "keepdims", 0); /* 1-D seqlens_k [B] */
        NODE(g, n, "ReduceSum", "", ins, outs, &a);
    }
    {
        char i0[NAME_MAX_LEN];
        snprintf(i0, sizeof i0, "%s/ReduceSum/output_0", p);
        snprintf(n, sizeof n, "%s/Sub", p);
        snprintf(o, sizeof o, "%s/Sub/output_0", p);
        const char *ins[] = {i0, "/model/constants/INT64/[1]"}, *outs[] = {o};
        NODE(g, n, "Sub", "", ins, outs, NULL);
    }
    {
        char i0[NAME_MAX_LEN];
        snprintf(i0, sizeof i0, "%s/Sub/output_0", p);
        snprintf(n, sizeof n, "%s/Sub/Cast", p);
        const char *ins[] = {i0}, *outs[] = {SEQLENS_K};
        olm_pb_buf a = {0};
        olm_onnx_attr_int(&a, "to", OLM_ONNX_INT32);
        NODE(g, n, "Cast", "", ins, outs, &a);
    }
    {
        snprintf(n, sizeof n, "%s/Shape", p);
        snprintf(o, sizeof o, "%s/Shape/output_0", p);
        const char *ins[] = {"attention_mask"}, *outs[] = {o};
        NODE(g, n, "Shape", "", ins, outs, NULL);
    }
    const_i64(g, "/model/constants/INT64/1", "/model/constant_nodes/INT64/1", 1, false);
    {
        char i0[NAME_MAX_LEN];
        snprintf(i0, sizeof i0, "%s/Shape/output_0", p);
        snprintf(n, sizeof n, "%s/Gather", p);
        const char *ins[] = {i0, "/model/constants/INT64/1"}, *outs[] = {TOTAL_LEN_I64};
        olm_pb_buf a = {0};
        olm_onnx_attr_int(&a, "axis", 0);
        NODE(g, n, "Gather", "", ins, outs, &a);
    }
    {
        snprintf(n, sizeof n, "%s/Gather/Cast", p);
        const char *ins[] = {TOTAL_LEN_I64}, *outs[] = {TOTAL_LEN};
        olm_pb_buf a = {0};
        olm_onnx_attr_int(&a, "to", OLM_ONNX_INT32);
        NODE(g, n, "Cast", "", ins, outs, &a);
    }
}

/* cos/sin [len, R/2] in io dtype, as raw bytes (fp32 or fp16). */
static void *rope_bytes(wctx *x, bool long_table, int len, size_t *nbytes, void **sin_out) {
    int half = olm_phi3_rotary_dim(x->c) / 2;
    size_t n = (size_t)len * (size_t)half;
    float *cs = xmalloc(n * 4), *sn = xmalloc(n * 4);
    if (!cs || !sn) {
        free(cs);
        free(sn);
        return NULL;
    }
    olm_rope_cache(x->c, long_table, len, cs, sn);
    if (x->io == OLM_ONNX_FLOAT16) { /* narrow in place */
        uint16_t *hc = (uint16_t *)(void *)cs, *hs = (uint16_t *)(void *)sn;
        for (size_t i = 0; i < n; i++) {
            hc[i] = olm_f32_to_f16(cs[i]);
            hs[i] = olm_f32_to_f16(sn[i]);
        }
    }
    *nbytes = n * olm_onnx_dtype_size(x->io);
    *sin_out = sn;
    return cs;
}

static onnxllm_status rope_nodes(wctx *x) {
    const olm_phi3_config *c = x->c;
    int half = olm_phi3_rotary_dim(c) / 2;
    if (!c->longrope) { /* one table, as initializers (builder: cos_cache / sin_cache) */
        size_t nb;
        void *sn, *cs = rope_bytes(x, false, c->max_position_embeddings, &nb, &sn);
        if (!cs) return olm_fail(x->err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory (rope caches)");
        int64_t dims[2] = {c->max_position_embeddings, half};
        onnxllm_status st = olm_onnx_add_external(&x->g, &x->d, "cos_cache", x->io, 2, dims, cs, nb, x->err);
        if (!st) st = olm_onnx_add_external(&x->g, &x->d, "sin_cache", x->io, 2, dims, sn, nb, x->err);
        free(cs);
        free(sn);
        return st;
    }
    char cname[64], cnode[64];
    snprintf(cname, sizeof cname, "/model/constants/INT64/%d", c->original_max_position_embeddings);
    snprintf(cnode, sizeof cnode, "/model/constant_nodes/INT64/%d", c->original_max_position_embeddings);
    const_i64(&x->g, cname, cnode, c->original_max_position_embeddings, false);
    {
        const char *ins[] = {TOTAL_LEN_I64, cname}, *outs[] = {"/model/rope_caches_subgraph/Greater/output_0"};
        NODE(&x->g, "/model/rope_caches_subgraph/Greater", "Greater", "", ins, outs, NULL);
    }
    olm_onnx_gb branch[2];
    for (int b = 0; b < 2; b++) { /* b = 0: then (large/long), 1: else (small/short) */
        bool lg = b == 0;
        int len = lg ? c->max_position_embeddings : c->original_max_position_embeddings;
        const char *tag = lg ? "large" : "small";
        char gname[64], vcos[64], vsin[64], ncos[64], nsin[64];
        snprintf(gname, sizeof gname, "%s_rope_caches_graph", tag);
        snprintf(vcos, sizeof vcos, "cos_cache_%s", tag);
        snprintf(vsin, sizeof vsin, "sin_cache_%s", tag);
        snprintf(ncos, sizeof ncos, "/%s/cos_cache/Constant", tag);
        snprintf(nsin, sizeof nsin, "/%s/sin_cache/Constant", tag);
        olm_onnx_gb_init(&branch[b], gname);
        size_t nb;
        void *sn, *cs = rope_bytes(x, lg, len, &nb, &sn);
        if (!cs) {
            for (int k = 0; k <= b; k++) olm_onnx_gb_free(&branch[k]);
            return olm_fail(x->err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory (rope caches)");
        }
        int64_t dims[2] = {len, half};
        olm_pb_buf a = {0};
        olm_onnx_attr_tensor(&a, "value", x->io, 2, dims, cs, nb);
        free(cs);
        const char *o1[] = {vcos};
        olm_onnx_gb_node(&branch[b], ncos, "Constant", "", NULL, 0, o1, 1, &a);
        olm_onnx_attr_tensor(&a, "value", x->io, 2, dims, sn, nb);
        free(sn);
        const char *o2[] = {vsin};
        olm_onnx_gb_node(&branch[b], nsin, "Constant", "", NULL, 0, o2, 1, &a);
        olm_onnx_gb_value(&branch[b], true, vcos, x->io, 2, dims, NULL);
        olm_onnx_gb_value(&branch[b], true, vsin, x->io, 2, dims, NULL);
    }
    olm_pb_buf a = {0};
    olm_onnx_attr_graph(&a, "then_branch", &branch[0]);
    olm_onnx_gb_free(&branch[0]);
    olm_onnx_attr_graph(&a, "else_branch", &branch[1]);
    olm_onnx_gb_free(&branch[1]);
    const char *ins[] = {"/model/rope_caches_subgraph/Greater/output_0"}, *outs[] = {"cos_cache", "sin_cache"};
    NODE(&x->g, "/model/rope_caches_subgraph/If", "If", "", ins, outs, &a);
    return ONNXLLM_OK;
}

static void norm_attrs(wctx *x, olm_pb_buf *a, bool simple) {
    olm_onnx_attr_float(a, "epsilon", x->c->rms_norm_eps);
    if (simple) {
        olm_onnx_attr_int(a, "axis", -1);
        olm_onnx_attr_int(a, "stash_type", 1);
    }
}

static void layer_nodes(wctx *x, int i) {
    olm_onnx_gb *g = &x->g;
    char n[NAME_MAX_LEN], o3[NAME_MAX_LEN], w[NAME_MAX_LEN], b[NAME_MAX_LEN], wb[NAME_MAX_LEN];
    char root[NAME_MAX_LEN], skip[NAME_MAX_LEN], ln_out[NAME_MAX_LEN], attn_out[NAME_MAX_LEN], post_out[NAME_MAX_LEN];
    /* input norm */
    snprintf(w, sizeof w, "model.layers.%d.input_layernorm.weight", i);
    snprintf(ln_out, sizeof ln_out, "/model/layers.%d/input_layernorm/output_0", i);
    if (i == 0) {
        snprintf(n, sizeof n, "/model/layers.0/input_layernorm/LayerNorm");
        const char *ins[] = {EMBED_OUT, w}, *outs[] = {ln_out};
        olm_pb_buf a = {0};
        norm_attrs(x, &a, true);
        NODE(g, n, "SimplifiedLayerNormalization", "", ins, outs, &a);
    } else {
        snprintf(n, sizeof n, "/model/layers.%d/input_layernorm/SkipLayerNorm", i);
        snprintf(root, sizeof root, "/model/layers.%d/post_attention_layernorm/output_3", i - 1);
        snprintf(skip, sizeof skip, "/model/layers.%d/mlp/down_proj/MatMul/output_0", i - 1);
        snprintf(o3, sizeof o3, "/model/layers.%d/input_layernorm/output_3", i);
        const char *ins[] = {root, skip, w}, *outs[] = {ln_out, "", "", o3};
        olm_pb_buf a = {0};
        norm_attrs(x, &a, false);
        NODE(g, n, "SkipSimplifiedLayerNormalization", "com.microsoft", ins, outs, &a);
    }
    /* packed QKV */
    snprintf(b, sizeof b, "/model/layers.%d/attn/qkv_proj", i);
    snprintf(wb, sizeof wb, "model.layers.%d.attn.qkv_proj.MatMul", i);
    proj_node(x, b, ln_out, wb, (int64_t)(x->Nq + 2 * x->Nkv) * x->D, x->H, NULL);
    /* attention */
    {
        char qkv[NAME_MAX_LEN], pk[64], pv[64], prk[64], prv[64];
        snprintf(qkv, sizeof qkv, "/model/layers.%d/attn/qkv_proj/MatMul/output_0", i);
        snprintf(pk, sizeof pk, "past_key_values.%d.key", i);
        snprintf(pv, sizeof pv, "past_key_values.%d.value", i);
        snprintf(prk, sizeof prk, "present.%d.key", i);
        snprintf(prv, sizeof prv, "present.%d.value", i);
        snprintf(n, sizeof n, "/model/layers.%d/attn/GroupQueryAttention", i);
        snprintf(attn_out, sizeof attn_out, "/model/layers.%d/attn/GroupQueryAttention/output_0", i);
        const char *ins[] = {qkv, "", "", pk, pv, SEQLENS_K, TOTAL_LEN, "cos_cache", "sin_cache"};
        const char *outs[] = {attn_out, prk, prv};
        olm_pb_buf a = {0};
        olm_onnx_attr_int(&a, "num_heads", x->Nq);
        olm_onnx_attr_int(&a, "kv_num_heads", x->Nkv);
        olm_onnx_attr_float(&a, "scale", 1.0f / sqrtf((float)x->D));
        olm_onnx_attr_float(&a, "softcap", 0.0f);
        olm_onnx_attr_int(&a, "do_rotary", 1);
        olm_onnx_attr_int(&a, "rotary_interleaved", 0);
        NODE(g, n, "GroupQueryAttention", "com.microsoft", ins, outs, &a);
    }
    snprintf(b, sizeof b, "/model/layers.%d/attn/o_proj", i);
    snprintf(wb, sizeof wb, "model.layers.%d.attn.o_proj.MatMul", i);
    proj_node(x, b, attn_out, wb, x->H, (int64_t)x->Nq * x->D, NULL);
    /* post-attention norm: residual += attention */
    {
        if (i == 0)
            snprintf(root, sizeof root, "%s", EMBED_OUT);
        else
            snprintf(root, sizeof root, "/model/layers.%d/input_layernorm/output_3", i);
        snprintf(skip, sizeof skip, "/model/layers.%d/attn/o_proj/MatMul/output_0", i);
        snprintf(w, sizeof w, "model.layers.%d.post_attention_layernorm.weight", i);
        snprintf(n, sizeof n, "/model/layers.%d/post_attention_layernorm/SkipLayerNorm", i);
        snprintf(post_out, sizeof post_out, "/model/layers.%d/post_attention_layernorm/output_0", i);
        snprintf(o3, sizeof o3, "/model/layers.%d/post_attention_layernorm/output_3", i);
        const char *ins[] = {root, skip, w}, *outs[] = {post_out, "", "", o3};
        olm_pb_buf a = {0};
        norm_attrs(x, &a, false);
        NODE(g, n, "SkipSimplifiedLayerNormalization", "com.microsoft", ins, outs, &a);
    }
    /* MLP */
    char gate[NAME_MAX_LEN], up[NAME_MAX_LEN], sig[NAME_MAX_LEN], act[NAME_MAX_LEN], mul[NAME_MAX_LEN];
    snprintf(b, sizeof b, "/model/layers.%d/mlp/gate_proj", i);
    snprintf(wb, sizeof wb, "model.layers.%d.mlp.gate_proj.MatMul", i);
    proj_node(x, b, post_out, wb, x->I, x->H, NULL);
    snprintf(b, sizeof b, "/model/layers.%d/mlp/up_proj", i);
    snprintf(wb, sizeof wb, "model.layers.%d.mlp.up_proj.MatMul", i);
    proj_node(x, b, post_out, wb, x->I, x->H, NULL);
    snprintf(gate, sizeof gate, "/model/layers.%d/mlp/gate_proj/MatMul/output_0", i);
    snprintf(up, sizeof up, "/model/layers.%d/mlp/up_proj/MatMul/output_0", i);
    snprintf(sig, sizeof sig, "/model/layers.%d/mlp/act_fn/Sigmoid/output_0", i);
    snprintf(act, sizeof act, "/model/layers.%d/mlp/act_fn/Mul/output_0", i);
    snprintf(mul, sizeof mul, "/model/layers.%d/mlp/Mul/output_0", i);
    {
        snprintf(n, sizeof n, "/model/layers.%d/mlp/act_fn/Sigmoid", i);
        const char *ins[] = {gate}, *outs[] = {sig};
        NODE(g, n, "Sigmoid", "", ins, outs, NULL);
    }
    {
        snprintf(n, sizeof n, "/model/layers.%d/mlp/act_fn/Mul", i);
        const char *ins[] = {gate, sig}, *outs[] = {act};
        NODE(g, n, "Mul", "", ins, outs, NULL);
    }
    {
        snprintf(n, sizeof n, "/model/layers.%d/mlp/Mul", i);
        const char *ins[] = {act, up}, *outs[] = {mul};
        NODE(g, n, "Mul", "", ins, outs, NULL);
    }
    snprintf(b, sizeof b, "/model/layers.%d/mlp/down_proj", i);
    snprintf(wb, sizeof wb, "model.layers.%d.mlp.down_proj.MatMul", i);
    proj_node(x, b, mul, wb, x->H, x->I, NULL);
}

static void final_nodes(wctx *x) {
    char n[NAME_MAX_LEN], root[NAME_MAX_LEN], skip[NAME_MAX_LEN], w[NAME_MAX_LEN], out[NAME_MAX_LEN];
    int L = x->L;
    snprintf(n, sizeof n, "/model/layers.%d/final_norm_layernorm/SkipLayerNorm", L);
    snprintf(root, sizeof root, "/model/layers.%d/post_attention_layernorm/output_3", L - 1);
    snprintf(skip, sizeof skip, "/model/layers.%d/mlp/down_proj/MatMul/output_0", L - 1);
    snprintf(w, sizeof w, "model.layers.%d.final_norm_layernorm.weight", L);
    snprintf(out, sizeof out, "/model/layers.%d/final_norm_layernorm/output_0", L);
    const char *ins[] = {root, skip, w}, *outs[] = {out};
    olm_pb_buf a = {0};
    norm_attrs(x, &a, false);
    NODE(&x->g, n, "SkipSimplifiedLayerNormalization", "com.microsoft", ins, outs, &a);
    proj_node(x, "/lm_head", out, "lm_head.MatMul", x->V, x->H, "logits");
}

static void io_values(wctx *x) {
    const char *p_ids[] = {"batch_size", "sequence_length"};
    const char *p_mask[] = {"batch_size", "total_sequence_length"};
    const char *p_past[] = {"batch_size", NULL, "past_sequence_length", NULL};
    const char *p_pres[] = {"batch_size", NULL, "total_sequence_length", NULL};
    const char *p_logits[] = {"batch_size", "sequence_length", NULL};
    int64_t kvd[4] = {-1, x->Nkv, -1, x->D}, ld[3] = {-1, -1, x->V};
    char name[64];
    olm_onnx_gb_value(&x->g, false, "input_ids", OLM_ONNX_INT64, 2, NULL, p_ids);
    olm_onnx_gb_value(&x->g, false, "attention_mask", OLM_ONNX_INT64, 2, NULL, p_mask);
    for (int kv = 0; kv < 2; kv++) /* all keys, then all values (as the current builder) */
        for (int i = 0; i < x->L; i++) {
            snprintf(name, sizeof name, "past_key_values.%d.%s", i, kv ? "value" : "key");
            olm_onnx_gb_value(&x->g, false, name, x->io, 4, kvd, p_past);
        }
    olm_onnx_gb_value(&x->g, true, "logits", x->io, 3, ld, p_logits);
    for (int kv = 0; kv < 2; kv++)
        for (int i = 0; i < x->L; i++) {
            snprintf(name, sizeof name, "present.%d.%s", i, kv ? "value" : "key");
            olm_onnx_gb_value(&x->g, true, name, x->io, 4, kvd, p_pres);
        }
}

/* ---------------------------------------------------------------- folder */

static onnxllm_status copy_file(const char *src, const char *dst, onnxllm_error *err) {
    char *buf;
    size_t len;
    onnxllm_status st = olm_read_file(src, &buf, &len, err);
    if (st) return st;
    FILE *f = fopen(dst, "wb");
    if (!f) {
        free(buf);
        return olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot create: %s", dst, strerror(errno));
    }
    bool ok = fwrite(buf, 1, len, f) == len;
    if (fclose(f) != 0) ok = false;
    free(buf);
    return ok ? ONNXLLM_OK : olm_fail(err, ONNXLLM_ERR_IO, "%s: write failed: %s", dst, strerror(errno));
}

/* tokenizer.json is required; the other files are copied when present. */
static onnxllm_status copy_tokenizer(const char *from, const char *to, onnxllm_error *err) {
    static const char *const files[] = {"tokenizer.json",     "tokenizer_config.json", "special_tokens_map.json",
                                        "added_tokens.json",  "vocab.json",            "merges.txt",
                                        "chat_template.jinja", NULL};
    for (int i = 0; files[i]; i++) {
        char *s = olm_path_join(from, files[i]), *d = olm_path_join(to, files[i]);
        onnxllm_status st = ONNXLLM_OK;
        if (!s || !d) {
            st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        } else if (access(s, R_OK) == 0) {
            st = copy_file(s, d, err);
        } else if (i == 0) {
            st = olm_fail(err, ONNXLLM_ERR_IO, "%s: no tokenizer.json in the tokenizer folder", s);
        }
        free(s);
        free(d);
        if (st) return st;
    }
    return ONNXLLM_OK;
}

onnxllm_status olm_phi3_write(const olm_phi3_config *c, const olm_weight_source *w, const olm_build_options *o,
                              const char *out_dir, onnxllm_error *err) {
    onnxllm_status st = olm_phi3_config_validate(c, err);
    if (st) return st;
    wctx x = {.c = c, .w = w, .o = o, .err = err};
    x.io = o->ep == OLM_EP_CUDA ? OLM_ONNX_FLOAT16 : OLM_ONNX_FLOAT;
    x.int4 = o->precision == OLM_PRECISION_INT4;
    x.H = c->hidden_size;
    x.I = c->intermediate_size;
    x.D = olm_phi3_head_dim(c);
    x.Nq = c->num_attention_heads;
    x.Nkv = c->num_key_value_heads;
    x.V = c->vocab_size;
    x.L = c->num_hidden_layers;
    if (x.int4 && (x.H % OLM_Q4_BLOCK || x.I % OLM_Q4_BLOCK || (x.Nq * x.D) % OLM_Q4_BLOCK))
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED,
                        "int4: hidden_size %d, intermediate_size %d and heads*head_dim %d must be multiples of %d", x.H,
                        x.I, x.Nq * x.D, OLM_Q4_BLOCK);
    if (o->ep == OLM_EP_CUDA && !x.int4)
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "the CUDA layout is int4 only (fp32 is a CPU layout)");
    if ((st = olm_mkdir_p(out_dir, err))) return st;
    olm_onnx_gb_init(&x.g, "main_graph");
    if ((st = olm_onnx_data_open(&x.d, out_dir, "model.onnx.data", err))) {
        olm_onnx_gb_free(&x.g);
        return st;
    }
    int total = x.L + 1, done = 0;
    io_values(&x);
    mask_nodes(&x);
    st = rope_nodes(&x);
    if (!st) {
        const char *ins[] = {"model.embed_tokens.weight", "input_ids"}, *outs[] = {EMBED_OUT};
        NODE(&x.g, "/model/embed_tokens/Gather", "Gather", "", ins, outs, NULL);
        st = put_vocab_tensors(&x);
        if (!st && o->progress) o->progress(o->progress_user, ++done, total);
    }
    for (int i = 0; !st && i < x.L; i++) {
        layer_nodes(&x, i);
        st = put_layer_weights(&x, i);
        if (!st && o->progress) o->progress(o->progress_user, ++done, total);
    }
    if (!st) {
        char fn[NAME_MAX_LEN];
        snprintf(fn, sizeof fn, "model.layers.%d.final_norm_layernorm.weight", x.L);
        st = put_vector(&x, "model.norm.weight", fn, x.H);
        final_nodes(&x);
    }
    onnxllm_status cst = olm_onnx_data_close(&x.d, st ? NULL : err);
    if (!st) st = cst;
    if (!st) {
        char *p = olm_path_join(out_dir, "model.onnx");
        static const olm_onnx_opset ops[] = {{"", 21}, {"com.microsoft", 1}};
        st = p ? olm_onnx_save(p, &x.g, 10, ops, 2, "onnxllm", ONNXLLM_VERSION, err)
               : olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        free(p);
    }
    olm_onnx_gb_free(&x.g);
    free(x.W);
    free(x.q);
    free(x.s);
    if (!st) {
        char *p = olm_path_join(out_dir, "genai_config.json");
        st = p ? olm_genai_config_write(c, o, p, err) : olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        free(p);
    }
    if (!st && o->tokenizer_dir) st = copy_tokenizer(o->tokenizer_dir, out_dir, err);
    return st;
}
