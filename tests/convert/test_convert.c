/* test_convert.c — `onnxllm convert` and `onnxllm quantize` end to end.
 *
 * The test writes small Phi-3 checkpoints itself (safetensors + config.json; fp32 or
 * bf16; one file or sharded), converts them with the CLI, runs the result in ONNX
 * Runtime and compares the logits with the naive reference forward pass
 * (tests/ref/phi3_ref.h) fed from the same safetensors weight source — so bf16
 * weights reach both sides through the same widening.
 *
 * usage: test_convert PATH_TO_ONNXLLM_CLI */
#include "test.h"
#include "ort_logits.h"
#include "phi3_ref.h"
#include "st_write.h"
#include "common/error.h"
#include "writer/fp32_model.h"
#include "writer/hf_config.h"
#include "writer/quant4.h"
#include "writer/safetensors.h"

#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *cli;
static char root[256];

static char *P(const char *a, const char *b) {
    static char buf[32][600];
    static int k;
    k = (k + 1) % 32;
    snprintf(buf[k], sizeof buf[k], "%s/%s%s%s", root, a, b ? "/" : "", b ? b : "");
    return buf[k];
}

/* Runs the CLI with a shell command tail; returns its exit code; stderr to errfile. */
static int run_cli(const char *args, const char *errfile) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s >/dev/null 2>'%s'", cli, args, errfile);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strdup(buf);
}

/* ---- checkpoints ------------------------------------------------------------------- */

typedef struct {
    const char *config;     /* config.json text */
    int H, I, L, Nq, Nkv, D, V;
    bool tied;
} ckpt_spec;

/* Phi-4-mini-like: GQA 4/2, head 64, partial rotary 0.75 (dim 48), LongRoPE switching
 * at 32 with non-trivial short and long factors, tied embeddings, eos list. */
static const ckpt_spec PHI4_LIKE = {
    "{\"architectures\": [\"Phi3ForCausalLM\"], \"model_type\": \"phi3\", \"hidden_size\": 256,"
    " \"intermediate_size\": 192, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
    " \"num_key_value_heads\": 2, \"vocab_size\": 301, \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0,"
    " \"partial_rotary_factor\": 0.75, \"max_position_embeddings\": 128, \"original_max_position_embeddings\": 32,"
    " \"hidden_act\": \"silu\", \"rope_scaling\": {\"type\": \"longrope\","
    " \"short_factor\": [1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4, 1.45, 1.5, 1.55,"
    " 1.6, 1.65, 1.7, 1.75, 1.8, 1.85, 1.9, 1.95, 2.0, 2.05, 2.1, 2.15],"
    " \"long_factor\": [1.0, 2.5, 4.0, 5.5, 7.0, 8.5, 10.0, 11.5, 13.0, 14.5, 16.0, 17.5,"
    " 19.0, 20.5, 22.0, 23.5, 25.0, 26.5, 28.0, 29.5, 31.0, 32.5, 34.0, 35.5]},"
    " \"tie_word_embeddings\": true, \"bos_token_id\": 1, \"eos_token_id\": 2, \"pad_token_id\": 0,"
    " \"torch_dtype\": \"bfloat16\"}",
    256, 192, 2, 4, 2, 64, 301, true};

/* Phi-3-mini-4k-like: MHA (no num_key_value_heads), full rotary, no rope scaling,
 * untied lm_head, eps 1e-6, theta 500. */
static const ckpt_spec PHI3_MINI_LIKE = {
    "{\"architectures\": [\"Phi3ForCausalLM\"], \"model_type\": \"phi3\", \"hidden_size\": 64,"
    " \"intermediate_size\": 160, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 320,"
    " \"rms_norm_eps\": 1e-06, \"rope_theta\": 500.0, \"max_position_embeddings\": 96,"
    " \"original_max_position_embeddings\": 96, \"rope_scaling\": null, \"hidden_act\": \"silu\","
    " \"tie_word_embeddings\": false, \"bos_token_id\": 1, \"eos_token_id\": 32000, \"pad_token_id\": 32000,"
    " \"sliding_window\": 2047}",
    64, 160, 2, 4, 4, 16, 320, false};

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* Deterministic values: Linear/embedding uniform in ±0.2, norms 1 ± 0.2. */
static void fill(const char *name, float *v, int64_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    bool norm = strstr(name, "norm") != NULL;
    for (int64_t i = 0; i < n; i++) {
        double u = (double)(mix(h + (uint64_t)i) >> 11) / 9007199254740992.0 * 2 - 1;
        v[i] = norm ? (float)(1.0 + 0.2 * u) : (float)(0.2 * u);
    }
}

