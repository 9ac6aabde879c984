/*
 * ctl: sc_ctl(name, oldp, oldlenp, newp, newlen), in the style of
 * jemalloc's mallctl. Statistics are a snapshot taken when "epoch" is
 * written (and on the first read). Names are dotted paths; numbers in them
 * select an arena or a size class.
 *
 * Errors: ENOENT unknown name, EINVAL wrong length or bad value, EPERM
 * write to a read-only name.
 */
#include "alloc.h"
#include "background.h"
#include "init.h"
#include "options.h"
#include "prof.h"
#include "stats.h"
#include "tcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static stats_t snapshot;
static uint64_t epoch;
static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;

SC_COLD static int ctl_read(void *oldp, size_t *oldlenp, const void *value, size_t size)
{
    if (!oldp) return 0;
    if (!oldlenp || *oldlenp != size) return EINVAL;
    memcpy(oldp, value, size);
    return 0;
}

static int ctl_readonly(void *newp) { return newp ? EPERM : 0; }

/* Matches "prefix<number>rest"; returns the rest after the number or NULL. */
SC_COLD static const char *match_index(const char *name, const char *prefix, unsigned *index, unsigned limit)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0) return NULL;
    const char *s = name + n;
    if (*s < '0' || *s > '9') return NULL;
    unsigned long v = 0;
    while (*s >= '0' && *s <= '9' && v < 100000) v = v * 10 + (unsigned long)(*s++ - '0');
    if (v >= limit) return NULL;
    *index = (unsigned)v;
    return s;
}

#define READ_RO(type, expr) do { \
        int err_ = ctl_readonly(newp); if (err_) return err_; \
        type v_ = (expr); return ctl_read(oldp, oldlenp, &v_, sizeof(v_)); \
    } while (0)

SC_COLD static int ctl_bin(const bin_stats_t *b, const char *leaf, void *oldp, size_t *oldlenp, void *newp)
{
    if (!strcmp(leaf, "size")) READ_RO(size_t, b->size);
    if (!strcmp(leaf, "nregs")) READ_RO(size_t, b->nregs);
    if (!strcmp(leaf, "slab_size")) READ_RO(size_t, b->slab_size);
    if (!strcmp(leaf, "curregs")) READ_RO(size_t, b->curregs);
    if (!strcmp(leaf, "curslabs")) READ_RO(size_t, b->curslabs);
    if (!strcmp(leaf, "nmalloc")) READ_RO(uint64_t, b->nmalloc);
    if (!strcmp(leaf, "ndalloc")) READ_RO(uint64_t, b->ndalloc);
    if (!strcmp(leaf, "nrequests")) READ_RO(uint64_t, b->nrequests);
    if (!strcmp(leaf, "nfills")) READ_RO(uint64_t, b->nfills);
    if (!strcmp(leaf, "nflushes")) READ_RO(uint64_t, b->nflushes);
    if (!strcmp(leaf, "nslabs")) READ_RO(uint64_t, b->nslabs);
    if (!strcmp(leaf, "lock.nlocks")) READ_RO(uint64_t, b->nlocks);
    if (!strcmp(leaf, "lock.ncontended")) READ_RO(uint64_t, b->ncontended);
    return ENOENT;
}

