/* make_ckpt.c — writes a Hugging Face checkpoint shaped like microsoft/Phi-4-mini-instruct
 * (its real config.json + generation_config.json, bf16 weights in 2 safetensors shards
 * with an index) filled with random values, for timing `onnxllm convert`.
 *
 *   make_ckpt OUT_DIR [LAYERS]     (LAYERS default 32 = full size, 7.7 GB)
 *
 * Tensors are generated and written one at a time, so memory stays at one tensor. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { H = 3072, I = 8192, NQ = 24, NKV = 8, D = 128, V = 200064 };

static const char *config_fmt =
    "{\n  \"architectures\": [\"Phi3ForCausalLM\"],\n  \"attention_bias\": false,\n  \"attention_dropout\": 0.0,\n"
    "  \"bos_token_id\": 199999,\n  \"embd_pdrop\": 0.0,\n  \"eos_token_id\": 199999,\n  \"full_attn_mod\": 1,\n"
    "  \"hidden_act\": \"silu\",\n  \"hidden_size\": 3072,\n  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 8192,\n  \"interpolate_factor\": 1,\n  \"lm_head_bias\": false,\n"
    "  \"max_position_embeddings\": 131072,\n  \"mlp_bias\": false,\n  \"model_type\": \"phi3\",\n"
    "  \"num_attention_heads\": 24,\n  \"num_hidden_layers\": %d,\n  \"num_key_value_heads\": 8,\n"
    "  \"original_max_position_embeddings\": 4096,\n  \"pad_token_id\": 199999,\n"
    "  \"partial_rotary_factor\": 0.75,\n  \"resid_pdrop\": 0.0,\n  \"rms_norm_eps\": 1e-05,\n"
    "  \"rope_scaling\": {\n    \"long_factor\": [1, 1.118320672, 1.250641126, 1.398617824, 1.564103225, "
    "1.74916897, 1.956131817, 2.187582649, 2.446418898, 2.735880826, 3.059592084, 3.421605075, 3.826451687, "
    "4.279200023, 4.785517845, 5.351743533, 5.984965424, 6.693110555, 7.485043894, 8.370679318, 9.36110372, "
    "10.4687158, 11.70738129, 13.09260651, 14.64173252, 16.37415215, 18.31155283, 20.47818807, 22.90118105, "
    "25.61086418, 28.64115884, 32.03, 32.1, 32.13, 32.23, 32.6, 32.61, 32.64, 32.66, 32.7, 32.71, 32.93, 32.97, "
    "33.28, 33.49, 33.5, 44.16, 47.77],\n    \"short_factor\": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, "
    "1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],\n"
    "    \"type\": \"longrope\"\n  },\n  \"rope_theta\": 10000.0,\n  \"sliding_window\": 262144,\n"
    "  \"tie_word_embeddings\": true,\n  \"torch_dtype\": \"bfloat16\",\n  \"transformers_version\": \"4.45.0\",\n"
    "  \"use_cache\": true,\n  \"vocab_size\": 200064\n}\n";

typedef struct {
    char name[96];
    int64_t rows, cols; /* cols 0: 1-D */
} td;

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static inline uint16_t next_bf16(int norm) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    float u = (float)(rng >> 40) / 16777216.0f * 2.0f - 1.0f; /* [-1, 1) */
    float v = norm ? 1.0f + 0.1f * u : 0.05f * u;
    uint32_t b;
    memcpy(&b, &v, 4);
    return (uint16_t)((b + 0x7FFF + ((b >> 16) & 1)) >> 16);
}

