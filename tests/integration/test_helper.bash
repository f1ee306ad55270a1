# Shared by every tests/integration/NN-topic.bats file:
#   load test_helper
#   setup()    { common_setup; }
#   teardown() { common_teardown; }
#
# Environment:
#   OTELAUTO_TEST_LIB             the shim to test (default build/libotelauto.so)
#   OTELAUTO_TEST_PRELOAD_PREFIX  what must precede it in LD_PRELOAD; when unset
#                                 and the shim is built with ASan, libasan
#   OTELAUTO_TEST_PROGRAMS        the C test programs (default build/programs)
#
# Every background process is started with start_bg (own process group,
# output in $BATS_TEST_TMPDIR/NAME.out/.err) and killed in common_teardown,
# whether the test passed or not. With a sanitizer build, reports go to
# $BATS_TEST_TMPDIR/{asan,ubsan}.PID and teardown fails the test if any exist.

REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PROGRAMS_DIR=${OTELAUTO_TEST_PROGRAMS:-$REPO_ROOT/build/programs}
PY_PROGRAMS=$REPO_ROOT/tests/programs
RECEIVER_PY=$REPO_ROOT/tests/lib/otlp_receiver.py

# The python3 in PATH may be a pyenv shim (a bash script): run the real one,
# so that a traced "python3" is python itself and not bash.
if [[ -x /usr/bin/python3 ]]; then
    PY=/usr/bin/python3
else
    PY=$(command -v python3)
fi

