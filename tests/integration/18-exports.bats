#!/usr/bin/env bats
# What the preloaded object shows the process: exactly the interposed
# symbols of the one list (src/sys/interposed.def), kept so by the linker
# version script made from that list, whatever visibility a symbol was
# given in the source.

load test_helper

setup() {
    common_setup
}

teardown() {
    common_teardown
}

@test "exports: the shim exports exactly the listed hooks, the pass-through preload mirrors them" {
    run "$REPO_ROOT/scripts/check-exports.sh" "$SHIM_LIB" --exact
    assert_ok
    local passthrough
    passthrough=$(dirname "$SHIM_LIB")/libpassthrough.so
    [[ -f $passthrough ]] || skip "no $passthrough"
    run "$REPO_ROOT/scripts/check-exports.sh" "$passthrough" --exact
    assert_ok
}

@test "exports: the version script is applied: a symbol with default visibility stays local" {
    # src/sys/export_canary.c: default visibility on purpose
    run nm "$SHIM_LIB"
    assert_ok
    [[ $output == *oa_export_canary* ]] || skip "the shim has no symbol table (stripped)"
    run nm -D --defined-only "$SHIM_LIB"
    assert_ok
    [[ $output != *oa_export_canary* ]]
}
