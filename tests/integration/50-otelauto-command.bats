#!/usr/bin/env bats
# The otelauto command (tools/otelauto/): `run` starts a program under the
# shim, `doctor` says whether a program or a process can be traced and why
# not, `tail` receives OTLP/HTTP and prints each trace as a tree.
#
# The command under test sits beside the shim under test (build/otelauto,
# or build/asan/otelauto in the sanitizer pass).

bats_require_minimum_version 1.5.0
load test_helper

OTELAUTO_CMD=$(dirname "$SHIM_LIB")/otelauto

setup() {
    common_setup
    [[ -x $OTELAUTO_CMD ]] || fail_now "the command $OTELAUTO_CMD is not built (make lib)"
    mkdir -p "$T/www"
    printf 'hello from the server\n' >"$T/www/hello.txt"
    # What `run` would add to LD_PRELOAD: the shim's absolute, resolved path.
    SHIM_REAL=$(realpath "$SHIM_LIB")
}

teardown() {
    common_teardown
}

# The words that start the command, in OA_WORDS. In the sanitizer pass its
# own reports go to files (checked by teardown); leak checking is on unless
# OA_DETECT_LEAKS=0 (for `run`, which becomes another program).
oa_words() {
    OA_WORDS=()
    if [[ $SANITIZED == 1 ]]; then
        OA_WORDS=(env "ASAN_OPTIONS=detect_leaks=${OA_DETECT_LEAKS:-1}:verify_asan_link_order=0:log_path=$T/asan"
            "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$T/ubsan")
    fi
    OA_WORDS+=("$OTELAUTO_CMD")
}

# oa ARGS...: runs the command.
oa() {
    oa_words
    "${OA_WORDS[@]}" "$@"
}

# oa_run ARGS...: `otelauto run ARGS` with LD_PRELOAD set to OA_PRELOAD, by
# default to what must precede the shim (libasan in the sanitizer pass,
# else nothing), as a user's own preload would.
oa_run() {
    OA_DETECT_LEAKS=0 LD_PRELOAD=${OA_PRELOAD-$SHIM_PREFIX} oa run "$@"
}

# What `run` makes of LD_PRELOAD when it held OA_PRELOAD's default.
EXPECTED_PRELOAD() {
    echo "${SHIM_PREFIX:+$SHIM_PREFIX:}$SHIM_REAL"
}

# env_value NAME: the value of NAME in $output (lines NAME=VALUE of env(1)).
env_value() {
    printf '%s\n' "$output" | sed -n "s/^$1=//p"
}

build_c_program() { # NAME SOURCE [CC ARGS...]
    local name=$1 source=$2
    shift 2
    printf '%s\n' "$source" >"$T/$name.c"
    "${@:-gcc}" -o "$T/$name" "$T/$name.c"
}

HELLO_C='#include <stdio.h>
int main(void) { puts("hello"); return 0; }'

# ---------------------------------------------------------------- run

@test "run: appends the shim to an existing LD_PRELOAD and names the service after the program" {
    local before
    before=${SHIM_PREFIX:+$SHIM_PREFIX:}$(realpath "$(dirname "$SHIM_LIB")/libpassthrough.so")
    OA_PRELOAD=$before run oa_run -- /usr/bin/env
    assert_ok
    [[ $(env_value LD_PRELOAD) == "$before:$SHIM_REAL" ]] || fail_now "LD_PRELOAD=$(env_value LD_PRELOAD)"
    [[ $(env_value OTEL_SERVICE_NAME) == env ]] || fail_now "OTEL_SERVICE_NAME=$(env_value OTEL_SERVICE_NAME)"
    [[ -z $(env_value OTEL_TRACES_EXPORTER) ]]

    # without "--"; LD_PRELOAD empty (or only libasan)
    run oa_run /usr/bin/env
    assert_ok
    [[ $(env_value LD_PRELOAD) == "$(EXPECTED_PRELOAD)" ]] || fail_now "LD_PRELOAD=$(env_value LD_PRELOAD)"
}

