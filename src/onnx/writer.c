/* writer.c — ONNX ModelProto encoding (see writer.h). Field numbers are those of
 * onnx/onnx.proto (IR version 10). */
#include "onnx/writer.h"
#include "common/error.h"
#include "common/fileio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* onnx.proto field numbers */
enum { MODEL_IR = 1, MODEL_PRODUCER = 2, MODEL_PRODUCER_VERSION = 3, MODEL_GRAPH = 7, MODEL_OPSET = 8 };
enum { OPSET_DOMAIN = 1, OPSET_VERSION = 2 };
enum { GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INIT = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12 };
enum { NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP = 4, NODE_ATTR = 5, NODE_DOMAIN = 7 };
enum { ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_S = 4, ATTR_T = 5, ATTR_G = 6, ATTR_INTS = 8, ATTR_TYPE = 20 };
enum { TENSOR_DIMS = 1, TENSOR_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW = 9, TENSOR_EXT = 13, TENSOR_LOC = 14 };
enum { VI_NAME = 1, VI_TYPE = 2, TYPE_TENSOR = 1, TT_ELEM = 1, TT_SHAPE = 2, SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2 };

size_t olm_onnx_dtype_size(int dtype) {
    switch (dtype) {
    case OLM_ONNX_FLOAT: case OLM_ONNX_INT32: case OLM_ONNX_UINT32: return 4;
    case OLM_ONNX_UINT8: case OLM_ONNX_INT8: case OLM_ONNX_BOOL: return 1;
    case OLM_ONNX_UINT16: case OLM_ONNX_INT16: case OLM_ONNX_FLOAT16: case OLM_ONNX_BFLOAT16: return 2;
    case OLM_ONNX_INT64: case OLM_ONNX_DOUBLE: case OLM_ONNX_UINT64: return 8;
    default: return 0;
    }
}

const char *olm_onnx_dtype_name(int dtype) {
    switch (dtype) {
    case OLM_ONNX_FLOAT: return "float32";
    case OLM_ONNX_UINT8: return "uint8";
    case OLM_ONNX_INT8: return "int8";
    case OLM_ONNX_UINT16: return "uint16";
    case OLM_ONNX_INT16: return "int16";
    case OLM_ONNX_INT32: return "int32";
    case OLM_ONNX_INT64: return "int64";
    case OLM_ONNX_STRING: return "string";
    case OLM_ONNX_BOOL: return "bool";
    case OLM_ONNX_FLOAT16: return "float16";
    case OLM_ONNX_DOUBLE: return "float64";
    case OLM_ONNX_UINT32: return "uint32";
    case OLM_ONNX_UINT64: return "uint64";
    case OLM_ONNX_BFLOAT16: return "bfloat16";
    default: return "?";
    }
}

void olm_onnx_gb_init(olm_onnx_gb *g, const char *name) {
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
}

void olm_onnx_gb_free(olm_onnx_gb *g) {
    olm_pb_free(&g->nodes);
    olm_pb_free(&g->inits);
    olm_pb_free(&g->inputs);
    olm_pb_free(&g->outputs);
}

void olm_onnx_gb_value(olm_onnx_gb *g, bool output, const char *name, int elem_type, int rank, const int64_t *dims,
                       const char *const *params) {
    olm_pb_buf shape = {0}, tt = {0}, type = {0}, vi = {0};
    for (int i = 0; i < rank; i++) {
        olm_pb_buf dim = {0};
        if ((params && params[i]) || (dims && dims[i] < 0))
            olm_pb_str(&dim, DIM_PARAM, params && params[i] ? params[i] : "?");
        else
            olm_pb_int(&dim, DIM_VALUE, dims[i]);
        olm_pb_msg(&shape, SHAPE_DIM, &dim);
        olm_pb_free(&dim);
    }
    olm_pb_int(&tt, TT_ELEM, elem_type);
    olm_pb_msg(&tt, TT_SHAPE, &shape);
    olm_pb_msg(&type, TYPE_TENSOR, &tt);
    olm_pb_str(&vi, VI_NAME, name);
    olm_pb_msg(&vi, VI_TYPE, &type);
    olm_pb_msg(output ? &g->outputs : &g->inputs, output ? GRAPH_OUTPUT : GRAPH_INPUT, &vi);
    olm_pb_free(&shape);
    olm_pb_free(&tt);
    olm_pb_free(&type);
    olm_pb_free(&vi);
}

