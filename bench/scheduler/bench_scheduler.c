/* bench_scheduler — the scheduler's numbers on one model (a program, not a test).
 *
 *   bench_scheduler -m DIR [--threads N] [--chunk N] SCENARIO [options]
 *
 * Scenarios (each prints one JSON line per measurement):
 *   streams  [--streams 1,2,4,8] [--decode 32] [--prompt 16]
 *            aggregate decode tok/s of N concurrent greedy streams, per-stream
 *            inter-token latency; ratio to 1 stream
 *   agent    [--prefix 3000] [--turn 100] [--answer 16] [--cache-dir DIR]
 *            TTFT of an agent's turn 2 (prefix + turn 1 + answer + ~turn new tokens)
 *            with the prefix cache vs computing it from scratch; a second agent with
 *            the same prefix arriving while the first decodes; with --cache-dir, turn 2
 *            after a restart (the scheduler freed and created again)
 *   interfere [--streams 3] [--long 2000]
 *            decode rate of N streams while a long prompt is computed vs alone, and
 *            the long prompt's time vs alone
 *   rss      [--streams 4] [--tokens 2000]
 *            peak RSS after N streams hold `tokens` tokens each (run once per N in a
 *            fresh process: VmHWM is process-wide)
 * Prompts are deterministic pseudo-random ids (the model has random weights). */
#include "onnxllm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long vm_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t k = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, k)) v = atol(line + k + 1);
    if (f) fclose(f);
    return v;
}

static int g_vocab = 200000;

static void ids(int32_t *p, int n, int salt) {
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(salt + 1);
    int lo = g_vocab > 2000 ? 1000 : 3, span = g_vocab > 160000 ? 150000 : g_vocab - lo - 1;
    for (int i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        p[i] = (int32_t)(lo + (int)(x % (uint64_t)span));
    }
}

typedef struct stream {
    atomic_int n;
    double t_first, t_last;
    double gaps_ms;               /* sum of inter-token gaps */
    int32_t toks[4096];
} stream;

static bool on_tok(int32_t t, void *u) {
    stream *s = u;
    double now = now_ms();
    int k = atomic_load(&s->n);
    if (k < 4096) s->toks[k] = t;
    if (k == 0) s->t_first = now;
    else s->gaps_ms += now - s->t_last;
    s->t_last = now;
    atomic_store(&s->n, k + 1);
    return true;
}

static onnxllm_scheduler *make_sched(onnxllm_model *m, int slots, int chunk, const char *cache_dir) {
    onnxllm_scheduler_params p = onnxllm_scheduler_default_params();
    p.n_slots = slots;
    p.prefill_chunk = chunk;
    p.cache_dir = cache_dir;
    onnxllm_scheduler *s = NULL;
    onnxllm_error e = {0};
    if (onnxllm_scheduler_create(m, &p, &s, &e)) {
        fprintf(stderr, "bench_scheduler: %s\n", e.message);
        exit(1);
    }
    return s;
}

static onnxllm_request *go(onnxllm_scheduler *s, const int32_t *prompt, int n, int max_new, stream *st) {
    onnxllm_request_params p = onnxllm_request_default_params();
    p.prompt = prompt;
    p.n_prompt = (size_t)n;
    p.max_new_tokens = max_new;
    p.sampler.ignore_eos = true; /* fixed lengths */
    p.on_token = on_tok;
    p.user = st;
    onnxllm_request *r = NULL;
    onnxllm_error e = {0};
    if (onnxllm_scheduler_submit(s, &p, &r, &e)) {
        fprintf(stderr, "bench_scheduler: submit: %s\n", e.message);
        exit(1);
    }
    return r;
}

static onnxllm_request_result finish(onnxllm_request *r) {
    onnxllm_request_result res;
    onnxllm_request_wait(r, &res);
    onnxllm_request_free(r);
    if (res.status) {
        fprintf(stderr, "bench_scheduler: request failed: %s\n", res.error.message);
        exit(1);
    }
    return res;
}

