# Sourced by scripts/bench.sh: the headline rows, CPU time per request
# traced / untraced (issue 19). For each server: untraced ("none") and under
# the shim ("shim", exporting every span to the C decoding receiver)
# alternate run by run, the order swapped every round; during each load run
# the server's process CPU time (fields 14 and 15 of /proc/PID/stat: user +
# system of all its threads, the shim's exporter and metrics threads
# included; the receiver is another process and is not counted) is divided
# by the requests the load generator saw answered. A figure is the median of
# the per-round ratios shim / none, with their min..max; the throughput
# ratio is a secondary row.
#
# A server is a case: cpu_cases lists them in table order, and for each
# case NAME three functions (and a label):
#   cpu_start_NAME CFG PORT  starts the server under run_as CFG in the
#                            background, its pid in cpu_pid (the process
#                            whose CPU is counted), and waits for PORT
#   cpu_load_NAME PORT SECS  runs the load for SECS seconds; prints
#                            "SERVED REQ_PER_S"
#   cpu_label[NAME]          the row's name and its load, for the table
# The HTTP/2, PostgreSQL and Redis rows are added the same way: define the
# functions and label, append NAME to cpu_cases (a case whose tool is
# missing is skipped and reported as such).
#
# bench_cpu ROUNDS QUICK: fills cpu_us[NAME.CFG] (per-round us per request)
# and cpu_rps[NAME.CFG]. cpu_rows prints the table rows, cpu_raw_values the
# raw lists. Needs bench.sh's run_as, free_port, wait_port, say, div,
# ratio_list, median, minmax, $work, $root and $build.

source "$root/scripts/bench-nginx.bash"

cpu_cases=(nginx node python)
declare -A cpu_label=(
    [nginx]="nginx (one worker, 612-byte file), wrk -t1 -c16"
    [node]="node hello-world (http.createServer), wrk -t1 -c16"
    [python]="python ThreadingHTTPServer hello-world, wrk -t1 -c16"
)
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

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

bench_cpu() {
    local rounds=$1 quick=$2 r cfg name port t0 t1 served rps
    cpu_secs=$((quick ? 2 : 3))
    local tck
    tck=$(getconf CLK_TCK)
    for name in "${cpu_cases[@]}"; do
        say "CPU per request: $name, $rounds rounds"
        for ((r = 0; r < rounds; r++)); do
            for cfg in $( ((r % 2)) && echo shim none || echo none shim); do
                port=$(free_port)
                if ! "cpu_start_$name" "$cfg" "$port" || ! wait_port "$port"; then
                    cpu_skipped[$name]=1
                    [[ -z $cpu_pid ]] || { kill "$cpu_pid" 2>/dev/null; wait "$cpu_pid" 2>/dev/null; }
                    continue 3
                fi
                pids+=("$cpu_pid")
                # one short warm-up run: the exporter's connection, node's JIT
                "cpu_load_$name" "$port" 1 >/dev/null
                t0=$(cpu_ticks "$cpu_pid")
                read -r served rps < <("cpu_load_$name" "$port" "$cpu_secs")
                t1=$(cpu_ticks "$cpu_pid")
                kill "$cpu_pid" 2>/dev/null || true
                wait "$cpu_pid" 2>/dev/null || true
                cpu_us[$name.$cfg]+=" $(awk -v t="$((t1 - t0))" -v k="$tck" -v n="$served" \
                    'BEGIN { printf "%.2f", n ? t * 1e6 / k / n : 0 }')"
                cpu_rps[$name.$cfg]+=" $rps"
            done
        done
    done
}

cpu_rows() {
    local name ratios tput
    for name in "${cpu_cases[@]}"; do
        if [[ -n ${cpu_skipped[$name]:-} ]]; then
            echo "| 0 | ${cpu_label[$name]}: CPU per request | | not measured (the server did not start) | |"
            continue
        fi
        ratios=($(ratio_list "${cpu_us[$name.shim]}" "${cpu_us[$name.none]}"))
        tput=($(ratio_list "${cpu_rps[$name.shim]}" "${cpu_rps[$name.none]}"))
        local m
        m=$(median "${ratios[@]}")
        echo "| 0 | **${cpu_label[$name]}: CPU per request, shim / none** (process CPU, all threads, receiver excluded) | <= 1.05 | **$m** ($(minmax "${ratios[@]}")); none $(median ${cpu_us[$name.none]}) us, shim $(median ${cpu_us[$name.shim]}) us | $(verdict "$m" 1.05 le 0.1 "${ratios[@]}") |"
        echo "| 0t | the same, throughput shim / none | | $(median "${tput[@]}") ($(minmax "${tput[@]}")) | |"
    done
}

cpu_raw_values() {
    local name
    for name in "${cpu_cases[@]}"; do
        [[ -z ${cpu_skipped[$name]:-} ]] || continue
        echo "- CPU us per request, $name: none${cpu_us[$name.none]}; shim${cpu_us[$name.shim]}; requests/s: none${cpu_rps[$name.none]}; shim${cpu_rps[$name.shim]}"
    done
}
