#!/usr/bin/env bash
# test/run.sh: builds and runs scmalloc's test programs.
#
#   test/run.sh [PATTERN...]     run the tests whose name contains a PATTERN
#
# Variants (each a directory holding libscmalloc.so; skipped, and counted
# as skipped, when the library is missing):
#   release  $SC_BUILD        (default build)
#   debug    $SC_DEBUG_BUILD  (default build/debug, all assertions)
#   ubsan    $SC_UBSAN_BUILD  (default build/ubsan)
#   secure   $SC_SECURE_BUILD (default build/secure: make SECURE=1, so the
#            option secure is on unless SCMALLOC_CONF says otherwise)
#   static   $SC_BUILD/libscmalloc.a, for the tests that ask for it
# $SC_VARIANTS (e.g. "release debug") limits the variants; $SC_TIMEOUT_SCALE
# multiplies every timeout; $SC_VERBOSE=1 shows the stderr of failures;
# $SC_JOBS is how many tests run at once (default: the CPUs, at most 4).
#
# Tests:
#   test/unit/X.c     unit/X            standalone, linked with the DEBUG=3 objects
#                                       (make objs, in $OUT/unit-objs)
#   test/api/X.c      api/X@variant     linked with -lscmalloc
#   test/stress/X.c   stress/X@variant  linked with -lscmalloc
#   test/error/X.c    error/X@variant   must die by SIGABRT, printing
#                                       "ptr=%p" on stdout and a stderr
#                                       line with the expected message
#                                       and that pointer
#   test/preload/X.sh preload/X@variant real programs under the preload
#   test/tsan/stress_sc.c tsan/stress_sc  with -fsanitize=thread, linked with
#                                       the SANITIZE=thread build ($SC_TSAN_BUILD);
#                                       tsan/stress_sc_background runs it again
#                                       with background_thread:true
#   test/faults/faults.c faults/SETTING  linked with the FAULTS=1 build
#                                       ($SC_FAULTS_BUILD, default build/faults);
#                                       secure+SETTING also sets secure:true
# A line "SCTEST: ..." in a test's source sets, by words:
#   variants=a,b  timeout=SECONDS  nolink (not linked with scmalloc)
#   static (also run linked with libscmalloc.a)  abort "message"
#   alone (runs while no other test does)
# Exit status 77 means skipped; a line "SKIP: why" on stderr says why.
#
# Output: one line per test, PASS name / FAIL name (reason) / SKIP name
# (reason), then "N passed, N failed, N skipped". Exit status 1 when any
# failed. Logs: build/tests/logs/NAME.{out,err}. Tests run SC_JOBS at a
# time, each with its own binary, logs and scratch directory; their lines
# are printed in the order the tests were started.

set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2

SC_BUILD=${SC_BUILD:-build}
SC_DEBUG_BUILD=${SC_DEBUG_BUILD:-build/debug}
SC_UBSAN_BUILD=${SC_UBSAN_BUILD:-build/ubsan}
SC_SECURE_BUILD=${SC_SECURE_BUILD:-build/secure}
SC_VARIANTS=${SC_VARIANTS:-release debug ubsan static secure}
SC_TIMEOUT_SCALE=${SC_TIMEOUT_SCALE:-1}
SC_VERBOSE=${SC_VERBOSE:-0}
CC=${CC:-cc}
OUT=${SC_TEST_OUT:-build/tests}
# The allocation calls a test makes must happen: without -fno-builtin-*,
# gcc and clang delete a malloc whose block is only freed (and fold its
# NULL check), which hides what the test asserts.
CFLAGS_TEST="-O1 -g -Wall -Iinclude -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc
 -fno-builtin-realloc -fno-builtin-aligned_alloc -fno-builtin-posix_memalign -fno-builtin-memalign"
JOBS=$(nproc 2>/dev/null || echo 2)
# Tests run this many at a time. At most 4 by default: most tests run
# threads of their own, and timeouts are sized for a test that has a CPU.
SC_JOBS=${SC_JOBS:-$((JOBS < 4 ? JOBS : 4))}

