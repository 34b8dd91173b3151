/* added_tokens.c — tokenizer.json "added_tokens": loading (HF's id rules) and the
 * matcher that cuts input text around them.
 *
 * HF (tokenizers/src/tokenizer/added_vocabulary.rs) matches all added tokens,
 * special or not, with Aho-Corasick leftmost-longest over the raw text
 * (normalized:false tokens) and then over each normalized segment (normalized:true
 * tokens). A byte trie gives the same leftmost-longest matches. Rules replicated:
 *  - single_word: the match must not touch a word char on either side, else it is
 *    skipped (and the automaton resumes after it);
 *  - lstrip / rstrip: the token swallows adjacent White_Space;
 *  - with encode_special_tokens (our flag without PARSE_SPECIAL), special tokens
 *    are skipped, non-special ones still match;
 *  - id of an added token: its vocab id when the content is in the model vocab,
 *    else the vocab's entry count, then +1 for each further such token in file
 *    order (HF ignores the file's "id" for them). */
#include "tokenizer/tok_internal.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

static int32_t trie_new(olm_trie *tr, unsigned char b) {
    if (tr->n == tr->cap) {
        size_t nc = tr->cap ? tr->cap * 2 : 256;
        void *p = realloc(tr->nodes, nc * sizeof *tr->nodes);
        if (!p) return -1;
        tr->nodes = p;
        tr->cap = nc;
    }
    tr->nodes[tr->n] = (olm_trie_node){0, 0, -1, b};
    return (int32_t)tr->n++;
}

bool olm_trie_add(olm_trie *tr, const char *s, size_t n, int32_t token) {
    if (!tr->n && trie_new(tr, 0) < 0) return false;
    if (!n) return true;
    tr->first_byte[(unsigned char)s[0]] = true;
    uint32_t cur = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        uint32_t c = tr->nodes[cur].first_child;
        while (c && tr->nodes[c].byte != b) c = tr->nodes[c].next_sibling;
        if (!c) {
            int32_t nn = trie_new(tr, b);
            if (nn < 0) return false;
            tr->nodes[nn].next_sibling = tr->nodes[cur].first_child;
            tr->nodes[cur].first_child = (uint32_t)nn;
            c = (uint32_t)nn;
        }
        cur = c;
    }
    if (tr->nodes[cur].token < 0) tr->nodes[cur].token = token; /* first pattern wins on duplicates */
    return true;
}

/* longest token starting at s[i]: its index or -1, *end its end */
static int32_t trie_longest(const olm_trie *tr, const char *s, size_t n, size_t i, size_t *end) {
    uint32_t cur = 0;
    int32_t best = -1;
    for (size_t k = i; k < n; k++) {
        unsigned char b = (unsigned char)s[k];
        uint32_t c = tr->nodes[cur].first_child;
        while (c && tr->nodes[c].byte != b) c = tr->nodes[c].next_sibling;
        if (!c) break;
        cur = c;
        if (tr->nodes[cur].token >= 0) {
            best = tr->nodes[cur].token;
            *end = k + 1;
        }
    }
    return best;
}

static bool is_ws_cp(int32_t cp) { return (olm_char_class(cp) & OLM_CC_WS) != 0; }
static bool is_word_cp(int32_t cp) { return cp == '_' || (olm_char_class(cp) & (OLM_CC_ALNUM | OLM_CC_M)); }

static int32_t last_cp(const char *s, size_t n, size_t *start) {
    size_t k = n - 1;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    int32_t cp;
    olm_utf8_decode((const unsigned char *)s + k, n - k, &cp);
    *start = k;
    return cp;
}

