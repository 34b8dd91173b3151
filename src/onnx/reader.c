/* reader.c — ONNX ModelProto decoding (see reader.h). Unknown fields are skipped,
 * so files from other producers (onnx, onnx_ir) read fine. */
#include "onnx/reader.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/fp16.h"
#include "common/untrusted.h"

#include <unistd.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    bool oom;      /* an allocation failed somewhere below */
    bool too_deep; /* a message nested deeper than OLM_PB_MAX_DEPTH (graph in node in graph ...) */
} ctx_t;

/* A nested message's reader; beyond OLM_PB_MAX_DEPTH it is bad (and the error says why). */
static olm_pb_reader sub(ctx_t *c, const olm_pb_field *f) {
    if (f->depth >= OLM_PB_MAX_DEPTH) c->too_deep = true;
    return olm_pb_sub(f);
}

static void *grow(void *p, int n, size_t elem) {
    /* append one zeroed element (arrays grow one by one; they are small) */
    void *q = realloc(p, elem * (size_t)(n + 1));
    if (q) memset((char *)q + elem * (size_t)n, 0, elem);
    return q;
}
#define PUSH(arr, n, ctx)                                   \
    (((void)((arr) = grow((arr), (n), sizeof *(arr)))), (arr) ? &(arr)[(n)++] : ((ctx)->oom = true, NULL))

static bool parse_graph(ctx_t *c, olm_pb_reader r, olm_onnx_graph *g);

static bool parse_tensor(ctx_t *c, olm_pb_reader r, olm_onnx_tensor *t) {
    olm_pb_field f;
    int64_t *dims = NULL;
    int nd = 0;
    bool ok = true;
    while (ok && olm_pb_next(&r, &f)) {
        switch (f.num) {
        case 1: ok = olm_pb_append_ints(&f, &dims, &nd); break;
        case 2: t->dtype = (int)f.v; break;
        case 8: free(t->name); t->name = olm_pb_strdup(&f); ok = t->name != NULL; break;
        case 4: case 5: case 7: case 9: case 10: case 11:
            if (f.wire == OLM_PB_LEN) {
                t->raw = f.data;
                t->raw_len = f.len;
                t->raw_field = f.num;
            }
            break;
        case 13: {
            olm_pb_reader e = sub(c, &f);
            olm_pb_field kf;
            char *k = NULL, *v = NULL;
            while (olm_pb_next(&e, &kf)) {
                if (kf.num == 1) { free(k); k = olm_pb_strdup(&kf); }
                if (kf.num == 2) { free(v); v = olm_pb_strdup(&kf); }
            }
            if (e.bad) ok = false;
            if (k && v) {
                if (!strcmp(k, "location")) { free(t->location); t->location = v; v = NULL; }
                else if (!strcmp(k, "offset")) ok = ok && olm_parse_u64(v, strlen(v), &t->offset);
                else if (!strcmp(k, "length")) ok = ok && olm_parse_u64(v, strlen(v), &t->length);
            }
            free(k);
            free(v);
            break;
        }
        case 14: t->external = f.v == 1; break;
        default: break;
        }
    }
    if (nd > OLM_ONNX_MAX_RANK) ok = false;
    t->rank = nd;
    for (int i = 0; i < nd && i < OLM_ONNX_MAX_RANK; i++) t->dims[i] = dims[i];
    free(dims);
    if (!t->name) t->name = strdup("");
    return ok && !r.bad && t->name;
}

static bool parse_attr(ctx_t *c, olm_pb_reader r, olm_onnx_attr *a) {
    olm_pb_field f;
    bool ok = true;
    while (ok && olm_pb_next(&r, &f)) {
        switch (f.num) {
        case 1: free(a->name); a->name = olm_pb_strdup(&f); ok = a->name != NULL; break;
        case 20: a->type = (int)f.v; break;
        case 2: a->f = olm_pb_as_float(&f); break;
        case 3: a->i = (int64_t)f.v; break;
        case 4: free(a->s); a->s = olm_pb_strdup(&f); ok = a->s != NULL; break;
        case 5:
            if (!a->t) a->t = calloc(1, sizeof *a->t);
            ok = a->t && parse_tensor(c, sub(c, &f), a->t);
            break;
        case 6:
            if (!a->g) a->g = calloc(1, sizeof *a->g);
            ok = a->g && parse_graph(c, sub(c, &f), a->g);
            break;
        case 7: ok = olm_pb_append_floats(&f, &a->floats, &a->n_floats); break;
        case 8: ok = olm_pb_append_ints(&f, &a->ints, &a->n_ints); break;
        default: break;
        }
    }
    if (!a->name) a->name = strdup("");
    return ok && !r.bad && a->name;
}

