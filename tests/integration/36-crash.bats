#!/usr/bin/env bats
# Crash capture (src/lifecycle/crash.c, hooks/signal.c): a process that dies
# of SIGSEGV or SIGABRT inside a request still reports that request's span,
# ended with status Error and an `exception` event, before it dies; and it
# dies exactly as it would without the shim (exit status, core dump, its own
# handlers).
#
# Under the ASan build, ASan's own handlers for these signals are turned off
# (handle_segv=0 and friends): otherwise ASan reports the crash and exits 1,
# and the comparison with an uninstrumented run would be meaningless. The
# shim then chains to the default action as in the plain build. ASan's
# RLIMIT_CORE of 0 is turned off too (disable_coredump=0).

load test_helper
load arch_helper
load tls_helper

setup() {
    common_setup
    start_receiver
    RECEIVER_PID=$BG_PID
    if [[ $SANITIZED == 1 ]]; then
        EXTRA_ENV+=("ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:log_path=$T/asan:handle_segv=0:handle_sigbus=0:handle_sigill=0:handle_sigfpe=0:handle_abort=0:disable_coredump=0")
    fi
}

teardown() {
    common_teardown
}

# wait_exit PID: waits for a background process of this shell; its status in EXIT_STATUS
wait_exit() {
    EXIT_STATUS=0
    wait "$1" || EXIT_STATUS=$?
}

# The python server that crashes in a request, traced as SERVICE (untraced if
# empty); curl asks for PATH; sets CURL_STATUS and SERVER_STATUS. With
# CRASH_TLS=1, over HTTPS.
crash_python_server() {
    local service=$1 path=$2 tls=() scheme=http
    if [[ ${CRASH_TLS:-0} == 1 ]]; then
        [[ -f $T/crash.crt ]] || make_cert crash
        tls=(--tls-cert "$T/crash.crt" --tls-key "$T/crash.key")
        scheme=https
    fi
    start_listener "crash-$service" "$service" "$PY" "$PY_PROGRAMS/crash_server.py" --port 0 \
        --ready-file "$T/crash-$service.port" "${tls[@]}" || return 1
    local pid=$BG_PID
    CURL_STATUS=0
    curl -sS -k -m 20 "$scheme://127.0.0.1:$LISTENER_PORT$path" >/dev/null 2>"$T/curl.err" || CURL_STATUS=$?
    wait_exit "$pid"
    SERVER_STATUS=$EXIT_STATUS
}

# the one span of SERVICE: status Error and the exception event of SIGNAL
check_crash_span() {
    local service=$1 kind=$2 signal=$3 message=$4 frame_re=$5
    check_spans "
import re
spans = sel(service='$service')
expect(len(spans) == 1, 'one span of $service, got %d' % len(spans))
for s in spans:
    expect(s['kind'] == $kind, 'kind $kind: %r' % s['kind'])
    expect(s['status_code'] == 2, 'status Error: %r' % s['status_code'])
    expect(attr(s, 'error.type') == '$signal', 'error.type $signal: %r' % attr(s, 'error.type'))
    expect(s['end'] >= s['start'] > 0, 'ended')
    ev = s['event_list']
    expect(len(ev) == 1 and ev[0]['name'] == 'exception', 'one exception event: %r' % ev)
    if ev:
        a = ev[0]['attributes']
        expect(a.get('exception.type') == '$signal', 'exception.type: %r' % a.get('exception.type'))
        expect(re.match(r'$message', a.get('exception.message', '')), 'exception.message: %r' % a.get('exception.message'))
        st = a.get('exception.stacktrace', '')
        lines = st.splitlines()
        expect(len(lines) >= 2, 'a stack of frames: %r' % st)
        expect(all(re.match(r'^#\d+ \S+ \(.+\)$', l) for l in lines), 'one frame a line: %r' % st)
        expect(any(re.search(r'$frame_re', l) for l in lines), 'a frame matching $frame_re: %r' % st)
"
}

