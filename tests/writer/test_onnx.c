/* test_onnx.c — protobuf/ONNX writer and reader: every attribute kind, If subgraphs,
 * inline and external initializers survive a write/read round trip; a written model
 * runs in ONNX Runtime (independent decoder); fp32 weights read back from a built
 * model equal W^T of the weight source; malformed files give FORMAT errors. */
#include "test.h"
#include "onnx/pb.h"
#include "onnx/reader.h"
#include "onnx/writer.h"
#include "writer/phi3.h"
#include "writer/fp32_model.h"
#include "common/json.h"

#include <math.h>
#include <onnxruntime_c_api.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp_root[64];

TEST(varint_roundtrip) {
    olm_pb_buf b = {0};
    uint64_t vals[] = {0, 1, 127, 128, 300, 1ull << 35, (uint64_t)-1};
    for (int i = 0; i < 7; i++) olm_pb_int(&b, i + 1, (int64_t)vals[i]);
    olm_pb_reader r = olm_pb_reader_init(b.p, b.len);
    olm_pb_field f;
    int k = 0;
    while (olm_pb_next(&r, &f)) {
        CHECK_EQ_INT(f.num, k + 1);
        CHECK(f.v == vals[k]);
        k++;
    }
    CHECK_EQ_INT(k, 7);
    CHECK(!r.bad);
    /* -1 takes 10 bytes, as protobuf encodes negative int64 */
    CHECK_EQ_INT(olm_pb_varint_size((uint64_t)-1), 10);
    olm_pb_free(&b);
    const uint8_t trunc[] = {0x0a, 0x05, 'a'}; /* length 5, only 1 byte */
    olm_pb_reader t = olm_pb_reader_init(trunc, 3);
    CHECK(!olm_pb_next(&t, &f));
    CHECK(t.bad);
}

/* y = Add(x, w_ext) * c  with c from an If(cond) of two Constants. */
static void write_small(const char *dir) {
    olm_onnx_gb g, then_g, else_g;
    olm_onnx_gb_init(&g, "g");
    const char *p[] = {"n", NULL};
    int64_t d2[2] = {-1, 4}, four[1] = {4};
    olm_onnx_gb_value(&g, false, "x", OLM_ONNX_FLOAT, 2, d2, p);
    olm_onnx_gb_value(&g, false, "cond", OLM_ONNX_BOOL, 0, NULL, NULL);
    olm_onnx_gb_value(&g, true, "y", OLM_ONNX_FLOAT, 2, d2, p);
    olm_onnx_data d;
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_onnx_data_open(&d, dir, "model.onnx.data", &e), ONNXLLM_OK);
    float w[4] = {1, 2, 3, 4}, pad[3] = {9, 9, 9};
    CHECK_EQ_INT(olm_onnx_add_external(&g, &d, "pad", OLM_ONNX_FLOAT, 1, (int64_t[]){3}, pad, 12, &e), ONNXLLM_OK);
    CHECK_EQ_INT(olm_onnx_add_external(&g, &d, "w_ext", OLM_ONNX_FLOAT, 1, four, w, 16, &e), ONNXLLM_OK);
    CHECK_EQ_INT(olm_onnx_data_close(&d, &e), ONNXLLM_OK);
    int64_t iv[2] = {7, -3};
    olm_onnx_gb_init_inline(&g, "i_inline", OLM_ONNX_INT64, 1, (int64_t[]){2}, iv, 16);
    float c1 = 2.0f, c2 = -1.0f;
    olm_onnx_gb_init(&then_g, "then_g");
    olm_onnx_gb_init(&else_g, "else_g");
    olm_pb_buf a = {0};
    olm_onnx_attr_tensor(&a, "value", OLM_ONNX_FLOAT, 0, NULL, &c1, 4);
    olm_onnx_gb_node(&then_g, "k1", "Constant", "", NULL, 0, (const char *[]){"c_then"}, 1, &a);
    olm_onnx_gb_value(&then_g, true, "c_then", OLM_ONNX_FLOAT, 0, NULL, NULL);
    olm_onnx_attr_tensor(&a, "value", OLM_ONNX_FLOAT, 0, NULL, &c2, 4);
    olm_onnx_gb_node(&else_g, "k2", "Constant", "", NULL, 0, (const char *[]){"c_else"}, 1, &a);
    olm_onnx_gb_value(&else_g, true, "c_else", OLM_ONNX_FLOAT, 0, NULL, NULL);
    olm_onnx_attr_graph(&a, "then_branch", &then_g);
    olm_onnx_attr_graph(&a, "else_branch", &else_g);
    olm_onnx_gb_free(&then_g);
    olm_onnx_gb_free(&else_g);
    olm_onnx_gb_node(&g, "if", "If", "", (const char *[]){"cond"}, 1, (const char *[]){"c"}, 1, &a);
    olm_onnx_gb_node(&g, "add", "Add", "", (const char *[]){"x", "w_ext"}, 2, (const char *[]){"s"}, 1, NULL);
    olm_onnx_attr_float(&a, "fl", 0.5f);
    olm_onnx_attr_int(&a, "in", -5);
    olm_onnx_attr_ints(&a, "is", iv, 2);
    olm_onnx_attr_string(&a, "st", "hello");
    /* the attribute kinds go on a custom-domain node saved only in attrs.onnx (reader
     * check); model.onnx, run by ORT, is saved before that node is added */
    olm_onnx_gb_node(&g, "mul", "Mul", "", (const char *[]){"s", "c"}, 2, (const char *[]){"y"}, 1, NULL);
    static const olm_onnx_opset ops[] = {{"", 21}};
    char *path = malloc(strlen(dir) + 16);
    sprintf(path, "%s/model.onnx", dir);
    CHECK_EQ_INT(olm_onnx_save(path, &g, 10, ops, 1, "t", "1", &e), ONNXLLM_OK);
    /* a second file with the attribute kinds on a node (reader only) */
    olm_onnx_gb_node(&g, "attrs", "Foo", "x.y", (const char *[]){"", "y"}, 2, (const char *[]){"z"}, 1, &a);
    sprintf(path, "%s/attrs.onnx", dir);
    CHECK_EQ_INT(olm_onnx_save(path, &g, 10, ops, 1, "t", "1", &e), ONNXLLM_OK);
    free(path);
    olm_onnx_gb_free(&g);
}

