/*
 * realloc_foreign_brk.c: realloc of a block in the program break (sbrk),
 * where glibc's malloc keeps its main heap: memory of another allocator,
 * which scmalloc never maps. The block is made to look like a glibc chunk (a
 * size word in front of it), so only an ownership lookup, not a header,
 * can tell it is foreign.
 * Must die by SIGABRT with a stderr line containing "invalid pointer" and the pointer.
 *
 * SCTEST: abort "invalid pointer"
 */
#include "../harness.h"

/* The pointer goes to stdout before the misuse; test/run.sh looks for it
 * in the allocator's message on stderr. */
static void announce(const void *p)
{
    printf("ptr=%p\n", p);
    fflush(stdout);
}

int main(void)
{
    void *warm = malloc(16); /* the allocator is initialised */
    free(warm);
    char *heap = sbrk(64 << 10);
    REQUIRE(heap != (char *)-1);
    memset(heap, 1, 64 << 10);
    /* glibc's chunk layout: prev_size, size | PREV_INUSE, then the user's
     * bytes at offset 16 */
    size_t size_word = 48 | 1;
    memcpy(heap + 8, &size_word, sizeof size_word);
    char *bad = opaque_ptr(heap + 16);
    announce(bad);
    void *q = realloc(bad, 1000);
    printf("%p\n", q);
    printf("survived the misuse\n");
    return 0;
}