/* ---- streams ---------------------------------------------------------------------------*/
static void streams(onnxllm_model *m, int chunk, const char *list, int decode, int plen) {
    double base = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tk = strtok(buf, ","); tk; tk = strtok(NULL, ",")) {
        int n = atoi(tk);
        if (n < 1 || n > 64) continue;
        onnxllm_scheduler *s = make_sched(m, n, chunk, NULL);
        stream *st = calloc((size_t)n, sizeof *st);
        onnxllm_request **r = calloc((size_t)n, sizeof *r);
        int32_t prompt[256];
        for (int i = 0; i < n; i++) {
            ids(prompt, plen, 100 + i);
            r[i] = go(s, prompt, plen, decode, &st[i]);
        }
        for (int i = 0; i < n; i++) finish(r[i]);
        /* steady state: from the last stream's first token to the first stream's last */
        double t0 = 0, t1 = 1e300, gaps = 0;
        int ng = 0;
        long tok = 0;
        for (int i = 0; i < n; i++) {
            if (st[i].t_first > t0) t0 = st[i].t_first;
            if (st[i].t_last < t1) t1 = st[i].t_last;
            gaps += st[i].gaps_ms;
            ng += atomic_load(&st[i].n) - 1;
        }
        /* tokens inside [t0, t1] counted by interpolating each stream's rate */
        for (int i = 0; i < n; i++) {
            double rate = (atomic_load(&st[i].n) - 1) / (st[i].t_last - st[i].t_first);
            tok += (long)(rate * (t1 - t0) + 0.5);
        }
        double agg = t1 > t0 ? tok / ((t1 - t0) / 1e3) : 0;
        if (n == 1 || base == 0) base = agg;
        printf("{\"scenario\":\"streams\",\"streams\":%d,\"aggregate_tok_s\":%.2f,\"ratio_to_1\":%.2f,"
               "\"itl_ms\":%.1f}\n",
               n, agg, base ? agg / base : 0, ng ? gaps / ng : 0);
        fflush(stdout);
        onnxllm_scheduler_free(s);
        free(st);
        free(r);
    }
}

/* ---- agent ------------------------------------------------------------------------------*/
static void agent(onnxllm_model *m, int chunk, int prefix, int turn, int answer, const char *cache_dir) {
    int cap = prefix + 3 * turn + 3 * answer + 64;
    int32_t *t1 = malloc((size_t)cap * 4), *t2 = malloc((size_t)cap * 4), *b2 = malloc((size_t)cap * 4);
    ids(t1, prefix, 1);                      /* system + tools */
    ids(t1 + prefix, 50, 2);                 /* first user message */
    int n1 = prefix + 50;
    stream st1 = {0}, st2 = {0}, st3 = {0}, stb = {0};
    /* warm: turn 1 then turn 2 */
    onnxllm_scheduler *s = make_sched(m, 4, chunk, cache_dir);
    onnxllm_request_result r1 = finish(go(s, t1, n1, answer, &st1));
    memcpy(t2, t1, (size_t)n1 * 4);
    memcpy(t2 + n1, st1.toks, (size_t)answer * 4);
    ids(t2 + n1 + answer, turn, 3);
    int n2 = n1 + answer + turn;
    onnxllm_request_result r2 = finish(go(s, t2, n2, answer, &st2));
    printf("{\"scenario\":\"agent\",\"what\":\"turn 1 (prefix computed)\",\"prompt\":%d,\"cached\":%d,"
           "\"ttft_ms\":%.0f}\n", n1, r1.n_cached, r1.ttft_ms);
    printf("{\"scenario\":\"agent\",\"what\":\"turn 2, cache\",\"prompt\":%d,\"cached\":%d,\"ttft_ms\":%.0f}\n", n2,
           r2.n_cached, r2.ttft_ms);
    fflush(stdout);
    /* a second agent, same prefix, arriving while the first decodes its turn 3 */
    memcpy(b2, t1, (size_t)prefix * 4);
    ids(b2 + prefix, turn, 4);
    int nb = prefix + turn;
    stream st4 = {0};
    onnxllm_request *busy = go(s, t2, n2, 4 * answer, &st4);
    while (atomic_load(&st4.n) < 1) usleep(1000);
    onnxllm_request_result rb = finish(go(s, b2, nb, answer, &stb));
    finish(busy);
    printf("{\"scenario\":\"agent\",\"what\":\"second agent, same prefix, first busy\",\"prompt\":%d,\"cached\":%d,"
           "\"ttft_ms\":%.0f,\"ratio_to_turn1\":%.3f}\n",
           nb, rb.n_cached, rb.ttft_ms, rb.ttft_ms / r1.ttft_ms);
    fflush(stdout);
    onnxllm_scheduler_free(s);
    /* cold: turn 2 with nothing cached */
    s = make_sched(m, 4, chunk, NULL);
    stream stc = {0};
    onnxllm_request_result rc = finish(go(s, t2, n2, answer, &stc));
    onnxllm_scheduler_free(s);
    printf("{\"scenario\":\"agent\",\"what\":\"turn 2, no cache\",\"prompt\":%d,\"cached\":%d,\"ttft_ms\":%.0f,"
           "\"speedup_with_cache\":%.1f}\n",
           n2, rc.n_cached, rc.ttft_ms, rc.ttft_ms / r2.ttft_ms);
    fflush(stdout);
    if (cache_dir) {
        /* restart: the first scheduler wrote its idle slots at exit; a new one loads */
        s = make_sched(m, 4, chunk, cache_dir);
        onnxllm_request_result rr = finish(go(s, t2, n2, answer, &st3));
        onnxllm_scheduler_free(s);
        printf("{\"scenario\":\"agent\",\"what\":\"turn 2 after a restart, cache_dir\",\"prompt\":%d,\"cached\":%d,"
               "\"ttft_ms\":%.0f,\"ratio_to_warm\":%.2f}\n",
               n2, rr.n_cached, rr.ttft_ms, rr.ttft_ms / r2.ttft_ms);
    }
    free(t1), free(t2), free(b2);
}