/* Each attribute is one NodeProto field 5 entry. */
static void attr_put(olm_pb_buf *a, olm_pb_buf *attr) {
    olm_pb_msg(a, NODE_ATTR, attr);
    olm_pb_free(attr);
}

void olm_onnx_attr_int(olm_pb_buf *a, const char *name, int64_t v) {
    olm_pb_buf x = {0};
    olm_pb_str(&x, ATTR_NAME, name);
    olm_pb_int(&x, ATTR_I, v);
    olm_pb_int(&x, ATTR_TYPE, OLM_ONNX_ATTR_INT);
    attr_put(a, &x);
}

void olm_onnx_attr_float(olm_pb_buf *a, const char *name, float v) {
    olm_pb_buf x = {0};
    olm_pb_str(&x, ATTR_NAME, name);
    olm_pb_float(&x, ATTR_F, v);
    olm_pb_int(&x, ATTR_TYPE, OLM_ONNX_ATTR_FLOAT);
    attr_put(a, &x);
}

void olm_onnx_attr_ints(olm_pb_buf *a, const char *name, const int64_t *v, int n) {
    olm_pb_buf x = {0};
    olm_pb_str(&x, ATTR_NAME, name);
    /* proto2 `repeated int64 ints = 8` is not declared packed: write one field per value */
    for (int i = 0; i < n; i++) olm_pb_int(&x, ATTR_INTS, v[i]);
    olm_pb_int(&x, ATTR_TYPE, OLM_ONNX_ATTR_INTS);
    attr_put(a, &x);
}

void olm_onnx_attr_string(olm_pb_buf *a, const char *name, const char *s) {
    olm_pb_buf x = {0};
    olm_pb_str(&x, ATTR_NAME, name);
    olm_pb_str(&x, ATTR_S, s);
    olm_pb_int(&x, ATTR_TYPE, OLM_ONNX_ATTR_STRING);
    attr_put(a, &x);
}

static void tensor_header(olm_pb_buf *t, const char *name, int dtype, int rank, const int64_t *dims) {
    for (int i = 0; i < rank; i++) olm_pb_int(t, TENSOR_DIMS, dims[i]);
    olm_pb_int(t, TENSOR_TYPE, dtype);
    if (name && *name) olm_pb_str(t, TENSOR_NAME, name);
}

void olm_onnx_attr_tensor(olm_pb_buf *a, const char *name, int dtype, int rank, const int64_t *dims, const void *data,
                          size_t nbytes) {
    olm_pb_buf t = {0}, x = {0};
    tensor_header(&t, NULL, dtype, rank, dims);
    olm_pb_bytes(&t, TENSOR_RAW, data, nbytes);
    olm_pb_str(&x, ATTR_NAME, name);
    olm_pb_msg(&x, ATTR_T, &t);
    olm_pb_free(&t);
    olm_pb_int(&x, ATTR_TYPE, OLM_ONNX_ATTR_TENSOR);
    attr_put(a, &x);
}

static void graph_encode(olm_pb_buf *out, const olm_onnx_gb *g) {
    /* node, name, initializer, input, output — field order as onnx writes it */
    olm_pb_raw(out, g->nodes.p, g->nodes.len);
    olm_pb_str(out, GRAPH_NAME, g->name);
    olm_pb_raw(out, g->inits.p, g->inits.len);
    olm_pb_raw(out, g->inputs.p, g->inputs.len);
    olm_pb_raw(out, g->outputs.p, g->outputs.len);
    if (g->nodes.oom || g->inits.oom || g->inputs.oom || g->outputs.oom) out->oom = true;
}

