/* metrics.c — see metrics.h. One mutex: updates are a few per token at most. */
#include "server/metrics.h"
#include "server/jsonw.h"

#include <stdio.h>
#include <string.h>

static const double LAT_BOUNDS[] = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0,
                                    2.5,   5.0,   7.5,  10,   20,   40,   80,   160, 640, 2560};
static const double TOK_BOUNDS[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 131072};

static void hist_init(srv_hist *h, const double *b, int n) {
    memset(h, 0, sizeof *h);
    h->bounds = b;
    h->n = n;
}

static void hist_add(srv_hist *h, double v) {
    int i = 0;
    while (i < h->n && v > h->bounds[i]) i++;
    h->counts[i]++;
    h->sum += v;
    h->total++;
}

void met_init(srv_metrics *m) {
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    int nl = (int)(sizeof LAT_BOUNDS / sizeof *LAT_BOUNDS), nt = (int)(sizeof TOK_BOUNDS / sizeof *TOK_BOUNDS);
    hist_init(&m->ttft, LAT_BOUNDS, nl);
    hist_init(&m->itl, LAT_BOUNDS, nl);
    hist_init(&m->e2e, LAT_BOUNDS, nl);
    hist_init(&m->queue, LAT_BOUNDS, nl);
    hist_init(&m->prompt_len, TOK_BOUNDS, nt);
    hist_init(&m->gen_len, TOK_BOUNDS, nt);
}

void met_destroy(srv_metrics *m) { pthread_mutex_destroy(&m->lock); }

void met_token_gap(srv_metrics *m, double s) {
    pthread_mutex_lock(&m->lock);
    hist_add(&m->itl, s);
    pthread_mutex_unlock(&m->lock);
}

void met_request(srv_metrics *m, const char *reason, int n_prompt, int n_cached, int n_generated, double queue_s,
                 double ttft_s, double e2e_s) {
    pthread_mutex_lock(&m->lock);
    m->prompt_tokens += (uint64_t)n_prompt;
    m->generation_tokens += (uint64_t)n_generated;
    m->cache_queries += (uint64_t)n_prompt;
    m->cache_hits += (uint64_t)n_cached;
    if (!strcmp(reason, "stop")) m->finished_stop++;
    else if (!strcmp(reason, "length")) m->finished_length++;
    else if (!strcmp(reason, "abort")) m->finished_abort++;
    else m->finished_error++;
    hist_add(&m->queue, queue_s);
    if (n_generated > 0) hist_add(&m->ttft, ttft_s);
    hist_add(&m->e2e, e2e_s);
    hist_add(&m->prompt_len, n_prompt);
    hist_add(&m->gen_len, n_generated);
    pthread_mutex_unlock(&m->lock);
}

void met_http(srv_metrics *m, const char *route, int code) {
    pthread_mutex_lock(&m->lock);
    int i = 0;
    while (i < m->n_http && (m->http[i].code != code || strcmp(m->http[i].route, route))) i++;
    if (i == m->n_http && m->n_http < MET_ROUTES_MAX) {
        snprintf(m->http[i].route, sizeof m->http[i].route, "%s", route);
        m->http[i].code = code;
        m->n_http++;
    }
    if (i < m->n_http) m->http[i].n++;
    pthread_mutex_unlock(&m->lock);
}

/* A Prometheus label value: quoted, \\ \" \n escaped, other control bytes dropped. */
static void prom_str(olm_sb *o, const char *s) {
    olm_sb_putc(o, '"');
    for (; s && *s; s++) {
        if (*s == '\\' || *s == '"') olm_sb_putc(o, '\\'), olm_sb_putc(o, *s);
        else if (*s == '\n') olm_sb_puts(o, "\\n");
        else if ((unsigned char)*s >= 0x20) olm_sb_putc(o, *s);
    }
    olm_sb_putc(o, '"');
}

static void label(olm_sb *o, const char *model) {
    olm_sb_puts(o, "{model_name=");
    prom_str(o, model);
    olm_sb_puts(o, "}");
}

static void line_u(olm_sb *o, const char *name, const char *model, uint64_t v) {
    olm_sb_puts(o, name);
    label(o, model);
    olm_sb_putc(o, ' ');
    jw_int(o, (long long)v);
    olm_sb_putc(o, '\n');
}

