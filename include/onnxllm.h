/*
 * onnxllm.h — the one public header of onnxllm.
 *
 * onnxllm runs decoder language models in the onnxruntime-genai folder layout
 * (genai_config.json, model.onnx + model.onnx.data, tokenizer.json) through the
 * ONNX Runtime C API: Phi-4-mini-instruct first. Link: `pkg-config --libs onnxllm`
 * after `make install` (libonnxllm.so), see README.md.
 *
 * Conventions (shared by every section below):
 *  - Handles are opaque and created by onnxllm_X_create/_load, freed by onnxllm_X_free
 *    (free(NULL) is a no-op).
 *  - Option structs come with onnxllm_X_default_params(); set only what you change
 *    (new fields are added at the end, with defaults that keep today's behaviour).
 *  - Every fallible call returns an onnxllm_status and takes a trailing
 *    `onnxllm_error *err` (may be NULL). On failure err->status and err->message
 *    hold the code and a one-line, human-readable message naming the file/field/
 *    value at fault. On success *err is left untouched.
 *  - Memory the library returns through a `char **out` (rendered prompts, JSON
 *    texts, inspect output) belongs to the caller: release it with onnxllm_free().
 *    Growable buffers (onnxllm_tokens, onnxllm_string) have their own _free.
 *  - Strings the library returns as `const char *` (names, token strings, the
 *    variant table) live as long as the handle they came from (or forever, for
 *    tables and onnxllm_version()).
 *
 * Lifetimes — what must outlive what:
 *  - a sequence (onnxllm_sequence) must not outlive its model: free every sequence
 *    before onnxllm_model_free();
 *  - a detokenizer (onnxllm_detok) must not outlive its tokenizer;
 *  - a sampler, a template, a stop matcher and a tokenizer depend on nothing else;
 *    a tokenizer, a template and a loaded model are independent of each other.
 *
 * Threads. Unless a function says otherwise: different handles may be used from
 * different threads at the same time; one handle is used by one thread at a time.
 * Read-only after load, so shareable between threads: a tokenizer (encode, decode,
 * lookups), a template (render), a model (creating sequences and running them, each
 * sequence on its own thread). onnxllm_sequence_cancel() may be called from any
 * thread or a signal handler.
 *
 * Global state — what there is, exactly:
 *  - the library's own: two process-wide objects, both set once and safe from any
 *    thread: a mutex that lets one model load at a time register the huge-page
 *    allocator (onnxllm_model_params.hugepages; tried, never waited for), and the
 *    once-flag of libcurl's global init with its result (below). Nothing else: every
 *    other piece of state lives in a handle the caller owns.
 *  - ONNX Runtime's: its environment (OrtEnv: logging, thread pools, telemetry) is one
 *    per process, shared by every model and by any other ORT user in the process;
 *    onnxllm creates it (on a short-lived thread with a large stack: ORT's telemetry
 *    parses /proc/self/cmdline recursively) and releases it with the last model.
 *    hugepages registers an allocator with it while a model loads.
 *  - libcurl's: onnxllm_pull calls curl_global_init() once per process and never
 *    curl_global_cleanup() (a library must not tear down TLS state the application may
 *    use); that first init is not thread-safe against other libcurl users starting at
 *    the same moment.
 *  - errno is used inside a call (thread-local) and not meaningful afterwards.
 */
#ifndef ONNXLLM_H
#define ONNXLLM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ONNXLLM_VERSION "0.1.0" /* the version this header belongs to */

/* The version of the library loaded at run time, e.g. "0.1.0" (compare with
 * ONNXLLM_VERSION to detect a header/library mismatch). */
const char *onnxllm_version(void);

/* Releases memory the library returned through a `char **out` (NULL is a no-op). */
void onnxllm_free(void *p);

/* ============================================================================
 * Status and errors
 * ==========================================================================*/
typedef enum onnxllm_status {
    ONNXLLM_OK = 0,
    ONNXLLM_ERR_INVALID_ARGUMENT = 1, /* bad parameter from the caller */
    ONNXLLM_ERR_IO = 2,               /* file missing, unreadable, unwritable, truncated */
    ONNXLLM_ERR_FORMAT = 3,           /* malformed JSON / protobuf / safetensors / config */
    ONNXLLM_ERR_UNSUPPORTED = 4,      /* valid input we do not handle (named in message) */
    ONNXLLM_ERR_OUT_OF_MEMORY = 5,
    ONNXLLM_ERR_RUNTIME = 6,          /* ONNX Runtime reported an error */
    ONNXLLM_ERR_CANCELLED = 7,        /* onnxllm_*_cancel() was called */
    ONNXLLM_ERR_NETWORK = 8,          /* download failed / host unreachable */
    ONNXLLM_ERR_CHECKSUM = 9,         /* sha256 mismatch */
    ONNXLLM_ERR_MISMATCH = 10,        /* model graph does not match its config */
    ONNXLLM_ERR_INTERNAL = 11,
    ONNXLLM_ERR_OVERLOADED = 12       /* a queue is full: retry later (HTTP 429 / 529) */
} onnxllm_status;

#define ONNXLLM_ERROR_MESSAGE_MAX 512
typedef struct onnxllm_error {
    onnxllm_status status;
    char message[ONNXLLM_ERROR_MESSAGE_MAX];
} onnxllm_error;

/* Short constant name of a status, e.g. "ONNXLLM_ERR_IO". */
const char *onnxllm_status_name(onnxllm_status s);

/* ============================================================================
 * Tokenizer (Hugging Face tokenizer.json)            — src/tokenizer/
 * ==========================================================================*/
/* A loaded tokenizer.json: BPE model (byte-level like GPT-4o/Phi-4-mini/Llama-3/Qwen,
 * or SentencePiece-style with byte fallback like Llama-2/Gemma), added tokens,
 * normalizer, pre-tokenizer, post-processor and decoder, token-exact with Hugging
 * Face `tokenizers`. A loaded tokenizer is read-only: any number of threads may call
 * encode/decode/lookup functions on it at once. Components we do not implement make
 * the load fail with ONNXLLM_ERR_UNSUPPORTED naming the component, never silently. */
typedef struct onnxllm_tokenizer onnxllm_tokenizer;

/* Growable id array owned by the caller: start from {0} (or reuse one); the
 * library grows `ids` with realloc. Free with onnxllm_tokens_free. */
typedef struct onnxllm_tokens {
    int32_t *ids;
    size_t len, cap;
} onnxllm_tokens;
void onnxllm_tokens_free(onnxllm_tokens *t); /* frees ids, zeroes the struct */

/* Growable string owned by the caller, always NUL-terminated after a successful
 * call (data may contain NUL bytes only if the decoded text does: use len). */
typedef struct onnxllm_string {
    char *data;
    size_t len, cap;
} onnxllm_string;
void onnxllm_string_free(onnxllm_string *s);

onnxllm_status onnxllm_tokenizer_load(const char *path_to_tokenizer_json, onnxllm_tokenizer **out,
                                      onnxllm_error *err);
/* Same from JSON text in memory; `name` is used in error messages. */
onnxllm_status onnxllm_tokenizer_load_from_memory(const char *json, size_t len, const char *name,
                                                  onnxllm_tokenizer **out, onnxllm_error *err);
void onnxllm_tokenizer_free(onnxllm_tokenizer *tok);

/* Encode flags. */
#define ONNXLLM_TOKENIZE_ADD_SPECIAL 1u   /* run the post-processor (e.g. prepend BOS)  */
#define ONNXLLM_TOKENIZE_PARSE_SPECIAL 2u /* added tokens with special=true in the text
                                             become their ids (HF default). Without it they
                                             are ordinary text (HF encode_special_tokens):
                                             non-special added tokens are always matched. */
/* Encodes `len` bytes of UTF-8 text and APPENDS the ids to *out (set out->len = 0
 * first to reuse a buffer). Invalid UTF-8 is not an error: each maximal invalid
 * subsequence is replaced by U+FFFD first (like Rust's String::from_utf8_lossy,
 * which is what HF sees when a host language converts such bytes to a string). */
onnxllm_status onnxllm_tokenizer_encode(const onnxllm_tokenizer *tok, const char *text, size_t len,
                                        unsigned flags, onnxllm_tokens *out, onnxllm_error *err);

