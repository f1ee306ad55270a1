#!/usr/bin/env bats
# Start-up cost: a program that does no networking pays (almost) only for
# the interposition itself, measured against a pass-through preload.

load test_helper

setup() {
    common_setup
}

teardown() {
    common_teardown
}

@test "start-up: /bin/true under the shim costs at most 1.2x the pass-through preload" {
    skip_if_sanitized "start-up time of the ASan build is not the product's"
    [ -f "$REPO_ROOT/build/libpassthrough.so" ] || fail_now "build/libpassthrough.so is not built"
    run "$REPO_ROOT/scripts/measure-startup.sh" --lib "$SHIM_LIB" --max 1.2
    assert_ok
}
