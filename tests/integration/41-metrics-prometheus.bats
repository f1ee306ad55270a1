#!/usr/bin/env bats
# OTEL_METRICS_EXPORTER=prometheus: a scrape endpoint served by the shim's
# metrics thread, in the Prometheus text format with the standard name
# translation; its own sockets are invisible to the hooks; in a group of
# processes sharing one configuration, the first to bind the port serves.

load test_helper
load metrics_helper

setup() {
    common_setup
    start_receiver
    mkdir -p "$T/www"
    printf 'hello\n' >"$T/www/hello.txt"
    PROM_PORT=$(free_port)
}

teardown() {
    common_teardown
}

# The endpoint listens on the default host, localhost.
scrape() {
    curl -sS --max-time 5 "http://localhost:$PROM_PORT/metrics"
}

prometheus_env() {
    EXTRA_ENV=(OTEL_METRICS_EXPORTER=prometheus "OTEL_EXPORTER_PROMETHEUS_PORT=$PROM_PORT"
        OTEL_METRIC_EXPORT_INTERVAL=200 "$@")
}

@test "prometheus scrape: 10 requests answered 200 and one 404 give the same counts, standard names and labels" {
    prometheus_env
    start_http_server server prom-server "$T/www"
    local port=$HTTP_SERVER_PORT i
    for i in $(seq 10); do
        http_requests "$port" /hello.txt
    done
    http_requests "$port" /missing.txt
    wait_port "$PROM_PORT" 5
    run scrape
    assert_ok
    local text=$output base='http_server_request_duration_seconds'
    local ok='http_request_method="GET",url_scheme="http",http_response_status_code="200",network_protocol_version="1.1"'
    local nf=${ok/200/404}
    [[ $text == *"# TYPE $base histogram"* ]]
    [ "$(prometheus_value "$text" "${base}_count{$ok}")" = 10 ]
    [ "$(prometheus_value "$text" "${base}_count{$nf}")" = 1 ]
    [ "$(prometheus_value "$text" "${base}_bucket{$ok,le=\"+Inf\"}")" = 10 ]
    [ "$(prometheus_value "$text" "${base}_bucket{$nf,le=\"+Inf\"}")" = 1 ]
    # every conventional bound is there, cumulative counts never decrease
    local le prev=0 v
    for le in 0.005 0.01 0.025 0.05 0.075 0.1 0.25 0.5 0.75 1 2.5 5 7.5 10 +Inf; do
        v=$(prometheus_value "$text" "${base}_bucket{$ok,le=\"$le\"}")
        [ "$v" -ge "$prev" ]
        prev=$v
    done
    prometheus_value "$text" "${base}_sum{$ok}" >/dev/null
    [[ $text == *'# TYPE http_server_active_requests gauge'* ]]
    [ "$(prometheus_value "$text" 'http_server_active_requests{http_request_method="GET",url_scheme="http"}')" = 0 ]
    [[ $text == *'# TYPE otelauto_spans_exported_total counter'* ]]
    [[ $text == *'target_info{'*'service_name="prom-server"'* ]]
    # nothing pushed over OTLP meanwhile
    sleep 0.3
    [ "$(grep -c '"/v1/metrics"' "$SPANS.requests" || true)" = 0 ]
}

@test "prometheus: scrapes are invisible to the hooks (no span, no measurement), unknown paths get 404" {
    prometheus_env
    start_http_server server prom-server "$T/www"
    http_requests "$HTTP_SERVER_PORT" /hello.txt
    wait_port "$PROM_PORT" 5
    local i
    for i in 1 2 3; do
        scrape >/dev/null
    done
    run curl -s -o /dev/null -w '%{http_code}' "http://localhost:$PROM_PORT/other"
    [ "$output" = 404 ]
    run scrape
    assert_ok
    [ "$(prometheus_value "$output" 'http_server_request_duration_seconds_count{http_request_method="GET",url_scheme="http",http_response_status_code="200",network_protocol_version="1.1"}')" = 1 ]
    wait_spans 1 --service prom-server
    check_spans "
expect_eq(len(spans), 1, 'only the one request is a span')
expect_eq(attr(spans[0], 'url.path'), '/hello.txt', 'its path')
"
}

@test "prometheus: the endpoint calls libc itself, never the shim's own hooks (witness preload before the shim)" {
    prometheus_env
    with_hook_witness
    start_http_server server prom-server "$T/www"
    http_requests "$HTTP_SERVER_PORT" /hello.txt
    wait_port "$PROM_PORT" 5
    local i
    for i in 1 2 3 4 5; do
        scrape >/dev/null
    done
    run scrape
    assert_ok
    [[ $output == *http_server_request_duration_seconds_count* ]]
    wait_spans 1 --service prom-server
    assert_no_hook_reentry
}

@test "prometheus, two processes with one configuration: the first to bind serves, the other takes over when it exits" {
    prometheus_env OTEL_LOG_LEVEL=debug
    start_http_server first prom-first "$T/www"
    local first_port=$HTTP_SERVER_PORT first_pid=$BG_PID
    http_requests "$first_port" /hello.txt
    wait_port "$PROM_PORT" 5
    start_http_server second prom-second "$T/www"
    local second_port=$HTTP_SERVER_PORT
    http_requests "$second_port" /hello.txt /hello.txt
    sleep 0.5
    run scrape
    assert_ok
    [[ $output == *'service_name="prom-first"'* ]]
    [[ $output != *'service_name="prom-second"'* ]]
    grep -q 'served by another process' "$T/second.err"
    stop_bg "$first_pid"
    local i
    for ((i = 0; i < 50; i++)); do
        run scrape
        [[ $output == *'service_name="prom-second"'* ]] && break
        sleep 0.1
    done
    [[ $output == *'service_name="prom-second"'* ]]
    [ "$(prometheus_value "$output" 'http_server_request_duration_seconds_count{http_request_method="GET",url_scheme="http",http_response_status_code="200",network_protocol_version="1.1"}')" = 2 ]
}
