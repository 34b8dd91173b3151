/* graph_edit.c — slice lm_head's input to the last position (see graph_edit.h).
 *
 * Why in memory at load time: the published model.onnx stays untouched (the same
 * file genai runs), and the edit is small — one Slice node, three int64
 * initializers, one node input renamed and the logits shape patched — so it is
 * done on the protobuf bytes: ModelProto and GraphProto fields are copied
 * verbatim except the graph, the lm_head node and the ValueInfos of the values
 * whose shape changes. External weights are untouched references, so ORT still
 * memory-maps model.onnx.data.
 *
 * The edit (field numbers from onnx.proto):
 *   X ──Slice(starts=[-2], ends=[INT64_MAX], axes=[1])──▶ X/onnxllm_last ──▶ lm_head [─▶ Cast…] ─▶ logits
 * Two positions, not one: MLAS runs a 1-row int4 MatMulNBits through a GEMV kernel
 * whose accumulation order differs from the GEMM kernel that an S-row prompt uses
 * (measured on AVX2 without VNNI: the last row differs by ~1e-6), while rows of a
 * >= 2-row product are computed independently of how many rows there are. So a
 * prompt (S >= 2) keeps 2 rows — bit-identical last row to the unedited graph —
 * and a decode run (S = 1) keeps its 1 row, as before.
 * lm_head is the node producing `logits` (float32), walking back through Casts;
 * it must be MatMulNBits (com.microsoft) or MatMul with a rank-2
 * initializer weight, whose output feeds nothing but the chain to `logits`.
 * Anything else (Gemm, a softcap, a bias Add…) is left alone: no edit. */
#include "engine/graph_edit.h"
#include "common/error.h"
#include "onnx/pb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    MODEL_GRAPH = 7, MODEL_OPSET = 8,                                   /* ModelProto */
    OPSET_DOMAIN = 1, OPSET_VERSION = 2,                                /* OperatorSetIdProto */
    GRAPH_NODE = 1, GRAPH_INIT = 5, GRAPH_OUTPUT = 12, GRAPH_VALUE_INFO = 13, /* GraphProto */
    NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP = 4, NODE_DOMAIN = 7, /* NodeProto */
    VI_NAME = 1, VI_TYPE = 2,                                           /* ValueInfoProto */
    TYPE_TENSOR = 1, TENSOR_SHAPE = 2, SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2, /* TypeProto… */
    T_DIMS = 1, T_DTYPE = 2, T_NAME = 8, T_RAW = 9,                     /* TensorProto */
    ONNX_FLOAT = 1, ONNX_INT64 = 7,
    MAX_CHAIN = 4,
};

typedef struct {
    const uint8_t *p;
    size_t n;
} sv_t;

static bool sv_is(sv_t a, const char *s) { return a.n == strlen(s) && (!a.n || !memcmp(a.p, s, a.n)); }
static bool sv_eq(sv_t a, sv_t b) { return a.n == b.n && (!a.n || !memcmp(a.p, b.p, a.n)); }
static sv_t sv_of(const olm_pb_field *f) { return (sv_t){f->data, f->len}; }
static bool default_domain(sv_t d) { return d.n == 0 || sv_is(d, "ai.onnx"); }

typedef struct {
    sv_t op, domain, in[2];
    int n_in;
    bool produces; /* one of its outputs is the value asked about */
    int uses;      /* how many of its inputs are that value */
} node_t;

static bool parse_node(const olm_pb_field *nf, sv_t value, node_t *n) {
    memset(n, 0, sizeof *n);
    olm_pb_reader r = olm_pb_sub(nf);
    olm_pb_field f;
    while (olm_pb_next(&r, &f)) {
        if (f.wire != OLM_PB_LEN) continue;
        if (f.num == NODE_INPUT) {
            if (n->n_in < 2) n->in[n->n_in] = sv_of(&f);
            n->n_in++;
            n->uses += sv_eq(sv_of(&f), value);
        } else if (f.num == NODE_OUTPUT) {
            n->produces |= sv_eq(sv_of(&f), value);
        } else if (f.num == NODE_OP) {
            n->op = sv_of(&f);
        } else if (f.num == NODE_DOMAIN) {
            n->domain = sv_of(&f);
        }
    }
    return !r.bad;
}

