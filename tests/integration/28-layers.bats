#!/usr/bin/env bats
# The layers rule (scripts/check-layers.py): the preloaded library's files
# keep it, and the check refuses what breaks it. Each refusal is shown on a
# small tree of objects made here: a file calling a layer above it, one
# beside it, a cycle of four files, a folder in no layer.

load test_helper

setup() {
    common_setup
    # the objects checked are the plain build's, the refusals made-up trees:
    # nothing here runs the shim, so the ASan round would only repeat it
    skip_if_sanitized "nothing here runs the shim"
}

teardown() {
    common_teardown
}

CHECK=$REPO_ROOT/scripts/check-layers.py

# obj PATH CODE: compiles CODE as $T/tree/PATH.c into $T/tree/PATH.o
obj() {
    mkdir -p "$(dirname "$T/tree/$1")"
    printf '%s\n' "$2" >"$T/tree/$1.c"
    gcc -c -o "$T/tree/$1.o" "$T/tree/$1.c"
}

@test "layers: the preloaded library's objects keep the rule" {
    # the plain build's objects (the ASan pass of the suite checks the same sources)
    run make -s -C "$REPO_ROOT" check-layers
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"no upward or sideways dependency"* ]]
    # at least 4 folders of code under src/
    local folders
    folders=$(sed -n 's/.* in \([0-9]*\) folders of src.*/\1/p' <<<"$output")
    ((folders >= 4))
}

@test "layers: a downward call passes" {
    obj src/trace/span 'int base_helper(void); int span_new(void) { return base_helper(); }'
    obj src/base/helper 'int base_helper(void) { return 1; }'
    obj hooks/libc 'int span_new(void); int hook(void) { return span_new(); }'
    run "$CHECK" "$T"/tree/src/trace/span.o "$T"/tree/src/base/helper.o "$T"/tree/hooks/libc.o
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "layers: a call upwards is refused" {
    obj src/wire/conn 'int exchange_incoming(void); int conn_read(void) { return exchange_incoming(); }'
    obj src/protocols/exchange 'int exchange_incoming(void) { return 2; }'
    run "$CHECK" "$T"/tree/src/wire/conn.o "$T"/tree/src/protocols/exchange.o
    echo "$output"
    [ "$status" -eq 1 ]
    [[ $output == *"src/wire/conn (wire) uses src/protocols/exchange (protocols): a dependency up"* ]]
}

@test "layers: a call beside (trace to metrics) is refused" {
    obj src/trace/span 'int metric_add(void); int span_end(void) { return metric_add(); }'
    obj src/metrics/table 'int metric_add(void) { return 3; }'
    run "$CHECK" "$T"/tree/src/trace/span.o "$T"/tree/src/metrics/table.o
    echo "$output"
    [ "$status" -eq 1 ]
    [[ $output == *"a dependency beside"* ]]
}

@test "layers: a cycle of four files in one folder is refused, one of three is not" {
    obj src/trace/a 'int b(void); int a(void) { return b(); }'
    obj src/trace/b 'int c(void); int b(void) { return c(); }'
    obj src/trace/c 'int a(void); int c(void) { return a(); }'
    run "$CHECK" "$T"/tree/src/trace/a.o "$T"/tree/src/trace/b.o "$T"/tree/src/trace/c.o
    [ "$status" -eq 0 ]
    obj src/trace/c 'int d(void); int c(void) { return d(); }'
    obj src/trace/d 'int a(void); int d(void) { return a(); }'
    run "$CHECK" "$T"/tree/src/trace/a.o "$T"/tree/src/trace/b.o "$T"/tree/src/trace/c.o "$T"/tree/src/trace/d.o
    echo "$output"
    [ "$status" -eq 1 ]
    [[ $output == *"a cycle of 4 files"* ]]
}

@test "layers: a folder that is in no layer is refused" {
    obj src/misc/thing 'int thing(void) { return 4; }'
    run "$CHECK" "$T"/tree/src/misc/thing.o
    echo "$output"
    [ "$status" -eq 1 ]
    [[ $output == *"folder 'misc' is in no layer"* ]]
}
