/* cmd_apply_template.c — `onnxllm apply-template` (not implemented yet). */
#include "cli.h"

int cmd_apply_template(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "onnxllm apply-template: not implemented yet\n");
    return CLI_FAIL;
}