static bool parse_node(ctx_t *c, olm_pb_reader r, olm_onnx_node *n) {
    olm_pb_field f;
    bool ok = true;
    while (ok && olm_pb_next(&r, &f)) {
        char **s;
        switch (f.num) {
        case 1:
            s = PUSH(n->inputs, n->n_inputs, c);
            ok = s && (*s = olm_pb_strdup(&f));
            break;
        case 2:
            s = PUSH(n->outputs, n->n_outputs, c);
            ok = s && (*s = olm_pb_strdup(&f));
            break;
        case 3: free(n->name); n->name = olm_pb_strdup(&f); ok = n->name != NULL; break;
        case 4: free(n->op); n->op = olm_pb_strdup(&f); ok = n->op != NULL; break;
        case 7: free(n->domain); n->domain = olm_pb_strdup(&f); ok = n->domain != NULL; break;
        case 5: {
            olm_onnx_attr *a = PUSH(n->attrs, n->n_attrs, c);
            ok = a && parse_attr(c, sub(c, &f), a);
            break;
        }
        default: break;
        }
    }
    if (!n->name) n->name = strdup("");
    if (!n->op) n->op = strdup("");
    if (!n->domain) n->domain = strdup("");
    return ok && !r.bad && n->name && n->op && n->domain;
}

static bool parse_value(ctx_t *c, olm_pb_reader r, olm_onnx_value *v) {
    olm_pb_field f;
    bool ok = true;
    v->rank = -1;
    while (ok && olm_pb_next(&r, &f)) {
        if (f.num == 1) {
            free(v->name);
            v->name = olm_pb_strdup(&f);
            ok = v->name != NULL;
        } else if (f.num == 2) { /* TypeProto */
            olm_pb_reader tr = sub(c, &f);
            olm_pb_field tf;
            while (olm_pb_next(&tr, &tf)) {
                if (tf.num != 1) continue; /* tensor_type */
                olm_pb_reader tt = sub(c, &tf);
                olm_pb_field x;
                while (olm_pb_next(&tt, &x)) {
                    if (x.num == 1) v->elem_type = (int)x.v;
                    if (x.num != 2) continue;
                    v->rank = 0;
                    olm_pb_reader sr = sub(c, &x);
                    olm_pb_field d;
                    while (olm_pb_next(&sr, &d)) {
                        if (d.num != 1) continue;
                        if (v->rank >= OLM_ONNX_MAX_RANK) { ok = false; break; }
                        int k = v->rank++;
                        v->dims[k] = -1;
                        olm_pb_reader dr = sub(c, &d);
                        olm_pb_field y;
                        while (olm_pb_next(&dr, &y)) {
                            if (y.num == 1) v->dims[k] = (int64_t)y.v;
                            if (y.num == 2) { free(v->params[k]); v->params[k] = olm_pb_strdup(&y); }
                        }
                        if (dr.bad) ok = false;
                    }
                    if (sr.bad) ok = false;
                }
                if (tt.bad) ok = false;
            }
            if (tr.bad) ok = false;
        }
    }
    if (!v->name) v->name = strdup("");
    return ok && !r.bad && v->name;
}

