# Runs once before the integration suite: checks that everything the tests
# need is there, and stops the suite with one clear message if not (rather
# than letting every test fail on its own).

setup_suite() {
    local root missing=()
    root=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    local lib=${OTELAUTO_TEST_LIB:-$root/build/libotelauto.so}
    local programs=${OTELAUTO_TEST_PROGRAMS:-$root/build/programs}
    [[ -f $lib ]] || missing+=("the shim $lib (make lib)")
    local p
    for p in binary_stream slow_writer_client nonblocking_client spawn_bench curl_multi tls_write_client; do
        [[ -x $programs/$p ]] || missing+=("test program $programs/$p (make programs)")
    done
    for p in tests/lib/otlp_receiver.py tests/programs/http_backend.py tests/programs/recording_server.py; do
        [[ -f $root/$p ]] || missing+=("$p")
    done
    for p in curl nginx openssl ss setsid readelf gcc; do
        command -v "$p" >/dev/null || missing+=("the command $p (scripts/install-deps.sh)")
    done
    command -v python3 >/dev/null || [[ -x /usr/bin/python3 ]] || missing+=("python3")
    if [[ ${#missing[@]} -gt 0 ]]; then
        echo "integration suite cannot run; missing:" >&2
        printf '  %s\n' "${missing[@]}" >&2
        return 1
    fi
}