bool olm_added_next(const onnxllm_tokenizer *t, const olm_trie *trie, const char *s, size_t n, size_t from,
                    size_t floor, bool parse_special, olm_match *m, size_t *resume) {
    if (!trie->n) return false;
    size_t i = from;
    while (i < n) {
        if (!trie->first_byte[(unsigned char)s[i]]) { i++; continue; }
        size_t me = 0;
        int32_t k = trie_longest(trie, s, n, i, &me);
        if (k < 0) { i++; continue; }
        const olm_added *a = &t->added[k];
        size_t ms = i;
        i = me; /* the automaton resumes after this match whether it is used or not */
        if (!parse_special && a->special) continue;
        if (a->single_word) {
            size_t st;
            int32_t cp;
            bool start_space = ms == 0 || !is_word_cp(last_cp(s, ms, &st));
            bool stop_space = me == n || (olm_utf8_decode((const unsigned char *)s + me, n - me, &cp), !is_word_cp(cp));
            if (!start_space || !stop_space) continue;
        }
        size_t start = ms, stop = me;
        if (a->lstrip) {
            size_t p = ms, st;
            while (p > 0 && is_ws_cp(last_cp(s, p, &st))) p = st;
            start = p > floor ? p : floor;
        }
        if (a->rstrip) {
            while (stop < n) {
                int32_t cp;
                int l = olm_utf8_decode((const unsigned char *)s + stop, n - stop, &cp);
                if (!is_ws_cp(cp)) break;
                stop += (size_t)l;
            }
        }
        m->start = start;
        m->stop = stop;
        m->match_start = ms;
        m->id = a->id;
        m->special = a->special;
        *resume = me;
        return true;
    }
    return false;
}

static bool jflag(const cJSON *o, const char *k, bool dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

onnxllm_status olm_added_load(onnxllm_tokenizer *t, const cJSON *arr, const char *file, onnxllm_error *err) {
    if (!arr || cJSON_IsNull(arr)) return ONNXLLM_OK;
    if (!cJSON_IsArray(arr)) return olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: 'added_tokens' must be an array, got %s", file, olm_json_type(arr));
    size_t n = (size_t)cJSON_GetArraySize(arr);
    t->added = calloc(n ? n : 1, sizeof *t->added);
    if (!t->added) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    size_t vocab_entries = t->vocab.n;
    int64_t max_added = -1;
    size_t idx = 0;
    /* content → index, so that loading n added tokens is O(n), not O(n^2) (200k took 58 s) */
    olm_strmap seen = {0};
    if (!olm_strmap_init(&seen, n)) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file);
    onnxllm_status st = ONNXLLM_OK;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (!cJSON_IsObject(it)) { st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: added_tokens[%zu]: expected an object, got %s", file, idx, olm_json_type(it)); break; }
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "content");
        if (!cJSON_IsString(c)) { st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: added_tokens[%zu]: 'content' must be a string", file, idx); break; }
        const cJSON *idj = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (idj && !cJSON_IsNumber(idj)) { st = olm_fail(err, ONNXLLM_ERR_FORMAT, "%s: added_tokens[%zu]: 'id' must be a number", file, idx); break; }
        idx++;
        size_t len = strlen(c->valuestring);
        if (!len) continue;
        /* a repeated content re-flags the earlier entry (HF keeps one per content) */
        int32_t k = olm_strmap_get(&seen, c->valuestring, len);
        olm_added *a = k >= 0 ? &t->added[k] : NULL;
        int32_t id = olm_strmap_get(&t->vocab, c->valuestring, len);
        if (a) id = a->id;
        if (id < 0) {
            if (max_added < 0) id = (int32_t)vocab_entries;
            else id = (max_added >= (int64_t)vocab_entries || vocab_entries == 0) ? (int32_t)(max_added + 1) : (int32_t)vocab_entries;
        }
        if (!a) {
            if (!olm_strmap_put(&seen, c->valuestring, len, (int32_t)t->n_added)) { st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file); break; }
            a = &t->added[t->n_added++];
            a->content = strdup(c->valuestring);
            if (!a->content) { st = olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "%s: out of memory", file); break; }
            a->len = len;
        }
        /* only ids given to tokens outside the vocab count for the next one (HF,
         * verified: vocab {a:0,b:1,S:5} + added S, X, Y gives X=3, Y=4) */
        if (olm_strmap_get(&t->vocab, c->valuestring, len) < 0 && id > max_added) max_added = id;
        a->id = id;
        a->special = jflag(it, "special", false);
        a->lstrip = jflag(it, "lstrip", false);
        a->rstrip = jflag(it, "rstrip", false);
        a->single_word = jflag(it, "single_word", false);
        a->normalized = jflag(it, "normalized", !a->special);
    }
    olm_strmap_free(&seen);
    return st;
}
