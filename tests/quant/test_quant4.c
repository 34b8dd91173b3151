/* test_quant4.c — int4 block quantizer and fp16 conversions.
 *
 * Where the expected bytes come from: ORT's quantizer (MLAS BlockwiseQuantizer in
 * onnxruntime/core/mlas/lib/q4_dq.cpp, driven by the Python MatMulNBitsQuantizer) is
 * not reachable through the C API — `nm -D libonnxruntime.so.1` exports no quantize
 * symbol — so the hand-computed cases below apply its formula by hand (reference
 * docs/reference/phi4-onnx-graph.md §3.3): m = value of largest |v| (tie → the negative one),
 * scale = -m/8, q = clamp(roundf(v * (1/scale) + 8), 0, 15), even k in the low nibble.
 * The layout and scale sign convention are then checked against ORT itself: a one-node
 * MatMulNBits model built from our packed bytes must give the same product as a naive
 * fp32 matmul with the dequantized weights. */
#include "test.h"
#include "writer/quant4.h"

#include <math.h>
#include <stdint.h>
#include <onnxruntime_c_api.h>

static uint32_t f2u(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Quantizes one [1][32] row and returns scale (fp32). */
static float q_one(const float *v32, uint8_t out[16]) {
    float s = 0;
    olm_q4_quantize(v32, 1, 32, out, &s, NULL);
    return s;
}

static int bytes_are(const uint8_t *got, const uint8_t *exp, int n) {
    int ok = 1;
    for (int i = 0; i < n; i++)
        if (got[i] != exp[i]) {
            printf("    byte %d: got 0x%02X expected 0x%02X\n", i, got[i], exp[i]);
            ok = 0;
        }
    return ok;
}

static void fill88(uint8_t *e) { memset(e, 0x88, 16); }

TEST(all_zero_block) {
    float v[32] = {0};
    uint8_t q[16], e[16];
    fill88(e);
    float s = q_one(v, q);
    /* m = 0 → scale = -0/8 = -0.0 (sign bit set, as MLAS stores it); 1/scale := 0 → q = 8 */
    CHECK_EQ_INT(f2u(s), 0x80000000u);
    CHECK(bytes_are(q, e, 16));
}

TEST(magnitude_tie_picks_negative) {
    float v[32] = {0};
    v[0] = 2.0f;
    v[1] = -2.0f;
    uint8_t q[16], e[16];
    fill88(e);
    float s = q_one(v, q);
    /* m = -2 → scale = 0.25, 1/scale = 4: 2 → 16 → 15, -2 → 0, 0 → 8 */
    CHECK(s == 0.25f);
    e[0] = 0x0F;
    CHECK(bytes_are(q, e, 16));
}

TEST(negative_extreme) {
    float v[32] = {0};
    v[0] = -4.0f;
    v[1] = 1.0f;
    v[2] = 3.0f;
    uint8_t q[16], e[16];
    fill88(e);
    float s = q_one(v, q);
    /* m = -4 → scale 0.5, rs 2: -4 → 0, 1 → 10, 3 → 14 */
    CHECK(s == 0.5f);
    e[0] = 0xA0;
    e[1] = 0x8E;
    CHECK(bytes_are(q, e, 16));
}

TEST(positive_extreme_negative_scale_and_saturation) {
    float v[32] = {0};
    v[0] = 8.0f;
    v[1] = -3.0f;
    v[2] = 5.0f;
    v[3] = -7.9f;
    v[31] = 7.5f;
    uint8_t q[16], e[16];
    fill88(e);
    float s = q_one(v, q);
    /* m = 8 → scale -1, rs -1: 8 → 0, -3 → 11, 5 → 3, -7.9 → 15.9 → 16 → clamp 15,
     * 7.5 → 0.5 → roundf 1 (half away from zero) */
    CHECK(s == -1.0f);
    e[0] = 0xB0;
    e[1] = 0xF3;
    e[15] = 0x18;
    CHECK(bytes_are(q, e, 16));
}

TEST(half_way_rounds_away_from_zero) {
    float v[32] = {0};
    const float in[7] = {-8.0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f};
    memcpy(v, in, sizeof in);
    uint8_t q[16], e[16];
    fill88(e);
    float s = q_one(v, q);
    /* scale 1: q = roundf(v + 8): 0, 8.5→9, 7.5→8, 9.5→10, 6.5→7, 10.5→11, 5.5→6
     * (round-half-even would give 8, 8, 10, 6, 10, 6) */
    CHECK(s == 1.0f);
    e[0] = 0x90;
    e[1] = 0xA8;
    e[2] = 0xB7;
    e[3] = 0x86;
    CHECK(bytes_are(q, e, 16));
}

TEST(layout_rows_and_blocks) {
    /* N=2, K=64: scale index n*2+b, bytes at (n*2+b)*16 + k/2 */
    float W[2 * 64] = {0};
    W[0 * 64 + 33] = -8.0f;       /* row 0, block 1, k=33 (odd → high nibble of byte 16) */
    W[1 * 64 + 2] = 4.0f;         /* row 1, block 0: m = 4 → scale -0.5 */
    W[1 * 64 + 3] = 1.0f;         /* → -2 + 8 = 6 */
    uint8_t p[64];
    float s[4];
    olm_q4_quantize(W, 2, 64, p, s, NULL);
    CHECK_EQ_INT(f2u(s[0]), 0x80000000u);
    CHECK(s[1] == 1.0f);
    CHECK(s[2] == -0.5f);
    CHECK_EQ_INT(f2u(s[3]), 0x80000000u);
    CHECK_EQ_INT(p[16], 0x08);    /* row 0 block 1 byte 0: k=32 → 8, k=33 → 0 */
    CHECK_EQ_INT(p[32 + 1], 0x60); /* row 1 block 0 byte 1: k=2 → 0, k=3 → 6 */
    float back[128];
    olm_q4_dequantize(p, s, NULL, 2, 64, back);
    CHECK(back[33] == -8.0f && back[64 + 2] == 4.0f && back[64 + 3] == 1.0f && back[0] == 0.0f);
}

TEST(fp16_scales_use_rounded_scale) {
    float v[32] = {0};
    v[0] = -1.0f / 3.0f;
    v[1] = 0.2f;
    uint8_t q[16];
    uint16_t s16 = 0;
    olm_q4_quantize(v, 1, 32, q, NULL, &s16);
    /* fp16(-1/3) = -0.333251953125 (0xB555); scale = 0.041656494140625 = 0x2955 (exact /8);
     * fp16(0.2) = 0.199951171875; 0.19995 / 0.041656 = 4.8 → 12.8 → 13 */
    CHECK_EQ_INT(s16, 0x2955);
    CHECK_EQ_INT(q[0], 0xD0);
    float back[32];
    olm_q4_dequantize(q, NULL, &s16, 1, 32, back);
    CHECK(back[0] == -8.0f * 0.041656494140625f);
    CHECK(back[1] == 5.0f * 0.041656494140625f);
}

TEST(f32_to_f16_bit_patterns) {
    const struct {
        float f;
        uint16_t h;
    } c[] = {
        {1.0f, 0x3C00},          {-2.0f, 0xC000},           {0.0f, 0x0000},
        {-0.0f, 0x8000},         {65504.0f, 0x7BFF},        {65519.99f, 0x7BFF},
        {65520.0f, 0x7C00},      {1e9f, 0x7C00},            {-INFINITY, 0xFC00},
        {INFINITY, 0x7C00},      {0x1p-14f, 0x0400},        {0x1p-24f, 0x0001},
        {0x1p-25f, 0x0000},      {0x1.8p-25f, 0x0001},      {0x1.8p-24f, 0x0002},
        {0x1.4p-24f, 0x0001},    {1023 * 0x1p-24f, 0x03FF}, {0x1.ff8p-15f, 0x03FF}, {0x1.ffap-15f, 0x03FF}, {0x1.ffcp-15f, 0x0400} /* tie → even */,
        {0x1.ffep-15f, 0x0400},  {0.1f, 0x2E66},            {1.0f / 3.0f, 0x3555},
        {1.0f + 0x1p-11f, 0x3C00}, {1.0f + 0x1.8p-10f, 0x3C02}, {1.0f + 0x1p-10f + 0x1p-11f, 0x3C02},
        {-65504.0f, 0xFBFF},     {1e-10f, 0x0000},          {-1e-10f, 0x8000},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        uint16_t h = olm_f32_to_f16(c[i].f);
        if (h != c[i].h) printf("    %a → 0x%04X expected 0x%04X\n", c[i].f, h, c[i].h);
        CHECK_EQ_INT(h, c[i].h);
    }
    uint16_t n = olm_f32_to_f16(NAN);
    CHECK((n & 0x7C00) == 0x7C00 && (n & 0x3FF) != 0);
}

TEST(f16_to_f32_values_and_roundtrip) {
    CHECK(olm_f16_to_f32(0x0001) == 0x1p-24f);
    CHECK(olm_f16_to_f32(0x03FF) == 1023 * 0x1p-24f);
    CHECK(olm_f16_to_f32(0x8001) == -0x1p-24f);
    CHECK(olm_f16_to_f32(0x7BFF) == 65504.0f);
    CHECK(olm_f16_to_f32(0x3555) == 0.333251953125f);
    CHECK(olm_f16_to_f32(0xFC00) == -INFINITY);
    CHECK(isnan(olm_f16_to_f32(0x7E00)));
    CHECK_EQ_INT(f2u(olm_f16_to_f32(0x8000)), 0x80000000u);
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) continue; /* nan */
        if (olm_f32_to_f16(olm_f16_to_f32((uint16_t)h)) != h) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    /* each value between two adjacent halves rounds to the nearer one, ties to even */
    bad = 0;
    for (uint32_t h = 0x0000; h < 0x7BFF; h++) {
        float a = olm_f16_to_f32((uint16_t)h), b = olm_f16_to_f32((uint16_t)(h + 1));
        float mid = a + (b - a) / 2; /* exact: fp32 has 13 more bits */
        uint16_t want = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        if (olm_f32_to_f16(mid) != want) bad++;
        if (olm_f32_to_f16(nextafterf(mid, 0)) != h) bad++;
        if (olm_f32_to_f16(nextafterf(mid, INFINITY)) != h + 1) bad++;
    }
    CHECK_EQ_INT(bad, 0);
}

