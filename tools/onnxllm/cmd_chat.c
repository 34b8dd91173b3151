/* cmd_chat.c — `onnxllm chat`: an interactive conversation in the terminal.
 *
 * Keeps the history as chat messages and re-renders it through the chat template
 * each turn; the KV cache is reused for the longest common token prefix with
 * what the sequence already holds (onnxllm_sequence_rewind_to), so a turn only
 * prefills the new tokens. Ctrl-C stops the current answer (the sequence is
 * cancelled, the partial answer stays in the history); Ctrl-C at the prompt
 * exits with 130, Ctrl-D (end of input) or /exit with 0. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help(FILE *f) {
    fprintf(f,
            "usage: onnxllm chat -m MODEL_DIR [options]\n"
            "\n"
            "Interactive chat. Type a message and press Enter.\n"
            "  multi-line input: end a line with \\ to continue it on the next line, or put the\n"
            "  text between two lines that hold only \"\"\"\n"
            "  /reset          forget the conversation (keeps the system message)\n"
            "  /system TEXT    set the system message (empty TEXT removes it)\n"
            "  /save FILE      write the conversation as JSON {\"messages\": [...]} (the input\n"
            "                  format of onnxllm apply-template)\n"
            "  /help           these commands\n"
            "  /exit, /quit    leave (so does Ctrl-D)\n"
            "  Ctrl-C          stop the current answer; at the prompt: leave (exit code 130)\n"
            "After each answer, tokens, tokens/s, time to first token and the prompt tokens that had to\n"
            "be computed (the rest of the conversation is reused from the cache) are shown on stderr.\n"
            "\n"
            "options:\n"
            "  -m, --model DIR     model folder\n"
            "  -s, --system TEXT   initial system message\n"
            "  -h, --help          this help\n"
            "%s"
            "\n"
            "exit codes: 0 ok, 1 failure (model folder, files, runtime), 2 bad usage,\n"
            "            130 Ctrl-C at the prompt\n",
            CLI_GEN_HELP);
}

typedef struct {
    char *role, *content;
} msg;

typedef struct {
    msg *m;
    size_t n, cap;
} history;

static bool hist_add(history *h, const char *role, const char *content) {
    if (h->n == h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 16;
        msg *g = realloc(h->m, nc * sizeof *g);
        if (!g) return false;
        h->m = g;
        h->cap = nc;
    }
    msg *x = &h->m[h->n];
    x->role = strdup(role);
    x->content = strdup(content);
    if (!x->role || !x->content) {
        free(x->role);
        free(x->content);
        return false;
    }
    h->n++;
    return true;
}

static void hist_pop(history *h) {
    if (!h->n) return;
    h->n--;
    free(h->m[h->n].role);
    free(h->m[h->n].content);
}

static void hist_clear(history *h) {
    while (h->n) hist_pop(h);
}

/* Reads one message: continuation lines (trailing \) and """ blocks. NULL at end of input. */
static char *read_message(bool tty) {
    char *line = NULL, *msg = NULL;
    size_t cap = 0, len = 0;
    bool block = false, first = true, any = false; /* any: a line is in msg */
    for (;;) {
        if (tty) {
            fputs(first ? "> " : "... ", stdout);
            fflush(stdout);
        }
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0) {
            free(line);
            if (!msg && tty) fputc('\n', stdout);
            return msg; /* partial input at EOF is still sent */
        }
        if (n && line[n - 1] == '\n') line[--n] = 0;
        if (n && line[n - 1] == '\r') line[--n] = 0;
        bool cont = false;
        if (!strcmp(line, "\"\"\"")) {
            if (block) break; /* closing """ */
            if (first) {
                block = true;
                first = false;
                continue;
            }
        } else if (!block && n && line[n - 1] == '\\') {
            line[--n] = 0;
            cont = true;
        }
        char *g = realloc(msg, len + (size_t)n + 2);
        if (!g) break;
        msg = g;
        if (any) msg[len++] = '\n';
        memcpy(msg + len, line, (size_t)n + 1);
        len += (size_t)n;
        first = false;
        any = true;
        if (!block && !cont) break;
    }
    free(line);
    if (!msg) msg = strdup("");
    return msg;
}