@test "run: the shim is not added twice" {
    local before=${SHIM_PREFIX:+$SHIM_PREFIX:}$SHIM_REAL:/nonexistent/libother.so
    OA_PRELOAD=$before run oa_run /usr/bin/env
    assert_ok
    [[ $(env_value LD_PRELOAD) == "$before" ]] || fail_now "LD_PRELOAD=$(env_value LD_PRELOAD)"
}

@test "run: --service wins, an existing OTEL_SERVICE_NAME is kept, --console selects the console exporter" {
    OTEL_SERVICE_NAME=from-env run oa_run --service checkout --console -- /usr/bin/env
    assert_ok
    [[ $(env_value OTEL_SERVICE_NAME) == checkout ]] || fail_now "OTEL_SERVICE_NAME=$(env_value OTEL_SERVICE_NAME)"
    [[ $(env_value OTEL_TRACES_EXPORTER) == console ]]

    OTEL_SERVICE_NAME=from-env run oa_run /usr/bin/env
    assert_ok
    [[ $(env_value OTEL_SERVICE_NAME) == from-env ]] || fail_now "OTEL_SERVICE_NAME=$(env_value OTEL_SERVICE_NAME)"
}

@test "run: the program's exit status passes through; 127 when it does not exist, 126 when it cannot run" {
    run oa_run -- sh -c 'exit 7'
    [[ $status -eq 7 ]] || fail_now "status $status: $output"
    run -127 oa_run -- "$T/no-such-program"
    [[ $output == *"no-such-program"* ]]
    printf 'not a program\n' >"$T/not-executable"
    run -126 oa_run -- "$T/not-executable"
    run oa run
    [[ $status -eq 2 ]]
}

@test "run -- curl URL: a CLIENT span with service name curl reaches the collector" {
    [[ $SUBSTITUTE_CURL == 0 ]] || skip "curl cannot start with libasan preloaded here"
    start_receiver
    start_http_server server "" "$T/www"
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$RECEIVER_PORT OTEL_BSP_SCHEDULE_DELAY=100 \
        run oa_run -- curl -sS -o "$T/body" "http://127.0.0.1:$HTTP_SERVER_PORT/hello.txt"
    assert_ok
    cmp "$T/body" "$T/www/hello.txt"
    wait_spans 1 --service curl --kind client
    check_spans "
c = one(service='curl', kind='client')
expect_eq(len(spans), 1, 'number of spans')
expect_eq(attr(c, 'url.full'), 'http://127.0.0.1:$HTTP_SERVER_PORT/hello.txt', 'url.full')
expect_eq(attr(c, 'http.response.status_code'), 200, 'status code')
"
}

# ---------------------------------------------------------------- doctor: files

@test "doctor: curl can be traced, and its TLS is seen through libssl" {
    run oa doctor curl
    assert_ok
    [[ ${lines[0]} == "otelauto doctor: "*"/curl: can be traced" ]] || fail_now "verdict: ${lines[0]}"
    [[ $output == *"libssl"*"seen"* ]] || fail_now "$output"
    [[ $output == *"needs: "*"libcurl"* ]] || fail_now "$output"
}

@test "doctor: a statically linked program cannot be traced" {
    build_c_program static_hello "$HELLO_C" gcc -static
    run oa doctor "$T/static_hello"
    [[ $status -eq 1 ]] || fail_now "status $status: $output"
    [[ ${lines[0]} == "otelauto doctor: $T/static_hello: cannot be traced: statically linked"* ]] ||
        fail_now "verdict: ${lines[0]}"
}

@test "doctor: a Go program cannot be traced (raw system calls), even dynamically linked" {
    command -v go >/dev/null || skip "go is not installed"
    mkdir -p "$T/goprog"
    cat >"$T/goprog/main.go" <<'EOF'
package main

import (
	"fmt"
	"net/http"
)

func main() {
	resp, err := http.Get("http://127.0.0.1:9/")
	fmt.Println(resp, err)
}
EOF
    (cd "$T/goprog" && GOCACHE=$T/gocache GOPATH=$T/gopath GO111MODULE=off GOFLAGS= \
        timeout 300 go build -o "$T/goprog/goprog" main.go) || fail_now "go build failed"
    run oa doctor "$T/goprog/goprog"
    [[ $status -eq 1 ]] || fail_now "status $status: $output"
    [[ ${lines[0]} == *": cannot be traced: a Go program"* ]] || fail_now "verdict: ${lines[0]}"
    [[ $output == *"raw system calls"* ]]
}

