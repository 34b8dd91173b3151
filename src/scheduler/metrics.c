/* metrics.c — the scheduler's Prometheus metrics, under vLLM's names and buckets so
 * that dashboards and LLM-aware routers (llm-d, the Gateway API inference extension,
 * vLLM's production-stack) read them unchanged. */
#include "scheduler/sched.h"
#include "common/error.h"
#include "common/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double ttft_b[] = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
                                1.0,   2.5,   5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
static const double itl_b[] = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
                               0.75, 1.0,   2.5,  5.0,   7.5, 10.0, 20.0, 40.0, 80.0};
static const double e2e_b[] = {0.3,  0.5,  0.8,  1.0,  1.5,  2.0,  2.5,   5.0,   10.0,  15.0,  20.0,
                               30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

static void hist_init(olm_hist *h, const double *b, int n) {
    memset(h, 0, sizeof *h);
    if (n > OLM_HIST_MAX) n = OLM_HIST_MAX;
    h->n = n;
    memcpy(h->le, b, (size_t)n * sizeof *b);
}

/* vLLM's build_1_2_5_buckets(max_model_len) for token counts. */
static void hist_125(olm_hist *h, int max) {
    memset(h, 0, sizeof *h);
    static const int m[] = {1, 2, 5};
    for (double e = 1; h->n < OLM_HIST_MAX; e *= 10)
        for (int i = 0; i < 3 && h->n < OLM_HIST_MAX; i++) {
            double v = m[i] * e;
            if (v > max) return;
            h->le[h->n++] = v;
        }
}

void olm_metrics_init(olm_metrics *mt, int max_length) {
    memset(mt, 0, sizeof *mt);
    hist_init(&mt->h[OLM_H_TTFT], ttft_b, (int)(sizeof ttft_b / sizeof *ttft_b));
    hist_init(&mt->h[OLM_H_ITL], itl_b, (int)(sizeof itl_b / sizeof *itl_b));
    hist_init(&mt->h[OLM_H_E2E], e2e_b, (int)(sizeof e2e_b / sizeof *e2e_b));
    hist_init(&mt->h[OLM_H_QUEUE], e2e_b, (int)(sizeof e2e_b / sizeof *e2e_b));
    hist_125(&mt->h[OLM_H_PROMPT], max_length);
    hist_125(&mt->h[OLM_H_GEN], max_length);
}

void olm_hist_add(olm_hist *h, double v) {
    int i = 0;
    while (i < h->n && v > h->le[i]) i++;
    h->count[i]++;
    h->sum += v;
    h->total++;
}

static void pf(olm_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pf(olm_sb *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) olm_sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Prometheus label values escape \, " and newline. */
static void label(olm_sb *b, const char *v) {
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == '"') pf(b, "\\%c", *p);
        else if (*p == '\n') olm_sb_puts(b, "\\n");
        else olm_sb_putc(b, *p);
    }
}

