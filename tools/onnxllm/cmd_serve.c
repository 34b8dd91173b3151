/* cmd_serve.c — `onnxllm serve`: flags → onnxllm_server_params; the server itself
 * is the library's (src/server/, include/onnxllm.h "Server"). SIGINT / SIGTERM
 * drain: new requests are refused, running ones get a few seconds, then the
 * command exits 0; a second signal stops at once. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *f) {
    fprintf(f,
            "usage: onnxllm serve -m MODEL_DIR [options]\n"
            "\n"
            "Serves the model over HTTP: Anthropic Messages (/v1/messages, /v1/messages/count_tokens),\n"
            "OpenAI Chat Completions, Completions and Responses (/v1/chat/completions, /v1/completions,\n"
            "/v1/responses), /v1/models, /tokenize, /detokenize, /apply-template, /health, /metrics.\n"
            "Streaming (SSE) and tool calls on every API. Claude Code, Codex CLI, agentic-flow and the\n"
            "OpenAI / Anthropic SDKs work unchanged (README: \"Use it from your agent\").\n"
            "\n"
            "options:\n"
            "  -m, --model DIR         model folder\n"
            "      --host ADDR         listen address (default 127.0.0.1: this machine only;\n"
            "                          0.0.0.0 or :: for every interface: set an API key)\n"
            "      --port N            port (default 8080; 0 = any free port, printed at start)\n"
            "      --api-key KEY       require this key (Authorization: Bearer KEY or x-api-key: KEY)\n"
            "                          on every route but /health, / and GET /v1/models; repeatable,\n"
            "                          or comma-separated\n"
            "      --api-key-file F    keys from a file, one per line\n"
            "      --alias NAME        another model name listed by /v1/models (repeatable); any\n"
            "                          requested model name is answered by the loaded model\n"
            "      --ctx N             KV capacity per request in tokens, prompt + answer (default\n"
            "                          min(32768, the model's context); Claude Code needs >= 16384)\n"
            "      --parallel N        scheduler slots: requests generated at once, batched, and\n"
            "                          cached conversation prefixes (default 4, at most 64)\n"
            "      --max-queue N       requests waiting for a slot (default 64); past it: 429\n"
            "                          (OpenAI) / 529 (Anthropic) with Retry-After\n"
            "      --kv-budget BYTES   KV memory for all slots, e.g. 8G (default: half the free memory)\n"
            "      --cache-dir DIR     keep conversation prefixes on disk across evictions and restarts\n"
            "      --cache-dir-max BYTES  bound of --cache-dir, oldest first (default 8G)\n"
            "      --threads N         ONNX Runtime threads (default: the model's setting)\n"
            "      --ep cpu|cuda       execution provider (default: the model folder's choice)\n"
            "      --cors ORIGINS      allow browsers from these origins (\"*\" or comma-separated)\n"
            "      --max-body BYTES    largest request body (default 16777216); larger: 413\n"
            "      --timeout S         close connections idle for S seconds (default 600)\n"
            "      --max-connections N concurrent connections (default 64)\n"
            "      --ping-interval S   SSE keep-alive while a long prompt is computed (default 5)\n"
            "      --drain-timeout S   on Ctrl-C / SIGTERM, how long running requests may go on\n"
            "                          (default 10; 0 = cancel them at once)\n"
            "      --quiet             no per-request log lines\n"
            "      --test-output TEXT  tests only: answer every request with TEXT (special tokens\n"
            "                          parsed) instead of sampling; repeatable (used in turn)\n"
            "  -h, --help              this help\n"
            "\n"
            "Ctrl-C or SIGTERM: stop accepting, let running requests finish (up to --drain-timeout), exit 0;\n"
            "a second signal stops at once. /health is 503 while loading and draining, /livez 200\n"
            "whenever the process answers (docs/deploy.md: containers, systemd, nginx, Kubernetes).\n"
            "exit codes: 0 stopped, 1 failure (model folder, port in use), 2 bad usage\n");
}

typedef struct {
    const char **v;
    size_t n, cap;
} strlist;

static bool push(strlist *l, const char *s) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        const char **g = realloc(l->v, cap * sizeof *g);
        if (!g) return false;
        l->v = g;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return true;
}

/* "a,b" → two keys (strings owned by `keep`). */
static bool push_split(strlist *l, strlist *keep, const char *s) {
    char *d = strdup(s);
    if (!d || !push(keep, d)) {
        free(d);
        return false;
    }
    for (char *save = NULL, *t = strtok_r(d, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (*t && !push(l, t)) return false;
    return true;
}

static bool read_keys(const char *path, strlist *l, strlist *keep) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (!*s || *s == '#') continue;
        char *d = strdup(s);
        if (!d || !push(keep, d) || !push(l, d)) {
            free(d);
            fclose(f);
            return false;
        }
    }
    fclose(f);
    return true;
}