typedef struct {
    char name[128];
    int64_t shape[2];
    int rank;
} tdesc;

static int list_tensors(const ckpt_spec *s, tdesc *t) {
    int n = 0;
#define ADD(r, a, b, ...)                                          \
    do {                                                           \
        snprintf(t[n].name, sizeof t[n].name, __VA_ARGS__);        \
        t[n].rank = r;                                             \
        t[n].shape[0] = a;                                         \
        t[n].shape[1] = b;                                         \
        n++;                                                       \
    } while (0)
    ADD(2, s->V, s->H, "model.embed_tokens.weight");
    for (int l = 0; l < s->L; l++) {
        ADD(1, s->H, 0, "model.layers.%d.input_layernorm.weight", l);
        ADD(2, (s->Nq + 2 * s->Nkv) * s->D, s->H, "model.layers.%d.self_attn.qkv_proj.weight", l);
        ADD(2, s->H, s->Nq * s->D, "model.layers.%d.self_attn.o_proj.weight", l);
        ADD(1, s->H, 0, "model.layers.%d.post_attention_layernorm.weight", l);
        ADD(2, 2 * s->I, s->H, "model.layers.%d.mlp.gate_up_proj.weight", l);
        ADD(2, s->H, s->I, "model.layers.%d.mlp.down_proj.weight", l);
    }
    ADD(1, s->H, 0, "model.norm.weight");
    if (!s->tied) ADD(2, s->V, s->H, "lm_head.weight");
#undef ADD
    return n;
}

/* Writes dir/{config.json, model.safetensors | shards + index}. skip/bad_* alter one
 * tensor to make error cases. */
typedef struct {
    const char *dtype;      /* "F32" or "BF16" */
    int shards;             /* 0 = model.safetensors */
    const char *skip;       /* tensor left out */
    const char *reshape;    /* tensor written with one row too few */
    const char *as_i8;      /* tensor stored with dtype I8 */
} ckpt_opts;

static void write_ckpt(const char *dir, const ckpt_spec *s, const ckpt_opts *o) {
    tdesc d[64];
    int n = list_tensors(s, d);
    tw_fresh_dir(dir);
    char path[700];
    snprintf(path, sizeof path, "%s/config.json", dir);
    tw_text(path, s->config);
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    tw_text(path, "{\"bos_token_id\": 1, \"eos_token_id\": [2, 7], \"pad_token_id\": 0}");
    tw_tensor tt[64];
    void *bufs[64];
    int m = 0;
    bool bf = !strcmp(o->dtype, "BF16");
    for (int i = 0; i < n; i++) {
        if (o->skip && !strcmp(d[i].name, o->skip)) continue;
        int64_t rows = d[i].shape[0], cols = d[i].rank == 2 ? d[i].shape[1] : 1;
        if (o->reshape && !strcmp(d[i].name, o->reshape)) rows--;
        int64_t cnt = rows * cols;
        float *v = malloc((size_t)cnt * sizeof *v);
        fill(d[i].name, v, cnt);
        tw_tensor *t = &tt[m];
        t->name = d[i].name;
        t->rank = d[i].rank;
        t->shape[0] = rows;
        t->shape[1] = cols;
        if (o->as_i8 && !strcmp(d[i].name, o->as_i8)) {
            t->dtype = "I8";
            t->nbytes = (size_t)cnt;
        } else if (bf) {
            uint16_t *b = (uint16_t *)v; /* in place: bf16 is half the size */
            for (int64_t k = 0; k < cnt; k++) b[k] = tw_bf16(v[k]);
            t->dtype = "BF16";
            t->nbytes = (size_t)cnt * 2;
        } else {
            t->dtype = "F32";
            t->nbytes = (size_t)cnt * 4;
        }
        t->data = v;
        bufs[m++] = v;
    }
    if (!o->shards) {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        tw_write(path, tt, m);
    } else {
        /* contiguous slices of the tensor list, one per shard, plus the index */
        char index[16384];
        size_t off = (size_t)snprintf(index, sizeof index, "{\"metadata\": {}, \"weight_map\": {");
        int per = (m + o->shards - 1) / o->shards, first = 1;
        for (int sh = 0; sh < o->shards; sh++) {
            int a = sh * per, b = a + per > m ? m : a + per;
            char fname[64];
            snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", sh + 1, o->shards);
            snprintf(path, sizeof path, "%s/%s", dir, fname);
            tw_write(path, tt + a, b - a);
            for (int i = a; i < b; i++)
                off += (size_t)snprintf(index + off, sizeof index - off, "%s\"%s\": \"%s\"", first ? "" : ", ",
                                        tt[i].name, fname), first = 0;
        }
        snprintf(index + off, sizeof index - off, "}}");
        snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
        tw_text(path, index);
    }
    for (int i = 0; i < m; i++) free(bufs[i]);
}

