/* bench_engine.c — our engine and onnxruntime-genai side by side on one model.
 *
 *   bench_engine -m MODEL_DIR [--threads N] [--runs R] [--prompts 128,512,2048]
 *                [--decode 64] [--max-length 4096] [--engines ours,genai,genai-thp]
 *
 * Engines: ours (huge-page weights, as the CLI), ours-4k (model param hugepages off),
 * genai (onnxruntime-genai as installed), genai-thp (genai with
 * GLIBC_TUNABLES=glibc.malloc.hugetlb=1: glibc advises its heap and large blocks for
 * transparent huge pages, so genai's weights are on huge pages too — the like-for-like
 * comparison). Each measurement runs in its own child process (this program
 * re-executed with --engine NAME), so peak RSS (ru_maxrss) is that engine's alone; runs
 * rotate the order of the engines, because this machine's memory bandwidth drifts
 * between minutes and only side-by-side ratios are meaningful.
 * Per child: load time, time to first token for each prompt length (prefill of a
 * fresh sequence + the first sampled token), decode tokens/s (greedy, eos
 * ignored, after the first prompt), peak RSS. The parent also measures memory
 * read bandwidth with the same thread count and prints the decode limit =
 * bandwidth / weight bytes read per token. */
#include "onnxllm.h"
#include "engine/onnx_scan.h"
#include "engine/genai_config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <ort_genai_c.h>

#define MAXP 8

typedef struct {
    const char *model;
    int threads, runs, decode, max_length, n_prompts, vocab;
    int prompts[MAXP];
} opts_t;

typedef struct {
    double load_ms, ttft_ms[MAXP], decode_tps, rss_mb;
    bool ok;
} result_t;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Anonymous memory on transparent huge pages (smaps_rollup), MB: where the weights went. */
static double anon_huge_mb(void) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    double kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "AnonHugePages:", 14)) kb = strtod(line + 14, NULL);
    if (f) fclose(f);
    return kb / 1024.0;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

static void make_ids(int32_t *ids, int n, int vocab, int salt) {
    uint64_t x = 0x9e3779b97f4a7c15ULL * (uint64_t)(salt + 1);
    for (int i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        ids[i] = (int32_t)(3 + (x >> 33) % (uint64_t)(vocab - 200)); /* stay clear of the special ids at the top */
    }
}

/* ---- child: our engine ------------------------------------------------------------*/
static int run_ours(const opts_t *o, result_t *r, bool hugepages) {
    onnxllm_error e = {0};
    onnxllm_model_params mp = onnxllm_model_default_params();
    mp.n_threads = o->threads;
    mp.max_length = o->max_length;
    mp.hugepages = hugepages; /* on: as the CLI */
    onnxllm_model *m = NULL;
    onnxllm_sequence *s = NULL;
    onnxllm_sampler *smp = NULL;
    onnxllm_sampler_params sp = onnxllm_sampler_greedy_params();
    double t0 = now_ms();
    if (onnxllm_model_load(o->model, &mp, &m, &e) || onnxllm_sequence_create(m, &s, &e) ||
        onnxllm_sampler_create(&sp, onnxllm_model_vocab_size(m), &smp, &e)) {
        fprintf(stderr, "ours: %s\n", e.message);
        return 1;
    }
    r->load_ms = now_ms() - t0;
    fprintf(stderr, "  (%s: %.0f MB on huge pages after load)\n", hugepages ? "ours" : "ours-4k", anon_huge_mb());
    int V = o->vocab;
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)o->max_length);
    for (int k = 0; k < o->n_prompts; k++) {
        make_ids(ids, o->prompts[k], V, k);
        int32_t tok;
        if (onnxllm_sequence_rewind_to(s, 0, &e)) break;
        double t = now_ms();
        if (onnxllm_sequence_append(s, ids, (size_t)o->prompts[k], &e) || onnxllm_sequence_step(s, smp, &tok, &e)) {
            fprintf(stderr, "ours: %s\n", e.message);
            return 1;
        }
        r->ttft_ms[k] = now_ms() - t;
        if (k == 0 && o->decode > 0) {
            t = now_ms();
            for (int i = 0; i < o->decode; i++)
                if (onnxllm_sequence_step(s, smp, &tok, &e)) {
                    fprintf(stderr, "ours: %s\n", e.message);
                    return 1;
                }
            r->decode_tps = o->decode * 1e3 / (now_ms() - t);
        }
    }
    free(ids);
    onnxllm_sampler_free(smp);
    onnxllm_sequence_free(s);
    onnxllm_model_free(m);
    r->ok = true;
    return 0;
}

