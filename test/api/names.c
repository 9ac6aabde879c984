/*
 * names.c: every entry point of the malloc family that a program or glibc
 * may call resolves, in the process's global scope, to libscmalloc, not
 * to glibc: a missing one would let glibc serve that call and hand a
 * foreign pointer to another of scmalloc's functions. Then blocks cross
 * between names: allocated through one family, freed through another.
 */
#include "family.h"
#include <dlfcn.h>

static const char *const entry_points[] = {
    "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc", "malloc_usable_size",
    "mallinfo", "mallinfo2", "malloc_trim", "mallopt", "cfree", "free_sized",
    "free_aligned_sized", "__libc_malloc", "__libc_free", "__libc_calloc",
    "__libc_realloc", "__libc_memalign", "__libc_valloc", "__libc_pvalloc",
    "__posix_memalign",
    "sc_malloc", "sc_free", "sc_calloc", "sc_realloc", "sc_reallocarray",
    "sc_posix_memalign", "sc_aligned_alloc", "sc_memalign", "sc_valloc",
    "sc_pvalloc", "sc_malloc_usable_size", "sc_free_sized", "sc_free_aligned_sized",
    "sc_malloc_trim", "sc_stats_print", "sc_ctl", "sc_heap_check",
};

static void check_resolution(void)
{
    for (size_t i = 0; i < sizeof entry_points / sizeof entry_points[0]; i++) {
        const char *name = entry_points[i];
        void *sym = dlsym(RTLD_DEFAULT, name);
        CHECKF(sym != NULL, "%s is not defined at all", name);
        if (!sym)
            continue;
        Dl_info info;
        int ok = dladdr(sym, &info);
        CHECKF(ok && info.dli_fname && strstr(info.dli_fname, "libscmalloc"),
               "%s resolves to %s, not to libscmalloc", name,
               ok && info.dli_fname ? info.dli_fname : "(unknown object)");
    }
}

/* Only public names are exported: the sc_ API, the malloc family under its
 * glibc names, C++ operators, linker symbols. Read with nm -D from the
 * library run.sh names in $SC_LIB. */
static int allowed_export(const char *name)
{
    static const char *const extra[] = {
        "malloc_stats", "malloc_info", "_init", "_fini", "_edata", "_end", "__bss_start",
    };
    for (size_t i = 0; i < sizeof entry_points / sizeof entry_points[0]; i++)
        if (strcmp(name, entry_points[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (strcmp(name, extra[i]) == 0)
            return 1;
    if (strncmp(name, "sc_", 3) == 0)
        return 1;
    /* operator new / new[] / delete / delete[] in all their forms */
    return strncmp(name, "_Znw", 4) == 0 || strncmp(name, "_Zna", 4) == 0 ||
           strncmp(name, "_Zdl", 4) == 0 || strncmp(name, "_Zda", 4) == 0;
}

static void check_exports(void)
{
    const char *lib = getenv("SC_LIB");
    if (!lib || !*lib) {
        fprintf(stderr, "note: SC_LIB not set, exported symbols not checked\n");
        return;
    }
    if (run_shell("command -v nm >/dev/null 2>&1") != 0) {
        fprintf(stderr, "note: no nm, exported symbols not checked\n");
        return;
    }
    char cmd[1024], line[512];
    snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s'", lib);
    FILE *p = popen(cmd, "r");
    REQUIRE(p != NULL);
    int n = 0;
    while (fgets(line, sizeof line, p)) {
        char addr[64], type[8], name[400];
        if (sscanf(line, "%63s %7s %399s", addr, type, name) != 3)
            continue;
        char *at = strchr(name, '@'); /* symbol versions */
        if (at)
            *at = 0;
        n++;
        CHECKF(allowed_export(name), "%s exports %s (type %s), an internal name", lib, name,
               type);
    }
    CHECKF(pclose(p) == 0 && n > 0, "nm -D found no exported symbol in %s", lib);
}

/* Allocate with one family, free with each of the others. */
static void check_crossing(void)
{
    const size_t sizes[] = { 0, 8, 100, 4096, 70000, 3 << 20, 9 << 20 };
    for (size_t a = 0; a < NFAMILIES; a++)
        for (size_t b = 0; b < NFAMILIES; b++)
            for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                size_t n = sizes[i];
                char *p = families[a].calloc(1, n);
                REQUIRE(p != NULL);
                CHECK(find_byte_not(p, n, 0) == (size_t)-1);
                fill_pattern(p, n, i);
                CHECKF(families[b].usable_size(p) >= n, "usable size of a %s block via %s",
                       families[a].name, families[b].name);
                p = families[b].realloc(p, n * 2 + 1);
                REQUIRE(p != NULL);
                CHECKF(PATTERN_OK(p, n, i), "%s block realloc'ed via %s lost content",
                       families[a].name, families[b].name);
                families[(b + 1) % NFAMILIES].free(p);
                void *m = families[a].memalign(4096, n + 1);
                REQUIRE(m != NULL && is_aligned(m, 4096));
                families[b].free(m);
            }
}

int main(void)
{
    check_resolution();
    check_exports();
    check_crossing();
    CHECKF(sc_heap_check() == 0, "sc_heap_check found problems");
    return harness_summary();
}
