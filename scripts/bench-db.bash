# Sourced by scripts/bench.sh: the database CLIENT rows. The servers run
# untraced on CPU 0; the client runs on CPU 1 with no preload ("none"), the
# pass-through preload ("pass") or the shim ("shim", exporting to the C
# decoding receiver), alternating as bench.sh's other rows do.
#
#   pgbench -n -S -M prepared -c 4 -j 2 -T SECS against a postgres started as
#   nobody (as tests/integration/db_helper.bash does), scale 1
#   redis-benchmark -P 16 -t set,get -n N -c 4 against an untraced redis-server
#
# bench_db ROUNDS QUICK: fills db_pg_tps[cfg] and db_redis_ops[cfg] (lists
# of per-round figures), db_pg_cpu[cfg] and db_redis_cpu[cfg] (the client's
# CPU time, user + system, all its threads, per query in us: steadier than
# throughput on a shared machine), and db_pg_cmd / db_redis_cmd.
# Needs bench.sh's run_as, order, free_port, wait_port, say and $work.

db_pg_bin=${OTELAUTO_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}

db_pg_start() { # db_pg_start DIR PORT: postgres as nobody on CPU 0, waits for it
    local dir=$1 port=$2
    mkdir -p "$dir"
    chmod o+x "$work"
    chown nobody:nogroup "$dir"
    (cd "$dir" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$db_pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync >"$dir/initdb.log" 2>&1)
    (cd "$dir" && exec setsid taskset -c 0 setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$db_pg_bin/postgres" -D "$dir/data" -p "$port" -k "$dir" -h 127.0.0.1 -c fsync=off \
        >"$dir/server.log" 2>&1 </dev/null) &
    db_pg_pid=$!
    pids+=("$db_pg_pid")
    for _ in $(seq 200); do
        "$db_pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && return 0
        sleep 0.05
    done
    echo "bench: postgres did not start" >&2
    return 1
}

# the client's CPU us per query from $work/db.time ("user system", s)
cpu_per() {
    awk -v n="$1" '{ printf "%.3f", (n > 0) ? ($1 + $2) * 1e6 / n : 0 }' "$work/db.time"
}

bench_db() {
    local rounds=$1 quick=$2 r cfg out
    local pg_secs=$((quick ? 2 : 4)) redis_n=$((quick ? 100000 : 400000))
    declare -gA db_pg_tps db_redis_ops db_pg_cpu db_redis_cpu
    local pg_port redis_port
    pg_port=$(free_port)
    db_pg_start "$work/pg" "$pg_port"
    "$db_pg_bin/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$pg_port" -U postgres postgres >/dev/null 2>&1
    # the pgbench binary itself (Debian's /usr/bin/pgbench is a Perl wrapper)
    db_pg_cmd=(taskset -c 1 "$db_pg_bin/pgbench" -n -S -M prepared -c 4 -j 2 -T "$pg_secs"
        -h 127.0.0.1 -p "$pg_port" -U postgres postgres)
    say "pgbench -S -M prepared (traced client), $rounds rounds"
    for ((r = 0; r < rounds; r++)); do
        for cfg in $(order "$r"); do
            out=$(run_as "$cfg" /usr/bin/time -f "%U %S" -o "$work/db.time" "${db_pg_cmd[@]}" 2>/dev/null)
            db_pg_tps[$cfg]+=" $(awk '/^tps/ { print $3 }' <<<"$out")"
            db_pg_cpu[$cfg]+=" $(cpu_per "$(awk '/actually processed/ { split($NF, a, "/"); print a[1] }' <<<"$out")")"
        done
    done
    kill -INT "$db_pg_pid" 2>/dev/null || true

    redis_port=$(free_port)
    taskset -c 0 redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$work" >/dev/null 2>&1 &
    local rp=$!
    pids+=("$rp")
    wait_port "$redis_port"
    db_redis_cmd=(taskset -c 1 redis-benchmark -p "$redis_port" -P 16 -t set,get -n "$redis_n" -c 4 -q)
    say "redis-benchmark -P 16 (traced client), $rounds rounds"
    for ((r = 0; r < rounds; r++)); do
        for cfg in $(order "$r"); do
            out=$(run_as "$cfg" /usr/bin/time -f "%U %S" -o "$work/db.time" "${db_redis_cmd[@]}" 2>/dev/null |
                tr '\r' '\n')
            db_redis_cpu[$cfg]+=" $(cpu_per $((2 * redis_n)))"
            db_redis_ops[$cfg]+=" $(awk '/^SET:/ { s = $2 } /^GET:/ { g = $2 } END { print (s + g) / 2 }' <<<"$out")"
        done
    done
    kill "$rp" 2>/dev/null || true
}

# db_rows: the report's rows (bench.sh's median, minmax, ratio_list)
db_rows() {
    local -a pg_none pg_pass rd_none rd_pass pg_cpu rd_cpu
    pg_none=($(ratio_list "${db_pg_tps[shim]}" "${db_pg_tps[none]}"))
    pg_pass=($(ratio_list "${db_pg_tps[shim]}" "${db_pg_tps[pass]}"))
    rd_none=($(ratio_list "${db_redis_ops[shim]}" "${db_redis_ops[none]}"))
    rd_pass=($(ratio_list "${db_redis_ops[shim]}" "${db_redis_ops[pass]}"))
    # CPU per query: pass / shim, so that >= 0.95 reads as throughput does
    pg_cpu=($(ratio_list "${db_pg_cpu[pass]}" "${db_pg_cpu[shim]}"))
    rd_cpu=($(ratio_list "${db_redis_cpu[pass]}" "${db_redis_cpu[shim]}"))
    echo "| 9 | pgbench -S -M prepared, traced client, shim / pass | >= 0.95 | **$(median "${pg_pass[@]}")** ($(minmax "${pg_pass[@]}")); shim / none $(median "${pg_none[@]}") ($(minmax "${pg_none[@]}")) | $(verdict "$(median "${pg_pass[@]}")" 0.95 ge 0.1 "${pg_pass[@]}") |"
    echo "| 9 | pgbench client CPU per query (user + system, all threads), us | | **shim $(median ${db_pg_cpu[shim]}), pass $(median ${db_pg_cpu[pass]}), none $(median ${db_pg_cpu[none]})**; pass / shim $(median "${pg_cpu[@]}") ($(minmax "${pg_cpu[@]}")) | |"
    echo "| 9 | redis-benchmark -P 16, traced client, shim / pass | >= 0.95 | **$(median "${rd_pass[@]}")** ($(minmax "${rd_pass[@]}")); shim / none $(median "${rd_none[@]}") ($(minmax "${rd_none[@]}")) | $(verdict "$(median "${rd_pass[@]}")" 0.95 ge 0.1 "${rd_pass[@]}") |"
    echo "| 9 | redis-benchmark client CPU per command (user + system, all threads), us | | **shim $(median ${db_redis_cpu[shim]}), pass $(median ${db_redis_cpu[pass]}), none $(median ${db_redis_cpu[none]})**; pass / shim $(median "${rd_cpu[@]}") ($(minmax "${rd_cpu[@]}")) | |"
}

db_raw_values() {
    echo "- pgbench -S -M prepared tps: none${db_pg_tps[none]}; pass${db_pg_tps[pass]}; shim${db_pg_tps[shim]}"
    echo "- redis-benchmark -P 16 ops/s (mean of SET and GET): none${db_redis_ops[none]}; pass${db_redis_ops[pass]}; shim${db_redis_ops[shim]}"
    echo "- client CPU us per query: pgbench none${db_pg_cpu[none]}; pass${db_pg_cpu[pass]}; shim${db_pg_cpu[shim]}; redis-benchmark none${db_redis_cpu[none]}; pass${db_redis_cpu[pass]}; shim${db_redis_cpu[shim]}"
}
