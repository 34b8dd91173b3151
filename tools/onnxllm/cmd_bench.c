/* cmd_bench.c — `onnxllm bench`: load time, time to first token, prefill and
 * decode speed and peak memory for a prompt of P tokens and N generated tokens.
 *
 * The prompt is synthetic (ids spread over the vocabulary, the same every run) so
 * no tokenizer is needed and runs are comparable; decoding is greedy and does not
 * stop at eos, so exactly N tokens are generated. */
#include "cli.h"
#include "common/error.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void help(FILE *f) {
    fprintf(f,
            "usage: onnxllm bench -m MODEL_DIR [-p PROMPT_TOKENS] [-n GEN_TOKENS] [options]\n"
            "\n"
            "Measures model load time, time to first token (prefill + first token), prefill and\n"
            "decode speed in tokens/s and peak resident memory. The prompt is P synthetic token\n"
            "ids; N tokens are generated greedily (eos does not stop the run).\n"
            "\n"
            "options:\n"
            "  -m, --model DIR        model folder\n"
            "  -p, --prompt-tokens P  prompt length (default 128)\n"
            "  -n, --gen-tokens N     tokens to generate (default 64, at least 1)\n"
            "  -r, --repeat R         runs after loading, averaged (default 1)\n"
            "      --threads T        ONNX Runtime threads (default: the model's setting, else all cores)\n"
            "      --max-length L     KV capacity (default P + N)\n"
            "      --ep cpu|cuda      execution provider (default: cuda if genai_config lists it, else cpu)\n"
            "      --json             print one JSON object instead of a table\n"
            "  -h, --help             this help\n"
            "A progress bar is drawn on stderr when it is a terminal.\n"
            "\n"
            "exit codes: 0 ok, 1 failure (model folder, runtime), 2 bad usage, 130 Ctrl-C\n");
}

