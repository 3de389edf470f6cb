# logtriage - GNU Makefile.
#
#   make            build ./logtriage (release: -O2, hardened; profile-
#                   guided with gcc, see PGO below)
#   make demo       install missing packages, build, analyze samples/
#   make check      install missing packages, build, run every test
#   make check-full check plus the slow tiers (valgrind, 24 kill points,
#                   every 16th allocation failed, larger bad inputs)
#   make check-oom  fail each allocation of a sample run in turn
#   make fuzz       run each libFuzzer target FUZZ_SECONDS (default 60)
#   make bench      time analyze against grep/zcat/cat on generated inputs
#                   of BENCH_MB (default 1000) MB in build/bench/; not a test
#   make install    PREFIX=/usr/local DESTDIR=
#
# Your CC, CFLAGS, CPPFLAGS, LDFLAGS and LDLIBS are respected; the
# project's own flags are appended to them. DEVELOPER=1 adds -Werror;
# V=1 shows the full commands; ISAL=0 inflates gzip with zlib even where
# ISA-L is installed; PGO=0 builds ./logtriage without profile feedback.

CC ?= cc
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/logtriage
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/vendor-completions
DESTDIR ?=
SHELL = /bin/sh

PKGS = libpcre2-8 zlib sqlite3 jansson
# gzip is inflated by ISA-L where Debian has it (libisal-dev: amd64), five
# times as fast as zlib here; elsewhere, or with ISAL=0, by zlib.
ifneq ($(ISAL),0)
ifeq ($(shell $(PKG_CONFIG) --exists libisal 2>/dev/null && echo y),y)
PKGS += libisal
INFLATE_FLAGS = -DLOGTRIAGE_ISAL
endif
endif

WARN = -Wall -Wextra -Wpedantic -Wstrict-prototypes -Wmissing-prototypes \
       -Wshadow -Wformat=2 -Wwrite-strings -Wvla -Wold-style-definition
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -pthread

# Profile-guided optimisation, with gcc: ./logtriage is built twice. The
# first build (build/pgo/) counts branches and calls while it analyzes,
# reports and summarizes the bundled samples (tools/pgo-train.sh); the
# second is compiled with those counts, and takes about 15% less CPU
# per record (README "Performance"). Only speed depends on the counts.
# PGO=0 builds once, without; with another compiler it is off.
ifeq ($(origin PGO),undefined)
PGO := $(shell $(CC) -v 2>&1 | grep -q '^gcc version' && echo 1 || echo 0)
endif
# Functions the samples never run are optimised as without a profile
# (-fprofile-partial-training), not for size. gcc 12 then notes each call
# of one ("Missing counts for called function"), with no option to turn
# that note off alone, hence -w: the instrumented build compiles the same
# code at -O2 with every warning (and -Werror under DEVELOPER=1).
PGO_GEN = -fprofile-generate -fprofile-update=prefer-atomic
PGO_USE = -fprofile-use -fprofile-partial-training -w

LT_CFLAGS = -std=c11 $(WARN) -Ianalyzer -Ibuild $(PKG_CFLAGS) $(INFLATE_FLAGS) \
	    -MMD -MP
LT_RELEASE = -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LT_LDFLAGS = -pie -Wl,-z,relro,-z,now
SANITIZE ?= address,undefined
LT_SAN = -O1 -g -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
	 -fno-omit-frame-pointer

