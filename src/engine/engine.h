/* engine.h — internal structures shared by the engine's files.
 *
 *   genai_config.c  genai_config.json → olm_genai_config
 *   onnx_scan.c     model.onnx initializers: external data present + weight bytes
 *   graph_edit.c    load-time edit: lm_head on the last position only
 *   session.c       ORT environment, session options, providers, I/O checks
 *   model.c         onnxllm_model: load = config + scan + session; accessors
 *   kvcache.c       per-sequence KV tensors (shared past/present buffer or fallback)
 *   sequence.c      onnxllm_sequence: tokens, one ORT run per call, rewind, cancel
 *   generate.c      the sample/step loop with callbacks and timings
 */
#ifndef OLM_ENGINE_ENGINE_H
#define OLM_ENGINE_ENGINE_H

#include <stdatomic.h>
#include <onnxruntime_c_api.h>

#include "engine/genai_config.h"
#include "engine/onnx_scan.h"

typedef struct olm_hp_alloc olm_hp_alloc; /* hugepages.c */

/* Names and dtypes of the graph's inputs/outputs, read from the session. */
typedef struct olm_io {
    ONNXTensorElementDataType ids_type, mask_type, pos_type, kv_type, logits_type;
    bool has_mask, has_pos;
    int64_t kv_dims[4];           /* past key dims as declared (-1 = symbolic) */
    char (*past_k)[OLM_NAME_MAX], (*past_v)[OLM_NAME_MAX];
    char (*present_k)[OLM_NAME_MAX], (*present_v)[OLM_NAME_MAX];
} olm_io;

struct onnxllm_model {
    char *dir;
    olm_genai_config cfg;
    olm_onnx_scan scan;
    const OrtApi *api;
    OrtEnv *env;
    OrtSession *session;
    OrtMemoryInfo *cpu_mem;       /* CPU tensors we own (inputs, logits, KV on CPU) */
    OrtMemoryInfo *dev_mem;       /* CUDA: KV lives on the device (NULL on CPU) */
    OrtAllocator *dev_alloc;      /* CUDA allocator of the session (NULL on CPU) */
    olm_io io;
    char ep[8];
    int n_threads;
    int max_length;
    bool shared_kv;
    int rope_threshold;           /* genai's Phi-3 LongRoPE rewind length (0 = none) */
    int64_t rope_switch;          /* runs of width > this use the long rotary table (graph's
                                     If(Greater(total, C))); 0 = one table; -1 = unknown */
    bool last_logits_only;        /* graph edited: logits are [1, min(S, 2), V] (graph_edit.c) */
    olm_hp_alloc *hp;             /* the session's CPU allocator when params.hugepages (hugepages.c) */
};

/* session.c */
onnxllm_status olm_ort_status(const OrtApi *api, OrtStatus *st, onnxllm_status code, onnxllm_error *err,
                              const char *what);
int olm_physical_cores(void);
/* Most ORT threads a model may ask for: 4 per online CPU, at least 64, at most OLM_MAX_THREADS. */
int olm_max_threads(void);
/* hugepages.c: an OrtAllocator whose large blocks are on transparent huge pages,
 * registered with the environment while the session is created (model params hugepages) */
olm_hp_alloc *olm_hp_alloc_create(const OrtApi *api);
bool olm_hp_alloc_register(olm_hp_alloc *a, OrtEnv *env);
void olm_hp_alloc_unregister(olm_hp_alloc *a, OrtEnv *env);
uint64_t olm_hp_alloc_huge_bytes(olm_hp_alloc *a); /* live bytes in huge-page blocks */
void olm_hp_alloc_free(olm_hp_alloc *a);           /* after the session is released */

onnxllm_status olm_session_open(onnxllm_model *m, const onnxllm_model_params *p, onnxllm_error *err);
onnxllm_status olm_session_check_io(onnxllm_model *m, onnxllm_error *err);

/* kvcache.c */
typedef struct olm_kvcache {
    int n_layers;
    bool shared;
    size_t elem;                  /* bytes per element */
    int64_t nkv, cap, head;       /* [1, nkv, cap, head] in shared mode */
    void *block;                  /* shared mode: all layers' K and V (CPU: one lazy zero mapping) */
    size_t block_bytes;
    OrtValue **k, **v;            /* shared: the bound tensors; fallback: current past (length len) */
    int64_t len;                  /* fallback: positions held by k/v */
} olm_kvcache;

onnxllm_status olm_kvcache_init(onnxllm_model *m, olm_kvcache *kv, onnxllm_error *err);
/* Shared-mode KV over slot `slot` of a scheduler slab (batch.h); block stays NULL. */
struct olm_slab;
onnxllm_status olm_kvcache_init_slab(onnxllm_model *m, olm_kvcache *kv, struct olm_slab *sl, int slot,
                                     onnxllm_error *err);
void olm_kvcache_free(onnxllm_model *m, olm_kvcache *kv);
/* Binds past (and, shared, present) names; fallback mode binds present to CPU memory. */
onnxllm_status olm_kvcache_bind(onnxllm_model *m, olm_kvcache *kv, OrtIoBinding *b, onnxllm_error *err);
/* Fallback mode after a run: the bound present outputs become the next past. */
onnxllm_status olm_kvcache_take_present(onnxllm_model *m, olm_kvcache *kv, OrtValue **outs, char **names,
                                        size_t n, onnxllm_error *err);
/* Fallback mode: keep only the first n positions. */
onnxllm_status olm_kvcache_truncate(onnxllm_model *m, olm_kvcache *kv, int64_t n, onnxllm_error *err);

struct onnxllm_sequence {
    onnxllm_model *m;
    int32_t *tokens;
    size_t n_tokens, n_computed;
    int64_t *ids;                 /* [max_length] input_ids / positions scratch (int64 or int32 view) */
    int64_t *pos;
    int64_t *mask;                /* [max_length] all ones */
    float *logits;                /* [vocab] fp32 logits of the last computed position ([2, vocab]
                                     allocated when the graph is edited) */
    bool logits_valid;
    bool cache_long;              /* every cached position computed in one run from 0 past the rope switch */
    void *dec_logits;             /* [vocab] bound logits of a 1-token run (fp32 or fp16) */
    OrtValue *dec_logits_val;
    OrtValue *pre_logits_val;     /* [1, 2, V] over logits: prompt runs of an edited graph */
    OrtValue *dec_ids_val, *dec_pos_val; /* [1, 1] views of ids/pos for 1-token runs (made once) */
    olm_kvcache kv;
    OrtIoBinding *bind;
    OrtRunOptions *run_opts;
    atomic_bool cancel;
};

/* sequence.c: takes a pending cancel request (true, err filled, ONNXLLM_ERR_CANCELLED):
 * every call that can be cancelled checks it on entry and around each ORT run. */
bool olm_sequence_take_cancel(onnxllm_sequence *s, onnxllm_error *err);
/* sequence.c: computes tokens[n_computed, n_tokens) in one ORT run. */
onnxllm_status olm_sequence_compute(onnxllm_sequence *s, onnxllm_error *err);

/* For ORT calls that cannot fail in practice (getters on valid objects). */
static inline void olm_ort_void(const OrtApi *api, OrtStatus *st) {
    if (st) api->ReleaseStatus(st);
}

#endif
