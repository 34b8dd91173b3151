/* inspect.c — public onnxllm_inspect(): a model.onnx described for people (text) or
 * programs (JSON): graph inputs and outputs, every node (op, domain, inputs → outputs,
 * attributes, If-subgraphs) and every initializer (dtype, shape, bytes, where its data
 * lives). The JSON form has the shape of docs/reference/official-graphs/ *.graph.json. */
#include "onnx/reader.h"
#include "common/error.h"
#include "common/checked.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names from the file are untrusted text ---------------------------------------
 * JSON output must be valid UTF-8: invalid bytes become U+FFFD (cJSON escapes control
 * characters itself). Text output goes to terminals: control characters (C0, DEL, C1 —
 * ESC and CSI sequences included) and invalid bytes are written as \xNN. */
static size_t utf8_seq(const unsigned char *s) {
    unsigned c = s[0];
    size_t k = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    unsigned cp = k == 2 ? c & 0x1f : k == 3 ? c & 0x0f : c & 0x07;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return k;
}

static void clean_str(char **sp, bool text) {
    const unsigned char *s = (const unsigned char *)*sp;
    if (!s) return;
    size_t n = strlen((const char *)s);
    char *o = malloc(4 * n + 1), *q = o;
    if (!o) return;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(s + i);
        unsigned cp = k == 2 ? (unsigned)(s[i] & 0x1f) << 6 | (s[i + 1] & 0x3f) : s[i];
        bool ctl = k == 1 ? (s[i] < 0x20 || s[i] == 0x7f) : k == 2 && cp >= 0x80 && cp <= 0x9f;
        if (k && !(text && ctl)) {
            memcpy(q, s + i, k);
            q += k;
            i += k;
        } else if (!k && !text) {
            memcpy(q, "\xef\xbf\xbd", 3); /* U+FFFD */
            q += 3;
            i++;
        } else { /* text: \xNN for each byte of a control character or invalid sequence */
            size_t m = k ? k : 1;
            for (size_t j = 0; j < m; j++) q += sprintf(q, "\\x%02x", s[i + j]);
            i += m;
        }
    }
    *q = 0;
    free(*sp);
    *sp = o;
}

static void clean_tensor(olm_onnx_tensor *t, bool text) {
    clean_str(&t->name, text);
    clean_str(&t->location, text);
}

