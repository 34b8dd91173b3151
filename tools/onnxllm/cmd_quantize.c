/* cmd_quantize.c — `onnxllm quantize` (not implemented yet). */
#include "cli.h"

int cmd_quantize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "onnxllm quantize: not implemented yet\n");
    return CLI_FAIL;
}
