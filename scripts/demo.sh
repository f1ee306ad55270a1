#!/usr/bin/env bash
# make demo: three unmodified programs traced by LD_PRELOAD alone.
#
#   curl  --->  frontend (python, http.server + urllib)  --->  backend (python -m http.server)
#
# Each runs under build/libotelauto.so with its own OTEL_SERVICE_NAME and
# exports to a local test collector (tests/lib/otlp_receiver.py); nothing in
# them knows about tracing. The spans that arrive are printed as trace trees.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
lib=$root/build/libotelauto.so
[[ -f $lib ]] || { echo "demo: $lib is not built (make lib)" >&2; exit 1; }
if [[ -x /usr/bin/python3 ]]; then py=/usr/bin/python3; else py=$(command -v python3); fi

work=$(mktemp -d "${TMPDIR:-/tmp}/otelauto-demo.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

wait_for_file() {
    local i
    for ((i = 0; i < 200; i++)); do
        [[ -s $1 ]] && return 0
        sleep 0.05
    done
    echo "demo: $2 did not start" >&2
    return 1
}

wait_for_listener() {
    local i
    for ((i = 0; i < 200; i++)); do
        [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]] && return 0
        sleep 0.05
    done
    echo "demo: $2 did not start" >&2
    return 1
}

free_port() {
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The only thing that makes a program traced: its environment. (An array
# for env(1), so that a program started with & is the process we kill.)
traced_env() {
    TRACED=(env LD_PRELOAD="$lib" OTEL_SERVICE_NAME="$1"
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$collector_port" OTEL_BSP_SCHEDULE_DELAY=200)
}

echo "== starting a local OTLP collector (tests/lib/otlp_receiver.py)"
"$py" "$root/tests/lib/otlp_receiver.py" --port 0 --out "$work/spans.jsonl" --ready-file "$work/collector.port" \
    2>"$work/collector.err" &
pids+=($!)
wait_for_file "$work/collector.port" collector
collector_port=$(tr -dc 0-9 <"$work/collector.port")
echo "   collector on 127.0.0.1:$collector_port"

echo "== starting 'backend': python3 -m http.server, under the shim"
mkdir -p "$work/site"
printf 'hello from the backend\n' >"$work/site/hello.txt"
backend_port=$(free_port)
traced_env backend
"${TRACED[@]}" "$py" -m http.server --bind 127.0.0.1 --directory "$work/site" "$backend_port" \
    >"$work/backend.log" 2>&1 &
pids+=($!)
wait_for_listener "$backend_port" backend
echo "   backend on 127.0.0.1:$backend_port"

echo "== starting 'frontend': tests/programs/demo_frontend.py (calls the backend twice per request), under the shim"
traced_env frontend
"${TRACED[@]}" "$py" "$root/tests/programs/demo_frontend.py" --port 0 --ready-file "$work/frontend.port" \
    --backend "http://127.0.0.1:$backend_port" >"$work/frontend.log" 2>&1 &
pids+=($!)
wait_for_file "$work/frontend.port" frontend
frontend_port=$(tr -dc 0-9 <"$work/frontend.port")
echo "   frontend on 127.0.0.1:$frontend_port"

echo "== running curl (service 'curl') against the frontend, twice"
traced_env curl
for path in /checkout /cart; do
    echo "   \$ curl http://127.0.0.1:$frontend_port$path"
    echo "   $("${TRACED[@]}" curl -sS "http://127.0.0.1:$frontend_port$path")"
done

# Per request: curl CLIENT, frontend SERVER, 2 x (frontend CLIENT + backend SERVER).
expected=12
echo "== waiting for the $expected spans to reach the collector"
for ((i = 0; i < 100; i++)); do
    [[ -f $work/spans.jsonl && $(wc -l <"$work/spans.jsonl") -ge $expected ]] && break
    sleep 0.1
done
sleep 0.3

"$py" - "$work/spans.jsonl" "$expected" <<'PY'
import json, sys

path, expected = sys.argv[1], int(sys.argv[2])
spans = [json.loads(line) for line in open(path) if line.strip()]
kinds = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT"}

def describe(s):
    a = s.get("attributes", {})
    target = a.get("url.full") or a.get("url.path") or ""
    code = a.get("http.response.status_code", "")
    status = " ERROR" if s.get("status_code") == 2 else ""
    ms = (s.get("end", 0) - s.get("start", 0)) / 1e6
    return "%-9s %-6s %-4s %-40s %s%s  %.1f ms" % (
        s.get("service"), kinds.get(s.get("kind"), "?"), s.get("name"), target, code, status, ms)

by_trace = {}
for s in spans:
    by_trace.setdefault(s["trace_id"], []).append(s)

print()
print("Trace trees (%d spans in %d traces; indentation = parent/child, linked by traceparent):" % (
    len(spans), len(by_trace)))
for trace_id, members in sorted(by_trace.items(), key=lambda kv: min(s["start"] for s in kv[1])):
    ids = {s["span_id"] for s in members}
    children = {}
    roots = []
    for s in sorted(members, key=lambda s: s["start"]):
        if s.get("parent_span_id") and s["parent_span_id"] in ids:
            children.setdefault(s["parent_span_id"], []).append(s)
        else:
            roots.append(s)
    print()
    print("trace %s" % trace_id)

    def show(s, prefix, last):
        print(prefix + ("└─ " if last else "├─ ") + describe(s))
        kids = children.get(s["span_id"], [])
        for i, k in enumerate(kids):
            show(k, prefix + ("   " if last else "│  "), i == len(kids) - 1)

    for i, r in enumerate(roots):
        show(r, "", i == len(roots) - 1)

print()
print("What happened: curl's request carried a traceparent header that the shim added")
print("on the wire; the frontend's shim read it, so its SERVER span is curl's child;")
print("urllib's calls from the handling thread became CLIENT spans under it, and the")
print("backend continued the trace again. No program was changed or restarted with an")
print("SDK: only LD_PRELOAD and OTEL_* variables.")
if len(spans) < expected:
    print("\nnote: %d of the %d expected spans arrived" % (len(spans), expected))
    sys.exit(1)
PY
