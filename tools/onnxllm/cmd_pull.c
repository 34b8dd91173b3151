/* cmd_pull.c — `onnxllm pull` (not implemented yet). */
#include "cli.h"

int cmd_pull(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "onnxllm pull: not implemented yet\n");
    return CLI_FAIL;
}
