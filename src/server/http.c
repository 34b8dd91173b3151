/* http.c — libmicrohttpd adapter (see http.h).
 *
 * Thread per connection: the handler of a generation request blocks in its own
 * thread until the answer is ready (or streams it from there), so a slow request
 * never stalls another connection, and the connection limit bounds the threads.
 * The listening socket is made here (clear bind errors, port 0 supported) and
 * handed to the daemon. */
#include "server/http.h"
#include "common/error.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct http_server {
    http_config c;
    struct MHD_Daemon *d;
    int listen_fd;
    int port;
    bool quiesced;
};

typedef struct hdr {
    char *name, *value;
    struct hdr *next;
} hdr;

struct http_req {
    http_server *h;
    struct MHD_Connection *conn;
    char *method, *path;
    olm_sb body;
    bool too_large, dispatched;
    int status;
    hdr *headers;
    void *data;
};

typedef struct {
    http_pump pump;
    void *user;
    void (*free_fn)(void *);
    olm_sb buf;
    size_t off;
    bool ended;
} stream;

const char *http_method(const http_req *rq) { return rq->method; }
const char *http_path(const http_req *rq) { return rq->path; }
const char *http_header(const http_req *rq, const char *name) {
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}
const char *http_query(const http_req *rq, const char *name) {
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}
const char *http_body(const http_req *rq, size_t *len) {
    if (len) *len = rq->body.len;
    return rq->body.p ? rq->body.p : "";
}
bool http_too_large(const http_req *rq) { return rq->too_large; }
int http_status(const http_req *rq) { return rq->status; }
void http_set_data(http_req *rq, void *data) { rq->data = data; }
void *http_data(const http_req *rq) { return rq->data; }

int http_socket(const http_req *rq) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

void http_add_header(http_req *rq, const char *name, const char *value) {
    hdr *x = calloc(1, sizeof *x);
    if (!x) return;
    x->name = strdup(name);
    x->value = strdup(value);
    if (!x->name || !x->value) {
        free(x->name);
        free(x->value);
        free(x);
        return;
    }
    hdr **pp = &rq->headers;
    while (*pp) pp = &(*pp)->next;
    *pp = x;
}

static void queue(http_req *rq, int status, struct MHD_Response *r, const char *content_type) {
    if (!r) return; /* out of memory: MHD closes the connection */
    if (content_type) MHD_add_response_header(r, "Content-Type", content_type);
    for (hdr *x = rq->headers; x; x = x->next) MHD_add_response_header(r, x->name, x->value);
    if (MHD_queue_response(rq->conn, (unsigned)status, r) == MHD_YES) rq->status = status;
    MHD_destroy_response(r);
}

void http_reply(http_req *rq, int status, const char *content_type, const char *body, size_t len) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    queue(rq, status, r, content_type);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    stream *s = cls;
    while (s->off == s->buf.len) {
        if (s->ended) return MHD_CONTENT_READER_END_OF_STREAM;
        s->buf.len = s->off = 0;
        int r = s->pump(s->user, &s->buf);
        if (r < 0 || s->buf.oom) return MHD_CONTENT_READER_END_WITH_ERROR;
        if (r == 0) s->ended = true;
    }
    size_t n = s->buf.len - s->off;
    if (n > max) n = max;
    memcpy(buf, s->buf.p + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls) {
    stream *s = cls;
    if (s->free_fn) s->free_fn(s->user);
    olm_sb_free(&s->buf);
    free(s);
}

void http_reply_stream(http_req *rq, int status, const char *content_type, http_pump pump, void *user,
                       void (*free_fn)(void *user)) {
    stream *s = calloc(1, sizeof *s);
    if (!s) {
        if (free_fn) free_fn(user);
        return;
    }
    s->pump = pump;
    s->user = user;
    s->free_fn = free_fn;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, s, stream_free);
    if (!r) {
        stream_free(s);
        return;
    }
    queue(rq, status, r, content_type);
}

