/* test_tokenizer.c — tokenizer API behaviour, Phi-4-mini ids, malformed files,
 * streaming and concurrent use. Expected ids come from HF tokenizers (the
 * reference data in tokenizer-ref/; docs/reference/tokenizer.md §1.3, §5).
 *   test_tokenizer [PHI4_TOKENIZER_JSON]   (Phi-4 tests skipped without it) */
#include "test.h"
#include "onnxllm.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Allocation counter: the test binary links with -Wl,--wrap=malloc,... (CMakeLists),
 * so every malloc/calloc/realloc of the library goes through these. */
static long alloc_calls;
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
static size_t alloc_max; /* largest single request while `tracking` (sparse_ids_refused) */
static bool tracking;
static void track(size_t n) {
    if (tracking && n > alloc_max) alloc_max = n;
}
void *__wrap_malloc(size_t n) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); track(n); return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); track(a * b); return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); track(n); return __real_realloc(p, n); }

static const char *phi4_path;
static onnxllm_tokenizer *phi4;

static bool ids_eq(const onnxllm_tokens *t, const int32_t *e, size_t n) {
    return t->len == n && !memcmp(t->ids, e, n * sizeof *e);
}

static onnxllm_status load_str(const char *json, onnxllm_tokenizer **t, onnxllm_error *err) {
    return onnxllm_tokenizer_load_from_memory(json, strlen(json), "bad.json", t, err);
}

/* A tiny but complete byte-level tokenizer: vocab of the bytes a..e + merges. */
#define MINI_HEAD "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],"
#define MINI_MODEL "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"c\":2,\"ab\":3,\"abc\":4},\"merges\":[\"a b\",\"ab c\"]}"

TEST(malformed_files) {
    onnxllm_tokenizer *t = NULL;
    onnxllm_error err = {0};
    struct { const char *json, *needle; onnxllm_status st; } cases[] = {
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0", "malformed JSON at line 1", ONNXLLM_ERR_FORMAT},
        {"[1,2]", "expected a JSON object at top level", ONNXLLM_ERR_FORMAT},
        {"{\"added_tokens\":[]}", "missing 'model'", ONNXLLM_ERR_FORMAT},
        {MINI_HEAD "\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",0.0]]}}", "unsupported model type 'Unigram'", ONNXLLM_ERR_UNSUPPORTED},
        {MINI_HEAD "\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}}", "unsupported model type 'WordPiece'", ONNXLLM_ERR_UNSUPPORTED},
        {MINI_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":[],\"merges\":[]}}", "'vocab' must be an object, got an array", ONNXLLM_ERR_FORMAT},
        {MINI_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"x\"},\"merges\":[]}}", "model.vocab['a']: id must be a non-negative integer", ONNXLLM_ERR_FORMAT},
        {MINI_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[7]}}", "model.merges[0]: expected \"a b\" or [\"a\", \"b\"], got a number", ONNXLLM_ERR_FORMAT},
        {MINI_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a z\"]}}", "model.merges[0]: token 'z' is not in the vocab", ONNXLLM_ERR_FORMAT},
        {MINI_HEAD "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a a\"]}}", "merged token 'aa' is not in the vocab", ONNXLLM_ERR_FORMAT},
        {MINI_HEAD MINI_MODEL ",\"normalizer\":{\"type\":\"BertNormalizer\"}}", "unsupported normalizer type 'BertNormalizer'", ONNXLLM_ERR_UNSUPPORTED},
        {MINI_HEAD MINI_MODEL ",\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},{\"type\":\"Precompiled\"}]}}", "unsupported normalizer type 'Precompiled'", ONNXLLM_ERR_UNSUPPORTED},
        {MINI_HEAD MINI_MODEL ",\"normalizer\":7}", "normalizer: expected an object, got a number", ONNXLLM_ERR_FORMAT},
        {MINI_HEAD MINI_MODEL ",\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"}}", "unsupported pre_tokenizer type 'BertPreTokenizer'", ONNXLLM_ERR_UNSUPPORTED},
        {MINI_HEAD MINI_MODEL ",\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\",\"invert\":false}}", "pre_tokenizer Split: cannot compile regex", ONNXLLM_ERR_UNSUPPORTED},
        {MINI_HEAD MINI_MODEL ",\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":\"x\",\"behavior\":\"Isolated\"}}", "pre_tokenizer Split: 'pattern' must be", ONNXLLM_ERR_FORMAT},
        {MINI_HEAD MINI_MODEL ",\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"ByteLevel\"},{\"type\":\"Digits\"}]}}", "ByteLevel followed by other pre-tokenizers", ONNXLLM_ERR_UNSUPPORTED},
        {MINI_HEAD MINI_MODEL ",\"decoder\":{\"type\":\"WordPiece\",\"prefix\":\"##\"}}", "unsupported decoder type 'WordPiece'", ONNXLLM_ERR_UNSUPPORTED},
        {MINI_HEAD MINI_MODEL ",\"decoder\":{\"type\":\"CTC\"}}", "unsupported decoder type 'CTC'", ONNXLLM_ERR_UNSUPPORTED},
        {MINI_HEAD MINI_MODEL ",\"post_processor\":{\"type\":\"Foo\"}}", "unsupported post_processor type 'Foo'", ONNXLLM_ERR_UNSUPPORTED},
        {MINI_HEAD MINI_MODEL ",\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}}],\"special_tokens\":{}}}", "special token '<s>' missing", ONNXLLM_ERR_FORMAT},
        {"{\"added_tokens\":[{\"id\":5}]," MINI_MODEL "}", "added_tokens[0]: 'content' must be a string", ONNXLLM_ERR_FORMAT},
        {"{\"added_tokens\":{}," MINI_MODEL "}", "'added_tokens' must be an array, got an object", ONNXLLM_ERR_FORMAT},
        {"{\"truncation\":{\"max_length\":5}," MINI_MODEL "}", "'truncation' is set", ONNXLLM_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memset(&err, 0, sizeof err);
        onnxllm_status st = load_str(cases[i].json, &t, &err);
        CHECK_EQ_INT(st, cases[i].st);
        CHECK(t == NULL);
        if (!strstr(err.message, cases[i].needle) || strncmp(err.message, "bad.json: ", 10) || strchr(err.message, '\n'))
            printf("  case %zu: message \"%s\" lacks \"%s\"\n", i, err.message, cases[i].needle), test_cur_failed_ = 1;
    }
    /* a file: the message names it */
    char path[] = "/tmp/olm_tok_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *trunc = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a";
    CHECK(write(fd, trunc, strlen(trunc)) == (ssize_t)strlen(trunc));
    close(fd);
    CHECK_EQ_INT(onnxllm_tokenizer_load(path, &t, &err), ONNXLLM_ERR_FORMAT);
    CHECK(strstr(err.message, path) && strstr(err.message, "malformed JSON"));
    unlink(path);
    CHECK_EQ_INT(onnxllm_tokenizer_load("/nonexistent/tokenizer.json", &t, &err), ONNXLLM_ERR_IO);
    CHECK(strstr(err.message, "/nonexistent/tokenizer.json") != NULL);
}

