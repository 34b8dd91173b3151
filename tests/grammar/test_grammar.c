/* test_grammar.c — constrained decoding: automata, schema coverage, masks, tool calls.
 *
 *   test_grammar PHI4_TOKENIZER_JSON
 *
 * The regular-expression and number automata are checked against direct
 * computations (string search by hand, double comparisons of <= 15-digit
 * decimals, integer remainders); schema behaviour against texts known valid or
 * invalid; masks against accept() (a token is in the mask iff accepting it
 * succeeds) and for dead ends (the mask is never empty before the end); the
 * per-token path for allocations (none once warm); matchers on several threads
 * against one thread; the masked sampler against brute force. ajv checks what
 * the grammar produces in tests/grammar/e2e.mjs. */
#include "grammar/grammar.h"
#include "test.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>

static volatile long alloc_calls;
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __real_realloc(p, n); }

static onnxllm_tokenizer *tok;
static onnxllm_grammar_vocab *voc;
static int32_t EOS;

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- regular expressions ------------------------------------------------------------------ */

static int regex_match(const char *re, const char *s) {
    olm_dfa d;
    char why[200];
    if (olm_content_regex(re, strlen(re), false, 20000, &d, why, sizeof why)) return -1;
    uint32_t st = olm_dfa_run(&d, (const uint8_t *)s, strlen(s));
    int r = st && (d.flags[st] & DF_ACCEPT);
    olm_dfa_free(&d);
    return r;
}

