# Sourced by scripts/bench.sh: the headline rows, CPU time per request
# traced / untraced (issue 19). For each case: untraced ("none") and under
# the shim ("shim", exporting every span to the C decoding receiver)
# alternate run by run, the order rotated every round; during each load run
# the traced process's CPU time (user + system of all its threads, the
# shim's exporter and metrics threads included; the receiver is another
# process and is not counted) is divided by the requests the load saw
# answered. A figure is the median of the per-round ratios shim / none, with
# their min..max; the throughput ratio is a secondary row.
#
# A case is one of two kinds. A server case NAME (nginx, node, python, h2:
# the server is traced, the load generator is not) defines
#   cpu_start_NAME CFG PORT  starts the server under run_as CFG in the
#                            background, its pid in cpu_pid (the process
#                            whose CPU is counted, from /proc/PID/stat)
#   cpu_load_NAME PORT SECS  runs the load for SECS seconds; prints
#                            "SERVED REQ_PER_S"
# A client case NAME (pg, redis: the database client is the traced
# program, the server runs untraced) defines
#   cpu_setup_NAME           starts the server once (false: not measured)
#   cpu_client_NAME CFG SECS runs the client under run_as CFG; prints
#                            "CPU_SECONDS SERVED REQ_PER_S"
# and each sets cpu_label[NAME] (the row's name and its load) and
# cpu_target[NAME]; cpu_cfgs[NAME] lists its configurations when there are
# more than none and shim (node: "sdk", the official OpenTelemetry JS SDK
# instead of the shim, the peer row). A case whose tool is missing is
# skipped and reported as such.
#
# bench_cpu ROUNDS QUICK: fills cpu_us[NAME.CFG] (per-round us per request)
# and cpu_rps[NAME.CFG]. cpu_rows prints the table rows, cpu_raw_values the
# raw lists. Needs bench.sh's run_as, free_port, wait_port, say, div,
# ratio_list, median, minmax, $work, $root and $build.

source "$root/scripts/bench-nginx.bash"

source "$root/scripts/bench-h2.bash"
source "$root/scripts/bench-db.bash"

cpu_cases=(nginx node python h2 pg redis)
declare -A cpu_label=(
    [nginx]="nginx (one worker, 612-byte file), wrk -t1 -c16"
    [node]="node hello-world (http.createServer), wrk -t1 -c16"
    [python]="python ThreadingHTTPServer hello-world, wrk -t1 -c16"
    [h2]="nginx http2 (h2c, one worker, 612-byte file), h2load -c 4 -m 16"
    [pg]="pgbench -S -M prepared -c 4 -j 2 (the traced client; postgres untraced)"
    [redis]="redis-benchmark -P 16 -c 4 set,get (the traced client; redis-server untraced)"
)
declare -A cpu_target=([nginx]=1.05 [node]=1.05 [python]=1.05 [h2]=1.10 [pg]=1.10 [redis]=1.10)
declare -A cpu_cfgs=([node]="none shim sdk")
declare -A cpu_us cpu_rps cpu_skipped
cpu_pid=

cpu_wrk() { # cpu_wrk PORT SECS PATH: "SERVED REQ_PER_S" of one wrk run
    wrk -t1 -c16 -d"${2}s" "http://127.0.0.1:$1$3" |
        awk '/requests in/ { n = $1 } /^Requests\/sec/ { r = $2 } END { print n + 0, r + 0 }'
}

cpu_start_nginx() {
    write_bench_nginx "$work/cpu-nginx" "$2"
    run_as "$1" nginx -p "$work/cpu-nginx" -c "$work/cpu-nginx/nginx.conf" -e "$work/cpu-nginx/error.log" &
    cpu_pid=$!
}
cpu_load_nginx() { cpu_wrk "$1" "$2" /index.html; }

cpu_start_node() {
    command -v node >/dev/null || return 1
    run_as "$1" node "$root/tests/bench/hello_server.js" "$2" &
    cpu_pid=$!
}
cpu_load_node() { cpu_wrk "$1" "$2" /; }

cpu_start_python() {
    # the Debian interpreter itself (a pyenv shim would be a shell script)
    run_as "$1" /usr/bin/python3 "$root/tests/bench/hello_server.py" "$2" &
    cpu_pid=$!
}
cpu_load_python() { cpu_wrk "$1" "$2" /; }

# the official OpenTelemetry JS SDK, the node row's peer: installed from npm
# (pinned versions) into the build folder once, then reused
cpu_sdk_dir=$build/bench/otel-js
cpu_sdk_packages=(@opentelemetry/sdk-node@0.223.0 @opentelemetry/exporter-trace-otlp-proto@0.223.1
    @opentelemetry/instrumentation-http@0.223.0 @opentelemetry/sdk-trace-base@2.12.0)
