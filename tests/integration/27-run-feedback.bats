#!/usr/bin/env bats
# What the shim says about itself at OTEL_LOG_LEVEL=info: one line when
# tracing starts (version, exporters and endpoints, sampler), one at exit
# (spans exported, dropped, failed), and, while the collector is unavailable,
# one line when that starts and one when it ends, however many attempts fail
# in between. Silent by default.

load test_helper

setup() {
    common_setup
    mkdir -p "$T/www"
    printf 'ok\n' >"$T/www/ok.txt"
}

teardown() {
    common_teardown
}

# shim_lines LEVELS FILE: the shim's own lines at those levels (a regex
# alternative such as 'warn|error').
shim_lines() {
    grep -E "^otelauto\[[0-9]+\] ($1): " "$2" || true
}

count_lines() {
    shim_lines "$1" "$2" | grep -c . || true
}

@test "info: one start line saying what is exported where, one exit line saying what became of the spans" {
    start_receiver
    start_backend plain
    traced curl-info OTEL_LOG_LEVEL=info curl -s -o /dev/null "http://127.0.0.1:$BACKEND_PORT/ok.txt" \
        2>"$T/client.err"
    cat "$T/client.err" >&2
    wait_spans 1 --service curl-info
    [ "$(count_lines 'error|warn|info|debug' "$T/client.err")" = 2 ]
    shim_lines info "$T/client.err" | head -1 |
        grep -qF "info: otelauto 0.1.0 tracing service \"curl-info\"; traces: otlp http://127.0.0.1:$RECEIVER_PORT/v1/traces; metrics: otlp http://127.0.0.1:$RECEIVER_PORT/v1/metrics; sampler: parentbased_always_on; propagators: tracecontext,baggage"
    shim_lines info "$T/client.err" | tail -1 |
        grep -qF "info: exit: spans exported 1, dropped 0 (queue full), failed 0 (not accepted or collector unreachable), unsent 0"
}

@test "default log level: the shim writes nothing to the program's stderr" {
    start_receiver
    start_backend plain
    traced curl-quiet curl -s -o /dev/null "http://127.0.0.1:$BACKEND_PORT/ok.txt" 2>"$T/client.err"
    wait_spans 1 --service curl-quiet
    [ "$(grep -c 'otelauto\[' "$T/client.err")" = 0 ]
}

@test "collector answering 503 three times: one warning, one recovery line, the span delivered and counted" {
    start_receiver --mode 503 --fail-count 3 --retry-after 0
    start_backend plain
    traced curl-503 OTEL_LOG_LEVEL=info OTEL_METRICS_EXPORTER=none curl -s -o /dev/null "http://127.0.0.1:$BACKEND_PORT/ok.txt" \
        2>"$T/client.err"
    cat "$T/client.err" >&2
    wait_spans 1 --service curl-503
    [ "$(count_lines 'error|warn' "$T/client.err")" = 1 ]
    shim_lines warn "$T/client.err" |
        grep -qE "warn: OTLP exporter: the collector at http://127.0.0.1:$RECEIVER_PORT/v1/traces is unavailable \(HTTP 503, Retry-After 0 ms\); what cannot be sent is dropped and counted; nothing more is said until it is reachable again"
    [ "$(shim_lines info "$T/client.err" | grep -c 'is reachable again')" = 1 ]
    shim_lines info "$T/client.err" | grep -qF "exit: spans exported 1, dropped 0 (queue full), failed 0"
}

