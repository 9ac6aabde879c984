#!/bin/sh
# Benchmarks on a bigger machine that cannot install Debian's packages
# (the 16-core scaling runs): prepare here, run there, read the results back.
#
#   bench/remote.sh prepare        here: build the library and bench/bin, and
#                                  copy the peers' libraries into .devbench/peers
#   bench/remote.sh run OUT LABEL  there, in a copy of the tree that carries
#                                  build/libscmalloc.so, bench/bin and
#                                  .devbench: scaling runs 1..32 threads, then
#                                  the bench/bin workloads (no python, sqlite or
#                                  callgrind); results in OUT/results.tar.gz
#
# The peers are the very files of this machine's Debian packages; run.py
# takes them with --peer-dir and their versions from versions.txt.
set -eu
cd "$(dirname "$0")/.."

case "${1:-}" in
prepare)
    make -s
    make -s -C bench
    mkdir -p .devbench/peers
    : > .devbench/peers/versions.txt
    for p in libjemalloc2:libjemalloc.so.2 libmimalloc2.0:libmimalloc.so.2 \
             libtcmalloc-minimal4:libtcmalloc_minimal.so.4; do
        pkg=${p%%:*} file=${p#*:}
        path=$(dpkg -L "$pkg" | grep "/$file\$" | head -1)
        cp -L "$path" .devbench/peers/
        echo "$pkg $(dpkg-query -W -f '${Version}' "$pkg")" >> .devbench/peers/versions.txt
    done
    ls -l .devbench/peers build/libscmalloc.so
    ;;
run)
    out=$2 label=$3
    echo "machine: $(nproc) CPUs, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo)"
    for f in build/libscmalloc.so .devbench/peers/*.so*; do
        ldd "$f" | grep -q 'not found' && { echo "$f: missing libraries"; ldd "$f"; }
    done
    py=python3
    res=$(mktemp -d)
    timeout 300 $py bench/run.py --scaling-only --threads ${THREADS:-1,2,4,8,16,32} --reps ${REPS:-3} \
        --peer-dir .devbench/peers --prebuilt --label "$label" --out "$res/scaling" \
        > "$res/scaling.log" 2>&1 || echo "scaling: exit $?"
    sed -n '/## Thread scaling/,/## Failures/p' "$res/scaling/latest.md"
    timeout 240 $py bench/run.py --no-scaling --no-callgrind --reps ${REPS:-3} \
        --workloads churn,larson,prodcons,falseshare,mixed,realloc,large,frag,threads,micro \
        --peer-dir .devbench/peers --prebuilt --label "$label" --out "$res/main" \
        > "$res/main.log" 2>&1 || echo "main: exit $?"
    sed -n '/## Summary/,/## Wall time/p' "$res/main/latest.md"
    rm -rf "$res/scaling/work" "$res/main/work"
    # one file: the device tool returns only a few
    tar -czf "$out/results.tar.gz" -C "$res" .
    ;;
*)
    echo "usage: bench/remote.sh prepare | run OUT LABEL" >&2
    exit 2
    ;;
esac
