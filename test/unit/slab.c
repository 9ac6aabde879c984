/* Unit test of slab bookkeeping: take all, put back, counts, and the
 * double-free and interior-pointer checks (in child processes). */
#include "../harness.h"
#include "init.h"
#include "os.h"
#include "slab.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

static int dies_by_abort(void (*fn)(slab_t *), slab_t *s)
{
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", 1);
        dup2(devnull, 2);
        fn(s);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void put_twice(slab_t *s) { slab_put(s, slab_base(s), &sizeclass_info[s->cls]); slab_put(s, slab_base(s), &sizeclass_info[s->cls]); }
static void put_interior(slab_t *s) { slab_put(s, slab_base(s) + 8, &sizeclass_info[s->cls]); }

int main(void)
{
    REQUIRE(malloc_init());
    for (unsigned cls = 0; cls < SC_NSMALL; cls++) {
        const sizeclass_info_t *ci = &sizeclass_info[cls];
        size_t bytes = (size_t)ci->slab_pages * os_page;
        char *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQUIRE(mem != MAP_FAILED);
        slab_t *s = slab_create(cls, mem);
        REQUIRE(s);
        CHECK(s->nfree == ci->nregs);
        void *got[8192];
        REQUIRE(ci->nregs <= 8192);
        size_t n = slab_take(s, got, 3);
        CHECK(n == (ci->nregs < 3 ? ci->nregs : 3));
        CHECK(got[0] == mem); /* lowest address first */
        n += slab_take(s, got + n, ci->nregs);
        CHECKF(n == ci->nregs && s->nfree == 0, "class %u took %zu of %u", cls, n, ci->nregs);
        CHECK(slab_take(s, got, 1) == 0);
        for (size_t i = 0; i < n; i++) {
            CHECK((char *)got[i] == mem + i * ci->size);
            CHECK(slab_region_index(s, got[i]) == (long)i);
        }
        for (size_t i = 0; i < n; i += 2) slab_put(s, got[i], ci);
        CHECK(s->nfree == (n + 1) / 2);
        size_t again = slab_take(s, got, n);
        CHECK(again == (n + 1) / 2 && s->nfree == 0);
        for (size_t i = 0; i < ci->nregs; i++) slab_put(s, mem + i * ci->size, ci);
        CHECK(s->nfree == ci->nregs);
        if (cls == 3) {
            slab_take(s, got, ci->nregs);
            CHECK(dies_by_abort(put_twice, s));
            CHECK(dies_by_abort(put_interior, s));
        }
        slab_destroy(s);
        munmap(mem, bytes);
    }
    return harness_summary();
}
