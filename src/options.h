/*
 * Options: one table (options.c), filled from SCMALLOC_CONF at start-up.
 */
#ifndef SC_OPTIONS_H
#define SC_OPTIONS_H

#include "debug.h"

enum { BIND_LEAST = 0, BIND_RR = 1 };

/* String options hold at most this many bytes, the NUL included. */
#define SC_OPTION_STRING_MAX 256

typedef struct options {
    int64_t narenas;         /* 0: 4 per CPU */
    bool tcache;
    int64_t dirty_decay_ms;  /* -1: never purge on decay */
    bool background_thread;  /* background.c */
    bool junk;
    bool thp;                /* huge blocks ask for transparent huge pages (huge.c) */
    bool stats_print;
    char stats_print_opts[SC_OPTION_STRING_MAX];
    int64_t bind;            /* BIND_LEAST or BIND_RR */
    int64_t tcache_max;      /* entries per class, upper bound; -1: by size */
    bool secure;             /* hardening: canaries (alloc.c), shuffled fills (tcache.c), guard pages (chunk.h, huge.c, base.c) */
    bool prof;               /* heap profiling (prof.c) */
    int64_t prof_sample;     /* mean bytes between samples */
    char prof_prefix[SC_OPTION_STRING_MAX];
    bool prof_final;         /* dump at exit */
} options_t;

extern options_t opt;

/* Parses conf (may be NULL): "key:value,key:value". Unknown keys and bad
 * values get one line on stderr and leave the default. */
void options_parse(const char *conf);

/* For sc_ctl and the README: name, type, current value as text. */
typedef struct option_desc {
    const char *name;
    const char *type;      /* "bool", "int", "enum", "string" */
    const char *def;       /* default, as text */
    const char *range;
    const char *help;
    void *value;
} option_desc_t;

extern const option_desc_t option_table[];
extern const size_t option_count;
/* Writes the value of option d into buf as text. */
void option_format(const option_desc_t *d, char *buf, size_t size);

#endif