/* The mini tokenizer: BPE merges, no pre-tokenizer, no decoder (tokens joined by " "). */
TEST(mini_bpe) {
    onnxllm_tokenizer *t = NULL;
    onnxllm_error err = {0};
    CHECK_EQ_INT(load_str(MINI_HEAD MINI_MODEL "}", &t, &err), ONNXLLM_OK);
    if (!t) return;
    onnxllm_tokens ids = {0};
    CHECK_EQ_INT(onnxllm_tokenizer_encode(t, "abcab", 5, 0, &ids, &err), ONNXLLM_OK);
    int32_t e1[] = {4, 3};
    CHECK(ids_eq(&ids, e1, 2));
    /* encode appends */
    CHECK_EQ_INT(onnxllm_tokenizer_encode(t, "c", 1, 0, &ids, &err), ONNXLLM_OK);
    CHECK_EQ_INT(ids.len, 3);
    /* chars missing from the vocab (no unk token) are dropped, and the neighbours
     * then merge — HF gives [3] for "axb" */
    ids.len = 0;
    CHECK_EQ_INT(onnxllm_tokenizer_encode(t, "axb", 3, 0, &ids, &err), ONNXLLM_OK);
    int32_t e2[] = {3};
    CHECK(ids_eq(&ids, e2, 1));
    onnxllm_string s = {0};
    int32_t d[] = {4, 3, 99, -5};
    CHECK_EQ_INT(onnxllm_tokenizer_decode(t, d, 4, false, &s, &err), ONNXLLM_OK);
    CHECK_EQ_STR(s.data, "abc ab");
    CHECK_EQ_INT(onnxllm_tokenizer_vocab_size(t), 5);
    CHECK_EQ_INT(onnxllm_tokenizer_token_to_id(t, "abc"), 4);
    CHECK_EQ_INT(onnxllm_tokenizer_token_to_id(t, "zz"), -1);
    CHECK(onnxllm_tokenizer_id_to_token(t, 5) == NULL);
    CHECK_EQ_STR(onnxllm_tokenizer_id_to_token(t, 3), "ab");
    onnxllm_string_free(&s);
    onnxllm_tokens_free(&ids);
    onnxllm_tokenizer_free(t);
}

