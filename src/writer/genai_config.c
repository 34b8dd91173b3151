/* genai_config.c — genai_config.json with the builder's fields, order and values.
 * Floats the builder writes as 0.0 / 1.0 are emitted raw so the text matches. */
#include "writer/genai_config.h"
#include "common/error.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void num(cJSON *o, const char *k, double v) { cJSON_AddNumberToObject(o, k, v); }
static void raw(cJSON *o, const char *k, const char *v) { cJSON_AddRawToObject(o, k, v); }

/* cJSON indents with tabs and puts a tab after ':'; Python's json.dump(indent=4)
 * uses 4 spaces and ": ". */
static char *reindent(const char *s) {
    size_t tabs = 0;
    for (const char *p = s; *p; p++) tabs += *p == '\t';
    char *out = malloc(strlen(s) + 3 * tabs + 2);
    if (!out) return NULL;
    char *q = out;
    for (const char *p = s; *p; p++) {
        if (*p != '\t') {
            *q++ = *p;
        } else if (p > s && p[-1] == ':') {
            *q++ = ' ';
        } else {
            memcpy(q, "    ", 4);
            q += 4;
        }
    }
    *q++ = '\n';
    *q = 0;
    return out;
}

char *olm_genai_config_json(const olm_phi3_config *c, const olm_build_options *o) {
    cJSON *root = cJSON_CreateObject(), *model = cJSON_AddObjectToObject(root, "model");
    num(model, "bos_token_id", c->bos_token_id);
    num(model, "context_length", c->context_length);
    cJSON *dec = cJSON_AddObjectToObject(model, "decoder");
    cJSON *so = cJSON_AddObjectToObject(dec, "session_options");
    cJSON_AddStringToObject(so, "log_id", "onnxruntime-genai");
    cJSON *po = cJSON_AddArrayToObject(so, "provider_options");
    if (o->ep == OLM_EP_CUDA) {
        cJSON *e = cJSON_CreateObject(), *cuda = cJSON_AddObjectToObject(e, "cuda");
        cJSON_AddStringToObject(cuda, "enable_cuda_graph", "0");
        cJSON_AddItemToArray(po, e);
    }
    cJSON_AddStringToObject(dec, "filename", "model.onnx");
    num(dec, "head_size", olm_phi3_head_dim(c));
    num(dec, "hidden_size", c->hidden_size);
    cJSON *in = cJSON_AddObjectToObject(dec, "inputs");
    cJSON_AddStringToObject(in, "input_ids", "input_ids");
    cJSON_AddStringToObject(in, "attention_mask", "attention_mask");
    cJSON_AddStringToObject(in, "past_key_names", "past_key_values.%d.key");
    cJSON_AddStringToObject(in, "past_value_names", "past_key_values.%d.value");
    cJSON *out = cJSON_AddObjectToObject(dec, "outputs");
    cJSON_AddStringToObject(out, "logits", "logits");
    cJSON_AddStringToObject(out, "present_key_names", "present.%d.key");
    cJSON_AddStringToObject(out, "present_value_names", "present.%d.value");
    num(dec, "num_attention_heads", c->num_attention_heads);
    num(dec, "num_hidden_layers", c->num_hidden_layers);
    num(dec, "num_key_value_heads", c->num_key_value_heads);
    cJSON *eos = cJSON_AddArrayToObject(model, "eos_token_id");
    for (int i = 0; i < c->n_eos; i++) cJSON_AddItemToArray(eos, cJSON_CreateNumber(c->eos_token_id[i]));
    num(model, "pad_token_id", c->pad_token_id);
    cJSON_AddStringToObject(model, "type", "phi3");
    num(model, "vocab_size", c->vocab_size);
    cJSON *s = cJSON_AddObjectToObject(root, "search");
    raw(s, "diversity_penalty", "0.0");
    cJSON_AddFalseToObject(s, "do_sample");
    cJSON_AddTrueToObject(s, "early_stopping");
    raw(s, "length_penalty", "1.0");
    num(s, "max_length", c->context_length);
    num(s, "min_length", 0);
    num(s, "no_repeat_ngram_size", 0);
    num(s, "num_beams", 1);
    num(s, "num_return_sequences", 1);
    cJSON_AddTrueToObject(s, "past_present_share_buffer");
    raw(s, "repetition_penalty", "1.0");
    raw(s, "temperature", "1.0");
    num(s, "top_k", 50);
    raw(s, "top_p", "1.0");
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return NULL;
    char *r = reindent(text);
    cJSON_free(text);
    return r;
}

onnxllm_status olm_genai_config_write(const olm_phi3_config *c, const olm_build_options *o, const char *path,
                                      onnxllm_error *err) {
    char *text = olm_genai_config_json(c, o);
    if (!text) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    FILE *f = fopen(path, "wb");
    onnxllm_status st = ONNXLLM_OK;
    if (!f) {
        st = olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    } else {
        size_t n = strlen(text);
        bool ok = fwrite(text, 1, n, f) == n;
        if (fclose(f) != 0) ok = false;
        if (!ok) st = olm_fail(err, ONNXLLM_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    }
    free(text);
    return st;
}
