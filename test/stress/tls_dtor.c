/*
 * tls_dtor.c: frees and mallocs from a thread's TLS destructors, after
 * scmalloc has destroyed that thread's cache (its key was created
 * first, and glibc runs key destructors in the order of the keys). The
 * main thread's regions, freed there by a thread bound to another arena,
 * must go straight back to their arena: nothing may be cached for a
 * thread whose cache is gone (a remote stack set up on the stand-in cache
 * of exiting threads would write past it and hold the regions forever). Checked through the
 * arena's small.allocated, and the regions are handed out again.
 *
 * SCTEST: variants=release,debug,ubsan,secure timeout=120
 */
#include "../harness.h"
#include "arena_stat.h"
#include <pthread.h>

enum { N = 300, SIZE = 48 };

static void *regions[N];
static pthread_key_t key;
static unsigned dtor_arena;
static int dtor_ran;

static void dtor(void *arg)
{
    (void)arg;
    /* The cache is gone: mallocs and frees of this thread go to its arena
     * directly, the main thread's regions to the main thread's arena. */
    for (int i = 0; i < N; i++) free(regions[i]);
    for (int i = 0; i < 50; i++) {
        unsigned char *p = malloc(SIZE + (size_t)i * 8);
        if (!p) { FAILF("malloc in a TLS destructor"); return; }
        fill_pattern(p, SIZE + (size_t)i * 8, (unsigned)i);
        CHECK(find_pattern_error(p, SIZE + (size_t)i * 8, (unsigned)i) == (size_t)-1);
        free(p);
    }
    dtor_ran = 1;
}

static void *worker(void *arg)
{
    (void)arg;
    free(opaque_ptr(malloc(SIZE))); /* this thread's cache, and its key */
    dtor_arena = arena_stat_own_arena();
    CHECK(pthread_setspecific(key, (void *)1) == 0);
    return NULL;
}

int main(void)
{
    free(opaque_ptr(malloc(SIZE))); /* the allocator's key exists before ours */
    /* A first thread, so that glibc's stack cache holds the second one's
     * stack and its TLS array (a malloc by this thread, in this arena). */
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, opaque_ptr, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    REQUIRE(pthread_key_create(&key, dtor) == 0);
    unsigned own = arena_stat_own_arena();
    tcache_flush(); /* the arena's counts are exact from here on */
    uint64_t empty = arena_stat(own, "small.allocated");
    for (int i = 0; i < N; i++) REQUIRE((regions[i] = malloc(SIZE)));
    tcache_flush();
    uint64_t held = arena_stat(own, "small.allocated") - empty;
    /* N regions of one class (bigger than SIZE in secure mode: canaries) */
    CHECKF(held >= (uint64_t)N * SIZE && held % N == 0, "small.allocated grew by %llu", (unsigned long long)held);

    REQUIRE(pthread_create(&t, NULL, worker, NULL) == 0);
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECK(dtor_ran);
    CHECKF(dtor_arena != own, "the worker shares arena %u", own);
    uint64_t after = arena_stat(own, "small.allocated");
    CHECKF(after == empty, "small.allocated %llu with the regions, %llu after their frees, %llu without them",
           (unsigned long long)(empty + held), (unsigned long long)after, (unsigned long long)empty);

    /* The regions are free in their slabs: taken again, in use and intact. */
    for (int i = 0; i < N; i++) {
        REQUIRE((regions[i] = malloc(SIZE)));
        fill_pattern(regions[i], SIZE, (unsigned)i);
    }
    for (int i = 0; i < N; i++) {
        CHECK(find_pattern_error(regions[i], SIZE, (unsigned)i) == (size_t)-1);
        free(regions[i]);
    }
    return harness_summary();
}
