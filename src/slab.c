/*
 * slab: region bookkeeping with a bitmap. Called with the owning bin's lock
 * held.
 */
#include "slab.h"
#include "base.h"

slab_t *slab_create(unsigned cls, char *base)
{
    slab_t *s = base_alloc(slab_desc_size(cls));
    if (!s) return NULL;
    uint32_t nregs = sizeclass_info[cls].nregs;
    s->base = vg_disguise(base);
    s->cls = (uint16_t)cls;
    s->nfree = nregs;
    for (uint32_t w = 0; w < nregs / 64; w++) s->bitmap[w] = ~0ull;
    if (nregs % 64) s->bitmap[nregs / 64] = (1ull << (nregs % 64)) - 1;
    return s;
}

void slab_destroy(slab_t *s) { base_free(s, slab_desc_size(s->cls)); }

size_t slab_take(slab_t *s, void **out, size_t n)
{
    size_t got = 0, size = sizeclass_info[s->cls].size;
    char *base = slab_base(s);
    uint32_t nwords = (sizeclass_info[s->cls].nregs + 63) / 64;
    for (uint32_t w = 0; w < nwords && got < n; w++) {
        uint64_t bits = s->bitmap[w];
        while (bits && got < n) {
            unsigned b = (unsigned)__builtin_ctzll(bits);
            bits &= bits - 1;
            out[got++] = base + ((size_t)w * 64 + b) * size;
        }
        s->bitmap[w] = bits;
    }
    s->nfree -= (uint32_t)got;
    return got;
}
