/* The options: OPTION(name, type, default, default as text, range, meaning).
 * Included by options.c only; `make options-doc` prints the README's table
 * from it. */
OPTION(narenas, int, 0, "0", "0 to 256", "number of arenas; 0 means 4 per CPU")
OPTION(tcache, bool, true, "true", "true, false", "per-thread caches of small regions")
OPTION(tcache_max, int, -1, "-1", "-1 to 200", "most cached regions per size class and thread; -1 means by size (8 to 200)")
OPTION(dirty_decay_ms, int, 10000, "10000", "-1 and up", "ms before unused dirty pages go back to the OS; 0 at once, -1 never")
OPTION(background_thread, bool, false, "false", "true, false", "one thread of the allocator's own purges what decay has aged, about every second, also while the program makes no call at all (otherwise decay runs on the program's own calls)")
OPTION(bind, enum, BIND_LEAST, "least", "least, rr", "how a new thread picks its arena: the least loaded, or round-robin")
OPTION(thp, bool, false, "false", "true, false", "true: huge blocks (over 256 KiB) ask for transparent huge pages (far fewer page faults, but a block is resident in 2 MiB steps), and arena chunks and metadata follow the system setting; false: chunks and metadata never get them (a system set to always would back a chunk with a few pages in use with whole 2 MiB pages)")
OPTION(junk, bool, false, "false", "true, false", "fill new blocks with 0xa5 and freed ones with 0x5a (turns thread caches off)")
OPTION(stats_print, bool, false, "false", "true, false", "print statistics to stderr at exit")
OPTION(stats_print_opts, string, "", "", "letters; J: JSON", "the opts of sc_stats_print for the statistics at exit")
OPTION(secure, bool, SC_SECURE, "false", "true, false", "hardening: canaries after small blocks, zeroing on free, shuffled slabs, guard pages (default true in make SECURE=1 builds)")
OPTION(prof, bool, false, "false", "true, false", "heap profiling: sample allocations and record their backtraces")
OPTION(prof_sample, int, 524288, "524288", "1 to 2^40", "mean bytes allocated between two samples (drawn at random, so the profile is unbiased)")
OPTION(prof_prefix, string, "scmalloc", "scmalloc", "a path prefix", "heap profiles go to <prefix>.<pid>.<seq>.heap")
OPTION(prof_final, bool, true, "true", "true, false", "with prof: dump a heap profile at exit")
