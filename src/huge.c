/*
 * huge: one mapping per block, aligned to max(chunk, alignment) so that each
 * rtree slot belongs to one block. Growth tries mremap in place, then moves
 * the pages to a fresh aligned reservation (MREMAP_FIXED): no byte is
 * copied. Freed blocks leave a tombstone in their first slot, so a second
 * free is reported as a double free.
 */
#include "huge.h"
#include "base.h"
#include "os.h"
#include "rtree.h"

#include <errno.h>

mutex_t huge_lock;
static huge_t *huge_list;
static huge_stats_t stats;

void huge_init(void) { mutex_init(&huge_lock); }

static size_t chunk_ceil(size_t n) { return (n + SC_CHUNK_MASK) & ~SC_CHUNK_MASK; }

static void huge_link(huge_t *h)
{
    h->prev = NULL;
    h->next = huge_list;
    if (huge_list) huge_list->prev = h;
    huge_list = h;
}

static void huge_unlink(huge_t *h)
{
    if (h->prev) h->prev->next = h->next;
    else huge_list = h->next;
    if (h->next) h->next->prev = h->prev;
}

void *huge_alloc(size_t size, size_t align)
{
    size_t mapped = page_ceil(size);
    if (mapped < size || mapped > ((size_t)1 << SC_VA_BITS)) { errno = ENOMEM; return NULL; }
    if (align < SC_CHUNK_SIZE) align = SC_CHUNK_SIZE;
    huge_t *h = base_alloc(sizeof(huge_t));
    if (!h) { errno = ENOMEM; return NULL; }
    void *p = os_map_aligned(mapped, align);
    if (!p) { base_free(h, sizeof(huge_t)); errno = ENOMEM; return NULL; }
    h->addr = p;
    h->size = size;
    h->mapped = mapped;
    if (!rtree_set_range((uintptr_t)p, chunk_ceil(mapped), (uintptr_t)h | RTREE_HUGE)) {
        rtree_set_range((uintptr_t)p, chunk_ceil(mapped), 0);
        os_unmap(p, mapped);
        base_free(h, sizeof(huge_t));
        errno = ENOMEM;
        return NULL;
    }
    mutex_lock(&huge_lock);
    huge_link(h);
    stats.count++;
    stats.nmalloc++;
    stats.allocated += mapped;
    stats.mapped += mapped;
    mutex_unlock(&huge_lock);
    return p;
}

void huge_free(huge_t *h, void *p)
{
    if (h->addr != p) sc_misuse("invalid pointer", p);
    mutex_lock(&huge_lock);
    huge_unlink(h);
    stats.count--;
    stats.ndalloc++;
    stats.allocated -= h->mapped;
    stats.mapped -= h->mapped;
    mutex_unlock(&huge_lock);
    size_t span = chunk_ceil(h->mapped);
    rtree_set_range((uintptr_t)p, span, 0);
    rtree_set_range((uintptr_t)p, SC_CHUNK_SIZE, RTREE_FREED_HUGE);
    os_unmap(p, h->mapped);
    base_free(h, sizeof(huge_t));
}

void *huge_realloc(huge_t *h, void *p, size_t new_size)
{
    size_t old_mapped = h->mapped, new_mapped = page_ceil(new_size);
    if (new_mapped < new_size) return NULL;
    if (new_mapped == old_mapped) { h->size = new_size; return p; }
    if (new_mapped < old_mapped) {
        if (!os_shrink_in_place(p, old_mapped, new_mapped)) return NULL;
        if (chunk_ceil(new_mapped) < chunk_ceil(old_mapped))
            rtree_set_range((uintptr_t)p + chunk_ceil(new_mapped),
                            chunk_ceil(old_mapped) - chunk_ceil(new_mapped), 0);
    } else if (os_grow_in_place(p, old_mapped, new_mapped)) {
        if (!rtree_set_range((uintptr_t)p, chunk_ceil(new_mapped), (uintptr_t)h | RTREE_HUGE)) {
            os_shrink_in_place(p, new_mapped, old_mapped);
            rtree_set_range((uintptr_t)p + chunk_ceil(old_mapped),
                            chunk_ceil(new_mapped) - chunk_ceil(old_mapped), 0);
            return NULL;
        }
    } else {
        /* Reserve an aligned range (plus a little headroom) and move the
         * pages there: no copy. */
        void *q = os_map_aligned(new_mapped, SC_CHUNK_SIZE);
        if (!q) return NULL;
        if (!rtree_set_range((uintptr_t)q, chunk_ceil(new_mapped), (uintptr_t)h | RTREE_HUGE) ||
            !os_move(p, old_mapped, q, new_mapped)) {
            rtree_set_range((uintptr_t)q, chunk_ceil(new_mapped), 0);
            os_unmap(q, new_mapped);
            return NULL;
        }
        rtree_set_range((uintptr_t)p, chunk_ceil(old_mapped), 0);
        h->addr = q;
        p = q;
    }
    mutex_lock(&huge_lock);
    stats.allocated += new_mapped - old_mapped;
    stats.mapped += new_mapped - old_mapped;
    mutex_unlock(&huge_lock);
    h->size = new_size;
    h->mapped = new_mapped;
    return p;
}

void huge_stats_get(huge_stats_t *out)
{
    mutex_lock(&huge_lock);
    *out = stats;
    mutex_unlock(&huge_lock);
}

size_t huge_check(void)
{
    size_t problems = 0, count = 0, bytes = 0;
    mutex_lock(&huge_lock);
    for (huge_t *h = huge_list; h; h = h->next) {
        count++;
        bytes += h->mapped;
        for (uintptr_t a = (uintptr_t)h->addr; a < (uintptr_t)h->addr + h->mapped; a += SC_CHUNK_SIZE)
            if (rtree_lookup(a) != ((uintptr_t)h | RTREE_HUGE)) {
                fmt_stderr("scmalloc: heap check: huge %p not registered at %p\n", h->addr, (void *)a);
                problems++;
                break;
            }
    }
    if (count != stats.count || bytes != stats.allocated) {
        fmt_stderr("scmalloc: heap check: huge list %zu blocks %zu bytes, stats %zu %zu\n",
                   count, bytes, stats.count, stats.allocated);
        problems++;
    }
    mutex_unlock(&huge_lock);
    return problems;
}

void huge_prefork(void) { mutex_lock(&huge_lock); }
void huge_postfork_parent(void) { mutex_unlock(&huge_lock); }
void huge_postfork_child(void) { mutex_reinit(&huge_lock); }
