/* http.c — the libcurl side of `onnxllm pull`: one easy handle per pull (so the
 * connection to the Hub and to its CDN is reused across files), the response headers
 * we care about, and the decision "retry, give up, or the host is unreachable". */
#include "pull/pull.h"

#include <pthread.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/error.h"

static void resp_reset(olm_http_resp *r) {
    free(r->link_next);
    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
}

/* Copies a header value without the trailing CR/LF and surrounding blanks. */
static void copy_value(char *dst, size_t dst_size, const char *v, size_t n) {
    while (n && (*v == ' ' || *v == '\t')) v++, n--;
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    if (n >= dst_size) n = dst_size - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

/* Link: <https://...cursor=...>; rel="next" (huggingface_hub paginates with it). */
static char *parse_link_next(const char *v, size_t n) {
    const char *end = v + n;
    while (v < end) {
        const char *lt = memchr(v, '<', (size_t)(end - v));
        if (!lt) return NULL;
        const char *gt = memchr(lt, '>', (size_t)(end - lt));
        if (!gt) return NULL;
        const char *comma = memchr(gt, ',', (size_t)(end - gt));
        const char *stop = comma ? comma : end;
        /* Look for rel="next" or rel=next between '>' and the next entry. */
        for (const char *q = gt; q < stop; q++) {
            size_t left = (size_t)(stop - q);
            if ((left >= 10 && !strncasecmp(q, "rel=\"next\"", 10)) || (left >= 8 && !strncasecmp(q, "rel=next", 8))) {
                size_t len = (size_t)(gt - lt - 1);
                char *url = malloc(len + 1);
                if (!url) return NULL;
                memcpy(url, lt + 1, len);
                url[len] = 0;
                return url;
            }
        }
        v = stop + (comma ? 1 : 0);
    }
    return NULL;
}

static size_t header_cb(char *line, size_t size, size_t n, void *user) {
    olm_http *h = user;
    size_t len = size * n;
    if (len >= 5 && !strncmp(line, "HTTP/", 5)) { /* a new response (e.g. after a redirect) */
        resp_reset(&h->resp);
        const char *sp = memchr(line, ' ', len);
        if (sp) h->resp.status = strtol(sp + 1, NULL, 10);
        return len;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon) return len;
    size_t klen = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vlen = len - klen - 1;
#define IS(name) (klen == sizeof(name) - 1 && !strncasecmp(line, name, klen))
    if (IS("x-error-code")) copy_value(h->resp.error_code, sizeof h->resp.error_code, v, vlen);
    else if (IS("x-error-message")) copy_value(h->resp.error_message, sizeof h->resp.error_message, v, vlen);
    else if (IS("content-range")) copy_value(h->resp.content_range, sizeof h->resp.content_range, v, vlen);
    else if (IS("x-repo-commit")) copy_value(h->resp.repo_commit, sizeof h->resp.repo_commit, v, vlen);
    else if (IS("retry-after")) {
        char tmp[32];
        copy_value(tmp, sizeof tmp, v, vlen);
        if (tmp[0] >= '0' && tmp[0] <= '9') h->resp.retry_after_s = atoi(tmp);
    } else if (IS("link")) {
        free(h->resp.link_next);
        h->resp.link_next = parse_link_next(v, vlen);
    }
#undef IS
    return len;
}

/* Called by curl at least once a second, even while connecting or stalled: the
 * place where a Ctrl-C (p->cancel) stops the transfer. */
static int xferinfo_cb(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return olm_http_cancelled(user) ? 1 : 0;
}

bool olm_http_cancelled(const olm_http *h) { return h->p->cancel && *h->p->cancel; }

/* libcurl's global init, once per process and never undone: curl_global_cleanup() in
 * a library would tear down TLS state the host application may be using, and init /
 * cleanup pairs are not thread-safe with other libcurl users. The once-flag and its
 * result are the pull module's only process-wide state (onnxllm.h, "Global state"). */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

onnxllm_status olm_http_init(olm_http *h, const onnxllm_pull_params *p, onnxllm_error *err) {
    memset(h, 0, sizeof *h);
    h->p = p;
    h->resp.retry_after_s = -1;
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK) return olm_fail(err, ONNXLLM_ERR_INTERNAL, "cannot initialise libcurl");
    h->curl = curl_easy_init();
    if (!h->curl) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "cannot create a libcurl handle");
    CURL *c = h->curl;
    curl_easy_setopt(c, CURLOPT_USERAGENT, "onnxllm/" ONNXLLM_VERSION);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM for DNS timeouts: we are a library */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)(p->connect_timeout_s > 0 ? p->connect_timeout_s : 10));
    /* A stalled transfer (no byte for stall_timeout_s) fails with a timeout and is retried. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)(p->stall_timeout_s > 0 ? p->stall_timeout_s : 60));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    if (p->token && p->token[0]) {
        /* Bearer auth through curl's auth machinery: curl sends it to the original host
         * only and drops it on a redirect to another host (the CDN), like huggingface_hub
         * (requests strips Authorization on cross-host redirects). */
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, p->token);
        curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
    }
    return ONNXLLM_OK;
}

void olm_http_free(olm_http *h) {
    if (!h->curl) return;
    curl_easy_cleanup(h->curl);
    h->curl = NULL;
    free(h->resp.link_next);
    h->resp.link_next = NULL;
}

CURLcode olm_http_get(olm_http *h, const char *url, int64_t range_from, long timeout_s, olm_write_fn write_cb,
                      void *user) {
    CURL *c = h->curl;
    char range[32];
    resp_reset(&h->resp);
    h->errbuf[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, user);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s > 0 ? timeout_s : 0L);
    if (range_from > 0) {
        snprintf(range, sizeof range, "%lld-", (long long)range_from);
        curl_easy_setopt(c, CURLOPT_RANGE, range);
    } else {
        curl_easy_setopt(c, CURLOPT_RANGE, NULL);
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code) h->resp.status = code;
    return rc;
}