static void clean_graph(olm_onnx_graph *g, bool text) {
    clean_str(&g->name, text);
    for (int pass = 0; pass < 2; pass++) {
        olm_onnx_value *v = pass ? g->outputs : g->inputs;
        for (int i = 0; i < (pass ? g->n_outputs : g->n_inputs); i++) {
            clean_str(&v[i].name, text);
            for (int k = 0; k < OLM_ONNX_MAX_RANK; k++) clean_str(&v[i].params[k], text);
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        olm_onnx_node *n = &g->nodes[i];
        clean_str(&n->name, text);
        clean_str(&n->op, text);
        clean_str(&n->domain, text);
        for (int k = 0; k < n->n_inputs; k++) clean_str(&n->inputs[k], text);
        for (int k = 0; k < n->n_outputs; k++) clean_str(&n->outputs[k], text);
        for (int k = 0; k < n->n_attrs; k++) {
            olm_onnx_attr *a = &n->attrs[k];
            clean_str(&a->name, text);
            clean_str(&a->s, text);
            if (a->t) clean_tensor(a->t, text);
            if (a->g) clean_graph(a->g, text); /* nesting is bounded by the reader */
        }
    }
    for (int i = 0; i < g->n_inits; i++) clean_tensor(&g->inits[i], text);
}

static void print_shape(FILE *f, int rank, const int64_t *dims, char *const *params) {
    fprintf(f, "[");
    for (int i = 0; i < rank; i++) {
        if (i) fprintf(f, ", ");
        if (params && params[i])
            fprintf(f, "%s", params[i]);
        else
            fprintf(f, "%" PRId64, dims[i]);
    }
    fprintf(f, "]");
}

static void print_graph(FILE *f, const olm_onnx_graph *g, int indent);

static void print_attr(FILE *f, const olm_onnx_attr *a, int indent) {
    switch (a->type) {
    case OLM_ONNX_ATTR_INT: fprintf(f, "%s=%" PRId64, a->name, a->i); break;
    case OLM_ONNX_ATTR_FLOAT: fprintf(f, "%s=%.9g", a->name, (double)a->f); break;
    case OLM_ONNX_ATTR_STRING: fprintf(f, "%s=\"%s\"", a->name, a->s ? a->s : ""); break;
    case OLM_ONNX_ATTR_INTS:
        fprintf(f, "%s=[", a->name);
        for (int i = 0; i < a->n_ints; i++) fprintf(f, "%s%" PRId64, i ? ", " : "", a->ints[i]);
        fprintf(f, "]");
        break;
    case OLM_ONNX_ATTR_FLOATS:
        fprintf(f, "%s=[", a->name);
        for (int i = 0; i < a->n_floats; i++) fprintf(f, "%s%.9g", i ? ", " : "", (double)a->floats[i]);
        fprintf(f, "]");
        break;
    case OLM_ONNX_ATTR_TENSOR:
        fprintf(f, "%s=tensor(%s ", a->name, a->t ? olm_onnx_dtype_name(a->t->dtype) : "?");
        if (a->t) print_shape(f, a->t->rank, a->t->dims, NULL);
        fprintf(f, ")");
        break;
    case OLM_ONNX_ATTR_GRAPH:
        fprintf(f, "%s=graph '%s':\n", a->name, a->g && a->g->name ? a->g->name : "");
        if (a->g) print_graph(f, a->g, indent + 4);
        break;
    default: fprintf(f, "%s=(type %d)", a->name, a->type); break;
    }
}

static void print_values(FILE *f, const char *title, const olm_onnx_value *v, int n, int indent) {
    fprintf(f, "%*s%s (%d):\n", indent, "", title, n);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%*s  %-40s %-8s ", indent, "", v[i].name, olm_onnx_dtype_name(v[i].elem_type));
        if (v[i].rank >= 0) print_shape(f, v[i].rank, v[i].dims, v[i].params);
        fprintf(f, "\n");
    }
}

static void print_graph(FILE *f, const olm_onnx_graph *g, int indent) {
    if (g->n_inputs) print_values(f, "inputs", g->inputs, g->n_inputs, indent);
    print_values(f, "outputs", g->outputs, g->n_outputs, indent);
    fprintf(f, "%*snodes (%d):\n", indent, "", g->n_nodes);
    for (int i = 0; i < g->n_nodes; i++) {
        const olm_onnx_node *n = &g->nodes[i];
        fprintf(f, "%*s  %s  %s%s%s  (", indent, "", n->name, n->domain[0] ? n->domain : "", n->domain[0] ? "::" : "", n->op);
        for (int k = 0; k < n->n_inputs; k++) fprintf(f, "%s%s", k ? ", " : "", n->inputs[k][0] ? n->inputs[k] : "-");
        fprintf(f, ") -> (");
        for (int k = 0; k < n->n_outputs; k++) fprintf(f, "%s%s", k ? ", " : "", n->outputs[k][0] ? n->outputs[k] : "-");
        fprintf(f, ")");
        for (int k = 0; k < n->n_attrs; k++) {
            fprintf(f, k ? ", " : "  ");
            print_attr(f, &n->attrs[k], indent + 2);
        }
        fprintf(f, "\n");
    }
    if (g->n_inits) {
        uint64_t total = 0;
        int bad = 0;
        for (int i = 0; i < g->n_inits; i++) {
            uint64_t b = olm_onnx_tensor_nbytes(&g->inits[i]);
            if (b == UINT64_MAX || !olm_add_u64(total, b, &total)) bad++;
        }
        fprintf(f, "%*sinitializers (%d, %" PRIu64 " bytes%s):\n", indent, "", g->n_inits, total,
                bad ? ", without those of invalid size" : "");
        for (int i = 0; i < g->n_inits; i++) {
            const olm_onnx_tensor *t = &g->inits[i];
            fprintf(f, "%*s  %-56s %-8s ", indent, "", t->name, olm_onnx_dtype_name(t->dtype));
            print_shape(f, t->rank, t->dims, NULL);
            uint64_t b = olm_onnx_tensor_nbytes(t);
            if (b == UINT64_MAX) fprintf(f, "  invalid size (negative or overflowing dims)");
            else fprintf(f, "  %" PRIu64 " B", b);
            if (t->external)
                fprintf(f, "  @%s+%" PRIu64, t->location ? t->location : "?", t->offset);
            else
                fprintf(f, "  inline");
            fprintf(f, "\n");
        }
    }
}