/* The fast tokenizer.json reader (vocab/merges without cJSON) must read escapes,
 * NUL in keys, both merge forms and any key order like the full parser. */
TEST(fast_reader) {
    onnxllm_tokenizer *t = NULL;
    onnxllm_error err = {0};
    const char *json =
        "{\"model\": {\"merges\": [[\"a\", \"b\"], \"ab c\"], \"type\": \"BPE\",\n"
        "  \"vocab\": {\"\\u0061\": 0, \"b\": 1, \"c\": 2, \"a\\u0062\": 3, \"abc\": 4, \"x\\u0000y\": 5, \"\\ud83d\\ude00\": 6}},\n"
        "  \"added_tokens\": [], \"decoder\": null}";
    CHECK_EQ_INT(load_str(json, &t, &err), ONNXLLM_OK);
    if (!t) { printf("  %s\n", err.message); test_cur_failed_ = 1; return; }
    onnxllm_tokens ids = {0};
    CHECK_EQ_INT(onnxllm_tokenizer_encode(t, "abcab\xF0\x9F\x98\x80x", 10, 0, &ids, &err), ONNXLLM_OK);
    int32_t e[] = {4, 3, 6};
    CHECK(ids_eq(&ids, e, 3));
    ids.len = 0;
    CHECK_EQ_INT(onnxllm_tokenizer_encode(t, "x\0y", 3, 0, &ids, &err), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_tokenizer_vocab_size(t), 7);
    onnxllm_tokens_free(&ids);
    onnxllm_tokenizer_free(t);
    /* a lone surrogate: not valid JSON text for HF either; the full parser reports it */
    CHECK(load_str("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\\ud800\": 0}, \"merges\": []}}", &t, &err) != ONNXLLM_OK);
}