/* The node producing value (its index among the graph's nodes, -1 if none) and
 * how many node inputs (over the whole graph) read value. false: bad bytes. */
static bool find_producer(sv_t graph, sv_t value, int *idx, node_t *prod, int *uses) {
    olm_pb_reader r = olm_pb_reader_init(graph.p, graph.n);
    olm_pb_field f;
    *idx = -1;
    *uses = 0;
    for (int k = 0; olm_pb_next(&r, &f);) {
        if (f.num != GRAPH_NODE || f.wire != OLM_PB_LEN) continue;
        node_t n;
        if (!parse_node(&f, value, &n)) return false;
        *uses += n.uses;
        if (n.produces && *idx < 0) {
            *idx = k;
            *prod = n;
        }
        k++;
    }
    return !r.bad;
}

static sv_t value_info_name(const olm_pb_field *vf) {
    olm_pb_reader r = olm_pb_sub(vf);
    olm_pb_field f;
    while (olm_pb_next(&r, &f))
        if (f.num == VI_NAME && f.wire == OLM_PB_LEN) return sv_of(&f);
    return (sv_t){NULL, 0};
}

static bool is_graph_output(sv_t graph, sv_t value) {
    olm_pb_reader r = olm_pb_reader_init(graph.p, graph.n);
    olm_pb_field f;
    while (olm_pb_next(&r, &f))
        if (f.num == GRAPH_OUTPUT && f.wire == OLM_PB_LEN && sv_eq(value_info_name(&f), value)) return true;
    return false;
}

/* elem_type of the graph output named value (0 when absent or not a tensor). */
static int64_t output_elem_type(sv_t graph, sv_t value) {
    olm_pb_reader r = olm_pb_reader_init(graph.p, graph.n);
    olm_pb_field f;
    while (olm_pb_next(&r, &f)) {
        if (f.num != GRAPH_OUTPUT || f.wire != OLM_PB_LEN || !sv_eq(value_info_name(&f), value)) continue;
        olm_pb_reader vi = olm_pb_sub(&f);
        olm_pb_field a, b, c;
        while (olm_pb_next(&vi, &a)) {
            if (a.num != VI_TYPE || a.wire != OLM_PB_LEN) continue;
            olm_pb_reader ty = olm_pb_sub(&a);
            while (olm_pb_next(&ty, &b)) {
                if (b.num != TYPE_TENSOR || b.wire != OLM_PB_LEN) continue;
                olm_pb_reader tt = olm_pb_sub(&b);
                while (olm_pb_next(&tt, &c))
                    if (c.num == 1 && c.wire == OLM_PB_VARINT) return (int64_t)c.v;
            }
        }
    }
    return 0;
}

/* Rank of the initializer named value; -1 when there is none. */
static int init_rank(sv_t graph, sv_t value) {
    olm_pb_reader r = olm_pb_reader_init(graph.p, graph.n);
    olm_pb_field f;
    while (olm_pb_next(&r, &f)) {
        if (f.num != GRAPH_INIT || f.wire != OLM_PB_LEN) continue;
        olm_pb_reader t = olm_pb_sub(&f);
        olm_pb_field tf;
        int rank = 0;
        bool match = false;
        while (olm_pb_next(&t, &tf)) {
            if (tf.num == T_NAME && tf.wire == OLM_PB_LEN) match = sv_eq(sv_of(&tf), value);
            if (tf.num == T_DIMS) {
                int64_t *d = NULL;
                int n = 0;
                if (olm_pb_append_ints(&tf, &d, &n)) rank += n;
                free(d);
            }
        }
        if (match) return rank;
    }
    return -1;
}

