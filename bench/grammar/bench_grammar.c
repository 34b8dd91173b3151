/* bench_grammar.c — constrained-decoding timings (a program, not a test).
 *
 *   bench_grammar TOKENIZER_JSON DATA_DIR [SUBSET_K] [--compact]
 *
 * DATA_DIR holds MaskBench files ({schema, tests: [{data, valid}]}); every K-th
 * one (sorted by name) is used. One thread. Prints one JSON object:
 *   vocab_ms            building the per-tokenizer tables (once per tokenizer)
 *   compile_us_*        compiling each schema (p50/p90/p99/max over the schemas that compile)
 *   mask_us_*           every mask of every valid instance, token by token (compact
 *                       text, the Phi-4-mini tokenization), with a grammar that has
 *                       served no request yet ("cold": shared caches empty)
 *   mask_warm_us_*      the same instances again on the same grammars (the shared
 *                       per-grammar caches filled: a server that keeps grammars)
 *   accept_us_mean      advancing the matcher by a token
 *   *_cpu_us_*          the same, as CPU time of the thread (CLOCK_THREAD_CPUTIME_ID):
 *                       on a shared, loaded machine the wall times include time
 *                       the core spent on other processes
 * With BENCH_GRAMMAR_SLOW=US set, masks and compilations slower than US are listed on
 * stderr (file, token index). Compile errors are counted, not timed; scripts/bench-grammar.sh runs this under
 * the benchmark lock and MaskBench counts next to it. */
#include "grammar/grammar.h"
#include "common/fileio.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CPU time of this thread: what the work costs, without the time other processes
 * took the core (the machine is shared; wall times on a loaded one mostly measure
 * preemption) */
static double cpu_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

typedef struct dvec {
    double *v;
    size_t n, cap;
} dvec;

static void push(dvec *d, double x) {
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 1024;
        d->v = realloc(d->v, d->cap * sizeof *d->v);
        if (!d->v) exit(1);
    }
    d->v[d->n++] = x;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(dvec *d, double p) {
    if (!d->n) return 0;
    qsort(d->v, d->n, sizeof *d->v, cmpd);
    size_t i = (size_t)((double)d->n * p / 100.0);
    return d->v[i >= d->n ? d->n - 1 : i];
}

