/* grammar.h — internal structures of the constrained-decoding module.
 *
 *   vocab.c     per-tokenizer precomputation: token bytes, token tries, plain-text slices
 *   vec.c       small growable arrays and bitsets used everywhere here
 *   regex.c     ECMAScript regular expressions (JSON Schema "pattern") → NFA over UTF-8 bytes
 *   dfa.c       NFA → DFA (subset construction), generic product explorer, analysis
 *   jsonstr.c   DFAs of JSON string lexemes (escapes, quotes), literals, keys
 *   number.c    DFAs of JSON numbers with bounds / multipleOf
 *   format.c    string "format" → regular expression
 *   schema.c    JSON Schema → grammar nodes (refs, allOf merging, anyOf/oneOf, emptiness)
 *   matcher.c   runtime: parse configurations, token masks, accepting tokens
 *   api.c       public entry points (compile from schema / response_format / tools)
 *
 * Model: a compiled grammar is a graph of nodes (object, array, any-of, leaf).
 * Leaves (strings, numbers, literals, object keys) are DFAs over bytes; the
 * structure around them is a pushdown machine whose stack frames live in a
 * per-matcher pool. Ambiguity (anyOf branches sharing a prefix) is handled by
 * keeping several configurations at once. Everything reachable from a
 * configuration can still complete to a valid document (dead DFA states are
 * pruned, empty schemas removed at compile time), so the mask is exact.
 */
#ifndef OLM_GRAMMAR_H
#define OLM_GRAMMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <stdatomic.h>

#include "onnxllm.h"

