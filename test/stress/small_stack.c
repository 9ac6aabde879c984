/*
 * small_stack.c: malloc and free must fit on a small thread stack (a
 * thread made with PTHREAD_STACK_MIN, 16 KiB, has less than that for its
 * own frames). A thread runs on a stack of its own whose bytes were all
 * set to a pattern, and goes through the allocator's deepest paths: a
 * purge of dirty pages in a batch (which reads /proc/self/status), the
 * huge-block cache filling up and draining, realloc of every kind, calloc,
 * aligned blocks. Afterwards the lowest byte that changed tells how deep
 * the stack went; it must stay under STACK_BUDGET. (A 4 KiB buffer in the
 * purge path once made it 6.1 KiB.)
 *
 * SCTEST: variants=release,debug timeout=60
 */
#include "../harness.h"
#include <pthread.h>
#include "arena_stat.h"

enum { STACK_SIZE = 256 << 10, STACK_BUDGET = 4096 + 1024, PATTERN = 0xA5 };

static unsigned char *stack_base;
static unsigned thread_arena;

static void work(void)
{
    /* A batch purge: large blocks side by side, every other one freed
     * (separate dirty runs) until the arena's bound purges several. */
    enum { BLOCKS = 96, BLOCK = 128 << 10 };
    static void *v[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
        v[i] = malloc(BLOCK);
        if (!v[i]) abort();
        memset(v[i], 1, BLOCK);
    }
    for (int i = 0; i < BLOCKS; i += 2) free(v[i]);
    for (int i = 1; i < BLOCKS; i += 2) free(v[i]);
    /* Huge blocks of many sizes: the cache fills, takes, gathers, drains. */
    for (int round = 0; round < 3; round++) {
        static void *h[80];
        for (int i = 0; i < 80; i++) {
            h[i] = malloc(((size_t)300 << 10) + (size_t)i * (97 << 10));
            if (!h[i]) abort();
            memset(h[i], 2, 4096);
        }
        for (int i = 0; i < 80; i++) free(h[i]);
    }
    /* realloc across every kind, calloc, alignment. */
    void *p = NULL;
    for (size_t size = 8; size < ((size_t)8 << 20); size = size * 3 / 2 + 8) {
        p = realloc(p, size);
        if (!p) abort();
        ((char *)p)[size - 1] = 3;
    }
    p = realloc(p, 100);
    free(p);
    for (size_t a = 16; a <= ((size_t)1 << 20); a <<= 3) {
        void *q = aligned_alloc(a, a * 3);
        if (!q) abort();
        free(q);
        q = calloc(1, a * 5);
        if (!q) abort();
        free(q);
    }
}

static void *empty_thread(void *arg) { return arg; }

static void *thread_main(void *arg)
{
    (void)arg;
    thread_arena = arena_stat_own_arena();
    work();
    return NULL;
}

int main(void)
{
    stack_base = aligned_alloc(4096, STACK_SIZE);
    CHECK(stack_base != NULL);
    memset(stack_base, PATTERN, STACK_SIZE);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    CHECK(pthread_attr_setstack(&attr, stack_base, STACK_SIZE) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, &attr, thread_main, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    /* The deepest path ran: more than one range purged at once. */
    uint64_t nmadvise = arena_stat(thread_arena, "nmadvise");
    CHECKF(nmadvise >= 2, "arena %u: nmadvise is %llu: no batch purge happened", thread_arena, (unsigned long long)nmadvise);
    /* The stack grows down from stack_base + STACK_SIZE; glibc puts the
     * thread descriptor and static TLS at the top. Find the lowest byte
     * that changed. */
    size_t i = 0;
    while (i < STACK_SIZE && stack_base[i] == PATTERN) i++;
    size_t deepest = STACK_SIZE - i;
    /* What the thread's own code and glibc (descriptor, TLS, start-up)
     * take: measured on a thread that only returns. */
    memset(stack_base, PATTERN, STACK_SIZE);
    pthread_t t2;
    CHECK(pthread_create(&t2, &attr, empty_thread, NULL) == 0);
    CHECK(pthread_join(t2, NULL) == 0);
    size_t j = 0;
    while (j < STACK_SIZE && stack_base[j] == PATTERN) j++;
    size_t base_use = STACK_SIZE - j;
    fprintf(stderr, "stack used: %zu bytes with the allocator's deepest paths, %zu by an empty thread\n",
            deepest, base_use);
    CHECKF(deepest - base_use < STACK_BUDGET, "malloc/free went %zu bytes deep (budget %d)",
           deepest - base_use, STACK_BUDGET);
    free(stack_base);
    return harness_summary();
}
