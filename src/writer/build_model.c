/* build_model.c — public onnxllm_build_model(): a preset's config + the random
 * weight source handed to the Phi-3 writer. */
#include "writer/phi3.h"
#include "common/error.h"
#include "common/fsutil.h"

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
    if (!out_dir || !*out_dir) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no output folder given");
    if (p->precision != ONNXLLM_PRECISION_INT4 && p->precision != ONNXLLM_PRECISION_FP32)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "unknown precision %d", (int)p->precision);
    if (p->target != ONNXLLM_TARGET_CPU && p->target != ONNXLLM_TARGET_CUDA)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "unknown target %d", (int)p->target);
    olm_random_weights rw = {seed, olm_phi3_preset_init_std(preset)};
    olm_weight_source w = olm_random_weight_source(&rw);
    olm_build_options o = {
        .precision = p->precision == ONNXLLM_PRECISION_FP32 ? OLM_PRECISION_FP32 : OLM_PRECISION_INT4,
        .ep = p->target == ONNXLLM_TARGET_CUDA ? OLM_EP_CUDA : OLM_EP_CPU,
        .tokenizer_dir = p->tokenizer_dir,
        .progress = p->progress,
        .progress_user = p->progress_user,
    };
    olm_outdir od;
    onnxllm_status s = olm_outdir_begin(&od, out_dir, NULL, 0, err);
    if (s) return s;
    return olm_outdir_finish(&od, olm_phi3_write(&c, &w, &o, od.path, err), err);
}
