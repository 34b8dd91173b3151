/* sched.h — the scheduler's internal structures (public API: include/onnxllm.h).
 *
 *   scheduler.c  requests, the queue, admission, prefix reuse, the step loop
 *   metrics.c    counters and histograms, Prometheus text with vLLM's names
 *   diskcache.c  the persistent prefix cache (cache_dir): slot images on disk
 *
 * Threads: one scheduler thread owns the slots, the sequences and every ORT run;
 * other threads only touch the waiting queue, request flags and the metrics, under
 * `mu`. */
#ifndef OLM_SCHEDULER_SCHED_H
#define OLM_SCHEDULER_SCHED_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/batch.h"
#include "onnxllm.h"

/* ---- metrics.c ------------------------------------------------------------------*/
#define OLM_HIST_MAX 32
typedef struct olm_hist {
    int n;                        /* bucket bounds */
    double le[OLM_HIST_MAX];
    uint64_t count[OLM_HIST_MAX + 1]; /* per bucket (not cumulative); last = +Inf */
    double sum;
    uint64_t total;
} olm_hist;

typedef enum { OLM_H_TTFT, OLM_H_ITL, OLM_H_E2E, OLM_H_QUEUE, OLM_H_PROMPT, OLM_H_GEN, OLM_H_N } olm_hist_id;

typedef struct olm_metrics {
    olm_hist h[OLM_H_N];
    uint64_t finished_stop, finished_length, finished_abort, finished_error;
} olm_metrics;

void olm_metrics_init(olm_metrics *mt, int max_length);
void olm_hist_add(olm_hist *h, double v);

/* ---- slots and requests -----------------------------------------------------------*/
typedef enum { SLOT_FREE, SLOT_IDLE, SLOT_BUSY } olm_slot_state;

typedef struct olm_slot {
    int idx;
    olm_slot_state state;
    onnxllm_sequence *seq;        /* lives as long as the scheduler */
    int64_t n_short;              /* leading positions computed with the short rotary table */
    int64_t hw;                   /* positions written since the slot was last released */
    uint64_t last_used;           /* LRU clock */
    struct onnxllm_request *req;  /* SLOT_BUSY */
} olm_slot;

typedef enum { REQ_WAITING, REQ_PREFILL, REQ_DECODE, REQ_DONE } olm_req_state;

struct onnxllm_request {
    onnxllm_scheduler *s;
    onnxllm_request_params p;     /* p.prompt points at `prompt` */
    int32_t *prompt;
    int32_t *forced;              /* p.forced points here */
    olm_req_state state;          /* written under s->mu */
    atomic_bool cancel;
    atomic_int slot;              /* slot index while it has one, else -1 (for cancel) */
    onnxllm_sampler *smp;
    struct onnxllm_request *next; /* waiting queue */
    struct onnxllm_request *all_prev, *all_next; /* every live handle (so the scheduler can outlive none) */
    int n_generated, n_cached;
    bool recompute;               /* LongRoPE: recompute the whole cache in one run */
    uint32_t *mask;               /* p.matcher: the allowed tokens, mask_words words */
    size_t mask_words;
    bool mask_ready;              /* mask is the matcher's current one */
    bool forced_run;              /* tokens the grammar forced are pending: one run computes them */
    double t_submit, t_admit, t_first, t_last;
    onnxllm_request_result result;
    bool done;                    /* result final; on_done called */
    bool user_freed;              /* onnxllm_request_free was called from a callback */
    bool sched_ref;               /* the scheduler still holds it */
};

/* ---- diskcache.c --------------------------------------------------------------------*/
typedef struct olm_disk_entry {
    char *path;
    int32_t *tokens;              /* the whole token list of the image */
    int64_t n_tokens, n_short;
    uint64_t bytes;
    uint64_t used;                /* LRU (file mtime at scan, clock after) */
} olm_disk_entry;

typedef struct olm_diskcache {
    char *dir;
    uint64_t max_bytes, bytes;
    uint64_t fingerprint;         /* model identity; files of another model are ignored */
    olm_disk_entry *e;
    size_t n, cap;
} olm_diskcache;

onnxllm_status olm_disk_open(olm_diskcache *dc, const char *dir, uint64_t max_bytes, const onnxllm_model *m,
                             const olm_slab *sl, onnxllm_error *err);
void olm_disk_close(olm_diskcache *dc);
/* Longest usable prefix (rules as for slots, see scheduler.c usable()) among the
 * entries for prompt[0, n); *best = entry index or -1. */
int64_t olm_disk_match(const olm_diskcache *dc, const int32_t *prompt, int64_t n, int64_t sw, int *best);
/* Writes slot `sl_idx` (n_tokens tokens, KV of the first n_kv positions) as a new entry;
 * replaces entries that are a prefix of it, removes the oldest files past max_bytes.
 * Failures only warn (stderr): the cache is an optimisation. */
void olm_disk_save(olm_diskcache *dc, olm_slab *sl, int sl_idx, const int32_t *tokens, int64_t n_tokens,
                   int64_t n_kv, int64_t n_short);
/* Loads positions [0, n) of entry i into the slot; false (with a warning, the entry
 * dropped) when the file turns out corrupt. */
bool olm_disk_load(olm_diskcache *dc, int i, olm_slab *sl, int sl_idx, int64_t n);

/* ---- the scheduler -------------------------------------------------------------------*/
struct onnxllm_scheduler {
    onnxllm_model *m;
    onnxllm_scheduler_params p;
    bool batchable;               /* CPU, shared KV, known rotary switch: one ORT run per step */
    int64_t sw;                   /* rotary switch width (INT64_MAX: one table); -1 unknown */
    olm_slab slab;
    olm_batch batch;
    olm_slot *slots;
    int n_slots;
    olm_diskcache disk;
    bool disk_on;
    uint64_t budget_pos;          /* kv budget in positions */
    int n_decoding;               /* rows in the last decode step */
    double step_ms;               /* decode step time (moving average) */
    double tok_ms;                /* prompt time per token of full chunks (moving average) */
    int64_t chunk_k;              /* prompt tokens per chunk while others decode (adaptive; 0 = not yet) */
    uint64_t clock;

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t work, done_cv;
    bool stopping;
    onnxllm_request *wait_head, *wait_tail;
    int n_waiting, n_running;
    onnxllm_request *all;         /* live request handles */
    int users;                    /* threads inside onnxllm_request_wait/_free */
    onnxllm_scheduler_stats st;   /* counters (under mu) */
    olm_metrics mt;               /* under mu */
    uint64_t kv_pos;              /* resident positions (scheduler thread; copied to st under mu) */
};

#endif
