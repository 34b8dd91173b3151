/* cmd_run.c — `onnxllm run`: answer one prompt, streaming the text as it is generated.
 *
 * The prompt goes through the model's chat template (system + user turn, the
 * assistant turn opened), is encoded with DIR/tokenizer.json, prefilled, and the
 * answer is decoded token by token (UTF-8 safe) through the stop-string matcher.
 * Generation ends on an eos id, -n tokens, a --stop string or Ctrl-C (exit 130). */
#include "cli.h"
#include "common/fileio.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *f) {
    fprintf(f,
            "usage: onnxllm run -m MODEL_DIR -p PROMPT [options]\n"
            "\n"
            "Answers one prompt with the model, printing the answer as it is generated.\n"
            "\n"
            "options:\n"
            "  -m, --model DIR     model folder (genai_config.json, model.onnx, tokenizer.json,\n"
            "                      tokenizer_config.json with the chat template)\n"
            "  -p, --prompt TEXT   the user message (\"-\" reads it from stdin)\n"
            "  -s, --system TEXT   a system message\n"
            "      --tools FILE    JSON array of tool definitions (OpenAI or Anthropic form)\n"
            "      --tool-choice auto|required|none|NAME\n"
            "                      constrain the answer (with --tools): auto = text or a valid\n"
            "                      tool call, required = a valid call of some tool, NAME = a\n"
            "                      call of that tool, none = no tool call\n"
            "      --no-parallel-tool-calls  at most one call per answer\n"
            "      --schema FILE   constrain the answer to JSON valid for this JSON Schema\n"
            "                      (unsupported keywords are an error, exit 2)\n"
            "      --raw           send PROMPT to the model as is (no chat template)\n"
            "      --json          print one JSON object at the end instead of streaming:\n"
            "                      {text, tool_calls, finish_reason, usage{prompt_tokens,\n"
            "                      completion_tokens}, timings{load_ms, ttft_ms, prefill_tok_s,\n"
            "                      decode_tok_s}}\n"
            "  -h, --help          this help\n");
    cli_gen_help(f, "512", "from the clock");
    fprintf(f, "\n"
               "--json also reports the sampling used: {sampling{temperature, top_k, top_p, min_p,\n"
               "repetition_penalty, seed}, max_length}.\n"
               "\n"
               "exit codes: 0 ok, 1 failure (model folder, files, a prompt too long for --max-length,\n"
               "            runtime), 2 bad usage (the command line), 130 Ctrl-C\n");
}

static char *read_stdin(void) {
    size_t cap = 4096, len = 0;
    char *b = malloc(cap);
    while (b) {
        size_t n = fread(b + len, 1, cap - len - 1, stdin);
        len += n;
        if (!n) break;
        if (len + 1 == cap) {
            char *g = realloc(b, cap *= 2);
            if (!g) free(b);
            b = g;
        }
    }
    if (b) b[len] = 0;
    return b;
}

static double per_s(double n, double ms) { return ms > 0 ? n * 1000.0 / ms : 0; }

