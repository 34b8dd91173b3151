/* main.c — `onnxllm SUBCOMMAND ...`: dispatch to the subcommand's file. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

static const struct {
    const char *name;
    cli_main_fn fn;
    const char *summary;
} commands[] = {
    {"run", cmd_run, "answer one prompt with a model (streams text)"},
    {"chat", cmd_chat, "interactive chat with a model"},
    {"serve", cmd_serve, "OpenAI- and Anthropic-compatible HTTP server (agents, SDKs)"},
    {"generate", cmd_generate, "generate token ids from token ids (engine test contract)"},
    {"bench", cmd_bench, "measure load time, TTFT, prefill and decode speed, memory"},
    {"tokenize", cmd_tokenize, "encode / decode text with a tokenizer.json"},
    {"apply-template", cmd_apply_template, "render chat messages with the model's chat template"},
    {"pull", cmd_pull, "download microsoft/Phi-4-mini-instruct-onnx"},
    {"list", cmd_list, "list the model folders in models/ (what each pulled one holds)"},
    {"rm", cmd_rm, "delete a model folder that pull made"},
    {"build-model", cmd_build_model, "write a random-weight model of the published layout"},
    {"quantize", cmd_quantize, "turn an fp32 model folder into the CPU int4 one"},
    {"convert", cmd_convert, "convert a Hugging Face safetensors checkpoint to ONNX"},
    {"inspect", cmd_inspect, "list a model's inputs, outputs, nodes and initializers"},
    {"schema-test", cmd_schema_test, "check texts against JSON Schemas token by token (constrained decoding)"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: onnxllm COMMAND [OPTIONS]   (onnxllm COMMAND --help for each)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nexit codes: 0 ok, 1 failure (model, file, network), 2 bad usage (the command line), "
               "130 interrupted\n");
}

int cli_report(const char *cmd, const onnxllm_error *err) {
    fprintf(stderr, "onnxllm %s: %s\n", cmd, err->message[0] ? err->message : onnxllm_status_name(err->status));
    /* never 2: usage errors are the command line's, reported before the library runs */
    return err->status == ONNXLLM_ERR_CANCELLED ? CLI_INTERRUPTED : CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "onnxllm %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'onnxllm %s --help'.\n", cmd);
    return CLI_USAGE;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("onnxllm %s\n", onnxllm_version()); /* the library actually loaded */
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "onnxllm: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