TEST(phi4_ids) {
    if (!phi4) SKIP("no Phi-4-mini tokenizer.json given (Node reference data missing)");
    CHECK_EQ_INT(onnxllm_tokenizer_token_to_id(phi4, "<|end|>"), 200020);
    CHECK_EQ_INT(onnxllm_tokenizer_token_to_id(phi4, "<|endoftext|>"), 199999);
    CHECK_EQ_INT(onnxllm_tokenizer_token_to_id(phi4, "<|assistant|>"), 200019);
    CHECK_EQ_INT(onnxllm_tokenizer_token_to_id(phi4, "<|tool_call|>"), 200025);
    CHECK_EQ_INT(onnxllm_tokenizer_token_to_id(phi4, "<|tag|>"), 200028);
    CHECK_EQ_INT(onnxllm_tokenizer_token_to_id(phi4, "<|END|>"), -1);
    CHECK_EQ_INT(onnxllm_tokenizer_token_to_id(phi4, "Hello"), 13225);
    CHECK_EQ_STR(onnxllm_tokenizer_id_to_token(phi4, 200021), "<|user|>");
    CHECK_EQ_STR(onnxllm_tokenizer_id_to_token(phi4, 12194), "Hi");
    CHECK(onnxllm_tokenizer_id_to_token(phi4, 200050) == NULL);
    CHECK(onnxllm_tokenizer_id_to_token(phi4, 199998) == NULL);
    CHECK(onnxllm_tokenizer_is_special(phi4, 200020));
    CHECK(onnxllm_tokenizer_is_special(phi4, 199999));
    CHECK(!onnxllm_tokenizer_is_special(phi4, 200025));
    CHECK(!onnxllm_tokenizer_is_special(phi4, 12194));
    CHECK_EQ_INT(onnxllm_tokenizer_vocab_size(phi4), 200029);

    onnxllm_tokens ids = {0};
    onnxllm_error err = {0};
    const char *chat = "<|user|>\nHi<|end|><|assistant|>";
    CHECK_EQ_INT(onnxllm_tokenizer_encode(phi4, chat, strlen(chat), ONNXLLM_TOKENIZE_PARSE_SPECIAL | ONNXLLM_TOKENIZE_ADD_SPECIAL, &ids, &err), ONNXLLM_OK);
    int32_t e[] = {200021, 198, 12194, 200020, 200019}; /* HF; Phi adds no BOS */
    CHECK(ids_eq(&ids, e, 5));
    /* special tokens as text; the non-special tool tag is still matched (HF encode_special_tokens) */
    const char *t2 = "<|end|><|tool_call|>";
    ids.len = 0;
    CHECK_EQ_INT(onnxllm_tokenizer_encode(phi4, t2, strlen(t2), 0, &ids, &err), ONNXLLM_OK);
    CHECK(ids.len > 2 && ids.ids[ids.len - 1] == 200025);
    for (size_t i = 0; i < ids.len; i++) CHECK(ids.ids[i] != 200020);

    /* decode: unknown ids (embedding-only 200029..200063, o200k holes) are skipped */
    onnxllm_string s = {0};
    int32_t d[] = {12194, 200050, 199998, 200063, 200020, 200025};
    CHECK_EQ_INT(onnxllm_tokenizer_decode(phi4, d, 6, false, &s, &err), ONNXLLM_OK);
    CHECK_EQ_STR(s.data, "Hi<|end|><|tool_call|>");
    s.len = 0;
    CHECK_EQ_INT(onnxllm_tokenizer_decode(phi4, d, 6, true, &s, &err), ONNXLLM_OK);
    CHECK_EQ_STR(s.data, "Hi<|tool_call|>");
    int32_t only_unknown[] = {200050};
    s.len = 0;
    CHECK_EQ_INT(onnxllm_tokenizer_decode(phi4, only_unknown, 1, false, &s, &err), ONNXLLM_OK);
    CHECK_EQ_INT(s.len, 0);
    /* invalid UTF-8 input: replaced by U+FFFD first (defined, never an error) */
    ids.len = 0;
    CHECK_EQ_INT(onnxllm_tokenizer_encode(phi4, "a\xff" "b\xe2\x82", 5, 0, &ids, &err), ONNXLLM_OK);
    s.len = 0;
    onnxllm_tokenizer_decode(phi4, ids.ids, ids.len, false, &s, &err);
    CHECK_EQ_STR(s.data, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
    /* NUL is an ordinary byte */
    ids.len = 0;
    CHECK_EQ_INT(onnxllm_tokenizer_encode(phi4, "a\0b", 3, 0, &ids, &err), ONNXLLM_OK);
    s.len = 0;
    onnxllm_tokenizer_decode(phi4, ids.ids, ids.len, false, &s, &err);
    CHECK(s.len == 3 && !memcmp(s.data, "a\0b", 3));
    onnxllm_string_free(&s);
    onnxllm_tokens_free(&ids);
}

/* every chunk the detokenizer emits is valid UTF-8; chunks + flush == decode */
static bool valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!l || i + l > n) return false;
        for (size_t k = 1; k < l; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80) return false;
        i += l;
    }
    return true;
}

TEST(phi4_stream) {
    if (!phi4) SKIP("no Phi-4-mini tokenizer.json given (Node reference data missing)");
    const char *text = "Emoji 👨‍👩‍👧‍👦 and 日本語 ok é\u0301";
    onnxllm_tokens ids = {0};
    onnxllm_error err = {0};
    CHECK_EQ_INT(onnxllm_tokenizer_encode(phi4, text, strlen(text), ONNXLLM_TOKENIZE_PARSE_SPECIAL, &ids, &err), ONNXLLM_OK);
    onnxllm_detok *d = NULL;
    CHECK_EQ_INT(onnxllm_detok_create(phi4, false, &d, &err), ONNXLLM_OK);
    char acc[256];
    size_t al = 0, held = 0;
    for (int round = 0; round < 2; round++) { /* second round after reset: same output */
        al = 0;
        for (size_t i = 0; i < ids.len; i++) {
            const char *t;
            size_t tl;
            CHECK_EQ_INT(onnxllm_detok_push(d, ids.ids[i], &t, &tl, &err), ONNXLLM_OK);
            CHECK(valid_utf8(t, tl));
            if (!tl) held++;
            memcpy(acc + al, t, tl);
            al += tl;
        }
        const char *t;
        size_t tl;
        CHECK_EQ_INT(onnxllm_detok_flush(d, &t, &tl, &err), ONNXLLM_OK);
        memcpy(acc + al, t, tl);
        al += tl;
        acc[al] = 0;
        CHECK_EQ_STR(acc, text);
        onnxllm_detok_reset(d);
    }
    CHECK(held > 0); /* the emoji's bytes span tokens: some pushes must hold text back */
    /* unknown id in a stream: no crash, no text */
    const char *t;
    size_t tl;
    CHECK_EQ_INT(onnxllm_detok_push(d, 200050, &t, &tl, &err), ONNXLLM_OK);
    CHECK_EQ_INT(tl, 0);
    onnxllm_detok_free(d);
    onnxllm_tokens_free(&ids);
}

