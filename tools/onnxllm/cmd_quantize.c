/* cmd_quantize.c — `onnxllm quantize IN_DIR OUT_DIR`: an fp32 CPU model folder of
 * our layout (build-model/convert --precision fp32) to the CPU int4 one. The fp32
 * weights are read back with HF names and fed to the same writer, so the result is
 * byte-identical to building int4 directly from the same weights. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help(FILE *f) {
    fprintf(f,
            "usage: onnxllm quantize [--quiet] IN_DIR OUT_DIR\n"
            "\n"
            "Quantizes an fp32 CPU model folder (model.onnx, model.onnx.data, genai_config.json,\n"
            "as written by `onnxllm build-model --precision fp32` or `onnxllm convert --precision\n"
            "fp32`) to the CPU int4 layout: MatMulNBits, block 32, symmetric RTN (ONNX Runtime's\n"
            "quantizer formula), accuracy_level 4. Tokenizer files in IN_DIR are copied.\n"
            "\n"
            "  -q, --quiet   no progress on stderr\n"
            "  -h, --help    this help\n"
            "\n"
            "exit codes: 0 ok, 1 failure (input missing or not an fp32 model of this layout, output\n"
            "            not writable), 2 bad usage (the command line)\n");
}

static void progress(void *user, int done, int total) {
    (void)user;
    fprintf(stderr, "\rquantize: layer %d/%d", done, total);
    if (done == total) fputc('\n', stderr);
}

int cmd_quantize(int argc, char **argv) {
    static const struct option opts[] = {
        {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int quiet = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q': quiet = 1; break;
        case 'h': help(stdout); return CLI_OK;
        default: return cli_bad_option("quantize", c, argv);
        }
    }
    if (argc - optind != 2) return cli_usage_error("quantize", "expected IN_DIR and OUT_DIR");
    const char *in = argv[optind], *out = argv[optind + 1];
    if (!strcmp(in, out)) return cli_usage_error("quantize", "IN_DIR and OUT_DIR must differ");

    onnxllm_error err = {0};
    onnxllm_build_params o = onnxllm_build_default_params();
    if (!quiet && isatty(2)) o.progress = progress;
    if (onnxllm_quantize(in, &o, out, &err)) return cli_report("quantize", &err);
    if (!quiet) fprintf(stderr, "quantize: wrote %s (int4, cpu)\n", out);
    return CLI_OK;
}
