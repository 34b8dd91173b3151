/* lineedit.c — the chat's input and its terminal.
 *
 * Input: on a terminal, libedit (Debian's libedit2: BSD editline) gives line editing
 * (arrows, Home/End, Ctrl-A/E/K/W, ~/.editrc) and history (Up/Down, Ctrl-R) kept in
 * the user's state folder, $XDG_STATE_HOME/onnxllm/history (default
 * ~/.local/state/onnxllm/history). Anything else (pipes, files) is read with getline.
 *
 * Terminal: when the chat runs in the terminal's foreground process group but is not
 * that group's leader, something else started it — `make run` (make, then bash) —
 * and a Ctrl-C would reach that too: make would abandon the recipe and report an
 * error once the chat ends, and with `make run | tee log` the pipe's other end would
 * die. So the chat moves into a process group of its own and makes it the terminal's
 * foreground: Ctrl-C (and Ctrl-\, Ctrl-Z, which is ignored then) reach the chat only.
 * On exit — also the quick exit of a Ctrl-C at the prompt — the terminal's modes and
 * its foreground group are given back. */
#include "cli.h"

#include <errno.h>
#include <histedit.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* ---- terminal ---------------------------------------------------------------------- */

struct cli_term {
    bool tty, have_modes, owned;
    struct termios modes; /* the terminal's modes when the chat started */
    pid_t old_pgrp;       /* the foreground group to give the terminal back to */
};

/* tcsetpgrp from a background group raises SIGTTOU: block it around the call. */
static void set_foreground(pid_t pgrp) {
    sigset_t ttou, old;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    pthread_sigmask(SIG_BLOCK, &ttou, &old);
    if (tcsetpgrp(STDIN_FILENO, pgrp) != 0) { /* nothing more to do */ }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

cli_term *cli_term_claim(void) {
    cli_term *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->tty = isatty(STDIN_FILENO);
    if (!t->tty) return t;
    t->have_modes = tcgetattr(STDIN_FILENO, &t->modes) == 0;
    pid_t pgrp = getpgrp();
    if (tcgetpgrp(STDIN_FILENO) != pgrp || pgrp == getpid()) return t; /* background, or a shell's own job */
    if (setpgid(0, 0) != 0) return t;
    t->old_pgrp = pgrp;
    t->owned = true;
    set_foreground(getpid());
    /* Ctrl-Z would stop the chat while make waits for it, with nothing to resume it */
    signal(SIGTSTP, SIG_IGN);
    return t;
}

void cli_term_restore(cli_term *t) {
    if (!t || !t->tty) return;
    if (t->have_modes) tcsetattr(STDIN_FILENO, TCSANOW, &t->modes);
    if (t->owned) {
        set_foreground(t->old_pgrp);
        if (setpgid(0, t->old_pgrp) != 0) { /* stays in its own group: harmless */ }
        t->owned = false;
    }
}

void cli_term_release(cli_term *t) {
    if (!t) return;
    cli_term_restore(t);
    free(t);
}

/* ---- input ----------------------------------------------------------------------------- */

struct cli_input {
    EditLine *el;
    History *hist;
    HistEvent ev;
    char *hist_path;
    const char *prompt;
    bool tty;
    char *line; /* getline buffer */
    size_t cap;
};

static char *prompt_fn(EditLine *el) {
    cli_input *in = NULL;
    el_get(el, EL_CLIENTDATA, &in);
    return (char *)(in && in->prompt ? in->prompt : "");
}

static int mkdir_one(const char *path) { return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1; }

/* $XDG_STATE_HOME/onnxllm/history, else $HOME/.local/state/onnxllm/history (the XDG
 * base directory rules: a relative XDG_STATE_HOME is ignored); the folders are made. */
static char *history_path(void) {
    const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char base[PATH_MAX];
    if (x && x[0] == '/') snprintf(base, sizeof base, "%s", x);
    else if (home && home[0] == '/') {
        snprintf(base, sizeof base, "%s/.local", home);
        if (mkdir_one(base)) return NULL;
        snprintf(base, sizeof base, "%s/.local/state", home);
    } else return NULL;
    if (mkdir_one(base)) return NULL;
    size_t n = strlen(base) + sizeof "/onnxllm/history";
    char *p = malloc(n);
    if (!p) return NULL;
    snprintf(p, n, "%s/onnxllm", base);
    if (mkdir_one(p)) {
        free(p);
        return NULL;
    }
    snprintf(p, n, "%s/onnxllm/history", base);
    return p;
}

cli_input *cli_input_open(void) {
    cli_input *in = calloc(1, sizeof *in);
    if (!in) return NULL;
    in->tty = isatty(STDIN_FILENO);
    /* editing echoes what is typed: only when it goes to the terminal too */
    if (!in->tty || !isatty(STDOUT_FILENO)) return in;
    in->el = el_init("onnxllm", stdin, stdout, stderr);
    if (!in->el) return in; /* e.g. TERM unknown: plain reading still works */
    el_set(in->el, EL_CLIENTDATA, in);
    el_set(in->el, EL_PROMPT, prompt_fn);
    el_set(in->el, EL_EDITOR, "emacs");
    el_set(in->el, EL_SIGNAL, 0); /* signals are the chat's (a watcher thread, see cli.h) */
    in->hist = history_init();
    if (in->hist) {
        history(in->hist, &in->ev, H_SETSIZE, 1000);
        history(in->hist, &in->ev, H_SETUNIQUE, 1);
        el_set(in->el, EL_HIST, history, in->hist);
        in->hist_path = history_path();
        if (in->hist_path) history(in->hist, &in->ev, H_LOAD, in->hist_path);
    }
    el_source(in->el, NULL); /* the user's ~/.editrc, if any */
    return in;
}

char *cli_input_line(cli_input *in, const char *prompt) {
    if (in->el) {
        in->prompt = prompt;
        int n = 0;
        const char *l = el_gets(in->el, &n);
        if (!l || n <= 0) return NULL; /* Ctrl-D on an empty line, or end of input */
        char *r = strndup(l, (size_t)n);
        if (r && n && r[n - 1] == '\n') r[n - 1] = 0;
        return r;
    }
    if (in->tty) {
        fputs(prompt, stdout);
        fflush(stdout);
    }
    ssize_t n = getline(&in->line, &in->cap, stdin);
    if (n < 0) return NULL;
    if (n && in->line[n - 1] == '\n') in->line[--n] = 0;
    if (n && in->line[n - 1] == '\r') in->line[--n] = 0;
    return strdup(in->line);
}

void cli_input_remember(cli_input *in, const char *line) {
    if (!in || !in->hist || !line || !*line) return;
    history(in->hist, &in->ev, H_ENTER, line);
    if (in->hist_path) history(in->hist, &in->ev, H_SAVE, in->hist_path);
}

bool cli_input_is_tty(const cli_input *in) { return in && in->tty; }

void cli_input_close(cli_input *in) {
    if (!in) return;
    if (in->el) el_end(in->el); /* puts the terminal back in its normal mode */
    if (in->hist) history_end(in->hist);
    free(in->hist_path);
    free(in->line);
    free(in);
}
