/* cli_common.c — helpers shared by the person-facing subcommands (run, chat, bench,
 * apply-template): option errors, sampling options, loading a model folder,
 * one streamed answer, Ctrl-C. */
#include "cli.h"
#include "common/strbuf.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int cli_bad_option(const char *cmd, int c, char **argv) {
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':') return cli_usage_error(cmd, "option '%s' needs a value", arg);
    if (optopt && !(arg[0] == '-' && arg[1] == '-')) return cli_usage_error(cmd, "unrecognized option '-%c'", optopt);
    return cli_usage_error(cmd, "unrecognized option '%s'", arg);
}

/* ---- generation options ----------------------------------------------------------- */

void cli_gen_help(FILE *f, const char *max_tokens_default, const char *seed_default) {
    fprintf(f,
            "generation (defaults: the model's genai_config.json \"search\" — greedy unless it sets\n"
            "do_sample — and a flag overrides only its own value):\n"
            "  --temperature T     0 = greedy\n"
            "  --top-k K           0 = off\n"
            "  --top-p P           1.0 = off\n"
            "  --min-p P           0.0 = off\n"
            "  --greedy            same as --temperature 0\n"
            "  --repeat-penalty R  1.0 = off (alias --repetition-penalty)\n"
            "  --presence-penalty P, --frequency-penalty F   0 = off\n"
            "  --seed N            RNG seed (default %s); same seed, same answer\n"
            "  -n, --max-tokens N  at most N generated tokens (default %s; alias --max-new)\n"
            "  --stop S            stop when the text contains S (not shown); repeatable, up to 16\n"
            "  --ignore-eos        do not stop at the end-of-sequence token\n"
            "model:\n"
            "  --threads N         ONNX Runtime threads (default: the model's setting, else all cores)\n"
            "  --max-length N      KV cache capacity in tokens, prompt + answer (default: the model's\n"
            "                      search.max_length or context length, at most 4096)\n"
            "  --ep cpu|cuda       execution provider (default: cuda if genai_config lists it, else cpu)\n"
            "  --no-shared-kv      separate past/present KV tensors (the engine's fallback mode)\n"
            "  --full-logits       run the graph as published (lm_head on every prompt position)\n",
            seed_default, max_tokens_default);
}

void cli_gen_options_init(cli_gen_options *o, int max_tokens_default) {
    memset(o, 0, sizeof *o);
    o->sampler = onnxllm_sampler_default_params();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    o->sampler.seed = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
    o->max_tokens = max_tokens_default;
}

static bool parse_double(const char *s, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s && !*end && !errno && isfinite(*v);
}

static bool parse_long(const char *s, long long *v) {
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return *s && !*end && !errno;
}

static const char *opt_name(int c) {
    switch (c) {
    case CLI_OPT_TEMPERATURE: return "--temperature";
    case CLI_OPT_TOP_P: return "--top-p";
    case CLI_OPT_TOP_K: return "--top-k";
    case CLI_OPT_MIN_P: return "--min-p";
    case CLI_OPT_SEED: return "--seed";
    case CLI_OPT_THREADS: return "--threads";
    case CLI_OPT_MAX_LENGTH: return "--max-length";
    case CLI_OPT_REPEAT_PENALTY: return "--repeat-penalty";
    case CLI_OPT_PRESENCE: return "--presence-penalty";
    case CLI_OPT_FREQUENCY: return "--frequency-penalty";
    default: return "-n/--max-tokens";
    }
}

