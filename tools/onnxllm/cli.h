/* cli.h — the onnxllm command line: one binary, one file per subcommand. It uses
 * only the public API (it links libonnxllm.so) plus src/common's helpers.
 *
 * Exit codes (documented in README and `onnxllm --help`):
 *   0 success; 1 failure — anything that goes wrong after the command line was
 *   understood (model folder, files and their contents, a prompt too long for the
 *   model, network, runtime); 2 bad usage — the command line itself (unknown option,
 *   missing or malformed value, options that exclude each other), found before
 *   anything is loaded; 130 interrupted (Ctrl-C). */
#ifndef ONNXLLM_CLI_H
#define ONNXLLM_CLI_H

#include <stdio.h>
#include "onnxllm.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_INTERRUPTED = 130 };

typedef int (*cli_main_fn)(int argc, char **argv);

/* Each subcommand: argv[0] is the subcommand name; parse with getopt_long. */
int cmd_generate(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_build_model(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_apply_template(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_schema_test(int argc, char **argv);

/* Prints "onnxllm CMD: <message>" to stderr and returns the exit code for a library
 * error: 130 when cancelled, else 1 (the command line was fine: see the rule above). */
int cli_report(const char *cmd, const onnxllm_error *err);

/* Prints "onnxllm CMD: <fmt...>\nTry 'onnxllm CMD --help'." and returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- cli_common.c (run, chat, bench, apply-template) ---- */
/* For getopt_long with opterr = 0 and an optstring starting with ':': call when it
 * returned '?' or ':'; prints "unrecognized option '--x'" / "option '--x' needs a
 * value" the cli_usage_error way and returns CLI_USAGE. */
int cli_bad_option(const char *cmd, int c, char **argv);

/* Generation options: one vocabulary for run, chat and generate (old spellings kept as
 * aliases: generate's --max-new and --repetition-penalty). Sampling defaults are the
 * model's own (genai_config.json "search", onnxllm_model_sampler_params); a flag
 * overrides its field only. */
#define CLI_MAX_STOPS 16
typedef struct cli_gen_options {
    onnxllm_sampler_params sampler; /* the flags given; the rest filled by cli_gen_resolve */
    unsigned set;                   /* CLI_SET_* bits: sampler fields given on the command line */
    int max_tokens;                 /* -n/--max-tokens; the command's default until given */
    bool max_tokens_set;
    const char *stops[CLI_MAX_STOPS];
    size_t n_stops;                 /* --stop S (repeatable) */
    int threads;                    /* --threads N, 0 = engine default */
    int max_length;                 /* --max-length N (KV capacity), 0 = engine default */
    const char *ep;                 /* --ep cpu|cuda, NULL = the model folder's choice */
    bool greedy;                    /* --greedy (temperature 0) */
    bool no_shared_kv, full_logits; /* engine modes (tests, comparisons) */
    onnxllm_matcher *matcher;       /* constrained decoding (run --schema / --tool-choice), NULL = none */
} cli_gen_options;

enum { CLI_SET_TEMPERATURE = 1, CLI_SET_TOP_K = 2, CLI_SET_TOP_P = 4, CLI_SET_MIN_P = 8, CLI_SET_REPEAT = 16,
       CLI_SET_PRESENCE = 32, CLI_SET_FREQUENCY = 64, CLI_SET_SAMPLING = 1 | 2 | 4 | 8 };

enum { /* getopt values of the shared options */
    CLI_OPT_TEMPERATURE = 1000, CLI_OPT_TOP_P, CLI_OPT_TOP_K, CLI_OPT_MIN_P, CLI_OPT_SEED, CLI_OPT_STOP,
    CLI_OPT_THREADS, CLI_OPT_MAX_LENGTH, CLI_OPT_REPEAT_PENALTY, CLI_OPT_EP, CLI_OPT_PRESENCE, CLI_OPT_FREQUENCY,
    CLI_OPT_GREEDY, CLI_OPT_IGNORE_EOS, CLI_OPT_NO_SHARED_KV, CLI_OPT_FULL_LOGITS
};
/* The shared long options, to put in a subcommand's option table (-n is 'n'). */
#define CLI_GEN_LONGOPTS                                                                       \
    {"temperature", required_argument, 0, CLI_OPT_TEMPERATURE},                                \
    {"top-p", required_argument, 0, CLI_OPT_TOP_P}, {"top-k", required_argument, 0, CLI_OPT_TOP_K}, \
    {"min-p", required_argument, 0, CLI_OPT_MIN_P}, {"seed", required_argument, 0, CLI_OPT_SEED},  \
    {"max-tokens", required_argument, 0, 'n'}, {"max-new", required_argument, 0, 'n'},          \
    {"stop", required_argument, 0, CLI_OPT_STOP},                                              \
    {"threads", required_argument, 0, CLI_OPT_THREADS},                                        \
    {"max-length", required_argument, 0, CLI_OPT_MAX_LENGTH},                                  \
    {"repeat-penalty", required_argument, 0, CLI_OPT_REPEAT_PENALTY},                          \
    {"repetition-penalty", required_argument, 0, CLI_OPT_REPEAT_PENALTY},                      \
    {"presence-penalty", required_argument, 0, CLI_OPT_PRESENCE},                              \
    {"frequency-penalty", required_argument, 0, CLI_OPT_FREQUENCY},                            \
    {"greedy", no_argument, 0, CLI_OPT_GREEDY}, {"ignore-eos", no_argument, 0, CLI_OPT_IGNORE_EOS}, \
    {"no-shared-kv", no_argument, 0, CLI_OPT_NO_SHARED_KV},                                    \
    {"full-logits", no_argument, 0, CLI_OPT_FULL_LOGITS},                                      \
    {"ep", required_argument, 0, CLI_OPT_EP}
/* Help text for those options; the command's -n default and seed default go in the
 * two %s (e.g. "512", "from the clock"). */
void cli_gen_help(FILE *f, const char *max_tokens_default, const char *seed_default);

void cli_gen_options_init(cli_gen_options *o, int max_tokens_default);
/* Handles option c (value arg) if it is a shared one: returns 0 when handled, -1 when c
 * is not a shared option, CLI_USAGE (message printed) for a bad value. */
int cli_gen_option(const char *cmd, int c, const char *arg, cli_gen_options *o);
/* After parsing: CLI_USAGE (printed) for options that exclude each other. */
int cli_gen_check(const char *cmd, const cli_gen_options *o);
/* The model params the options ask for (hugepages on: the CLI owns its process). */
onnxllm_model_params cli_gen_model_params(const cli_gen_options *o);
/* Sampling = the model's defaults with the given flags on top (seed: the flag's or
 * the command's default). Call once the model is loaded. */
void cli_gen_resolve(cli_gen_options *o, const onnxllm_model *m);

/* A loaded model folder: model, tokenizer (DIR/tokenizer.json, checked against the
 * model's vocabulary), chat template. */
typedef struct cli_session {
    onnxllm_model *model;
    onnxllm_tokenizer *tok;
    onnxllm_template *tmpl; /* NULL when not asked for */
    double load_ms;         /* model + tokenizer + template */
} cli_session;
/* CLI_OK when dir is an existing folder, else prints "onnxllm CMD: DIR: model folder
 * not found (...)" and returns CLI_FAIL. */
int cli_check_model_dir(const char *cmd, const char *dir);
/* Returns CLI_OK or the exit code after printing the error ("onnxllm CMD: ...");
 * resolves o's sampling against the model (cli_gen_resolve). */
int cli_session_open(const char *cmd, const char *dir, cli_gen_options *o, bool need_template, cli_session *s);
void cli_session_close(cli_session *s);

/* One answer: append prompt ids (prefill), generate with streaming detokenisation
 * and stop strings, writing text to `out` as it comes (NULL: don't print). */
typedef struct cli_answer {
    char *text;             /* everything shown (stop string excluded); caller frees */
    int n_prompt;           /* ids appended (prefilled) for this answer */
    int n_generated;        /* tokens generated, eos included */
    double prefill_ms;      /* the append (prefill) */
    double ttft_ms;         /* prefill + first token */
    double decode_ms;       /* the other n_generated - 1 tokens */
    const char *finish;     /* "stop" (eos or stop string), "length", "cancelled" */
    bool full;              /* "length" because the sequence reached max_length (KV capacity) */
} cli_answer;
typedef struct cli_sigint cli_sigint;
/* sig (may be NULL): a Ctrl-C seen by it ends the answer as "cancelled". */
onnxllm_status cli_generate(cli_session *s, onnxllm_sequence *seq, const int32_t *ids, size_t n,
                            const cli_gen_options *o, cli_sigint *sig, FILE *out, cli_answer *ans,
                            onnxllm_error *err);

/* Ctrl-C handling without global state: SIGINT is blocked in every thread (start
 * it before loading the model, so ORT's threads inherit the mask) and a watcher
 * thread waits for it. Idle (at a prompt, the initial state) SIGINT exits with
 * 130; busy, it sets the interrupted flag and cancels the busy sequence (if any).
 * Callers also check cli_sigint_interrupted (a Ctrl-C between two engine calls
 * is seen by both), and must take the sequence back (cli_sigint_busy(w, NULL) or
 * cli_sigint_idle) before freeing it. */
cli_sigint *cli_sigint_start(void);
void cli_sigint_busy(cli_sigint *w, onnxllm_sequence *seq); /* seq may be NULL; keeps the flag */
void cli_sigint_idle(cli_sigint *w);                        /* clears the flag */
bool cli_sigint_interrupted(cli_sigint *w);
void cli_sigint_stop(cli_sigint *w);

/* At the prompt a Ctrl-C ends the process at once (from the watcher thread); fn(arg)
 * runs just before, e.g. to give the terminal back (cli_term_restore). */
void cli_sigint_set_exit_hook(cli_sigint *w, void (*fn)(void *), void *arg);

double cli_now_ms(void); /* monotonic clock */

/* ---- lineedit.c (chat) ---- */
/* The terminal: modes saved; when started by another program in the foreground group
 * (make run), the chat takes the terminal's foreground for itself so Ctrl-C reaches it
 * only. Never NULL on success; restore gives everything back (safe to call twice). */
typedef struct cli_term cli_term;
cli_term *cli_term_claim(void);
void cli_term_restore(cli_term *t);
void cli_term_release(cli_term *t); /* restore + free */
/* Input lines: libedit with history ($XDG_STATE_HOME/onnxllm/history) on a terminal,
 * getline otherwise. cli_input_line returns a malloc'd line without its newline, NULL at
 * end of input; the prompt is shown only on a terminal. */
typedef struct cli_input cli_input;
cli_input *cli_input_open(void);
char *cli_input_line(cli_input *in, const char *prompt);
void cli_input_remember(cli_input *in, const char *line); /* adds to the history (and saves it) */
bool cli_input_is_tty(const cli_input *in);
void cli_input_close(cli_input *in);

#endif
