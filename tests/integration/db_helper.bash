# Database servers for tests/integration/6x-*.bats (load after test_helper).
#
# PostgreSQL refuses to run as root, and the tests run as root: the server
# runs as "nobody" (setpriv, no supplementary groups) in a directory it owns
# under the test's temporary directory, whose root-only ancestors are made
# traversable for it. It listens on 127.0.0.1 only (a free port) and on a
# Unix socket in its own directory; trust authentication, user postgres.
#
#   pg_init DIR          initdb into DIR (created, owned by nobody)
#   pg_start DIR [ssl]   the server on a free port, with TLS (a self-signed
#                        certificate made with openssl) when "ssl" is given;
#                        sets PG_PORT and PG_PID, waits until it answers
#   pg_stop              a fast shutdown of the server pg_start started
#   pg_psql ARGS...      untraced psql as postgres to it (no TLS)

PG_BIN=${OTELAUTO_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}

as_nobody() {
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# The directories above DIR that nobody could not traverse (bats' own
# temporary directory is root's, mode 700) get o+x: search, not listing.
pg_open_path() {
    local d=$1
    while [[ $d != / && -n $d ]]; do
        d=$(dirname "$d")
        [[ $(stat -c %u "$d") == 0 ]] || continue
        [[ $(( 8#$(stat -c %a "$d") & 1 )) == 1 ]] || chmod o+x "$d"
    done
}

pg_init() {
    local dir=$1
    [[ -x $PG_BIN/initdb ]] || fail_now "PostgreSQL is not installed ($PG_BIN/initdb)" || return 1
    mkdir -p "$dir"
    chown nobody:nogroup "$dir"
    pg_open_path "$dir"
    (cd "$dir" && as_nobody "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync \
        >"$dir/initdb.log" 2>&1) || { cat "$dir/initdb.log" >&2; return 1; }
}

pg_start() {
    local dir=$1 tls=${2:-}
    PG_DIR=$dir
    PG_PORT=$(free_port)
    if [[ $tls == ssl ]]; then
        openssl req -new -x509 -days 2 -nodes -subj /CN=127.0.0.1 \
            -keyout "$dir/data/server.key" -out "$dir/data/server.crt" >/dev/null 2>&1 || return 1
        chown nobody:nogroup "$dir/data/server.key" "$dir/data/server.crt"
        chmod 600 "$dir/data/server.key"
        echo "ssl = on" >>"$dir/data/postgresql.conf"
    fi
    # the server keeps none of bats' descriptors (bats waits for them to close)
    (cd "$dir" || exit 1
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            ((fd > 2)) && eval "exec $fd>&-"
        done
        setsid setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$PG_BIN/postgres" -D "$dir/data" -p "$PG_PORT" -k "$dir" -h 127.0.0.1 -c fsync=off \
        >"$dir/server.log" 2>&1 </dev/null &
        echo $! >"$dir/server.pid")
    PG_PID=$(<"$dir/server.pid")
    local i
    for ((i = 0; i < 200; i++)); do
        "$PG_BIN/pg_isready" -q -h "$dir" -p "$PG_PORT" -U postgres && return 0
        pid_alive "$PG_PID" || break
        sleep 0.05
    done
    echo "postgres did not start:" >&2
    tail -20 "$dir/server.log" >&2
    return 1
}

pg_stop() {
    [[ -n ${PG_PID:-} ]] || PG_PID=$(cat "${PG_DIR:-/nonexistent}/server.pid" 2>/dev/null)
    [[ -n ${PG_PID:-} ]] || return 0
    kill -INT "$PG_PID" 2>/dev/null || return 0
    local i
    for ((i = 0; i < 100; i++)); do
        pid_alive "$PG_PID" || return 0
        sleep 0.05
    done
    kill -KILL "$PG_PID" 2>/dev/null || true
}

pg_psql() {
    psql "host=$PG_DIR port=$PG_PORT user=postgres dbname=postgres" -X -q -v ON_ERROR_STOP=1 "$@"
}

# psql and pgbench load GnuTLS (through libldap) at start-up, which hangs
# before main with libasan preloaded, shim or not (as Debian's curl does, see
# test_helper.bash). Under a sanitizer build their tests are skipped;
# psycopg2, which loads libpq later, still runs.
skip_unless_libpq_tools_start() {
    [[ -n $SHIM_PREFIX ]] || return 0
    timeout 5 env LD_PRELOAD="$SHIM_PREFIX" ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0 \
        psql -V >/dev/null 2>&1 && return 0
    skip "psql cannot start with $SHIM_PREFIX preloaded (GnuTLS hangs before main)"
}
