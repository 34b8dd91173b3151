/* genai_config.c — parse + validate genai_config.json.
 *
 * Field names and defaults follow onnxruntime-genai's config reader (src/config.cpp):
 * absent input/output names fall back to genai's defaults, absent pad falls back
 * to eos[0], and search.max_length 0 means context_length. Every error names the
 * file and the JSON path of the field. */
#include "engine/genai_config.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/untrusted.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *path;
    onnxllm_error *err;
} ctx_t;

static onnxllm_status bad(ctx_t *x, const char *field, const char *what) {
    return olm_fail(x->err, ONNXLLM_ERR_FORMAT, "%s: %s: %s", x->path, field, what);
}

/* Reads an integer field; required → error when absent. */
static onnxllm_status get_int_in(ctx_t *x, const cJSON *obj, const char *key, const char *field, bool required,
                                 int lo, int hi, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return required ? bad(x, field, "missing") : ONNXLLM_OK;
    int64_t i;
    if (!olm_json_as_int(v, lo, hi, &i)) {
        char msg[96];
        if (hi == INT32_MAX) snprintf(msg, sizeof msg, "must be an integer >= %d", lo);
        else snprintf(msg, sizeof msg, "must be an integer in [%d, %d]", lo, hi);
        return bad(x, field, msg);
    }
    *out = (int)i;
    return ONNXLLM_OK;
}

static onnxllm_status get_int(ctx_t *x, const cJSON *obj, const char *key, const char *field, bool required,
                              int lo, int *out) {
    return get_int_in(x, obj, key, field, required, lo, INT32_MAX, out);
}

static onnxllm_status get_float(ctx_t *x, const cJSON *obj, const char *key, const char *field, float *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return ONNXLLM_OK;
    double d;
    if (!olm_json_as_double(v, -3.4e38, 3.4e38, &d)) return bad(x, field, "must be a finite number");
    *out = (float)d;
    return ONNXLLM_OK;
}

static onnxllm_status get_bool(ctx_t *x, const cJSON *obj, const char *key, const char *field, bool *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return ONNXLLM_OK;
    if (!cJSON_IsBool(v)) return bad(x, field, "must be true or false");
    *out = cJSON_IsTrue(v);
    return ONNXLLM_OK;
}

static onnxllm_status get_str(ctx_t *x, const cJSON *obj, const char *key, const char *field, bool required,
                              char *out, size_t cap) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return required ? bad(x, field, "missing") : ONNXLLM_OK;
    if (!cJSON_IsString(v) || !v->valuestring[0]) return bad(x, field, "must be a non-empty string");
    if (strlen(v->valuestring) >= cap) return bad(x, field, "too long");
    strcpy(out, v->valuestring);
    return ONNXLLM_OK;
}

static onnxllm_status get_obj(ctx_t *x, const cJSON *obj, const char *key, const char *field, bool required,
                              const cJSON **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v) return required ? bad(x, field, "missing") : ONNXLLM_OK;
    if (!cJSON_IsObject(v)) return bad(x, field, "must be an object");
    *out = v;
    return ONNXLLM_OK;
}

/* A name template must contain exactly one %d and nothing else printf would read. */
static onnxllm_status check_template(ctx_t *x, const char *field, const char *t) {
    int n = 0;
    for (const char *p = t; *p; p++)
        if (*p == '%') {
            if (p[1] == 'd') { n++; p++; }
            else return bad(x, field, "name template may contain only %d");
        }
    if (n != 1) return bad(x, field, "name template must contain exactly one %d");
    return ONNXLLM_OK;
}

void olm_layer_name(char *out, const char *tmpl, int i) {
    /* Templates are checked by check_template: exactly one %d. */
    const char *p = strstr(tmpl, "%d");
    size_t pre = (size_t)(p - tmpl);
    snprintf(out, OLM_NAME_MAX, "%.*s%d%s", (int)pre, tmpl, i, p + 2);
}

#define TRY(x)                              \
    do {                                    \
        onnxllm_status st_ = (x);           \
        if (st_) return st_;                \
    } while (0)

