/* bpe.c — the BPE model: loading vocab/merges and encoding one pre-token.
 *
 * Exactly HF's tokenizers/src/models/bpe/{model,word}.rs:
 *  - initial symbols: one per char (with continuing_subword_prefix on non-first
 *    and end_of_word_suffix on the last char when set); a char missing from the
 *    vocab becomes its <0xXX> byte tokens (byte_fallback) or unk (fused when
 *    fuse_unk), or is dropped when there is no unk token;
 *  - merges: repeatedly apply the adjacent pair with the lowest rank, leftmost on
 *    ties; a pair's result id is vocab[a + b without the prefix];
 *  - ignore_merges: a pre-token that is itself in the vocab is one token.
 * Byte-level models read raw bytes: byte_id[b] is the id of the one-char token of
 * byte b, so no byte→char string is built on the hot path.
 * Words of up to SMALL_WORD symbols use an O(n²) scan over arrays (fast for the
 * usual short words); longer ones (SentencePiece models see whole sentences) use a
 * binary heap over a linked list — both give the same result as HF's heap. */
#include "tokenizer/tok_internal.h"
#include "common/error.h"
#include "common/json.h"
#include "common/checked.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_WORD 48
#define NO_RANK UINT32_MAX

static bool sym_reserve(olm_scratch *sc, size_t n) {
    if (n <= sc->sym_cap) return true;
    size_t c = sc->sym_cap ? sc->sym_cap : 256;
    while (c < n) c *= 2;
    void *a = realloc(sc->sym_id, c * sizeof *sc->sym_id);
    if (a) sc->sym_id = a;
    void *b = realloc(sc->sym_prev, c * sizeof *sc->sym_prev);
    if (b) sc->sym_prev = b;
    void *d = realloc(sc->sym_next, c * sizeof *sc->sym_next);
    if (d) sc->sym_next = d;
    void *e = realloc(sc->rank, c * sizeof *sc->rank);
    if (e) sc->rank = e;
    if (!a || !b || !d || !e) return false;
    sc->sym_cap = c;
    return true;
}

/* ---- merge loops --------------------------------------------------------------- */
static uint32_t pair_rank(const olm_pairmap *m, uint32_t a, uint32_t b, uint32_t *nid) {
    uint32_t r;
    return olm_pairmap_get(m, a, b, &r, nid) ? r : NO_RANK;
}

static bool merge_small(const onnxllm_tokenizer *t, olm_scratch *sc, size_t n, onnxllm_tokens *out) {
    uint32_t *id = sc->sym_id, *rk = sc->rank;
    uint32_t *nid = (uint32_t *)sc->sym_next; /* merged id of pair (i, i+1) */
    for (size_t i = 0; i + 1 < n; i++) rk[i] = pair_rank(&t->merges, id[i], id[i + 1], &nid[i]);
    while (n > 1) {
        uint32_t best = NO_RANK;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < n; i++)
            if (rk[i] < best) { best = rk[i]; bi = i; }
        if (best == NO_RANK) break;
        id[bi] = nid[bi];
        memmove(id + bi + 1, id + bi + 2, (n - bi - 2) * sizeof *id);
        memmove(rk + bi + 1, rk + bi + 2, (n - bi - 2) * sizeof *rk);
        memmove(nid + bi + 1, nid + bi + 2, (n - bi - 2) * sizeof *nid);
        n--;
        if (bi + 1 < n) rk[bi] = pair_rank(&t->merges, id[bi], id[bi + 1], &nid[bi]);
        else rk[bi] = NO_RANK;
        if (bi > 0) rk[bi - 1] = pair_rank(&t->merges, id[bi - 1], id[bi], &nid[bi - 1]);
    }
    for (size_t i = 0; i < n; i++)
        if (!olm_tokens_push(out, (int32_t)id[i])) return false;
    return true;
}

/* heap entry: rank << 32 | pos  (min-heap: lowest rank, then leftmost pos) */
static void heap_push(uint64_t *h, size_t *n, uint64_t v) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p] <= v) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = v;
}
static uint64_t heap_pop(uint64_t *h, size_t *n) {
    uint64_t top = h[0], v = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (v <= h[c]) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
    return top;
}

