/* test_safetensors.c — safetensors reader, HF weight source and config.json parsing,
 * including every bad-input case `convert` must report in one clear line. */
#include "test.h"
#include "st_write.h"
#include "writer/hf_config.h"
#include "writer/quant4.h"
#include "writer/safetensors.h"

#include <unistd.h>

static char dir[256];

static char *P(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static const float v6[6] = {1.0f, -2.5f, 0.15625f, 3.0e-3f, -0.0f, 1000.0f};

static void write_basic(void) {
    uint16_t bf[6], h[6];
    for (int i = 0; i < 6; i++) {
        bf[i] = tw_bf16(v6[i]);
        h[i] = olm_f32_to_f16(v6[i]);
    }
    tw_tensor t[] = {
        {"a.f32", "F32", 2, {2, 3}, v6, sizeof v6},
        {"b.bf16", "BF16", 2, {3, 2}, bf, sizeof bf},
        {"c.f16", "F16", 1, {6}, h, sizeof h},
        {"d.i8", "I8", 1, {2}, "xy", 2},
    };
    tw_fresh_dir(dir);
    CHECK(tw_write(P("model.safetensors"), t, 4) == 0);
}

TEST(reads_f32_bf16_f16) {
    write_basic();
    olm_safetensors *st = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_st_open_dir(dir, &st, &e), ONNXLLM_OK);
    if (!st) return;
    const olm_st_tensor *a = olm_st_find(st, "a.f32"), *b = olm_st_find(st, "b.bf16"), *c = olm_st_find(st, "c.f16");
    CHECK(a && b && c && !olm_st_find(st, "zz"));
    if (!a || !b || !c) goto out;
    CHECK(a->rank == 2 && a->shape[0] == 2 && a->shape[1] == 3 && b->shape[0] == 3);
    float x[6];
    CHECK_EQ_INT(olm_st_to_f32(a, x, &e), ONNXLLM_OK);
    CHECK(!memcmp(x, v6, sizeof x));
    CHECK_EQ_INT(olm_st_to_f32(b, x, &e), ONNXLLM_OK);
    /* bf16: 1, -2.5, 0.15625 exact; 3e-3 → 0.0030059814453125 (RNE of the fp32); 1000 exact */
    CHECK(x[0] == 1.0f && x[1] == -2.5f && x[2] == 0.15625f && x[3] == 0.0030059814453125f && x[5] == 1000.0f);
    CHECK_EQ_INT(olm_st_to_f32(c, x, &e), ONNXLLM_OK);
    CHECK(x[1] == -2.5f && x[3] == 0.0030002593994140625f && x[5] == 1000.0f);
    CHECK_EQ_INT(olm_st_to_f32(olm_st_find(st, "d.i8"), x, &e), ONNXLLM_ERR_UNSUPPORTED);
    CHECK(strstr(e.message, "model.safetensors: tensor 'd.i8': unsupported dtype I8") != NULL);
out:
    olm_st_close(st);
}

TEST(weight_source_shapes_and_missing) {
    write_basic();
    olm_safetensors *st = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_st_open_dir(dir, &st, &e), ONNXLLM_OK);
    if (!st) return;
    olm_st_source src = {st, dir};
    olm_weight_source w = olm_st_weight_source(&src);
    float x[6];
    int64_t good[2] = {2, 3}, bad[2] = {3, 2};
    CHECK_EQ_INT(w.get(w.ctx, "a.f32", good, 2, x, &e), ONNXLLM_OK);
    CHECK(x[5] == 1000.0f);
    CHECK_EQ_INT(w.get(w.ctx, "a.f32", bad, 2, x, &e), ONNXLLM_ERR_FORMAT);
    CHECK(strstr(e.message, "tensor 'a.f32' has shape [2, 3], expected [3, 2]") != NULL);
    CHECK_EQ_INT(w.get(w.ctx, "model.norm.weight", good, 1, x, &e), ONNXLLM_ERR_FORMAT);
    CHECK(strstr(e.message, "missing tensor 'model.norm.weight'") != NULL);
    float r[3];
    CHECK_EQ_INT(w.get_rows(w.ctx, "a.f32", good, 1, 1, r, &e), ONNXLLM_OK); /* row 1 of [2, 3] */
    CHECK(r[0] == v6[3] && r[1] == v6[4] && r[2] == v6[5]);
    int64_t bshape[2] = {3, 2};
    CHECK_EQ_INT(w.get_rows(w.ctx, "b.bf16", bshape, 2, 1, r, &e), ONNXLLM_OK); /* bf16 row 2 */
    CHECK(r[0] == -0.0f && r[1] == 1000.0f);
    CHECK_EQ_INT(w.get_rows(w.ctx, "b.bf16", bshape, 2, 2, r, &e), ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(w.get_rows(w.ctx, "a.f32", bad, 0, 1, r, &e), ONNXLLM_ERR_FORMAT);
    int64_t two[1] = {2};
    CHECK_EQ_INT(w.get(w.ctx, "d.i8", two, 1, x, &e), ONNXLLM_ERR_UNSUPPORTED);
    CHECK(strstr(e.message, "unsupported dtype I8") != NULL);
    olm_st_close(st);
}

