/* convert.c — public onnxllm_convert() and onnxllm_quantize(): a Hugging Face
 * checkpoint, or an fp32 model folder of our layout, handed to the Phi-3 writer. */
#include "writer/fp32_model.h"
#include "writer/hf_config.h"
#include "writer/phi3.h"
#include "writer/safetensors.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/fsutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static onnxllm_status check_params(const onnxllm_build_params *p, const char *in, const char *out_dir,
                                   onnxllm_error *err) {
    if (!in || !*in) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no input folder given");
    if (!out_dir || !*out_dir) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no output folder given");
    if (p->precision != ONNXLLM_PRECISION_INT4 && p->precision != ONNXLLM_PRECISION_FP32)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "unknown precision %d", (int)p->precision);
    if (p->target != ONNXLLM_TARGET_CPU && p->target != ONNXLLM_TARGET_CUDA)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "unknown target %d", (int)p->target);
    return ONNXLLM_OK;
}

/* The writer's options from the public params; the tokenizer files come from
 * p->tokenizer_dir, else from `in` when it holds a tokenizer.json. */
static olm_build_options options(const onnxllm_build_params *p, const char *in) {
    olm_build_options o = {
        .precision = p->precision == ONNXLLM_PRECISION_FP32 ? OLM_PRECISION_FP32 : OLM_PRECISION_INT4,
        .ep = p->target == ONNXLLM_TARGET_CUDA ? OLM_EP_CUDA : OLM_EP_CPU,
        .tokenizer_dir = p->tokenizer_dir,
        .progress = p->progress,
        .progress_user = p->progress_user,
    };
    if (!o.tokenizer_dir) {
        char *tok = olm_path_join(in, "tokenizer.json");
        if (tok && access(tok, F_OK) == 0) o.tokenizer_dir = in;
        free(tok);
    }
    return o;
}

onnxllm_status onnxllm_convert(const char *hf_dir, const onnxllm_build_params *p, const char *out_dir,
                               onnxllm_error *err) {
    onnxllm_build_params def = onnxllm_build_default_params();
    if (!p) p = &def;
    onnxllm_status s = check_params(p, hf_dir, out_dir, err);
    if (s) return s;
    olm_phi3_config cfg;
    olm_safetensors *st = NULL;
    if ((s = olm_hf_config_load(hf_dir, &cfg, err)) || (s = olm_phi3_config_validate(&cfg, err)) ||
        (s = olm_st_open_dir(hf_dir, &st, err)))
        return s;
    olm_build_options o = options(p, hf_dir);
    olm_st_source src = {st, hf_dir};
    olm_weight_source w = olm_st_weight_source(&src);
    olm_outdir od;
    const char *inputs[] = {hf_dir}; /* tokenizer files are only copied: that folder may be the output */
    if (!(s = olm_outdir_begin(&od, out_dir, inputs, 1, err))) {
        s = olm_phi3_write(&cfg, &w, &o, od.path, err);
        s = olm_outdir_finish(&od, s, err);
    }
    olm_st_close(st);
    return s;
}

onnxllm_status onnxllm_quantize(const char *in_dir, const onnxllm_build_params *p, const char *out_dir,
                                onnxllm_error *err) {
    onnxllm_build_params def = onnxllm_build_default_params();
    if (!p) p = &def;
    onnxllm_status s = check_params(p, in_dir, out_dir, err);
    if (s) return s;
    if (p->precision != ONNXLLM_PRECISION_INT4 || p->target != ONNXLLM_TARGET_CPU)
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "quantize writes the CPU int4 layout only");
    olm_fp32_model *fm = NULL;
    if ((s = olm_fp32_model_open(in_dir, &fm, err))) return s;
    olm_build_options o = options(p, in_dir);
    olm_weight_source w = olm_fp32_model_weights(fm);
    /* the output is written next to its place and moved there only when complete, and it
     * may not be the input however it is spelled (\"m\" and \"m/\", a symlink): the
     * writer used to truncate the input's model.onnx.data first */
    olm_outdir od;
    const char *inputs[] = {in_dir};
    if (!(s = olm_outdir_begin(&od, out_dir, inputs, 1, err))) {
        s = olm_phi3_write(olm_fp32_model_config(fm), &w, &o, od.path, err);
        if (!s) s = olm_fp32_copy_rope_caches(fm, od.path, err);
        s = olm_outdir_finish(&od, s, err);
    }
    olm_fp32_model_close(fm);
    return s;
}

int onnxllm_build_preset_vocab_size(const char *preset) {
    olm_phi3_config c;
    return preset && olm_phi3_preset(preset, &c) ? c.vocab_size : 0;
}
