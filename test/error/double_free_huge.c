/*
 * double_free_huge.c: an 8 MiB (huge: a mapping of its own) block freed twice.
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
    char *p = malloc(8 << 20);
    REQUIRE(p != NULL);
    memset(p, 1, 8 << 20);
    char *again = opaque_ptr(p);
    announce(p);
    free(p);
    free(again);
    printf("survived the misuse\n");
    return 0;
}
