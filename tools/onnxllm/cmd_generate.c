/* cmd_generate.c — `onnxllm generate` (not implemented yet). */
#include "cli.h"

int cmd_generate(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "onnxllm generate: not implemented yet\n");
    return CLI_FAIL;
}