TEST(split_qkv_and_gate_up_are_stacked) {
    float q[4 * 2], k[2 * 2], v[2 * 2], g[3 * 2], u[3 * 2];
    for (int i = 0; i < 8; i++) q[i] = (float)i;
    for (int i = 0; i < 4; i++) k[i] = 100.0f + (float)i, v[i] = 200.0f + (float)i;
    for (int i = 0; i < 6; i++) g[i] = -1.0f - (float)i, u[i] = 1.0f + (float)i;
    tw_tensor t[] = {
        {"m.layers.0.self_attn.q_proj.weight", "F32", 2, {4, 2}, q, sizeof q},
        {"m.layers.0.self_attn.k_proj.weight", "F32", 2, {2, 2}, k, sizeof k},
        {"m.layers.0.self_attn.v_proj.weight", "F32", 2, {2, 2}, v, sizeof v},
        {"m.layers.0.mlp.gate_proj.weight", "F32", 2, {3, 2}, g, sizeof g},
        {"m.layers.0.mlp.up_proj.weight", "F32", 2, {3, 2}, u, sizeof u},
    };
    tw_fresh_dir(dir);
    tw_write(P("model.safetensors"), t, 5);
    olm_safetensors *st = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_st_open_dir(dir, &st, &e), ONNXLLM_OK);
    if (!st) return;
    olm_st_source src = {st, dir};
    olm_weight_source w = olm_st_weight_source(&src);
    float x[16];
    int64_t qkv[2] = {8, 2}, gu[2] = {6, 2}, wrong[2] = {9, 2};
    CHECK_EQ_INT(w.get(w.ctx, "m.layers.0.self_attn.qkv_proj.weight", qkv, 2, x, &e), ONNXLLM_OK);
    CHECK(x[0] == 0.0f && x[7] == 7.0f && x[8] == 100.0f && x[12] == 200.0f && x[15] == 203.0f);
    CHECK_EQ_INT(w.get(w.ctx, "m.layers.0.mlp.gate_up_proj.weight", gu, 2, x, &e), ONNXLLM_OK);
    CHECK(x[0] == -1.0f && x[5] == -6.0f && x[6] == 1.0f && x[11] == 6.0f);
    CHECK_EQ_INT(w.get(w.ctx, "m.layers.0.self_attn.qkv_proj.weight", wrong, 2, x, &e), ONNXLLM_ERR_FORMAT);
    CHECK(strstr(e.message, "stack to 8 rows, expected 9") != NULL);
    olm_st_close(st);
}

