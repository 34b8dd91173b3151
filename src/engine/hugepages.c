/* hugepages.c — back the weights ORT prepacks at load with transparent huge pages.
 *
 * Decode streams every weight once per token (~2.4 GB for Phi-4-mini int4), so
 * with 4 KiB pages it also walks ~600k page-table entries per token. ORT copies
 * the MatMulNBits weights into malloc'd buffers while the session is created;
 * glibc maps those with plain 4 KiB pages unless THP is "always" (Debian's
 * default is "madvise"). Running with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 made
 * decode 5-9% faster on the 2-core bench machine (paired runs); this does the same from inside
 * the library without touching the environment: snapshot the anonymous mappings
 * before CreateSession, and afterwards advise + collapse (MADV_COLLAPSE, Linux
 * 6.1+) only the large ranges that appeared during it. Content is unchanged; on
 * older kernels or with THP "never" the calls fail and nothing happens.
 * Only ranges of >= OLM_HUGE_MIN bytes qualify, so thread stacks and small heaps
 * (mostly untouched, which a collapse would fill in) are left alone.
 * Cost: the collapse copies the weights once, ~2 s more load for Phi-4-mini. */
#include "engine/engine.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define OLM_HUGE_MIN ((uintptr_t)64 << 20)
#define OLM_HUGE_PAGE ((uintptr_t)2 << 20)

/* Writable private anonymous mappings of /proc/self/maps (all sizes), [heap] included. */
void olm_anon_maps(olm_anon_map *am) {
    am->n = 0;
    am->cap = 0;
    am->r = NULL;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, ino;
        char perms[8];
        int path_at = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %lu %n", &lo, &hi, perms, &ino, &path_at) < 4) continue;
        const char *name = path_at ? line + path_at : "";
        /* unnamed mappings and the brk heap: glibc serves allocations below its
         * (dynamic, up to 32 MB) mmap threshold from the latter, which is where
         * most prepacked weights end up */
        if (strcmp(perms, "rw-p") || ino != 0 || (*name != '\n' && *name != '\0' && strncmp(name, "[heap]", 6)))
            continue;
        if (am->n == am->cap) {
            size_t cap = am->cap ? am->cap * 2 : 256;
            olm_range *r = realloc(am->r, cap * sizeof *r);
            if (!r) break;
            am->r = r;
            am->cap = cap;
        }
        am->r[am->n].lo = lo;
        am->r[am->n].hi = hi;
        am->n++;
    }
    fclose(f);
}

void olm_anon_maps_free(olm_anon_map *am) {
    free(am->r);
    memset(am, 0, sizeof *am);
}

/* Advise [lo, hi) minus everything in `before`, piece by piece. */
static void advise_new(const olm_anon_map *before, uintptr_t lo, uintptr_t hi) {
    for (size_t i = 0; i < before->n && lo < hi; i++) {
        uintptr_t blo = before->r[i].lo, bhi = before->r[i].hi;
        if (bhi <= lo || blo >= hi) continue;
        if (blo > lo) advise_new(before, lo, blo); /* the part below this old range */
        lo = bhi;                                   /* continue above it */
    }
    if (lo >= hi) return;
    uintptr_t a = (lo + OLM_HUGE_PAGE - 1) & ~(OLM_HUGE_PAGE - 1), b = hi & ~(OLM_HUGE_PAGE - 1);
    if (b <= a || b - a < OLM_HUGE_MIN) return;
    if (madvise((void *)a, b - a, MADV_HUGEPAGE) == 0) (void)madvise((void *)a, b - a, MADV_COLLAPSE);
}

void olm_hugepage_new_maps(const olm_anon_map *before) {
    olm_anon_map after;
    olm_anon_maps(&after);
    for (size_t i = 0; i < after.n; i++)
        if (after.r[i].hi - after.r[i].lo >= OLM_HUGE_MIN) advise_new(before, after.r[i].lo, after.r[i].hi);
    olm_anon_maps_free(&after);
}
