/* tok_internal.h — the tokenizer's internal data model, shared by its files.
 *
 * Pipeline (same order as HF tokenizers' TokenizerImpl::encode):
 *   text → added-token split (added_tokens.c) → per segment: normalizer
 *   (normalizers.c) → pre-tokenizer (pretokenizers.c, o200k_scanner.c) → BPE
 *   (bpe.c) → post-processor (postprocess.c).
 * Decode: ids → token strings → decoder chain (decoders.c); streaming in stream.c.
 * Everything hanging off olm_tokenizer is immutable after load, so encode/decode
 * only touch per-call scratch memory (olm_scratch). */
#ifndef OLM_TOK_INTERNAL_H
#define OLM_TOK_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "onnxllm.h"
#include "common/json.h" /* olm_json_type_name */

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* ---- small growable buffers (per call, never in the tokenizer) ---------------- */
typedef struct olm_buf {
    char *p;
    size_t len, cap;
} olm_buf;
bool olm_buf_reserve(olm_buf *b, size_t extra);
bool olm_buf_put(olm_buf *b, const void *s, size_t n);
static inline bool olm_buf_putc(olm_buf *b, char c) { return olm_buf_put(b, &c, 1); }
void olm_buf_free(olm_buf *b);

/* ---- hash maps ------------------------------------------------------------------ */
/* string → id; keys live in an arena owned by the map. One 16-byte slot per entry
 * (hash tag, id, key offset/length): a lookup touches the slot and, on a tag hit,
 * the key bytes — two cache misses on a 200k-entry vocab. */
typedef struct olm_strslot {
    uint32_t tag; /* high hash bits | 1; 0 = empty */
    int32_t id;
    uint32_t off, len; /* into arena */
} olm_strslot;
typedef struct olm_strmap {
    olm_strslot *slots;
    size_t mask, n;
    char *arena;
    size_t arena_len, arena_cap;
} olm_strmap;
bool olm_strmap_init(olm_strmap *m, size_t expected);
void olm_strmap_free(olm_strmap *m);
/* Inserts key → id; if the key exists its id is replaced (last wins, like a Rust
 * HashMap built from an iterator). Returns false on OOM. */
bool olm_strmap_put(olm_strmap *m, const char *key, size_t len, int32_t id);
int32_t olm_strmap_get(const olm_strmap *m, const char *key, size_t len); /* -1 absent */
uint64_t olm_hash_bytes(const void *p, size_t n);

/* (id_a, id_b) → (rank, new_id): one 16-byte slot, one cache miss per lookup. */
typedef struct olm_pairslot {
    uint64_t key; /* UINT64_MAX = empty */
    uint32_t rank, newid;
} olm_pairslot;
typedef struct olm_pairmap {
    olm_pairslot *slots;
    size_t mask, n;
} olm_pairmap;
bool olm_pairmap_init(olm_pairmap *m, size_t expected);
void olm_pairmap_free(olm_pairmap *m);
bool olm_pairmap_put(olm_pairmap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t newid);
static inline uint64_t olm_pair_key(uint32_t a, uint32_t b) { return ((uint64_t)a << 32) | b; }
static inline bool olm_pairmap_get(const olm_pairmap *m, uint32_t a, uint32_t b, uint32_t *rank, uint32_t *newid) {
    uint64_t k = olm_pair_key(a, b);
    size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
    for (;;) {
        const olm_pairslot *s = &m->slots[i];
        if (s->key == k) {
            *rank = s->rank;
            *newid = s->newid;
            return true;
        }
        if (s->key == UINT64_MAX) return false;
        i = (i + 1) & m->mask;
    }
}

