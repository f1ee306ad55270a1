# Metrics queries for tests/integration/4x-metrics-*.bats (load after
# test_helper). tests/lib/otlp_receiver.py writes one JSON line per metric
# data point it accepted on /v1/metrics to $SPANS.metrics.
#
#   check_metrics 'PYTHON'   assertions over the data points received:
#     points                 every point (list of dicts)
#     msel(name, **attrs)    points of a metric whose attributes match
#                            (dots in attribute names written as __)
#     latest(name, **attrs)  one point per process and attribute set: the
#                            last exported (cumulative points hold the totals)
#     series(name)           the distinct (process, attribute set) pairs
#     expect, expect_eq      as in check_spans
#   wait_metric NAME COUNT [KEY=VALUE...]  until the latest cumulative points
#                            of NAME with those attributes count COUNT
#   prometheus_value TEXT SERIES   the value of one series in a scrape

METRICS_PRELUDE=$(
    cat <<'PY'
import json, os, sys
METRICS_FILE = sys.argv[1]
points = []
if os.path.exists(METRICS_FILE):
    with open(METRICS_FILE) as _f:
        for _line in _f:
            if _line.strip():
                points.append(json.loads(_line))
_failures = []
SEMCONV_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]

def _key(p):
    return json.dumps([p.get("resource"), p.get("attributes")], sort_keys=True)

def msel(name, **attrs):
    want = {k.replace("__", "."): v for k, v in attrs.items()}
    return [p for p in points if p.get("name") == name
            and all(p["attributes"].get(k) == v for k, v in want.items())]

def latest(name, **attrs):
    by_set = {}
    for p in msel(name, **attrs):
        k = _key(p)
        if k not in by_set or p["time"] >= by_set[k]["time"]:
            by_set[k] = p
    return list(by_set.values())

def series(name):
    return sorted({_key(p) for p in msel(name)})

def expect(cond, message):
    if not cond:
        _failures.append(message)
    return bool(cond)

def expect_eq(actual, expected, what):
    ok = actual == expected and type(actual) == type(expected)
    return expect(ok, "%s: expected %r (%s), got %r (%s)" % (
        what, expected, type(expected).__name__, actual, type(actual).__name__))

def _finish():
    if _failures:
        for m in _failures:
            print("FAIL: " + m, file=sys.stderr)
        print("metric points received (%d), last 40:" % len(points), file=sys.stderr)
        for p in points[-40:]:
            print("  %s %s count=%s value=%s t=%s attrs=%s" % (p.get("service"), p.get("name"), p.get("count"),
                  p.get("value"), p.get("temporality"), json.dumps(p.get("attributes"), sort_keys=True)), file=sys.stderr)
        sys.exit(1)
PY
)


check_metrics() {
    "$PY" -c "$METRICS_PRELUDE
$1
_finish()" "$SPANS.metrics"
}

# wait_metric NAME COUNT [--timeout SEC] [KEY=VALUE...]: the latest points of
# NAME matching the attributes count (histograms) or sum to (sums) COUNT.
wait_metric() {
    local name=$1 count=$2 timeout=10
    shift 2
    if [[ ${1:-} == --timeout ]]; then
        timeout=$2
        shift 2
    fi
    "$PY" - "$SPANS.metrics" "$name" "$count" "$timeout" "$@" <<'PY'
import json, os, sys, time
path, name, count, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
want = dict(a.split("=", 1) for a in sys.argv[5:])
def total():
    by_set = {}
    if os.path.exists(path):
        for line in open(path):
            try:
                p = json.loads(line)
            except ValueError:
                continue
            if p.get("name") != name:
                continue
            if any(str(p["attributes"].get(k)) != v for k, v in want.items()):
                continue
            k = json.dumps([p.get("resource"), p["attributes"]], sort_keys=True)
            if k not in by_set or p["time"] >= by_set[k]["time"]:
                by_set[k] = p
    return sum((p.get("count") if p.get("type") == "histogram" else p.get("value")) or 0
               for p in by_set.values())
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    if total() >= count:
        sys.exit(0)
    time.sleep(0.1)
print("timed out after %ss: %s %r totals %d, wanted %d" % (timeout, name, want, total(), count), file=sys.stderr)
sys.exit(1)
PY
}

# prometheus_value TEXT 'name{labels}': prints the value of that exact series.
prometheus_value() {
    printf '%s\n' "$1" | awk -v s="$2" 'index($0, s " ") == 1 { print substr($0, length(s) + 2); found = 1 } END { exit !found }'
}

# http_requests PORT PATH... : one untraced curl per path (status ignored).
http_requests() {
    local port=$1 path
    shift
    for path in "$@"; do
        curl -s -o /dev/null "http://127.0.0.1:$port$path"
    done
}