TEST(regex_semantics) {
    static const struct {
        const char *re, *s;
        int match;
    } cases[] = {
        {"abc", "xxabcxx", 1}, {"abc", "abx", 0}, {"^abc", "abcx", 1}, {"^abc", "xabc", 0}, {"abc$", "xabc", 1},
        {"abc$", "abcx", 0}, {"^abc$", "abc", 1}, {"^a|b$", "ax", 1}, {"^a|b$", "xb", 1}, {"^a|b$", "xa", 0},
        {"^[a-z]+$", "hello", 1}, {"^[a-z]+$", "Hello", 0}, {"^[a-z]+$", "", 0}, {"^[^a-z]*$", "ABC 1", 1},
        {"^\\d{3}-\\d{4}$", "555-1234", 1}, {"^\\d{3}-\\d{4}$", "55-1234", 0}, {"^\\w+$", "ab_9", 1},
        {"^\\w+$", "a-b", 0}, {"^\\s*$", " \t\n", 1}, {"^\\S+$", "a b", 0}, {"^.$", "\xc3\xa9", 1},
        {"^.$", "\n", 0}, {"^..$", "\xc3\xa9", 0}, {"^(ab)+$", "abab", 1}, {"^(ab)+$", "aba", 0},
        {"^a{2,3}$", "a", 0}, {"^a{2,3}$", "aa", 1}, {"^a{2,3}$", "aaaa", 0}, {"^a{2,}$", "aaaaa", 1},
        {"^(?:x|y)z?$", "yz", 1}, {"^(?<n>q)$", "q", 1}, {"^\\u00e9$", "\xc3\xa9", 1}, {"^\\x41$", "A", 1},
        {"^[\\u4e00-\\u9fff]+$", "\xe4\xb8\xad\xe6\x96\x87", 1}, {"^[\\u4e00-\\u9fff]+$", "a", 0},
        {"^\\.\\*$", ".*", 1}, {"^[.]$", "x", 0}, {"^a.c$", "abc", 1}, {"", "anything", 1},
        {"^[\\-+]?\\d+$", "-12", 1}, {"^\\p", "", -1}, {"(?=a)", "a", -1}, {"\\1", "a", -1}, {"\\bx", "x", -1},
        {"a{2", "a{2", 1}, {"^a+?$", "aaa", 1}, {"^[^\\s]+$", "\xe2\x80\x83", 0}, {"^\\d+$", "\xd9\xa3", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int r = regex_match(cases[i].re, cases[i].s);
        if (r != cases[i].match) printf("  regex /%s/ on \"%s\": got %d, expected %d\n", cases[i].re, cases[i].s, r, cases[i].match);
        CHECK(r == cases[i].match);
    }
    /* unsupported constructs name themselves */
    olm_dfa d;
    char why[200];
    CHECK(olm_content_regex("(?=a)b", 6, false, 100, &d, why, sizeof why) == ONNXLLM_ERR_UNSUPPORTED);
    CHECK(strstr(why, "lookaround") != NULL);
    CHECK(olm_content_regex("(a)\\1", 5, false, 100, &d, why, sizeof why) == ONNXLLM_ERR_UNSUPPORTED);
    CHECK(strstr(why, "back-reference") != NULL);
}

/* ---- numbers ------------------------------------------------------------------------------------ */

static bool num_accepts(const olm_dfa *d, const char *s) {
    uint32_t st = olm_dfa_run(d, (const uint8_t *)s, strlen(s));
    return st && (d->flags[st] & DF_ACCEPT);
}

static void rand_decimal(char *b, size_t cap, int maxdig) {
    int nd = 1 + (int)(rnd() % (uint64_t)maxdig), fd = (int)(rnd() % 4);
    size_t k = 0;
    if (rnd() % 3 == 0) b[k++] = '-';
    int idig = nd - fd < 1 ? 1 : nd - fd;
    if (rnd() % 4 == 0) b[k++] = '0';
    else
        for (int i = 0; i < idig && k + 2 < cap; i++) b[k++] = (char)('0' + (i == 0 ? 1 + rnd() % 9 : rnd() % 10));
    if (fd) {
        b[k++] = '.';
        for (int i = 0; i < fd && k + 2 < cap; i++) b[k++] = (char)('0' + rnd() % 10);
    }
    b[k] = 0;
}

TEST(number_bounds_random) {
    char why[200];
    for (int round = 0; round < 60; round++) {
        char lo_s[40], hi_s[40];
        rand_decimal(lo_s, sizeof lo_s, 5);
        rand_decimal(hi_s, sizeof hi_s, 5);
        double lo = strtod(lo_s, NULL), hi = strtod(hi_s, NULL);
        bool integer = rnd() % 2, le = rnd() % 2, he = rnd() % 2, has_lo = rnd() % 4, has_hi = rnd() % 4;
        olm_dfa d;
        if (olm_number_dfa(integer, has_lo ? lo : NAN, le, has_hi ? hi : NAN, he, NAN, &d, why, sizeof why)) {
            CHECK(!"number dfa");
            continue;
        }
        for (int k = 0; k < 300; k++) {
            char x_s[40];
            rand_decimal(x_s, sizeof x_s, 7);
            double x = strtod(x_s, NULL);
            bool is_int = !strchr(x_s, '.');
            bool want = (!integer || is_int) && (!has_lo || (le ? x > lo : x >= lo)) && (!has_hi || (he ? x < hi : x <= hi));
            /* -0 is an integer text "-0" only when written so; "-0.5" etc are fine */
            bool got = num_accepts(&d, x_s);
            if (got != want)
                printf("  number %s in [%s%s, %s%s] integer=%d: got %d want %d\n", x_s, has_lo ? lo_s : "-inf", le ? " excl" : "",
                       has_hi ? hi_s : "inf", he ? " excl" : "", integer, got, want);
            CHECK(got == want);
        }
        olm_dfa_free(&d);
    }
}

TEST(number_forms_and_multiple) {
    char why[200];
    olm_dfa d;
    CHECK(!olm_number_dfa(false, NAN, false, NAN, false, NAN, &d, why, sizeof why));
    static const char *ok[] = {"0", "-0", "12", "1.5", "-0.25", "1e5", "1E+5", "2.5e-3", "0.0"};
    static const char *bad[] = {"01", "1.", ".5", "+1", "1e", "1e+", "--1", "1e123", "1234567890123456789012345"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) CHECK(num_accepts(&d, ok[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) CHECK(!num_accepts(&d, bad[i]));
    olm_dfa_free(&d);
    CHECK(!olm_number_dfa(true, NAN, false, NAN, false, 7, &d, why, sizeof why));
    for (int i = -200; i <= 200; i++) {
        char b[16];
        snprintf(b, sizeof b, "%d", i);
        CHECK(num_accepts(&d, b) == (i % 7 == 0));
    }
    olm_dfa_free(&d);
    CHECK(olm_number_dfa(false, NAN, false, NAN, false, 0.1, &d, why, sizeof why) == ONNXLLM_ERR_UNSUPPORTED);
    CHECK(strstr(why, "multipleOf") != NULL);
}

/* ---- schemas through the public API ------------------------------------------------------------- */

static onnxllm_grammar *compile(const char *schema, onnxllm_error *e) {
    onnxllm_grammar *g = NULL;
    onnxllm_grammar_params p = onnxllm_grammar_default_params();
    if (onnxllm_grammar_compile_json_schema(voc, schema, strlen(schema), &p, &g, e)) return NULL;
    return g;
}

/* 1: text accepted (complete), 0: rejected, -1: schema did not compile */
static int check_text(const char *schema, const char *text) {
    onnxllm_error e = {0};
    onnxllm_grammar *g = compile(schema, &e);
    if (!g) {
        printf("  compile failed: %s\n", e.message);
        return -1;
    }
    onnxllm_matcher *m;
    onnxllm_matcher_create(g, &m, &e);
    int r = !onnxllm_matcher_accept_bytes(m, text, strlen(text), &e) && onnxllm_matcher_is_accepting(m);
    onnxllm_matcher_free(m);
    onnxllm_grammar_free(g);
    return r;
}

#define ONEOF_RULES                                                                                             \
    "{\"type\":\"object\",\"oneOf\":[{\"properties\":{\"rule\":{\"const\":\"shell\"},\"match\":{\"type\":\"string\"}},"   \
    "\"required\":[\"rule\",\"match\"]},{\"properties\":{\"rule\":{\"const\":\"custom\"},\"match\":{\"type\":\"string\"}}," \
    "\"required\":[\"rule\"]}]}"
#define ONEOF_LENGTHS                                                                                           \
    "{\"type\":\"object\",\"oneOf\":[{\"properties\":{\"f\":{\"type\":\"array\",\"maxItems\":1},\"s\":{}},\"required\":[\"f\"]}," \
    "{\"properties\":{\"f\":{\"type\":\"array\",\"minItems\":2},\"s\":{}},\"required\":[\"f\",\"s\"]}]}"

TEST(schema_keywords) {
    static const struct {
        const char *schema, *text;
        int ok;
    } cases[] = {
        {"{\"type\":\"string\"}", "\"hi\"", 1}, {"{\"type\":\"string\"}", "3", 0},
        {"{\"type\":[\"string\",\"null\"]}", "null", 1}, {"{\"type\":\"integer\"}", "1.5", 0},
        {"{\"type\":\"number\"}", "1.5", 1}, {"{\"type\":\"boolean\"}", "false", 1}, {"true", "[1,{\"a\":null}]", 1},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},\"required\":[\"a\"]}", "{\"a\":1}", 1},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},\"required\":[\"a\"]}", "{}", 0},
        {"{\"type\":\"object\",\"properties\":{\"a\":{}},\"additionalProperties\":false}", "{\"b\":1}", 0},
        {"{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}", "{\"x\":1,\"y\":2}", 1},
        {"{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}", "{\"x\":\"s\"}", 0},
        {"{\"type\":\"object\",\"properties\":{\"a\":false}}", "{\"a\":1}", 0},
        {"{\"type\":\"object\",\"properties\":{\"a\":{},\"b\":{}}}", "{\"b\":1,\"a\":2}", 0}, /* schema order */
        {"{\"type\":\"object\",\"properties\":{\"a\":{},\"b\":{}}}", "{\"a\":2,\"b\":1}", 1},
        {"{\"type\":\"object\",\"patternProperties\":{\"^x_\":{\"type\":\"integer\"}},\"additionalProperties\":false}",
         "{\"x_1\":1}", 1},
        {"{\"type\":\"object\",\"patternProperties\":{\"^x_\":{\"type\":\"integer\"}},\"additionalProperties\":false}",
         "{\"y\":1}", 0},
        {"{\"type\":\"object\",\"propertyNames\":{\"maxLength\":2}}", "{\"ab\":1}", 1},
        {"{\"type\":\"object\",\"propertyNames\":{\"maxLength\":2}}", "{\"abc\":1}", 0},
        {"{\"type\":\"object\",\"minProperties\":1}", "{}", 0}, {"{\"type\":\"object\",\"minProperties\":1}", "{\"k\":0}", 1},
        {"{\"type\":\"object\",\"maxProperties\":1}", "{\"k\":0,\"j\":1}", 0},
        {"{\"type\":\"object\",\"properties\":{\"a\":{},\"b\":{}},\"dependencies\":{\"a\":[\"b\"]}}", "{\"a\":1}", 0},
        {"{\"type\":\"object\",\"properties\":{\"a\":{},\"b\":{}},\"dependencies\":{\"a\":[\"b\"]}}", "{\"a\":1,\"b\":2}", 1},
        {"{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":2,\"maxItems\":3}", "[1]", 0},
        /* minItems far beyond any output (the fuzzer's hang: a loop over it at compile time) */
        {"{\"type\":\"array\",\"items\":{\"enum\":[\"x\",1,null,true]},\"minItems\":14294967296}", "[1]", 0},
        {"{\"type\":\"array\",\"prefixItems\":[{\"const\":1}],\"items\":false,\"minItems\":1000000000}", "[1]", -1},
        /* minLength above maxLength: no string fits (the fuzzer's dead end: the compile
         * succeeded and the matcher had no token to offer after the opening quote) */
        {"{\"type\":\"string\",\"minLength\":8,\"maxLength\":6}", "\"abcdefg\"", -1},
        {"{\"anyOf\":[{\"type\":\"string\",\"minLength\":3,\"maxLength\":2},{\"type\":\"integer\"}]}", "\"abc\"", 0},
        {"{\"anyOf\":[{\"type\":\"string\",\"minLength\":3,\"maxLength\":2},{\"type\":\"integer\"}]}", "12", 1},
        {"{\"type\":\"object\",\"propertyNames\":{\"minLength\":4,\"maxLength\":3}}", "{\"abcd\":1}", 0},
        {"{\"type\":\"object\",\"propertyNames\":{\"minLength\":4,\"maxLength\":3}}", "{}", 1},
        {"{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":2,\"maxItems\":3}", "[1,2,3]", 1},
        {"{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":2,\"maxItems\":3}", "[1,2,3,4]", 0},
        {"{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"items\":false}", "[\"a\",1]", 1},
        {"{\"type\":\"array\",\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"items\":false}", "[\"a\",1,2]", 0},
        {"{\"type\":\"array\",\"items\":[{\"type\":\"string\"}],\"additionalItems\":{\"type\":\"null\"}}", "[\"a\",null]", 1},
        {"{\"enum\":[\"red\",\"green\",3,null]}", "\"green\"", 1}, {"{\"enum\":[\"red\",\"green\",3,null]}", "\"blue\"", 0},
        {"{\"enum\":[\"red\",\"green\",3,null]}", "3", 1}, {"{\"const\":{\"a\":[1,2]}}", "{\"a\":[1,2]}", 1},
        {"{\"type\":\"string\",\"enum\":[\"ab\",\"abc\"],\"maxLength\":2}", "\"abc\"", 0},
        {"{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "7", 1},
        {"{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "\"x\"", 1},
        {"{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":5}]}", "4", 0}, {"{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":5}]}", "5", 1},
        {"{\"$defs\":{\"n\":{\"type\":\"object\",\"properties\":{\"c\":{\"$ref\":\"#/$defs/n\"}}}},\"$ref\":\"#/$defs/n\"}",
         "{\"c\":{\"c\":{}}}", 1},
        {"{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}", "\"a\"", 0},
        {"{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}", "\"\\u00e9\\u00e9\"", 1},
        {"{\"type\":\"string\",\"maxLength\":1}", "\"\xf0\x9f\x98\x80\"", 1}, /* one code point */
        {"{\"type\":\"string\",\"pattern\":\"^[a-z]+$\"}", "\"ab\"", 1},
        {"{\"type\":\"string\",\"pattern\":\"^[a-z]+$\"}", "\"aB\"", 0},
        {"{\"type\":\"string\",\"format\":\"date\"}", "\"2024-02-28\"", 1},
        {"{\"type\":\"string\",\"format\":\"date\"}", "\"2024-02-30\"", 0},
        {"{\"type\":\"string\",\"format\":\"date-time\"}", "\"2024-05-01T10:20:30Z\"", 1},
        {"{\"type\":\"string\",\"format\":\"email\"}", "\"a.b@c.org\"", 1},
        {"{\"type\":\"string\",\"format\":\"uuid\"}", "\"123e4567-e89b-12d3-a456-426614174000\"", 1},
        {"{\"type\":\"string\",\"format\":\"ipv4\"}", "\"256.1.1.1\"", 0},
        {"{\"type\":\"integer\",\"minimum\":-3,\"exclusiveMaximum\":3}", "3", 0},
        {"{\"type\":\"integer\",\"minimum\":-3,\"exclusiveMaximum\":3}", "-3", 1},
        {"{\"type\":\"integer\",\"format\":\"int32\"}", "2147483648", 0},
        {"{\"type\":\"number\",\"minimum\":0,\"exclusiveMinimum\":true}", "0", 0}, /* draft 4 */
        {"{\"type\":\"string\",\"nullable\":true}", "null", 1},
        {"{\"type\":\"string\"}", "\"a\\\"b\\\\c\\n\\u0041\"", 1}, {"{\"type\":\"string\"}", "\"\\ud83d\\ude00\"", 0},
        {"{\"type\":\"string\"}", "\"a\nb\"", 0}, {"{\"type\":\"string\"}", "\"\xc0\xaf\"", 0},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}", " { \"a\" : 1 } ", 1},
        {"{\"oneOf\":[{\"properties\":{\"r\":{}},\"required\":[\"r\"]},{\"properties\":{\"w\":{}},\"required\":[\"w\"]}],"
         "\"type\":\"object\"}",
         "{\"r\":1}", 1},
        {"{\"oneOf\":[{\"properties\":{\"r\":{}},\"required\":[\"r\"]},{\"properties\":{\"w\":{}},\"required\":[\"w\"]}],"
         "\"type\":\"object\"}",
         "{\"r\":1,\"w\":2}", 0},
        /* alternatives exclusive as written (different "rule" values; array lengths) keep
         * the optional property another alternative requires (MaskBench o47675, o89710) */
        {ONEOF_RULES, "{\"rule\":\"custom\",\"match\":\"x\"}", 1},
        {ONEOF_RULES, "{\"rule\":\"shell\",\"match\":\"x\"}", 1},
        {ONEOF_RULES, "{\"rule\":\"shell\"}", 0},
        {ONEOF_RULES, "{\"rule\":\"other\",\"match\":\"x\"}", 0},
        {ONEOF_LENGTHS, "{\"f\":[1],\"s\":2}", 1},
        {ONEOF_LENGTHS, "{\"f\":[1,2],\"s\":2}", 1},
        {ONEOF_LENGTHS, "{\"f\":[1,2]}", 0},
        /* an alternative that produces nothing (integer 2.5) leaves one: exactly one holds */
        {"{\"allOf\":[{\"enum\":[2.5]},{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}]}", "2.5", 1},
        {"{\"uniqueItems\":true,\"maxItems\":1,\"type\":\"array\"}", "[1]", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int r = check_text(cases[i].schema, cases[i].text);
        if (r != cases[i].ok) printf("  schema %s text %s: got %d expected %d\n", cases[i].schema, cases[i].text, r, cases[i].ok);
        CHECK(r == cases[i].ok);
    }
}

