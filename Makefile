# otelauto: zero-code OpenTelemetry tracing by LD_PRELOAD.
#   make          build build/libotelauto.so (+ build/libotelauto-otlp.so)
#   make test     build everything and run every test (unit, integration, sanitizers)
#   make demo     two unmodified services call each other under the shim; the trace is printed
# Both install missing Debian packages first (scripts/install-deps.sh).

CC       ?= gcc
BUILD    ?= build
SAN      ?=
OPT      ?= -O2

CFLAGS_BASE = -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -fPIC -fvisibility=hidden \
              -D_GNU_SOURCE -Isrc -I$(BUILD)/gen -pthread -MMD -MP
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_SAN = -fsanitize=address,undefined
endif
# SAN=thread: ThreadSanitizer, for the unit tests of the queue and the exporter
ifeq ($(SAN),thread)
# (TSan does not model fences; the fenced variables are atomics, never raced on)
CFLAGS_BASE += -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
LDFLAGS_SAN = -fsanitize=thread
endif
# The preloaded object is linked with link-time optimisation: a traced
# request's path crosses files (hook, connection I/O, exchange, parser,
# metrics, spans) and inlining across them is ~7% of what it costs the
# program's thread. Objects keep their ordinary code too (fat), for the
# archive the unit tests and benchmarks link. Not with the sanitizers.
ifeq ($(SAN),)
LTO ?= -flto=auto -ffat-lto-objects
endif
CFLAGS_BASE += $(LTO)
CFLAGS  ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS)

# The preloaded object: libc only. Exporter dependencies live in the OTLP object,
# which is dlopen'ed by the exporter thread the first time there is something to send.
# Which object a file goes into is decided by its folder: src/export/otlp/ is
# the lazily loaded exporter object, the rest of src/ the preloaded engine.
OTLP_SRCS   := $(wildcard src/export/otlp/*.c)
ENGINE_SRCS := $(filter-out $(OTLP_SRCS),$(shell find src -name '*.c' | sort))
HOOK_SRCS   := $(wildcard hooks/*.c)
PROTO_FILES := $(shell find proto -name '*.proto' 2>/dev/null | sort)
PROTO_C     := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTO_FILES))
PROTO_H     := $(PROTO_C:.c=.h)

ENGINE_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(ENGINE_SRCS))
HOOK_OBJS   := $(patsubst %.c,$(BUILD)/obj/%.o,$(HOOK_SRCS))
OTLP_OBJS   := $(patsubst %.c,$(BUILD)/obj/%.o,$(OTLP_SRCS)) $(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(PROTO_C))

UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
PROG_SRCS   := $(wildcard tests/programs/*.c)
PROG_BINS   := $(patsubst tests/programs/%.c,$(BUILD)/programs/%,$(PROG_SRCS))

LIB       := $(BUILD)/libotelauto.so
OTLP_LIB  := $(BUILD)/libotelauto-otlp.so
PASSTHRU  := $(BUILD)/libpassthrough.so
ENGINE_A  := $(BUILD)/libengine.a

.SECONDARY: $(PROTO_C) $(PROTO_H)
.PHONY: all deps lib test demo clean check-exports check-layers
all: deps lib

# the runtime hints' modules, beside the shim (src/lifecycle/runtime_hints.c)
HINT_SRCS := hints/node/otelauto-hint.js hints/python/sitecustomize.py
HINTS     := $(patsubst %,$(BUILD)/%,$(HINT_SRCS))
$(BUILD)/hints/%: hints/%
	@mkdir -p $(dir $@)
	cp $< $@

# java's: an agent jar, built with the JDK's javac when there is one (the
# Java tests skip without it). Not --release 17: it hides the non-exported
# packages of java.base, and the agent uses the JDK's own class-file library
# (jdk.internal.org.objectweb.asm), exported to it at run time.
JAVAC     ?= javac
JAR       ?= jar
HAVE_JAVA := $(shell command -v $(JAVAC) >/dev/null 2>&1 && command -v $(JAR) >/dev/null 2>&1 && echo 1)
# OtelautoHint is compiled as a class of java.base's jdk.internal.misc,
# which the agent defines there at run time: a resource of the jar.
HINT_JAVA := $(wildcard hints/java/otelauto/hint/*.java)
HINT_BASE := hints/java/java.base/jdk/internal/misc/OtelautoHint.java
HINT_JAR  := $(BUILD)/hints/java/otelauto-hint.jar
HINT_OBJ  := $(BUILD)/obj/hints/java
$(HINT_JAR): $(HINT_JAVA) $(HINT_BASE) hints/java/MANIFEST.MF
	@rm -rf $(HINT_OBJ) && mkdir -p $(HINT_OBJ)/agent $(HINT_OBJ)/base $(dir $@)
	$(JAVAC) -source 17 -target 17 -Xlint:-options \
	    --add-exports java.base/jdk.internal.org.objectweb.asm=ALL-UNNAMED -d $(HINT_OBJ)/agent $(HINT_JAVA)
	$(JAVAC) -source 17 -target 17 -Xlint:-options \
	    --patch-module java.base=hints/java/java.base -d $(HINT_OBJ)/base $(HINT_BASE)
	cp $(HINT_OBJ)/base/jdk/internal/misc/OtelautoHint.class $(HINT_OBJ)/agent/otelauto/hint/OtelautoHint.bytes
	$(JAR) --create --file $@ --manifest hints/java/MANIFEST.MF -C $(HINT_OBJ)/agent .
ifeq ($(HAVE_JAVA),1)
HINTS     += $(HINT_JAR)
endif

lib: $(LIB) $(OTLP_LIB) $(PASSTHRU) $(HINTS)

deps:
	@scripts/install-deps.sh

# Header dependencies come from the compiler (-MMD -MP: one .d file beside
# each object).
$(BUILD)/obj/%.o: %.c | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen $<

# Generated code is not ours to warn about beyond the defaults.
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c | $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Wextra,$(ALL_CFLAGS)) -c $< -o $@

# The linker version script of the preloaded object, made from the one list
# of interposed symbols: only those can ever be exported, even if a
# visibility attribute somewhere is wrong (everything else is local). No
# version name: a named version node would stop the hooks from matching the
# programs' versioned references (socket@GLIBC_2.2.5).
INTERPOSED_DEF := src/sys/interposed.def
EXPORTS_MAP    := $(BUILD)/libotelauto.map

$(EXPORTS_MAP): $(INTERPOSED_DEF) scripts/interposed-names.sh
	@mkdir -p $(dir $@)
	{ echo '{ global:'; CC=$(CC) scripts/interposed-names.sh $< | sed 's/.*/    &;/'; echo '  local: *; };'; } >$@.tmp
	mv $@.tmp $@

