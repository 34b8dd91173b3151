/* server.c — onnxllm_server: lifecycle, routes, authentication, CORS, request ids,
 * the log line, errors in each API's shape, and the small routes (/health, /,
 * /metrics). The APIs live in api_*.c, generation behind gen.h. */
#include "server/server.h"
#include "server/chatreq.h"
#include "server/jsonw.h"
#include "common/error.h"
#include "common/fileio.h"
#include "common/json.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

struct onnxllm_server {
    srv s;
};

double srv_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

long long srv_unix_time(void) { return (long long)time(NULL); }

onnxllm_server_params onnxllm_server_default_params(void) {
    onnxllm_server_params p = {0};
    p.host = "127.0.0.1";
    p.port = 8080;
    p.parallel = 4;
    p.max_queue = 64;
    p.max_body = 16u << 20;
    p.timeout_s = 600;
    p.max_connections = 64;
    p.ping_interval_s = 5;
    p.log_requests = true;
    return p;
}

/* ---- replies and errors ----------------------------------------------------------- */

/* ---- session affinity (docs/deploy.md) --------------------------------------------------
 * The key a load balancer hashes on to send a session's turns to the replica holding its
 * prefix cache, from the same sources, in the same order, as deploy/nginx/onnxllm.conf:
 * headers x-session-id, X-Claude-Code-Session-Id, x-codex-window-id, session-id; then the
 * body's prompt_cache_key, metadata.user_id (Claude Code: a JSON object whose session_id
 * is taken), user, safety_identifier. Echoed as x-session-id so a client or proxy can send
 * it back; only visible ASCII of at most 128 bytes (anything else could not be a header). */
static bool session_set(srv_call *c, const char *v) {
    if (c->session[0]) return true;
    size_t n = v ? strlen(v) : 0;
    if (!n || n >= sizeof c->session) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f) return false;
    memcpy(c->session, v, n + 1);
    return true;
}

static void session_from_headers(srv_call *c) {
    static const char *const H[] = {"x-session-id", "x-claude-code-session-id", "x-codex-window-id", "session-id"};
    for (size_t i = 0; i < sizeof H / sizeof *H; i++)
        if (session_set(c, http_header(c->rq, H[i]))) return;
}

static const char *body_str(const cJSON *o, const char *key) {
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

void srv_session_from_body(srv_call *c, const cJSON *b) {
    if (c->session[0] || !cJSON_IsObject(b)) return;
    if (session_set(c, body_str(b, "prompt_cache_key"))) return;
    const char *uid = body_str(cJSON_GetObjectItemCaseSensitive(b, "metadata"), "user_id");
    if (uid && uid[0] == '{') {
        cJSON *o = NULL;
        if (olm_json_parse(uid, strlen(uid), "metadata.user_id", &o, NULL) == ONNXLLM_OK) {
            bool ok = session_set(c, body_str(o, "session_id"));
            cJSON_Delete(o);
            if (ok) return;
        }
    }
    if (session_set(c, uid)) return;
    if (session_set(c, body_str(b, "user"))) return;
    session_set(c, body_str(b, "safety_identifier"));
}

static void common_headers(srv_call *c) {
    http_add_header(c->rq, "request-id", c->id);
    if (c->session[0]) http_add_header(c->rq, "x-session-id", c->session);
    srv *s = c->s;
    if (!s->cors) return;
    const char *origin = http_header(c->rq, "Origin");
    if (!origin) return;
    bool ok = !strcmp(s->cors, "*");
    for (const char *p = s->cors; !ok && *p;) { /* comma-separated list */
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && *p == ' ') p++, n--;
        while (n && p[n - 1] == ' ') n--;
        ok = n == strlen(origin) && !strncmp(p, origin, n);
        p = e ? e + 1 : p + strlen(p);
    }
    if (!ok) return;
    http_add_header(c->rq, "Access-Control-Allow-Origin", !strcmp(s->cors, "*") ? "*" : origin);
    http_add_header(c->rq, "Vary", "Origin");
    http_add_header(c->rq, "Access-Control-Expose-Headers", "request-id, x-session-id");
}

