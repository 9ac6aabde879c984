/*
 * free_middle_large.c: free of a page-aligned pointer 8 pages inside a live 100 KiB block.
 * Must die by SIGABRT with a stderr line containing "invalid pointer" and the pointer.
 *
 * SCTEST: abort "invalid pointer"
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
    char *bad = opaque_ptr(p + 8 * page_size());
    announce(bad);
    free(bad);
    printf("survived the misuse\n");
    return 0;
}
