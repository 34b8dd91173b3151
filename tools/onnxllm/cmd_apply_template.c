/* cmd_apply_template.c — `onnxllm apply-template`: chat messages on stdin → the prompt.
 *
 *   echo '{"messages":[{"role":"user","content":"Hi"}],"add_generation_prompt":true}' \
 *     | onnxllm apply-template -m MODEL_DIR [--ids]
 *
 * Prints the prompt exactly (no newline added, except on a terminal) or, with
 * --ids, its token ids as one JSON array. */
#include "cli.h"
#include "common/fileio.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help(FILE *f) {
    fprintf(f,
            "usage: onnxllm apply-template -m MODEL_DIR [--ids] < request.json\n"
            "\n"
            "Renders chat messages with the model's chat template (MODEL_DIR/chat_template.jinja or\n"
            "tokenizer_config.json \"chat_template\"; Phi-4-mini, Phi-3 and Phi-3.5 templates are known).\n"
            "\n"
            "stdin: {\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}, ...],\n"
            "        \"tools\": [OpenAI/Anthropic tool definitions] (optional),\n"
            "        \"add_generation_prompt\": true (optional, default false as in transformers)}\n"
            "Tools are written into the first system message between <|tool|> and <|/tool|> as\n"
            "Python json.dumps of [{name, description, parameters}]; a system message with empty\n"
            "content is added first when there is none.\n"
            "\n"
            "options:\n"
            "  -m, --model DIR   model folder (required)\n"
            "      --ids         print the prompt's token ids (MODEL_DIR/tokenizer.json) as a JSON array;\n"
            "                    special-token text inside message contents stays text\n"
            "  -h, --help        this help\n"
            "\n"
            "output: the prompt, byte for byte (a newline is added only when stdout is a terminal)\n"
            "exit codes: 0 ok, 1 model folder/template problem, 2 bad usage or bad request\n"
            "            (malformed JSON, a message the template rejects: missing/null content)\n");
}

int cmd_apply_template(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"ids", no_argument, 0, 'i'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL;
    bool ids = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'i': ids = true; break;
        case 'h': help(stdout); return CLI_OK;
        default: return cli_bad_option("apply-template", c, argv);
        }
    }
    if (optind < argc) return cli_usage_error("apply-template", "unexpected argument '%s'", argv[optind]);
    if (!model) return cli_usage_error("apply-template", "missing -m MODEL_DIR");

    onnxllm_error err = {0};
    onnxllm_template *tmpl = NULL;
    if (onnxllm_template_load(model, &tmpl, &err)) return cli_report("apply-template", &err);

    int rc = CLI_OK;
    char *input = NULL, *msgs = NULL, *tools = NULL, *prompt = NULL;
    cJSON *req = NULL;
    size_t cap = 0, len = 0;
    for (;;) { /* stdin, whole */
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *p = realloc(input, cap);
            if (!p) {
                fprintf(stderr, "onnxllm apply-template: out of memory\n");
                rc = CLI_FAIL;
                goto done;
            }
            input = p;
        }
        size_t n = fread(input + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0) break;
    }
    input[len] = 0;
    if (olm_json_parse(input, len, "stdin", &req, &err)) {
        rc = cli_usage_error("apply-template", "%s", err.message);
        goto done;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "messages");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(req, "tools");
    const cJSON *agp = cJSON_GetObjectItemCaseSensitive(req, "add_generation_prompt");
    if (!cJSON_IsObject(req) || !cJSON_IsArray(m)) {
        rc = cli_usage_error("apply-template", "stdin: expected {\"messages\": [...], ...}");
        goto done;
    }
    if (agp && !cJSON_IsBool(agp) && !cJSON_IsNull(agp)) {
        rc = cli_usage_error("apply-template", "stdin: \"add_generation_prompt\" must be true or false");
        goto done;
    }
    msgs = cJSON_PrintUnformatted(m);
    if (t && !cJSON_IsNull(t)) tools = cJSON_PrintUnformatted(t);
    if (!ids && onnxllm_chat_render_json(tmpl, msgs, tools, cJSON_IsTrue(agp), &prompt, &err)) {
        rc = cli_report("apply-template", &err);
        goto done;
    }
    if (ids) {
        /* as transformers' apply_chat_template(tokenize=True) (no post-processor), except
         * that special-token text inside message contents stays text (onnxllm_chat_render_ids) */
        char *path = olm_path_join(model, "tokenizer.json");
        onnxllm_tokenizer *tok = NULL;
        onnxllm_tokens t = {0};
        if (!path || onnxllm_tokenizer_load(path, &tok, &err) ||
            onnxllm_chat_render_json_ids(tmpl, tok, msgs, tools, cJSON_IsTrue(agp), 0, &t, &err)) {
            rc = cli_report("apply-template", &err) == CLI_INTERRUPTED ? CLI_INTERRUPTED : CLI_FAIL;
        } else {
            fputc('[', stdout);
            for (size_t i = 0; i < t.len; i++) printf(i ? ",%d" : "%d", (int)t.ids[i]);
            fputs("]\n", stdout);
        }
        onnxllm_tokens_free(&t);
        onnxllm_tokenizer_free(tok);
        free(path);
    } else {
        fputs(prompt, stdout);
        if (isatty(STDOUT_FILENO)) fputc('\n', stdout);
    }
    if (fflush(stdout)) rc = CLI_FAIL;
done:
    free(prompt);
    free(msgs);
    free(tools);
    free(input);
    cJSON_Delete(req);
    onnxllm_template_free(tmpl);
    return rc;
}
