# libFuzzer targets (clang): included by the top-level Makefile.
#   make fuzz-bins            build build/fuzz/fuzz_*
#   make fuzz                 run each for FUZZ_SECONDS (default 60) from its seed corpus
#   make fuzz FUZZ_SECONDS=5  a short pass (what `make test` runs)
# Each target is linked with only the engine file it exercises, so it needs
# none of the generated protobuf code.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  = -std=gnu11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror \
               -D_GNU_SOURCE -Isrc \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

# target name => the engine source it fuzzes
FUZZ_SRC_http1_parser = src/protocols/http1/http1_parser.c src/base/pool.c
FUZZ_SRC_traceparent  = src/trace/traceparent.c
FUZZ_SRC_tracestate   = src/trace/tracestate.c
FUZZ_SRC_baggage      = src/trace/baggage.c
FUZZ_SRC_grpc_status  = src/export/otlp/grpc_status.c
FUZZ_SRC_propagators  = src/trace/b3.c src/trace/jaeger.c
FUZZ_SRC_postgres     = src/protocols/postgres/pg_framer.c src/protocols/postgres/pg_messages.c \
                        src/protocols/postgres/pg_statements.c src/protocols/db/sql_text.c \
                        src/protocols/db/sql_comment.c src/trace/traceparent.c
FUZZ_SRC_redis        = src/protocols/redis/resp_command.c src/protocols/redis/resp_reply.c \
                        src/protocols/redis/redis_commands.c src/protocols/db/db_command_text.c
FUZZ_SRC_mysql        = src/protocols/mysql/mysql_parser.c
FUZZ_SRC_hpack        = src/protocols/http2/hpack_decoder.c src/protocols/http2/hpack_huffman.c \
                        src/protocols/http2/hpack_static_table.c src/protocols/http2/hpack_literal.c

FUZZ_SRC_h2_frames    = src/protocols/http2/h2_frames.c
FUZZ_SRC_http_hint    = src/protocols/http1/http_hint.c

FUZZ_NAMES := http1_parser traceparent tracestate baggage grpc_status propagators postgres redis mysql hpack h2_frames \
              http_hint
FUZZ_BINS  := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-bins
fuzz-bins: $(FUZZ_BINS)

.SECONDEXPANSION:
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRC_$$*) $(shell find src -name '*.h')
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRC_$*)

fuzz: deps fuzz-bins
	scripts/run-fuzz.sh --seconds $(FUZZ_SECONDS) $(FUZZ_NAMES)
