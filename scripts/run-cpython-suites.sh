#!/usr/bin/env bash
# Runs CPython's own networking test modules (tests/cpython/suites.txt, from
# Debian's libpython3.11-testsuite) with /usr/bin/python3 under the shim, one
# TAP line per module ("ok" when regrtest reports success), then one line
# checking that the shim did trace them (spans reached the test receiver).
# Test cases in tests/cpython/exclusions.txt are left out (reasons there).
#
# Usage: scripts/run-cpython-suites.sh [--lib PATH] [--no-shim]
#   --lib PATH   the shim to preload (default build/libotelauto.so)
#   --no-shim    the same modules without the shim and without exclusions:
#                tells environmental failures from ours
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$PWD

lib=$root/build/libotelauto.so shim=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --lib) lib=$2; shift 2 ;;
        --no-shim) shim=0; shift ;;
        *) echo "usage: $0 [--lib PATH] [--no-shim]" >&2; exit 2 ;;
    esac
done

py=/usr/bin/python3
if [[ ! -d /usr/lib/python3.11/test ]] || ! "$py" -c 'import test.test_httplib' 2>/dev/null; then
    echo "not ok 1 - CPython test suite not installed (libpython3.11-testsuite)"
    echo "1..1"
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/otelauto-cpython.XXXXXX")
receiver_pid=
cleanup() {
    [[ -z $receiver_pid ]] || kill "$receiver_pid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

env_words=()
ignore=()
if ((shim)); then
    "$py" tests/lib/otlp_receiver.py --port 0 --out "$work/spans.jsonl" \
        --ready-file "$work/receiver.port" 2>"$work/receiver.err" &
    receiver_pid=$!
    for ((i = 0; i < 100; i++)); do
        [[ -s $work/receiver.port ]] && break
        sleep 0.05
    done
    port=$(tr -dc 0-9 <"$work/receiver.port" 2>/dev/null)
    env_words=("LD_PRELOAD=$lib" OTEL_SERVICE_NAME=cpython-tests
        "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${port:-9}" OTEL_BSP_SCHEDULE_DELAY=200)
    while read -r pattern; do
        [[ -z $pattern || $pattern == \#* ]] || ignore+=(-i "$pattern")
    done <tests/cpython/exclusions.txt
fi

i=0 failed=0
while read -r module extra; do
    [[ -z $module || $module == \#* ]] && continue
    i=$((i + 1))
    log=$work/$module.log
    # shellcheck disable=SC2086 # extra options are words on purpose
    (cd "$work" && timeout -k 10 600 env -u PYTHONPATH "${env_words[@]}" "$py" -m test -v \
        "${ignore[@]}" $extra "$module") >"$log" 2>&1
    rc=$?
    ran=$(grep -oE '^Ran [0-9]+ test' "$log" | awk '{ s += $2 } END { print s + 0 }')
    skipped=$(grep -cE '\.\.\. skipped' "$log")
    what="$module ($ran tests, $skipped skipped)"
    ((shim)) && what+=" under the shim" || what+=" without the shim"
    if ((rc == 0)) && grep -q 'Tests result: SUCCESS' "$log"; then
        echo "ok $i - $what"
    else
        echo "not ok $i - $what: regrtest exit status $rc"
        grep -E '^(FAIL|ERROR):|\.\.\. (FAIL|ERROR)|^Tests result' "$log" | head -20 | sed 's/^/#   /'
        failed=$((failed + 1))
    fi
done <tests/cpython/suites.txt

if ((shim)); then
    i=$((i + 1))
    # the exporter of the last module has flushed at exit; give the receiver a moment
    sleep 0.5
    spans=$(grep -c '"cpython-tests"' "$work/spans.jsonl" 2>/dev/null)
    if ((${spans:-0} > 0)); then
        echo "ok $i - the shim traced the suites: ${spans} spans exported"
    else
        echo "not ok $i - no span from the suites reached the receiver: was the shim loaded?"
        failed=$((failed + 1))
    fi
fi
echo "1..$i"
((failed == 0))
