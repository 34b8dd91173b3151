/* cmd_tokenize.c — `onnxllm tokenize`: encode/decode with a tokenizer.json.
 *
 *   onnxllm tokenize --tokenizer FILE --jsonl [--add-special] [--no-parse-special]
 *       stdin: one JSON string per line → stdout: one JSON array of ids per line
 *   onnxllm tokenize --tokenizer FILE --jsonl --decode [--skip-special]
 *       stdin: one JSON array of ids per line → stdout: one JSON string per line
 *   onnxllm tokenize --tokenizer FILE [--text STR]
 *       raw text (STR or all of stdin) → one JSON array
 * A bad line stops with "line N: ..." on stderr and exit 1. */
#include "cli.h"
#include "common/json.h"

#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

static const char *CMD = "tokenize";

static void help(void) {
    printf("usage: onnxllm tokenize --tokenizer FILE [--jsonl] [--add-special] [--no-parse-special]\n"
           "                        [--decode [--skip-special]] [--text STR]\n\n"
           "Encodes text to token ids (or decodes ids to text) with a Hugging Face tokenizer.json.\n\n"
           "  --tokenizer FILE     tokenizer.json to load (required)\n"
           "  --jsonl              stdin holds one JSON value per line; one result per line:\n"
           "                       encode: a JSON string in, a JSON array of ids out;\n"
           "                       decode: a JSON array of ids in, a JSON string out\n"
           "  --add-special        apply the post-processor (e.g. prepend BOS)\n"
           "  --no-parse-special   treat special added tokens in the text as plain text\n"
           "  --decode             decode instead of encode\n"
           "  --skip-special       with --decode: drop special tokens\n"
           "  --text STR           encode STR (without --jsonl; default: all of stdin)\n\n"
           "exit codes: 0 ok, 1 failure (file, bad input line), 2 bad usage\n");
}

/* ---- JSON string in/out ------------------------------------------------------------ */
static void put_utf8(char **o, uint32_t cp) {
    char *p = *o;
    if (cp < 0x80) *p++ = (char)cp;
    else if (cp < 0x800) { *p++ = (char)(0xC0 | (cp >> 6)); *p++ = (char)(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { *p++ = (char)(0xE0 | (cp >> 12)); *p++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *p++ = (char)(0x80 | (cp & 0x3F)); }
    else { *p++ = (char)(0xF0 | (cp >> 18)); *p++ = (char)(0x80 | ((cp >> 12) & 0x3F)); *p++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *p++ = (char)(0x80 | (cp & 0x3F)); }
    *o = p;
}

static int hex4(const char *s, uint32_t *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        *v = *v * 16 + (uint32_t)d;
    }
    return 0;
}

/* Parses one JSON string (whole line, surrounding blanks allowed) into out (which
 * must hold len bytes). Keeps \u0000; a lone surrogate becomes U+FFFD (what
 * JavaScript/Python callers get when they encode such a string as UTF-8). */
static const char *parse_json_string(const char *s, size_t len, char *out, size_t *olen) {
    const char *e = s + len;
    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r')) s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    if (s >= e || *s != '"') return "expected a JSON string";
    s++;
    char *o = out;
    while (s < e && *s != '"') {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20) return "control character in JSON string";
        if (c != '\\') { *o++ = (char)c; s++; continue; }
        if (++s >= e) return "truncated escape";
        switch (*s++) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            uint32_t v, w;
            if (e - s < 4 || hex4(s, &v)) return "bad \\u escape";
            s += 4;
            if (v >= 0xD800 && v <= 0xDBFF && e - s >= 6 && s[0] == '\\' && s[1] == 'u' && !hex4(s + 2, &w) && w >= 0xDC00 && w <= 0xDFFF) {
                v = 0x10000 + ((v - 0xD800) << 10) + (w - 0xDC00);
                s += 6;
            } else if (v >= 0xD800 && v <= 0xDFFF)
                v = 0xFFFD;
            put_utf8(&o, v);
            break;
        }
        default: return "bad escape in JSON string";
        }
    }
    if (s >= e) return "unterminated JSON string";
    if (s + 1 != e) return "trailing characters after the JSON string";
    *olen = (size_t)(o - out);
    return NULL;
}

static void print_json_string(FILE *f, const char *s, size_t n) {
    putc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (c < 0x20) fprintf(f, "\\u%04x", c);
            else putc(c, f);
        }
    }
    putc('"', f);
}

static void print_ids(FILE *f, const onnxllm_tokens *t) {
    putc('[', f);
    for (size_t i = 0; i < t->len; i++) fprintf(f, i ? ",%d" : "%d", t->ids[i]);
    fputs("]\n", f);
}