TEST(sharded_checkpoint) {
    float a[2] = {1, 2}, b[3] = {3, 4, 5};
    tw_tensor t1[] = {{"x.a", "F32", 1, {2}, a, sizeof a}};
    tw_tensor t2[] = {{"x.b", "F32", 1, {3}, b, sizeof b}};
    tw_fresh_dir(dir);
    tw_write(P("model-00001-of-00002.safetensors"), t1, 1);
    tw_write(P("model-00002-of-00002.safetensors"), t2, 1);
    tw_text(P("model.safetensors.index.json"),
            "{\"metadata\": {\"total_size\": 20}, \"weight_map\": {\"x.a\": \"model-00001-of-00002.safetensors\", "
            "\"x.b\": \"model-00002-of-00002.safetensors\"}}");
    olm_safetensors *st = NULL;
    onnxllm_error e = {0};
    CHECK_EQ_INT(olm_st_open_dir(dir, &st, &e), ONNXLLM_OK);
    if (!st) return;
    float x[3];
    const olm_st_tensor *tb = olm_st_find(st, "x.b");
    CHECK(tb && strstr(tb->file, "model-00002-of-00002.safetensors"));
    if (tb) CHECK_EQ_INT(olm_st_to_f32(tb, x, &e), ONNXLLM_OK);
    CHECK(x[2] == 5.0f);
    olm_st_close(st);
    /* the index names a tensor the shard does not hold */
    tw_text(P("model.safetensors.index.json"),
            "{\"weight_map\": {\"x.a\": \"model-00001-of-00002.safetensors\", "
            "\"x.c\": \"model-00002-of-00002.safetensors\"}}");
    CHECK_EQ_INT(olm_st_open_dir(dir, &st, &e), ONNXLLM_ERR_FORMAT);
    CHECK(strstr(e.message, "tensor 'x.c' is listed in model-00002-of-00002.safetensors but not found there") != NULL);
    /* a shard that is missing */
    tw_text(P("model.safetensors.index.json"), "{\"weight_map\": {\"x.a\": \"model-00009.safetensors\"}}");
    CHECK_EQ_INT(olm_st_open_dir(dir, &st, &e), ONNXLLM_ERR_IO);
    CHECK(strstr(e.message, "model-00009.safetensors: cannot open") != NULL);
}

/* Writes raw bytes: 8-byte length + header + data. */
static void raw_file(const char *name, uint64_t hlen, const char *header, size_t data_bytes) {
    FILE *f = fopen(P(name), "wb");
    for (int i = 0; i < 8; i++) fputc((int)((hlen >> (8 * i)) & 0xFF), f);
    fputs(header, f);
    for (size_t i = 0; i < data_bytes; i++) fputc(0, f);
    fclose(f);
}

static void expect_open_error(const char *what, onnxllm_status want, const char *msg) {
    olm_safetensors *st = NULL;
    onnxllm_error e = {0};
    onnxllm_status s = olm_st_open_dir(dir, &st, &e);
    if (s != want || !strstr(e.message, msg) || strchr(e.message, '\n'))
        printf("    %s: status %d, message \"%s\" (wanted \"%s\")\n", what, s, e.message, msg);
    CHECK_EQ_INT(s, want);
    CHECK(strstr(e.message, msg) != NULL);
    CHECK(strstr(e.message, dir) != NULL); /* names the file */
    CHECK(st == NULL);
}

TEST(bad_files_give_clear_errors) {
    tw_fresh_dir(dir);
    expect_open_error("no weights", ONNXLLM_ERR_IO, "no model.safetensors or model.safetensors.index.json");
    tw_text(P("model.safetensors"), "abc");
    expect_open_error("tiny", ONNXLLM_ERR_FORMAT, "truncated safetensors file (3 bytes");
    const char *h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    raw_file("model.safetensors", 1000, h, 0);
    expect_open_error("header past end", ONNXLLM_ERR_FORMAT, "header length 1000 but only");
    raw_file("model.safetensors", strlen(h), h, 8);
    expect_open_error("data truncated", ONNXLLM_ERR_FORMAT,
                      "truncated safetensors file: tensor 'w' ends at data byte 16 but the data area has 8 bytes");
    const char *bad = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]";
    raw_file("model.safetensors", strlen(bad), bad, 16);
    expect_open_error("malformed JSON", ONNXLLM_ERR_FORMAT, "malformed JSON at line 1");
    const char *ov = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
    raw_file("model.safetensors", strlen(ov), ov, 16);
    expect_open_error("overlap", ONNXLLM_ERR_FORMAT, "tensors 'a' and 'b' overlap");
    const char *sz = "{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    raw_file("model.safetensors", strlen(sz), sz, 16);
    expect_open_error("size", ONNXLLM_ERR_FORMAT, "tensor 'a': data_offsets span 16 bytes but BF16 [4] needs 8");
    const char *neg = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,0]}}";
    raw_file("model.safetensors", strlen(neg), neg, 16);
    expect_open_error("reversed", ONNXLLM_ERR_FORMAT, "tensor 'a': bad data_offsets");
    const char *nod = "{\"a\":{\"shape\":[4],\"data_offsets\":[0,16]}}";
    raw_file("model.safetensors", strlen(nod), nod, 16);
    expect_open_error("no dtype", ONNXLLM_ERR_FORMAT, "tensor 'a': header entry needs");
    const char *arr = "[1,2]";
    raw_file("model.safetensors", strlen(arr), arr, 0);
    expect_open_error("not object", ONNXLLM_ERR_FORMAT, "header is not a JSON object");
}