#define DEAD UINT32_MAX
static bool merge_large(const onnxllm_tokenizer *t, olm_scratch *sc, size_t n, onnxllm_tokens *out) {
    uint32_t *id = sc->sym_id;
    int32_t *prev = sc->sym_prev, *next = sc->sym_next;
    if (sc->heap_cap < 3 * n) { /* n-1 initial pairs + at most 2 pushes per merge */
        void *p = realloc(sc->heap, 3 * n * sizeof *sc->heap);
        if (!p) return false;
        sc->heap = p;
        sc->heap_cap = 3 * n;
    }
    uint64_t *h = sc->heap;
    size_t hn = 0;
    for (size_t i = 0; i < n; i++) {
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        uint32_t nid = 0, r = pair_rank(&t->merges, id[i], id[i + 1], &nid);
        if (r != NO_RANK) heap_push(h, &hn, ((uint64_t)r << 32) | i);
    }
    while (hn) {
        uint64_t top = heap_pop(h, &hn);
        size_t pos = (size_t)(top & 0xFFFFFFFFu);
        uint32_t rank = (uint32_t)(top >> 32);
        if (id[pos] == DEAD || next[pos] < 0) continue;
        size_t r = (size_t)next[pos];
        uint32_t nid = 0, cr = pair_rank(&t->merges, id[pos], id[r], &nid);
        /* stale entry: the pair at pos changed since it was pushed (merge ranks are
         * unique per pair, so an equal rank means the same pair) */
        if (cr != rank) continue;
        id[pos] = nid;
        id[r] = DEAD;
        next[pos] = next[r];
        if (next[r] >= 0) prev[next[r]] = (int32_t)pos;
        if (prev[pos] >= 0) {
            size_t p = (size_t)prev[pos];
            uint32_t pn, pr = pair_rank(&t->merges, id[p], id[pos], &pn);
            if (pr != NO_RANK) {
                if (hn == sc->heap_cap) return false;
                heap_push(h, &hn, ((uint64_t)pr << 32) | p);
            }
        }
        if (next[pos] >= 0) {
            size_t q = (size_t)next[pos];
            uint32_t qn, qr = pair_rank(&t->merges, id[pos], id[q], &qn);
            if (qr != NO_RANK) {
                if (hn == sc->heap_cap) return false;
                heap_push(h, &hn, ((uint64_t)qr << 32) | pos);
            }
        }
    }
    for (int32_t i = 0; i >= 0; i = next[i])
        if (!olm_tokens_push(out, (int32_t)id[i])) return false;
    return true;
}


static bool merge_word(const onnxllm_tokenizer *t, olm_scratch *sc, size_t n, onnxllm_tokens *out) {
    if (n == 0) return true;
    if (n == 1) return olm_tokens_push(out, (int32_t)sc->sym_id[0]);
    return n <= SMALL_WORD ? merge_small(t, sc, n, out) : merge_large(t, sc, n, out);
}

/* ---- initial symbols ------------------------------------------------------------ */
typedef struct {
    int32_t unk_id;
    size_t unk_pending; /* 1 = an unk symbol is pending (fuse) */
} unk_state;

static void add_sym(olm_scratch *sc, size_t *n, uint32_t id) { sc->sym_id[(*n)++] = id; }

/* one char (s[0..l)) not in the vocab: byte fallback, else unk */
static void missing_char(const onnxllm_tokenizer *t, olm_scratch *sc, size_t *n, const char *s, size_t l,
                         unk_state *u) {
    if (t->byte_fallback) {
        bool all = true;
        for (size_t k = 0; k < l; k++)
            if (t->byte_fallback_id[(unsigned char)s[k]] < 0) all = false;
        if (all) {
            for (size_t k = 0; k < l; k++) add_sym(sc, n, (uint32_t)t->byte_fallback_id[(unsigned char)s[k]]);
            return;
        }
    }
    if (t->unk_id < 0) return; /* HF drops the char when there is no unk token */
    if (u->unk_pending && !t->fuse_unk) add_sym(sc, n, (uint32_t)t->unk_id);
    u->unk_pending = 1;
}

static void flush_unk(const onnxllm_tokenizer *t, olm_scratch *sc, size_t *n, unk_state *u) {
    if (u->unk_pending) add_sym(sc, n, (uint32_t)t->unk_id);
    u->unk_pending = 0;
}