static bool save(const char *path, const history *h) {
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "messages");
    for (size_t i = 0; i < h->n; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", h->m[i].role);
        cJSON_AddStringToObject(m, "content", h->m[i].content);
        cJSON_AddItemToArray(arr, m);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = text ? fopen(path, "w") : NULL;
    bool ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f)) ok = false;
    free(text);
    return ok;
}

/* Renders the history and runs one answer, reusing the cached prefix. */
static onnxllm_status answer(cli_session *s, onnxllm_sequence *seq, const history *h, const cli_gen_options *o,
                             cli_sigint *sig, cli_answer *ans, onnxllm_error *err) {
    onnxllm_chat_message *m = calloc(h->n ? h->n : 1, sizeof *m);
    if (!m) {
        snprintf(err->message, sizeof err->message, "out of memory");
        return err->status = ONNXLLM_ERR_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < h->n; i++) m[i] = (onnxllm_chat_message){h->m[i].role, h->m[i].content, NULL};
    onnxllm_tokens ids = {0};
    /* what the user typed (and the model answered) cannot forge a turn */
    onnxllm_status st = onnxllm_chat_render_ids(s->tmpl, s->tok, m, h->n, NULL, true, 0, &ids, err);
    if (!st) {
        /* longest common prefix with the cached tokens; at least one new token to run */
        size_t have = onnxllm_sequence_length(seq), keep = 0;
        const int32_t *cached = onnxllm_sequence_tokens(seq);
        while (keep < have && keep < ids.len && cached[keep] == ids.ids[keep]) keep++;
        if (keep >= ids.len) keep = ids.len ? ids.len - 1 : 0;
        st = onnxllm_sequence_rewind_to(seq, keep, err);
        if (!st) st = cli_generate(s, seq, ids.ids + keep, ids.len - keep, o, sig, stdout, ans, err);
    }
    onnxllm_tokens_free(&ids);
    free(m);
    return st;
}