void srv_reply_json(srv_call *c, int status, const char *json, size_t len) {
    common_headers(c);
    http_reply(c->rq, status, "application/json", json, len);
}

void srv_reply_stream(srv_call *c, http_pump pump, void *user, void (*free_fn)(void *user)) {
    common_headers(c);
    http_reply_stream(c->rq, 200, "text/event-stream; charset=utf-8", pump, user, free_fn);
}

static const char *anthropic_type(int status) {
    switch (status) {
    case 400: case 405: case 422: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503: case 529: return "overloaded_error";
    default: return "api_error";
    }
}

static const char *openai_type(int status) {
    switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    case 500: return "server_error";
    case 503: return "unavailable_error";
    default: return "invalid_request_error";
    }
}

void srv_error(srv_call *c, int status, const char *param, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    olm_sb b = {0};
    if (c->api == API_ANTHROPIC) {
        olm_sb_puts(&b, "{\"type\":\"error\",\"error\":{\"type\":");
        jw_cstr(&b, anthropic_type(status));
        olm_sb_puts(&b, ",\"message\":");
        jw_cstr(&b, msg);
        olm_sb_puts(&b, "},\"request_id\":");
        jw_cstr(&b, c->id);
        olm_sb_puts(&b, "}");
    } else {
        olm_sb_puts(&b, "{\"error\":{\"message\":");
        jw_cstr(&b, msg);
        olm_sb_puts(&b, ",\"type\":");
        jw_cstr(&b, openai_type(status));
        olm_sb_puts(&b, ",\"param\":");
        jw_cstr(&b, param && *param ? param : NULL);
        olm_sb_puts(&b, ",\"code\":");
        if (status == 401) jw_cstr(&b, "invalid_api_key");
        else if (status == 413) jw_cstr(&b, "request_too_large");
        else if (strstr(msg, "context holds")) jw_cstr(&b, "context_length_exceeded");
        else olm_sb_puts(&b, "null");
        olm_sb_puts(&b, "}}");
    }
    if (status == 503 || status == 429 || status == 529) http_add_header(c->rq, "Retry-After", "1");
    if (!b.oom) srv_reply_json(c, status, b.p, b.len);
    olm_sb_free(&b);
}

/* ---- small routes ------------------------------------------------------------------- */

static void route_health(srv_call *c) {
    int st = atomic_load(&c->s->state);
    if (st == SRV_READY) {
        static const char ok[] = "{\"status\":\"ok\"}";
        srv_reply_json(c, 200, ok, sizeof ok - 1);
        return;
    }
    const char *why = st == SRV_LOADING ? "Loading model" : st == SRV_DRAINING ? "Draining: shutting down" : "Model failed to load";
    olm_sb b = {0};
    olm_sb_puts(&b, "{\"status\":");
    jw_cstr(&b, st == SRV_LOADING ? "loading" : st == SRV_DRAINING ? "draining" : "failed");
    olm_sb_puts(&b, ",\"error\":{\"code\":503,\"message\":");
    if (st == SRV_FAILED) {
        char m[ONNXLLM_ERROR_MESSAGE_MAX + 32];
        snprintf(m, sizeof m, "%s: %s", why, c->s->load_error);
        jw_cstr(&b, m);
    } else jw_cstr(&b, why);
    olm_sb_puts(&b, ",\"type\":\"unavailable_error\"}}");
    http_add_header(c->rq, "Retry-After", "1");
    if (!b.oom) srv_reply_json(c, 503, b.p, b.len);
    olm_sb_free(&b);
}

/* Liveness (orchestrators): 200 whenever the process answers HTTP — while the model
 * loads too — unlike /health (readiness), which is 503 then. */
