/*
 * realloc: buffers that grow, by doubling and by small steps, with their
 * contents checked after every realloc.
 *
 *   realloc [-b buffers] [-r rounds] [-D doubling max] [-A step max]
 *           [-a step] [-s seed]
 *     defaults: -b 4 -r 4 -D 4m -A 1m -a 16 -s 1
 *
 * One round: b buffers, grown round-robin (so they are interleaved in the
 * heap, as in a program with several growing strings or vectors), first
 * from 16 B by doubling to D, checking every byte after each realloc;
 * then, freshly, from 16 B by +a bytes to A, checking the last word, the
 * first word and two random words after each realloc and every byte at
 * the end. A small short-lived block is malloc'ed every 8 reallocs.
 * ops = realloc calls. a must be a multiple of 8.
 */
#include "common.h"
#include <getopt.h>

static inline uint64_t word_at(size_t w, uint64_t id) { return (uint64_t)w * 0x9E3779B97F4A7C15ULL + id; }

static void write_words(uint64_t *p, size_t from, size_t to, uint64_t id)
{
    for (size_t w = from; w < to; w++) p[w] = word_at(w, id);
}

static void check_words(const uint64_t *p, size_t from, size_t to, uint64_t id, size_t size)
{
    for (size_t w = from; w < to; w++)
        if (p[w] != word_at(w, id))
            DIE(EXIT_CORRUPT, "buffer %p (%zu bytes): word %zu lost after realloc", (const void *)p, size, w);
}

enum { NOISE = 256 };
typedef struct { void *p; uint32_t size; uint32_t tag; } obj_t;
static obj_t noise[NOISE];
static uint32_t noise_tag;

static void make_noise(rng_t *r)
{
    obj_t *o = &noise[rng_below(r, NOISE)];
    if (o->p) { check_block(o->p, o->size, o->tag); free(o->p); }
    o->size = (uint32_t)rng_range(r, 16, 256);
    o->p = xmalloc(o->size);
    o->tag = ++noise_tag;
    fill_block(o->p, o->size, o->tag);
}

static uint64_t *xrealloc(uint64_t *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) DIE(EXIT_NOMEM, "realloc(%p, %zu) returned NULL", (void *)p, n);
    if ((uintptr_t)q & 15) DIE(EXIT_ALIGN, "realloc(%zu) returned misaligned %p", n, q);
    return q;
}

int main(int argc, char **argv)
{
    long nbuf = 4, rounds = 4, dmax = 4L << 20, amax = 1L << 20, step = 16, seed = 1;
    int c;
    bench_name = "realloc";
    while ((c = getopt(argc, argv, "b:r:D:A:a:s:")) != -1) {
        switch (c) {
        case 'b': OPT_NUM(nbuf); break;
        case 'r': OPT_NUM(rounds); break;
        case 'D': OPT_NUM(dmax); break;
        case 'A': OPT_NUM(amax); break;
        case 'a': OPT_NUM(step); break;
        case 's': OPT_NUM(seed); break;
        default: fprintf(stderr, "usage: realloc [-b buffers] [-r rounds] [-D dmax] [-A amax] [-a step] [-s seed]\n"); return EXIT_USAGE;
        }
    }
    if (nbuf < 1 || rounds < 0 || dmax < 16 || amax < 16 || step < 8 || step % 8) { fprintf(stderr, "realloc: bad arguments\n"); return EXIT_USAGE; }

    rng_t r;
    rng_seed(&r, (uint64_t)seed);
    uint64_t **buf = xmalloc(sizeof *buf * (size_t)nbuf);
    size_t *len = xmalloc(sizeof *len * (size_t)nbuf);
    double ops = 0, dsecs = 0, asecs = 0;

    for (long rd = 0; rd < rounds; rd++) {
        /* doubling */
        double t0 = now_sec();
        for (long b = 0; b < nbuf; b++) { buf[b] = NULL; len[b] = 0; }
        for (size_t target = 16; target <= (size_t)dmax; target *= 2) {
            for (long b = 0; b < nbuf; b++) {
                uint64_t id = (uint64_t)(rd * nbuf + b);
                buf[b] = xrealloc(buf[b], target);
                check_words(buf[b], 0, len[b] / 8, id, target);
                write_words(buf[b], len[b] / 8, target / 8, id);
                len[b] = target;
                ops++;
                if (((long)ops & 7) == 0) make_noise(&r);
            }
        }
        for (long b = 0; b < nbuf; b++) { check_words(buf[b], 0, len[b] / 8, (uint64_t)(rd * nbuf + b), len[b]); free(buf[b]); }
        double t1 = now_sec();
        dsecs += t1 - t0;

        /* small steps */
        for (long b = 0; b < nbuf; b++) {
            buf[b] = xrealloc(NULL, 16); len[b] = 16;
            write_words(buf[b], 0, 2, (uint64_t)(1000000 + rd * nbuf + b));
            ops++;
        }
        for (size_t target = 16 + (size_t)step; target <= (size_t)amax; target += (size_t)step) {
            for (long b = 0; b < nbuf; b++) {
                uint64_t id = (uint64_t)(1000000 + rd * nbuf + b);
                size_t ow = len[b] / 8;
                buf[b] = xrealloc(buf[b], target);
                size_t w1 = rng_below(&r, ow), w2 = rng_below(&r, ow);
                check_words(buf[b], ow - 1, ow, id, target);
                check_words(buf[b], 0, 1, id, target);
                check_words(buf[b], w1, w1 + 1, id, target);
                check_words(buf[b], w2, w2 + 1, id, target);
                write_words(buf[b], ow, target / 8, id);
                len[b] = target;
                ops++;
                if (((long)ops & 7) == 0) make_noise(&r);
            }
        }
        for (long b = 0; b < nbuf; b++) { check_words(buf[b], 0, len[b] / 8, (uint64_t)(1000000 + rd * nbuf + b), len[b]); free(buf[b]); }
        asecs += now_sec() - t1;
    }
    for (int i = 0; i < NOISE; i++) if (noise[i].p) { check_block(noise[i].p, noise[i].size, noise[i].tag); free(noise[i].p); }
    free(buf); free(len);

    char extra[96];
    snprintf(extra, sizeof extra, "double_secs=%.6f step_secs=%.6f", dsecs, asecs);
    print_result("realloc", ops, dsecs + asecs, extra);
    return 0;
}
