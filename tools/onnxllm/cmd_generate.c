/* cmd_generate.c — `onnxllm generate`: token ids in, token ids out.
 *
 * The engine's test contract: stdout gets exactly one line, the generated ids
 * comma-separated (with --print-ids; otherwise nothing), everything else —
 * timings, progress, errors — goes to stderr. */
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
            "Runs the model on the given token ids and generates more (greedy or sampled).\n\n"
            "  -m, --model DIR       model folder (genai_config.json, model.onnx)\n"
            "      --ids LIST        prompt token ids, comma-separated\n"
            "  -n, --max-new N       tokens to generate (default 32)\n"
            "      --greedy          argmax decoding (default unless a sampling option is given)\n"
            "      --temperature T   sampling temperature (0 = greedy)\n"
            "      --top-k K         keep the K most likely tokens (0 = all)\n"
            "      --top-p P         nucleus sampling mass (1 = off)\n"
            "      --min-p P         drop tokens below P x the top probability (0 = off)\n"
            "      --repetition-penalty R, --presence-penalty P, --frequency-penalty F\n"
            "      --seed S          RNG seed (default 0)\n"
            "      --threads N       ONNX Runtime intra-op threads (default: physical cores)\n"
            "      --max-length N    KV cache capacity in tokens (default min(4096, context))\n"
            "      --ep cpu|cuda     execution provider (default: from genai_config.json)\n"
            "      --no-shared-kv    separate past/present KV tensors (fallback mode)\n"
            "      --full-logits     run the graph as published (lm_head on every prompt\n"
            "                        position; default: the last position only)\n"
            "      --ignore-eos      do not stop at end-of-sequence ids\n"
            "      --print-ids       print the generated ids on stdout\n"
            "  -h, --help            this help\n");
}

