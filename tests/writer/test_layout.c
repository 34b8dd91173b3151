/* test_layout.c — our graphs against the real builder's (fixtures/, copied from
 * docs/reference/official-graphs): for the builder's phi4tiny (GQA 4/2, partial
 * rotary, LongRoPE at 64, tied; int4 cpu and cuda) and phi3tiny (MHA, full rotary,
 * untied; fp32) configs, every node (name, op, domain, inputs, outputs, attributes,
 * If-branch constants), every initializer (name, dtype, shape) and the graph I/O
 * must be the same, and genai_config.json must hold the same fields and values.
 * Known, intended differences: lm_head reads the final norm (the phi4tiny fixture
 * has the builder's vocab-width quirk), the KV head dimension is written as a
 * number rather than the symbol "kv_cache_dim", and GroupQueryAttention gets 9
 * inputs (the builder pads 3 empty optional ones). */
#include "test.h"
#include "onnx/reader.h"
#include "writer/genai_config.h"
#include "writer/phi3.h"
#include "common/fileio.h"

#include <math.h>
#include <unistd.h>

#ifndef FIXTURES
#define FIXTURES "fixtures"
#endif

static char tmp_root[64];

static void phi4tiny(olm_phi3_config *c) {
    memset(c, 0, sizeof *c);
    c->hidden_size = 256;
    c->intermediate_size = 512;
    c->num_hidden_layers = 2;
    c->num_attention_heads = 4;
    c->num_key_value_heads = 2;
    c->head_dim = 64;
    c->vocab_size = 512;
    c->rms_norm_eps = 1e-5f;
    c->rope_theta = 10000.0f;
    c->partial_rotary_factor = 0.75f;
    c->max_position_embeddings = 256;
    c->original_max_position_embeddings = 64;
    c->longrope = true;
    c->n_rope_factors = 24;
    for (int i = 0; i < 24; i++) {
        c->short_factor[i] = 1.0f;
        c->long_factor[i] = (float)(1.0 + 0.37 * i);
    }
    c->tie_word_embeddings = true;
    c->bos_token_id = 1;
    c->n_eos = 1;
    c->eos_token_id[0] = 2;
    c->pad_token_id = 0;
    c->context_length = 256;
}

static void phi3tiny(olm_phi3_config *c) {
    phi4tiny(c);
    c->intermediate_size = 640;
    c->num_hidden_layers = 3;
    c->num_key_value_heads = 4;
    c->partial_rotary_factor = 1.0f;
    c->original_max_position_embeddings = 256;
    c->longrope = false;
    c->n_rope_factors = 0;
    c->tie_word_embeddings = false;
}

static int mismatches;
#define DIFF(...)                          \
    do {                                   \
        if (mismatches++ < 12) {           \
            printf("  ");                  \
            printf(__VA_ARGS__);           \
            printf("\n");                  \
        }                                  \
    } while (0)

static bool dims_equal(const cJSON *jd, int rank, const int64_t *dims, char *const *params, int kv_dim) {
    if (cJSON_GetArraySize(jd) != rank) return false;
    for (int i = 0; i < rank; i++) {
        const cJSON *d = cJSON_GetArrayItem(jd, i);
        if (cJSON_IsNumber(d)) {
            if ((params && params[i]) || (int64_t)d->valuedouble != dims[i]) return false;
        } else if (!strcmp(d->valuestring, "kv_cache_dim")) {
            if ((params && params[i]) || dims[i] != kv_dim) return false;
        } else if (!params || !params[i] || strcmp(params[i], d->valuestring)) {
            return false;
        }
    }
    return true;
}