int cli_gen_option(const char *cmd, int c, const char *arg, cli_gen_options *o) {
    const char *name = opt_name(c);
    double d = 0;
    long long n = 0;
    switch (c) {
    case CLI_OPT_TEMPERATURE:
    case CLI_OPT_TOP_P:
    case CLI_OPT_MIN_P:
    case CLI_OPT_REPEAT_PENALTY:
        if (!parse_double(arg, &d) || d < 0)
            return cli_usage_error(cmd, "%s: '%s' is not a number >= 0", name, arg);
        if ((c == CLI_OPT_TOP_P || c == CLI_OPT_MIN_P) && d > 1)
            return cli_usage_error(cmd, "%s: '%s' is not a probability (0..1)", name, arg);
        if (c == CLI_OPT_TOP_P && d == 0) return cli_usage_error(cmd, "--top-p must be > 0 (1 = off)");
        if (c == CLI_OPT_REPEAT_PENALTY && d == 0) return cli_usage_error(cmd, "--repeat-penalty must be > 0");
        if (c == CLI_OPT_TEMPERATURE) o->sampler.temperature = (float)d, o->set |= CLI_SET_TEMPERATURE;
        else if (c == CLI_OPT_TOP_P) o->sampler.top_p = (float)d, o->set |= CLI_SET_TOP_P;
        else if (c == CLI_OPT_MIN_P) o->sampler.min_p = (float)d, o->set |= CLI_SET_MIN_P;
        else o->sampler.repetition_penalty = (float)d, o->set |= CLI_SET_REPEAT;
        return 0;
    case CLI_OPT_PRESENCE:
    case CLI_OPT_FREQUENCY:
        if (!parse_double(arg, &d) || d < -1e6 || d > 1e6) return cli_usage_error(cmd, "%s: '%s' is not a number", name, arg);
        if (c == CLI_OPT_PRESENCE) o->sampler.presence_penalty = (float)d, o->set |= CLI_SET_PRESENCE;
        else o->sampler.frequency_penalty = (float)d, o->set |= CLI_SET_FREQUENCY;
        return 0;
    case CLI_OPT_TOP_K:
    case 'n':
    case CLI_OPT_THREADS:
    case CLI_OPT_MAX_LENGTH:
        if (!parse_long(arg, &n) || n < 0 || n > 1000000000)
            return cli_usage_error(cmd, "%s: '%s' is not a count (an integer >= 0)", name, arg);
        if (c == CLI_OPT_THREADS && n > 4096) return cli_usage_error(cmd, "--threads: '%s' is more than 4096", arg);
        if (c == CLI_OPT_TOP_K) o->sampler.top_k = (int)n, o->set |= CLI_SET_TOP_K;
        else if (c == 'n') o->max_tokens = (int)n, o->max_tokens_set = true;
        else if (c == CLI_OPT_THREADS) o->threads = (int)n;
        else o->max_length = (int)n;
        return 0;
    case CLI_OPT_SEED:
        if (!parse_long(arg, &n) || n < 0) return cli_usage_error(cmd, "--seed: '%s' is not an integer >= 0", arg);
        o->sampler.seed = (uint64_t)n;
        return 0;
    case CLI_OPT_EP:
        if (strcmp(arg, "cpu") && strcmp(arg, "cuda")) return cli_usage_error(cmd, "--ep: '%s' is not cpu or cuda", arg);
        o->ep = arg;
        return 0;
    case CLI_OPT_STOP:
        if (!*arg) return cli_usage_error(cmd, "--stop needs a non-empty string");
        if (o->n_stops == CLI_MAX_STOPS) return cli_usage_error(cmd, "at most %d --stop strings", CLI_MAX_STOPS);
        o->stops[o->n_stops++] = arg;
        return 0;
    case CLI_OPT_GREEDY: o->greedy = true; return 0;
    case CLI_OPT_IGNORE_EOS: o->sampler.ignore_eos = true; return 0;
    case CLI_OPT_NO_SHARED_KV: o->no_shared_kv = true; return 0;
    case CLI_OPT_FULL_LOGITS: o->full_logits = true; return 0;
    default: return -1;
    }
}

int cli_gen_check(const char *cmd, const cli_gen_options *o) {
    if (o->greedy && (o->set & CLI_SET_SAMPLING))
        return cli_usage_error(cmd, "--greedy cannot be combined with --temperature/--top-k/--top-p/--min-p");
    return CLI_OK;
}

onnxllm_model_params cli_gen_model_params(const cli_gen_options *o) {
    onnxllm_model_params mp = onnxllm_model_default_params();
    mp.hugepages = true; /* the CLI owns its process (see onnxllm.h) */
    if (o) {
        mp.n_threads = o->threads;
        mp.max_length = o->max_length;
        mp.ep = o->ep;
        mp.no_shared_kv = o->no_shared_kv;
        mp.full_logits = o->full_logits;
    }
    return mp;
}

void cli_gen_resolve(cli_gen_options *o, const onnxllm_model *m) {
    onnxllm_sampler_params p = onnxllm_model_sampler_params(m), *f = &o->sampler;
    if (o->set & CLI_SET_TEMPERATURE) p.temperature = f->temperature;
    if (o->set & CLI_SET_TOP_K) p.top_k = f->top_k;
    if (o->set & CLI_SET_TOP_P) p.top_p = f->top_p;
    if (o->set & CLI_SET_MIN_P) p.min_p = f->min_p;
    if (o->set & CLI_SET_REPEAT) p.repetition_penalty = f->repetition_penalty;
    if (o->set & CLI_SET_PRESENCE) p.presence_penalty = f->presence_penalty;
    if (o->set & CLI_SET_FREQUENCY) p.frequency_penalty = f->frequency_penalty;
    /* a sampling flag on a model whose default is greedy turns sampling on: the
     * temperature (the model's, 1.0 when it has none) then applies */
    if (!(o->set & CLI_SET_TEMPERATURE) && (o->set & CLI_SET_SAMPLING) && p.temperature <= 0) p.temperature = 1.0f;
    if (o->greedy) p.temperature = 0.0f;
    p.seed = f->seed;
    p.ignore_eos = f->ignore_eos;
    *f = p;
    o->set = ~0u; /* resolved */
}