/* ---- child: onnxruntime-genai -----------------------------------------------------*/
#define OGA(call)                                                              \
    do {                                                                       \
        OgaResult *res_ = (call);                                              \
        if (res_) {                                                            \
            fprintf(stderr, "genai: %s: %s\n", #call, OgaResultGetError(res_)); \
            OgaDestroyResult(res_);                                            \
            return 1;                                                          \
        }                                                                      \
    } while (0)

static int run_genai(const opts_t *o, result_t *r) {
    OgaConfig *cfg = NULL;
    OgaModel *model = NULL;
    char overlay[256];
    double t0 = now_ms();
    OGA(OgaCreateConfig(o->model, &cfg));
    snprintf(overlay, sizeof overlay, "{\"model\": {\"decoder\": {\"session_options\": {\"intra_op_num_threads\": %d}}}}",
             o->threads);
    OGA(OgaConfigOverlay(cfg, overlay));
    OGA(OgaCreateModelFromConfig(cfg, &model));
    r->load_ms = now_ms() - t0;
    fprintf(stderr, "  (genai%s: %.0f MB on huge pages after load)\n", getenv("GLIBC_TUNABLES") ? "-thp" : "",
            anon_huge_mb());
    OgaDestroyConfig(cfg);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)o->max_length);
    for (int k = 0; k < o->n_prompts; k++) {
        OgaGeneratorParams *params = NULL;
        OgaGenerator *gen = NULL;
        OGA(OgaCreateGeneratorParams(model, &params));
        OGA(OgaGeneratorParamsSetSearchNumber(params, "max_length", o->max_length));
        /* eos is ignored as in our run: min_length masks it until the end */
        OGA(OgaGeneratorParamsSetSearchNumber(params, "min_length", o->max_length));
        OGA(OgaGeneratorParamsSetSearchBool(params, "do_sample", false));
        OGA(OgaCreateGenerator(model, params, &gen));
        make_ids(ids, o->prompts[k], o->vocab, k);
        double t = now_ms();
        OGA(OgaGenerator_AppendTokens(gen, ids, (size_t)o->prompts[k]));
        OGA(OgaGenerator_GenerateNextToken(gen));
        r->ttft_ms[k] = now_ms() - t;
        if (k == 0 && o->decode > 0) {
            t = now_ms();
            for (int i = 0; i < o->decode; i++) OGA(OgaGenerator_GenerateNextToken(gen));
            r->decode_tps = o->decode * 1e3 / (now_ms() - t);
        }
        OgaDestroyGenerator(gen);
        OgaDestroyGeneratorParams(params);
    }
    free(ids);
    OgaDestroyModel(model);
    OgaShutdown();
    r->ok = true;
    return 0;
}

/* ---- parent: memory bandwidth ------------------------------------------------------*/
typedef struct {
    const uint64_t *p;
    size_t n;
    uint64_t sum;
} bw_part;

static void *bw_read(void *arg) {
    bw_part *b = arg;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= b->n; i += 4) {
        s0 += b->p[i];
        s1 += b->p[i + 1];
        s2 += b->p[i + 2];
        s3 += b->p[i + 3];
    }
    b->sum = s0 + s1 + s2 + s3;
    return NULL;
}

/* Best of 5 passes reading 1 GiB with `threads` threads, GB/s (1e9 bytes). */
static double read_bandwidth(int threads) {
    size_t bytes = (size_t)1 << 30, n = bytes / 8;
    uint64_t *buf = malloc(bytes);
    if (!buf) return 0;
    for (size_t i = 0; i < n; i++) buf[i] = i;
    double best = 0;
    for (int pass = 0; pass < 5; pass++) {
        pthread_t th[64];
        bw_part parts[64];
        int T = threads > 64 ? 64 : threads;
        double t = now_ms();
        for (int i = 0; i < T; i++) {
            parts[i].p = buf + n / (size_t)T * (size_t)i;
            parts[i].n = n / (size_t)T;
            pthread_create(&th[i], NULL, bw_read, &parts[i]);
        }
        uint64_t sum = 0;
        for (int i = 0; i < T; i++) {
            pthread_join(th[i], NULL);
            sum += parts[i].sum;
        }
        double gbs = (double)bytes / ((now_ms() - t) * 1e6);
        if (sum == 42) gbs += 1e-12; /* keep the sum alive */
        if (gbs > best) best = gbs;
    }
    free(buf);
    return best;
}