# The allocator under test must not be configured from outside.
unset SCMALLOC_CONF LD_PRELOAD
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
ulimit -c 0

mkdir -p "$OUT/obj" "$OUT/logs" "$OUT/tmp" || exit 2
OUT=$(cd "$OUT" && pwd)

# ---- running tests side by side ----
# Each job is one function call in a subshell, its output kept in
# $RES/N until every job started before it has been printed. The counts
# come from the PASS/FAIL/SKIP lines of all jobs at the end.
RES=$OUT/results
rm -rf "$RES"
mkdir -p "$RES" || exit 2
njobs=0 nprinted=0 nrunning=0

print_finished() { # prints the finished jobs' lines, in the order they started
    while [ -e "$RES/$nprinted.done" ]; do
        cat "$RES/$nprinted"
        nprinted=$((nprinted + 1))
    done
}

schedule() { # function, arguments: runs it as a job
    while [ "$nrunning" -ge "$SC_JOBS" ]; do
        wait -n
        nrunning=$((nrunning - 1))
        print_finished
    done
    local i=$njobs
    njobs=$((njobs + 1))
    ( "$@" >"$RES/$i" 2>&1; : >"$RES/$i.done" ) &
    nrunning=$((nrunning + 1))
}

wait_all() {
    wait
    nrunning=0
    print_finished
}

# Every test reports inside a job (schedule): its line is what is counted.
report() { # PASS|FAIL|SKIP, name, reason
    case $1 in
    PASS) echo "PASS $2" ;;
    FAIL | SKIP) echo "$1 $2 ($3)" ;;
    esac
}

selected() { # name: true when no pattern was given or one matches
    local name=$1 pat
    [ ${#PATTERNS[@]} -eq 0 ] && return 0
    for pat in "${PATTERNS[@]}"; do
        case $name in *"$pat"*) return 0 ;; esac
    done
    return 1
}
PATTERNS=("$@")

variant_dir() {
    case $1 in
    release | static) echo "$SC_BUILD" ;;
    debug) echo "$SC_DEBUG_BUILD" ;;
    ubsan) echo "$SC_UBSAN_BUILD" ;;
    secure) echo "$SC_SECURE_BUILD" ;;
    esac
}

variant_lib() { # the file a variant needs
    case $1 in
    static) echo "$(variant_dir "$1")/libscmalloc.a" ;;
    *) echo "$(variant_dir "$1")/libscmalloc.so" ;;
    esac
}

abspath() { case $1 in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }

want_variant() {
    case " $SC_VARIANTS " in *" $1 "*) return 0 ;; esac
    return 1
}

# The words after "SCTEST:" in a file, or nothing.
directive() { grep -m1 -o 'SCTEST:.*' "$1" 2>/dev/null | sed 's/^SCTEST://; s/\*\/.*$//'; }

dir_value() { # directive text, key: the value of key=value
    local w
    for w in $1; do
        case $w in "$2="*) echo "${w#*=}"; return ;; esac
    done
}

has_word() { # directive text, word
    local w
    for w in $1; do [ "$w" = "$2" ] && return 0; done
    return 1
}

abort_message() { # directive text: the quoted message after "abort"
    sed -n 's/.*abort[[:space:]]*"\([^"]*\)".*/\1/p' <<<"$1"
}

# The reason a failed test gives: its first CHECK failure, else the first
# line naming a failure, else its last line on stderr.
failure_reason() { # stderr file
    local line
    line=$(grep -m1 -e 'CHECK failed' -e '^FAIL:' -e 'runtime error:' "$1" 2>/dev/null)
    [ -n "$line" ] || line=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1)
    printf '%s' "${line:0:300}"
}

signal_name() { kill -l "$1" 2>/dev/null | sed 's/^/SIG/' || echo "signal $1"; }

describe_status() { # exit status, timeout
    local rc=$1
    if [ "$rc" -eq 124 ]; then
        echo "timed out after $2 s"
    elif [ "$rc" -gt 128 ]; then
        echo "killed by $(signal_name $((rc - 128)))"
    else
        echo "exit status $rc"
    fi
}