$(LIB): $(ENGINE_OBJS) $(HOOK_OBJS) $(EXPORTS_MAP)
	$(CC) $(OPT) $(LTO) -shared -o $@ $(ENGINE_OBJS) $(HOOK_OBJS) $(LDFLAGS_SAN) -pthread -ldl -Wl,--no-undefined -Wl,-z,nodelete \
		-Wl,--version-script=$(EXPORTS_MAP)

$(OTLP_LIB): $(OTLP_OBJS)
	$(CC) -shared -o $@ $^ $(LDFLAGS_SAN) -lcurl -lprotobuf-c -lz -pthread -Wl,--no-undefined

$(PASSTHRU): tests/bench/passthrough.c $(INTERPOSED_DEF)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(LDFLAGS_SAN) -ldl

$(ENGINE_A): $(ENGINE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(ENGINE_A) $(OTLP_OBJS) tests/unit/oa_test.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fvisibility=default -o $@ $< $(UNIT_EXTRA_OBJS) $(OTLP_OBJS) $(ENGINE_A) $(LDFLAGS_SAN) -lcurl -lprotobuf-c -lz -ldl -lpthread

# The conversation tests link the harness (tests/unit/conversation.c: the
# wire layer played against a fake kernel, spans captured); it brings its
# own fake oa_libc, so no other unit test links it.
CONV_OBJ      := $(BUILD)/obj/tests/unit/conversation.o
CONV_TEST_BINS := $(BUILD)/tests/test_http1_conversations $(BUILD)/tests/test_splice \
                  $(BUILD)/tests/test_postgres_conversations $(BUILD)/tests/test_redis_conversations \
                  $(BUILD)/tests/test_mysql_conversations $(BUILD)/tests/test_http2_conversations \
                  $(BUILD)/tests/test_http_hint
$(CONV_TEST_BINS): $(CONV_OBJ) tests/unit/conversation.h
$(CONV_TEST_BINS): UNIT_EXTRA_OBJS = $(CONV_OBJ)

$(BUILD)/programs/%: tests/programs/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS_SAN)