static void compare_values(const cJSON *jv, const olm_onnx_value *v, int n, const char *what, int kv_dim) {
    if (cJSON_GetArraySize(jv) != n) DIFF("%s: %d in fixture, %d here", what, cJSON_GetArraySize(jv), n);
    const cJSON *e;
    cJSON_ArrayForEach(e, jv) {
        const char *name = cJSON_GetObjectItem(e, "name")->valuestring;
        int k = 0;
        while (k < n && strcmp(v[k].name, name)) k++;
        if (k == n) {
            DIFF("%s '%s' missing", what, name);
            continue;
        }
        if (cJSON_GetObjectItem(e, "elem_type")->valueint != v[k].elem_type) DIFF("%s '%s': elem_type", what, name);
        if (!dims_equal(cJSON_GetObjectItem(e, "dims"), v[k].rank, v[k].dims, v[k].params, kv_dim))
            DIFF("%s '%s': dims", what, name);
    }
}

static int n_nonempty_tail(char **s, int n) { /* count without trailing "" */
    while (n > 0 && !s[n - 1][0]) n--;
    return n;
}

static void compare_strings(const cJSON *js, char **s, int n, const char *node, const char *what) {
    int jn = cJSON_GetArraySize(js);
    while (jn > 0 && !cJSON_GetArrayItem(js, jn - 1)->valuestring[0]) jn--;
    int m = n_nonempty_tail(s, n);
    if (jn != m) {
        DIFF("%s: %d %s in fixture, %d here", node, jn, what, m);
        return;
    }
    for (int i = 0; i < m; i++)
        if (strcmp(cJSON_GetArrayItem(js, i)->valuestring, s[i]))
            DIFF("%s: %s[%d] '%s' vs '%s'", node, what, i, cJSON_GetArrayItem(js, i)->valuestring, s[i]);
}

static void compare_branch(const cJSON *jb, const olm_onnx_graph *g, const char *node) {
    if (strcmp(cJSON_GetObjectItem(jb, "graph")->valuestring, g->name)) DIFF("%s: branch name %s", node, g->name);
    const cJSON *jn = cJSON_GetObjectItem(jb, "nodes");
    if (cJSON_GetArraySize(jn) != g->n_nodes) {
        DIFF("%s: branch node count", node);
        return;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const cJSON *x = cJSON_GetArrayItem(jn, i);
        const olm_onnx_node *n = &g->nodes[i];
        compare_strings(cJSON_GetObjectItem(x, "outputs"), n->outputs, n->n_outputs, node, "branch outputs");
        const olm_onnx_attr *v = olm_onnx_node_attr(n, "value");
        const cJSON *td = cJSON_GetArrayItem(cJSON_GetObjectItem(x, "tensor_dims"), 0);
        if (strcmp(cJSON_GetObjectItem(x, "op")->valuestring, n->op) || !v || !v->t ||
            !dims_equal(td, v->t->rank, v->t->dims, NULL, 0))
            DIFF("%s: branch node %d (%s)", node, i, n->op);
    }
}

static void compare_attrs(const cJSON *ja, const olm_onnx_node *n) {
    if (cJSON_GetArraySize(ja) != n->n_attrs) DIFF("%s: %d attrs in fixture, %d here", n->name, cJSON_GetArraySize(ja), n->n_attrs);
    const cJSON *a;
    cJSON_ArrayForEach(a, ja) {
        const olm_onnx_attr *x = olm_onnx_node_attr(n, a->string);
        if (!x) {
            DIFF("%s: attribute %s missing", n->name, a->string);
            continue;
        }
        if (cJSON_IsNumber(a)) {
            double v = x->type == OLM_ONNX_ATTR_FLOAT ? (double)x->f : (double)x->i;
            if (fabs(v - a->valuedouble) > 1e-7 * fabs(a->valuedouble))
                DIFF("%s: %s = %.9g, fixture %.9g", n->name, a->string, v, a->valuedouble);
        } else if (cJSON_IsArray(a)) {
            if (cJSON_GetArraySize(a) != x->n_ints) DIFF("%s: %s length", n->name, a->string);
            for (int i = 0; i < x->n_ints && i < cJSON_GetArraySize(a); i++)
                if (x->ints[i] != (int64_t)cJSON_GetArrayItem(a, i)->valuedouble) DIFF("%s: %s[%d]", n->name, a->string, i);
        } else if (cJSON_GetObjectItem(a, "graph")) {
            if (x->type != OLM_ONNX_ATTR_GRAPH) DIFF("%s: %s not a graph", n->name, a->string);
            else compare_branch(a, x->g, n->name);
        } else if (cJSON_GetObjectItem(a, "tensor_dims")) {
            if (x->type != OLM_ONNX_ATTR_TENSOR || x->t->dtype != cJSON_GetObjectItem(a, "dtype")->valueint ||
                !dims_equal(cJSON_GetObjectItem(a, "tensor_dims"), x->t->rank, x->t->dims, NULL, 0))
                DIFF("%s: tensor attribute %s", n->name, a->string);
        }
    }
}