TEST(schema_errors_name_the_keyword) {
    static const struct {
        const char *schema, *needle;
        onnxllm_status st;
    } cases[] = {
        {"{\"not\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}", "\"not\" of a schema with \"items\"", ONNXLLM_ERR_UNSUPPORTED},
        {"{\"not\":{\"type\":\"integer\"}}", "\"not\" of type \"integer\"", ONNXLLM_ERR_UNSUPPORTED},
        {"{\"not\":{\"const\":{\"a\":1}}}", "\"not\" of \"const\"", ONNXLLM_ERR_UNSUPPORTED},
        {"{\"type\":\"array\",\"contains\":{}}", "\"contains\"", ONNXLLM_ERR_UNSUPPORTED},
        {"{\"type\":\"array\",\"uniqueItems\":true}", "\"uniqueItems\"", ONNXLLM_ERR_UNSUPPORTED},
        {"{\"if\":{},\"then\":{}}", "\"if\"", ONNXLLM_ERR_UNSUPPORTED},
        {"{\"type\":\"string\",\"format\":\"color\"}", "format \"color\"", ONNXLLM_ERR_UNSUPPORTED},
        {"{\"type\":\"string\",\"pattern\":\"(?!x)\"}", "lookaround", ONNXLLM_ERR_UNSUPPORTED},
        {"{\"type\":\"number\",\"multipleOf\":0.01}", "multipleOf", ONNXLLM_ERR_UNSUPPORTED},
        {"{\"$ref\":\"other.json#/a\"}", "$ref", ONNXLLM_ERR_UNSUPPORTED},
        {"{\"$ref\":\"#/nope\"}", "does not resolve", ONNXLLM_ERR_INVALID_ARGUMENT},
        {"{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "oneOf", ONNXLLM_ERR_UNSUPPORTED},
        {"{\"type\":\"object\",\"required\":[\"a\"],\"additionalProperties\":false}", "unsatisfiable", ONNXLLM_ERR_INVALID_ARGUMENT},
        {"{\"type\":\"frobnicate\"}", "frobnicate", ONNXLLM_ERR_INVALID_ARGUMENT},
        {"{\"type\":", "schema", ONNXLLM_ERR_INVALID_ARGUMENT},
        {"{\"properties\":{\"a\":{\"not\":{\"format\":\"date\"}}}}", "#/properties/a/not/format", ONNXLLM_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        onnxllm_error e = {0};
        onnxllm_grammar *g = compile(cases[i].schema, &e);
        bool ok = !g && e.status == cases[i].st && strstr(e.message, cases[i].needle);
        if (!ok) printf("  %s: status %d message \"%s\" (want %d, \"%s\")\n", cases[i].schema, e.status, e.message, cases[i].st, cases[i].needle);
        CHECK(ok);
        onnxllm_grammar_free(g);
    }
    /* not {} is false: a property that can never appear */
    CHECK(check_text("{\"properties\":{\"a\":{\"not\":{}}}}", "{\"a\":1}") == 0);
    CHECK(check_text("{\"properties\":{\"a\":{\"not\":{}}}}", "{\"b\":1}") == 1);
    /* annotations and unknown keywords are not constraints */
    CHECK(check_text("{\"title\":\"t\",\"description\":\"d\",\"default\":1,\"examples\":[2],\"x-vendor\":{},\"type\":\"integer\"}", "5") == 1);
}

static void random_walks(const char *schema, int walks, int max_steps);

/* not: rewritten into positive schemas (each keyword negated within its own type) */
TEST(schema_not) {
    static const struct {
        const char *schema, *text;
        int ok;
    } cases[] = {
        {"{\"not\":{\"type\":\"string\"}}", "1", 1}, {"{\"not\":{\"type\":\"string\"}}", "\"a\"", 0},
        {"{\"not\":{\"type\":\"string\"}}", "{}", 1},
        {"{\"not\":{\"minimum\":5}}", "4.5", 1}, {"{\"not\":{\"minimum\":5}}", "5", 0}, {"{\"not\":{\"minimum\":5}}", "\"x\"", 0},
        {"{\"not\":{\"exclusiveMaximum\":5}}", "5", 1}, {"{\"not\":{\"exclusiveMaximum\":5}}", "4", 0},
        {"{\"type\":\"object\",\"not\":{\"required\":[\"a\"]}}", "{\"a\":1}", 0},
        {"{\"type\":\"object\",\"not\":{\"required\":[\"a\"]}}", "{\"b\":1}", 1},
        {"{\"type\":\"object\",\"not\":{\"required\":[\"a\",\"b\"]}}", "{\"a\":1}", 1},
        {"{\"type\":\"object\",\"not\":{\"required\":[\"a\",\"b\"]}}", "{\"a\":1,\"b\":2}", 0},
        {"{\"not\":{\"enum\":[\"a\",1,true,null]}}", "\"a\"", 0}, {"{\"not\":{\"enum\":[\"a\",1,true,null]}}", "\"ab\"", 1},
        {"{\"not\":{\"enum\":[\"a\",1,true,null]}}", "1.0", 0}, {"{\"not\":{\"enum\":[\"a\",1,true,null]}}", "2", 1},
        {"{\"not\":{\"enum\":[\"a\",1,true,null]}}", "false", 1}, {"{\"not\":{\"enum\":[\"a\",1,true,null]}}", "true", 0},
        {"{\"not\":{\"enum\":[\"a\",1,true,null]}}", "null", 0}, {"{\"not\":{\"enum\":[\"a\",1,true,null]}}", "[]", 1},
        {"{\"type\":\"string\",\"not\":{\"pattern\":\"^a\"}}", "\"abc\"", 0},
        {"{\"type\":\"string\",\"not\":{\"pattern\":\"^a\"}}", "\"bac\"", 1},
        {"{\"not\":{\"minLength\":2}}", "\"a\"", 1}, {"{\"not\":{\"minLength\":2}}", "\"ab\"", 0},
        {"{\"not\":{\"not\":{\"type\":\"integer\"}}}", "3", 1}, {"{\"not\":{\"not\":{\"type\":\"integer\"}}}", "3.5", 0},
        {"{\"not\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}}", "[]", 1},
        {"{\"not\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}}", "null", 0},
        {"{\"not\":{\"properties\":{\"a\":{\"type\":\"string\"}}}}", "{\"a\":1}", 1},
        {"{\"not\":{\"properties\":{\"a\":{\"type\":\"string\"}}}}", "{\"a\":\"x\"}", 0},
        {"{\"not\":{\"properties\":{\"a\":{\"type\":\"string\"}}}}", "{}", 0},
        {"{\"$defs\":{\"s\":{\"type\":\"string\"}},\"not\":{\"$ref\":\"#/$defs/s\"}}", "\"s\"", 0},
        {"{\"$defs\":{\"s\":{\"type\":\"string\"}},\"not\":{\"$ref\":\"#/$defs/s\"}}", "0", 1},
        {"{\"properties\":{\"x\":{\"not\":{\"const\":\"bad\"}}}}", "{\"x\":\"bad\"}", 0},
        {"{\"properties\":{\"x\":{\"not\":{\"const\":\"bad\"}}}}", "{\"x\":\"bads\"}", 1},
        {"{\"type\":\"object\",\"propertyNames\":{\"not\":{\"const\":\"x\"}}}", "{\"x\":1}", 0},
        {"{\"type\":\"object\",\"propertyNames\":{\"not\":{\"const\":\"x\"}}}", "{\"y\":1}", 1},
        {"{\"allOf\":[{\"enum\":[{}]},{\"not\":{\"not\":true}}]}", "{}", 1},
        /* enum / const next to other keywords and no type (every type's node is checked) */
        {"{\"const\":1,\"maximum\":5}", "1", 1}, {"{\"enum\":[1,7],\"maximum\":5}", "7", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int r = check_text(cases[i].schema, cases[i].text);
        if (r != cases[i].ok) printf("  schema %s text %s: got %d expected %d\n", cases[i].schema, cases[i].text, r, cases[i].ok);
        CHECK(r == cases[i].ok);
    }
    random_walks("{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\",\"not\":{\"enum\":[\"ab\",\"abc\"]}},"
                 "\"n\":{\"type\":\"integer\",\"not\":{\"enum\":[0,3]}}},\"required\":[\"s\",\"n\"],\"additionalProperties\":false}",
                 8, 80);
}

/* ---- masks ------------------------------------------------------------------------------------------ */

static size_t W;

static bool bit(const uint32_t *m, int32_t t) { return (m[t >> 5] >> (t & 31)) & 1; }

/* Random walks: every sampled allowed token is accepted, sampled disallowed ones
 * are refused (state unchanged), the mask is never empty before eos, and a
 * finished text is accepted again byte by byte by a fresh matcher. */
static void random_walks(const char *schema, int walks, int max_steps) {
    onnxllm_error e = {0};
    onnxllm_grammar *g = compile(schema, &e);
    CHECK(g != NULL);
    if (!g) {
        printf("  %s: %s\n", schema, e.message);
        return;
    }
    uint32_t *mask = malloc(W * 4);
    int32_t *allowed = malloc((size_t)onnxllm_grammar_vocab_size(voc) * sizeof *allowed);
    for (int w = 0; w < walks; w++) {
        onnxllm_matcher *m;
        onnxllm_matcher_create(g, &m, &e);
        char text[8192];
        size_t tl = 0;
        bool done = false;
        for (int step = 0; step < max_steps && !done; step++) {
            CHECK(!onnxllm_matcher_fill_mask(m, mask, W, &e));
            size_t na = 0;
            for (int32_t t = 0; t < onnxllm_grammar_vocab_size(voc); t++)
                if (bit(mask, t)) allowed[na++] = t;
            CHECK(na > 0);
            if (!na) break;
            /* disallowed tokens are refused */
            for (int k = 0; k < 20; k++) {
                int32_t t = (int32_t)(rnd() % (uint64_t)onnxllm_grammar_vocab_size(voc));
                if (!bit(mask, t)) CHECK(onnxllm_matcher_accept(m, t, NULL) != ONNXLLM_OK);
            }
            /* prefer short tokens and ending, so walks finish */
            int32_t pick = allowed[rnd() % na];
            if (bit(mask, EOS) && rnd() % 3 == 0) pick = EOS;
            for (int k = 0; k < 3; k++) {
                int32_t c = allowed[rnd() % na];
                size_t l1, l2;
                onnxllm_grammar_vocab_token_bytes(voc, c, &l1);
                onnxllm_grammar_vocab_token_bytes(voc, pick, &l2);
                if (pick != EOS && l1 < l2) pick = c;
            }
            CHECK(!onnxllm_matcher_accept(m, pick, &e));
            if (pick == EOS) {
                done = true;
                break;
            }
            size_t bl;
            const char *b = onnxllm_grammar_vocab_token_bytes(voc, pick, &bl);
            if (b && tl + bl < sizeof text) {
                memcpy(text + tl, b, bl);
                tl += bl;
            }
        }
        if (done) {
            onnxllm_matcher *m2;
            onnxllm_matcher_create(g, &m2, &e);
            bool ok = !onnxllm_matcher_accept_bytes(m2, text, tl, &e) && onnxllm_matcher_is_accepting(m2);
            if (!ok) printf("  finished text not accepted again: %.*s\n", (int)tl, text);
            CHECK(ok);
            onnxllm_matcher_free(m2);
        }
        onnxllm_matcher_free(m);
    }
    free(mask);
    free(allowed);
    onnxllm_grammar_free(g);
}

/* The whole mask after a prefix equals what accept() (the byte-level parser,
 * independent of the mask's caches, subtree skips and weight bands) takes. */
static void mask_exact(const char *schema, const char *prefix) {
    onnxllm_error e = {0};
    onnxllm_grammar *g = compile(schema, &e);
    CHECK(g != NULL);
    if (!g) {
        printf("  %s: %s\n", schema, e.message);
        return;
    }
    uint32_t *mask = malloc(W * 4);
    onnxllm_matcher *m, *r;
    onnxllm_matcher_create(g, &m, &e);
    onnxllm_matcher_create(g, &r, &e);
    CHECK(!onnxllm_matcher_accept_bytes(m, prefix, strlen(prefix), &e));
    CHECK(!onnxllm_matcher_fill_mask(m, mask, W, &e));
    CHECK(!onnxllm_matcher_accept_bytes(r, prefix, strlen(prefix), &e));
    int bad = 0;
    for (int32_t t = 0; t < onnxllm_grammar_vocab_size(voc); t++) {
        bool ok = onnxllm_matcher_accept(r, t, NULL) == ONNXLLM_OK;
        if (ok != bit(mask, t) && bad++ < 5) {
            size_t bl;
            const char *b = onnxllm_grammar_vocab_token_bytes(voc, t, &bl);
            printf("  %s after %s: token %d (%.*s) mask %d accept %d\n", schema, prefix, t, (int)bl, b ? b : "", bit(mask, t), ok);
        }
        if (ok) {
            onnxllm_matcher_reset(r);
            onnxllm_matcher_accept_bytes(r, prefix, strlen(prefix), &e);
        }
    }
    CHECK(bad == 0);
    onnxllm_matcher_free(m);
    onnxllm_matcher_free(r);
    free(mask);
    onnxllm_grammar_free(g);
}

TEST(mask_exact_counted_strings) {
    for (int walk_only = 0; walk_only < 2; walk_only++) {
        olm_matcher_walk_only = walk_only;
        const char *words = "{\"type\":\"string\",\"pattern\":\"^(?:\\\\S+\\\\s+){0,5}\\\\S+$\",\"maxLength\":24}";
        mask_exact(words, "\"ab cd");
        mask_exact(words, "\"ab cd efghij kl mn");
        mask_exact(words, "\"ab cd efghij kl mn opq");
        const char *az = "{\"type\":\"string\",\"pattern\":\"^[a-z ]+$\",\"minLength\":8,\"maxLength\":20}";
        mask_exact(az, "\"abc");
        mask_exact(az, "\"abcdefghij klmno");
        mask_exact("{\"type\":\"string\",\"format\":\"email\",\"maxLength\":16}", "\"ab.cd@ef");
        mask_exact("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":10}}}", "{\"name\": \"abcdefg");
    }
    olm_matcher_walk_only = false;
    /* keys, negated enums, numbers */
    mask_exact("{\"type\":\"object\",\"properties\":{\"alpha\":{},\"alps\":{},\"beta\":{}},\"additionalProperties\":false}", "{\"al");
    mask_exact("{\"type\":\"string\",\"not\":{\"enum\":[\"abc\",\"abd\"]}}", "\"ab");
    mask_exact("{\"type\":\"integer\",\"minimum\":10,\"maximum\":250}", "2");
    /* alternatives that share the string being written (one stepper for both until it closes) */
    const char *alts = "{\"anyOf\":[{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\"},\"a\":{\"type\":\"integer\"}},"
                       "\"required\":[\"s\",\"a\"]},{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\"},\"b\":{\"type\":"
                       "\"boolean\"}},\"required\":[\"s\",\"b\"]}]}";
    mask_exact(alts, "{\"s\": \"hello wor");
    mask_exact(alts, "{\"s\":\"");
}

TEST(mask_consistency_random_walks) {
    random_walks("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":8},\"n\":{\"type\":\"integer\","
                 "\"minimum\":-5,\"maximum\":500},\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"x\",\"yz\"]},\"maxItems\":3},"
                 "\"ok\":{\"type\":\"boolean\"}},\"required\":[\"name\",\"n\"],\"additionalProperties\":false}",
                 12, 120);
    random_walks("{\"anyOf\":[{\"type\":\"object\",\"properties\":{\"k\":{\"const\":\"a\"},\"v\":{\"type\":\"integer\"}},"
                 "\"required\":[\"k\",\"v\"]},{\"type\":\"object\",\"properties\":{\"k\":{\"const\":\"b\"},\"v\":{\"type\":"
                 "\"string\",\"pattern\":\"^[0-9a-f]{2,4}$\"}},\"required\":[\"k\",\"v\"]}]}",
                 12, 120);
    random_walks("{\"type\":\"string\",\"format\":\"date-time\"}", 6, 60);
    random_walks("{\"type\":\"array\",\"items\":{\"type\":\"number\",\"minimum\":0.5,\"exclusiveMaximum\":10},\"maxItems\":4}", 8, 80);
}

