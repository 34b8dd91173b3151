/* bench_tokenizer.c — tokenizer speed and memory, single thread.
 *
 *   bench_tokenizer TOKENIZER.json CORPUS.jsonl BIG.txt [SECONDS]
 * Prints one JSON object: load time (best and median of 5), resident memory of a
 * loaded tokenizer (VmRSS after load minus before), and encode throughput
 * (MB/s of UTF-8 input, tokens/s) over the corpus lines (one call per line) and
 * over BIG.txt cut at line ends into ~4 KB chunks (one call per chunk) — the same
 * inputs bench_hf.mjs feeds HF tokenizers. Times are given twice: wall clock and
 * this process's CPU time (the *_cpu fields), which other load on a shared
 * machine disturbs much less. */
#include "onnxllm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU time of this process: on a shared machine it is far steadier than wall time */
static double cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) v = atol(line + 6);
    if (f) fclose(f);
    return v;
}

typedef struct { char *p; size_t len; } span;
typedef struct { span *v; size_t n, cap; size_t bytes; } spans;

static void push(spans *s, char *p, size_t len) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = (span){p, len};
    s->bytes += len;
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    char *b = malloc(*n + 1);
    if (fread(b, 1, *n, f) != *n) exit(1);
    b[*n] = 0;
    fclose(f);
    return b;
}

/* JSON string lines → raw strings (same unescaping as the CLI; enough for the corpus) */
static size_t unjson(const char *s, char *o) {
    size_t k = 0;
    for (s++; *s && *s != '"'; s++) {
        if (*s != '\\') { o[k++] = *s; continue; }
        s++;
        switch (*s) {
        case 'n': o[k++] = '\n'; break;
        case 't': o[k++] = '\t'; break;
        case 'r': o[k++] = '\r'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'u': {
            unsigned v = 0, w = 0;
            sscanf(s + 1, "%4x", &v);
            s += 4;
            if (v >= 0xD800 && v < 0xDC00 && s[1] == '\\' && s[2] == 'u') {
                sscanf(s + 3, "%4x", &w);
                v = 0x10000 + ((v - 0xD800) << 10) + (w - 0xDC00);
                s += 6;
            }
            if (v < 0x80) o[k++] = (char)v;
            else if (v < 0x800) { o[k++] = (char)(0xC0 | (v >> 6)); o[k++] = (char)(0x80 | (v & 63)); }
            else if (v < 0x10000) { o[k++] = (char)(0xE0 | (v >> 12)); o[k++] = (char)(0x80 | ((v >> 6) & 63)); o[k++] = (char)(0x80 | (v & 63)); }
            else { o[k++] = (char)(0xF0 | (v >> 18)); o[k++] = (char)(0x80 | ((v >> 12) & 63)); o[k++] = (char)(0x80 | ((v >> 6) & 63)); o[k++] = (char)(0x80 | (v & 63)); }
            break;
        }
        default: o[k++] = *s;
        }
    }
    return k;
}

static void run(const onnxllm_tokenizer *t, const spans *in, double secs, double *mbs, double *tps, size_t *ntok,
                double *mbs_cpu) {
    onnxllm_tokens ids = {0};
    onnxllm_error err = {0};
    size_t reps = 0, toks = 0;
    double t0 = now(), c0 = cpu(), el;
    do {
        for (size_t i = 0; i < in->n; i++) {
            ids.len = 0;
            onnxllm_tokenizer_encode(t, in->v[i].p, in->v[i].len, ONNXLLM_TOKENIZE_PARSE_SPECIAL, &ids, &err);
            toks += ids.len;
        }
        reps++;
        el = now() - t0;
    } while (el < secs);
    *mbs = (double)in->bytes * (double)reps / el / 1e6;
    *mbs_cpu = (double)in->bytes * (double)reps / (cpu() - c0) / 1e6;
    *tps = (double)toks / el;
    *ntok = toks / reps;
    onnxllm_tokens_free(&ids);
}

static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s TOKENIZER.json CORPUS.jsonl BIG.txt [SECONDS]\n", argv[0]);
        return 2;
    }
    double secs = argc > 4 ? atof(argv[4]) : 3.0;
    long rss0 = rss_kb();
    onnxllm_error err = {0};
    onnxllm_tokenizer *keep = NULL;
    double t0 = now();
    if (onnxllm_tokenizer_load(argv[1], &keep, &err)) { fprintf(stderr, "%s\n", err.message); return 1; }
    double loads[5], cloads[5];
    loads[0] = now() - t0;
    long rss1 = rss_kb();
    for (int i = 1; i < 5; i++) {
        onnxllm_tokenizer *t;
        t0 = now();
        double c0 = cpu();
        onnxllm_tokenizer_load(argv[1], &t, &err);
        loads[i] = now() - t0;
        cloads[i] = cpu() - c0;
        onnxllm_tokenizer_free(t);
    }
    cloads[0] = cloads[1];
    qsort(loads, 5, sizeof *loads, cmpd);
    qsort(cloads, 5, sizeof *cloads, cmpd);

    size_t cn, bn;
    char *corpus = slurp(argv[2], &cn), *big = slurp(argv[3], &bn);
    spans lines = {0}, chunks = {0};
    char *store = malloc(cn + 1);
    size_t so = 0;
    for (char *l = strtok(corpus, "\n"); l; l = strtok(NULL, "\n")) {
        size_t k = unjson(l, store + so);
        push(&lines, store + so, k);
        so += k;
    }
    for (size_t i = 0; i < bn;) {
        size_t j = i + 4096 < bn ? i + 4096 : bn;
        while (j < bn && big[j - 1] != '\n') j++;
        push(&chunks, big + i, j - i);
        i = j;
    }
    double cm, ct, bm, bt, cmc, bmc;
    size_t ctok, btok;
    run(keep, &lines, secs, &cm, &ct, &ctok, &cmc);
    run(keep, &chunks, secs, &bm, &bt, &btok, &bmc);
    printf("{\"impl\":\"onnxllm\",\"load_ms_best\":%.1f,\"load_ms_median\":%.1f,\"load_cpu_ms_median\":%.1f,\"rss_mb\":%.1f,"
           "\"corpus_bytes\":%zu,\"corpus_tokens\":%zu,\"corpus_mb_s\":%.2f,\"corpus_tok_s\":%.0f,\"corpus_mb_s_cpu\":%.2f,"
           "\"big_bytes\":%zu,\"big_tokens\":%zu,\"big_mb_s\":%.2f,\"big_tok_s\":%.0f,\"big_mb_s_cpu\":%.2f}\n",
           loads[0] * 1e3, loads[2] * 1e3, cloads[2] * 1e3, (double)(rss1 - rss0) / 1024.0, lines.bytes, ctok, cm, ct, cmc,
           chunks.bytes, btok, bm, bt, bmc);
    onnxllm_tokenizer_free(keep);
    free(lines.v);
    free(chunks.v);
    free(store);
    free(corpus);
    free(big);
    return 0;
}
