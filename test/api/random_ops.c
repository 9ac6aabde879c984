/*
 * random_ops.c: one thread, a long deterministic random sequence of
 * malloc, calloc, memalign, realloc (grow, shrink, move) and free over 64
 * slots, in phases that stay inside one size range (small; pages around
 * 16-40 KiB; up to 1 MiB; across all of them with some huge blocks), so
 * freed regions and page runs are handed out again in every state. The
 * block an operation touches is checked right after it, and every live
 * block every 32 operations: an overlap, a lost realloc prefix or a
 * calloc that is not zero is reported with the operation that showed it.
 *
 * SCTEST: static
 */
#include "family.h"

enum { SLOTS = 64 };

typedef struct { char *p; size_t n; uint64_t seed; } slot_t;

static const char *op_name[] = { "malloc", "calloc", "memalign", "realloc", "free" };

static int run_phase(const family_t *f, uint64_t rng, long ops, size_t lo, size_t hi,
                     int with_huge)
{
    slot_t s[SLOTS] = { { 0 } };
    int failed = 0;
    for (long it = 0; it < ops && !failed; it++) {
        int i = (int)(rng_next(&rng) % SLOTS);
        uint64_t r = rng_next(&rng);
        size_t n = lo + r % (hi - lo + 1);
        if (with_huge && r % 97 == 0)
            n = ((size_t)4 << 20) + r % ((size_t)8 << 20);
        int op;
        if (!s[i].p)
            op = (r >> 40) % 6 == 0 ? 1 : (r >> 40) % 6 == 1 ? 2 : 0;
        else
            op = (r >> 40) % 2 == 0 ? 3 : 4;
        size_t keep = 0;
        char *old = s[i].p;
        switch (op) {
        case 0: s[i].p = f->malloc(n); break;
        case 1: s[i].p = f->calloc(1, n); break;
        case 2: s[i].p = f->memalign((size_t)64 << (r >> 50) % 8, n); break;
        case 3:
            keep = s[i].n < n ? s[i].n : n;
            s[i].p = f->realloc(s[i].p, n);
            break;
        case 4:
            f->free(s[i].p);
            s[i].p = NULL;
            continue;
        }
        if (!s[i].p) {
            FAILF("%s: op %ld: %s(%zu) returned NULL", f->name, it, op_name[op], n);
            failed = 1;
            break;
        }
        if (op == 1 && find_byte_not(s[i].p, n, 0) != (size_t)-1) {
            FAILF("%s: op %ld: calloc(1, %zu) = %p is not zero", f->name, it, n,
                   (void *)s[i].p);
            failed = 1;
        }
        if (op == 3) {
            size_t bad = find_pattern_error(s[i].p, keep, s[i].seed);
            if (bad != (size_t)-1) {
                FAILF("%s: op %ld: realloc(%p, %zu -> %zu) = %p lost byte %zu of %zu",
                       f->name, it, (void *)old, s[i].n, n, (void *)s[i].p, bad, keep);
                failed = 1;
            }
        }
        s[i].n = n;
        s[i].seed = rng_next(&rng);
        fill_pattern(s[i].p, n, s[i].seed);
        if (it % 32 == 0)
            for (int j = 0; j < SLOTS; j++)
                if (s[j].p && !PATTERN_OK(s[j].p, s[j].n, s[j].seed)) {
                    FAILF("%s: after op %ld (%s of slot %d), block %p (%zu bytes) was "
                           "overwritten at offset %zu", f->name, it, op_name[op], i,
                           (void *)s[j].p, s[j].n,
                           find_pattern_error(s[j].p, s[j].n, s[j].seed));
                    failed = 1;
                    break;
                }
    }
    for (int j = 0; j < SLOTS; j++)
        f->free(s[j].p);
    return failed;
}

int main(void)
{
    const struct { size_t lo, hi; long ops; int huge; } phases[] = {
        { 1, 512, 40000, 0 },
        { 1, 4096, 30000, 0 },
        { 16 << 10, 40 << 10, 20000, 0 },
        { 4096, 1 << 20, 6000, 0 },
        { 1, 300 << 10, 20000, 1 },
    };
    for (size_t fi = 0; fi < NFAMILIES; fi++)
        for (size_t k = 0; k < sizeof phases / sizeof phases[0]; k++)
            run_phase(&families[fi], 1000 * fi + k, phases[k].ops, phases[k].lo, phases[k].hi,
                      phases[k].huge);
    CHECKF(sc_heap_check() == 0, "sc_heap_check found problems");
    return harness_summary();
}