static onnxllm_status parse_session_options(ctx_t *x, const cJSON *so, olm_genai_config *c) {
    const char *F = "model.decoder.session_options";
    char f[160];
    (void)F;
    TRY(get_int_in(x, so, "intra_op_num_threads", "model.decoder.session_options.intra_op_num_threads", false, 0,
                   OLM_MAX_THREADS, &c->intra_op_num_threads));
    TRY(get_int_in(x, so, "inter_op_num_threads", "model.decoder.session_options.inter_op_num_threads", false, 0,
                   OLM_MAX_THREADS, &c->inter_op_num_threads));
    bool b = false;
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(so, "enable_cpu_mem_arena"))) {
        TRY(get_bool(x, so, "enable_cpu_mem_arena", "model.decoder.session_options.enable_cpu_mem_arena", &b));
        c->enable_cpu_mem_arena = b;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(so, "enable_mem_pattern"))) {
        TRY(get_bool(x, so, "enable_mem_pattern", "model.decoder.session_options.enable_mem_pattern", &b));
        c->enable_mem_pattern = b;
    }
    TRY(get_int(x, so, "log_severity_level", "model.decoder.session_options.log_severity_level", false, 0,
                &c->log_severity_level));
    TRY(get_str(x, so, "log_id", "model.decoder.session_options.log_id", false, c->log_id, sizeof c->log_id));
    if ((v = cJSON_GetObjectItemCaseSensitive(so, "graph_optimization_level"))) {
        static const struct { const char *name; int level; } levels[] = {
            {"ORT_DISABLE_ALL", 0}, {"ORT_ENABLE_BASIC", 1}, {"ORT_ENABLE_EXTENDED", 2}, {"ORT_ENABLE_ALL", 99}};
        c->graph_optimization_level = -2;
        if (cJSON_IsString(v))
            for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
                if (!strcmp(v->valuestring, levels[i].name)) c->graph_optimization_level = levels[i].level;
        if (c->graph_optimization_level == -2)
            return bad(x, "model.decoder.session_options.graph_optimization_level",
                       "must be ORT_DISABLE_ALL, ORT_ENABLE_BASIC, ORT_ENABLE_EXTENDED or ORT_ENABLE_ALL");
    }
    const cJSON *po = cJSON_GetObjectItemCaseSensitive(so, "provider_options");
    if (po) {
        if (!cJSON_IsArray(po)) return bad(x, "model.decoder.session_options.provider_options", "must be an array");
        int idx = 0;
        const cJSON *entry;
        cJSON_ArrayForEach(entry, po) {
            snprintf(f, sizeof f, "model.decoder.session_options.provider_options[%d]", idx++);
            if (!cJSON_IsObject(entry)) return bad(x, f, "must be an object like {\"cuda\": {...}}");
            const cJSON *prov;
            cJSON_ArrayForEach(prov, entry) {
                if (!cJSON_IsObject(prov)) return bad(x, f, "provider options must be an object");
                if (!strcmp(prov->string, "cuda")) {
                    c->has_cuda_provider = true;
                    const cJSON *kv;
                    cJSON_ArrayForEach(kv, prov) {
                        if (!cJSON_IsString(kv)) return bad(x, f, "cuda provider option values must be strings");
                        if (c->n_cuda_options == OLM_MAX_PROVIDER_OPTIONS) return bad(x, f, "too many cuda options");
                        olm_kv_pair *p = &c->cuda_options[c->n_cuda_options++];
                        snprintf(p->key, sizeof p->key, "%s", kv->string);
                        snprintf(p->value, sizeof p->value, "%s", kv->valuestring);
                    }
                } else if (strcmp(prov->string, "cpu") && !c->other_provider[0]) {
                    snprintf(c->other_provider, sizeof c->other_provider, "%s", prov->string);
                }
            }
        }
    }
    return ONNXLLM_OK;
}