int cmd_chat(int argc, char **argv) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"system", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         CLI_GEN_LONGOPTS,
                                         {0, 0, 0, 0}};
    const char *model = NULL, *system0 = NULL;
    cli_gen_options o;
    cli_gen_options_init(&o);
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":m:s:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 's': system0 = optarg; break;
        case 'h': help(stdout); return CLI_OK;
        case '?':
        case ':': return cli_bad_option("chat", c, argv);
        default: {
            int r = cli_gen_option("chat", c, optarg, &o);
            if (r) return r > 0 ? r : cli_bad_option("chat", '?', argv);
        }
        }
    }
    if (optind < argc) return cli_usage_error("chat", "unexpected argument '%s'", argv[optind]);
    if (!model) return cli_usage_error("chat", "missing -m MODEL_DIR");

    cli_sigint *sig = cli_sigint_start();
    cli_session s;
    int rc = cli_session_open("chat", model, &o, true, &s);
    if (rc) {
        cli_sigint_stop(sig);
        return rc;
    }
    onnxllm_error err = {0};
    onnxllm_sequence *seq = NULL;
    if (onnxllm_sequence_create(s.model, &seq, &err)) {
        rc = cli_report("chat", &err);
        cli_session_close(&s);
        cli_sigint_stop(sig);
        return rc;
    }
    bool tty = isatty(STDIN_FILENO);
    history h = {0};
    char *system = system0 ? strdup(system0) : NULL;
    if (system) hist_add(&h, "system", system);
    if (tty)
        fprintf(stderr, "onnxllm chat: %s (%s template, %.0f ms to load). /help for commands, Ctrl-D to leave.\n",
                model, onnxllm_template_name(s.tmpl), s.load_ms);
    for (;;) {
        char *in = read_message(tty);
        if (!in) break;
        cli_sigint_busy(sig, seq); /* from here Ctrl-C stops this message's answer */
        if (in[0] == '/') {
            char *arg = strchr(in, ' ');
            if (arg) *arg++ = 0;
            if (!strcmp(in, "/exit") || !strcmp(in, "/quit")) {
                free(in);
                break;
            } else if (!strcmp(in, "/reset")) {
                hist_clear(&h);
                if (system) hist_add(&h, "system", system);
                onnxllm_sequence_rewind_to(seq, 0, NULL);
                fprintf(stderr, "[conversation reset]\n");
            } else if (!strcmp(in, "/system")) {
                free(system);
                system = arg && *arg ? strdup(arg) : NULL;
                if (h.n && !strcmp(h.m[0].role, "system")) {
                    /* replace in place: keep the rest of the conversation */
                    history rest = {0};
                    for (size_t i = 1; i < h.n; i++) hist_add(&rest, h.m[i].role, h.m[i].content);
                    hist_clear(&h);
                    free(h.m);
                    h = (history){0};
                    if (system) hist_add(&h, "system", system);
                    for (size_t i = 0; i < rest.n; i++) hist_add(&h, rest.m[i].role, rest.m[i].content);
                    hist_clear(&rest);
                    free(rest.m);
                } else if (system) {
                    history old = h;
                    h = (history){0};
                    hist_add(&h, "system", system);
                    for (size_t i = 0; i < old.n; i++) hist_add(&h, old.m[i].role, old.m[i].content);
                    hist_clear(&old);
                    free(old.m);
                }
                fprintf(stderr, system ? "[system message set]\n" : "[system message removed]\n");
            } else if (!strcmp(in, "/save")) {
                if (!arg || !*arg) fprintf(stderr, "usage: /save FILE\n");
                else if (save(arg, &h)) fprintf(stderr, "[saved %zu messages to %s]\n", h.n, arg);
                else fprintf(stderr, "onnxllm chat: %s: cannot write\n", arg);
            } else if (!strcmp(in, "/help")) {
                help(stderr);
            } else {
                fprintf(stderr, "unknown command %s (/help lists them)\n", in);
            }
            free(in);
            cli_sigint_idle(sig);
            continue;
        }
        if (!in[0]) {
            cli_sigint_idle(sig);
            free(in);
            continue;
        }
        if (!hist_add(&h, "user", in)) {
            free(in);
            fprintf(stderr, "onnxllm chat: out of memory\n");
            rc = CLI_FAIL;
            break;
        }
        free(in);
        cli_answer ans = {0};
        onnxllm_status st = answer(&s, seq, &h, &o, sig, &ans, &err);
        if (ans.text && ans.text[0] && ans.text[strlen(ans.text) - 1] != '\n') fputc('\n', stdout);
        fflush(stdout);
        if (st) {
            fprintf(stderr, "onnxllm chat: %s\n", err.message);
            if (st == ONNXLLM_ERR_INVALID_ARGUMENT)
                fprintf(stderr, "(the conversation may be too long for --max-length: /reset starts over)\n");
            hist_pop(&h); /* the message that failed is not part of the conversation */
            onnxllm_sequence_rewind_to(seq, 0, NULL);
        } else if (!strcmp(ans.finish, "cancelled") && ans.n_generated == 0) {
            fprintf(stderr, "[interrupted before the answer began; message dropped]\n");
            hist_pop(&h);
        } else {
            hist_add(&h, "assistant", ans.text);
            double tps = ans.n_generated > 1 && ans.decode_ms > 0 ? (ans.n_generated - 1) * 1000.0 / ans.decode_ms : 0;
            fprintf(stderr, "[%d tokens, %.1f tokens/s, first token after %.0f ms, %d prompt tokens computed%s]\n",
                    ans.n_generated, tps, ans.ttft_ms, ans.n_prompt,
                    !strcmp(ans.finish, "cancelled") ? ", interrupted" : "");
        }
        free(ans.text);
        cli_sigint_idle(sig);
    }
    /* /exit and the out-of-memory break leave the loop busy with seq: the watcher must
     * let go of it before it is freed (a Ctrl-C during shutdown used it after free) */
    cli_sigint_busy(sig, NULL);
    hist_clear(&h);
    free(h.m);
    free(system);
    onnxllm_sequence_free(seq);
    cli_session_close(&s);
    cli_sigint_stop(sig);
    return rc;
}
