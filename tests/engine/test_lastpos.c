/* test_lastpos.c — the load-time lm_head edit (src/engine/graph_edit.c).
 *
 * The edit must not change a single bit of what generation reads: the logits of
 * the last position after a prefill (and after each decode step) are compared
 * byte for byte with the unedited graph (full_logits = true) on fp32 and int4
 * (MatMulNBits, accuracy_level 4) models, for prompt lengths on both sides of
 * tiny-gqa's LongRoPE switch (32), in shared and non-shared KV modes. fp16-logits
 * graphs (GPU layout) are left unedited (their lm_head rows are not bit-identical
 * between 1 and S rows) and must still load and run. A graph whose logits do not come from a MatMul loads unedited and still
 * runs; the edit function itself is checked on hand-built graphs.
 *
 * argv[1]: folder with the models built by the engine fixtures. */
#include "test.h"
#include "engine/engine.h"
#include "engine/graph_edit.h"
#include "common/fileio.h"
#include "onnx/pb.h"
#include "onnx/writer.h"
#include "onnxllm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *models_dir;

static onnxllm_model *load(const char *dir, bool full, bool no_shared) {
    onnxllm_model_params p = onnxllm_model_default_params();
    p.ep = "cpu";
    p.n_threads = 2;
    p.max_length = 128;
    p.full_logits = full;
    p.no_shared_kv = no_shared;
    onnxllm_model *m = NULL;
    onnxllm_error e = {0};
    if (onnxllm_model_load(dir, &p, &m, &e)) printf("  load %s: %s\n", dir, e.message);
    return m;
}

static void make_prompt(int32_t *p, int n, int vocab, int salt) {
    for (int i = 0; i < n; i++) p[i] = (int32_t)((i * 53 + salt * 7 + 5) % (vocab - 3) + 3);
}

/* Prefill n tokens, then 8 greedy steps, on both models; every logits vector
 * must be byte-identical. Returns the number of mismatching vectors (-1: error). */
static int compare_runs(onnxllm_model *full, onnxllm_model *last, int n, int salt) {
    int V = onnxllm_model_vocab_size(full);
    int32_t prompt[128];
    make_prompt(prompt, n, V, salt);
    onnxllm_sequence *a = NULL, *b = NULL;
    onnxllm_error e = {0};
    int bad = -1;
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    onnxllm_sampler *smp = NULL;
    if (onnxllm_sampler_create(&sp, V, &smp, &e) || onnxllm_sequence_create(full, &a, &e) ||
        onnxllm_sequence_create(last, &b, &e) || onnxllm_sequence_append(a, prompt, (size_t)n, &e) ||
        onnxllm_sequence_append(b, prompt, (size_t)n, &e)) {
        printf("  setup: %s\n", e.message);
        goto done;
    }
    bad = 0;
    for (int step = 0; step <= 8; step++) {
        const float *la = onnxllm_sequence_logits(a), *lb = onnxllm_sequence_logits(b);
        if (!la || !lb || memcmp(la, lb, sizeof(float) * (size_t)V)) {
            float md = 0;
            for (int i = 0; la && lb && i < V; i++) {
                float d = la[i] > lb[i] ? la[i] - lb[i] : lb[i] - la[i];
                if (d > md) md = d;
            }
            printf("  n=%d: logits differ after %s %d (max |diff| %g)\n", n, step ? "decode step" : "prefill", step,
                   (double)md);
            bad++;
        }
        if (step == 8) break;
        int32_t ta, tb;
        /* step samples and leaves the token pending; append(0) computes it */
        if (onnxllm_sequence_step(a, smp, &ta, &e) || onnxllm_sequence_step(b, smp, &tb, &e) ||
            onnxllm_sequence_append(a, NULL, 0, &e) || onnxllm_sequence_append(b, NULL, 0, &e)) {
            printf("  step: %s\n", e.message);
            bad = -1;
            break;
        }
        if (ta != tb) bad++;
    }
done:
    onnxllm_sequence_free(a);
    onnxllm_sequence_free(b);
    onnxllm_sampler_free(smp);
    return bad;
}

static const int lens[] = {1, 2, 5, 20, 31, 32, 33, 60, 100};

static void check_model(const char *name, bool expect_edit) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", models_dir, name);
    for (int ns = 0; ns < 2; ns++) {
        onnxllm_model *full = load(dir, true, ns), *last = load(dir, false, ns);
        CHECK(full && last);
        if (full && last) {
            /* the edit is applied by default and only then */
            CHECK_EQ_INT(last->last_logits_only, expect_edit);
            CHECK(!full->last_logits_only);
            for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
                int bad = compare_runs(full, last, lens[i], (int)i);
                if (bad) printf("  %s %s n=%d: %d mismatches\n", name, ns ? "non-shared" : "shared", lens[i], bad);
                CHECK_EQ_INT(bad, 0);
            }
        }
        onnxllm_model_free(full);
        onnxllm_model_free(last);
    }
}