/* The streaming detokenizer allocates nothing per token once its buffers have grown:
 * a second identical stream after reset makes no allocation at all. */
TEST(phi4_detok_no_alloc) {
    if (!phi4) SKIP("no Phi-4-mini tokenizer.json given (Node reference data missing)");
    const char *text = "Streaming text with emoji 👨‍👩‍👧‍👦, CJK 日本語のテキスト, code `int x = 42;`\n"
                       "and a <|tool_call|>[{\"name\": \"f\"}]<|/tool_call|> tail.";
    onnxllm_tokens ids = {0};
    onnxllm_error err = {0};
    long c0 = __atomic_load_n(&alloc_calls, __ATOMIC_RELAXED);
    CHECK_EQ_INT(onnxllm_tokenizer_encode(phi4, text, strlen(text), ONNXLLM_TOKENIZE_PARSE_SPECIAL, &ids, &err), ONNXLLM_OK);
    CHECK(__atomic_load_n(&alloc_calls, __ATOMIC_RELAXED) > c0); /* the counter works: encode allocates scratch */
    onnxllm_detok *d = NULL;
    CHECK_EQ_INT(onnxllm_detok_create(phi4, false, &d, &err), ONNXLLM_OK);
    long during = -1;
    for (int round = 0; round < 2; round++) {
        long before = __atomic_load_n(&alloc_calls, __ATOMIC_RELAXED);
        const char *t;
        size_t tl;
        for (size_t i = 0; i < ids.len; i++) CHECK_EQ_INT(onnxllm_detok_push(d, ids.ids[i], &t, &tl, &err), ONNXLLM_OK);
        onnxllm_detok_flush(d, &t, &tl, &err);
        onnxllm_detok_reset(d);
        during = __atomic_load_n(&alloc_calls, __ATOMIC_RELAXED) - before;
    }
    CHECK_EQ_INT(during, 0);
    CHECK(ids.len > 20);
    onnxllm_detok_free(d);
    onnxllm_tokens_free(&ids);
}


/* ---- hostile tokenizer.json files (issue 12) ---------------------------------------- */


static onnxllm_status load_json_n(const char *json, size_t n, onnxllm_tokenizer **t, onnxllm_error *err) {
    return onnxllm_tokenizer_load_from_memory(json, n, "hostile.json", t, err);
}

/* #1: byte_fallback with a byte-level pre-tokenizer gives 2 symbols per input byte,
 * and an affixed char up to prefix + char + suffix bytes: both overflowed the symbol
 * buffer (heap write). Ids as HF gives them: each missing char's UTF-8 bytes. */