/* ---- Unicode helpers (unicode.c; data from utf8proc) ------------------------------ */
/* Decodes one code point from valid UTF-8 at s (n bytes left), returns its length. */
static inline int olm_utf8_decode(const unsigned char *s, size_t n, int32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80 || n < 2) { *cp = (int32_t)c; return 1; }
    if (c < 0xE0) { *cp = (int32_t)(((c & 0x1F) << 6) | (s[1] & 0x3F)); return 2; }
    if (c < 0xF0 || n < 4) {
        if (n < 3) { *cp = (int32_t)c; return 1; }
        *cp = (int32_t)(((c & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F));
        return 3;
    }
    *cp = (int32_t)(((c & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F));
    return 4;
}
static inline int olm_utf8_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }
int olm_utf8_encode(int32_t cp, char *out); /* returns 1..4 */
/* Length of the longest valid prefix; == n when valid. */
size_t olm_utf8_valid_prefix(const char *s, size_t n);
/* Appends s with each maximal invalid subsequence replaced by U+FFFD (Rust from_utf8_lossy). */
bool olm_utf8_lossy(olm_buf *out, const char *s, size_t n);

enum { /* character classes used by the scanners (bit set) */
    OLM_CC_LU = 1, OLM_CC_LL = 2, OLM_CC_LT = 4, OLM_CC_LM = 8, OLM_CC_LO = 16,
    OLM_CC_M = 32, OLM_CC_N = 64, OLM_CC_WS = 128, /* Unicode White_Space */
    OLM_CC_ND = 256, OLM_CC_P = 512, OLM_CC_ALNUM = 1024, /* Rust char::is_alphanumeric */
};
#define OLM_CC_L (OLM_CC_LU | OLM_CC_LL | OLM_CC_LT | OLM_CC_LM | OLM_CC_LO)
unsigned olm_char_class(int32_t cp);
/* Byte-level (GPT-2) alphabet: byte → code point and back (-1 when not in the alphabet). */
int32_t olm_bytelevel_char(unsigned char b);
int olm_bytelevel_byte(int32_t cp);

/* ---- normalizers ------------------------------------------------------------------ */
typedef enum { NORM_NFC, NORM_NFD, NORM_NFKC, NORM_NFKD, NORM_PREPEND, NORM_REPLACE, NORM_LOWERCASE,
               NORM_STRIP, NORM_SEQUENCE } olm_norm_kind;
typedef struct olm_pattern { /* Split/Replace pattern: a literal string or a PCRE2 regex */
    char *str;
    size_t len;
    pcre2_code *re;
    pcre2_match_context *mctx; /* raised limits (OLM_REGEX_*), read-only after load */
} olm_pattern;
/* PCRE2 limits: far above what real inputs need (the defaults, 10M steps and 20 MB of
 * backtracking heap, could be reached by long real text); hitting them is an error. */
#define OLM_REGEX_MATCH_LIMIT 100000000u
#define OLM_REGEX_HEAP_LIMIT_KIB (512u * 1024u)
/* errno value a component sets when a pattern hit the PCRE2 limits (encode/decode
 * report it instead of a different tokenization). */
#define OLM_REGEX_ERRNO ERANGE
/* A Replace normalizer's output may be at most this many times its input (+64 bytes):
 * chained Replace normalizers (a -> aa, repeated) otherwise grow until memory runs out.
 * Exceeding it fails encode with errno = OLM_NORM_ERRNO. */
#define OLM_NORM_MAX_GROWTH 64
#define OLM_NORM_ERRNO EOVERFLOW
/* Token ids may leave gaps: at most 4 x the tokens defined + this many ids in all. */
#define OLM_TOK_ID_SLACK 65536
/* The error for a component that returned false: errno OLM_REGEX_ERRNO / OLM_NORM_ERRNO
 * say which limit was hit, anything else is out of memory. */
onnxllm_status olm_tok_failure(const onnxllm_tokenizer *t, const char *what, onnxllm_error *err);
/* Compiles regex re (HF/Oniguruma syntax, translated) into out. */
onnxllm_status olm_pattern_regex(olm_pattern *out, const char *re, const char *where, const char *file,
                                 onnxllm_error *err);
