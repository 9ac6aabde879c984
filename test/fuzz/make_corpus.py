#!/usr/bin/python3
"""Writes the seed corpus of fuzz_ops.c into test/fuzz/corpus/.

Each file is a sequence of operations in the harness's encoding (see the
comment at the top of fuzz_ops.c; the constants below must follow it).
Deterministic: running it again gives the same files.

    /usr/bin/python3 test/fuzz/make_corpus.py
"""
import os
import random

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

MALLOC, BURST, CALLOC, REALLOC = 0, 2, 3, 4
POSIX_MEMALIGN, ALIGNED_ALLOC, MEMALIGN = 6, 7, 8
FREE, FREE_SIZED, HANDOFF, REMOTE, EDGE, CHECK = 9, 11, 12, 13, 14, 15

KIB, MIB = 1 << 10, 1 << 20
# decode_size's boundary table (cases 12 and 13).
EDGES = [8, 16, 128, 1024, 3072, 4096, 8192, 12288, 14336, 16384, 20480, 32768,
         65536, 65536 + 4096, 262144, 1 * MIB, 2 * MIB - 4096, 2 * MIB,
         4 * MIB - 8192, 4 * MIB, 6 * MIB, 8 * MIB]
# decode_align's table of invalid alignments (bytes 0xf0 + index).
BAD_ALIGNS = 16