SHIM_LIB=${OTELAUTO_TEST_LIB:-$REPO_ROOT/build/libotelauto.so}
[[ $SHIM_LIB == /* ]] || SHIM_LIB=$REPO_ROOT/$SHIM_LIB

# An ASan-instrumented shim needs the ASan runtime first in the process.
shim_preload_prefix() {
    if [[ -n ${OTELAUTO_TEST_PRELOAD_PREFIX+set} ]]; then
        printf '%s' "$OTELAUTO_TEST_PRELOAD_PREFIX"
    elif [[ -f $SHIM_LIB ]] && readelf -d "$SHIM_LIB" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
        gcc -print-file-name=libasan.so
    fi
}
SHIM_PREFIX=$(shim_preload_prefix)
SHIM_PRELOAD=${SHIM_PREFIX:+$SHIM_PREFIX:}$SHIM_LIB
SANITIZED=0
[[ -z $SHIM_PREFIX ]] || SANITIZED=1

# Debian's curl cannot start with libasan preloaded (p11-kit, loaded through
# GnuTLS, corrupts glibc's locale lock in its constructor: curl hangs before
# main, shim or not). Where that is so, traced "curl" commands run
# tests/programs/mini_curl.py instead, which speaks the same options.
curl_runs_under_prefix() {
    runs_under_prefix curl 5 curl -V
}

# runs_under_prefix NAME SECONDS COMMAND [ARGS...]: COMMAND starts and ends
# well within SECONDS with the preload prefix (libasan) alone; true when
# there is no prefix. Probed once a run (cached under NAME).
runs_under_prefix() {
    [[ -n $SHIM_PREFIX ]] || return 0
    local name=$1 seconds=$2
    shift 2
    local cache=${BATS_RUN_TMPDIR:-${TMPDIR:-/tmp}}/otelauto-$name-probe
    if [[ ! -f $cache ]]; then
        if timeout "$seconds" env LD_PRELOAD="$SHIM_PREFIX" ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 \
            "$@" >/dev/null 2>&1; then
            echo yes >"$cache"
        else
            echo no >"$cache"
        fi
    fi
    [[ $(<"$cache") == yes ]]
}
SUBSTITUTE_CURL=0
curl_runs_under_prefix || SUBSTITUTE_CURL=1

# with_hook_witness: the next traced programs run with the hook witness
# (tests/programs/witness/hook_witness.c) before the shim in LD_PRELOAD; it
# writes to $WITNESS_LOG every call the shim (or its OTLP object) makes to one
# of its own exported hooks. assert_no_hook_reentry fails if there was one.
WITNESS_LIB=$PROGRAMS_DIR/libhook_witness.so
with_hook_witness() {
    [[ -f $WITNESS_LIB ]] || fail_now "$WITNESS_LIB is not built (make programs)"
    WITNESS_LOG=$T/hook-witness.log
    EXTRA_ENV+=("LD_PRELOAD=${SHIM_PREFIX:+$SHIM_PREFIX:}$WITNESS_LIB:$SHIM_LIB" "HOOK_WITNESS_LOG=$WITNESS_LOG")
}

assert_no_hook_reentry() {
    if [[ -s $WITNESS_LOG ]]; then
        echo "the shim called its own hooks (call, from):"
        sort "$WITNESS_LOG" | uniq -c
        return 1
    fi
}

# ---------------------------------------------------------------- lifecycle

common_setup() {
    T=$BATS_TEST_TMPDIR
    PIDS_FILE=$T/bg.pids
    : >"$PIDS_FILE"
    RECEIVER_PORT=
    SPANS=$T/spans.jsonl
    EXTRA_ENV=()
    # Nothing from the caller's environment may configure the shim.
    local v
    for v in $(compgen -e); do
        [[ $v != OTEL_* ]] || unset "$v"
    done
    [[ -f $SHIM_LIB ]] || fail_now "the shim $SHIM_LIB is not built (make lib)"
}

common_teardown() {
    stop_all_bg
    check_sanitizer_reports
}

fail_now() {
    echo "$*" >&2
    return 1
}

# After `run`: the command succeeded; otherwise show what it printed.
assert_ok() {
    if [[ $status -ne 0 ]]; then
        echo "command failed with status $status; its output:" >&2
        printf '%s\n' "$output" | tail -n 40 >&2
        [[ -z ${stderr:-} ]] || printf 'stderr:\n%s\n' "$stderr" | tail -n 40 >&2
        return 1
    fi
}

# Sanitizer reports of traced programs (written to files so that a program's
# own stderr stays clean). Any report fails the test.
check_sanitizer_reports() {
    [[ $SANITIZED == 1 ]] || return 0
    local reports=() f
    for f in "$T"/asan.* "$T"/ubsan.*; do
        [[ -e $f ]] && reports+=("$f")
    done
    [[ ${#reports[@]} -eq 0 ]] && return 0
    echo "sanitizer reports from traced programs:" >&2
    for f in "${reports[@]}"; do
        echo "==== $f" >&2
        head -c 20000 "$f" >&2
    done
    return 1
}

# ---------------------------------------------------------------- processes

# The environment of a traced program, in TRACED_ENV (for env(1)): the
# standard settings, then the test's EXTRA_ENV (NAME=VALUE words).
traced_env() {
    local service=$1
    TRACED_ENV=(
        "LD_PRELOAD=$SHIM_PRELOAD"
        "OTEL_SERVICE_NAME=$service"
        "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${RECEIVER_PORT:-9}"
        "OTEL_BSP_SCHEDULE_DELAY=100"
    )
    if [[ $SANITIZED == 1 ]]; then
        TRACED_ENV+=(
            "ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:log_path=$T/asan"
            "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$T/ubsan"
        )
    fi
    TRACED_ENV+=("${EXTRA_ENV[@]}")
}

# traced_command [NAME=VALUE...] COMMAND [ARGS...]: the words to run, in
# TRACED_CMD (curl replaced by mini_curl.py where curl cannot run traced).
traced_command() {
    TRACED_CMD=()
    while [[ $# -gt 0 && $1 == [A-Za-z_]*=* ]]; do
        TRACED_CMD+=("$1")
        shift
    done
    if [[ $SUBSTITUTE_CURL == 1 && ${1:-} == curl ]]; then
        shift
        set -- "$PY" "$PY_PROGRAMS/mini_curl.py" "$@"
    fi
    TRACED_CMD+=("$@")
}

# traced SERVICE [NAME=VALUE...] COMMAND [ARGS...]
# Runs COMMAND in the foreground under the shim with the standard settings;
# NAME=VALUE words override or add to them. A command still running after
# 60 s is killed (status 124): a hang is a failure, not a stuck suite.
traced() {
    local service=$1
    shift
    traced_env "$service"
    traced_command "$@"
    timeout -k 5 "${OTELAUTO_TEST_CMD_TIMEOUT:-60}" env "${TRACED_ENV[@]}" "${TRACED_CMD[@]}"
}

# start_bg NAME COMMAND [ARGS...]: runs in the background, in its own process
# group, stdout/stderr in $T/NAME.out and $T/NAME.err. Sets BG_PID.
start_bg() {
    local name=$1
    shift
    setsid "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
    BG_PID=$!
    echo "$BG_PID $name" >>"$PIDS_FILE"
}

# start_traced_bg NAME SERVICE [NAME=VALUE...] COMMAND [ARGS...]
start_traced_bg() {
    local name=$1 service=$2
    shift 2
    traced_env "$service"
    traced_command "$@"
    start_bg "$name" env "${TRACED_ENV[@]}" "${TRACED_CMD[@]}"
}

# The crash capture's tests outside 36-crash.bats: under ASan, ASan's own
# SIGSEGV handler is turned off (as 36-crash.bats does), so that the shim
# chains to the default action as in the plain build.
segv_default_under_asan() {
    [[ $SANITIZED == 1 ]] || return 0
    EXTRA_ENV+=("ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:log_path=$T/asan:handle_segv=0:disable_coredump=0")
}

# segv_dies_as_untraced PID: sends SIGSEGV to a background process of this
# shell, which must die of it as it would untraced (the default action: 139).
segv_dies_as_untraced() {
    kill -SEGV "$1"
    local st=0
    wait "$1" || st=$?
    [ "$st" -eq 139 ]
}

pid_alive() {
    kill -0 "$1" 2>/dev/null
}

# Stops one background process group: TERM, then KILL after 3 s.
stop_bg() {
    local pid=$1 i
    pid_alive "$pid" || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
        pid_alive "$pid" || break
        sleep 0.02
    done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Stops every background process group of the test at once: all are sent
# TERM, then each is waited for (polled finely: most exit within a few ms)
# up to 3 s from the TERM, then KILLed.
stop_all_bg() {
    [[ -f ${PIDS_FILE:-} ]] || return 0
    local pid name i
    local -a pids=() alive
    while read -r pid name; do
        pid_alive "$pid" || continue
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        pids+=("$pid")
    done <"$PIDS_FILE"
    for ((i = 0; i < 150 && ${#pids[@]} > 0; i++)); do
        alive=()
        for pid in "${pids[@]}"; do
            pid_alive "$pid" && alive+=("$pid")
        done
        pids=(${alive[@]+"${alive[@]}"})
        ((${#pids[@]} == 0)) || sleep 0.02
    done
    while read -r pid name; do
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done <"$PIDS_FILE"
    : >"$PIDS_FILE"
}

# Shows what a background process said (for failure diagnostics).
show_bg_output() {
    local name=$1
    echo "---- $name stdout" >&2
    tail -c 4000 "$T/$name.out" >&2 2>/dev/null || true
    echo "---- $name stderr" >&2
    tail -c 4000 "$T/$name.err" >&2 2>/dev/null || true
}

# ---------------------------------------------------------------- waiting

# wait_file FILE [TIMEOUT_SEC [PID NAME]]: until FILE is non-empty; fails
# early if PID exits.
wait_file() {
    local file=$1 timeout=${2:-10} pid=${3:-} name=${4:-} i
    for ((i = 0; i < timeout * 20; i++)); do
        [[ -s $file ]] && return 0
        if [[ -n $pid ]] && ! pid_alive "$pid"; then
            echo "process $name ($pid) exited before writing $file" >&2
            [[ -n $name ]] && show_bg_output "$name"
            return 1
        fi
        sleep 0.05
    done
    echo "timed out after ${timeout}s waiting for $file" >&2
    [[ -n $name ]] && show_bg_output "$name"
    return 1
}

# wait_port PORT [TIMEOUT_SEC [PID NAME]]: until something listens on
# 127.0.0.1:PORT. Looks at the socket table and never connects, so a traced
# server sees no probe connections.
wait_port() {
    local port=$1 timeout=${2:-10} pid=${3:-} name=${4:-} i
    for ((i = 0; i < timeout * 20; i++)); do
        if [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]; then
            return 0
        fi
        if [[ -n $pid ]] && ! pid_alive "$pid"; then
            echo "process $name ($pid) exited before listening on $port" >&2
            [[ -n $name ]] && show_bg_output "$name"
            return 1
        fi
        sleep 0.05
    done
    echo "timed out after ${timeout}s waiting for a listener on port $port" >&2
    [[ -n $name ]] && show_bg_output "$name"
    return 1
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A port on which nothing listens (connections are refused).
closed_port() {
    free_port
}

now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# ---------------------------------------------------------------- servers

# start_receiver [RECEIVER_ARGS...]: the test OTLP receiver on a free port.
# Sets RECEIVER_PORT; spans land in $SPANS, requests in $SPANS.requests.
start_receiver() {
    [[ -f $RECEIVER_PY ]] || fail_now "missing $RECEIVER_PY" || return 1
    start_bg receiver "$PY" "$RECEIVER_PY" --port 0 --out "$SPANS" --ready-file "$T/receiver.port" "$@"
    wait_file "$T/receiver.port" 10 "$BG_PID" receiver || return 1
    RECEIVER_PORT=$(<"$T/receiver.port")
    RECEIVER_PORT=${RECEIVER_PORT//[^0-9]/}
}

# start_listener NAME SERVICE COMMAND [ARGS...]: a server that writes the
# port it listens on to $T/NAME.port once ready, traced as SERVICE (untraced
# if SERVICE is empty). Waits LISTENER_TIMEOUT seconds (default 10) for the
# port and sets LISTENER_PORT.
start_listener() {
    local name=$1 service=$2
    shift 2
    if [[ -n $service ]]; then
        start_traced_bg "$name" "$service" "$@"
    else
        start_bg "$name" "$@"
    fi
    wait_file "$T/$name.port" "${LISTENER_TIMEOUT:-10}" "$BG_PID" "$name" || return 1
    LISTENER_PORT=$(<"$T/$name.port")
    LISTENER_PORT=${LISTENER_PORT//[^0-9]/}
}

# start_backend NAME [SERVICE [ARGS...]]: tests/programs/http_backend.py serving
# $T/www (with its extra ARGS), traced as SERVICE if not empty. Sets
# <NAME>_PORT-style result in BACKEND_PORT.
start_backend() {
    local name=$1 service=${2:-}
    shift $(($# < 2 ? $# : 2))
    mkdir -p "$T/www"
    start_listener "$name" "$service" "$PY" "$PY_PROGRAMS/http_backend.py" --port 0 \
        --ready-file "$T/$name.port" --root "$T/www" "$@" || return 1
    BACKEND_PORT=$LISTENER_PORT
}

# start_recording_server NAME [SERVICE] [ARGS...]: tests/programs/recording_server.py
# (traced as SERVICE if given: a word not starting with '-'), records into
# $T/NAME.records; ARGS go to the server. Sets RECORDER_PORT.
start_recording_server() {
    local name=$1 service=
    shift
    if [[ $# -gt 0 && $1 != -* ]]; then
        service=$1
        shift
    fi
    start_listener "$name" "$service" "$PY" "$PY_PROGRAMS/recording_server.py" --port 0 \
        --ready-file "$T/$name.port" --out "$T/$name.records" "$@" || return 1
    RECORDER_PORT=$LISTENER_PORT
}

# start_http_server NAME SERVICE ROOT: `python3 -m http.server` serving ROOT
# on a free port, traced as SERVICE (untraced if SERVICE is empty). Sets
# HTTP_SERVER_PORT.
start_http_server() {
    local name=$1 service=$2 root=$3 port
    port=$(free_port)
    local cmd=("$PY" -m http.server --bind 127.0.0.1 --directory "$root" "$port")
    if [[ -n $service ]]; then
        start_traced_bg "$name" "$service" "${cmd[@]}"
    else
        start_bg "$name" "${cmd[@]}"
    fi
    wait_port "$port" 10 "$BG_PID" "$name" || return 1
    HTTP_SERVER_PORT=$port
}

# request_with HEADER...: one untraced request for /index.txt of the
# server start_http_server started, carrying the given header lines.
request_with() {
    local args=() h
    for h in "$@"; do
        args+=(-H "$h")
    done
    run curl -sS -o /dev/null -w '%{http_code}' "${args[@]}" "http://127.0.0.1:$HTTP_SERVER_PORT/index.txt"
    assert_ok
    [ "$output" = 200 ]
}

# write_nginx_conf DIR PORT ROOT [master]: an nginx configuration that runs
# unprivileged in DIR: one worker (in the master process itself unless
# "master" is given), logs/pid/temp files in DIR, sendfile, long keep-alive.
write_nginx_conf() {
    local dir=$1 port=$2 root=$3 mode=${4:-single} user_line=""
    mkdir -p "$dir/tmp"
    # A master running as root hands the worker to "nobody", which could not
    # read the test's private directories.
    if [[ $mode == master && $(id -u) == 0 ]]; then
        user_line="user root root;"
    fi
    cat >"$dir/nginx.conf" <<EOF
$user_line
daemon off;
master_process $([[ $mode == master ]] && echo on || echo off);
worker_processes 1;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    sendfile on;
    keepalive_timeout 30s;
    keepalive_requests 100000;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port;
        root $root;
    }
}
EOF
}

# start_nginx NAME SERVICE ROOT [master]: nginx on a free port (traced as
# SERVICE unless empty). Sets NGINX_PORT and NGINX_PID.
start_nginx() {
    local name=$1 service=$2 root=$3 mode=${4:-single} port dir=$T/$1
    command -v nginx >/dev/null || fail_now "nginx is not installed" || return 1
    port=$(free_port)
    write_nginx_conf "$dir" "$port" "$root" "$mode"
    local cmd=(nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log")
    if [[ -n $service ]]; then
        start_traced_bg "$name" "$service" "${cmd[@]}"
    else
        start_bg "$name" "${cmd[@]}"
    fi
    NGINX_PID=$BG_PID
    if ! wait_port "$port" 10 "$BG_PID" "$name"; then
        cat "$dir/error.log" >&2 2>/dev/null
        return 1
    fi
    NGINX_PORT=$port
}

# ---------------------------------------------------------------- spans

# The span file is JSON lines written by tests/lib/otlp_receiver.py. All
# queries go through this prelude so that tests state their expectations in
# a few lines of python:
#   spans                  every span received so far (list of dicts)
#   sel(service=, kind="server"|"client", name=, path=, **attrs)
#   one(...)               the single span matching, else a failure
#   attr(span, key)        an attribute value (None if absent)
#   expect(cond, message)  records a failure (the script exits 1 at the end)
#   expect_eq(actual, expected, what)   type-strict equality
#   expect_attrs(span, {key: value})    each attribute present and equal
#   children_of(span)      spans whose parent is span
# On failure every span received is printed, to make failures readable.
SPANS_PRELUDE=$(
    cat <<'PY'
import json, os, sys
SPANS_FILE = sys.argv[1]
spans = []
if os.path.exists(SPANS_FILE):
    with open(SPANS_FILE) as _f:
        for _line in _f:
            _line = _line.strip()
            if _line:
                try:
                    spans.append(json.loads(_line))
                except ValueError:
                    pass
_failures = []
_KINDS = {"server": 2, "client": 3, "internal": 1}

def attr(s, key):
    return (s.get("attributes") or {}).get(key)

def sel(service=None, kind=None, name=None, path=None, trace_id=None, **attrs):
    out = []
    for s in spans:
        if service is not None and s.get("service") != service:
            continue
        if kind is not None and s.get("kind") != _KINDS.get(kind, kind):
            continue
        if name is not None and s.get("name") != name:
            continue
        if path is not None and attr(s, "url.path") != path and not str(attr(s, "url.full") or "").endswith(path):
            continue
        if trace_id is not None and s.get("trace_id") != trace_id:
            continue
        if any(attr(s, k.replace("__", ".")) != v for k, v in attrs.items()):
            continue
        out.append(s)
    return out

def expect(cond, message):
    if not cond:
        _failures.append(message)
    return bool(cond)

def one(**filters):
    found = sel(**filters)
    expect(len(found) == 1, "expected exactly one span matching %r, found %d" % (filters, len(found)))
    return found[0] if found else {"attributes": {}}

def expect_eq(actual, expected, what):
    ok = actual == expected and type(actual) == type(expected)
    return expect(ok, "%s: expected %r (%s), got %r (%s)" % (
        what, expected, type(expected).__name__, actual, type(actual).__name__))

def expect_attrs(s, wanted):
    for k, v in wanted.items():
        expect_eq(attr(s, k), v, "%s %s attribute %s" % (s.get("service"), s.get("name"), k))

def children_of(parent):
    return [s for s in spans if s.get("trace_id") == parent.get("trace_id")
            and s.get("parent_span_id") == parent.get("span_id")]

def _brief(s):
    return "%-12s kind=%s %-6s trace=%s span=%s parent=%s status=%s attrs=%s" % (
        s.get("service"), s.get("kind"), s.get("name"), s.get("trace_id"), s.get("span_id"),
        s.get("parent_span_id") or "-", s.get("status_code"), json.dumps(s.get("attributes"), sort_keys=True))

def _finish():
    if _failures:
        for m in _failures:
            print("FAIL: " + m, file=sys.stderr)
        print("spans received (%d):" % len(spans), file=sys.stderr)
        for s in spans:
            print("  " + _brief(s), file=sys.stderr)
        sys.exit(1)
PY
)

# check_spans 'PYTHON': runs the assertions against the spans received so far.
check_spans() {
    "$PY" -c "$SPANS_PRELUDE
$1
_finish()" "$SPANS"
}

# check_sql_commented SERVICE SPAN_NAME FILE: FILE holds what a database
# server logged of one statement; it carries, once and at its end (before a
# `;`), the sqlcommenter comment naming the CLIENT span of that service and
# name: /*traceparent='00-<its trace id>-<its span id>-<flags>'*/.
check_sql_commented() {
    check_spans "
import re
s = one(service='$1', name='$2')
logged = open('$3').read().strip()
want = \"/*traceparent='00-%s-%s-0\" % (s['trace_id'], s['span_id'])
expect(want in logged, 'the server saw the span in the statement: %r in %r' % (want, logged))
expect(re.search(r\" /\\*traceparent='00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]'\\*/;?\$\", logged), 'at the end: %r' % logged)
expect(logged.count('traceparent') == 1, 'exactly once: %r' % logged)
"
}

# wait_spans COUNT [--timeout SEC] [--settle SEC] [--service S] [--kind K] [--name N]
# Polls the span file until at least COUNT spans match the filters, then
# waits --settle seconds (default 0.3) so that surplus spans show up too.
# Fails (printing what arrived) on timeout.
wait_spans() {
    local count=$1
    shift
    local timeout=30 settle=0.3 filters=()
    while [[ $# -gt 0 ]]; do
        case $1 in
            --timeout) timeout=$2; shift 2 ;;
            --settle) settle=$2; shift 2 ;;
            --service | --kind | --name) filters+=("${1#--}=$2"); shift 2 ;;
            *) fail_now "wait_spans: unknown argument $1"; return 1 ;;
        esac
    done
    "$PY" - "$SPANS" "$count" "$timeout" "$settle" "${filters[@]}" <<'PY'
import json, os, sys, time
path, count, timeout, settle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
filters = dict(a.split("=", 1) for a in sys.argv[5:])
kinds = {"server": 2, "client": 3}
def matching():
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            try:
                s = json.loads(line)
            except ValueError:
                continue
            if "service" in filters and s.get("service") != filters["service"]:
                continue
            if "kind" in filters and s.get("kind") != kinds.get(filters["kind"]):
                continue
            if "name" in filters and s.get("name") != filters["name"]:
                continue
            out.append(s)
    return out
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    if len(matching()) >= count:
        time.sleep(settle)
        sys.exit(0)
    time.sleep(0.05)
found = matching()
print("timed out after %ss: %d span(s) matching %r, wanted %d" % (timeout, len(found), filters, count), file=sys.stderr)
if os.path.exists(path):
    with open(path) as f:
        print("all spans received:\n" + f.read()[-6000:], file=sys.stderr)
sys.exit(1)
PY
}

# export_requests 'PYTHON': code over the export requests the test receiver
# (otlp_receiver.py, or otlp_grpc_receiver.py: the same records) saw, in
# $SPANS.requests: list `requests` of dicts (path, content_type,
# content_encoding, headers, spans, points, status), `traces` and `metrics`
# those of each signal (HTTP path or gRPC method); expect(cond, message)
# fails, printing them all.
export_requests() {
    "$PY" -c "
import json, os, sys
requests = [json.loads(l) for l in open(sys.argv[1]) if l.strip()] if os.path.exists(sys.argv[1]) else []
def expect(cond, message):
    if not cond:
        print('FAIL: ' + message, file=sys.stderr)
        for r in requests:
            print('request: %r' % r, file=sys.stderr)
        sys.exit(1)
traces = [r for r in requests if r['path'] in
          ('/v1/traces', '/opentelemetry.proto.collector.trace.v1.TraceService/Export')]
metrics = [r for r in requests if r['path'] in
           ('/v1/metrics', '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export')]
$1
" "$SPANS.requests"
}

# ---------------------------------------------------------------- recordings

# recorded 'PYTHON': runs code over the requests recorded by
# recording_server.py in $RECORDS (list `records` of dicts), failing like
# check_spans. TRACEPARENT_RE is the strict version-00 grammar.
recorded() {
    "$PY" -c "
import json, re, sys
records = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
TRACEPARENT_RE = re.compile(r'^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}\$')
_failures = []
def expect(cond, message):
    if not cond:
        _failures.append(message)
    return bool(cond)
$1
if _failures:
    for m in _failures:
        print('FAIL: ' + m, file=sys.stderr)
    for r in records:
        print('record: head=%r traceparent=%r body_length=%r' % (r['head'][:600], r['traceparent'], r['body_length']), file=sys.stderr)
    sys.exit(1)
" "$RECORDS"
}

# Does the shim's object appear in a running process?
process_has_shim() {
    grep -q "$(basename "$SHIM_LIB")" "/proc/$1/maps" 2>/dev/null
}

# probe PORT N [PATH]: N untraced keep-alive GETs of PATH (default /ok.txt),
# each answered 200. A request not answered within 10 s fails it: that is a
# hang, not a slow machine.
probe() {
    "$PY" "$PY_PROGRAMS/latency_probe.py" 127.0.0.1 "$1" "${3:-/ok.txt}" "$2" --warmup 0 >/dev/null
}

# shim_counters PID: the span counters of a running traced process, read
# from its memory by `otelauto doctor PID` (the command beside the shim):
# sets SUBMITTED EXPORTED DROPPED FAILED, and HELD, the spans the shim holds
# (queued, or in the batch being exported).
shim_counters() {
    local pid=$1 out line words=()
    [[ $SANITIZED == 1 ]] && words=(env "ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:log_path=$T/asan"
        "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$T/ubsan")
    out=$("${words[@]}" "$(dirname "$SHIM_LIB")/otelauto" doctor "$pid" 2>&1)
    line=$(grep -E '^  spans: submitted [0-9]+, exported [0-9]+, dropped [0-9]+, failed [0-9]+$' <<<"$out") ||
        fail_now "otelauto doctor $pid shows no span counters: $out" || return 1
    read -r SUBMITTED EXPORTED DROPPED FAILED < <(sed -E 's/[^0-9]+/ /g' <<<"$line")
    HELD=$((SUBMITTED - EXPORTED - DROPPED - FAILED))
    echo "shim counters of $pid: submitted $SUBMITTED, exported $EXPORTED, dropped $DROPPED, failed $FAILED, held $HELD" >&2
}

skip_if_sanitized() {
    [[ $SANITIZED == 0 ]] || skip "${1:-not meaningful under ASan}"
}

# assert_traceparents_match_client_spans SERVICE N: the recording server got
# N traceparent headers, and each carries the ids of one of SERVICE's N client
# spans (the injected traceparent names the client span itself).
assert_traceparents_match_client_spans() {
    local service=$1 n=$2
    wait_spans "$n" --service "$service" --kind client
    check_spans "
tps = [tp for l in open('$RECORDS') if l.strip() for tp in json.loads(l)['traceparent']]
clients = sel(service='$service', kind='client')
expect_eq(len(clients), $n, 'client spans')
expect_eq(len(tps), $n, 'traceparent headers received')
by_ids = {}
for c in clients:
    by_ids.setdefault((c.get('trace_id'), c.get('span_id')), []).append(c)
for tp in tps:
    parts = tp.split('-')
    if expect(len(parts) == 4, 'traceparent %r has 4 fields' % tp):
        match = by_ids.get((parts[1], parts[2]), [])
        expect(len(match) == 1, 'traceparent %r names a client span (trace id, span id)' % tp)
        # sampled; the level-2 'random trace id' bit (0x02) may be set too
        expect(int(parts[3], 16) & 1 == 1, 'sampled flag in %r' % tp)
"
}
