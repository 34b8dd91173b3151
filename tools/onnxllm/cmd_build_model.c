/* cmd_build_model.c — `onnxllm build-model` (not implemented yet). */
#include "cli.h"

int cmd_build_model(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "onnxllm build-model: not implemented yet\n");
    return CLI_FAIL;
}