static void compare_model(const char *fixture, const olm_phi3_config *c, const olm_build_options *o) {
    char dir[128], path[256];
    static int k;
    snprintf(dir, sizeof dir, "%s/l%d", tmp_root, k++);
    olm_random_weights rw = {1, 0.05f};
    olm_weight_source w = olm_random_weight_source(&rw);
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_phi3_write(c, &w, o, dir, &e), ONNXLLM_OK);
    snprintf(path, sizeof path, "%s/%s.graph.json", FIXTURES, fixture);
    cJSON *j = NULL;
    CHECK_EQ_INT(olm_load_json_file(path, &j, &e), ONNXLLM_OK);
    olm_onnx_model *m = NULL;
    CHECK_EQ_INT(olm_onnx_load(dir, &m, &e), ONNXLLM_OK);
    if (!j || !m) {
        cJSON_Delete(j);
        olm_onnx_free(m);
        return;
    }
    mismatches = 0;
    const olm_onnx_graph *g = &m->graph;
    CHECK_EQ_INT(m->ir_version, cJSON_GetObjectItem(j, "ir_version")->valueint);
    const cJSON *ops = cJSON_GetObjectItem(j, "opsets"), *op;
    CHECK_EQ_INT(m->n_opsets, cJSON_GetArraySize(ops));
    cJSON_ArrayForEach(op, ops) {
        bool found = false;
        for (int i = 0; i < m->n_opsets; i++)
            found |= !strcmp(m->opsets[i].domain, op->string) && m->opsets[i].version == op->valueint;
        CHECK(found);
    }
    int D = olm_phi3_head_dim(c);
    compare_values(cJSON_GetObjectItem(j, "inputs"), g->inputs, g->n_inputs, "input", D);
    compare_values(cJSON_GetObjectItem(j, "outputs"), g->outputs, g->n_outputs, "output", D);
    const cJSON *jn = cJSON_GetObjectItem(j, "nodes"), *x;
    if (cJSON_GetArraySize(jn) != g->n_nodes) DIFF("%d nodes in fixture, %d here", cJSON_GetArraySize(jn), g->n_nodes);
    char final_norm[128];
    snprintf(final_norm, sizeof final_norm, "/model/layers.%d/final_norm_layernorm/output_0", c->num_hidden_layers);
    cJSON_ArrayForEach(x, jn) {
        const char *name = cJSON_GetObjectItem(x, "name")->valuestring;
        const olm_onnx_node *n = olm_onnx_find_node(g, name);
        if (!n) {
            DIFF("node %s missing", name);
            continue;
        }
        if (strcmp(n->op, cJSON_GetObjectItem(x, "op")->valuestring) ||
            strcmp(n->domain, cJSON_GetObjectItem(x, "domain")->valuestring))
            DIFF("%s: op %s::%s", name, n->domain, n->op);
        cJSON *ins = cJSON_GetObjectItem(x, "inputs");
        if (!strncmp(name, "/lm_head/", 9)) { /* the one intended difference */
            CHECK_EQ_STR(n->inputs[0], final_norm);
            cJSON_ReplaceItemInArray(ins, 0, cJSON_CreateString(final_norm));
        }
        compare_strings(ins, n->inputs, n->n_inputs, name, "inputs");
        compare_strings(cJSON_GetObjectItem(x, "outputs"), n->outputs, n->n_outputs, name, "outputs");
        compare_attrs(cJSON_GetObjectItem(x, "attrs"), n);
    }
    const cJSON *ji = cJSON_GetObjectItem(j, "initializers");
    if (cJSON_GetArraySize(ji) != g->n_inits) DIFF("%d initializers in fixture, %d here", cJSON_GetArraySize(ji), g->n_inits);
    cJSON_ArrayForEach(x, ji) {
        const char *name = cJSON_GetObjectItem(x, "name")->valuestring;
        const olm_onnx_tensor *t = olm_onnx_find_init(m, name);
        if (!t)
            DIFF("initializer %s missing", name);
        else if (t->dtype != cJSON_GetObjectItem(x, "dtype")->valueint || !t->external ||
                 !dims_equal(cJSON_GetObjectItem(x, "dims"), t->rank, t->dims, NULL, 0))
            DIFF("initializer %s: dtype/dims/location", name);
    }
    printf("  %s: %d differences\n", fixture, mismatches);
    CHECK_EQ_INT(mismatches, 0);
    cJSON_Delete(j);
    olm_onnx_free(m);
}