static int decode_line(const onnxllm_tokenizer *tok, const char *line, size_t lineno, bool skip, onnxllm_tokens *ids,
                       onnxllm_string *text) {
    cJSON *j = cJSON_Parse(line);
    if (!cJSON_IsArray(j)) {
        cJSON_Delete(j);
        fprintf(stderr, "onnxllm %s: stdin line %zu: expected a JSON array of token ids\n", CMD, lineno);
        return CLI_FAIL;
    }
    ids->len = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        int64_t id;
        if (!olm_json_as_int(it, INT32_MIN, INT32_MAX, &id)) {
            cJSON_Delete(j);
            fprintf(stderr, "onnxllm %s: stdin line %zu: token ids must be integers\n", CMD, lineno);
            return CLI_FAIL;
        }
        if (ids->len == ids->cap) {
            size_t nc = ids->cap ? ids->cap * 2 : 64;
            int32_t *p = realloc(ids->ids, nc * sizeof *p);
            if (!p) { cJSON_Delete(j); return CLI_FAIL; }
            ids->ids = p;
            ids->cap = nc;
        }
        ids->ids[ids->len++] = (int32_t)id;
    }
    cJSON_Delete(j);
    onnxllm_error err = {0};
    text->len = 0;
    if (onnxllm_tokenizer_decode(tok, ids->ids, ids->len, skip, text, &err)) return cli_report(CMD, &err);
    print_json_string(stdout, text->data ? text->data : "", text->len);
    putchar('\n');
    return CLI_OK;
}

int cmd_tokenize(int argc, char **argv) {
    static const struct option opts[] = {
        {"tokenizer", required_argument, 0, 'T'}, {"jsonl", no_argument, 0, 'j'},
        {"add-special", no_argument, 0, 'a'},     {"no-parse-special", no_argument, 0, 'n'},
        {"decode", no_argument, 0, 'd'},          {"skip-special", no_argument, 0, 's'},
        {"text", required_argument, 0, 't'},      {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *path = NULL, *text = NULL;
    bool jsonl = false, add = false, parse = true, decode = false, skip = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "T:jandst:h", opts, NULL)) != -1) {
        switch (c) {
        case 'T': path = optarg; break;
        case 'j': jsonl = true; break;
        case 'a': add = true; break;
        case 'n': parse = false; break;
        case 'd': decode = true; break;
        case 's': skip = true; break;
        case 't': text = optarg; break;
        case 'h': help(); return CLI_OK;
        default: return cli_usage_error(CMD, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!path) return cli_usage_error(CMD, "--tokenizer FILE is required");
    if (skip && !decode) return cli_usage_error(CMD, "--skip-special needs --decode");
    if (decode && !jsonl) return cli_usage_error(CMD, "--decode needs --jsonl");
    if (text && jsonl) return cli_usage_error(CMD, "--text cannot be combined with --jsonl");

    onnxllm_error err = {0};
    onnxllm_tokenizer *tok = NULL;
    if (onnxllm_tokenizer_load(path, &tok, &err)) return cli_report(CMD, &err);
    unsigned flags = (add ? ONNXLLM_TOKENIZE_ADD_SPECIAL : 0) | (parse ? ONNXLLM_TOKENIZE_PARSE_SPECIAL : 0);
    onnxllm_tokens ids = {0};
    onnxllm_string str = {0};
    int rc = CLI_OK;
    if (!jsonl) {
        char *buf = NULL;
        size_t n = 0;
        if (text) n = strlen(text);
        else {
            size_t cap = 0, r;
            char tmp[65536];
            while ((r = fread(tmp, 1, sizeof tmp, stdin)) > 0) {
                if (n + r > cap) {
                    cap = (n + r) * 2;
                    char *p = realloc(buf, cap);
                    if (!p) { free(buf); onnxllm_tokenizer_free(tok); return CLI_FAIL; }
                    buf = p;
                }
                memcpy(buf + n, tmp, r);
                n += r;
            }
        }
        if (onnxllm_tokenizer_encode(tok, text ? text : buf, n, flags, &ids, &err)) rc = cli_report(CMD, &err);
        else print_ids(stdout, &ids);
        free(buf);
    } else {
        char *line = NULL, *out = NULL;
        size_t lcap = 0, ocap = 0, lineno = 0;
        ssize_t got;
        while (rc == CLI_OK && (got = getline(&line, &lcap, stdin)) >= 0) {
            lineno++;
            size_t n = (size_t)got;
            while (n && (line[n - 1] == '\n')) n--;
            line[n] = 0;
            if (decode) {
                rc = decode_line(tok, line, lineno, skip, &ids, &str);
                continue;
            }
            if (ocap < n + 1) {
                free(out);
                ocap = n + 1;
                if (!(out = malloc(ocap))) { rc = CLI_FAIL; break; }
            }
            size_t olen = 0;
            const char *why = parse_json_string(line, n, out, &olen);
            if (why) {
                fprintf(stderr, "onnxllm %s: stdin line %zu: %s\n", CMD, lineno, why);
                rc = CLI_FAIL;
                break;
            }
            ids.len = 0;
            if (onnxllm_tokenizer_encode(tok, out, olen, flags, &ids, &err)) rc = cli_report(CMD, &err);
            else print_ids(stdout, &ids);
        }
        free(line);
        free(out);
    }
    if (fflush(stdout) != 0 && rc == CLI_OK) rc = CLI_FAIL;
    onnxllm_tokens_free(&ids);
    onnxllm_string_free(&str);
    onnxllm_tokenizer_free(tok);
    return rc;
}