static void route_live(srv_call *c) {
    int st = atomic_load(&c->s->state);
    olm_sb b = {0};
    olm_sb_puts(&b, "{\"status\":\"alive\",\"state\":");
    jw_cstr(&b, st == SRV_READY ? "ready" : st == SRV_LOADING ? "loading" : st == SRV_DRAINING ? "draining" : "failed");
    olm_sb_puts(&b, "}");
    if (!b.oom) srv_reply_json(c, 200, b.p, b.len);
    olm_sb_free(&b);
}

static void route_root(srv_call *c) {
    static const char msg[] = "onnxllm is running\n";
    common_headers(c);
    http_reply(c->rq, 200, "text/plain; charset=utf-8", msg, sizeof msg - 1);
}

static void route_metrics(srv_call *c) {
    srv *s = c->s;
    onnxllm_string txt = {0};
    onnxllm_error e = {0};
    if (s->gen && onnxllm_scheduler_metrics(gen_scheduler(s->gen), s->model_name ? s->model_name : "", &txt, &e)) {
        onnxllm_string_free(&txt);
        srv_error(c, 500, NULL, "metrics: %s", e.message);
        return;
    }
    olm_sb b = {0};
    if (txt.len) olm_sb_put(&b, txt.data, txt.len);
    onnxllm_string_free(&txt);
    met_write(&s->metrics, &b);
    common_headers(c);
    if (!b.oom) http_reply(c->rq, 200, "text/plain; version=0.0.4; charset=utf-8", b.p ? b.p : "", b.len);
    olm_sb_free(&b);
}

/* ---- routing ------------------------------------------------------------------------- */

enum { NEED_MODEL = 1, PUBLIC = 2, ANTHROPIC = 4 };

typedef struct route {
    const char *path;
    const char *methods; /* "POST", "GET", "GET HEAD" */
    void (*fn)(srv_call *c);
    unsigned flags;
} route;

static const route ROUTES[] = {
    {"/v1/messages", "POST", api_anthropic_messages, NEED_MODEL | ANTHROPIC},
    {"/v1/messages/count_tokens", "POST", api_anthropic_count_tokens, NEED_MODEL | ANTHROPIC},
    {"/v1/chat/completions", "POST", api_openai_chat, NEED_MODEL},
    {"/chat/completions", "POST", api_openai_chat, NEED_MODEL},
    {"/v1/completions", "POST", api_openai_completions, NEED_MODEL},
    {"/completions", "POST", api_openai_completions, NEED_MODEL},
    {"/v1/responses", "POST", api_responses, NEED_MODEL},
    {"/responses", "POST", api_responses, NEED_MODEL},
    {"/v1/models", "GET HEAD", api_openai_models, PUBLIC},
    {"/models", "GET HEAD", api_openai_models, PUBLIC},
    {"/tokenize", "POST", api_tokenize, NEED_MODEL},
    {"/detokenize", "POST", api_detokenize, NEED_MODEL},
    {"/apply-template", "POST", api_apply_template, NEED_MODEL},
    {"/health", "GET HEAD", route_health, PUBLIC},
    {"/v1/health", "GET HEAD", route_health, PUBLIC},
    {"/livez", "GET HEAD", route_live, PUBLIC},
    {"/metrics", "GET HEAD", route_metrics, 0},
    {"/", "GET HEAD", route_root, PUBLIC},
};

static bool method_ok(const char *methods, const char *m) {
    size_t n = strlen(m);
    for (const char *p = methods; (p = strstr(p, m)); p += n)
        if ((p == methods || p[-1] == ' ') && (p[n] == ' ' || !p[n])) return true;
    return false;
}

static const route *find_route(const char *path, bool *path_known) {
    *path_known = false;
    for (size_t i = 0; i < sizeof ROUTES / sizeof *ROUTES; i++)
        if (!strcmp(ROUTES[i].path, path)) {
            *path_known = true;
            return &ROUTES[i];
        }
    if (!strncmp(path, "/v1/models/", 11) || !strncmp(path, "/models/", 8)) {
        *path_known = true;
        return &ROUTES[8]; /* /v1/models/{id} */
    }
    return NULL;
}