def size(n):
    """The three size bytes that decode to n (or close to it, for big n)."""
    if n == 0:
        return bytes([0, 0, 0])
    for i, e in enumerate(EDGES):
        if -32 <= n - e <= 32:
            return bytes([12, i, n - e + 32])

    def enc(sel, v):
        return bytes([sel, v & 255, v >> 8])
    if n <= 64:
        return enc(1, n - 1)
    if n <= 512:
        return enc(4, n - 1)
    if n <= 4096:
        return enc(6, n - 1)
    if n <= 16384:
        return enc(7, n - 1)
    if n < 65536:
        return enc(9, n - 16385)
    if (n - 1) % 4 == 0 and (n - 1) // 4 < 65536:
        return enc(10, (n - 1) // 4)
    if (n - 1) % 32 == 0 and (n - 1) // 32 < 65536:
        return enc(11, (n - 1) // 32)
    return enc(14, min((n - 1) // 128, 65535))


def align(a):
    """The align byte for 2^k (k <= 26)."""
    k = a.bit_length() - 1
    assert 1 << k == a and k <= 26
    return bytes([k])


def malloc(slot, n):
    return bytes([MALLOC, slot]) + size(n)


def burst(count, how, n):
    """count blocks (odd, 1..511) of size n; how: 1 reversed, 2 sized, 4 remote."""
    return bytes([BURST, (count - 1) // 2, how]) + size(n)


def calloc(slot, nmemb_sel, n):
    return bytes([CALLOC, slot, nmemb_sel]) + size(n)


def realloc(slot, n):
    return bytes([REALLOC, slot]) + size(n)


def aligned(op, slot, a, n):
    return bytes([op, slot]) + align(a) + size(n)


def bad_aligned(op, slot, idx, n):
    return bytes([op, slot, 0xf0 + idx]) + size(n)


def free(slot):
    return bytes([FREE, slot])


def free_sized(slot):
    return bytes([FREE_SIZED, slot])


def handoff(slot):
    return bytes([HANDOFF, slot])


def remote(slot, zero, n):
    return bytes([REMOTE, slot, 1 if zero else 0]) + size(n)


def edge(sub, slot):
    return bytes([EDGE, sub, slot])


def check(flush=False):
    return bytes([CHECK, 1 if flush else 0])


def corpus():
    c = {}
    c["each_op"] = (malloc(0, 24) + calloc(1, 0, 100) + realloc(0, 200) +
                    aligned(POSIX_MEMALIGN, 2, 64, 100) + aligned(ALIGNED_ALLOC, 3, 256, 512) +
                    aligned(MEMALIGN, 4, 4096, 10) + free(1) + free_sized(0) + handoff(2) +
                    remote(5, False, 40) + edge(4, 0) + check(True))
    c["small_churn"] = b"".join(malloc(i % 64, 1 + (i * 7) % 64) for i in range(100)) + \
        b"".join(free(i) for i in range(0, 64, 2)) + \
        b"".join(malloc(i, 8 + i) for i in range(0, 64, 2)) + check()
    seq = [1, 8, 17, 100, 1000, 4096, 5000, 16384, 16385, 40000, 65536, 100001, 2 * MIB,
           2 * MIB + 1, 3 * MIB, 4 * MIB, 8 * MIB, 5 * MIB, 2 * MIB - 4096, 70000, 20000, 3000, 16, 0]
    c["realloc_chain"] = b"".join(realloc(7, n) for n in seq) + check()
    c["realloc_in_place"] = (malloc(1, 20000) + malloc(2, 20000) + free(2) + realloc(1, 30000) +
                             realloc(1, 17000) + realloc(1, 90001) + realloc(1, 2 * MIB) +
                             realloc(1, 40000) + malloc(2, 100) + check())
    c["aligned_all"] = b"".join(aligned(op, k % 64, 1 << k, n)
                                for op in (POSIX_MEMALIGN, ALIGNED_ALLOC, MEMALIGN)
                                for k, n in ((k, [1, 100, 5000, 20000][k % 4]) for k in range(27))) + check()
    c["aligned_invalid"] = b"".join(bad_aligned(op, i, i, 64)
                                    for op in (POSIX_MEMALIGN, ALIGNED_ALLOC, MEMALIGN)
                                    for i in range(BAD_ALIGNS)) + check()
    c["aligned_large"] = (aligned(POSIX_MEMALIGN, 0, 8192, 20000) + aligned(MEMALIGN, 1, 1 * MIB, 100) +
                          aligned(ALIGNED_ALLOC, 2, 4 * MIB, 2 * MIB) + aligned(POSIX_MEMALIGN, 3, 64 * MIB, 5 * MIB) +
                          realloc(0, 50000) + realloc(1, 3 * MIB) + free(2) + free(3) + check())
    c["calloc_dirty"] = (malloc(0, 100001) + free(0) + calloc(0, 0, 100001) + malloc(1, 3000) + free(1) +
                         calloc(1, 2, 3000) + malloc(2, 5 * MIB) + free(2) + calloc(2, 15, 5 * MIB) +
                         calloc(3, 7, 40000) + calloc(4, 15, 0) + check())
    c["handoff"] = b"".join(malloc(i, 16 * (i + 1)) for i in range(20)) + \
        b"".join(handoff(i) for i in range(20)) + check(True) + \
        b"".join(malloc(i, 16 * (i + 1)) for i in range(20)) + check()
    c["remote_alloc"] = (b"".join(remote(i, i % 2 == 1, [30, 500, 20000, 300000, 3 * MIB][i % 5]) for i in range(10)) +
                         realloc(0, 1000) + realloc(3, 600000) + b"".join(free(i) for i in range(5)) +
                         handoff(5) + handoff(6) + check(True))
    c["boundaries"] = b"".join(malloc(i % 64, max(0, e + d)) + free(i % 64)
                               for i, (e, d) in enumerate((e, d) for e in EDGES[:16] for d in (-1, 0, 1))) + check()
    c["huge"] = (malloc(0, 8 * MIB) + realloc(0, 4 * MIB + 1) + free(0) + malloc(1, 4 * MIB) +
                 calloc(2, 0, 4 * MIB) + realloc(1, 6 * MIB) + realloc(1, 2 * MIB + 4096) + free(2) + check())
    c["edge"] = b"".join(edge(s, 0) for s in range(8)) + malloc(0, 100) + \
        b"".join(edge(s, 0) for s in range(8)) + malloc(1, 5 * MIB) + edge(2, 1) + edge(6, 1) + check()
    c["large_runs"] = b"".join(malloc(i, 20000 + 12000 * i) for i in range(30)) + \
        b"".join(free(i) for i in range(0, 30, 2)) + \
        b"".join(malloc(i, 30000) for i in range(0, 30, 2)) + check() + \
        b"".join(free_sized(i) for i in range(30)) + check()
    c["fill_all_slots"] = b"".join(malloc(i, 1 + i * 37) for i in range(64)) + check() + \
        b"".join(free(63 - i) for i in range(64)) + check()

    c["bursts"] = (malloc(0, 100) + burst(511, 0, 32) + burst(511, 1, 48) + burst(301, 2, 4096) +
                   malloc(1, 200) + burst(101, 3, 20000) + burst(511, 4, 64) + burst(201, 5, 70001) +
                   burst(3, 0, 5 * MIB) + check())
    c["bursts_remote"] = b"".join(burst(255, 4, n) + malloc(i, n) + handoff(i)
                                  for i, n in enumerate((16, 128, 1000, 4096, 16384, 40000))) + check(True)

    rng = random.Random(20241129)
    for k in range(8):
        out = bytearray()
        for _ in range(60 + 40 * k):
            op = rng.randrange(16)
            out.append(op)
            out += bytes(rng.randrange(256) for _ in range(6))
        c["random_%d" % k] = bytes(out)
    return c


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    for name, data in sorted(corpus().items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("wrote %d files to %s" % (len(corpus()), OUT))


if __name__ == "__main__":
    main()