static void meta(olm_sb *o, const char *name, const char *type, const char *help) {
    char t[512];
    snprintf(t, sizeof t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    olm_sb_puts(o, t);
}

static void hist(olm_sb *o, const char *name, const char *help, const srv_hist *h, const char *model) {
    meta(o, name, "histogram", help);
    uint64_t cum = 0;
    char t[160];
    for (int i = 0; i <= h->n; i++) {
        cum += h->counts[i];
        olm_sb_puts(o, name);
        olm_sb_puts(o, "_bucket{model_name=");
        prom_str(o, model);
        if (i < h->n) snprintf(t, sizeof t, ",le=\"%g\"} %llu\n", h->bounds[i], (unsigned long long)cum);
        else snprintf(t, sizeof t, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        olm_sb_puts(o, t);
    }
    olm_sb_puts(o, name);
    olm_sb_puts(o, "_sum");
    label(o, model);
    snprintf(t, sizeof t, " %.6f\n", h->sum);
    olm_sb_puts(o, t);
    olm_sb_puts(o, name);
    olm_sb_puts(o, "_count");
    label(o, model);
    snprintf(t, sizeof t, " %llu\n", (unsigned long long)h->total);
    olm_sb_puts(o, t);
}

void met_write(srv_metrics *m, olm_sb *o, const char *model, int running, int waiting) {
    pthread_mutex_lock(&m->lock);
    meta(o, "vllm:num_requests_running", "gauge", "Requests being generated.");
    line_u(o, "vllm:num_requests_running", model, (uint64_t)running);
    meta(o, "vllm:num_requests_waiting", "gauge", "Requests waiting to be generated.");
    line_u(o, "vllm:num_requests_waiting", model, (uint64_t)waiting);
    meta(o, "vllm:prompt_tokens_total", "counter", "Prompt tokens of finished requests.");
    line_u(o, "vllm:prompt_tokens_total", model, m->prompt_tokens);
    meta(o, "vllm:generation_tokens_total", "counter", "Generated tokens of finished requests.");
    line_u(o, "vllm:generation_tokens_total", model, m->generation_tokens);
    meta(o, "vllm:prefix_cache_queries", "counter", "Prompt tokens looked up in the prefix (KV) cache.");
    line_u(o, "vllm:prefix_cache_queries", model, m->cache_queries);
    meta(o, "vllm:prefix_cache_hits", "counter", "Prompt tokens served from the prefix (KV) cache.");
    line_u(o, "vllm:prefix_cache_hits", model, m->cache_hits);
    meta(o, "vllm:request_success_total", "counter", "Finished requests by reason.");
    static const char *reasons[] = {"stop", "length", "abort", "error"};
    uint64_t vals[] = {m->finished_stop, m->finished_length, m->finished_abort, m->finished_error};
    for (int i = 0; i < 4; i++) {
        olm_sb_puts(o, "vllm:request_success_total{model_name=");
        prom_str(o, model);
        olm_sb_puts(o, ",finished_reason=\"");
        olm_sb_puts(o, reasons[i]);
        olm_sb_puts(o, "\"} ");
        jw_int(o, (long long)vals[i]);
        olm_sb_putc(o, '\n');
    }
    hist(o, "vllm:time_to_first_token_seconds", "Time to first token (queue excluded).", &m->ttft, model);
    hist(o, "vllm:inter_token_latency_seconds", "Time between consecutive generated tokens.", &m->itl, model);
    hist(o, "vllm:e2e_request_latency_seconds", "Request latency, arrival to last byte.", &m->e2e, model);
    hist(o, "vllm:request_queue_time_seconds", "Time requests waited before generation.", &m->queue, model);
    hist(o, "vllm:request_prompt_tokens", "Prompt tokens per request.", &m->prompt_len, model);
    hist(o, "vllm:request_generation_tokens", "Generated tokens per request.", &m->gen_len, model);
    meta(o, "onnxllm_http_requests_total", "counter", "HTTP requests by route and status code.");
    for (int i = 0; i < m->n_http; i++) {
        char t[160];
        olm_sb_puts(o, "onnxllm_http_requests_total{route=");
        prom_str(o, m->http[i].route);
        snprintf(t, sizeof t, ",code=\"%d\"} %llu\n", m->http[i].code, (unsigned long long)m->http[i].n);
        olm_sb_puts(o, t);
    }
    pthread_mutex_unlock(&m->lock);
}
