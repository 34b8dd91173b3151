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

onnxllm_status olm_write_model_folder(const olm_phi3_config *c, const olm_weight_source *w,
                                      const onnxllm_build_params *p, const char *in, const char *out_dir,
                                      const olm_fp32_model *rope_from, onnxllm_error *err) {
    if (!out_dir || !*out_dir) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no output folder given");
    if (p->precision != ONNXLLM_PRECISION_INT4 && p->precision != ONNXLLM_PRECISION_FP32)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "unknown precision %d", (int)p->precision);
    if (p->target != ONNXLLM_TARGET_CPU && p->target != ONNXLLM_TARGET_CUDA)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "unknown target %d", (int)p->target);
    olm_build_options o = {
        .precision = p->precision == ONNXLLM_PRECISION_FP32 ? OLM_PRECISION_FP32 : OLM_PRECISION_INT4,
        .ep = p->target == ONNXLLM_TARGET_CUDA ? OLM_EP_CUDA : OLM_EP_CPU,
        .tokenizer_dir = p->tokenizer_dir,
        .progress = p->progress,
        .progress_user = p->progress_user,
    };
    if (!o.tokenizer_dir && in) {
        char *tok = olm_path_join(in, "tokenizer.json");
        if (tok && access(tok, F_OK) == 0) o.tokenizer_dir = in;
        free(tok);
    }
    /* written next to its place and moved there only when complete; never over the
     * input however it is spelled ("m" and "m/", a symlink): the writer used to
     * truncate the input's model.onnx.data first. Tokenizer files are only copied, so
     * their folder may be the output. */
    olm_outdir od;
    const char *inputs[] = {in};
    onnxllm_status s = olm_outdir_begin(&od, out_dir, inputs, in ? 1 : 0, err);
    if (s) return s;
    s = olm_phi3_write(c, w, &o, od.path, err);
    if (!s && rope_from) s = olm_fp32_copy_rope_caches(rope_from, od.path, err);
    return olm_outdir_finish(&od, s, err);
}

onnxllm_status onnxllm_convert(const char *hf_dir, const onnxllm_build_params *p, const char *out_dir,
                               onnxllm_error *err) {
    onnxllm_build_params def = onnxllm_build_default_params();
    if (!p) p = &def;
    if (!hf_dir || !*hf_dir) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no input folder given");
    olm_phi3_config cfg;
    olm_safetensors *st = NULL;
    onnxllm_status s;
    if ((s = olm_hf_config_load(hf_dir, &cfg, err)) || (s = olm_phi3_config_validate(&cfg, err)) ||
        (s = olm_st_open_dir(hf_dir, &st, err)))
        return s;
    olm_st_source src = {st, hf_dir};
    olm_weight_source w = olm_st_weight_source(&src);
    s = olm_write_model_folder(&cfg, &w, p, hf_dir, out_dir, NULL, err);
    olm_st_close(st);
    return s;
}

onnxllm_status onnxllm_quantize(const char *in_dir, const onnxllm_build_params *p, const char *out_dir,
                                onnxllm_error *err) {
    onnxllm_build_params def = onnxllm_build_default_params();
    if (!p) p = &def;
    if (!in_dir || !*in_dir) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no input folder given");
    if (!out_dir || !*out_dir) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no output folder given");
    if (p->precision != ONNXLLM_PRECISION_INT4 || p->target != ONNXLLM_TARGET_CPU)
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "quantize writes the CPU int4 layout only");
    olm_fp32_model *fm = NULL;
    onnxllm_status s = olm_fp32_model_open(in_dir, &fm, err);
    if (s) return s;
    olm_weight_source w = olm_fp32_model_weights(fm);
    s = olm_write_model_folder(olm_fp32_model_config(fm), &w, p, in_dir, out_dir, fm, err);
    olm_fp32_model_close(fm);
    return s;
}

int onnxllm_build_preset_vocab_size(const char *preset) {
    olm_phi3_config c;
    return preset && olm_phi3_preset(preset, &c) ? c.vocab_size : 0;
}
