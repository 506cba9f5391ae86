# slotcache -- one top-level build.
#
#   make            build every binary into bin/ (release: -O2, jemalloc)
#   make test       every test, release build and again under ASan+UBSan
#   make soak       clients and faults against a real stack for 10 minutes (SOAK_SECONDS)
#   make bench      benchmarks against redis-server (and nutcracker), with ratios
#   make up         start the default topology locally (make down stops it)
#   make fuzz       libFuzzer harnesses (clang), for long runs: make fuzz-run FUZZ_SECONDS=600
#
# V selects the flavour: release (default), asan, or valgrind (libc malloc,
# -O1, no sanitizer: what valgrind reads best; make test-valgrind).  Objects
# go to build/$(V); release binaries to bin/, the others to build/$(V)/bin/.
# No comment after an assignment: make keeps the spaces in the value.

V       ?= release
B       := build/$(V)
CC      ?= gcc
CFLAGS  := -std=c11 -D_GNU_SOURCE -g -MMD -MP -I. -Wall -Wextra -Werror -Wshadow \
           -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wwrite-strings \
           -Wno-missing-field-initializers
LDFLAGS :=
LDLIBS  := -lev -lssl -lcrypto -lm

# Sanitizers want libc malloc (redis: SANITIZER => MALLOC=libc).
ifeq ($(V),asan)
CFLAGS  += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
           -fno-sanitize-recover=all -DSC_MALLOC_LIBC
LDFLAGS += -fsanitize=address,undefined
BINDIR  := $(B)/bin
else ifeq ($(V),valgrind)
CFLAGS  += -O1 -fno-omit-frame-pointer -DSC_MALLOC_LIBC
BINDIR  := $(B)/bin
else
CFLAGS  += -O2
LDLIBS  += -ljemalloc
BINDIR  := bin
endif

# loader.proto is compiled by protoc-c into the build tree; the loader and
# the proxy (its client) both link the generated code.  Generated code is
# compiled without our warning flags: it is protoc-c's, not ours.
GEN        := $(B)/gen
PROTO_C    := $(GEN)/loader/loader.pb-c.c
PROTO_H    := $(GEN)/loader/loader.pb-c.h
PROTO_OBJ  := $(GEN)/loader/loader.pb-c.o
PQ_CFLAGS  := $(shell pkg-config --cflags libpq 2>/dev/null)
CFLAGS     += -I$(GEN) $(PQ_CFLAGS)