static bool parse_graph(ctx_t *c, olm_pb_reader r, olm_onnx_graph *g) {
    olm_pb_field f;
    bool ok = true;
    while (ok && olm_pb_next(&r, &f)) {
        switch (f.num) {
        case 1: {
            olm_onnx_node *n = PUSH(g->nodes, g->n_nodes, c);
            ok = n && parse_node(c, sub(c, &f), n);
            break;
        }
        case 2: free(g->name); g->name = olm_pb_strdup(&f); ok = g->name != NULL; break;
        case 5: {
            olm_onnx_tensor *t = PUSH(g->inits, g->n_inits, c);
            ok = t && parse_tensor(c, sub(c, &f), t);
            break;
        }
        case 11: case 12: {
            olm_onnx_value *v = f.num == 11 ? PUSH(g->inputs, g->n_inputs, c) : PUSH(g->outputs, g->n_outputs, c);
            ok = v && parse_value(c, sub(c, &f), v);
            break;
        }
        default: break;
        }
    }
    if (!g->name) g->name = strdup("");
    return ok && !r.bad && g->name;
}

static void free_graph(olm_onnx_graph *g);

static void free_tensor(olm_onnx_tensor *t) {
    free(t->name);
    free(t->location);
}

static void free_graph(olm_onnx_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        olm_onnx_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_inputs; k++) free(n->inputs[k]);
        for (int k = 0; k < n->n_outputs; k++) free(n->outputs[k]);
        free(n->inputs);
        free(n->outputs);
        for (int k = 0; k < n->n_attrs; k++) {
            olm_onnx_attr *a = &n->attrs[k];
            free(a->name);
            free(a->s);
            free(a->ints);
            free(a->floats);
            if (a->t) free_tensor(a->t);
            free(a->t);
            if (a->g) free_graph(a->g);
            free(a->g);
        }
        free(n->attrs);
        free(n->name);
        free(n->op);
        free(n->domain);
    }
    free(g->nodes);
    for (int i = 0; i < g->n_inits; i++) free_tensor(&g->inits[i]);
    free(g->inits);
    for (int pass = 0; pass < 2; pass++) {
        olm_onnx_value *v = pass ? g->outputs : g->inputs;
        int n = pass ? g->n_outputs : g->n_inputs;
        for (int i = 0; i < n; i++) {
            free(v[i].name);
            for (int k = 0; k < OLM_ONNX_MAX_RANK; k++) free(v[i].params[k]);
        }
        free(v);
    }
    free(g->name);
}

void olm_onnx_free(olm_onnx_model *m) {
    if (!m) return;
    free_graph(&m->graph);
    for (int i = 0; i < m->n_opsets; i++) free(m->opsets[i].domain);
    free(m->opsets);
    free(m->producer_name);
    free(m->producer_version);
    free(m->buf);
    free(m->path);
    free(m->dir);
    free(m);
}

static onnxllm_status parse_model(olm_onnx_model *m, const char *path, olm_onnx_model **out, onnxllm_error *err);

onnxllm_status olm_onnx_load(const char *path, olm_onnx_model **out, onnxllm_error *err) {
    *out = NULL;
    olm_onnx_model *m = calloc(1, sizeof *m);
    if (!m) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        m->dir = strdup(path);
        m->path = olm_path_join(path, "model.onnx");
    } else {
        m->path = strdup(path);
        const char *slash = strrchr(path, '/');
        m->dir = slash ? strndup(path, (size_t)(slash - path + (slash == path))) : strdup(".");
    }
    if (!m->dir || !m->path) {
        olm_onnx_free(m);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    char *buf;
    onnxllm_status st = olm_read_file(m->path, &buf, &m->len, err);
    if (st) {
        olm_onnx_free(m);
        return st;
    }
    m->buf = (uint8_t *)buf;
    return parse_model(m, path, out, err);
}

onnxllm_status olm_onnx_load_buffer(uint8_t *buf, size_t len, const char *name, olm_onnx_model **out,
                                    onnxllm_error *err) {
    *out = NULL;
    olm_onnx_model *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(name)) || !(m->dir = strdup("."))) {
        olm_onnx_free(m);
        free(buf);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    m->buf = buf;
    m->len = len;
    return parse_model(m, name, out, err);
}

