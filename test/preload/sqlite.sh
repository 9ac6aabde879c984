#!/usr/bin/env bash
# sqlite.sh: /usr/bin/sqlite3 under scmalloc creates a table in a database
# file, inserts 100k rows of deterministic pseudo-random data, builds an
# index, runs GROUP BY / ORDER BY / join queries and an integrity check.
# The output must be identical to the run without preload.
# SCTEST: variants=release,debug,ubsan timeout=180
# shellcheck source=test/preload/common.sh
. "$(dirname "$0")/common.sh"

SQLITE=/usr/bin/sqlite3
[ -x "$SQLITE" ] || skip "no $SQLITE"

cat >"$SC_TMP/script.sql" <<'SQL'
PRAGMA cache_size = -20000;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL, blob BLOB);
WITH RECURSIVE seq(i, r) AS (
    SELECT 1, 12345
    UNION ALL
    SELECT i + 1, (r * 1103515245 + 12345) % 2147483648 FROM seq WHERE i < 100000
)
INSERT INTO t(id, grp, name, val, blob)
SELECT i, r % 97, printf('name-%d-%s', r % 10007, substr('abcdefghijklmnopqrstuvwxyz', 1 + r % 26, 1 + (r >> 8) % 20)),
       (r % 100000) / 7.0, zeroblob(r % 300)
FROM seq;
CREATE INDEX t_name ON t(name);
SELECT grp, count(*), sum(length(name)), printf('%.3f', avg(val)), sum(length(blob))
  FROM t GROUP BY grp ORDER BY grp;
SELECT name, count(*) AS c FROM t GROUP BY name ORDER BY c DESC, name LIMIT 20;
SELECT a.grp, count(*) FROM t a JOIN t b ON a.id = b.id + 1 AND a.grp = b.grp GROUP BY a.grp ORDER BY a.grp LIMIT 10;
UPDATE t SET name = upper(name) || name WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT count(*), sum(length(name)), total(val) FROM t;
PRAGMA integrity_check;
SQL

run_sql() { # runner...
    rm -f "$SC_TMP/db.sqlite"
    "$@" "$SC_TMP/db.sqlite" <"$SC_TMP/script.sql"
}
run_sql "$SQLITE" >"$SC_TMP/expected" 2>"$SC_TMP/expected.err" \
    || fail "sqlite3 without preload failed: $(head -3 "$SC_TMP/expected.err")"
run_sql sc_run "$SQLITE" >"$SC_TMP/actual" 2>"$SC_TMP/actual.err" \
    || fail "sqlite3 under scmalloc exited $?: $(tail -3 "$SC_TMP/actual.err")"
[ -s "$SC_TMP/actual.err" ] && fail "sqlite3 under scmalloc wrote to stderr: $(head -3 "$SC_TMP/actual.err")"
[ "$(wc -l <"$SC_TMP/expected")" -gt 100 ] || fail "sqlite3 printed too little: $(head -3 "$SC_TMP/expected")"
same_output "sqlite3" "$SC_TMP/expected" "$SC_TMP/actual"
check_stats_on_stderr "sqlite3" "$SQLITE" :memory: "select count(*) from (with recursive s(i) as (select 1 union all select i+1 from s where i<10000) select * from s);"
echo "sqlite3: $(wc -l <"$SC_TMP/actual") identical lines, last: $(tail -1 "$SC_TMP/actual")"