/* ---- JSON ---- */
static cJSON *json_graph(const olm_onnx_graph *g);

static cJSON *json_dims(int rank, const int64_t *dims, char *const *params) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < rank; i++)
        cJSON_AddItemToArray(a, params && params[i] ? cJSON_CreateString(params[i]) : cJSON_CreateNumber((double)dims[i]));
    return a;
}

static cJSON *json_values(const olm_onnx_value *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", v[i].name);
        cJSON_AddNumberToObject(o, "elem_type", v[i].elem_type);
        cJSON_AddItemToObject(o, "dims", json_dims(v[i].rank < 0 ? 0 : v[i].rank, v[i].dims, v[i].params));
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *json_graph(const olm_onnx_graph *g) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", g->name);
    cJSON_AddItemToObject(o, "inputs", json_values(g->inputs, g->n_inputs));
    cJSON_AddItemToObject(o, "outputs", json_values(g->outputs, g->n_outputs));
    cJSON *nodes = cJSON_AddArrayToObject(o, "nodes");
    for (int i = 0; i < g->n_nodes; i++) {
        const olm_onnx_node *n = &g->nodes[i];
        cJSON *jn = cJSON_CreateObject();
        cJSON_AddStringToObject(jn, "name", n->name);
        cJSON_AddStringToObject(jn, "op", n->op);
        cJSON_AddStringToObject(jn, "domain", n->domain);
        cJSON *ins = cJSON_AddArrayToObject(jn, "inputs"), *outs = cJSON_AddArrayToObject(jn, "outputs");
        for (int k = 0; k < n->n_inputs; k++) cJSON_AddItemToArray(ins, cJSON_CreateString(n->inputs[k]));
        for (int k = 0; k < n->n_outputs; k++) cJSON_AddItemToArray(outs, cJSON_CreateString(n->outputs[k]));
        cJSON *attrs = cJSON_AddObjectToObject(jn, "attrs");
        for (int k = 0; k < n->n_attrs; k++) {
            const olm_onnx_attr *a = &n->attrs[k];
            cJSON *v = NULL;
            switch (a->type) {
            case OLM_ONNX_ATTR_INT: v = cJSON_CreateNumber((double)a->i); break;
            case OLM_ONNX_ATTR_FLOAT: v = cJSON_CreateNumber((double)a->f); break;
            case OLM_ONNX_ATTR_STRING: v = cJSON_CreateString(a->s ? a->s : ""); break;
            case OLM_ONNX_ATTR_INTS:
                v = cJSON_CreateArray();
                for (int j = 0; j < a->n_ints; j++) cJSON_AddItemToArray(v, cJSON_CreateNumber((double)a->ints[j]));
                break;
            case OLM_ONNX_ATTR_FLOATS:
                v = cJSON_CreateArray();
                for (int j = 0; j < a->n_floats; j++) cJSON_AddItemToArray(v, cJSON_CreateNumber((double)a->floats[j]));
                break;
            case OLM_ONNX_ATTR_TENSOR:
                v = cJSON_CreateObject();
                if (a->t) {
                    cJSON_AddItemToObject(v, "tensor_dims", json_dims(a->t->rank, a->t->dims, NULL));
                    cJSON_AddNumberToObject(v, "dtype", a->t->dtype);
                }
                break;
            case OLM_ONNX_ATTR_GRAPH: v = a->g ? json_graph(a->g) : cJSON_CreateNull(); break;
            default: v = cJSON_CreateNull(); break;
            }
            cJSON_AddItemToObject(attrs, a->name, v);
        }
        cJSON_AddItemToArray(nodes, jn);
    }
    cJSON *inits = cJSON_AddArrayToObject(o, "initializers");
    for (int i = 0; i < g->n_inits; i++) {
        const olm_onnx_tensor *t = &g->inits[i];
        cJSON *jt = cJSON_CreateObject();
        cJSON_AddStringToObject(jt, "name", t->name);
        cJSON_AddNumberToObject(jt, "dtype", t->dtype);
        cJSON_AddItemToObject(jt, "dims", json_dims(t->rank, t->dims, NULL));
        uint64_t b = olm_onnx_tensor_nbytes(t);
        if (b == UINT64_MAX) cJSON_AddNullToObject(jt, "bytes"); /* negative or overflowing dims */
        else cJSON_AddNumberToObject(jt, "bytes", (double)b);
        cJSON_AddBoolToObject(jt, "external", t->external);
        if (t->external) {
            cJSON_AddStringToObject(jt, "location", t->location ? t->location : "");
            cJSON_AddNumberToObject(jt, "offset", (double)t->offset);
            cJSON_AddNumberToObject(jt, "length", (double)t->length);
        }
        cJSON_AddItemToArray(inits, jt);
    }
    return o;
}

