/* The options: OPTION(name, type, default, range, description).
 * Included by options.c only; the README's option list is printed from it. */
OPTION(narenas, int, 0, "0..256", "number of arenas; 0 means 4 per CPU")
OPTION(tcache, bool, true, "true|false", "per-thread caches of small regions")
OPTION(tcache_max, int, -1, "-1..200", "most cached regions per size class and thread; -1 means by size (8..200)")
OPTION(dirty_decay_ms, int, 10000, "-1..", "ms before unused dirty pages are returned to the OS; 0 at once, -1 never")
OPTION(bind, enum, 0, "least|rr", "how a new thread picks its arena: the least loaded, or round-robin")
OPTION(junk, bool, false, "true|false", "fill new blocks with 0xa5 and freed ones with 0x5a (turns thread caches off)")
OPTION(stats_print, bool, false, "true|false", "print statistics to stderr at exit")