/* ---- parent: one child per measurement -----------------------------------------------*/
static int run_child(const char *self, const opts_t *o, const char *engine, result_t *r) {
    char threads[16], decode[16], maxlen[16], vocab[16], prompts[128] = "";
    snprintf(threads, sizeof threads, "%d", o->threads);
    snprintf(decode, sizeof decode, "%d", o->decode);
    snprintf(maxlen, sizeof maxlen, "%d", o->max_length);
    snprintf(vocab, sizeof vocab, "%d", o->vocab);
    for (int k = 0; k < o->n_prompts; k++)
        snprintf(prompts + strlen(prompts), sizeof prompts - strlen(prompts), k ? ",%d" : "%d", o->prompts[k]);
    int fds[2];
    if (pipe(fds)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        /* glibc reads its tunables at start-up: the child's environment */
        if (!strcmp(engine, "genai-thp")) setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1);
        else unsetenv("GLIBC_TUNABLES");
        execl(self, self, "-m", o->model, "--threads", threads, "--decode", decode, "--max-length", maxlen,
              "--prompts", prompts, "--vocab", vocab, "--engine", engine, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[1024];
    memset(r, 0, sizeof *r);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "RESULT ", 7)) continue;
        char *p = line + 7;
        r->load_ms = strtod(p, &p);
        for (int k = 0; k < o->n_prompts; k++) r->ttft_ms[k] = strtod(p, &p);
        r->decode_tps = strtod(p, &p);
        r->rss_mb = strtod(p, &p);
        r->ok = true;
    }
    fclose(f);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status)) r->ok = false;
    return r->ok ? 0 : -1;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int parse_list(const char *s, int *out, int max) {
    int n = 0;
    while (*s && n < max) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0) return -1;
        out[n++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return n;
}

int main(int argc, char **argv) {
    opts_t o = {.threads = 2, .runs = 2, .decode = 64, .max_length = 4096, .n_prompts = 3,
                .prompts = {128, 512, 2048}};
    const char *engine = NULL;
    const char *names[4] = {"ours", "genai"};
    int n_eng = 2;
    static const struct option lo[] = {{"model", 1, 0, 'm'},   {"threads", 1, 0, 't'}, {"runs", 1, 0, 'r'},
                                       {"prompts", 1, 0, 'p'}, {"decode", 1, 0, 'd'},  {"max-length", 1, 0, 'L'},
                                       {"engine", 1, 0, 'e'},  {"vocab", 1, 0, 'v'},   {"help", 0, 0, 'h'},
                                       {"engines", 1, 0, 'E'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "m:h", lo, NULL)) != -1) {
        switch (c) {
        case 'm': o.model = optarg; break;
        case 't': o.threads = atoi(optarg); break;
        case 'r': o.runs = atoi(optarg); break;
        case 'd': o.decode = atoi(optarg); break;
        case 'L': o.max_length = atoi(optarg); break;
        case 'e': engine = optarg; break;
        case 'v': o.vocab = atoi(optarg); break;
        case 'E': { /* ours first: the ratios are ours / each other */
            static char list[256];
            snprintf(list, sizeof list, "%s", optarg);
            n_eng = 0;
            for (char *t = strtok(list, ","); t && n_eng < 4; t = strtok(NULL, ",")) {
                if (strcmp(t, "ours") && strcmp(t, "ours-4k") && strcmp(t, "genai") && strcmp(t, "genai-thp")) {
                    fprintf(stderr, "bad --engines: %s (ours, ours-4k, genai, genai-thp)\n", t);
                    return 2;
                }
                names[n_eng++] = t;
            }
            if (n_eng < 1) return 2;
            break;
        }
        case 'p':
            if ((o.n_prompts = parse_list(optarg, o.prompts, MAXP)) < 1) {
                fprintf(stderr, "bad --prompts\n");
                return 2;
            }
            break;
        case 'h':
            printf("usage: bench_engine -m MODEL_DIR [--threads N] [--runs R] [--prompts 128,512,2048] [--decode 64] "
                   "[--max-length 4096] [--engines ours,ours-4k,genai,genai-thp]\n");
            return 0;
        default: return 2;
        }
    }
    if (!o.model || o.threads < 1 || o.runs < 1) {
        fprintf(stderr, "usage: bench_engine -m MODEL_DIR [--threads N] [--runs R] ...\n");
        return 2;
    }
    for (int k = 0; k < o.n_prompts; k++)
        if (o.prompts[k] + o.decode + 2 > o.max_length) {
            fprintf(stderr, "prompt %d + decode %d exceeds --max-length %d\n", o.prompts[k], o.decode, o.max_length);
            return 2;
        }
    if (engine) { /* child */
        result_t r = {0};
        int rc = !strcmp(engine, "ours")      ? run_ours(&o, &r, true)
               : !strcmp(engine, "ours-4k")   ? run_ours(&o, &r, false)
               : !strncmp(engine, "genai", 5) ? run_genai(&o, &r)
                                              : 2;
        if (rc) return rc;
        printf("RESULT %.1f", r.load_ms);
        for (int k = 0; k < o.n_prompts; k++) printf(" %.1f", r.ttft_ms[k]);
        printf(" %.3f %.1f\n", r.decode_tps, peak_rss_mb());
        return 0;
    }
    olm_genai_config cfg;
    olm_onnx_scan scan;
    onnxllm_error e = {0};
    if (olm_genai_config_load(o.model, &cfg, &e) || olm_onnx_scan_file(o.model, cfg.filename, &scan, &e)) {
        fprintf(stderr, "bench: %s\n", e.message);
        return 1;
    }
    o.vocab = cfg.vocab_size;
    olm_genai_config_free(&cfg);
    double wbytes = (double)(scan.total_bytes - scan.embedding_bytes);
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) return 1;
    self[sl] = 0;
    printf("model %s, %d threads, max_length %d, decode %d tokens, %d runs (engines rotate:", o.model, o.threads,
           o.max_length, o.decode, o.runs);
    for (int j = 0; j < n_eng; j++) printf(" %s", names[j]);
    printf(")\n");
    result_t res[4][16];
    int nres[4] = {0};
    double bw[64];
    int nbw = 0;
    for (int run = 0; run < o.runs && run < 16; run++) {
        for (int j = 0; j < n_eng; j++) {
            int which = (run + j) % n_eng; /* run 0: A, B, C; run 1: B, C, A; ... */
            result_t r;
            bw[nbw++] = read_bandwidth(o.threads);
            if (run_child(self, &o, names[which], &r)) {
                fprintf(stderr, "bench: %s child failed\n", names[which]);
                return 1;
            }
            res[which][nres[which]++] = r;
            printf("run %d %-9s load %7.0f ms  ttft", run + 1, names[which], r.load_ms);
            for (int k = 0; k < o.n_prompts; k++) printf(" %d:%8.0f ms", o.prompts[k], r.ttft_ms[k]);
            printf("  decode %6.2f tok/s  peak RSS %6.0f MB  (bw %.1f GB/s)\n", r.decode_tps, r.rss_mb, bw[nbw - 1]);
            fflush(stdout);
        }
    }
    double med_bw = median(bw, nbw);
    /* medians per engine; ratios: the first engine over each other one */
    printf("\n| metric |");
    for (int j = 0; j < n_eng; j++) printf(" %s |", names[j]);
    for (int j = 1; j < n_eng; j++) printf(" %s / %s |", names[0], names[j]);
    printf("\n|---|");
    for (int j = 0; j < 2 * n_eng - 1; j++) printf("---|");
    printf("\n");
    double v[16];