/* Constant-time comparison of a presented key with the accepted ones. */
static bool key_ok(const srv *s, const char *k) {
    if (!k) return false;
    size_t kl = strlen(k);
    bool ok = false;
    for (size_t i = 0; i < s->n_keys; i++) {
        size_t l = strlen(s->keys[i]);
        unsigned char d = (unsigned char)(l != kl);
        for (size_t j = 0; j < l; j++) d |= (unsigned char)(s->keys[i][j] ^ (j < kl ? k[j] : 0));
        ok |= d == 0;
    }
    return ok;
}

static bool authorized(srv_call *c) {
    srv *s = c->s;
    if (!s->n_keys) return true;
    const char *auth = http_header(c->rq, "Authorization");
    if (auth && !strncasecmp(auth, "Bearer ", 7)) {
        const char *k = auth + 7;
        while (*k == ' ') k++;
        if (key_ok(s, k)) return true;
    }
    return key_ok(s, http_header(c->rq, "x-api-key"));
}

static void handle(void *user, http_req *rq) {
    srv *s = user;
    srv_call *c = calloc(1, sizeof *c);
    if (!c) return; /* no answer: the connection is closed */
    c->s = s;
    c->rq = rq;
    c->t0 = srv_now_ms();
    unsigned char r[12];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) memset(r, 0, sizeof r);
    int k = snprintf(c->id, sizeof c->id, "req_");
    for (size_t i = 0; i < sizeof r; i++) k += snprintf(c->id + k, sizeof c->id - (size_t)k, "%02x", r[i]);
    http_set_data(rq, c);
    atomic_fetch_add(&s->n_requests, 1);
    session_from_headers(c);

    const char *path = http_path(rq), *method = http_method(rq);
    bool known = false;
    const route *rt = find_route(path, &known);
    if (!strncmp(path, "/v1/messages", 12)) c->api = API_ANTHROPIC;
    else if (!strcmp(path, "/v1/responses") || !strcmp(path, "/responses")) c->api = API_RESPONSES;
    if (!strcmp(method, "OPTIONS") && s->cors) { /* CORS preflight */
        common_headers(c);
        http_add_header(rq, "Access-Control-Allow-Methods", rt ? rt->methods : "GET, POST");
        http_add_header(rq, "Access-Control-Allow-Headers",
                        "Authorization, Content-Type, x-api-key, anthropic-version, anthropic-beta, "
                        "anthropic-dangerous-direct-browser-access, OpenAI-Beta, x-stainless-*");
        http_add_header(rq, "Access-Control-Max-Age", "600");
        http_reply(rq, 204, NULL, "", 0);
        return;
    }
    if (!rt) {
        srv_error(c, 404, NULL, "no route %s %s", method, path);
        return;
    }
    if (!method_ok(rt->methods, method)) {
        http_add_header(rq, "Allow", rt->methods);
        srv_error(c, 405, NULL, "method %s is not allowed on %s (allowed: %s)", method, path, rt->methods);
        return;
    }
    if (http_too_large(rq)) {
        srv_error(c, 413, NULL, "request body too large: the limit is %zu bytes (serve --max-body)", s->p.max_body);
        return;
    }
    if (!(rt->flags & PUBLIC) && !authorized(c)) {
        srv_error(c, 401, NULL, "invalid or missing API key (send Authorization: Bearer KEY or x-api-key: KEY)");
        return;
    }
    int st = atomic_load(&s->state);
    if ((rt->flags & NEED_MODEL) && st != SRV_READY) {
        srv_error(c, 503, NULL, "%s", st == SRV_LOADING ? "the model is loading; retry shortly"
                                      : st == SRV_DRAINING ? "the server is shutting down"
                                                           : "the model failed to load");
        return;
    }
    rt->fn(c);
    if (!http_status(rq)) srv_error(c, 500, NULL, "internal error: no response");
}