COMMON_SRC := $(wildcard common/*.c)
NODE_SRC   := $(filter-out node/main.c,$(wildcard node/*.c))
PROXY_SRC  := $(filter-out proxy/main.c,$(wildcard proxy/*.c))
LOADER_SRC := $(filter-out loader/main.c,$(wildcard loader/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/%.o)
NODE_OBJ   := $(NODE_SRC:%.c=$(B)/%.o)
PROXY_OBJ  := $(PROXY_SRC:%.c=$(B)/%.o)
LOADER_OBJ := $(LOADER_SRC:%.c=$(B)/%.o)
CLI_SRC    := $(wildcard cluster-tools/cli_*.c)
CLI_OBJ    := $(CLI_SRC:%.c=$(B)/%.o)

LIBCOMMON := $(B)/libcommon.a
LIBNODE   := $(B)/libnode.a
LIBPROXY  := $(B)/libproxy.a
LIBLOADER := $(B)/libloader.a
LIBCLI    := $(B)/libcli.a

BINARIES := $(BINDIR)/slotcache-node $(BINDIR)/slotcache-proxy
ifneq ($(wildcard loader/main.c),)
BINARIES += $(BINDIR)/slotcache-loader
endif
ifneq ($(wildcard cluster-tools/bench.c),)
BINARIES += $(BINDIR)/slotcache-bench
endif
ifneq ($(wildcard cluster-tools/cli.c),)
BINARIES += $(BINDIR)/slotcache-cli
endif

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/tests/replay_%)
COMPAT_BIN := $(B)/tests/compat/hiredis_sync $(B)/tests/compat/hiredis_async

.PHONY: all deps test test-valgrind unit compat-npm fuzz fuzz-run bench bench-hitrate soak up \
        down clean format
.DEFAULT_GOAL := all

all: deps $(BINARIES) $(UNIT_BIN) $(FUZZ_REPLAY) $(COMPAT_BIN)

deps:
	@scripts/deps.sh

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBCOMMON): $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIBNODE): $(NODE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(PROTO_C) $(PROTO_H) &: loader/loader.proto
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) loader/loader.proto

$(PROTO_OBJ): $(PROTO_C)
	$(CC) -std=c11 -g -O2 -I$(GEN) $(filter -fsanitize% -DSC_MALLOC_LIBC,$(CFLAGS)) -c $< -o $@

# Everything that includes the generated header waits for it.
$(PROXY_OBJ) $(LOADER_OBJ) $(B)/loader/main.o $(B)/proxy/main.o: | $(PROTO_H)

$(LIBLOADER): $(LOADER_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/slotcache-loader: $(B)/loader/main.o $(LIBLOADER) $(PROTO_OBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lpq -lprotobuf-c $(LDLIBS)

$(LIBPROXY): $(PROXY_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/slotcache-proxy: $(B)/proxy/main.o $(LIBPROXY) $(PROTO_OBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lprotobuf-c $(LDLIBS)

$(BINDIR)/slotcache-node: $(B)/node/main.o $(LIBNODE) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Tools are hiredis clients; the bench also links the node's eviction
# policies (its offline replay runs their own code).
$(BINDIR)/slotcache-bench: $(B)/cluster-tools/bench.o $(B)/cluster-tools/replay.o $(LIBNODE) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lhiredis $(LDLIBS)

# slotcache-cli: its modules are a library, so its unit test links the
# pure ones (slot sets, plans, maps, arguments) without the main.
$(LIBCLI): $(CLI_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/slotcache-cli: $(B)/cluster-tools/cli.o $(LIBCLI) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lhiredis $(LDLIBS)

$(B)/tests/test_cli: tests/unit/test_cli.c $(LIBCLI) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBCLI) $(LIBCOMMON) -lhiredis $(LDLIBS)

# Unit tests link the libraries: a test pulls in only the modules it uses.
TEST_LIBS := $(LIBLOADER) $(LIBPROXY) $(LIBNODE) $(PROTO_OBJ) $(LIBCOMMON)
TEST_LDLIBS := -lpq -lprotobuf-c $(LDLIBS)

$(B)/tests/test_%: tests/unit/test_%.c $(TEST_LIBS) | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(TEST_LDLIBS)

# Fuzz harnesses, replayed over their corpus with a plain main() (gcc, any flavour).
$(B)/tests/replay_%: tests/fuzz/%.c tests/fuzz/replay_main.c $(TEST_LIBS) | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay_main.c $(TEST_LIBS) $(TEST_LDLIBS)

unit: all
	tests/run-unit.sh $(B)/tests

# The client-compatibility matrix (tests/integration/test_compat.py) drives
# hiredis through these two programs, built against Debian's libhiredis-dev
# and libev like any user's.
$(B)/tests/compat/hiredis_%: tests/integration/compat/hiredis_%.c tests/integration/compat/script.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/integration/compat/script.c -lhiredis -lev

# ... and ioredis and node-redis from npm, the versions of the committed
# package-lock.json, installed into build/npm.  No registry: this fails.
NPM_DIR := build/npm
NPM_STAMP := $(NPM_DIR)/node_modules/.package-lock.json

$(NPM_STAMP): tests/integration/compat/package.json tests/integration/compat/package-lock.json
	@mkdir -p $(NPM_DIR)
	cp $^ $(NPM_DIR)/
	cd $(NPM_DIR) && npm ci --no-audit --no-fund

compat-npm: deps $(NPM_STAMP)

test: deps compat-npm
	tests/run-all.sh

# The integration suite with every server it starts under valgrind
# (memcheck, definite leaks count): slow, so not part of make test.
test-valgrind: deps
	tests/run-valgrind.sh

# libFuzzer builds (clang): every library source is compiled once with
# coverage instrumentation into build/fuzz/obj, then each harness links them.
FUZZ_DIR      := build/fuzz
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS   := -std=c11 -D_GNU_SOURCE -g -O1 -I. -Ibuild/release/gen $(PQ_CFLAGS) \
                 -DSC_MALLOC_LIBC $(FUZZ_SAN)
FUZZ_LIB_SRC  := $(COMMON_SRC) $(NODE_SRC) $(PROXY_SRC) $(LOADER_SRC)
FUZZ_LIB_OBJ  := $(FUZZ_LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/loader.pb-c.o
FUZZ_BINS     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_DIR)/%)

# The generated protobuf code comes from the release tree; a sub-make
# makes it whatever V this make runs with.
.PHONY: fuzz-gen
fuzz-gen:
	@$(MAKE) --no-print-directory V=release build/release/gen/loader/loader.pb-c.h

$(FUZZ_DIR)/obj/%.o: %.c | fuzz-gen
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/obj/loader.pb-c.o: | fuzz-gen
	@mkdir -p $(dir $@)
	clang -std=c11 -g -O1 -Ibuild/release/gen -DSC_MALLOC_LIBC $(FUZZ_SAN) \
	    -c build/release/gen/loader/loader.pb-c.c -o $@


$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) -lpq -lprotobuf-c -lev -lssl -lcrypto -lm

# The objects are named here, not only through the pattern rule, so that make
# treats them as real targets: kept, and rebuilt when a header they include
# (their .d files) changes.
fuzz: deps $(FUZZ_LIB_OBJ) $(FUZZ_BINS)

FUZZ_SECONDS ?= 20
fuzz-run: fuzz
	tests/run-fuzz.sh build/fuzz $(FUZZ_SECONDS)

bench: all
	bench/run.sh

# Topology x eviction policy x cache size x workload, through real
# topologies with PostgreSQL behind them: build/hitrate/{results.csv,
# report.md,*.png}.  HITRATE_ARGS=--quick for a small matrix.
bench-hitrate: all
	cluster-tools/hitrate-matrix --out build/hitrate $(HITRATE_ARGS)

# make soak: redis-py and slotcache-bench clients against a real stack in each
# mode (both at once), a fault every SOAK_FAULT_EVERY seconds; the figures go
# to build/soak/ (tests/soak/soak.py).  make test runs a 60 s one.
SOAK_SECONDS ?= 600
SOAK_FAULT_EVERY ?= 10
soak: all
	SC_BIN_DIR=$(BINDIR) /usr/bin/python3 tests/soak/soak.py --seconds $(SOAK_SECONDS) \
	    --fault-every $(SOAK_FAULT_EVERY)

# make up = slotcache-cli up partitioned: PostgreSQL with the sample data,
# three nodes, the loader and the proxy on 127.0.0.1:7000 (run/ holds their
# logs and pids); make down stops exactly those.
up: all
	$(BINDIR)/slotcache-cli up partitioned

down: $(BINDIR)/slotcache-cli
	$(BINDIR)/slotcache-cli down

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
