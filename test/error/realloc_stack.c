/*
 * realloc_stack.c: realloc of an address on the stack.
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
    char buf[256];
    memset(buf, 1, sizeof buf);
    void *warm = malloc(16);
    free(warm);
    char *bad = opaque_ptr(buf + 32);
    announce(bad);
    void *q = realloc(bad, 1000);
    printf("%p %d\n", q, buf[0]);
    printf("survived the misuse\n");
    return 0;
}
