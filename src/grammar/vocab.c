/* vocab.c — what a grammar needs to know about a tokenizer, computed once.
 *
 * Each token id gets the bytes it contributes to the decoded text: byte-level
 * BPE token strings map through the GPT-2 byte alphabet; SentencePiece-style
 * tokens turn U+2581 into a space and <0xXX> into that byte. Added tokens
 * (special or not, e.g. <|tool_call|>) are never bytes: a grammar refers to them
 * by id, so the text "<|end|>" inside a JSON string can never be produced by
 * the special token.
 *
 * The byte tokens are laid out as a trie in depth-first order (a node's subtree
 * is the index range [i+1, next)), which the mask computation walks with the
 * parser state. Tokens that are "plain" JSON string text (see grammar.h) are
 * additionally summarised as masks by weight: inside an unconstrained string
 * they are all allowed at once, and only the other ~2% of the vocabulary (the
 * `rest` trie: tokens with quotes, backslashes, control bytes, broken UTF-8)
 * has to be walked. The object is immutable once built and shared by every
 * grammar compiled for the tokenizer. */
#include "grammar/grammar.h"
#include "common/error.h"
#include "tokenizer/tok_internal.h"

#include <stdlib.h>
#include <string.h>

static const olm_decoder *find_dec(const olm_decoder *d, int kind) {
    if (!d) return NULL;
    if ((int)d->kind == kind) return d;
    if (d->kind == DEC_SEQUENCE)
        for (size_t i = 0; i < d->nkids; i++) {
            const olm_decoder *r = find_dec(&d->kids[i], kind);
            if (r) return r;
        }
    return NULL;
}

/* Appends the decoded bytes of one vocabulary token string. */
static bool token_bytes(const onnxllm_tokenizer *t, bool bytelevel, int32_t meta_cp, const olm_decoder *dec,
                        const char *s, size_t n, olm_buf *out) {
    if (bytelevel) {
        size_t mark = out->len;
        for (size_t k = 0; k < n;) {
            int32_t cp;
            k += (size_t)olm_utf8_decode((const unsigned char *)s + k, n - k, &cp);
            int b = olm_bytelevel_byte(cp);
            if (b < 0) { /* not in the alphabet: the decoder keeps the token as it is */
                out->len = mark;
                return olm_buf_put(out, s, n);
            }
            if (!olm_buf_putc(out, (char)b)) return false;
        }
        return true;
    }
    if (t->byte_fallback && n == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>') {
        int v = 0;
        bool ok = true;
        for (int i = 3; i < 5; i++) {
            char c = s[i];
            int h = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (h < 0) ok = false;
            v = v * 16 + h;
        }
        if (ok) return olm_buf_putc(out, (char)v);
    }
    /* SentencePiece: the Replace / Metaspace decoders turn U+2581 into a space. */
    for (size_t k = 0; k < n;) {
        int32_t cp;
        int l = olm_utf8_decode((const unsigned char *)s + k, n - k, &cp);
        bool repl = cp == meta_cp;
        if (!repl && dec) {
            /* a literal Replace pattern of one character */
            const olm_decoder *r = find_dec(dec, DEC_REPLACE);
            if (r && !r->pat.re && r->pat.len == (size_t)l && !memcmp(r->pat.str, s + k, (size_t)l)) {
                if (!olm_buf_put(out, r->content, r->content_len)) return false;
                k += (size_t)l;
                continue;
            }
        }
        if (repl ? !olm_buf_putc(out, ' ') : !olm_buf_put(out, s + k, (size_t)l)) return false;
        k += (size_t)l;
    }
    return true;
}

/* Weight of a plain token (0 = not plain): characters started, see grammar.h. */
static unsigned plain_weight(const uint8_t *s, size_t n) {
    unsigned w = 0;
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        if (b < 0x20 || b == '"' || b == '\\') return 0;
        if (b < 0x80) {
            i++;
            w++;
            continue;
        }
        int need;
        uint8_t lo = 0x80, hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF) need = 1;
        else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            if (b == 0xE0) lo = 0xA0;
            if (b == 0xED) hi = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            if (b == 0xF0) lo = 0x90;
            if (b == 0xF4) hi = 0x8F;
        } else
            return 0;
        w++;
        for (int k = 1; k <= need; k++) {
            if (i + (size_t)k >= n) return w; /* ends inside this character */
            uint8_t c = s[i + (size_t)k];
            if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return 0;
        }
        i += (size_t)need + 1;
    }
    return w;
}

