/* hf_config.c — HF config.json (+ generation_config.json) → olm_phi3_config. */
#include "writer/hf_config.h"
#include "common/error.h"
#include "common/fileio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *path, *gen_path; /* path: the file being read (for messages) */
    onnxllm_error *err;
    onnxllm_status st;
} ctx;

static cJSON *item(const cJSON *o, const char *key) {
    cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsNull(v) ? NULL : v;
}

/* Integer field; `def` when absent (or required when def < -1e9 is passed as INT_REQUIRED). */
#define INT_REQUIRED (-2147483647 - 1)
static int get_int(ctx *x, const cJSON *o, const char *key, int def) {
    cJSON *v = item(o, key);
    if (!v) {
        if (def == INT_REQUIRED && !x->st)
            x->st = olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: missing \"%s\"", x->path, key);
        return def == INT_REQUIRED ? 0 : def;
    }
    int64_t i;
    if (!olm_json_as_int(v, -INT32_MAX, INT32_MAX, &i)) {
        if (!x->st) x->st = olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: \"%s\" is not an integer", x->path, key);
        return 0;
    }
    return (int)i;
}

static double get_num(ctx *x, const cJSON *o, const char *key, double def, bool *found) {
    cJSON *v = item(o, key);
    if (found) *found = v != NULL;
    if (!v) return def;
    double d;
    if (!olm_json_as_double(v, -1e300, 1e300, &d)) {
        if (!x->st) x->st = olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: \"%s\" is not a finite number", x->path, key);
        return def;
    }
    return d;
}

static int get_factors(ctx *x, const cJSON *rs, const char *key, float *dst) {
    cJSON *a = item(rs, key);
    if (!cJSON_IsArray(a)) {
        if (!x->st)
            x->st = olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: LongRoPE scaling needs a \"%s\" list", x->path, key);
        return 0;
    }
    int n = cJSON_GetArraySize(a);
    if (n > OLM_PHI3_MAX_ROPE_FACTORS) {
        if (!x->st)
            x->st = olm_fail(x->err, ONNXLLM_ERR_UNSUPPORTED, "%s: \"%s\" has %d entries (at most %d supported)",
                             x->path, key, n, OLM_PHI3_MAX_ROPE_FACTORS);
        return 0;
    }
    int i = 0;
    for (cJSON *e = a->child; e; e = e->next, i++) {
        double d;
        if (!olm_json_as_double(e, -3.4e38, 3.4e38, &d)) {
            if (!x->st) x->st = olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: \"%s\" holds a non-number", x->path, key);
            return 0;
        }
        dst[i] = (float)d;
    }
    return n;
}

/* eos_token_id: an integer or a list of integers; returns false when absent. */
static bool get_eos(ctx *x, const cJSON *o, olm_phi3_config *c) {
    cJSON *v = item(o, "eos_token_id");
    if (!v) return false;
    if (cJSON_IsNumber(v)) {
        c->n_eos = 1;
        c->eos_token_id[0] = get_int(x, o, "eos_token_id", 0);
        return true;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > 8) {
        if (!x->st)
            x->st = olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: \"eos_token_id\" must be an integer or a list of 1..8",
                             x->path);
        return false;
    }
    c->n_eos = 0;
    for (cJSON *e = v->child; e; e = e->next) {
        int64_t id;
        if (!olm_json_as_int(e, 0, INT32_MAX, &id)) {
            if (!x->st) x->st = olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: \"eos_token_id\" holds a non-integer", x->path);
            return false;
        }
        c->eos_token_id[c->n_eos++] = (int)id;
    }
    return true;
}