TEST(last_position_logits_bit_identical_fp32) { check_model("tiny-gqa", true); }
TEST(last_position_logits_bit_identical_fp32_untied) { check_model("tiny-gqa-untied", true); }
TEST(last_position_logits_bit_identical_int4) { check_model("tiny-gqa-int4", true); }
TEST(last_position_logits_bit_identical_int4_mha) { check_model("tiny-mha-int4", true); }
/* fp16 logits (GPU layout): ORT's fp16 MatMulNBits gives the last row 1-4 ulps
 * apart between a 1-row and an S-row run, so the edit is not applied there. */
TEST(fp16_model_loads_unedited) { check_model("tiny-gqa-fp16", false); }

/* ---- a model whose logits come from an Identity after lm_head ---- */

/* Copies message bytes, renaming output field 2 == from → to in the node that has it,
 * and appends Identity(to) → from to the graph. */
static void reencode_node(olm_pb_buf *g, const olm_pb_field *node, const char *from, const char *to) {
    olm_pb_buf s = {0};
    olm_pb_reader r = olm_pb_sub(node);
    olm_pb_field f;
    const uint8_t *start = r.p;
    for (; olm_pb_next(&r, &f); start = r.p) {
        if (f.num == 2 && f.len == strlen(from) && !memcmp(f.data, from, f.len)) olm_pb_str(&s, 2, to);
        else olm_pb_raw(&s, start, (size_t)(r.p - start));
    }
    olm_pb_msg(g, 1, &s);
    olm_pb_free(&s);
}

static bool write_identity_model(const char *src_dir, const char *dst_dir) {
    char *path = olm_path_join(src_dir, "model.onnx"), *buf = NULL;
    size_t len = 0;
    bool ok = !olm_read_file(path, &buf, &len, NULL);
    free(path);
    if (!ok) return false;
    olm_pb_buf model = {0}, graph = {0};
    olm_pb_reader r = olm_pb_reader_init((const uint8_t *)buf, len);
    olm_pb_field f;
    const uint8_t *start = r.p;
    for (; olm_pb_next(&r, &f); start = r.p) {
        if (f.num != 7) {
            olm_pb_raw(&model, start, (size_t)(r.p - start));
            continue;
        }
        olm_pb_reader gr = olm_pb_sub(&f);
        olm_pb_field gf;
        const uint8_t *gs = gr.p;
        for (; olm_pb_next(&gr, &gf); gs = gr.p) {
            if (gf.num == 1) reencode_node(&graph, &gf, "logits", "logits_pre");
            else olm_pb_raw(&graph, gs, (size_t)(gr.p - gs));
        }
        olm_pb_buf id = {0};
        olm_pb_str(&id, 1, "logits_pre");
        olm_pb_str(&id, 2, "logits");
        olm_pb_str(&id, 3, "test/Identity");
        olm_pb_str(&id, 4, "Identity");
        olm_pb_msg(&graph, 1, &id);
        olm_pb_free(&id);
        olm_pb_msg(&model, 7, &graph);
    }
    free(buf);
    ok = !model.oom && !graph.oom;
    char dst[600], src[600];
    snprintf(dst, sizeof dst, "%s/model.onnx", dst_dir);
    FILE *out = ok ? fopen(dst, "wb") : NULL;
    ok = out && fwrite(model.p, 1, model.len, out) == model.len;
    if (out) ok &= fclose(out) == 0;
    olm_pb_free(&model);
    olm_pb_free(&graph);
    const char *copy[] = {"genai_config.json", "model.onnx.data"};
    for (int i = 0; i < 2 && ok; i++) {
        snprintf(src, sizeof src, "%s/%s", src_dir, copy[i]);
        snprintf(dst, sizeof dst, "%s/%s", dst_dir, copy[i]);
        char *data = NULL;
        size_t n = 0;
        ok = !olm_read_file(src, &data, &n, NULL);
        FILE *w = ok ? fopen(dst, "wb") : NULL;
        ok = w && fwrite(data, 1, n, w) == n;
        if (w) ok &= fclose(w) == 0;
        free(data);
    }
    return ok;
}

