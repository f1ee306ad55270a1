#!/usr/bin/env bats
# Installation: `make install` lays out exactly the documented files under
# DESTDIR/PREFIX and `make uninstall` takes them all away again; `make deb`
# builds a Debian package whose Depends were worked out from the ELF files;
# installed with dpkg (as root), the otelauto command traces a real curl
# with the packaged shim, doctor reads a traced process's counters from the
# packaged shim's symbol table, and dpkg -r / -P leave nothing behind.
#
# make runs on the build folder of the shim under test (build/ or
# build/asan/), with that build's flags, so that it finds everything
# `make test` built there and compiles nothing it does not have to.

load test_helper

setup() {
    common_setup
    TEST_BUILD=$(dirname "$SHIM_LIB")
    # the Makefile's own spelling (relative) when the shim is in the tree
    [[ $TEST_BUILD != "$REPO_ROOT"/* ]] || TEST_BUILD=${TEST_BUILD#"$REPO_ROOT"/}
    MAKE_VARS=("BUILD=$TEST_BUILD")
    [[ $SANITIZED == 0 ]] || MAKE_VARS+=(SAN=1 OPT=-O1)
}

teardown() {
    # a failed run must not leave the package on the machine; only one this
    # test installed is removed
    if [[ -f $T/dpkg-installed ]] && dpkg -s otelauto >/dev/null 2>&1; then
        dpkg_retry -P otelauto >/dev/null 2>&1 || echo "teardown: could not purge otelauto" >&2
    fi
    common_teardown
}

# make in the repository, not the jobserver of a `make test` this runs under
# (its file descriptors are not open here).
repo_make() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$REPO_ROOT" \
        "${MAKE_VARS[@]}" "$@"
}

# dpkg, waited for while apt or another dpkg holds its lock.
dpkg_retry() {
    local i out rc
    for ((i = 0; i < 60; i++)); do
        out=$(dpkg "$@" 2>&1) && rc=0 || rc=$?
        if ((rc != 0)) && grep -q 'lock' <<<"$out"; then
            sleep 1
            continue
        fi
        printf '%s\n' "$out"
        return "$rc"
    done
    printf '%s\n' "$out"
    return 1
}

# What install must put under DESTDIR, relative to it, for PREFIX $1.
expected_files() {
    local p=${1#/} f
    {
        printf '%s\n' "$p/bin/otelauto" \
            "$p/lib/otelauto/libotelauto.so" "$p/lib/otelauto/libotelauto-otlp.so" \
            "$p/lib/otelauto/hints/node/otelauto-hint.js" "$p/lib/otelauto/hints/python/sitecustomize.py" \
            "$p/share/man/man1/otelauto.1.gz" "$p/share/man/man7/otelauto.7.gz" \
            "$p/share/doc/otelauto/README.md"
        # the Java agent, built where there is a JDK
        if command -v javac >/dev/null 2>&1 && command -v jar >/dev/null 2>&1; then
            echo "$p/lib/otelauto/hints/java/otelauto-hint.jar"
        fi
        if [[ -d $REPO_ROOT/docs/recipes ]]; then
            (cd "$REPO_ROOT/docs" && find recipes -type f) | while read -r f; do
                echo "$p/share/doc/otelauto/$f"
            done
        fi
    } | LC_ALL=C sort
}

files_under() {
    (cd "$1" && find . -type f -printf '%P\n') | LC_ALL=C sort
}

# make deb; sets DEB_FILE to the package it built.
build_deb() {
    local version arch
    version=$(sed -n 's/^#define OA_VERSION "\(.*\)"$/\1/p' "$REPO_ROOT/src/base/common.h")
    arch=$(dpkg --print-architecture)
    DEB_FILE=$REPO_ROOT/$TEST_BUILD/otelauto_${version}_${arch}.deb
    [[ $TEST_BUILD != /* ]] || DEB_FILE=$TEST_BUILD/otelauto_${version}_${arch}.deb
    rm -f "$DEB_FILE"
    # the staging folder in the test's own directory, gone with it
    run repo_make deb "DEB_ROOT=$T/deb-root"
    assert_ok
    [[ -f $DEB_FILE ]] || fail_now "make deb did not make $DEB_FILE"
}

@test "make install DESTDIR PREFIX=/usr: exactly the documented files, modes, man pages; make uninstall removes them all" {
    local root=$T/root
    run repo_make install DESTDIR="$root" PREFIX=/usr
    assert_ok

    diff <(expected_files /usr) <(files_under "$root")
    [[ $(stat -c %a "$root/usr/bin/otelauto") == 755 ]]
    local f
    for f in libotelauto.so libotelauto-otlp.so; do
        [[ $(stat -c %a "$root/usr/lib/otelauto/$f") == 644 ]]
        cmp "$root/usr/lib/otelauto/$f" "$REPO_ROOT/$TEST_BUILD/$f"
    done
    [[ $(stat -c %a "$root/usr/share/man/man7/otelauto.7.gz") == 644 ]]

    # gzip -n: no name or time stamp in the header (same bytes on every build)
    zcat "$root/usr/share/man/man1/otelauto.1.gz" | grep -q '^\.TH OTELAUTO 1'
    zcat "$root/usr/share/man/man7/otelauto.7.gz" | grep -q '^\.TH OTELAUTO 7'
    [[ $(od -An -tu4 -j4 -N4 "$root/usr/share/man/man7/otelauto.7.gz" | tr -d ' ') == 0 ]]
    if command -v man >/dev/null; then
        run env MANWIDTH=80 man -l "$root/usr/share/man/man7/otelauto.7.gz"
        assert_ok
        [[ $output == *OTEL_EXPORTER_OTLP_ENDPOINT* && $output == *"SEE ALSO"* ]]
        run env MANWIDTH=80 man -l "$root/usr/share/man/man1/otelauto.1.gz"
        assert_ok
        [[ $output == *otelauto* ]]
    fi

    run repo_make uninstall DESTDIR="$root" PREFIX=/usr
    assert_ok
    [[ -z $(files_under "$root") ]] || {
        echo "left after uninstall:" >&2
        files_under "$root" >&2
        return 1
    }
    # the private folders go; shared ones (bin, man1) are not ours to remove
    [[ ! -e $root/usr/lib/otelauto && ! -e $root/usr/share/doc/otelauto ]]
}

@test "make install: PREFIX defaults to /usr/local" {
    local root=$T/root
    run repo_make install DESTDIR="$root"
    assert_ok
    diff <(expected_files /usr/local) <(files_under "$root")
    run repo_make uninstall DESTDIR="$root"
    assert_ok
    [[ -z $(files_under "$root") ]]
}

@test "make deb: control fields, Depends from the libraries linked, contents, the shim keeps its symbol table" {
    build_deb
    run dpkg-deb -f "$DEB_FILE" Package Version Architecture Section Priority Maintainer Installed-Size
    assert_ok
    [[ $output == *"Package: otelauto"* && $output == *"Section: utils"* &&
        $output == *"Priority: optional"* && $output == *"Architecture: $(dpkg --print-architecture)"* ]]
    [[ $output =~ Installed-Size:\ [1-9][0-9]* ]]

    run dpkg-deb -f "$DEB_FILE" Depends
    assert_ok
    echo "Depends: $output" >&2
    local pkg
    for pkg in libc6 libcurl4 libprotobuf-c1 zlib1g; do
        [[ ", $output," =~ ,\ $pkg\ \(\>=\ [^\)]+\), ]] || fail_now "Depends lacks $pkg (>= ...)"
    done
    # each bound is the version installed here, up to the Debian revision
    local v
    v=$(dpkg-query -W -f='${Version}' "libcurl4:$(dpkg --print-architecture)")
    [[ $output == *"libcurl4 (>= ${v%-*})"* ]]

    run dpkg-deb -c "$DEB_FILE"
    assert_ok
    local listed
    listed=$(awk '$1 ~ /^-/ { sub(/^\.\//, "", $NF); print $NF }' <<<"$output" | LC_ALL=C sort)
    diff <({ expected_files /usr; echo usr/share/doc/otelauto/copyright; } | LC_ALL=C sort) <(echo "$listed")

    # otelauto doctor reads oa_export_counters_live from the .symtab of the
    # shim a process mapped: the package strips debug information only
    dpkg-deb -x "$DEB_FILE" "$T/x"
    readelf -SW "$T/x/usr/lib/otelauto/libotelauto.so" | grep -q '\.symtab'
    readelf -sW "$T/x/usr/lib/otelauto/libotelauto.so" | grep -qw oa_export_counters_live
    if readelf -SW "$T/x/usr/lib/otelauto/libotelauto.so" | grep -q '\.debug_info'; then
        fail_now "the packaged shim still has its debug information"
    fi
}

@test "dpkg -i: otelauto run traces curl with the installed shim, doctor refuses a static program; dpkg -r/-P remove every file" {
    [[ $(id -u) == 0 ]] || skip "installing a package needs root"
    skip_if_sanitized "the package is built from the plain build; the ASan shim is not installed"
    command -v dpkg >/dev/null || skip "not a Debian system"
    if dpkg -s otelauto >/dev/null 2>&1; then
        skip "an otelauto package is already installed here; the test does not replace it"
    fi
    build_deb
    start_receiver
    mkdir -p "$T/www"
    printf 'hello\n' >"$T/www/hello.txt"
    start_http_server server "" "$T/www"

    touch "$T/dpkg-installed"
    run dpkg_retry -i "$DEB_FILE"
    assert_ok
    local files
    files=$(dpkg -L otelauto | while read -r f; do [[ -f $f ]] && echo "$f"; done)
    [[ $files == *"/usr/bin/otelauto"* && $files == *"/usr/lib/otelauto/libotelauto.so"* ]]
    [[ -x /usr/bin/otelauto ]]
    # the installed command preloads the installed shim, not one of the tree
    run /usr/bin/otelauto run --service pkgtest -- cat /proc/self/maps
    assert_ok
    [[ $output == *" /usr/lib/otelauto/libotelauto.so"* && $output != *"$REPO_ROOT"* ]]

    run env OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$RECEIVER_PORT" OTEL_BSP_SCHEDULE_DELAY=100 \
        timeout 60 /usr/bin/otelauto run --service pkgtest -- curl -s "http://127.0.0.1:$HTTP_SERVER_PORT/hello.txt"
    assert_ok
    [[ $output == hello ]]
    wait_spans 1 --service pkgtest --kind client
    check_spans "
c = one(service='pkgtest', kind='client')
expect_eq(attr(c, 'url.full'), 'http://127.0.0.1:$HTTP_SERVER_PORT/hello.txt', 'url.full')
expect_eq(attr(c, 'http.response.status_code'), 200, 'status code')
"

    # doctor PID reads the span counters from the .symtab of the mapped
    # shim: the packaged (debug-stripped) one must still have it
    local port
    port=$(free_port)
    start_bg traced-server env OTEL_TRACES_EXPORTER=none \
        /usr/bin/otelauto run --service pkgtest-server -- "$PY" -m http.server --bind 127.0.0.1 \
        --directory "$T/www" "$port"
    local server_pid=$BG_PID
    wait_port "$port" 10 "$server_pid" traced-server
    curl -sf -o /dev/null "http://127.0.0.1:$port/hello.txt"
    local pid
    pid=$(pgrep -f -n "http.server --bind 127.0.0.1 --directory $T/www $port")
    run /usr/bin/otelauto doctor "$pid"
    echo "$output" >&2
    assert_ok
    [[ $output == *"/usr/lib/otelauto/libotelauto.so"* && $output == *"submitted 1"* ]]
    stop_bg "$server_pid"

    printf 'int main(void) { return 0; }\n' >"$T/hello.c"
    gcc -static -o "$T/hello-static" "$T/hello.c" || skip "no static C library to link a static program"
    run /usr/bin/otelauto doctor "$T/hello-static"
    echo "$output" >&2
    [[ $status == 1 ]]
    [[ $output == *"statically linked"* ]]

    run dpkg_retry -r otelauto
    assert_ok
    local f left=()
    for f in $files; do
        [[ ! -e $f ]] || left+=("$f")
    done
    [[ ${#left[@]} == 0 ]] || fail_now "left after dpkg -r: ${left[*]}"
    [[ ! -e /usr/lib/otelauto && ! -e /usr/share/doc/otelauto ]]
    run dpkg_retry -P otelauto
    assert_ok
    rm -f "$T/dpkg-installed"
    run dpkg -s otelauto
    [[ $status != 0 ]]
}