/* Decodes ids and APPENDS the text to *out. Ids that are not tokens (e.g. Phi-4-mini
 * 200029..200063, which exist only in the model's embedding) are skipped, like HF.
 * skip_special drops added tokens marked special. */
onnxllm_status onnxllm_tokenizer_decode(const onnxllm_tokenizer *tok, const int32_t *ids, size_t n,
                                        bool skip_special, onnxllm_string *out, onnxllm_error *err);

/* Id of a token string (vocab or added token, e.g. "<|end|>"), -1 when absent. */
int32_t onnxllm_tokenizer_token_to_id(const onnxllm_tokenizer *tok, const char *token);
/* Token string of an id as written in tokenizer.json (e.g. "Ġhello"), NULL when the
 * id is not a token. The pointer lives as long as the tokenizer. */
const char *onnxllm_tokenizer_id_to_token(const onnxllm_tokenizer *tok, int32_t id);
/* true when id is an added token with "special": true. */
bool onnxllm_tokenizer_is_special(const onnxllm_tokenizer *tok, int32_t id);
/* 1 + the largest id of the vocabulary and the added tokens (Phi-4-mini: 200029;
 * the model's embedding may be larger). */
size_t onnxllm_tokenizer_vocab_size(const onnxllm_tokenizer *tok);
/* Checks that every id the tokenizer can produce is below model_vocab_size (use
 * onnxllm_model_vocab_size()): ONNXLLM_ERR_MISMATCH with a message naming both sizes
 * when the tokenizer does not belong to the model. Call it after loading both, before
 * the first prompt, so a wrong tokenizer.json is reported as such and not as an id
 * out of range in the middle of a conversation. */
onnxllm_status onnxllm_tokenizer_check_vocab(const onnxllm_tokenizer *tok, size_t model_vocab_size,
                                             onnxllm_error *err);

/* Streaming detokenizer: push ids one at a time, get the text they complete.
 * Matches HF tokenizers' DecodeStream (text is emitted once it no longer ends
 * with U+FFFD, so never a partial UTF-8 sequence), and flush() returns whatever
 * is still held so that all pushes + flush == one-shot decode. Buffers grow only
 * while a pending window grows; no allocation per token in steady state.
 * One handle per stream (not shared between threads); the tokenizer must outlive it. */
typedef struct onnxllm_detok onnxllm_detok;
onnxllm_status onnxllm_detok_create(const onnxllm_tokenizer *tok, bool skip_special, onnxllm_detok **out,
                                    onnxllm_error *err);
void onnxllm_detok_free(onnxllm_detok *d);
/* text, len: the newly completed text (len 0 when none yet); valid until the next
 * call on this handle. The text is NUL-terminated. */
onnxllm_status onnxllm_detok_push(onnxllm_detok *d, int32_t id, const char **text, size_t *len,
                                  onnxllm_error *err);
/* Returns the text still held (possibly ending in U+FFFD) and resets the stream. */
onnxllm_status onnxllm_detok_flush(onnxllm_detok *d, const char **text, size_t *len, onnxllm_error *err);
void onnxllm_detok_reset(onnxllm_detok *d);

/* ============================================================================
 * Model writer (ONNX graphs of the onnxruntime-genai layout)  — src/onnx/, src/writer/
 * ==========================================================================*/
/* Writes a model folder (genai_config.json, model.onnx, model.onnx.data[, tokenizer
 * files]) of onnxruntime-genai's Phi-3 layout with deterministic random weights:
 * the same preset + seed always gives the same weights, in every precision.
 * Presets: "tiny-gqa", "tiny-mha", "tiny-gqa-untied", "tiny-1layer" (tests, < 1 s),
 * "demo" (Phi-4-mini vocabulary and rope table, small body), "phi-4-mini" (full
 * size, 3.8B parameters: ~4.9 GB int4, streamed layer by layer). */
typedef enum onnxllm_precision {
    ONNXLLM_PRECISION_INT4 = 0, /* MatMulNBits, 4-bit blocks of 32 (the published layout) */
    ONNXLLM_PRECISION_FP32 = 1  /* plain MatMul with fp32 weights (CPU only) */
} onnxllm_precision;

typedef enum onnxllm_target {
    ONNXLLM_TARGET_CPU = 0,     /* fp32 inputs/outputs, MatMulNBits accuracy_level 4 */
    ONNXLLM_TARGET_CUDA = 1     /* fp16 inputs/outputs, KV cache and scales */
} onnxllm_target;

typedef struct onnxllm_build_params {
    onnxllm_precision precision;    /* default INT4 */
    onnxllm_target target;          /* default CPU */
    const char *tokenizer_dir;      /* tokenizer.json (+ tokenizer_config.json, ...) copied in; NULL = none */
    /* Progress, called after each step (embedding + lm_head, then each layer). */
    void (*progress)(void *user, int done, int total);
    void *progress_user;
} onnxllm_build_params;

onnxllm_build_params onnxllm_build_default_params(void);
/* NULL-terminated list of preset names. */
const char *const *onnxllm_build_presets(void);
/* Errors: unknown preset → ONNXLLM_ERR_INVALID_ARGUMENT; folder not creatable /
 * disk full → ONNXLLM_ERR_IO. p may be NULL (defaults). */
onnxllm_status onnxllm_build_model(const char *preset, uint64_t seed, const onnxllm_build_params *p,
                                   const char *out_dir, onnxllm_error *err);
/* The vocabulary size (embedding rows) of a preset, 0 for an unknown name — e.g. to
 * check a tokenizer_dir with onnxllm_tokenizer_check_vocab() before a long build. */
int onnxllm_build_preset_vocab_size(const char *preset);

/* Converts a Hugging Face Phi3ForCausalLM checkpoint (Phi-3-mini, Phi-3.5-mini,
 * Phi-4-mini): hf_dir/config.json (+ generation_config.json) and model.safetensors or
 * sharded model-*.safetensors with model.safetensors.index.json (BF16, F16 or F32), to
 * out_dir in the layout above, streamed layer by layer. p->tokenizer_dir NULL: the
 * tokenizer files of hf_dir are copied when it has a tokenizer.json. p may be NULL. */
onnxllm_status onnxllm_convert(const char *hf_dir, const onnxllm_build_params *p, const char *out_dir,
                               onnxllm_error *err);
/* An fp32 CPU model folder of this layout (build-model / convert with precision fp32)
 * to the CPU int4 one (MatMulNBits, block 32, ONNX Runtime's RTN formula): the result
 * is byte-identical to building int4 from the same weights. p->precision must be INT4
 * and p->target CPU (the defaults); tokenizer files as for onnxllm_convert. */
onnxllm_status onnxllm_quantize(const char *in_dir, const onnxllm_build_params *p, const char *out_dir,
                                onnxllm_error *err);

/* Describes model.onnx (or the model.onnx of a folder) without reading its weights:
 * inputs and outputs, every node with its attributes (If-subgraphs included) and every
 * initializer with dtype, shape, bytes and where its data lives. json false: text for
 * people; true: one JSON document {inputs, outputs, nodes, initializers, ir_version,
 * producer_name, producer_version, opsets}. *out: release with onnxllm_free(). */
onnxllm_status onnxllm_inspect(const char *path, bool json, char **out, onnxllm_error *err);

/* ============================================================================
 * Engine: model folder, session, KV cache, generation  — src/engine/, src/sampler/
 * ==========================================================================*/
/*
 * A model is a loaded folder (genai_config.json + model.onnx): config, ORT
 * environment and one inference session. It is read-only once loaded and can be
 * shared by many sequences (each used by one thread at a time).
 *
 * A sequence is one conversation: its token ids, its KV cache (allocated once at
 * max_length tokens) and the logits of its last computed position. Tokens are
 * "computed" once their KV entries are in the cache; onnxllm_sequence_step()
 * returns a sampled token that is appended but not yet computed — the next step()
 * or append() runs it together with whatever follows (one ORT run per token).
 */
typedef struct onnxllm_model onnxllm_model;
typedef struct onnxllm_sequence onnxllm_sequence;
typedef struct onnxllm_sampler onnxllm_sampler;

