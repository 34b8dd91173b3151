/* cmd_inspect.c — `onnxllm inspect MODEL_DIR|MODEL.onnx [--json]`: prints what
 * onnxllm_inspect() describes (inputs, outputs, nodes, initializers). */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *f) {
    fprintf(f,
            "usage: onnxllm inspect MODEL_DIR|MODEL.onnx [--json]\n"
            "\n"
            "Lists a model's inputs/outputs, nodes with their attributes and initializers\n"
            "with dtype, shape and size (data is not read).\n"
            "\n"
            "options:\n"
            "  --json       machine-readable output\n"
            "  -h, --help   this help\n"
            "\n"
            "exit codes: 0 ok, 1 failure (file missing or malformed), 2 bad usage\n");
}

int cmd_inspect(int argc, char **argv) {
    static const struct option opts[] = {{"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    bool json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'h': help(stdout); return CLI_OK;
        default: return cli_bad_option("inspect", c, argv);
        }
    }
    if (optind != argc - 1) return cli_usage_error("inspect", "expected one MODEL_DIR or MODEL.onnx");
    char *text = NULL;
    onnxllm_error err = {0};
    if (onnxllm_inspect(argv[optind], json, &text, &err)) return cli_report("inspect", &err);
    fputs(text, stdout);
    onnxllm_free(text);
    return CLI_OK;
}
