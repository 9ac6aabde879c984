/* Unit test of the guard pages of secure mode, white-box. Chunks: one
 * PAGE_GUARD page after the header and one at the end, outside the runs; a
 * large block of every usable page ends at the back guard and cannot grow
 * into it; freed and purged, it leaves one free run between the guards,
 * which the spare chunk keeps; the heap check accepts that layout and
 * flags a guard marked free; free() of a pointer into a guard page aborts.
 * base: its regions have a guard on either side. The black-box side (the
 * pages are PROT_NONE in /proc/self/maps, huge blocks, a heavy mix) is
 * test/api/secure_guard.c. */
#include "../harness.h"
#include "arena.h"
#include "base.h"
#include "init.h"
#include "options.h"
#include "scmalloc.h"

#include <fcntl.h>
#include <sys/wait.h>

/* The signal that ends a child which writes the byte at a (or, with
 * do_free, frees a); 0 if it exits. */
static int child_signal(char *a, int do_free)
{
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        if (do_free) {
            int null = open("/dev/null", O_WRONLY); /* the misuse line is expected */
            if (null >= 0) dup2(null, 2);
            sc_free(a);
        } else {
            *(volatile char *)a = 1;
        }
        _exit(0);
    }
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static int write_faults(char *a) { return child_signal(a, 0) == SIGSEGV; }

int main(int argc, char **argv)
{
    (void)argc;
    REQUIRE(malloc_init());
    if (!opt.secure) {
        /* The options are read once, before main (the library constructor):
         * run again with secure mode set (once). */
        REQUIRE(!getenv("GUARD_REEXEC"));
        setenv("SCMALLOC_CONF", "secure:true", 1);
        setenv("GUARD_REEXEC", "1", 1);
        execv("/proc/self/exe", argv);
        FAILF("execv(/proc/self/exe): %s", strerror(errno));
        return harness_summary();
    }
    opt.dirty_decay_ms = -1; /* purge only when asked (read at each use) */
    arena_t *a = arena_get(narenas - 1); /* an arena nobody else uses */
    REQUIRE(a);
    size_t usable = chunk_usable_pages();

    /* The whole usable area in one block: first_page .. end_page - 1. */
    char *p = arena_alloc_large(a, usable * os_page, os_page, false);
    REQUIRE(p);
    chunk_t *c = chunk_of(p);
    size_t pi = chunk_page_index(c, p);
    CHECK(c->end_page == c->npages - 1 && c->end_page - c->first_page == usable);
    CHECK(pi == c->first_page);
    CHECK(c->pages[c->first_page - 1].kind == PAGE_GUARD && c->pages[c->first_page - 2].kind == PAGE_HEADER);
    CHECK(c->pages[c->end_page].kind == PAGE_GUARD);
    CHECK(c->pages[pi].npages == usable && c->pages[c->end_page - 1].kind == PAGE_LARGE);
    CHECK(a->nactive == usable);
    CHECK(arena_check(a) == 0);
    /* Too big for a chunk now: one page more than the usable area. */
    CHECK(arena_alloc_large(a, (usable + 1) * os_page, os_page, false) == NULL);
    /* The back guard is no free run to grow into. */
    CHECK(!arena_resize_large(c, &c->pages[pi], (usable + 1) * os_page));
    CHECK(arena_resize_large(c, &c->pages[pi], (usable - 3) * os_page));
    CHECK(arena_resize_large(c, &c->pages[pi], usable * os_page));
    CHECK(arena_check(a) == 0);

    /* Freed and purged: one clean run between the guards, the guards kept. */
    arena_dalloc_large(c, &c->pages[pi], p);
    page_t *head = &c->pages[c->first_page];
    CHECK(head->kind == PAGE_FREE_DIRTY && head->npages == usable);
    arena_purge(a, true);
    CHECK(head->kind == PAGE_FREE_CLEAN && head->npages == usable && a->nclean == usable);
    CHECK(c->pages[c->end_page - 1].kind == PAGE_FREE_CLEAN && c->pages[c->end_page - 1].head == usable - 1);
    CHECK(c->pages[c->end_page].kind == PAGE_GUARD && c->pages[c->first_page - 1].kind == PAGE_GUARD);
    CHECK(a->nchunks == 1); /* the spare */
    CHECK(arena_check(a) == 0);

    /* Carved again from the spare: the guards are still outside the runs. */
    char *q = arena_alloc_large(a, 5 * os_page, os_page, false);
    REQUIRE(q && chunk_of(q) == c && chunk_page_index(c, q) == c->first_page);
    CHECK(arena_check(a) == 0);
    arena_dalloc_large(c, &c->pages[c->first_page], q);

    /* A page map that claims a guard page is free is caught by the check. */
    c->pages[c->end_page].kind = PAGE_FREE_CLEAN;
    CHECK(arena_check(a) > 0);
    c->pages[c->end_page].kind = PAGE_GUARD;
    CHECK(arena_check(a) == 0);
    /* free() of a pointer into either guard page is misuse. */
    CHECK(child_signal(chunk_page_addr(c, c->end_page), 1) == SIGABRT);
    CHECK(child_signal(chunk_page_addr(c, c->first_page - 1), 1) == SIGABRT);
    CHECK(write_faults(chunk_page_addr(c, c->end_page)) && write_faults(chunk_page_addr(c, c->first_page - 1)));

    /* base: a region of its own has a guard on either side; of 2 MiB bump
     * blocks cut in 256 KiB pieces (whole pages: from a block's top down),
     * at least one piece ends a block, and the byte after it faults. */
    size_t big = 300 << 10;
    char *m = base_alloc(big);
    REQUIRE(m);
    CHECK(write_faults(m - 1) && write_faults(m + page_ceil(big)) && !write_faults(m + page_ceil(big) - 1));
    base_free(m, big);
    int ends = 0;
    for (int i = 0; i < 9; i++) {
        char *b = base_alloc(256 << 10);
        REQUIRE(b);
        ends += write_faults(b + (256 << 10));
    }
    CHECK(ends >= 1);
    return harness_summary();
}