typedef struct onnxllm_model_params {
    int n_threads;       /* ORT intra-op threads; 0 = genai_config's intra_op_num_threads,
                            else all physical cores */
    const char *ep;      /* "cpu" or "cuda"; NULL = "cuda" if genai_config lists a cuda
                            provider, else "cpu" */
    int device_id;       /* CUDA device (ep "cuda") */
    int max_length;      /* KV capacity per sequence in tokens (prompt + generated);
                            0 = genai_config's search.max_length (else context_length),
                            at most 4096; must be <= context_length */
    bool no_shared_kv;   /* true: feed past and receive present as separate tensors
                            (fallback mode) instead of one shared buffer */
    bool full_logits;    /* true: run the graph as published, logits for every prompt
                            position; false (default): lm_head is computed for the last
                            position only (the one generation reads; same values) */
    bool hugepages;      /* CPU: the weights ONNX Runtime prepacks while the session is
                            created go on transparent huge pages as they are written (decode
                            reads every weight per token: fewer TLB misses, +5-9% decode on
                            the bench machine; nothing is copied). How: this model's session
                            gets an allocator of onnxllm's instead of ORT's CPU arena (blocks
                            of >= 2 MiB are 2 MiB-aligned mappings advised MADV_HUGEPAGE),
                            registered with ORT's process-wide environment while the session
                            is created. Other memory of the process is not touched. A load
                            running at the same moment as another one that uses it loads
                            without (same results, 4 KiB pages). A host application that
                            registers ORT environment allocators itself must not do so while
                            a model loads with this on.
                            Default false; the onnxllm CLI and server turn it on. */
} onnxllm_model_params;

onnxllm_model_params onnxllm_model_default_params(void);

/* Parses and validates dir/genai_config.json and the files it names, creates the
 * session and checks its inputs/outputs against the config. Every problem is one
 * line naming the file and field (ONNXLLM_ERR_IO / _FORMAT / _MISMATCH / _UNSUPPORTED). */
onnxllm_status onnxllm_model_load(const char *dir, const onnxllm_model_params *params,
                                  onnxllm_model **out, onnxllm_error *err);
void onnxllm_model_free(onnxllm_model *m);

const char *onnxllm_model_dir(const onnxllm_model *m);
const char *onnxllm_model_type(const onnxllm_model *m);          /* genai model.type, e.g. "phi3" */
const char *onnxllm_model_ep(const onnxllm_model *m);            /* "cpu" or "cuda" */
int onnxllm_model_vocab_size(const onnxllm_model *m);
int onnxllm_model_context_length(const onnxllm_model *m);
int onnxllm_model_max_length(const onnxllm_model *m);            /* effective KV capacity */
int onnxllm_model_n_threads(const onnxllm_model *m);
int32_t onnxllm_model_bos(const onnxllm_model *m);
int32_t onnxllm_model_pad(const onnxllm_model *m);
/* The eos id list (genai_config model.eos_token_id); *n receives its length. */
const int32_t *onnxllm_model_eos(const onnxllm_model *m, size_t *n);
bool onnxllm_model_is_eos(const onnxllm_model *m, int32_t token);
/* Bytes of weights read per decoded token (all initializers except the embedding
 * table, of which one row is read) — the numerator of the decode-speed limit. */
uint64_t onnxllm_model_weight_bytes_per_token(const onnxllm_model *m);

/* ---- sampling ---------------------------------------------------------------
 * Order (as llama.cpp / HF): penalties → temperature → top-k → top-p → min-p →
 * draw. Greedy (argmax, no RNG) when temperature <= 0 or top_k == 1. */
typedef struct onnxllm_sampler_params {
    float temperature;        /* 1.0; <= 0 → greedy */
    int top_k;                /* 0 = off (whole vocabulary); 1 = greedy */
    float top_p;              /* 1.0 = off */
    float min_p;              /* 0.0 = off: drop tokens with p < min_p * p_max */
    float repetition_penalty; /* 1.0 = off: logit>0 ? logit/r : logit*r, for tokens seen */
    float presence_penalty;   /* 0.0 = off: logit -= presence if token seen */
    float frequency_penalty;  /* 0.0 = off: logit -= frequency * count */
    int penalty_last_n;       /* window of recent tokens the penalties look at; 0 = all, -1 = none */
    uint64_t seed;            /* RNG seed; the same seed gives the same tokens */
    bool ignore_eos;          /* onnxllm_generate only: an eos id does not end generation (it is
                                 passed to on_token like any token); for benchmarks and tests */
} onnxllm_sampler_params;

onnxllm_sampler_params onnxllm_sampler_default_params(void);
/* Greedy: temperature 0 (all other fields default). */
onnxllm_sampler_params onnxllm_sampler_greedy_params(void);
/* The model's own defaults, as onnxruntime-genai applies them: genai_config.json
 * "search" — greedy unless do_sample is true, then its temperature, top_k and top_p
 * (values outside (0, 1) for top_p, <= 0 for top_k, mean off); its repetition_penalty
 * over the whole sequence (penalty_last_n 0). Absent fields: genai's defaults (greedy).
 * Start from these and override what the user set (the CLI's flags do exactly that). */
onnxllm_sampler_params onnxllm_model_sampler_params(const onnxllm_model *m);

/* A sampler owns its RNG state and a vocabulary-sized scratch buffer. */
onnxllm_status onnxllm_sampler_create(const onnxllm_sampler_params *p, int vocab_size,
                                      onnxllm_sampler **out, onnxllm_error *err);
void onnxllm_sampler_free(onnxllm_sampler *s);
/* Re-seeds the RNG (reproducible restarts). */
void onnxllm_sampler_reset(onnxllm_sampler *s, uint64_t seed);
/* Picks a token from n_vocab fp32 logits; history (may be NULL) feeds the penalties.
 * The logits are not modified. */
int32_t onnxllm_sampler_sample(onnxllm_sampler *s, const float *logits, int n_vocab,
                               const int32_t *history, size_t n_history);
/* The same among the tokens allowed by `mask` (bit id&31 of word id/32 set, as
 * onnxllm_matcher_fill_mask fills it; NULL = all): a disallowed token is never
 * drawn, greedy picks the best allowed one. Returns -1 when the mask allows no
 * token. Does not allocate. */
int32_t onnxllm_sampler_sample_masked(onnxllm_sampler *s, const float *logits, int n_vocab, const uint32_t *mask,
                                      size_t n_words, const int32_t *history, size_t n_history);

/* ---- sequences --------------------------------------------------------------*/
onnxllm_status onnxllm_sequence_create(onnxllm_model *m, onnxllm_sequence **out, onnxllm_error *err);
void onnxllm_sequence_free(onnxllm_sequence *s);

/* Appends tokens and computes them (prefill; may be called several times — each
 * call is one ORT run together with a pending sampled token, if any). n == 0
 * computes what is pending (so that onnxllm_sequence_logits() is available). Fails with
 * ONNXLLM_ERR_INVALID_ARGUMENT when the sequence would exceed max_length or an id
 * is outside [0, vocab). Afterwards the last position's logits are available. */
onnxllm_status onnxllm_sequence_append(onnxllm_sequence *s, const int32_t *ids, size_t n,
                                       onnxllm_error *err);
/* Keeps the first n tokens (n <= length) and drops the rest; the cache is reused
 * for the kept prefix (the last kept token is recomputed on the next run). */
onnxllm_status onnxllm_sequence_rewind_to(onnxllm_sequence *s, size_t n, onnxllm_error *err);
/* Prefix reuse: how many leading tokens of ids[0..n) to keep from what s holds
 * (rewind_to() that many, then append the rest) so that the result is what computing
 * ids from scratch gives: the longest common prefix with the sequence's tokens, at
 * most n - 1 (one token must run to give logits), and 0 when the cached keys were
 * computed with the other LongRoPE table than a fresh run of n tokens would use
 * (Phi-3 family: a prompt of 4097+ tokens is computed with the long factors from
 * position 0). *n_cached (may be NULL) receives how many positions' KV entries will
 * actually be reused, i.e. not recomputed. */
size_t onnxllm_sequence_reusable_prefix(const onnxllm_sequence *s, const int32_t *ids, size_t n, size_t *n_cached);
size_t onnxllm_sequence_length(const onnxllm_sequence *s);        /* tokens, incl. pending */
const int32_t *onnxllm_sequence_tokens(const onnxllm_sequence *s);
/* fp32 logits [vocab] of the last computed position, or NULL when a token is pending
 * or nothing was computed yet. */
const float *onnxllm_sequence_logits(const onnxllm_sequence *s);

/* Computes pending tokens (if any), samples the next token from the last logits,
 * appends it (pending) and returns it in *token. Fails with INVALID_ARGUMENT when
 * the sequence is already at max_length. */
