# skiff — plain Make + pkg-config.
#   make            build ./skiff (developer build: -Werror)
#   make test-deps  install the test suite's Debian packages (root)
#   make check      unit tests + integration tests (needs root, real kernel, docker-registry)
#   make asan       build ./skiff-asan with ASan+UBSan into build-asan/
#   make fuzz       build libFuzzer targets (clang) into build-fuzz/
#   make bench      run bench/*.sh (not part of CI)
#   make install PREFIX=/usr/local   (skiff, and the boot unit contrib/systemd/skiff-restart.service)
# O=DIR puts objects in DIR (default build/), so parallel builds do not collide.

PREFIX  ?= /usr/local
O       ?= build
CC      ?= cc
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
PKGS    := libcurl jansson libarchive libisal libzstd libseccomp zlib libmnl libnftnl
# libcurl, libarchive and libcrypto are loaded on first use (src/util/lazylib.c), not
# linked: the run path must not pay for mapping their ~40 dependencies, nor each
# detached container's monitor for libcrypto's ~400 kB of relocations.
LINKED  := jansson libisal libzstd libseccomp zlib libmnl libnftnl

WARN    := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 \
           -Wno-unused-parameter -Wvla -Wpointer-arith -Wundef -Wno-format-truncation \
           -Wno-unknown-warning-option # clang (fuzz builds) lacks -Wformat-truncation; gcc is silent
# OPT carries optimisation and sanitizer flags (sub-makes override it, not CFLAGS,
# so the include paths and warnings below always stay).
OPT     ?= -O2 -g
CFLAGS  := $(OPT) $(CFLAGS) -std=gnu17 -pthread $(WARN) $(if $(NOWERROR),,-Werror) -D_GNU_SOURCE \
           -DSKIFF_VERSION='"$(VERSION)"' -Isrc $(shell pkg-config --cflags $(PKGS))
LDLIBS  += -pthread $(shell pkg-config --libs $(LINKED)) -ldl
# Bind every symbol at start-up (full RELRO): a detached container's monitor
# then never faults the dynamic linker's tables back in after it trimmed its
# memory (docs/BENCH.md, "Lifecycle"), for ~0.05 ms more per start.
LDFLAGS += -Wl,-z,now -Wl,-z,relro

# Tests may use libarchive's writer directly (to build hostile tars).
TEST_LIBS := $(shell pkg-config --libs libarchive libmnl libnftnl)

LIB_SRC := $(sort $(wildcard src/util/*.c src/image/*.c src/runtime/*.c src/net/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o) $(O)/src/stub/blob.o
CLI_OBJ := $(CLI_SRC:%.c=$(O)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all test-deps check unit integration asan fuzz fuzz-run bench install clean demo format
all: skiff

skiff: $(O)/skiff
	@cp $< $@.tmp && mv -f $@.tmp $@

$(O)/skiff: $(CLI_OBJ) $(O)/libskiff.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(O)/libskiff.a $(LDLIBS)

$(O)/libskiff.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# skiff-init (src/stub/skiff_init.c): the one program that runs inside
# containers. Freestanding and static, never sanitized (it has no libc to
# report to), then embedded in skiff as data (src/stub/blob.S).
STUB_CFLAGS := -Os -g0 -static -nostdlib -ffreestanding -fno-builtin -fno-pie -no-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
	-Wall -Wextra -Werror -Wno-unused-command-line-argument -Isrc -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,norelro -Wl,-z,noseparate-code -s
$(O)/stub/skiff-init: src/stub/skiff_init.c src/runtime/stub_proto.h
	@mkdir -p $(dir $@)
	@echo "  STUB $@"
	@$(CC) $(STUB_CFLAGS) -o $@ $<

$(O)/src/stub/blob.o: src/stub/blob.S $(O)/stub/skiff-init
	@mkdir -p $(dir $@)
	@$(CC) -c -DSTUB_BIN='"$(O)/stub/skiff-init"' -o $@ $<

$(O)/tests/%: tests/unit/%.c $(O)/libskiff.a tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(O)/libskiff.a $(LDLIBS) $(TEST_LIBS)

unit: $(UNIT_BIN)
	@set -e; pass=0; fail=0; for t in $(UNIT_BIN); do \
	  if $$t; then pass=$$((pass+1)); else fail=$$((fail+1)); echo "FAIL: $$t"; fi; done; \
	  echo "unit: $$pass passed, $$fail failed"; test $$fail -eq 0

integration: skiff
	cd tests/integration && SKIFF_BIN=$(CURDIR)/skiff /usr/bin/python3 -m pytest -q -ra $(PYTEST_ARGS)

# The Debian packages of the test suite (.ci/packages-test; needs root).
test-deps:
	./tests/install-test-deps.sh

# Sequential even under -j: unit tests make real cgroups and fork bombs.
check:
	$(MAKE) unit
	$(MAKE) integration

asan:
	$(MAKE) O=build-asan OPT='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' LDFLAGS='-fsanitize=address,undefined' build-asan/skiff
	cp build-asan/skiff skiff-asan

FUZZ_O ?= build-fuzz
FUZZ_TARGETS ?= $(FUZZ_SRC)
fuzz:
	$(MAKE) O=$(FUZZ_O) CC=clang NOWERROR=1 OPT='-O1 -g -fsanitize=fuzzer-no-link,address,undefined' $(FUZZ_O)/libskiff.a
	@mkdir -p $(FUZZ_O)/fuzz
	@for f in $(FUZZ_TARGETS); do n=$$(basename $$f .c); \
	  echo "  FUZZ $$n"; clang -std=gnu17 -D_GNU_SOURCE -Isrc -O1 -g -fsanitize=fuzzer,address,undefined \
	  $$(pkg-config --cflags $(PKGS)) -o $(FUZZ_O)/fuzz/$$n $$f $(FUZZ_O)/libskiff.a $(LDLIBS) $(TEST_LIBS) || exit 1; done

# Each fuzz target runs briefly (FUZZ_SECONDS) from its seed corpus.
FUZZ_SECONDS ?= 20
fuzz-run: fuzz
	@set -e; for f in $(FUZZ_O)/fuzz/*; do n=$$(basename $$f); mkdir -p $(FUZZ_O)/corpus/$$n; \
	  seeds=tests/fuzz/corpus/$$n; [ -d $$seeds ] || seeds=; \
	  echo "fuzz $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(FUZZ_O)/corpus/$$n $$seeds >$(FUZZ_O)/$$n.log 2>&1 || { tail -40 $(FUZZ_O)/$$n.log; exit 1; }; done

demo: skiff
	./tests/demo.sh

bench: skiff
	./bench/pull.sh; ./bench/run.sh

# systemd looks in $(PREFIX)/lib/systemd/system for /usr and /usr/local.
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
install: skiff
	install -D -m 0755 skiff $(DESTDIR)$(PREFIX)/bin/skiff
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	sed 's|@BINDIR@|$(PREFIX)/bin|' contrib/systemd/skiff-restart.service \
		>$(DESTDIR)$(SYSTEMD_UNIT_DIR)/skiff-restart.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/skiff-restart.service

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz skiff skiff-asan

-include $(shell find $(O) -name '*.d' 2>/dev/null)
