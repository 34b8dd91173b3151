/* fp32_model.c — an fp32 model folder (our writer's layout) as config + weight source. */
#include "writer/fp32_model.h"
#include "common/error.h"
#include "common/fileio.h"
#include "onnx/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct olm_fp32_model {
    olm_onnx_model *m;
    olm_phi3_config cfg;
};

/* ---- small helpers ------------------------------------------------------------ */

static void fmt_dims(char *buf, size_t cap, const int64_t *d, int rank) {
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < rank && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)d[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

static int is_cache_name(const char *s) { return strstr(s, "cos_cache") || strstr(s, "sin_cache"); }

/* A rope table: an initializer, or the tensor of a Constant node (any subgraph depth). */
typedef struct {
    const char *name;
    const olm_onnx_tensor *t;
} cache_ref;

static void collect_caches(const olm_onnx_graph *g, cache_ref *out, int *n, int cap) {
    for (int i = 0; i < g->n_inits; i++)
        if (is_cache_name(g->inits[i].name) && *n < cap) out[(*n)++] = (cache_ref){g->inits[i].name, &g->inits[i]};
    for (int i = 0; i < g->n_nodes; i++) {
        const olm_onnx_node *nd = &g->nodes[i];
        for (int a = 0; a < nd->n_attrs; a++) {
            const olm_onnx_attr *at = &nd->attrs[a];
            if (at->type == OLM_ONNX_ATTR_GRAPH && at->g) collect_caches(at->g, out, n, cap);
            if (!strcmp(nd->op, "Constant") && at->type == OLM_ONNX_ATTR_TENSOR && at->t && nd->n_outputs == 1 &&
                is_cache_name(nd->outputs[0]) && *n < cap)
                out[(*n)++] = (cache_ref){nd->outputs[0], at->t};
        }
    }
}

static const olm_onnx_node *find_op(const olm_onnx_graph *g, const char *op) {
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].op, op)) return &g->nodes[i];
    return NULL;
}

static int json_int(const cJSON *o, const char *k, int *dst) {
    int64_t i;
    if (!olm_json_as_int(cJSON_GetObjectItemCaseSensitive(o, k), -INT32_MAX, INT32_MAX, &i)) return 0;
    *dst = (int)i;
    return 1;
}

/* ---- config reconstruction ------------------------------------------------------ */

static onnxllm_status read_genai(const char *dir, olm_phi3_config *c, onnxllm_error *err) {
    char *path = olm_path_join(dir, "genai_config.json");
    cJSON *j = NULL;
    onnxllm_status s = path ? olm_load_json_file(path, &j, err) : olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (s) {
        free(path);
        return s;
    }
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(model, "decoder");
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(model, "eos_token_id");
    int ok = json_int(dec, "head_size", &c->head_dim) && json_int(dec, "hidden_size", &c->hidden_size) &&
             json_int(dec, "num_attention_heads", &c->num_attention_heads) &&
             json_int(dec, "num_hidden_layers", &c->num_hidden_layers) &&
             json_int(dec, "num_key_value_heads", &c->num_key_value_heads) &&
             json_int(model, "vocab_size", &c->vocab_size) && json_int(model, "context_length", &c->context_length) &&
             json_int(model, "bos_token_id", &c->bos_token_id) && json_int(model, "pad_token_id", &c->pad_token_id);
    int64_t id;
    if (ok && cJSON_IsNumber(eos)) {
        c->n_eos = 1;
        ok = olm_json_as_int(eos, 0, INT32_MAX, &id);
        c->eos_token_id[0] = (int)id;
    } else if (ok && cJSON_IsArray(eos) && cJSON_GetArraySize(eos) >= 1 && cJSON_GetArraySize(eos) <= 8) {
        for (const cJSON *e = eos->child; e && ok; e = e->next) {
            ok = olm_json_as_int(e, 0, INT32_MAX, &id);
            c->eos_token_id[c->n_eos++] = (int)id;
        }
    } else {
        ok = 0;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (ok && (!cJSON_IsString(type) || strcmp(type->valuestring, "phi3")))
        s = olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: model.type must be \"phi3\"", path);
    else if (!ok)
        s = olm_fail(err, ONNXLLM_ERR_FORMAT,
                     "%s: missing model.decoder sizes or model vocab/context/bos/eos/pad fields", path);
    cJSON_Delete(j);
    free(path);
    return s;
}

