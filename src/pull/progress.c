/* progress.c — shows pull progress events: a redrawn one-line bar on a terminal
 * (bytes, percent, MB/s, ETA), plain lines every few seconds otherwise (logs, CI). */
#include "pull/pull.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void olm_fmt_bytes(uint64_t n, char *out, size_t size) {
    /* Decimal units, as the Hugging Face site shows sizes. */
    if (n < 1000) snprintf(out, size, "%u B", (unsigned)n);
    else if (n < 1000000) snprintf(out, size, "%.1f kB", n / 1e3);
    else if (n < 1000000000) snprintf(out, size, "%.1f MB", n / 1e6);
    else snprintf(out, size, "%.2f GB", n / 1e9);
}

void olm_fmt_rate(double bps, char *out, size_t size) {
    if (bps < 1e6) snprintf(out, size, "%.0f kB/s", bps / 1e3);
    else snprintf(out, size, "%.1f MB/s", bps / 1e6);
}

void olm_fmt_eta(double s, char *out, size_t size) {
    if (!(s >= 0) || s > 99 * 3600) {
        snprintf(out, size, "--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(out, size, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(out, size, "%ldm%02lds", t / 60, t % 60);
    else snprintf(out, size, "%lds", t);
}

void olm_progress_init(olm_progress_printer *pp, FILE *out, bool tty) {
    memset(pp, 0, sizeof *pp);
    pp->out = out;
    pp->tty = tty;
    pp->t_start = -1;
}

static void clear_bar(olm_progress_printer *pp) {
    if (pp->tty && pp->line_len) {
        fprintf(pp->out, "\r%*s\r", pp->line_len, "");
        pp->line_len = 0;
    }
}

/* "  45% 2.21 GB/4.86 GB 12.3 MB/s ETA 3m35s" for the whole pull. */
static void status_text(olm_progress_printer *pp, const onnxllm_pull_progress *p, double now, char *out, size_t n) {
    char done[32], total[32], rate[32] = "", eta[32] = "--";
    olm_fmt_bytes(p->total_done, done, sizeof done);
    olm_fmt_bytes(p->total_size, total, sizeof total);
    double pct = p->total_size ? 100.0 * (double)p->total_done / (double)p->total_size : 100.0;
    double dt = pp->t_start >= 0 ? now - pp->t_start : 0;
    if (dt > 0.5 && p->session_bytes > pp->bytes_start) {
        double bps = (double)(p->session_bytes - pp->bytes_start) / dt;
        olm_fmt_rate(bps, rate, sizeof rate);
        olm_fmt_eta((double)(p->total_size - p->total_done) / bps, eta, sizeof eta);
    }
    snprintf(out, n, "%3.0f%% %s/%s%s%s ETA %s", pct, done, total, rate[0] ? " " : "", rate, eta);
}

void olm_progress_print(olm_progress_printer *pp, const onnxllm_pull_progress *p, double now) {
    char st[160], a[32];
    switch (p->event) {
    case ONNXLLM_PULL_LISTED:
        olm_fmt_bytes(p->total_size, a, sizeof a);
        if (p->total_done) {
            char b[32];
            olm_fmt_bytes(p->total_done, b, sizeof b);
            fprintf(pp->out, "pull: %d files, %s (%s already here, resuming)\n", p->file_count, a, b);
        } else {
            fprintf(pp->out, "pull: %d files, %s\n", p->file_count, a);
        }
        break;
    case ONNXLLM_PULL_FILE_START:
        if (pp->t_start < 0) {
            pp->t_start = now;
            pp->bytes_start = p->session_bytes;
        }
        if (!pp->tty) {
            olm_fmt_bytes(p->file_size, a, sizeof a);
            fprintf(pp->out, "[%d/%d] %s (%s)%s\n", p->file_index, p->file_count, p->file, a,
                    p->file_done ? ", resuming" : "");
            pp->t_last = now;
        }
        break;
    case ONNXLLM_PULL_FILE_PROGRESS:
        if (pp->tty) {
            if (now - pp->t_last < 0.1) break; /* redraw 10 times a second at most */
            pp->t_last = now;
            status_text(pp, p, now, st, sizeof st);
            enum { W = 20 };
            char bar[W + 1];
            int fill = p->file_size ? (int)((double)p->file_done * W / (double)p->file_size) : W;
            for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '.';
            bar[W] = 0;
            char line[400];
            int n = snprintf(line, sizeof line, "[%d/%d] %-24.24s [%s] %s", p->file_index, p->file_count,
                             p->file ? p->file : "", bar, st);
            if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
            int pad = pp->line_len > n ? pp->line_len - n : 0;
            fprintf(pp->out, "\r%s%*s", line, pad, "");
            pp->line_len = n;
        } else {
            if (now - pp->t_last < 5.0) break; /* a log line every 5 s */
            pp->t_last = now;
            status_text(pp, p, now, st, sizeof st);
            fprintf(pp->out, "  %s %s\n", p->file ? p->file : "", st);
        }
        break;
    case ONNXLLM_PULL_FILE_VERIFIED:
        clear_bar(pp);
        olm_fmt_bytes(p->file_size, a, sizeof a);
        fprintf(pp->out, "[%d/%d] %s %s: %s\n", p->file_index, p->file_count, p->file, a,
                p->message ? p->message : "ok");
        break;
    case ONNXLLM_PULL_RETRY:
        clear_bar(pp);
        fprintf(pp->out, "pull: %s\n", p->message ? p->message : "retrying");
        break;
    case ONNXLLM_PULL_DONE:
        clear_bar(pp);
        if (p->message) fprintf(pp->out, "pull: %s\n", p->message);
        break;
    }
    fflush(pp->out);
}

/* ---- public: the ready-made progress callback ---------------------------------- */

struct onnxllm_pull_printer {
    olm_progress_printer pp;
};

onnxllm_status onnxllm_pull_printer_create(FILE *out, onnxllm_pull_printer **pr, onnxllm_error *err) {
    *pr = NULL;
    if (!out) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "no output stream given");
    onnxllm_pull_printer *p = calloc(1, sizeof *p);
    if (!p) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    olm_progress_init(&p->pp, out, isatty(fileno(out)));
    *pr = p;
    return ONNXLLM_OK;
}

void onnxllm_pull_print_progress(const onnxllm_pull_progress *p, void *printer) {
    onnxllm_pull_printer *pr = printer;
    if (pr && p) olm_progress_print(&pr->pp, p, olm_monotonic_s());
}

void onnxllm_pull_printer_free(onnxllm_pull_printer *pr) {
    if (!pr) return;
    if (pr->pp.tty && pr->pp.line_len) { /* a bar left open by an error: end its line */
        fputc('\n', pr->pp.out);
        fflush(pr->pp.out);
    }
    free(pr);
}