SRCS = $(sort $(wildcard analyzer/*.c))
RULES = $(sort $(wildcard rules/*.json))
OBJS = $(SRCS:analyzer/%.c=build/rel/%.o) build/rel/rules_builtin.o
PGO_OBJS = $(SRCS:analyzer/%.c=build/pgo/%.o) build/rel/rules_builtin.o
SAN_OBJS = $(SRCS:analyzer/%.c=build/san/%.o) build/san/rules_builtin.o
# Modules the unit tests link (everything but main and the commands).
LIB_SRCS = $(filter-out analyzer/main.c analyzer/cmd_%.c,$(SRCS))
UNIT_SRCS = $(sort $(wildcard tests/unit/t_*.c))
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=build/unit/%)
# Fuzz targets (tests/fuzz): 'make check' replays their corpora with the
# sanitizer objects; 'make fuzz' builds them with clang's libFuzzer.
FUZZ_NAMES = $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_REPLAY_BINS = $(FUZZ_NAMES:%=build/fuzz/replay-%)
LIB_SAN_OBJS = $(LIB_SRCS:analyzer/%.c=build/san/%.o) build/san/rules_builtin.o
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
FUZZ_OBJS = $(LIB_SRCS:analyzer/%.c=build/fuzz/obj/%.o) \
	    build/fuzz/obj/rules_builtin.o
# Fault injection (tests/fault): an LD_PRELOAD shim failing read, write
# and fsync on request, and a sanitizer build whose N-th allocation fails.
FAULT_BINS = build/fault/libfault.so build/fault/logtriage-oom
.SECONDARY: $(PGO_OBJS) build/pgo/logtriage $(FUZZ_NAMES:%=build/fuzz/%.o) build/fuzz/replay.o \
	$(FUZZ_NAMES:%=build/fuzz/obj/%.o) $(FUZZ_OBJS) build/fuzz/obj/pool.o

ifneq ($(V),1)
Q = @
QUIET_CC = @echo '   CC      $@';
QUIET_LINK = @echo '   LINK    $@';
QUIET_GEN = @echo '   GEN     $@';
endif

.PHONY: all deps demo check check-full check-build check-oom fuzz unit golden lint \
	format clean install uninstall pkgcheck samples bench

all: logtriage

pkgcheck:
	@$(PKG_CONFIG) --exists $(PKGS) 2>/dev/null || { \
	  echo "logtriage: missing libraries: need pkg-config and the" \
	       "development packages of: $(PKGS)" >&2; \
	  echo "logtriage: run 'make deps' (as root) to install them" >&2; \
	  exit 1; }

deps:
	@sh tools/deps.sh

# The inflater chosen, recorded so that input.c is rebuilt when it changes.
build/inflater: FORCE
	@mkdir -p build
	@echo '$(INFLATE_FLAGS)' | cmp -s - $@ || echo '$(INFLATE_FLAGS)' > $@
FORCE:

build/rel/input.o build/pgo/input.o build/san/input.o build/fuzz/obj/input.o: build/inflater

# Whether the release objects are profile-guided, recorded so that they
# are rebuilt when it changes ('make bench' prints it).
build/pgo-mode: FORCE
	@mkdir -p build
	@echo '$(PGO)' | cmp -s - $@ || echo '$(PGO)' > $@

$(SRCS:analyzer/%.c=build/rel/%.o): build/pgo-mode

build/rules_builtin.c: tools/embed-rules.sh $(RULES)
	@mkdir -p build
	$(QUIET_GEN)sh tools/embed-rules.sh $@ $(RULES)

ifeq ($(PGO),1)
# Each object is compiled with the counts of its instrumented twin, which
# gcc looks for beside the object it writes.
build/rel/%.o: analyzer/%.c build/pgo/profile | pkgcheck
	@mkdir -p build/rel
	@cp build/pgo/$*.gcda build/rel/$*.gcda
	$(QUIET_CC)$(CC) $(CPPFLAGS) $(LT_CFLAGS) $(LT_RELEASE) $(PGO_USE) $(CFLAGS) -c -o $@ $<
else
build/rel/%.o: analyzer/%.c | pkgcheck
	@mkdir -p build/rel
	$(QUIET_CC)$(CC) $(CPPFLAGS) $(LT_CFLAGS) $(LT_RELEASE) $(CFLAGS) -c -o $@ $<
endif

build/pgo/%.o: analyzer/%.c | pkgcheck
	@mkdir -p build/pgo
	$(QUIET_CC)$(CC) $(CPPFLAGS) $(LT_CFLAGS) $(LT_RELEASE) $(PGO_GEN) $(CFLAGS) -c -o $@ $<

build/pgo/logtriage: $(PGO_OBJS)
	$(QUIET_LINK)$(CC) $(LT_RELEASE) $(PGO_GEN) $(LT_LDFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(PGO_OBJS) $(PKG_LIBS) $(LDLIBS)

# The training run: counts of the bundled samples, never of the input
# being analyzed later.
build/pgo/profile: build/pgo/logtriage tools/pgo-train.sh $(wildcard samples/*.log samples/*.jsonl samples/*.gz)
	$(QUIET_GEN)sh tools/pgo-train.sh build/pgo/logtriage && touch $@

build/rel/rules_builtin.o: build/rules_builtin.c
	@mkdir -p build/rel
	$(QUIET_CC)$(CC) $(CPPFLAGS) -std=c11 $(LT_RELEASE) $(CFLAGS) -c -o $@ $<

build/san/%.o: analyzer/%.c | pkgcheck
	@mkdir -p build/san
	$(QUIET_CC)$(CC) $(CPPFLAGS) $(LT_CFLAGS) $(LT_SAN) $(CFLAGS) -c -o $@ $<

build/san/rules_builtin.o: build/rules_builtin.c
	@mkdir -p build/san
	$(QUIET_CC)$(CC) $(CPPFLAGS) -std=c11 $(LT_SAN) $(CFLAGS) -c -o $@ $<

logtriage: $(OBJS)
	$(QUIET_LINK)$(CC) $(LT_RELEASE) $(LT_LDFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS) $(LDLIBS)

build/logtriage-san: $(SAN_OBJS)
	$(QUIET_LINK)$(CC) $(LT_SAN) $(CFLAGS) $(LDFLAGS) -o $@ $(SAN_OBJS) $(PKG_LIBS) $(LDLIBS)

build/unit/%: tests/unit/%.c $(LIB_SRCS) build/rules_builtin.c tests/unit/unit.h build/inflater | pkgcheck
	@mkdir -p build/unit
	$(QUIET_LINK)$(CC) $(CPPFLAGS) $(LT_CFLAGS) $(LT_SAN) -DLOGTRIAGE_TESTING $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_SRCS) build/rules_builtin.c $(PKG_LIBS) $(LDLIBS)

# Corpus replay: each target with replay.c's main() and the sanitizer objects.
build/fuzz/%.o: tests/fuzz/%.c tests/fuzz/fuzz.h | pkgcheck
	@mkdir -p build/fuzz
	$(QUIET_CC)$(CC) $(CPPFLAGS) $(LT_CFLAGS) $(LT_SAN) $(CFLAGS) -c -o $@ $<

build/fuzz/replay-%: build/fuzz/%.o build/fuzz/replay.o $(LIB_SAN_OBJS)
	$(QUIET_LINK)$(CC) $(LT_SAN) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

# libFuzzer builds (clang): every module with coverage instrumentation.
build/fuzz/obj/%.o: analyzer/%.c | pkgcheck
	@mkdir -p build/fuzz/obj
	$(QUIET_CC)$(FUZZ_CC) $(CPPFLAGS) $(LT_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(CFLAGS) -c -o $@ $<

build/fuzz/obj/rules_builtin.o: build/rules_builtin.c
	@mkdir -p build/fuzz/obj
	$(QUIET_CC)$(FUZZ_CC) $(CPPFLAGS) -std=c11 $(FUZZ_SAN) $(CFLAGS) -c -o $@ $<

build/fuzz/obj/fuzz_%.o: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h | pkgcheck
	@mkdir -p build/fuzz/obj
	$(QUIET_CC)$(FUZZ_CC) $(CPPFLAGS) $(LT_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(CFLAGS) -c -o $@ $<

# pool.c keeps the reader's large buffers from one input to the next.
build/fuzz/obj/pool.o: tests/fuzz/pool.c tests/fuzz/fuzz.h | pkgcheck
	@mkdir -p build/fuzz/obj
	$(QUIET_CC)$(FUZZ_CC) $(CPPFLAGS) $(LT_CFLAGS) $(FUZZ_SAN) $(CFLAGS) -c -o $@ $<

build/fuzz/bin/fuzz_%: build/fuzz/obj/fuzz_%.o build/fuzz/obj/pool.o $(FUZZ_OBJS)
	@mkdir -p build/fuzz/bin
	$(QUIET_LINK)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -Wl,--wrap=posix_memalign,--wrap=free $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

# The browser test's screenshot checker (tests/browser: blank or not).
build/browser/pngcheck: tests/browser/pngcheck.c | pkgcheck
	@mkdir -p build/browser
	$(QUIET_LINK)$(CC) $(CPPFLAGS) -std=c11 $(WARN) -O2 $(PKG_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PKG_LIBS) $(LDLIBS)

# Fault injection: the preload shim, and the allocation-failure build
# (only diag.c differs: -DLOGTRIAGE_FAULTS adds the countdown).
build/fault/libfault.so: tests/fault/faultinject.c
	@mkdir -p build/fault
	$(QUIET_LINK)$(CC) $(CPPFLAGS) -std=c11 $(WARN) -O2 -g -fPIC -shared $(CFLAGS) $(LDFLAGS) -o $@ $< -ldl

build/fault/diag.o: analyzer/diag.c | pkgcheck
	@mkdir -p build/fault
	$(QUIET_CC)$(CC) $(CPPFLAGS) $(LT_CFLAGS) $(LT_SAN) -DLOGTRIAGE_FAULTS $(CFLAGS) -c -o $@ $<

build/fault/logtriage-oom: $(filter-out build/san/diag.o,$(SAN_OBJS)) build/fault/diag.o
	$(QUIET_LINK)$(CC) $(LT_SAN) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

demo: deps
	@$(MAKE) --no-print-directory logtriage
	@rm -rf build/demo && mkdir -p build/demo
	./logtriage analyze --db build/demo/demo.db samples/railway-incident.jsonl
	@echo
	./logtriage report --db build/demo/demo.db --out build/demo/reports \
		--learnings build/demo/.learnings/INCIDENTS.md
	@echo
	LOGTRIAGE_TEST_NOW=2026-02-25T06:00:00Z ./logtriage summary \
		--db build/demo/demo.db --fail-on never
	@echo
	@echo "Reports: build/demo/reports/*.md; the team's entry:" \
		"build/demo/.learnings/INCIDENTS.md; events: build/demo/demo.db"

check-build:
	@$(MAKE) --no-print-directory DEVELOPER=1 logtriage build/logtriage-san $(UNIT_BINS) \
		$(FUZZ_REPLAY_BINS) $(FAULT_BINS) build/browser/pngcheck

check: deps
	@$(MAKE) --no-print-directory check-build
	@sh tests/check.sh

check-full: deps
	@sh tools/deps.sh valgrind
	@$(MAKE) --no-print-directory check-build
	@LOGTRIAGE_CHECK_FULL=1 sh tests/check.sh

# Fuzz each target for FUZZ_SECONDS (default 60), one after another,
# from its corpus in tests/fuzz/corpus/NAME (read only: new inputs go to
# build/fuzz/corpus/NAME; crashes to build/fuzz/crash-NAME-*). Merge the
# useful new inputs into the corpus with tests/fuzz/minimize.sh.
fuzz: deps
	@command -v $(FUZZ_CC) >/dev/null || { echo "logtriage: 'make fuzz'" \
	  "needs $(FUZZ_CC) with libFuzzer: apt-get install clang" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(FUZZ_NAMES:%=build/fuzz/bin/%)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh $(FUZZ_NAMES)

# Walk every allocation of a sample run: each must fail cleanly.
check-oom: deps
	@$(MAKE) --no-print-directory DEVELOPER=1 logtriage build/fault/logtriage-oom
	@sh tests/fault/oom-walk.sh --full

golden: logtriage
	@sh tests/run-tests.sh --update ./logtriage

# The benchmark (tools/bench/bench.sh): generated inputs, logtriage against
# the reference commands, a table and a verdict per performance target.
BENCH_MB ?= 1000
BENCH_TOOLS = build/bench/bench-gen build/bench/bench-ere build/bench/bench-runstat

build/bench/bench-gen: tools/bench/gen.c
	@mkdir -p build/bench
	$(QUIET_LINK)$(CC) -std=c11 -O2 $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $<

build/bench/bench-runstat: tools/bench/runstat.c
	@mkdir -p build/bench
	$(QUIET_LINK)$(CC) -std=c11 -O2 $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $<

build/bench/bench-ere: tools/bench/ere.c | pkgcheck
	@mkdir -p build/bench
	$(QUIET_LINK)$(CC) -std=c11 -O2 $(WARN) $(PKG_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PKG_LIBS) $(LDLIBS)

bench: deps
	@$(MAKE) --no-print-directory logtriage $(BENCH_TOOLS)
	@BENCH_MB=$(BENCH_MB) sh tools/bench/bench.sh ./logtriage

lint:
	@sh tools/checksrc.sh analyzer/*.c analyzer/*.h tests/unit/*.c

format:
	clang-format -i analyzer/*.c analyzer/*.h

samples: samples/railway-incident.log.gz

samples/railway-incident.log.gz: samples/railway-incident.log
	gzip -n -9 -c $< > $@

install: logtriage
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DATADIR)/logtriage/rules \
		$(DESTDIR)$(DOCDIR)/docs/cron $(DESTDIR)$(DOCDIR)/docs/img \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 logtriage $(DESTDIR)$(BINDIR)/logtriage
	install -m 644 docs/man/logtriage.1 $(DESTDIR)$(MANDIR)/man1/logtriage.1
	install -m 644 docs/man/logtriage-rules.5 \
		$(DESTDIR)$(MANDIR)/man5/logtriage-rules.5
	install -m 644 $(RULES) $(DESTDIR)$(DATADIR)/logtriage/rules/
	# The README's links (docs/...) and pictures work where it is installed.
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 644 docs/schema.md docs/rule-format.md \
		$(DESTDIR)$(DOCDIR)/docs/
	install -m 644 docs/img/*.png $(DESTDIR)$(DOCDIR)/docs/img/
	install -m 644 docs/cron/crontab docs/cron/logtriage-nightly.service \
		docs/cron/logtriage-nightly.timer $(DESTDIR)$(DOCDIR)/docs/cron/
	install -m 644 docs/completion/logtriage.bash \
		$(DESTDIR)$(BASHCOMPDIR)/logtriage
	install -m 644 docs/completion/_logtriage $(DESTDIR)$(ZSHCOMPDIR)/_logtriage

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/logtriage \
		$(DESTDIR)$(MANDIR)/man1/logtriage.1 \
		$(DESTDIR)$(MANDIR)/man5/logtriage-rules.5 \
		$(DESTDIR)$(BASHCOMPDIR)/logtriage $(DESTDIR)$(ZSHCOMPDIR)/_logtriage
	rm -rf $(DESTDIR)$(DATADIR)/logtriage $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build logtriage

-include $(wildcard build/rel/*.d build/pgo/*.d build/san/*.d build/fuzz/*.d build/fuzz/obj/*.d)
