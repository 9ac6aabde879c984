/*
 * double_free_secure.c: with SCMALLOC_CONF=secure:true, a small block is
 * freed, other blocks of its class are freed after it, then it is freed
 * again. Without secure the thread cache notices only when it flushes;
 * with secure the zeroed canary gives it away at once. Must die by SIGABRT
 * with a stderr line containing "double free" and the pointer.
 *
 * SCTEST: static abort "double free"
 */
#include "../harness.h"

int main(int argc, char **argv)
{
    (void)argc;
    run_with_conf(argv, "secure:true");
    char *p = malloc(100), *others[8];
    REQUIRE(p != NULL);
    for (int i = 0; i < 8; i++) REQUIRE((others[i] = malloc(100)) != NULL);
    printf("ptr=%p\n", (void *)p);
    fflush(stdout);
    free(p);
    for (int i = 0; i < 8; i++) free(others[i]);
    free(opaque_ptr(p));
    printf("survived the misuse\n");
    return 0;
}
