/* metrics.h — GET /metrics (Prometheus text format): the scheduler's metrics under
 * vLLM's names (onnxllm_scheduler_metrics: requests, tokens, TTFT, inter-token and
 * queue latency, KV usage, prefix cache) followed by the server's own HTTP counters. */
#ifndef OLM_SERVER_METRICS_H
#define OLM_SERVER_METRICS_H

#include "common/strbuf.h"

#include <pthread.h>
#include <stdint.h>

enum { MET_ROUTES_MAX = 64 };

typedef struct srv_metrics {
    pthread_mutex_t lock;
    struct { char route[48]; int code; uint64_t n; } http[MET_ROUTES_MAX];
    int n_http;
} srv_metrics;

void met_init(srv_metrics *m);
void met_destroy(srv_metrics *m);
void met_http(srv_metrics *m, const char *route, int code);
/* Writes the HTTP counters' exposition text. */
void met_write(srv_metrics *m, olm_sb *out);

#endif
