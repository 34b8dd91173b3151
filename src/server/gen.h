/* gen.h — the generation glue: the one place where a request meets the engine.
 *
 * The server's API layers build a prompt (token ids), sampler settings and limits,
 * submit them here and get tokens back through a callback; they never touch a
 * sequence. Every request runs through one onnxllm_scheduler (continuous batching,
 * chunked prompts, a prefix cache shared by all requests, a bounded queue whose
 * overflow makes gen_submit fail with ONNXLLM_ERR_OVERLOADED); this file only
 * translates between the two interfaces. */
#ifndef OLM_SERVER_GEN_H
#define OLM_SERVER_GEN_H

#include "onnxllm.h"

typedef struct gen_engine gen_engine;
typedef struct gen_job gen_job;

/* A constraint on the output (structured output, forced tool use), carried as one
 * field from request parsing to generation. */
typedef enum gen_constraint_kind {
    GEN_CONSTRAINT_NONE = 0,
    GEN_CONSTRAINT_JSON_OBJECT,   /* any JSON object (response_format json_object) */
    GEN_CONSTRAINT_JSON_SCHEMA,   /* JSON matching `schema` (json_schema, text.format) */
    GEN_CONSTRAINT_TOOL_CALL,     /* at least one call of one of `tools` (any / required) */
    GEN_CONSTRAINT_TOOL_NAMED,    /* a call of `tool_name` */
    GEN_CONSTRAINT_TOOL_AUTO      /* free text, or calls of `tools` once the model starts one (lazy) */
} gen_constraint_kind;

typedef struct gen_constraint {
    gen_constraint_kind kind;
    const char *schema;    /* JSON_SCHEMA: the schema, JSON text (NULL: any JSON value) */
    bool strict;           /* JSON_SCHEMA / TOOL_AUTO: the client asked for strict adherence */
    const char *tools;     /* TOOL_*: the tool definitions (JSON array text) */
    const char *tool_name; /* TOOL_NAMED */
    bool single_call;      /* TOOL_*: one call at most (parallel_tool_calls false / disable_parallel_tool_use) */
    const char *field;     /* the request field that asked for it, for messages */
} gen_constraint;

/* A compiled constraint (shared, reference-counted; the engine keeps recent ones so
 * an agent's repeated tool list compiles once). */
typedef struct gen_grammar gen_grammar;

typedef struct gen_result {
    onnxllm_status status;      /* OK, ONNXLLM_ERR_CANCELLED, or the failure */
    char message[ONNXLLM_ERROR_MESSAGE_MAX]; /* the failure */
    int n_prompt;               /* prompt tokens */
    int n_cached;               /* of which served from the KV cache (not recomputed) */
    int n_generated;            /* tokens generated (eos included) */
    onnxllm_stop_reason stop;   /* EOS, MAX_TOKENS, MAX_LENGTH, CALLBACK (on_token said stop), CANCELLED */
    double queue_ms;            /* submit → start */
    double ttft_ms;             /* start → first token (prompt computation included) */
    double decode_ms;           /* first → last token */
} gen_result;

typedef struct gen_request {
    const int32_t *prompt;      /* copied by submit */
    size_t n_prompt;
    onnxllm_sampler_params sampler;
    int max_tokens;             /* > 0 */
    gen_grammar *grammar;       /* NULL: unconstrained (gen_compile); submit takes its own reference */
    const char *grammar_prefix; /* text already in the output (an assistant prefill): the grammar starts after it */
    /* Tests: generate these tokens (copied) instead of sampling, then an eos; the
     * model still computes each one, so timing and cancellation stay real. */
    const int32_t *forced;
    size_t n_forced;
    /* Scheduler thread: each generated token except eos; false stops generation. */
    bool (*on_token)(void *user, int32_t token);
    /* Scheduler thread, optional: the request left the queue and its prompt is being
     * computed (n_cached positions reused). */
    void (*on_start)(void *user, int n_cached);
    /* Exactly once, from the scheduler thread. */
    void (*on_done)(void *user, const gen_result *r);
    void *user;
} gen_request;

/* sp: the scheduler's parameters (NULL: its defaults). tok: the model's tokenizer,
 * for constrained decoding (its token bytes; built once here). */
onnxllm_status gen_engine_create(onnxllm_model *model, const onnxllm_tokenizer *tok,
                                 const onnxllm_scheduler_params *sp, gen_engine **out, onnxllm_error *err);
/* The scheduler (for its metrics). */
onnxllm_scheduler *gen_scheduler(gen_engine *g);
/* Cancels what runs and what waits (their on_done is called) and stops the scheduler. */
void gen_engine_free(gen_engine *g);
/* Compiles the constraint (or takes it from the engine's cache): *out NULL when there is
 * none. false when it cannot be enforced: *why says so, naming the request field and
 * the schema keyword (the request's fault: HTTP 400). A lazy tool grammar (TOOL_AUTO,
 * not strict) whose schemas cannot be compiled is not an error: the request runs
 * unconstrained, as every peer server does, and *fallback says why (for a log line). */
bool gen_compile(gen_engine *g, const gen_constraint *c, gen_grammar **out, char *why, size_t n, bool *fallback);
void gen_grammar_release(gen_grammar *gr);
/* Queues a request; *out is the caller's handle (gen_release it after on_done). */
onnxllm_status gen_submit(gen_engine *g, const gen_request *r, gen_job **out, onnxllm_error *err);
/* Thread-safe: stops the request as soon as possible (an ORT run in flight is
 * terminated); on_done follows with status ONNXLLM_ERR_CANCELLED unless it was
 * already done. */
void gen_cancel(gen_job *j);
/* Cancels and waits until on_done has run. */
void gen_cancel_wait(gen_job *j);
void gen_release(gen_job *j);
/* Cancels every queued and running request. */
void gen_cancel_all(gen_engine *g);
void gen_counts(gen_engine *g, int *running, int *waiting);

#endif
