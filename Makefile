# sqlite-ps: a SQLite extension that shows Linux processes and containers.
#
#   make            build build/ps.so (the extension) and build/libpsnap.a, nothing else
#   make run        install what is missing, build, then show the process table in the sqlite3 shell
#   make test       install what is missing, build, then run every test (the namespace tests need root)
#   make bench      compare with ps(1) and with the cost of reading /proc
#   make readme     regenerate README.md's column table from the column registry
#
# A plain `make` installs nothing and writes only below build/. The targets
# that need more than a compiler (deps, run, test, bench, readme, lint, oom,
# asan, valgrind, fuzz) first install the missing Debian packages with
# scripts/deps.sh (apt-get, via sudo when not root), then build with a
# second make: the packages are in place before anything compiles, even
# under make -j.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
VERSION := $(shell cat VERSION)
GITREV  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DEFS    := -D_GNU_SOURCE -DPSNAP_VERSION='"$(VERSION) ($(GITREV))"'
PIC     := -fPIC -fvisibility=hidden
LIBS    := -lcap -lseccomp -lpthread
B       := build
# Debian's python3: its sqlite3 module can load extensions (pyenv's builds often cannot)
PYTHON  ?= /usr/bin/python3

SRC     := $(wildcard src/*.c)
EXT     := $(wildcard ext/*.c)
HDR     := $(wildcard src/*.h ext/*.h)
HELPERS := $(patsubst tests/helpers/%.c,$(B)/helpers/%,$(wildcard tests/helpers/*.c))
UNIT    := $(wildcard tests/unit/*.c)

all: $(B)/ps.so $(B)/libpsnap.a
	@:

.PHONY: oom asan valgrind sanitize fuzz install uninstall readme all run test build-tests bench deps deps-test deps-bench deps-lint clean format lint helpers

# The sub-make that builds after scripts/deps.sh has run.
BUILD := $(MAKE) --no-print-directory

deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test
deps-bench:
	@scripts/deps.sh bench
deps-lint:
	@scripts/deps.sh lint

# README.md's column table (between its <!-- columns --> markers), from the
# ps_descriptors table; tests/test_table.py fails when it is stale.
readme: deps
	@$(BUILD) all
	@$(PYTHON) scripts/readme.py

# -z nodelete: a container's helper process that missed its deadline may
# outlive the connection that loaded the extension, and SQLite dlclose()s
# the module with that connection; the list that reaps such helpers (and
# keeps their namespaces from starting another) must stay, and so must the
# module's code, which a helper sharing the program's address space still
# runs when it wakes: the loader never unmaps ps.so once it is loaded.
$(B)/ps.so: $(SRC) $(EXT) $(HDR) VERSION | $(B)
	$(CC) $(CFLAGS) $(WARN) $(DEFS) $(PIC) -Isrc -shared -Wl,-z,nodelete -o $@ $(SRC) $(EXT) $(LIBS)

$(B)/obj/%.o: src/%.c $(HDR) | $(B)
	@mkdir -p $(B)/obj
	$(CC) $(CFLAGS) $(WARN) $(DEFS) -fPIC -Isrc -c -o $@ $<

$(B)/libpsnap.a: $(patsubst src/%.c,$(B)/obj/%.o,$(SRC))
	rm -f $@ && ar rcs $@ $^

$(B)/helpers/%: tests/helpers/%.c | $(B)
	@mkdir -p $(B)/helpers
	$(CC) $(CFLAGS) -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -o $@ $< $(LIBS) -lutil

$(B)/test_unit: $(UNIT) $(B)/libpsnap.a
	$(CC) $(CFLAGS) $(WARN) $(DEFS) -Isrc -o $@ $(UNIT) $(B)/libpsnap.a $(LIBS)

helpers: $(HELPERS)
	@:

# What make test runs: the extension, the C unit tests and the test helpers.
build-tests: all helpers $(B)/test_unit
	@:

$(B):
	@mkdir -p $(B)

# The sqlite3 shell with the extension loaded: sql/run.sql prints a header
# and one line per process (ps -ef's columns; control characters in any
# value print as '?'), each cut to the terminal's width when stdout is a
# terminal (passed as @cols; `stty size` on stdout, else `tput cols`), whole
# otherwise; then the shell's prompt when stdin is a terminal. What the
# build prints goes to stderr: stdout holds the table only.
run: deps
	@$(BUILD) all >&2
	@exec 3>&1; cols=; \
	if [ -t 1 ]; then \
	  cols=$$(stty size <&3 2>/dev/null | cut -d' ' -f2); \
	  case $$cols in ''|0|*[!0-9]*) cols=$$(tput cols 2>/dev/null);; esac; \
	fi; \
	case $$cols in ''|0|*[!0-9]*) cols=;; esac; \
	set -- -cmd '.load $(B)/ps' -cmd '.mode list' -cmd '.headers off'; \
	if [ -n "$$cols" ]; then set -- "$$@" -cmd ".parameter set @cols $$cols"; fi; \
	if [ -t 0 ]; then \
	  sqlite3 "$$@" -cmd '.read sql/run.sql' -cmd '.mode column' -cmd '.headers on' :memory: ; \
	else \
	  sqlite3 "$$@" :memory: '.read sql/run.sql' ; \
	fi

test: deps-test
	@$(BUILD) build-tests
	@$(PYTHON) tests/run.py

# Out of memory: fail every allocation in turn (tests/oom/oom.c); the test
# suite under AddressSanitizer + UBSan; valgrind for leaks and fd leaks.
oom: deps-test
	@$(BUILD) all
	@tests/oom/run.sh
asan: deps-test
	@tests/sanitize/asan.sh
valgrind: deps-test
	@tests/sanitize/valgrind.sh
sanitize: oom asan valgrind

# Fuzz every parser for FUZZ_SECONDS each (libFuzzer, clang); crashes land in build/fuzz.
FUZZ_SECONDS ?= 30
fuzz: deps-test
	@$(BUILD) all
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

bench: deps-bench
	@$(BUILD) all helpers
	@bench/run.sh

# make install [PREFIX=/usr/local] [DESTDIR=]: the extension at
# $(LIBDIR)/sqlite-ps/ps.so (`.load /usr/local/lib/sqlite-ps/ps`), and the
# snapshot library libpsnap.a with psnap.h and psnap.pc for C programs.
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PCDIR      ?= $(LIBDIR)/pkgconfig

install: all
	install -d $(DESTDIR)$(LIBDIR)/sqlite-ps $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PCDIR)
	install -m 0755 $(B)/ps.so $(DESTDIR)$(LIBDIR)/sqlite-ps/ps.so
	install -m 0644 $(B)/libpsnap.a $(DESTDIR)$(LIBDIR)/libpsnap.a
	install -m 0644 src/psnap.h src/psfds.h src/columns.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' psnap.pc.in > $(DESTDIR)$(PCDIR)/psnap.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/sqlite-ps/ps.so $(DESTDIR)$(LIBDIR)/libpsnap.a \
	      $(DESTDIR)$(INCLUDEDIR)/psnap.h $(DESTDIR)$(INCLUDEDIR)/psfds.h $(DESTDIR)$(INCLUDEDIR)/columns.h $(DESTDIR)$(PCDIR)/psnap.pc
	-rmdir $(DESTDIR)$(LIBDIR)/sqlite-ps

format:
	clang-format -i $(SRC) $(EXT) $(HDR) $(UNIT)

# Static analysis: formatting, warnings as errors, clang-tidy (.clang-tidy
# says which checks and why), cppcheck. No finding is left unexplained:
# suppressions are inline, with their reason.
lint: deps-lint
	@$(BUILD) all
	clang-format --dry-run -Werror $(SRC) $(EXT) $(HDR) $(UNIT)
	clang-tidy --quiet $(SRC) $(EXT) -- -std=gnu11 -D_GNU_SOURCE -Isrc 2>/dev/null
	cppcheck -q --error-exitcode=1 --enable=warning,style,performance,portability --inline-suppr \
	  --std=c11 -D_GNU_SOURCE -Isrc --suppress=missingIncludeSystem src ext

clean:
	rm -rf $(B)
