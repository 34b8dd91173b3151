/* stop.c — stop strings matched on streamed text, across piece boundaries.
 *
 * Pieces arrive one token at a time, so a stop string can be split over
 * several of them ("<|" + "end" + "|>", or "\n\nUser:" in three tokens). The
 * matcher keeps `buf` = held-back tail + new piece, looks for the earliest stop
 * string in it, and otherwise keeps back the longest tail that is a prefix of
 * some stop string (at most maxlen-1 bytes) and hands back the rest. The buffer
 * only grows when a piece is longer than any seen before, so steady-state
 * streaming does not allocate. */
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

struct onnxllm_stop {
    char **stops;
    size_t *lens;
    size_t n;
    size_t maxlen;
    char *buf;      /* held-back tail, then tail + piece while feeding */
    size_t held;    /* bytes held back from earlier pieces, at buf + held_at */
    size_t held_at; /* the emitted text before it stays readable until the next call */
    size_t cap;
    int matched;    /* index of the stop string that matched, -1 */
};

void onnxllm_stop_free(onnxllm_stop *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) free(s->stops[i]);
    free(s->stops);
    free(s->lens);
    free(s->buf);
    free(s);
}

onnxllm_status onnxllm_stop_create(const char *const *stops, size_t n, onnxllm_stop **out, onnxllm_error *err) {
    if (!out || (n && !stops)) return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_stop_create: NULL argument");
    *out = NULL;
    for (size_t i = 0; i < n; i++)
        if (!stops[i] || !stops[i][0])
            return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "stop string %zu is empty", i);
    onnxllm_stop *s = calloc(1, sizeof *s);
    if (!s) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
    s->matched = -1;
    s->stops = calloc(n ? n : 1, sizeof *s->stops);
    s->lens = calloc(n ? n : 1, sizeof *s->lens);
    if (!s->stops || !s->lens) goto oom;
    for (; s->n < n; s->n++) {
        if (!(s->stops[s->n] = strdup(stops[s->n]))) goto oom;
        s->lens[s->n] = strlen(stops[s->n]);
        if (s->lens[s->n] > s->maxlen) s->maxlen = s->lens[s->n];
    }
    s->cap = 2 * s->maxlen + 64;
    if (!(s->buf = malloc(s->cap))) goto oom;
    *out = s;
    return ONNXLLM_OK;
oom:
    onnxllm_stop_free(s);
    return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
}

/* Is buf[at..len) the beginning of some stop string? */
static bool is_prefix_of_stop(const onnxllm_stop *s, const char *tail, size_t len) {
    for (size_t i = 0; i < s->n; i++)
        if (s->lens[i] > len && !memcmp(s->stops[i], tail, len)) return true;
    return false;
}

onnxllm_status onnxllm_stop_feed(onnxllm_stop *s, const char *piece, size_t len, const char **emit,
                                 size_t *emit_len, bool *matched, onnxllm_error *err) {
    if (!s || !emit || !emit_len || (len && !piece))
        return olm_fail(err, ONNXLLM_ERR_INVALID_ARGUMENT, "onnxllm_stop_feed: NULL argument");
    *emit = s->buf;
    *emit_len = 0;
    if (matched) *matched = s->matched >= 0;
    if (s->matched >= 0) return ONNXLLM_OK;
    if (s->held_at) {
        memmove(s->buf, s->buf + s->held_at, s->held);
        s->held_at = 0;
    }
    if (s->held + len > s->cap) {
        size_t cap = 2 * (s->held + len);
        char *b = realloc(s->buf, cap);
        if (!b) return olm_fail(err, ONNXLLM_ERR_OUT_OF_MEMORY, "out of memory");
        s->buf = b;
        s->cap = cap;
        *emit = b;
    }
    if (len) memcpy(s->buf + s->held, piece, len);
    size_t total = s->held + len;
    s->held = 0;

    /* Earliest complete stop string. Starts before the old tail are impossible:
     * that text was already searched. */
    size_t best = total;
    for (size_t i = 0; i < s->n; i++) {
        if (s->lens[i] > total) continue;
        const char *hit = memmem(s->buf, total, s->stops[i], s->lens[i]);
        if (hit && (size_t)(hit - s->buf) < best) {
            best = (size_t)(hit - s->buf);
            s->matched = (int)i;
        }
    }
    if (s->matched >= 0) {
        *emit_len = best;
        if (matched) *matched = true;
        return ONNXLLM_OK;
    }
    /* Hold back the longest tail that a later piece could complete. */
    size_t maxhold = s->maxlen ? s->maxlen - 1 : 0;
    size_t from = total > maxhold ? total - maxhold : 0;
    size_t keep = 0;
    for (size_t at = from; at < total; at++)
        if (is_prefix_of_stop(s, s->buf + at, total - at)) {
            keep = total - at;
            break;
        }
    *emit_len = total - keep;
    s->held = keep;
    s->held_at = total - keep;
    return ONNXLLM_OK;
}

void onnxllm_stop_flush(onnxllm_stop *s, const char **emit, size_t *emit_len) {
    *emit = s ? s->buf + s->held_at : NULL;
    *emit_len = s && s->matched < 0 ? s->held : 0;
    if (s) s->held = 0;
}

int onnxllm_stop_matched(const onnxllm_stop *s) { return s ? s->matched : -1; }

void onnxllm_stop_reset(onnxllm_stop *s) {
    if (!s) return;
    s->held = s->held_at = 0;
    s->matched = -1;
}
