/*
 * stats: sc_stats_print (text and JSON), and glibc's mallinfo2, mallinfo and
 * malloc_stats, all from the same counters. Output goes through the
 * caller's callback in pieces, formatted without stdio or malloc.
 */
#define _GNU_SOURCE
#include "stats.h"
#include "alloc.h"
#include "background.h"
#include "base.h"
#include "huge.h"
#include "init.h"
#include "options.h"
#include "tcache.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>

SC_COLD void stats_arena_read(arena_t *a, arena_stats_t *o)
{
    memset(o, 0, sizeof(*o));
    o->index = a->index;
    o->nthreads = __atomic_load_n(&a->nthreads, __ATOMIC_RELAXED);
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        bin_t *b = &a->bins[c];
        bin_stats_t *s = &o->bins[c];
        mutex_lock(&b->lock);
        s->size = sizeclass_info[c].size;
        s->nregs = sizeclass_info[c].nregs;
        s->slab_size = (size_t)sizeclass_info[c].slab_pages << os_page_shift;
        s->curregs = b->curregs;
        s->curslabs = b->curslabs;
        s->nmalloc = b->nmalloc;
        s->ndalloc = b->ndalloc;
        s->nrequests = __atomic_load_n(&b->nrequests, __ATOMIC_RELAXED);
        s->nfills = b->nfills;
        s->nflushes = b->nflushes;
        s->nslabs = b->nslabs;
        s->nlocks = b->lock.nlocks;
        s->ncontended = b->lock.ncontended;
        mutex_unlock(&b->lock);
        o->small_allocated += s->curregs * s->size;
        o->small_nrequests += s->nrequests;
        o->nlocks += s->nlocks;
        o->ncontended += s->ncontended;
    }
    mutex_lock(&a->lock);
    o->nchunks = a->nchunks;
    o->active = a->nactive << os_page_shift;
    o->dirty = a->ndirty << os_page_shift;
    o->retained = a->nclean << os_page_shift;
    o->large_allocated = a->large_allocated;
    o->large_nmalloc = a->large_nmalloc;
    o->large_ndalloc = a->large_ndalloc;
    o->npurge = a->npurge;
    o->nmadvise = a->nmadvise;
    o->purged = a->purged << os_page_shift;
    o->populated = __atomic_load_n(&a->populated, __ATOMIC_RELAXED) << os_page_shift;
    o->nlocks += a->lock.nlocks;
    o->ncontended += a->lock.ncontended;
    mutex_unlock(&a->lock);
}

SC_COLD void stats_read(stats_t *s)
{
    memset(s, 0, sizeof(*s));
    if (!malloc_initialized) return;
    tcache_stats_merge();
    size_t chunks = 0;
    SC_SPARSE static arena_stats_t as; /* large; guarded by stats_lock */
    static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&stats_lock);
    for (unsigned i = 0; i < SC_MAX_ARENAS; i++) {
        arena_t *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (!a) continue;
        stats_arena_read(a, &as);
        s->narenas_used++;
        chunks += as.nchunks;
        s->small_allocated += as.small_allocated;
        s->large_allocated += as.large_allocated;
        s->active += as.active;
        s->dirty += as.dirty;
        s->retained += as.retained;
        s->nlocks += as.nlocks;
        s->ncontended += as.ncontended;
    }
    pthread_mutex_unlock(&stats_lock);
    huge_stats_t h;
    huge_stats_get(&h);
    s->huge_allocated = h.allocated;
    s->nhuge = h.count;
    s->huge_nmalloc = h.nmalloc;
    s->huge_ndalloc = h.ndalloc;
    s->allocated = s->small_allocated + s->large_allocated + s->huge_allocated;
    s->dirty += huge_cached();
    s->active += h.allocated;
    size_t header = (SC_CHUNK_SIZE >> os_page_shift) - chunk_usable_pages();
    s->metadata = base_mapped() + chunks * (header << os_page_shift);
    s->resident = s->active + s->dirty + s->metadata;
    s->mapped = chunks * SC_CHUNK_SIZE + h.mapped;
}