/* ---- config.json ---- */

static const char *phi4_like =
    "{\"architectures\": [\"Phi3ForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 96,"
    " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"vocab_size\": 300,"
    " \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, \"partial_rotary_factor\": 0.75,"
    " \"max_position_embeddings\": 2048, \"original_max_position_embeddings\": 256, \"hidden_act\": \"silu\","
    " \"rope_scaling\": {\"type\": \"longrope\", \"short_factor\": [1,1,1,1,1,1], \"long_factor\": [1,2,3,4,5,6.5]},"
    " \"tie_word_embeddings\": true, \"bos_token_id\": 5, \"eos_token_id\": 7, \"pad_token_id\": 5}";

static onnxllm_status load_cfg(const char *cfg, const char *gen, olm_phi3_config *c, onnxllm_error *e) {
    tw_fresh_dir(dir);
    if (cfg) tw_text(P("config.json"), cfg);
    if (gen) tw_text(P("generation_config.json"), gen);
    return olm_hf_config_load(dir, c, e);
}

TEST(config_phi4_style_longrope) {
    olm_phi3_config c;
    onnxllm_error e = {0};
    CHECK_EQ_INT(load_cfg(phi4_like, "{\"eos_token_id\": [9, 7], \"bos_token_id\": 5}", &c, &e), ONNXLLM_OK);
    CHECK_EQ_INT(c.hidden_size, 64);
    CHECK_EQ_INT(c.intermediate_size, 96);
    CHECK_EQ_INT(c.num_hidden_layers, 2);
    CHECK_EQ_INT(c.num_attention_heads, 4);
    CHECK_EQ_INT(c.num_key_value_heads, 2);
    CHECK_EQ_INT(c.head_dim, 16);
    CHECK_EQ_INT(c.vocab_size, 300);
    CHECK(c.partial_rotary_factor == 0.75f && c.rope_theta == 10000.0f && c.rms_norm_eps == 1e-5f);
    CHECK(c.longrope);
    CHECK_EQ_INT(c.n_rope_factors, 6);
    CHECK(c.long_factor[5] == 6.5f && c.short_factor[0] == 1.0f);
    CHECK(!c.has_short_mscale && !c.has_long_mscale);
    CHECK_EQ_INT(c.original_max_position_embeddings, 256);
    CHECK_EQ_INT(c.max_position_embeddings, 2048);
    CHECK_EQ_INT(c.context_length, 2048);
    CHECK(c.tie_word_embeddings);
    CHECK_EQ_INT(c.n_eos, 2);
    CHECK_EQ_INT(c.eos_token_id[0], 9);
    CHECK_EQ_INT(c.eos_token_id[1], 7);
    CHECK_EQ_INT(c.bos_token_id, 5);
    CHECK_EQ_INT(c.pad_token_id, 5);
    /* without generation_config.json the single eos from config.json is used */
    CHECK_EQ_INT(load_cfg(phi4_like, NULL, &c, &e), ONNXLLM_OK);
    CHECK_EQ_INT(c.n_eos, 1);
    CHECK_EQ_INT(c.eos_token_id[0], 7);
}

TEST(config_phi3_mini_4k_style) {
    const char *cfg =
        "{\"architectures\": [\"Phi3ForCausalLM\"], \"bos_token_id\": 1, \"eos_token_id\": 32000,"
        " \"hidden_act\": \"silu\", \"hidden_size\": 96, \"intermediate_size\": 128, \"max_position_embeddings\": 512,"
        " \"model_type\": \"phi3\", \"num_attention_heads\": 3, \"num_hidden_layers\": 1,"
        " \"original_max_position_embeddings\": 512, \"pad_token_id\": 32000, \"rms_norm_eps\": 1e-06,"
        " \"rope_scaling\": null, \"rope_theta\": 500.0, \"sliding_window\": 2047, \"tie_word_embeddings\": false,"
        " \"torch_dtype\": \"bfloat16\", \"vocab_size\": 320}";
    olm_phi3_config c;
    onnxllm_error e = {0};
    CHECK_EQ_INT(load_cfg(cfg, NULL, &c, &e), ONNXLLM_OK);
    CHECK_EQ_INT(c.num_key_value_heads, 3);
    CHECK_EQ_INT(c.head_dim, 32);
    CHECK(!c.longrope && c.partial_rotary_factor == 1.0f && c.rope_theta == 500.0f && c.rms_norm_eps == 1e-6f);
    CHECK(!c.tie_word_embeddings);
    CHECK_EQ_INT(c.original_max_position_embeddings, 512);
    CHECK_EQ_INT(c.eos_token_id[0], 32000);
    CHECK_EQ_INT(c.bos_token_id, 1);
    CHECK_EQ_INT(c.pad_token_id, 32000);
}

