/* cmd_schema_test.c — `onnxllm schema-test`: check texts against grammars, token by token.
 *
 * Reads JSON lines {"schema": {...}, "text": "..."} from stdin (or, instead of
 * "schema", "response_format": {...} or "tools": [...] with "tool_choice" and
 * "parallel_tool_calls") and writes one JSON line per input line:
 *   {"compiled": true|false, "error": "...", "accepted": true|false,
 *    "rejected_at": BYTE_OFFSET|null, "compile_us": N, "mask_us_p50": N, "mask_us_max": N}
 * accepted: every token of the tokenizer's encoding of text was in the mask in
 * turn and the end state accepts. rejected_at: byte offset of the first token
 * that was not allowed (the text's length when only the end was not accepting).
 * Consecutive lines with the same grammar reuse the compiled grammar. */
#include "cli.h"
#include "common/error.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void help(FILE *f) {
    fprintf(f,
            "usage: onnxllm schema-test --tokenizer FILE [options] < lines.jsonl\n"
            "\n"
            "Checks texts against JSON Schemas with the constrained-decoding masks.\n"
            "Input lines: {\"schema\": {...}, \"text\": \"...\"}; \"response_format\" or \"tools\" (+\n"
            "\"tool_choice\", \"parallel_tool_calls\") may replace \"schema\"; \"text\" may be omitted.\n"
            "Output lines: {\"compiled\", \"error\", \"accepted\", \"rejected_at\", \"compile_us\",\n"
            "\"mask_us_p50\", \"mask_us_max\"}.\n"
            "\n"
            "options:\n"
            "  -t, --tokenizer FILE     tokenizer.json (required)\n"
            "      --vocab-size N       mask length (default: the tokenizer's)\n"
            "      --compact            no whitespace between JSON tokens (default: flexible, bounded)\n"
            "      --max-whitespace N   whitespace bytes per gap in flexible mode (default 12)\n"
            "      --all-timings        also print \"mask_us\": [every mask time] per line\n"
            "  -h, --help               this help\n"
            "\n"
            "exit codes: 0 ok (also when texts are rejected), 1 tokenizer/IO failure, 2 bad usage\n");
}