typedef struct {
    bool print, ignore_eos;
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

static bool parse_num(const char *s, double lo, double hi, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && !*end && !errno && *v >= lo && *v <= hi;
}

int cmd_generate(int argc, char **argv) {
    enum { O_IDS = 256, O_GREEDY, O_TEMP, O_TOPK, O_TOPP, O_MINP, O_SEED, O_THREADS, O_MAXLEN, O_EP, O_PRINT,
           O_REP, O_PRES, O_FREQ, O_NOSHARE, O_IGNEOS, O_FULL };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},       {"ids", required_argument, 0, O_IDS},
        {"max-new", required_argument, 0, 'n'},     {"greedy", no_argument, 0, O_GREEDY},
        {"temperature", required_argument, 0, O_TEMP}, {"top-k", required_argument, 0, O_TOPK},
        {"top-p", required_argument, 0, O_TOPP},    {"min-p", required_argument, 0, O_MINP},
        {"seed", required_argument, 0, O_SEED},     {"threads", required_argument, 0, O_THREADS},
        {"max-length", required_argument, 0, O_MAXLEN}, {"ep", required_argument, 0, O_EP},
        {"print-ids", no_argument, 0, O_PRINT},     {"repetition-penalty", required_argument, 0, O_REP},
        {"presence-penalty", required_argument, 0, O_PRES}, {"frequency-penalty", required_argument, 0, O_FREQ},
        {"no-shared-kv", no_argument, 0, O_NOSHARE}, {"full-logits", no_argument, 0, O_FULL}, {"ignore-eos", no_argument, 0, O_IGNEOS},
        {"help", no_argument, 0, 'h'},              {0, 0, 0, 0}};
    const char *model = NULL, *ids_arg = NULL;
    onnxllm_model_params mp = onnxllm_model_default_params();
    mp.hugepages = true; /* the CLI owns its process (see onnxllm.h) */
    onnxllm_sampler_params sp = onnxllm_sampler_default_params();
    bool greedy = false, sampling = false, print = false, ignore_eos = false;
    int max_new = 32;
    double v;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "m:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case O_IDS: ids_arg = optarg; break;
        case 'n':
            if (!parse_num(optarg, 0, 1e9, &v) || v != (int)v) return cli_usage_error("generate", "bad -n: %s", optarg);
            max_new = (int)v;
            break;
        case O_GREEDY: greedy = true; break;
        case O_TEMP:
            if (!parse_num(optarg, 0, 1e6, &v)) return cli_usage_error("generate", "bad --temperature: %s", optarg);
            sp.temperature = (float)v;
            sampling = true;
            break;
        case O_TOPK:
            if (!parse_num(optarg, 0, 1e9, &v) || v != (int)v) return cli_usage_error("generate", "bad --top-k: %s", optarg);
            sp.top_k = (int)v;
            sampling = true;
            break;
        case O_TOPP:
            if (!parse_num(optarg, 1e-9, 1, &v)) return cli_usage_error("generate", "bad --top-p (0 < P <= 1): %s", optarg);
            sp.top_p = (float)v;
            sampling = true;
            break;
        case O_MINP:
            if (!parse_num(optarg, 0, 1, &v)) return cli_usage_error("generate", "bad --min-p (0..1): %s", optarg);
            sp.min_p = (float)v;
            sampling = true;
            break;
        case O_REP:
            if (!parse_num(optarg, 1e-6, 1e6, &v)) return cli_usage_error("generate", "bad --repetition-penalty: %s", optarg);
            sp.repetition_penalty = (float)v;
            break;
        case O_PRES:
            if (!parse_num(optarg, -1e6, 1e6, &v)) return cli_usage_error("generate", "bad --presence-penalty: %s", optarg);
            sp.presence_penalty = (float)v;
            break;
        case O_FREQ:
            if (!parse_num(optarg, -1e6, 1e6, &v)) return cli_usage_error("generate", "bad --frequency-penalty: %s", optarg);
            sp.frequency_penalty = (float)v;
            break;
        case O_SEED:
            if (!parse_num(optarg, 0, 1.8e19, &v)) return cli_usage_error("generate", "bad --seed: %s", optarg);
            sp.seed = strtoull(optarg, NULL, 10);
            break;
        case O_THREADS:
            if (!parse_num(optarg, 1, 4096, &v) || v != (int)v) return cli_usage_error("generate", "bad --threads: %s", optarg);
            mp.n_threads = (int)v;
            break;
        case O_MAXLEN:
            if (!parse_num(optarg, 1, 1e9, &v) || v != (int)v) return cli_usage_error("generate", "bad --max-length: %s", optarg);
            mp.max_length = (int)v;
            break;
        case O_EP:
            if (strcmp(optarg, "cpu") && strcmp(optarg, "cuda"))
                return cli_usage_error("generate", "--ep must be cpu or cuda, not %s", optarg);
            mp.ep = optarg;
            break;
        case O_PRINT: print = true; break;
        case O_NOSHARE: mp.no_shared_kv = true; break;
        case O_FULL: mp.full_logits = true; break;
        case O_IGNEOS: ignore_eos = true; break;
        case 'h': usage(stdout); return CLI_OK;
        default: return cli_usage_error("generate", "unknown option");
        }
    }
    if (optind < argc) return cli_usage_error("generate", "unexpected argument: %s", argv[optind]);
    if (!model) return cli_usage_error("generate", "-m MODEL_DIR is required");
    if (!ids_arg) return cli_usage_error("generate", "--ids is required");
    if (greedy && sampling) return cli_usage_error("generate", "--greedy cannot be combined with sampling options");
    if (!sampling) sp.temperature = 0; /* greedy unless asked to sample */
    int32_t *ids = NULL;
    size_t n_ids = 0;
    if (parse_ids(ids_arg, &ids, &n_ids) || n_ids == 0)
        return cli_usage_error("generate", "--ids must be a non-empty comma-separated list of ids, got \"%s\"", ids_arg);

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
    active_seq = seq;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old);
    onnxllm_generate_result r;
    run_ctx ctx = {print, ignore_eos, 0, seq};
    onnxllm_status st = onnxllm_sequence_append(seq, ids, n_ids, &err);
    double append_ms = 0;
    if (!st) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        append_ms = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 - t0 - load_ms;
        sp.ignore_eos = ignore_eos;
        st = onnxllm_generate(seq, &sp, max_new, on_token, &ctx, &r, &err);
    }
    sigaction(SIGINT, &old, NULL);
    active_seq = NULL;
    if (print) {
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
