#!/usr/bin/env bats
# The exporter over HTTPS: the collector's certificate is verified (against
# OTEL_EXPORTER_OTLP_CERTIFICATE when given), client certificates for mutual
# TLS, and a certificate that does not verify costs one error line and the
# spans, never the program's time.

load test_helper
load tls_helper

setup() {
    common_setup
    make_cert collector
    mkdir -p "$T/www"
    printf 'x\n' >"$T/www/x.txt"
}

teardown() {
    common_teardown
}

@test "exporter over HTTPS with OTEL_EXPORTER_OTLP_CERTIFICATE: spans arrive, the exporter's own TLS is not traced" {
    start_receiver --tls-cert "$T/collector.crt" --tls-key "$T/collector.key"
    start_backend backend
    EXTRA_ENV=("OTEL_EXPORTER_OTLP_ENDPOINT=https://127.0.0.1:$RECEIVER_PORT"
        "OTEL_EXPORTER_OTLP_CERTIFICATE=$T/collector.crt")
    run traced py-client "$PY" "$PY_PROGRAMS/spaced_requests.py" "$BACKEND_PORT"
    assert_ok
    wait_spans 3 --service py-client --settle 1
    check_spans "
expect_eq(len(spans), 3, 'the three client spans, nothing about the export itself')
for s in spans:
    expect(attr(s, 'server.port') == $BACKEND_PORT, 'a span about the backend')
"
}

@test "mutual TLS with the _TRACES_ variables: the collector requires and gets our client certificate" {
    make_cert client
    start_receiver --tls-cert "$T/collector.crt" --tls-key "$T/collector.key" --tls-client-ca "$T/client.crt"
    start_backend backend
    EXTRA_ENV=("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=https://127.0.0.1:$RECEIVER_PORT/v1/traces"
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE=$T/collector.crt"
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE=$T/client.crt"
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY=$T/client.key")
    run traced py-client "$PY" "$PY_PROGRAMS/mini_curl.py" -sS -o /dev/null "http://127.0.0.1:$BACKEND_PORT/x.txt"
    assert_ok
    wait_spans 1 --service py-client
}

@test "a collector certificate that does not verify: one error line, spans dropped and counted, the program unhindered" {
    start_receiver --tls-cert "$T/collector.crt" --tls-key "$T/collector.key"
    start_backend backend
    # no OTEL_EXPORTER_OTLP_CERTIFICATE: the self-signed collector is refused
    EXTRA_ENV=("OTEL_EXPORTER_OTLP_ENDPOINT=https://127.0.0.1:$RECEIVER_PORT" "OTEL_LOG_LEVEL=debug")
    # 1.2 s of sleeps: a program held by the exporter's failing TLS (three
    # export timeouts, 10 s each) is killed at 20 s, a hang and a failure
    OTELAUTO_TEST_CMD_TIMEOUT=20 traced py-client "$PY" "$PY_PROGRAMS/spaced_requests.py" "$BACKEND_PORT" >"$T/client.out" 2>"$T/client.err"
    [ "$(<"$T/client.out")" = done ]
    grep -E 'error|failed=' "$T/client.err" >&2 || true
    [ "$(grep -c 'error: OTLP exporter: TLS certificate problem' "$T/client.err")" = 1 ]
    # each batch failed for good (not retried, not left in flight at exit)
    grep -q 'shutdown: submitted=3 exported=0 dropped=0 failed=3' "$T/client.err"
    [ ! -s "$SPANS" ]
}