/* ---- a one-node MatMulNBits model, encoded by hand (test-only protobuf writer) ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void varint(buf *b, uint64_t v) {
    uint8_t t[10];
    int n = 0;
    do {
        t[n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put(b, t, (size_t)n);
}
static void f_varint(buf *b, int field, uint64_t v) {
    varint(b, (uint64_t)field << 3);
    varint(b, v);
}
static void f_bytes(buf *b, int field, const void *d, size_t n) {
    varint(b, (uint64_t)field << 3 | 2);
    varint(b, n);
    put(b, d, n);
}
static void f_str(buf *b, int field, const char *s) { f_bytes(b, field, s, strlen(s)); }
static void f_msg(buf *b, int field, buf *m) {
    f_bytes(b, field, m->p, m->n);
    free(m->p);
    *m = (buf){0};
}

static void attr_int(buf *node, const char *name, int64_t v) {
    buf a = {0};
    f_str(&a, 1, name);
    f_varint(&a, 3, (uint64_t)v);
    f_varint(&a, 20, 2); /* AttributeProto.INT */
    f_msg(node, 5, &a);
}
static void tensor(buf *g, const char *name, int dtype, const int64_t *dims, int rank, const void *d,
                   size_t n) {
    buf t = {0};
    for (int i = 0; i < rank; i++) f_varint(&t, 1, (uint64_t)dims[i]);
    f_varint(&t, 2, (uint64_t)dtype);
    f_str(&t, 8, name);
    f_bytes(&t, 9, d, n);
    f_msg(g, 5, &t);
}
static void value_info(buf *g, int field, const char *name, const char *d0, int64_t d1) {
    buf dim0 = {0}, dim1 = {0}, shape = {0}, tt = {0}, type = {0}, vi = {0};
    f_str(&dim0, 2, d0);
    f_varint(&dim1, 1, (uint64_t)d1);
    f_msg(&shape, 1, &dim0);
    f_msg(&shape, 1, &dim1);
    f_varint(&tt, 1, 1); /* FLOAT */
    f_msg(&tt, 2, &shape);
    f_msg(&type, 1, &tt);
    f_str(&vi, 1, name);
    f_msg(&vi, 2, &type);
    f_msg(g, field, &vi);
}

