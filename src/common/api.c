/* api.c — the public functions of general use: version, freeing returned memory,
 * status names. (In a file of their own: the CLI and the server link src/common's
 * helpers statically and must not carry a second copy of these.) */
#include "onnxllm.h"

#include <stdlib.h>

/* The version of the library actually loaded (ONNXLLM_VERSION is the header's). */
const char *onnxllm_version(void) { return ONNXLLM_VERSION; }

void onnxllm_free(void *p) { free(p); }

const char *onnxllm_status_name(onnxllm_status s) {
    switch (s) {
    case ONNXLLM_OK: return "ONNXLLM_OK";
    case ONNXLLM_ERR_INVALID_ARGUMENT: return "ONNXLLM_ERR_INVALID_ARGUMENT";
    case ONNXLLM_ERR_IO: return "ONNXLLM_ERR_IO";
    case ONNXLLM_ERR_FORMAT: return "ONNXLLM_ERR_FORMAT";
    case ONNXLLM_ERR_UNSUPPORTED: return "ONNXLLM_ERR_UNSUPPORTED";
    case ONNXLLM_ERR_OUT_OF_MEMORY: return "ONNXLLM_ERR_OUT_OF_MEMORY";
    case ONNXLLM_ERR_RUNTIME: return "ONNXLLM_ERR_RUNTIME";
    case ONNXLLM_ERR_CANCELLED: return "ONNXLLM_ERR_CANCELLED";
    case ONNXLLM_ERR_NETWORK: return "ONNXLLM_ERR_NETWORK";
    case ONNXLLM_ERR_CHECKSUM: return "ONNXLLM_ERR_CHECKSUM";
    case ONNXLLM_ERR_MISMATCH: return "ONNXLLM_ERR_MISMATCH";
    case ONNXLLM_ERR_INTERNAL: return "ONNXLLM_ERR_INTERNAL";
    case ONNXLLM_ERR_OVERLOADED: return "ONNXLLM_ERR_OVERLOADED";
    }
    return "ONNXLLM_ERR_UNKNOWN";
}
