/* fileio.h — whole-file reads and JSON loading with positioned error messages. */
#ifndef OLM_FILEIO_H
#define OLM_FILEIO_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "onnxllm.h"

/* Reads a whole file; *out is NUL-terminated (extra byte not counted in *len).
 * Caller frees *out. */
onnxllm_status olm_read_file(const char *path, char **out, size_t *len, onnxllm_error *err);

/* Parses JSON text; on error the message names `what` (usually the path), the
 * line and column of the problem. Caller frees with cJSON_Delete. */
onnxllm_status olm_parse_json(const char *text, size_t len, const char *what, cJSON **out, onnxllm_error *err);

/* olm_read_file + olm_parse_json. */
onnxllm_status olm_load_json_file(const char *path, cJSON **out, onnxllm_error *err);

/* Joins dir and name into a malloc'd path. */
char *olm_path_join(const char *dir, const char *name);

#endif