/* Decodes m->buf (owned by m); frees m on failure. */
static onnxllm_status parse_model(olm_onnx_model *m, const char *path, olm_onnx_model **out, onnxllm_error *err) {
    onnxllm_status st;
    ctx_t c = {false, false};
    olm_pb_reader r = olm_pb_reader_init(m->buf, m->len);
    olm_pb_field f;
    bool ok = true, have_graph = false;
    while (ok && olm_pb_next(&r, &f)) {
        switch (f.num) {
        case 1: m->ir_version = (int64_t)f.v; break;
        case 2: free(m->producer_name); m->producer_name = olm_pb_strdup(&f); break;
        case 3: free(m->producer_version); m->producer_version = olm_pb_strdup(&f); break;
        case 7: ok = parse_graph(&c, sub(&c, &f), &m->graph); have_graph = true; break;
        case 8: {
            olm_onnx_opset_r *o = PUSH(m->opsets, m->n_opsets, &c);
            if (!o) { ok = false; break; }
            olm_pb_reader orr = sub(&c, &f);
            olm_pb_field of;
            while (olm_pb_next(&orr, &of)) {
                if (of.num == 1) { free(o->domain); o->domain = olm_pb_strdup(&of); }
                if (of.num == 2) o->version = (int64_t)of.v;
            }
            if (orr.bad) ok = false;
            if (!o->domain) o->domain = strdup("");
            break;
        }
        default: break;
        }
    }
    if (c.oom) {
        olm_onnx_free(m);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    if (!ok || r.bad || !have_graph || m->ir_version <= 0) {
        st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: not an ONNX model (malformed protobuf%s)", m->path,
                      !have_graph && ok && !r.bad ? " or no graph"
                      : c.too_deep              ? ", or messages nested deeper than 64 levels"
                                                : "");
        olm_onnx_free(m);
        return st;
    }
    if (!m->producer_name) m->producer_name = strdup("");
    if (!m->producer_version) m->producer_version = strdup("");
    *out = m;
    return ONNXLLM_OK;
}

const olm_onnx_tensor *olm_onnx_find_init(const olm_onnx_model *m, const char *name) {
    for (int i = 0; i < m->graph.n_inits; i++)
        if (!strcmp(m->graph.inits[i].name, name)) return &m->graph.inits[i];
    return NULL;
}

const olm_onnx_node *olm_onnx_find_node(const olm_onnx_graph *g, const char *name) {
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].name, name)) return &g->nodes[i];
    return NULL;
}

const olm_onnx_attr *olm_onnx_node_attr(const olm_onnx_node *n, const char *name) {
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
    return NULL;
}

int64_t olm_onnx_tensor_numel(const olm_onnx_tensor *t) {
    int64_t n;
    return olm_dims_product(t->dims, t->rank, 0, &n) ? n : -1;
}

uint64_t olm_onnx_tensor_nbytes(const olm_onnx_tensor *t) {
    int64_t n = olm_onnx_tensor_numel(t);
    uint64_t b;
    if (n < 0 || !olm_mul_u64((uint64_t)n, olm_onnx_dtype_size(t->dtype), &b)) return UINT64_MAX;
    return b;
}

/* varint-packed typed fields (int32_data / int64_data) → little-endian elements */
static bool unpack_varints(const olm_onnx_tensor *t, uint8_t *dst, size_t want, size_t esz) {
    olm_pb_field f = {.num = t->raw_field, .wire = OLM_PB_LEN, .data = t->raw, .len = t->raw_len};
    int64_t *v = NULL;
    int n = 0;
    bool ok = olm_pb_append_ints(&f, &v, &n);
    ok = ok && (size_t)n * esz == want;
    for (int i = 0; ok && i < n; i++)
        for (size_t b = 0; b < esz; b++) dst[(size_t)i * esz + b] = (uint8_t)((uint64_t)v[i] >> (8 * b));
    free(v);
    return ok;
}