SC_COLD static int ctl_arena_stats(arena_t *a, const char *leaf, void *oldp, size_t *oldlenp, void *newp)
{
    SC_SPARSE static arena_stats_t as; /* guarded by ctl_lock */
    stats_arena_read(a, &as);
    unsigned j;
    const char *rest = match_index(leaf, "bins.", &j, SC_NSMALL);
    if (rest && *rest == '.') return ctl_bin(&as.bins[j], rest + 1, oldp, oldlenp, newp);
    if (!strcmp(leaf, "nthreads")) READ_RO(unsigned, as.nthreads);
    if (!strcmp(leaf, "nchunks")) READ_RO(size_t, as.nchunks);
    if (!strcmp(leaf, "active")) READ_RO(size_t, as.active);
    if (!strcmp(leaf, "dirty")) READ_RO(size_t, as.dirty);
    if (!strcmp(leaf, "retained")) READ_RO(size_t, as.retained);
    if (!strcmp(leaf, "small.allocated")) READ_RO(size_t, as.small_allocated);
    if (!strcmp(leaf, "small.nrequests")) READ_RO(uint64_t, as.small_nrequests);
    if (!strcmp(leaf, "large.allocated")) READ_RO(size_t, as.large_allocated);
    if (!strcmp(leaf, "large.nmalloc")) READ_RO(uint64_t, as.large_nmalloc);
    if (!strcmp(leaf, "large.ndalloc")) READ_RO(uint64_t, as.large_ndalloc);
    if (!strcmp(leaf, "npurge")) READ_RO(uint64_t, as.npurge);
    if (!strcmp(leaf, "nmadvise")) READ_RO(uint64_t, as.nmadvise);
    if (!strcmp(leaf, "purged")) READ_RO(uint64_t, as.purged);
    if (!strcmp(leaf, "populated")) READ_RO(uint64_t, as.populated);
    if (!strcmp(leaf, "lock.nlocks")) READ_RO(uint64_t, as.nlocks);
    if (!strcmp(leaf, "lock.ncontended")) READ_RO(uint64_t, as.ncontended);
    return ENOENT;
}

SC_COLD static int ctl_opt(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    for (size_t i = 0; i < option_count; i++) {
        const option_desc_t *d = &option_table[i];
        if (strcmp(name, d->name)) continue;
        if (!strcmp(d->type, "bool")) {
            if (newp) return EPERM;
            return ctl_read(oldp, oldlenp, d->value, sizeof(bool));
        }
        if (!strcmp(d->type, "enum")) {
            if (newp) return EPERM;
            static char text[16];
            option_format(d, text, sizeof(text));
            const char *v = text;
            return ctl_read(oldp, oldlenp, &v, sizeof(v));
        }
        if (!strcmp(d->type, "string")) {
            if (newp) return EPERM;
            const char *v = d->value;
            return ctl_read(oldp, oldlenp, &v, sizeof(v));
        }
        int err = ctl_read(oldp, oldlenp, d->value, sizeof(int64_t));
        if (err || !newp) return err;
        /* Only the decay time can change while running. */
        if (strcmp(d->name, "dirty_decay_ms")) return EPERM;
        if (newlen != sizeof(int64_t) || *(int64_t *)newp < -1) return EINVAL;
        __atomic_store_n((int64_t *)d->value, *(int64_t *)newp, __ATOMIC_RELAXED);
        return 0;
    }
    return ENOENT;
}