int cmd_run(int argc, char **argv) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"prompt", required_argument, 0, 'p'},
                                         {"system", required_argument, 0, 's'},
                                         {"tools", required_argument, 0, 'T'},
                                         {"raw", no_argument, 0, 'R'},
                                         {"json", no_argument, 0, 'J'},
                                         {"schema", required_argument, 0, 'S'},
                                         {"tool-choice", required_argument, 0, 'C'},
                                         {"no-parallel-tool-calls", no_argument, 0, 'P'},
                                         {"help", no_argument, 0, 'h'},
                                         CLI_GEN_LONGOPTS,
                                         {0, 0, 0, 0}};
    const char *model = NULL, *prompt = NULL, *system = NULL, *tools_path = NULL, *schema_path = NULL,
               *tool_choice = NULL;
    bool raw = false, json = false, parallel = true;
    cli_gen_options o;
    cli_gen_options_init(&o, 512);
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:p:s:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'p': prompt = optarg; break;
        case 's': system = optarg; break;
        case 'T': tools_path = optarg; break;
        case 'R': raw = true; break;
        case 'J': json = true; break;
        case 'S': schema_path = optarg; break;
        case 'C': tool_choice = optarg; break;
        case 'P': parallel = false; break;
        case 'h': help(stdout); return CLI_OK;
        case '?':
        case ':': return cli_bad_option("run", c, argv);
        default: {
            int r = cli_gen_option("run", c, optarg, &o);
            if (r) return r > 0 ? r : cli_bad_option("run", '?', argv);
        }
        }
    }
    if (optind < argc) return cli_usage_error("run", "unexpected argument '%s' (quote the prompt: -p \"...\")", argv[optind]);
    if (!model) return cli_usage_error("run", "missing -m MODEL_DIR");
    if (!prompt) return cli_usage_error("run", "missing -p PROMPT");
    if (raw && (system || tools_path)) return cli_usage_error("run", "--raw cannot be combined with --system/--tools");
    if (cli_gen_check("run", &o)) return CLI_USAGE;
    if (tool_choice && !tools_path) return cli_usage_error("run", "--tool-choice needs --tools FILE");
    if (tool_choice && schema_path) return cli_usage_error("run", "--schema and --tool-choice cannot be combined");

    int rc = CLI_OK;
    onnxllm_error err = {0};
    char *stdin_prompt = NULL, *tools = NULL, *text = NULL, *calls_json = NULL, *out = NULL, *schema = NULL;
    onnxllm_grammar_vocab *gvocab = NULL;
    onnxllm_grammar *grammar = NULL;
    onnxllm_matcher *matcher = NULL;
    onnxllm_tokens ids = {0};
    onnxllm_sequence *seq = NULL;
    onnxllm_tool_calls calls = {0};
    cli_answer ans = {0};
    cli_session s = {0};
    cli_sigint *sig = NULL;
    if (!strcmp(prompt, "-")) {
        if (!(prompt = stdin_prompt = read_stdin())) {
            fprintf(stderr, "onnxllm run: cannot read the prompt from stdin\n");
            return CLI_FAIL;
        }
    }
    if (tools_path) {
        size_t len;
        cJSON *probe = NULL;
        /* a file that is missing or holds the wrong thing is a failure (1), not bad usage */
        if (olm_read_file(tools_path, &tools, &len, &err) || olm_json_parse(tools, len, tools_path, &probe, &err)) {
            fprintf(stderr, "onnxllm run: --tools: %s\n", err.message);
            rc = CLI_FAIL;
            goto done;
        }
        bool arr = cJSON_IsArray(probe);
        cJSON_Delete(probe);
        if (!arr) {
            fprintf(stderr, "onnxllm run: --tools: %s: expected a JSON array of tool definitions\n", tools_path);
            rc = CLI_FAIL;
            goto done;
        }
    }

    if (schema_path) {
        size_t len;
        if (olm_read_file(schema_path, &schema, &len, &err)) {
            rc = cli_usage_error("run", "--schema: %s", err.message);
            goto done;
        }
    }

    sig = cli_sigint_start(); /* before the model: ORT's threads inherit the blocked SIGINT */
    cli_sigint_busy(sig, NULL);
    if ((rc = cli_session_open("run", model, &o, !raw, &s))) goto done;

    if (raw) {
        /* --raw: the prompt is the model's input as written, markers included */
        text = strdup(prompt);
        if (!text || onnxllm_tokenizer_encode(s.tok, text, strlen(text), ONNXLLM_TOKENIZE_PARSE_SPECIAL, &ids, &err)) {
            rc = cli_report("run", &err);
            goto done;
        }
    } else {
        /* special-token text in the prompt or system message stays text */
        onnxllm_chat_message msgs[2] = {{"system", system, NULL}, {"user", prompt, NULL}};
        if (onnxllm_chat_render_ids(s.tmpl, s.tok, system ? msgs : msgs + 1, system ? 2 : 1, tools, true, 0, &ids,
                                    &err)) {
            rc = cli_report("run", &err);
            goto done;
        }
    }
    if (schema || tool_choice) { /* constrained decoding */
        size_t neos = 0;
        const int32_t *eos = onnxllm_model_eos(s.model, &neos);
        onnxllm_grammar_params gp = onnxllm_grammar_default_params();
        onnxllm_status gst = onnxllm_grammar_vocab_create(s.tok, onnxllm_model_vocab_size(s.model), eos, neos, &gvocab, &err);
        if (!gst) gst = schema ? onnxllm_grammar_compile_json_schema(gvocab, schema, strlen(schema), &gp, &grammar, &err)
                               : onnxllm_grammar_compile_tools(gvocab, tools, tool_choice, parallel, &gp, &grammar, &err);
        if (!gst) gst = onnxllm_matcher_create(grammar, &matcher, &err);
        if (gst) {
            /* an unusable schema or tool list is the caller's mistake: exit 2 */
            if (gst == ONNXLLM_ERR_UNSUPPORTED || gst == ONNXLLM_ERR_INVALID_ARGUMENT)
                rc = cli_usage_error("run", "%s: %s", schema ? "--schema" : "--tools/--tool-choice", err.message);
            else
                rc = cli_report("run", &err);
            goto done;
        }
        o.matcher = matcher;
    }
    if (onnxllm_sequence_create(s.model, &seq, &err)) {
        rc = cli_report("run", &err);
        goto done;
    }
    int cap = onnxllm_model_max_length(s.model);
    if (ids.len >= (size_t)cap) { /* at least one token of answer must fit */
        fprintf(stderr,
                "onnxllm run: the prompt is %zu tokens, --max-length is %d (prompt + answer): shorten the prompt or "
                "raise --max-length (the model allows up to %d)\n",
                ids.len, cap, onnxllm_model_context_length(s.model));
        rc = CLI_FAIL;
        goto done;
    }
    cli_sigint_busy(sig, seq);
    onnxllm_status st = cli_generate(&s, seq, ids.ids, ids.len, &o, sig, json ? NULL : stdout, &ans, &err);
    cli_sigint_busy(sig, NULL);
    if (st) {
        /* end a streamed partial answer's line before the error (never an empty line) */
        if (!json && ans.text && ans.text[0] && ans.text[strlen(ans.text) - 1] != '\n') fputc('\n', stdout);
        fflush(stdout);
        rc = cli_report("run", &err);
        goto done;
    }
    if (!json) {
        if (ans.text[0] && ans.text[strlen(ans.text) - 1] != '\n') fputc('\n', stdout);
        fflush(stdout);
    } else {
        if (onnxllm_toolcalls_parse(ans.text, &calls, &err) || onnxllm_toolcalls_openai_json(&calls, &calls_json, &err)) {
            rc = cli_report("run", &err);
            goto done;
        }
        cJSON *o_ = cJSON_CreateObject(), *usage = cJSON_CreateObject(), *tim = cJSON_CreateObject();
        cJSON_AddStringToObject(o_, "text", calls.content);
        cJSON_AddItemToObject(o_, "tool_calls", cJSON_Parse(calls_json));
        cJSON_AddStringToObject(o_, "finish_reason",
                                calls.n && !strcmp(ans.finish, "stop") ? "tool_calls" : ans.finish);
        cJSON_AddNumberToObject(usage, "prompt_tokens", ans.n_prompt);
        cJSON_AddNumberToObject(usage, "completion_tokens", ans.n_generated);
        cJSON_AddItemToObject(o_, "usage", usage);
        cJSON_AddNumberToObject(tim, "load_ms", s.load_ms);
        cJSON_AddNumberToObject(tim, "ttft_ms", ans.ttft_ms);
        cJSON_AddNumberToObject(tim, "prefill_tok_s", per_s(ans.n_prompt, ans.prefill_ms));
        cJSON_AddNumberToObject(tim, "decode_tok_s", per_s(ans.n_generated > 1 ? ans.n_generated - 1 : 0, ans.decode_ms));
        cJSON_AddItemToObject(o_, "timings", tim);
        cJSON *sp = cJSON_CreateObject();
        cJSON_AddNumberToObject(sp, "temperature", o.sampler.temperature);
        cJSON_AddNumberToObject(sp, "top_k", o.sampler.top_k);
        cJSON_AddNumberToObject(sp, "top_p", o.sampler.top_p);
        cJSON_AddNumberToObject(sp, "min_p", o.sampler.min_p);
        cJSON_AddNumberToObject(sp, "repetition_penalty", o.sampler.repetition_penalty);
        cJSON_AddNumberToObject(sp, "seed", (double)o.sampler.seed);
        cJSON_AddItemToObject(o_, "sampling", sp);
        cJSON_AddNumberToObject(o_, "max_length", onnxllm_model_max_length(s.model));
        out = cJSON_PrintUnformatted(o_);
        cJSON_Delete(o_);
        if (!out) {
            fprintf(stderr, "onnxllm run: out of memory\n");
            rc = CLI_FAIL;
            goto done;
        }
        puts(out);
        fflush(stdout);
    }
    if (!strcmp(ans.finish, "cancelled")) rc = CLI_INTERRUPTED;
done:
    cli_sigint_stop(sig);
    onnxllm_matcher_free(matcher);
    onnxllm_grammar_free(grammar);
    onnxllm_grammar_vocab_free(gvocab);
    free(schema);
    free(out);
    free(calls_json);
    onnxllm_toolcalls_clear(&calls);
    free(ans.text);
    onnxllm_sequence_free(seq);
    onnxllm_tokens_free(&ids);
    free(text);
    free(tools);
    free(stdin_prompt);
    cli_session_close(&s);
    return rc;
}
