/* bench_chat.c — what the chat layer costs per request and per token, to compare with
 * a decode step (milliseconds): rendering a long conversation with tools, parsing a
 * tool-call answer, and the stop-string matcher per streamed piece.
 *
 *   build/bench/chat/bench_chat [ITERATIONS]   (default 20000) */
#include "onnxllm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    int iters = argc > 1 ? atoi(argv[1]) : 20000;
    if (iters <= 0) iters = 20000;
    onnxllm_template *t = NULL;
    if (onnxllm_template_builtin(ONNXLLM_TEMPLATE_PHI4, NULL, &t, NULL)) return 1;

    /* 1. a 20-turn conversation (41 messages, ~8 KB) with two tools */
    enum { TURNS = 20 };
    onnxllm_chat_message m[2 * TURNS + 1];
    m[0] = (onnxllm_chat_message){"system", "You are a helpful assistant with some tools.", NULL};
    for (int i = 0; i < TURNS; i++) {
        m[1 + 2 * i] = (onnxllm_chat_message){"user", "What is the weather like in Paris today, and what should I wear "
                                                      "if I go for a walk along the Seine this afternoon?", NULL};
        m[2 + 2 * i] = (onnxllm_chat_message){"assistant", "It is 21 degrees and sunny in Paris. A light jacket and "
                                                           "comfortable shoes are a good choice for a walk by the "
                                                           "river; take sunglasses.", NULL};
    }
    const char *tools =
        "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Current weather for a "
        "city\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"unit\":{"
        "\"type\":\"string\",\"enum\":[\"celsius\",\"fahrenheit\"]}},\"required\":[\"city\"]}}},{\"type\":"
        "\"function\",\"function\":{\"name\":\"search\",\"description\":\"Web search\",\"parameters\":{\"type\":"
        "\"object\",\"properties\":{\"q\":{\"type\":\"string\"}}}}}]";
    size_t bytes = 0;
    double t0 = now_us();
    for (int i = 0; i < iters; i++) {
        char *out = NULL;
        if (onnxllm_chat_render(t, m, 2 * TURNS + 1, tools, true, &out, NULL)) return 1;
        bytes = strlen(out);
        free(out);
    }
    double render_us = (now_us() - t0) / iters;

    /* 2. a tool-call answer with two parallel calls */
    const char *answer = "<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": "
                         "\"celsius\"}}, {\"name\": \"search\", \"arguments\": {\"q\": \"Seine walk\"}}]<|/tool_call|>";
    t0 = now_us();
    for (int i = 0; i < iters; i++) {
        onnxllm_tool_calls tc;
        char *o = NULL;
        if (onnxllm_toolcalls_parse(answer, &tc, NULL) || onnxllm_toolcalls_openai_json(&tc, &o, NULL)) return 1;
        free(o);
        onnxllm_toolcalls_clear(&tc);
    }
    double parse_us = (now_us() - t0) / iters;

    /* 3. stop matcher: 4 stop strings, 4-byte pieces (a token is ~4 bytes of English) */
    const char *stops[] = {"<|end|>", "\n\nUser:", "</answer>", "###"};
    onnxllm_stop *s = NULL;
    if (onnxllm_stop_create(stops, 4, &s, NULL)) return 1;
    const char *pieces[] = {" the", " riv", "er <", "|e", "nd", " and", " Us", "er", "##", " ok"};
    long n_pieces = (long)iters * 100;
    size_t shown = 0;
    t0 = now_us();
    for (long i = 0; i < n_pieces; i++) {
        const char *e;
        size_t el;
        bool matched;
        onnxllm_stop_feed(s, pieces[i % 10], strlen(pieces[i % 10]), &e, &el, &matched, NULL);
        shown += el;
    }
    double stop_ns = (now_us() - t0) * 1e3 / (double)n_pieces;
    onnxllm_stop_free(s);
    onnxllm_template_free(t);

    printf("render: 41 messages + 2 tools (%zu bytes of prompt)   %8.2f us per render\n", bytes, render_us);
    printf("tool calls: parse 2 calls + OpenAI JSON                  %8.2f us per answer\n", parse_us);
    printf("stop strings: 4 strings, 4-byte pieces                   %8.1f ns per piece (%zu bytes shown)\n", stop_ns,
           shown);
    return 0;
}