onnxllm_status onnxllm_sequence_step(onnxllm_sequence *s, onnxllm_sampler *smp, int32_t *token,
                                     onnxllm_error *err);
/* The same, drawing only among the tokens `mask` allows (see
 * onnxllm_sampler_sample_masked); ONNXLLM_ERR_INVALID_ARGUMENT (nothing appended)
 * when the mask allows no token. */
onnxllm_status onnxllm_sequence_step_masked(onnxllm_sequence *s, onnxllm_sampler *smp, const uint32_t *mask,
                                            size_t n_words, int32_t *token, onnxllm_error *err);

/* Thread-safe (also from a signal handler): cancels ONE call on s — the
 * append/step/generate running now, or, when none is running, the next one (a
 * request made just before a call starts is never lost). That call returns
 * ONNXLLM_ERR_CANCELLED promptly (an ORT run in flight is terminated) and the
 * sequence stays valid: a cancelled append() is undone, a cancelled step() leaves its
 * pending token pending, a cancelled generate() keeps the tokens it produced. The
 * request is used up by the call it cancels; later calls run normally. A request
 * that arrives after a call's last check (its run already complete) cancels the
 * next call. rewind_to() does not take it. */
void onnxllm_sequence_cancel(onnxllm_sequence *s);
/* Withdraws a cancel request that no call has taken yet; true when there was one.
 * For owners that hand a sequence to a new job: a late cancel meant for the previous
 * job must not stop the new one. Thread-safe. */
bool onnxllm_sequence_cancel_reset(onnxllm_sequence *s);

/* ---- generation loop ---------------------------------------------------------*/
/* Called for each generated token (eos included); return false to stop. */
typedef bool (*onnxllm_token_cb)(int32_t token, void *user);

typedef enum onnxllm_stop_reason {
    ONNXLLM_STOP_NONE = 0,
    ONNXLLM_STOP_EOS,        /* an eos id was generated (it is the last token) */
    ONNXLLM_STOP_MAX_TOKENS, /* max_new_tokens generated */
    ONNXLLM_STOP_MAX_LENGTH, /* the sequence reached max_length */
    ONNXLLM_STOP_CALLBACK,   /* on_token returned false */
    ONNXLLM_STOP_CANCELLED   /* onnxllm_sequence_cancel (status ONNXLLM_ERR_CANCELLED) */
} onnxllm_stop_reason;

typedef struct onnxllm_generate_result {
    int n_prompt;            /* pending tokens computed before the first sample (prefill) */
    int n_generated;         /* tokens generated (passed to on_token) */
    double prefill_ms;       /* time to first token: prefill run + first sample */
    double decode_ms;        /* the remaining n_generated - 1 tokens */
    onnxllm_stop_reason stop;
} onnxllm_generate_result;

/* Generates up to max_new_tokens tokens after what the sequence holds (append the
 * prompt first; pending tokens are computed first). Stops on any eos id (unless
 * sp->ignore_eos), max_new_tokens, max_length, a false from on_token, or cancellation. */
onnxllm_status onnxllm_generate(onnxllm_sequence *s, const onnxllm_sampler_params *sp,
                                int max_new_tokens, onnxllm_token_cb on_token, void *user,
                                onnxllm_generate_result *result, onnxllm_error *err);

typedef struct onnxllm_matcher onnxllm_matcher; /* see "Grammar" below */
/* onnxllm_generate with more options (extend with onnxllm_generate_default_params). */
typedef struct onnxllm_generate_params {
    const onnxllm_sampler_params *sampler; /* NULL = onnxllm_sampler_default_params() */
    int max_new_tokens;                    /* default 256 */
    onnxllm_token_cb on_token;             /* may be NULL */
    void *user;
    /* Constrained decoding (NULL = none): every token comes from the matcher's mask
     * and is accepted into it; a token that is the only one allowed ("forced") is
     * appended without sampling (consecutive forced tokens in one model run);
     * eos is possible only when the output is complete. The matcher must be at
     * the start of this output (or where a previous call left it). */
    onnxllm_matcher *matcher;
} onnxllm_generate_params;
onnxllm_generate_params onnxllm_generate_default_params(void);
onnxllm_status onnxllm_generate_ex(onnxllm_sequence *s, const onnxllm_generate_params *p,
                                   onnxllm_generate_result *result, onnxllm_error *err);

/* ============================================================================
 * Scheduler: many requests sharing one model          — src/scheduler/
 * ==========================================================================*/
/*
 * A scheduler runs requests (prompt ids in, generated ids out) on one model with
 * one thread of its own that owns every ONNX Runtime run:
 *  - n_slots sequences live at once, each in a slot of one KV slab (lazily resident:
 *    only positions in use count towards RSS);
 *  - continuous batching: every step, the next token of every running request goes
 *    through one ORT run (rows with their own lengths); requests join and leave
 *    between steps;
 *  - chunked prefill: long prompts are computed in chunks between the decode steps
 *    of the running requests (chunks sized so that those keep ~44 % of their rate);
 *  - prefix cache: a request reuses the longest prefix it shares with any slot —
 *    its KV in place (an idle slot) or copied (from a busy or kept slot) — and idle
 *    slots keep their KV until evicted (LRU) under kv_budget_bytes; with cache_dir,
 *    evicted and left-over idle slots are written to disk and loaded back when a
 *    later request (or a later process) shares their prefix;
 *  - admission: a request that cannot fit (prompt + max_new_tokens > max_length) is
 *    refused at submit; when every slot is busy, requests wait in a FIFO queue of
 *    max_queue; past it submit fails with ONNXLLM_ERR_OVERLOADED. Running requests
 *    are never aborted to make room.
 * Tokens are what the engine produces for the same request alone (greedy: the
 * same ids; batched rows are computed independently — see docs/scheduler.md for
 * when their logits are bit-identical), and a reused prefix never changes them
 * (no reuse across the LongRoPE table switch).
 * Thread safety: every function below may be called from any thread, except that
 * request callbacks run on the scheduler's thread and must not call
 * onnxllm_request_wait() or onnxllm_request_free() on their own request.
 */
typedef struct onnxllm_scheduler onnxllm_scheduler;
typedef struct onnxllm_request onnxllm_request;

typedef struct onnxllm_scheduler_params {
    int n_slots;                  /* sequences held at once (running + cached); default 4 */
    int max_queue;                /* requests waiting for a slot; default 64 (0 = none wait) */
    int prefill_chunk;            /* most prompt tokens per prefill run (when others decode,
                                     runs are made shorter, sized from measured times);
                                     0 = default 256 (docs/scheduler.md says why) */
    uint64_t kv_budget_bytes;     /* resident KV of all slots; 0 = half of MemAvailable at
                                     create, at most what n_slots full slots need */
    int min_reuse;                /* shortest shared prefix worth copying between slots;
                                     default 16 tokens (in-place reuse has no minimum) */
    const char *cache_dir;        /* persistent prefix cache folder (created); NULL = off */
    uint64_t cache_dir_max_bytes; /* cache_dir size bound, oldest files removed; default 8 GiB */
} onnxllm_scheduler_params;

onnxllm_scheduler_params onnxllm_scheduler_default_params(void);

/* Creates the slab (address space only) and starts the scheduler thread. The model
 * must outlive the scheduler. Errors: INVALID_ARGUMENT (params), UNSUPPORTED (a
 * model the scheduler cannot batch is still served, one row per run — never an
 * error), OUT_OF_MEMORY, IO (cache_dir not creatable). */
onnxllm_status onnxllm_scheduler_create(onnxllm_model *m, const onnxllm_scheduler_params *p,
                                        onnxllm_scheduler **out, onnxllm_error *err);
/* Cancels every request (their on_done runs with ONNXLLM_STOP_CANCELLED), writes
 * idle slots to cache_dir when set, stops the thread and frees everything. Request
 * handles not yet freed stay valid for onnxllm_request_wait/_free. */
void onnxllm_scheduler_free(onnxllm_scheduler *s);