@test "collector down for several attempts, then up: one line when it goes, one when it comes back" {
    local port
    port=$(closed_port)
    RECEIVER_PORT=$port
    EXTRA_ENV=(OTEL_LOG_LEVEL=debug)
    start_backend traced-backend backend
    local backend_pid=$BG_PID
    curl -s -o /dev/null "http://127.0.0.1:$BACKEND_PORT/ok.txt"
    # wait (by count, not by time) until the exporter has failed three times
    # (the first attempt and two retries)
    local i
    for ((i = 0; i < 600; i++)); do
        (($(shim_lines debug "$T/traced-backend.err" | grep -c 'failed again') >= 2)) && break
        sleep 0.05
    done
    (($(shim_lines debug "$T/traced-backend.err" | grep -c 'failed again') >= 2)) ||
        fail_now "the exporter did not retry"
    [ "$(count_lines 'error|warn' "$T/traced-backend.err")" = 1 ]
    shim_lines warn "$T/traced-backend.err" |
        grep -qF "warn: OTLP exporter: the collector at http://127.0.0.1:$port/v1/traces is unavailable (Couldn't connect to server"

    # the collector comes up on that port: the retried span arrives, said once
    start_bg receiver "$PY" "$RECEIVER_PY" --port "$port" --out "$SPANS"
    wait_spans 1 --service backend --timeout 30
    for ((i = 0; i < 200; i++)); do
        shim_lines info "$T/traced-backend.err" | grep -q 'is reachable again' && break
        sleep 0.05
    done
    [ "$(shim_lines info "$T/traced-backend.err" | grep -c "the collector at http://127.0.0.1:$port/v1/traces is reachable again")" = 1 ]
    [ "$(count_lines 'error|warn' "$T/traced-backend.err")" = 1 ]
    pid_alive "$backend_pid"
}

@test "traces and metrics to one collector that is down: one line for both" {
    RECEIVER_PORT=$(closed_port)
    EXTRA_ENV=(OTEL_LOG_LEVEL=debug OTEL_METRIC_EXPORT_INTERVAL=100)
    start_backend traced-backend backend
    curl -s -o /dev/null "http://127.0.0.1:$BACKEND_PORT/ok.txt"
    local i
    for ((i = 0; i < 600; i++)); do
        shim_lines debug "$T/traced-backend.err" | grep -q 'v1/traces failed again' &&
            shim_lines debug "$T/traced-backend.err" | grep -q 'v1/metrics failed again' && break
        sleep 0.05
    done
    shim_lines debug "$T/traced-backend.err" | grep -q 'v1/traces failed again'
    shim_lines debug "$T/traced-backend.err" | grep -q 'v1/metrics failed again'
    [ "$(count_lines 'error|warn' "$T/traced-backend.err")" = 1 ]
}

@test "resource: host.arch, process.parent_pid, process.owner, and container.id exactly when the process can see one" {
    start_receiver
    start_backend plain
    # a shell whose pid we know is the traced program's parent
    local parent_pid_file=$T/parent.pid
    traced resource-probe sh -c 'echo $$ >"$1"; "$2" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()" "$3"; true' \
        sh "$parent_pid_file" "$PY" "http://127.0.0.1:$BACKEND_PORT/ok.txt"
    wait_spans 1 --service resource-probe
    # container.id computed here independently of the shim: a 64-hex id
    # ending the cgroup path, else one under .../containers/ in mountinfo
    local expected_container
    expected_container=$("$PY" - <<'PY'
import re
for line in open("/proc/self/cgroup"):
    m = re.search(r"(?:^|[^0-9a-f])([0-9a-f]{64})(?:\.scope)?$", line.strip().split(":", 2)[2])
    if m:
        print(m.group(1)); raise SystemExit
for line in open("/proc/self/mountinfo"):
    m = re.search(r"containers/([0-9a-f]{64})/", line)
    if m:
        print(m.group(1)); raise SystemExit
PY
)
    check_spans "
s = sel(service='resource-probe')
expect_eq(len(s), 1, 'spans')
r = s[0]['resource']
arch = {'x86_64': 'amd64', 'aarch64': 'arm64'}.get(os.uname().machine, os.uname().machine)
expect_eq(r.get('host.arch'), arch, 'host.arch')
expect_eq(r.get('process.parent_pid'), int(open('$parent_pid_file').read()), 'process.parent_pid')
import pwd
expect_eq(r.get('process.owner'), pwd.getpwuid(os.geteuid()).pw_name, 'process.owner')
expect_eq(r.get('container.id'), '$expected_container' or None, 'container.id')
"
}
