# MES regional node. `make` builds build/mesnode; `make test` runs every test;
# `make run` starts the demo. `make SANITIZE=1 ...` builds into build/san with ASan + UBSan.

CC      ?= gcc
PREFIX  ?= /usr/local
DESTDIR ?=
SANITIZE ?= 0

ifeq ($(SANITIZE),1)
BUILD    := build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT      := -O1
else
BUILD    := build
SANFLAGS :=
OPT      := -O2
endif

# Where #include "..." looks after the including file's folder (tools/includes.py too).
INCDIRS := . node
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-missing-field-initializers $(SANFLAGS) $(INCDIRS:%=-I%) -I$(BUILD)/gen
LDFLAGS += $(SANFLAGS)
LDLIBS  := -lcivetweb -lsqlite3 -lsodium -ljansson -lyaml -lzstd -lqrencode -lstemmer -lcurl -larchive -lpthread -lm

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
CFLAGS  += -DMES_VERSION=\"$(VERSION)\"

# Every .c under these folders is part of the node; main.c holds only the CLI entry. lib/ holds
# formats and checks that include nothing outside lib/ (minisign, bundles, input, proxies).
SRC     := $(sort $(wildcard lib/*.c node/*.c node/*/*.c config/*.c federation/*.c))
LIBSRC  := $(filter-out node/main.c,$(SRC))
OBJ     := $(SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/assets.o
LIBOBJ  := $(LIBSRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/assets.o
# Files compiled into the binary: schemas, the web interface, message catalogs, the nginx site.
ASSETS  := $(sort $(wildcard node/*/*.sql) $(wildcard federation/*.sql) $(wildcard node/web/static/*) $(wildcard node/web/i18n/*)) installer/nginx-site.conf

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all bench deps fuzz run test test-includes test-unit test-api test-browser install format format-check clean
all: $(BUILD)/mesnode

$(BUILD)/mesnode: $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

$(BUILD)/obj/%.o: %.c $(wildcard lib/*.h node/*.h node/*/*.h config/*.h federation/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tools/mkassets: tools/mkassets.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/gen/assets.c: $(BUILD)/tools/mkassets $(ASSETS)
	@mkdir -p $(dir $@)
	$(BUILD)/tools/mkassets $@ $(ASSETS)

$(BUILD)/obj/gen/assets.o: $(BUILD)/gen/assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS) -lcmocka

# Benchmark programs built on the node's own code (bench/roster_raw.c: the node's migrations).
$(BUILD)/bench/%: bench/%.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

# Fuzzers of outside input (libFuzzer): each runs FUZZ_SECONDS on its corpus in `make fuzz`
# (the request path, which reaches the most code, FUZZ_REQUEST_SECONDS), with
# tests/fuzz/NAME.dict as its dictionary when there is one. The request path's target checks for
# leaks when it exits rather than after each input: the node's threads and caches would have
# LeakSanitizer scan the whole heap after nearly every request (30 inputs a second, not 400).
FUZZ_SECONDS ?= 30
FUZZ_REQUEST_SECONDS ?= $(shell echo $$(( $(FUZZ_SECONDS) * 6 )))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. -Inode -I$(BUILD)/gen -Wno-missing-field-initializers
FUZZ_SAN := -fsanitize=fuzzer,address,undefined
# The node's sources are compiled once for every target that links them (instrumented for
# coverage, not linked with libFuzzer's main).
FUZZ_OBJ := $(LIBSRC:%.c=build/fuzz/obj/%.o) build/fuzz/obj/gen/assets.o

build/fuzz/fuzz_config: tests/fuzz/fuzz_config.c config/config.c config/config.h lib/proxy.c
	@mkdir -p $(dir $@)
	clang -Wall -Wextra -Werror $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ $< config/config.c lib/proxy.c -lyaml -lsodium

build/fuzz/obj/%.o: %.c $(wildcard lib/*.h node/*.h node/*/*.h config/*.h federation/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -DMES_VERSION=\"fuzz\" -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

build/fuzz/obj/gen/assets.o: $(BUILD)/gen/assets.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

FUZZ_NODE := $(filter-out build/fuzz/fuzz_config,$(FUZZ_BIN))
$(FUZZ_NODE): build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	clang -Wall -Wextra -Werror $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do \
	  name=$${f#build/fuzz/fuzz_}; mkdir -p build/fuzz/corpus-$$name; \
	  secs=$(FUZZ_SECONDS); extra=; \
	  [ $$name = request ] && { secs=$(FUZZ_REQUEST_SECONDS); extra=-detect_leaks=0; }; \
	  dict=; [ -f tests/fuzz/$$name.dict ] && dict=-dict=tests/fuzz/$$name.dict; \
	  echo "fuzzing $$name for $$secs s"; \
	  $$f -max_total_time=$$secs -max_len=4096 $$dict $$extra build/fuzz/corpus-$$name \
	    tests/fuzz/corpus/$$name > build/fuzz/$$name.log 2>&1 \
	    || { tail -40 build/fuzz/$$name.log; exit 1; }; tail -1 build/fuzz/$$name.log; \
	done

deps:
	@bash installer/deps.sh

run: deps
	$(MAKE) all
	$(BUILD)/mesnode demo --data demo-data

test: deps
	$(MAKE) all $(UNIT_BIN)
	$(MAKE) test-includes test-unit test-api test-browser

# Folders form a DAG: fails on an include cycle between folders, or on lib/ including anything
# outside lib/ (tools/includes.py; its own tests in tests/tools/).
test-includes:
	/usr/bin/python3 tools/includes.py $(INCDIRS:%=-I%)
	/usr/bin/python3 -m pytest -q tests/tools

test-unit: $(UNIT_BIN)
	@bash tests/run-unit.sh $(UNIT_BIN)

test-api: $(BUILD)/mesnode
	MESNODE=$(abspath $(BUILD)/mesnode) /usr/bin/python3 -m pytest -q tests/api

# The sanitized run leaves out the sweep (docs/testing.md): it reads every page, which the
# sanitized API suite covers route by route; the other browser tests' flows run sanitized.
test-browser: $(BUILD)/mesnode
	MESNODE=$(abspath $(BUILD)/mesnode) $(if $(filter 1,$(SANITIZE)),SKIP="sweep:") \
	  node tests/browser/run.mjs

bench:
	@bash bench/run.sh
	@bash bench/library.sh
	@bash bench/federation.sh
	@bash bench/import.sh
	@bash bench/moskvenok.sh

install: $(BUILD)/mesnode
	install -D -m 0755 $(BUILD)/mesnode $(DESTDIR)$(PREFIX)/bin/mesnode
	install -D -m 0644 docs/mesnode.1 $(DESTDIR)$(PREFIX)/share/man/man1/mesnode.1
	install -d $(DESTDIR)$(PREFIX)/share/mesnode/regions
	install -m 0644 regions/*.yaml $(DESTDIR)$(PREFIX)/share/mesnode/regions/
	install -D -m 0644 installer/mesnode.service $(DESTDIR)$(PREFIX)/lib/systemd/system/mesnode.service

format:
	clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

clean:
	rm -rf build