static void done(void *user, http_req *rq, bool completed) {
    srv *s = user;
    srv_call *c = http_data(rq);
    if (!c) return;
    int status = http_status(rq);
    bool known;
    const route *rt = find_route(http_path(rq), &known);
    met_http(&s->metrics, rt ? rt->path : "other", status);
    if (s->p.log_requests) {
        char extra[160] = "";
        if (c->generated)
            snprintf(extra, sizeof extra, " prompt=%d cached=%d gen=%d ttft=%.0fms", c->n_prompt, c->n_cached,
                     c->n_generated, c->ttft_ms);
        /* the path may hold anything a client sent: print it safely */
        char path[96];
        size_t k = 0;
        for (const char *p = http_path(rq); *p && k < sizeof path - 1; p++)
            path[k++] = (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f ? *p : '?';
        path[k] = 0;
        fprintf(stderr, "onnxllm serve: %s %s %s %d%s%s total=%.0fms\n", c->id, http_method(rq), path, status,
                completed ? "" : " (connection closed early)", extra, srv_now_ms() - c->t0);
    }
    free(c);
    http_set_data(rq, NULL);
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static char **dup_list(const char *const *v, size_t n, bool *oom) {
    if (!n) return NULL;
    char **o = calloc(n, sizeof *o);
    if (!o) {
        *oom = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!(o[i] = strdup(v[i] ? v[i] : ""))) *oom = true;
    return o;
}

static void free_list(char **v, size_t n) {
    for (size_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

static void srv_destroy(srv *s) {
    free(s->model_dir);
    free(s->host);
    free(s->cors);
    free(s->cache_dir);
    free_list(s->keys, s->n_keys);
    free_list(s->aliases, s->n_aliases);
    free(s->model_name);
    if (s->test_outputs)
        for (size_t i = 0; i < s->p.n_test_outputs; i++) onnxllm_tokens_free(&s->test_outputs[i]);
    free(s->test_outputs);
    if (s->stop_pipe[0] > 0) close(s->stop_pipe[0]);
    if (s->stop_pipe[1] > 0) close(s->stop_pipe[1]);
    met_destroy(&s->metrics);
}

onnxllm_status onnxllm_server_create(const onnxllm_server_params *p, onnxllm_server **out, onnxllm_error *err) {
    if (!out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_server_create: NULL argument");
    *out = NULL;
    onnxllm_server_params d = p ? *p : onnxllm_server_default_params();
    if (!d.model_dir || !*d.model_dir) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no model folder given");
    if (!d.host || !*d.host) d.host = "127.0.0.1";
    if (d.port < 0 || d.port > 65535) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "port %d is not in 0..65535", d.port);
    if (d.ctx < 0) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "ctx must be >= 0");
    if (d.parallel < 1 || d.parallel > 64)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "parallel must be in 1..64 (got %d)", d.parallel);
    if (d.max_queue < 0) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "max_queue must be >= 0");
    if (d.max_body == 0) d.max_body = 16u << 20;
    if (d.timeout_s <= 0) d.timeout_s = 600;
    if (d.max_connections <= 0) d.max_connections = 64;
    if (!(d.ping_interval_s > 0)) d.ping_interval_s = 5;
    for (size_t i = 0; i < d.n_api_keys; i++)
        if (!d.api_keys[i] || !*d.api_keys[i]) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "API key %zu is empty", i);
    onnxllm_server *sv = calloc(1, sizeof *sv);
    if (!sv) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    srv *s = &sv->s;
    met_init(&s->metrics);
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    bool oom = false;
    s->model_dir = dup_or_null(d.model_dir);
    s->host = dup_or_null(d.host);
    s->cors = d.cors_origins && *d.cors_origins ? strdup(d.cors_origins) : NULL;
    s->cache_dir = d.cache_dir && *d.cache_dir ? strdup(d.cache_dir) : NULL;
    if (d.cache_dir && *d.cache_dir && !s->cache_dir) oom = true;
    s->keys = dup_list(d.api_keys, d.n_api_keys, &oom);
    s->n_keys = d.n_api_keys;
    s->aliases = dup_list(d.aliases, d.n_aliases, &oom);
    s->n_aliases = d.n_aliases;
    if (!s->model_dir || !s->host || (d.cors_origins && *d.cors_origins && !s->cors)) oom = true;
    /* test outputs are tokenized once the tokenizer is loaded; keep the texts */
    char **tests = dup_list(d.test_outputs, d.n_test_outputs, &oom);
    s->p = d;
    s->p.model_dir = s->model_dir;
    s->p.host = s->host;
    s->p.cors_origins = s->cors;
    s->p.cache_dir = s->cache_dir;
    s->p.api_keys = (const char *const *)s->keys;
    s->p.aliases = (const char *const *)s->aliases;
    s->p.test_outputs = (const char *const *)tests;
    s->created = srv_unix_time();
    atomic_store(&s->state, SRV_LOADING);
    const char *slash = strrchr(s->model_dir, '/');
    while (slash && !slash[1] && slash > s->model_dir) { /* "dir/" */
        const char *q = slash - 1;
        while (q > s->model_dir && *q != '/') q--;
        s->model_name = strndup(*q == '/' ? q + 1 : q, (size_t)(slash - (*q == '/' ? q + 1 : q)));
        break;
    }
    if (!s->model_name) s->model_name = strdup(slash && slash[1] ? slash + 1 : s->model_dir);
    if (!s->model_name) oom = true;
    if (oom || pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK)) {
        free_list(tests, d.n_test_outputs);
        srv_destroy(s);
        free(sv);
        return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    }
    http_config hc = {.host = s->host, .port = d.port, .max_connections = d.max_connections, .timeout_s = d.timeout_s,
                      .max_body = d.max_body, .handle = handle, .done = done, .user = s};
    onnxllm_status st = http_start(&hc, &s->http, err);
    if (st) {
        free_list(tests, d.n_test_outputs);
        srv_destroy(s);
        free(sv);
        return st;
    }
    *out = sv;
    return ONNXLLM_OK;
}