onnxllm_status olm_onnx_tensor_read_range(const olm_onnx_model *m, const olm_onnx_tensor *t, uint64_t off,
                                          size_t n, void *dst, onnxllm_error *err) {
    uint64_t need = olm_onnx_tensor_nbytes(t), end;
    if (olm_onnx_dtype_size(t->dtype) == 0)
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: tensor '%s': unsupported dtype %d", m->path, t->name, t->dtype);
    if (need == UINT64_MAX)
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: tensor '%s': negative or overflowing dimensions", m->path, t->name);
    if (off > need || n > need - off)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tensor '%s': bytes [%llu, +%zu) are outside its %llu bytes",
                        t->name, (unsigned long long)off, n, (unsigned long long)need);
    if (!t->external) {
        if (t->raw_field == 5 || t->raw_field == 7) { /* varint-packed: unpacked whole, then cut */
            uint8_t *all = malloc(need ? need : 1);
            if (!all) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
            bool ok = unpack_varints(t, all, need, olm_onnx_dtype_size(t->dtype));
            if (ok && n) memcpy(dst, all + off, n);
            free(all);
            return ok ? ONNXLLM_OK
                      : olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: tensor '%s': typed data does not match its shape",
                                 m->path, t->name);
        }
        if (t->raw_len != need)
            return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: tensor '%s': %zu data bytes, shape needs %llu", m->path,
                            t->name, t->raw_len, (unsigned long long)need);
        if (n) memcpy(dst, t->raw + off, n);
        return ONNXLLM_OK;
    }
    if (!olm_path_is_inside(t->location))
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: tensor '%s': bad external location '%s'", m->path, t->name,
                        t->location ? t->location : "");
    if (t->length && t->length != need)
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: tensor '%s': external length %llu, shape needs %llu", m->path,
                        t->name, (unsigned long long)t->length, (unsigned long long)need);
    char *p = olm_path_join(m->dir, t->location);
    if (!p) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    int fd = olm_open_regular(p, err);
    onnxllm_status st = fd < 0 ? (err ? err->status : ONNXLLM_ERR_IO) : ONNXLLM_OK;
    struct stat sb;
    if (!st && (fstat(fd, &sb) != 0 || !olm_add_u64(t->offset, need, &end) || end > (uint64_t)sb.st_size))
        st = olm_fail(err, ONNXLLM_ERR_IO, "%s: tensor '%s': %llu bytes at offset %llu are past the end of the file",
                      p, t->name, (unsigned long long)need, (unsigned long long)t->offset);
    for (size_t got = 0; !st && got < n;) {
        ssize_t r = pread(fd, (char *)dst + got, n - got, (off_t)(t->offset + off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) st = olm_fail(err, ONNXLLM_ERR_IO, "%s: tensor '%s': read failed", p, t->name);
        else got += (size_t)r;
    }
    if (fd >= 0) close(fd);
    free(p);
    return st;
}

onnxllm_status olm_onnx_tensor_read(const olm_onnx_model *m, const olm_onnx_tensor *t, void *dst, size_t dst_len,
                                    onnxllm_error *err) {
    uint64_t need = olm_onnx_tensor_nbytes(t);
    if (need != UINT64_MAX && dst_len < need)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tensor '%s': buffer of %zu bytes, need %llu", t->name,
                        dst_len, (unsigned long long)need);
    return olm_onnx_tensor_read_range(m, t, 0, need == UINT64_MAX ? 0 : (size_t)need, dst, err);
}

onnxllm_status olm_onnx_tensor_read_f32(const olm_onnx_model *m, const olm_onnx_tensor *t, float *dst, size_t n,
                                        onnxllm_error *err) {
    int64_t numel = olm_onnx_tensor_numel(t);
    if (numel < 0)
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: tensor '%s': negative or overflowing dimensions", m->path, t->name);
    if ((int64_t)n < numel)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "tensor '%s': room for %zu values, has %lld", t->name, n,
                        (long long)numel);
    if (t->dtype == OLM_ONNX_FLOAT) return olm_onnx_tensor_read(m, t, dst, n * sizeof(float), err);
    if (t->dtype != OLM_ONNX_FLOAT16 && t->dtype != OLM_ONNX_BFLOAT16)
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: tensor '%s' is %s, not a float tensor", m->path, t->name,
                        olm_onnx_dtype_name(t->dtype));
    /* 16-bit values are read into the upper half of dst, then widened front to back */
    uint16_t *h = (uint16_t *)(void *)(dst + numel) - numel;
    onnxllm_status st = olm_onnx_tensor_read(m, t, h, (size_t)numel * 2, err);
    if (st) return st;
    for (int64_t i = 0; i < numel; i++) {
        uint16_t v = h[i];
        dst[i] = t->dtype == OLM_ONNX_FLOAT16 ? olm_f16_to_f32(v) : olm_bf16_to_f32(v);
    }
    return ONNXLLM_OK;
}