static onnxllm_status derive_config(olm_fp32_model *fm, const char *dir, onnxllm_error *err) {
    olm_phi3_config *c = &fm->cfg;
    const olm_onnx_graph *g = &fm->m->graph;
    memset(c, 0, sizeof *c);
    onnxllm_status s = read_genai(dir, c, err);
    if (s) return s;
    const char *mp = fm->m->path;
    if (find_op(g, "MatMulNBits"))
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: already quantized (MatMulNBits found); quantize needs an fp32 model", mp);
    const olm_onnx_node *ln = find_op(g, "SimplifiedLayerNormalization");
    if (!ln) ln = find_op(g, "SkipSimplifiedLayerNormalization");
    const olm_onnx_attr *eps = ln ? olm_onnx_node_attr(ln, "epsilon") : NULL;
    if (!eps || eps->type != OLM_ONNX_ATTR_FLOAT)
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: no layer-norm node with an epsilon", mp);
    c->rms_norm_eps = eps->f;

    const olm_onnx_node *gate = olm_onnx_find_node(g, "/model/layers.0/mlp/gate_proj/MatMul");
    const olm_onnx_tensor *gw = gate && gate->n_inputs == 2 ? olm_onnx_find_init(fm->m, gate->inputs[1]) : NULL;
    if (!gw || gw->rank != 2)
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: no fp32 MatMul '/model/layers.0/mlp/gate_proj/MatMul' with a 2-D weight", mp);
    c->intermediate_size = (int)gw->dims[1];

    cache_ref caches[16];
    int nc = 0;
    collect_caches(g, caches, &nc, 16);
    const olm_onnx_tensor *small = NULL, *large = NULL;
    for (int i = 0; i < nc; i++) {
        if (!strstr(caches[i].name, "cos_cache") || caches[i].t->rank != 2) continue;
        if (!small || caches[i].t->dims[0] < small->dims[0]) small = caches[i].t;
        if (!large || caches[i].t->dims[0] > large->dims[0]) large = caches[i].t;
    }
    if (!small) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: no 2-D cos_cache tensor", mp);
    const int rotary = (int)small->dims[1] * 2;
    c->longrope = find_op(g, "If") != NULL && small != large;
    c->max_position_embeddings = (int)large->dims[0];
    c->original_max_position_embeddings = c->longrope ? (int)small->dims[0] : c->max_position_embeddings;
    /* the factor only matters through (int)(head_dim * factor) == rotary dim */
    float p = (float)rotary / (float)c->head_dim;
    while ((int)((float)c->head_dim * p) < rotary) p = nextafterf(p, 2.0f);
    c->partial_rotary_factor = p;
    /* placeholders: the real tables are copied afterwards (olm_fp32_copy_rope_caches) */
    c->rope_theta = 10000.0f;
    if (c->longrope) {
        c->n_rope_factors = rotary / 2;
        for (int i = 0; i < c->n_rope_factors; i++) c->short_factor[i] = c->long_factor[i] = 1.0f;
    }
    /* lm_head is always stored on its own (even when tied), so read it back as is */
    c->tie_word_embeddings = false;
    return olm_phi3_config_validate(c, err);
}

onnxllm_status olm_fp32_model_open(const char *dir, olm_fp32_model **out, onnxllm_error *err) {
    *out = NULL;
    olm_fp32_model *fm = calloc(1, sizeof *fm);
    if (!fm) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    onnxllm_status s = olm_onnx_load(dir, &fm->m, err);
    if (!s) s = derive_config(fm, dir, err);
    if (s) {
        olm_fp32_model_close(fm);
        return s;
    }
    *out = fm;
    return ONNXLLM_OK;
}

void olm_fp32_model_close(olm_fp32_model *fm) {
    if (!fm) return;
    olm_onnx_free(fm->m);
    free(fm);
}

const olm_phi3_config *olm_fp32_model_config(const olm_fp32_model *fm) { return &fm->cfg; }

/* ---- weights -------------------------------------------------------------------- */

static onnxllm_status read_init(const olm_fp32_model *fm, const char *iname, const char *hf, const int64_t *dims,
                                int rank, float *dst, onnxllm_error *err) {
    const olm_onnx_tensor *t = olm_onnx_find_init(fm->m, iname);
    if (!t)
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: missing initializer '%s' (for %s)", fm->m->path, iname, hf);
    int same = t->rank == rank && t->dtype == OLM_ONNX_FLOAT;
    for (int i = 0; same && i < rank; i++) same = t->dims[i] == dims[i];
    if (!same) {
        char got[128], want[128];
        fmt_dims(got, sizeof got, t->dims, t->rank);
        fmt_dims(want, sizeof want, dims, rank);
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: initializer '%s' is %s %s, expected float %s", fm->m->path, iname,
                        t->dtype == OLM_ONNX_FLOAT ? "float" : "non-float", got, want);
    }
    return olm_onnx_tensor_read_f32(fm->m, t, dst, (size_t)olm_onnx_tensor_numel(t), err);
}