static void req_free(http_req *rq) {
    while (rq->headers) {
        hdr *x = rq->headers;
        rq->headers = x->next;
        free(x->name);
        free(x->value);
        free(x);
    }
    free(rq->method);
    free(rq->path);
    olm_sb_free(&rq->body);
    free(rq);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *data, size_t *size, void **con_cls) {
    (void)version;
    http_server *h = cls;
    http_req *rq = *con_cls;
    if (!rq) { /* headers received */
        if (!(rq = calloc(1, sizeof *rq))) return MHD_NO;
        rq->h = h;
        rq->conn = conn;
        rq->method = strdup(method);
        rq->path = strdup(url);
        if (!rq->method || !rq->path) {
            req_free(rq);
            return MHD_NO;
        }
        *con_cls = rq;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || *end || n > h->c.max_body) { /* answered before the body is read */
                rq->too_large = true;
                rq->dispatched = true;
                h->c.handle(h->c.user, rq);
                return rq->status ? MHD_YES : MHD_NO;
            }
        }
        return MHD_YES;
    }
    if (*size) {
        if (rq->dispatched) { /* already answered (too large): drop the rest */
            *size = 0;
            return MHD_YES;
        }
        if (rq->body.len + *size > h->c.max_body) return MHD_NO; /* chunked and too large: close */
        olm_sb_put(&rq->body, data, *size);
        *size = 0;
        return rq->body.oom ? MHD_NO : MHD_YES;
    }
    if (!rq->dispatched) {
        rq->dispatched = true;
        if (!rq->body.p) olm_sb_put(&rq->body, "", 0);
        h->c.handle(h->c.user, rq);
    }
    return rq->status ? MHD_YES : MHD_NO;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)conn;
    http_server *h = cls;
    http_req *rq = *con_cls;
    if (!rq) return;
    if (h->c.done && rq->dispatched) h->c.done(h->c.user, rq, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    req_free(rq);
    *con_cls = NULL;
}

static void quiet_logger(void *cls, const char *fmt, va_list ap) {
    (void)cls, (void)fmt, (void)ap; /* MHD's own messages (bad requests it answers itself) are noise here */
}

static onnxllm_status make_listener(const char *host, int port, int *fd_out, int *port_out, onnxllm_error *err) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int rc = getaddrinfo(host, ps, &hints, &res);
    if (rc) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "--host %s: %s", host, gai_strerror(rc));
    int fd = -1, e = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (a->ai_family == AF_INET6) {
            int v6only = 0; /* "::" also serves IPv4 */
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
        }
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 128) == 0) break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return olm_fail(err, ONNXLLM_ERR_IO, "cannot listen on %s:%d: %s", host, port, strerror(e));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return ONNXLLM_OK;
}

onnxllm_status http_start(const http_config *c, http_server **out, onnxllm_error *err) {
    *out = NULL;
    http_server *h = calloc(1, sizeof *h);
    if (!h) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    h->c = *c;
    onnxllm_status st = make_listener(c->host, c->port, &h->listen_fd, &h->port, err);
    if (st) {
        free(h);
        return st;
    }
    h->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                                MHD_USE_ERROR_LOG,
                            0, NULL, NULL, access_cb, h, MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)c->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)128 * 1024,
                            MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h, MHD_OPTION_EXTERNAL_LOGGER, quiet_logger,
                            NULL, MHD_OPTION_END);
    if (!h->d) {
        close(h->listen_fd);
        free(h);
        return olm_fail(err, ONNXLLM_ERR_IO, "cannot start the HTTP server on %s:%d", c->host, c->port);
    }
    h->listen_fd = -1; /* the daemon owns and closes it now */
    *out = h;
    return ONNXLLM_OK;
}

int http_port(const http_server *h) { return h->port; }

void http_quiesce(http_server *h) {
    if (!h || h->quiesced) return;
    h->quiesced = true;
    int fd = MHD_quiesce_daemon(h->d); /* handed back to us: closing it refuses new connections */
    if (fd >= 0) close(fd);
}

void http_stop(http_server *h) {
    if (!h) return;
    MHD_stop_daemon(h->d);
    free(h);
}
