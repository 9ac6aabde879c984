/*
 * thp.c: the option thp. The program runs once as it is, then again with
 * SCMALLOC_CONF=thp:true (the allocator reads its options before main).
 * In both runs it allocates huge blocks (fresh, and grown by realloc to
 * where they must move), writes every page and reads the kernel's verdict
 * on the mapping that holds each one: the "THPeligible" line of
 * /proc/self/smaps, which says whether that mapping may be backed by
 * transparent huge pages.
 *   - thp:true: every block's mapping is eligible, and opt.thp reads true;
 *   - default: none is, when the system gives huge pages only to mappings
 *     that ask (transparent_hugepage/enabled = madvise); under "always"
 *     every mapping is eligible anyway, so only the thp:true half is
 *     checked;
 *   - the contents survive, and the heap checks clean.
 * And the mapping that holds a small block (an arena chunk) carries the
 * kernel's "nh" flag (MADV_NOHUGEPAGE, VmFlags in smaps) by default, so
 * that a system set to "always" does not back it with 2 MiB pages, and
 * does not with thp:true, where the system's setting rules.
 * Skipped where the kernel has no transparent huge pages, or where they
 * are off ("never").
 */
#include "../harness.h"

#include <fcntl.h>
#include <stdbool.h>

static char smaps[8 << 20];

/* The line of /proc/self/smaps that starts with key, among the fields of
 * the mapping that holds p (in smaps, up to its newline), or NULL if the
 * kernel does not say. Reads the file without allocating. */
static const char *smaps_line(const void *p, const char *key)
{
    read_proc_file("/proc/self/smaps", smaps, sizeof smaps);
    bool inside = false;
    for (char *line = smaps; *line;) {
        char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        unsigned long lo, hi;
        char dash;
        /* A mapping's first line: "lo-hi perms ..."; its fields follow. */
        if (sscanf(line, "%lx%c%lx", &lo, &dash, &hi) == 3 && dash == '-')
            inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        else if (inside && strncmp(line, key, strlen(key)) == 0)
            return line;
        line = *end ? end + 1 : end;
    }
    return NULL;
}

/* The THPeligible value (0 or 1) of the mapping that holds p, -1 if the
 * kernel does not say. */
static int thp_eligible(const void *p)
{
    const char *line = smaps_line(p, "THPeligible:");
    return line ? atoi(line + 12) : -1;
}

/* Whether the VmFlags of the mapping that holds p name flag; -1 if the
 * kernel does not say. */
static int vm_flag(const void *p, const char *flag)
{
    const char *line = smaps_line(p, "VmFlags:");
    if (!line) return -1;
    size_t n = strlen(flag);
    for (const char *f = line + 8; *f && *f != '\n'; f++)
        if (f[-1] == ' ' && strncmp(f, flag, n) == 0 && (f[n] == ' ' || f[n] == '\n' || f[n] == 0))
            return 1;
    return 0;
}

/* The chunk of a small block: "nh" exactly when want_nh. */
static void check_chunk(int want_nh, const char *label)
{
    char *p = malloc(100);
    REQUIRE(p != NULL);
    p[0] = 1;
    int got = vm_flag(p, "nh");
    CHECKF(got == want_nh, "%s: the chunk of a small block has the nohugepage flag %d, not %d", label, got, want_nh);
    free(p);
}

static void touch(char *p, size_t size, uint64_t seed)
{
    for (size_t i = 0; i < size; i += 4096) p[i] = (char)(seed + i / 4096);
}

static bool touched_ok(const char *p, size_t size, uint64_t seed)
{
    for (size_t i = 0; i < size; i += 4096)
        if (p[i] != (char)(seed + i / 4096)) return false;
    return true;
}

/* Huge blocks as they come, and grown so that they move: each mapping's
 * verdict must be `want`. */
static void check_blocks(int want, const char *label)
{
    enum { N = 4 };
    char *p[N];
    size_t size[N];
    for (int i = 0; i < N; i++) {
        size[i] = ((size_t)(4 + 3 * i) << 20) + 12345;
        p[i] = malloc(size[i]);
        REQUIRE(p[i] != NULL);
        touch(p[i], size[i], (uint64_t)i);
        int got = thp_eligible(p[i]);
        CHECKF(got == want, "%s: a fresh %zu-byte block's mapping has THPeligible %d, not %d",
               label, size[i], got, want);
    }
    for (int i = 0; i < N; i++) {
        char *q = realloc(p[i], size[i] * 3);
        REQUIRE(q != NULL);
        CHECKF(touched_ok(q, size[i], (uint64_t)i), "%s: realloc lost the contents", label);
        touch(q, size[i] * 3, (uint64_t)i + 100);
        int got = thp_eligible(q);
        CHECKF(got == want, "%s: a block grown to %zu bytes sits in a mapping with THPeligible %d, not %d",
               label, size[i] * 3, got, want);
        p[i] = q;
    }
    for (int i = 0; i < N; i++) free(p[i]);
    CHECK(sc_heap_check() == 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    char mode[32] = "";
    int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);
    if (fd < 0) SKIP("the kernel has no transparent huge pages");
    ssize_t n = read(fd, mode, sizeof mode - 1);
    close(fd);
    mode[n > 0 ? n : 0] = 0;
    if (strstr(mode, "[never]")) SKIP("transparent huge pages are off (never)");
    bool always = strstr(mode, "[always]") != NULL;

    const char *conf = getenv("SCMALLOC_CONF");
    if (!conf || strcmp(conf, "thp:true") != 0) {
        bool on = true;
        size_t len = sizeof on;
        CHECK(sc_ctl("opt.thp", &on, &len, NULL, 0) == 0 && !on);
        if (!always) check_blocks(0, "default");
        check_chunk(1, "default");
        if (__atomic_load_n(&harness_checks_failed, __ATOMIC_RELAXED)) return harness_summary();
        run_with_conf(argv, "thp:true"); /* does not return */
    }
    bool on = false;
    size_t len = sizeof on;
    CHECK(sc_ctl("opt.thp", &on, &len, NULL, 0) == 0 && on);
    check_blocks(1, "thp:true");
    check_chunk(0, "thp:true");
    return harness_summary();
}