# the libcurl multi-interface client of the HTTPS tests
$(BUILD)/programs/curl_multi: tests/programs/curl_multi.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS_SAN) -lcurl

$(BUILD)/programs/tls_write_client: tests/programs/tls_write_client.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS_SAN) -lssl -lcrypto

# a "runtime" that recovers from its own faults, under a runtime's name and
# another (tests/integration/36-crash.bats)
FAULT_LIBS := $(BUILD)/programs/fault_runtime/libjvm.so $(BUILD)/programs/fault_runtime/librecover.so
$(FAULT_LIBS): tests/programs/fault_runtime/fault_recover.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(LDFLAGS_SAN)
$(BUILD)/programs/fault_recovery: LDFLAGS_SAN += -ldl

# the Java test programs, when there is a javac (tests/integration/38-java-hints.bats)
JAVA_PROG_SRCS := $(wildcard tests/programs/*.java)
ifeq ($(HAVE_JAVA),1)
JAVA_PROGS := $(patsubst tests/programs/%.java,$(BUILD)/programs/java/%.class,$(JAVA_PROG_SRCS))
endif
$(BUILD)/programs/java/%.class: tests/programs/%.java
	@mkdir -p $(dir $@)
	$(JAVAC) -d $(dir $@) $<

# a preload put before the shim that reports the shim calling its own hooks
# (tests/integration/09-exporter-isolation.bats, 41-metrics-prometheus.bats)
WITNESS := $(BUILD)/programs/libhook_witness.so
$(WITNESS): tests/programs/witness/hook_witness.c $(INTERPOSED_DEF)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -o $@ $< $(LDFLAGS_SAN) -ldl

.PHONY: unit-bins programs
unit-bins: $(UNIT_BINS)
programs: $(PROG_BINS) $(WITNESS) $(FAULT_LIBS) $(JAVA_PROGS)

# Only the interposed libc symbols may be exported from the preloaded object.
check-exports: $(LIB)
	@scripts/check-exports.sh $(LIB)

# The layers rule over the preloaded object's files (scripts/check-layers.py):
# no upward or sideways dependency between folders, no cycle of more than 3
# files. make test runs it (scripts/run-tests.sh, section "exports").
check-layers: $(ENGINE_OBJS) $(HOOK_OBJS)
	@scripts/check-layers.py $(ENGINE_OBJS) $(HOOK_OBJS)

# the unit tests that run under ThreadSanitizer: the lock-free queue and the exporter thread
TSAN_UNIT_BINS := build/tsan/tests/test_queue build/tsan/tests/test_batch_processor

# the four builds of the test run use every core (the run itself is one
# process at a time: the integration tests share ports and the receiver)
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: deps
	$(MAKE) -j$(TEST_JOBS) lib unit-bins programs $(PASSTHRU) $(BUILD)/bench/request_loop $(BUILD)/otelauto
	$(MAKE) -j$(TEST_JOBS) BUILD=build/asan SAN=1 OPT=-O1 lib unit-bins
	$(MAKE) -j$(TEST_JOBS) BUILD=build/tsan SAN=thread OPT=-O1 $(TSAN_UNIT_BINS) build/tsan/libotelauto-otlp.so
	$(MAKE) -j$(TEST_JOBS) fuzz-bins
	scripts/run-tests.sh

demo: all
	scripts/demo.sh

clean:
	rm -rf build

include tests/fuzz/fuzz.mk
include packaging/install.mk
include tests/programs/early/early.mk
include tools/otelauto/otelauto.mk

$(BUILD)/bench/%: tests/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LDFLAGS_SAN)

# Benchmarks (tests/bench/, scripts/bench.sh): figures side by side with no
# preload, the pass-through preload and the shim; writes BENCHMARKS.md.
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(filter-out tests/bench/passthrough.c tests/bench/otlp_decode.c,$(wildcard tests/bench/*.c)))

$(BUILD)/bench/export_bench: tests/bench/export_bench.c tests/bench/otlp_decode.c tests/bench/otlp_decode.h $(ENGINE_A) $(OTLP_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< tests/bench/otlp_decode.c $(OTLP_OBJS) $(ENGINE_A) $(LDFLAGS_SAN) -lcurl -lprotobuf-c -lz -ldl -lpthread

.PHONY: bench bench-bins
bench-bins: $(BENCH_BINS)

bench: deps
	$(MAKE) lib bench-bins programs
	scripts/bench.sh

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
