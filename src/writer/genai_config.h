/* genai_config.h — the genai_config.json that onnxruntime-genai's builder writes next
 * to a Phi-3-family model (docs/reference/phi4-onnx-graph.md §5, docs/reference/official-graphs/ *.genai_config.json). */
#ifndef OLM_WRITER_GENAI_CONFIG_H
#define OLM_WRITER_GENAI_CONFIG_H

#include "writer/phi3.h"

/* Returns the JSON text (malloc'd, 4-space indented like Python's json.dump) or NULL. */
char *olm_genai_config_json(const olm_phi3_config *c, const olm_build_options *o);
onnxllm_status olm_genai_config_write(const olm_phi3_config *c, const olm_build_options *o, const char *path,
                                      onnxllm_error *err);

#endif