static double now_us(void) { return cli_now_ms() * 1000.0; }

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int cmd_schema_test(int argc, char **argv) {
    enum { O_VOCAB = 1, O_COMPACT, O_MAXWS, O_ALL };
    static const struct option opts[] = {{"tokenizer", required_argument, 0, 't'},
                                         {"vocab-size", required_argument, 0, O_VOCAB},
                                         {"compact", no_argument, 0, O_COMPACT},
                                         {"max-whitespace", required_argument, 0, O_MAXWS},
                                         {"all-timings", no_argument, 0, O_ALL},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *tok_path = NULL;
    int vocab_size = 0;
    bool all_timings = false;
    onnxllm_grammar_params gp = onnxllm_grammar_default_params();
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': tok_path = optarg; break;
        case O_VOCAB: vocab_size = atoi(optarg); break;
        case O_COMPACT: gp.whitespace = ONNXLLM_WS_COMPACT; break;
        case O_MAXWS: gp.max_whitespace = atoi(optarg); break;
        case O_ALL: all_timings = true; break;
        case 'h': help(stdout); return CLI_OK;
        default: return cli_bad_option("schema-test", c, argv);
        }
    }
    if (optind < argc) return cli_usage_error("schema-test", "unexpected argument '%s'", argv[optind]);
    if (!tok_path) return cli_usage_error("schema-test", "missing --tokenizer FILE");
    if (vocab_size < 0 || gp.max_whitespace < 0) return cli_usage_error("schema-test", "bad --vocab-size / --max-whitespace");

    onnxllm_error err = {0};
    onnxllm_tokenizer *tok = NULL;
    onnxllm_grammar_vocab *voc = NULL;
    if (onnxllm_tokenizer_load(tok_path, &tok, &err)) return cli_report("schema-test", &err);
    int32_t eos[8];
    size_t neos = 0;
    static const char *const eos_names[] = {"<|end|>", "<|endoftext|>", "</s>", "<|eot_id|>", "<eos>", "<|im_end|>", NULL};
    for (int i = 0; eos_names[i] && neos < 8; i++) {
        int32_t id = onnxllm_tokenizer_token_to_id(tok, eos_names[i]);
        if (id >= 0) eos[neos++] = id;
    }
    if (onnxllm_grammar_vocab_create(tok, vocab_size, eos, neos, &voc, &err)) {
        onnxllm_tokenizer_free(tok);
        return cli_report("schema-test", &err);
    }
    size_t W = (size_t)(onnxllm_grammar_vocab_size(voc) + 31) / 32;
    uint32_t *mask = malloc(W * sizeof *mask);
    char *line = NULL, *last_key = NULL;
    size_t cap = 0;
    ssize_t len;
    onnxllm_grammar *g = NULL;
    onnxllm_status g_st = ONNXLLM_OK;
    char g_err[ONNXLLM_ERROR_MESSAGE_MAX] = "";
    double g_us = 0;
    onnxllm_tokens ids = {0};
    double *times = NULL;
    size_t tcap = 0;
    int rc = CLI_OK;
    if (!mask) {
        fprintf(stderr, "onnxllm schema-test: out of memory\n");
        rc = CLI_FAIL;
        goto done;
    }
    while ((len = getline(&line, &cap, stdin)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len) continue;
        cJSON *in = cJSON_ParseWithLength(line, (size_t)len), *outj = cJSON_CreateObject();
        if (!outj) {
            cJSON_Delete(in);
            rc = CLI_FAIL;
            break;
        }
        const cJSON *schema = cJSON_GetObjectItemCaseSensitive(in, "schema");
        const cJSON *rf = cJSON_GetObjectItemCaseSensitive(in, "response_format");
        const cJSON *tools = cJSON_GetObjectItemCaseSensitive(in, "tools");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(in, "text");
        bool compiled = false, accepted = false;
        long rejected_at = -1;
        const char *error = "";
        char msg[ONNXLLM_ERROR_MESSAGE_MAX + 64];
        size_t ntimes = 0;
        /* the grammar (reused when the same as the previous line's) */
        char *key = NULL;
        if (!cJSON_IsObject(in)) error = "input line is not a JSON object";
        else if (!schema && !rf && !tools) error = "input line has no \"schema\" (or \"response_format\" / \"tools\")";
        else if (text && !cJSON_IsString(text)) error = "\"text\" must be a string";
        else {
            cJSON *k = cJSON_CreateObject();
            if (k) {
                cJSON_AddItemToObject(k, "s", cJSON_Duplicate(schema ? schema : rf ? rf : tools, true));
                if (tools) {
                    cJSON_AddItemToObject(k, "c", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in, "tool_choice"), true));
                    cJSON_AddItemToObject(k, "p", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(in, "parallel_tool_calls"), true));
                }
                cJSON_AddNumberToObject(k, "kind", schema ? 0 : rf ? 1 : 2);
                key = cJSON_PrintUnformatted(k);
                cJSON_Delete(k);
            }
            if (!key) error = "out of memory";
        }
        if (key) {
            if (!last_key || strcmp(key, last_key)) {
                onnxllm_grammar_free(g);
                g = NULL;
                onnxllm_error e = {0};
                double t0 = now_us();
                if (schema) {
                    char *s = cJSON_IsString(schema) ? strdup(schema->valuestring) : cJSON_PrintUnformatted(schema);
                    g_st = s ? onnxllm_grammar_compile_json_schema(voc, s, strlen(s), &gp, &g, &e)
                             : olm_fail(&e, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
                    free(s);
                } else if (rf) {
                    char *s = cJSON_PrintUnformatted(rf);
                    g_st = s ? onnxllm_grammar_compile_response_format(voc, s, &gp, &g, &e)
                             : olm_fail(&e, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
                    if (!g_st && !g) g_st = olm_fail(&e, ONNXLLM_ERR_INVALID_ARGUMENT, "response_format \"text\" has no grammar");
                    free(s);
                } else {
                    char *s = cJSON_PrintUnformatted(tools), *tc = NULL;
                    const cJSON *tcj = cJSON_GetObjectItemCaseSensitive(in, "tool_choice");
                    const cJSON *par = cJSON_GetObjectItemCaseSensitive(in, "parallel_tool_calls");
                    if (tcj) tc = cJSON_PrintUnformatted(tcj);
                    g_st = s ? onnxllm_grammar_compile_tools(voc, s, tc, !cJSON_IsFalse(par), &gp, &g, &e)
                             : olm_fail(&e, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
                    free(s);
                    free(tc);
                }
                g_us = now_us() - t0;
                snprintf(g_err, sizeof g_err, "%s", g_st ? e.message : "");
                free(last_key);
                last_key = key;
                key = NULL;
            }
            free(key);
            compiled = g_st == ONNXLLM_OK;
            if (!compiled) error = g_err;
        }
        if (compiled && text) {
            onnxllm_matcher *m = NULL;
            onnxllm_error e = {0};
            ids.len = 0;
            size_t tl = strlen(text->valuestring);
            if (onnxllm_tokenizer_encode(tok, text->valuestring, tl, 0, &ids, &e) || onnxllm_matcher_create(g, &m, &e)) {
                snprintf(msg, sizeof msg, "%s", e.message);
                error = msg;
            } else {
                if (tcap < ids.len + 1) {
                    double *nt = realloc(times, (ids.len + 1) * sizeof *times);
                    if (nt) times = nt, tcap = ids.len + 1;
                }
                size_t off = 0;
                bool ok = times != NULL;
                for (size_t i = 0; ok && i <= ids.len; i++) {
                    double t0 = now_us();
                    if (onnxllm_matcher_fill_mask(m, mask, W, &e)) {
                        snprintf(msg, sizeof msg, "%s", e.message);
                        error = msg;
                        ok = false;
                        break;
                    }
                    times[ntimes++] = now_us() - t0;
                    if (i == ids.len) break;
                    int32_t id = ids.ids[i];
                    bool allowed = id >= 0 && (size_t)id < W * 32 && ((mask[id >> 5] >> (id & 31)) & 1);
                    onnxllm_status ast = onnxllm_matcher_accept(m, id, &e);
                    if (allowed != (ast == ONNXLLM_OK)) {
                        snprintf(msg, sizeof msg, "internal: mask and accept disagree on token %d at byte %zu", id, off);
                        error = msg;
                        ok = false;
                        break;
                    }
                    if (!allowed) {
                        rejected_at = (long)off;
                        ok = false;
                        break;
                    }
                    size_t bl = 0;
                    onnxllm_grammar_vocab_token_bytes(voc, id, &bl);
                    off += bl;
                }
                if (ok) {
                    accepted = onnxllm_matcher_is_accepting(m);
                    if (!accepted) rejected_at = (long)tl;
                }
            }
            onnxllm_matcher_free(m);
        }
        cJSON_AddBoolToObject(outj, "compiled", compiled);
        cJSON_AddStringToObject(outj, "error", error);
        cJSON_AddBoolToObject(outj, "accepted", accepted);
        if (rejected_at >= 0) cJSON_AddNumberToObject(outj, "rejected_at", (double)rejected_at);
        else cJSON_AddNullToObject(outj, "rejected_at");
        cJSON_AddNumberToObject(outj, "compile_us", compiled || g_us > 0 ? (double)(long)(g_us + 0.5) : 0);
        double p50 = 0, mx = 0;
        if (ntimes) {
            double *sorted = malloc(ntimes * sizeof *sorted);
            if (sorted) {
                memcpy(sorted, times, ntimes * sizeof *sorted);
                qsort(sorted, ntimes, sizeof *sorted, cmp_d);
                p50 = sorted[ntimes / 2];
                mx = sorted[ntimes - 1];
                free(sorted);
            }
        }
        cJSON_AddNumberToObject(outj, "mask_us_p50", (double)(long)(p50 + 0.5));
        cJSON_AddNumberToObject(outj, "mask_us_max", (double)(long)(mx + 0.5));
        if (all_timings) {
            cJSON *arr = cJSON_AddArrayToObject(outj, "mask_us");
            for (size_t i = 0; arr && i < ntimes; i++) cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)(long)(times[i] * 10 + 0.5) / 10));
        }
        char *o = cJSON_PrintUnformatted(outj);
        if (o) {
            puts(o);
            fflush(stdout);
            free(o);
        }
        cJSON_Delete(outj);
        cJSON_Delete(in);
    }
done:
    free(line);
    free(last_key);
    free(mask);
    free(times);
    onnxllm_tokens_free(&ids);
    onnxllm_grammar_free(g);
    onnxllm_grammar_vocab_free(voc);
    onnxllm_tokenizer_free(tok);
    return rc;
}