/* Default-domain opset version (0 when not imported). */
static int64_t default_opset(const uint8_t *model, size_t len) {
    olm_pb_reader r = olm_pb_reader_init(model, len);
    olm_pb_field f;
    while (olm_pb_next(&r, &f)) {
        if (f.num != MODEL_OPSET || f.wire != OLM_PB_LEN) continue;
        olm_pb_reader o = olm_pb_sub(&f);
        olm_pb_field of;
        sv_t dom = {NULL, 0};
        int64_t ver = 0;
        while (olm_pb_next(&o, &of)) {
            if (of.num == OPSET_DOMAIN && of.wire == OLM_PB_LEN) dom = sv_of(&of);
            if (of.num == OPSET_VERSION && of.wire == OLM_PB_VARINT) ver = (int64_t)of.v;
        }
        if (default_domain(dom)) return ver;
    }
    return 0;
}

/* ---- re-encoding ---- */

/* Copies message fields verbatim except field `num`, which patch() re-encodes. */
typedef void (*patch_fn)(olm_pb_buf *out, const olm_pb_field *f);

static void copy_patching(olm_pb_buf *out, const olm_pb_field *msg, int num, patch_fn patch) {
    olm_pb_reader r = olm_pb_sub(msg);
    olm_pb_field f;
    const uint8_t *start = r.p;
    while (olm_pb_next(&r, &f)) {
        if (f.num == num && f.wire == OLM_PB_LEN) patch(out, &f);
        else olm_pb_raw(out, start, (size_t)(r.p - start));
        start = r.p;
    }
}

/* TensorShapeProto: the second dim becomes the symbol "onnxllm_last_rows" (1 or 2). */
static void patch_shape(olm_pb_buf *out, const olm_pb_field *shape) {
    olm_pb_buf s = {0};
    olm_pb_reader r = olm_pb_sub(shape);
    olm_pb_field f;
    const uint8_t *start = r.p;
    for (int dim = 0; olm_pb_next(&r, &f); start = r.p) {
        if (f.num == SHAPE_DIM && f.wire == OLM_PB_LEN && dim++ == 1) {
            olm_pb_buf d = {0};
            olm_pb_str(&d, DIM_PARAM, "onnxllm_last_rows");
            olm_pb_msg(&s, SHAPE_DIM, &d);
            olm_pb_free(&d);
        } else {
            olm_pb_raw(&s, start, (size_t)(r.p - start));
        }
    }
    olm_pb_msg(out, TENSOR_SHAPE, &s);
    olm_pb_free(&s);
}

static void patch_tensor_type(olm_pb_buf *out, const olm_pb_field *tt) {
    olm_pb_buf s = {0};
    copy_patching(&s, tt, TENSOR_SHAPE, patch_shape);
    olm_pb_msg(out, TYPE_TENSOR, &s);
    olm_pb_free(&s);
}

static void patch_type(olm_pb_buf *out, const olm_pb_field *type) {
    olm_pb_buf s = {0};
    copy_patching(&s, type, TYPE_TENSOR, patch_tensor_type);
    olm_pb_msg(out, VI_TYPE, &s);
    olm_pb_free(&s);
}

/* ValueInfoProto (graph output / value_info) with dim 1 patched (patch_shape). */
static void patch_value_info(olm_pb_buf *out, int field, const olm_pb_field *vi) {
    olm_pb_buf s = {0};
    copy_patching(&s, vi, VI_TYPE, patch_type);
    olm_pb_msg(out, field, &s);
    olm_pb_free(&s);
}