/* ---- output ------------------------------------------------------------- */

typedef struct writer {
    sc_write_cb_t *cb;
    void *opaque;
    size_t n;
    char buf[2048];
} writer_t;

SC_COLD static void write_stderr(void *opaque, const char *text)
{
    (void)opaque;
    sc_write_stderr(text, strlen(text));
}

SC_COLD static void w_flush(writer_t *w)
{
    if (!w->n) return;
    w->buf[w->n] = 0;
    w->cb(w->opaque, w->buf);
    w->n = 0;
}

SC_COLD static void w_printf(writer_t *w, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    size_t n = fmt_vformat(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (w->n + n + 1 > sizeof(w->buf)) w_flush(w);
    memcpy(w->buf + w->n, line, n);
    w->n += n;
}

SC_COLD static void print_text(writer_t *w, const stats_t *s)
{
    SC_SPARSE static arena_stats_t as;
    w_printf(w, "___ scmalloc %s statistics ___\n", SCMALLOC_VERSION);
    w_printf(w, "options:");
    for (size_t i = 0; i < option_count; i++) {
        char v[SC_OPTION_STRING_MAX];
        option_format(&option_table[i], v, sizeof(v));
        w_printf(w, " %s:%s", option_table[i].name, v);
    }
    w_printf(w, "\npage size %zu, chunk size %zu, arenas %u configured, %u in use\n",
             os_page, SC_CHUNK_SIZE, narenas, s->narenas_used);
    w_printf(w, "allocated %zu  active %zu  resident %zu  mapped %zu\n", s->allocated, s->active, s->resident, s->mapped);
    w_printf(w, "dirty %zu  retained %zu  metadata %zu\n", s->dirty, s->retained, s->metadata);
    w_printf(w, "small %zu  large %zu  huge %zu (%zu blocks, %llu allocs, %llu frees)\n",
             s->small_allocated, s->large_allocated, s->huge_allocated, s->nhuge,
             (unsigned long long)s->huge_nmalloc, (unsigned long long)s->huge_ndalloc);
    w_printf(w, "lock acquisitions %llu, contended %llu\n",
             (unsigned long long)s->nlocks, (unsigned long long)s->ncontended);
    if (opt.background_thread)
        w_printf(w, "background thread %s, %llu passes\n", background_running() ? "running" : "not running",
                 (unsigned long long)background_passes());
    for (unsigned i = 0; i < SC_MAX_ARENAS; i++) {
        arena_t *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (!a) continue;
        stats_arena_read(a, &as);
        w_printf(w, "arena %u: threads %u chunks %zu active %zu dirty %zu retained %zu\n",
                 as.index, as.nthreads, as.nchunks, as.active, as.dirty, as.retained);
        w_printf(w, "  small allocated %zu requests %llu; large allocated %zu allocs %llu frees %llu\n",
                 as.small_allocated, (unsigned long long)as.small_nrequests, as.large_allocated,
                 (unsigned long long)as.large_nmalloc, (unsigned long long)as.large_ndalloc);
        w_printf(w, "  purges %llu madvise %llu purged %llu bytes; populated %llu bytes; locks %llu contended %llu\n",
                 (unsigned long long)as.npurge, (unsigned long long)as.nmadvise, (unsigned long long)as.purged,
                 (unsigned long long)as.populated, (unsigned long long)as.nlocks, (unsigned long long)as.ncontended);
        w_printf(w, "  %8s %6s %10s %8s %12s %12s %12s %8s %8s %10s\n", "size", "nregs", "curregs", "slabs",
                 "nmalloc", "ndalloc", "requests", "fills", "flushes", "contended");
        for (unsigned c = 0; c < SC_NSMALL; c++) {
            bin_stats_t *b = &as.bins[c];
            if (!b->nmalloc) continue;
            w_printf(w, "  %8zu %6zu %10zu %8zu %12llu %12llu %12llu %8llu %8llu %10llu\n", b->size, b->nregs,
                     b->curregs, b->curslabs, (unsigned long long)b->nmalloc, (unsigned long long)b->ndalloc,
                     (unsigned long long)b->nrequests, (unsigned long long)b->nfills,
                     (unsigned long long)b->nflushes, (unsigned long long)b->ncontended);
        }
    }
    w_printf(w, "___ end of statistics ___\n");
}

#define U(x) ((unsigned long long)(x))

/* Writes s as a JSON string literal (quotes included) into out. */
SC_COLD static void json_quote(char *out, size_t size, const char *s)
{
    size_t n = 0;
    out[n++] = '"';
    for (; *s && n + 8 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { out[n++] = '\\'; out[n++] = (char)c; }
        else if (c < 0x20) {
            memcpy(out + n, "\\u00", 4);
            out[n + 4] = "0123456789abcdef"[c >> 4];
            out[n + 5] = "0123456789abcdef"[c & 15];
            n += 6;
        }
        else out[n++] = (char)c;
    }
    out[n++] = '"';
    out[n] = 0;
}

SC_COLD static void print_json(writer_t *w, const stats_t *s)
{
    SC_SPARSE static arena_stats_t as;
    w_printf(w, "{\"scmalloc\": {\"version\": \"%s\", \"page_size\": %zu, \"chunk_size\": %zu, \"narenas\": %u,\n",
             SCMALLOC_VERSION, os_page, SC_CHUNK_SIZE, narenas);
    w_printf(w, "\"options\": {");
    for (size_t i = 0; i < option_count; i++) {
        char v[SC_OPTION_STRING_MAX], quoted[2 * SC_OPTION_STRING_MAX + 2];
        option_format(&option_table[i], v, sizeof(v));
        bool text = strcmp(option_table[i].type, "enum") == 0 || strcmp(option_table[i].type, "string") == 0;
        if (text) json_quote(quoted, sizeof(quoted), v);
        w_printf(w, "%s\"%s\": %s", i ? ", " : "", option_table[i].name, text ? quoted : v);
    }
    w_printf(w, "},\n\"stats\": {\"allocated\": %zu, \"active\": %zu, \"resident\": %zu, \"mapped\": %zu, "
                "\"dirty\": %zu, \"retained\": %zu, \"metadata\": %zu, \"small_allocated\": %zu, "
                "\"large_allocated\": %zu, \"huge_allocated\": %zu, \"lock_acquisitions\": %llu, "
                "\"lock_contended\": %llu},\n",
             s->allocated, s->active, s->resident, s->mapped, s->dirty, s->retained, s->metadata,
             s->small_allocated, s->large_allocated, s->huge_allocated, U(s->nlocks), U(s->ncontended));
    w_printf(w, "\"huge\": {\"count\": %zu, \"allocated\": %zu, \"nmalloc\": %llu, \"ndalloc\": %llu},\n",
             s->nhuge, s->huge_allocated, U(s->huge_nmalloc), U(s->huge_ndalloc));
    w_printf(w, "\"background_thread\": {\"running\": %s, \"passes\": %llu},\n",
             background_running() ? "true" : "false", U(background_passes()));
    w_printf(w, "\"arenas\": [");
    bool first = true;
    for (unsigned i = 0; i < SC_MAX_ARENAS; i++) {
        arena_t *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (!a) continue;
        stats_arena_read(a, &as);
        w_printf(w, "%s\n {\"index\": %u, \"nthreads\": %u, \"nchunks\": %zu, \"active\": %zu, \"dirty\": %zu, "
                    "\"retained\": %zu, \"small_allocated\": %zu, \"small_nrequests\": %llu, "
                    "\"large_allocated\": %zu, \"large_nmalloc\": %llu, \"large_ndalloc\": %llu, "
                    "\"npurge\": %llu, \"nmadvise\": %llu, \"purged\": %llu, \"populated\": %llu, "
                    "\"lock_acquisitions\": %llu, \"lock_contended\": %llu,\n  \"bins\": [",
                 first ? "" : ",", as.index, as.nthreads, as.nchunks, as.active, as.dirty, as.retained,
                 as.small_allocated, U(as.small_nrequests), as.large_allocated, U(as.large_nmalloc),
                 U(as.large_ndalloc), U(as.npurge), U(as.nmadvise), U(as.purged), U(as.populated), U(as.nlocks), U(as.ncontended));
        first = false;
        for (unsigned c = 0; c < SC_NSMALL; c++) {
            bin_stats_t *b = &as.bins[c];
            w_printf(w, "%s\n   {\"size\": %zu, \"nregs\": %zu, \"slab_size\": %zu, \"curregs\": %zu, "
                        "\"curslabs\": %zu, \"nmalloc\": %llu, \"ndalloc\": %llu, \"nrequests\": %llu, "
                        "\"nfills\": %llu, \"nflushes\": %llu, \"nslabs\": %llu, \"lock_acquisitions\": %llu, "
                        "\"lock_contended\": %llu}",
                     c ? "," : "", b->size, b->nregs, b->slab_size, b->curregs, b->curslabs, U(b->nmalloc),
                     U(b->ndalloc), U(b->nrequests), U(b->nfills), U(b->nflushes), U(b->nslabs),
                     U(b->nlocks), U(b->ncontended));
        }
        w_printf(w, "]}");
    }
    w_printf(w, "]\n}}\n");
}

SC_EXPORT SC_COLD void sc_stats_print(sc_write_cb_t *cb, void *opaque, const char *opts)
{
    static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
    writer_t w;
    w.cb = cb ? cb : write_stderr;
    w.opaque = opaque;
    w.n = 0;
    stats_t s;
    stats_read(&s);
    pthread_mutex_lock(&print_lock);
    if (opts && strchr(opts, 'J')) print_json(&w, &s);
    else print_text(&w, &s);
    w_flush(&w);
    pthread_mutex_unlock(&print_lock);
}

/* ---- glibc's views ---------------------------------------------------------- */

SC_EXPORT SC_COLD struct mallinfo2 mallinfo2(void)
{
    stats_t s;
    stats_read(&s);
    struct mallinfo2 mi;
    memset(&mi, 0, sizeof(mi));
    mi.arena = s.mapped - s.huge_allocated;       /* bytes in chunks */
    mi.ordblks = s.narenas_used;
    mi.hblks = s.nhuge;
    mi.hblkhd = s.huge_allocated;
    mi.uordblks = s.small_allocated + s.large_allocated;
    mi.fordblks = mi.arena > mi.uordblks ? mi.arena - mi.uordblks : 0;
    mi.keepcost = s.dirty;
    return mi;
}

SC_EXPORT SC_COLD struct mallinfo mallinfo(void)
{
    struct mallinfo2 m2 = mallinfo2();
    struct mallinfo mi;
    mi.arena = (int)m2.arena;
    mi.ordblks = (int)m2.ordblks;
    mi.smblks = (int)m2.smblks;
    mi.hblks = (int)m2.hblks;
    mi.hblkhd = (int)m2.hblkhd;
    mi.usmblks = (int)m2.usmblks;
    mi.fsmblks = (int)m2.fsmblks;
    mi.uordblks = (int)m2.uordblks;
    mi.fordblks = (int)m2.fordblks;
    mi.keepcost = (int)m2.keepcost;
    return mi;
}

SC_EXPORT SC_COLD void sc_malloc_stats(void)
{
    stats_t s;
    stats_read(&s);
    fmt_stderr("Arena 0:\nsystem bytes     = %10zu\nin use bytes     = %10zu\n",
               s.mapped - s.huge_allocated, s.small_allocated + s.large_allocated);
    fmt_stderr("Total (incl. mmap):\nsystem bytes     = %10zu\nin use bytes     = %10zu\n", s.mapped, s.allocated);
    fmt_stderr("max mmap regions = %10zu\nmax mmap bytes   = %10zu\n", s.nhuge, s.huge_allocated);
}

/* glibc's malloc_info: its XML shape, one <heap> per arena in use, filled
 * from the same counters. The text is formatted first and written to the
 * caller's stream afterwards, with no allocator lock held. fputs may be a
 * cancellation point: cancellation waits while info_lock is held. */
static void xml_cb(void *opaque, const char *text) { fputs(text, (FILE *)opaque); }

SC_EXPORT SC_COLD int sc_malloc_info(int options, FILE *fp)
{
    if (options != 0) { errno = EINVAL; return -1; }
    if (!fp) { errno = EINVAL; return -1; }
    stats_t s;
    stats_read(&s);
    SC_SPARSE static arena_stats_t as;
    static pthread_mutex_t info_lock = PTHREAD_MUTEX_INITIALIZER;
    writer_t w;
    w.cb = xml_cb;
    w.opaque = fp;
    w.n = 0;
    int cancel_state;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    pthread_mutex_lock(&info_lock);
    w_printf(&w, "<malloc version=\"1\">\n");
    for (unsigned i = 0; i < SC_MAX_ARENAS; i++) {
        arena_t *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (!a) continue;
        stats_arena_read(a, &as);
        w_printf(&w, "<heap nr=\"%u\">\n<sizes>\n", as.index);
        size_t count = 0, bytes = 0;
        for (unsigned c = 0; c < SC_NSMALL; c++) {
            bin_stats_t *b = &as.bins[c];
            size_t nfree = b->curslabs * b->nregs - b->curregs;
            if (!nfree) continue;
            w_printf(&w, "  <size from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n",
                     c ? as.bins[c - 1].size + 1 : 1, b->size, nfree * b->size, nfree);
            count += nfree;
            bytes += nfree * b->size;
        }
        w_printf(&w, "</sizes>\n<total type=\"fast\" count=\"0\" size=\"0\"/>\n");
        w_printf(&w, "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n", count, bytes + as.dirty + as.retained);
        w_printf(&w, "<system type=\"current\" size=\"%zu\"/>\n<system type=\"max\" size=\"%zu\"/>\n",
                 as.nchunks * SC_CHUNK_SIZE, as.nchunks * SC_CHUNK_SIZE);
        w_printf(&w, "<aspace type=\"total\" size=\"%zu\"/>\n<aspace type=\"mprotect\" size=\"%zu\"/>\n</heap>\n",
                 as.nchunks * SC_CHUNK_SIZE, as.nchunks * SC_CHUNK_SIZE);
    }
    w_printf(&w, "<total type=\"fast\" count=\"0\" size=\"0\"/>\n");
    w_printf(&w, "<total type=\"rest\" count=\"0\" size=\"%zu\"/>\n", s.dirty + s.retained);
    w_printf(&w, "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n", s.nhuge, s.huge_allocated);
    w_printf(&w, "<system type=\"current\" size=\"%zu\"/>\n<system type=\"max\" size=\"%zu\"/>\n", s.mapped, s.mapped);
    w_printf(&w, "<aspace type=\"total\" size=\"%zu\"/>\n<aspace type=\"mprotect\" size=\"%zu\"/>\n</malloc>\n",
             s.mapped, s.mapped);
    pthread_mutex_unlock(&info_lock);
    pthread_setcancelstate(cancel_state, NULL);
    w_flush(&w);
    return 0;
}

SC_EXPORT SC_COLD int sc_mallopt(int param, int value)
{
    /* Accepted, as glibc does; none of glibc's tunables apply here. glibc
     * rejects an M_MXFAST beyond 80 * sizeof(size_t) / 4. */
    if (param == M_MXFAST && (value < 0 || (size_t)value > 80 * sizeof(size_t) / 4)) return 0;
    return 1;
}

SC_EXPORT SC_COLD size_t sc_heap_check(void)
{
    if (!malloc_initialized) return 0;
    size_t problems = 0;
    for (unsigned i = 0; i < SC_MAX_ARENAS; i++) {
        arena_t *a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE);
        if (a) problems += arena_check(a);
    }
    return problems + huge_check();
}

/* glibc's names for the functions above (aliases live beside their targets). */
void malloc_stats(void) __attribute__((alias("sc_malloc_stats"), used, visibility("default")));
int mallopt(int param, int value) __attribute__((alias("sc_mallopt"), used, visibility("default")));
int malloc_info(int options, FILE *fp) __attribute__((alias("sc_malloc_info"), used, visibility("default")));
