#!/usr/bin/env bash
# Runs libFuzzer targets build/fuzz/fuzz_NAME, each for a bounded time,
# starting from the seed corpus tests/fuzz/corpus/NAME (read only: inputs the
# fuzzer finds go to a temporary directory and are thrown away, so the
# repository's corpus changes only by hand). Prints a TAP line per target
# ("ok" when it ran its time without a finding) and exits 1 if any failed.
# A crashing input is kept in build/fuzz/findings/NAME/ for reproduction:
#   build/fuzz/fuzz_NAME build/fuzz/findings/NAME/crash-...
#
# Usage: scripts/run-fuzz.sh [--seconds N] NAME...
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

seconds=60
if [[ ${1:-} == --seconds ]]; then
    seconds=$2
    shift 2
fi
[[ $# -gt 0 ]] || set -- http1_parser traceparent tracestate baggage grpc_status propagators postgres redis mysql hpack h2_frames

failed=0 i=0
work=$(mktemp -d "${TMPDIR:-/tmp}/otelauto-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
for name in "$@"; do
    i=$((i + 1))
    bin=build/fuzz/fuzz_$name seeds=tests/fuzz/corpus/$name
    findings=build/fuzz/findings/$name
    if [[ ! -x $bin || ! -d $seeds ]]; then
        echo "not ok $i - fuzz $name: missing $bin or $seeds (make fuzz-bins)"
        failed=$((failed + 1))
        continue
    fi
    mkdir -p "$work/$name" "$findings"
    log=$work/$name.log
    # -max_total_time bounds the run; timeout(1) bounds a fuzzer that hangs
    # in a single input beyond its own -timeout.
    timeout -k 5 $((seconds + 60)) "$bin" "$work/$name" "$seeds" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1
    rc=$?
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    if ((rc == 0)); then
        echo "ok $i - fuzz $name: ${runs:-?} inputs in ${seconds}s, no finding"
    else
        echo "not ok $i - fuzz $name: exit status $rc; finding kept in $findings/"
        grep -E 'ERROR|SUMMARY|fuzz_[a-z0-9_]+: ' "$log" | head -20 | sed 's/^/#   /'
        failed=$((failed + 1))
    fi
done
echo "1..$i"
((failed == 0))
