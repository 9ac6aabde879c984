/* Unit test of a thread cache's layout: a new cache is page-aligned, its
 * bins are set up on their first use, on the first stack right after each,
 * a thread that keeps a few regions of many classes touches only the
 * cache's first page, and a bin moves to its full stack (keeping its
 * entries, in order) the first time it needs more room, on a free or on a
 * fill. Remote bins are set up on their first use; a recycled cache starts
 * over with no bin set up. */
#include "../harness.h"
/* harness.h has a tcache_flush of its own (through sc_ctl); the library's
 * is not called here. */
#define tcache_flush tcache_flush_internal
#include "tcache.h"
#undef tcache_flush
#include "init.h"
#include "sizeclass.h"

#include <pthread.h>
#include <sys/mman.h>

#define NCLASSES_USED 16

static size_t page;

static bool on_first_stack(const tcache_t *tc, unsigned c)
{
    const tcache_own_bin_t *ob = &tc->bins[c];
    return ob->b.stack == ob->first && ob->b.limit <= ob->first + SC_TCACHE_FIRST_ENTRIES &&
           ob->b.stack[-1] == NULL;
}

/* Whether bin c is set up. Known from the cache's bit mask: reading the
 * bin itself would map a page of the cache that the thread never touched
 * (the zero page, which mincore reports as resident). */
static bool set_up(const tcache_t *tc, unsigned c) { return (tc->bins_set_up >> c) & 1; }

/* Whether page i of the cache is resident (false past the mapping: only
 * pages inside the cache are checked). */
static bool resident(const tcache_t *tc, size_t i)
{
    unsigned char v = 0;
    return mincore((char *)tc + i * page, page, &v) == 0 && (v & 1);
}

static size_t page_index(const tcache_t *tc, const void *p)
{
    return (size_t)((const char *)p - (const char *)tc) / page;
}

static void *fresh_thread(void *arg)
{
    (void)arg;
    /* A few regions of many classes, as most threads of a program with
     * thousands keep: no bin outgrows its first stack. */
    void *keep[NCLASSES_USED][4];
    for (int k = 0; k < NCLASSES_USED; k++)
        for (int j = 0; j < 4; j++) REQUIRE((keep[k][j] = malloc(16 + (size_t)k * 50)));
    tcache_t *tc = tls_tcache;
    REQUIRE(tcache_is_own(tc));
    CHECK(((uintptr_t)tc & (page - 1)) == 0);
    bool wanted[SC_TCACHE_NBINS] = { false };
    for (int k = 0; k < NCLASSES_USED; k++) wanted[sizeclass_of(16 + (size_t)k * 50)] = true;
    unsigned nwanted = 0, nused = 0;
    for (unsigned c = 0; c < SC_TCACHE_NBINS; c++) {
        CHECKF(!set_up(tc, c) || on_first_stack(tc, c), "class %u", c);
        CHECKF(!wanted[c] || set_up(tc, c), "class %u", c);
        nwanted += wanted[c];
        nused += set_up(tc, c);
    }
    /* The classes the thread used, and at most a few that the harness and
     * libc allocated. */
    CHECKF(nused >= nwanted && nused <= nwanted + 4, "%u bins set up for %u classes", nused, nwanted);
    CHECK(!set_up(tc, sizeclass_of(40000)));
    for (int k = 0; k < NCLASSES_USED; k++)
        for (int j = 0; j < 4; j++) free(keep[k][j]);
    unsigned c16 = sizeclass_of(16);
    CHECK(tcache_bin_count(&tc->bins[c16].b) >= 4 && tcache_bin_count(&tc->bins[c16].b) <= SC_TCACHE_FIRST_ENTRIES);
    unsigned char later[32];
    size_t npages = sizeof later;
    for (size_t i = 1; i < npages; i++) later[i] = resident(tc, i);

    /* A ninth free of a class new to the thread: its first stack is full,
     * so the bin moves to its full stack with its entries in order. Nine
     * mallocs take fills of 1, 2, 4 and 8 (the first stack's size); the
     * flush empties the bin where it is. */
    unsigned c8 = sizeclass_of(8);
    void *p[9];
    for (int i = 0; i < 9; i++) REQUIRE((p[i] = malloc(8)));
    tcache_bin_t *b = &tc->bins[c8].b;
    CHECK(on_first_stack(tc, c8));
    tcache_flush();
    CHECK(on_first_stack(tc, c8) && tcache_bin_count(b) == 0);
    for (int i = 0; i < 8; i++) free(p[i]);
    CHECK(on_first_stack(tc, c8));
    free(p[8]);
    CHECK(!on_first_stack(tc, c8));
    CHECK(tcache_bin_count(b) == 9);
    CHECK(tcache_bin_cap(b) > SC_TCACHE_FIRST_ENTRIES);
    CHECK(b->stack[-1] == NULL); /* the sentinel below the full stack */
    for (int i = 8; i >= 0; i--) CHECKF(malloc(8) == p[i], "pop %d", i);

    /* The pages the thread touched before: the first only. Between it and
     * the full stack lie the bins of the bigger classes and the remote bins
     * and stacks, untouched. */
    size_t full = page_index(tc, b->stack);
    CHECK(resident(tc, 0));
    CHECK(full >= 3 && full < npages);
    for (size_t i = 1; i < full && i < npages; i++) CHECKF(!later[i], "page %zu of the cache was touched", i);
    for (unsigned c = 0; c < SC_NSMALL; c++) CHECKF(tc->remote[c].stack == NULL, "remote %u", c);

    /* Many allocations of one class: the fills double until one is bigger
     * than the first stack and moves the bin. */
    unsigned c32 = sizeclass_of(32);
    void *q[100];
    for (int i = 0; i < 100; i++) REQUIRE((q[i] = malloc(32)));
    CHECK(!on_first_stack(tc, c32));
    CHECK(tc->fill[c32] > SC_TCACHE_FIRST_ENTRIES);
    for (int i = 0; i < 100; i++) free(q[i]);
    return NULL;
}