int onnxllm_server_port(const onnxllm_server *sv) { return sv ? http_port(sv->s.http) : -1; }

static onnxllm_status load(srv *s, onnxllm_error *err) {
    onnxllm_status st = onnxllm_template_load(s->model_dir, &s->tmpl, err);
    if (st) return st;
    char *tj = olm_path_join(s->model_dir, "tokenizer.json");
    if (!tj) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    st = onnxllm_tokenizer_load(tj, &s->tok, err);
    free(tj);
    if (st) return st;
    onnxllm_model_params mp = onnxllm_model_default_params();
    mp.hugepages = true; /* weights on huge pages (decode +5-9%); see onnxllm.h */
    mp.n_threads = s->p.threads;
    mp.ep = s->p.ep;
    mp.max_length = s->p.ctx;
    if (!mp.max_length) {
        /* Agents send long prompts: a larger default than the CLI's 4096 (KV pages
         * are only touched as positions are used). genai_config.json's
         * model.context_length bounds it. */
        char *cfg = olm_path_join(s->model_dir, "genai_config.json");
        cJSON *j = NULL;
        if (cfg && !olm_load_json_file(cfg, &j, NULL)) {
            const cJSON *cl = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "model"), "context_length");
            if (cJSON_IsNumber(cl) && cl->valuedouble >= 1) mp.max_length = cl->valuedouble < 32768 ? (int)cl->valuedouble : 32768;
        }
        cJSON_Delete(j);
        free(cfg);
    }
    if ((st = onnxllm_model_load(s->model_dir, &mp, &s->model, err))) return st;
    /* a tokenizer.json of another model: refused at start, not at the first request */
    if ((st = onnxllm_tokenizer_check_vocab(s->tok, (size_t)onnxllm_model_vocab_size(s->model), err))) return st;
    s->ctx = onnxllm_model_max_length(s->model);
    if (s->p.n_test_outputs) {
        const char *const *texts = s->p.test_outputs;
        if (!(s->test_outputs = calloc(s->p.n_test_outputs, sizeof *s->test_outputs)))
            return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        for (size_t i = 0; i < s->p.n_test_outputs; i++)
            if ((st = onnxllm_tokenizer_encode(s->tok, texts[i], strlen(texts[i]), ONNXLLM_TOKENIZE_PARSE_SPECIAL,
                                               &s->test_outputs[i], err)))
                return st;
    }
    onnxllm_scheduler_params sp = onnxllm_scheduler_default_params();
    sp.n_slots = s->p.parallel;
    sp.max_queue = s->p.max_queue;
    sp.kv_budget_bytes = s->p.kv_budget_bytes;
    sp.cache_dir = s->p.cache_dir;
    if (s->p.cache_dir_max_bytes) sp.cache_dir_max_bytes = s->p.cache_dir_max_bytes;
    return gen_engine_create(s->model, s->tok, &sp, &s->gen, err);
}

