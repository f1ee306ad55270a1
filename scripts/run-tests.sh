#!/usr/bin/env bash
# Runs every test of the project against what `make test` built, and ends
# with one line "N passed, N failed[, N skipped]" summing all sections:
#   1. unit test binaries build/tests/test_* (TAP)
#   2. the same unit tests built with ASan+UBSan (build/asan/tests/test_*)
#   3. exported symbols and DT_NEEDED of the preloaded objects
#   4. the bats integration suite (tests/integration) with build/libotelauto.so
#   5. the same suite with build/asan/libotelauto.so (libasan preloaded first;
#      any sanitizer report fails the test that produced it)
#   6. unit-tsan: the queue and batch processor unit tests built with
#      ThreadSanitizer (build/tsan/tests/test_*)
#   7. fuzz: each libFuzzer target (build/fuzz) for OTELAUTO_FUZZ_SECONDS
#      (default 5) from its seed corpus (scripts/run-fuzz.sh)
#   8. cpython: CPython's own networking test modules under the shim
#      (scripts/run-cpython-suites.sh)
# A unit binary that crashes or exits non-zero without a "not ok" line
# counts as one failure. Exit status 1 if anything failed.
#
# Environment: OTELAUTO_TEST_SECTIONS (default "unit unit-asan exports
# integration integration-asan") selects sections; BATS_FILTER is passed to
# bats --filter; OTELAUTO_UNIT_DETECT_LEAKS=0 turns LeakSanitizer off for
# the ASan unit tests.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
root=$PWD
sections=${OTELAUTO_TEST_SECTIONS:-unit unit-asan unit-tsan fuzz exports integration integration-asan cpython}
logdir=$(mktemp -d "${TMPDIR:-/tmp}/otelauto-tests.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

total_pass=0 total_fail=0 total_skip=0 section_start=$SECONDS
summary=()

# tap_count FILE: sets P F S from the TAP lines in FILE.
tap_count() {
    P=$(grep -cE '^ok [0-9]+' "$1" | head -1)
    S=$(grep -ciE '^ok [0-9]+.*# *skip' "$1" | head -1)
    F=$(grep -cE '^not ok [0-9]+' "$1" | head -1)
    P=$((P - S))
}

record() { # SECTION PASS FAIL SKIP
    total_pass=$((total_pass + $2))
    total_fail=$((total_fail + $3))
    total_skip=$((total_skip + $4))
    local line="$1: $2 passed, $3 failed"
    (($4 > 0)) && line+=", $4 skipped"
    line+=" ($((SECONDS - section_start)) s)"
    summary+=("$line")
    echo "--- $line"
}

header() {
    section_start=$SECONDS
    echo
    echo "=== $1"
}

# run_unit_dir DIR SECTION [ENV...]
run_unit_dir() {
    local dir=$1 section=$2
    shift 2
    local p=0 f=0 s=0 bin out rc
    local bins=("$dir"/test_*)
    if [[ ! -e ${bins[0]} ]]; then
        echo "no unit test binaries in $dir (make unit-bins)"
        record "$section" 0 1 0
        return
    fi
    for bin in "${bins[@]}"; do
        [[ -x $bin && -f $bin ]] || continue
        out=$logdir/$(basename "$bin").$section.log
        echo "# $bin"
        env "$@" timeout 300 "$bin" >"$out" 2>&1
        rc=$?
        sed 's/^/    /' "$out"
        tap_count "$out"
        if ((rc != 0 && F == 0)); then
            echo "not ok - $bin exited with status $rc without reporting a failed check"
            F=1
        fi
        if ((P + F + S == 0)); then
            echo "not ok - $bin reported no test"
            F=1
        fi
        p=$((p + P)) f=$((f + F)) s=$((s + S))
    done
    record "$section" "$p" "$f" "$s"
}

# run_tap SECTION COMMAND...: a script printing TAP lines.
run_tap() {
    local section=$1 out=$logdir/$1.log rc
    shift
    "$@" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    tap_count "$out"
    if ((rc != 0 && F == 0)); then
        echo "not ok - $1 exited with status $rc without reporting a failed test"
        F=1
    fi
    ((P + F + S > 0)) || F=1
    record "$section" "$P" "$F" "$S"
}

# run_bats SECTION [ENV...]
run_bats() {
    local section=$1
    shift
    local out=$logdir/bats.$section.log rc
    if ! command -v bats >/dev/null; then
        echo "bats is not installed (scripts/install-deps.sh)"
        record "$section" 0 1 0
        return
    fi
    local args=(--tap --timing)
    [[ -n ${BATS_FILTER:-} ]] && args+=(--filter "$BATS_FILTER")
    # a stuck test must not hang the run: bats kills a test after this long
    env BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-180} "$@" timeout 1500 bats "${args[@]}" tests/integration 2>&1 |
        tee "$out"
    rc=${PIPESTATUS[0]}
    tap_count "$out"
    if ((rc != 0 && F == 0)); then
        echo "not ok - bats exited with status $rc without reporting a failed test"
        F=1
    fi
    record "$section" "$P" "$F" "$S"
}

