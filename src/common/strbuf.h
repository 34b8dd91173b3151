/* strbuf.h — a growable byte string (prompts, JSON, URLs, HTTP bodies).
 *
 * Appends never fail loudly: on allocation failure `oom` is set and further
 * appends are ignored, so builders check once at the end. */
#ifndef OLM_COMMON_STRBUF_H
#define OLM_COMMON_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct olm_sb {
    char *p;    /* NUL-terminated when len > 0 or after olm_sb_finish */
    size_t len;
    size_t cap;
    bool oom;
} olm_sb;

bool olm_sb_reserve(olm_sb *b, size_t extra);
void olm_sb_put(olm_sb *b, const char *s, size_t n);
void olm_sb_puts(olm_sb *b, const char *s);
void olm_sb_putc(olm_sb *b, char c);
/* Hands the string over (never NULL unless oom; "" for an empty builder). */
char *olm_sb_finish(olm_sb *b);
void olm_sb_free(olm_sb *b);

#endif
