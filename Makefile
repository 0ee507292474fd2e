# ferry — build, test, install.  See README.md.
#
#   make            build ./ferry
#   make deps       install missing Debian packages (root), quietly when none
#   make check      deps, build, layers, unit + integration tests, "N passed, M failed"
#   make check-stress  the suite 3 times in a row with every core kept busy
#   make asan       the whole suite under AddressSanitizer + UBSan
#   make layers     fail when a library header is included outside its folder
#   make demo       deps, build, open the wizard on a sandbox
#   make bench      speed and memory against the plain tools
#   make faults     kill -9 at every step, children killed, server stopped, disk
#                   full, bombs, 150k files, corruptions: a table (tests/faults/)
#   make fuzz       the bundle and profile parsers under libFuzzer + ASan/UBSan
#                   for FUZZ_SECONDS (default 60) each (clang)
#   make man        the manual page build/ferry.1 and the bash / zsh completion
#                   scripts, printed by ferry from its command table
#   make install    PREFIX=/usr/local DESTDIR= (ferry, ferry.1, completions)

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
PKG_CONFIG ?= pkg-config
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)

CORE_PKGS := libpq libssh libarchive jansson libcurl libcrypto
TUI_PKGS  := ncursesw

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

OPT      ?= -O2 -g
SAN      ?=
STD      := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64
WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wformat=2 -Wno-format-nonliteral
# -fvisibility=hidden: ferry's names are never exported, so a shared library
# (libkrb5 under libpq has profile_* functions of its own) never calls ours.
BASE_CFLAGS = $(STD) $(WARN) $(OPT) $(SAN) -DFERRY_VERSION='"$(VERSION)"' -pthread -fvisibility=hidden -MMD -MP $(CFLAGS)

# Evaluated when used (=, not :=), so `make deps` can install pkg-config first.
CORE_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(CORE_PKGS))
CORE_LIBS   = $(shell $(PKG_CONFIG) --libs $(CORE_PKGS))
TUI_CFLAGS  = $(shell $(PKG_CONFIG) --cflags $(TUI_PKGS))
TUI_LIBS    = $(shell $(PKG_CONFIG) --libs $(TUI_PKGS))
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka)

CORE_SRC := $(sort $(shell find core -name '*.c'))
TUI_SRC  := $(sort $(shell find tui -name '*.c'))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
TUI_OBJ  := $(TUI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIBFERRY := $(BUILD)/libferry.a
FERRY    := $(if $(filter build,$(BUILD)),ferry,$(BUILD)/ferry)
LAYERS_OK := $(BUILD)/.layers-ok

# The test build: the same sources with the fault seams compiled in
# (core/fault.h); never installed.  Integration tests find it as
# $FERRY_FAULTS_BIN.
FAULTS_BUILD := $(BUILD)/faults
FAULTS_BIN   := $(FAULTS_BUILD)/ferry

# Printed by ferry from its command table (tui/cli/): `ferry help --man`,
# `ferry completion bash|zsh`.
MAN_PAGE        := $(BUILD)/ferry.1
BASH_COMPLETION := $(BUILD)/ferry.bash-completion
ZSH_COMPLETION  := $(BUILD)/_ferry

.PHONY: all deps check check-stress test unit faults fuzz asan demo bench man man-lint install uninstall clean cppcheck layers faults-bin

all: $(FERRY)

# `make layers` runs before anything compiles: a curses include in core/ or
# a libpq include in tui/ fails the build, not only the check.
$(LAYERS_OK): tests/layers.sh $(CORE_SRC) $(TUI_SRC) $(shell find core tui -name '*.h')
	@mkdir -p $(@D)
	@sh tests/layers.sh
	@touch $@

layers:
	@sh tests/layers.sh

# core/ gets no curses flags.
$(BUILD)/core/%.o: core/%.c Makefile | $(LAYERS_OK)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) -Icore -c $< -o $@

$(BUILD)/tui/%.o: tui/%.c Makefile | $(LAYERS_OK)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) $(TUI_CFLAGS) -Icore -Itui -c $< -o $@

$(LIBFERRY): $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FERRY): $(TUI_OBJ) $(LIBFERRY)
	$(CC) $(BASE_CFLAGS) -o $@ $(TUI_OBJ) $(LIBFERRY) $(CORE_LIBS) $(TUI_LIBS) -lm

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIBFERRY)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) -Icore -Itests/unit -o $@ $< $(LIBFERRY) $(CORE_LIBS) $(CMOCKA_LIBS) -lm

# The wizard's curses-free models are tested with their own objects.
WIZ_MODEL_OBJ := $(filter %/wiz/wiz_runview.o %/wiz/wiz_job.o %/wiz/wiz_dialog.o %/ui/key.o,$(TUI_OBJ))
$(BUILD)/tests/test_wiz_model: tests/unit/test_wiz_model.c $(WIZ_MODEL_OBJ) $(LIBFERRY)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CORE_CFLAGS) -Icore -Itui -Itests/unit -o $@ $< $(WIZ_MODEL_OBJ) $(LIBFERRY) $(CORE_LIBS) $(CMOCKA_LIBS) -lm