static int cmps(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_grammar TOKENIZER_JSON DATA_DIR [SUBSET_K] [--compact]\n");
        return 2;
    }
    int k = argc > 3 && argv[3][0] != '-' ? atoi(argv[3]) : 1;
    bool compact = argc > 3 && !strcmp(argv[argc - 1], "--compact");
    if (k < 1) k = 1;
    const char *slow_env = getenv("BENCH_GRAMMAR_SLOW");
    double slow = slow_env ? atof(slow_env) : 0;
    onnxllm_error e = {0};
    onnxllm_tokenizer *tok;
    if (onnxllm_tokenizer_load(argv[1], &tok, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    int32_t eos = onnxllm_tokenizer_token_to_id(tok, "<|end|>");
    double t0 = now_us();
    onnxllm_grammar_vocab *voc;
    if (onnxllm_grammar_vocab_create(tok, 200064, &eos, eos >= 0, &voc, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    double vocab_ms = (now_us() - t0) / 1000;
    DIR *dir = opendir(argv[2]);
    if (!dir) {
        fprintf(stderr, "%s: cannot open\n", argv[2]);
        return 1;
    }
    char **names = NULL;
    size_t nn = 0, cap = 0;
    for (struct dirent *de; (de = readdir(dir));) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 5, ".json")) continue;
        if (nn == cap) names = realloc(names, (cap = cap ? cap * 2 : 256) * sizeof *names);
        names[nn++] = strdup(de->d_name);
    }
    closedir(dir);
    qsort(names, nn, sizeof *names, cmps);
    dvec compile = {0}, mask = {0}, warm = {0}, accept = {0}, compile_cpu = {0}, mask_cpu = {0}, warm_cpu = {0};
    size_t schemas = 0, compiled = 0, instances = 0;
    size_t W = (size_t)(onnxllm_grammar_vocab_size(voc) + 31) / 32;
    uint32_t *mk = malloc(W * 4);
    onnxllm_grammar_params gp = onnxllm_grammar_default_params();
    if (compact) gp.whitespace = ONNXLLM_WS_COMPACT;
    for (size_t i = 0; i < nn; i += (size_t)k) {
        char *path = olm_path_join(argv[2], names[i]);
        cJSON *d = NULL;
        onnxllm_error le = {0};
        if (olm_load_json_file(path, &d, &le)) {
            free(path);
            continue;
        }
        free(path);
        schemas++;
        const cJSON *schema = cJSON_GetObjectItemCaseSensitive(d, "schema"), *tests = cJSON_GetObjectItemCaseSensitive(d, "tests");
        char *st = cJSON_PrintUnformatted(schema);
        onnxllm_grammar *g = NULL;
        double c0 = now_us(), cc0 = cpu_us();
        onnxllm_status s = st ? onnxllm_grammar_compile_json_schema(voc, st, strlen(st), &gp, &g, &le) : ONNXLLM_ERR_OUT_OF_MEMORY;
        double c1 = now_us(), cc1 = cpu_us();
        free(st);
        if (s) {
            cJSON_Delete(d);
            continue;
        }
        compiled++;
        push(&compile, c1 - c0);
        push(&compile_cpu, cc1 - cc0);
        if (slow > 0 && cc1 - cc0 > slow) fprintf(stderr, "slow compile %s %.0f us (cpu)\n", names[i], cc1 - cc0);
        for (int pass = 0; pass < 2; pass++) {
            const cJSON *t;
            cJSON_ArrayForEach(t, tests) {
                if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "valid"))) continue;
                char *text;
                size_t tl;
                if (!olm_json_canonical(cJSON_GetObjectItemCaseSensitive(t, "data"), &text, &tl)) continue;
                onnxllm_tokens ids = {0};
                onnxllm_matcher *m = NULL;
                if (!onnxllm_tokenizer_encode(tok, text, tl, 0, &ids, &le) && !onnxllm_matcher_create(g, &m, &le)) {
                    if (!pass) instances++;
                    for (size_t j = 0; j <= ids.len; j++) {
                        double m0 = now_us(), mc0 = cpu_us();
                        onnxllm_matcher_fill_mask(m, mk, W, NULL);
                        double m1 = now_us(), mc1 = cpu_us();
                        push(pass ? &warm : &mask, m1 - m0);
                        push(pass ? &warm_cpu : &mask_cpu, mc1 - mc0);
                        if (slow > 0 && !pass && mc1 - mc0 > slow)
                            fprintf(stderr, "slow mask %s token %zu %.0f us (cpu)\n", names[i], j, mc1 - mc0);
                        if (j == ids.len || !((mk[ids.ids[j] >> 5] >> (ids.ids[j] & 31)) & 1)) break;
                        double a0 = now_us();
                        if (onnxllm_matcher_accept(m, ids.ids[j], NULL)) break;
                        if (!pass) push(&accept, now_us() - a0);
                    }
                }
                onnxllm_matcher_free(m);
                onnxllm_tokens_free(&ids);
                free(text);
            }
        }
        onnxllm_grammar_free(g);
        cJSON_Delete(d);
    }
    double acc = 0;
    for (size_t i = 0; i < accept.n; i++) acc += accept.v[i];
    double msum = 0;
    for (size_t i = 0; i < mask.n; i++) msum += mask.v[i];
    printf("{\"tokenizer\":\"%s\",\"schemas\":%zu,\"compiled\":%zu,\"instances\":%zu,\"whitespace\":\"%s\",\"vocab_ms\":%.1f,"
           "\"compile_us_p50\":%.0f,\"compile_us_p90\":%.0f,\"compile_us_p99\":%.0f,\"compile_us_max\":%.0f,"
           "\"masks\":%zu,\"mask_us_mean\":%.1f,\"mask_us_p50\":%.1f,\"mask_us_p90\":%.1f,\"mask_us_p99\":%.1f,\"mask_us_max\":%.0f,"
           "\"mask_warm_us_p50\":%.1f,\"mask_warm_us_p99\":%.1f,\"mask_warm_us_max\":%.0f,\"accept_us_mean\":%.2f,"
           "\"compile_cpu_us_p50\":%.0f,\"compile_cpu_us_p90\":%.0f,\"compile_cpu_us_p99\":%.0f,\"compile_cpu_us_max\":%.0f,"
           "\"mask_cpu_us_p50\":%.1f,\"mask_cpu_us_p90\":%.1f,\"mask_cpu_us_p99\":%.1f,\"mask_cpu_us_max\":%.0f,"
           "\"mask_warm_cpu_us_p50\":%.1f,\"mask_warm_cpu_us_p99\":%.1f,\"mask_warm_cpu_us_max\":%.0f}\n",
           argv[1], schemas, compiled, instances, compact ? "compact" : "flexible", vocab_ms, pct(&compile, 50),
           pct(&compile, 90), pct(&compile, 99), pct(&compile, 100), mask.n, mask.n ? msum / (double)mask.n : 0,
           pct(&mask, 50), pct(&mask, 90), pct(&mask, 99), pct(&mask, 100), pct(&warm, 50), pct(&warm, 99),
           pct(&warm, 100), accept.n ? acc / (double)accept.n : 0, pct(&compile_cpu, 50), pct(&compile_cpu, 90),
           pct(&compile_cpu, 99), pct(&compile_cpu, 100), pct(&mask_cpu, 50), pct(&mask_cpu, 90), pct(&mask_cpu, 99),
           pct(&mask_cpu, 100), pct(&warm_cpu, 50), pct(&warm_cpu, 99), pct(&warm_cpu, 100));
    for (size_t i = 0; i < nn; i++) free(names[i]);
    free(names);
    free(mk);
    free(compile.v);
    free(mask.v);
    free(warm.v);
    free(accept.v);
    free(compile_cpu.v);
    free(mask_cpu.v);
    free(warm_cpu.v);
    onnxllm_grammar_vocab_free(voc);
    onnxllm_tokenizer_free(tok);
    return 0;
}
