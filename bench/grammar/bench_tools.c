/* bench_tools.c — what constrained tool calls cost an agent's request (a program, not a test).
 *
 *   bench_tools TOKENIZER_JSON REQUEST_JSON [NAME ARGS_JSON]
 *
 * REQUEST_JSON is a captured request body with a "tools" array (Claude Code's
 * /v1/messages, Codex's /v1/responses: function tools only are kept). Prints one JSON
 * object: the vocabulary build, the compile of the tool list for tool_choice auto (the
 * lazy grammar every agent request gets) and required (min / median of 5), and the masks
 * along one call `<|tool_call|>[{"name": NAME, "arguments": ARGS}]<|/tool_call|>` then eos,
 * tokenized as the model would write it, after a line of free text in auto mode:
 * p50 / max µs per token, cold (fresh grammar) and warm (the same grammar again, as the
 * server's grammar cache keeps it). One thread. */
#include "onnxllm.h"
#include "common/fileio.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what, const onnxllm_error *e) {
    fprintf(stderr, "bench_tools: %s: %s\n", what, e ? e->message : "");
    exit(1);
}

/* Masks along `text` (ids from the tokenizer, special tokens parsed), then eos. */
static void walk(const onnxllm_grammar *g, const onnxllm_tokenizer *tok, const char *text, int32_t eos, double *p50,
                 double *max, int *n_tok) {
    onnxllm_error e = {0};
    onnxllm_tokens ids = {0};
    onnxllm_matcher *m = NULL;
    if (onnxllm_tokenizer_encode(tok, text, strlen(text), ONNXLLM_TOKENIZE_PARSE_SPECIAL, &ids, &e)) die("encode", &e);
    if (onnxllm_matcher_create(g, &m, &e)) die("matcher", &e);
    size_t W = onnxllm_matcher_mask_words(m);
    uint32_t *mask = malloc(W * sizeof *mask);
    double *t = malloc((ids.len + 1) * sizeof *t);
    for (size_t i = 0; i <= ids.len; i++) {
        int32_t id = i < ids.len ? ids.ids[i] : eos;
        double t0 = now_us();
        if (onnxllm_matcher_fill_mask(m, mask, W, &e)) die("mask", &e);
        t[i] = now_us() - t0;
        if (!((mask[id >> 5] >> (id & 31)) & 1)) {
            fprintf(stderr, "bench_tools: token %zu (id %d) of the call is not allowed\n", i, id);
            exit(1);
        }
        if (onnxllm_matcher_accept(m, id, &e)) die("accept", &e);
    }
    qsort(t, ids.len + 1, sizeof *t, cmpd);
    *p50 = t[(ids.len + 1) / 2];
    *max = t[ids.len];
    *n_tok = (int)ids.len + 1;
    free(t);
    free(mask);
    onnxllm_matcher_free(m);
    onnxllm_tokens_free(&ids);
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: bench_tools TOKENIZER_JSON REQUEST_JSON [NAME ARGS_JSON]\n");
        return 2;
    }
    onnxllm_error e = {0};
    onnxllm_tokenizer *tok = NULL;
    if (onnxllm_tokenizer_load(argv[1], &tok, &e)) die(argv[1], &e);
    size_t len = 0;
    char *body = NULL;
    if (olm_read_file(argv[2], &body, &len, &e)) die(argv[2], &e);
    cJSON *req = cJSON_ParseWithLength(body, len);
    cJSON *tools = req ? cJSON_GetObjectItemCaseSensitive(req, "tools") : NULL;
    if (!cJSON_IsArray(tools)) die("the request has no tools array", NULL);
    cJSON *fn = cJSON_CreateArray(); /* function tools (Responses: type function; Anthropic: no type) */
    const cJSON *t;
    cJSON_ArrayForEach(t, tools) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(t, "type");
        if (!type || (cJSON_IsString(type) && !strcmp(type->valuestring, "function")))
            cJSON_AddItemToArray(fn, cJSON_Duplicate(t, true));
    }
    char *tools_json = cJSON_PrintUnformatted(fn);
    const cJSON *first = cJSON_GetArrayItem(fn, 0);
    const cJSON *fname = cJSON_GetObjectItemCaseSensitive(first, "name");
    const char *name = argc == 5 ? argv[3] : cJSON_IsString(fname) ? fname->valuestring : "f";
    const char *args = argc == 5 ? argv[4] : "{}";
    int32_t eos = onnxllm_tokenizer_token_to_id(tok, "<|end|>");
    if (eos < 0) die("no <|end|> token", NULL);

    double t0 = now_us();
    onnxllm_grammar_vocab *v = NULL;
    if (onnxllm_grammar_vocab_create(tok, 0, &eos, 1, &v, &e)) die("vocab", &e);
    double vocab_ms = (now_us() - t0) / 1e3;

    const char *modes[2] = {NULL, "\"required\""};
    double comp[2][5];
    onnxllm_grammar *g[2] = {0};
    for (int k = 0; k < 2; k++)
        for (int r = 0; r < 5; r++) {
            onnxllm_grammar *x = NULL;
            t0 = now_us();
            if (onnxllm_grammar_compile_tools(v, tools_json, modes[k], true, NULL, &x, &e)) die("compile", &e);
            comp[k][r] = (now_us() - t0) / 1e3;
            if (r == 0) g[k] = x;
            else onnxllm_grammar_free(x);
        }
    for (int k = 0; k < 2; k++) qsort(comp[k], 5, sizeof comp[k][0], cmpd);

    char *call = malloc(strlen(name) + strlen(args) + 128), *free_call = malloc(strlen(name) + strlen(args) + 160);
    sprintf(call, "<|tool_call|>[{\"name\": \"%s\", \"arguments\": %s}]<|/tool_call|>", name, args);
    sprintf(free_call, "Let me check that first.%s", call);
    double p50[2][2], mx[2][2];
    int n[2];
    for (int pass = 0; pass < 2; pass++) { /* cold, then warm (the grammar's shared caches filled) */
        walk(g[0], tok, free_call, eos, &p50[0][pass], &mx[0][pass], &n[0]);
        walk(g[1], tok, call, eos, &p50[1][pass], &mx[1][pass], &n[1]);
    }
    printf("{\n \"request\": \"%s\",\n \"tools\": %d,\n \"tools_json_bytes\": %zu,\n \"vocab_ms\": %.0f,\n", argv[2],
           cJSON_GetArraySize(fn), strlen(tools_json), vocab_ms);
    printf(" \"compile_auto_ms_min\": %.1f, \"compile_auto_ms_median\": %.1f,\n", comp[0][0], comp[0][2]);
    printf(" \"compile_required_ms_min\": %.1f, \"compile_required_ms_median\": %.1f,\n", comp[1][0], comp[1][2]);
    printf(" \"call\": \"%s\",\n", name);
    printf(" \"auto_tokens\": %d, \"auto_mask_us_p50_cold\": %.1f, \"auto_mask_us_max_cold\": %.1f, "
           "\"auto_mask_us_p50_warm\": %.1f, \"auto_mask_us_max_warm\": %.1f,\n",
           n[0], p50[0][0], mx[0][0], p50[0][1], mx[0][1]);
    printf(" \"required_tokens\": %d, \"required_mask_us_p50_cold\": %.1f, \"required_mask_us_max_cold\": %.1f, "
           "\"required_mask_us_p50_warm\": %.1f, \"required_mask_us_max_warm\": %.1f\n}\n",
           n[1], p50[1][0], mx[1][0], p50[1][1], mx[1][1]);
    onnxllm_grammar_free(g[0]);
    onnxllm_grammar_free(g[1]);
    onnxllm_grammar_vocab_free(v);
    onnxllm_tokenizer_free(tok);
    free(call);
    free(free_call);
    free(tools_json);
    cJSON_Delete(fn);
    cJSON_Delete(req);
    free(body);
    return 0;
}