TEST(bpe_fallback_symbols_fit) {
    onnxllm_tokenizer *t = NULL;
    onnxllm_error err = {0};
    const char *bl = "{\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,"
                     "\"use_regex\":false},\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"vocab\":{\"<0xC3>\":0,"
                     "\"<0x83>\":1,\"<0xC2>\":2,\"<0xA9>\":3},\"merges\":[]}}";
    CHECK_EQ_INT(load_str(bl, &t, &err), ONNXLLM_OK);
    if (t) {
        char text[601];
        for (int i = 0; i < 300; i++) memcpy(text + 2 * i, "\xc3\xa9", 2); /* "é" x 300 */
        onnxllm_tokens ids = {0};
        CHECK_EQ_INT(onnxllm_tokenizer_encode(t, text, 600, 0, &ids, &err), ONNXLLM_OK);
        /* é = C3 A9; byte-level chars U+00C3 (C3 83) and U+00A9 (C2 A9) → 4 fallback ids */
        CHECK_EQ_INT(ids.len, 1200);
        bool ok = ids.len == 1200;
        for (size_t i = 0; ok && i < 300; i++)
            ok = ids.ids[4 * i] == 0 && ids.ids[4 * i + 1] == 1 && ids.ids[4 * i + 2] == 2 && ids.ids[4 * i + 3] == 3;
        CHECK(ok);
        onnxllm_tokens_free(&ids);
        onnxllm_tokenizer_free(t);
    }
    const char *aff = "{\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"continuing_subword_prefix\":\"##########\","
                      "\"end_of_word_suffix\":\"</w></w></w>\",\"vocab\":{\"<0x23>\":0,\"<0x61>\":1,\"<0x3C>\":2,"
                      "\"<0x2F>\":3,\"<0x77>\":4,\"<0x3E>\":5},\"merges\":[]}}";
    t = NULL;
    CHECK_EQ_INT(load_str(aff, &t, &err), ONNXLLM_OK);
    if (t) {
        char text[301];
        memset(text, 'a', 300);
        onnxllm_tokens ids = {0};
        CHECK_EQ_INT(onnxllm_tokenizer_encode(t, text, 300, 0, &ids, &err), ONNXLLM_OK);
        /* a, then 298 x "##########a", then "##########a</w></w></w>" */
        CHECK_EQ_INT(ids.len, 1 + 298 * 11 + 11 + 12);
        onnxllm_tokens_free(&ids);
        onnxllm_tokenizer_free(t);
    }
    /* absurd affixes are refused at load */
    char big[400];
    snprintf(big, sizeof big, "{\"model\":{\"type\":\"BPE\",\"continuing_subword_prefix\":\"%0100d\",\"vocab\":{\"a\":0},\"merges\":[]}}", 0);
    t = NULL;
    CHECK_EQ_INT(load_str(big, &t, &err), ONNXLLM_ERR_UNSUPPORTED);
}

/* #6: ids size the id tables: a 61-byte file with id 2^31-1 asked for ~26 GB. */
TEST(sparse_ids_refused) {
    onnxllm_tokenizer *t = NULL;
    onnxllm_error err = {0};
    const char *j = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":2147483647},\"merges\":[]}}";
    CHECK_EQ_INT(strlen(j), 61);
    alloc_max = 0;
    tracking = true;
    onnxllm_status st = load_str(j, &t, &err);
    tracking = false;
    CHECK_EQ_INT(st, ONNXLLM_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "sparse") != NULL);
    printf("  largest allocation: %zu bytes\n", alloc_max);
    CHECK(alloc_max < ((size_t)64 << 20));
    onnxllm_tokenizer_free(t);
    /* the same through an added token and a post-processor id (both were sized by id) */
    const char *k = "{\"added_tokens\":[{\"id\":0,\"content\":\"<s>\",\"special\":true}],\"model\":{\"type\":\"BPE\","
                    "\"vocab\":{\"a\":0},\"merges\":[]},\"post_processor\":{\"type\":\"BertProcessing\","
                    "\"cls\":[\"<s>\",2000000000],\"sep\":[\"<s>\",1]}}";
    t = NULL;
    CHECK_EQ_INT(load_str(k, &t, &err), ONNXLLM_ERR_UNSUPPORTED);
    /* #15: post-processor ids beyond int32 were truncated */
    const char *w = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"post_processor\":{\"type\":"
                    "\"BertProcessing\",\"cls\":[\"<s>\",4294967296],\"sep\":[\"<s>\",1]}}";
    t = NULL;
    CHECK_EQ_INT(load_str(w, &t, &err), ONNXLLM_ERR_FORMAT);
    /* gaps that real files have still load */
    const char *ok = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":60000},\"merges\":[]}}";
    t = NULL;
    CHECK_EQ_INT(load_str(ok, &t, &err), ONNXLLM_OK);
    CHECK_EQ_INT(onnxllm_tokenizer_vocab_size(t), 60001);
    onnxllm_tokenizer_free(t);
}

/* #9: a Sequence whose 2nd child fails to parse leaked the 1st (LSan reports it in the
 * sanitizer build) and what the failing child had built (its compiled pattern). */
TEST(sequence_failure_frees_children) {
    const char *cases[] = {
        MINI_HEAD MINI_MODEL ",\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Replace\","
                             "\"pattern\":{\"Regex\":\"a\"},\"content\":\"b\"},{\"type\":\"Replace\",\"pattern\":"
                             "{\"Regex\":\"b\"},\"content\":7}]}}",
        MINI_HEAD MINI_MODEL ",\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\","
                             "\"pattern\":{\"Regex\":\"a\"},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":"
                             "\"Split\",\"pattern\":{\"Regex\":\"b\"},\"behavior\":\"Bogus\",\"invert\":false}]}}",
        MINI_HEAD MINI_MODEL ",\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":"
                             "{\"Regex\":\"a\"},\"content\":\"b\"},{\"type\":\"Nope\"}]}}",
    };
    for (size_t i = 0; i < 3; i++) {
        onnxllm_tokenizer *t = NULL;
        onnxllm_error err = {0};
        CHECK(load_str(cases[i], &t, &err) != ONNXLLM_OK);
        CHECK(t == NULL);
    }
}