TEST(roundtrip_and_ort_run) {
    char dir[128];
    snprintf(dir, sizeof dir, "%s/small", tmp_root);
    mkdir(dir, 0777);
    write_small(dir);
    char path[160];
    snprintf(path, sizeof path, "%s/attrs.onnx", dir);
    olm_onnx_model *m = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_onnx_load(path, &m, &e), ONNXLLM_OK);
    if (!m) return;
    CHECK_EQ_INT(m->ir_version, 10);
    CHECK_EQ_INT(m->n_opsets, 1);
    CHECK_EQ_STR(m->producer_name, "t");
    CHECK_EQ_INT(m->graph.n_inputs, 2);
    CHECK_EQ_STR(m->graph.inputs[0].params[0], "n");
    CHECK_EQ_INT(m->graph.inputs[0].dims[1], 4);
    CHECK_EQ_INT(m->graph.inputs[1].rank, 0);
    const olm_onnx_tensor *t = olm_onnx_find_init(m, "w_ext");
    CHECK(t && t->external && t->offset == 64 && t->length == 16);
    float w[4] = {0};
    CHECK_EQ_INT(olm_onnx_tensor_read_f32(m, t, w, 4, &e), ONNXLLM_OK);
    CHECK(w[0] == 1 && w[3] == 4);
    t = olm_onnx_find_init(m, "i_inline");
    int64_t iv[2] = {0};
    CHECK(t && !t->external);
    CHECK_EQ_INT(olm_onnx_tensor_read(m, t, iv, sizeof iv, &e), ONNXLLM_OK);
    CHECK(iv[0] == 7 && iv[1] == -3);
    const olm_onnx_node *n = olm_onnx_find_node(&m->graph, "attrs");
    CHECK(n && !strcmp(n->domain, "x.y") && n->n_inputs == 2 && n->inputs[0][0] == 0);
    if (n) {
        CHECK(olm_onnx_node_attr(n, "fl")->f == 0.5f);
        CHECK_EQ_INT(olm_onnx_node_attr(n, "in")->i, -5);
        CHECK_EQ_INT(olm_onnx_node_attr(n, "is")->n_ints, 2);
        CHECK_EQ_INT(olm_onnx_node_attr(n, "is")->ints[1], -3);
        CHECK_EQ_STR(olm_onnx_node_attr(n, "st")->s, "hello");
    }
    n = olm_onnx_find_node(&m->graph, "if");
    const olm_onnx_attr *tb = n ? olm_onnx_node_attr(n, "then_branch") : NULL;
    CHECK(tb && tb->type == OLM_ONNX_ATTR_GRAPH && tb->g->n_nodes == 1);
    if (tb) {
        const olm_onnx_attr *v = olm_onnx_node_attr(&tb->g->nodes[0], "value");
        float c = 0;
        CHECK(v && v->t && v->t->rank == 0);
        CHECK_EQ_INT(olm_onnx_tensor_read(m, v->t, &c, 4, &e), ONNXLLM_OK);
        CHECK(c == 2.0f);
    }
    olm_onnx_free(m);

    /* ONNX Runtime decodes the same bytes: y = (x + w) * (cond ? 2 : -1) */
    const OrtApi *a = OrtGetApiBase()->GetApi(ORT_API_VERSION);
    OrtEnv *env;
    OrtSession *s = NULL;
    OrtStatus *st = a->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "t", &env);
    CHECK(!st);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    st = a->CreateSession(env, path, NULL, &s);
    if (st) {
        printf("  %s\n", a->GetErrorMessage(st));
        a->ReleaseStatus(st);
    }
    CHECK(s != NULL);
    if (s) {
        OrtMemoryInfo *mi;
        CHECK(!a->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &mi));
        float x[4] = {10, 20, 30, 40};
        bool cond = false;
        int64_t xs[2] = {1, 4};
        OrtValue *in[2] = {0}, *out = NULL;
        CHECK(!a->CreateTensorWithDataAsOrtValue(mi, x, 16, xs, 2, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &in[0]));
        CHECK(!a->CreateTensorWithDataAsOrtValue(mi, &cond, 1, NULL, 0, ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL, &in[1]));
        const char *in_names[] = {"x", "cond"}, *out_names[] = {"y"};
        CHECK(!a->Run(s, NULL, in_names, (const OrtValue *const *)in, 2, out_names, 1, &out));
        float *y;
        CHECK(!a->GetTensorMutableData(out, (void **)&y));
        CHECK(y[0] == -11 && y[3] == -44);
        a->ReleaseValue(out);
        a->ReleaseValue(in[0]);
        a->ReleaseValue(in[1]);
        a->ReleaseMemoryInfo(mi);
        a->ReleaseSession(s);
    }
    a->ReleaseEnv(env);
}

