/* cmd_bench.c — `onnxllm bench` (not implemented yet). */
#include "cli.h"

int cmd_bench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "onnxllm bench: not implemented yet\n");
    return CLI_FAIL;
}
