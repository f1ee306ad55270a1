# The concurrency harness of the runtime hints' tests
# (37-event-loop-concurrency.bats, 38-java-hints.bats): a service "svc" at
# $SVC_PORT whose GET /id/N makes one downstream call with ?id=N to a backend
# traced as "backend"; tests/programs/concurrent_load.py drives it and
# tests/lib/parent_shares.py counts the calls whose parent is the server
# span of the same N ("right"), another ("wrong") or none ("root").

# loop_setup: a test's setup: the receiver, and the backend
# (tests/programs/loop_service.js, which answers "ok URL TRACEPARENT")
# traced as "backend" at BACKEND_PORT.
loop_setup() {
    common_setup
    start_receiver
    start_loop_backend
}

# expect_plain_call SERVICE: $output is the backend's answer to the one
# call of SERVICE, a program that serves nothing: it got our client span's
# own traceparent (no placeholder), and that span is a root.
expect_plain_call() {
    local service=$1
    [[ $output =~ ^ok\ /status/200\?id=cli\ 00-([0-9a-f]{32})-([0-9a-f]{16})-0[0-3]$ ]] || fail_now "backend saw: $output"
    [[ ${BASH_REMATCH[1]} != 00000000000000000000000000000000 ]] || fail_now "a placeholder reached the backend: $output"
    local trace=${BASH_REMATCH[1]} span=${BASH_REMATCH[2]}
    wait_spans 1 --service "$service" --kind client
    check_spans "
c = one(service='$service', kind='client')
expect_eq((c['trace_id'], c['span_id']), ('$trace', '$span'), 'the backend got our client span as parent')
expect_eq(c.get('parent_span_id'), '', 'a root')
"
}

# load CONNECTIONS REQUESTS PREFIX: the requests, all answered right.
load() {
    run "$PY" "$PY_PROGRAMS/concurrent_load.py" "$SVC_PORT" "$1" "$2" "$3"
    assert_ok
    [[ $output == "ok $2" ]] || fail_now "load: $output"
    wait_spans "$2" --service svc --kind client
    wait_spans "$2" --service backend --kind server
}

# shares PREFIX: the counts, in SHARES (JSON), also shown in the test's output.
shares() {
    SHARES=$("$PY" "$REPO_ROOT/tests/lib/parent_shares.py" "$SPANS" svc "$1")
    echo "# shares: $SHARES" >&3
}

# expect_shares REQUESTS PREFIX [MIN_BG]: >= 99% right, <= 0.1% wrong;
# every backend request the child of the call that made it (the placeholder
# never reached the wire); at least MIN_BG background calls, all roots.
expect_shares() {
    local n=$1 prefix=$2 min_bg=${3:-0}
    shares "$prefix"
    check_spans "
shares = json.loads('''$SHARES''')
n = $n
expect_eq(shares['servers'], n, 'one server span per request')
expect_eq(shares['missing'], 0, 'every request made its call')
expect(shares['right'] * 100 >= 99 * n, '>= 99%% right: %r' % shares)
expect(shares['wrong'] * 1000 <= n, '<= 0.1%% wrong: %r' % shares)
expect(shares['bg_root'] >= $min_bg, 'background calls: %r' % shares)
expect_eq(shares['bg_parented'], 0, 'background calls are roots')
calls = {s['span_id'] for s in sel(service='svc', kind='client')}
backend = [s for s in sel(service='backend', kind='server') if str(attr(s, 'url.query')).startswith('id=$prefix')]
orphans = [s for s in backend if s.get('parent_span_id') not in calls]
expect_eq(len(orphans), 0, 'each backend request is the child of a call of svc')
"
}

# expect_no_wrong PREFIX: hints off: no wrong parent, and some roots (the
# calls the thread cannot attribute).
expect_no_wrong() {
    shares "$1"
    check_spans "
shares = json.loads('''$SHARES''')
expect_eq(shares['wrong'], 0, 'no wrong parent: %r' % shares)
expect(shares['root'] > 0, 'without the hints, interleaved requests make roots: %r' % shares)
"
}
