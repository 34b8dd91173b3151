/* cmd_run.c — `onnxllm run` (not implemented yet). */
#include "cli.h"

int cmd_run(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "onnxllm run: not implemented yet\n");
    return CLI_FAIL;
}