/* ---- model folder ------------------------------------------------------------------ */

int cli_check_model_dir(const char *cmd, const char *dir) {
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "onnxllm %s: %s: model folder not found (%s)\n", cmd, dir, strerror(errno));
        return CLI_FAIL;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "onnxllm %s: %s: not a folder (-m takes the model folder)\n", cmd, dir);
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_session_open(const char *cmd, const char *dir, cli_gen_options *o, bool need_template, cli_session *s) {
    memset(s, 0, sizeof *s);
    onnxllm_error err = {0};
    int rc = cli_check_model_dir(cmd, dir);
    if (rc) return rc;
    double t0 = cli_now_ms();
    if (need_template && onnxllm_template_load(dir, &s->tmpl, &err)) goto fail;
    size_t n = strlen(dir) + sizeof "/tokenizer.json";
    char *tj = malloc(n);
    if (!tj) {
        fprintf(stderr, "onnxllm %s: out of memory\n", cmd);
        cli_session_close(s);
        return CLI_FAIL;
    }
    snprintf(tj, n, "%s/tokenizer.json", dir);
    onnxllm_status st = onnxllm_tokenizer_load(tj, &s->tok, &err);
    free(tj);
    if (st) goto fail;
    onnxllm_model_params mp = cli_gen_model_params(o);
    if (onnxllm_model_load(dir, &mp, &s->model, &err)) goto fail;
    /* a tokenizer.json of another model: say so now, not at the first prompt */
    if (onnxllm_tokenizer_check_vocab(s->tok, (size_t)onnxllm_model_vocab_size(s->model), &err)) goto fail;
    if (o) cli_gen_resolve(o, s->model);
    s->load_ms = cli_now_ms() - t0;
    return CLI_OK;
fail:
    cli_session_close(s);
    return cli_report(cmd, &err);
}

void cli_session_close(cli_session *s) {
    onnxllm_model_free(s->model);
    onnxllm_tokenizer_free(s->tok);
    onnxllm_template_free(s->tmpl);
    memset(s, 0, sizeof *s);
}

/* ---- one answer ----------------------------------------------------------------- */

typedef struct {
    cli_session *s;
    cli_sigint *sig;
    onnxllm_detok *detok;
    onnxllm_stop *stop;
    FILE *out;
    olm_sb text;
    bool stopped, cancelled;
    onnxllm_error *err;
    onnxllm_status st;
} gen_ctx;

static void show(gen_ctx *c, const char *p, size_t n) {
    if (!n) return;
    olm_sb_put(&c->text, p, n);
    if (c->out) {
        fwrite(p, 1, n, c->out);
        fflush(c->out);
    }
}

/* Text piece → stop matcher → screen. */
static void feed(gen_ctx *c, const char *piece, size_t len) {
    const char *e;
    size_t el;
    bool matched = false;
    if (onnxllm_stop_feed(c->stop, piece, len, &e, &el, &matched, c->err)) {
        c->st = c->err ? c->err->status : ONNXLLM_ERR_OUT_OF_MEMORY;
        c->stopped = true;
        return;
    }
    show(c, e, el);
    if (matched) c->stopped = true;
}

static bool on_token(int32_t token, void *user) {
    gen_ctx *c = user;
    if (c->stopped) return false;
    if (cli_sigint_interrupted(c->sig)) {
        c->cancelled = true;
        return false;
    }
    if (onnxllm_model_is_eos(c->s->model, token)) return true; /* generate stops after it; not shown */
    const char *piece;
    size_t len;
    if (onnxllm_detok_push(c->detok, token, &piece, &len, c->err)) {
        c->st = c->err ? c->err->status : ONNXLLM_ERR_INTERNAL;
        return false;
    }
    feed(c, piece, len);
    return !c->stopped;
}

