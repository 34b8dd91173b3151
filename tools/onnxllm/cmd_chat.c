/* cmd_chat.c — `onnxllm chat` (not implemented yet). */
#include "cli.h"

int cmd_chat(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "onnxllm chat: not implemented yet\n");
    return CLI_FAIL;
}
