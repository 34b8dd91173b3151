/* cli_common.c — helpers shared by the person-facing subcommands (run, chat, bench,
 * apply-template): option errors, model + tokenizer + template loading, sampling
 * options. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

int cli_bad_option(const char *cmd, int c, char **argv) {
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':') return cli_usage_error(cmd, "option '%s' needs a value", arg);
    if (optopt && !(arg[0] == '-' && arg[1] == '-')) return cli_usage_error(cmd, "unrecognized option '-%c'", optopt);
    return cli_usage_error(cmd, "unrecognized option '%s'", arg);
}
