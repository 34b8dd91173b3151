/* fuzz_schema.c — libFuzzer target for the JSON Schema compiler and the matcher
 * (ctest fuzz_schema, sanitizer build). Input: a schema, optionally followed by
 * a NUL byte and bytes that choose tokens. Over a byte-level vocabulary (every
 * byte is a token, plus the tool-call tags): the compiler must compile or fail
 * with a one-line message, in bounded time and memory; a compiled grammar's mask
 * must never be empty before the end, every token it allows must be accepted,
 * and the bytes of a finished output must be accepted again from the start. */
#include "onnxllm.h"

#include <stdlib.h>
#include <string.h>

static onnxllm_grammar_vocab *voc;
static int32_t EOS;

/* A byte-level BPE tokenizer with no merges: 256 byte tokens, eos, tool tags. */
static void init(void) {
    static char json[64 * 1024];
    size_t n = 0;
    n += (size_t)snprintf(json + n, sizeof json - n,
                          "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":256,\"content\":\"<|end|>\",\"special\":true},"
                          "{\"id\":257,\"content\":\"<|tool_call|>\",\"special\":false},"
                          "{\"id\":258,\"content\":\"<|/tool_call|>\",\"special\":false}],"
                          "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                          "\"trim_offsets\":true,\"use_regex\":false},\"post_processor\":null,"
                          "\"decoder\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",\"vocab\":{");
    /* GPT-2 byte alphabet */
    int cps[256], k = 0;
    for (int b = 0; b < 256; b++) cps[b] = -1;
    for (int b = 33; b <= 126; b++) cps[b] = b;
    for (int b = 161; b <= 172; b++) cps[b] = b;
    for (int b = 174; b <= 255; b++) cps[b] = b;
    for (int b = 0; b < 256; b++)
        if (cps[b] < 0) cps[b] = 256 + k++;
    for (int b = 0; b < 256; b++) {
        unsigned c = (unsigned)cps[b];
        char u[8];
        if (c < 0x80) {
            if (c == '"' || c == '\\') snprintf(u, sizeof u, "\\%c", (char)c);
            else snprintf(u, sizeof u, "%c", (char)c);
        } else {
            u[0] = (char)(0xC0 | (c >> 6));
            u[1] = (char)(0x80 | (c & 0x3F));
            u[2] = 0;
        }
        n += (size_t)snprintf(json + n, sizeof json - n, "%s\"%s\":%d", b ? "," : "", u, b);
    }
    n += (size_t)snprintf(json + n, sizeof json - n, "},\"merges\":[]}}");
    onnxllm_tokenizer *tok;
    onnxllm_error e = {0};
    if (onnxllm_tokenizer_load_from_memory(json, n, "fuzz-bytes.json", &tok, &e)) abort();
    EOS = 256;
    if (onnxllm_grammar_vocab_create(tok, 0, &EOS, 1, &voc, &e)) abort();
    /* the tokenizer must outlive the vocabulary: kept for the process */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!voc) init();
    size_t slen = 0;
    while (slen < size && data[slen]) slen++;
    const uint8_t *choice = data + slen + (slen < size), *cend = data + size;
    onnxllm_error e = {0};
    onnxllm_grammar *g = NULL;
    onnxllm_grammar_params p = onnxllm_grammar_default_params();
    p.max_whitespace = 2;
    onnxllm_status st;
    char *s = malloc(slen + 1);
    if (!s) return 0;
    memcpy(s, data, slen);
    s[slen] = 0;
    if (slen && data[0] == '[') /* a tool list: tool calls required */
        st = onnxllm_grammar_compile_tools(voc, s, "required", true, &p, &g, &e);
    else
        st = onnxllm_grammar_compile_json_schema(voc, s, slen, &p, &g, &e);
    free(s);
    if (st) {
        if (!e.message[0] || strchr(e.message, '\n') || g) abort();
        return 0;
    }
    onnxllm_matcher *m;
    if (onnxllm_matcher_create(g, &m, &e)) abort();
    uint32_t mask[(259 + 31) / 32];
    uint8_t text[4096];
    size_t tl = 0;
    bool done = false;
    for (int step = 0; step < 200 && !done; step++) {
        if (onnxllm_matcher_fill_mask(m, mask, sizeof mask / 4, &e)) abort();
        int32_t allowed[259], na = 0;
        for (int32_t t = 0; t < 259; t++)
            if ((mask[t >> 5] >> (t & 31)) & 1) allowed[na++] = t;
        if (!na) abort(); /* a dead end: the text is no longer a prefix of a valid output */
        int32_t pick = allowed[(choice < cend ? *choice++ : (uint8_t)step) % na];
        if (onnxllm_matcher_accept(m, pick, &e)) abort();
        if (pick == EOS) done = true;
        else if (pick < 256 && tl < sizeof text) text[tl++] = (uint8_t)pick;
    }
    if (done && data[0] != '[') { /* the same bytes again, from the start */
        onnxllm_matcher_reset(m);
        if (onnxllm_matcher_accept_bytes(m, (const char *)text, tl, &e) || !onnxllm_matcher_is_accepting(m)) abort();
    }
    onnxllm_matcher_free(m);
    onnxllm_grammar_free(g);
    return 0;
}
