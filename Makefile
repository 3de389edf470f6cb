# logtriage - GNU Makefile.
#
#   make            build ./logtriage (release: -O2, hardened)
#   make demo       install missing packages, build, analyze samples/
#   make check      install missing packages, build, run every test
#   make check-full check plus the slow tiers (valgrind)
#   make install    PREFIX=/usr/local DESTDIR=
#
# Your CC, CFLAGS, CPPFLAGS, LDFLAGS and LDLIBS are respected; the
# project's own flags are appended to them. DEVELOPER=1 adds -Werror;
# V=1 shows the full commands.

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

WARN = -Wall -Wextra -Wpedantic -Wstrict-prototypes -Wmissing-prototypes \
       -Wshadow -Wformat=2 -Wwrite-strings -Wvla -Wold-style-definition
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

LT_CFLAGS = -std=c11 $(WARN) -Ianalyzer -Ibuild $(PKG_CFLAGS) -MMD -MP
LT_RELEASE = -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LT_LDFLAGS = -pie -Wl,-z,relro,-z,now
SANITIZE ?= address,undefined
LT_SAN = -O1 -g -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
	 -fno-omit-frame-pointer

SRCS = $(sort $(wildcard analyzer/*.c))
RULES = $(sort $(wildcard rules/*.json))
OBJS = $(SRCS:analyzer/%.c=build/rel/%.o) build/rel/rules_builtin.o
SAN_OBJS = $(SRCS:analyzer/%.c=build/san/%.o) build/san/rules_builtin.o
# Modules the unit tests link (everything but main and the commands).
LIB_SRCS = $(filter-out analyzer/main.c analyzer/cmd_%.c,$(SRCS))
UNIT_SRCS = $(sort $(wildcard tests/unit/t_*.c))
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=build/unit/%)

ifneq ($(V),1)
Q = @
QUIET_CC = @echo '   CC      $@';
QUIET_LINK = @echo '   LINK    $@';
QUIET_GEN = @echo '   GEN     $@';
endif

.PHONY: all deps demo check check-full check-build unit golden lint \
	format clean install uninstall pkgcheck samples

all: logtriage

pkgcheck:
	@$(PKG_CONFIG) --exists $(PKGS) 2>/dev/null || { \
	  echo "logtriage: missing libraries: need pkg-config and the" \
	       "development packages of: $(PKGS)" >&2; \
	  echo "logtriage: run 'make deps' (as root) to install them" >&2; \
	  exit 1; }

deps:
	@sh tools/deps.sh

build/rules_builtin.c: tools/embed-rules.sh $(RULES)
	@mkdir -p build
	$(QUIET_GEN)sh tools/embed-rules.sh $@ $(RULES)

build/rel/%.o: analyzer/%.c | pkgcheck
	@mkdir -p build/rel
	$(QUIET_CC)$(CC) $(CPPFLAGS) $(LT_CFLAGS) $(LT_RELEASE) $(CFLAGS) -c -o $@ $<

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

build/unit/%: tests/unit/%.c $(LIB_SRCS) build/rules_builtin.c tests/unit/unit.h | pkgcheck
	@mkdir -p build/unit
	$(QUIET_LINK)$(CC) $(CPPFLAGS) $(LT_CFLAGS) $(LT_SAN) -DLOGTRIAGE_TESTING $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_SRCS) build/rules_builtin.c $(PKG_LIBS) $(LDLIBS)

demo: deps
	@$(MAKE) --no-print-directory logtriage
	@rm -f demo.db demo.db-wal demo.db-shm
	./logtriage analyze --db demo.db samples/railway-incident.log.gz \
		samples/railway-incident.jsonl
	@echo
	@echo "The events are in demo.db; try:"
	@echo "  sqlite3 demo.db \"SELECT datetime(ts/1000,'unixepoch'), rule_id, substr(message,1,70) FROM events ORDER BY ts LIMIT 20\""

check-build:
	@$(MAKE) --no-print-directory DEVELOPER=1 logtriage build/logtriage-san $(UNIT_BINS)

check: deps
	@$(MAKE) --no-print-directory check-build
	@sh tests/check.sh

check-full: deps
	@sh tools/deps.sh valgrind
	@$(MAKE) --no-print-directory check-build
	@LOGTRIAGE_CHECK_FULL=1 sh tests/check.sh

golden: logtriage
	@sh tests/run-tests.sh --update ./logtriage

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
		$(DESTDIR)$(DOCDIR)/cron $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 logtriage $(DESTDIR)$(BINDIR)/logtriage
	install -m 644 docs/man/logtriage.1 $(DESTDIR)$(MANDIR)/man1/logtriage.1
	install -m 644 docs/man/logtriage-rules.5 \
		$(DESTDIR)$(MANDIR)/man5/logtriage-rules.5
	install -m 644 $(RULES) $(DESTDIR)$(DATADIR)/logtriage/rules/
	install -m 644 README.md docs/schema.md docs/rule-format.md \
		$(DESTDIR)$(DOCDIR)/
	install -m 644 docs/cron/crontab docs/cron/logtriage-nightly.service \
		docs/cron/logtriage-nightly.timer $(DESTDIR)$(DOCDIR)/cron/
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
	rm -rf build logtriage demo.db demo.db-wal demo.db-shm

-include $(wildcard build/rel/*.d build/san/*.d)
