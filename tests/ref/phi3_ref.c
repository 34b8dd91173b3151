/* phi3_ref.c — naive reference forward pass (see phi3_ref.h). */
#include "phi3_ref.h"
#include "common/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float *in_norm, *qkv, *o, *post_norm, *gate_up, *down;
} ref_layer;

struct phi3_ref {
    olm_phi3_config c;
    int H, I, D, Nq, Nkv, V, L, R;
    float *embed, *lm_head, *final_norm;
    ref_layer *layers;
    int len, cap;          /* cached tokens / capacity of the KV arrays */
    float **k, **v;        /* per layer [cap][Nkv*D], keys stored rotated */
};

static onnxllm_status load(const olm_weight_source *w, const char *name, int rank, int64_t d0, int64_t d1,
                           float **out, onnxllm_error *err) {
    int64_t shape[2] = {d0, d1};
    size_t n = (size_t)d0 * (size_t)(rank == 2 ? d1 : 1);
    *out = malloc(n * sizeof(float));
    if (!*out) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "ref: out of memory for %s", name);
    return w->get(w->ctx, name, shape, rank, *out, err);
}

void phi3_ref_free(phi3_ref *r) {
    if (!r) return;
    free(r->embed);
    if (r->lm_head != r->embed) free(r->lm_head);
    free(r->final_norm);
    for (int i = 0; r->layers && i < r->L; i++) {
        ref_layer *l = &r->layers[i];
        free(l->in_norm);
        free(l->qkv);
        free(l->o);
        free(l->post_norm);
        free(l->gate_up);
        free(l->down);
    }
    free(r->layers);
    for (int i = 0; r->k && i < r->L; i++) {
        free(r->k[i]);
        free(r->v[i]);
    }
    free(r->k);
    free(r->v);
    free(r);
}

onnxllm_status phi3_ref_create(const olm_phi3_config *c, const olm_weight_source *w, phi3_ref **out,
                               onnxllm_error *err) {
    *out = NULL;
    phi3_ref *r = calloc(1, sizeof *r);
    if (!r) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "ref: out of memory");
    r->c = *c;
    r->H = c->hidden_size;
    r->I = c->intermediate_size;
    r->D = c->head_dim > 0 ? c->head_dim : c->hidden_size / c->num_attention_heads;
    r->Nq = c->num_attention_heads;
    r->Nkv = c->num_key_value_heads;
    r->V = c->vocab_size;
    r->L = c->num_hidden_layers;
    r->R = (int)((float)r->D * c->partial_rotary_factor);
    r->layers = calloc((size_t)r->L, sizeof *r->layers);
    r->k = calloc((size_t)r->L, sizeof *r->k);
    r->v = calloc((size_t)r->L, sizeof *r->v);
    onnxllm_status st = r->layers && r->k && r->v ? ONNXLLM_OK : olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "ref: oom");
    if (!st) st = load(w, "model.embed_tokens.weight", 2, r->V, r->H, &r->embed, err);
    if (!st) {
        if (c->tie_word_embeddings)
            r->lm_head = r->embed;
        else
            st = load(w, "lm_head.weight", 2, r->V, r->H, &r->lm_head, err);
    }
    if (!st) st = load(w, "model.norm.weight", 1, r->H, 0, &r->final_norm, err);
    char name[256];
    for (int i = 0; !st && i < r->L; i++) {
        ref_layer *l = &r->layers[i];
        snprintf(name, sizeof name, "model.layers.%d.input_layernorm.weight", i);
        st = load(w, name, 1, r->H, 0, &l->in_norm, err);
        snprintf(name, sizeof name, "model.layers.%d.self_attn.qkv_proj.weight", i);
        if (!st) st = load(w, name, 2, (int64_t)(r->Nq + 2 * r->Nkv) * r->D, r->H, &l->qkv, err);
        snprintf(name, sizeof name, "model.layers.%d.self_attn.o_proj.weight", i);
        if (!st) st = load(w, name, 2, r->H, (int64_t)r->Nq * r->D, &l->o, err);
        snprintf(name, sizeof name, "model.layers.%d.post_attention_layernorm.weight", i);
        if (!st) st = load(w, name, 1, r->H, 0, &l->post_norm, err);
        snprintf(name, sizeof name, "model.layers.%d.mlp.gate_up_proj.weight", i);
        if (!st) st = load(w, name, 2, 2 * (int64_t)r->I, r->H, &l->gate_up, err);
        snprintf(name, sizeof name, "model.layers.%d.mlp.down_proj.weight", i);
        if (!st) st = load(w, name, 2, r->H, r->I, &l->down, err);
    }
    if (st) {
        phi3_ref_free(r);
        return st;
    }
    *out = r;
    return ONNXLLM_OK;
}

