/* fileio.h — whole-file reads and JSON loading with positioned error messages. */
#ifndef OLM_FILEIO_H
#define OLM_FILEIO_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "onnxllm.h"
#include "common/json.h" /* olm_json_parse */

/* Reads a whole regular file (anything else — FIFO, device, folder — is an error,
 * see olm_open_regular); *out is NUL-terminated (extra byte not counted in *len).
 * Caller frees *out. */
onnxllm_status olm_read_file(const char *path, char **out, size_t *len, onnxllm_error *err);

/* olm_read_file + olm_json_parse (common/json.h: strict, positioned errors). */
onnxllm_status olm_load_json_file(const char *path, cJSON **out, onnxllm_error *err);

/* Joins dir and name into a malloc'd path. */
char *olm_path_join(const char *dir, const char *name);

#endif