/* ---- int4 reference weights: quantize → dequantize the matrices MatMulNBits sees ---- */

typedef struct {
    olm_weight_source inner;
    bool tied;
    bool f16;   /* CUDA layout: every tensor fp16, int4 scales fp16 */
} qdq_source;

static bool is_linear(const char *name) {
    return strstr(name, "proj.weight") || !strcmp(name, "lm_head.weight");
}

static onnxllm_status qdq_get(void *ctx, const char *name, const int64_t *shape, int rank, float *dst,
                              onnxllm_error *err) {
    qdq_source *q = ctx;
    const char *src = (q->tied && !strcmp(name, "lm_head.weight")) ? "model.embed_tokens.weight" : name;
    onnxllm_status s = q->inner.get(q->inner.ctx, src, shape, rank, dst, err);
    if (s) return s;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= shape[i];
    if (rank != 2 || !is_linear(name)) {
        for (int64_t i = 0; q->f16 && i < n; i++) dst[i] = olm_f16_to_f32(olm_f32_to_f16(dst[i]));
        return ONNXLLM_OK;
    }
    const int64_t N = shape[0], K = shape[1];
    uint8_t *p = malloc((size_t)(N * K / 2));
    float *sc = malloc((size_t)(N * K / 32) * sizeof *sc);
    uint16_t *sh = malloc((size_t)(N * K / 32) * sizeof *sh);
    olm_q4_quantize(dst, N, K, p, q->f16 ? NULL : sc, q->f16 ? sh : NULL);
    olm_q4_dequantize(p, q->f16 ? NULL : sc, q->f16 ? sh : NULL, N, K, dst);
    free(p);
    free(sc);
    free(sh);
    return ONNXLLM_OK;
}

/* ---- the comparison ------------------------------------------------------------------ */

static onnxllm_status phi3_ref_logits(const olm_phi3_config *c, const olm_weight_source *w, const int64_t *ids, int S,
                                      float *out, onnxllm_error *e) {
    phi3_ref *r = NULL;
    onnxllm_status s = phi3_ref_create(c, w, &r, e);
    if (!s) s = phi3_ref_forward(r, ids, S, out, e);
    phi3_ref_free(r);
    return s;
}

/* Sets every MatMulNBits accuracy_level attribute of dir/model.onnx from 4 to 0 (same
 * length: AttributeProto name "accuracy_level" then field 3 varint 4). */
static int set_accuracy_level_0(const char *dir) {
    char path[700];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    FILE *f = fopen(path, "rb+");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n);
    int hits = 0;
    if (fread(b, 1, (size_t)n, f) == (size_t)n) {
        static const char pat[] = "\x0e" "accuracy_level\x18\x04";
        for (long i = 0; i + 17 <= n; i++)
            if (!memcmp(b + i, pat, 17)) {
                b[i + 16] = 0;
                hits++;
            }
        rewind(f);
        fwrite(b, 1, (size_t)n, f);
    }
    free(b);
    fclose(f);
    return hits;
}

