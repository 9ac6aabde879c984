/*
 * double_free_small.c: a 32-byte block freed twice.
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
    char *warm[64];
    for (int i = 0; i < 64; i++)
        warm[i] = malloc(32);
    char *p = malloc(32);
    REQUIRE(p != NULL);
    memset(p, 1, 32);
    for (int i = 0; i < 64; i++)
        free(warm[i]);
    char *again = opaque_ptr(p);
    announce(p);
    free(p);
    free(again);
    printf("survived the misuse\n");
    return 0;
}
