/* metrics.h — counters and histograms for GET /metrics (Prometheus text format),
 * named as vLLM names them so dashboards and LLM-aware routers read them as is. */
#ifndef OLM_SERVER_METRICS_H
#define OLM_SERVER_METRICS_H

#include "common/strbuf.h"

#include <pthread.h>
#include <stdint.h>

enum { MET_BUCKETS_MAX = 24, MET_ROUTES_MAX = 64 };

typedef struct srv_hist {
    const double *bounds;
    int n;
    uint64_t counts[MET_BUCKETS_MAX + 1]; /* last: +Inf */
    double sum;
    uint64_t total;
} srv_hist;

typedef struct srv_metrics {
    pthread_mutex_t lock;
    uint64_t prompt_tokens, generation_tokens, cache_queries, cache_hits;
    uint64_t finished_stop, finished_length, finished_abort, finished_error;
    srv_hist ttft, itl, e2e, queue, prompt_len, gen_len;
    struct { char route[48]; int code; uint64_t n; } http[MET_ROUTES_MAX];
    int n_http;
} srv_metrics;

void met_init(srv_metrics *m);
void met_destroy(srv_metrics *m);
void met_token_gap(srv_metrics *m, double seconds);    /* one inter-token latency */
/* A finished generation request. reason: "stop", "length", "abort", "error". */
void met_request(srv_metrics *m, const char *reason, int n_prompt, int n_cached, int n_generated, double queue_s,
                 double ttft_s, double e2e_s);
void met_http(srv_metrics *m, const char *route, int code);
/* Writes the exposition text; running / waiting from the generation queue. */
void met_write(srv_metrics *m, olm_sb *out, const char *model_name, int running, int waiting);

#endif