# Runs a command under a timeout with its output in logs; sets RC. The
# braces keep bash's "Aborted (core dumped)" notices out of our output.
run_logged() { # log base, timeout, command...
    local log=$1 t=$2
    shift 2
    local t0 t1
    t0=$(date +%s.%N)
    { timeout -k 5 "$t" "$@" >"$log.out" 2>"$log.err" </dev/null; } 2>/dev/null
    RC=$?
    t1=$(date +%s.%N)
    printf '%6.1f s  %s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
        "${log##*/}" >>"$OUT/times.txt"
}

scaled() { awk -v t="$1" -v s="$SC_TIMEOUT_SCALE" 'BEGIN { printf "%d", t * s + 0.5 }'; }

show_log() { # log base
    [ "$SC_VERBOSE" = 1 ] || return 0
    sed 's/^/    | /' "$1.err" | tail -n 30
}

report_status() { # name, timeout, log base, why on failure: by $RC, 0 passes
    if [ "$RC" -eq 0 ]; then
        report PASS "$1"
    else
        report FAIL "$1" "$(describe_status "$RC" "$2"): $4"
        show_log "$3"
    fi
}

# ---- compiling ----

# Compiles the objects of all C tests in parallel; a failed compile leaves
# its .log beside the missing .o.
compile_objects() {
    local src obj running=0
    # objects built with other flags or another compiler are stale
    if [ "$(cat "$OUT/obj/.flags" 2>/dev/null)" != "$CC $CFLAGS_TEST" ]; then
        rm -f "$OUT"/obj/*.o
        echo "$CC $CFLAGS_TEST" >"$OUT/obj/.flags"
    fi
    for src in "$@"; do
        obj=$OUT/obj/$(basename "$(dirname "$src")")_$(basename "$src" .c).o
        (
            if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ test/harness.h -nt "$obj" ] ||
                [ test/api/family.h -nt "$obj" ] || [ include/scmalloc.h -nt "$obj" ]; then
                rm -f "$obj"
                # shellcheck disable=SC2086 # the flags are meant to split
                $CC $CFLAGS_TEST -c "$src" -o "$obj" 2>"$obj.log" || rm -f "$obj"
            fi
        ) &
        running=$((running + 1))
        if [ "$running" -ge "$JOBS" ]; then
            wait -n
            running=$((running - 1))
        fi
    done
    wait
}

obj_of() { echo "$OUT/obj/$(basename "$(dirname "$1")")_$(basename "$1" .c).o"; }

# Links one test for one variant; prints the reason on failure.
link_test() { # source, variant, binary
    local src=$1 v=$2 bin=$3 obj dir absdir
    obj=$(obj_of "$src")
    if [ ! -f "$obj" ]; then
        echo "compile error: $(grep -m1 -e 'error' "$obj.log" 2>/dev/null | cut -c1-250)"
        return 1
    fi
    dir=$(variant_dir "$v")
    absdir=$(abspath "$dir")
    if has_word "$(directive "$src")" nolink; then
        $CC -o "$bin" "$obj" -pthread -ldl 2>"$bin.link.log"
    elif [ "$v" = static ]; then
        $CC -o "$bin" "$obj" "$absdir/libscmalloc.a" -pthread -ldl 2>"$bin.link.log"
    else
        $CC -o "$bin" "$obj" -L"$absdir" -lscmalloc -Wl,-rpath,"$absdir" -pthread -ldl \
            2>"$bin.link.log"
    fi || {
        echo "link error: $(grep -m1 -e 'undefined' -e 'error' "$bin.link.log" | cut -c1-250)"
        return 1
    }
}

# ---- running ----

run_c_test() { # source, variant
    local src=$1 v=$2 group name base d t bin why lib
    group=$(basename "$(dirname "$src")")
    base=$(basename "$src" .c)
    name=$group/$base@$v
    selected "$name" || return 0
    lib=$(variant_lib "$v")
    if [ ! -f "$lib" ]; then
        report SKIP "$name" "$lib missing"
        return
    fi
    d=$(directive "$src")
    t=$(scaled "$(dir_value "$d" timeout || true)")
    [ "$t" -gt 0 ] 2>/dev/null || t=$(scaled 60)
    mkdir -p "$OUT/$v"
    bin=$OUT/$v/${group}_$base
    if ! why=$(link_test "$src" "$v" "$bin"); then
        report FAIL "$name" "$why"
        return
    fi
    local log=$OUT/logs/${group}_$base@$v tmp=$OUT/tmp/${group}_$base@$v
    rm -rf "$tmp"
    mkdir -p "$tmp"
    run_logged "$log" "$t" env SC_VARIANT="$v" SC_LIB="$(abspath "$(variant_lib "${v/static/release}")")" \
        SC_TMP="$tmp" "$bin"

    if [ "$group" = error ]; then
        check_abort "$name" "$log" "$(abort_message "$d")" "$t"
    elif [ "$RC" -eq 0 ] && [ "$v" = ubsan ] && grep -q 'runtime error:' "$log.err"; then
        report FAIL "$name" "UBSan: $(grep -m1 'runtime error:' "$log.err" | cut -c1-250)"
        show_log "$log"
    elif [ "$RC" -eq 0 ]; then
        report PASS "$name"
        rm -rf "$tmp"
    elif [ "$RC" -eq 77 ]; then
        report SKIP "$name" "$(sed -n 's/^SKIP: //p' "$log.err" | head -n 1)"
    else
        report FAIL "$name" "$(describe_status "$RC" "$t"): $(failure_reason "$log.err")"
        show_log "$log"
    fi
}

# An error test passes when it died by SIGABRT after printing "ptr=P" on
# stdout, and its stderr has a line with both the message and P.
check_abort() { # name, log base, message, timeout
    local name=$1 log=$2 msg=$3 t=$4 ptr
    ptr=$(sed -n 's/^ptr=//p' "$log.out" | head -n 1)
    if [ -z "$msg" ]; then
        report FAIL "$name" "no SCTEST: abort \"message\" line in the source"
    elif [ -z "$ptr" ]; then
        report FAIL "$name" "$(describe_status "$RC" "$t") before printing the pointer: $(failure_reason "$log.err")"
    elif [ "$RC" -eq 0 ]; then
        report FAIL "$name" "did not abort: the misuse of $ptr went unnoticed"
    elif [ "$RC" -ne 134 ]; then
        report FAIL "$name" "$(describe_status "$RC" "$t"), want SIGABRT; stderr: $(failure_reason "$log.err")"
        show_log "$log"
    elif ! grep -F "$msg" "$log.err" | grep -qF -- "$ptr"; then
        report FAIL "$name" "aborted, but no stderr line has \"$msg\" and $ptr; stderr: $(head -n 1 "$log.err" | cut -c1-200)"
        show_log "$log"
    else
        report PASS "$name"
    fi
}

run_preload_test() { # script, variant
    local sh=$1 v=$2 base name d t lib run log tmp why
    base=$(basename "$sh" .sh)
    name=preload/$base@$v
    selected "$name" || return 0
    lib=$(variant_lib "$v")
    if [ ! -f "$lib" ]; then
        report SKIP "$name" "$lib missing"
        return
    fi
    d=$(directive "$sh")
    t=$(scaled "$(dir_value "$d" timeout || true)")
    [ "$t" -gt 0 ] 2>/dev/null || t=$(scaled 120)
    # each build has its own wrapper; the release one is part of the contract
    run=$(abspath "$(variant_dir "$v")/scmalloc-run")
    [ "$v" != release ] && [ ! -x "$run" ] && run=""
    log=$OUT/logs/preload_$base@$v
    tmp=$OUT/tmp/preload_$base@$v
    rm -rf "$tmp"
    mkdir -p "$tmp"
    if [ -n "$run" ] && [ ! -x "$run" ]; then
        report FAIL "$name" "$run missing"
        return
    fi
    run_logged "$log" "$t" env SC_VARIANT="$v" SC_LIB="$(abspath "$lib")" SC_RUN="$run" SC_TMP="$tmp" \
        bash "$sh"
    case $RC in
    0)
        report PASS "$name"
        rm -rf "$tmp"
        ;;
    77) report SKIP "$name" "$(sed -n 's/^SKIP: //p' "$log.err" | head -n 1)" ;;
    *)
        why=$(failure_reason "$log.err")
        report FAIL "$name" "$(describe_status "$RC" "$t"): ${why#FAIL: }"
        show_log "$log"
        ;;
    esac
}

# Unit tests link with the library's objects built with DEBUG=3 (all
# assertions), made once here (make keeps them up to date) rather than
# compiled again for each test. Sets UNIT_OBJS, empty if the build failed.
UNIT_OBJS= UNIT_TRIED=
build_unit_objects() {
    local dir=$OUT/unit-objs
    UNIT_TRIED=1
    if make -s objs DEBUG=3 BUILDDIR="$dir" CC="$CC" >"$OUT/logs/unit-objs.build" 2>&1; then
        UNIT_OBJS=$(ls "$dir"/obj/*.o)
    fi
}

run_unit_test() { # source
    local src=$1 base name bin log d t
    base=$(basename "$src" .c)
    name=unit/$base
    selected "$name" || return 0
    bin=$OUT/unit_$base
    log=$OUT/logs/unit_$base
    # shellcheck disable=SC2086 # UNIT_OBJS is meant to split
    if [ -z "$UNIT_OBJS" ]; then
        report FAIL "$name" "the DEBUG=3 objects did not build: $(grep -m1 'error' "$OUT/logs/unit-objs.build" | cut -c1-250)"
        return
    fi
    if ! $CC -O1 -g -DSC_DEBUG=3 -Isrc -Iinclude -pthread "$src" $UNIT_OBJS -o "$bin" \
        2>"$log.build"; then
        report FAIL "$name" "build error: $(grep -m1 'error' "$log.build" | cut -c1-250)"
        return
    fi
    d=$(directive "$src")
    t=$(scaled "$(dir_value "$d" timeout || true)")
    [ "$t" -gt 0 ] 2>/dev/null || t=$(scaled 120)
    run_logged "$log" "$t" env SC_TMP="$OUT/tmp" "$bin"
    case $RC in
    0) report PASS "$name" ;;
    77) report SKIP "$name" "$(sed -n 's/^SKIP: //p' "$log.err" | head -n 1)" ;;
    *)
        report FAIL "$name" "$(describe_status "$RC" "$t"): $(failure_reason "$log.err")"
        show_log "$log"
        ;;
    esac
}

# Fault injection: test/faults/faults.c linked with the FAULTS=1 build, its
# os layer failing every Nth / a random 1 in N memory system calls.
SC_FAULTS_BUILD=${SC_FAULTS_BUILD:-build/faults}
run_fault_tests() {
    local lib=$SC_FAULTS_BUILD/libscmalloc.so dir bin=$OUT/faults log setting name conf
    if ! selected faults; then return 0; fi
    if [ ! -f "$lib" ]; then
        report SKIP "faults/*" "no FAULTS=1 build in $SC_FAULTS_BUILD"
        return 0
    fi
    dir=$(cd "$SC_FAULTS_BUILD" && pwd)
    # shellcheck disable=SC2086 # CFLAGS_TEST is meant to split
    if ! $CC $CFLAGS_TEST -Itest test/faults/faults.c -o "$bin" -L"$dir" -lscmalloc \
        -Wl,-rpath,"$dir" -pthread 2>"$OUT/logs/faults.build"; then
        report FAIL "faults/build" "$(grep -m1 error "$OUT/logs/faults.build")"
        return 0
    fi
    # secure+: with guard pages, whose mprotect calls fail as well
    for setting in every:7 every:50 random:5:42 random:20:7 secure+every:7 secure+random:5:42; do
        name=faults/${setting//:/_}
        log=$OUT/logs/${name//\//_}
        conf=()
        case $setting in secure+*) conf=(SCMALLOC_CONF=secure:true) ;; esac
        run_logged "$log" "$(scaled 180)" env "${conf[@]}" SCMALLOC_FAULTS="${setting#secure+}" "$bin" 4 20000
        report_status "$name" 180 "$log" "$(failure_reason "$log.err")"
    done
}

# ThreadSanitizer: test/tsan/stress_sc.c, built with -fsanitize=thread and
# linked with the SANITIZE=thread build, through the sc_ names.
SC_TSAN_BUILD=${SC_TSAN_BUILD:-build/tsan}
run_tsan_tests() {
    local lib=$SC_TSAN_BUILD/libscmalloc.so dir bin=$OUT/tsan_stress_sc log name conf
    selected tsan/stress_sc || selected tsan/stress_sc_background || return 0
    if [ ! -f "$lib" ]; then
        report SKIP "tsan/stress_sc" "no SANITIZE=thread build in $SC_TSAN_BUILD"
        return 0
    fi
    dir=$(cd "$SC_TSAN_BUILD" && pwd)
    # shellcheck disable=SC2086 # CFLAGS_TEST is meant to split
    if ! $CC $CFLAGS_TEST -fsanitize=thread -Itest test/tsan/stress_sc.c -o "$bin" -L"$dir" -lscmalloc \
        -Wl,-rpath,"$dir" -pthread 2>"$OUT/logs/tsan_stress_sc.build"; then
        report FAIL "tsan/stress_sc" "build error: $(grep -m1 error "$OUT/logs/tsan_stress_sc.build")"
        return 0
    fi
    # The second run adds the background thread's purges to the races.
    for name in stress_sc stress_sc_background; do
        selected "tsan/$name" || continue
        log=$OUT/logs/tsan_$name
        conf=
        [ "$name" = stress_sc_background ] && conf=background_thread:true,dirty_decay_ms:200
        run_logged "$log" "$(scaled 240)" env SCMALLOC_CONF="$conf" TSAN_OPTIONS=halt_on_error=1:exitcode=66 "$bin"
        report_status "tsan/$name" 240 "$log" "$(grep -m1 -E 'WARNING: ThreadSanitizer|CHECK failed' "$log.err")"
    done
}

# ---- the suite ----

start=$(date +%s)
: >"$OUT/times.txt"
shopt -s nullglob
c_tests=(test/api/*.c test/error/*.c test/stress/*.c)
compile_objects "${c_tests[@]}"

# The longest first, so that they do not run by themselves at the end: the
# two sequences below, then the real programs.
schedule run_fault_tests
schedule run_tsan_tests

for group in preload unit api error stress; do
    if [ "$group" = unit ]; then
        for src in test/unit/*.c; do
            if [ -z "$UNIT_TRIED" ] && selected "unit/$(basename "$src" .c)"; then build_unit_objects; fi
            schedule run_unit_test "$src"
        done
        continue
    fi
    for v in release debug ubsan static secure; do
        want_variant "$v" || continue
        if [ "$group" = preload ]; then
            files=(test/preload/*.sh)
        else
            files=(test/"$group"/*.c)
        fi
        for f in "${files[@]}"; do
            [ "$(basename "$f")" = common.sh ] && continue
            d=$(directive "$f")
            allowed=$(dir_value "$d" variants)
            if [ "$v" = static ]; then
                has_word "$d" static || continue
            elif [ -n "$allowed" ]; then
                case ",$allowed," in *",$v,"*) ;; *) continue ;; esac
            fi
            run=run_c_test
            [ "$group" = preload ] && run=run_preload_test
            if has_word "$d" alone; then
                selected "$group/$(basename "${f%.*}")@$v" || continue
                wait_all
                schedule "$run" "$f" "$v"
                wait_all
            else
                schedule "$run" "$f" "$v"
            fi
        done
    done
done
wait_all

echo "(took $(($(date +%s) - start)) s; logs in ${OUT#"$ROOT"/}/logs, times in ${OUT#"$ROOT"/}/times.txt)"
passed=$(cat /dev/null "$RES"/[0-9]* | grep -c '^PASS ')
failed=$(cat /dev/null "$RES"/[0-9]* | grep -c '^FAIL ')
skipped=$(cat /dev/null "$RES"/[0-9]* | grep -c '^SKIP ')
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