# python_crash PATH STATUS SIGNAL MESSAGE_RE: the server dies of SIGNAL in the
# request for PATH, with the exit status STATUS with and without the shim,
# the client's connection broken; its SERVER span carries the crash
python_crash() {
    local path=$1 want=$2 signal=$3 message=$4
    crash_python_server "" "$path"
    local untraced=$SERVER_STATUS
    crash_python_server crash-py "$path"
    echo "untraced=$untraced traced=$SERVER_STATUS curl=$CURL_STATUS"
    [[ $untraced == "$want" && $SERVER_STATUS == "$want" ]]
    [[ $CURL_STATUS == 52 ]] # the connection broke: empty reply
    check_crash_span crash-py 2 "$signal" "$message" 'python'
}

@test "python server reads address 0 in a request: the SERVER span arrives with Error and the SIGSEGV event; same death as without the shim" {
    python_crash /segv 139 SIGSEGV '^Segmentation fault at address 0x0$'
}

@test "python server calls os.abort() in a request: SIGABRT event; same death as without the shim" {
    python_crash /abort 134 SIGABRT '^Aborted'
}

@test "python HTTPS server reads address 0 in a request: the SERVER span of the TLS session arrives with Error" {
    CRASH_TLS=1
    python_crash /segv 139 SIGSEGV '^Segmentation fault at address 0x0$'
    check_spans "expect(attr(one(service='crash-py'), 'url.scheme') == 'https', 'an https span')"
}

@test "OTELAUTO_CRASH_CAPTURE=false: no span from the crashed request, same death" {
    EXTRA_ENV+=("OTELAUTO_CRASH_CAPTURE=false")
    crash_python_server crash-py /segv
    [[ $SERVER_STATUS == 139 ]]
    # the process is gone: what it could send, it sent
    check_spans "expect(len(sel(service='crash-py')) == 0, 'no span: %r' % sel(service='crash-py'))"
}

# crash_handler.c against an upstream that never answers
run_crash_handler() {
    local service=$1 mode=$2
    if [[ -z ${HOLD_PORT:-} ]]; then
        start_listener hold "" "$PY" "$PY_PROGRAMS/hold_server.py" --port 0 --ready-file "$T/hold.port" \
            --out "$T/hold.requests" || return 1
        HOLD_PORT=$LISTENER_PORT
    fi
    if [[ -n $service ]]; then
        run traced "$service" "$PROGRAMS_DIR/crash_handler" 127.0.0.1 "$HOLD_PORT" "$mode"
    else
        run "$PROGRAMS_DIR/crash_handler" 127.0.0.1 "$HOLD_PORT" "$mode"
    fi
}

@test "C program with its own SIGSEGV handler (sigaction, signal, sysv_signal, before the shim's): the handler runs, exit 3; the CLIENT span arrives with Error" {
    local mode
    for mode in sigaction signal sysv sysv_internal early; do
        run_crash_handler "" "$mode"
        echo "untraced $mode: $status $output"
        [[ $status == 3 && $output == $'query=ok\nhandler ran sig=11' ]]
        run_crash_handler "ch-$mode" "$mode"
        echo "traced $mode: $status $output"
        [[ $status == 3 && $output == $'query=ok\nhandler ran sig=11' ]]
        check_crash_span "ch-$mode" 3 SIGSEGV '^Segmentation fault at address 0x0$' '(store_to_null|main)\+0x[0-9a-f]+ \(.*crash_handler\)'
    done
}

@test "C program without a handler: the default action (139), the CLIENT span arrives" {
    run_crash_handler "" none
    [[ $status == 139 && $output == query=ok ]]
    run_crash_handler ch-none none
    [[ $status == 139 && $output == query=ok ]]
    check_crash_span ch-none 3 SIGSEGV '^Segmentation fault at address 0x0$' 'crash_handler'
}

@test "SIGSEGV ignored: a fault kills all the same (the span arrives), a sent SIGSEGV stays ignored (no span)" {
    run_crash_handler "" ignore
    [[ $status == 139 && $output == query=ok ]]
    run_crash_handler ch-ignore ignore
    [[ $status == 139 && $output == query=ok ]]
    check_crash_span ch-ignore 3 SIGSEGV '^Segmentation fault at address 0x0$' 'crash_handler'
    run_crash_handler "" ignore_sent
    [[ $status == 0 && $output == $'query=ok\nsurvived' ]]
    run_crash_handler ch-ignore-sent ignore_sent
    [[ $status == 0 && $output == $'query=ok\nsurvived' ]]
    check_spans "expect(len(sel(service='ch-ignore-sent')) == 0, 'no crash span: %r' % sel(service='ch-ignore-sent'))"
}