static int cmp_tok(const void *a, const void *b, void *ctx) {
    const onnxllm_grammar_vocab *v = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    size_t lx = v->len[x], ly = v->len[y], l = lx < ly ? lx : ly;
    int c = memcmp(v->bytes + v->off[x], v->bytes + v->off[y], l);
    if (c) return c;
    if (lx != ly) return lx < ly ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Builds a flat trie from token ids sorted by bytes (duplicates adjacent). */
static bool build_trie(onnxllm_grammar_vocab *v, const int32_t *ids, size_t n, olm_trie_flat *out) {
    OLM_VEC(olm_tnode) nodes = {0};
    uint32_t path[OLM_TRIE_MAX_DEPTH + 1];
    size_t depth = 0;
    olm_tnode root = {0, -1, 0, 0, 0};
    if (!VEC_PUSH(nodes, root)) return false;
    path[0] = 0;
    const uint8_t *prev = NULL;
    size_t prevlen = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        const uint8_t *s = v->bytes + v->off[id];
        size_t l = v->len[id];
        if (prev && l == prevlen && !memcmp(prev, s, l)) continue; /* duplicate: chained via dup_next */
        size_t common = 0;
        while (common < depth && common < l && prev[common] == s[common]) common++;
        while (depth > common) { /* close nodes off the shared prefix */
            nodes.v[path[depth]].next = (uint32_t)nodes.n;
            depth--;
        }
        for (size_t k = common; k < l; k++) {
            olm_tnode t = {0, -1, s[k], (uint8_t)(k + 1), 0};
            if (!VEC_PUSH(nodes, t)) {
                VEC_FREE(nodes);
                return false;
            }
            path[++depth] = (uint32_t)nodes.n - 1;
        }
        nodes.v[path[depth]].tok = id;
        prev = s;
        prevlen = l;
    }
    while (depth > 0) {
        nodes.v[path[depth]].next = (uint32_t)nodes.n;
        depth--;
    }
    nodes.v[0].next = (uint32_t)nodes.n;
    out->n = nodes.v;
    out->count = (uint32_t)nodes.n;
    return true;
}

/* Subtree summaries of the plain trie: byte groups below each node and the
 * depth-first token order (a subtree's tokens are contiguous in it). */
static bool plain_summaries(onnxllm_grammar_vocab *v) {
    const olm_trie_flat *t = &v->plain;
    uint32_t n = t->count;
    v->pgrp = calloc(n ? n : 1, sizeof *v->pgrp);
    v->ptok_lo = calloc((size_t)n + 1, sizeof *v->ptok_lo);
    size_t ntok = 0;
    for (uint32_t i = 0; i < n; i++)
        for (int32_t k = t->n[i].tok; k >= 0; k = v->dup_next[k]) ntok++;
    v->ptok = malloc((ntok ? ntok : 1) * sizeof *v->ptok);
    if (!v->pgrp || !v->ptok_lo || !v->ptok) return false;
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        v->ptok_lo[i] = (uint32_t)k;
        for (int32_t x = t->n[i].tok; x >= 0; x = v->dup_next[x]) v->ptok[k++] = x;
    }
    v->ptok_lo[n] = (uint32_t)k;
    /* groups: each node's own byte, then a reverse sweep (children come after their
     * parent in depth-first order) adds every node's groups to its parent */
    uint32_t path[OLM_TRIE_MAX_DEPTH + 2];
    uint32_t *parent = malloc((size_t)n * sizeof *parent);
    if (!parent) return false;
    path[0] = 0;
    for (uint32_t i = 1; i < n; i++) {
        v->pgrp[i] = 1ull << olm_byte_group(t->n[i].byte);
        path[t->n[i].depth] = i;
        parent[i] = path[t->n[i].depth - 1];
    }
    for (uint32_t i = n; i-- > 1;)
        if (parent[i]) v->pgrp[parent[i]] |= v->pgrp[i];
    free(parent);
    return true;
}

