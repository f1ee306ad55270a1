#!/usr/bin/env bash
# What one traced database query costs the program, in instructions, on the
# program's thread (callgrind's thread 1): the client runs under valgrind
# --tool=callgrind with N1 and N2 queries, with the pass-through preload and
# with the shim; (I(N2) - I(N1)) / (N2 - N1) is the per-query count, free of
# start-up costs. All threads are counted too (the exporter's building of
# the spans; OTEL_TRACES_EXPORTER=none keeps the network out of it). The
# servers run untraced, outside callgrind.
#
#   PostgreSQL: pgbench -n -S -M prepared -c 1 -j 1 -t N over TCP against a
#               postgres started as nobody (as tests/integration/db_helper.bash
#               does); one query per transaction (pgbench -S).
#   Redis:      redis-benchmark -P 16 -c 1 -t get -n N (16 GETs per write).
#
#   scripts/measure-db-cost.sh [N1 N2]     (OTELAUTO_DB_COST_ANNOTATE=1: also
#                                          the shim's top functions, callgrind_annotate)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n1=${1:-200}
n2=${2:-2200}
pg_bin=${OTELAUTO_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}
make -s -C "$root" build/libotelauto.so build/libpassthrough.so >/dev/null
for cmd in valgrind pgbench redis-server redis-benchmark setpriv; do
    command -v "$cmd" >/dev/null || { echo "measure-db-cost: $cmd is needed" >&2; exit 1; }
done
unset LD_PRELOAD
for v in $(compgen -e); do
    [[ $v != OTEL_* ]] || unset "$v"
done

work=$(mktemp -d /tmp/otelauto-dbcost.XXXXXX)
pg_pid= redis_pid=
cleanup() {
    [[ -z $pg_pid ]] || kill -INT "$pg_pid" 2>/dev/null || true
    [[ -z $redis_pid ]] || kill "$redis_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    [[ -n ${OTELAUTO_DB_COST_KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# postgres as nobody in a directory it owns (it refuses to run as root)
chmod o+x "$work"
mkdir "$work/pg"
chown nobody:nogroup "$work/pg"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
(cd "$work/pg" && as_nobody "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth=trust --no-sync >/dev/null 2>&1)
pg_port=$(free_port)
(cd "$work/pg" && exec setsid setpriv --reuid=nobody --regid=nogroup --clear-groups "$pg_bin/postgres" \
    -D "$work/pg/data" -p "$pg_port" -k "$work/pg" -h 127.0.0.1 -c fsync=off >"$work/pg/server.log" 2>&1 </dev/null) &
pg_pid=$!
for _ in $(seq 200); do
    "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -U postgres && break
    sleep 0.05
done
"$pg_bin/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$pg_port" -U postgres postgres >/dev/null 2>&1

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null 2>&1 &
redis_pid=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break
    sleep 0.05
done

client_cmd() { # client_cmd pg|redis N: the client's command line
    case $1 in
        pg) echo "$pg_bin/pgbench" -n -S -M prepared -c 1 -j 1 -t "$2" -h 127.0.0.1 -p "$pg_port" -U postgres postgres ;;
        redis) echo redis-benchmark -p "$redis_port" -c 1 -P 16 -t get -n "$2" -q ;;
    esac
}

# "main hooks" for N queries: the instructions of the client's main thread,
# and of those the ones inside the interposed calls (inclusive: the
# preloaded library and what it calls, the real calls included). The
# clients' own work depends on time a little (pgbench's and redis-benchmark's
# event loops, redis-benchmark's progress line): the hooks' count is the
# figure free of that. The callgrind files are kept for the annotation.
count() { # count PRELOAD pg|redis N
    local preload=$1 which=$2 n=$3 out=$work/cg.$2.$3.${1##*/}
    # shellcheck disable=SC2046
    OTEL_TRACES_EXPORTER=none LD_PRELOAD=$preload valgrind --tool=callgrind --separate-threads=yes \
        --trace-children=no --callgrind-out-file="$out" $(client_cmd "$which" "$n") >"$out.log" 2>&1
    local main hooks all
    main=$(sed -n 's/^summary: //p' "$out-01")
    all=$(cat "$out"-* | awk '/^summary:/ { s += $2 } END { print s }')
    hooks=$(callgrind_annotate --inclusive=yes --threshold=100 "$out-01" 2>/dev/null |
        awk -v hooks="$root/hooks/" -v pass="$root/tests/bench/passthrough.c:" '
            { f = $NF }
            (index(f, hooks) == 1 || index(f, pass) == 1) && f !~ /passthrough_init|bind_real_symbols/ {
                gsub(",", "", $1); s += $1 }
            END { print s + 0 }')
    echo "$main $hooks $all"
}

per_query() { # per_query PRELOAD pg|redis: "main hooks all" per query
    local a_main a_hooks a_all b_main b_hooks b_all
    read -r a_main a_hooks a_all <<<"$(count "$1" "$2" "$n1")"
    read -r b_main b_hooks b_all <<<"$(count "$1" "$2" "$n2")"
    echo "$(((b_main - a_main) / (n2 - n1))) $(((b_hooks - a_hooks) / (n2 - n1))) $(((b_all - a_all) / (n2 - n1)))"
}

echo "instructions per query on the client's thread, callgrind, N=$n1..$n2:"
for which in pg redis; do
    read -r pass pass_hooks pass_all <<<"$(per_query "$root/build/libpassthrough.so" "$which")"
    read -r shim shim_hooks shim_all <<<"$(per_query "$root/build/libotelauto.so" "$which")"
    case $which in
        pg) label="PostgreSQL (pgbench -S -M prepared, one SELECT per transaction)" ;;
        redis) label="Redis (redis-benchmark -P 16 -t get)" ;;
    esac
    echo "  $label:"
    echo "    inside the interposed calls: pass-through $pass_hooks, shim $shim_hooks   (tracing adds $((shim_hooks - pass_hooks)) per query)"
    echo "    the whole thread:            pass-through $pass, shim $shim   (+$((shim - pass)); the client's own loop varies with time)"
    echo "    all threads (the shim's exporter building the spans, OTEL_TRACES_EXPORTER=none): pass-through $pass_all, shim $shim_all   (+$((shim_all - pass_all)))"
    if [[ ${OTELAUTO_DB_COST_ANNOTATE:-0} == 1 ]]; then
        callgrind_annotate --threshold=99 "$work/cg.$which.$n2.libotelauto.so-01" 2>/dev/null |
            grep -E "libotelauto|otelauto|$root/(src|hooks)/" | head -40 | sed "s/^/      /" || true
    fi
done
