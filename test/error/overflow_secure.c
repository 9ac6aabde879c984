/*
 * overflow_secure.c: with SCMALLOC_CONF=secure:true, a 40-byte block is
 * overrun by 16 bytes into the memory after it (its canary and the next
 * region). Freeing it must die by SIGABRT with a stderr line containing
 * "heap overflow" and the pointer.
 *
 * SCTEST: static abort "heap overflow"
 */
#include "../harness.h"

int main(int argc, char **argv)
{
    (void)argc;
    run_with_conf(argv, "secure:true");
    char *p = malloc(40);
    REQUIRE(p != NULL);
    size_t usable = malloc_usable_size(p);
    REQUIRE(usable >= 40);
    char *next = malloc(40); /* keeps the neighbour in use */
    REQUIRE(next != NULL);
    printf("ptr=%p\n", (void *)p);
    fflush(stdout);
    memset(opaque_ptr(p), 'x', usable + 16);
    free(p);
    printf("survived the misuse\n");
    free(next);
    return 0;
}
