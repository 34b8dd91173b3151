/* test_server_unit.c — the server's pieces that need no model: JSON output, and the
 * streaming output parser (text, stop strings, tool calls by token id) checked
 * against the chat layer's onnxllm_toolcalls_parse on the same model outputs.
 *
 * argv[1]: a Phi-4-mini tokenizer.json (for <|tool_call|> ids). */
#include "test.h"
#include "onnxllm.h"
#include "server/jsonw.h"
#include "server/output.h"
#include "server/chatreq.h"

#include <cjson/cJSON.h>

static onnxllm_tokenizer *tok;

/* ---- JSON output ---------------------------------------------------------------------- */

static char *jstr_of(const char *s, size_t n) {
    olm_sb b = {0};
    jw_str(&b, s, n);
    return olm_sb_finish(&b);
}

TEST(json_strings) {
    const char *cases[] = {"plain", "quote \" backslash \\ slash /", "ctl \x01\x1f\x7f tab\t nl\n cr\r",
                           "utf8 Grüße 🤖 \xe2\x80\xa8", ""};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *j = jstr_of(cases[i], strlen(cases[i]));
        cJSON *v = cJSON_Parse(j);
        CHECK(cJSON_IsString(v));
        if (cJSON_IsString(v)) CHECK_EQ_STR(v->valuestring, cases[i]);
        cJSON_Delete(v);
        free(j);
    }
    /* invalid UTF-8 (stray continuation, overlong, surrogate, truncated) → U+FFFD, valid JSON */
    const char bad[] = "a\x80 b\xc0\xaf c\xed\xa0\x80 d\xf0\x9f";
    char *j = jstr_of(bad, sizeof bad - 1);
    CHECK(jw_utf8_valid(j, strlen(j)));
    cJSON *v = cJSON_Parse(j);
    CHECK(cJSON_IsString(v) && strstr(v->valuestring, "\xef\xbf\xbd") && strstr(v->valuestring, " d"));
    cJSON_Delete(v);
    free(j);
    CHECK(!jw_utf8_valid(bad, sizeof bad - 1));
    CHECK(jw_utf8_valid("Grüße 🤖", strlen("Grüße 🤖")));
    olm_sb b = {0};
    jw_num(&b, 0.1);
    olm_sb_putc(&b, ' ');
    jw_num(&b, 3);
    olm_sb_putc(&b, ' ');
    jw_num(&b, 1.0 / 3);
    char *s = olm_sb_finish(&b);
    CHECK_EQ_STR(s, "0.1 3 0.3333333333333333");
    free(s);
}

/* ---- the output parser ----------------------------------------------------------------- */

typedef struct {
    olm_sb text;
    int n_calls;
    char ids[8][48];
    olm_sb names[8], args[8];
    bool ended[8];
    int args_pieces_before_end[8];
    int events;
    bool order_ok;
} collected;

static void sink(void *user, out_event ev, int i, const char *s, size_t n, const char *s2, size_t n2) {
    collected *c = user;
    c->events++;
    if (ev == OUT_TEXT) {
        olm_sb_put(&c->text, s, n);
        return;
    }
    if (i < 0 || i >= 8) {
        c->order_ok = false;
        return;
    }
    if (ev == OUT_CALL_START) {
        if (i != c->n_calls) c->order_ok = false;
        c->n_calls = i + 1;
        snprintf(c->ids[i], sizeof c->ids[i], "%.*s", (int)n, s);
        olm_sb_put(&c->names[i], s2, n2);
    } else if (ev == OUT_CALL_ARGS) {
        if (i >= c->n_calls || c->ended[i]) c->order_ok = false;
        olm_sb_put(&c->args[i], s, n);
        c->args_pieces_before_end[i]++;
    } else if (ev == OUT_CALL_END) {
        if (i >= c->n_calls || c->ended[i]) c->order_ok = false;
        c->ended[i] = true;
    }
}