static buf matmulnbits_model(int64_t N, int64_t K, const uint8_t *B, const float *scales) {
    buf node = {0}, g = {0}, m = {0}, op = {0}, op2 = {0};
    f_str(&node, 1, "A");
    f_str(&node, 1, "B");
    f_str(&node, 1, "scales");
    f_str(&node, 2, "Y");
    f_str(&node, 3, "mm");
    f_str(&node, 4, "MatMulNBits");
    f_str(&node, 7, "com.microsoft");
    attr_int(&node, "K", K);
    attr_int(&node, "N", N);
    attr_int(&node, "accuracy_level", 0);
    attr_int(&node, "bits", 4);
    attr_int(&node, "block_size", 32);
    f_msg(&g, 1, &node);
    f_str(&g, 2, "g");
    int64_t bd[3] = {N, K / 32, 16}, sd[1] = {N * (K / 32)};
    tensor(&g, "B", 2 /* UINT8 */, bd, 3, B, (size_t)(N * (K / 32) * 16));
    tensor(&g, "scales", 1 /* FLOAT */, sd, 1, scales, (size_t)sd[0] * 4);
    value_info(&g, 11, "A", "M", K);
    value_info(&g, 12, "Y", "M", N);
    f_varint(&m, 1, 7); /* ir_version */
    f_str(&op, 1, "");
    f_varint(&op, 2, 14);
    f_msg(&m, 8, &op);
    f_str(&op2, 1, "com.microsoft");
    f_varint(&op2, 2, 1);
    f_msg(&m, 8, &op2);
    f_msg(&m, 7, &g);
    return m;
}