static int write_shard(const char *path, const td *t, int n) {
    char *hdr = malloc(1 << 20);
    size_t o = (size_t)sprintf(hdr, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        uint64_t nb = (uint64_t)t[i].rows * (uint64_t)(t[i].cols ? t[i].cols : 1) * 2;
        if (t[i].cols)
            o += (size_t)sprintf(hdr + o, ",\"%s\":{\"dtype\":\"BF16\",\"shape\":[%lld,%lld],\"data_offsets\":[%llu,%llu]}",
                                 t[i].name, (long long)t[i].rows, (long long)t[i].cols, (unsigned long long)off,
                                 (unsigned long long)(off + nb));
        else
            o += (size_t)sprintf(hdr + o, ",\"%s\":{\"dtype\":\"BF16\",\"shape\":[%lld],\"data_offsets\":[%llu,%llu]}",
                                 t[i].name, (long long)t[i].rows, (unsigned long long)off, (unsigned long long)(off + nb));
        off += nb;
    }
    o += (size_t)sprintf(hdr + o, "}");
    while (o % 8) hdr[o++] = ' ';
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    uint64_t hl = o;
    fwrite(&hl, 8, 1, f); /* little-endian host */
    fwrite(hdr, 1, o, f);
    free(hdr);
    enum { CH = 1 << 20 };
    uint16_t *buf = malloc(CH * 2);
    for (int i = 0; i < n; i++) {
        uint64_t cnt = (uint64_t)t[i].rows * (uint64_t)(t[i].cols ? t[i].cols : 1);
        int norm = strstr(t[i].name, "norm") != NULL;
        while (cnt) {
            size_t k = cnt < CH ? (size_t)cnt : CH;
            for (size_t j = 0; j < k; j++) buf[j] = next_bf16(norm);
            fwrite(buf, 2, k, f);
            cnt -= k;
        }
    }
    free(buf);
    return fclose(f);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: make_ckpt OUT_DIR [LAYERS]\n");
        return 2;
    }
    const char *dir = argv[1];
    int L = argc > 2 ? atoi(argv[2]) : 32;
    mkdir(dir, 0755);
    char path[1024];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    fprintf(f, config_fmt, L);
    fclose(f);
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    f = fopen(path, "w");
    fprintf(f, "{\"bos_token_id\": 199999, \"eos_token_id\": [200020, 199999], \"pad_token_id\": 199999}\n");
    fclose(f);

    td *t = calloc((size_t)(8 * L + 4), sizeof *t);
    int n = 0;
    snprintf(t[n].name, sizeof t[n].name, "model.embed_tokens.weight"), t[n].rows = V, t[n++].cols = H;
    for (int l = 0; l < L; l++) {
        snprintf(t[n].name, 96, "model.layers.%d.input_layernorm.weight", l), t[n++].rows = H;
        snprintf(t[n].name, 96, "model.layers.%d.self_attn.qkv_proj.weight", l), t[n].rows = (NQ + 2 * NKV) * D, t[n++].cols = H;
        snprintf(t[n].name, 96, "model.layers.%d.self_attn.o_proj.weight", l), t[n].rows = H, t[n++].cols = NQ * D;
        snprintf(t[n].name, 96, "model.layers.%d.post_attention_layernorm.weight", l), t[n++].rows = H;
        snprintf(t[n].name, 96, "model.layers.%d.mlp.gate_up_proj.weight", l), t[n].rows = 2 * I, t[n++].cols = H;
        snprintf(t[n].name, 96, "model.layers.%d.mlp.down_proj.weight", l), t[n].rows = H, t[n++].cols = I;
    }
    snprintf(t[n].name, 96, "model.norm.weight"), t[n++].rows = H;
    /* two shards like the real checkpoint: embedding + first half of the layers, then the rest */
    int split = 1 + 6 * (L / 2);
    const char *names[2] = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
    for (int s = 0; s < 2; s++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[s]);
        if (write_shard(path, s ? t + split : t, s ? n - split : split)) return 1;
    }
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    f = fopen(path, "w");
    fprintf(f, "{\"metadata\": {}, \"weight_map\": {");
    for (int i = 0; i < n; i++) fprintf(f, "%s\"%s\": \"%s\"", i ? ", " : "", t[i].name, names[i >= split]);
    fprintf(f, "}}\n");
    fclose(f);
    free(t);
    return 0;
}