/* "8G", "512M", "1048576": bytes (binary multiples); false for anything else. */
static bool parse_bytes(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (!*s || *s == '-') return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return false;
    int shift = 0;
    if (*end) {
        const char *u = "KMGT";
        const char *k = strchr(u, *end >= 'a' ? *end - 32 : *end);
        if (!k || !*k) return false;
        shift = 10 * (int)(k - u + 1);
        end++;
        if (*end == 'i') end++;
        if (*end == 'B' || *end == 'b') end++;
        if (*end) return false;
    }
    if (shift && v > (UINT64_MAX >> shift)) return false;
    *out = (uint64_t)v << shift;
    return true;
}

static bool parse_num(const char *s, double lo, double hi, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s && !*end && !errno && *v >= lo && *v <= hi;
}

typedef struct {
    onnxllm_server *srv;
    sigset_t set;
    int drain_ms;
} sigctx;

static void *signals(void *arg) {
    sigctx *c = arg;
    for (int n = 0;; n++) {
        int sig = 0;
        if (sigwait(&c->set, &sig)) continue;
        if (sig == SIGUSR2) return NULL; /* shutdown of this thread */
        fprintf(stderr, n ? "onnxllm serve: stopping now\n"
                          : "onnxllm serve: stopping: finishing the requests in progress (again to stop now)\n");
        onnxllm_server_stop(c->srv, n ? 0 : c->drain_ms);
    }
}