#define ORT_OK(expr)                                                          \
    do {                                                                      \
        OrtStatus *st_ = (expr);                                              \
        if (st_) {                                                            \
            printf("  ORT error: %s (%s)\n", ort->GetErrorMessage(st_), #expr); \
            ort->ReleaseStatus(st_);                                          \
            CHECK(0);                                                         \
            goto done;                                                        \
        }                                                                     \
    } while (0)

static uint32_t lcg(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

TEST(ort_matmulnbits_matches_dequantized_matmul) {
    enum { M = 3, N = 24, K = 128 };
    static float W[N * K], Wd[N * K], A[M * K], Y[M * N], S[N * K / 32];
    static uint8_t P[N * K / 2];
    uint32_t seed = 12345;
    for (int i = 0; i < N * K; i++) W[i] = ((float)(lcg(&seed) % 20001) - 10000.0f) / 10000.0f * 0.2f;
    for (int i = 0; i < K; i++) W[5 * K + i] = -W[5 * K + i] * 3.0f; /* vary the scale signs */
    for (int i = 0; i < M * K; i++) A[i] = ((float)(lcg(&seed) % 2001) - 1000.0f) / 1000.0f;
    olm_q4_quantize(W, N, K, P, S, NULL);
    olm_q4_dequantize(P, S, NULL, N, K, Wd);
    int neg = 0, pos = 0;
    for (int i = 0; i < N * K / 32; i++) { if (S[i] < 0) neg++; else pos++; }
    CHECK(neg > 0 && pos > 0);

    const OrtApi *ort = OrtGetApiBase()->GetApi(ORT_API_VERSION);
    OrtEnv *env = NULL;
    OrtSessionOptions *so = NULL;
    OrtSession *sess = NULL;
    OrtMemoryInfo *mi = NULL;
    OrtValue *in = NULL, *out = NULL;
    buf model = matmulnbits_model(N, K, P, S);
    ORT_OK(ort->CreateEnv(ORT_LOGGING_LEVEL_WARNING, "quant4", &env));
    ORT_OK(ort->CreateSessionOptions(&so));
    ORT_OK(ort->SetIntraOpNumThreads(so, 1));
    ORT_OK(ort->CreateSessionFromArray(env, model.p, model.n, so, &sess));
    ORT_OK(ort->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &mi));
    int64_t ashape[2] = {M, K};
    ORT_OK(ort->CreateTensorWithDataAsOrtValue(mi, A, sizeof A, ashape, 2,
                                               ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &in));
    const char *in_names[] = {"A"}, *out_names[] = {"Y"};
    ORT_OK(ort->Run(sess, NULL, in_names, (const OrtValue *const *)&in, 1, out_names, 1, &out));
    float *y = NULL;
    ORT_OK(ort->GetTensorMutableData(out, (void **)&y));
    memcpy(Y, y, sizeof Y);
    double maxdiff = 0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            float ref = 0; /* naive fp32 matmul with the dequantized weights */
            for (int k = 0; k < K; k++) ref += A[m * K + k] * Wd[n * K + k];
            double d = fabs((double)Y[m * N + n] - ref);
            if (d > maxdiff) maxdiff = d;
        }
    printf("    max |ORT - naive| = %.3g\n", maxdiff);
    CHECK(maxdiff < 1e-5);
done:
    if (out) ort->ReleaseValue(out);
    if (in) ort->ReleaseValue(in);
    if (mi) ort->ReleaseMemoryInfo(mi);
    if (sess) ort->ReleaseSession(sess);
    if (so) ort->ReleaseSessionOptions(so);
    if (env) ort->ReleaseEnv(env);
    free(model.p);
}

int main(void) {
    RUN(all_zero_block);
    RUN(magnitude_tie_picks_negative);
    RUN(negative_extreme);
    RUN(positive_extreme_negative_scale_and_saturation);
    RUN(half_way_rounds_away_from_zero);
    RUN(layout_rows_and_blocks);
    RUN(fp16_scales_use_rounded_scale);
    RUN(f32_to_f16_bit_patterns);
    RUN(f16_to_f32_values_and_roundtrip);
    RUN(ort_matmulnbits_matches_dequantized_matmul);
    return test_summary("quant4");
}
