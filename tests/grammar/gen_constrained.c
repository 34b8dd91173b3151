/* gen_constrained.c — constrained generation for the end-to-end test (e2e.mjs).
 *
 *   gen_constrained MODEL_DIR TOKENIZER_JSON MAX_NEW_TOKENS [MAX_SCHEMA_RUNS] < requests.jsonl
 *
 * Loads the model once. Each input line is {"schema": {...}} or {"tools": [...],
 * "tool_choice": ..., "parallel": bool}, plus optional "prompt", "seed" and
 * "max_tokens", "compact" (no whitespace between JSON tokens); schema lines after MAX_SCHEMA_RUNS compiled ones are only
 * compiled ("skipped": true). The
 * output line is {"compiled", "error", "text", "stop": "eos"|"length"|...,
 * "accepting", "tokens", "tool_calls": [OpenAI form]}. Sampling is plain
 * temperature 1 with the given seed: with random weights only the grammar makes
 * the output valid. */
#include "onnxllm.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gen {
    onnxllm_tokens out; /* generated ids (decoded at the end: a token may end inside a character) */
    const onnxllm_model *model;
} gen;

static bool on_token(int32_t t, void *user) {
    gen *g = user;
    if (!onnxllm_model_is_eos(g->model, t)) {
        onnxllm_tokens *o = &g->out;
        if (o->len == o->cap) {
            size_t c = o->cap ? o->cap * 2 : 64;
            int32_t *n = realloc(o->ids, c * sizeof *n);
            if (!n) return false;
            o->ids = n;
            o->cap = c;
        }
        o->ids[o->len++] = t;
    }
    return true;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: gen_constrained MODEL_DIR TOKENIZER_JSON MAX_NEW_TOKENS < requests.jsonl\n");
        return 2;
    }
    int max_new = atoi(argv[3]), max_runs = argc > 4 ? atoi(argv[4]) : 1 << 30, runs = 0;
    onnxllm_error e = {0};
    onnxllm_model *model;
    onnxllm_tokenizer *tok;
    onnxllm_grammar_vocab *voc;
    onnxllm_model_params mp = onnxllm_model_default_params();
    mp.n_threads = 1;
    if (onnxllm_model_load(argv[1], &mp, &model, &e) || onnxllm_tokenizer_load(argv[2], &tok, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    size_t neos;
    const int32_t *eos = onnxllm_model_eos(model, &neos);
    if (onnxllm_grammar_vocab_create(tok, onnxllm_model_vocab_size(model), eos, neos, &voc, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        cJSON *in = cJSON_ParseWithLength(line, (size_t)len), *out = cJSON_CreateObject();
        const cJSON *schema = cJSON_GetObjectItemCaseSensitive(in, "schema");
        const cJSON *tools = cJSON_GetObjectItemCaseSensitive(in, "tools");
        const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(in, "prompt");
        const cJSON *seed = cJSON_GetObjectItemCaseSensitive(in, "seed");
        onnxllm_grammar *g = NULL;
        onnxllm_matcher *m = NULL;
        onnxllm_sequence *seq = NULL;
        onnxllm_tokens ids = {0};
        gen gs = {{0}, model};
        onnxllm_string text = {0};
        onnxllm_error ge = {0};
        onnxllm_status st;
        onnxllm_grammar_params gpar = onnxllm_grammar_default_params();
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "compact"))) gpar.whitespace = ONNXLLM_WS_COMPACT;
        if (schema) {
            char *s = cJSON_PrintUnformatted(schema);
            st = onnxllm_grammar_compile_json_schema(voc, s, strlen(s), &gpar, &g, &ge);
            free(s);
        } else {
            char *s = cJSON_PrintUnformatted(tools), *c = NULL;
            const cJSON *tc = cJSON_GetObjectItemCaseSensitive(in, "tool_choice");
            if (tc) c = cJSON_PrintUnformatted(tc);
            st = onnxllm_grammar_compile_tools(voc, s, c, !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(in, "parallel")),
                                               &gpar, &g, &ge);
            free(s);
            free(c);
        }
        cJSON_AddBoolToObject(out, "compiled", st == ONNXLLM_OK);
        cJSON_AddStringToObject(out, "error", st ? ge.message : "");
        bool skip = !st && schema && runs >= max_runs;
        if (!st && schema) runs++;
        if (skip) cJSON_AddBoolToObject(out, "skipped", true);
        if (!st && !skip) {
            const cJSON *mt = cJSON_GetObjectItemCaseSensitive(in, "max_tokens");
            const char *p = cJSON_IsString(prompt) ? prompt->valuestring : "JSON:";
            onnxllm_generate_result r = {0};
            onnxllm_generate_params gp = onnxllm_generate_default_params();
            onnxllm_sampler_params sp = onnxllm_sampler_default_params();
            sp.seed = cJSON_IsNumber(seed) ? (uint64_t)seed->valuedouble : 1;
            gp.sampler = &sp;
            gp.max_new_tokens = cJSON_IsNumber(mt) ? (int)mt->valuedouble : max_new;
            gp.on_token = on_token;
            gp.user = &gs;
            if (onnxllm_matcher_create(g, &m, &ge) || onnxllm_tokenizer_encode(tok, p, strlen(p), 0, &ids, &ge) ||
                onnxllm_sequence_create(model, &seq, &ge) || onnxllm_sequence_append(seq, ids.ids, ids.len, &ge) ||
                (gp.matcher = m, onnxllm_generate_ex(seq, &gp, &r, &ge))) {
                fprintf(stderr, "generation failed: %s\n", ge.message);
                rc = 1;
            }
            static const char *const stops[] = {"none", "eos", "length", "max_length", "callback", "cancelled"};
            onnxllm_tokenizer_decode(tok, gs.out.ids, gs.out.len, false, &text, NULL);
            cJSON_AddStringToObject(out, "text", text.data ? text.data : "");
            cJSON_AddStringToObject(out, "stop", stops[r.stop]);
            cJSON_AddBoolToObject(out, "accepting", onnxllm_matcher_is_accepting(m));
            cJSON_AddNumberToObject(out, "tokens", r.n_generated);
            if (tools) {
                onnxllm_tool_calls calls = {0};
                char *cj = NULL;
                if (!onnxllm_toolcalls_parse(text.data ? text.data : "", &calls, NULL) &&
                    !onnxllm_toolcalls_openai_json(&calls, &cj, NULL))
                    cJSON_AddItemToObject(out, "tool_calls", cJSON_Parse(cj));
                free(cj);
                onnxllm_toolcalls_clear(&calls);
            }
        }
        char *o = cJSON_PrintUnformatted(out);
        puts(o);
        fflush(stdout);
        free(o);
        cJSON_Delete(out);
        cJSON_Delete(in);
        onnxllm_string_free(&text);
        onnxllm_tokens_free(&gs.out);
        onnxllm_tokens_free(&ids);
        onnxllm_sequence_free(seq);
        onnxllm_matcher_free(m);
        onnxllm_grammar_free(g);
    }
    free(line);
    onnxllm_grammar_vocab_free(voc);
    onnxllm_tokenizer_free(tok);
    onnxllm_model_free(model);
    return rc;
}