bool olm_bpe_encode(const onnxllm_tokenizer *t, const char *s, size_t len, olm_scratch *sc, onnxllm_tokens *out) {
    if (len == 0) return true;
    bool affixes = t->cont_prefix_len || t->eow_suffix_len;
    if (t->byte_level && (affixes || t->ignore_merges)) {
        /* materialize the byte-level string: needed for whole-word / affixed lookups */
        olm_buf *b = &sc->tmp2;
        b->len = 0;
        if (!olm_buf_reserve(b, len * 2)) return false;
        for (size_t i = 0; i < len; i++) b->len += (size_t)olm_utf8_encode(olm_bytelevel_char((unsigned char)s[i]), b->p + b->len);
        if (t->ignore_merges) {
            int32_t id = olm_strmap_get(&t->vocab, b->p, b->len);
            if (id >= 0) return olm_tokens_push(out, id);
        }
        if (affixes) { s = b->p; len = b->len; goto general; }
    } else if (t->ignore_merges) {
        int32_t id = olm_strmap_get(&t->vocab, s, len);
        if (id >= 0) return olm_tokens_push(out, id);
    }
    if (t->byte_level) {
        /* a byte whose char is missing falls back to the <0xXX> tokens of that char's
         * UTF-8 bytes: up to 2 symbols per input byte */
        if (!sym_reserve(sc, 2 * len + 1)) return false;
        size_t n = 0;
        unk_state u = {t->unk_id, 0};
        for (size_t i = 0; i < len; i++) {
            int32_t id = t->byte_id[(unsigned char)s[i]];
            if (id >= 0) {
                flush_unk(t, sc, &n, &u);
                add_sym(sc, &n, (uint32_t)id);
            } else {
                char c[4];
                int cl = olm_utf8_encode(olm_bytelevel_char((unsigned char)s[i]), c);
                missing_char(t, sc, &n, c, (size_t)cl, &u);
            }
        }
        flush_unk(t, sc, &n, &u);
        return merge_word(t, sc, n, out);
    }
general:;
    /* one symbol per char, or byte fallback: one per byte of the char with its affixes
     * (continuing_subword_prefix + char + end_of_word_suffix, lengths capped at load) */
    size_t per_char = 4 + t->cont_prefix_len + t->eow_suffix_len, cap;
    if (!olm_mul_size(len, per_char, &cap) || !sym_reserve(sc, cap + 1)) return false;
    size_t n = 0;
    unk_state u = {t->unk_id, 0};
    olm_buf *key = &sc->tmp;
    for (size_t i = 0; i < len;) {
        size_t l = (size_t)olm_utf8_len((unsigned char)s[i]);
        if (i + l > len) l = len - i;
        bool first = i == 0, last = i + l == len;
        int32_t id;
        if ((!first && t->cont_prefix_len) || (last && t->eow_suffix_len)) {
            key->len = 0;
            if ((!first && !olm_buf_put(key, t->cont_prefix, t->cont_prefix_len)) || !olm_buf_put(key, s + i, l) ||
                (last && !olm_buf_put(key, t->eow_suffix, t->eow_suffix_len)))
                return false;
            id = olm_strmap_get(&t->vocab, key->p, key->len);
            if (id < 0) { /* byte fallback uses the affixed string, as HF does */
                missing_char(t, sc, &n, key->p, key->len, &u);
                i += l;
                continue;
            }
        } else
            id = olm_strmap_get(&t->vocab, s + i, l);
        if (id >= 0) {
            flush_unk(t, sc, &n, &u);
            add_sym(sc, &n, (uint32_t)id);
        } else
            missing_char(t, sc, &n, s + i, l, &u);
        i += l;
    }
    flush_unk(t, sc, &n, &u);
    return merge_word(t, sc, n, out);
}

/* ---- loading ---------------------------------------------------------------------- */
static onnxllm_status opt_string(const cJSON *m, const char *k, const char *file, char **out, size_t *len,
                                 onnxllm_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, k);
    *out = NULL;
    *len = 0;
    if (!v || cJSON_IsNull(v)) return ONNXLLM_OK;
    if (!cJSON_IsString(v)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: model: '%s' must be a string or null, got %s", file, k, olm_json_type(v));
    if (!v->valuestring[0]) return ONNXLLM_OK;
    *len = strlen(v->valuestring);
    *out = strdup(v->valuestring);
    return *out ? ONNXLLM_OK : olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
}

