/* error.c — message formatting shared by every module. */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Messages are one line and often quote names from untrusted files: control
 * characters (a newline, ESC sequences meant for a terminal) are written as \xNN. */
void olm_one_line(char *m, size_t cap) {
    char tmp[1024];
    if (cap > sizeof tmp) cap = sizeof tmp; /* every message buffer is smaller */
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)m; *p && o + 1 < sizeof tmp; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            if (o + 5 >= sizeof tmp) break;
            o += (size_t)snprintf(tmp + o, sizeof tmp - o, "\\x%02x", *p);
        } else {
            tmp[o++] = (char)*p;
        }
    }
    tmp[o] = 0;
    snprintf(m, cap, "%s", tmp);
}

onnxllm_status olm_fail(onnxllm_error *err, onnxllm_status st, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        olm_one_line(err->message, sizeof err->message);
        err->status = st;
    }
    return st;
}

onnxllm_status olm_wrap(onnxllm_error *err, onnxllm_status st, const char *fmt, ...) {
    if (err) {
        char prefix[256], old[ONNXLLM_ERROR_MESSAGE_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->message, sizeof old);
        old[sizeof old - 1] = 0;
        /* Truncation is fine: the message is for humans. */
        size_t n = strlen(prefix);
        if (n > sizeof err->message - 3) n = sizeof err->message - 3;
        memcpy(err->message, prefix, n);
        err->message[n++] = ':';
        err->message[n++] = ' ';
        size_t m = strlen(old);
        if (m > sizeof err->message - 1 - n) m = sizeof err->message - 1 - n;
        memcpy(err->message + n, old, m);
        err->message[n + m] = 0;
        olm_one_line(err->message, sizeof err->message);
        err->status = st;
    }
    return st;
}