static void collected_free(collected *c) {
    olm_sb_free(&c->text);
    for (int i = 0; i < 8; i++) olm_sb_free(&c->names[i]), olm_sb_free(&c->args[i]);
}

/* Runs `model_output` (special tokens parsed) through the parser token by token. */
static int run_parser(const char *model_output, bool tools, const char *stop, collected *c, int *stop_idx) {
    memset(c, 0, sizeof *c);
    c->order_ok = true;
    onnxllm_tokens ids = {0};
    onnxllm_error e = {0};
    CHECK_EQ_INT(onnxllm_tokenizer_encode(tok, model_output, strlen(model_output), ONNXLLM_TOKENIZE_PARSE_SPECIAL, &ids, &e), 0);
    const char *stops[1] = {stop};
    out_params p = {.tok = tok, .parse_tools = tools, .stops = stop ? stops : NULL, .n_stops = stop ? 1 : 0,
                    .id_prefix = "call_", .sink = sink, .user = c};
    out_parser *o = NULL;
    CHECK_EQ_INT(out_create(&p, &o, &e), 0);
    if (!o) return -1;
    int fed = 0;
    int32_t eos = onnxllm_tokenizer_token_to_id(tok, "<|end|>");
    for (size_t i = 0; i < ids.len; i++) {
        if (ids.ids[i] == eos) break; /* the engine stops at eos; it is not fed */
        fed++;
        if (!out_token(o, ids.ids[i])) break;
    }
    out_finish(o);
    if (stop_idx) *stop_idx = out_stop_matched(o);
    CHECK_EQ_INT(out_status(o, NULL), 0);
    out_free(o);
    onnxllm_tokens_free(&ids);
    return fed;
}

static char *strip_tags(const char *s) {
    olm_sb b = {0};
    while (*s) {
        if (!strncmp(s, "<|tool_call|>", 13)) s += 13;
        else if (!strncmp(s, "<|/tool_call|>", 14)) s += 14;
        else if (!strncmp(s, "<|end|>", 7)) s += 7;
        else olm_sb_putc(&b, *s++);
    }
    return olm_sb_finish(&b);
}

static bool same_json(const char *a, size_t na, const char *b) {
    cJSON *x = cJSON_ParseWithLength(a, na), *y = cJSON_Parse(b);
    bool eq = x && y && cJSON_Compare(x, y, true);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return eq;
}

/* No whitespace outside strings (the arguments are streamed compact). */
static bool compact(const char *s, size_t n) {
    bool str = false, esc = false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (str) {
            if (esc) esc = false;
            else if (ch == '\\') esc = true;
            else if (ch == '"') str = false;
        } else if (ch == '"') str = true;
        else if (ch == ' ' || ch == '\n' || ch == '\t') return false;
    }
    return true;
}

/* The parser must find what onnxllm_toolcalls_parse finds in the same output. */
static void agree(const char *name, const char *out) {
    collected c;
    run_parser(out, true, NULL, &c, NULL);
    onnxllm_tool_calls ref = {0};
    CHECK_EQ_INT(onnxllm_toolcalls_parse(out, &ref, NULL), 0);
    char *want_text = strip_tags(ref.content);
    bool ok = c.order_ok && (size_t)c.n_calls == ref.n && !strcmp(c.text.p ? c.text.p : "", want_text);
    for (size_t i = 0; ok && i < ref.n; i++) {
        ok = c.ended[i] && c.names[i].len == strlen(ref.calls[i].name) && !strcmp(c.names[i].p, ref.calls[i].name) &&
             same_json(c.args[i].p, c.args[i].len, ref.calls[i].arguments) && compact(c.args[i].p, c.args[i].len) &&
             !strncmp(c.ids[i], "call_", 5) && strlen(c.ids[i]) == 29;
    }
    if (!ok) {
        printf("  %s: parser disagrees with onnxllm_toolcalls_parse\n    output: %s\n    text %s | want %s\n    calls %d "
               "| want %zu\n", name, out, c.text.p ? c.text.p : "", want_text, c.n_calls, ref.n);
        for (int i = 0; i < c.n_calls; i++)
            printf("    call %d: %s %.*s\n", i, c.names[i].p ? c.names[i].p : "", (int)c.args[i].len, c.args[i].p ? c.args[i].p : "");
        for (size_t i = 0; i < ref.n; i++) printf("    want %zu: %s %s\n", i, ref.calls[i].name, ref.calls[i].arguments);
    }
    CHECK(ok);
    free(want_text);
    onnxllm_toolcalls_clear(&ref);
    collected_free(&c);
}