@test "core dump: the wait status's core flag is the same with and without the shim" {
    local pattern
    pattern=$(</proc/sys/kernel/core_pattern)
    [[ $pattern != \|* ]] || skip "core_pattern pipes cores to a program ($pattern): the core cannot be seen here"
    start_listener hold "" "$PY" "$PY_PROGRAMS/hold_server.py" --port 0 --ready-file "$T/hold.port" --out "$T/hold.requests"
    traced_env ch-core
    mkdir -p "$T/plain" "$T/shim"
    # python waits for the program and prints the signal and WCOREDUMP
    local waiter='
import os, resource, sys
resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
os.chdir(sys.argv[1])
pid = os.fork()
if pid == 0:
    env = dict(os.environ)
    for kv in sys.argv[3:]:
        k, v = kv.split("=", 1); env[k] = v
    os.execve(sys.argv[2], [sys.argv[2], "127.0.0.1", os.environ["HOLD_PORT"], "none"], env)
_, st = os.waitpid(pid, 0)
print("signal=%d core=%d" % (os.WTERMSIG(st) if os.WIFSIGNALED(st) else -1, os.WCOREDUMP(st)))'
    local plain shim
    plain=$(HOLD_PORT=$LISTENER_PORT "$PY" -c "$waiter" "$T/plain" "$PROGRAMS_DIR/crash_handler" | tail -n 1)
    shim=$(HOLD_PORT=$LISTENER_PORT "$PY" -c "$waiter" "$T/shim" "$PROGRAMS_DIR/crash_handler" "${TRACED_ENV[@]}" | tail -n 1)
    echo "plain: $plain; shim: $shim"
    [[ $plain == "signal=11 core=1" ]]
    [[ $shim == "$plain" ]]
    check_crash_span ch-core 3 SIGSEGV '^Segmentation fault' 'crash_handler'
}

@test "nginx worker sent SIGSEGV during three proxied requests: each SERVER span and its CLIENT span to the upstream arrive with Error" {
    start_listener hold "" "$PY" "$PY_PROGRAMS/hold_server.py" --port 0 --ready-file "$T/hold.port" --out "$T/hold.requests"
    start_nginx_proxy nginx crash-nginx "$LISTENER_PORT"
    local i
    for i in 1 2 3; do
        start_bg "client$i" curl -sS -m 30 "http://127.0.0.1:$NGINX_PORT/held-$i"
    done
    # all three are at the upstream, waiting
    for ((i = 0; i < 200; i++)); do
        [[ -f $T/hold.requests && $(wc -l <"$T/hold.requests") -ge 3 ]] && break
        sleep 0.05
    done
    [[ $(wc -l <"$T/hold.requests") -eq 3 ]]
    local worker
    worker=$(ps -o pid= --ppid "$NGINX_PID" | head -n 1 | tr -d ' ')
    [[ -n $worker ]]
    kill -SEGV "$worker"
    wait_spans 6 --service crash-nginx
    check_spans "
spans = sel(service='crash-nginx')
expect(sorted(s['kind'] for s in spans) == [2, 2, 2, 3, 3, 3], 'three SERVER and three CLIENT spans: %r' % [s['kind'] for s in spans])
for s in spans:
    expect(s['status_code'] == 2, 'status Error')
    ev = s['event_list']
    expect(len(ev) == 1 and ev[0]['attributes'].get('exception.type') == 'SIGSEGV', 'SIGSEGV event: %r' % ev)
    if ev:
        expect(ev[0]['attributes'].get('exception.message', '').startswith('Segmentation fault (sent by pid '), 'sent: %r' % ev)
        expect('epoll' in ev[0]['attributes'].get('exception.stacktrace', ''), 'the worker waited in epoll: %r' % ev)
# (the worker interleaves the three: their parents are ambiguous, so the
# client spans may be roots; README "How parents are chosen")
paths = sorted(attr(s, 'url.path') for s in spans if s['kind'] == 2)
urls = sorted(attr(s, 'url.full') for s in spans if s['kind'] == 3)
expect(paths == ['/held-1', '/held-2', '/held-3'], 'the three requests: %r' % paths)
expect(urls == ['http://backend/held-1', 'http://backend/held-2', 'http://backend/held-3'], 'their upstream requests: %r' % urls)
servers = {s['span_id'] for s in spans if s['kind'] == 2}
expect(all(s['parent_span_id'] in servers or not s['parent_span_id'] for s in spans if s['kind'] == 3),
       'a CLIENT span with a parent has a SERVER span of the worker as parent')"
}