/* Converts hf with the CLI into root/out; false (and a failed check) on error. */
static bool convert(const char *hf, const char *precision) {
    char args[1400];
    snprintf(args, sizeof args, "convert --from '%s' -o '%s' --precision %s", hf, P("out", NULL), precision);
    if (!strcmp(precision, "cuda")) /* int4, CUDA layout */
        snprintf(args, sizeof args, "convert --from '%s' -o '%s' --ep cuda", hf, P("out", NULL));
    int rc = run_cli(args, P("err.txt", NULL));
    if (rc != 0) {
        char *e = slurp(P("err.txt", NULL));
        printf("    convert exit %d: %s", rc, e);
        free(e);
    }
    CHECK_EQ_INT(rc, 0);
    return rc == 0;
}

/* Compares root/out's ORT logits with the reference on two prompts (one shorter and one
 * longer than the LongRoPE switch point 32). int4: the reference gets the quantized →
 * dequantized matrices; *vs_fp32 receives the distance to the plain fp32 reference.
 * Returns max |diff|. */
enum { M_FP32, M_INT4, M_INT4_CUDA };

static double compare(const char *hf_in, const ckpt_spec *s, int mode, double *vs_fp32, double *max_logit) {
    const bool int4 = mode != M_FP32, f16 = mode == M_INT4_CUDA;
    char hf[600], out[600];
    snprintf(hf, sizeof hf, "%s", hf_in);
    snprintf(out, sizeof out, "%s", P("out", NULL));
    olm_phi3_config c;
    olm_safetensors *st = NULL;
    onnxllm_error e = {0};
    if (olm_hf_config_load(hf, &c, &e) || olm_st_open_dir(hf, &st, &e)) {
        printf("    %s\n", e.message);
        CHECK(0);
        return INFINITY;
    }
    olm_st_source src = {st, hf};
    olm_weight_source w = olm_st_weight_source(&src);
    qdq_source q = {w, c.tie_word_embeddings, f16};
    olm_weight_source wq = {.ctx = &q, .get = qdq_get};
    olm_phi3_config cq = c;
    cq.tie_word_embeddings = false; /* lm_head int4, embedding fp32: two different tensors */

    double worst = 0, worst_fp32 = 0, maxabs = 0;
    const int lens[2] = {11, 45};
    for (int k = 0; k < 2; k++) {
        const int S = lens[k];
        int64_t ids[64];
        for (int i = 0; i < S; i++) ids[i] = (int64_t)((i * 37 + 5 + k) % s->V);
        float *got = malloc(sizeof(float) * (size_t)(S * s->V));
        float *want = malloc(sizeof(float) * (size_t)(S * s->V));
        float *plain = malloc(sizeof(float) * (size_t)(S * s->V));
        char eb[256];
        int ok = ort_logits(out, s->L, s->Nkv, s->D, ids, S, s->V, f16, got, eb) == 0;
        if (!ok) printf("    %s\n", eb);
        CHECK(ok);
        onnxllm_status rs = phi3_ref_logits(int4 ? &cq : &c, int4 ? &wq : &w, ids, S, want, &e);
        if (!rs) rs = phi3_ref_logits(&c, &w, ids, S, plain, &e);
        if (rs) printf("    reference: %s\n", e.message);
        CHECK(rs == ONNXLLM_OK);
        if (ok && !rs)
            for (int i = 0; i < S * s->V; i++) {
                double d = fabs((double)got[i] - want[i]), d2 = fabs((double)got[i] - plain[i]);
                if (!(d <= worst)) worst = d; /* NaN propagates */
                if (d2 > worst_fp32) worst_fp32 = d2;
                if (fabs(want[i]) > maxabs) maxabs = fabs(want[i]);
            }
        else
            worst = INFINITY;
        free(got);
        free(want);
        free(plain);
    }
    olm_st_close(st);
    if (vs_fp32) *vs_fp32 = worst_fp32;
    if (max_logit) *max_logit = maxabs;
    return worst;
}

static void fp32_case(const ckpt_spec *spec, const ckpt_opts *o) {
    char hf[600];
    snprintf(hf, sizeof hf, "%s", P("hf", NULL));
    write_ckpt(hf, spec, o);
    if (!convert(hf, "fp32")) return;
    double d = compare(hf, spec, M_FP32, NULL, NULL);
    printf("    max |ORT - reference| = %.3g\n", d);
    CHECK(d < 1e-4);
}