typedef struct onnxllm_request_result {
    onnxllm_status status;        /* ONNXLLM_OK, or why the request failed */
    onnxllm_error error;          /* the message when status != OK */
    onnxllm_stop_reason stop;
    int n_prompt;                 /* prompt tokens */
    int n_cached;                 /* of which served from the prefix cache (not computed) */
    int n_generated;              /* tokens passed to on_token */
    double queue_ms;              /* submit -> a slot was given */
    double ttft_ms;               /* submit -> first token */
    double prefill_ms;            /* slot given -> first token */
    double decode_ms;             /* first -> last token */
    double total_ms;              /* submit -> done */
} onnxllm_request_result;

typedef struct onnxllm_request_params {
    const int32_t *prompt;        /* copied at submit */
    size_t n_prompt;              /* >= 1 */
    onnxllm_sampler_params sampler;
    int max_new_tokens;           /* > 0; prompt + max_new_tokens must fit max_length */
    /* Called on the scheduler thread (keep them short; may be NULL). on_token sees
     * every generated id (eos included); returning false stops the request
     * (ONNXLLM_STOP_CALLBACK). on_admit runs once the request has a slot (before its
     * prompt is computed). on_progress reports prompt computation after each prefill
     * run (n_done of n_prompt, cached tokens included). on_done is called exactly
     * once, last, also for cancelled and failed requests. */
    bool (*on_token)(int32_t token, void *user);
    void (*on_admit)(int n_cached, void *user); /* got a slot; n_cached prompt tokens reused */
    void (*on_progress)(int n_done, int n_prompt, void *user);
    void (*on_done)(const onnxllm_request_result *r, void *user);
    void *user;
    /* Testing and replay: these tokens (copied) are emitted in order instead of
     * sampled — each still computed by the model — then sampling goes on. */
    const int32_t *forced;
    size_t n_forced;
    /* Constrained decoding (NULL = none): every token is drawn from the matcher's
     * mask and accepted into it (forced tokens above too: one it refuses fails the
     * request with INVALID_ARGUMENT); a token that is the only one allowed is
     * appended without sampling, consecutive ones computed in one run; eos only
     * once the output is complete, and a finished output ends the request (even
     * with ignore_eos). The matcher (of a grammar over this model's vocabulary,
     * at the start of the output or where the caller advanced it) belongs to the
     * request until on_done has been called: the caller frees it (and its grammar)
     * after that. Costs one vocabulary-sized bit mask per request, nothing per token. */
    onnxllm_matcher *matcher;
} onnxllm_request_params;

/* Greedy sampling, max_new_tokens 256, no callbacks. */
onnxllm_request_params onnxllm_request_default_params(void);

/* Queues a request; *out is set before any of its callbacks can run. Errors (before
 * any work, nothing queued, *out NULL): INVALID_ARGUMENT
 * (empty prompt, an id outside the vocabulary, prompt + max_new_tokens over
 * max_length — the message gives the numbers), OVERLOADED (max_queue requests
 * already wait; retry later), CANCELLED (the scheduler is shutting down). */
onnxllm_status onnxllm_scheduler_submit(onnxllm_scheduler *s, const onnxllm_request_params *p,
                                        onnxllm_request **out, onnxllm_error *err);
/* Asks the request to stop (from any thread, callbacks included): a waiting request leaves
 * the queue, a running one frees its slot at the next step (an ORT run computing
 * its prompt is terminated). Its on_done reports ONNXLLM_STOP_CANCELLED. */
void onnxllm_request_cancel(onnxllm_request *r);
/* Blocks until the request is done; copies its result. */
void onnxllm_request_wait(onnxllm_request *r, onnxllm_request_result *out);
/* Cancels the request if it is not done, waits until the scheduler thread has let
 * go of it (no callback runs after this returns) and frees the handle. */
void onnxllm_request_free(onnxllm_request *r);

typedef struct onnxllm_scheduler_stats {
    int n_slots, running, waiting, cached; /* cached: idle slots holding a prefix */
    uint64_t kv_bytes, kv_budget_bytes;    /* resident KV (positions held) and the budget */
    uint64_t prefix_queries, prefix_hits;  /* prompt tokens looked up / served from the cache */
    uint64_t prompt_tokens, generation_tokens, requests_finished, requests_refused;
    uint64_t disk_writes, disk_loads;      /* cache_dir entries written / loaded */
} onnxllm_scheduler_stats;
void onnxllm_scheduler_get_stats(onnxllm_scheduler *s, onnxllm_scheduler_stats *out);

/* Appends the Prometheus text exposition of the scheduler's metrics, with vLLM's
 * names (vllm:num_requests_running, vllm:num_requests_waiting,
 * vllm:kv_cache_usage_perc, vllm:prefix_cache_queries, vllm:prefix_cache_hits,
 * vllm:prompt_tokens_total, vllm:generation_tokens_total,
 * vllm:request_success_total, histograms vllm:time_to_first_token_seconds,
 * vllm:inter_token_latency_seconds, vllm:e2e_request_latency_seconds,
 * vllm:request_queue_time_seconds, vllm:request_prompt_tokens,
 * vllm:request_generation_tokens, and vllm:cache_config_info) labelled
 * model_name="<model_name>". */
onnxllm_status onnxllm_scheduler_metrics(onnxllm_scheduler *s, const char *model_name, onnxllm_string *out,
                                         onnxllm_error *err);

/* ============================================================================
 * Chat: templates, tool calls, stop strings           — src/chat/
 * ==========================================================================*/
/* Chat templates. onnxllm does not embed a Jinja engine: it recognises the
 * model's template text (tokenizer_config.json "chat_template", or
 * chat_template.jinja) among the known ones and renders it with a native
 * renderer that reproduces Jinja2's output (and its errors) byte for byte. */
typedef enum onnxllm_template_kind {
    ONNXLLM_TEMPLATE_PHI4 = 1,     /* Phi-4-mini-instruct: <|role|>content<|end|>…, tools in the system turn */
    ONNXLLM_TEMPLATE_PHI4_NO_EOS,  /* the same without the eos_token branch (seen in some re-uploads) */
    ONNXLLM_TEMPLATE_PHI3,         /* Phi-3-mini-*-instruct: <|role|>\ncontent<|end|>\n, system/user/assistant only */
    ONNXLLM_TEMPLATE_PHI35         /* Phi-3.5-mini-instruct: Phi-3 but an empty system message is skipped */
} onnxllm_template_kind;

typedef struct onnxllm_template onnxllm_template;

/* Loads the chat template of a model folder: MODEL_DIR/chat_template.jinja if present,
 * else tokenizer_config.json "chat_template" (a string, or a list of {name, template}
 * from which "default" is taken). eos_token comes from tokenizer_config.json.
 * An unknown template → ONNXLLM_ERR_UNSUPPORTED ("unsupported chat template").
 * A folder without any template falls back on genai_config.json: model.type "phi3"
 * with vocab_size >= 200000 → PHI4, model.type "phi3" otherwise → PHI3 (eos
 * "<|endoftext|>"); anything else → ONNXLLM_ERR_UNSUPPORTED. */
onnxllm_status onnxllm_template_load(const char *model_dir, onnxllm_template **out, onnxllm_error *err);
/* A known template without a folder; eos_token NULL → "<|endoftext|>". */
onnxllm_status onnxllm_template_builtin(onnxllm_template_kind kind, const char *eos_token, onnxllm_template **out,
                                        onnxllm_error *err);
onnxllm_template_kind onnxllm_template_kind_of(const onnxllm_template *t);
const char *onnxllm_template_name(const onnxllm_template *t); /* "phi4", "phi3", ... */
const char *onnxllm_template_eos(const onnxllm_template *t);
void onnxllm_template_free(onnxllm_template *t);

/* One chat message. content NULL renders like JSON null (an error, as in Jinja).
 * tools: Phi-4 only, a string placed between <|tool|> and <|/tool|> when the
 * role is "system" (what Hugging Face users pass as json.dumps(tools)); NULL = none. */
typedef struct onnxllm_chat_message {
    const char *role;
    const char *content;
    const char *tools;
} onnxllm_chat_message;

/* Renders messages to a prompt string (*out, release with onnxllm_free()).
 * tools_json: NULL, or a JSON array of tool definitions in OpenAI form
 * ({"type":"function","function":{name,description,parameters}}), Anthropic form
 * ({name,description,input_schema}) or plain {name,description,parameters}. For
 * Phi-4 it is serialised by onnxllm_chat_format_tools and set as the `tools` of
 * the first system message; when there is no system message, one with empty
 * content is put first. An empty array means no tools. Templates without tool
 * support reject non-empty tools (ONNXLLM_ERR_UNSUPPORTED).
 * Errors the Jinja template raises are ONNXLLM_ERR_INVALID_ARGUMENT naming the
 * message: missing or null or non-string content/role where the template
 * concatenates it, `tools` on a system message that is not a string. */