# fault_recovery.c with its "runtime" tests/programs/fault_runtime/LIB
# (installed WHEN: before or after the first connection), traced as SERVICE,
# against the backend: three faults recovered in the request, exit 0
run_fault_recovery() {
    local service=$1 lib=$2 when=$3
    [[ -n ${BACKEND_PORT:-} ]] || start_backend backend
    run traced "$service" "$PROGRAMS_DIR/fault_recovery" "$PROGRAMS_DIR/fault_runtime/$lib" 127.0.0.1 "$BACKEND_PORT" "$when"
    echo "$service: $status $output"
    [[ $status == 0 && $output =~ ^recovered=3\ status=HTTP/1\.[01]\ 200 ]]
}

@test "a runtime that recovers from its faults (a handler in libjvm.so, installed before or after the first connection): no capture, one CLIENT span, status Unset" {
    local when
    for when in before after; do
        run_fault_recovery "jvm-$when" libjvm.so "$when"
        wait_spans 1 --service "jvm-$when"
        check_spans "
spans = sel(service='jvm-$when')
expect(len(spans) == 1, 'one span: %r' % spans)
for s in spans:
    expect(s['kind'] == 3, 'CLIENT: %r' % s['kind'])
    expect(s['status_code'] == 0, 'status Unset: %r' % s['status_code'])
    expect(s['event_list'] == [], 'no event: %r' % s['event_list'])
    expect(attr(s, 'http.response.status_code') == 200, 'the answer: %r' % attr(s, 'http.response.status_code'))"
    done
}

@test "the same handler in a library of another name (librecover.so): the first fault is captured as a crash" {
    run_fault_recovery recover librecover.so after
    wait_spans 2 --service recover
    check_spans "
spans = sel(service='recover')
crashed = [s for s in spans if s['status_code'] == 2]
expect(len(crashed) == 1, 'one span captured as a crash: %r' % spans)
for s in crashed:
    ev = s['event_list']
    expect(len(ev) == 1 and ev[0]['attributes'].get('exception.type') == 'SIGSEGV', 'SIGSEGV event: %r' % ev)
# the request then ends as usual and sends its span again (README)
expect(len(spans) == 2 and spans[0]['span_id'] == spans[1]['span_id'], 'the same span twice: %r' % spans)"
}

@test "the runtime's handler gives a real crash up (abort(), as the JVM does): captured then, as SIGABRT; same death as without the shim" {
    start_backend backend
    run "$PROGRAMS_DIR/fault_recovery" "$PROGRAMS_DIR/fault_runtime/libjvm.so" 127.0.0.1 "$BACKEND_PORT" crash
    echo "untraced: $status $output"
    [[ $status == 134 && $output == recovered=2 ]]
    run traced jvm-crash "$PROGRAMS_DIR/fault_recovery" "$PROGRAMS_DIR/fault_runtime/libjvm.so" 127.0.0.1 "$BACKEND_PORT" crash
    echo "traced: $status $output"
    [[ $status == 134 && $output == recovered=2 ]]
    check_crash_span jvm-crash 3 SIGABRT '^Aborted' 'on_segv\S*\+0x[0-9a-f]+ \(.*libjvm\.so\)'
}