TEST(config_transformers5_rope_parameters) {
    const char *cfg =
        "{\"architectures\": [\"Phi3ForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 96,"
        " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"vocab_size\": 300,"
        " \"head_dim\": 16, \"partial_rotary_factor\": 0.75, \"max_position_embeddings\": 2048,"
        " \"rope_parameters\": {\"rope_type\": \"longrope\", \"rope_theta\": 250000.0,"
        " \"original_max_position_embeddings\": 256, \"short_factor\": [1,1,1,1,1,1],"
        " \"long_factor\": [1,2,3,4,5,6], \"long_mscale\": 1.25, \"short_mscale\": 1.0},"
        " \"eos_token_id\": [3, 4], \"tie_word_embeddings\": false}";
    olm_phi3_config c;
    onnxllm_error e = {0};
    CHECK_EQ_INT(load_cfg(cfg, NULL, &c, &e), ONNXLLM_OK);
    CHECK(c.longrope && c.rope_theta == 250000.0f);
    CHECK_EQ_INT(c.original_max_position_embeddings, 256);
    CHECK(c.has_long_mscale && c.long_mscale == 1.25f && c.has_short_mscale && c.short_mscale == 1.0f);
    CHECK_EQ_INT(c.n_eos, 2);
    CHECK_EQ_INT(c.pad_token_id, 3); /* pad falls back to eos[0] */
    CHECK_EQ_INT(c.bos_token_id, 1);
    /* rope_type default = no scaling */
    const char *cfg2 = "{\"architectures\": [\"Phi3ForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 96,"
                       " \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 300,"
                       " \"max_position_embeddings\": 128, \"rope_parameters\": {\"rope_type\": \"default\","
                       " \"rope_theta\": 20000.0}}";
    CHECK_EQ_INT(load_cfg(cfg2, NULL, &c, &e), ONNXLLM_OK);
    CHECK(!c.longrope && c.rope_theta == 20000.0f);
}

/* microsoft/Phi-4-mini-instruct's config.json + generation_config.json (reference
 * docs/reference/phi4-onnx-graph.md §6) must give exactly the hyper-parameters of the phi-4-mini
 * preset, which the writer's layout tests check against the real builder's graph. */
