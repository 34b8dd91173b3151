/* hugepages.c — the weights ORT prepacks at load, allocated on transparent huge pages.
 *
 * Decode streams every weight once per token (~2.4 GB for Phi-4-mini int4), so with
 * 4 KiB pages it also walks ~600k page-table entries per token. ORT copies the
 * MatMulNBits weights into buffers of its CPU allocator while the session is created;
 * glibc maps those with plain 4 KiB pages unless THP is "always" (Debian's default is
 * "madvise"). Huge pages made decode 5-9% faster on the 2-core bench machine.
 *
 * The first way to get there advised and collapsed (MADV_COLLAPSE) the ranges that
 * appeared during CreateSession: it copied the weights once (+2 s load for Phi-4-mini)
 * and touched every large range of the process. This one puts the weights on huge
 * pages as they are written: an OrtAllocator of ours is registered with the ORT
 * environment for the duration of CreateSession and the session is told to use it
 * ("session.use_env_allocators"); every block of >= 2 MiB it hands out is its own
 * mapping, 2 MiB-aligned and advised MADV_HUGEPAGE before anything touches it, so the
 * first write faults in huge pages (THP "madvise", defrag "madvise": synchronously).
 * Nothing is copied, and only ORT's allocations for this session are concerned. Smaller
 * blocks come from malloc (64-byte aligned, as ORT's own CPU allocator). With THP
 * "never" the advice is refused and the blocks are ordinary mappings.
 *
 * The allocator replaces ORT's CPU arena for this session. It must outlive the session
 * (ORT frees through it), so it belongs to the model and is destroyed after the session.
 * The ORT environment is one per process, and ORT accepts a second registration for the
 * same memory while one is in place, after which every session being created picks the
 * last one — two models loading at once would share one model's allocator and outlive
 * it. So the window register → CreateSession → unregister is taken by one load at a
 * time: a process-wide lock, the one piece of global state here, tried and never waited
 * for — a load that finds it taken goes without huge pages (correct, only not faster). */
#include "engine/engine.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define OLM_HUGE_PAGE ((size_t)2 << 20)

/* Held from olm_hp_alloc_register to olm_hp_alloc_unregister (see above). */
static pthread_mutex_t env_slot = PTHREAD_MUTEX_INITIALIZER;
#define OLM_SMALL_ALIGN 64

typedef struct olm_block {
    uintptr_t p;
    size_t len;
} olm_block;

struct olm_hp_alloc {
    OrtAllocator base; /* first: ORT hands us this pointer back */
    const OrtApi *api;
    OrtMemoryInfo *info;
    pthread_mutex_t lock;
    olm_block *big; /* sorted by address */
    size_t n_big, cap_big;
    uint64_t bytes_big; /* live bytes in huge-page blocks (for tests and the curious) */
};

static size_t find(const olm_hp_alloc *a, uintptr_t p) { /* first index with big[i].p >= p */
    size_t lo = 0, hi = a->n_big;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a->big[mid].p < p) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* A 2 MiB-aligned private mapping of len bytes (a multiple of 4 KiB), advised for huge
 * pages before first use. Over-maps by 2 MiB and trims the unaligned ends. */
static void *map_huge(size_t len) {
    size_t want = len + OLM_HUGE_PAGE;
    uint8_t *raw = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t start = ((uintptr_t)raw + OLM_HUGE_PAGE - 1) & ~(uintptr_t)(OLM_HUGE_PAGE - 1);
    size_t head = start - (uintptr_t)raw, tail = want - head - len;
    if (head) munmap(raw, head);
    if (tail) munmap((void *)(start + len), tail);
    (void)madvise((void *)start, len, MADV_HUGEPAGE); /* refused with THP "never": plain pages */
    return (void *)start;
}