TEST(tool_calls_agree_with_chat_parser) {
    agree("plain", "Hello there, Grüße 🤖!");
    agree("one call", "Let me check.<|tool_call|>[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]<|/tool_call|>");
    agree("two calls", "<|tool_call|>[{\"name\": \"a\", \"arguments\": {\"x\": 1}}, {\"name\": \"b\", \"arguments\": {\"y\": [1, {\"z\": null}]}}]<|/tool_call|>");
    agree("bare object", "<|tool_call|>{\"name\": \"f\", \"arguments\": {}}<|/tool_call|>");
    agree("objects without brackets", "<|tool_call|>{\"name\": \"f\", \"arguments\": {\"a\": true}}, {\"name\": \"g\", \"arguments\": {\"b\": false}}<|/tool_call|>");
    agree("closed by end", "<|tool_call|>[{\"name\": \"f\", \"arguments\": {\"k\": \"v\"}}]<|end|>");
    agree("no closing tag", "text <|tool_call|>[{\"name\": \"f\", \"arguments\": {\"k\": 2.5}}]");
    agree("arguments as a string", "<|tool_call|>[{\"name\": \"f\", \"arguments\": \"{\\\"q\\\": \\\"x y\\\"}\"}]<|/tool_call|>");
    agree("parameters", "<|tool_call|>[{\"name\": \"f\", \"parameters\": {\"q\": 1}}]<|/tool_call|>");
    agree("openai wrapper", "<|tool_call|>[{\"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": {\"q\": 1}}}]<|/tool_call|>");
    agree("arguments first", "<|tool_call|>[{\"arguments\": {\"q\": \"]}\"}, \"name\": \"late\"}]<|/tool_call|>");
    agree("brackets in strings", "<|tool_call|>[{\"name\": \"f\", \"arguments\": {\"s\": \"a]}b\\\"c{[\", \"n\": -1e-3}}]<|/tool_call|>");
    agree("unicode arguments", "<|tool_call|>[{\"name\": \"say\", \"arguments\": {\"t\": \"Grüße 🤖 \\u00e9\"}}]<|/tool_call|>");
    agree("text after", "A<|tool_call|>[{\"name\": \"f\", \"arguments\": {}}]<|/tool_call|> and then B");
    agree("not json", "<|tool_call|>this is not a call<|/tool_call|> ok");
    agree("no name", "<|tool_call|>[{\"arguments\": {\"q\": 1}}]<|/tool_call|>");
    agree("args not an object", "<|tool_call|>[{\"name\": \"f\", \"arguments\": [1, 2]}]<|/tool_call|>");
    agree("null arguments", "<|tool_call|>[{\"name\": \"f\", \"arguments\": null}]<|/tool_call|>");
    agree("no arguments", "<|tool_call|>[{\"name\": \"f\"}]<|/tool_call|>");
    agree("two segments", "<|tool_call|>[{\"name\": \"a\", \"arguments\": {}}]<|/tool_call|>x<|tool_call|>[{\"name\": \"b\", \"arguments\": {\"n\": 1}}]<|/tool_call|>");
}

/* The call is announced and its arguments stream before the call is complete. */
TEST(tool_call_streams_incrementally) {
    const char *out = "<|tool_call|>[{\"name\": \"search\", \"arguments\": {\"query\": \"a long query with many words in it\", \"limit\": 10}}]<|/tool_call|>";
    onnxllm_tokens ids = {0};
    CHECK_EQ_INT(onnxllm_tokenizer_encode(tok, out, strlen(out), ONNXLLM_TOKENIZE_PARSE_SPECIAL, &ids, NULL), 0);
    collected c;
    memset(&c, 0, sizeof c);
    c.order_ok = true;
    out_params p = {.tok = tok, .parse_tools = true, .id_prefix = "toolu_", .sink = sink, .user = &c};
    out_parser *o = NULL;
    CHECK_EQ_INT(out_create(&p, &o, NULL), 0);
    int started_at = -1, pieces_mid = 0;
    for (size_t i = 0; o && i < ids.len; i++) {
        out_token(o, ids.ids[i]);
        if (c.n_calls && started_at < 0) started_at = (int)i;
        if (i + 3 == ids.len) pieces_mid = c.args_pieces_before_end[0];
    }
    out_finish(o);
    CHECK(started_at >= 0 && started_at < (int)ids.len / 2); /* announced once the name is complete */
    CHECK(pieces_mid >= 5);                                  /* arguments arrived in pieces */
    CHECK(c.ended[0] && c.order_ok);
    CHECK(!strncmp(c.ids[0], "toolu_", 6));
    CHECK(c.args[0].p && !strcmp(c.args[0].p, "{\"query\":\"a long query with many words in it\",\"limit\":10}"));
    CHECK_EQ_INT(c.text.len, 0);
    out_free(o);
    collected_free(&c);
    onnxllm_tokens_free(&ids);
}

TEST(stop_strings_and_no_tools) {
    collected c;
    int si = -2;
    run_parser("Hello STOP world", false, "STOP", &c, &si);
    CHECK_EQ_STR(c.text.p, "Hello ");
    CHECK_EQ_INT(si, 0);
    collected_free(&c);
    run_parser("Hello world", false, "ld!", &c, &si); /* a held-back tail is handed out at the end */
    CHECK_EQ_STR(c.text.p, "Hello world");
    CHECK_EQ_INT(si, -1);
    collected_free(&c);
    /* tools off (tool_choice none): no calls; the output is text as the model wrote it
     * (<|tool_call|> is an added token that is not "special" in Phi-4-mini's tokenizer) */
    run_parser("<|tool_call|>[{\"name\": \"f\", \"arguments\": {}}]<|/tool_call|>", false, NULL, &c, NULL);
    CHECK_EQ_INT(c.n_calls, 0);
    CHECK_EQ_STR(c.text.p, "<|tool_call|>[{\"name\": \"f\", \"arguments\": {}}]<|/tool_call|>");
    collected_free(&c);
    /* a stop string does not cut a call's arguments */
    run_parser("<|tool_call|>[{\"name\": \"f\", \"arguments\": {\"s\": \"STOP\"}}]<|/tool_call|>tail STOP more", true, "STOP", &c, &si);
    CHECK_EQ_INT(c.n_calls, 1);
    CHECK(c.args[0].p && !strcmp(c.args[0].p, "{\"s\":\"STOP\"}"));
    CHECK_EQ_STR(c.text.p, "tail ");
    collected_free(&c);
    /* the tag spelled with ordinary tokens ("<|", "tool", "_call", "|>") is text: calls
     * are recognised by the token id only */
    onnxllm_tokens ids = {0};
    const char *spelled = "<|tool_call|>[{\"name\": \"f\", \"arguments\": {}}]";
    const char *parts[] = {"<|", "tool", "_call", "|>", "[{\"name\": \"f\", \"arguments\": {}}]"};
    for (size_t k = 0; k < 5; k++) CHECK_EQ_INT(onnxllm_tokenizer_encode(tok, parts[k], strlen(parts[k]), 0, &ids, NULL), 0);
    CHECK(ids.len > 5);
    for (size_t k = 0; k < ids.len; k++) CHECK(ids.ids[k] != onnxllm_tokenizer_token_to_id(tok, "<|tool_call|>"));
    memset(&c, 0, sizeof c);
    out_params p = {.tok = tok, .parse_tools = true, .sink = sink, .user = &c};
    out_parser *o = NULL;
    CHECK_EQ_INT(out_create(&p, &o, NULL), 0);
    for (size_t i = 0; o && i < ids.len; i++) out_token(o, ids.ids[i]);
    out_finish(o);
    CHECK_EQ_INT(c.n_calls, 0);
    CHECK_EQ_STR(c.text.p, spelled);
    out_free(o);
    collected_free(&c);
    onnxllm_tokens_free(&ids);
}

/* Cut anywhere (max tokens): never a crash; calls announced are closed. */
TEST(truncated_outputs) {
    const char *out = "Sure.<|tool_call|>[{\"name\": \"f\", \"arguments\": {\"a\": \"x\\\"y\", \"b\": [1, 2]}}, {\"name\": \"g\", \"arguments\": {}}]<|/tool_call|>";
    onnxllm_tokens ids = {0};
    CHECK_EQ_INT(onnxllm_tokenizer_encode(tok, out, strlen(out), ONNXLLM_TOKENIZE_PARSE_SPECIAL, &ids, NULL), 0);
    for (size_t cut = 0; cut <= ids.len; cut++) {
        collected c;
        memset(&c, 0, sizeof c);
        c.order_ok = true;
        out_params p = {.tok = tok, .parse_tools = true, .sink = sink, .user = &c};
        out_parser *o = NULL;
        CHECK_EQ_INT(out_create(&p, &o, NULL), 0);
        for (size_t i = 0; o && i < cut; i++) out_token(o, ids.ids[i]);
        out_finish(o);
        bool all_ended = true;
        for (int i = 0; i < c.n_calls; i++) all_ended &= c.ended[i];
        if (!c.order_ok || !all_ended) printf("  cut at %zu: order %d ended %d\n", cut, c.order_ok, all_ended);
        CHECK(c.order_ok && all_ended);
        out_free(o);
        collected_free(&c);
    }
    onnxllm_tokens_free(&ids);
}

/* A 400 quotes the request (a block type, a tool name): control characters in the
 * quote come out as \xNN, so the message stays one line in the log (fuzz_server_requests
 * found a newline in an unsupported block type). */
TEST(request_errors_are_one_line) {
    srv S = {0};
    srv_call C = {0};
    CHECK_EQ_INT(onnxllm_template_builtin(ONNXLLM_TEMPLATE_PHI4, "<|endoftext|>", &S.tmpl, NULL), 0);
    S.model_name = "unit";
    C.s = &S;
    const char *body = "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":"
                       "[{\"type\":\"te\\nxt\\u001b[31m\",\"text\":\"hi\"}]}]}";
    req_err e = {0};
    chat_req r;
    creq_init(&r, API_ANTHROPIC, NULL);
    cJSON *b = jparse_body(body, strlen(body), &e);
    CHECK(b != NULL);
    CHECK(!api_anthropic_parse(&C, b, &r, false, &e));
    CHECK_EQ_INT(e.status, 400);
    CHECK(strchr(e.msg, '\n') == NULL && strchr(e.msg, '\x1b') == NULL);
    CHECK(strstr(e.msg, "te\\x0axt\\x1b[31m") != NULL);
    cJSON_Delete(b);
    creq_free(&r);
    onnxllm_template_free(S.tmpl);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_server_unit TOKENIZER_JSON\n");
        return 2;
    }
    onnxllm_error e = {0};
    if (onnxllm_tokenizer_load(argv[1], &tok, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    RUN(json_strings);
    RUN(tool_calls_agree_with_chat_parser);
    RUN(tool_call_streams_incrementally);
    RUN(stop_strings_and_no_tools);
    RUN(truncated_outputs);
    RUN(request_errors_are_one_line);
    onnxllm_tokenizer_free(tok);
    return test_summary("server_unit");
}
