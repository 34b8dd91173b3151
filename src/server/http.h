/* http.h — the HTTP/1.1 layer on libmicrohttpd: one thread per connection (a
 * handler may block while its request is generated), keep-alive, chunked
 * streaming, a bounded number of connections, an idle timeout, a body-size limit.
 * Knows nothing of the APIs: the server registers one handler for every request. */
#ifndef OLM_SERVER_HTTP_H
#define OLM_SERVER_HTTP_H

#include "onnxllm.h"
#include "common/strbuf.h"

typedef struct http_server http_server;
typedef struct http_req http_req;

/* Fills `out` with the next bytes of a streamed body; may block (the connection's
 * own thread). Returns 1: more to come, 0: this was the end, -1: abort the
 * connection (client gone, or failure). */
typedef int (*http_pump)(void *user, olm_sb *out);

typedef struct http_config {
    const char *host;       /* numeric address or name; loopback by default in the server */
    int port;               /* 0: any free port */
    int max_connections;
    int timeout_s;          /* idle connection timeout */
    size_t max_body;        /* larger bodies: handler called with http_too_large() true */
    /* Called once per request when its body is complete (or known to be too
     * large); must answer with http_reply or http_reply_stream. May block. */
    void (*handle)(void *user, http_req *rq);
    /* Called when the request is over (response sent or connection lost). */
    void (*done)(void *user, http_req *rq, bool completed);
    void *user;
} http_config;

onnxllm_status http_start(const http_config *c, http_server **out, onnxllm_error *err);
int http_port(const http_server *h);
void http_quiesce(http_server *h); /* stop accepting connections (draining) */
void http_stop(http_server *h);    /* close every connection and free */

const char *http_method(const http_req *rq);
const char *http_path(const http_req *rq);        /* without the query string */
const char *http_header(const http_req *rq, const char *name); /* case-insensitive; NULL if absent */
const char *http_query(const http_req *rq, const char *name);
const char *http_body(const http_req *rq, size_t *len); /* NUL-terminated */
bool http_too_large(const http_req *rq);
int http_socket(const http_req *rq);              /* the connection's socket (for polling) */
int http_status(const http_req *rq);              /* status answered, 0 before */
/* Per-request data for the server (freed by it in `done`). */
void http_set_data(http_req *rq, void *data);
void *http_data(const http_req *rq);

/* Headers added to whichever response follows. */
void http_add_header(http_req *rq, const char *name, const char *value);
/* Answers with a complete body (copied). */
void http_reply(http_req *rq, int status, const char *content_type, const char *body, size_t len);
/* Answers with a body produced by `pump` (chunked); free_fn(user) runs when the
 * response is done with, whatever happened. */
void http_reply_stream(http_req *rq, int status, const char *content_type, http_pump pump, void *user,
                       void (*free_fn)(void *user));

#endif