@test "doctor: a musl program cannot be traced" {
    command -v musl-gcc >/dev/null || skip "musl-gcc is not installed"
    build_c_program musl_hello "$HELLO_C" musl-gcc
    run oa doctor "$T/musl_hello"
    [[ $status -eq 1 ]] || fail_now "status $status: $output"
    [[ ${lines[0]} == *"cannot be traced: linked with musl"* ]] || fail_now "verdict: ${lines[0]}"
}

@test "doctor: a set-user-ID program runs in secure-execution mode for other users" {
    build_c_program setuid_hello "$HELLO_C"
    if [[ $(id -u) == 0 ]]; then
        # root running a program owned by someone else: the ids differ
        chown nobody "$T/setuid_hello"
        chmod u+s "$T/setuid_hello"
        run oa doctor "$T/setuid_hello"
        [[ $status -eq 1 ]] || fail_now "status $status: $output"
        [[ ${lines[0]} == *"cannot be traced: set-user-ID"* ]] || fail_now "verdict: ${lines[0]}"
    else
        chmod u+s "$T/setuid_hello"
        run oa doctor "$T/setuid_hello"
        [[ $status -eq 0 ]] || fail_now "status $status: $output"
    fi
    [[ $output == *"set-user-ID (owner "*"secure-execution mode"* ]] || fail_now "$output"
}

@test "doctor: a program with file capabilities runs in secure-execution mode for non-root users" {
    command -v setcap >/dev/null || skip "setcap is not installed"
    build_c_program caps_hello "$HELLO_C"
    setcap cap_net_bind_service+ep "$T/caps_hello" 2>/dev/null || skip "setcap is not permitted here"
    run oa doctor "$T/caps_hello"
    if [[ $(id -u) == 0 ]]; then
        [[ $status -eq 0 ]] || fail_now "status $status: $output"
    else
        [[ $status -eq 1 ]] || fail_now "status $status: $output"
        [[ ${lines[0]} == *"cannot be traced: file capabilities"* ]] || fail_now "verdict: ${lines[0]}"
    fi
    [[ $output == *"file capabilities (security.capability)"*"secure-execution mode"* ]] || fail_now "$output"
}

@test "doctor: OpenSSL linked into the program itself: warns that its TLS is not seen" {
    build_c_program bundled_ssl '#include <stdio.h>
int SSL_write(void *ssl, const void *buf, int num) { (void)ssl; (void)buf; return num; }
int main(void) { printf("%d\n", SSL_write(NULL, "x", 1)); return 0; }'
    run oa doctor "$T/bundled_ssl"
    assert_ok
    [[ ${lines[0]} == *": can be traced" ]] || fail_now "verdict: ${lines[0]}"
    [[ $output == *"OpenSSL is linked statically or bundled"*"TLS traffic will not be seen"* ]] || fail_now "$output"

    # and an ordinary program gets no such warning
    build_c_program plain_hello "$HELLO_C"
    run oa doctor "$T/plain_hello"
    assert_ok
    [[ $output != *"bundled"* ]] || fail_now "$output"
}

@test "doctor: a script is judged by its interpreter; a text file is not an executable" {
    printf '#!/usr/bin/env sh\necho hi\n' >"$T/script.sh"
    chmod +x "$T/script.sh"
    run oa doctor "$T/script.sh"
    assert_ok
    [[ $output == *"script: its interpreter "*"/sh is examined instead"* ]] || fail_now "$output"
    printf 'just text\n' >"$T/text"
    run oa doctor "$T/text"
    [[ $status -eq 1 ]] || fail_now "status $status: $output"
    [[ ${lines[0]} == *"cannot be traced: not an ELF executable" ]] || fail_now "verdict: ${lines[0]}"
    run oa doctor "$T/no-such-file"
    [[ $status -eq 2 ]] || fail_now "status $status: $output"
}

# ---------------------------------------------------------------- doctor: processes