/* fp32 build: MatMul B = W^T under the builder's pre-quantization names. */
TEST(fp32_weights_read_back) {
    char dir[128];
    snprintf(dir, sizeof dir, "%s/tg", tmp_root);
    onnxllm_build_params p = onnxllm_build_default_params();
    p.precision = ONNXLLM_PRECISION_FP32;
    onnxllm_error e = {0};
    CHECK_EQ_INT(onnxllm_build_model("tiny-gqa", 9, &p, dir, &e), ONNXLLM_OK);
    olm_onnx_model *m = NULL;
    CHECK_EQ_INT(olm_onnx_load(dir, &m, &e), ONNXLLM_OK);
    if (!m) return;
    olm_phi3_config c;
    olm_phi3_preset("tiny-gqa", &c);
    olm_random_weights rw = {9, olm_phi3_preset_init_std("tiny-gqa")};
    olm_weight_source w = olm_random_weight_source(&rw);
    int64_t N = 512, K = 256, shape[2] = {N, K};
    float *W = malloc(sizeof(float) * N * K), *B = malloc(sizeof(float) * N * K);
    CHECK_EQ_INT(w.get(w.ctx, "model.layers.1.self_attn.qkv_proj.weight", shape, 2, W, &e), ONNXLLM_OK);
    const olm_onnx_tensor *t = olm_onnx_find_init(m, "model.layers.1.attn.qkv_proj.MatMul.weight");
    CHECK(t && t->dtype == OLM_ONNX_FLOAT && t->rank == 2 && t->dims[0] == K && t->dims[1] == N);
    if (t) {
        CHECK_EQ_INT(olm_onnx_tensor_read_f32(m, t, B, (size_t)(N * K), &e), ONNXLLM_OK);
        int bad = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t k = 0; k < K; k++) bad += B[k * N + n] != W[n * K + k];
        CHECK_EQ_INT(bad, 0);
    }
    /* gate = rows [0, I) of gate_up, up = rows [I, 2I) */
    int64_t I = c.intermediate_size, gshape[2] = {2 * I, K};
    float *GU = malloc(sizeof(float) * 2 * I * K);
    CHECK_EQ_INT(w.get(w.ctx, "model.layers.0.mlp.gate_up_proj.weight", gshape, 2, GU, &e), ONNXLLM_OK);
    t = olm_onnx_find_init(m, "model.layers.0.mlp.up_proj.MatMul.weight");
    CHECK(t && t->dims[0] == K && t->dims[1] == I);
    if (t) {
        CHECK_EQ_INT(olm_onnx_tensor_read_f32(m, t, B, (size_t)(I * K), &e), ONNXLLM_OK);
        CHECK(B[3 * I + 5] == GU[(I + 5) * K + 3]);
    }
    CHECK(olm_onnx_find_init(m, "model.layers.2.final_norm_layernorm.weight") != NULL);
    CHECK(olm_onnx_find_init(m, "lm_head.MatMul.weight") != NULL);
    free(W), free(B), free(GU);
    olm_onnx_free(m);
}

