#!/usr/bin/env bash
# setuid.sh: a setuid-root program linked with scmalloc ignores
# SCMALLOC_CONF when an unprivileged user starts it (AT_SECURE), so that
# the user cannot make it write heap profiles as root (prof_prefix) or
# change how it allocates. The same program without the setuid bit still
# reads the variable: stats_print:true prints the statistics at exit.
# Needs root (to make the file setuid-root), setpriv (util-linux) and a
# /tmp that honours setuid bits; skipped otherwise.
# SCTEST: variants=release,debug timeout=60
# shellcheck source=test/preload/common.sh
. "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || skip "not root: cannot make a setuid-root program"
command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
command -v cc >/dev/null || skip "no cc"
ARCHIVE=$(dirname "$SC_LIB")/libscmalloc.a
[ -f "$ARCHIVE" ] || skip "no $ARCHIVE"

cat >"$SC_TMP/suid.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
int main(void)
{
    char *p = malloc(1000);
    if (!p) return 2;
    memset(p, 1, 1000);
    printf("at_secure=%lu\n", getauxval(AT_SECURE));
    free(p);
    return 0;
}
EOF
cc -O1 "$SC_TMP/suid.c" "$ARCHIVE" -pthread -o "$SC_TMP/suid" 2>"$SC_TMP/build.err" \
    || fail "cc failed: $(head -5 "$SC_TMP/build.err")"

# A directory that the unprivileged user can reach, whatever the modes of
# the checkout's parents.
DIR=$(mktemp -d /tmp/scmalloc-suid.XXXXXX) || fail "mktemp"
trap 'rm -rf "$DIR"' EXIT
chmod 755 "$DIR"
cp "$SC_TMP/suid" "$DIR/plain"
cp "$SC_TMP/suid" "$DIR/setuid"
chown root:root "$DIR/plain" "$DIR/setuid"
chmod 755 "$DIR/plain"
chmod 4755 "$DIR/setuid"

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

SCMALLOC_CONF=stats_print:true as_nobody "$DIR/plain" >"$SC_TMP/plain.out" 2>"$SC_TMP/plain.err" \
    || fail "plain program: exit status $?: $(head -3 "$SC_TMP/plain.err")"
grep -q "at_secure=0" "$SC_TMP/plain.out" || fail "plain program: $(cat "$SC_TMP/plain.out")"
grep -q allocated "$SC_TMP/plain.err" \
    || fail "plain program: SCMALLOC_CONF=stats_print:true printed no statistics"

SCMALLOC_CONF=stats_print:true as_nobody "$DIR/setuid" >"$SC_TMP/suid.out" 2>"$SC_TMP/suid.err" \
    || fail "setuid program: exit status $?: $(head -3 "$SC_TMP/suid.err")"
grep -q "at_secure=1" "$SC_TMP/suid.out" \
    || skip "the setuid program did not run with AT_SECURE (nosuid /tmp?): $(cat "$SC_TMP/suid.out")"
if grep -q allocated "$SC_TMP/suid.err"; then
    fail "setuid program: SCMALLOC_CONF was obeyed (statistics printed)"
fi
echo "plain program read SCMALLOC_CONF; the setuid one ignored it"