onnxllm_status onnxllm_chat_render(const onnxllm_template *t, const onnxllm_chat_message *messages, size_t n,
                                   const char *tools_json, bool add_generation_prompt, char **out,
                                   onnxllm_error *err);
/* The same from a JSON array of message objects (any keys; role/content/tools are read
 * with Jinja's semantics: a missing key is undefined, null is None, etc.). */
onnxllm_status onnxllm_chat_render_json(const onnxllm_template *t, const char *messages_json,
                                        const char *tools_json, bool add_generation_prompt, char **out,
                                        onnxllm_error *err);
/* Messages → prompt token ids, the way a server must encode a conversation: the
 * template's own markers (<|user|>, <|end|>, <|assistant|>, <|tool|>, eos_token, a role
 * that is a plain name) are special tokens; message contents, tools and other roles
 * are encoded WITHOUT special-token parsing, so "<|end|><|assistant|>" or
 * "<|tool_call|>" typed by a user or returned by a tool is text and cannot forge a turn
 * or a tool call. For every conversation whose contents contain no special-token text
 * the ids are exactly those of Hugging Face's apply_chat_template(tokenize=True) (=
 * onnxllm_chat_render + onnxllm_tokenizer_encode with ONNXLLM_TOKENIZE_PARSE_SPECIAL).
 * Invalid UTF-8 in contents becomes U+FFFD, as onnxllm_tokenizer_encode does.
 * The ids are APPENDED to *out (set out->len = 0 to reuse a buffer). Errors: those of
 * onnxllm_chat_render. Thread-safe on shared template and tokenizer. */
#define ONNXLLM_CHAT_SPECIAL_IN_CONTENT 1u /* opt-in to the old behaviour: special-token
                                              text inside contents becomes special tokens
                                              (what render + encode(PARSE_SPECIAL) gives;
                                              only for trusted contents) */
onnxllm_status onnxllm_chat_render_ids(const onnxllm_template *t, const onnxllm_tokenizer *tok,
                                       const onnxllm_chat_message *messages, size_t n, const char *tools_json,
                                       bool add_generation_prompt, unsigned flags, onnxllm_tokens *out,
                                       onnxllm_error *err);
/* The same from a JSON array of message objects (as onnxllm_chat_render_json). */
onnxllm_status onnxllm_chat_render_json_ids(const onnxllm_template *t, const onnxllm_tokenizer *tok,
                                            const char *messages_json, const char *tools_json,
                                            bool add_generation_prompt, unsigned flags, onnxllm_tokens *out,
                                            onnxllm_error *err);
/* Tool definitions → the string Phi-4 expects between <|tool|> and <|/tool|>:
 * Python json.dumps (separators ", " and ": ", ensure_ascii) of a list of
 * {"name", "description", "parameters"} objects (keys in that order, absent ones
 * left out; OpenAI's {"type":"function","function":{…}} is unwrapped, Anthropic's
 * input_schema becomes parameters). *out: release with onnxllm_free(). */
onnxllm_status onnxllm_chat_format_tools(const char *tools_json, char **out, onnxllm_error *err);

/* Tool calls in generated text: <|tool_call|>[{"name":…,"arguments":{…}}]<|/tool_call|>.
 * Parsed leniently: closing tag missing or replaced by <|end|>/<|endoftext|>; no
 * brackets; a bare object; several comma-separated objects; "arguments" given as a
 * JSON string or named "parameters"; OpenAI-style {"function":{…}}. A tool_call
 * segment whose payload is not valid JSON or has an object without a "name" is
 * kept as text and yields no calls. */
typedef struct onnxllm_tool_call {
    char *id;        /* "call_" + 24 random alphanumerics */
    char *name;
    char *arguments; /* compact JSON object text ("{}" when absent) */
} onnxllm_tool_call;

typedef struct onnxllm_tool_calls {
    onnxllm_tool_call *calls;
    size_t n;
    char *content;   /* the text outside the calls, concatenated ("" when none) */
} onnxllm_tool_calls;

onnxllm_status onnxllm_toolcalls_parse(const char *text, onnxllm_tool_calls *out, onnxllm_error *err);
void onnxllm_toolcalls_clear(onnxllm_tool_calls *tc); /* frees the fields, zeroes the struct */
/* OpenAI message.tool_calls: [{"id","type":"function","function":{"name","arguments"}}]. */
onnxllm_status onnxllm_toolcalls_openai_json(const onnxllm_tool_calls *tc, char **out, onnxllm_error *err);
/* Anthropic content blocks: [{"type":"text","text"} if content is not blank,
 * {"type":"tool_use","id":"toolu_…","name","input":{…}}…]. */
onnxllm_status onnxllm_toolcalls_anthropic_json(const onnxllm_tool_calls *tc, char **out, onnxllm_error *err);

/* Stop strings matched on the text as it streams, across piece boundaries.
 * Feed each decoded piece; the matcher hands back the text that is safe to show
 * now and holds back a tail that could be the start of a stop string. On a match
 * the text before the stop string is handed back, the stop string and anything
 * after it are dropped, and every later feed hands back nothing. */
typedef struct onnxllm_stop onnxllm_stop;
/* stops: n non-empty strings (copied). n == 0 gives a pass-through matcher. */
onnxllm_status onnxllm_stop_create(const char *const *stops, size_t n, onnxllm_stop **out, onnxllm_error *err);
/* *emit points into the matcher, valid until the next call on it; *matched is set
 * to true when a stop string completed in this piece (or earlier). */
onnxllm_status onnxllm_stop_feed(onnxllm_stop *s, const char *piece, size_t len, const char **emit,
                                 size_t *emit_len, bool *matched, onnxllm_error *err);
/* End of generation without a match: hands back the held-back tail. */
void onnxllm_stop_flush(onnxllm_stop *s, const char **emit, size_t *emit_len);
/* Index of the stop string that matched, -1 if none. */
int onnxllm_stop_matched(const onnxllm_stop *s);
void onnxllm_stop_reset(onnxllm_stop *s);
void onnxllm_stop_free(onnxllm_stop *s);

/* ============================================================================
 * Grammar: constrained decoding (JSON Schema, tool calls)   — src/grammar/
 * ==========================================================================*/
/* At each generation step a matcher gives the mask of tokens after which the
 * output is still a prefix of some valid document; the sampler draws only from
 * it, so a finished output always parses and validates.
 *
 *   onnxllm_grammar_vocab  per tokenizer, built once (token bytes, token trie);
 *                          immutable: share it between threads and grammars.
 *   onnxllm_grammar        a compiled JSON Schema / response_format / tool set;
 *                          immutable after compilation: any number of threads
 *                          may create matchers from it and use them at once.
 *   onnxllm_matcher        the state of one output (one request); one thread at a
 *                          time. fill_mask and accept do not allocate once warm.
 *
 * Masks are bit sets over the vocabulary: bit (id & 31) of word id / 32, set =
 * allowed; onnxllm_grammar_mask_words() words. eos ids are allowed only when
 * the output is complete. Unsupported schema keywords are a compile error
 * (ONNXLLM_ERR_UNSUPPORTED) whose message names the keyword and its place,
 * never silently ignored; annotations (title, description, default, ...) are
 * ignored. See docs/grammar.md for the exact coverage and whitespace rules. */
typedef struct onnxllm_grammar_vocab onnxllm_grammar_vocab;
typedef struct onnxllm_grammar onnxllm_grammar;

/* n_vocab: mask length (the model's vocabulary, >= the tokenizer's; 0 = the
 * tokenizer's). eos: the ids that end an output (e.g. onnxllm_model_eos), at most 8. */
onnxllm_status onnxllm_grammar_vocab_create(const onnxllm_tokenizer *tok, int n_vocab, const int32_t *eos, size_t n_eos,
                                            onnxllm_grammar_vocab **out, onnxllm_error *err);
void onnxllm_grammar_vocab_free(onnxllm_grammar_vocab *v);
int onnxllm_grammar_vocab_size(const onnxllm_grammar_vocab *v);
/* The bytes token `id` adds to the text (*len 0 and NULL for special/added tokens
 * and ids that are not tokens). Valid as long as v. */