/* NodeProto with its first input renamed. */
static void patch_node_input0(olm_pb_buf *out, const olm_pb_field *node, const char *x_last) {
    olm_pb_buf s = {0};
    olm_pb_reader r = olm_pb_sub(node);
    olm_pb_field f;
    const uint8_t *start = r.p;
    for (bool first = true; olm_pb_next(&r, &f); start = r.p) {
        if (f.num == NODE_INPUT && first) {
            olm_pb_str(&s, NODE_INPUT, x_last);
            first = false;
        } else {
            olm_pb_raw(&s, start, (size_t)(r.p - start));
        }
    }
    olm_pb_msg(out, GRAPH_NODE, &s);
    olm_pb_free(&s);
}

#define N_CONST 3
static const char *const const_names[N_CONST] = {"onnxllm_last_position/starts", "onnxllm_last_position/ends",
                                                 "onnxllm_last_position/axes"};
static const int64_t const_values[N_CONST] = {-2, INT64_MAX, 1};

static void slice_node(olm_pb_buf *out, const char *x, const char *x_last) {
    olm_pb_buf s = {0};
    olm_pb_str(&s, NODE_INPUT, x);
    for (int i = 0; i < N_CONST; i++) olm_pb_str(&s, NODE_INPUT, const_names[i]);
    olm_pb_str(&s, NODE_OUTPUT, x_last);
    olm_pb_str(&s, NODE_NAME, "onnxllm_last_position/Slice");
    olm_pb_str(&s, NODE_OP, "Slice");
    olm_pb_msg(out, GRAPH_NODE, &s);
    olm_pb_free(&s);
}

static void int64_init(olm_pb_buf *out, const char *name, int64_t v) {
    olm_pb_buf t = {0};
    uint8_t le[8];
    for (int i = 0; i < 8; i++) le[i] = (uint8_t)((uint64_t)v >> (8 * i));
    olm_pb_int(&t, T_DIMS, 1);
    olm_pb_int(&t, T_DTYPE, ONNX_INT64);
    olm_pb_str(&t, T_NAME, name);
    olm_pb_bytes(&t, T_RAW, le, 8);
    olm_pb_msg(out, GRAPH_INIT, &t);
    olm_pb_free(&t);
}

static bool in_chain(sv_t name, const sv_t *chain, int n) {
    for (int i = 0; i < n; i++)
        if (sv_eq(name, chain[i])) return true;
    return false;
}

#define SKIP(...)                                                                                       \
    do {                                                                                                \
        if (why && why_cap) snprintf(why, why_cap, __VA_ARGS__);                                        \
        return ONNXLLM_OK;                                                                              \
    } while (0)

