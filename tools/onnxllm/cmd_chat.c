/* cmd_chat.c — `onnxllm chat`: an interactive conversation in the terminal.
 *
 * Keeps the history as chat messages and re-renders it through the chat template
 * each turn; the KV cache is reused for the longest prefix still valid
 * (onnxllm_sequence_reusable_prefix), so a turn only prefills the new tokens.
 * When the conversation no longer fits the KV capacity (--max-length), the oldest
 * exchanges are dropped (the system message stays) and the chat says so; an answer
 * cut by the capacity is reported too. Ctrl-C stops the current answer (the
 * sequence is cancelled, the partial answer stays in the history); Ctrl-C at the
 * prompt exits with 130, Ctrl-D (end of input) or /exit with 0. Input: lineedit.c
 * (line editing and history on a terminal; the terminal's Ctrl-C kept for the chat). */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
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
            "On a terminal the input line can be edited (arrows, Home/End, Ctrl-A/E/K/W) and Up/Down\n"
            "and Ctrl-R recall earlier lines, kept in $XDG_STATE_HOME/onnxllm/history\n"
            "(~/.local/state/onnxllm/history). When the conversation outgrows --max-length the\n"
            "oldest exchanges are dropped (the system message is kept) and the chat says so.\n"
            "After each answer, tokens, tokens/s, time to first token and the prompt tokens that had to\n"
            "be computed (the rest of the conversation is reused from the cache) are shown on stderr.\n"
            "\n"
            "options:\n"
            "  -m, --model DIR     model folder\n"
            "  -s, --system TEXT   initial system message\n"
            "  -h, --help          this help\n");
    cli_gen_help(f, "512", "from the clock");
    fprintf(f, "\n"
               "exit codes: 0 ok, 1 failure (model folder, files, runtime), 2 bad usage (the command\n"
               "            line), 130 Ctrl-C at the prompt\n");
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

/* Reads one message: continuation lines (trailing \\) and """ blocks. NULL at end of input. */
static char *read_message(cli_input *in) {
    char *msg = NULL;
    size_t len = 0;
    bool block = false, first = true, any = false; /* any: a line is in msg */
    for (;;) {
        char *line = cli_input_line(in, first ? "> " : "... ");
        if (!line) {
            if (!msg && cli_input_is_tty(in)) fputc('\n', stdout);
            return msg; /* partial input at EOF is still sent */
        }
        cli_input_remember(in, line);
        size_t n = strlen(line);
        bool cont = false;
        if (!strcmp(line, "\"\"\"")) {
            if (block) {
                free(line);
                break; /* closing """ */
            }
            if (first) {
                block = true;
                first = false;
                free(line);
                continue;
            }
        } else if (!block && n && line[n - 1] == '\\') {
            line[--n] = 0;
            cont = true;
        }
        char *g = realloc(msg, len + n + 2);
        if (!g) {
            free(line);
            break;
        }
        msg = g;
        if (any) msg[len++] = '\n';
        memcpy(msg + len, line, n + 1);
        len += n;
        free(line);
        first = false;
        any = true;
        if (!block && !cont) break;
    }
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
    if (!text) {
        errno = ENOMEM;
        return false;
    }
    FILE *f = fopen(path, "w");
    bool ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    int e = errno;
    if (f && fclose(f) && ok) ok = false, e = errno;
    free(text);
    errno = e;
    return ok;
}

/* Renders the history to ids (*ids reset first). */
static onnxllm_status render(cli_session *s, const history *h, onnxllm_tokens *ids, onnxllm_error *err) {
    onnxllm_chat_message *m = calloc(h->n ? h->n : 1, sizeof *m);
    if (!m) {
        snprintf(err->message, sizeof err->message, "out of memory");
        return err->status = ONNXLLM_ERR_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < h->n; i++) m[i] = (onnxllm_chat_message){h->m[i].role, h->m[i].content, NULL};
    ids->len = 0;
    /* what the user typed (and the model answered) cannot forge a turn */
    onnxllm_status st = onnxllm_chat_render_ids(s->tmpl, s->tok, m, h->n, NULL, true, 0, ids, err);
    free(m);
    return st;
}

/* Drops the oldest exchange after the system message: a message and the replies up to
 * the next user message. Never the last message (the one to answer). */
static size_t drop_oldest(history *h) {
    size_t first = h->n && !strcmp(h->m[0].role, "system") ? 1 : 0, end = first + 1;
    if (h->n < first + 2) return 0;
    while (end < h->n - 1 && strcmp(h->m[end].role, "user")) end++;
    size_t k = end - first;
    for (size_t i = first; i < end; i++) {
        free(h->m[i].role);
        free(h->m[i].content);
    }
    memmove(h->m + first, h->m + end, (h->n - end) * sizeof *h->m);
    h->n -= k;
    return k;
}

/* Runs one answer to the history (whose last message is the user's): renders it; when
 * it does not leave room for an answer in the KV capacity, drops the oldest exchanges
 * (saying so); reuses the cached prefix that is still valid. */