@test "node: three WebAssembly out-of-bounds loads in a request, turned into exceptions by V8's trap handler (a fault each): no capture, one CLIENT span, status Unset" {
    local node
    node=$(node_bin) || skip "node is not installed"
    start_backend backend
    run "$node" "$PY_PROGRAMS/wasm_trap.js" "$BACKEND_PORT"
    echo "untraced: $status $output"
    [[ $status == 0 && $output == "traps=3 status=200" ]]
    run traced node-wasm "$node" "$PY_PROGRAMS/wasm_trap.js" "$BACKEND_PORT"
    echo "traced: $status $output"
    [[ $status == 0 && $output == "traps=3 status=200" ]]
    wait_spans 1 --service node-wasm
    check_spans "
spans = sel(service='node-wasm')
expect(len(spans) == 1, 'one span: %r' % spans)
for s in spans:
    expect(s['kind'] == 3 and s['status_code'] == 0 and s['event_list'] == [], 'a CLIENT span, Unset, no event: %r' % s)"
}

# The collectors the handler cannot post to itself: the spans go through the
# exporter thread. collector_instead ARGS...: the plain receiver replaced by
# one started with ARGS (start_receiver's, or "grpc" for the gRPC receiver)
collector_instead() {
    stop_bg "$RECEIVER_PID"
    rm -f "$SPANS" "$T/receiver.port"
    if [[ $1 == grpc ]]; then
        start_bg grpc-receiver "$PY" "$REPO_ROOT/tests/lib/otlp_grpc_receiver.py" --port 0 --out "$SPANS" \
            --ready-file "$T/receiver.port"
        wait_file "$T/receiver.port" 20 "$BG_PID" grpc-receiver
        RECEIVER_PORT=$(<"$T/receiver.port")
        RECEIVER_PORT=${RECEIVER_PORT//[^0-9]/}
    else
        start_receiver "$@"
    fi
}

@test "https collector: the crash's span goes through the exporter thread, with its exception event; same death" {
    make_cert collector
    collector_instead --tls-cert "$T/collector.crt" --tls-key "$T/collector.key"
    EXTRA_ENV+=("OTEL_EXPORTER_OTLP_ENDPOINT=https://127.0.0.1:$RECEIVER_PORT" "OTEL_EXPORTER_OTLP_CERTIFICATE=$T/collector.crt")
    python_crash /segv 139 SIGSEGV '^Segmentation fault at address 0x0$'
}

@test "grpc collector: the crash's span goes through the exporter thread, with its exception event; same death" {
    collector_instead grpc
    EXTRA_ENV+=("OTEL_EXPORTER_OTLP_PROTOCOL=grpc" "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RECEIVER_PORT")
    python_crash /abort 134 SIGABRT '^Aborted'
}

@test "http/json collector: the crash's span goes through the exporter thread as JSON, with its exception event; same death" {
    EXTRA_ENV+=("OTEL_EXPORTER_OTLP_PROTOCOL=http/json")
    python_crash /segv 139 SIGSEGV '^Segmentation fault at address 0x0$'
    # every request was JSON, the crash's included
    "$PY" -c "
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert reqs and all(r['content_type'] == 'application/json' for r in reqs), reqs" "$SPANS.requests"
}

@test "a collector that never answers (http/json): the handler waits for the exporter thread a bounded time, then the same death" {
    collector_instead
    start_listener hold "" "$PY" "$PY_PROGRAMS/hold_server.py" --port 0 --ready-file "$T/hold.port" --out "$T/hold.requests"
    EXTRA_ENV+=("OTEL_EXPORTER_OTLP_PROTOCOL=http/json" "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:$LISTENER_PORT/v1/traces"
        "OTEL_EXPORTER_OTLP_TIMEOUT=120000")
    crash_python_server crash-py /segv
    # dead long before curl gives up (-m 20): the connection broke, no time-out (28)
    echo "server=$SERVER_STATUS curl=$CURL_STATUS"
    [[ $SERVER_STATUS == 139 && $CURL_STATUS == 52 ]]
    # the request reached the hanging collector
    grep -q 'POST /v1/traces' "$T/hold.requests"
}
