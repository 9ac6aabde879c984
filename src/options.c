/*
 * options: the table of every option, and SCMALLOC_CONF parsing. The
 * README's option list is this table (make options-doc prints it).
 */
#include "options.h"

#include <string.h>

options_t opt = {
#define OPTION(name, type, def, deftext, range, help) .name = def,
#include "options_table.h"
#undef OPTION
};

const option_desc_t option_table[] = {
#define OPTION(name, type, def, deftext, range, help) { #name, #type, deftext, range, help, &opt.name },
#include "options_table.h"
#undef OPTION
};
const size_t option_count = sizeof(option_table) / sizeof(option_table[0]);

static const char *bind_names[] = { "least", "rr" };

SC_COLD static bool parse_int(const char *s, size_t len, int64_t *out)
{
    bool neg = false;
    size_t i = 0;
    if (i < len && s[i] == '-') { neg = true; i++; }
    if (i == len) return false;
    int64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - 9) / 10) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

SC_COLD static bool eq(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* Sets option d from the text value; false if the value is not valid. */
SC_COLD static bool option_set(const option_desc_t *d, const char *v, size_t vlen)
{
    if (strcmp(d->type, "bool") == 0) {
        if (eq(v, vlen, "true") || eq(v, vlen, "1")) *(bool *)d->value = true;
        else if (eq(v, vlen, "false") || eq(v, vlen, "0")) *(bool *)d->value = false;
        else return false;
        return true;
    }
    if (strcmp(d->type, "string") == 0) {
        if (vlen == 0 || vlen >= SC_OPTION_STRING_MAX) return false;
        memcpy(d->value, v, vlen);
        ((char *)d->value)[vlen] = 0;
        return true;
    }
    int64_t x;
    if (strcmp(d->type, "enum") == 0) {
        for (size_t i = 0; i < sizeof(bind_names) / sizeof(bind_names[0]); i++)
            if (eq(v, vlen, bind_names[i])) { *(int64_t *)d->value = (int64_t)i; return true; }
        return false;
    }
    if (!parse_int(v, vlen, &x)) return false;
    if (strcmp(d->name, "narenas") == 0 && (x < 0 || x > SC_MAX_ARENAS)) return false;
    if (strcmp(d->name, "dirty_decay_ms") == 0 && x < -1) return false;
    if (strcmp(d->name, "prof_sample") == 0 && (x < 1 || x > ((int64_t)1 << 40))) return false;
    if (strcmp(d->name, "tcache_max") == 0 && (x < -1 || x > SC_TCACHE_MAX_ENTRIES)) return false;
    *(int64_t *)d->value = x;
    return true;
}

void options_parse(const char *conf)
{
    if (!conf) return;
    const char *s = conf;
    while (*s) {
        const char *end = strchr(s, ',');
        if (!end) end = s + strlen(s);
        const char *colon = memchr(s, ':', (size_t)(end - s));
        size_t klen = colon ? (size_t)(colon - s) : (size_t)(end - s);
        const char *v = colon ? colon + 1 : end;
        size_t vlen = (size_t)(end - v);
        char key[64];
        size_t kcopy = klen < sizeof(key) - 1 ? klen : sizeof(key) - 1;
        memcpy(key, s, kcopy);
        key[kcopy] = 0;
        if (klen) {
            const option_desc_t *d = NULL;
            for (size_t i = 0; i < option_count; i++)
                if (eq(s, klen, option_table[i].name)) d = &option_table[i];
            char val[64];
            size_t vcopy = vlen < sizeof(val) - 1 ? vlen : sizeof(val) - 1;
            memcpy(val, v, vcopy);
            val[vcopy] = 0;
            if (!d)
                fmt_stderr("scmalloc: SCMALLOC_CONF: unknown option '%s' (ignored)\n", key);
            else if (!colon || !option_set(d, v, vlen)) {
                char cur[32];
                option_format(d, cur, sizeof(cur));
                fmt_stderr("scmalloc: SCMALLOC_CONF: bad value '%s' for option '%s' (range %s; keeping %s)\n",
                           val, key, d->range, cur);
            }
        }
        s = *end ? end + 1 : end;
    }
}

SC_COLD void option_format(const option_desc_t *d, char *buf, size_t size)
{
    if (strcmp(d->type, "bool") == 0) fmt_format(buf, size, "%s", *(bool *)d->value ? "true" : "false");
    else if (strcmp(d->type, "string") == 0) fmt_format(buf, size, "%s", (const char *)d->value);
    else if (strcmp(d->type, "enum") == 0) fmt_format(buf, size, "%s", bind_names[*(int64_t *)d->value & 1]);
    else fmt_format(buf, size, "%lld", (long long)*(int64_t *)d->value);
}