faults-bin:
	@$(MAKE) --no-print-directory BUILD=$(FAULTS_BUILD) CFLAGS='$(CFLAGS) -DFERRY_FAULTS' $(FAULTS_BIN)

-include $(CORE_OBJ:.o=.d) $(TUI_OBJ:.o=.d) $(UNIT_BIN:=.d)

deps:
	@sh tests/deps.sh

unit: $(UNIT_BIN)

# The suite: unit tests, then integration tests against the test bed.
test: all unit faults-bin
	@FERRY_BIN=$(abspath $(FERRY)) FERRY_FAULTS_BIN=$(abspath $(FAULTS_BIN)) sh tests/run.sh $(BUILD)/tests

check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all unit faults-bin
	@$(MAKE) --no-print-directory test

# The fault-and-hostile suite (tests/faults/): kill -9 at every step
# boundary of restore, backup, rollback, migrate, deploy and push; children
# killed, PostgreSQL stopped, the connection cut, disks full, bombs, a
# 150,000-file tree, corruptions; prints a table. FAULTS_SHORT=1: every
# third step.
faults: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all unit faults-bin
	@rm -f $(BUILD)/faults-table
	@FERRY_BIN=$(abspath $(FERRY)) FERRY_FAULTS_BIN=$(abspath $(FAULTS_BIN)) \
		FAULTS_TABLE=$(abspath $(BUILD))/faults-table INTEGRATION_DIR=tests/faults \
		TEST_TIMEOUT=$${TEST_TIMEOUT:-3600} FERRY_SKIP_UNIT=1 sh tests/run.sh $(BUILD)/tests
	@printf '\n%-8s %-34s %-8s %-16s %-10s %s\n' flow "fault" outcome "rows lost" leftovers rerun
	@cat $(BUILD)/faults-table

# libFuzzer targets (tests/fuzz/fuzz_*.c) against a clang build of core/.
FUZZ_TARGETS := manifest globals profile
fuzz: deps
	@command -v clang >/dev/null || { echo "make fuzz needs clang: apt-get install clang"; exit 1; }
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/fuzz CC=clang OPT='-O1 -g' \
		SAN='-fsanitize=fuzzer-no-link,address,undefined' build/fuzz/libferry.a
	@for t in $(FUZZ_TARGETS); do \
		clang $(STD) -O1 -g -fsanitize=fuzzer,address,undefined -Icore \
			$(CORE_CFLAGS) -o build/fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c \
			build/fuzz/libferry.a $(CORE_LIBS) -lm || exit 1; \
	done
	@sh tests/fuzz/run.sh build/fuzz

# The suite STRESS_RUNS times (3) in a row under a CPU hog on every core
# (tests/stress.sh); not part of check.
check-stress: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all unit faults-bin
	@FERRY_BIN=$(abspath $(FERRY)) FERRY_FAULTS_BIN=$(abspath $(FAULTS_BIN)) sh tests/stress.sh $(BUILD)/tests

asan: deps
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/asan OPT='-O1 -g -fno-omit-frame-pointer' \
		SAN='-fsanitize=address,undefined -fno-sanitize-recover=undefined' all unit faults-bin
	@$(MAKE) --no-print-directory BUILD=build/asan OPT='-O1 -g -fno-omit-frame-pointer' \
		SAN='-fsanitize=address,undefined -fno-sanitize-recover=undefined' test

demo: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@bash tests/demo.sh $(abspath $(FERRY))

bench: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@sh tests/bench/run.sh $(abspath $(FERRY))

man: $(MAN_PAGE) $(BASH_COMPLETION) $(ZSH_COMPLETION)

$(MAN_PAGE): $(FERRY)
	$(abspath $(FERRY)) help --man >$@.part && mv $@.part $@

$(BASH_COMPLETION): $(FERRY)
	$(abspath $(FERRY)) completion bash >$@.part && mv $@.part $@

$(ZSH_COMPLETION): $(FERRY)
	$(abspath $(FERRY)) completion zsh >$@.part && mv $@.part $@

cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--std=c11 --inline-suppr -D__GNUC__ -Icore -Itui core tui tests/unit

install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/ferry/profiles \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 0755 $(FERRY) $(DESTDIR)$(PREFIX)/bin/ferry
	install -m 0644 profiles/*.json profiles/README.md $(DESTDIR)$(PREFIX)/share/ferry/profiles/
	install -m 0644 $(MAN_PAGE) $(DESTDIR)$(PREFIX)/share/man/man1/ferry.1
	install -m 0644 $(BASH_COMPLETION) $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ferry
	install -m 0644 $(ZSH_COMPLETION) $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ferry

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/ferry $(DESTDIR)$(PREFIX)/share/man/man1/ferry.1
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ferry
	rm -f $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ferry
	rm -rf $(DESTDIR)$(PREFIX)/share/ferry

clean:
	rm -rf build ferry
