/*
 * dlopen.c: a program NOT linked with scmalloc (glibc's malloc serves it)
 * dlopen()s libscmalloc.so with RTLD_LOCAL, as a plugin would be, and
 * allocates through dlsym'ed sc_malloc / sc_calloc / sc_realloc / sc_free
 * from several threads, with blocks freed by other threads than their
 * allocator. The load must succeed (no "cannot allocate memory in static
 * TLS block"), every block keeps its pattern, sc_heap_check finds nothing,
 * and glibc's own malloc keeps working beside it.
 * Then the program dlcloses the library while a thread that allocated
 * through it still runs. The library must stay loaded (it is linked with
 * -z nodelete): that thread's exit runs scmalloc's thread-cache
 * destructor, and blocks it handed out can still be freed. Unloaded, the
 * thread's exit jumped into unmapped code.
 *
 * SCTEST: nolink
 */
#define HARNESS_NO_SCMALLOC
#include "../harness.h"
#include <dlfcn.h>
#include <pthread.h>

static void *(*p_malloc)(size_t);
static void *(*p_calloc)(size_t, size_t);
static void *(*p_realloc)(void *, size_t);
static void (*p_free)(void *);
static size_t (*p_usable)(void *);
static size_t (*p_heap_check)(void);

enum { THREADS = 6, ITERS = 30000, SLOTS = 64 };

/* Each thread hands half of its blocks to the next thread through a
 * mailbox of pointers guarded by a mutex. */
static struct mailbox {
    pthread_mutex_t lock;
    char *p[SLOTS];
    size_t n[SLOTS];
    uint64_t seed[SLOTS];
    int count;
} box[THREADS];

static pthread_barrier_t closing;

/* Allocates through scmalloc (so it has a thread cache), waits while the
 * main thread dlcloses the library, then exits with its block. */
static void *holder(void *arg)
{
    (void)arg;
    char *p = p_malloc(300);
    if (p) fill_pattern(p, 300, 77);
    pthread_barrier_wait(&closing);
    pthread_barrier_wait(&closing);
    return p;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t rng = 1000 + id;
    enum { N = 128 };
    char *p[N] = { 0 };
    size_t n[N] = { 0 };
    uint64_t seed[N] = { 0 };
    long errors = 0;
    for (int it = 0; it < ITERS; it++) {
        int i = (int)(rng_next(&rng) % N);
        if (p[i]) {
            if (!PATTERN_OK(p[i], n[i], seed[i]))
                errors++;
            struct mailbox *b = &box[(id + 1) % THREADS];
            pthread_mutex_lock(&b->lock);
            if ((it & 1) && b->count < SLOTS) {
                b->p[b->count] = p[i];
                b->n[b->count] = n[i];
                b->seed[b->count] = seed[i];
                b->count++;
                p[i] = NULL;
            }
            pthread_mutex_unlock(&b->lock);
            if (p[i]) {
                if (it % 7 == 0) {
                    size_t nn = n[i] * 2 + 1;
                    char *q = p_realloc(p[i], nn);
                    if (!q || !PATTERN_OK(q, n[i], seed[i]))
                        errors++;
                    p_free(q);
                } else {
                    p_free(p[i]);
                }
                p[i] = NULL;
            }
        } else {
            uint64_t r = rng_next(&rng);
            n[i] = (r % 32 == 0) ? r % (300 << 10) : r % 700;
            seed[i] = r;
            p[i] = (r & 2) ? p_calloc(1, n[i]) : p_malloc(n[i]);
            if (!p[i] || p_usable(p[i]) < n[i]) {
                errors++;
                continue;
            }
            if ((r & 2) && find_byte_not(p[i], n[i], 0) != (size_t)-1)
                errors++;
            fill_pattern(p[i], n[i], seed[i]);
        }
        /* take what others handed over */
        struct mailbox *mine = &box[id];
        pthread_mutex_lock(&mine->lock);
        while (mine->count > 0) {
            mine->count--;
            int k = mine->count;
            if (!PATTERN_OK(mine->p[k], mine->n[k], mine->seed[k]))
                errors++;
            p_free(mine->p[k]);
        }
        pthread_mutex_unlock(&mine->lock);
        /* glibc's malloc still serves the program itself */
        if (it % 100 == 0) {
            char *g = malloc(200);
            if (!g)
                errors++;
            memset(g, 1, 200);
            free(g);
        }
    }
    for (int i = 0; i < N; i++)
        if (p[i]) {
            if (!PATTERN_OK(p[i], n[i], seed[i]))
                errors++;
            p_free(p[i]);
        }
    return (void *)(intptr_t)errors;
}

int main(int argc, char **argv)
{
    const char *lib = argc > 1 ? argv[1] : getenv("SC_LIB");
    if (!lib || !*lib)
        SKIP("no library path: pass it as argv[1] or in $SC_LIB");
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        CHECKF(h != NULL, "dlopen(%s, RTLD_LOCAL): %s", lib, dlerror());
        return harness_summary();
    }
    p_malloc = (void *(*)(size_t))dlsym(h, "sc_malloc");
    p_calloc = (void *(*)(size_t, size_t))dlsym(h, "sc_calloc");
    p_realloc = (void *(*)(void *, size_t))dlsym(h, "sc_realloc");
    p_free = (void (*)(void *))dlsym(h, "sc_free");
    p_usable = (size_t(*)(void *))dlsym(h, "sc_malloc_usable_size");
    p_heap_check = (size_t(*)(void))dlsym(h, "sc_heap_check");
    REQUIRE(p_malloc && p_calloc && p_realloc && p_free && p_usable && p_heap_check);
    /* RTLD_LOCAL: the library must not have replaced the program's malloc */
    CHECK(dlsym(RTLD_DEFAULT, "sc_malloc") == NULL);

    char *first = p_malloc(100);
    CHECK(first != NULL);
    p_free(first);

    for (int i = 0; i < THREADS; i++)
        pthread_mutex_init(&box[i].lock, NULL);
    harness_watchdog(50, "threads on the dlopen'ed scmalloc");
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        CHECKF(r == NULL, "thread %d counted %ld errors (damaged block, NULL, or calloc "
               "not zero)", i, (long)(intptr_t)r);
    }
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < box[i].count; k++) {
            CHECK(PATTERN_OK(box[i].p[k], box[i].n[k], box[i].seed[k]));
            p_free(box[i].p[k]);
        }
    size_t problems = p_heap_check();
    CHECKF(problems == 0, "sc_heap_check found %zu problems", problems);

    pthread_barrier_init(&closing, NULL, 2);
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, holder, NULL) == 0);
    pthread_barrier_wait(&closing);
    CHECK(dlclose(h) == 0);
    void *again = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
    CHECKF(again != NULL, "dlclose unloaded %s: blocks and threads it served would jump into unmapped code", lib);
    pthread_barrier_wait(&closing);
    void *block = NULL;
    pthread_join(th, &block); /* its exit ran scmalloc's thread-cache destructor */
    CHECK(block != NULL && PATTERN_OK((char *)block, 300, 77));
    if (again && block) p_free(block);
    return harness_summary();
}
