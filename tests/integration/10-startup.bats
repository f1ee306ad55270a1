#!/usr/bin/env bats
# Start-up cost: a program that does no networking pays (almost) only for
# the interposition itself, measured against a pass-through preload
# (build/libpassthrough.so, the same symbols forwarded) in instructions
# executed, which callgrind counts exactly whatever the machine is doing.
# The wall-clock ratio is a figure of the benchmarks (scripts/bench.sh,
# scripts/measure-startup.sh), not a test.

load test_helper

setup() {
    common_setup
}

teardown() {
    common_teardown
}

# instructions PRELOAD: instructions executed by /bin/true (callgrind)
instructions() {
    env ${1:+LD_PRELOAD=$1} OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9 \
        valgrind --tool=callgrind --callgrind-out-file=/dev/null /bin/true 2>&1 |
        sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}

@test "start-up: /bin/true under the shim executes at most 1.2x the instructions of the pass-through preload" {
    skip_if_sanitized "instruction counts of the ASan build are not the product's"
    command -v valgrind >/dev/null || fail_now "valgrind is installed by make deps"
    local pass_lib=$REPO_ROOT/build/libpassthrough.so base shim
    [ -f "$pass_lib" ] || fail_now "build/libpassthrough.so is not built"
    base=$(instructions "$pass_lib")
    shim=$(instructions "$SHIM_LIB")
    echo "instructions of /bin/true: pass-through $base, shim $shim" >&2
    [[ $base =~ ^[0-9]+$ && $shim =~ ^[0-9]+$ ]] || fail_now "callgrind counted nothing"
    ((base > 0 && shim * 10 <= base * 12))
}
