#!/usr/bin/env bats
# The exporter under collector faults, one test per fault: connection
# refused, accepted but never answered, 503 with Retry-After, 429 with
# Retry-After, 500, connection closed without an answer, connection closed
# in the middle of the answer. For each, a traced nginx under load:
#   - its latency stays that of an untraced nginx (a ratio, no absolute time);
#   - its memory stays bounded over 2000 more requests (small queue);
#   - once the collector recovers, the spans still queued arrive, and so do
#     the new ones;
#   - at exit, OTEL_LOG_LEVEL=debug reports the exporter's counters, which
#     add up: submitted = exported + dropped + failed, and exported is what
#     the collector received.
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

# probe PORT N [PATH]: N untraced keep-alive GETs
probe() {
    "$PY" "$PY_PROGRAMS/latency_probe.py" 127.0.0.1 "$1" "${3:-/ok.txt}" "$2" --warmup 0 >/dev/null
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

    local base="" traced_ms
    if [[ $SANITIZED == 0 ]]; then
        start_nginx plain "" "$T/www"
        base=$(median_ms "$NGINX_PORT" 300)
        stop_bg "$NGINX_PID"
    fi

    EXTRA_ENV=(OTEL_BSP_MAX_QUEUE_SIZE=$QUEUE OTEL_BSP_MAX_EXPORT_BATCH_SIZE=$BATCH
        OTEL_EXPORTER_OTLP_TIMEOUT=1000 OTEL_LOG_LEVEL=debug)
    start_nginx traced nginx "$T/www"
    local pid=$NGINX_PID
    process_has_shim "$pid" || fail_now "the shim is not loaded in nginx"
    # the first export meets the fault
    probe "$NGINX_PORT" 200
    sleep 0.5

    if [[ $SANITIZED == 0 ]]; then
        traced_ms=$(median_ms "$NGINX_PORT" 300)
        echo "median latency, collector mode $mode: untraced ${base} ms, traced ${traced_ms} ms" >&2
        "$PY" -c "
import sys
base, traced = $base, $traced_ms
if traced > max(base * 1.5, base + 2.0):
    sys.exit('traced median %.3f ms vs untraced %.3f ms: more than 1.5x' % (traced, base))
"
        local before after
        before=$(rss_kb "$pid")
        probe "$NGINX_PORT" 2000
        after=$(rss_kb "$pid")
        echo "nginx RSS, collector mode $mode: ${before} kB, then ${after} kB after 2000 more requests" >&2
        (((after - before) < 1536))
    else
        probe "$NGINX_PORT" 500
    fi
    pid_alive "$pid"

    # recovery
    if [[ $mode == refuse ]]; then
        start_receiver --port "$collector_port"
    else
        echo ok >"$T/mode"
    fi
    # the retry back-off may be several seconds into a wait; the queue then
    # drains, and only then is there room for new spans
    ((mode_min_queued == 0)) || wait_spans "$mode_min_queued" --timeout 40 --settle 0.5
    sleep 0.5
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
expect(drop > 0, 'the queue overflowed during the fault: %d dropped' % drop)
expect_eq(exp, len(sel(service='nginx')), 'exported = spans the collector kept')
expect(('$mode' == '500') == (fail > 0), 'failed for good only when the collector said 500: %d' % fail)
"
}

@test "collector refuses connections: nginx unaffected, memory bounded, queued spans arrive once it listens, counters add up" {
    mode_min_queued=$QUEUE
    fault_matrix_case refuse
}

@test "collector accepts and never answers: nginx unaffected, memory bounded, queued spans arrive once it answers, counters add up" {
    mode_min_queued=$QUEUE
    fault_matrix_case hang
}

@test "collector answers 503 with Retry-After: nginx unaffected, memory bounded, queued spans arrive once it accepts, counters add up" {
    mode_min_queued=$QUEUE
    fault_matrix_case 503
}

@test "collector answers 429 with Retry-After: nginx unaffected, memory bounded, queued spans arrive once it accepts, counters add up" {
    mode_min_queued=$QUEUE
    fault_matrix_case 429
}

@test "collector answers 500: nginx unaffected, memory bounded, batches counted as failed, new spans arrive once it accepts" {
    mode_min_queued=0
    fault_matrix_case 500
}

@test "collector closes the connection without answering: nginx unaffected, memory bounded, queued spans arrive, counters add up" {
    mode_min_queued=$QUEUE
    fault_matrix_case close
}

@test "collector closes the connection in the middle of its answer: nginx unaffected, memory bounded, queued spans arrive, counters add up" {
    mode_min_queued=$QUEUE
    fault_matrix_case truncate
}