const char *onnxllm_grammar_vocab_token_bytes(const onnxllm_grammar_vocab *v, int32_t id, size_t *len);

typedef enum onnxllm_whitespace {
    ONNXLLM_WS_FLEXIBLE = 0, /* JSON whitespace allowed between tokens, at most max_whitespace bytes per gap */
    ONNXLLM_WS_COMPACT = 1   /* none at all: {"a":1,"b":[2,3]} */
} onnxllm_whitespace;

typedef struct onnxllm_grammar_params {
    onnxllm_whitespace whitespace; /* default FLEXIBLE */
    int max_whitespace;            /* default 12 (bytes per gap: ", " / ": " / newline + indentation) */
    int max_depth;                 /* nesting limit of objects/arrays; default 64 */
    int max_configurations;        /* ambiguity kept at once (anyOf prefixes); default 128 */
} onnxllm_grammar_params;
onnxllm_grammar_params onnxllm_grammar_default_params(void);

/* A JSON Schema (text). Errors: malformed JSON → ONNXLLM_ERR_INVALID_ARGUMENT;
 * an unsupported keyword or an unsatisfiable schema → ONNXLLM_ERR_UNSUPPORTED /
 * ONNXLLM_ERR_INVALID_ARGUMENT with a message naming it. p may be NULL. */
onnxllm_status onnxllm_grammar_compile_json_schema(const onnxllm_grammar_vocab *v, const char *schema, size_t len,
                                                   const onnxllm_grammar_params *p, onnxllm_grammar **out,
                                                   onnxllm_error *err);
/* A response format (JSON text): OpenAI Chat response_format
 * {"type":"json_schema","json_schema":{"name","schema","strict"}} / {"type":"json_object"} /
 * {"type":"text"}, Responses text.format {"type":"json_schema","name","schema"} /
 * {"type":"json_object"} / {"type":"text"}, or Ollama's format ("json" or a schema object).
 * json_object = any JSON object. "text" → *out = NULL (no constraint), ONNXLLM_OK. */
onnxllm_status onnxllm_grammar_compile_response_format(const onnxllm_grammar_vocab *v, const char *format_json,
                                                       const onnxllm_grammar_params *p, onnxllm_grammar **out,
                                                       onnxllm_error *err);
/* Phi-4 tool calls: <|tool_call|>[{"name": NAME, "arguments": ARGS}, ...]<|/tool_call|>
 * where ARGS is an object valid for that tool's parameters.
 *   tools_json: JSON array in OpenAI ({"type":"function","function":{name, parameters}}),
 *     Anthropic ({name, input_schema}) or plain ({name, parameters}) form.
 *   tool_choice_json: NULL or "auto" / {"type":"auto"}: free text, or a tool call once
 *     the model emits <|tool_call|> (then constrained until <|/tool_call|>);
 *     "required" / "any" / {"type":"any"}: output is exactly a tool call;
 *     {"type":"function","function":{"name":N}} / {"type":"tool","name":N} / {"name":N}:
 *     exactly a call of tool N; "none" / {"type":"none"}: free text without tool calls.
 *     ({"disable_parallel_tool_use":true} in an Anthropic tool_choice turns parallel off.)
 *   parallel: several calls in the array (false: exactly one).
 * Needs <|tool_call|> and <|/tool_call|> in the vocabulary (Phi-4-mini). */
onnxllm_status onnxllm_grammar_compile_tools(const onnxllm_grammar_vocab *v, const char *tools_json,
                                             const char *tool_choice_json, bool parallel,
                                             const onnxllm_grammar_params *p, onnxllm_grammar **out,
                                             onnxllm_error *err);
void onnxllm_grammar_free(onnxllm_grammar *g);
size_t onnxllm_grammar_mask_words(const onnxllm_grammar *g);
const onnxllm_grammar_vocab *onnxllm_grammar_get_vocab(const onnxllm_grammar *g);

onnxllm_status onnxllm_matcher_create(const onnxllm_grammar *g, onnxllm_matcher **out, onnxllm_error *err);
void onnxllm_matcher_free(onnxllm_matcher *m);
void onnxllm_matcher_reset(onnxllm_matcher *m); /* back to the start of an output */
size_t onnxllm_matcher_mask_words(const onnxllm_matcher *m);
/* The allowed tokens now (n_words >= onnxllm_grammar_mask_words). After eos was
 * accepted the mask is empty. */
onnxllm_status onnxllm_matcher_fill_mask(onnxllm_matcher *m, uint32_t *mask, size_t n_words, onnxllm_error *err);
/* Advances by a token; ONNXLLM_ERR_INVALID_ARGUMENT (state unchanged) when it is
 * not allowed. An eos id is allowed only when accepting and ends the output. */
onnxllm_status onnxllm_matcher_accept(onnxllm_matcher *m, int32_t token, onnxllm_error *err);
/* Advances by raw text bytes (validation without a tokenizer). */
onnxllm_status onnxllm_matcher_accept_bytes(onnxllm_matcher *m, const char *s, size_t n, onnxllm_error *err);
bool onnxllm_matcher_is_accepting(const onnxllm_matcher *m); /* the output may end here */
bool onnxllm_matcher_is_finished(const onnxllm_matcher *m);  /* eos was accepted */
/* The one allowed token when the mask has exactly one bit set ("forced": append it
 * without sampling), else -1. */
int32_t onnxllm_mask_single(const uint32_t *mask, size_t n_words);

/* ============================================================================
 * Download of published models                        — src/pull/
 * ==========================================================================*/
/* `onnxllm pull`: download a folder of a Hugging Face model repository (by default
 * the CPU int4 folder of microsoft/Phi-4-mini-instruct-onnx) over HTTP(S) with
 * libcurl. Files go to OUT.partial/NAME.part, are resumed with Range requests,
 * checked against the repository's metadata (sha256 of LFS files, git blob sha1
 * and size of the others) and only when every file is verified is OUT.partial
 * renamed to OUT, so an interrupted pull never leaves an OUT that looks complete. */
#define ONNXLLM_PULL_DEFAULT_REPO "microsoft/Phi-4-mini-instruct-onnx"
#define ONNXLLM_PULL_DEFAULT_ENDPOINT "https://huggingface.co"

typedef struct onnxllm_pull_variant {
    const char *name;        /* "cpu", "gpu" */
    const char *folder;      /* folder in ONNXLLM_PULL_DEFAULT_REPO */
    const char *default_dir; /* default local folder, e.g. "models/phi-4-mini-cpu-int4" */
    const char *description;
} onnxllm_pull_variant;

/* The known variants (first = default); *count receives their number. */
const onnxllm_pull_variant *onnxllm_pull_variants(size_t *count);
/* The variant called `name`, or NULL. */
const onnxllm_pull_variant *onnxllm_pull_find_variant(const char *name);

typedef enum onnxllm_pull_event {
    ONNXLLM_PULL_LISTED,        /* listing fetched: file_count, total_size, total_done (already on disk) */
    ONNXLLM_PULL_FILE_START,    /* file, file_size, file_done (bytes kept from an earlier try) */
    ONNXLLM_PULL_FILE_PROGRESS, /* bytes arrived */
    ONNXLLM_PULL_FILE_VERIFIED, /* file complete, size and hash checked; message says which hash */
    ONNXLLM_PULL_RETRY,         /* transient failure; message says why and when the next try is */
    ONNXLLM_PULL_DONE           /* out_dir is complete; message says "downloaded" or "up to date" */
} onnxllm_pull_event;

typedef struct onnxllm_pull_progress {
    onnxllm_pull_event event;
    const char *file;            /* path relative to out_dir; NULL for LISTED / DONE */
    int file_index, file_count;  /* 1-based index of `file` */
    uint64_t file_done, file_size;
    uint64_t total_done, total_size;
    uint64_t session_bytes;      /* bytes received over the network by this call (for speeds) */
    const char *message;         /* see the events; NULL otherwise */
} onnxllm_pull_progress;

