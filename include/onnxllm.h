/*
 * onnxllm.h — the one public header of onnxllm.
 *
 * onnxllm runs decoder language models in the onnxruntime-genai folder layout
 * (genai_config.json, model.onnx + model.onnx.data, tokenizer.json) through the
 * ONNX Runtime C API: Phi-4-mini-instruct first.
 *
 * Conventions (shared by every section below):
 *  - Handles are opaque and created by onnxllm_X_create/_load, freed by onnxllm_X_free
 *    (free(NULL) is a no-op).
 *  - Option structs come with onnxllm_X_default_params(); set only what you change.
 *  - Every fallible call returns an onnxllm_status and takes a trailing
 *    `onnxllm_error *err` (may be NULL). On failure err->status and err->message
 *    hold the code and a one-line, human-readable message naming the file/field/
 *    value at fault. On success *err is left untouched.
 *  - There is no global mutable state: handles may be used from different threads,
 *    one thread per handle at a time unless a function says otherwise.
 */
#ifndef ONNXLLM_H
#define ONNXLLM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ONNXLLM_VERSION "0.1.0"

/* ============================================================================
 * Status and errors
 * ==========================================================================*/
typedef enum onnxllm_status {
    ONNXLLM_OK = 0,
    ONNXLLM_ERR_INVALID_ARGUMENT = 1, /* bad parameter from the caller */
    ONNXLLM_ERR_IO = 2,               /* file missing, unreadable, unwritable, truncated */
    ONNXLLM_ERR_FORMAT = 3,           /* malformed JSON / protobuf / safetensors / config */
    ONNXLLM_ERR_UNSUPPORTED = 4,      /* valid input we do not handle (named in message) */
    ONNXLLM_ERR_OUT_OF_MEMORY = 5,
    ONNXLLM_ERR_RUNTIME = 6,          /* ONNX Runtime reported an error */
    ONNXLLM_ERR_CANCELLED = 7,        /* onnxllm_*_cancel() was called */
    ONNXLLM_ERR_NETWORK = 8,          /* download failed / host unreachable */
    ONNXLLM_ERR_CHECKSUM = 9,         /* sha256 mismatch */
    ONNXLLM_ERR_MISMATCH = 10,        /* model graph does not match its config */
    ONNXLLM_ERR_INTERNAL = 11
} onnxllm_status;

#define ONNXLLM_ERROR_MESSAGE_MAX 512
typedef struct onnxllm_error {
    onnxllm_status status;
    char message[ONNXLLM_ERROR_MESSAGE_MAX];
} onnxllm_error;

/* Short constant name of a status, e.g. "ONNXLLM_ERR_IO". */
const char *onnxllm_status_name(onnxllm_status s);

/* ============================================================================
 * Tokenizer (Hugging Face tokenizer.json)            — src/tokenizer/
 * ==========================================================================*/
/* @@TOKENIZER@@ */

/* ============================================================================
 * Model writer (ONNX graphs of the onnxruntime-genai layout)  — src/onnx/, src/writer/
 * ==========================================================================*/
/* @@WRITER@@ */

/* ============================================================================
 * Engine: model folder, session, KV cache, generation  — src/engine/, src/sampler/
 * ==========================================================================*/
/* @@ENGINE@@ */

/* ============================================================================
 * Chat: templates, tool calls, stop strings           — src/chat/
 * ==========================================================================*/
/* @@CHAT@@ */

/* ============================================================================
 * Download of published models                        — src/pull/
 * ==========================================================================*/
/* @@PULL@@ */

#ifdef __cplusplus
}
#endif
#endif /* ONNXLLM_H */
