/* build_model.c — public onnxllm_build_model(): a preset's config + the random
 * weight source handed to the Phi-3 writer. */
#include "writer/phi3.h"
#include "common/error.h"

#include <string.h>

onnxllm_build_params onnxllm_build_default_params(void) {
    onnxllm_build_params p;
    memset(&p, 0, sizeof p);
    p.precision = ONNXLLM_PRECISION_INT4;
    p.target = ONNXLLM_TARGET_CPU;
    return p;
}

const char *const *onnxllm_build_presets(void) { return olm_phi3_preset_names(); }

onnxllm_status onnxllm_build_model(const char *preset, uint64_t seed, const onnxllm_build_params *p,
                                   const char *out_dir, onnxllm_error *err) {
    onnxllm_build_params def = onnxllm_build_default_params();
    if (!p) p = &def;
    olm_phi3_config c;
    if (!preset || !olm_phi3_preset(preset, &c)) {
        char list[256] = "";
        for (const char *const *n = olm_phi3_preset_names(); *n; n++) {
            if (*list) strncat(list, ", ", sizeof list - strlen(list) - 1);
            strncat(list, *n, sizeof list - strlen(list) - 1);
        }
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "unknown preset '%s' (known: %s)", preset ? preset : "(null)",
                        list);
    }
    olm_random_weights rw = {seed, olm_phi3_preset_init_std(preset)};
    olm_weight_source w = olm_random_weight_source(&rw);
    return olm_write_model_folder(&c, &w, p, NULL, out_dir, NULL, err);
}
