/* cmd_inspect.c — `onnxllm inspect` (not implemented yet). */
#include "cli.h"

int cmd_inspect(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "onnxllm inspect: not implemented yet\n");
    return CLI_FAIL;
}