typedef struct onnxllm_pull_params {
    const char *endpoint;  /* default: $HF_ENDPOINT, else ONNXLLM_PULL_DEFAULT_ENDPOINT */
    const char *token;     /* default: $HF_TOKEN (or $HUGGING_FACE_HUB_TOKEN); NULL = anonymous.
                              Sent as "Authorization: Bearer" to the endpoint's host only,
                              never to a redirect target on another host (a CDN). */
    const char *repo;      /* default ONNXLLM_PULL_DEFAULT_REPO */
    const char *revision;  /* branch, tag or commit; default "main" */
    int max_retries;       /* per request: consecutive transient failures (connection reset,
                              timeout, HTTP 5xx/429) retried without progress; default 5 */
    int retry_delay_ms;    /* first backoff delay, doubled per retry up to 30 s; default 1000 */
    int connect_timeout_s; /* DNS + TCP + TLS; default 10. Metadata requests (revision, listing)
                              time out after twice this in all; an endpoint that cannot be
                              reached or does not answer them fails at once, without retries */
    int stall_timeout_s;   /* a transfer that receives nothing for this long is retried; default 60 */
    bool check_disk_space; /* fail before downloading when the disk cannot hold the rest; default true */
    void (*progress)(const onnxllm_pull_progress *p, void *user); /* may be NULL */
    void *progress_user;
    /* When non-NULL and *cancel becomes nonzero (e.g. from a SIGINT handler) the pull
     * stops within about a second with ONNXLLM_ERR_CANCELLED, keeping .part files. */
    const volatile int *cancel;
} onnxllm_pull_params;

onnxllm_pull_params onnxllm_pull_default_params(void);

/* Downloads every file under `folder` of params->repo ("" = the whole repository) into
 * out_dir, keeping the paths relative to `folder`. The branch is pinned to its commit
 * first, so every file comes from one snapshot; out_dir/.onnxllm-pull.json records it.
 * When out_dir already holds every file with the listed size (and hashes, per that
 * manifest) it succeeds without downloading ("up to date"). When it holds an older pull
 * of the same folder and nothing else, it is updated: unchanged files are hard-linked,
 * changed ones downloaded, and the new folder swapped in at once. Any other existing
 * out_dir is left alone (error). Errors: ONNXLLM_ERR_NETWORK (host
 * unreachable, HTTP 401/403/404, retries exhausted), ONNXLLM_ERR_CHECKSUM (a file's
 * hash differs: the file is deleted), ONNXLLM_ERR_IO (disk), ONNXLLM_ERR_FORMAT (bad
 * listing), ONNXLLM_ERR_CANCELLED. Not thread-safe for the same out_dir (a lock file
 * makes a second concurrent pull fail). */
onnxllm_status onnxllm_pull(const char *folder, const char *out_dir, const onnxllm_pull_params *params,
                            onnxllm_error *err);

/* What a folder made by onnxllm_pull holds, from its manifest (.onnxllm-pull.json). */
typedef struct onnxllm_pulled {
    char endpoint[256], repo[256], folder[512], revision[128], commit[64];
    size_t n_files;
    uint64_t bytes;  /* the listed files' sizes, summed */
    bool partial;    /* DIR.partial exists too: an interrupted pull or update */
} onnxllm_pulled;
/* ONNXLLM_ERR_IO when dir is missing or was not made by onnxllm_pull (no manifest). */
onnxllm_status onnxllm_pull_info(const char *dir, onnxllm_pulled *out, onnxllm_error *err);
/* Deletes a folder made by onnxllm_pull, and its DIR.partial staging folder. Refuses
 * (ONNXLLM_ERR_IO, nothing deleted) a folder without the manifest, a symbolic link, and
 * a folder holding any file the manifest does not list (the user's own). */
onnxllm_status onnxllm_pull_remove(const char *dir, onnxllm_error *err);

/* A ready-made progress callback (what `onnxllm pull` shows): on a terminal one
 * redrawn line (file, bytes, percent, MB/s, time left), otherwise a plain line every
 * few seconds (logs, CI). Use: p.progress = onnxllm_pull_print_progress;
 * p.progress_user = printer. One printer per pull. */
typedef struct onnxllm_pull_printer onnxllm_pull_printer;
onnxllm_status onnxllm_pull_printer_create(FILE *out, onnxllm_pull_printer **printer, onnxllm_error *err);
void onnxllm_pull_print_progress(const onnxllm_pull_progress *p, void *printer);
/* Ends a progress line left open (after an error) and frees the printer. */
void onnxllm_pull_printer_free(onnxllm_pull_printer *printer);

/* ============================================================================
 * Server: OpenAI- and Anthropic-compatible HTTP server  — src/server/ (libonnxllm_server)
 * ==========================================================================*/
/* `onnxllm serve`: Anthropic Messages (+ count_tokens), OpenAI Chat Completions,
 * Completions and Responses, streaming (SSE), tool calls, API keys, /health,
 * /livez, /metrics, /v1/models, /tokenize, /detokenize, /apply-template. docs/server.md
 * lists every route, field and status. Link libonnxllm_server (libmicrohttpd).
 *
 * Lifecycle: create() binds the socket and answers at once (GET /health is 503
 * "loading", generation routes 503); run() loads the model folder, then serves
 * until stop(); free() releases everything. stop() may be called from a signal
 * handler or any thread. */
typedef struct onnxllm_server onnxllm_server;

typedef struct onnxllm_server_params {
    const char *model_dir;            /* required: the model folder */
    const char *host;                 /* listen address; default "127.0.0.1" (loopback only) */
    int port;                         /* default 8080; 0 = any free port (see onnxllm_server_port) */
    const char *const *api_keys;      /* accepted keys (Authorization: Bearer, or x-api-key);
                                         n_api_keys == 0: no authentication */
    size_t n_api_keys;
    const char *const *aliases;       /* model names listed by /v1/models besides the folder's
                                         name (any requested model name is served by the model) */
    size_t n_aliases;
    int ctx;                          /* tokens of KV per sequence (prompt + answer); default
                                         0 = min(32768, the model's context length) */
    int parallel;                     /* scheduler slots: requests generated at once (batched)
                                         plus cached prefixes; default 4 */
    int max_queue;                    /* requests waiting for a slot; past it 429 (OpenAI) / 529
                                         (Anthropic) with Retry-After; default 64 */
    uint64_t kv_budget_bytes;         /* resident KV of all slots; 0 = the scheduler's default */
    const char *cache_dir;            /* persistent prefix cache folder; NULL = off */
    uint64_t cache_dir_max_bytes;     /* its size bound; 0 = the scheduler's default (8 GiB) */
    int threads;                      /* ONNX Runtime threads; 0 = the model's setting */
    const char *ep;                   /* "cpu" / "cuda"; NULL = the model folder's choice */
    const char *cors_origins;         /* NULL = no CORS headers; "*" or comma-separated origins */
    size_t max_body;                  /* request bodies above this get 413; default 16 MiB */
    int timeout_s;                    /* idle connection timeout; default 600 */
    int max_connections;              /* concurrent connections; default 64 */
    double ping_interval_s;           /* SSE keep-alive while nothing else is sent; default 5 */
    bool log_requests;                /* one line per request on stderr; default true */
    /* Tests only: answer every generation request with these texts in turn (encoded
     * with special tokens, e.g. "<|tool_call|>[…]<|/tool_call|>") instead of sampling;
     * the model still computes each token. */
    const char *const *test_outputs;
    size_t n_test_outputs;
} onnxllm_server_params;

onnxllm_server_params onnxllm_server_default_params(void);

/* Validates the parameters, binds host:port and starts answering (503 until run()
 * has loaded the model). The params' strings are copied. */
onnxllm_status onnxllm_server_create(const onnxllm_server_params *p, onnxllm_server **out, onnxllm_error *err);
/* The port bound (useful with port 0). */
int onnxllm_server_port(const onnxllm_server *s);
/* Loads the model, tokenizer and chat template, then serves until onnxllm_server_stop().
 * Returns ONNXLLM_OK after a stop, or the load failure (the server then answers 503). */
onnxllm_status onnxllm_server_run(onnxllm_server *s, onnxllm_error *err);
/* Thread-safe and async-signal-safe. Drains: new connections are refused, /health
 * and new requests answer 503, requests in progress may finish for up to grace_ms,
 * then they are cancelled and run() returns. grace_ms = 0 cancels at once; a later
 * call can shorten the grace period. */
void onnxllm_server_stop(onnxllm_server *s, int grace_ms);
/* Closes every connection and frees the server (after run() returned, or instead of it). */
void onnxllm_server_free(onnxllm_server *s);

#ifdef __cplusplus
}
#endif
#endif /* ONNXLLM_H */