TEST(phi4_like_fp32_weights_single_file_fp32) { fp32_case(&PHI4_LIKE, &(ckpt_opts){.dtype = "F32"}); }
TEST(phi4_like_bf16_sharded_fp32) { fp32_case(&PHI4_LIKE, &(ckpt_opts){.dtype = "BF16", .shards = 3}); }
TEST(phi3_mini_like_bf16_fp32) { fp32_case(&PHI3_MINI_LIKE, &(ckpt_opts){.dtype = "BF16"}); }

/* int4: first the model exactly as converted (CPU: accuracy_level 4), then the same
 * file with accuracy_level set to 0.
 * - accuracy_level 0 makes MatMulNBits compute in fp32 with the dequantized weights,
 *   so ORT must match the reference fed with quantize→dequantize weights as tightly as
 *   the fp32 models do (1e-4): this pins down layout, nibble order and scale signs.
 * - accuracy_level 4 additionally quantizes MatMulNBits' *activations* to int8 per
 *   block of 32 (MLAS CompInt8), which the reference does not model: each activation
 *   moves by up to 1/254 of its block's max. These random weights (±0.2, no training)
 *   amplify perturbations ~10x across the 2 layers (int4 weights, ~6% per weight, move
 *   the logits by ~60% of their range), so we bound the level-4 difference by 8% of the
 *   largest |logit| and require it to stay well below the int4-vs-fp32 distance. */
static void int4_case(const ckpt_spec *spec, const ckpt_opts *o) {
    char hf[600];
    snprintf(hf, sizeof hf, "%s", P("hf", NULL));
    write_ckpt(hf, spec, o);
    if (!convert(hf, "int4")) return;
    double vs_fp32 = 0, maxabs = 0;
    double d4 = compare(hf, spec, M_INT4, &vs_fp32, &maxabs);
    CHECK_EQ_INT(set_accuracy_level_0(P("out", NULL)), 1 + 5 * spec->L); /* lm_head + per layer qkv, o, gate, up, down */
    double d0 = compare(hf, spec, M_INT4, NULL, NULL);
    printf("    max |logit| %.3g; max |ORT - reference(dequantized)|: accuracy_level 0 %.3g, 4 %.3g; "
           "int4 vs fp32 weights %.3g\n", maxabs, d0, d4, vs_fp32);
    CHECK(d0 < 1e-4);
    CHECK(d4 < 0.08 * maxabs);
    CHECK(vs_fp32 > 4 * d4);
}

/* CUDA layout (fp16 I/O, fp16 scales, no accuracy_level), run by ORT's CPU provider:
 * the reference gets fp16-rounded tensors and int4 matrices quantized with fp16 scales
 * (as our quantizer does for this layout). ORT computes in fp16 (10-bit mantissa), so the
 * bound is relative: 3% of the largest |logit|, against an int4 effect of >10x that. */
TEST(phi4_like_bf16_int4_cuda_layout) {
    char hf[600];
    snprintf(hf, sizeof hf, "%s", P("hf", NULL));
    write_ckpt(hf, &PHI4_LIKE, &(ckpt_opts){.dtype = "BF16"});
    if (!convert(hf, "cuda")) return;
    double vs_fp32 = 0, maxabs = 0, d = compare(hf, &PHI4_LIKE, M_INT4_CUDA, &vs_fp32, &maxabs);
    printf("    max |logit| %.3g; max |ORT fp16 - reference(fp16, dequantized)| %.3g; vs fp32 weights %.3g\n", maxabs,
           d, vs_fp32);
    CHECK(d < 0.03 * maxabs);
    CHECK(vs_fp32 > 4 * d);
}

TEST(phi4_like_bf16_sharded_int4) { int4_case(&PHI4_LIKE, &(ckpt_opts){.dtype = "BF16", .shards = 2}); }
TEST(phi3_mini_like_f32_int4) { int4_case(&PHI3_MINI_LIKE, &(ckpt_opts){.dtype = "F32"}); }

/* ---- errors: one clear line, exit 1 (2 for usage) ---------------------------------------- */