cpu_sdk_install() {
    [[ -d $cpu_sdk_dir/node_modules/@opentelemetry/sdk-node ]] && return 0
    command -v npm >/dev/null || return 1
    say "installing the OpenTelemetry JS SDK from npm into $cpu_sdk_dir (the node peer row)"
    mkdir -p "$cpu_sdk_dir"
    npm install --prefix "$cpu_sdk_dir" --no-audit --no-fund --silent "${cpu_sdk_packages[@]}" >/dev/null 2>&1
}

cpu_start_h2() {
    command -v h2load >/dev/null || return 1
    local dir=$work/cpu-h2
    h2_nginx_conf "$dir" "$2" "$(free_port)" || return 1
    run_as "$1" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
    cpu_pid=$!
}
cpu_load_h2() {
    local out
    out=$(h2load -c 4 -m 16 -t 1 -D "$2" "http://127.0.0.1:$1/index.html" 2>&1) || true
    echo "$(h2_field "requests:" 8 <<<"$out") $(h2_field "finished in" 4 <<<"$out")"
}

cpu_setup_pg() {
    [[ -x $db_pg_bin/postgres && -x $db_pg_bin/pgbench ]] || return 1
    cpu_pg_port=$(free_port)
    db_pg_start "$work/cpu-pg" "$cpu_pg_port" || return 1
    "$db_pg_bin/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$cpu_pg_port" -U postgres postgres >/dev/null 2>&1
}
cpu_client_pg() {
    local out
    out=$(run_as "$1" /usr/bin/time -f "%U %S" -o "$work/cpu-db.time" "$db_pg_bin/pgbench" -n -S -M prepared \
        -c 4 -j 2 -T "$2" -h 127.0.0.1 -p "$cpu_pg_port" -U postgres postgres 2>/dev/null)
    echo "$(awk '{ print $1 + $2 }' "$work/cpu-db.time") $(awk '/actually processed/ { split($NF, a, "/"); print a[1] }' <<<"$out") $(awk '/^tps/ { print $3 }' <<<"$out")"
}
cpu_teardown_pg() { kill -INT "$db_pg_pid" 2>/dev/null || true; }

cpu_setup_redis() {
    command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || return 1
    cpu_redis_port=$(free_port)
    redis-server --port "$cpu_redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null 2>&1 &
    cpu_redis_pid=$!
    pids+=("$cpu_redis_pid")
    wait_port "$cpu_redis_port"
}
cpu_client_redis() {
    # a count, not a duration: ~60k commands a second each of SET and GET
    local n=$((60000 * $2)) out
    out=$(run_as "$1" /usr/bin/time -f "%U %S" -o "$work/cpu-db.time" redis-benchmark -p "$cpu_redis_port" \
        -P 16 -t set,get -n "$n" -c 4 -q 2>/dev/null | tr '\r' '\n')
    echo "$(awk '{ print $1 + $2 }' "$work/cpu-db.time") $((2 * n)) $(awk '/^SET:/ { s = $2 } /^GET:/ { g = $2 } END { print (s + g) / 2 }' <<<"$out")"
}
cpu_teardown_redis() { kill "$cpu_redis_pid" 2>/dev/null || true; }

