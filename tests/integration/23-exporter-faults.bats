#!/usr/bin/env bats
# The exporter under collector faults, one test per fault: connection
# refused, accepted but never answered, 503 with Retry-After, 429 with
# Retry-After, 500, connection closed without an answer, connection closed
# in the middle of the answer. For each, a traced nginx under load:
#   - it answers every request, and outruns the exporter: while the fault
#     lasts nothing is exported, spans are dropped (a program that waited for
#     its exports would drop none) and the shim holds at most a queue and a
#     batch of them (its counters, read by `otelauto doctor PID`);
#   - once the collector recovers, the spans still queued arrive, and so do
#     the new ones;
#   - at exit, OTEL_LOG_LEVEL=debug reports the exporter's counters, which
#     add up: submitted = exported + dropped + failed, and exported is what
#     the collector received.
# Counts only: no latency, no memory figure, no sleep before a check.
# The collector is tests/lib/otlp_receiver.py, its mode switched through a
# file (re-read on each request).

load test_helper

QUEUE=64
BATCH=16

setup() {
    common_setup
    mkdir -p "$T/www"
    printf 'ok\n' >"$T/www/ok.txt"
}

teardown() {
    common_teardown
}

# wait_drained PID: until the shim in PID holds no span (its queue drained
# into the recovered collector); fails after 60 s.
wait_drained() {
    local i
    for ((i = 0; i < 300; i++)); do
        shim_counters "$1" 2>/dev/null || return 1
        ((HELD == 0)) && return 0
        sleep 0.2
    done
    shim_counters "$1"
    fail_now "the shim still holds $HELD spans 60 s after the collector recovered"
}

# fault_matrix_case MODE: the whole scenario for one receiver mode;
# MODE "refuse" means nothing listens on the collector's port until recovery.
fault_matrix_case() {
    local mode=$1 collector_port
    if [[ $mode == refuse ]]; then
        collector_port=$(free_port)
        RECEIVER_PORT=$collector_port
    else
        echo "$mode" >"$T/mode"
        # 503 and 429 go on failing until the mode file says otherwise
        start_receiver --mode-file "$T/mode" --fail-count 1000000000 --retry-after 1
        collector_port=$RECEIVER_PORT
    fi

    EXTRA_ENV=(OTEL_BSP_MAX_QUEUE_SIZE=$QUEUE OTEL_BSP_MAX_EXPORT_BATCH_SIZE=$BATCH
        OTEL_EXPORTER_OTLP_TIMEOUT=1000 OTEL_LOG_LEVEL=debug)
    start_nginx traced nginx "$T/www"
    local pid=$NGINX_PID
    process_has_shim "$pid" || fail_now "the shim is not loaded in nginx"
    # every request answered (the probe fails on an error, or on a request
    # not answered within 10 s) while the collector fails
    probe "$NGINX_PORT" 200
    probe "$NGINX_PORT" 2000
    pid_alive "$pid"
    shim_counters "$pid"
    ((SUBMITTED == 2200)) || fail_now "spans submitted: $SUBMITTED, want one per request (2200)"
    ((EXPORTED == 0)) || fail_now "spans exported during the fault: $EXPORTED"
    ((HELD <= QUEUE + BATCH)) || fail_now "the shim holds $HELD spans, more than the queue ($QUEUE) and a batch ($BATCH)"
    # an exporter held by the fault (every mode but 500, which fails a batch
    # at once) takes a few batches while the program makes 2200 spans
    [[ $mode == 500 ]] || ((DROPPED > 0)) || fail_now "nothing dropped: the program kept pace with a held exporter"

    # recovery
    if [[ $mode == refuse ]]; then
        start_receiver --port "$collector_port"
    else
        echo ok >"$T/mode"
    fi
    # the retry back-off may be several seconds into a wait; the queue then
    # drains, and only then is there room for new spans
    ((mode_min_queued == 0)) || wait_spans "$mode_min_queued" --timeout 40 --settle 0.5
    wait_drained "$pid"
    probe "$NGINX_PORT" 10 "/ok.txt?after-recovery"
    wait_spans $((mode_min_queued + 10)) --timeout 20 --settle 0.5
    check_spans "
after = [s for s in sel(service='nginx', kind='server') if attr(s, 'url.query') == 'after-recovery']
expect_eq(len(after), 10, 'spans of the requests made after recovery')
before = [s for s in sel(service='nginx', kind='server') if attr(s, 'url.query') is None]
# what the queue held when the collector came back (500 fails batches for
# good, so its queue is mostly empty by then)
expect(len(before) >= ($mode_min_queued), 'spans queued during the fault that arrived after recovery: %d' % len(before))
"

    # exit: the counters, at debug level, add up
    stop_bg "$pid"
    local line
    # nginx hands its stderr to its error log once it runs
    line=$(cat "$T/traced.err" "$T/traced/error.log" 2>/dev/null | grep -E 'shutdown: submitted=' | head -1)
    echo "counters at exit, collector mode $mode: $line" >&2
    [[ -n $line ]] || { show_bg_output traced; return 1; }
    check_spans "
import re
m = re.search(r'submitted=(\d+) exported=(\d+) dropped=(\d+) failed=(\d+)', '''$line''')
sub, exp, drop, fail = map(int, m.groups())
expect_eq(sub, exp + drop + fail, 'submitted = exported + dropped + failed (%d %d %d %d)' % (sub, exp, drop, fail))
expect('$mode' == '500' or drop > 0, 'the queue overflowed during the fault: %d dropped' % drop)
expect_eq(exp, len(sel(service='nginx')), 'exported = spans the collector kept')
expect(('$mode' == '500') == (fail > 0), 'failed for good only when the collector said 500: %d' % fail)
"
}

@test "collector refuses connections: nginx answers all, holds a bounded number of spans, queued spans arrive once it listens, counters add up" {
    mode_min_queued=$QUEUE
    fault_matrix_case refuse
}

@test "collector accepts and never answers: nginx answers all, holds a bounded number of spans, queued spans arrive once it answers, counters add up" {
    mode_min_queued=$QUEUE
    fault_matrix_case hang
}

@test "collector answers 503 with Retry-After: nginx answers all, holds a bounded number of spans, queued spans arrive once it accepts, counters add up" {
    mode_min_queued=$QUEUE
    fault_matrix_case 503
}

@test "collector answers 429 with Retry-After: nginx answers all, holds a bounded number of spans, queued spans arrive once it accepts, counters add up" {
    mode_min_queued=$QUEUE
    fault_matrix_case 429
}

@test "collector answers 500: nginx answers all, holds a bounded number of spans, batches counted as failed, new spans arrive once it accepts" {
    mode_min_queued=0
    fault_matrix_case 500
}

@test "collector closes the connection without answering: nginx answers all, holds a bounded number of spans, queued spans arrive, counters add up" {
    mode_min_queued=$QUEUE
    fault_matrix_case close
}

@test "collector closes the connection in the middle of its answer: nginx answers all, holds a bounded number of spans, queued spans arrive, counters add up" {
    mode_min_queued=$QUEUE
    fault_matrix_case truncate
}