void olm_onnx_attr_graph(olm_pb_buf *a, const char *name, const olm_onnx_gb *sub) {
    olm_pb_buf gb = {0}, x = {0};
    graph_encode(&gb, sub);
    olm_pb_str(&x, ATTR_NAME, name);
    olm_pb_msg(&x, ATTR_G, &gb);
    olm_pb_free(&gb);
    olm_pb_int(&x, ATTR_TYPE, OLM_ONNX_ATTR_GRAPH);
    attr_put(a, &x);
}

void olm_onnx_gb_node(olm_onnx_gb *g, const char *name, const char *op, const char *domain, const char *const *inputs,
                      int n_in, const char *const *outputs, int n_out, olm_pb_buf *attrs) {
    olm_pb_buf n = {0};
    for (int i = 0; i < n_in; i++) olm_pb_str(&n, NODE_INPUT, inputs[i]);
    for (int i = 0; i < n_out; i++) olm_pb_str(&n, NODE_OUTPUT, outputs[i]);
    olm_pb_str(&n, NODE_NAME, name);
    olm_pb_str(&n, NODE_OP, op);
    if (attrs) {
        olm_pb_raw(&n, attrs->p, attrs->len);
        if (attrs->oom) n.oom = true;
        olm_pb_free(attrs);
    }
    if (domain && *domain) olm_pb_str(&n, NODE_DOMAIN, domain);
    olm_pb_msg(&g->nodes, GRAPH_NODE, &n);
    olm_pb_free(&n);
}

void olm_onnx_gb_init_inline(olm_onnx_gb *g, const char *name, int dtype, int rank, const int64_t *dims,
                             const void *data, size_t nbytes) {
    olm_pb_buf t = {0};
    tensor_header(&t, name, dtype, rank, dims);
    olm_pb_bytes(&t, TENSOR_RAW, data, nbytes);
    olm_pb_msg(&g->inits, GRAPH_INIT, &t);
    olm_pb_free(&t);
}

static void kv(olm_pb_buf *t, const char *k, const char *v) {
    olm_pb_buf e = {0};
    olm_pb_str(&e, 1, k);
    olm_pb_str(&e, 2, v);
    olm_pb_msg(t, TENSOR_EXT, &e);
    olm_pb_free(&e);
}

void olm_onnx_gb_init_external(olm_onnx_gb *g, const char *name, int dtype, int rank, const int64_t *dims,
                               const char *location, uint64_t offset, uint64_t length) {
    olm_pb_buf t = {0};
    char num[32];
    tensor_header(&t, name, dtype, rank, dims);
    kv(&t, "location", location);
    snprintf(num, sizeof num, "%llu", (unsigned long long)offset);
    kv(&t, "offset", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)length);
    kv(&t, "length", num);
    olm_pb_int(&t, TENSOR_LOC, 1); /* EXTERNAL */
    olm_pb_msg(&g->inits, GRAPH_INIT, &t);
    olm_pb_free(&t);
}

/* ---- external data ---- */
onnxllm_status olm_onnx_data_open(olm_onnx_data *d, const char *dir, const char *location, onnxllm_error *err) {
    memset(d, 0, sizeof *d);
    snprintf(d->location, sizeof d->location, "%s", location);
    d->path = olm_path_join(dir, location);
    if (!d->path) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    d->f = fopen(d->path, "wb");
    if (!d->f) {
        onnxllm_status st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot create: %s", d->path, strerror(errno));
        free(d->path);
        d->path = NULL;
        return st;
    }
    setvbuf(d->f, NULL, _IOFBF, 1 << 20);
    return ONNXLLM_OK;
}

