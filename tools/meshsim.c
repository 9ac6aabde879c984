/*
 * meshsim: a model of what meshing (Mesh, Powers et al., PLDI 2019) would
 * save on bench/frag's heap, to decide whether it is worth building.
 * Not part of the library or its tests.
 *
 * bench/frag's first phases: n objects of 16..128 bytes (uniform), in
 * 16-byte classes whose slabs are one 4 KiB page, filled in order; then
 * freepct% of them freed at random. Meshing merges two slabs of one class
 * whose live regions do not overlap into one page (the other page's
 * virtual range is mapped onto it). Each pass tries, for every slab still
 * holding objects, up to `probes` random partners of its class.
 *
 *   cc -O2 -o meshsim tools/meshsim.c && ./meshsim [probes] [passes]
 *     defaults: 64 probes, 1 pass
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { PAGE = 4096, CLASSES = 8, WORDS = PAGE / 16 / 64 };

typedef struct { uint64_t live[WORDS]; int holds; } slab_t;

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static int overlap(const slab_t *a, const slab_t *b)
{
    for (int k = 0; k < WORDS; k++)
        if (a->live[k] & b->live[k]) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    long n = 2000000, freepct = 90;
    int probes = argc > 1 ? atoi(argv[1]) : 64, passes = argc > 2 ? atoi(argv[2]) : 1;
    long count[CLASSES + 1] = {0}, before = 0, after = 0;
    for (long i = 0; i < n; i++) count[(16 + next() % 113 + 15) / 16]++;
    for (int c = 1; c <= CLASSES; c++) {
        long nregs = PAGE / (c * 16), nslabs = (count[c] + nregs - 1) / nregs, holding = 0;
        slab_t *s = calloc((size_t)nslabs, sizeof *s);
        if (!s) return 1;
        for (long i = 0; i < count[c]; i++)
            if ((long)(next() % 100) >= freepct) s[i / nregs].live[(i % nregs) / 64] |= 1ull << (i % nregs % 64);
        for (long i = 0; i < nslabs; i++) {
            for (int k = 0; k < WORDS; k++) s[i].holds |= s[i].live[k] != 0;
            holding += s[i].holds;
        }
        for (int p = 0; p < passes; p++)
            for (long i = 0; i < nslabs; i++)
                for (int t = 0; s[i].holds && t < probes; t++) {
                    long j = (long)(next() % (uint64_t)nslabs);
                    if (j == i || !s[j].holds || overlap(&s[i], &s[j])) continue;
                    for (int k = 0; k < WORDS; k++) s[i].live[k] |= s[j].live[k];
                    s[j].holds = 0;
                    holding--;
                    break;
                }
        printf("class %3d B: %6ld pages, %6ld after meshing\n", c * 16, nslabs, holding);
        before += nslabs;
        after += holding;
        free(s);
    }
    printf("all: %ld pages (%.1f MB) -> %ld (%.1f MB)\n", before, before * (double)PAGE / 1e6, after,
           after * (double)PAGE / 1e6);
    return 0;
}