/* HF rows [N, K] of the MatMul named `node` (weight [K, N]) into dst. */
static onnxllm_status read_matmul(const olm_fp32_model *fm, const char *node, const char *hf, int64_t N, int64_t K,
                                  float *dst, onnxllm_error *err) {
    const olm_onnx_node *nd = olm_onnx_find_node(&fm->m->graph, node);
    if (!nd || strcmp(nd->op, "MatMul") || nd->n_inputs != 2)
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: no fp32 MatMul node '%s' (for %s)", fm->m->path, node, hf);
    float *tmp = malloc((size_t)(N * K) * sizeof *tmp);
    if (!tmp) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory reading %s", hf);
    const int64_t dims[2] = {K, N};
    onnxllm_status s = read_init(fm, nd->inputs[1], hf, dims, 2, tmp, err);
    if (!s)
        for (int64_t k = 0; k < K; k++)
            for (int64_t n = 0; n < N; n++) dst[n * K + k] = tmp[k * N + n];
    free(tmp);
    return s;
}

static onnxllm_status fm_get(void *ctx, const char *name, const int64_t *shape, int rank, float *dst,
                             onnxllm_error *err) {
    const olm_fp32_model *fm = ctx;
    char node[256], node2[256], rest[128], init[256];
    int layer = -1, off = 0;
    if (!strcmp(name, "model.embed_tokens.weight"))
        return read_init(fm, name, name, shape, rank, dst, err);
    if (!strcmp(name, "model.norm.weight")) {
        snprintf(init, sizeof init, "model.layers.%d.final_norm_layernorm.weight", fm->cfg.num_hidden_layers);
        return read_init(fm, init, name, shape, rank, dst, err);
    }
    if (!strcmp(name, "lm_head.weight") && rank == 2)
        return read_matmul(fm, "/lm_head/MatMul", name, shape[0], shape[1], dst, err);
    if (sscanf(name, "model.layers.%d.%n", &layer, &off) == 1 && off > 0 && strlen(name + off) < sizeof rest) {
        strcpy(rest, name + off);
        if (!strcmp(rest, "input_layernorm.weight") || !strcmp(rest, "post_attention_layernorm.weight"))
            return read_init(fm, name, name, shape, rank, dst, err);
        if (rank == 2) {
            const char *mm = !strcmp(rest, "self_attn.qkv_proj.weight") ? "attn/qkv_proj"
                           : !strcmp(rest, "self_attn.o_proj.weight")   ? "attn/o_proj"
                           : !strcmp(rest, "mlp.down_proj.weight")      ? "mlp/down_proj"
                                                                        : NULL;
            if (mm) {
                snprintf(node, sizeof node, "/model/layers.%d/%s/MatMul", layer, mm);
                return read_matmul(fm, node, name, shape[0], shape[1], dst, err);
            }
            if (!strcmp(rest, "mlp.gate_up_proj.weight") && shape[0] % 2 == 0) {
                snprintf(node, sizeof node, "/model/layers.%d/mlp/gate_proj/MatMul", layer);
                snprintf(node2, sizeof node2, "/model/layers.%d/mlp/up_proj/MatMul", layer);
                const int64_t half = shape[0] / 2;
                onnxllm_status s = read_matmul(fm, node, name, half, shape[1], dst, err);
                return s ? s : read_matmul(fm, node2, name, half, shape[1], dst + half * shape[1], err);
            }
        }
    }
    return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: no tensor for '%s'", fm->m->path, name);
}

/* Reads bytes [off, off + n) of an fp32 initializer's data (inline or external). */
static onnxllm_status read_range(const olm_fp32_model *fm, const olm_onnx_tensor *t, uint64_t off, size_t n,
                                 void *dst, onnxllm_error *err) {
    return olm_onnx_tensor_read_range(fm->m, t, off, n, dst, err);
}

/* Streamed rows of the vocabulary-sized tensors: embedding rows are contiguous; HF
 * lm_head rows are columns of the stored [H, V] MatMul weight (one strided read per
 * input feature). */