/* Every non-overlapping match of p in s[0, n), leftmost first; an empty match steps
 * one character. fn(user, start, end) returns false to fail. Literal patterns match
 * with memmem (an empty literal matches nothing). Returns false when fn failed, a
 * buffer could not be allocated or PCRE2 hit a limit (errno = OLM_REGEX_ERRNO). */
bool olm_pattern_foreach(const olm_pattern *p, const char *s, size_t n, pcre2_match_data **md,
                         bool (*fn)(void *user, size_t start, size_t end), void *user);
/* Parses a Sequence's array into kids (elem bytes each) with parse(j, file, kid, err);
 * on failure every kid parsed so far and the failing one are freed with fr. */
onnxllm_status olm_parse_sequence(const cJSON *arr, size_t elem, void **kids, size_t *nkids, const char *file,
                                  onnxllm_status (*parse)(const cJSON *, const char *, void *, onnxllm_error *),
                                  void (*fr)(void *), onnxllm_error *err);
typedef struct olm_normalizer {
    olm_norm_kind kind;
    char *s1, *s2; /* Prepend: s1; Replace: s2 = content */
    size_t l1, l2;
    olm_pattern pat;
    bool left, right;
    struct olm_normalizer *kids;
    size_t nkids;
} olm_normalizer;

/* ---- pre-tokenizers --------------------------------------------------------------- */
typedef enum { SPLIT_REMOVED, SPLIT_ISOLATED, SPLIT_MERGED_PREV, SPLIT_MERGED_NEXT, SPLIT_CONTIGUOUS } olm_split_behavior;
typedef enum { PRE_SPLIT, PRE_BYTELEVEL, PRE_METASPACE, PRE_DIGITS, PRE_PUNCT, PRE_WHITESPACE,
               PRE_WHITESPACE_SPLIT, PRE_SEQUENCE } olm_pre_kind;
typedef enum { SCAN_NONE, SCAN_O200K, SCAN_CL100K, SCAN_QWEN, SCAN_GPT2 } olm_scanner;
typedef enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER } olm_prepend_scheme;
typedef struct olm_pretok {
    olm_pre_kind kind;
    olm_pattern pat;
    olm_scanner scanner; /* hand-written exact scanner for known regexes */
    olm_split_behavior behavior;
    bool invert;
    bool add_prefix_space, use_regex; /* ByteLevel */
    int32_t replacement;              /* Metaspace */
    char repl_utf8[4];
    int repl_len;
    olm_prepend_scheme prepend;
    bool split, individual_digits;
    struct olm_pretok *kids;
    size_t nkids;
} olm_pretok;

/* A pre-tokenized string: pieces are byte ranges of `text`. */
typedef struct olm_piece {
    uint32_t off, len;
    bool first; /* starts at original offset 0 (Metaspace prepend_scheme "first") */
} olm_piece;
typedef struct olm_pieces {
    olm_buf text;
    olm_piece *v;
    size_t n, cap;
} olm_pieces;
bool olm_pieces_push(olm_pieces *p, size_t off, size_t len, bool first);

/* ---- decoders ---------------------------------------------------------------------- */
typedef enum { DEC_BYTELEVEL, DEC_METASPACE, DEC_BYTEFALLBACK, DEC_FUSE, DEC_STRIP, DEC_REPLACE,
               DEC_SEQUENCE } olm_dec_kind;
typedef struct olm_decoder {
    olm_dec_kind kind;
    olm_pattern pat;
    char *content; /* Replace content; Strip content (one char) */
    size_t content_len;
    int32_t strip_char;
    int start, stop;
    int32_t replacement; /* Metaspace */
    olm_prepend_scheme prepend;
    struct olm_decoder *kids;
    size_t nkids;
} olm_decoder;

