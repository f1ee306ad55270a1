#!/usr/bin/env bats
# When the collector is down or stuck, the traced program must not notice:
# request latency unchanged within noise, memory bounded, exit not delayed
# beyond the export timeout.

load test_helper

setup() {
    common_setup
    mkdir -p "$T/www"
    printf 'ok\n' >"$T/www/ok.txt"
}

teardown() {
    common_teardown
}

# latency_unchanged ENDPOINT_DESCRIPTION: compares the backend's median
# latency untraced and traced (exporting to OTEL_EXPORTER_OTLP_ENDPOINT as
# set by the caller through EXTRA_ENV).
latency_unchanged() {
    local n=300 base traced_ms
    start_backend plain
    base=$(median_ms "$BACKEND_PORT" $n)
    stop_bg "$BG_PID"

    start_backend traced-backend backend
    local pid=$BG_PID
    process_has_shim "$pid" || fail_now "the shim is not loaded in the traced backend"
    # let the first exports start (and fail or hang) before measuring
    "$PY" "$PY_PROGRAMS/latency_probe.py" 127.0.0.1 "$BACKEND_PORT" /ok.txt 50 --warmup 0 >/dev/null
    sleep 0.5
    traced_ms=$(median_ms "$BACKEND_PORT" $n)
    pid_alive "$pid" || fail_now "the traced backend died"
    echo "median latency: untraced ${base} ms, traced ${traced_ms} ms" >&2
    "$PY" -c "
import sys
base, traced = $base, $traced_ms
limit = max(base * 1.5, base + 2.0)
if traced > limit:
    sys.exit('traced median %.3f ms exceeds %.3f ms (untraced %.3f ms)' % (traced, limit, base))
"
}

@test "collector unreachable (connection refused): a traced server's latency is unchanged" {
    skip_if_sanitized
    RECEIVER_PORT=$(closed_port)
    latency_unchanged
}

@test "collector accepts but never answers: a traced server's latency is unchanged" {
    skip_if_sanitized
    start_receiver --mode hang
    latency_unchanged
}

@test "collector never answers: memory of a traced nginx stays bounded over 8000 requests (small queue)" {
    skip_if_sanitized
    start_receiver --mode hang
    local pid
    EXTRA_ENV=(OTEL_BSP_MAX_QUEUE_SIZE=64 OTEL_BSP_MAX_EXPORT_BATCH_SIZE=16 OTEL_EXPORTER_OTLP_TIMEOUT=1000)
    start_nginx nginx nginx "$T/www"
    pid=$NGINX_PID
    process_has_shim "$pid" || fail_now "the shim is not loaded in nginx"

    # Warm up: the first export loads the exporter object and blocks on the
    # collector; allocator arenas settle.
    "$PY" "$PY_PROGRAMS/latency_probe.py" 127.0.0.1 "$NGINX_PORT" /ok.txt 1000 --warmup 0 >/dev/null
    sleep 1.5
    "$PY" "$PY_PROGRAMS/latency_probe.py" 127.0.0.1 "$NGINX_PORT" /ok.txt 1000 --warmup 0 >/dev/null
    local before after
    before=$(rss_kb "$pid")
    "$PY" "$PY_PROGRAMS/latency_probe.py" 127.0.0.1 "$NGINX_PORT" /ok.txt 8000 --warmup 0 >/dev/null
    after=$(rss_kb "$pid")
    echo "nginx RSS: ${before} kB after warm-up, ${after} kB after 8000 more requests" >&2
    pid_alive "$pid"
    # Unbounded buffering of 8000 spans would cost several MB.
    [ $((after - before)) -lt 1536 ]
}

# exits_quickly: a short-lived traced curl finishes within the export timeout
# (1 s) plus a margin, whatever the collector does.
exits_quickly() {
    start_backend plain
    local t0 t1
    t0=$(now_ms)
    run traced curl-client OTEL_EXPORTER_OTLP_TIMEOUT=1000 curl -sS -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$BACKEND_PORT/ok.txt"
    t1=$(now_ms)
    echo "traced curl took $((t1 - t0)) ms" >&2
    assert_ok
    [ "$output" = 200 ]
    [ $((t1 - t0)) -lt 2500 ]
}

@test "collector unreachable: a short-lived traced curl exits within the export timeout" {
    RECEIVER_PORT=$(closed_port)
    exits_quickly
}

@test "collector never answers: a short-lived traced curl exits within the export timeout" {
    start_receiver --mode hang
    exits_quickly
    # the exporter did try: the request reached the receiver
    [ -s "$SPANS.requests" ] || wait_file "$SPANS.requests" 3
}