/* #13: a Split regex that hits PCRE2's limits must fail encode, not skip the split
 * ((a|aa)+$ style patterns backtrack exponentially; 40 x "a" came out as "aa" x 20). */
TEST(regex_limit_is_an_error) {
    onnxllm_tokenizer *t = NULL;
    onnxllm_error err = {0};
    const char *j = "{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(a|aa)+b|a\"},\"behavior\":"
                    "\"Isolated\",\"invert\":false},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"aa\":1,\"b\":2},"
                    "\"merges\":[\"a a\"]}}";
    CHECK_EQ_INT(load_str(j, &t, &err), ONNXLLM_OK);
    if (!t) return;
    onnxllm_tokens ids = {0};
    char text[61];
    memset(text, 'a', 60);
    onnxllm_status st = onnxllm_tokenizer_encode(t, text, 60, 0, &ids, &err);
    if (st == ONNXLLM_OK) { /* finished within the limits: then it is HF's split, one "a" per piece */
        CHECK_EQ_INT(ids.len, 60);
        for (size_t i = 0; i < ids.len; i++) CHECK_EQ_INT(ids.ids[i], 0);
    } else {
        CHECK_EQ_INT(st, ONNXLLM_ERR_RUNTIME);
        CHECK(strstr(err.message, "match limit") != NULL);
        printf("  %s\n", err.message);
    }
    /* real input far from the limits */
    ids.len = 0;
    CHECK_EQ_INT(onnxllm_tokenizer_encode(t, "aab", 3, 0, &ids, &err), ONNXLLM_OK);
    onnxllm_tokens_free(&ids);
    onnxllm_tokenizer_free(t);
}

/* #15: chained Replace normalizers (a -> aa, 30 times) grew memory without bound */
TEST(replace_growth_bounded) {
    char j[4096];
    size_t o = (size_t)snprintf(j, sizeof j, "{\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[");
    for (int i = 0; i < 30; i++)
        o += (size_t)snprintf(j + o, sizeof j - o, "%s{\"type\":\"Replace\",\"pattern\":{\"String\":\"a\"},\"content\":\"aa\"}",
                              i ? "," : "");
    snprintf(j + o, sizeof j - o, "]},\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"aa\":1},\"merges\":[\"a a\"]}}");
    onnxllm_tokenizer *t = NULL;
    onnxllm_error err = {0};
    CHECK_EQ_INT(load_str(j, &t, &err), ONNXLLM_OK);
    if (!t) return;
    onnxllm_tokens ids = {0};
    CHECK_EQ_INT(onnxllm_tokenizer_encode(t, "a", 1, 0, &ids, &err), ONNXLLM_ERR_RUNTIME);
    CHECK(strstr(err.message, "Replace normalizers") != NULL);
    ids.len = 0;
    onnxllm_tokens_free(&ids);
    onnxllm_tokenizer_free(t);
}

/* #15: loading n added tokens was O(n^2) (200k: 58 s); the time must grow ~linearly */
static double load_added_cpu_s(int n) {
    size_t cap = (size_t)n * 100 + 256, o = 0;
    char *j = malloc(cap);
    o += (size_t)snprintf(j + o, cap - o, "{\"added_tokens\":[");
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(j + o, cap - o, "%s{\"id\":%d,\"content\":\"<t%d>\",\"special\":true}", i ? "," : "", i + 1, i);
    o += (size_t)snprintf(j + o, cap - o, "],\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}");
    onnxllm_tokenizer *t = NULL;
    clock_t c0 = clock();
    onnxllm_status st = load_json_n(j, o, &t, NULL);
    double s = (double)(clock() - c0) / CLOCKS_PER_SEC;
    free(j);
    onnxllm_tokenizer_free(t);
    return st ? -1 : s;
}

TEST(many_added_tokens_linear) {
    double a = load_added_cpu_s(20000), b = load_added_cpu_s(160000);
    printf("  20k added tokens: %.3f s, 160k: %.3f s (quadratic: x64)\n", a, b);
    CHECK(a >= 0 && b >= 0);
    CHECK(b < 24 * a + 0.5);
}

