/* error.h — filling onnxllm_error from anywhere in the library.
 *
 * Every module reports failures the same way:
 *     return olm_fail(err, ONNXLLM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
 * which formats the message (when err != NULL) and returns the status, so the
 * call site stays one line. */
#ifndef OLM_ERROR_H
#define OLM_ERROR_H

#include "onnxllm.h"

#if defined(__GNUC__)
#define OLM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define OLM_PRINTF(a, b)
#endif

onnxllm_status olm_fail(onnxllm_error *err, onnxllm_status st, const char *fmt, ...) OLM_PRINTF(3, 4);

/* Prefix an existing message: "context: <old message>" (keeps the status). */
onnxllm_status olm_wrap(onnxllm_error *err, onnxllm_status st, const char *fmt, ...) OLM_PRINTF(3, 4);

/* Rewrites m (a message buffer of cap bytes, at most 1024) as one line: control
 * characters become \xNN, truncated to fit. For messages built without olm_fail. */
void olm_one_line(char *m, size_t cap);

#endif