static onnxllm_status add_merge(onnxllm_tokenizer *t, const char *a, size_t al, const char *b, size_t bl, uint32_t rank,
                                olm_buf *cat, const char *file, onnxllm_error *err) {
    int32_t ia = olm_strmap_get(&t->vocab, a, al), ib = olm_strmap_get(&t->vocab, b, bl);
    if (ia < 0 || ib < 0)
        return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: model.merges[%u]: token '%.*s' is not in the vocab", file, rank,
                        ia < 0 ? (int)al : (int)bl, ia < 0 ? a : b);
    size_t skip = (t->cont_prefix_len && bl >= t->cont_prefix_len && !memcmp(b, t->cont_prefix, t->cont_prefix_len)) ? t->cont_prefix_len : 0;
    cat->len = 0;
    if (!olm_buf_put(cat, a, al) || !olm_buf_put(cat, b + skip, bl - skip)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    int32_t in = olm_strmap_get(&t->vocab, cat->p, cat->len);
    if (in < 0) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: model.merges[%u]: merged token '%s' is not in the vocab", file, rank, cat->p);
    if (!olm_pairmap_put(&t->merges, (uint32_t)ia, (uint32_t)ib, rank, (uint32_t)in)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    return ONNXLLM_OK;
}

onnxllm_status olm_bpe_load(onnxllm_tokenizer *t, const cJSON *model, const olm_fast_model *fm, const char *file,
                            onnxllm_error *err) {
    if (!cJSON_IsObject(model)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: 'model' must be an object, got %s", file, olm_json_type(model));
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(model, "type");
    if (ty && !cJSON_IsString(ty)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: model: 'type' must be a string", file);
    if (ty && strcmp(ty->valuestring, "BPE"))
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: unsupported model type '%s' (only BPE is implemented)", file, ty->valuestring);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!fm) {
        if (!cJSON_IsObject(vocab)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: model: 'vocab' must be an object, got %s", file, olm_json_type(vocab));
        if (merges && !cJSON_IsArray(merges)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: model: 'merges' must be an array, got %s", file, olm_json_type(merges));
    }
    if (!ty && !(fm ? fm->present : merges != NULL))
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: model has no 'type' and no 'merges': only BPE is implemented", file);

    onnxllm_status st;
    /* dropout is a training-time option: ignored at inference, like HF with dropout off */
    t->fuse_unk = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "fuse_unk"));
    t->byte_fallback = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback"));
    t->ignore_merges = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "ignore_merges"));
    if ((st = opt_string(model, "continuing_subword_prefix", file, &t->cont_prefix, &t->cont_prefix_len, err))) return st;
    if ((st = opt_string(model, "end_of_word_suffix", file, &t->eow_suffix, &t->eow_suffix_len, err))) return st;
    /* they size the symbol buffer of every char; real ones are "##" and "</w>" */
    if (t->cont_prefix_len > 64 || t->eow_suffix_len > 64)
        return olm_fail(err, ONNXLLM_ERR_UNSUPPORTED, "%s: model: continuing_subword_prefix / end_of_word_suffix longer than 64 bytes", file);

    const cJSON *it;
    if (fm) /* the fast reader filled t->vocab */
        t->n_ids = (size_t)(fm->maxid + 1);
    else {
        size_t nv = (size_t)cJSON_GetArraySize(vocab);
        if (!olm_strmap_init(&t->vocab, nv)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
        int64_t maxid = -1;
        cJSON_ArrayForEach(it, vocab) {
            int64_t id64;
            if (!olm_json_as_int(it, 0, INT32_MAX, &id64))
                return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: model.vocab['%s']: id must be a non-negative integer", file, it->string);
            int32_t id = (int32_t)id64;
            if (!olm_strmap_put(&t->vocab, it->string, strlen(it->string), id)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
            if (id > maxid) maxid = id;
        }
        t->n_ids = (size_t)(maxid + 1);
    }

    t->unk_id = -1;
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_token");
    if (unk && !cJSON_IsNull(unk)) {
        if (!cJSON_IsString(unk)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: model: 'unk_token' must be a string or null", file);
        t->unk_id = olm_strmap_get(&t->vocab, unk->valuestring, strlen(unk->valuestring));
        if (t->unk_id < 0) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: model: unk_token '%s' is not in the vocab", file, unk->valuestring);
    }
    for (int b = 0; b < 256; b++) {
        char k[8];
        snprintf(k, sizeof k, "<0x%02X>", b);
        t->byte_fallback_id[b] = olm_strmap_get(&t->vocab, k, 6);
    }

    size_t nm = fm ? fm->n : merges ? (size_t)cJSON_GetArraySize(merges) : 0;
    if (!olm_pairmap_init(&t->merges, nm)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    olm_buf cat = {0};
    st = ONNXLLM_OK;
    if (fm) {
        for (size_t i = 0; i < fm->n && !st; i++) {
            const olm_fast_merge *m = &fm->m[i];
            st = add_merge(t, fm->text.p + m->a_off, m->a_len, fm->text.p + m->b_off, m->b_len, (uint32_t)i, &cat, file, err);
        }
        olm_buf_free(&cat);
        return st;
    }
    uint32_t rank = 0;
    if (merges) cJSON_ArrayForEach(it, merges) {
        const char *a, *b;
        size_t al, bl;
        if (cJSON_IsString(it)) {
            const char *sp = strchr(it->valuestring, ' ');
            if (!sp) { st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: model.merges[%u]: \"%s\" is not two tokens separated by a space", file, rank, it->valuestring); break; }
            a = it->valuestring;
            al = (size_t)(sp - a);
            b = sp + 1;
            bl = strlen(b);
            if (strchr(b, ' ')) { st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: model.merges[%u]: \"%s\" has more than two tokens", file, rank, it->valuestring); break; }
        } else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2 && cJSON_IsString(it->child) && cJSON_IsString(it->child->next)) {
            a = it->child->valuestring;
            al = strlen(a);
            b = it->child->next->valuestring;
            bl = strlen(b);
        } else {
            st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: model.merges[%u]: expected \"a b\" or [\"a\", \"b\"], got %s", file, rank, olm_json_type(it));
            break;
        }
        if ((st = add_merge(t, a, al, b, bl, rank, &cat, file, err))) break;
        rank++;
    }
    olm_buf_free(&cat);
    return st;
}