TEST(phi4tiny_int4_cpu_matches_builder) {
    olm_phi3_config c;
    phi4tiny(&c);
    olm_build_options o = {.precision = OLM_PRECISION_INT4, .ep = OLM_EP_CPU};
    compare_model("phi4tiny-bh-int4-cpu", &c, &o);
}

TEST(phi4tiny_int4_cuda_matches_builder) {
    olm_phi3_config c;
    phi4tiny(&c);
    olm_build_options o = {.precision = OLM_PRECISION_INT4, .ep = OLM_EP_CUDA};
    compare_model("phi4tiny-bh-int4-cuda", &c, &o);
}

TEST(phi3tiny_fp32_cpu_matches_builder) {
    olm_phi3_config c;
    phi3tiny(&c);
    olm_build_options o = {.precision = OLM_PRECISION_FP32, .ep = OLM_EP_CPU};
    compare_model("phi3tiny-bh-fp32-cpu", &c, &o);
}

static void compare_genai(const char *fixture, olm_target_ep ep) {
    olm_phi3_config c;
    phi4tiny(&c);
    olm_build_options o = {.precision = OLM_PRECISION_INT4, .ep = ep};
    char *text = olm_genai_config_json(&c, &o), path[256];
    snprintf(path, sizeof path, "%s/%s.genai_config.json", FIXTURES, fixture);
    cJSON *ours = NULL, *theirs = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_json_parse(text, strlen(text), "ours", &ours, &e), ONNXLLM_OK);
    CHECK_EQ_INT(olm_load_json_file(path, &theirs, &e), ONNXLLM_OK);
    /* same fields and values (cJSON_Compare ignores key order and number spelling) */
    CHECK(cJSON_Compare(ours, theirs, true));
    /* and the same text up to Python's one-element-per-line arrays */
    char *raw;
    size_t len;
    CHECK_EQ_INT(olm_read_file(path, &raw, &len, &e), ONNXLLM_OK);
    CHECK(strstr(text, "\"temperature\": 1.0,") && strstr(raw, "\"temperature\": 1.0,"));
    free(raw);
    free(text);
    cJSON_Delete(ours);
    cJSON_Delete(theirs);
}

TEST(genai_config_cpu_matches_builder) { compare_genai("phi4tiny-bh-int4-cpu", OLM_EP_CPU); }
TEST(genai_config_cuda_matches_builder) { compare_genai("phi4tiny-bh-int4-cuda", OLM_EP_CUDA); }

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/olm-layout-test-XXXXXX");
    if (!mkdtemp(tmp_root)) return 1;
    RUN(phi4tiny_int4_cpu_matches_builder);
    RUN(phi4tiny_int4_cuda_matches_builder);
    RUN(phi3tiny_fp32_cpu_matches_builder);
    RUN(genai_config_cpu_matches_builder);
    RUN(genai_config_cuda_matches_builder);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0) printf("warning: could not remove %s\n", tmp_root);
    return test_summary("writer-layout");
}