void onnxllm_grammar_vocab_free(onnxllm_grammar_vocab *v) {
    if (!v) return;
    free(v->kind);
    free(v->off);
    free(v->len);
    free(v->bytes);
    free(v->dup_next);
    free(v->full.n);
    free(v->rest.n);
    free(v->plain.n);
    free(v->pgrp);
    free(v->ptok_lo);
    free(v->ptok);
    free(v->weight);
    for (int i = 0; i <= OLM_PLAIN_W; i++) free(v->plain_le[i]);
    free(v->plain_all);
    free(v->heavy);
    free(v->all_bytes);
    free(v);
}

onnxllm_status onnxllm_grammar_vocab_create(const onnxllm_tokenizer *t, int n_vocab, const int32_t *eos, size_t n_eos,
                                            onnxllm_grammar_vocab **out, onnxllm_error *err) {
    if (!t || !out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "grammar vocab: NULL argument");
    *out = NULL;
    size_t ntok = t->n_ids;
    if (n_vocab <= 0) n_vocab = (int)ntok;
    if ((size_t)n_vocab < ntok)
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT,
                        "grammar vocab: vocabulary size %d is smaller than the tokenizer's %zu", n_vocab, ntok);
    if (n_eos > 8) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "grammar vocab: at most 8 eos ids");
    for (size_t i = 0; i < n_eos; i++)
        if (eos[i] < 0 || eos[i] >= n_vocab)
            return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "grammar vocab: eos id %d outside the vocabulary", eos[i]);
    onnxllm_grammar_vocab *v = calloc(1, sizeof *v);
    if (!v) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "grammar vocab: out of memory");
    v->tok = t;
    v->n_vocab = n_vocab;
    v->n_tok = (uint32_t)ntok;
    v->n_words = ((uint32_t)n_vocab + 31) / 32;
    size_t N = (size_t)n_vocab, W = v->n_words;
    v->kind = calloc(N, 1);
    v->off = calloc(N, sizeof *v->off);
    v->len = calloc(N, sizeof *v->len);
    v->dup_next = malloc(N * sizeof *v->dup_next);
    v->weight = calloc(N, 1);
    v->plain_all = calloc(W, 4);
    v->all_bytes = calloc(W, 4);
    int32_t *ids = malloc(N * sizeof *ids), *rest = malloc(N * sizeof *rest), *plain = malloc(N * sizeof *plain);
    olm_buf buf = {0};
    bool ok = v->kind && v->off && v->len && v->dup_next && v->weight && v->plain_all && v->all_bytes && ids && rest && plain;
    for (int i = 0; ok && i <= OLM_PLAIN_W; i++) ok = (v->plain_le[i] = calloc(W, 4)) != NULL;
    if (!ok) goto oom;

    bool bytelevel = t->byte_level || find_dec(t->decoder, DEC_BYTELEVEL);
    const olm_decoder *meta = find_dec(t->decoder, DEC_METASPACE);
    int32_t meta_cp = meta ? meta->replacement : -1;
    uint8_t *is_added = calloc(ntok ? ntok : 1, 1);
    if (!is_added) goto oom;
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].id >= 0 && (size_t)t->added[i].id < ntok) is_added[t->added[i].id] = 1;
    for (size_t id = 0; id < N; id++) v->dup_next[id] = -1;
    size_t nids = 0, nrest = 0, nplain = 0;
    for (size_t id = 0; id < ntok && ok; id++) {
        if (!t->id_str[id]) continue;
        if (is_added[id]) {
            v->kind[id] = TK_SPECIAL;
            continue;
        }
        size_t mark = buf.len;
        ok = token_bytes(t, bytelevel, meta_cp, t->decoder, t->id_str[id], t->id_len[id], &buf);
        size_t l = buf.len - mark;
        if (!ok || l == 0 || l > OLM_TRIE_MAX_DEPTH) {
            buf.len = mark;
            continue;
        }
        v->kind[id] = TK_BYTES;
        v->off[id] = (uint32_t)mark;
        v->len[id] = (uint16_t)l;
        bit_set(v->all_bytes, (uint32_t)id);
        ids[nids++] = (int32_t)id;
    }
    free(is_added);
    if (!ok) goto oom;
    v->bytes = (uint8_t *)buf.p;
    buf.p = NULL;
    if (!v->bytes) v->bytes = calloc(1, 1);
    if (!v->bytes) goto oom;

    qsort_r(ids, nids, sizeof *ids, cmp_tok, v);
    /* tokens with the same bytes (SentencePiece "<0x20>" and "▁") are chained from the first */
    for (size_t i = 1, tail = 0; i < nids; i++) {
        int32_t x = ids[i - 1], y = ids[i];
        if (v->len[x] == v->len[y] && !memcmp(v->bytes + v->off[x], v->bytes + v->off[y], v->len[y]))
            v->dup_next[ids[tail]] = y; /* ids[tail] == x, the chain's last */
        tail = i;
    }
    OLM_VEC(int32_t) heavy = {0};
    for (size_t i = 0; i < nids; i++) {
        int32_t id = ids[i];
        unsigned w = plain_weight(v->bytes + v->off[id], v->len[id]);
        if (w > 255) w = 255;
        v->weight[id] = (uint8_t)w;
        if (!w) {
            rest[nrest++] = id;
            continue;
        }
        bit_set(v->plain_all, (uint32_t)id);
        plain[nplain++] = id;
        if (w > v->max_weight) v->max_weight = w;
        if (w <= OLM_PLAIN_W) bit_set(v->plain_le[w], (uint32_t)id);
        else if (!VEC_PUSH(heavy, id)) goto oom;
    }
    for (int w = 1; w <= OLM_PLAIN_W; w++)
        for (size_t k = 0; k < W; k++) v->plain_le[w][k] |= v->plain_le[w - 1][k];
    /* heavy tokens sorted by weight (insertion sort: there are few) */
    for (size_t i = 1; i < heavy.n; i++) {
        int32_t x = heavy.v[i];
        size_t j = i;
        while (j > 0 && v->weight[heavy.v[j - 1]] > v->weight[x]) {
            heavy.v[j] = heavy.v[j - 1];
            j--;
        }
        heavy.v[j] = x;
    }
    v->heavy = heavy.v;
    v->n_heavy = (uint32_t)heavy.n;
    if (!build_trie(v, ids, nids, &v->full) || !build_trie(v, rest, nrest, &v->rest) ||
        !build_trie(v, plain, nplain, &v->plain))
        goto oom;
    free(ids);
    free(rest);
    free(plain);
    if (!plain_summaries(v)) goto oom;
    for (size_t i = 0; i < n_eos; i++) v->eos[v->n_eos++] = eos[i];
    v->tool_open = onnxllm_tokenizer_token_to_id(t, "<|tool_call|>");
    v->tool_close = onnxllm_tokenizer_token_to_id(t, "<|/tool_call|>");
    if (v->tool_open >= 0 && v->kind[v->tool_open] != TK_SPECIAL) v->tool_open = -1;
    if (v->tool_close >= 0 && v->kind[v->tool_close] != TK_SPECIAL) v->tool_close = -1;
    *out = v;
    return ONNXLLM_OK;
oom:
    free(ids);
    free(rest);
    free(plain);
    olm_buf_free(&buf);
    onnxllm_grammar_vocab_free(v);
    return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "grammar vocab: out of memory");
}

int onnxllm_grammar_vocab_size(const onnxllm_grammar_vocab *v) { return v ? v->n_vocab : 0; }

const char *onnxllm_grammar_vocab_token_bytes(const onnxllm_grammar_vocab *v, int32_t id, size_t *len) {
    if (len) *len = 0;
    if (!v || id < 0 || id >= v->n_vocab || v->kind[id] != TK_BYTES) return NULL;
    if (len) *len = v->len[id];
    return (const char *)v->bytes + v->off[id];
}
