/*
 * churn: one thread, small objects with random lifetimes, the way a
 * compiler or an interpreter uses malloc.
 *
 *   churn [-n ops] [-k slots] [-m min] [-M max] [-s seed]
 *     -n  operations (replace one slot: check+free the old block, malloc a
 *         new one)                                        default 4000000
 *     -k  slots in the table of live objects              default 100000
 *     -m/-M  size range in bytes; sizes are skewed to the small end
 *         (s = min * (max/min)^(u^2), u uniform)          default 8 / 512
 *     -s  random seed                                     default 1
 *
 * Lifetimes: 7 of 8 operations hit the first 256 slots (short-lived
 * temporaries), the rest any slot (long-lived objects).
 */
#include "common.h"
#include <math.h>
#include <getopt.h>

typedef struct { void *p; uint32_t size; uint32_t tag; } slot_t;

int main(int argc, char **argv)
{
    long ops = 4000000, nslots = 100000, min = 8, max = 512, seed = 1;
    int c;
    bench_name = "churn";
    while ((c = getopt(argc, argv, "n:k:m:M:s:")) != -1) {
        switch (c) {
        case 'n': OPT_NUM(ops); break;
        case 'k': OPT_NUM(nslots); break;
        case 'm': OPT_NUM(min); break;
        case 'M': OPT_NUM(max); break;
        case 's': OPT_NUM(seed); break;
        default: fprintf(stderr, "usage: churn [-n ops] [-k slots] [-m min] [-M max] [-s seed]\n"); return EXIT_USAGE;
        }
    }
    if (nslots < 256 || min < 1 || max < min) { fprintf(stderr, "churn: bad arguments\n"); return EXIT_USAGE; }

    /* skewed size table, drawn once so the loop has no pow() */
    enum { NSZ = 4096 };
    static uint32_t sizes[NSZ];
    rng_t r;
    rng_seed(&r, (uint64_t)seed);
    for (int i = 0; i < NSZ; i++) {
        double u = (double)rng_below(&r, 1u << 20) / (double)(1u << 20);
        double s = (double)min * pow((double)max / (double)min, u * u);
        sizes[i] = (uint32_t)s < (uint32_t)min ? (uint32_t)min : ((uint32_t)s > (uint32_t)max ? (uint32_t)max : (uint32_t)s);
    }

    slot_t *t = calloc((size_t)nslots, sizeof *t);
    if (!t) DIE(EXIT_NOMEM, "table");
    uint32_t tag = 0;
    uint64_t bytes = 0;

    double t0 = now_sec();
    for (long i = 0; i < ops; i++) {
        uint64_t x = rng_next(&r);
        size_t k = (x & 7) ? (size_t)((x >> 3) & 255) : (size_t)(((x >> 11) & 0xffffffffu) * (uint64_t)nslots >> 32);
        slot_t *s = &t[k];
        if (s->p) {
            check_block(s->p, s->size, s->tag);
            free(s->p);
        }
        uint32_t n = sizes[(x >> 44) & (NSZ - 1)];
        s->p = xmalloc(n);
        s->size = n;
        s->tag = ++tag;
        fill_block(s->p, n, s->tag);
        bytes += n;
    }
    double t1 = now_sec();

    for (long k = 0; k < nslots; k++)
        if (t[k].p) { check_block(t[k].p, t[k].size, t[k].tag); free(t[k].p); }
    free(t);

    char extra[128];
    snprintf(extra, sizeof extra, "avg_size=%.1f", ops ? (double)bytes / (double)ops : 0.0);
    print_result("churn", (double)ops, t1 - t0, extra);
    return 0;
}
