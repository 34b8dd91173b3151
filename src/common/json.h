/* json.h — untrusted JSON: one strict parser and range-checked getters.
 *
 * olm_json_parse() is cJSON plus the rules a careful reader of untrusted JSON wants,
 * stated once for every file and request we read:
 *  - the whole input is one document: anything but whitespace after it is an error;
 *  - strings may not contain NUL (\u0000 or a raw 0 byte): C strings would silently
 *    cut them short, so this is an error, not a truncation; raw control characters
 *    in strings are errors too (as Python's json.loads and serde_json);
 *  - the text must be valid UTF-8 (as Python decoding bytes, or serde_json);
 *  - nesting deeper than OLM_JSON_MAX_DEPTH is an error (recursive readers stay bounded);
 *  - a key given twice in one object keeps the LAST value at the FIRST key's place,
 *    which is what Python's json.loads does (and what HF/Jinja see);
 *  - a number node keeps its literal in valuestring ("1.0", "-0", "123456789012345678901"),
 *    since Python keeps ints exact and tells them from floats (olm_json_number_is_int).
 * Errors name WHAT (a path, "request body"), the line and the column.
 *
 * Getters read one member of an object with its type and range checked and write a
 * one-line error "WHERE.KEY: must be ..." (WHERE: e.g. "genai_config.json: model").
 * REQUIRED false: an absent key, or JSON null (what OpenAI clients send for "not
 * set"), leaves *out untouched and returns OK; REQUIRED true: both are errors.
 * Integers must be integral (1.5 is not one) and lie in [lo, hi]; numbers of magnitude
 * 2^53 or more are never taken as integers (a double cannot hold them exactly). */
#ifndef OLM_COMMON_JSON_H
#define OLM_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "onnxllm.h"

#define OLM_JSON_MAX_DEPTH 200

/* Strict parse (see above). Caller frees *out with cJSON_Delete. */
onnxllm_status olm_json_parse(const char *text, size_t len, const char *what, cJSON **out, onnxllm_error *err);

/* Value checks (no messages): true and *out set when v is such a value. */
bool olm_json_as_int(const cJSON *v, int64_t lo, int64_t hi, int64_t *out);
bool olm_json_as_double(const cJSON *v, double lo, double hi, double *out); /* finite, in [lo, hi] */

/* Member getters. */
onnxllm_status olm_json_get_int(const cJSON *obj, const char *key, const char *where, int64_t lo, int64_t hi,
                                bool required, int64_t *out, onnxllm_error *err);
onnxllm_status olm_json_get_i32(const cJSON *obj, const char *key, const char *where, int32_t lo, int32_t hi,
                                bool required, int32_t *out, onnxllm_error *err);
/* A size or count: an integer in [0, hi] (hi is capped at 2^53 - 1). */
onnxllm_status olm_json_get_size(const cJSON *obj, const char *key, const char *where, uint64_t hi, bool required,
                                 uint64_t *out, onnxllm_error *err);
onnxllm_status olm_json_get_double(const cJSON *obj, const char *key, const char *where, double lo, double hi,
                                   bool required, double *out, onnxllm_error *err);
onnxllm_status olm_json_get_bool(const cJSON *obj, const char *key, const char *where, bool required, bool *out,
                                 onnxllm_error *err);
/* *out points into obj (no copy); max_len: longest accepted length in bytes (0 = any). */
onnxllm_status olm_json_get_string(const cJSON *obj, const char *key, const char *where, size_t max_len,
                                   bool required, const char **out, onnxllm_error *err);

/* true when v is a number written as an integer literal (Python int); false for a
 * fraction or exponent (Python float) or a non-number. */
bool olm_json_number_is_int(const cJSON *v);

/* "a number", "a string", ... for messages. */
const char *olm_json_type_name(const cJSON *v);

#endif