TEST(config_real_phi4_mini_equals_preset) {
    const char *cfg =
        "{\"architectures\": [\"Phi3ForCausalLM\"], \"attention_bias\": false, \"attention_dropout\": 0.0,"
        " \"auto_map\": {\"AutoConfig\": \"configuration_phi3.Phi3Config\", \"AutoTokenizer\": \"Xenova/gpt-4o\"},"
        " \"bos_token_id\": 199999, \"embd_pdrop\": 0.0, \"eos_token_id\": 199999, \"full_attn_mod\": 1,"
        " \"hidden_act\": \"silu\", \"hidden_size\": 3072, \"initializer_range\": 0.02, \"intermediate_size\": 8192,"
        " \"interpolate_factor\": 1, \"lm_head_bias\": false, \"max_position_embeddings\": 131072, \"mlp_bias\": false,"
        " \"model_type\": \"phi3\", \"num_attention_heads\": 24, \"num_hidden_layers\": 32, \"num_key_value_heads\": 8,"
        " \"original_max_position_embeddings\": 4096, \"pad_token_id\": 199999, \"partial_rotary_factor\": 0.75,"
        " \"resid_pdrop\": 0.0, \"rms_norm_eps\": 1e-05, \"rope_scaling\": {\"long_factor\": [1, 1.118320672,"
        " 1.250641126, 1.398617824, 1.564103225, 1.74916897, 1.956131817, 2.187582649, 2.446418898, 2.735880826,"
        " 3.059592084, 3.421605075, 3.826451687, 4.279200023, 4.785517845, 5.351743533, 5.984965424, 6.693110555,"
        " 7.485043894, 8.370679318, 9.36110372, 10.4687158, 11.70738129, 13.09260651, 14.64173252, 16.37415215,"
        " 18.31155283, 20.47818807, 22.90118105, 25.61086418, 28.64115884, 32.03, 32.1, 32.13, 32.23, 32.6, 32.61,"
        " 32.64, 32.66, 32.7, 32.71, 32.93, 32.97, 33.28, 33.49, 33.5, 44.16, 47.77], \"short_factor\": [1, 1, 1, 1,"
        " 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,"
        " 1, 1, 1, 1, 1, 1, 1, 1], \"type\": \"longrope\"}, \"rope_theta\": 10000.0, \"sliding_window\": 262144,"
        " \"tie_word_embeddings\": true, \"torch_dtype\": \"bfloat16\", \"transformers_version\": \"4.45.0\","
        " \"use_cache\": true, \"vocab_size\": 200064}";
    olm_phi3_config c, p;
    onnxllm_error e = {0};
    CHECK_EQ_INT(load_cfg(cfg, "{\"bos_token_id\": 199999, \"eos_token_id\": [200020, 199999], \"pad_token_id\": 199999}",
                          &c, &e), ONNXLLM_OK);
    olm_phi3_config_phi4_mini(&p);
    CHECK(!memcmp(&c, &p, sizeof c)); /* both start from memset 0: padding compares too */
    CHECK_EQ_INT(olm_phi3_config_validate(&c, &e), ONNXLLM_OK);
    for (int i = 0; i < 48; i++)
        if (c.long_factor[i] != p.long_factor[i]) printf("    long_factor[%d] %.9g vs %.9g\n", i, c.long_factor[i], p.long_factor[i]);
}

static void expect_cfg_error(const char *cfg, onnxllm_status want, const char *msg) {
    olm_phi3_config c;
    onnxllm_error e = {0};
    onnxllm_status s = load_cfg(cfg, NULL, &c, &e);
    if (s != want || !strstr(e.message, msg)) printf("    got %d \"%s\" wanted \"%s\"\n", s, e.message, msg);
    CHECK_EQ_INT(s, want);
    CHECK(strstr(e.message, msg) != NULL);
    CHECK(strstr(e.message, "config.json") != NULL);
}

TEST(config_errors) {
    expect_cfg_error(NULL, ONNXLLM_ERR_IO, "config.json: cannot open");
    expect_cfg_error("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 8}", ONNXLLM_ERR_UNSUPPORTED,
                     "unsupported architecture 'LlamaForCausalLM' (supported: Phi3ForCausalLM)");
    expect_cfg_error("{\"architectures\": [\"Phi3ForCausalLM\"], \"hidden_size\": 8,", ONNXLLM_ERR_FORMAT,
                     "malformed JSON");
    expect_cfg_error("{\"architectures\": [\"Phi3ForCausalLM\"], \"hidden_size\": 64}", ONNXLLM_ERR_FORMAT,
                     "missing \"intermediate_size\"");
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", phi4_like);
    char *p = strstr(buf, "longrope");
    memcpy(p, "yarn\"    ", 9);
    expect_cfg_error(buf, ONNXLLM_ERR_UNSUPPORTED, "unsupported rope scaling type 'yarn'");
    snprintf(buf, sizeof buf, "%s", phi4_like);
    p = strstr(buf, "[1,2,3,4,5,6.5]");
    memcpy(p, "[1,2,3,4,5    ]", 15);
    expect_cfg_error(buf, ONNXLLM_ERR_FORMAT, "short_factor has 6 and long_factor 5 entries, expected rotary_dim/2 = 6");
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/olm_test_safetensors_%d", (int)getpid());
    RUN(reads_f32_bf16_f16);
    RUN(weight_source_shapes_and_missing);
    RUN(split_qkv_and_gate_up_are_stacked);
    RUN(sharded_checkpoint);
    RUN(bad_files_give_clear_errors);
    RUN(config_phi4_style_longrope);
    RUN(config_phi3_mini_4k_style);
    RUN(config_transformers5_rope_parameters);
    RUN(config_real_phi4_mini_equals_preset);
    RUN(config_errors);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("cleanup failed\n");
    return test_summary("safetensors");
}
