/* strbuf.c — see strbuf.h. */
#include "common/strbuf.h"

#include <stdlib.h>
#include <string.h>

bool olm_sb_reserve(olm_sb *b, size_t extra) {
    if (b->oom) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void olm_sb_put(olm_sb *b, const char *s, size_t n) {
    if (!olm_sb_reserve(b, n)) return;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void olm_sb_puts(olm_sb *b, const char *s) { olm_sb_put(b, s, strlen(s)); }

void olm_sb_putc(olm_sb *b, char c) { olm_sb_put(b, &c, 1); }

char *olm_sb_finish(olm_sb *b) {
    if (!olm_sb_reserve(b, 0)) {
        olm_sb_free(b);
        return NULL;
    }
    char *p = b->p;
    p[b->len] = 0;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void olm_sb_free(olm_sb *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}