# the configurations of round r of case NAME, rotated every round
cpu_order() {
    local -a c=(${cpu_cfgs[$1]:-none shim})
    local i n=${#c[@]}
    for ((i = 0; i < n; i++)); do printf '%s ' "${c[$(((i + $2) % n))]}"; done
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# one run of server case NAME under CFG: "US_PER_REQUEST REQ_PER_S", or
# false when the server did not start
cpu_server_run() {
    local name=$1 cfg=$2 port t0 t1 served rps tck
    tck=$(getconf CLK_TCK)
    port=$(free_port)
    cpu_pid=
    if ! "cpu_start_$name" "$cfg" "$port" || ! wait_port "$port"; then
        [[ -z $cpu_pid ]] || { kill "$cpu_pid" 2>/dev/null; wait "$cpu_pid" 2>/dev/null; }
        return 1
    fi
    pids+=("$cpu_pid")
    # one short warm-up run: the exporter's connection, node's JIT
    "cpu_load_$name" "$port" 1 >/dev/null
    t0=$(cpu_ticks "$cpu_pid")
    read -r served rps < <("cpu_load_$name" "$port" "$cpu_secs")
    t1=$(cpu_ticks "$cpu_pid")
    kill "$cpu_pid" 2>/dev/null || true
    wait "$cpu_pid" 2>/dev/null || true
    awk -v t="$((t1 - t0))" -v k="$tck" -v n="$served" -v r="$rps" \
        'BEGIN { printf "%.2f %s\n", n ? t * 1e6 / k / n : 0, r }'
}

# one run of client case NAME under CFG: "US_PER_REQUEST REQ_PER_S"
cpu_client_run() {
    local secs served rps
    read -r secs served rps < <("cpu_client_$1" "$2" "$cpu_secs")
    [[ -n $served && $served != 0 ]] || return 1
    awk -v s="$secs" -v n="$served" -v r="$rps" 'BEGIN { printf "%.3f %s\n", s * 1e6 / n, r }'
}

bench_cpu() {
    local rounds=$1 quick=$2 r cfg name us rps kind
    cpu_secs=$((quick ? 2 : 3))
    for name in "${cpu_cases[@]}"; do
        kind=server
        declare -F "cpu_client_$name" >/dev/null && kind=client
        if [[ $kind == client ]] && ! "cpu_setup_$name"; then
            cpu_skipped[$name]=1
            continue
        fi
        if [[ ${cpu_cfgs[$name]:-} == *sdk* ]] && ! cpu_sdk_install; then
            cpu_skipped[$name.sdk]=1
            cpu_cfgs[$name]=${cpu_cfgs[$name]/sdk/}
        fi
        say "CPU per request: $name, $rounds rounds"
        for ((r = 0; r < rounds; r++)); do
            for cfg in $(cpu_order "$name" "$r"); do
                if ! read -r us rps < <("cpu_${kind}_run" "$name" "$cfg") || [[ -z $us ]]; then
                    cpu_skipped[$name]=1
                    break 2
                fi
                cpu_us[$name.$cfg]+=" $us"
                cpu_rps[$name.$cfg]+=" $rps"
            done
        done
        [[ $kind == server ]] || "cpu_teardown_$name"
    done
}

cpu_rows() {
    local name ratios tput m t
    for name in "${cpu_cases[@]}"; do
        if [[ -n ${cpu_skipped[$name]:-} ]]; then
            echo "| 0 | ${cpu_label[$name]}: CPU per request | | not measured (its server or tool did not start) | |"
            continue
        fi
        t=${cpu_target[$name]}
        ratios=($(ratio_list "${cpu_us[$name.shim]}" "${cpu_us[$name.none]}"))
        tput=($(ratio_list "${cpu_rps[$name.shim]}" "${cpu_rps[$name.none]}"))
        m=$(median "${ratios[@]}")
        echo "| 0 | **${cpu_label[$name]}: CPU per request, shim / none** (process CPU, all threads, receiver excluded) | <= $t | **$m** ($(minmax "${ratios[@]}")); none $(median ${cpu_us[$name.none]}) us, shim $(median ${cpu_us[$name.shim]}) us | $(verdict "$m" "$t" le 0.1 "${ratios[@]}") |"
        echo "| 0t | the same, throughput shim / none | | $(median "${tput[@]}") ($(minmax "${tput[@]}")) | |"
        if [[ -n ${cpu_us[$name.sdk]:-} ]]; then
            ratios=($(ratio_list "${cpu_us[$name.sdk]}" "${cpu_us[$name.none]}"))
            tput=($(ratio_list "${cpu_rps[$name.sdk]}" "${cpu_rps[$name.none]}"))
            echo "| 0p | peer: the same node server with the OpenTelemetry JS SDK instead of the shim (NodeSDK, HTTP instrumentation, batch processor, OTLP/HTTP protobuf to the same receiver), sdk / none | | **$(median "${ratios[@]}")** ($(minmax "${ratios[@]}")); sdk $(median ${cpu_us[$name.sdk]}) us; throughput sdk / none $(median "${tput[@]}") | |"
        elif [[ -n ${cpu_skipped[$name.sdk]:-} ]]; then
            echo "| 0p | peer: the OpenTelemetry JS SDK | | not measured (npm could not install it) | |"
        fi
    done
}

cpu_raw_values() {
    local name cfg line
    for name in "${cpu_cases[@]}"; do
        [[ -z ${cpu_skipped[$name]:-} ]] || continue
        line="- CPU us per request, $name:"
        for cfg in ${cpu_cfgs[$name]:-none shim}; do line+=" $cfg${cpu_us[$name.$cfg]};"; done
        line+=" requests/s:"
        for cfg in ${cpu_cfgs[$name]:-none shim}; do line+=" $cfg${cpu_rps[$name.$cfg]};"; done
        echo "${line%;}"
    done
}