static onnxllm_status parse(ctx *x, const cJSON *j, const cJSON *gen, olm_phi3_config *c) {
    memset(c, 0, sizeof *c);
    if (!cJSON_IsObject(j)) return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: not a JSON object", x->path);
    cJSON *arch = item(j, "architectures");
    const char *a0 = cJSON_IsArray(arch) && cJSON_IsString(cJSON_GetArrayItem(arch, 0))
                         ? cJSON_GetArrayItem(arch, 0)->valuestring : NULL;
    if (!a0) return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: missing \"architectures\"", x->path);
    if (strcmp(a0, "Phi3ForCausalLM"))
        return olm_fail(x->err, ONNXLLM_ERR_UNSUPPORTED, "%s: unsupported architecture '%s' (supported: Phi3ForCausalLM)",
                        x->path, a0);
    cJSON *act = item(j, "hidden_act");
    if (act && (!cJSON_IsString(act) || strcmp(act->valuestring, "silu")))
        return olm_fail(x->err, ONNXLLM_ERR_UNSUPPORTED, "%s: unsupported hidden_act (only silu)", x->path);
    if (cJSON_IsTrue(item(j, "attention_bias")) || cJSON_IsTrue(item(j, "mlp_bias")))
        return olm_fail(x->err, ONNXLLM_ERR_UNSUPPORTED, "%s: biases (attention_bias/mlp_bias) are not supported",
                        x->path);

    c->hidden_size = get_int(x, j, "hidden_size", INT_REQUIRED);
    c->intermediate_size = get_int(x, j, "intermediate_size", INT_REQUIRED);
    c->num_hidden_layers = get_int(x, j, "num_hidden_layers", INT_REQUIRED);
    c->num_attention_heads = get_int(x, j, "num_attention_heads", INT_REQUIRED);
    c->num_key_value_heads = get_int(x, j, "num_key_value_heads", c->num_attention_heads);
    c->vocab_size = get_int(x, j, "vocab_size", INT_REQUIRED);
    c->max_position_embeddings = get_int(x, j, "max_position_embeddings", INT_REQUIRED);
    if (x->st) return x->st;
    if (c->hidden_size <= 0 || c->num_attention_heads <= 0 || c->num_key_value_heads <= 0)
        return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: hidden_size and head counts must be positive", x->path);
    c->head_dim = get_int(x, j, "head_dim", c->hidden_size / c->num_attention_heads);
    c->rms_norm_eps = (float)get_num(x, j, "rms_norm_eps", 1e-5, NULL);
    c->tie_word_embeddings = cJSON_IsTrue(item(j, "tie_word_embeddings"));

    /* rope: transformers 5 moves theta (and maybe the rest) into rope_parameters */
    const cJSON *rp = item(j, "rope_parameters");
    const cJSON *rs = item(j, "rope_scaling");
    if (rp && !cJSON_IsObject(rp)) return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: \"rope_parameters\" is not an object", x->path);
    if (rs && !cJSON_IsObject(rs)) return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: \"rope_scaling\" is not an object", x->path);
    if (!rs) rs = rp;
    c->rope_theta = (float)get_num(x, j, "rope_theta", get_num(x, rp, "rope_theta", 10000.0, NULL), NULL);
    c->partial_rotary_factor =
        (float)get_num(x, j, "partial_rotary_factor", get_num(x, rp, "partial_rotary_factor", 1.0, NULL), NULL);
    c->original_max_position_embeddings =
        get_int(x, j, "original_max_position_embeddings",
                get_int(x, rs, "original_max_position_embeddings", c->max_position_embeddings));
    if (x->st) return x->st;
    if (!(c->partial_rotary_factor > 0 && c->partial_rotary_factor <= 1))
        return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: partial_rotary_factor %g not in (0, 1]", x->path,
                        c->partial_rotary_factor);

    if (rs) {
        cJSON *ty = item(rs, "type");
        if (!ty) ty = item(rs, "rope_type");
        const char *t = cJSON_IsString(ty) ? ty->valuestring : NULL;
        if (!t) return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: rope scaling without \"type\"", x->path);
        if (!strcmp(t, "longrope") || !strcmp(t, "su")) {
            c->longrope = true;
            int ns = get_factors(x, rs, "short_factor", c->short_factor);
            int nl = get_factors(x, rs, "long_factor", c->long_factor);
            if (x->st) return x->st;
            int want = (int)((float)c->head_dim * c->partial_rotary_factor) / 2;
            if (ns != nl || ns != want)
                return olm_fail(x->err, ONNXLLM_ERR_FORMAT,
                                "%s: short_factor has %d and long_factor %d entries, expected rotary_dim/2 = %d",
                                x->path, ns, nl, want);
            c->n_rope_factors = ns;
            c->short_mscale = (float)get_num(x, rs, "short_mscale", 0, &c->has_short_mscale);
            c->long_mscale = (float)get_num(x, rs, "long_mscale", 0, &c->has_long_mscale);
            if (x->st) return x->st;
        } else if (strcmp(t, "default")) {
            return olm_fail(x->err, ONNXLLM_ERR_UNSUPPORTED,
                            "%s: unsupported rope scaling type '%s' (supported: longrope, su, none)", x->path, t);
        }
    }

    /* special tokens: generation_config.json first, then config.json (builder order) */
    int bos = get_int(x, j, "bos_token_id", 1);
    const char *cfg_path = x->path;
    x->path = x->gen_path;
    bool gen_eos = get_eos(x, gen, c);
    x->path = cfg_path;
    if (!gen_eos && !get_eos(x, j, c)) {
        c->n_eos = 1;
        c->eos_token_id[0] = 32000; /* Phi3Config default */
    }
    int pad = get_int(x, j, "pad_token_id", c->eos_token_id[0]);
    x->path = x->gen_path;
    c->bos_token_id = get_int(x, gen, "bos_token_id", bos);
    c->pad_token_id = get_int(x, gen, "pad_token_id", pad);
    x->path = cfg_path;
    c->context_length = c->max_position_embeddings;
    return x->st;
}

onnxllm_status olm_hf_config_load(const char *dir, olm_phi3_config *c, onnxllm_error *err) {
    char *path = olm_path_join(dir, "config.json");
    char *gpath = olm_path_join(dir, "generation_config.json");
    cJSON *j = NULL, *gen = NULL;
    onnxllm_status s = ONNXLLM_OK;
    if (!path || !gpath) s = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    if (!s) s = olm_load_json_file(path, &j, err);
    if (!s && access(gpath, F_OK) == 0) s = olm_load_json_file(gpath, &gen, err);
    if (!s) {
        ctx x = {path, gpath, err, ONNXLLM_OK};
        if (gen && !cJSON_IsObject(gen)) s = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: not a JSON object", gpath);
        if (!s) s = parse(&x, j, gen, c);
    }
    cJSON_Delete(j);
    cJSON_Delete(gen);
    free(path);
    free(gpath);
    return s;
}
