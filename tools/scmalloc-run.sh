#!/bin/sh
# scmalloc-run CMD [ARGS...]: runs CMD with scmalloc preloaded.
# Finds the library beside this script (build tree) or in ../lib (installed).
here=$(cd "$(dirname "$0")" && pwd)
for lib in "$here/libscmalloc.so" "$here/../lib/libscmalloc.so"; do
    if [ -f "$lib" ]; then
        LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}" exec "$@"
    fi
done
echo "scmalloc-run: libscmalloc.so not found next to $0" >&2
exit 127
