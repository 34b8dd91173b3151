/* metrics.c — see metrics.h. */
#include "server/metrics.h"
#include "server/jsonw.h"

#include <stdio.h>
#include <string.h>

void met_init(srv_metrics *m) {
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
}

void met_destroy(srv_metrics *m) { pthread_mutex_destroy(&m->lock); }

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

static void meta(olm_sb *o, const char *name, const char *type, const char *help) {
    char t[512];
    snprintf(t, sizeof t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    olm_sb_puts(o, t);
}

void met_write(srv_metrics *m, olm_sb *o) {
    pthread_mutex_lock(&m->lock);
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