static onnxllm_status parse(ctx_t *x, const cJSON *root, olm_genai_config *c) {
    if (!cJSON_IsObject(root)) return bad(x, "(top level)", "must be a JSON object");
    const cJSON *model, *dec, *in, *out, *so, *search;
    TRY(get_obj(x, root, "model", "model", true, &model));
    TRY(get_str(x, model, "type", "model.type", true, c->type, sizeof c->type));
    /* Multimodal / encoder-decoder folders have more than one session. */
    static const char *const multi[] = {"vision", "speech", "embedding", "encoder"};
    for (size_t i = 0; i < sizeof multi / sizeof *multi; i++)
        if (cJSON_GetObjectItemCaseSensitive(model, multi[i]))
            return olm_fail(x->err, ONNXLLM_ERR_UNSUPPORTED,
                            "%s: model.%s: multimodal/encoder models are not supported (decoder-only only)", x->path,
                            multi[i]);
    if (!strcmp(c->type, "whisper") || !strcmp(c->type, "decoder-pipeline") || !strcmp(c->type, "phi3v") ||
        !strcmp(c->type, "marian-ssru"))
        return olm_fail(x->err, ONNXLLM_ERR_UNSUPPORTED, "%s: model.type: \"%s\" is not a decoder-only model we support",
                        x->path, c->type);
    TRY(get_int(x, model, "vocab_size", "model.vocab_size", true, 1, &c->vocab_size));
    TRY(get_int(x, model, "context_length", "model.context_length", true, 1, &c->context_length));
    c->bos_token_id = -1;
    TRY(get_int(x, model, "bos_token_id", "model.bos_token_id", false, 0, &c->bos_token_id));
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(model, "eos_token_id");
    if (!eos) return bad(x, "model.eos_token_id", "missing");
    if (cJSON_IsNumber(eos)) {
        TRY(get_int(x, model, "eos_token_id", "model.eos_token_id", true, 0, &c->eos_token_id[0]));
        c->n_eos = 1;
    } else if (cJSON_IsArray(eos)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, eos) {
            int64_t id;
            if (!olm_json_as_int(e, 0, INT32_MAX, &id))
                return bad(x, "model.eos_token_id", "must be a non-negative integer or a list of them");
            if (c->n_eos == OLM_MAX_EOS) return bad(x, "model.eos_token_id", "too many ids");
            c->eos_token_id[c->n_eos++] = (int32_t)id;
        }
        if (!c->n_eos) return bad(x, "model.eos_token_id", "empty list");
    } else {
        return bad(x, "model.eos_token_id", "must be a non-negative integer or a list of them");
    }
    c->pad_token_id = c->eos_token_id[0];
    TRY(get_int(x, model, "pad_token_id", "model.pad_token_id", false, 0, &c->pad_token_id));
    char f[96];
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_token_id[i] >= c->vocab_size) {
            snprintf(f, sizeof f, "eos id %d is >= model.vocab_size %d", c->eos_token_id[i], c->vocab_size);
            return bad(x, "model.eos_token_id", f);
        }
    if (c->bos_token_id >= c->vocab_size) return bad(x, "model.bos_token_id", "must be < model.vocab_size");
    if (c->pad_token_id >= c->vocab_size) return bad(x, "model.pad_token_id", "must be < model.vocab_size");

    TRY(get_obj(x, model, "decoder", "model.decoder", true, &dec));
    TRY(get_str(x, dec, "filename", "model.decoder.filename", true, c->filename, sizeof c->filename));
    if (!olm_path_is_inside(c->filename))
        return bad(x, "model.decoder.filename", "must be a file inside the model folder");
    /* the layer count sizes per-layer tables before the graph is seen: bounded here,
     * and checked against the graph's inputs before anything per layer is allocated */
    TRY(get_int_in(x, dec, "num_hidden_layers", "model.decoder.num_hidden_layers", true, 1, OLM_MAX_LAYERS,
                   &c->num_hidden_layers));
    TRY(get_int(x, dec, "num_attention_heads", "model.decoder.num_attention_heads", true, 1, &c->num_attention_heads));
    TRY(get_int(x, dec, "num_key_value_heads", "model.decoder.num_key_value_heads", true, 1, &c->num_key_value_heads));
    TRY(get_int(x, dec, "head_size", "model.decoder.head_size", true, 1, &c->head_size));
    TRY(get_int(x, dec, "hidden_size", "model.decoder.hidden_size", false, 1, &c->hidden_size));
    if (c->num_attention_heads % c->num_key_value_heads)
        return bad(x, "model.decoder.num_key_value_heads", "must divide model.decoder.num_attention_heads");

    strcpy(c->in_input_ids, "input_ids");
    strcpy(c->in_attention_mask, "attention_mask");
    strcpy(c->in_position_ids, "position_ids");
    strcpy(c->in_past_key, "past_key_values.%d.key");
    strcpy(c->in_past_value, "past_key_values.%d.value");
    strcpy(c->out_logits, "logits");
    strcpy(c->out_present_key, "present.%d.key");
    strcpy(c->out_present_value, "present.%d.value");
    TRY(get_obj(x, dec, "inputs", "model.decoder.inputs", false, &in));
    if (in) {
        TRY(get_str(x, in, "input_ids", "model.decoder.inputs.input_ids", false, c->in_input_ids, OLM_NAME_MAX));
        TRY(get_str(x, in, "attention_mask", "model.decoder.inputs.attention_mask", false, c->in_attention_mask,
                    OLM_NAME_MAX));
        TRY(get_str(x, in, "position_ids", "model.decoder.inputs.position_ids", false, c->in_position_ids,
                    OLM_NAME_MAX));
        TRY(get_str(x, in, "past_key_names", "model.decoder.inputs.past_key_names", false, c->in_past_key,
                    OLM_NAME_MAX));
        TRY(get_str(x, in, "past_value_names", "model.decoder.inputs.past_value_names", false, c->in_past_value,
                    OLM_NAME_MAX));
        if (cJSON_GetObjectItemCaseSensitive(in, "past_names"))
            return olm_fail(x->err, ONNXLLM_ERR_UNSUPPORTED,
                            "%s: model.decoder.inputs.past_names: combined key/value caches are not supported",
                            x->path);
    }
    TRY(get_obj(x, dec, "outputs", "model.decoder.outputs", false, &out));
    if (out) {
        TRY(get_str(x, out, "logits", "model.decoder.outputs.logits", false, c->out_logits, OLM_NAME_MAX));
        TRY(get_str(x, out, "present_key_names", "model.decoder.outputs.present_key_names", false, c->out_present_key,
                    OLM_NAME_MAX));
        TRY(get_str(x, out, "present_value_names", "model.decoder.outputs.present_value_names", false,
                    c->out_present_value, OLM_NAME_MAX));
    }
    TRY(check_template(x, "model.decoder.inputs.past_key_names", c->in_past_key));
    TRY(check_template(x, "model.decoder.inputs.past_value_names", c->in_past_value));
    TRY(check_template(x, "model.decoder.outputs.present_key_names", c->out_present_key));
    TRY(check_template(x, "model.decoder.outputs.present_value_names", c->out_present_value));

    c->enable_cpu_mem_arena = c->enable_mem_pattern = c->graph_optimization_level = c->log_severity_level = -1;
    TRY(get_obj(x, dec, "session_options", "model.decoder.session_options", false, &so));
    if (so) TRY(parse_session_options(x, so, c));

    c->temperature = 1.0f;
    c->top_p = 1.0f;
    c->top_k = 50;
    c->repetition_penalty = 1.0f;
    TRY(get_obj(x, root, "search", "search", false, &search));
    if (search) {
        TRY(get_bool(x, search, "past_present_share_buffer", "search.past_present_share_buffer",
                     &c->past_present_share_buffer));
        TRY(get_int(x, search, "max_length", "search.max_length", false, 0, &c->search_max_length));
        TRY(get_bool(x, search, "do_sample", "search.do_sample", &c->do_sample));
        TRY(get_float(x, search, "temperature", "search.temperature", &c->temperature));
        TRY(get_float(x, search, "top_p", "search.top_p", &c->top_p));
        TRY(get_int(x, search, "top_k", "search.top_k", false, 0, &c->top_k));
        TRY(get_float(x, search, "repetition_penalty", "search.repetition_penalty", &c->repetition_penalty));
        if (!(c->repetition_penalty > 0.0f) || !isfinite(c->repetition_penalty))
            return bad(x, "search.repetition_penalty", "must be a number > 0");
        int beams = 1;
        TRY(get_int(x, search, "num_beams", "search.num_beams", false, 1, &beams));
        /* genai shares the buffer only with num_beams == 1; we never run beams. */
    }
    return ONNXLLM_OK;
}

onnxllm_status olm_genai_config_parse(const char *text, size_t len, const char *path, olm_genai_config *c,
                                      onnxllm_error *err) {
    memset(c, 0, sizeof *c);
    c->path = strdup(path);
    if (!c->path) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    cJSON *root = NULL;
    onnxllm_status st = olm_json_parse(text, len, path, &root, err);
    if (!st) {
        ctx_t x = {path, err};
        st = parse(&x, root, c);
    }
    cJSON_Delete(root);
    if (st) olm_genai_config_free(c);
    return st;
}

onnxllm_status olm_genai_config_load(const char *dir, olm_genai_config *c, onnxllm_error *err) {
    memset(c, 0, sizeof *c);
    char *path = olm_path_join(dir, "genai_config.json");
    if (!path) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    char *text;
    size_t len;
    onnxllm_status st = olm_read_file(path, &text, &len, err);
    if (!st) {
        st = olm_genai_config_parse(text, len, path, c, err);
        free(text);
    }
    free(path);
    return st;
}

void olm_genai_config_free(olm_genai_config *c) {
    free(c->path);
    c->path = NULL;
}
