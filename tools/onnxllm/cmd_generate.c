/* cmd_generate.c — `onnxllm generate`: token ids in, token ids out.
 *
 * The engine's test contract: stdout gets exactly one line, the generated ids
 * comma-separated (unless --no-print-ids), everything else — timings, errors —
 * goes to stderr. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: onnxllm generate -m MODEL_DIR --ids 5,17,3 [options]\n"
            "\n"
            "Runs the model on the given token ids and generates more. The engine's test\n"
            "contract: stdout gets exactly one line, the generated ids comma-separated; the\n"
            "summary (load, prefill, decode speed) goes to stderr.\n"
            "\n"
            "options:\n"
            "  -m, --model DIR       model folder (genai_config.json, model.onnx)\n"
            "      --ids LIST        prompt token ids, comma-separated\n"
            "      --no-print-ids    only the summary (timing runs); --print-ids is the default\n"
            "  -h, --help            this help\n");
    cli_gen_help(f, "32", "0");
    fprintf(f, "\n"
               "exit codes: 0 ok, 1 failure (model folder, ids the model does not have, prompt longer than\n"
               "            --max-length, runtime), 2 bad usage (the command line), 130 Ctrl-C\n");
}

typedef struct {
    bool print;
    int n;
    onnxllm_sequence *seq;
} run_ctx;

static bool on_token(int32_t tok, void *user) {
    run_ctx *c = user;
    if (c->print) {
        printf(c->n ? ",%d" : "%d", tok);
        fflush(stdout);
    }
    c->n++;
    return true;
}

static volatile sig_atomic_t interrupted;
static onnxllm_sequence *volatile active_seq;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
    if (active_seq) onnxllm_sequence_cancel(active_seq); /* sets an atomic flag + ORT terminate flag */
}

static int parse_ids(const char *s, int32_t **out, size_t *n) {
    size_t cap = 16, k = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!ids) return -1;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX) {
            free(ids);
            return -1;
        }
        if (k == cap) {
            int32_t *t = realloc(ids, (cap *= 2) * sizeof *ids);
            if (!t) {
                free(ids);
                return -1;
            }
            ids = t;
        }
        ids[k++] = (int32_t)v;
        p = end;
        if (*p == ',') p++;
        else if (*p) {
            free(ids);
            return -1;
        }
    }
    *out = ids;
    *n = k;
    return 0;
}

int cmd_generate(int argc, char **argv) {
    enum { O_IDS = 256, O_PRINT, O_NO_PRINT };
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"ids", required_argument, 0, O_IDS},
                                         {"print-ids", no_argument, 0, O_PRINT},
                                         {"no-print-ids", no_argument, 0, O_NO_PRINT},
                                         {"help", no_argument, 0, 'h'},
                                         CLI_GEN_LONGOPTS,
                                         {0, 0, 0, 0}};
    const char *model = NULL, *ids_arg = NULL;
    bool print = true;
    cli_gen_options o;
    cli_gen_options_init(&o, 32);
    o.sampler.seed = 0; /* reproducible by default: this is a test contract */
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case O_IDS: ids_arg = optarg; break;
        case O_PRINT: print = true; break;
        case O_NO_PRINT: print = false; break;
        case 'h': usage(stdout); return CLI_OK;
        case '?':
        case ':': return cli_bad_option("generate", c, argv);
        default: {
            int r = cli_gen_option("generate", c, optarg, &o);
            if (r) return r > 0 ? r : cli_bad_option("generate", '?', argv);
        }
        }
    }
    if (optind < argc) return cli_usage_error("generate", "unexpected argument: %s", argv[optind]);
    if (!model) return cli_usage_error("generate", "-m MODEL_DIR is required");
    if (!ids_arg) return cli_usage_error("generate", "--ids is required");
    if (o.n_stops) return cli_usage_error("generate", "--stop needs text: use run or chat (generate works on ids)");
    if (cli_gen_check("generate", &o)) return CLI_USAGE;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    if (parse_ids(ids_arg, &ids, &n_ids) || n_ids == 0)
        return cli_usage_error("generate", "--ids must be a non-empty comma-separated list of ids, got \"%s\"", ids_arg);

    onnxllm_model_params mp = cli_gen_model_params(&o);
    onnxllm_error err = {0};
    onnxllm_model *m = NULL;
    onnxllm_sequence *seq = NULL;
    int rc = CLI_OK;
    double t0 = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t0 = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
    if (onnxllm_model_load(model, &mp, &m, &err) || onnxllm_sequence_create(m, &seq, &err)) {
        rc = cli_report("generate", &err);
        goto done;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double load_ms = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 - t0;
    cli_gen_resolve(&o, m);
    if (n_ids >= (size_t)onnxllm_model_max_length(m)) {
        fprintf(stderr, "onnxllm generate: %zu prompt ids do not leave room to generate within --max-length %d\n", n_ids,
                onnxllm_model_max_length(m));
        rc = CLI_FAIL;
        goto done;
    }
    active_seq = seq;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    onnxllm_generate_result r;
    run_ctx ctx = {print, 0, seq};
    onnxllm_status st = onnxllm_sequence_append(seq, ids, n_ids, &err);
    double append_ms = 0;
    if (!st) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        append_ms = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 - t0 - load_ms;
        st = onnxllm_generate(seq, &o.sampler, o.max_tokens, on_token, &ctx, &r, &err);
    }
    sigaction(SIGINT, &old, NULL);
    active_seq = NULL;
    if (print && ctx.n) { /* the ids line (nothing was printed when no id was generated) */
        printf("\n");
        fflush(stdout);
    }
    if (st) {
        rc = cli_report("generate", &err);
        goto done;
    }
    fprintf(stderr, "generate: load %.0f ms, prefill %zu tokens %.1f ms, %d tokens generated", load_ms, n_ids,
            append_ms + r.prefill_ms, r.n_generated);
    if (r.n_generated > 1)
        fprintf(stderr, ", decode %.2f tok/s", (r.n_generated - 1) * 1e3 / (r.decode_ms > 0 ? r.decode_ms : 1));
    fprintf(stderr, "\n");
done:
    onnxllm_sequence_free(seq);
    onnxllm_model_free(m);
    free(ids);
    if (interrupted && rc == CLI_OK) rc = CLI_INTERRUPTED;
    return rc;
}
