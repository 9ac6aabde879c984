/*
 * double_free_large.c: a 100 KiB (large: pages inside a chunk) block freed twice.
 * Must die by SIGABRT with a stderr line containing "double free" and the pointer.
 *
 * SCTEST: abort "double free"
 */
#include "../harness.h"
#include <sys/mman.h>

/* The pointer goes to stdout before the misuse; test/run.sh looks for it
 * in the allocator's message on stderr. */
static void announce(const void *p)
{
    printf("ptr=%p\n", p);
    fflush(stdout);
}

int main(void)
{
    char *p = malloc(100 << 10);
    REQUIRE(p != NULL);
    memset(p, 1, 100 << 10);
    char *keep = malloc(100 << 10); /* a neighbour, so the run is not merged away */
    char *again = opaque_ptr(p);
    announce(p);
    free(p);
    free(again);
    free(keep);
    printf("survived the misuse\n");
    return 0;
}