static void *remote_region;

static void *remote_thread(void *arg)
{
    (void)arg;
    void *own = malloc(48);
    REQUIRE(own);
    tcache_t *tc = tls_tcache;
    REQUIRE(tcache_is_own(tc));
    /* On a fresh thread, a region of another arena goes to a remote stack,
     * set up on this first remote free. */
    unsigned c = sizeclass_of(48);
    CHECK(chunk_of(remote_region)->arena != tc->arena);
    CHECK(tc->remote[c].stack == NULL);
    free(remote_region);
    CHECK(tc->remote[c].stack != NULL && tcache_bin_count(&tc->remote[c]) == 1);
    CHECK(tc->remotes_set_up == 1ull << c);
    CHECK(tc->remote[c].stack[-1] == NULL);
    free(own);
    return tc;
}

static void *recycled_thread(void *arg)
{
    (void)arg;
    free(opaque_ptr(malloc(16)));
    tcache_t *tc = tls_tcache;
    for (unsigned c = 0; c < SC_TCACHE_NBINS; c++) CHECKF(!set_up(tc, c) || on_first_stack(tc, c), "class %u", c);
    CHECK(set_up(tc, sizeclass_of(16)) && !set_up(tc, sizeclass_of(48)) && tc->remotes_set_up == 0);
    for (unsigned c = 0; c < SC_NSMALL; c++) CHECKF(tc->remote[c].stack == NULL, "remote %u", c);
    return tc;
}

int main(void)
{
    REQUIRE(malloc_init());
    page = (size_t)sysconf(_SC_PAGESIZE);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, fresh_thread, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);

    /* The main thread's region, freed by a thread bound to another arena
     * (least loaded: the main thread holds arena 0). */
    REQUIRE(narenas > 1);
    REQUIRE((remote_region = malloc(48)));
    void *gone;
    REQUIRE(pthread_create(&t, NULL, remote_thread, NULL) == 0);
    REQUIRE(pthread_join(t, &gone) == 0);

    /* The next thread gets the exited thread's cache back, reset. */
    void *again;
    REQUIRE(pthread_create(&t, NULL, recycled_thread, NULL) == 0);
    REQUIRE(pthread_join(t, &again) == 0);
    CHECK(again == gone);
    return harness_summary();
}
