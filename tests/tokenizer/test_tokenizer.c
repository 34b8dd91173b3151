/* test_tokenizer.c — tokenizer API behaviour, Phi-4-mini ids, malformed files,
 * streaming and concurrent use. Expected ids come from HF tokenizers (the
 * reference data in tokenizer-ref/; shared/reference/tokenizer.md §1.3, §5).
 *   test_tokenizer [PHI4_TOKENIZER_JSON]   (Phi-4 tests skipped without it) */
#include "test.h"
#include "onnxllm.h"

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

/* Allocation counter: the test binary links with -Wl,--wrap=malloc,... (CMakeLists),
 * so every malloc/calloc/realloc of the library goes through these. */
static long alloc_calls;
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __real_realloc(p, n); }

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
    if (!phi4) return;
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
    if (!phi4) return;
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
    if (!phi4) return;
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
    if (!phi4) return;
    const char *text = "Concurrent encoding from many threads: 12345, ünïcödé, 你好 <|end|> done.";
    void *r0 = encode_thread((void *)text);
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
    onnxllm_tokenizer_free(phi4);
    return test_summary("tokenizer");
}