static void head(olm_sb *b, const char *name, const char *type, const char *help) {
    pf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(olm_sb *b, const char *name, const char *model, const char *extra, double v) {
    pf(b, "%s{model_name=\"", name);
    label(b, model);
    pf(b, "\"%s%s} %.17g\n", extra ? "," : "", extra ? extra : "", v);
}

static void hist(olm_sb *b, const char *name, const char *help, const olm_hist *h, const char *model) {
    head(b, name, "histogram", help);
    char n[128], le[64];
    snprintf(n, sizeof n, "%s_bucket", name);
    uint64_t cum = 0;
    for (int i = 0; i <= h->n; i++) {
        cum += h->count[i];
        if (i < h->n) snprintf(le, sizeof le, "le=\"%g\"", h->le[i]);
        else snprintf(le, sizeof le, "le=\"+Inf\"");
        sample(b, n, model, le, (double)cum);
    }
    snprintf(n, sizeof n, "%s_sum", name);
    sample(b, n, model, NULL, h->sum);
    snprintf(n, sizeof n, "%s_count", name);
    sample(b, n, model, NULL, (double)h->total);
}

onnxllm_status onnxllm_scheduler_metrics(onnxllm_scheduler *s, const char *model_name, onnxllm_string *out,
                                         onnxllm_error *err) {
    if (!s || !out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "metrics: no scheduler or output");
    const char *model = model_name ? model_name : "";
    onnxllm_scheduler_stats st;
    onnxllm_scheduler_get_stats(s, &st);
    olm_metrics mt;
    pthread_mutex_lock(&s->mu);
    mt = s->mt;
    pthread_mutex_unlock(&s->mu);
    olm_sb b = {0};
    head(&b, "vllm:num_requests_running", "gauge", "Number of requests in model execution batches.");
    sample(&b, "vllm:num_requests_running", model, NULL, st.running);
    head(&b, "vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.");
    sample(&b, "vllm:num_requests_waiting", model, NULL, st.waiting);
    head(&b, "vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.");
    sample(&b, "vllm:kv_cache_usage_perc", model, NULL,
           st.kv_budget_bytes ? (double)st.kv_bytes / (double)st.kv_budget_bytes : 0.0);
    head(&b, "vllm:prefix_cache_queries", "counter", "Prefix cache queries, in terms of number of queried tokens.");
    sample(&b, "vllm:prefix_cache_queries", model, NULL, (double)st.prefix_queries);
    head(&b, "vllm:prefix_cache_hits", "counter", "Prefix cache hits, in terms of number of cached tokens.");
    sample(&b, "vllm:prefix_cache_hits", model, NULL, (double)st.prefix_hits);
    head(&b, "vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.");
    sample(&b, "vllm:prompt_tokens_total", model, NULL, (double)st.prompt_tokens);
    head(&b, "vllm:generation_tokens_total", "counter", "Number of generation tokens processed.");
    sample(&b, "vllm:generation_tokens_total", model, NULL, (double)st.generation_tokens);
    head(&b, "vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.");
    sample(&b, "vllm:num_preemptions_total", model, NULL, 0); /* running requests are never preempted */
    head(&b, "vllm:request_success_total", "counter", "Count of successfully processed requests.");
    sample(&b, "vllm:request_success_total", model, "finished_reason=\"stop\"", (double)mt.finished_stop);
    sample(&b, "vllm:request_success_total", model, "finished_reason=\"length\"", (double)mt.finished_length);
    sample(&b, "vllm:request_success_total", model, "finished_reason=\"abort\"", (double)mt.finished_abort);
    head(&b, "onnxllm:request_failures_total", "counter", "Requests that ended with an engine error.");
    sample(&b, "onnxllm:request_failures_total", model, NULL, (double)mt.finished_error);
    head(&b, "onnxllm:requests_refused_total", "counter", "Requests refused because the queue was full.");
    sample(&b, "onnxllm:requests_refused_total", model, NULL, (double)st.requests_refused);
    head(&b, "onnxllm:prefix_cache_disk_loads_total", "counter", "Prefixes loaded from the persistent cache.");
    sample(&b, "onnxllm:prefix_cache_disk_loads_total", model, NULL, (double)st.disk_loads);
    head(&b, "onnxllm:prefix_cache_disk_writes_total", "counter", "Prefixes written to the persistent cache.");
    sample(&b, "onnxllm:prefix_cache_disk_writes_total", model, NULL, (double)st.disk_writes);
    head(&b, "onnxllm:num_slots_cached", "gauge", "Idle slots holding a cached prefix.");
    sample(&b, "onnxllm:num_slots_cached", model, NULL, st.cached);
    /* Cache geometry for prefix-aware routers: our cache is token-granular; blocks of
     * 16 tokens (vLLM's default) describe its capacity. */
    head(&b, "vllm:cache_config_info", "gauge", "Information of the KV cache.");
    char info[160];
    snprintf(info, sizeof info, "block_size=\"16\",num_gpu_blocks=\"%llu\",num_slots=\"%d\"",
             (unsigned long long)(s->budget_pos / 16), st.n_slots);
    sample(&b, "vllm:cache_config_info", model, info, 1);
    hist(&b, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", &mt.h[OLM_H_TTFT],
         model);
    hist(&b, "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", &mt.h[OLM_H_ITL],
         model);
    hist(&b, "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", &mt.h[OLM_H_E2E],
         model);
    hist(&b, "vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.",
         &mt.h[OLM_H_QUEUE], model);
    hist(&b, "vllm:request_prompt_tokens", "Number of prefill tokens processed.", &mt.h[OLM_H_PROMPT], model);
    hist(&b, "vllm:request_generation_tokens", "Number of generation tokens processed.", &mt.h[OLM_H_GEN], model);
    if (b.oom) {
        olm_sb_free(&b);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "metrics: out of memory");
    }
    size_t need = out->len + b.len + 1;
    if (need > out->cap) {
        char *d = realloc(out->data, need);
        if (!d) {
            olm_sb_free(&b);
            return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "metrics: out of memory");
        }
        out->data = d;
        out->cap = need;
    }
    memcpy(out->data + out->len, b.p, b.len);
    out->len += b.len;
    out->data[out->len] = 0;
    olm_sb_free(&b);
    return ONNXLLM_OK;
}