onnxllm_status cli_generate(cli_session *s, onnxllm_sequence *seq, const int32_t *ids, size_t n,
                            const cli_gen_options *o, cli_sigint *sig, FILE *out, cli_answer *ans,
                            onnxllm_error *err) {
    memset(ans, 0, sizeof *ans);
    ans->finish = "stop";
    gen_ctx c = {.s = s, .sig = sig, .out = out, .err = err};
    onnxllm_status st = onnxllm_detok_create(s->tok, false, &c.detok, err);
    if (!st) st = onnxllm_stop_create(o->stops, o->n_stops, &c.stop, err);
    if (st) goto done;

    double t0 = cli_now_ms();
    if (n && (st = onnxllm_sequence_append(seq, ids, n, err))) {
        if (st == ONNXLLM_ERR_CANCELLED) { /* Ctrl-C during the prefill: an empty, cancelled answer */
            ans->finish = "cancelled";
            st = ONNXLLM_OK;
        }
        goto done;
    }
    ans->n_prompt = (int)n;
    ans->prefill_ms = cli_now_ms() - t0;
    if (cli_sigint_interrupted(sig)) { /* Ctrl-C before the prefill started */
        ans->finish = "cancelled";
        goto done;
    }
    onnxllm_generate_result r = {0};
    onnxllm_generate_params gp = onnxllm_generate_default_params();
    gp.sampler = &o->sampler;
    gp.max_new_tokens = o->max_tokens;
    gp.on_token = on_token;
    gp.user = &c;
    gp.matcher = o->matcher;
    st = onnxllm_generate_ex(seq, &gp, &r, err);
    ans->n_generated = r.n_generated;
    ans->ttft_ms = ans->prefill_ms + r.prefill_ms;
    ans->decode_ms = r.decode_ms;
    if (r.stop == ONNXLLM_STOP_MAX_TOKENS || r.stop == ONNXLLM_STOP_MAX_LENGTH) ans->finish = "length";
    ans->full = r.stop == ONNXLLM_STOP_MAX_LENGTH;
    if (st == ONNXLLM_ERR_CANCELLED || c.cancelled) {
        ans->finish = "cancelled";
        st = ONNXLLM_OK;
    }
    if (!st && c.st) st = c.st;
    if (st) goto done;
    /* The end: what the detokenizer and the stop matcher still hold. Not after Ctrl-C:
     * an incomplete UTF-8 tail would only show as U+FFFD. */
    if (!c.stopped && strcmp(ans->finish, "cancelled")) {
        const char *piece, *e;
        size_t len, el;
        if ((st = onnxllm_detok_flush(c.detok, &piece, &len, err))) goto done;
        feed(&c, piece, len);
        if (!c.stopped) {
            onnxllm_stop_flush(c.stop, &e, &el);
            show(&c, e, el);
        }
    }
done:
    ans->text = olm_sb_finish(&c.text);
    if (!ans->text && !st) st = ONNXLLM_ERR_OUT_OF_MEMORY;
    onnxllm_detok_free(c.detok);
    onnxllm_stop_free(c.stop);
    return st;
}

/* ---- Ctrl-C ------------------------------------------------------------------------- */

struct cli_sigint {
    pthread_t thread;
    pthread_mutex_t lock;
    onnxllm_sequence *seq;
    bool busy, interrupted, quit;
    void (*exit_hook)(void *);
    void *exit_arg;
};

void cli_sigint_set_exit_hook(cli_sigint *w, void (*fn)(void *), void *arg) {
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->exit_hook = fn;
    w->exit_arg = arg;
    pthread_mutex_unlock(&w->lock);
}

static void *sigint_main(void *arg) {
    cli_sigint *w = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR2);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig)) continue;
        pthread_mutex_lock(&w->lock);
        bool quit = w->quit, busy = w->busy;
        void (*hook)(void *) = w->exit_hook;
        void *hook_arg = w->exit_arg;
        if (sig == SIGINT && busy) {
            w->interrupted = true;
            if (w->seq) onnxllm_sequence_cancel(w->seq);
        }
        pthread_mutex_unlock(&w->lock);
        if (quit) return NULL;
        if (sig == SIGINT && !busy) {
            /* at a prompt: leave at once (stdio may be locked by the reading thread) */
            static const char nl[] = "\n";
            if (hook) hook(hook_arg); /* e.g. the terminal's modes and foreground group */
            if (write(STDOUT_FILENO, nl, 1) < 0) { /* nothing to do */ }
            _exit(CLI_INTERRUPTED);
        }
    }
}

cli_sigint *cli_sigint_start(void) {
    cli_sigint *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    pthread_mutex_init(&w->lock, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (pthread_create(&w->thread, NULL, sigint_main, w)) {
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void cli_sigint_busy(cli_sigint *w, onnxllm_sequence *seq) {
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->busy = true;
    w->seq = seq;
    if (seq) {
        /* a Ctrl-C that reached the previous answer after it ended is not this one's */
        onnxllm_sequence_cancel_reset(seq);
        if (w->interrupted) onnxllm_sequence_cancel(seq);
    }
    pthread_mutex_unlock(&w->lock);
}

void cli_sigint_idle(cli_sigint *w) {
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->busy = w->interrupted = false;
    w->seq = NULL;
    pthread_mutex_unlock(&w->lock);
}

bool cli_sigint_interrupted(cli_sigint *w) {
    if (!w) return false;
    pthread_mutex_lock(&w->lock);
    bool r = w->interrupted;
    pthread_mutex_unlock(&w->lock);
    return r;
}

void cli_sigint_stop(cli_sigint *w) {
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->quit = true;
    w->seq = NULL;
    pthread_mutex_unlock(&w->lock);
    pthread_kill(w->thread, SIGUSR2);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