int cmd_serve(int argc, char **argv) {
    enum { O_HOST = 1000, O_PORT, O_KEY, O_KEYFILE, O_ALIAS, O_CTX, O_PARALLEL, O_THREADS, O_EP, O_CORS, O_MAXBODY,
           O_TIMEOUT, O_MAXCONN, O_PING, O_QUIET, O_TEST, O_DRAIN, O_MAXQUEUE, O_KVBUDGET, O_CACHEDIR, O_CACHEMAX };
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"host", required_argument, 0, O_HOST},
                                         {"port", required_argument, 0, O_PORT},
                                         {"api-key", required_argument, 0, O_KEY},
                                         {"api-key-file", required_argument, 0, O_KEYFILE},
                                         {"alias", required_argument, 0, O_ALIAS},
                                         {"ctx", required_argument, 0, O_CTX},
                                         {"parallel", required_argument, 0, O_PARALLEL},
                                         {"max-queue", required_argument, 0, O_MAXQUEUE},
                                         {"kv-budget", required_argument, 0, O_KVBUDGET},
                                         {"cache-dir", required_argument, 0, O_CACHEDIR},
                                         {"cache-dir-max", required_argument, 0, O_CACHEMAX},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"ep", required_argument, 0, O_EP},
                                         {"cors", required_argument, 0, O_CORS},
                                         {"max-body", required_argument, 0, O_MAXBODY},
                                         {"timeout", required_argument, 0, O_TIMEOUT},
                                         {"max-connections", required_argument, 0, O_MAXCONN},
                                         {"ping-interval", required_argument, 0, O_PING},
                                         {"quiet", no_argument, 0, O_QUIET},
                                         {"test-output", required_argument, 0, O_TEST},
                                         {"drain-timeout", required_argument, 0, O_DRAIN},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    onnxllm_server_params p = onnxllm_server_default_params();
    strlist keys = {0}, aliases = {0}, tests = {0}, keep = {0};
    int rc = CLI_OK, c, drain_ms = 10000;
    double v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': p.model_dir = optarg; break;
        case O_HOST: p.host = optarg; break;
        case O_PORT:
            if (!parse_num(optarg, 0, 65535, &v) || v != (int)v) {
                rc = cli_usage_error("serve", "--port: '%s' is not a port number (0..65535)", optarg);
                goto done;
            }
            p.port = (int)v;
            break;
        case O_KEY:
            if (!*optarg) {
                rc = cli_usage_error("serve", "--api-key needs a non-empty key");
                goto done;
            }
            if (!push_split(&keys, &keep, optarg)) goto oom;
            break;
        case O_KEYFILE:
            if (!read_keys(optarg, &keys, &keep)) {
                fprintf(stderr, "onnxllm serve: --api-key-file %s: %s\n", optarg, strerror(errno ? errno : ENOMEM));
                rc = CLI_FAIL;
                goto done;
            }
            break;
        case O_ALIAS:
            if (!*optarg) {
                rc = cli_usage_error("serve", "--alias needs a name");
                goto done;
            }
            if (!push(&aliases, optarg)) goto oom;
            break;
        case O_TEST:
            if (!push(&tests, optarg)) goto oom;
            break;
        case O_CTX: case O_PARALLEL: case O_THREADS: case O_TIMEOUT: case O_MAXCONN:
            if (!parse_num(optarg, c == O_CTX || c == O_THREADS ? 0 : 1, 1e9, &v) || v != (long long)v) {
                rc = cli_usage_error("serve", "%s: '%s' is not a count", argv[optind - 1], optarg);
                goto done;
            }
            if (c == O_CTX) p.ctx = (int)v;
            else if (c == O_PARALLEL) p.parallel = (int)v;
            else if (c == O_THREADS) p.threads = (int)v;
            else if (c == O_TIMEOUT) p.timeout_s = (int)v;
            else p.max_connections = (int)v;
            break;
        case O_MAXQUEUE:
            if (!parse_num(optarg, 0, 1e6, &v) || v != (long long)v) {
                rc = cli_usage_error("serve", "--max-queue: '%s' is not a count (0..1000000)", optarg);
                goto done;
            }
            p.max_queue = (int)v;
            break;
        case O_KVBUDGET: case O_CACHEMAX: {
            uint64_t b;
            if (!parse_bytes(optarg, &b) || b == 0) {
                rc = cli_usage_error("serve", "%s: '%s' is not a size (bytes, or with K, M, G, T)", argv[optind - 1],
                                     optarg);
                goto done;
            }
            if (c == O_KVBUDGET) p.kv_budget_bytes = b;
            else p.cache_dir_max_bytes = b;
            break;
        }
        case O_CACHEDIR:
            if (!*optarg) {
                rc = cli_usage_error("serve", "--cache-dir needs a folder");
                goto done;
            }
            p.cache_dir = optarg;
            break;
        case O_MAXBODY:
            if (!parse_num(optarg, 1, 1e12, &v) || v != (long long)v) {
                rc = cli_usage_error("serve", "--max-body: '%s' is not a byte count", optarg);
                goto done;
            }
            p.max_body = (size_t)v;
            break;
        case O_PING:
            if (!parse_num(optarg, 0.01, 3600, &v)) {
                rc = cli_usage_error("serve", "--ping-interval: '%s' is not a number of seconds (0.01..3600)", optarg);
                goto done;
            }
            p.ping_interval_s = v;
            break;
        case O_DRAIN:
            if (!parse_num(optarg, 0, 86400, &v)) {
                rc = cli_usage_error("serve", "--drain-timeout: '%s' is not a number of seconds (0..86400)", optarg);
                goto done;
            }
            drain_ms = (int)(v * 1000);
            break;
        case O_EP:
            if (strcmp(optarg, "cpu") && strcmp(optarg, "cuda")) {
                rc = cli_usage_error("serve", "--ep: '%s' is not cpu or cuda", optarg);
                goto done;
            }
            p.ep = optarg;
            break;
        case O_CORS: p.cors_origins = optarg; break;
        case O_QUIET: p.log_requests = false; break;
        case 'h': help(stdout); goto done;
        default: rc = cli_bad_option("serve", c, argv); goto done;
        }
    }
    if (optind < argc) {
        rc = cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (!p.model_dir) {
        rc = cli_usage_error("serve", "missing -m MODEL_DIR");
        goto done;
    }
    if ((rc = cli_check_model_dir("serve", p.model_dir))) goto done;
    p.api_keys = keys.v;
    p.n_api_keys = keys.n;
    p.aliases = aliases.v;
    p.n_aliases = aliases.n;
    p.test_outputs = tests.v;
    p.n_test_outputs = tests.n;

    /* Signals go to one thread (blocked everywhere else; ORT and MHD threads inherit the mask). */
    sigctx sc = {.drain_ms = drain_ms};
    sigemptyset(&sc.set);
    sigaddset(&sc.set, SIGINT);
    sigaddset(&sc.set, SIGTERM);
    sigaddset(&sc.set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &sc.set, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client that disconnects is handled where the write fails */
    onnxllm_error err = {0};
    if (onnxllm_server_create(&p, &sc.srv, &err)) {
        rc = cli_report("serve", &err) == CLI_USAGE && strstr(err.message, "--host") ? CLI_USAGE : CLI_FAIL;
        goto done;
    }
    pthread_t th;
    bool have_thread = pthread_create(&th, NULL, signals, &sc) == 0;
    fprintf(stderr, "onnxllm serve: listening on http://%s%s%s:%d (loading %s ...)\n", strchr(p.host, ':') ? "[" : "",
            p.host, strchr(p.host, ':') ? "]" : "", onnxllm_server_port(sc.srv), p.model_dir);
    double t0 = cli_now_ms();
    (void)t0;
    if (onnxllm_server_run(sc.srv, &err)) rc = cli_report("serve", &err) == CLI_INTERRUPTED ? CLI_INTERRUPTED : CLI_FAIL;
    if (have_thread) {
        pthread_kill(th, SIGUSR2);
        pthread_join(th, NULL);
    }
    onnxllm_server_free(sc.srv);
    if (!rc) fprintf(stderr, "onnxllm serve: stopped\n");
    goto done;
oom:
    fprintf(stderr, "onnxllm serve: out of memory\n");
    rc = CLI_FAIL;
done:
    for (size_t i = 0; i < keep.n; i++) free((char *)keep.v[i]);
    free(keep.v);
    free(keys.v);
    free(aliases.v);
    free(tests.v);
    return rc;
}
