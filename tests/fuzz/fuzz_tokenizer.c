/* fuzz_tokenizer.c — libFuzzer target for tokenizer.json loading, encode, decode
 * and streaming (ctest fuzz_tokenizer; scripts/fuzz.sh tokenizer SECONDS).
 *
 * Tokenizers come from ONNXLLM_FUZZ_TOKENIZERS (colon-separated tokenizer.json
 * paths; without it only the loader mode runs). Input byte 0 picks the tokenizer
 * and mode, the rest is the payload:
 *  - encode the payload (any bytes: invalid UTF-8 is replaced by U+FFFD) with
 *    and without special parsing/post-processor; for byte-level tokenizers
 *    without a normalizer decode(encode(x)) must give back x (lossy-fixed);
 *    streaming the ids and flushing must equal one-shot decode;
 *  - or read the payload as int32 ids (anything, incl. negative and unknown)
 *    and decode/stream them;
 *  - byte 0 == 0xFF: the payload is a tokenizer.json for the loader, optionally
 *    followed by a NUL byte and a text that the loaded tokenizer encodes.
 * Any violated property aborts. */
#include "onnxllm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXTOK 4
static onnxllm_tokenizer *toks[MAXTOK];
static int roundtrip_ok[MAXTOK];
static int ntoks;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *env = getenv("ONNXLLM_FUZZ_TOKENIZERS");
    if (!env || !*env) {
        fprintf(stderr, "ONNXLLM_FUZZ_TOKENIZERS not set: fuzzing the loader only\n");
        return 0;
    }
    char *list = strdup(env);
    for (char *p = strtok(list, ":"); p && ntoks < MAXTOK; p = strtok(NULL, ":")) {
        onnxllm_error err = {0};
        if (onnxllm_tokenizer_load(p, &toks[ntoks], &err)) {
            fprintf(stderr, "%s\n", err.message);
            exit(2);
        }
        /* ByteLevel-decoded files without normalizer round-trip exactly */
        roundtrip_ok[ntoks] = strstr(p, "phi4") || strstr(p, "gpt4o") || strstr(p, "llama3");
        ntoks++;
    }
    free(list);
    return 0;
}

static void stream_check(onnxllm_tokenizer *t, const int32_t *ids, size_t n, const onnxllm_string *one, int must_equal) {
    onnxllm_detok *d;
    onnxllm_error err = {0};
    if (onnxllm_detok_create(t, false, &d, &err)) abort();
    char *acc = malloc(one->len + 64 + n * 64);
    size_t al = 0;
    for (size_t i = 0; i < n; i++) {
        const char *x;
        size_t xl;
        if (onnxllm_detok_push(d, ids[i], &x, &xl, &err)) {
            /* only a non-prefix-stable decode may fail, as in HF: then stop */
            onnxllm_detok_free(d);
            free(acc);
            if (must_equal) abort();
            return;
        }
        memcpy(acc + al, x, xl);
        al += xl;
    }
    const char *x;
    size_t xl;
    onnxllm_detok_flush(d, &x, &xl, &err);
    memcpy(acc + al, x, xl);
    al += xl;
    if (must_equal && (al != one->len || memcmp(acc, one->data ? one->data : "", al))) abort();
    onnxllm_detok_free(d);
    free(acc);
}

/* input byte 0 == 0xFF: the rest is a tokenizer.json text for the loader (the fast
 * vocab/merges reader and the cJSON fallback), then optionally NUL + a text; it must
 * load or fail cleanly, and a loaded one must encode the text (or a fixed one) and
 * decode the ids. Encode may fail only with a one-line error (e.g. a regex limit). */
static void fuzz_loader(const uint8_t *data, size_t size) {
    onnxllm_tokenizer *t = NULL;
    onnxllm_error err = {0};
    const uint8_t *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    const char *text = nul ? (const char *)nul + 1 : "Hello wörld <s> 123 ééé";
    size_t tlen = nul ? size - jlen - 1 : strlen(text);
    if (onnxllm_tokenizer_load_from_memory((const char *)data, jlen, "fuzz.json", &t, &err)) {
        if (!err.message[0] || strchr(err.message, '\n')) abort(); /* one-line message */
        return;
    }
    onnxllm_tokens ids = {0};
    onnxllm_string s = {0};
    for (unsigned flags = 0; flags < 4; flags++) {
        ids.len = 0;
        if (onnxllm_tokenizer_encode(t, text, tlen, flags, &ids, &err)) {
            if (!err.message[0] || strchr(err.message, '\n')) abort();
            continue;
        }
        for (size_t i = 0; i < ids.len; i++)
            if (ids.ids[i] < 0 || (size_t)ids.ids[i] >= onnxllm_tokenizer_vocab_size(t)) abort();
    }
    if (onnxllm_tokenizer_decode(t, ids.ids, ids.len, false, &s, &err)) abort();
    onnxllm_tokens_free(&ids);
    onnxllm_string_free(&s);
    onnxllm_tokenizer_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size >= 1 && data[0] == 0xFF) {
        fuzz_loader(data + 1, size - 1);
        return 0;
    }
    if (size < 1 || !ntoks) return 0;
    int which = data[0] % ntoks, mode = (data[0] / ntoks) % 4;
    onnxllm_tokenizer *t = toks[which];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    onnxllm_error err = {0};
    onnxllm_tokens ids = {0};
    onnxllm_string out = {0};
    if (mode < 3) {
        unsigned flags = mode == 0 ? ONNXLLM_TOKENIZE_PARSE_SPECIAL : mode == 1 ? 0 : ONNXLLM_TOKENIZE_PARSE_SPECIAL | ONNXLLM_TOKENIZE_ADD_SPECIAL;
        if (onnxllm_tokenizer_encode(t, s, n, flags, &ids, &err)) abort();
        for (size_t i = 0; i < ids.len; i++)
            if (ids.ids[i] < 0 || (size_t)ids.ids[i] >= onnxllm_tokenizer_vocab_size(t)) abort();
        if (onnxllm_tokenizer_decode(t, ids.ids, ids.len, false, &out, &err)) abort();
        if (roundtrip_ok[which] && mode != 2) {
            /* expected: the input with invalid UTF-8 replaced (encode's documented rule) */
            onnxllm_tokens again = {0};
            onnxllm_string dec2 = {0};
            if (onnxllm_tokenizer_encode(t, out.data ? out.data : "", out.len, flags, &again, &err)) abort();
            if (again.len != ids.len || (ids.len && memcmp(again.ids, ids.ids, ids.len * sizeof *ids.ids))) abort();
            onnxllm_tokens_free(&again);
            onnxllm_string_free(&dec2);
            int valid = 1; /* for valid UTF-8 input the text must come back unchanged */
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] >= 0x80) { valid = 0; break; }
            if (valid && (out.len != n || memcmp(out.data ? out.data : "", s, n))) abort();
        }
        stream_check(t, ids.ids, ids.len, &out, mode != 2);
    } else {
        size_t k = n / 4;
        int32_t *v = malloc((k + 1) * sizeof *v);
        memcpy(v, s, k * 4);
        if (onnxllm_tokenizer_decode(t, v, k, false, &out, &err)) abort();
        onnxllm_string sk = {0};
        if (onnxllm_tokenizer_decode(t, v, k, true, &sk, &err)) abort();
        onnxllm_string_free(&sk);
        stream_check(t, v, k, &out, 0);
        free(v);
    }
    onnxllm_tokens_free(&ids);
    onnxllm_string_free(&out);
    return 0;
}
