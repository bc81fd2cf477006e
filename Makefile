# plumb — build, test and tooling.
#
#   make            bin/plumb
#   make test       installs what is missing, builds, runs unit + emulator + integration tests
#   make asan       the same suite under ASan+UBSan (build-asan/)
#   make fuzz       libFuzzer over the manifest parser (FUZZ_SECONDS, default 60)
#   make demo       the quick start: see README.md
#   make gen        regenerate shape tables and JSON Schemas from the AWS models
#
# Layering is enforced at link time: the pure core (base, model, manifest, diff, plan) is its own
# archive, and its unit tests link against it and its three libraries alone.

PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
BUILD    ?= build
BINDIR   ?= bin
CFLAGS   ?= -O2 -g
PYTHON   := /usr/bin/python3
FUZZ_SECONDS ?= 60
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
            -Wno-unused-parameter
CORE_PC  := yaml-0.1 jansson libpcre2-8
IO_PC    := libcurl libuv sqlite3 libxml-2.0 libmicrohttpd openssl
ALL_CPPFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Ipkg \
            -DPLUMB_VERSION='"$(VERSION)"' $(WARN)
PC_CFLAGS = $(shell pkg-config --cflags $(CORE_PC) $(IO_PC) 2>/dev/null)
CORE_LIBS = $(shell pkg-config --libs $(CORE_PC) 2>/dev/null) -lm
IO_LIBS   = $(shell pkg-config --libs $(IO_PC) 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

CORE_MODS := base model manifest diff plan report export
IO_MODS   := state aws http observe apply reconcile
CORE_SRC  := $(foreach m,$(CORE_MODS),$(wildcard pkg/$(m)/*.c))
IO_SRC    := $(foreach m,$(IO_MODS),$(wildcard pkg/$(m)/*.c))
CMD_SRC   := $(wildcard cmd/plumb/*.c)
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/%.o)
IO_OBJ    := $(IO_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ   := $(CMD_SRC:%.c=$(BUILD)/%.o)
CORE_LIB  := $(BUILD)/libplumb_core.a
IO_LIB    := $(BUILD)/libplumb.a
PLUMB     := $(BINDIR)/plumb

CORE_TEST_SRC := $(foreach m,$(CORE_MODS),$(wildcard tests/$(m)/test_*.c))
IO_TEST_SRC   := $(foreach m,$(IO_MODS),$(wildcard tests/$(m)/test_*.c))
TEST_SUPPORT  := tests/unit_main.c tests/fake_live.c
CORE_TEST_BIN := $(BUILD)/tests/unit_core
IO_TEST_BIN   := $(BUILD)/tests/unit_io

.PHONY: all deps test unit test-unit test-emulator test-integration test-gen asan fuzz bench demo \
        gen install clean

all: deps $(PLUMB)

deps:
	@bash tools/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(PC_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(CORE_LIB): $(CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(IO_LIB): $(IO_OBJ) $(if $(IO_OBJ),,$(BUILD)/empty.o)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $(IO_OBJ) $(if $(IO_OBJ),,$(BUILD)/empty.o)

$(BUILD)/empty.o:
	@mkdir -p $(@D)
	echo 'typedef int plumb_empty_unit;' | $(CC) -x c -c - -o $@

$(PLUMB): $(CMD_OBJ) $(IO_LIB) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(CMD_OBJ) $(IO_LIB) $(CORE_LIB) $(IO_LIBS) $(CORE_LIBS) -lpthread

# Unit tests: every tests/<module>/test_*.c defines `Suite *<file>_suite(void)`; the list is
# generated so a new test file needs no registration by hand.
$(BUILD)/tests/%_suites.h: $(CORE_TEST_SRC) $(IO_TEST_SRC) Makefile
	@mkdir -p $(@D)
	@for f in $(if $(findstring core,$*),$(CORE_TEST_SRC),$(IO_TEST_SRC)); do \
	  b=$$(basename $$f .c); echo "PLUMB_SUITE($${b#test_})"; done > $@.tmp && mv $@.tmp $@

$(CORE_TEST_BIN): $(CORE_TEST_SRC) $(TEST_SUPPORT) $(CORE_LIB) $(BUILD)/tests/core_suites.h
	$(CC) $(ALL_CPPFLAGS) -Itests -I$(BUILD)/tests -DSUITES='"core_suites.h"' \
	  $(shell pkg-config --cflags $(CORE_PC) check) $(CFLAGS) -o $@ \
	  $(TEST_SUPPORT) $(CORE_TEST_SRC) $(CORE_LIB) $(CORE_LIBS) $(CHECK_LIBS)

$(IO_TEST_BIN): $(IO_TEST_SRC) $(TEST_SUPPORT) $(IO_LIB) $(CORE_LIB) $(BUILD)/tests/io_suites.h
	$(CC) $(ALL_CPPFLAGS) -Itests -I$(BUILD)/tests -DSUITES='"io_suites.h"' \
	  $(PC_CFLAGS) $(shell pkg-config --cflags check) $(CFLAGS) -o $@ \
	  $(TEST_SUPPORT) $(IO_TEST_SRC) $(IO_LIB) $(CORE_LIB) $(IO_LIBS) $(CORE_LIBS) $(CHECK_LIBS)

# Test-only driver of pkg/aws (SigV4 differential, integration scenarios); never installed.
AWS_TOOL := $(BUILD)/tests/aws_tool
$(AWS_TOOL): tests/aws/aws_tool.c $(IO_LIB) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(PC_CFLAGS) $(CFLAGS) -o $@ $< $(IO_LIB) $(CORE_LIB) $(IO_LIBS) $(CORE_LIBS)

# Test-only driver of pkg/observe (tests/integration/test_observe.py); never installed.
OBSERVE_TOOL := $(BUILD)/tests/observe_tool
$(OBSERVE_TOOL): tests/observe/observe_tool.c $(IO_LIB) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(PC_CFLAGS) $(CFLAGS) -o $@ $< $(IO_LIB) $(CORE_LIB) $(IO_LIBS) $(CORE_LIBS)

# Test-only driver of pkg/apply (tests/integration/test_apply_exec.py); never installed.
APPLY_TOOL := $(BUILD)/tests/apply_tool
$(APPLY_TOOL): tests/apply/apply_tool.c $(IO_LIB) $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(PC_CFLAGS) $(CFLAGS) -o $@ $< $(IO_LIB) $(CORE_LIB) $(IO_LIBS) $(CORE_LIBS)

unit test-unit: deps $(CORE_TEST_BIN) $(IO_TEST_BIN) $(PLUMB) $(AWS_TOOL)
	cd tests && PLUMB_REPO=$(CURDIR) ../$(CORE_TEST_BIN)
	cd tests && PLUMB_REPO=$(CURDIR) PLUMB_AWS_TOOL=$(CURDIR)/$(AWS_TOOL) ../$(IO_TEST_BIN)

test-gen: deps
	$(PYTHON) tools/gen_shapes.py --check

test-emulator: deps
	tests/emulator/check

test-integration: deps $(PLUMB) $(AWS_TOOL) $(OBSERVE_TOOL) $(APPLY_TOOL)
	PLUMB_BIN=$(CURDIR)/$(PLUMB) PLUMB_AWS_TOOL=$(CURDIR)/$(AWS_TOOL) tests/run-integration

test: deps
	$(MAKE) all unit
	$(MAKE) test-gen
	$(MAKE) test-emulator
	$(MAKE) test-integration
	$(MAKE) RELIABILITY_STORM_SECONDS=40 RELIABILITY_KILLS=8 RELIABILITY_FUZZ_SECONDS=5 test-reliability

asan: deps
	$(MAKE) BUILD=build-asan BINDIR=build-asan/bin \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  all unit test-integration
	# the reliability suite against the sanitized binary: short storm; no fuzzing here, as the
	# fuzz targets are ASan+UBSan builds of their own (make fuzz)
	$(MAKE) BUILD=build-asan BINDIR=build-asan/bin \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  RELIABILITY_STORM_SECONDS=60 RELIABILITY_KILLS=10 RELIABILITY_FUZZ_SECONDS=0 test-reliability

gen: deps
	$(PYTHON) tools/gen_shapes.py

FUZZ_BIN := build-fuzz/fuzz_manifest
$(FUZZ_BIN): tests/fuzz/fuzz_manifest.c $(CORE_SRC)
	@mkdir -p $(@D)
	clang $(ALL_CPPFLAGS) $(shell pkg-config --cflags $(CORE_PC)) -g -O1 \
	  -fsanitize=fuzzer,address,undefined -o $@ $^ $(CORE_LIBS)

# The pkg/aws reply and config parsers (tests/fuzz/fuzz_{json_reply,xml_reply,aws_config}.c):
# base, http and aws compiled once with fuzzer instrumentation into an archive, so each target
# links only the objects it reaches.
FUZZ_AWS_TARGETS := json_reply xml_reply aws_config
FUZZ_AWS_BINS := $(FUZZ_AWS_TARGETS:%=build-fuzz/fuzz_%)
FUZZ_AWS_SRC := $(wildcard pkg/base/*.c pkg/http/*.c pkg/aws/*.c)
FUZZ_AWS_OBJ := $(FUZZ_AWS_SRC:%.c=build-fuzz/obj/%.o)
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
build-fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(ALL_CPPFLAGS) $(PC_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
build-fuzz/libplumb_aws_fuzz.a: $(FUZZ_AWS_OBJ)
	rm -f $@ && ar rcs $@ $^
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libplumb_aws_fuzz.a
	clang $(ALL_CPPFLAGS) $(PC_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	  build-fuzz/libplumb_aws_fuzz.a $(IO_LIBS) $(CORE_LIBS)

fuzz-build: deps $(FUZZ_BIN) $(FUZZ_AWS_BINS)

# The reliability suite (tests/reliability, docs/reliability.md): fault storm, SIGKILL chaos,
# state file on a full / read-only disk or corrupt, the fuzz targets, security checks. Alone it
# runs the full 5-minute storm; `make test` runs it short.
.PHONY: fuzz-build test-reliability
test-reliability: deps $(PLUMB) $(if $(filter 0,$(RELIABILITY_FUZZ_SECONDS)),,fuzz-build)
	PLUMB_BIN=$(CURDIR)/$(PLUMB) tests/run-reliability

# Every target FUZZ_SECONDS each; a finding in any of them fails the run.
fuzz: fuzz-build
	tests/fuzz/run $(FUZZ_BIN) $(FUZZ_SECONDS)
	for t in $(FUZZ_AWS_TARGETS); do tests/fuzz/run build-fuzz/fuzz_$$t $(FUZZ_SECONDS) || exit 1; done

bench: deps all
	@if [ -x bench/run ]; then bench/run; else echo "bench: nothing measured yet (see docs/benchmarks.md)"; fi

demo: deps all
	tools/demo

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(PLUMB) $(DESTDIR)$(PREFIX)/bin/plumb
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 0644 contrib/man/plumb.1 $(DESTDIR)$(PREFIX)/share/man/man1/plumb.1
	install -m 0644 contrib/completions/plumb.bash \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/plumb
	install -m 0644 contrib/completions/_plumb $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_plumb

clean:
	rm -rf build build-asan build-fuzz bin

-include $(CORE_OBJ:.o=.d) $(IO_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(FUZZ_AWS_OBJ:.o=.d)