void olm_http_origin(const char *url, char *out, size_t out_size) {
    const char *s = strstr(url, "://");
    const char *host = s ? s + 3 : url;
    const char *slash = strchr(host, '/');
    size_t n = slash ? (size_t)(slash - url) : strlen(url);
    if (n >= out_size) n = out_size - 1;
    memcpy(out, url, n);
    out[n] = 0;
}

static bool connect_failure(CURLcode rc) {
    return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_COULDNT_CONNECT;
}

olm_http_class olm_http_classify(olm_http *h, CURLcode rc, const char *url, const char *what, char *msg,
                                 size_t msg_size) {
    const char *cerr = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
    char origin[256];
    olm_http_origin(url, origin, sizeof origin);
    if (rc == CURLE_ABORTED_BY_CALLBACK || olm_http_cancelled(h)) {
        snprintf(msg, msg_size, "interrupted");
        return OLM_HTTP_CANCELLED;
    }
    if (connect_failure(rc) || (rc == CURLE_OPERATION_TIMEDOUT && h->resp.status == 0)) {
        /* suggest HF_ENDPOINT only to someone who has not set it */
        const char *ep = h->p && h->p->endpoint ? h->p->endpoint : ONNXLLM_PULL_DEFAULT_ENDPOINT;
        if (!strcmp(ep, ONNXLLM_PULL_DEFAULT_ENDPOINT))
            snprintf(msg, msg_size, "cannot reach %s: %s; check your connection (or set HF_ENDPOINT to a mirror)",
                     origin, cerr);
        else
            snprintf(msg, msg_size, "cannot reach %s: %s; check your connection and HF_ENDPOINT (%s)", origin, cerr, ep);
        return OLM_HTTP_UNREACHABLE;
    }
    if (rc != CURLE_OK) {
        switch (rc) {
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP3:
            snprintf(msg, msg_size, "%s: transfer from %s failed: %s", what, origin, cerr);
            return OLM_HTTP_TRANSIENT;
        default:
            snprintf(msg, msg_size, "%s: transfer from %s failed: %s", what, origin, cerr);
            return OLM_HTTP_FATAL;
        }
    }
    long st = h->resp.status;
    if (st >= 200 && st < 300) return OLM_HTTP_OK;
    const char *code = h->resp.error_code, *emsg = h->resp.error_message;
    char extra[300] = "";
    if (emsg[0]) snprintf(extra, sizeof extra, " (%s)", emsg);
    const char *repo = h->p->repo, *rev = h->p->revision;
    if (!strcmp(code, "RepoNotFound")) {
        snprintf(msg, msg_size, "repository not found: %s on %s (a private or gated repository needs HF_TOKEN)",
                 repo, origin);
        return OLM_HTTP_FATAL;
    }
    if (!strcmp(code, "RevisionNotFound")) {
        snprintf(msg, msg_size, "revision not found: %s of %s", rev, repo);
        return OLM_HTTP_FATAL;
    }
    if (!strcmp(code, "EntryNotFound")) {
        snprintf(msg, msg_size, "%s: not found in %s@%s", what, repo, rev);
        return OLM_HTTP_FATAL;
    }
    if (!strcmp(code, "GatedRepo")) {
        snprintf(msg, msg_size, "%s is gated: accept its terms on %s/%s and set HF_TOKEN%s", repo, origin, repo, extra);
        return OLM_HTTP_FATAL;
    }
    switch (st) {
    case 401:
        if (h->p->token && h->p->token[0])
            snprintf(msg, msg_size, "%s: authentication failed: HF_TOKEN has no access to %s (HTTP 401 from %s)", what,
                     repo, origin);
        else
            snprintf(msg, msg_size, "%s: authentication required: set HF_TOKEN (HTTP 401 from %s)", what, origin);
        return OLM_HTTP_FATAL;
    case 403:
        snprintf(msg, msg_size, "%s: access denied by %s (HTTP 403)%s; gated models need their terms accepted and HF_TOKEN",
                 what, origin, extra);
        return OLM_HTTP_FATAL;
    case 404:
        snprintf(msg, msg_size, "%s: repository or file not found (HTTP 404 from %s: %s@%s)%s", what, origin, repo,
                 rev, extra);
        return OLM_HTTP_FATAL;
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
        snprintf(msg, msg_size, "%s: HTTP %ld from %s%s", what, st, origin, extra);
        return OLM_HTTP_TRANSIENT;
    default:
        snprintf(msg, msg_size, "%s: HTTP %ld from %s%s", what, st, origin, extra);
        return st >= 500 ? OLM_HTTP_TRANSIENT : OLM_HTTP_FATAL;
    }
}

int olm_http_retry_delay_ms(const olm_http *h, int attempt) {
    long ms = h->p->retry_delay_ms >= 0 ? h->p->retry_delay_ms : 1000;
    for (int i = 1; i < attempt && ms < 30000; i++) ms *= 2;
    if (ms > 30000) ms = 30000;
    if (h->resp.retry_after_s >= 0) {
        long ra = (long)h->resp.retry_after_s * 1000;
        ms = ra > 60000 ? 60000 : ra;
    }
    return (int)ms;
}

bool olm_http_sleep(const olm_http *h, int ms) {
    /* Sleep in short slices so that a Ctrl-C is honoured quickly. */
    while (ms > 0) {
        if (olm_http_cancelled(h)) return false;
        int slice = ms < 50 ? ms : 50;
        struct timespec ts = {0, slice * 1000000L};
        nanosleep(&ts, NULL);
        ms -= slice;
    }
    return !olm_http_cancelled(h);
}
