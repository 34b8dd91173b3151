/* cli.h — the onnxllm command line: one binary, one file per subcommand.
 *
 * Exit codes (documented in README and `onnxllm --help`):
 *   0 success, 1 runtime failure (model/IO/network error), 2 usage error
 *   (bad or missing arguments), 130 interrupted. */
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

/* Prints "onnxllm CMD: <message>" to stderr and returns the CLI exit code for
 * the status (usage errors → 2, others → 1). */
int cli_report(const char *cmd, const onnxllm_error *err);

/* Prints "onnxllm CMD: <fmt...>\nTry 'onnxllm CMD --help'." and returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- cli_common.c (run, chat, bench, apply-template) ---- */
/* For getopt_long with opterr = 0 and an optstring starting with ':': call when it
 * returned '?' or ':'; prints "unrecognized option '--x'" / "option '--x' needs a
 * value" the cli_usage_error way and returns CLI_USAGE. */
int cli_bad_option(const char *cmd, int c, char **argv);

/* Sampling and generation options shared by run and chat (usable by generate). */
#define CLI_MAX_STOPS 16
typedef struct cli_gen_options {
    onnxllm_sampler_params sampler; /* onnxllm_sampler_default_params(), seed from the clock */
    int max_tokens;                 /* -n/--max-tokens, default 512 */
    const char *stops[CLI_MAX_STOPS];
    size_t n_stops;                 /* --stop S (repeatable) */
    int threads;                    /* --threads N, 0 = engine default */
    int max_length;                 /* --max-length N (KV capacity), 0 = engine default */
    const char *ep;                 /* --ep cpu|cuda, NULL = the model folder's choice */
} cli_gen_options;

enum { /* getopt values of the shared options */
    CLI_OPT_TEMPERATURE = 1000, CLI_OPT_TOP_P, CLI_OPT_TOP_K, CLI_OPT_MIN_P, CLI_OPT_SEED, CLI_OPT_STOP,
    CLI_OPT_THREADS, CLI_OPT_MAX_LENGTH, CLI_OPT_REPEAT_PENALTY, CLI_OPT_EP
};
/* The shared long options, to put in a subcommand's option table (-n is 'n'). */
#define CLI_GEN_LONGOPTS                                                                       \
    {"temperature", required_argument, 0, CLI_OPT_TEMPERATURE},                                \
    {"top-p", required_argument, 0, CLI_OPT_TOP_P}, {"top-k", required_argument, 0, CLI_OPT_TOP_K}, \
    {"min-p", required_argument, 0, CLI_OPT_MIN_P}, {"seed", required_argument, 0, CLI_OPT_SEED},  \
    {"max-tokens", required_argument, 0, 'n'}, {"stop", required_argument, 0, CLI_OPT_STOP},     \
    {"threads", required_argument, 0, CLI_OPT_THREADS},                                        \
    {"max-length", required_argument, 0, CLI_OPT_MAX_LENGTH},                                  \
    {"repeat-penalty", required_argument, 0, CLI_OPT_REPEAT_PENALTY},                          \
    {"ep", required_argument, 0, CLI_OPT_EP}
/* Help text lines for those options. */
extern const char CLI_GEN_HELP[];

void cli_gen_options_init(cli_gen_options *o);
/* Handles option c (value arg) if it is a shared one: returns 0 when handled, -1 when c
 * is not a shared option, CLI_USAGE (message printed) for a bad value. */
int cli_gen_option(const char *cmd, int c, const char *arg, cli_gen_options *o);

/* A loaded model folder: model, tokenizer (DIR/tokenizer.json), chat template. */
typedef struct cli_session {
    onnxllm_model *model;
    onnxllm_tokenizer *tok;
    onnxllm_template *tmpl; /* NULL when not asked for */
    double load_ms;         /* model + tokenizer + template */
} cli_session;
/* CLI_OK when dir is an existing folder, else prints "onnxllm CMD: DIR: model folder
 * not found (...)" and returns CLI_FAIL. */
int cli_check_model_dir(const char *cmd, const char *dir);
/* Returns CLI_OK or the exit code after printing the error ("onnxllm CMD: ..."). */
int cli_session_open(const char *cmd, const char *dir, const cli_gen_options *o, bool need_template,
                     cli_session *s);
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

double cli_now_ms(void); /* monotonic clock */

#endif
