/*
 * early_ctor.c: allocations made before scmalloc's own constructor runs.
 * Built twice by early_ctor.sh: with -DEARLY_LIB as a shared library whose
 * constructor allocates (the program links it, so its constructor runs
 * before that of a preloaded library, as libselinux's does in ls), and
 * without it as the program, which checks in main() that every early block
 * kept its bytes and has the usable size it asked for. A first allocation
 * that took its size class from a table not yet built got an 8-byte region
 * for any size, and its neighbours overwrote it.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NSIZES = 9, NSMALL = 64 };
static const size_t early_sizes[NSIZES] = { 472, 8, 100, 1000, 4000, 20000, 70000, 300000, 3 << 20 };

#ifdef EARLY_LIB
char *early_block[NSIZES], *early_small[NSMALL];

__attribute__((constructor)) static void early(void)
{
    for (int i = 0; i < NSIZES; i++) {
        /* every other one through calloc, and one through realloc(NULL) */
        early_block[i] = i == 2 ? realloc(NULL, early_sizes[i]) : i % 2 ? calloc(1, early_sizes[i]) : malloc(early_sizes[i]);
        if (early_block[i]) memset(early_block[i], 'A' + i, early_sizes[i]);
    }
    for (int i = 0; i < NSMALL; i++)
        if ((early_small[i] = malloc(8))) memset(early_small[i], i, 8);
}
#else
extern char *early_block[NSIZES], *early_small[NSMALL];

int main(void)
{
    int bad = 0;
    for (int i = 0; i < NSIZES; i++) {
        if (!early_block[i]) { printf("early malloc(%zu) returned NULL\n", early_sizes[i]); bad = 1; continue; }
        size_t usable = malloc_usable_size(early_block[i]);
        if (usable < early_sizes[i]) { printf("early block of %zu bytes: %zu usable\n", early_sizes[i], usable); bad = 1; }
        for (size_t j = 0; j < early_sizes[i]; j++)
            if (early_block[i][j] != 'A' + i) { printf("early block of %zu bytes: byte %zu overwritten\n", early_sizes[i], j); bad = 1; break; }
    }
    for (int i = 0; i < NSMALL; i++)
        for (int j = 0; j < 8; j++)
            if (!early_small[i] || early_small[i][j] != i) { printf("early 8-byte block %d overwritten\n", i); bad = 1; break; }
    for (int i = 0; i < NSIZES; i++) free(early_block[i]);
    for (int i = 0; i < NSMALL; i++) free(early_small[i]);
    if (!bad) printf("%d early blocks intact\n", NSIZES + NSMALL);
    return bad;
}
#endif