/* #14: a FIFO given as tokenizer.json is refused at once (reading it blocked forever) */
TEST(fifo_refused) {
    char dir[] = "/tmp/olm-tok-XXXXXX", p[64];
    if (!mkdtemp(dir)) SKIP("no temp dir");
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    CHECK(mkfifo(p, 0600) == 0);
    onnxllm_tokenizer *t = NULL;
    onnxllm_error err = {0};
    alarm(10);
    CHECK_EQ_INT(onnxllm_tokenizer_load(p, &t, &err), ONNXLLM_ERR_IO);
    alarm(0);
    CHECK(strstr(err.message, "FIFO") != NULL);
    unlink(p);
    rmdir(dir);
}

/* #16: JSON edge cases in tokenizer.json */
TEST(json_edge_cases) {
    onnxllm_tokenizer *t = NULL;
    onnxllm_error err = {0};
    /* trailing garbage */
    CHECK_EQ_INT(load_str(MINI_HEAD MINI_MODEL "} trailing", &t, &err), ONNXLLM_ERR_FORMAT);
    CHECK(strstr(err.message, "after the JSON value") != NULL);
    /* a NUL inside a string (was cut short silently) */
    CHECK_EQ_INT(load_str(MINI_HEAD MINI_MODEL ",\"normalizer\":{\"type\":\"Prepend\",\"prepend\":\"x\\u0000y\"}}", &t, &err),
                 ONNXLLM_ERR_FORMAT);
    CHECK(strstr(err.message, "\\u0000") != NULL);
    /* duplicate keys: the last wins, as HF's serde / Python's json */
    const char *dup = MINI_HEAD MINI_MODEL ",\"normalizer\":{\"type\":\"Prepend\",\"prepend\":\"x\"},"
                      "\"normalizer\":{\"type\":\"Prepend\",\"prepend\":\"c\"}}";
    CHECK_EQ_INT(load_str(dup, &t, &err), ONNXLLM_OK);
    if (t) {
        onnxllm_tokens ids = {0};
        CHECK_EQ_INT(onnxllm_tokenizer_encode(t, "ab", 2, 0, &ids, &err), ONNXLLM_OK);
        CHECK(ids.len == 2 && ids.ids[0] == 2 && ids.ids[1] == 3); /* "c" + "ab" */
        onnxllm_tokens_free(&ids);
        onnxllm_tokenizer_free(t);
    }
}

static void *encode_thread(void *arg) {
    const char *text = arg;
    onnxllm_tokens ids = {0};
    onnxllm_error err = {0};
    long sum = 0;
    for (int i = 0; i < 50; i++) {
        ids.len = 0;
        if (onnxllm_tokenizer_encode(phi4, text, strlen(text), ONNXLLM_TOKENIZE_PARSE_SPECIAL, &ids, &err)) return (void *)-1;
        for (size_t k = 0; k < ids.len; k++) sum += ids.ids[k] * (long)(k + 1);
    }
    onnxllm_tokens_free(&ids);
    return (void *)sum;
}

TEST(phi4_threads) {
    if (!phi4) SKIP("no Phi-4-mini tokenizer.json given (Node reference data missing)");
    const char *text = "Concurrent encoding from many threads: 12345, ünïcödé, 你好 <|end|> done.";
    void *r0 = encode_thread((void *)text);
    /* a failing encode returns -1 in every thread: equal, but not a pass */
    CHECK(r0 != (void *)-1 && r0 != NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, encode_thread, (void *)text);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        CHECK(r == r0);
    }
}

int main(int argc, char **argv) {
    if (argc > 1) {
        phi4_path = argv[1];
        onnxllm_error err = {0};
        if (onnxllm_tokenizer_load(phi4_path, &phi4, &err)) {
            printf("cannot load %s: %s\n", phi4_path, err.message);
            return 1;
        }
    }
    RUN(malformed_files);
    RUN(mini_bpe);
    RUN(fast_reader);
    RUN(phi4_ids);
    RUN(phi4_stream);
    RUN(phi4_detok_no_alloc);
    RUN(phi4_threads);
    RUN(bpe_fallback_symbols_fit);
    RUN(sparse_ids_refused);
    RUN(sequence_failure_frees_children);
    RUN(regex_limit_is_an_error);
    RUN(replace_growth_bounded);
    RUN(many_added_tokens_linear);
    RUN(fifo_refused);
    RUN(json_edge_cases);
    onnxllm_tokenizer_free(phi4);
    return test_summary("tokenizer");
}
