/*
 * free_middle_small.c: free of p+16, inside a live 64-byte block.
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
    char *p = malloc(64);
    REQUIRE(p != NULL);
    memset(p, 1, 64);
    char *bad = opaque_ptr(p + 16);
    announce(bad);
    free(bad);
    printf("survived the misuse\n");
    return 0;
}