static bool same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = false;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

/* The random source is counter-based: any row range equals the same rows of the
 * whole tensor, and the writer's streamed route (row chunks) writes exactly the
 * bytes of its whole-tensor route. */
TEST(random_rows_and_streaming) {
    olm_random_weights rw = {42, 0.02f};
    olm_weight_source w = olm_random_weight_source(&rw);
    int64_t shape[2] = {300, 64};
    float *all = malloc(sizeof(float) * 300 * 64), *rows = malloc(sizeof(float) * 50 * 64);
    onnxllm_error e = {0};
    CHECK_EQ_INT(w.get(w.ctx, "model.embed_tokens.weight", shape, 2, all, &e), ONNXLLM_OK);
    CHECK_EQ_INT(w.get_rows(w.ctx, "model.embed_tokens.weight", shape, 123, 50, rows, &e), ONNXLLM_OK);
    CHECK(!memcmp(rows, all + 123 * 64, sizeof(float) * 50 * 64));
    CHECK_EQ_INT(w.get_rows(w.ctx, "x", shape, 290, 20, rows, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    double sum = 0, sq = 0;
    for (int i = 0; i < 300 * 64; i++) sum += all[i], sq += (double)all[i] * all[i];
    double mean = sum / (300 * 64), sd = sqrt(sq / (300 * 64) - mean * mean);
    CHECK(fabs(mean) < 1e-3 && fabs(sd - 0.02) < 1e-3); /* the scale asked for */
    free(all), free(rows);

    const char *presets[] = {"tiny-gqa", "tiny-gqa-untied"};
    for (int k = 0; k < 4; k++) {
        olm_phi3_config c;
        olm_phi3_preset(presets[k % 2], &c);
        rw.std = olm_phi3_preset_init_std(presets[k % 2]);
        olm_weight_source whole = w;
        whole.get_rows = NULL;
        char a[128], b[128], fa[160], fb[160];
        snprintf(a, sizeof a, "%s/streamed%d", tmp_root, k);
        snprintf(b, sizeof b, "%s/whole%d", tmp_root, k);
        olm_build_options o = {.precision = OLM_PRECISION_INT4, .ep = k < 2 ? OLM_EP_CPU : OLM_EP_CUDA};
        CHECK_EQ_INT(olm_phi3_write(&c, &w, &o, a, &e), ONNXLLM_OK);
        CHECK_EQ_INT(olm_phi3_write(&c, &whole, &o, b, &e), ONNXLLM_OK);
        snprintf(fa, sizeof fa, "%s/model.onnx.data", a);
        snprintf(fb, sizeof fb, "%s/model.onnx.data", b);
        CHECK(same_file(fa, fb));
        snprintf(fa, sizeof fa, "%s/model.onnx", a);
        snprintf(fb, sizeof fb, "%s/model.onnx", b);
        CHECK(same_file(fa, fb));
    }
}

TEST(malformed_files) {
    char path[128];
    snprintf(path, sizeof path, "%s/bad.onnx", tmp_root);
    FILE *f = fopen(path, "wb");
    fputs("\x08\x0a\x3a\xff\xff\xff\x0f", f); /* ir_version 10, graph of absurd length */
    fclose(f);
    olm_onnx_model *m = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_onnx_load(path, &m, &e), ONNXLLM_ERR_FORMAT);
    CHECK(strstr(e.message, "bad.onnx: not an ONNX model") != NULL);
    CHECK(m == NULL);
    /* external data file missing → IO error naming it */
    char dir[128];
    snprintf(dir, sizeof dir, "%s/small", tmp_root);
    CHECK_EQ_INT(olm_onnx_load(dir, &m, &e), ONNXLLM_OK);
    if (!m) return;
    char data[160];
    snprintf(data, sizeof data, "%s/model.onnx.data", dir);
    unlink(data);
    float w[4];
    CHECK_EQ_INT(olm_onnx_tensor_read_f32(m, olm_onnx_find_init(m, "w_ext"), w, 4, &e), ONNXLLM_ERR_IO);
    CHECK(strstr(e.message, "model.onnx.data: cannot open") != NULL);
    olm_onnx_free(m);
}


/* A ModelProto whose graph nests `levels` times: graph { node { attribute "g" (GRAPH) {
 * graph { ... } } } }, written outside-in; returns the bytes (malloc'd) and *len. */
static size_t put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

static uint8_t *deep_model(int levels, size_t *len) {
    /* prefixes built inner → outer into the end of a buffer, then moved to the front */
    size_t cap = (size_t)levels * 24 + 64, at = cap, inner = 0;
    uint8_t *b = malloc(cap), tmp[40];
    for (int i = 0; i < levels; i++) {
        /* attribute A = name "g", type GRAPH (5), g = <inner bytes> */
        size_t n = 0;
        tmp[n++] = 0x0a, tmp[n++] = 1, tmp[n++] = 'g';  /* name */
        tmp[n++] = 0xa0, tmp[n++] = 0x01, tmp[n++] = 5; /* type = 20: GRAPH */
        tmp[n++] = 0x32;                                /* g = 6, LEN */
        n += put_varint(tmp + n, inner);
        size_t a = n + inner;
        uint8_t h[24];
        size_t hn = 0;
        h[hn++] = 0x0a;                                 /* graph.node = 1 */
        uint8_t nodebody[12];
        size_t nb = 0;
        nodebody[nb++] = 0x2a;                          /* node.attribute = 5 */
        nb += put_varint(nodebody + nb, a);
        hn += put_varint(h + hn, nb + a);
        memcpy(h + hn, nodebody, nb);
        hn += nb;
        at -= n;
        memcpy(b + at, tmp, n);
        at -= hn;
        memcpy(b + at, h, hn);
        inner = cap - at;
    }
    uint8_t mh[16];
    size_t mn = 0;
    mh[mn++] = 0x08, mh[mn++] = 0x0a; /* ir_version 10 */
    mh[mn++] = 0x3a;                  /* graph = 7 */
    mn += put_varint(mh + mn, inner);
    uint8_t *out = malloc(mn + inner);
    memcpy(out, mh, mn);
    memcpy(out + mn, b + at, inner);
    free(b);
    *len = mn + inner;
    return out;
}

/* issue 12 #2: graph → node → attribute → graph recursed without a limit (a 1.2 MB
 * model.onnx killed inspect and quantize with SIGSEGV); the reader now stops at
 * OLM_PB_MAX_DEPTH with a format error, and nesting below it still reads. */
TEST(deeply_nested_graphs) {
    size_t len;
    uint8_t *buf = deep_model(100000, &len);
    printf("  %d nested graphs: %zu bytes\n", 100000, len);
    char path[300], dir[160];
    snprintf(dir, sizeof dir, "%s/deep", tmp_root);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    FILE *f = fopen(path, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    free(buf);
    olm_onnx_model *m = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_onnx_load(path, &m, &e), ONNXLLM_ERR_FORMAT); /* inspect's reader */
    CHECK(strstr(e.message, "nested") != NULL);
    olm_onnx_free(m);
    olm_fp32_model *fm = NULL;
    CHECK(olm_fp32_model_open(dir, &fm, &e) != ONNXLLM_OK); /* quantize's reader */
    olm_fp32_model_close(fm);
    /* 20 levels (60 nested messages): fine */
    buf = deep_model(20, &len);
    m = NULL;
    CHECK_EQ_INT(olm_onnx_load_buffer(buf, len, "shallow.onnx", &m, &e), ONNXLLM_OK);
    int depth = 0;
    for (const olm_onnx_graph *g = m ? &m->graph : NULL; g && g->n_nodes; g = g->nodes[0].attrs[0].g) depth++;
    CHECK_EQ_INT(depth, 20);
    olm_onnx_free(m);
}


/* issue 12 #15: inspect printed negative/overflowing dims as huge byte counts, passed
 * invalid UTF-8 into --json and terminal escape sequences from names to the terminal */
static void pb_bytes(uint8_t *b, size_t *n, int field, const void *d, size_t len) {
    b[(*n)++] = (uint8_t)(field << 3 | 2);
    *n += put_varint(b + *n, len);
    memcpy(b + *n, d, len);
    *n += len;
}

TEST(inspect_hostile_names_and_dims) {
    uint8_t t1[128], t2[128], g[512], m[640];
    size_t n1 = 0, n2 = 0, ng = 0, nm = 0;
    /* initializer 1: dims [-5, 3], float, a name with ESC, BEL and an invalid byte */
    t1[n1++] = 0x08, n1 += put_varint(t1 + n1, (uint64_t)-5);
    t1[n1++] = 0x08, t1[n1++] = 3;
    t1[n1++] = 0x10, t1[n1++] = 1;
    const char *bad = "bad\xff\x1b]0;title\x07\xc2\x9b" "2J";
    pb_bytes(t1, &n1, 8, bad, strlen(bad));
    /* initializer 2: dims [2^62, 2^62] */
    t2[n2++] = 0x08, n2 += put_varint(t2 + n2, (uint64_t)1 << 62);
    t2[n2++] = 0x08, n2 += put_varint(t2 + n2, (uint64_t)1 << 62);
    t2[n2++] = 0x10, t2[n2++] = 1;
    pb_bytes(t2, &n2, 8, "huge", 4);
    const char *gname = "\x1b[31mred";
    pb_bytes(g, &ng, 2, gname, strlen(gname));
    pb_bytes(g, &ng, 5, t1, n1);
    pb_bytes(g, &ng, 5, t2, n2);
    m[nm++] = 0x08, m[nm++] = 10;
    pb_bytes(m, &nm, 7, g, ng);
    char path[300];
    snprintf(path, sizeof path, "%s/hostile.onnx", tmp_root);
    FILE *f = fopen(path, "wb");
    fwrite(m, 1, nm, f);
    fclose(f);
    char *out = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(onnxllm_inspect(path, false, &out, &e), ONNXLLM_OK);
    if (out) {
        bool raw = false;
        for (const unsigned char *p = (const unsigned char *)out; *p; p++)
            raw |= (*p < 0x20 && *p != '\n') || *p == 0x7f || *p == 0xff || (p[0] == 0xc2 && p[1] == 0x9b);
        CHECK(!raw); /* no escape sequence reaches the terminal */
        CHECK(strstr(out, "\\x1b[31mred") != NULL);
        CHECK(strstr(out, "bad\\xff\\x1b]0;title\\x07\\xc2\\x9b2J") != NULL);
        CHECK(strstr(out, "invalid size") != NULL);
        CHECK(strstr(out, "18446744073709551") == NULL); /* no wrapped byte counts */
        onnxllm_free(out);
    }
    out = NULL;
    CHECK_EQ_INT(onnxllm_inspect(path, true, &out, &e), ONNXLLM_OK);
    if (out) {
        cJSON *j = NULL;
        CHECK_EQ_INT(olm_json_parse(out, strlen(out), "inspect --json", &j, &e), ONNXLLM_OK); /* valid UTF-8 */
        cJSON *inits = cJSON_GetObjectItem(j, "initializers");
        CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(inits, 0), "bytes")));
        CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(inits, 1), "bytes")));
        cJSON_Delete(j);
        onnxllm_free(out);
    }
}

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/olm-onnx-test-XXXXXX");
    if (!mkdtemp(tmp_root)) return 1;
    RUN(varint_roundtrip);
    RUN(roundtrip_and_ort_run);
    RUN(fp32_weights_read_back);
    RUN(random_rows_and_streaming);
    RUN(malformed_files);
    RUN(deeply_nested_graphs);
    RUN(inspect_hostile_names_and_dims);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0) printf("warning: could not remove %s\n", tmp_root);
    return test_summary("writer-onnx");
}