#define ROW(label, field, fmt, better_low)                                                              \
    do {                                                                                                \
        double m_[4];                                                                                   \
        for (int w = 0; w < n_eng; w++) {                                                               \
            for (int i = 0; i < nres[w]; i++) v[i] = res[w][i].field;                                   \
            m_[w] = median(v, nres[w]);                                                                 \
        }                                                                                               \
        printf("| %s%s |", label, better_low ? " (lower is better)" : " (higher is better)");          \
        for (int w = 0; w < n_eng; w++) printf(" " fmt " |", m_[w]);                                    \
        for (int w = 1; w < n_eng; w++) printf(" %.2f |", m_[0] / m_[w]);                               \
        printf("\n");                                                                                   \
    } while (0)
    ROW("load time (ms)", load_ms, "%.0f", 1);
    for (int k = 0; k < o.n_prompts; k++) {
        char label[64];
        snprintf(label, sizeof label, "time to first token, %d-token prompt (ms)", o.prompts[k]);
        ROW(label, ttft_ms[k], "%.0f", 1);
    }
    ROW("decode (tok/s)", decode_tps, "%.2f", 0);
    ROW("peak RSS (MB)", rss_mb, "%.0f", 1);
    double limit = med_bw * 1e9 / wbytes;
    for (int i = 0; i < nres[0]; i++) v[i] = res[0][i].decode_tps;
    double ours_tps = median(v, nres[0]);
    printf("\nmemory read bandwidth (median of %d, %d threads): %.1f GB/s; weight bytes per token: %.0f MB;\n"
           "decode limit = bandwidth / weight bytes = %.2f tok/s; %s reaches %.0f%% of it.\n",
           nbw, o.threads, med_bw, wbytes / 1e6, limit, names[0], 100.0 * ours_tps / limit);
    return 0;
}