/* ---- post-processor ----------------------------------------------------------------- */
typedef struct olm_postproc {
    bool present;    /* TemplateProcessing / Sequence containing one */
    int32_t *before; /* ids before $A */
    size_t nbefore;
    int32_t *after; /* ids after $A */
    size_t nafter;
} olm_postproc;

/* ---- added tokens --------------------------------------------------------------------- */
typedef struct olm_added {
    char *content;
    size_t len;
    char *norm; /* normalized content of a normalized:true token (else NULL) */
    size_t norm_len;
    int32_t id;
    bool special, lstrip, rstrip, single_word, normalized;
} olm_added;
/* Byte trie over added-token contents for leftmost-longest matching. */
typedef struct olm_trie_node {
    uint32_t first_child, next_sibling; /* 0 = none (node 0 is the root) */
    int32_t token;                      /* index into added[], -1 */
    unsigned char byte;
} olm_trie_node;
typedef struct olm_trie {
    olm_trie_node *nodes;
    size_t n, cap;
    bool first_byte[256];
} olm_trie;

/* ---- the tokenizer ---------------------------------------------------------------------- */
struct onnxllm_tokenizer {
    char *name; /* path, for messages */
    /* model (BPE) */
    olm_strmap vocab;
    olm_pairmap merges;
    char **id_str; /* id → token string (vocab or added); NULL = hole */
    uint32_t *id_len;
    size_t n_ids;  /* 1 + max id */
    int32_t unk_id;
    bool byte_fallback, fuse_unk, ignore_merges;
    char *cont_prefix, *eow_suffix;
    size_t cont_prefix_len, eow_suffix_len;
    int32_t byte_fallback_id[256]; /* "<0xXX>" ids, -1 */
    bool byte_level;             /* last pre-tokenizer is ByteLevel: BPE consumes raw bytes */
    int32_t byte_id[256];        /* byte-level: id of the one-char token of each byte */
    /* components */
    olm_normalizer *normalizer;
    olm_pretok *pretok;
    olm_postproc post;
    olm_decoder *decoder;
    /* added tokens */
    olm_added *added;
    size_t n_added;
    olm_trie trie_raw, trie_norm; /* normalized:false / normalized:true tokens */
    bool any_norm_added;
    uint8_t *is_special; /* per id */
};

typedef struct olm_range {
    uint32_t off, len;
} olm_range;

/* Per-call scratch: all grown on demand and reused across the pieces of one call. */
typedef struct olm_scratch {
    olm_buf norm, tmp, tmp2, dec;
    olm_pieces pa, pb;
    uint32_t *sym_id;  /* BPE symbols */
    int32_t *sym_prev, *sym_next;
    uint32_t *rank;
    uint64_t *heap;
    size_t sym_cap, heap_cap;
    olm_range *ra, *rb; /* decode: token lists (ping-pong) */
    size_t ra_cap, rb_cap;
    pcre2_match_data *md;
    struct olm_span { uint32_t s, e; bool m; } *spans;
    size_t nspans, spans_cap;
} olm_scratch;
void olm_scratch_free(olm_scratch *s);

/* json_reader.c: fast pass for model.vocab / model.merges (see there) */
typedef struct olm_fast_merge {
    uint32_t a_off, a_len, b_off, b_len; /* into olm_fast_model.text */
} olm_fast_merge;
typedef struct olm_fast_model {
    olm_fast_merge *m;
    size_t n, cap;
    olm_buf text, key;
    bool present; /* "merges" was in the file */
    int64_t maxid;
} olm_fast_model;
/* Parses tokenizer.json; model.vocab goes into t->vocab, model.merges into *fm, the
 * rest into the returned cJSON tree. NULL: use the full cJSON parse instead. */
cJSON *olm_fast_read(onnxllm_tokenizer *t, const char *json, size_t len, olm_fast_model *fm);
void olm_fast_model_free(olm_fast_model *fm);

/* loader.c */
onnxllm_status olm_pattern_parse(const cJSON *pat, const char *where, const char *file, olm_pattern *out,
                                 onnxllm_error *err);