@test "doctor PID: a traced server shows the shim loaded and its counters after spans were exported" {
    start_receiver
    start_http_server server py-server "$T/www"
    local pid=$BG_PID
    curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/hello.txt"
    wait_spans 1 --service py-server --kind server
    # the receiver stores the span before it answers: the exported count
    # follows the answer
    local i
    for ((i = 0; i < 100; i++)); do
        run oa doctor "$pid"
        [[ $output == *"exported 0,"* ]] || break
        sleep 0.1
    done
    assert_ok
    [[ ${lines[0]} == "otelauto doctor: process $pid ("*"): traced: the shim is loaded"* ]] ||
        fail_now "verdict: ${lines[0]}"
    local counters
    counters=$(printf '%s\n' "$output" | grep -E '^  spans: submitted [0-9]+, exported [0-9]+, dropped [0-9]+, failed [0-9]+$') ||
        fail_now "no counters line: $output"
    local submitted exported
    submitted=$(sed -E 's/.*submitted ([0-9]+).*/\1/' <<<"$counters")
    exported=$(sed -E 's/.*exported ([0-9]+).*/\1/' <<<"$counters")
    ((submitted >= 1 && exported >= 1)) || fail_now "counters: $counters"
    [[ $output == *"LD_PRELOAD mentions otelauto"* ]] || fail_now "$output"
    [[ $output == *"OTEL_SERVICE_NAME=py-server"* ]] || fail_now "$output"
}

@test "doctor PID: an untraced process does not have the shim loaded" {
    start_bg sleeper sleep 600
    run oa doctor "$BG_PID"
    [[ $status -eq 1 ]] || fail_now "status $status: $output"
    [[ ${lines[0]} == "otelauto doctor: process $BG_PID ("*"sleep): not traced: the shim is not loaded"* ]] ||
        fail_now "verdict: ${lines[0]}"
    [[ $output != *"spans: submitted"* ]]
    run oa doctor 999999999
    [[ $status -eq 2 ]] || fail_now "status $status: $output"
}

# ---------------------------------------------------------------- tail

# start_tail [ARGS...]: `otelauto tail --port 0 ARGS` in the background;
# sets TAIL_PID and RECEIVER_PORT (so traced programs export to it).
start_tail() {
    oa_words
    start_bg tail "${OA_WORDS[@]}" tail --port 0 "$@"
    TAIL_PID=$BG_PID
    local i
    for ((i = 0; i < 200; i++)); do
        grep -q '^otelauto tail: listening on 127.0.0.1:[0-9]' "$T/tail.out" 2>/dev/null && break
        pid_alive "$TAIL_PID" || { show_bg_output tail; fail_now "tail exited"; return 1; }
        sleep 0.05
    done
    RECEIVER_PORT=$(sed -n 's/^otelauto tail: listening on 127.0.0.1:\([0-9][0-9]*\)$/\1/p' "$T/tail.out")
    [[ -n $RECEIVER_PORT ]] || { show_bg_output tail; fail_now "no port in tail's output"; }
}

# wait_tail_line PATTERN: until a line of tail's output matches (grep -E).
wait_tail_line() {
    local i
    for ((i = 0; i < 600; i++)); do
        grep -qE "$1" "$T/tail.out" && return 0
        sleep 0.05
    done
    show_bg_output tail
    fail_now "tail printed no line matching $1"
}

@test "tail: curl -> python http.server printed as one trace, the server span under the client span" {
    start_tail --wait 3000
    start_http_server server backend "$T/www"
    run traced curl-client curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/hello.txt"
    assert_ok
    wait_tail_line '^trace [0-9a-f]{32} \(2 spans, '
    local tree
    tree=$(grep -A2 -E '^trace [0-9a-f]{32} \(2 spans' "$T/tail.out")
    printf '%s\n' "$tree" >&2
    [[ $(sed -n 2p <<<"$tree") == "└─ curl-client  GET  CLIENT  "*"server.address=127.0.0.1 server.port=$HTTP_SERVER_PORT http.response.status_code=200" ]] ||
        fail_now "client line: $tree"
    [[ $(sed -n 3p <<<"$tree") == "   └─ backend  GET /hello.txt  SERVER  "*"http.response.status_code=200" ]] ||
        fail_now "server line: $tree"
    [[ $(grep -c '^trace ' "$T/tail.out") -eq 1 ]] || fail_now "$(cat "$T/tail.out")"
}

