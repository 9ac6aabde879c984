# scmalloc build. make [DEBUG=0..3] [SANITIZE=undefined|address|thread] [VALGRIND=0|1]
#                     [FAULTS=0|1] [SECURE=0|1] [BUILDDIR=build]
#   make            libraries and the scmalloc-run wrapper in $(BUILDDIR)
#   make demo       builds, then runs a real program on scmalloc with statistics at exit
#   make test       builds the release, debug (DEBUG=3) and UBSan variants, runs the suite
#   make install PREFIX=/usr/local
#   make bench / bench-quick / bench-setup / bench-ci

CC ?= cc
DEBUG ?= 0
SANITIZE ?=
BUILDDIR ?= build
PREFIX ?= /usr/local
VERSION := 0.1.0
VALGRIND ?= 0
FAULTS ?= 0
SECURE ?= 0

ifeq ($(filter $(DEBUG),0 1 2 3),)
$(error DEBUG must be 0, 1, 2 or 3)
endif
ifeq ($(filter $(VALGRIND),0 1),)
$(error VALGRIND must be 0 or 1)
endif
ifeq ($(filter $(FAULTS),0 1),)
$(error FAULTS must be 0 or 1)
endif
ifeq ($(filter $(SECURE),0 1),)
$(error SECURE must be 0 or 1)
endif
ifneq ($(filter-out undefined address thread,$(SANITIZE)),)
$(error SANITIZE must be undefined, address or thread)
endif

OPT := $(if $(filter 0,$(DEBUG)),-O2,-O1 -g)
CFLAGS_LIB := -std=gnu11 $(OPT) -g -fPIC -fvisibility=hidden -fno-semantic-interposition \
	-fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc -fno-builtin-free \
	-Wall -Wextra -Wshadow -Wno-unused-parameter -DSC_DEBUG=$(DEBUG) -DSC_VALGRIND=$(VALGRIND) \
	-DSC_FAULTS=$(FAULTS) -DSC_SECURE=$(SECURE) -Iinclude -Isrc -pthread
ifneq ($(SANITIZE),)
CFLAGS_LIB += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
LDFLAGS_LIB += -fsanitize=$(SANITIZE)
endif
CFLAGS_LIB += $(EXTRA_CFLAGS)

SRCS := $(wildcard src/*.c)
OBJS := $(patsubst src/%.c,$(BUILDDIR)/obj/%.o,$(SRCS))
HDRS := $(wildcard src/*.h) include/scmalloc.h
NPROC := $(shell nproc 2>/dev/null || echo 2)

all: $(BUILDDIR)/libscmalloc.so $(BUILDDIR)/libscmalloc.a $(BUILDDIR)/scmalloc-run $(BUILDDIR)/scmalloc-stats

# The objects alone (test/run.sh links its unit tests with a DEBUG=3 set).
objs: $(OBJS)

$(BUILDDIR)/obj/%.o: src/%.c $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_LIB) -c $< -o $@

# -z nodelete: dlclose never unmaps the library. Blocks it handed out may
# still be freed, and every thread that allocated runs its thread-cache
# destructor at exit (test/api/dlopen).
# -T src/cold.ld: cold code and the unwind tables get mappings of their own.
$(BUILDDIR)/libscmalloc.so: $(OBJS) src/cold.ld
	$(CC) -shared -o $@ $(OBJS) $(LDFLAGS_LIB) -pthread -Wl,-z,now -Wl,-z,nodelete -Wl,-soname,libscmalloc.so \
		-Wl,-T,src/cold.ld

# One relocatable object whose hidden symbols are made local, so the archive
# exports only the public names (as the shared library does).
$(BUILDDIR)/libscmalloc.a: $(OBJS)
	$(CC) -r -nostdlib -o $(BUILDDIR)/obj/scmalloc_all.o $(OBJS)
	objcopy --localize-hidden $(BUILDDIR)/obj/scmalloc_all.o
	rm -f $@ && ar rcs $@ $(BUILDDIR)/obj/scmalloc_all.o

# The statistics picture: JSON statistics -> PNG (needs python3-matplotlib).
$(BUILDDIR)/scmalloc-stats: tools/scmalloc-stats.py
	@mkdir -p $(BUILDDIR)
	cp $< $@ && chmod +x $@

$(BUILDDIR)/scmalloc-run: tools/scmalloc-run.sh
	@mkdir -p $(BUILDDIR)
	cp $< $@ && chmod +x $@

# A real program (perl, which every Debian system has) on scmalloc, with the
# allocator's statistics printed at exit.
demo: all
	@echo "== perl on scmalloc (tools/demo.pl); scmalloc's statistics follow =="
	SCMALLOC_CONF=stats_print:true $(BUILDDIR)/scmalloc-run perl tools/demo.pl

test:
	$(MAKE) -j$(NPROC) all
	$(MAKE) -j$(NPROC) all DEBUG=3 BUILDDIR=build/debug
	$(MAKE) -j$(NPROC) all SANITIZE=undefined BUILDDIR=build/ubsan
	$(MAKE) -j$(NPROC) all SECURE=1 DEBUG=1 BUILDDIR=build/secure
	@# the memcheck annotations need Debian's valgrind headers; without them the test says SKIP
	if [ -f /usr/include/valgrind/memcheck.h ]; then $(MAKE) -j$(NPROC) all VALGRIND=1 BUILDDIR=build/valgrind; fi
	$(MAKE) -j$(NPROC) all FAULTS=1 DEBUG=3 BUILDDIR=build/faults
	$(MAKE) -j$(NPROC) all SANITIZE=thread BUILDDIR=build/tsan
	test/run.sh

# libFuzzer harness over the sc_ API (needs clang and libclang-rt-14-dev);
# FUZZ_SECONDS bounds the run (60 by default).
fuzz:
	test/fuzz/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILDDIR)/libscmalloc.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(BUILDDIR)/libscmalloc.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/scmalloc.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(BUILDDIR)/scmalloc-run $(BUILDDIR)/scmalloc-stats $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' tools/scmalloc.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/scmalloc.pc

# The option table of src/options_table.h as a Markdown table (for README.md).
options-doc:
	@echo "| option | type | default | range | meaning |"; echo "| --- | --- | --- | --- | --- |"
	@sed -n 's/^OPTION(\([a-z_]*\), \([a-z]*\), [^,]*, "\([^"]*\)", "\([^"]*\)", "\(.*\)")$$/| `\1` | \2 | \3 | \4 | \5 |/p' src/options_table.h

BENCH_ARGS ?=
bench: all
	/usr/bin/python3 bench/run.py --lib $(BUILDDIR)/libscmalloc.so $(BENCH_ARGS)
bench-quick: all
	/usr/bin/python3 bench/run.py --quick --lib $(BUILDDIR)/libscmalloc.so $(BENCH_ARGS)
bench-ci: all
	/usr/bin/python3 bench/run.py --ci --lib $(BUILDDIR)/libscmalloc.so
# Ten minutes of a server-like load with a stable live heap, RSS sampled
# every second, scmalloc beside glibc: writes bench/results/soak.{csv,png}.
soak: all
	/usr/bin/python3 bench/soak.py --lib $(BUILDDIR)/libscmalloc.so $(SOAK_ARGS)
bench-setup:
	apt-get update -q && apt-get install -y --no-install-recommends libjemalloc2 libmimalloc2.0 \
		libtcmalloc-minimal4 python3 python3-matplotlib sqlite3 valgrind

clean:
	rm -rf build
	$(MAKE) -C bench clean

.PHONY: all demo test fuzz soak install options-doc clean bench bench-quick bench-setup bench-ci