void olm_pattern_free(olm_pattern *p);
bool olm_regex_translate(const char *re, olm_buf *out);
/* olm_json_type_name (common/json.h): "a number", "an object", ... for messages */
#define olm_json_type olm_json_type_name
/* normalizers.c */
onnxllm_status olm_normalizer_parse(const cJSON *j, const char *file, olm_normalizer *out, onnxllm_error *err);
void olm_normalizer_free(olm_normalizer *n);
/* Normalizes s[0..n) into out (replacing its content). */
bool olm_normalize(const olm_normalizer *n, const char *s, size_t len, olm_buf *out, olm_buf *tmp);
/* pretokenizers.c */
onnxllm_status olm_pretok_parse(const cJSON *j, const char *file, olm_pretok *out, onnxllm_error *err);
void olm_pretok_free(olm_pretok *p);
/* Pre-tokenizes text[0..n) (one segment; first = it starts the input) into sc->pa. */
bool olm_pretokenize(const onnxllm_tokenizer *t, const char *s, size_t n, bool first, olm_scratch *sc);
/* o200k_scanner.c: length of the regex match starting at s[i] (> 0). */
size_t olm_scan_next(olm_scanner kind, const unsigned char *s, size_t n, size_t i);
olm_scanner olm_scanner_for(const char *regex);
/* bpe.c */
onnxllm_status olm_bpe_load(onnxllm_tokenizer *t, const cJSON *model, const olm_fast_model *fm, const char *file,
                            onnxllm_error *err);
bool olm_bpe_encode(const onnxllm_tokenizer *t, const char *s, size_t n, olm_scratch *sc, onnxllm_tokens *out);
/* added_tokens.c */
onnxllm_status olm_added_load(onnxllm_tokenizer *t, const cJSON *arr, const char *file, onnxllm_error *err);
typedef struct olm_match {
    size_t start, stop; /* span replaced by the token (incl. stripped spaces) */
    size_t match_start; /* where the token's own text starts (it ends at *resume) */
    int32_t id;
    bool special;
} olm_match;
/* Next usable added-token match in s[from..n) (HF find_matches semantics).
 * *resume is where matching continues. Returns false when none. */
bool olm_added_next(const onnxllm_tokenizer *t, const olm_trie *trie, const char *s, size_t n, size_t from,
                    size_t floor, bool parse_special, olm_match *m, size_t *resume);
bool olm_trie_add(olm_trie *tr, const char *s, size_t n, int32_t token);
/* decoders.c */
onnxllm_status olm_decoder_parse(const cJSON *j, const char *file, olm_decoder *out, onnxllm_error *err);
void olm_decoder_free(olm_decoder *d);
bool olm_decode_ids(const onnxllm_tokenizer *t, const int32_t *ids, size_t n, bool skip_special, olm_scratch *sc,
                    olm_buf *out);
/* postprocess.c */
onnxllm_status olm_postproc_parse(onnxllm_tokenizer *t, const cJSON *j, const char *file, onnxllm_error *err);
void olm_postproc_free(olm_postproc *p);

bool olm_tokens_push(onnxllm_tokens *t, int32_t id);

/* onnxllm_tokenizer_encode with a per-byte mask: with PARSE_SPECIAL, a special added
 * token is matched only where all its bytes have trusted[i] != 0 (text the template
 * wrote); elsewhere it is plain text, as encode without PARSE_SPECIAL would treat it.
 * trusted NULL: everything is trusted. text must be valid UTF-8 when trusted is given.
 * Special tokens that are normalized:true (matched after normalization) are not
 * matched in masked mode. */
onnxllm_status olm_tokenizer_encode_trusted(const onnxllm_tokenizer *t, const char *text, size_t len,
                                            const uint8_t *trusted, unsigned flags, onnxllm_tokens *out,
                                            onnxllm_error *err);

#endif