void phi3_ref_reset(phi3_ref *r) { r->len = 0; }
int phi3_ref_length(const phi3_ref *r) { return r->len; }

static void rmsnorm(const float *x, const float *g, int n, double eps, float *out) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    double inv = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) out[i] = (float)(x[i] * inv * g[i]);
}

/* y[rows] = W[rows, cols] x */
static void matvec(const float *W, const float *x, int rows, int cols, float *y) {
    for (int r = 0; r < rows; r++) {
        double s = 0;
        const float *w = W + (size_t)r * cols;
        for (int c = 0; c < cols; c++) s += (double)w[c] * x[c];
        y[r] = (float)s;
    }
}

/* rotate-half rotary on the first R channels of one head vector at position pos */
static void rotate(const phi3_ref *r, float *v, int pos, bool long_table) {
    const olm_phi3_config *c = &r->c;
    int half = r->R / 2;
    double m = 1.0;
    if (c->longrope) {
        double s = (double)c->max_position_embeddings / c->original_max_position_embeddings;
        double def = s <= 1.0 ? 1.0 : sqrt(1.0 + log(s) / log((double)c->original_max_position_embeddings));
        if (long_table)
            m = c->has_long_mscale ? c->long_mscale : def;
        else
            m = c->has_short_mscale ? c->short_mscale : def;
    }
    for (int i = 0; i < half; i++) {
        double f = c->longrope ? (long_table ? c->long_factor[i] : c->short_factor[i]) : 1.0;
        double inv_freq = 1.0 / (f * pow((double)c->rope_theta, (2.0 * i) / r->R));
        double a = pos * inv_freq, cs = cos(a) * m, sn = sin(a) * m;
        double x1 = v[i], x2 = v[i + half];
        v[i] = (float)(x1 * cs - x2 * sn);
        v[i + half] = (float)(x2 * cs + x1 * sn);
    }
}

static bool grow_cache(phi3_ref *r, int need) {
    if (need <= r->cap) return true;
    int cap = r->cap ? r->cap : 64;
    while (cap < need) cap *= 2;
    size_t row = (size_t)r->Nkv * r->D;
    for (int l = 0; l < r->L; l++) {
        float *k = realloc(r->k[l], (size_t)cap * row * sizeof(float));
        if (!k) return false;
        r->k[l] = k;
        float *v = realloc(r->v[l], (size_t)cap * row * sizeof(float));
        if (!v) return false;
        r->v[l] = v;
    }
    r->cap = cap;
    return true;
}

