# A MariaDB server of the test file's own (tests/integration/6x-mariadb*.bats),
# on top of test_helper.bash:
#   load test_helper
#   load mysql_helper
#   setup_file()    { start_mariadb; }
#   teardown_file() { stop_mariadb; }
#
# The server runs untraced as root (tests run as root here: mariadbd wants
# --user=root for that) from a data directory made by mariadb-install-db, on
# a free port of 127.0.0.1, with TLS (a self-signed certificate). It has a
# database `shop` and a user `app` who logs in with a password over TCP.

MARIADB_USER=app
MARIADB_PASSWORD=app-pw-not-in-spans
MARIADB_DB=shop

# start_mariadb: sets and exports MARIADB_DIR, MARIADB_PORT, MARIADB_PID.
start_mariadb() {
    command -v mariadbd >/dev/null || PATH=$PATH:/usr/sbin
    command -v mariadbd >/dev/null || skip "mariadb-server is not installed"
    MARIADB_DIR=$BATS_FILE_TMPDIR/mariadb
    mkdir -p "$MARIADB_DIR"
    mariadb-install-db --no-defaults --datadir="$MARIADB_DIR/data" --user=root \
        --auth-root-authentication-method=normal --skip-test-db >"$MARIADB_DIR/install.log" 2>&1 || {
        tail -n 20 "$MARIADB_DIR/install.log" >&2
        return 1
    }
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=127.0.0.1" \
        -keyout "$MARIADB_DIR/server.key" -out "$MARIADB_DIR/server.crt" 2>/dev/null || return 1
    MARIADB_PORT=$(free_port)
    setsid mariadbd --no-defaults --datadir="$MARIADB_DIR/data" --socket="$MARIADB_DIR/sock" \
        --pid-file="$MARIADB_DIR/pid" --port="$MARIADB_PORT" --bind-address=127.0.0.1 --user=root \
        --skip-log-bin --skip-name-resolve --innodb-buffer-pool-size=16M \
        --ssl-cert="$MARIADB_DIR/server.crt" --ssl-key="$MARIADB_DIR/server.key" \
        >"$MARIADB_DIR/server.log" 2>&1 </dev/null &
    MARIADB_PID=$!
    local i
    for ((i = 0; i < 300; i++)); do
        mariadb --no-defaults -S "$MARIADB_DIR/sock" -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
        kill -0 "$MARIADB_PID" 2>/dev/null || break
        sleep 0.1
    done
    mariadb --no-defaults -S "$MARIADB_DIR/sock" -uroot -e "
        CREATE DATABASE $MARIADB_DB;
        CREATE USER '$MARIADB_USER'@'127.0.0.1' IDENTIFIED BY '$MARIADB_PASSWORD';
        GRANT ALL ON $MARIADB_DB.* TO '$MARIADB_USER'@'127.0.0.1';" || {
        tail -n 20 "$MARIADB_DIR/server.log" >&2
        return 1
    }
    export MARIADB_DIR MARIADB_PORT MARIADB_PID
}

stop_mariadb() {
    [[ -n ${MARIADB_PID:-} ]] || return 0
    kill -TERM "$MARIADB_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$MARIADB_PID" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$MARIADB_PID" 2>/dev/null || true
}

# The words of the mariadb command-line client logging in as the test user
# over TCP (append options and -e 'SQL').
mariadb_client_words() {
    MARIADB_CLIENT=(mariadb --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" --protocol=TCP
        -u "$MARIADB_USER" "-p$MARIADB_PASSWORD")
}

# mariadb_root SQL: as root over the socket, untraced (test set-up).
mariadb_root() {
    mariadb --no-defaults -S "$MARIADB_DIR/sock" -uroot "$MARIADB_DB" -e "$1"
}