onnxllm_status olm_onnx_data_write(olm_onnx_data *d, const void *p, size_t n, onnxllm_error *err) {
    if (n && fwrite(p, 1, n, d->f) != n)
        return olm_fail(err, ONNXLLM_ERR_IO, "%s: write failed: %s", d->path, strerror(errno));
    d->off += n;
    return ONNXLLM_OK;
}

onnxllm_status olm_onnx_data_begin(olm_onnx_data *d, uint64_t *offset, onnxllm_error *err) {
    static const uint8_t zeros[OLM_ONNX_DATA_ALIGN];
    size_t pad = (size_t)((OLM_ONNX_DATA_ALIGN - d->off % OLM_ONNX_DATA_ALIGN) % OLM_ONNX_DATA_ALIGN);
    onnxllm_status st = olm_onnx_data_write(d, zeros, pad, err);
    *offset = d->off;
    return st;
}

void olm_onnx_data_finish(olm_onnx_data *d, olm_onnx_gb *g, const char *name, int dtype, int rank,
                          const int64_t *dims, uint64_t offset) {
    olm_onnx_gb_init_external(g, name, dtype, rank, dims, d->location, offset, d->off - offset);
}

onnxllm_status olm_onnx_add_external(olm_onnx_gb *g, olm_onnx_data *d, const char *name, int dtype, int rank,
                                     const int64_t *dims, const void *data, size_t nbytes, onnxllm_error *err) {
    uint64_t off;
    onnxllm_status st = olm_onnx_data_begin(d, &off, err);
    if (!st) st = olm_onnx_data_write(d, data, nbytes, err);
    if (!st) olm_onnx_data_finish(d, g, name, dtype, rank, dims, off);
    return st;
}

onnxllm_status olm_onnx_data_close(olm_onnx_data *d, onnxllm_error *err) {
    onnxllm_status st = ONNXLLM_OK;
    if (d->f) {
        if (fclose(d->f) != 0) st = olm_fail(err, ONNXLLM_ERR_IO, "%s: write failed: %s", d->path, strerror(errno));
        d->f = NULL;
    }
    free(d->path);
    d->path = NULL;
    return st;
}

onnxllm_status olm_onnx_save(const char *path, const olm_onnx_gb *g, int64_t ir_version, const olm_onnx_opset *opsets,
                             int n_opsets, const char *producer, const char *producer_version, onnxllm_error *err) {
    olm_pb_buf head = {0}, gb = {0};
    olm_pb_int(&head, MODEL_IR, ir_version);
    olm_pb_str(&head, MODEL_PRODUCER, producer);
    olm_pb_str(&head, MODEL_PRODUCER_VERSION, producer_version);
    for (int i = 0; i < n_opsets; i++) {
        olm_pb_buf o = {0};
        olm_pb_str(&o, OPSET_DOMAIN, opsets[i].domain);
        olm_pb_int(&o, OPSET_VERSION, opsets[i].version);
        olm_pb_msg(&head, MODEL_OPSET, &o);
        olm_pb_free(&o);
    }
    graph_encode(&gb, g);
    /* the graph is written straight after its tag + length: no copy of the (rope-
     * cache heavy) graph bytes into a model-sized buffer */
    olm_pb_tag(&head, MODEL_GRAPH, OLM_PB_LEN);
    olm_pb_varint(&head, gb.len);
    onnxllm_status st = ONNXLLM_OK;
    if (head.oom || gb.oom) {
        st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory encoding the model", path);
    } else {
        FILE *f = fopen(path, "wb");
        if (!f) {
            st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        } else {
            bool ok = fwrite(head.p, 1, head.len, f) == head.len;
            ok = ok && (gb.len == 0 || fwrite(gb.p, 1, gb.len, f) == gb.len);
            if (fclose(f) != 0) ok = false;
            if (!ok) st = olm_fail(err, ONNXLLM_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        }
    }
    olm_pb_free(&head);
    olm_pb_free(&gb);
    return st;
}