static onnxllm_status fm_get_rows(void *ctx, const char *name, const int64_t *shape, int64_t row0, int64_t n_rows,
                                  float *dst, onnxllm_error *err) {
    const olm_fp32_model *fm = ctx;
    const int64_t V = shape[0], H = shape[1];
    if (row0 < 0 || n_rows < 0 || row0 + n_rows > V)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "%s: rows [%lld, %lld) outside [0, %lld)", name,
                        (long long)row0, (long long)(row0 + n_rows), (long long)V);
    const bool lm = !strcmp(name, "lm_head.weight");
    if (!lm && strcmp(name, "model.embed_tokens.weight"))
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: no row access for '%s'", fm->m->path, name);
    const olm_onnx_node *nd = lm ? olm_onnx_find_node(&fm->m->graph, "/lm_head/MatMul") : NULL;
    const char *iname = lm ? (nd && nd->n_inputs == 2 ? nd->inputs[1] : "") : name;
    const olm_onnx_tensor *t = olm_onnx_find_init(fm->m, iname);
    const int64_t want[2] = {lm ? H : V, lm ? V : H};
    if (!t || t->dtype != OLM_ONNX_FLOAT || t->rank != 2 || t->dims[0] != want[0] || t->dims[1] != want[1]) {
        char w[64];
        fmt_dims(w, sizeof w, want, 2);
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: no float %s initializer for '%s'", fm->m->path, w, name);
    }
    if (!lm) return read_range(fm, t, (uint64_t)(row0 * H) * 4, (size_t)(n_rows * H) * 4, dst, err);
    float *col = malloc((size_t)n_rows * sizeof *col);
    if (!col) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    onnxllm_status s = ONNXLLM_OK;
    for (int64_t k = 0; k < H && !s; k++) {
        s = read_range(fm, t, (uint64_t)(k * V + row0) * 4, (size_t)n_rows * 4, col, err);
        for (int64_t j = 0; j < n_rows && !s; j++) dst[j * H + k] = col[j];
    }
    free(col);
    return s;
}

olm_weight_source olm_fp32_model_weights(olm_fp32_model *fm) {
    return (olm_weight_source){.ctx = fm, .get = fm_get, .get_rows = fm_get_rows};
}

/* ---- rope tables ------------------------------------------------------------------ */

static onnxllm_status patch_file(const char *path, uint64_t off, const void *data, size_t n, onnxllm_error *err) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot open for writing: %s", path, strerror(errno));
    const uint8_t *p = data;
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w <= 0) {
            int e = errno;
            close(fd);
            return olm_fail(err, ONNXLLM_ERR_IO, "%s: write failed: %s", path, strerror(e));
        }
        p += w;
        off += (uint64_t)w;
        n -= (size_t)w;
    }
    return close(fd) ? olm_fail(err, ONNXLLM_ERR_IO, "%s: close failed: %s", path, strerror(errno)) : ONNXLLM_OK;
}

onnxllm_status olm_fp32_copy_rope_caches(const olm_fp32_model *fm, const char *out_dir, onnxllm_error *err) {
    olm_onnx_model *dm = NULL;
    onnxllm_status s = olm_onnx_load(out_dir, &dm, err);
    if (s) return s;
    cache_ref src[16], dst[16];
    int ns = 0, nd = 0;
    collect_caches(&fm->m->graph, src, &ns, 16);
    collect_caches(&dm->graph, dst, &nd, 16);
    if (nd != ns) s = olm_fail(err, ONNXLLM_ERR_MISMATCH, "%s: %d rope tables, source has %d", dm->path, nd, ns);
    for (int i = 0; i < nd && !s; i++) {
        const olm_onnx_tensor *d = dst[i].t, *from = NULL;
        for (int j = 0; j < ns; j++)
            if (!strcmp(src[j].name, dst[i].name)) from = src[j].t;
        int same = from && from->dtype == d->dtype && from->rank == d->rank;
        for (int k = 0; same && k < d->rank; k++) same = from->dims[k] == d->dims[k];
        if (!same) {
            s = olm_fail(err, ONNXLLM_ERR_MISMATCH, "%s: rope table '%s' has no same-shaped source", dm->path, dst[i].name);
            break;
        }
        const uint64_t nbytes = olm_onnx_tensor_nbytes(d);
        void *buf = malloc(nbytes ? nbytes : 1);
        if (!buf) {
            s = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
            break;
        }
        s = olm_onnx_tensor_read(fm->m, from, buf, nbytes, err);
        if (!s && d->external) {
            char *p = olm_path_join(dm->dir, d->location);
            s = p ? patch_file(p, d->offset, buf, nbytes, err) : olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
            free(p);
        } else if (!s && d->raw && d->raw_len == nbytes) {
            s = patch_file(dm->path, (uint64_t)(d->raw - dm->buf), buf, nbytes, err);
        } else if (!s) {
            s = olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: rope table '%s' is not stored as raw bytes", dm->path,
                         dst[i].name);
        }
        free(buf);
    }
    olm_onnx_free(dm);
    return s;
}
