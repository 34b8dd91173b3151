/* cmd_convert.c — `onnxllm convert --from HF_DIR -o DIR [--precision int4|fp32] [--ep cpu|cuda]`:
 * a Hugging Face Phi-3-family checkpoint (config.json + safetensors) to the
 * onnxruntime-genai folder layout, through the same writer as build-model. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help(FILE *f) {
    fprintf(f,
            "usage: onnxllm convert --from HF_DIR -o OUT_DIR [--precision int4|fp32] [--ep cpu|cuda] [--quiet]\n"
            "\n"
            "Converts a Hugging Face Phi3ForCausalLM checkpoint (Phi-3-mini, Phi-3.5-mini, Phi-4-mini):\n"
            "HF_DIR/config.json (+ generation_config.json) and model.safetensors or sharded\n"
            "model-*.safetensors with model.safetensors.index.json (BF16, F16 or F32 weights).\n"
            "Writes OUT_DIR/model.onnx, model.onnx.data, genai_config.json and copies the\n"
            "tokenizer files found in HF_DIR.\n"
            "\n"
            "  --from DIR          Hugging Face model folder\n"
            "  -o, --output DIR    output folder (created if needed)\n"
            "  --precision P       int4 (MatMulNBits, block 32, default) or fp32\n"
            "  --ep E              cpu (fp32 I/O, default) or cuda (fp16 I/O)\n"
            "  -q, --quiet         no progress on stderr\n"
            "  -h, --help          this help\n"
            "\n"
            "exit codes: 0 ok, 1 failure (checkpoint missing, malformed or unsupported, output not\n"
            "            writable), 2 bad usage (the command line)\n");
}

static void progress(void *user, int done, int total) {
    (void)user;
    fprintf(stderr, "\rconvert: layer %d/%d", done, total);
    if (done == total) fputc('\n', stderr);
}

int cmd_convert(int argc, char **argv) {
    static const struct option opts[] = {{"from", required_argument, 0, 'f'},
                                         {"output", required_argument, 0, 'o'},
                                         {"precision", required_argument, 0, 'p'},
                                         {"ep", required_argument, 0, 'e'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *from = NULL, *out = NULL;
    onnxllm_build_params o = onnxllm_build_default_params();
    int quiet = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': from = optarg; break;
        case 'o': out = optarg; break;
        case 'p':
            if (!strcmp(optarg, "int4")) o.precision = ONNXLLM_PRECISION_INT4;
            else if (!strcmp(optarg, "fp32")) o.precision = ONNXLLM_PRECISION_FP32;
            else return cli_usage_error("convert", "unknown precision '%s' (int4 or fp32)", optarg);
            break;
        case 'e':
            if (!strcmp(optarg, "cpu")) o.target = ONNXLLM_TARGET_CPU;
            else if (!strcmp(optarg, "cuda")) o.target = ONNXLLM_TARGET_CUDA;
            else return cli_usage_error("convert", "unknown execution provider '%s' (cpu or cuda)", optarg);
            break;
        case 'q': quiet = 1; break;
        case 'h': help(stdout); return CLI_OK;
        default: return cli_bad_option("convert", c, argv);
        }
    }
    if (optind < argc) return cli_usage_error("convert", "unexpected argument '%s'", argv[optind]);
    if (!from) return cli_usage_error("convert", "missing --from HF_DIR");
    if (!out) return cli_usage_error("convert", "missing -o OUT_DIR");

    onnxllm_error err = {0};
    if (!quiet && isatty(2)) o.progress = progress;
    if (onnxllm_convert(from, &o, out, &err)) return cli_report("convert", &err);
    if (!quiet)
        fprintf(stderr, "convert: wrote %s (%s, %s)\n", out, o.precision == ONNXLLM_PRECISION_INT4 ? "int4" : "fp32",
                o.target == ONNXLLM_TARGET_CPU ? "cpu" : "cuda");
    return CLI_OK;
}