static void expect_fail(const char *args, int code, const char *msg) {
    int rc = run_cli(args, P("err.txt", NULL));
    char *e = slurp(P("err.txt", NULL));
    int lines = 0;
    for (char *p = e; *p; p++) lines += *p == '\n';
    if (rc != code || !strstr(e, msg)) printf("    [%s] exit %d, stderr: %s    wanted %d + \"%s\"\n", args, rc, e, code, msg);
    else printf("    exit %d: %s", rc, e); /* the message a user sees */
    CHECK_EQ_INT(rc, code);
    CHECK(strstr(e, msg) != NULL);
    if (code == 1) CHECK_EQ_INT(lines, 1);
    free(e);
}

TEST(convert_errors) {
    char hf[600], out[600], a[1400];
    snprintf(hf, sizeof hf, "%s", P("hf", NULL));
    snprintf(out, sizeof out, "%s", P("bad-out", NULL));
#define CONV(...) (snprintf(a, sizeof a, "convert --from '%s' -o '%s' --precision fp32", hf, out), a)
    write_ckpt(hf, &PHI3_MINI_LIKE, &(ckpt_opts){.dtype = "F32", .skip = "model.layers.1.mlp.down_proj.weight"});
    expect_fail(CONV(), 1, "missing tensor 'model.layers.1.mlp.down_proj.weight'");
    write_ckpt(hf, &PHI3_MINI_LIKE, &(ckpt_opts){.dtype = "F32", .reshape = "model.layers.0.self_attn.o_proj.weight"});
    expect_fail(CONV(), 1, "tensor 'model.layers.0.self_attn.o_proj.weight' has shape [63, 64], expected [64, 64]");
    write_ckpt(hf, &PHI3_MINI_LIKE, &(ckpt_opts){.dtype = "F32", .as_i8 = "model.norm.weight"});
    expect_fail(CONV(), 1, "tensor 'model.norm.weight': unsupported dtype I8");
    /* truncated file: cut the last bytes off */
    write_ckpt(hf, &PHI3_MINI_LIKE, &(ckpt_opts){.dtype = "F32"});
    char st[700];
    snprintf(st, sizeof st, "%s/model.safetensors", hf);
    FILE *f = fopen(st, "rb+");
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fclose(f);
    CHECK(truncate(st, sz - 100) == 0);
    expect_fail(CONV(), 1, "truncated safetensors file: tensor 'lm_head.weight' ends at data byte");
    /* malformed JSON header */
    f = fopen(st, "rb+");
    fseek(f, 8, SEEK_SET);
    fputc('[', f);
    fclose(f);
    expect_fail(CONV(), 1, "model.safetensors: malformed JSON at line 1");
    /* architectures */
    write_ckpt(hf, &PHI3_MINI_LIKE, &(ckpt_opts){.dtype = "F32"});
    snprintf(st, sizeof st, "%s/config.json", hf);
    tw_text(st, "{\"architectures\": [\"MistralForCausalLM\"], \"hidden_size\": 64}");
    expect_fail(CONV(), 1, "unsupported architecture 'MistralForCausalLM' (supported: Phi3ForCausalLM)");
    unlink(st);
    expect_fail(CONV(), 1, "config.json: cannot open");
    /* usage */
    expect_fail("convert -o x", 2, "missing --from");
    snprintf(a, sizeof a, "convert --from '%s'", hf);
    expect_fail(a, 2, "missing -o");
    snprintf(a, sizeof a, "convert --from '%s' -o x --precision int8", hf);
    expect_fail(a, 2, "unknown precision 'int8'");
    expect_fail("convert --bogus", 2, "unrecognized option '--bogus'");
    CHECK_EQ_INT(run_cli("convert --help", P("err.txt", NULL)), 0);
#undef CONV
}

/* ---- quantize: fp32 model → int4 == build-model int4, byte for byte -------------------- */