onnxllm_status olm_graph_last_logits(const uint8_t *model, size_t len, const char *logits, uint8_t **out,
                                     size_t *out_len, char *why, size_t why_cap, onnxllm_error *err) {
    *out = NULL;
    *out_len = 0;
    if (why && why_cap) why[0] = 0;
    /* Locate the graph. */
    sv_t graph = {NULL, 0};
    olm_pb_reader r = olm_pb_reader_init(model, len);
    olm_pb_field f;
    while (olm_pb_next(&r, &f))
        if (f.num == MODEL_GRAPH && f.wire == OLM_PB_LEN && !graph.p) graph = sv_of(&f);
    if (r.bad || !graph.p) SKIP("not a parsable ONNX model");
    if (default_opset(model, len) < 10) SKIP("default opset below 10 (Slice with inputs)");

    /* Walk back from logits through Casts to the MatMul. */
    sv_t chain[MAX_CHAIN];
    int n_chain = 0, mm_idx = -1;
    sv_t value = {(const uint8_t *)logits, strlen(logits)}, x = {NULL, 0};
    /* fp32 only: ORT's CPU fp16 MatMulNBits rounds a 1-row product differently
     * from the same row of an S-row product (measured: 1-4 fp16 ulps), which would
     * break bit parity with genai; fp32 and int4-with-fp32-activations kernels
     * compute each row independently (tests/engine/test_lastpos.c). */
    if (output_elem_type(graph, value) != ONNX_FLOAT)
        SKIP("%s is not float32 (fp16 lm_head rows are not bit-identical between 1 and S rows)", logits);
    for (;;) {
        int idx, uses;
        node_t n = {0};
        if (!find_producer(graph, value, &idx, &n, &uses)) SKIP("not a parsable ONNX graph");
        if (idx < 0) SKIP("no node produces %.*s", (int)value.n, (const char *)value.p);
        if (n_chain == 0 ? uses != 0 : (uses != 1 || is_graph_output(graph, value)))
            SKIP("%.*s has other consumers", (int)value.n, (const char *)value.p);
        if (n_chain == MAX_CHAIN) SKIP("too many Casts before %s", logits);
        chain[n_chain++] = value;
        if (sv_is(n.op, "Cast") && default_domain(n.domain) && n.n_in == 1) {
            value = n.in[0];
            continue;
        }
        bool nbits = sv_is(n.op, "MatMulNBits") && sv_is(n.domain, "com.microsoft");
        bool matmul = sv_is(n.op, "MatMul") && default_domain(n.domain) && n.n_in == 2 &&
                      init_rank(graph, n.in[1]) == 2;
        if (!nbits && !matmul)
            SKIP("%s is produced by %.*s, not MatMul/MatMulNBits", logits, (int)n.op.n, (const char *)n.op.p);
        if (n.n_in < 1 || n.in[0].n == 0) SKIP("lm_head has no input");
        mm_idx = idx;
        x = n.in[0];
        break;
    }

    char *xs = malloc(x.n + 1), *x_last = malloc(x.n + sizeof "/onnxllm_last");
    if (!xs || !x_last) {
        free(xs);
        free(x_last);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    memcpy(xs, x.p, x.n);
    xs[x.n] = 0;
    snprintf(x_last, x.n + sizeof "/onnxllm_last", "%s/onnxllm_last", xs);

    /* Re-encode the graph (buffers sized up front: no realloc copies of ~50 MB). */
    olm_pb_buf g = {malloc(graph.n + 4096), 0, graph.n + 4096, false};
    olm_pb_buf m = {malloc(len + 4096), 0, len + 4096, false};
    if (!g.p || !m.p) {
        free(g.p);
        free(m.p);
        free(xs);
        free(x_last);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    olm_pb_reader gr = olm_pb_reader_init(graph.p, graph.n);
    const uint8_t *start = gr.p;
    for (int k = 0; olm_pb_next(&gr, &f); start = gr.p) {
        if (f.num == GRAPH_NODE && f.wire == OLM_PB_LEN) {
            if (k++ == mm_idx) {
                slice_node(&g, xs, x_last);
                patch_node_input0(&g, &f, x_last);
                continue;
            }
        } else if ((f.num == GRAPH_OUTPUT || f.num == GRAPH_VALUE_INFO) && f.wire == OLM_PB_LEN &&
                   in_chain(value_info_name(&f), chain, n_chain)) {
            patch_value_info(&g, f.num, &f);
            continue;
        }
        olm_pb_raw(&g, start, (size_t)(gr.p - start));
    }
    for (int i = 0; i < N_CONST; i++) int64_init(&g, const_names[i], const_values[i]);
    free(xs);
    free(x_last);

    /* Re-encode the model around it. */
    r = olm_pb_reader_init(model, len);
    start = r.p;
    for (bool done = false; olm_pb_next(&r, &f); start = r.p) {
        if (f.num == MODEL_GRAPH && f.wire == OLM_PB_LEN && !done) {
            olm_pb_msg(&m, MODEL_GRAPH, &g);
            done = true;
        } else {
            olm_pb_raw(&m, start, (size_t)(r.p - start));
        }
    }
    bool oom = g.oom || m.oom;
    olm_pb_free(&g);
    if (oom) {
        olm_pb_free(&m);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory editing the model graph");
    }
    *out = m.p;
    *out_len = m.len;
    return ONNXLLM_OK;
}

/* ---- the rotary table switch ---- */

/* The int64 scalar held by a TensorProto (int64_data or 8 bytes of raw_data). */
static bool tensor_i64(const olm_pb_field *tf, int64_t *v) {
    olm_pb_reader t = olm_pb_sub(tf);
    olm_pb_field f;
    bool found = false, is_i64 = false;
    while (olm_pb_next(&t, &f)) {
        if (f.num == T_DTYPE && f.wire == OLM_PB_VARINT) is_i64 = f.v == ONNX_INT64;
        if (f.num == 7 /* int64_data */) {
            int64_t *d = NULL;
            int n = 0;
            if (olm_pb_append_ints(&f, &d, &n) && n == 1) {
                *v = d[0];
                found = true;
            }
            free(d);
        }
        if (f.num == T_RAW && f.wire == OLM_PB_LEN && f.len == 8) {
            uint64_t u = 0;
            for (int i = 7; i >= 0; i--) u = u << 8 | f.data[i];
            *v = (int64_t)u;
            found = true;
        }
    }
    return found && is_i64 && !t.bad;
}

/* The int64 scalar named value: an initializer, or the output of a Constant node. */
static bool const_i64_value(sv_t graph, sv_t value, int64_t *v) {
    olm_pb_reader r = olm_pb_reader_init(graph.p, graph.n);
    olm_pb_field f;
    while (olm_pb_next(&r, &f)) {
        if (f.wire != OLM_PB_LEN) continue;
        if (f.num == GRAPH_INIT) {
            olm_pb_reader t = olm_pb_sub(&f);
            olm_pb_field tf;
            while (olm_pb_next(&t, &tf))
                if (tf.num == T_NAME && tf.wire == OLM_PB_LEN && sv_eq(sv_of(&tf), value)) return tensor_i64(&f, v);
        } else if (f.num == GRAPH_NODE) {
            node_t n;
            if (!parse_node(&f, value, &n) || !n.produces || !sv_is(n.op, "Constant")) continue;
            olm_pb_reader nr = olm_pb_sub(&f);
            olm_pb_field nf;
            while (olm_pb_next(&nr, &nf)) {
                if (nf.num != 5 /* attribute */ || nf.wire != OLM_PB_LEN) continue;
                olm_pb_reader ar = olm_pb_sub(&nf);
                olm_pb_field af;
                while (olm_pb_next(&ar, &af))
                    if (af.num == 5 /* AttributeProto.t */ && af.wire == OLM_PB_LEN) return tensor_i64(&af, v);
            }
            return false;
        }
    }
    return false;
}

int olm_graph_rope_switch(const uint8_t *model, size_t len, int64_t *width) {
    *width = 0;
    sv_t graph = {NULL, 0};
    olm_pb_reader r = olm_pb_reader_init(model, len);
    olm_pb_field f;
    while (olm_pb_next(&r, &f))
        if (f.num == MODEL_GRAPH && f.wire == OLM_PB_LEN && !graph.p) graph = sv_of(&f);
    if (r.bad || !graph.p) return -1;
    int found = 0;
    olm_pb_reader gr = olm_pb_reader_init(graph.p, graph.n);
    while (olm_pb_next(&gr, &f)) {
        if (f.num != GRAPH_NODE || f.wire != OLM_PB_LEN) continue;
        node_t n;
        if (!parse_node(&f, (sv_t){NULL, 0}, &n)) return -1;
        if (!sv_is(n.op, "If")) continue;
        /* cond = Greater(total_length, C) */
        int idx, uses;
        node_t g;
        int64_t c;
        if (found || n.n_in < 1 || !find_producer(graph, n.in[0], &idx, &g, &uses) || idx < 0 ||
            !sv_is(g.op, "Greater") || g.n_in != 2 || !const_i64_value(graph, g.in[1], &c) || c < 0)
            return -1;
        *width = c;
        found = 1;
    }
    return gr.bad ? -1 : found;
}