/* The per-token path allocates nothing once the buffers and shared caches are warm. */
TEST(no_allocation_per_token) {
    onnxllm_error e = {0};
    onnxllm_grammar *g = compile("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"pattern\":\"^[A-Za-z ]+$\"},"
                                 "\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":14},\"note\":{\"type\":\"string\"}},"
                                 "\"required\":[\"city\",\"days\"]}",
                                 &e);
    CHECK(g != NULL);
    if (!g) return;
    const char *text = "{\"city\": \"Paris\", \"days\": 3, \"note\": \"warm and sunny, take a hat\"}";
    onnxllm_tokens ids = {0};
    onnxllm_tokenizer_encode(tok, text, strlen(text), 0, &ids, &e);
    uint32_t *mask = malloc(W * 4);
    onnxllm_matcher *m;
    onnxllm_matcher_create(g, &m, &e);
    long before = 0;
    for (int pass = 0; pass < 2; pass++) {
        onnxllm_matcher_reset(m);
        if (pass == 1) before = alloc_calls;
        for (size_t i = 0; i < ids.len; i++) {
            CHECK(!onnxllm_matcher_fill_mask(m, mask, W, &e));
            CHECK(bit(mask, ids.ids[i]));
            CHECK(!onnxllm_matcher_accept(m, ids.ids[i], &e));
        }
        CHECK(!onnxllm_matcher_fill_mask(m, mask, W, &e));
        CHECK(bit(mask, EOS));
    }
    CHECK_EQ_INT(alloc_calls - before, 0);
    onnxllm_matcher_free(m);
    free(mask);
    onnxllm_tokens_free(&ids);
    onnxllm_grammar_free(g);
}

