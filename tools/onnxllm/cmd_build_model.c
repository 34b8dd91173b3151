/* cmd_build_model.c — `onnxllm build-model`: a random-weight model folder of the
 * published onnxruntime-genai layout (see onnxllm_build_model). */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help(FILE *f) {
    fprintf(f,
            "usage: onnxllm build-model --preset NAME -o DIR [options]\n"
            "\n"
            "Writes DIR/{genai_config.json, model.onnx, model.onnx.data} with deterministic\n"
            "random weights (same preset + seed = same weights in every precision).\n"
            "\n"
            "options:\n"
            "  --preset NAME        model size:");
    for (const char *const *n = onnxllm_build_presets(); *n; n++) fprintf(f, " %s", *n);
    fprintf(f,
            "\n"
            "  --seed N             random seed (default 0)\n"
            "  -o, --output DIR     output folder (created if needed)\n"
            "  --precision P        int4 (default; MatMulNBits) or fp32 (MatMul, cpu only)\n"
            "  --ep E               cpu (default; fp32 I/O) or cuda (fp16 I/O)\n"
            "  --tokenizer-dir DIR  copy tokenizer.json (+ tokenizer_config.json, ...) from DIR\n"
            "  -q, --quiet          no progress bar\n"
            "  -h, --help           this help\n"
            "\n"
            "exit codes: 0 ok, 1 failure (folder not writable, disk full, a tokenizer that does not\n"
            "            fit the preset's vocabulary), 2 bad usage (the command line)\n");
}

typedef struct {
    int last_pct;
    bool tty;
    const char *preset, *out; /* the label: what is being built where */
} progress_state;

static void progress(void *user, int done, int total) {
    progress_state *ps = user;
    int pct = total ? done * 100 / total : 100;
    if (pct == ps->last_pct) return;
    ps->last_pct = pct;
    int w = 30, fill = pct * w / 100;
    char bar[64];
    for (int i = 0; i < w; i++) bar[i] = i < fill ? '#' : '.';
    bar[w] = 0;
    fprintf(stderr, "%sbuild-model %s -> %s: [%s] %3d%% (%d/%d)%s", ps->tty ? "\r" : "", ps->preset, ps->out, bar,
            pct, done, total, ps->tty && done < total ? "" : "\n");
    fflush(stderr);
}

int cmd_build_model(int argc, char **argv) {
    static const struct option opts[] = {
        {"preset", required_argument, 0, 'p'}, {"seed", required_argument, 0, 's'},
        {"output", required_argument, 0, 'o'}, {"precision", required_argument, 0, 'P'},
        {"ep", required_argument, 0, 'e'},     {"tokenizer-dir", required_argument, 0, 't'},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *preset = NULL, *out = NULL;
    uint64_t seed = 0;
    bool quiet = false;
    onnxllm_build_params p = onnxllm_build_default_params();
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'p': preset = optarg; break;
        case 's': {
            char *end;
            seed = strtoull(optarg, &end, 0);
            if (!*optarg || *end || optarg[0] == '-')
                return cli_usage_error("build-model", "--seed: not a non-negative integer: '%s'", optarg);
            break;
        }
        case 'o': out = optarg; break;
        case 'P':
            if (!strcmp(optarg, "int4")) p.precision = ONNXLLM_PRECISION_INT4;
            else if (!strcmp(optarg, "fp32")) p.precision = ONNXLLM_PRECISION_FP32;
            else return cli_usage_error("build-model", "--precision: expected int4 or fp32, got '%s'", optarg);
            break;
        case 'e':
            if (!strcmp(optarg, "cpu")) p.target = ONNXLLM_TARGET_CPU;
            else if (!strcmp(optarg, "cuda")) p.target = ONNXLLM_TARGET_CUDA;
            else return cli_usage_error("build-model", "--ep: expected cpu or cuda, got '%s'", optarg);
            break;
        case 't': p.tokenizer_dir = optarg; break;
        case 'q': quiet = true; break;
        case 'h': help(stdout); return CLI_OK;
        default: return cli_bad_option("build-model", c, argv);
        }
    }
    if (optind < argc) return cli_usage_error("build-model", "unexpected argument '%s'", argv[optind]);
    if (!preset) return cli_usage_error("build-model", "--preset is required");
    if (!out) return cli_usage_error("build-model", "-o DIR is required");
    int vocab = onnxllm_build_preset_vocab_size(preset);
    if (!vocab) {
        char known[256] = "";
        for (const char *const *n = onnxllm_build_presets(); *n; n++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", *known ? ", " : "", *n);
        return cli_usage_error("build-model", "--preset: unknown preset '%s' (known: %s)", preset, known);
    }
    onnxllm_error err = {0};
    if (p.tokenizer_dir) { /* a tokenizer of another model: refuse before a long build (a
                              missing tokenizer.json is the writer's to report) */
        char *path = malloc(strlen(p.tokenizer_dir) + sizeof "/tokenizer.json");
        onnxllm_tokenizer *tok = NULL;
        if (!path) return CLI_FAIL;
        sprintf(path, "%s/tokenizer.json", p.tokenizer_dir);
        onnxllm_status st = access(path, F_OK) ? ONNXLLM_OK : onnxllm_tokenizer_load(path, &tok, &err);
        if (!st && tok) st = onnxllm_tokenizer_check_vocab(tok, (size_t)vocab, &err);
        onnxllm_tokenizer_free(tok);
        free(path);
        if (st) return cli_report("build-model", &err);
    }
    progress_state ps = {-1, isatty(2), preset, out};
    if (!quiet) {
        p.progress = progress;
        p.progress_user = &ps;
    }
    if (onnxllm_build_model(preset, seed, &p, out, &err) != ONNXLLM_OK) return cli_report("build-model", &err);
    if (!quiet) fprintf(stderr, "wrote %s\n", out);
    return CLI_OK;
}
