/* pbread.h — the bounded protobuf wire-format reader (model.onnx is untrusted input).
 *
 * A reader is a cursor over [p, end): olm_pb_next() never reads outside it, a
 * length-delimited field longer than what is left fails, and so does a truncated or
 * over-long varint or an unknown wire type; after a failure `bad` is set and the
 * reader yields nothing more. Nested messages are read with olm_pb_sub(field), whose
 * reader is one level deeper: beyond OLM_PB_MAX_DEPTH levels it is born bad, so a
 * parser that recurses through sub-readers (graph → node → attribute → graph …)
 * stops at that depth however the file nests. A whole input may be at most
 * OLM_PB_MAX_INPUT bytes (protobuf's own 2 GiB limit).
 *
 *   olm_pb_reader r = olm_pb_reader_init(buf, len);
 *   olm_pb_field f;
 *   while (olm_pb_next(&r, &f)) if (f.num == 7 && f.wire == OLM_PB_LEN) parse_graph(olm_pb_sub(&f));
 *   if (r.bad) → malformed */
#ifndef OLM_COMMON_PBREAD_H
#define OLM_COMMON_PBREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { OLM_PB_VARINT = 0, OLM_PB_I64 = 1, OLM_PB_LEN = 2, OLM_PB_I32 = 5 };

#define OLM_PB_MAX_DEPTH 64                      /* nested messages (protobuf's default is 100) */
#define OLM_PB_MAX_INPUT ((size_t)INT32_MAX)     /* bytes in one message */

typedef struct olm_pb_reader {
    const uint8_t *p, *end;
    bool bad;
    int depth;                  /* 0 for a top-level reader */
} olm_pb_reader;

typedef struct olm_pb_field {
    int num, wire;
    uint64_t v;                 /* VARINT, I64, I32 (raw bits) */
    const uint8_t *data;        /* LEN */
    size_t len;
    int depth;                  /* depth of the reader it came from */
} olm_pb_field;

/* A top-level reader; born bad when len > OLM_PB_MAX_INPUT. */
olm_pb_reader olm_pb_reader_init(const uint8_t *p, size_t len);
/* Next field; false at the end or on error (check r->bad). */
bool olm_pb_next(olm_pb_reader *r, olm_pb_field *f);
/* Reader over a LEN field's bytes, one level deeper (bad if f is not LEN or too deep). */
olm_pb_reader olm_pb_sub(const olm_pb_field *f);
float olm_pb_as_float(const olm_pb_field *f);
/* Reads packed varints of a LEN field (or the single value of a VARINT field) into
 * *out (realloc'd, *n updated). false on malformed data, a count that does not fit
 * an int, or allocation failure. */
bool olm_pb_append_ints(const olm_pb_field *f, int64_t **out, int *n);
bool olm_pb_append_floats(const olm_pb_field *f, float **out, int *n);
/* malloc'd NUL-terminated copy of a LEN field (embedded NULs cut the string short). */
char *olm_pb_strdup(const olm_pb_field *f);
/* true when a LEN field's bytes equal the C string s. */
bool olm_pb_eq(const olm_pb_field *f, const char *s);

#endif
