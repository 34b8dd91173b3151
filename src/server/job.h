/* job.h — one generation request from submit to the last byte: the token parser
 * runs in the generating thread and queues events; the HTTP thread takes them,
 * keeps the accumulated answer and writes them in the API's format (streaming),
 * or answers once at the end. A client that goes away cancels the generation at
 * once (its socket is watched while waiting). */
#ifndef OLM_SERVER_JOB_H
#define OLM_SERVER_JOB_H

#include "server/chatreq.h"
#include "server/output.h"

#include <pthread.h>

typedef struct job job;

typedef struct job_call {
    char id[48];
    olm_sb name, args;
    bool ended;
} job_call;

/* The API side. Streaming callbacks append SSE bytes to `o`. */
typedef struct job_writer {
    void (*start)(job *j, olm_sb *o);            /* right after the headers */
    void (*text)(job *j, const char *s, size_t n, olm_sb *o);
    void (*call_start)(job *j, int index, olm_sb *o);  /* j->calls[index]: id, name */
    void (*call_args)(job *j, int index, const char *s, size_t n, olm_sb *o);
    void (*call_end)(job *j, int index, olm_sb *o);
    void (*ping)(job *j, olm_sb *o);             /* keep-alive */
    void (*finish)(job *j, olm_sb *o);           /* the end (j->res, j->finish_reason) */
    void (*fail)(job *j, olm_sb *o);             /* generation failed after the 200 (j->res.message) */
    void (*reply)(job *j);                       /* not streaming: the whole answer */
} job_writer;

struct job {
    srv *s;
    srv_call *c;
    chat_req *r;
    const job_writer *w;
    void *api;                 /* the writer's state */
    char rid[48];              /* response id (chatcmpl-…, msg_…, resp_…) */
    long long created;
    /* accumulated answer (HTTP thread) */
    olm_sb text;
    job_call *calls;
    int n_calls;
    gen_result res;
    const char *finish_reason; /* "stop", "length", "tool_calls", "stop_sequence", "cancelled", "error" */
    int stop_index;            /* stop string that matched, -1 */
    /* internals */
    gen_job *g;
    out_parser *out;
    pthread_mutex_t lock;
    int efd;                   /* eventfd: the generating thread → the HTTP thread */
    olm_sb q, q2;              /* queued events (swapped under the lock) */
    bool done, finished, started, failed;
    int sock;
    double t_last_write;
    double ping_ms;
};

/* Runs r (prepared: creq_prepare) through the engine and answers the request with w.
 * api: the writer's state (owned by the caller, valid until the job's end: for a
 * stream, until free_api(api) is called). */
void job_run(srv_call *c, chat_req *r, const job_writer *w, void *api, void (*free_api)(void *api),
             const char *id_prefix, const char *call_id_prefix);

/* The finish reason in OpenAI's words ("stop", "length", "tool_calls"). */
const char *job_openai_finish(const job *j);

#endif
