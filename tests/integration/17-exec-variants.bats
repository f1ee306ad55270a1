#!/usr/bin/env bats
# Every exec and spawn entry point the shim interposes passes the request's
# context to the program it starts: a C server starts /usr/bin/env with each
# of them while it handles a request, and env prints what it got.

load test_helper
load arch_helper

setup() {
    common_setup
    start_receiver
}

teardown() {
    common_teardown
}

@test "execl, execle, execlp, execv, execvp, execvpe, fexecve, execveat, posix_spawn, posix_spawnp: TRACEPARENT of the request in the child" {
    local variants=(execl execle execlp execv execvp execvpe fexecve execveat posix_spawn posix_spawnp)
    mkdir -p "$T/env"
    start_traced_bg variants variants "$PROGRAMS_DIR/exec_variants" "$T/variants.port" "$T/env"
    wait_file "$T/variants.port" 10 "$BG_PID" variants
    local port urls=() v
    port=$(<"$T/variants.port")
    for v in "${variants[@]}"; do
        urls+=("http://127.0.0.1:${port//[^0-9]/}/$v")
    done
    run traced client curl -sS -H 'baggage: k=v' "${urls[@]}"
    assert_ok
    wait_spans ${#variants[@]} --service variants --kind server
    check_spans "
import os
for v in '${variants[*]}'.split():
    s = one(service='variants', kind='server', url__path='/' + v)
    env = dict(l.split('=', 1) for l in open('$T/env/%s.env' % v).read().splitlines() if '=' in l)
    expect_eq(env.get('TRACEPARENT'), '00-%s-%s-%02x' % (s['trace_id'], s['span_id'], s['flags'] & 0xff),
              v + ': TRACEPARENT names the server span')
    expect_eq(env.get('BAGGAGE'), 'k=v', v + ': BAGGAGE')
    if v in ('execle', 'execvpe', 'fexecve', 'execveat'):
        expect_eq(env.get('EXPLICIT'), '1', v + ': the environment the program passed is kept')
"
}