/* ---- growable arrays ------------------------------------------------------------ */
#define OLM_VEC(T) struct { T *v; size_t n, cap; }
bool olm_vec_grow(void **v, size_t *cap, size_t need, size_t elem);
#define VEC_PUSH(vec, x) \
    ((vec).n < (vec).cap || olm_vec_grow((void **)&(vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v) \
         ? ((vec).v[(vec).n++] = (x), true) : false)
#define VEC_RESERVE(vec, need) \
    ((need) <= (vec).cap || olm_vec_grow((void **)&(vec).v, &(vec).cap, (need), sizeof *(vec).v))
#define VEC_FREE(vec) (free((vec).v), (vec).v = NULL, (vec).n = (vec).cap = 0)

/* 64 byte groups: a-z, A-Z, 0-9, space, each other printable ASCII byte, and one
 * group for every byte of a multi-byte UTF-8 character. A DFA state "loops on" a
 * group when every character of it leads back to the state. */
enum { BG_LOWER = 0, BG_UPPER = 1, BG_DIGIT = 2, BG_SPACE = 3, BG_NONASCII = 63 };
static inline uint32_t olm_byte_group(uint8_t b) {
    if (b >= 'a' && b <= 'z') return BG_LOWER;
    if (b >= 'A' && b <= 'Z') return BG_UPPER;
    if (b >= '0' && b <= '9') return BG_DIGIT;
    if (b == ' ') return BG_SPACE;
    if (b >= 0x80) return BG_NONASCII;
    /* the other printable ASCII: ! .. / : .. @ [ .. ` { .. ~ DEL → 4..36; controls share 37 */
    if (b >= 0x21 && b <= 0x2F) return 4u + (b - 0x21);
    if (b >= 0x3A && b <= 0x40) return 19u + (b - 0x3A);
    if (b >= 0x5B && b <= 0x60) return 26u + (b - 0x5B);
    if (b >= 0x7B && b <= 0x7F) return 32u + (b - 0x7B);
    return 37;
}

static inline void bit_set(uint32_t *m, uint32_t i) { m[i >> 5] |= 1u << (i & 31); }
static inline bool bit_get(const uint32_t *m, uint32_t i) { return (m[i >> 5] >> (i & 31)) & 1u; }

/* ---- token vocabulary ---------------------------------------------------------- */
#define OLM_TRIE_MAX_DEPTH 256 /* longer tokens are never allowed (none in known vocabularies) */

typedef struct olm_tnode {
    uint32_t next;  /* index just past this node's subtree */
    int32_t tok;    /* token id ending here, -1 none */
    uint8_t byte;
    uint8_t depth;  /* 1.. (root 0) */
    uint16_t pad;
} olm_tnode;

typedef struct olm_trie_flat {
    olm_tnode *n;
    uint32_t count;
} olm_trie_flat;

enum { TK_NONE = 0, TK_BYTES = 1, TK_SPECIAL = 2 };

#define OLM_PLAIN_W 32 /* plain-slice masks kept for weights 0..OLM_PLAIN_W */

struct onnxllm_grammar_vocab {
    int32_t n_vocab;    /* mask length in tokens (the model's vocabulary) */
    uint32_t n_words;   /* (n_vocab + 31) / 32 */
    uint32_t n_tok;     /* tokens known to the tokenizer (<= n_vocab) */
    uint8_t *kind;      /* [n_vocab] TK_* */
    uint32_t *off;      /* [n_vocab] into bytes */
    uint16_t *len;      /* [n_vocab] */
    uint8_t *bytes;
    int32_t *dup_next;  /* [n_vocab] next token with the same bytes, -1 */
    olm_trie_flat full; /* every byte token */
    olm_trie_flat rest; /* byte tokens that are not "plain" string text */
    olm_trie_flat plain;/* the plain ones */
    /* Subtree summaries of the plain trie (for skipping in the pure walk):
     * pgrp[i] = byte groups (olm_byte_group) of every byte in node i's subtree,
     * node i included; the subtree's tokens are ptok[ptok_lo[i] .. ptok_lo[next]). */
    uint64_t *pgrp;
    uint32_t *ptok_lo;  /* [count + 1] */
    int32_t *ptok;      /* tokens in depth-first order (duplicates included) */
    uint32_t max_weight;    /* most characters (started) in a plain token */
    /* Plain tokens: their bytes are complete UTF-8 characters of JSON string text
     * (no '"', '\\', control bytes), possibly ending inside one more character.
     * weight = characters + (1 if the last is incomplete). plain_le[w] is the
     * mask of plain tokens of weight <= w (w <= OLM_PLAIN_W); plain_all all of them. */
    uint8_t *weight;          /* [n_vocab] 0 = not plain (no plain token has weight 0) */
    uint32_t *plain_le[OLM_PLAIN_W + 1];
    uint32_t *plain_all;
    int32_t *heavy;           /* plain tokens with weight > OLM_PLAIN_W, by weight */
    uint32_t n_heavy;
    uint32_t *all_bytes;      /* mask of every TK_BYTES token */
    int32_t eos[8];
    uint32_t n_eos;
    int32_t tool_open, tool_close; /* <|tool_call|> / <|/tool_call|> ids, -1 when absent */
    const onnxllm_tokenizer *tok;
};

/* ---- regular expressions ----------------------------------------------------------*/
/* NFA over bytes. State 0 is unused. Boundary states are at UTF-8 character
 * boundaries; states inside a multi-byte character are not. */
typedef struct olm_nedge {
    uint32_t to;
    uint8_t lo, hi; /* byte range; lo > hi marks an epsilon edge */
} olm_nedge;

typedef struct olm_nfa {
    OLM_VEC(uint32_t) first; /* per state: first edge index + 1 (0 none) */
    OLM_VEC(uint32_t) enext; /* per edge: next edge of the same state + 1 */
    OLM_VEC(olm_nedge) e;
    OLM_VEC(uint8_t) bnd;    /* per state: boundary */
    OLM_VEC(int32_t) label;  /* per state: accept label, -1 = not accepting */
    size_t limit;            /* max states */
    bool overflow;
} olm_nfa;

void olm_nfa_init(olm_nfa *a, size_t limit);
void olm_nfa_free(olm_nfa *a);
uint32_t olm_nfa_state(olm_nfa *a, bool boundary);
void olm_nfa_edge(olm_nfa *a, uint32_t from, uint32_t to, uint8_t lo, uint8_t hi);
void olm_nfa_eps(olm_nfa *a, uint32_t from, uint32_t to);
/* Adds paths from→to over the UTF-8 encodings of code points [lo, hi] (surrogates
 * excluded), through fresh intermediate (non-boundary) states. */
void olm_nfa_cp_range(olm_nfa *a, uint32_t from, uint32_t to, uint32_t lo, uint32_t hi);

/* A set of code points as sorted, disjoint, non-adjacent ranges. */
typedef struct olm_cpset {
    OLM_VEC(uint32_t) r; /* pairs lo, hi */
} olm_cpset;

/* Parses an ECMAScript (u-flag) pattern as JSON Schema uses it (a search: not
 * anchored unless written with ^ / $) and adds it to the NFA between `from` and
 * a new accepting state (label 0). Unsupported syntax (lookaround, backrefs,
 * word boundaries) → ONNXLLM_ERR_UNSUPPORTED naming it. */
onnxllm_status olm_regex_to_nfa(const char *pattern, size_t len, bool icase, olm_nfa *a, uint32_t from,
                                uint32_t *accept, char *why, size_t why_len);

/* ---- DFAs -------------------------------------------------------------------------*/
enum {
    DF_ACCEPT = 1,   /* the lexeme may end here */
    DF_BND = 2,      /* at a character boundary (entering it completes a character) */
    DF_TERM = 4,     /* no outgoing transitions: the lexeme ends here */
    DF_FREE = 8,     /* every plain character loops back here (see vocab) */
    DF_INTERIOR = 16,/* plain text from here never reaches acceptance (inside a string) */
    DF_PLAINU = 32,  /* no plain text from here dies */
    DF_PLAINX = 64,  /* key DFAs: plain text from here keeps an additional/pattern key reachable */
};
#define DFA_INF 0x3fffffffu

typedef struct olm_dfa {
    uint32_t n;         /* states; 0 is the dead state */
    uint32_t start;
    uint32_t ncls;
    uint8_t cls[256];
    uint32_t *next;     /* [n * ncls] */
    uint8_t *flags;     /* [n] DF_* */
    int32_t *label;     /* [n] accept label, -1 */
    uint32_t *dmin;     /* [n] fewest characters to an accepting state */
    uint32_t *emin;     /* [n] fewest characters to accept through a 1-character loop (DFA_INF) */
    uint32_t *pmaxd, *pmaxe; /* [n] largest dmin / emin that plain text from here reaches */
    uint32_t *pdie;     /* [n] fewest plain characters after which some plain text dies (DFA_INF: never) */
    uint64_t *loopg;    /* [n] byte groups every character of which leads back to the state */
    uint64_t *reach;    /* [n * nlw] labels reachable (key DFAs), NULL otherwise */
    uint32_t nlw;
    uint32_t nlabels;
} olm_dfa;

static inline uint32_t dfa_step(const olm_dfa *d, uint32_t s, uint8_t b) { return d->next[s * d->ncls + d->cls[b]]; }
void olm_dfa_free(olm_dfa *d);

/* Subset construction; prunes states that cannot reach an accepting one. Fails
 * (UNSUPPORTED, "too complex") beyond max_states. */
onnxllm_status olm_nfa_to_dfa(const olm_nfa *a, uint32_t start, size_t max_states, olm_dfa *out, char *why,
                              size_t why_len);

/* Generic explorer: builds a DFA over fixed-size abstract states by breadth-first
 * search. step returns false for "dead"; accept returns a label or -1; bnd says
 * whether a state is at a character boundary. */
typedef struct olm_explorer {
    size_t state_size;
    bool (*step)(void *ctx, const void *s, uint8_t byte, void *out);
    int32_t (*accept)(void *ctx, const void *s);
    bool (*bnd)(void *ctx, const void *s);
    void *ctx;
    const uint8_t *hint; /* optional: bytes of one class step alike from every state */
} olm_explorer;
onnxllm_status olm_dfa_explore(const olm_explorer *x, const void *init, size_t max_states, olm_dfa *out, char *why,
                               size_t why_len);

/* After construction: dead-state pruning, flags, dmin/emin, label reach, FREE. */
void olm_dfa_prune(olm_dfa *d);
bool olm_dfa_analyse(olm_dfa *d, bool want_reach);
bool olm_dfa_empty(const olm_dfa *d);
bool olm_dfa_make_empty(olm_dfa *d);
bool olm_dfa_plainx(olm_dfa *d, uint32_t first_extra);

/* Runs the DFA over bytes from the start; returns the final state (0 = dead). */
uint32_t olm_dfa_run(const olm_dfa *d, const uint8_t *s, size_t n);

/* ---- lexeme automata (jsonstr.c, number.c, format.c) ------------------------------- */
/* "Content" DFAs run over the decoded UTF-8 bytes of a string. */
onnxllm_status olm_content_any(olm_dfa *out);
onnxllm_status olm_content_regex(const char *pattern, size_t len, bool icase, size_t max_states, olm_dfa *out,
                                 char *why, size_t why_len);
onnxllm_status olm_content_product(const olm_dfa *const *d, const bool *neg, size_t k, size_t max_states, olm_dfa *out, char *why,
                                   size_t why_len);
/* Keys of an object: labels 0..n-1 = names, n = additional, n+1+k = pattern k. */
onnxllm_status olm_content_keys(const char *const *names, const size_t *lens, uint32_t n, const olm_dfa *pn,
                                const olm_dfa *const *pat, size_t npat, bool additional, size_t max_states,
                                olm_dfa *out, char *why, size_t why_len);
/* The JSON string lexeme of a content DFA (analysed; reach when want_reach). */
onnxllm_status olm_wrap_string(const olm_dfa *content, bool full_u, bool want_reach, size_t max_states, olm_dfa *out,
                               char *why, size_t why_len);
/* Alternatives of literal JSON text (analysed). */
onnxllm_status olm_literal_texts_dfa(const char *const *texts, const size_t *lens, size_t n, olm_dfa *out);
/* Any bytes that never contain one of the strings (free text around tool calls). */
onnxllm_status olm_avoid_dfa(const char *const *strings, size_t n, olm_dfa *out);
/* JSON numbers; lo/hi/mult NAN when absent. */
onnxllm_status olm_number_dfa(bool integer, double lo, bool lo_excl, double hi, bool hi_excl, double mult,
                              olm_dfa *out, char *why, size_t why_len);
/* kind: 0 regex (re, icase, max_len > 0 limits the length), 1 int32, 2 integer, 3 no constraint. */
bool olm_format_lookup(const char *name, int *kind, const char **re, bool *icase, int *max_len);

/* ---- grammar nodes ---------------------------------------------------------------- */
enum { N_LEAF = 1, N_OBJECT, N_ARRAY, N_ANYOF };
#define NO_NODE 0xffffffffu
#define NO_LIMIT 0x7fffffff

typedef struct olm_prop {
    uint32_t node;
    bool required;
} olm_prop;

typedef struct olm_node {
    uint8_t kind;
    uint8_t counted;        /* LEAF: string with min/max length counter */
    uint32_t first[8];      /* possible first bytes of the value */
    uint32_t dfa;           /* LEAF: DFA index; OBJECT: key DFA */
    int32_t min, max;       /* LEAF: length; OBJECT: properties; ARRAY: items */
    uint32_t n;             /* OBJECT: defined properties; ARRAY: prefix items; ANYOF: alternatives */
    uint32_t list;          /* index into grammar->pool (props as node ids / prefix / alternatives) */
    uint32_t req;           /* OBJECT: index into pool: required flags (n) then next_req (n+1) */
    uint32_t extra;         /* OBJECT: node of additional keys (NO_NODE: none); ARRAY: items node (NO_NODE: none) */
    uint32_t npat;          /* OBJECT: pattern-property labels (n+1 .. n+npat), nodes at pool[list + n + k] */
    uint32_t key_min, key_max; /* OBJECT: key length bounds (propertyNames) */
    uint8_t key_counted;
    uint8_t has_extra;      /* OBJECT: additional / pattern keys can occur */
    uint32_t usable;        /* OBJECT: pool index of usable_after[0..n] (names still usable from i) */
    uint32_t deps;          /* OBJECT: pool index of 2n words (64-bit masks of names each name needs), 0 = none */
} olm_node;

enum { ROOT_JSON = 0, ROOT_TOOLS = 1, ROOT_FREE = 2 };

struct onnxllm_grammar {
    const onnxllm_grammar_vocab *vocab;
    OLM_VEC(olm_node) nodes;
    OLM_VEC(olm_dfa) dfas;
    OLM_VEC(uint32_t) pool;
    uint32_t root;
    int root_kind;           /* ROOT_* */
    bool tools_auto;         /* ROOT_TOOLS: free text before <|tool_call|> */
    bool allow_tool_open;    /* ROOT_FREE: <|tool_call|> allowed (never in tool_choice none) */
    uint32_t free_dfa;       /* free text: never spells the tool-call tags (NO_NODE: unconstrained bytes) */
    uint32_t ws_max;         /* whitespace bytes allowed per gap (0 = compact) */
    uint32_t max_depth;      /* nesting limit of frames */
    uint32_t max_cfg;        /* configurations kept at once */
    double compile_us;
    /* Plain-token masks of leaf DFA states, filled on first use and then shared by
     * every matcher (lock-free: a slot is published once with compare-and-swap). */
    uint32_t *cache_off;     /* [dfas] first slot of each DFA */
    _Atomic(uint32_t *) *cache;
    _Atomic size_t cache_bytes;
};

/* ---- schema compiler --------------------------------------------------------------*/
/* Compiles `schema` into g (appending nodes); $ref resolves against doc_root;
 * extra (may be NULL) is one more conjunct (e.g. {"type":"object"}). */
onnxllm_status olm_schema_compile(onnxllm_grammar *g, const cJSON *schema, const cJSON *doc_root, const cJSON *extra,
                                  uint32_t *root, onnxllm_error *err);
/* Direct node builders (all children productive). */
onnxllm_status olm_build_literal(onnxllm_grammar *g, const char *const *texts, const size_t *lens, size_t n, uint32_t *out,
                                 onnxllm_error *err);
onnxllm_status olm_build_object(onnxllm_grammar *g, const char *const *names, const uint32_t *nodes, const uint8_t *req,
                                uint32_t n, uint32_t *out, onnxllm_error *err);
onnxllm_status olm_build_array(onnxllm_grammar *g, uint32_t items, int32_t min, int32_t max, uint32_t *out,
                               onnxllm_error *err);
onnxllm_status olm_build_anyof(onnxllm_grammar *g, const uint32_t *alts, uint32_t n, uint32_t *out, onnxllm_error *err);
/* First-byte sets of every node. */
void olm_grammar_first_bytes(onnxllm_grammar *g);
uint32_t olm_grammar_add_dfa(onnxllm_grammar *g, olm_dfa *d); /* takes ownership; NO_NODE on OOM */
uint32_t olm_grammar_add_node(onnxllm_grammar *g, const olm_node *n);
void olm_grammar_free_parts(onnxllm_grammar *g);

/* JSON text of a value in canonical compact form (JSON.stringify-like numbers). */
bool olm_json_canonical(const cJSON *v, char **out, size_t *len);

/* Tests only: counted string masks by the walk alone (matcher.c). */
extern bool olm_matcher_walk_only;

#endif