@test "tail: gzip-compressed exports are decoded" {
    start_tail --wait 1000
    start_http_server server "" "$T/www"
    EXTRA_ENV=(OTEL_EXPORTER_OTLP_COMPRESSION=gzip)
    run traced gz-client curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/hello.txt"
    assert_ok
    wait_tail_line '^└─ gz-client  GET  CLIENT  '
    grep -qE '^trace [0-9a-f]{32} \(1 span, ' "$T/tail.out" || fail_now "$(cat "$T/tail.out")"
}

@test "tail: malformed requests are answered 400/415/404 and tail keeps receiving" {
    start_tail --wait 500
    local base=http://127.0.0.1:$RECEIVER_PORT
    run curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-protobuf' \
        --data-binary 'this is not protobuf' "$base/v1/traces"
    [[ $output == 400 ]] || fail_now "garbage body: $output"
    run curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-protobuf' -H 'Content-Encoding: gzip' \
        --data-binary 'not gzip either' "$base/v1/traces"
    [[ $output == 400 ]] || fail_now "bad gzip: $output"
    run curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary '{}' "$base/v1/traces"
    [[ $output == 415 ]] || fail_now "json: $output"
    run curl -sS -o /dev/null -w '%{http_code}' "$base/"
    [[ $output == 404 ]] || fail_now "GET /: $output"
    run curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-protobuf' --data-binary '' "$base/v1/metrics"
    [[ $output == 200 ]] || fail_now "metrics: $output"
    # a request line that is not HTTP: 400, the connection closed
    run "$PY" -c "
import socket
s = socket.create_connection(('127.0.0.1', $RECEIVER_PORT))
s.sendall(b'NONSENSE\r\n\r\n')
print(s.recv(100).split(b'\r\n')[0].decode())"
    [[ $output == "HTTP/1.1 400 Bad Request" ]] || fail_now "nonsense: $output"
    pid_alive "$TAIL_PID" || fail_now "tail died"

    start_http_server server "" "$T/www"
    run traced after-garbage curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/hello.txt"
    assert_ok
    wait_tail_line '^└─ after-garbage  GET  CLIENT  '
}

@test "tail: SIGTERM prints the traces still pending and exits 0" {
    start_tail --wait 600000
    start_http_server server "" "$T/www"
    # the traced curl's exit waits for its export to be answered: once it
    # returns, tail holds the span
    run traced pending-client curl -sS -o /dev/null "http://127.0.0.1:$HTTP_SERVER_PORT/hello.txt"
    assert_ok
    ! grep -q '^trace ' "$T/tail.out" || fail_now "printed before its quiet time: $(cat "$T/tail.out")"
    kill -TERM "$TAIL_PID"
    local status=0
    wait "$TAIL_PID" || status=$?
    [[ $status -eq 0 ]] || fail_now "tail exited with $status"
    grep -qE '^└─ pending-client  GET  CLIENT  ' "$T/tail.out" || fail_now "$(cat "$T/tail.out")"
}

# ---------------------------------------------------------------- help

@test "version, help and usage errors" {
    run oa version
    assert_ok
    [[ $output == "otelauto 0.1.0" ]]
    run oa --help
    assert_ok
    [[ $output == *"run "*"doctor "*"tail "* ]]
    local cmd
    for cmd in run doctor tail; do
        run oa help "$cmd"
        assert_ok
        [[ ${lines[0]} == "usage: otelauto $cmd"* ]] || fail_now "help $cmd: ${lines[0]}"
        run oa "$cmd" --help
        assert_ok
        [[ ${lines[0]} == "usage: otelauto $cmd"* ]] || fail_now "$cmd --help: ${lines[0]}"
    done
    run --separate-stderr oa frobnicate
    [[ $status -eq 2 ]]
    [[ -z $output && $stderr == *"unknown command 'frobnicate'"*"usage: otelauto"* ]] || fail_now "stderr: $stderr"
}
