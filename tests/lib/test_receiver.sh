#!/usr/bin/env bash
# Self-test of the test OTLP receiver, and through it of the OTLP exporter.
#
# The request fixture is encoded by our C encoder (build/tests/test_otlp_encoder
# --write) and decoded by the receiver's own wire-format reader: two codecs
# written separately from the OTLP field numbers must agree on every field.
# The exporter is then driven against the receiver's fault modes
# (test_otlp_encoder --send). TAP output; exit status 1 if anything failed.
#
# Usage: tests/lib/test_receiver.sh   (BUILD=build/asan to use another build)
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
DRIVER=$BUILD/tests/test_otlp_encoder
RECEIVER=$ROOT/tests/lib/otlp_receiver.py
SPANS=$ROOT/tests/lib/spans.py

if [ ! -x "$DRIVER" ]; then
    echo "Bail out! $DRIVER missing: make $DRIVER"
    exit 1
fi

WORK=$(mktemp -d /tmp/otlp-receiver-test.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    [ "${failed:-0}" -eq 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$WORK"
}
trap cleanup EXIT

n=0
failed=0
check() { # check NAME COMMAND...
    local name=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        failed=$((failed + 1))
    fi
}
eq() { # eq ACTUAL EXPECTED
    [ "$1" = "$2" ] && return 0
    echo "#   got:      '$1'" >&2
    echo "#   expected: '$2'" >&2
    return 1
}

# start_receiver NAME [receiver options]: sets PORT and URL, records the pid
start_receiver() {
    local name=$1
    shift
    rm -f "$WORK/$name.port"
    python3 "$RECEIVER" --port 0 --out "$WORK/$name.jsonl" --ready-file "$WORK/$name.port" "$@" \
        2>>"$WORK/$name.stderr" &
    PIDS+=($!)
    local i
    for i in $(seq 50); do
        [ -s "$WORK/$name.port" ] && break
        sleep 0.1
    done
    PORT=$(cat "$WORK/$name.port")
    URL=http://127.0.0.1:$PORT/v1/traces
}

post() { # post URL FILE [curl args]: prints the HTTP status
    local url=$1 file=$2
    shift 2
    curl -s -o "$WORK/body" -w '%{http_code}' --max-time 5 -H 'Content-Type: application/x-protobuf' \
        --data-binary @"$file" "$@" "$url"
}

field() { # field NAME FILTERS... FIELD
    local name=$1
    shift
    python3 "$SPANS" "$WORK/$name.jsonl" get "$@"
}

"$DRIVER" --write "$WORK/fixture.bin" || { echo "Bail out! cannot write the fixture"; exit 1; }
gzip -c "$WORK/fixture.bin" >"$WORK/fixture.bin.gz"

# ---- decoding: C encoder -> Python decoder ----
start_receiver plain
check "POST protobuf: 200" eq "$(post "$URL" "$WORK/fixture.bin")" 200
check "ok answer is an empty body" eq "$(wc -c <"$WORK/body")" 0
check "three spans written" eq "$(python3 "$SPANS" "$WORK/plain.jsonl" count)" 3
check "service from resource service.name" eq "$(python3 "$SPANS" "$WORK/plain.jsonl" count --service checkout)" 3
check "resource string" eq "$(field plain --root resource.deployment.environment)" staging
check "resource int" eq "$(field plain --root resource.process.pid)" 4242
check "resource bool" eq "$(field plain --root resource.test.resource.bool)" true
check "resource double" eq "$(field plain --root resource.test.resource.double)" -1.5
check "scope" eq "$(field plain --root scope)/$(field plain --root scope_version)" otelauto/0.1.0
check "trace_id" eq "$(field plain --name 'GET /users/:id' trace_id)" 0102030405060708090a0b0c0d0e0f10
check "span_id" eq "$(field plain --name 'GET /users/:id' span_id)" a1a2a3a4a5a6a7a8
check "root: empty parent_span_id" eq "$(field plain --name 'GET /users/:id' parent_span_id)" ""
check "trace_state" eq "$(field plain --name 'GET /users/:id' trace_state)" vendor=abc,other=x
check "kind server" eq "$(field plain --name 'GET /users/:id' kind)" 2
check "start" eq "$(field plain --name 'GET /users/:id' start)" 1700000000123456789
check "end" eq "$(field plain --name 'GET /users/:id' end)" 1700000000128456789
check "status" eq "$(field plain --name 'GET /users/:id' status_code)/$(field plain --name 'GET /users/:id' status_message)" 2/boom
check "root flags" eq "$(field plain --name 'GET /users/:id' flags)" 1
check "dropped attributes" eq "$(field plain --name 'GET /users/:id' dropped_attributes)" 3
check "string attribute" eq "$(field plain --kind server --name 'GET /users/:id' attributes.http.request.method)" GET
check "int attribute" eq "$(field plain --name 'GET /users/:id' attributes.http.response.status_code)" 500
check "negative int attribute" eq "$(field plain --name 'GET /users/:id' attributes.test.negative)" -1234567890123
check "bool attribute" eq "$(field plain --name 'GET /users/:id' attributes.test.flag)" true
check "double attribute" eq "$(field plain --name 'GET /users/:id' attributes.test.ratio)" 0.25
check "U+FFFD for invalid UTF-8" eq "$(field plain --name 'GET /users/:id' attributes.url.path)" "/caf�"
check "JSON types: int, bool, float, str" eq "$(python3 -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])][0]["attributes"]
print(type(s["http.response.status_code"]).__name__, type(s["test.flag"]).__name__,
      type(s["test.ratio"]).__name__, type(s["http.request.method"]).__name__)' "$WORK/plain.jsonl")" "int bool float str"
check "child: parent is the root" eq "$(field plain --kind client parent_span_id)" a1a2a3a4a5a6a7a8
check "child: local parent flags 0x103" eq "$(field plain --kind client flags)" 259
check "child: string cut at its length" eq "$(field plain --kind client attributes.server.address)" fgh
check "remote parent flags 0x300" eq "$(field plain --name 'POST /orders' flags)" 768
check "remote parent span id" eq "$(field plain --name 'POST /orders' parent_span_id)" d1d2d3d4d5d6d7d8
check "--attr filter" eq "$(python3 "$SPANS" "$WORK/plain.jsonl" count --attr http.response.status_code=500)" 1
check "--root filter" eq "$(python3 "$SPANS" "$WORK/plain.jsonl" count --root)" 1
check "missing field fails" eval "! python3 '$SPANS' '$WORK/plain.jsonl' get --kind client attributes.nope 2>/dev/null"
check "no match fails" eval "! python3 '$SPANS' '$WORK/plain.jsonl' get --service nobody name 2>/dev/null"
check "wait succeeds at once" eq "$(python3 "$SPANS" "$WORK/plain.jsonl" wait --count 3 --timeout 1)" 3
check "wait times out with exit 1" eval "python3 '$SPANS' '$WORK/plain.jsonl' wait --count 4 --timeout 0.3 2>/dev/null; [ \$? = 1 ]"
check "tree shows the parent/child nesting" eval "python3 '$SPANS' '$WORK/plain.jsonl' tree | grep -q '^    CLIENT checkout'"
check "request recorded" eq "$(python3 "$SPANS" "$WORK/plain.jsonl" requests get spans)" 3
check "request content type" eq "$(python3 "$SPANS" "$WORK/plain.jsonl" requests get content_type)" application/x-protobuf

check "gzip POST: 200" eq "$(post "$URL" "$WORK/fixture.bin.gz" -H 'Content-Encoding: gzip')" 200
check "gzip: spans decoded" eq "$(python3 "$SPANS" "$WORK/plain.jsonl" count)" 6
check "gzip: recorded" eq "$(python3 "$SPANS" "$WORK/plain.jsonl" requests get --index -1 content_encoding)" gzip
check "garbage: 400" eq "$(printf '\x0a\xff\xff' | post "$URL" -)" 400
check "garbage: no span written" eq "$(python3 "$SPANS" "$WORK/plain.jsonl" count)" 6
check "unknown path: 404" eq "$(post "http://127.0.0.1:$PORT/v1/nope" "$WORK/fixture.bin")" 404

# ---- fault modes, with curl ----
start_receiver r503 --mode 503 --fail-count 1
check "503 mode: first answer 503" eq "$(post "$URL" "$WORK/fixture.bin" -D "$WORK/headers")" 503
check "503 mode: Retry-After: 1" eval "grep -qi '^Retry-After: 1' '$WORK/headers'"
check "503 mode: no spans kept" eq "$(python3 "$SPANS" "$WORK/r503.jsonl" count)" 0
check "503 mode: then 200" eq "$(post "$URL" "$WORK/fixture.bin")" 200
check "503 mode: spans kept" eq "$(python3 "$SPANS" "$WORK/r503.jsonl" count)" 3

# ---- the exporter against the receiver ----
send() { "$DRIVER" --send "$@" 2>>"$WORK/driver.stderr"; }

start_receiver exp
out=$(send "$URL" --gzip --header 'X-Api-Key: secret value' --header 'X-Tenant: t1')
check "exporter: ok" eq "${out%% *}" result=ok
check "exporter: gzip on the wire" eq "$(python3 "$SPANS" "$WORK/exp.jsonl" requests get content_encoding)" gzip
check "exporter: content type" eq "$(python3 "$SPANS" "$WORK/exp.jsonl" requests get content_type)" application/x-protobuf
check "exporter: configured header" eq "$(python3 "$SPANS" "$WORK/exp.jsonl" requests get headers.x-api-key)" "secret value"
check "exporter: second header" eq "$(python3 "$SPANS" "$WORK/exp.jsonl" requests get headers.x-tenant)" t1
check "exporter: user agent" eval "python3 '$SPANS' '$WORK/exp.jsonl' requests get headers.user-agent | grep -q '^OTel-OTLP-Exporter-otelauto/'"
check "exporter: no Expect header" eval "! python3 '$SPANS' '$WORK/exp.jsonl' requests get headers.expect 2>/dev/null"
check "exporter: spans decoded" eq "$(python3 "$SPANS" "$WORK/exp.jsonl" count --service checkout)" 3
check "exporter: child fields" eq "$(field exp --kind client parent_span_id) $(field exp --kind client flags)" "a1a2a3a4a5a6a7a8 259"
out=$(send "$URL" --repeat 3)
check "exporter: three sends ok" eq "$(echo "$out" | grep -c result=ok)" 3
check "exporter: uncompressed" eq "$(python3 "$SPANS" "$WORK/exp.jsonl" requests get --index -1 content_encoding)" ""
check "exporter: keep-alive, one connection for three requests" eq \
    "$(python3 "$SPANS" "$WORK/exp.jsonl" requests get --all client_port | tail -3 | sort -u | wc -l)" 1

start_receiver e503 --mode 503 --fail-count 1 --retry-after 7
out=$(send "$URL" --repeat 2)
check "exporter 503: retryable with Retry-After 7 s" eq "$(echo "$out" | sed -n 1p | cut -d' ' -f1-2)" "result=retryable retry_after_ms=7000"
check "exporter 503: then ok" eq "$(echo "$out" | sed -n 2p | cut -d' ' -f1)" result=ok

date_in_30s=$(date -u -d '+30 sec' '+%a, %d %b %Y %H:%M:%S GMT')
start_receiver e429 --mode 429 --fail-count 1 --retry-after "$date_in_30s"
out=$(send "$URL")
ms=$(echo "$out" | sed -n 's/.*retry_after_ms=\([-0-9]*\).*/\1/p')
check "exporter 429: retryable" eq "${out%% *}" result=retryable
check "exporter 429: HTTP-date Retry-After ~30 s ($ms ms)" eval "[ '$ms' -ge 27000 ] && [ '$ms' -le 31000 ]"

start_receiver e429n --mode 429 --fail-count 1 --retry-after none
out=$(send "$URL")
check "exporter 429 without Retry-After: -1" eq "$(echo "$out" | cut -d' ' -f1-2)" "result=retryable retry_after_ms=-1"

start_receiver e500 --mode 500
check "exporter 500: failed, not retried" eq "$(send "$URL" | cut -d' ' -f1)" result=failed
check "exporter 404: failed" eq "$(send "http://127.0.0.1:$PORT/v1/nope" | cut -d' ' -f1)" result=failed

start_receiver epartial --mode partial
check "exporter partial success: ok" eq "$(send "$URL" | cut -d' ' -f1)" result=ok
check "exporter partial success: warned" eval "grep -q 'rejected 1 span' '$WORK/driver.stderr'"

start_receiver eclose --mode close
check "exporter, connection closed without answer: retryable" eq "$(send "$URL" | cut -d' ' -f1)" result=retryable

echo hang >"$WORK/mode"
start_receiver ehang --mode-file "$WORK/mode"
out=$(send "$URL" --timeout-ms 500)
elapsed=$(echo "$out" | sed -n 's/.*elapsed_ms=\([0-9]*\).*/\1/p')
check "exporter vs hung collector: retryable" eq "${out%% *}" result=retryable
check "exporter vs hung collector: bounded by the timeout ($elapsed ms)" eval "[ '$elapsed' -ge 400 ] && [ '$elapsed' -lt 3000 ]"
curl -s -o /dev/null --max-time 10 --data-binary @"$WORK/fixture.bin" -H 'Content-Type: application/x-protobuf' "$URL" &
hung_curl=$!
python3 "$SPANS" "$WORK/ehang.jsonl" requests wait --count 2 --timeout 5 >/dev/null
echo ok >"$WORK/mode"
out=$(send "$URL" --timeout-ms 2000)
check "a hung connection does not block others; mode file switches to ok" eq "${out%% *}" result=ok
check "hung connection is still open" eval "kill -0 $hung_curl 2>/dev/null"
kill "$hung_curl" 2>/dev/null
wait "$hung_curl" 2>/dev/null

start_receiver gone
kill "${PIDS[-1]}"
wait "${PIDS[-1]}" 2>/dev/null
out=$(send "$URL" --timeout-ms 2000)
check "exporter, connection refused: retryable" eq "${out%% *}" result=retryable

check "exporter: invalid URL scheme fails" eq "$(send "ftp://127.0.0.1:$PORT/v1/traces" | cut -d' ' -f1)" result=failed

echo "1..$n"
if [ "$failed" -ne 0 ]; then
    echo "# $failed failed; outputs kept in $WORK" >&2
    exit 1
fi
exit 0