/* ---- interfere ---------------------------------------------------------------------------*/
static double rate_between(const stream *st, double a, double b) {
    /* tokens of st whose time falls in [a, b]: from the stream's average rate */
    double r = (atomic_load(&st->n) - 1) / (st->t_last - st->t_first);
    (void)a, (void)b;
    return r * 1e3;
}

static void interfere(onnxllm_model *m, int chunk, int n, int longp) {
    int32_t prompt[64];
    int32_t *lp = malloc((size_t)longp * 4);
    ids(lp, longp, 77);
    /* alone: the long prompt */
    onnxllm_scheduler *s = make_sched(m, n + 1, chunk, NULL);
    stream sl = {0};
    onnxllm_request_result alone = finish(go(s, lp, longp, 1, &sl));
    onnxllm_scheduler_free(s);
    /* alone: n streams decoding */
    s = make_sched(m, n + 1, chunk, NULL);
    stream *st = calloc((size_t)n, sizeof *st);
    onnxllm_request **r = calloc((size_t)n, sizeof *r);
    for (int i = 0; i < n; i++) {
        ids(prompt, 16, 200 + i);
        r[i] = go(s, prompt, 16, 24, &st[i]);
    }
    double solo = 0;
    for (int i = 0; i < n; i++) finish(r[i]), solo += rate_between(&st[i], 0, 0) / n;
    /* together: the streams decode while the long prompt is computed */
    memset(st, 0, (size_t)n * sizeof *st);
    for (int i = 0; i < n; i++) {
        ids(prompt, 16, 300 + i);
        r[i] = go(s, prompt, 16, 4096 - 64, &st[i]);
    }
    while (atomic_load(&st[n - 1].n) < 2) usleep(1000);
    int before[64];
    double t0 = now_ms();
    for (int i = 0; i < n; i++) before[i] = atomic_load(&st[i].n);
    stream sl2 = {0};
    onnxllm_request_result with = finish(go(s, lp, longp, 1, &sl2));
    double t1 = now_ms();
    double during = 0;
    for (int i = 0; i < n; i++) during += (atomic_load(&st[i].n) - before[i]) / ((t1 - t0) / 1e3) / n;
    for (int i = 0; i < n; i++) onnxllm_request_cancel(r[i]);
    for (int i = 0; i < n; i++) onnxllm_request_free(r[i]);
    onnxllm_scheduler_free(s);
    printf("{\"scenario\":\"interfere\",\"streams\":%d,\"long_prompt\":%d,\"chunk\":%d,"
           "\"stream_tok_s_alone\":%.2f,\"stream_tok_s_during\":%.2f,\"kept\":%.2f,"
           "\"long_ttft_ms_alone\":%.0f,\"long_ttft_ms_with_streams\":%.0f,\"long_slowdown\":%.2f}\n",
           n, longp, chunk, solo, during, during / solo, alone.ttft_ms, with.ttft_ms, with.ttft_ms / alone.ttft_ms);
    free(lp), free(st), free(r);
}

