/* onnx_scan.h — a read-only walk over model.onnx's initializers (protobuf wire
 * format), without ONNX Runtime: where external weights live and how many bytes
 * they take. Used to reject a truncated or missing model.onnx.data with a clear
 * message before ORT memory-maps it, and to compute weight bytes per token. */
#ifndef OLM_ENGINE_ONNX_SCAN_H
#define OLM_ENGINE_ONNX_SCAN_H

#include <stdint.h>
#include "onnxllm.h"

typedef struct olm_onnx_scan {
    uint64_t n_initializers;
    uint64_t total_bytes;        /* all initializers (inline raw_data + external) */
    uint64_t embedding_bytes;    /* initializers whose name contains "embed_tokens" */
    char data_file[256];         /* first external location ("" when all inline) */
    uint64_t data_needed;        /* max(offset + length) in data_file */
    char data_needed_by[128];    /* initializer that reaches data_needed */
} olm_onnx_scan;

/* Scans dir/model_file; checks every external file exists and is long enough. */
onnxllm_status olm_onnx_scan_file(const char *dir, const char *model_file, olm_onnx_scan *out, onnxllm_error *err);

#endif