onnxllm_status phi3_ref_step(phi3_ref *r, const int64_t *ids, int n, float *logits, onnxllm_error *err) {
    const int H = r->H, I = r->I, D = r->D, Nq = r->Nq, Nkv = r->Nkv, V = r->V;
    const int past = r->len, total = past + n, group = Nq / Nkv;
    const double eps = r->c.rms_norm_eps, scale = 1.0 / sqrt((double)D);
    bool long_table = r->c.longrope && total > r->c.original_max_position_embeddings;
    for (int t = 0; t < n; t++)
        if (ids[t] < 0 || ids[t] >= V) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "ref: token %lld", (long long)ids[t]);
    if (!grow_cache(r, total)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "ref: out of memory");
    int qkv_n = (Nq + 2 * Nkv) * D, big = qkv_n > 2 * I ? qkv_n : 2 * I;
    float *x = malloc((size_t)n * H * sizeof(float)), *h = malloc((size_t)H * sizeof(float));
    float *buf = malloc((size_t)big * sizeof(float)), *att = malloc((size_t)Nq * D * sizeof(float));
    float *q = malloc((size_t)n * Nq * D * sizeof(float)), *tmp = malloc((size_t)H * sizeof(float));
    double *p = malloc((size_t)total * sizeof(double));
    if (!x || !h || !buf || !att || !q || !tmp || !p) {
        free(x), free(h), free(buf), free(att), free(q), free(tmp), free(p);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "ref: out of memory");
    }
    for (int t = 0; t < n; t++) memcpy(x + (size_t)t * H, r->embed + (size_t)ids[t] * H, (size_t)H * sizeof(float));
    for (int l = 0; l < r->L; l++) {
        const ref_layer *ly = &r->layers[l];
        /* q, k, v of the new tokens; k/v go to the cache */
        for (int t = 0; t < n; t++) {
            int pos = past + t;
            rmsnorm(x + (size_t)t * H, ly->in_norm, H, eps, h);
            matvec(ly->qkv, h, qkv_n, H, buf);
            float *qt = q + (size_t)t * Nq * D, *kt = r->k[l] + (size_t)pos * Nkv * D, *vt = r->v[l] + (size_t)pos * Nkv * D;
            memcpy(qt, buf, (size_t)Nq * D * sizeof(float));
            memcpy(kt, buf + Nq * D, (size_t)Nkv * D * sizeof(float));
            memcpy(vt, buf + (Nq + Nkv) * D, (size_t)Nkv * D * sizeof(float));
            for (int hh = 0; hh < Nq; hh++) rotate(r, qt + hh * D, pos, long_table);
            for (int hh = 0; hh < Nkv; hh++) rotate(r, kt + hh * D, pos, long_table);
        }
        /* causal attention + o_proj + residual, then the MLP */
        for (int t = 0; t < n; t++) {
            int pos = past + t;
            for (int hh = 0; hh < Nq; hh++) {
                const float *qh = q + (size_t)t * Nq * D + hh * D;
                int kvh = hh / group;
                double mx = -INFINITY, sum = 0;
                for (int j = 0; j <= pos; j++) {
                    const float *kj = r->k[l] + (size_t)j * Nkv * D + kvh * D;
                    double s = 0;
                    for (int d = 0; d < D; d++) s += (double)qh[d] * kj[d];
                    p[j] = s * scale;
                    if (p[j] > mx) mx = p[j];
                }
                for (int j = 0; j <= pos; j++) sum += (p[j] = exp(p[j] - mx));
                for (int d = 0; d < D; d++) {
                    double o = 0;
                    for (int j = 0; j <= pos; j++) o += p[j] * r->v[l][(size_t)j * Nkv * D + kvh * D + d];
                    att[hh * D + d] = (float)(o / sum);
                }
            }
            float *xt = x + (size_t)t * H;
            matvec(ly->o, att, H, Nq * D, tmp);
            for (int i = 0; i < H; i++) xt[i] += tmp[i];
            rmsnorm(xt, ly->post_norm, H, eps, h);
            matvec(ly->gate_up, h, 2 * I, H, buf);
            for (int i = 0; i < I; i++) {
                double g = buf[i];
                buf[i] = (float)(g / (1.0 + exp(-g)) * buf[I + i]);
            }
            matvec(ly->down, buf, H, I, tmp);
            for (int i = 0; i < H; i++) xt[i] += tmp[i];
        }
    }
    if (logits)
        for (int t = 0; t < n; t++) {
            rmsnorm(x + (size_t)t * H, r->final_norm, H, eps, h);
            matvec(r->lm_head, h, V, H, logits + (size_t)t * V);
        }
    r->len = total;
    free(x), free(h), free(buf), free(att), free(q), free(tmp), free(p);
    return ONNXLLM_OK;
}

onnxllm_status phi3_ref_forward(phi3_ref *r, const int64_t *ids, int n, float *logits, onnxllm_error *err) {
    phi3_ref_reset(r);
    return phi3_ref_step(r, ids, n, logits, err);
}