static onnxllm_status answer(cli_session *s, onnxllm_sequence *seq, history *h, const cli_gen_options *o,
                             cli_sigint *sig, cli_answer *ans, onnxllm_error *err) {
    onnxllm_tokens ids = {0};
    size_t cap = (size_t)onnxllm_model_max_length(s->model);
    /* room kept for the answer: -n tokens, at most half the capacity */
    size_t room = (size_t)o->max_tokens < cap / 2 ? (size_t)o->max_tokens : cap / 2;
    if (room < 1) room = 1;
    size_t dropped = 0;
    onnxllm_status st;
    while (!(st = render(s, h, &ids, err)) && ids.len + room > cap) {
        size_t k = drop_oldest(h);
        if (!k) break;
        dropped += k;
    }
    if (!st && dropped)
        fprintf(stderr, "[conversation too long for --max-length %zu: dropped the %zu oldest message%s%s]\n", cap,
                dropped, dropped == 1 ? "" : "s",
                h->n && !strcmp(h->m[0].role, "system") ? ", kept the system message" : "");
    if (!st && ids.len >= cap) {
        snprintf(err->message, sizeof err->message,
                 "this message makes a prompt of %zu tokens, more than --max-length %zu (prompt + answer): "
                 "shorten it or raise --max-length (the model allows up to %d)",
                 ids.len, cap, onnxllm_model_context_length(s->model));
        st = err->status = ONNXLLM_ERR_INVALID_ARGUMENT;
    }
    if (!st) {
        size_t keep = onnxllm_sequence_reusable_prefix(seq, ids.ids, ids.len, NULL);
        st = onnxllm_sequence_rewind_to(seq, keep, err);
        if (!st) st = cli_generate(s, seq, ids.ids + keep, ids.len - keep, o, sig, stdout, ans, err);
    }
    onnxllm_tokens_free(&ids);
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
    cli_gen_options_init(&o, 512);
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
    if (cli_gen_check("chat", &o)) return CLI_USAGE;

    /* the terminal first (Ctrl-C during the load reaches the chat only), then the
     * Ctrl-C watcher, before the model: ORT's threads inherit the blocked SIGINT */
    cli_term *term = cli_term_claim();
    cli_sigint *sig = cli_sigint_start();
    cli_sigint_set_exit_hook(sig, (void (*)(void *))cli_term_restore, term);
    cli_session s;
    int rc = cli_session_open("chat", model, &o, true, &s);
    if (rc) {
        cli_sigint_stop(sig);
        cli_term_release(term);
        return rc;
    }
    onnxllm_error err = {0};
    onnxllm_sequence *seq = NULL;
    cli_input *input = NULL;
    if (onnxllm_sequence_create(s.model, &seq, &err)) {
        rc = cli_report("chat", &err);
        cli_session_close(&s);
        cli_sigint_stop(sig);
        cli_term_release(term);
        return rc;
    }
    if (!(input = cli_input_open())) {
        fprintf(stderr, "onnxllm chat: out of memory\n");
        onnxllm_sequence_free(seq);
        cli_session_close(&s);
        cli_sigint_stop(sig);
        cli_term_release(term);
        return CLI_FAIL;
    }
    bool tty = cli_input_is_tty(input);
    history h = {0};
    char *system = system0 ? strdup(system0) : NULL;
    if (system) hist_add(&h, "system", system);
    if (tty)
        fprintf(stderr, "onnxllm chat: %s (%s template, %.0f ms to load). /help for commands, Ctrl-D to leave.\n",
                model, onnxllm_template_name(s.tmpl), s.load_ms);
    for (;;) {
        char *in = read_message(input);
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
                else fprintf(stderr, "onnxllm chat: cannot write %s: %s%s\n", arg, strerror(errno),
                             errno == ENOENT ? " (its folder must exist)" : "");
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
            hist_pop(&h); /* the message that failed is not part of the conversation */
            onnxllm_sequence_rewind_to(seq, 0, NULL);
        } else if (!strcmp(ans.finish, "cancelled") && ans.n_generated == 0) {
            fprintf(stderr, "[interrupted before the answer began; message dropped]\n");
            hist_pop(&h);
        } else {
            hist_add(&h, "assistant", ans.text);
            /* a speed needs two tokens: the first one's time is the time to first token */
            char speed[64] = "";
            if (ans.n_generated > 1 && ans.decode_ms > 0)
                snprintf(speed, sizeof speed, " %.1f tokens/s,", (ans.n_generated - 1) * 1000.0 / ans.decode_ms);
            fprintf(stderr, "[%d token%s,%s first token after %.0f ms, %d prompt tokens computed%s]\n",
                    ans.n_generated, ans.n_generated == 1 ? "" : "s", speed, ans.ttft_ms, ans.n_prompt,
                    !strcmp(ans.finish, "cancelled") ? ", interrupted" : "");
            if (ans.full)
                fprintf(stderr, "[answer cut: the conversation reached --max-length %d tokens; the oldest messages "
                                "will be dropped to make room]\n",
                        onnxllm_model_max_length(s.model));
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
    cli_input_close(input);
    cli_term_release(term);
    return rc;
}