TEST(non_matmul_logits_producer_loads_unedited) {
    char src[512], tmp[] = "/tmp/olm_lastpos_XXXXXX";
    snprintf(src, sizeof src, "%s/tiny-gqa", models_dir);
    CHECK(mkdtemp(tmp) != NULL);
    CHECK(write_identity_model(src, tmp));
    onnxllm_model *edited_src = load(src, false, false), *m = load(tmp, false, false);
    CHECK(m != NULL);
    if (m && edited_src) {
        CHECK(!m->last_logits_only); /* Identity produces logits: no edit */
        /* and it still runs, giving the same logits as the edited original */
        for (int n = 1; n <= 40; n += 13) CHECK_EQ_INT(compare_runs(m, edited_src, n, 3), 0);
    }
    onnxllm_model_free(m);
    onnxllm_model_free(edited_src);
    const char *files[] = {"model.onnx", "genai_config.json", "model.onnx.data"};
    for (int i = 0; i < 3; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", tmp, files[i]);
        unlink(p);
    }
    rmdir(tmp);
}

/* ---- the edit function on hand-built graphs ---- */

static uint8_t *build(const char *op, const char *domain, bool cast, int out_type, size_t *len) {
    olm_onnx_gb g;
    olm_onnx_gb_init(&g, "g");
    const int64_t xd[3] = {-1, -1, 4}, ld[3] = {-1, -1, 3}, wd[2] = {4, 3};
    const char *const xp[3] = {"batch", "seq", NULL};
    olm_onnx_gb_value(&g, false, "x", OLM_ONNX_FLOAT, 3, xd, xp);
    olm_onnx_gb_value(&g, true, "logits", out_type, 3, ld, xp);
    float w[12] = {0};
    olm_onnx_gb_init_inline(&g, "w", OLM_ONNX_FLOAT, 2, wd, w, sizeof w);
    const char *in[2] = {"x", "w"}, *mid[1] = {cast ? "mm" : "logits"}, *out[1] = {"logits"};
    olm_onnx_gb_node(&g, "lm_head", op, domain, in, 2, mid, 1, NULL);
    if (cast) {
        olm_pb_buf a = {0};
        olm_onnx_attr_int(&a, "to", out_type);
        olm_onnx_gb_node(&g, "cast", "Cast", "", mid, 1, out, 1, &a);
    }
    char path[] = "/tmp/olm_lastpos_model_XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    olm_onnx_opset ops[1] = {{"", 17}};
    uint8_t *buf = NULL;
    if (fd >= 0 && !olm_onnx_save(path, &g, 8, ops, 1, "test", "1", NULL)) {
        char *b = NULL;
        if (!olm_read_file(path, &b, len, NULL)) buf = (uint8_t *)b;
    }
    unlink(path);
    olm_onnx_gb_free(&g);
    return buf;
}

static bool contains(const uint8_t *p, size_t n, const char *s) {
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(p + i, s, k)) return true;
    return false;
}

TEST(edit_function_patterns) {
    struct {
        const char *op;
        bool cast;
        int out_type;
        bool edited;
    } cases[] = {{"MatMul", false, OLM_ONNX_FLOAT, true},
                 {"MatMul", true, OLM_ONNX_FLOAT, true},
                 {"MatMul", true, OLM_ONNX_FLOAT16, false},
                 {"Add", false, OLM_ONNX_FLOAT, false},
                 {"Gemm", false, OLM_ONNX_FLOAT, false}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len = 0, out_len = 0;
        uint8_t *m = build(cases[i].op, "", cases[i].cast, cases[i].out_type, &len), *out = NULL;
        CHECK(m != NULL);
        char why[256];
        onnxllm_error e = {0};
        CHECK_EQ_INT(olm_graph_last_logits(m, len, "logits", &out, &out_len, why, sizeof why, &e), ONNXLLM_OK);
        CHECK_EQ_INT(out != NULL, cases[i].edited);
        if (out) {
            CHECK(out_len > len);
            CHECK(contains(out, out_len, "onnxllm_last_position/Slice"));
            CHECK(contains(out, out_len, "x/onnxllm_last"));
        } else {
            CHECK(why[0] != 0); /* says why */
        }
        free(out);
        free(m);
    }
    /* not a model at all: no edit, no error */
    uint8_t junk[4] = {0xff, 0xff, 0xff, 0xff}, *out = NULL;
    size_t out_len = 0;
    CHECK_EQ_INT(olm_graph_last_logits(junk, sizeof junk, "logits", &out, &out_len, NULL, 0, NULL), ONNXLLM_OK);
    CHECK(out == NULL);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_lastpos MODELS_DIR\n");
        return 2;
    }
    models_dir = argv[1];
    RUN(edit_function_patterns);
    RUN(last_position_logits_bit_identical_fp32);
    RUN(last_position_logits_bit_identical_fp32_untied);
    RUN(last_position_logits_bit_identical_int4);
    RUN(last_position_logits_bit_identical_int4_mha);
    RUN(fp16_model_loads_unedited);
    RUN(non_matmul_logits_producer_loads_unedited);
    return test_summary("engine_lastpos");
}