static int same_file(const char *a, const char *b) {
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static void quantize_equals_build(const char *preset, int seed) {
    char a[1400];
    snprintf(a, sizeof a, "build-model --preset %s --seed %d --precision fp32 -q -o '%s'", preset, seed, P("q32", NULL));
    CHECK_EQ_INT(run_cli(a, P("err.txt", NULL)), 0);
    snprintf(a, sizeof a, "build-model --preset %s --seed %d --precision int4 -q -o '%s'", preset, seed, P("q4", NULL));
    CHECK_EQ_INT(run_cli(a, P("err.txt", NULL)), 0);
    snprintf(a, sizeof a, "quantize -q '%s' '%s'", P("q32", NULL), P("qq", NULL));
    int rc = run_cli(a, P("err.txt", NULL));
    if (rc) {
        char *e = slurp(P("err.txt", NULL));
        printf("    quantize: %s", e);
        free(e);
    }
    CHECK_EQ_INT(rc, 0);
    static const char *const files[] = {"model.onnx", "model.onnx.data", "genai_config.json"};
    for (int i = 0; i < 3; i++) {
        int same = same_file(P("q4", files[i]), P("qq", files[i]));
        if (!same) printf("    %s: %s differs\n", preset, files[i]);
        CHECK(same);
    }
}

TEST(quantize_matches_build_model_int4) {
    quantize_equals_build("tiny-gqa", 7);          /* LongRoPE If + tied lm_head */
    quantize_equals_build("tiny-mha", 3);          /* single cache initializers, untied */
    quantize_equals_build("tiny-gqa-untied", 11);
}

/* The fp32 model source: whole-tensor reads and streamed row reads agree (rows of
 * lm_head are strided columns of the stored [H, V] weight), at any row offset. */
TEST(fp32_source_rows_match_whole) {
    char a[1400], dir[600];
    snprintf(dir, sizeof dir, "%s", P("rows32", NULL));
    snprintf(a, sizeof a, "build-model --preset tiny-gqa-untied --seed 5 --precision fp32 -q -o '%s'", dir);
    CHECK_EQ_INT(run_cli(a, P("err.txt", NULL)), 0);
    olm_fp32_model *fm = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_fp32_model_open(dir, &fm, &e), ONNXLLM_OK);
    if (!fm) {
        printf("    %s\n", e.message);
        return;
    }
    const olm_phi3_config *c = olm_fp32_model_config(fm);
    olm_weight_source w = olm_fp32_model_weights(fm);
    const int64_t V = c->vocab_size, H = c->hidden_size, shape[2] = {V, H};
    float *whole = malloc(sizeof(float) * (size_t)(V * H)), *rows = malloc(sizeof(float) * (size_t)(V * H));
    static const char *const names[] = {"model.embed_tokens.weight", "lm_head.weight"};
    for (int k = 0; k < 2; k++) {
        CHECK_EQ_INT(w.get(w.ctx, names[k], shape, 2, whole, &e), ONNXLLM_OK);
        const int64_t r0 = 37, n = V - 37 - 5;
        CHECK_EQ_INT(w.get_rows(w.ctx, names[k], shape, r0, n, rows, &e), ONNXLLM_OK);
        CHECK(!memcmp(rows, whole + r0 * H, sizeof(float) * (size_t)(n * H)));
    }
    CHECK_EQ_INT(w.get_rows(w.ctx, "lm_head.weight", shape, V - 2, 3, rows, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    free(whole);
    free(rows);
    olm_fp32_model_close(fm);
}

TEST(quantize_errors) {
    char a[1400];
    snprintf(a, sizeof a, "quantize -q '%s' '%s'", P("q4", NULL), P("qbad", NULL));
    expect_fail(a, 1, "already quantized");
    snprintf(a, sizeof a, "quantize -q '%s' '%s'", P("nothing-here", NULL), P("qbad", NULL));
    expect_fail(a, 1, "nothing-here");
    expect_fail("quantize onlyone", 2, "expected IN_DIR and OUT_DIR");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_convert PATH_TO_ONNXLLM\n");
        return 2;
    }
    cli = argv[1];
    snprintf(root, sizeof root, "/tmp/olm_test_convert_%d", (int)getpid());
    tw_fresh_dir(root);
    RUN(phi4_like_fp32_weights_single_file_fp32);
    RUN(phi4_like_bf16_sharded_fp32);
    RUN(phi3_mini_like_bf16_fp32);
    RUN(phi4_like_bf16_sharded_int4);
    RUN(phi3_mini_like_f32_int4);
    RUN(phi4_like_bf16_int4_cuda_layout);
    RUN(convert_errors);
    RUN(quantize_matches_build_model_int4);
    RUN(fp32_source_rows_match_whole);
    RUN(quantize_errors);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (!test_failed_ && system(cmd) != 0) printf("cleanup failed\n");
    return test_summary("convert");
}