static void *ORT_API_CALL hp_alloc(OrtAllocator *self, size_t size) {
    olm_hp_alloc *a = (olm_hp_alloc *)self;
    if (size < OLM_HUGE_PAGE) {
        void *p = NULL;
        return posix_memalign(&p, OLM_SMALL_ALIGN, size ? size : 1) == 0 ? p : NULL;
    }
    size_t len = (size + 4095) & ~(size_t)4095;
    pthread_mutex_lock(&a->lock);
    if (a->n_big == a->cap_big) {
        size_t cap = a->cap_big ? a->cap_big * 2 : 256;
        olm_block *b = realloc(a->big, cap * sizeof *b);
        if (!b) {
            pthread_mutex_unlock(&a->lock);
            return NULL;
        }
        a->big = b;
        a->cap_big = cap;
    }
    void *p = map_huge(len);
    if (p) {
        size_t i = find(a, (uintptr_t)p);
        memmove(a->big + i + 1, a->big + i, (a->n_big - i) * sizeof *a->big);
        a->big[i] = (olm_block){(uintptr_t)p, len};
        a->n_big++;
        a->bytes_big += len;
    }
    pthread_mutex_unlock(&a->lock);
    return p;
}

static void ORT_API_CALL hp_free(OrtAllocator *self, void *p) {
    olm_hp_alloc *a = (olm_hp_alloc *)self;
    if (!p) return;
    pthread_mutex_lock(&a->lock);
    size_t i = find(a, (uintptr_t)p);
    if (i < a->n_big && a->big[i].p == (uintptr_t)p) {
        size_t len = a->big[i].len;
        memmove(a->big + i, a->big + i + 1, (a->n_big - i - 1) * sizeof *a->big);
        a->n_big--;
        a->bytes_big -= len;
        pthread_mutex_unlock(&a->lock);
        munmap(p, len);
        return;
    }
    pthread_mutex_unlock(&a->lock);
    free(p);
}

static const OrtMemoryInfo *ORT_API_CALL hp_info(const OrtAllocator *self) {
    return ((const olm_hp_alloc *)self)->info;
}

olm_hp_alloc *olm_hp_alloc_create(const OrtApi *api) {
    olm_hp_alloc *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->api = api;
    OrtStatus *st = api->CreateCpuMemoryInfo(OrtDeviceAllocator, OrtMemTypeDefault, &a->info);
    if (st) {
        api->ReleaseStatus(st);
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
    /* version 14: Alloc, Free and Info only (no Reserve / GetStats / AllocOnStream) */
    a->base.version = 14;
    a->base.Alloc = hp_alloc;
    a->base.Free = hp_free;
    a->base.Info = hp_info;
    return a;
}

/* Registers a with the environment for one CreateSession: true when it is registered
 * (the session options then ask for it; call olm_hp_alloc_unregister after
 * CreateSession, whatever its outcome); false when another load holds the slot, or ORT
 * refuses: load without. */
bool olm_hp_alloc_register(olm_hp_alloc *a, OrtEnv *env) {
    if (pthread_mutex_trylock(&env_slot) != 0) return false;
    OrtStatus *st = a->api->RegisterAllocator(env, &a->base);
    if (st) {
        a->api->ReleaseStatus(st);
        pthread_mutex_unlock(&env_slot);
        return false;
    }
    return true;
}

/* After CreateSession: the session holds on to the allocator, the environment need not. */
void olm_hp_alloc_unregister(olm_hp_alloc *a, OrtEnv *env) {
    OrtStatus *st = a->api->UnregisterAllocator(env, a->info);
    if (st) a->api->ReleaseStatus(st);
    pthread_mutex_unlock(&env_slot);
}

uint64_t olm_hp_alloc_huge_bytes(olm_hp_alloc *a) {
    if (!a) return 0;
    pthread_mutex_lock(&a->lock);
    uint64_t n = a->bytes_big;
    pthread_mutex_unlock(&a->lock);
    return n;
}

/* After the session is released (nothing of ORT's can still call it). */
void olm_hp_alloc_free(olm_hp_alloc *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n_big; i++) munmap((void *)a->big[i].p, a->big[i].len); /* none expected */
    free(a->big);
    a->api->ReleaseMemoryInfo(a->info);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
