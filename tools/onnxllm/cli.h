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

#endif