onnxllm_status onnxllm_server_run(onnxllm_server *sv, onnxllm_error *err) {
    if (!sv) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_server_run: NULL server");
    srv *s = &sv->s;
    onnxllm_error le = {0};
    if (load(s, &le)) {
        snprintf(s->load_error, sizeof s->load_error, "%s", le.message);
        atomic_store(&s->state, SRV_FAILED);
        if (err) *err = le;
        return le.status;
    }
    atomic_store(&s->state, SRV_READY);
    /* Wait for stop(): it writes the grace period (ms) to the pipe. */
    int grace = -1;
    for (;;) {
        struct pollfd p = {.fd = s->stop_pipe[0], .events = POLLIN};
        int n = poll(&p, 1, grace < 0 ? -1 : 50);
        int v;
        while (read(s->stop_pipe[0], &v, sizeof v) == (ssize_t)sizeof v) {
            if (grace < 0 || v < grace) grace = v;
            if (atomic_load(&s->state) == SRV_READY) {
                atomic_store(&s->state, SRV_DRAINING);
                http_quiesce(s->http);
            }
        }
        (void)n;
        if (grace < 0) continue;
        /* draining: wait for the requests in progress, at most `grace` ms */
        double t_end = srv_now_ms() + grace;
        while (atomic_load(&s->active) > 0 && srv_now_ms() < t_end) {
            struct pollfd q = {.fd = s->stop_pipe[0], .events = POLLIN};
            if (poll(&q, 1, 20) > 0 && read(s->stop_pipe[0], &v, sizeof v) == (ssize_t)sizeof v && v < grace) {
                t_end -= grace - v;
                grace = v;
            }
        }
        break;
    }
    gen_cancel_all(s->gen);
    /* the cancelled requests write their last event (an error) before connections close */
    for (double t_end = srv_now_ms() + 2000; atomic_load(&s->active) > 0 && srv_now_ms() < t_end;) poll(NULL, 0, 10);
    return ONNXLLM_OK;
}

void onnxllm_server_stop(onnxllm_server *sv, int grace_ms) {
    if (!sv) return;
    int v = grace_ms < 0 ? 0 : grace_ms;
    ssize_t w = write(sv->s.stop_pipe[1], &v, sizeof v); /* async-signal-safe */
    (void)w;
}

void onnxllm_server_free(onnxllm_server *sv) {
    if (!sv) return;
    srv *s = &sv->s;
    if (s->gen) gen_cancel_all(s->gen);
    http_stop(s->http); /* waits for the connection threads (their jobs end: cancelled) */
    gen_engine_free(s->gen);
    onnxllm_model_free(s->model);
    onnxllm_tokenizer_free(s->tok);
    onnxllm_template_free(s->tmpl);
    free_list((char **)s->p.test_outputs, s->p.n_test_outputs);
    srv_destroy(s);
    free(sv);
}