SC_COLD static int ctl_locked(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    unsigned i;
    const char *rest;
    if (!strcmp(name, "version")) READ_RO(const char *, SCMALLOC_VERSION);
    if (!strcmp(name, "epoch")) {
        if (newp) {
            if (newlen != sizeof(uint64_t)) return EINVAL;
            stats_read(&snapshot);
            epoch++;
        }
        return ctl_read(oldp, oldlenp, &epoch, sizeof(epoch));
    }
    if (!strncmp(name, "opt.", 4)) return ctl_opt(name + 4, oldp, oldlenp, newp, newlen);
    if (!strncmp(name, "stats.", 6) && !epoch) { stats_read(&snapshot); epoch = 1; }
    if (!strcmp(name, "stats.allocated")) READ_RO(size_t, snapshot.allocated);
    if (!strcmp(name, "stats.active")) READ_RO(size_t, snapshot.active);
    if (!strcmp(name, "stats.resident")) READ_RO(size_t, snapshot.resident);
    if (!strcmp(name, "stats.mapped")) READ_RO(size_t, snapshot.mapped);
    if (!strcmp(name, "stats.retained")) READ_RO(size_t, snapshot.retained);
    if (!strcmp(name, "stats.dirty")) READ_RO(size_t, snapshot.dirty);
    if (!strcmp(name, "stats.metadata")) READ_RO(size_t, snapshot.metadata);
    if (!strcmp(name, "stats.lock.ncontended")) READ_RO(uint64_t, snapshot.ncontended);
    if (!strcmp(name, "stats.lock.nlocks")) READ_RO(uint64_t, snapshot.nlocks);
    if (!strcmp(name, "stats.huge.allocated")) READ_RO(size_t, snapshot.huge_allocated);
    if (!strcmp(name, "stats.huge.count")) READ_RO(size_t, snapshot.nhuge);
    if ((rest = match_index(name, "stats.arenas.", &i, SC_MAX_ARENAS)) && *rest == '.') {
        arena_t *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (!a) return ENOENT;
        return ctl_arena_stats(a, rest + 1, oldp, oldlenp, newp);
    }
    if (!strcmp(name, "arenas.narenas")) READ_RO(unsigned, narenas);
    if (!strcmp(name, "arenas.page")) READ_RO(size_t, os_page);
    if (!strcmp(name, "arenas.chunk_size")) READ_RO(size_t, SC_CHUNK_SIZE);
    if ((rest = match_index(name, "arenas.bin.", &i, SC_NSMALL)) && *rest == '.') {
        if (!strcmp(rest, ".size")) READ_RO(size_t, sizeclass_info[i].size);
        if (!strcmp(rest, ".nregs")) READ_RO(size_t, sizeclass_info[i].nregs);
        if (!strcmp(rest, ".slab_size")) READ_RO(size_t, (size_t)sizeclass_info[i].slab_pages << os_page_shift);
        return ENOENT;
    }
    if (!strcmp(name, "arenas.nbins")) READ_RO(unsigned, SC_NSMALL);
    if (!strcmp(name, "background_thread.running")) READ_RO(bool, background_running());
    if (!strcmp(name, "background_thread.passes")) READ_RO(uint64_t, background_passes());
    /* FAULTS=1 builds: system calls failed on purpose so far (os.c). */
    if (config_faults && !strcmp(name, "os.faults_injected"))
        READ_RO(uint64_t, __atomic_load_n(&os_faults_injected, __ATOMIC_RELAXED));
    if (!strcmp(name, "prof.dump")) {
        /* Write-only: a file name (const char *), or NULL for the default
         * <prof_prefix>.<pid>.<seq>.heap. */
        if (oldp) return EINVAL;
        if (newp && newlen != sizeof(const char *)) return EINVAL;
        return prof_dump(newp ? *(const char *const *)newp : NULL);
    }
    if ((rest = match_index(name, "arena.", &i, SC_MAX_ARENAS)) && !strcmp(rest, ".purge")) {
        if (oldp) return EINVAL;
        arena_t *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (!a) return ENOENT;
        arena_purge(a, true);
        return 0;
    }
    return ENOENT;
}

/* Names about the calling thread need no global lock. */
SC_COLD static int ctl_thread(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    (void)newlen;
    tcache_t *tc = tcache_get();
    uint64_t allocated = 0, deallocated = 0;
    if (tc) tcache_thread_bytes(tc, &allocated, &deallocated);
    if (!strcmp(name, "thread.allocated")) {
        if (newp) return EPERM;
        return ctl_read(oldp, oldlenp, &allocated, sizeof(uint64_t));
    }
    if (!strcmp(name, "thread.deallocated")) {
        if (newp) return EPERM;
        return ctl_read(oldp, oldlenp, &deallocated, sizeof(uint64_t));
    }
    if (!strcmp(name, "thread.tcache.flush")) {
        if (oldp || newp) return EINVAL;
        tcache_flush(tc);
        return 0;
    }
    if (!strcmp(name, "thread.arena")) {
        if (newp) return EPERM;
        unsigned idx = tc && tc->arena ? tc->arena->index : 0;
        return ctl_read(oldp, oldlenp, &idx, sizeof(idx));
    }
    return ENOENT;
}

SC_EXPORT SC_COLD int sc_ctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    if (!name) return ENOENT;
    if (!malloc_init()) return EAGAIN;
    if (!strncmp(name, "thread.", 7)) return ctl_thread(name, oldp, oldlenp, newp, newlen);
    pthread_mutex_lock(&ctl_lock);
    int err = ctl_locked(name, oldp, oldlenp, newp, newlen);
    pthread_mutex_unlock(&ctl_lock);
    return err;
}
