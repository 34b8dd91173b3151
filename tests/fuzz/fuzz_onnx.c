/* fuzz_onnx.c — libFuzzer target for model.onnx (ctest fuzz_onnx): the ONNX reader
 * behind inspect/quantize (olm_onnx_load_buffer, nested graphs included), the engine's
 * load-time graph edit and rotary-switch reader. Any bytes: parse or fail with one line;
 * whatever parses has sizes that can be computed without overflow or a negative count,
 * and inline tensors read back within their bytes. */
#include "onnx/reader.h"
#include "engine/graph_edit.h"

#include <stdlib.h>
#include <string.h>

static void walk(const olm_onnx_model *m, const olm_onnx_graph *g, int depth) {
    if (depth > 64) abort(); /* the reader bounds nesting (OLM_PB_MAX_DEPTH) */
    for (int i = 0; i < g->n_inits; i++) {
        const olm_onnx_tensor *t = &g->inits[i];
        int64_t n = olm_onnx_tensor_numel(t);
        uint64_t b = olm_onnx_tensor_nbytes(t);
        if (n >= 0 && b != UINT64_MAX && b <= (1u << 20) && !t->external && b) {
            void *dst = malloc(b);
            onnxllm_error err = {0};
            if (olm_onnx_tensor_read(m, t, dst, b, &err) && (!err.message[0] || strchr(err.message, '\n'))) abort();
            free(dst);
            if (t->dtype == OLM_ONNX_FLOAT || t->dtype == OLM_ONNX_FLOAT16 || t->dtype == OLM_ONNX_BFLOAT16) {
                float *f = malloc((size_t)n * sizeof *f + 1);
                olm_onnx_tensor_read_f32(m, t, f, (size_t)n, &err);
                free(f);
            }
        }
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_attrs; k++)
            if (g->nodes[i].attrs[k].g) walk(m, g->nodes[i].attrs[k].g, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);
    if (size) memcpy(buf, data, size);
    olm_onnx_model *m = NULL;
    onnxllm_error err = {0};
    if (olm_onnx_load_buffer(buf, size, "fuzz.onnx", &m, &err)) {
        if (!err.message[0] || strchr(err.message, '\n')) abort();
    } else {
        walk(m, &m->graph, 0);
        olm_onnx_free(m);
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    char why[256];
    if (!olm_graph_last_logits(data, size, "logits", &out, &out_len, why, sizeof why, &err) && out) free(out);
    int64_t w;
    olm_graph_rope_switch(data, size, &w);
    return 0;
}
