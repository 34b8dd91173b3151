/* server.h — what the files of src/server share: the server state, a request's
 * context, errors in each API's shape. Only the public onnxllm API is used. */
#ifndef OLM_SERVER_SERVER_H
#define OLM_SERVER_SERVER_H

#include "onnxllm.h"
#include "common/strbuf.h"
#include "server/gen.h"
#include "server/http.h"
#include "server/metrics.h"

#include <stdatomic.h>

typedef enum srv_api { API_OPENAI, API_ANTHROPIC, API_RESPONSES } srv_api;
enum { SRV_LOADING, SRV_READY, SRV_DRAINING, SRV_FAILED };

typedef struct srv {
    onnxllm_server_params p;   /* strings owned below */
    char *model_dir, *host, *cors, *cache_dir;
    char **keys, **aliases;
    size_t n_keys, n_aliases;
    http_server *http;
    /* loaded by run() */
    onnxllm_model *model;
    onnxllm_tokenizer *tok;
    onnxllm_template *tmpl;
    gen_engine *gen;
    int ctx;                   /* KV capacity: prompt + answer */
    char *model_name;          /* the folder's name */
    char load_error[ONNXLLM_ERROR_MESSAGE_MAX];
    atomic_int state;
    int stop_pipe[2];
    atomic_int active;         /* generation requests in progress */
    atomic_ullong n_requests;
    srv_metrics metrics;
    onnxllm_tokens *test_outputs;
    atomic_ullong test_next;
    long long created;         /* unix time of start */
} srv;

/* One HTTP request's context (http_data of the request). */
typedef struct srv_call {
    srv *s;
    http_req *rq;
    srv_api api;
    char id[40];               /* request id: "req_" + 24 hex */
    double t0;
    /* for the log line and metrics */
    int n_prompt, n_cached, n_generated;
    double ttft_ms;
    bool generated;
    char session[129];         /* the session key a balancer hashes on, echoed as x-session-id */
} srv_call;

/* Errors in the API's shape: OpenAI {"error":{message,type,param,code}},
 * Anthropic {"type":"error","error":{type,message},"request_id"}. `param` may be NULL. */
void srv_error(srv_call *c, int status, const char *param, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A JSON body (with the request-id header and CORS). */
void srv_reply_json(srv_call *c, int status, const char *json, size_t len);
/* A server-sent-events stream (see http_reply_stream). */
void srv_reply_stream(srv_call *c, http_pump pump, void *user, void (*free_fn)(void *user));
double srv_now_ms(void);
long long srv_unix_time(void);
/* Session affinity (docs/deploy.md): when no session header named the session, take it
 * from the request body (prompt_cache_key, metadata.user_id's session_id, user,
 * safety_identifier); the API parsers call this with the parsed body. */
struct cJSON;
void srv_session_from_body(srv_call *c, const struct cJSON *b);

/* Route handlers (api_*.c). */
void api_anthropic_messages(srv_call *c);
void api_anthropic_count_tokens(srv_call *c);
void api_openai_chat(srv_call *c);
void api_openai_completions(srv_call *c);
void api_openai_models(srv_call *c);
void api_responses(srv_call *c);
void api_tokenize(srv_call *c);
void api_detokenize(srv_call *c);
void api_apply_template(srv_call *c);

#endif
