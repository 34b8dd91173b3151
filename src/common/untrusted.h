/* untrusted.h — the one layer every parser of untrusted input goes through.
 *
 * A model folder comes from the internet (tokenizer.json, genai_config.json,
 * model.onnx, safetensors, the Hub's listing) and so does every HTTP request body.
 * Read them only through these helpers, so that every parser applies the same
 * rules; do not write another varint loop, integer getter, path check, mkdir or
 * fp16 conversion.
 *
 *   common/json.h     strict JSON (olm_json_parse: no trailing garbage, no NUL in
 *                     strings, duplicate keys resolved as Python does, UTF-8 checked,
 *                     bounded depth) and range-checked getters:
 *                         cJSON *root;
 *                         if ((st = olm_json_parse(body, len, "request body", &root, err))) return st;
 *                         int64_t n = 16;   // default when absent
 *                         st = olm_json_get_int(root, "max_tokens", "request body", 1, 1 << 20, false, &n, err);
 *                     Each getter checks the type and the range and writes a one-line
 *                     error naming WHERE.KEY; absent optional keys leave *out alone.
 *   common/pbread.h   bounded protobuf reader: a cursor that never reads past its
 *                     buffer, and nested readers (olm_pb_sub) fail beyond
 *                     OLM_PB_MAX_DEPTH, so a recursive parser cannot recurse without limit.
 *   common/fsutil.h   inputs must be regular files (a FIFO would block forever),
 *                     "this relative path stays inside its folder", mkdir -p, same-file
 *                     checks by device/inode, and atomic output folders (staging folder
 *                     + rename) for everything that writes a model folder.
 *   common/checked.h  overflow-checked size arithmetic and "is this count justified by
 *                     the input's length" (a 61-byte file must not make us allocate 26 GB).
 *   common/fp16.h     the IEEE half / bfloat16 conversions.
 *
 * Fuzz every new parser: olm_add_fuzz() in cmake/OlmFuzz.cmake. */
#ifndef OLM_COMMON_UNTRUSTED_H
#define OLM_COMMON_UNTRUSTED_H

#include "common/checked.h"
#include "common/fp16.h"
#include "common/fsutil.h"
#include "common/json.h"
#include "common/pbread.h"

#endif