static void progress(bool on, const char *phase, int done, int total) {
    if (!on) return;
    int w = 30, fill = total ? done * w / total : w;
    fprintf(stderr, "\r%-8s [", phase);
    for (int i = 0; i < w; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %d/%d ", done, total);
    fflush(stderr);
}

static bool parse_count(const char *s, long *v, long min) {
    char *end;
    *v = strtol(s, &end, 10);
    return *s && !*end && *v >= min && *v <= 1000000;
}

int cmd_bench(int argc, char **argv) {
    enum { OPT_THREADS = 1000, OPT_MAXLEN, OPT_JSON, OPT_EP };
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"prompt-tokens", required_argument, 0, 'p'},
                                         {"gen-tokens", required_argument, 0, 'n'},
                                         {"repeat", required_argument, 0, 'r'},
                                         {"threads", required_argument, 0, OPT_THREADS},
                                         {"max-length", required_argument, 0, OPT_MAXLEN},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {"ep", required_argument, 0, OPT_EP},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *model = NULL, *ep = NULL;
    long P = 128, N = 64, R = 1, threads = 0, maxlen = 0;
    bool json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:p:n:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'p':
            if (!parse_count(optarg, &P, 1)) return cli_usage_error("bench", "-p: '%s' is not a count >= 1", optarg);
            break;
        case 'n':
            if (!parse_count(optarg, &N, 1)) return cli_usage_error("bench", "-n: '%s' is not a count >= 1", optarg);
            break;
        case 'r':
            if (!parse_count(optarg, &R, 1)) return cli_usage_error("bench", "-r: '%s' is not a count >= 1", optarg);
            break;
        case OPT_THREADS:
            if (!parse_count(optarg, &threads, 0))
                return cli_usage_error("bench", "--threads: '%s' is not a count", optarg);
            break;
        case OPT_MAXLEN:
            if (!parse_count(optarg, &maxlen, 1))
                return cli_usage_error("bench", "--max-length: '%s' is not a count", optarg);
            break;
        case OPT_JSON: json = true; break;
        case OPT_EP:
            if (strcmp(optarg, "cpu") && strcmp(optarg, "cuda"))
                return cli_usage_error("bench", "--ep: '%s' is not cpu or cuda", optarg);
            ep = optarg;
            break;
        case 'h': help(stdout); return CLI_OK;
        default: return cli_bad_option("bench", c, argv);
        }
    }
    if (optind < argc) return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
    if (!model) return cli_usage_error("bench", "missing -m MODEL_DIR");
    if (maxlen && maxlen < P + N) return cli_usage_error("bench", "--max-length %ld < P + N = %ld", maxlen, P + N);

    int rc = cli_check_model_dir("bench", model);
    if (rc) return rc;
    bool bar = isatty(STDERR_FILENO);
    cli_sigint *sig = cli_sigint_start();
    cli_sigint_busy(sig, NULL);
    onnxllm_error err = {0};
    onnxllm_model *m = NULL;
    onnxllm_sequence *seq = NULL;
    onnxllm_sampler *smp = NULL;
    int32_t *ids = NULL;
    onnxllm_model_params mp = onnxllm_model_default_params();
    mp.hugepages = true; /* the CLI owns its process (see onnxllm.h) */
    mp.n_threads = (int)threads;
    mp.ep = ep;
    mp.max_length = (int)(maxlen ? maxlen : P + N);
    if (bar) fprintf(stderr, "loading %s ...", model);
    double t0 = cli_now_ms();
    if (onnxllm_model_load(model, &mp, &m, &err)) {
        if (bar) fputc('\n', stderr);
        rc = cli_report("bench", &err) == CLI_INTERRUPTED ? CLI_INTERRUPTED : CLI_FAIL;
        goto done;
    }
    double load_ms = cli_now_ms() - t0;
    if (bar) fprintf(stderr, " %.0f ms\n", load_ms);
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    int vocab = onnxllm_model_vocab_size(m);
    if (!(ids = malloc((size_t)P * sizeof *ids))) {
        fprintf(stderr, "onnxllm bench: out of memory\n");
        rc = CLI_FAIL;
        goto done;
    }
    /* spread over the vocabulary, away from the special ids at the end */
    for (long i = 0; i < P; i++) ids[i] = (int32_t)((1000 + i * 7919) % (vocab > 2000 ? vocab - 1000 : vocab));
    if (onnxllm_sampler_create(&sp, vocab, &smp, &err) || onnxllm_sequence_create(m, &seq, &err)) {
        rc = cli_report("bench", &err);
        goto done;
    }
    cli_sigint_busy(sig, seq);
    double sum_prefill = 0, sum_first = 0, sum_decode = 0;
    onnxllm_status st = ONNXLLM_OK;
    for (long r = 0; r < R && !st && !cli_sigint_interrupted(sig); r++) {
        if (onnxllm_sequence_length(seq) && (st = onnxllm_sequence_rewind_to(seq, 0, &err))) break;
        progress(bar, "prefill", 0, (int)P);
        double a = cli_now_ms();
        if ((st = onnxllm_sequence_append(seq, ids, (size_t)P, &err))) break;
        double b = cli_now_ms();
        progress(bar, "prefill", (int)P, (int)P);
        int32_t tok;
        if ((st = onnxllm_sequence_step(seq, smp, &tok, &err))) break;
        double d0 = cli_now_ms();
        for (long k = 1; k < N && !st && !cli_sigint_interrupted(sig); k++) {
            st = onnxllm_sequence_step(seq, smp, &tok, &err);
            if (bar && (k % 4 == 0 || k == N - 1)) progress(bar, "decode", (int)k + 1, (int)N);
        }
        double d1 = cli_now_ms();
        if (bar) fputc('\n', stderr);
        sum_prefill += b - a;
        sum_first += d0 - a;
        sum_decode += d1 - d0;
    }
    cli_sigint_busy(sig, NULL);
    if (!st && cli_sigint_interrupted(sig)) st = olm_fail(&err, ONNXLLM_ERR_CANCELLED, "interrupted");
    if (st) {
        rc = cli_report("bench", &err);
        goto done;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double prefill_ms = sum_prefill / R, ttft_ms = sum_first / R, decode_ms = sum_decode / R;
    double prefill_tps = prefill_ms > 0 ? P * 1000.0 / prefill_ms : 0;
    double decode_tps = N > 1 && decode_ms > 0 ? (N - 1) * 1000.0 / decode_ms : 0;
    double rss_mib = ru.ru_maxrss / 1024.0;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", model);
        cJSON_AddNumberToObject(o, "prompt_tokens", (double)P);
        cJSON_AddNumberToObject(o, "gen_tokens", (double)N);
        cJSON_AddNumberToObject(o, "runs", (double)R);
        cJSON_AddNumberToObject(o, "threads", onnxllm_model_n_threads(m));
        cJSON_AddStringToObject(o, "ep", onnxllm_model_ep(m));
        cJSON_AddNumberToObject(o, "load_ms", load_ms);
        cJSON_AddNumberToObject(o, "ttft_ms", ttft_ms);
        cJSON_AddNumberToObject(o, "prefill_ms", prefill_ms);
        cJSON_AddNumberToObject(o, "prefill_tok_s", prefill_tps);
        cJSON_AddNumberToObject(o, "decode_tok_s", decode_tps);
        cJSON_AddNumberToObject(o, "peak_rss_mib", rss_mib);
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (s) puts(s);
        free(s);
    } else {
        printf("model          %s (%s, %d threads)\n", model, onnxllm_model_ep(m), onnxllm_model_n_threads(m));
        printf("load           %10.1f ms\n", load_ms);
        printf("prompt         %10ld tokens\n", P);
        printf("prefill        %10.1f ms   %10.1f tokens/s\n", prefill_ms, prefill_tps);
        printf("first token    %10.1f ms   (prefill + first token)\n", ttft_ms);
        printf("decode         %10ld tokens %8.1f tokens/s\n", N, decode_tps);
        printf("peak RSS       %10.1f MiB\n", rss_mib);
        if (R > 1) printf("(means of %ld runs)\n", R);
    }
done:
    cli_sigint_stop(sig);
    free(ids);
    onnxllm_sampler_free(smp);
    onnxllm_sequence_free(seq);
    onnxllm_model_free(m);
    return rc;
}
