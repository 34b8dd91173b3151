/* cmd_pull.c — `onnxllm pull [VARIANT] [-o DIR]`: download microsoft/Phi-4-mini-instruct-onnx
 * (or a folder of another Hugging Face repository) with resume and verification. */
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Set by SIGINT/SIGTERM; the library polls it through params.cancel. The handler is
 * one-shot (SA_RESETHAND): a second Ctrl-C kills the process. */
static volatile sig_atomic_t interrupted;
static void on_signal(int sig) {
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f) {
    size_t n;
    const onnxllm_pull_variant *v = onnxllm_pull_variants(&n);
    fprintf(f,
            "usage: onnxllm pull [VARIANT] [-o DIR] [options]\n"
            "\n"
            "Downloads a variant of %s from Hugging Face into DIR.\n"
            "Files go to DIR.partial/ first and are resumed after an interruption (run the same\n"
            "command again); each is checked against the repository's sha256 / git hash, and DIR\n"
            "appears only when every file is verified. Running it again on a complete DIR says\n"
            "\"up to date\"; after an upstream change it downloads the changed files and swaps the\n"
            "new version in (a DIR that pull did not make is never touched).\n"
            "\n"
            "variants (default %s):\n",
            ONNXLLM_PULL_DEFAULT_REPO, v[0].name);
    for (size_t i = 0; i < n; i++) fprintf(f, "  %-5s %s\n        -> %s\n", v[i].name, v[i].folder, v[i].default_dir);
    fprintf(f,
            "\n"
            "options:\n"
            "  -o, --output DIR    where to put the model (default: the variant's folder above)\n"
            "  -r, --revision REV  branch, tag or commit (default main)\n"
            "      --repo ID       another repository (OWNER/NAME); with --folder\n"
            "      --folder PATH   folder of the repository to download instead of a variant\n"
            "                      (\"\" = the whole repository)\n"
            "      --retries N     retries per request on transient errors (default 5)\n"
            "      --list          list the variants and exit\n"
            "  -q, --quiet         no progress output (errors only)\n"
            "  -h, --help          this help\n"
            "\n"
            "environment:\n"
            "  HF_ENDPOINT  Hub address (default %s)\n"
            "  HF_TOKEN     access token, sent as \"Authorization: Bearer\" to HF_ENDPOINT only\n"
            "  HF_HUB_OFFLINE=1  fail at once without using the network\n"
            "\n"
            "exit codes: 0 ok, 1 download failed (network, checksum, disk), 2 bad usage, 130 interrupted\n",
            ONNXLLM_PULL_DEFAULT_ENDPOINT);
}

int cmd_pull(int argc, char **argv) {
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"revision", required_argument, NULL, 'r'},
        {"repo", required_argument, NULL, 'R'},   {"folder", required_argument, NULL, 'F'},
        {"retries", required_argument, NULL, 'N'}, {"list", no_argument, NULL, 'L'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    onnxllm_pull_params p = onnxllm_pull_default_params();
    const char *out = NULL, *folder = NULL;
    bool list = false, quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:r:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'r': p.revision = optarg; break;
        case 'R': p.repo = optarg; break;
        case 'F': folder = optarg; break;
        case 'N': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 0 || n > 100) return cli_usage_error("pull", "--retries: expected 0..100, got '%s'", optarg);
            p.max_retries = (int)n;
            break;
        }
        case 'L': list = true; break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); return CLI_OK;
        default: return cli_usage_error("pull", "invalid option");
        }
    }
    if (list) {
        size_t n;
        const onnxllm_pull_variant *v = onnxllm_pull_variants(&n);
        for (size_t i = 0; i < n; i++)
            printf("%-5s %s/%s -> %s\n      %s\n", v[i].name, ONNXLLM_PULL_DEFAULT_REPO, v[i].folder, v[i].default_dir,
                   v[i].description);
        return CLI_OK;
    }
    if (argc - optind > 1) return cli_usage_error("pull", "expected at most one VARIANT, got %d arguments", argc - optind);
    const onnxllm_pull_variant *variant = NULL;
    if (optind < argc) {
        if (folder) return cli_usage_error("pull", "give either a VARIANT or --folder, not both");
        variant = onnxllm_pull_find_variant(argv[optind]);
        if (!variant) {
            size_t n;
            const onnxllm_pull_variant *v = onnxllm_pull_variants(&n);
            char known[128] = "";
            for (size_t i = 0; i < n; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", v[i].name);
            return cli_usage_error("pull", "unknown variant '%s' (known: %s)", argv[optind], known);
        }
    } else if (!folder) {
        variant = onnxllm_pull_variants(NULL);
    }
    if (!folder) {
        if (strcmp(p.repo, ONNXLLM_PULL_DEFAULT_REPO))
            return cli_usage_error("pull", "--repo %s needs --folder (the variants are folders of %s)", p.repo,
                                   ONNXLLM_PULL_DEFAULT_REPO);
        folder = variant->folder;
        if (!out) out = variant->default_dir;
    }
    if (!out) return cli_usage_error("pull", "--folder needs -o DIR");

    /* huggingface_hub's switch for "never touch the network". */
    const char *offline = getenv("HF_HUB_OFFLINE");
    if (offline && (!strcmp(offline, "1") || !strcasecmp(offline, "true") || !strcasecmp(offline, "yes") ||
                    !strcasecmp(offline, "on"))) {
        fprintf(stderr, "onnxllm pull: HF_HUB_OFFLINE is set: not downloading %s\n", out);
        return CLI_FAIL;
    }

    onnxllm_error err = {0};
    onnxllm_pull_printer *printer = NULL;
    if (!quiet) {
        if (onnxllm_pull_printer_create(stderr, &printer, &err)) return cli_report("pull", &err);
        p.progress = onnxllm_pull_print_progress;
        p.progress_user = printer;
    }
    p.cancel = &interrupted; /* sig_atomic_t is int on glibc */

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* no SA_RESTART: a blocked poll returns at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    if (!quiet) fprintf(stderr, "pull: %s/%s@%s from %s -> %s\n", p.repo, folder, p.revision, p.endpoint, out);
    onnxllm_status st = onnxllm_pull(folder, out, &p, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    onnxllm_pull_printer_free(printer); /* ends a progress line left open */
    if (st != ONNXLLM_OK) return cli_report("pull", &err);
    return CLI_OK;
}
