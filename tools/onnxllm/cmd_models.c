/* cmd_models.c — `onnxllm list` and `onnxllm rm`: the model folders `onnxllm pull`
 * made (each holds a manifest naming its repository, folder and commit). */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void list_help(FILE *f) {
    fprintf(f,
            "usage: onnxllm list [DIR]\n"
            "\n"
            "Lists the model folders in DIR (default: models): for the ones `onnxllm pull` made, the\n"
            "repository, folder, revision and commit they hold and their size; interrupted pulls\n"
            "(NAME.partial, resumed by running the same pull again); other model folders (built or\n"
            "copied: a genai_config.json) as such.\n"
            "\n"
            "exit codes: 0 ok, 1 DIR cannot be read, 2 bad usage\n");
}

static void rm_help(FILE *f) {
    fprintf(f,
            "usage: onnxllm rm DIR...\n"
            "\n"
            "Deletes model folders that `onnxllm pull` made, with their interrupted-pull staging\n"
            "folder (DIR.partial). A folder pull did not make, or one holding files pull did not\n"
            "write, is left alone (an error): delete those yourself.\n"
            "\n"
            "exit codes: 0 ok, 1 a folder was not removed, 2 bad usage\n");
}

static void human(uint64_t b, char *out, size_t n) {
    if (b >= 1000000000ull) snprintf(out, n, "%.2f GB", b / 1e9);
    else if (b >= 1000000ull) snprintf(out, n, "%.1f MB", b / 1e6);
    else snprintf(out, n, "%.0f kB", b / 1e3);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int simple_opts(const char *cmd, int argc, char **argv, void (*help)(FILE *)) {
    static const struct option opts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            help(stdout);
            return -1;
        }
        return cli_bad_option(cmd, c, argv);
    }
    return 0;
}

int cmd_list(int argc, char **argv) {
    int r = simple_opts("list", argc, argv, list_help);
    if (r) return r < 0 ? CLI_OK : r;
    if (argc - optind > 1) return cli_usage_error("list", "expected at most one DIR");
    const char *root = optind < argc ? argv[optind] : "models";
    DIR *d = opendir(root);
    if (!d) {
        if (errno == ENOENT && optind >= argc) {
            printf("no models yet (%s/ does not exist): onnxllm pull downloads Phi-4-mini there\n", root);
            return CLI_OK;
        }
        fprintf(stderr, "onnxllm list: %s: %s\n", root, strerror(errno));
        return CLI_FAIL;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            char **g = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *g);
            if (!g) break;
            names = g;
        }
        if ((names[n] = strdup(e->d_name))) n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", root, names[i]);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) continue;
        size_t len = strlen(names[i]);
        onnxllm_pulled info;
        onnxllm_error err = {0};
        char size[32], cfg[4200];
        snprintf(cfg, sizeof cfg, "%s/genai_config.json", path);
        if (len > 8 && !strcmp(names[i] + len - 8, ".partial")) {
            printf("%-40s interrupted pull (run the same onnxllm pull again to resume)\n", path);
            shown++;
        } else if (!onnxllm_pull_info(path, &info, &err)) {
            human(info.bytes, size, sizeof size);
            printf("%-40s %s/%s@%s (%.12s), %zu files, %s%s\n", path, info.repo, info.folder, info.revision,
                   info.commit, info.n_files, size, info.partial ? ", update interrupted" : "");
            shown++;
        } else if (access(cfg, F_OK) == 0) {
            printf("%-40s model folder (not pulled: built or copied)\n", path);
            shown++;
        }
    }
    if (!shown) printf("no model folders in %s/\n", root);
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return CLI_OK;
}

int cmd_rm(int argc, char **argv) {
    int r = simple_opts("rm", argc, argv, rm_help);
    if (r) return r < 0 ? CLI_OK : r;
    if (optind >= argc) return cli_usage_error("rm", "expected one or more model folders");
    int rc = CLI_OK;
    for (int i = optind; i < argc; i++) {
        onnxllm_pulled info;
        onnxllm_error err = {0};
        char size[32] = "";
        if (!onnxllm_pull_info(argv[i], &info, &err)) human(info.bytes, size, sizeof size);
        if (onnxllm_pull_remove(argv[i], &err)) {
            rc = cli_report("rm", &err);
            continue;
        }
        printf("removed %s (%s)\n", argv[i], size);
    }
    return rc;
}