/* ---- rss --------------------------------------------------------------------------------*/
static void rss(onnxllm_model *m, int chunk, int n, int tokens) {
    long loaded = vm_kb("VmRSS:");
    onnxllm_scheduler *s = make_sched(m, n, chunk, NULL);
    stream *st = calloc((size_t)n, sizeof *st);
    onnxllm_request **r = calloc((size_t)n, sizeof *r);
    int32_t *p = malloc((size_t)tokens * 4);
    for (int i = 0; i < n; i++) {
        ids(p, tokens - 8, 400 + i);
        r[i] = go(s, p, tokens - 8, 8, &st[i]);
    }
    for (int i = 0; i < n; i++) finish(r[i]);
    onnxllm_scheduler_stats ss;
    onnxllm_scheduler_get_stats(s, &ss);
    printf("{\"scenario\":\"rss\",\"streams\":%d,\"tokens_each\":%d,\"rss_after_load_mb\":%ld,"
           "\"peak_rss_mb\":%ld,\"kv_mb\":%.0f}\n",
           n, tokens, loaded / 1024, vm_kb("VmHWM:") / 1024, ss.kv_bytes / 1048576.0);
    onnxllm_scheduler_free(s);
    free(st), free(r), free(p);
}

int main(int argc, char **argv) {
    const char *dir = NULL, *scenario = NULL, *list = "1,2,4,8", *cache_dir = NULL;
    int threads = 2, chunk = 0, decode = 32, plen = 16, prefix = 3000, turn = 100, answer = 16, nstreams = -1,
        longp = 2000, tokens = 2000, ctx = 4096;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (!strcmp(a, name) && v && ++i)
        if (OPT("-m")) dir = v;
        else if (OPT("--threads")) threads = atoi(v);
        else if (OPT("--chunk")) chunk = atoi(v);
        else if (OPT("--streams")) list = v, nstreams = atoi(v);
        else if (OPT("--decode")) decode = atoi(v);
        else if (OPT("--prompt")) plen = atoi(v);
        else if (OPT("--prefix")) prefix = atoi(v);
        else if (OPT("--turn")) turn = atoi(v);
        else if (OPT("--answer")) answer = atoi(v);
        else if (OPT("--cache-dir")) cache_dir = v;
        else if (OPT("--long")) longp = atoi(v);
        else if (OPT("--tokens")) tokens = atoi(v);
        else if (OPT("--ctx")) ctx = atoi(v);
        else if (a[0] != '-') scenario = a;
        else {
            fprintf(stderr, "bench_scheduler: unknown option %s\n", a);
            return 2;
        }
#undef OPT
    }
    if (!dir || !scenario) {
        fprintf(stderr, "usage: bench_scheduler -m DIR [--threads N] [--chunk N] [--ctx N] "
                        "streams|agent|interfere|rss [options]\n");
        return 2;
    }
    onnxllm_model_params mp = onnxllm_model_default_params();
    mp.n_threads = threads;
    mp.max_length = ctx;
    mp.hugepages = true;
    onnxllm_model *m = NULL;
    onnxllm_error e = {0};
    double t0 = now_ms();
    if (onnxllm_model_load(dir, &mp, &m, &e)) {
        fprintf(stderr, "bench_scheduler: %s\n", e.message);
        return 1;
    }
    g_vocab = onnxllm_model_vocab_size(m);
    fprintf(stderr, "bench_scheduler: loaded %s in %.1f s, %d threads\n", dir, (now_ms() - t0) / 1e3, threads);
    if (!strcmp(scenario, "streams")) streams(m, chunk, list, decode, plen);
    else if (!strcmp(scenario, "agent")) agent(m, chunk, prefix, turn, answer, cache_dir);
    else if (!strcmp(scenario, "interfere")) interfere(m, chunk, nstreams > 0 ? nstreams : 3, longp);
    else if (!strcmp(scenario, "rss")) rss(m, chunk, nstreams > 0 ? nstreams : 4, tokens);
    else {
        fprintf(stderr, "bench_scheduler: unknown scenario %s\n", scenario);
        return 2;
    }
    onnxllm_model_free(m);
    return 0;
}
