/* cmd_tokenize.c — `onnxllm tokenize` (not implemented yet). */
#include "cli.h"

int cmd_tokenize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "onnxllm tokenize: not implemented yet\n");
    return CLI_FAIL;
}