onnxllm_status onnxllm_inspect(const char *path, bool json, char **out, onnxllm_error *err) {
    *out = NULL;
    if (!path || !*path) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no model path given");
    olm_onnx_model *m = NULL;
    onnxllm_status st = olm_onnx_load(path, &m, err);
    if (st) return st;
    clean_graph(&m->graph, !json);
    clean_str(&m->producer_name, !json);
    clean_str(&m->producer_version, !json);
    for (int i = 0; i < m->n_opsets; i++) clean_str(&m->opsets[i].domain, !json);
    char *text = NULL;
    if (json) {
        cJSON *o = json_graph(&m->graph);
        cJSON_AddNumberToObject(o, "ir_version", (double)m->ir_version);
        cJSON_AddStringToObject(o, "producer_name", m->producer_name);
        cJSON_AddStringToObject(o, "producer_version", m->producer_version);
        cJSON *ops = cJSON_AddObjectToObject(o, "opsets");
        for (int i = 0; i < m->n_opsets; i++) cJSON_AddNumberToObject(ops, m->opsets[i].domain, (double)m->opsets[i].version);
        char *s = cJSON_Print(o);
        cJSON_Delete(o);
        size_t n = s ? strlen(s) : 0;
        if (s && (text = malloc(n + 2))) {
            memcpy(text, s, n);
            memcpy(text + n, "\n", 2);
        }
        cJSON_free(s);
    } else {
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (f) {
            fprintf(f, "%s: ir_version %" PRId64 ", producer %s %s, opsets", m->path, m->ir_version, m->producer_name,
                    m->producer_version);
            for (int i = 0; i < m->n_opsets; i++)
                fprintf(f, "%s %s %" PRId64, i ? "," : "", m->opsets[i].domain[0] ? m->opsets[i].domain : "ai.onnx",
                        m->opsets[i].version);
            fprintf(f, "\ngraph '%s'\n", m->graph.name);
            print_graph(f, &m->graph, 0);
            if (fclose(f)) {
                free(text);
                text = NULL;
            }
        }
    }
    olm_onnx_free(m);
    if (!text) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    *out = text;
    return ONNXLLM_OK;
}