for section in $sections; do
    case $section in
        unit)
            header "unit tests (build/tests)"
            run_unit_dir build/tests unit
            ;;
        unit-asan)
            header "unit tests under ASan+UBSan (build/asan/tests)"
            run_unit_dir build/asan/tests unit-asan \
                "ASAN_OPTIONS=detect_leaks=${OTELAUTO_UNIT_DETECT_LEAKS:-1}:abort_on_error=0" \
                "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"
            ;;
        unit-tsan)
            header "queue and exporter unit tests under ThreadSanitizer (build/tsan/tests)"
            # die_after_fork=0: the exporter tests fork on purpose while threads run
            run_unit_dir build/tsan/tests unit-tsan \
                "TSAN_OPTIONS=halt_on_error=1:die_after_fork=0:suppressions=$root/tests/unit/tsan.supp"
            ;;
        fuzz)
            header "fuzz targets, ${OTELAUTO_FUZZ_SECONDS:-5} s each (build/fuzz)"
            run_tap fuzz scripts/run-fuzz.sh --seconds "${OTELAUTO_FUZZ_SECONDS:-5}"
            ;;
        cpython)
            header "CPython's networking test suites under the shim"
            run_tap cpython scripts/run-cpython-suites.sh --lib "$root/build/libotelauto.so"
            ;;
        exports)
            header "exported symbols and the layers rule"
            p=0 f=0
            for check in "build/libotelauto.so --exact" "build/libpassthrough.so --exact"; do
                # shellcheck disable=SC2086 # two words on purpose
                if scripts/check-exports.sh $check; then
                    echo "ok - check-exports $check"
                    p=$((p + 1))
                else
                    echo "not ok - check-exports $check"
                    f=$((f + 1))
                fi
            done
            # the layers rule, on the objects of the preloaded library
            if make -s check-layers; then
                echo "ok - check-layers"
                p=$((p + 1))
            else
                echo "not ok - check-layers"
                f=$((f + 1))
            fi
            record exports "$p" "$f" 0
            ;;
        integration)
            header "integration tests (build/libotelauto.so)"
            run_bats integration OTELAUTO_TEST_LIB="$root/build/libotelauto.so" OTELAUTO_TEST_PRELOAD_PREFIX=
            ;;
        integration-asan)
            header "integration tests under ASan+UBSan (build/asan/libotelauto.so)"
            if [[ ! -f build/asan/libotelauto.so ]]; then
                echo "build/asan/libotelauto.so is not built (make BUILD=build/asan SAN=1 OPT=-O1 lib)"
                record integration-asan 0 1 0
                continue
            fi
            run_bats integration-asan OTELAUTO_TEST_LIB="$root/build/asan/libotelauto.so" \
                OTELAUTO_TEST_PRELOAD_PREFIX="$(gcc -print-file-name=libasan.so)"
            ;;
        *)
            echo "run-tests: unknown section $section" >&2
            record "$section" 0 1 0
            ;;
    esac
done

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
line="$total_pass passed, $total_fail failed"
((total_skip > 0)) && line+=", $total_skip skipped"
echo "$line"
((total_fail == 0 && total_pass > 0))