/* One grammar, matchers on four threads at once: the same masks as on one thread. */
typedef struct thr {
    const onnxllm_grammar *g;
    const int32_t *ids;
    size_t n;
    uint64_t hash;
} thr;

static uint64_t mask_hash_run(const onnxllm_grammar *g, const int32_t *ids, size_t n) {
    uint32_t *mask = malloc(W * 4);
    onnxllm_matcher *m;
    onnxllm_matcher_create(g, &m, NULL);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i <= n; i++) {
        onnxllm_matcher_fill_mask(m, mask, W, NULL);
        for (size_t w = 0; w < W; w++) h = (h ^ mask[w]) * 1099511628211ull;
        if (i < n && onnxllm_matcher_accept(m, ids[i], NULL)) break;
    }
    onnxllm_matcher_free(m);
    free(mask);
    return h;
}

static void *thr_main(void *arg) {
    thr *t = arg;
    t->hash = mask_hash_run(t->g, t->ids, t->n);
    return NULL;
}

TEST(threads_share_a_grammar) {
    onnxllm_error e = {0};
    onnxllm_grammar *g = compile("{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\","
                                 "\"pattern\":\"^[a-z]{3}[0-9]+$\"},\"v\":{\"type\":\"number\"}},\"required\":[\"id\"]}}",
                                 &e);
    CHECK(g != NULL);
    if (!g) return;
    const char *text = "[{\"id\": \"abc123\", \"v\": 1.5}, {\"id\": \"xyz9\"}]";
    onnxllm_tokens ids = {0};
    onnxllm_tokenizer_encode(tok, text, strlen(text), 0, &ids, &e);
    thr t[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (thr){g, ids.ids, ids.len, 0};
        pthread_create(&th[i], NULL, thr_main, &t[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    uint64_t ref = mask_hash_run(g, ids.ids, ids.len);
    for (int i = 0; i < 4; i++) CHECK(t[i].hash == ref);
    onnxllm_tokens_free(&ids);
    onnxllm_grammar_free(g);
}

/* ---- tool calls ----------------------------------------------------------------------------------- */

static const char *TOOLS =
    "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":"
    "{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"],\"additionalProperties\":false}}},"
    "{\"name\":\"add\",\"input_schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":"
    "\"integer\"}},\"required\":[\"a\",\"b\"]}},{\"name\":\"ping\"}]";

/* Runs text (with the tool-call tags as their token ids) through a tools grammar. */
static int tool_text(const char *choice, bool parallel, const char *text) {
    onnxllm_error e = {0};
    onnxllm_grammar *g = NULL;
    if (onnxllm_grammar_compile_tools(voc, TOOLS, choice, parallel, NULL, &g, &e)) {
        printf("  tools: %s\n", e.message);
        return -1;
    }
    onnxllm_matcher *m;
    onnxllm_matcher_create(g, &m, &e);
    onnxllm_tokens ids = {0};
    onnxllm_tokenizer_encode(tok, text, strlen(text), ONNXLLM_TOKENIZE_PARSE_SPECIAL, &ids, &e);
    int ok = 1;
    for (size_t i = 0; i < ids.len && ok; i++)
        if (onnxllm_matcher_accept(m, ids.ids[i], &e)) ok = 0;
    if (ok) ok = onnxllm_matcher_is_accepting(m);
    onnxllm_tokens_free(&ids);
    onnxllm_matcher_free(m);
    onnxllm_grammar_free(g);
    return ok;
}

TEST(tool_call_grammar) {
    const char *call = "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]<|/tool_call|>";
    const char *two = "<|tool_call|>[{\"name\":\"add\",\"arguments\":{\"a\":1,\"b\":2}},{\"name\":\"ping\",\"arguments\":{}}]<|/tool_call|>";
    CHECK(tool_text("required", true, call) == 1);
    CHECK(tool_text("\"required\"", true, two) == 1);
    CHECK(tool_text("required", false, two) == 0);             /* parallel off: one call */
    CHECK(tool_text("required", true, "Sure! " ) == 0);         /* no free text */
    CHECK(tool_text("required", true, "<|tool_call|>[{\"name\":\"get_weather\",\"arguments\":{\"town\":\"x\"}}]<|/tool_call|>") == 0);
    CHECK(tool_text("required", true, "<|tool_call|>[{\"name\":\"nope\",\"arguments\":{}}]<|/tool_call|>") == 0);
    CHECK(tool_text("required", true, "<|tool_call|>[{\"name\":\"add\",\"arguments\":{\"a\":1}}]<|/tool_call|>") == 0);
    CHECK(tool_text("required", true, "<|tool_call|>[{\"name\":\"ping\",\"arguments\":{}}]") == 0); /* not closed */
    CHECK(tool_text("{\"type\":\"function\",\"function\":{\"name\":\"add\"}}", true, call) == 0);
    CHECK(tool_text("{\"type\":\"tool\",\"name\":\"get_weather\"}", true, call) == 1);
    CHECK(tool_text("auto", true, "It is sunny.") == 1);
    CHECK(tool_text("auto", true, "Let me check. ") == 1);
    CHECK(tool_text("auto", true, call) == 1);
    CHECK(tool_text("auto", true, "ok <|/tool_call|>") == 0);   /* stray closing tag */
    CHECK(tool_text("none", true, "text only") == 1);
    CHECK(tool_text("none", true, call) == 0);
    CHECK(tool_text("{\"type\":\"any\",\"disable_parallel_tool_use\":true}", true, two) == 0);
    onnxllm_error e = {0};
    onnxllm_grammar *g = NULL;
    /* free text cannot spell a tag with ordinary tokens (it would be parsed as a call) */
    for (int k = 0; k < 2; k++) {
        CHECK(!onnxllm_grammar_compile_tools(voc, TOOLS, k ? "none" : "auto", true, NULL, &g, &e));
        onnxllm_matcher *m;
        onnxllm_matcher_create(g, &m, &e);
        CHECK(!onnxllm_matcher_accept_bytes(m, "a <|tool_ca", 11, &e));
        CHECK(onnxllm_matcher_accept_bytes(m, "ll|>", 4, &e) != ONNXLLM_OK);
        CHECK(!onnxllm_matcher_accept_bytes(m, "ll| then <|/tool_cal", 20, &e));
        CHECK(onnxllm_matcher_accept_bytes(m, "l|>", 3, &e) != ONNXLLM_OK);
        /* and the mask agrees: no token completes the tag here */
        uint32_t *mask = malloc(W * 4);
        CHECK(!onnxllm_matcher_fill_mask(m, mask, W, &e));
        int32_t lt = -1;
        for (int32_t t = 0; t < onnxllm_grammar_vocab_size(voc) && lt < 0; t++) {
            size_t l;
            const char *b = onnxllm_grammar_vocab_token_bytes(voc, t, &l);
            if (b && l == 3 && !memcmp(b, "l|>", 3)) lt = t;
        }
        if (lt >= 0) CHECK(!bit(mask, lt));
        CHECK(bit(mask, EOS));
        free(mask);
        onnxllm_matcher_free(m);
        onnxllm_grammar_free(g);
        g = NULL;
    }
    CHECK(onnxllm_grammar_compile_tools(voc, TOOLS, "{\"type\":\"function\",\"function\":{\"name\":\"x\"}}", true, NULL, &g, &e) ==
          ONNXLLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(e.message, "no tool named") != NULL);
    CHECK(onnxllm_grammar_compile_tools(voc, "[{\"name\":\"t\",\"parameters\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"array\",\"uniqueItems\":true}}}}]", "required",
                                        true, NULL, &g, &e) == ONNXLLM_ERR_UNSUPPORTED);
    CHECK(strstr(e.message, "tool \"t\"") && strstr(e.message, "\"uniqueItems\""));
}

TEST(response_formats) {
    onnxllm_error e = {0};
    onnxllm_grammar *g = NULL;
    CHECK(!onnxllm_grammar_compile_response_format(voc, "{\"type\":\"text\"}", NULL, &g, &e) && !g);
    CHECK(!onnxllm_grammar_compile_response_format(voc, "{\"type\":\"json_object\"}", NULL, &g, &e) && g);
    onnxllm_matcher *m;
    onnxllm_matcher_create(g, &m, &e);
    CHECK(onnxllm_matcher_accept_bytes(m, "[1]", 3, NULL) != ONNXLLM_OK); /* an object, not any JSON */
    CHECK(!onnxllm_matcher_accept_bytes(m, "{\"a\":[1]}", 9, NULL) && onnxllm_matcher_is_accepting(m));
    onnxllm_matcher_free(m);
    onnxllm_grammar_free(g);
    g = NULL;
    CHECK(!onnxllm_grammar_compile_response_format(
        voc, "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"strict\":true,\"schema\":{\"type\":\"integer\"}}}", NULL, &g, &e));
    onnxllm_grammar_free(g);
    g = NULL;
    CHECK(!onnxllm_grammar_compile_response_format(voc, "{\"type\":\"json_schema\",\"name\":\"x\",\"schema\":{\"type\":\"integer\"}}",
                                                   NULL, &g, &e)); /* Responses text.format */
    onnxllm_grammar_free(g);
    g = NULL;
    CHECK(onnxllm_grammar_compile_response_format(voc, "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"contains\":{\"type\":\"null\"}}}}", NULL, &g,
                                                  &e) == ONNXLLM_ERR_UNSUPPORTED);
    CHECK(onnxllm_grammar_compile_response_format(voc, "{\"type\":\"xml\"}", NULL, &g, &e) == ONNXLLM_ERR_INVALID_ARGUMENT);
}

/* ---- the masked sampler -------------------------------------------------------------------------------- */

TEST(masked_sampler) {
    enum { V = 5000 };
    float *logits = malloc(V * sizeof *logits);
    uint32_t mask[(V + 31) / 32];
    onnxllm_sampler_params sp = onnxllm_sampler_default_params();
    sp.temperature = 1.3f;
    sp.top_p = 0.9f;
    sp.top_k = 50;
    onnxllm_sampler *s, *greedy;
    onnxllm_sampler_params gp = onnxllm_sampler_greedy_params();
    CHECK(!onnxllm_sampler_create(&sp, V, &s, NULL));
    CHECK(!onnxllm_sampler_create(&gp, V, &greedy, NULL));
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < V; i++) logits[i] = (float)((double)(rnd() % 10000) / 1000.0);
        memset(mask, 0, sizeof mask);
        int nallow = 1 + (int)(rnd() % 40);
        for (int k = 0; k < nallow; k++) bit_set(mask, (uint32_t)(rnd() % V));
        int32_t best = -1;
        for (int i = 0; i < V; i++)
            if (bit(mask, i) && (best < 0 || logits[i] > logits[best])) best = i;
        CHECK_EQ_INT(onnxllm_sampler_sample_masked(greedy, logits, V, mask, (V + 31) / 32, NULL, 0), best);
        for (int k = 0; k < 20; k++) {
            int32_t t = onnxllm_sampler_sample_masked(s, logits, V, mask, (V + 31) / 32, NULL, 0);
            CHECK(t >= 0 && t < V && bit(mask, t));
        }
    }
    memset(mask, 0, sizeof mask);
    CHECK_EQ_INT(onnxllm_sampler_sample_masked(s, logits, V, mask, (V + 31) / 32, NULL, 0), -1);
    bit_set(mask, 4321);
    logits[4321] = -INFINITY;
    CHECK_EQ_INT(onnxllm_sampler_sample_masked(s, logits, V, mask, (V + 31) / 32, NULL, 0), 4321);
    CHECK_EQ_INT(onnxllm_mask_single(mask, (V + 31) / 32), 4321);
    bit_set(mask, 7);
    CHECK_EQ_INT(onnxllm_mask_single(mask, (V + 31) / 32), -1);
    onnxllm_sampler_free(s);
    onnxllm_sampler_free(greedy);
    free(logits);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_grammar PHI4_TOKENIZER_JSON\n");
        return 2;
    }
    onnxllm_error e = {0};
    if (onnxllm_tokenizer_load(argv[1], &tok, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    EOS = onnxllm_tokenizer_token_to_id(tok, "<|end|>");
    if (onnxllm_grammar_vocab_create(tok, 200064, &EOS, 1, &voc, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    W = (size_t)(onnxllm_grammar_vocab_size(voc) + 31) / 32;
    RUN(regex_semantics);
    RUN(number_bounds_random);
    RUN(number_forms_and_multiple);
    RUN(schema_keywords);
    RUN(schema_errors_name_the_keyword);
    RUN(schema_not);
    RUN(mask_exact_counted_strings);
    RUN(mask_consistency_random_walks);
    RUN(no_allocation_per_token);
    RUN(threads_share_a_grammar);
    RUN(tool_call_grammar);
    RUN(response_formats);
    RUN(masked_sampler);
    onnxllm_grammar_vocab_free(voc);
    onnxllm_tokenizer_free(tok);
    return test_summary("grammar");
}
