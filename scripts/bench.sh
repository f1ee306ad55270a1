#!/usr/bin/env bash
# The benchmark suite (make bench): every figure of BENCHMARKS.md, measured
# side by side in one run. Each comparison runs the same workload with no
# preload ("none"), with the pass-through preload build/libpassthrough.so
# ("pass": the price of interposition itself) and with the shim ("shim"),
# alternating run by run and rotating the order every round, so that a noisy
# neighbour hits all three alike; a figure is the median of the per-round
# ratios, with their min..max as the spread. Instruction counts come from
# callgrind, which is deterministic.
#
#   scripts/bench.sh [--rounds N] [--out FILE] [--plot FILE] [--quick] [--only db|h2|cpu]
#
# --only db: only the database client rows (pgbench, redis-benchmark -P 16;
# scripts/bench-db.bash), printed rather than written to BENCHMARKS.md.
# --only h2: only the HTTP/2 rows (h2load against nginx http2, h2c and TLS;
# scripts/bench-h2.bash), printed likewise.
# --only cpu: only the headline rows, CPU per request traced / untraced for
# each server (scripts/bench-cpu.bash), printed the same way.
#
# Needs: nginx, wrk, redis-server, redis-benchmark, valgrind, gnuplot, node
# (scripts/install-deps.sh; without node its row is skipped). Takes about 14
# minutes on 2 cores (--quick: 5).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
rounds=7
out=$root/BENCHMARKS.md
plot=$root/docs/bench-load.png
quick=0
only=
while [[ $# -gt 0 ]]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --plot) plot=$2; shift 2 ;;
        --quick) quick=1; rounds=3; shift ;;
        --only) only=$2; shift 2 ;;
        -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "bench: unknown argument $1" >&2; exit 2 ;;
    esac
done

build=$root/build
shim=$build/libotelauto.so
pass=$build/libpassthrough.so
for f in "$shim" "$pass" "$build/libotelauto-otlp.so" "$build/bench/load_gen" "$build/bench/tcp_stream" \
    "$build/bench/export_bench" "$build/bench/request_loop"; do
    [[ -e $f ]] || { echo "bench: $f is not built (make lib bench-bins)" >&2; exit 2; }
done
[[ -z $only || $only == db || $only == h2 || $only == cpu ]] || { echo "bench: --only takes db, h2 or cpu" >&2; exit 2; }
needed=(nginx wrk redis-server redis-benchmark valgrind gnuplot python3 pgbench setpriv)
[[ $only == h2 ]] && needed=(nginx h2load openssl python3 taskset)
for cmd in "${needed[@]}"; do
    command -v "$cmd" >/dev/null || { echo "bench: $cmd is needed (scripts/install-deps.sh)" >&2; exit 2; }
done

# The suite itself must not run under any preload or OTEL setting.
unset LD_PRELOAD
for v in $(compgen -e); do
    [[ $v != OTEL_* ]] || unset "$v"
done

work=$(mktemp -d /tmp/otelauto-bench.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

t_start=$(date +%s)
say() { echo "bench [$(($(date +%s) - t_start))s]: $*" >&2; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "bench: nothing listens on port $1" >&2
    return 1
}
# stats over the arguments: median, min, max
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minmax() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s..%s", lo, hi }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", (b == 0) ? 0 : a / b }'; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f", a - b }'; }
fmt() { awk -v a="$1" -v d="${2:-3}" 'BEGIN { printf "%.*f", d, a }'; }
# the order of the three configurations in round r: rotated every round
order() {
    case $(($1 % 3)) in
        0) echo none pass shim ;;
        1) echo pass shim none ;;
        *) echo shim none pass ;;
    esac
}

# ---------------------------------------------------------------- receivers
# The receiver of the figures decodes every request the shim sends in full
# with protobuf-c, as a collector does, and counts the spans. The receivers
# run with nice +10: a collector beside the measured program on 2 cores would
# otherwise take its CPU bursts out of the program's latency at normal
# priority, which a collector on its own machine (or a sidecar with a CPU
# limit) does not. Spans the receiver does not take in time are dropped by
# the shim and show in the count of spans decoded.
nice_receiver=(nice -n 10)
"${nice_receiver[@]}" "$build/bench/export_bench" decode "$work/dec.port" "$work/dec.count" &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/dec.port ]] && break; sleep 0.05; done
dec_port=$(tr -dc 0-9 <"$work/dec.port")
spans_decoded() { awk '{ print $2 }' "$work/dec.count" 2>/dev/null || echo 0; }
malformed_decoded() { awk '{ print $4 }' "$work/dec.count" 2>/dev/null || echo 0; }
# The Python test receiver (the integration tests' one) decodes too, but at
# ~20k spans/s with a whole core: on two cores it takes CPU from nginx and
# wrk. Measured as a second reading ("py"), to show what a slow collector
# on the same machine costs.
# A null receiver (reads each request, answers 200, decodes nothing) for a
# second latency reading: on two cores the decoding receiver's bursts of CPU
# land on the latency of the program measured beside it, which a collector
# on its own machine would not do.
"${nice_receiver[@]}" "$build/bench/export_bench" sink "$work/null.port" &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/null.port ]] && break; sleep 0.05; done
null_port=$(tr -dc 0-9 <"$work/null.port")
receiver_port_file=$work/receiver.port
"${nice_receiver[@]}" python3 "$root/tests/lib/otlp_receiver.py" --port 0 --out "$work/spans.jsonl" \
    --ready-file "$receiver_port_file" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s $receiver_port_file ]] && break; sleep 0.05; done
receiver_port=$(tr -dc 0-9 <"$receiver_port_file")

# run_as CONFIG COMMAND...: execs the command under that configuration, so it
# is only ever called in a subshell (&, a pipeline): $! is then the program
run_as() {
    local cfg=$1
    shift
    case $cfg in
        none | feed | spin) exec env "$@" ;;
        pass) exec env LD_PRELOAD="$pass" "$@" ;;
        shim) exec env LD_PRELOAD="$shim" OTEL_SERVICE_NAME=bench \
            OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$dec_port" "$@" ;;
        null) exec env LD_PRELOAD="$shim" OTEL_SERVICE_NAME=bench \
            OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$null_port" "$@" ;;
        off) exec env LD_PRELOAD="$shim" OTEL_SERVICE_NAME=bench OTEL_TRACES_EXPORTER=none "$@" ;;
        py) exec env LD_PRELOAD="$shim" OTEL_SERVICE_NAME=bench \
            OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$receiver_port" "$@" ;;
        # the node peer row (bench-cpu.bash): the OpenTelemetry JS SDK, no shim
        sdk) exec env OTEL_SERVICE_NAME=bench OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$dec_port" \
            OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none \
            NODE_PATH="$cpu_sdk_dir/node_modules" NODE_OPTIONS="--require $root/tests/bench/otel_sdk_setup.js" "$@" ;;
    esac
}

ratio_list() { # ratio_list "a1 a2 .." "b1 b2 ..": per-round a/b
    local -a a=($1) b=($2)
    local i
    for i in "${!a[@]}"; do div "${a[$i]}" "${b[$i]}"; echo; done
}
ok() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN { m = (dir == "ge") ? (v >= t) : (v <= t); print m ? "met" : "NOT met" }'; }
# "met" or "NOT met", and "(noisy)" when the rounds' spread is wider than
# WIDTH: the verdict of such a run needs a quieter machine to stand
verdict() { # verdict VALUE TARGET ge|le WIDTH VALUES...
    local v=$1 t=$2 dir=$3 width=$4
    shift 4
    local range
    range=$(printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print hi - lo }')
    echo "$(ok "$v" "$t" "$dir")$(awk -v r="$range" -v w="$width" 'BEGIN { if (r > w) printf " (noisy)" }')"
}

clk_tck=$(getconf CLK_TCK)
# CPU time (user + system, in clock ticks) of a process, or of one thread
ticks() {
    [[ -n $1 ]] || { echo 0; return; }
    awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# ---------------------------------------------------------------- HTTP/2
if [[ $only == h2 ]]; then
    source "$root/scripts/bench-h2.bash"
    bench_h2 "$rounds" "$quick"
    h2_rows
    h2_raw_values
    echo "commands: CONFIG taskset -c 0 nginx (bench-nginx.bash's server, listen ... http2 and ssl http2); ${h2_cmd[*]} URL"
    exit 0
fi

# ---------------------------------------------------------------- database clients
source "$root/scripts/bench-db.bash"
if [[ $only == db ]]; then
    bench_db "$rounds" "$quick"
    db_rows
    db_raw_values
    echo "commands: CONFIG ${db_pg_cmd[*]}; CONFIG ${db_redis_cmd[*]} (servers untraced on CPU 0)"
    exit 0
fi

# ---------------------------------------------------------------- CPU per request (the headline)
source "$root/scripts/bench-cpu.bash"
bench_cpu "$rounds" "$quick"
if [[ $only == cpu ]]; then
    cpu_rows
    cpu_raw_values
    exit 0
fi

# ---------------------------------------------------------------- nginx
nginx_port=$(free_port)
source "$root/scripts/bench-nginx.bash"
write_bench_nginx "$work/nginx" "$nginx_port"
nginx_cmd=(nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log")
nginx_pid=
start_nginx() {
    run_as "$1" "${nginx_cmd[@]}" &
    nginx_pid=$!
    pids+=("$nginx_pid")
    wait_port "$nginx_port"
}
stop_nginx() {
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# anonymous memory only: what is not pages of mapped files (libraries)
anon_kib() { awk '/^Anonymous:/ { print $2 }' "/proc/$1/smaps_rollup"; }

wrk_secs=$((quick ? 2 : 3))
lat_rate=${BENCH_LATENCY_RATE:-2000}
lat_secs=$((quick ? 2 : 3))
wrk_cmd=(wrk -t1 -c16 -d"${wrk_secs}s" "http://127.0.0.1:$nginx_port/index.html")
lat_cmd=("$build/bench/load_gen" "$nginx_port" /index.html "$lat_rate" "$lat_secs" 16)

declare -A rps p50 p99 rss anon cpu_ticks cpu_reqs
served_shim=0
spans_before=$(spans_decoded)
dec_pid=${pids[0]}
# ticks of nginx's thread, of nginx in all, of the receiver and of the feed
cpu_snapshot() {
    echo "$(ticks "$nginx_pid/task/$nginx_pid") $(ticks "$nginx_pid") $(ticks "$dec_pid") $(ticks "$feed_pid")"
}
# sum_after KEY FILE: the sum of the values after KEY on FILE's lines
sum_after() {
    awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) s += $(i + 1) } END { print s + 0 }' "$2"
}
# feed RATE SECONDS: the export path alone, beside the untraced nginx of
# config "feed" (export_bench feed: spans made at RATE per second, queued,
# built, encoded and sent by the shim's batch processor and OTLP exporter to
# the decoding receiver); its pid in feed_pid, its report in $work/feed.out
feed() {
    "$build/bench/export_bench" feed "$1" "$2" "$work/dec.port" >>"$work/feed.out" &
    feed_pid=$!
    pids+=("$feed_pid")
    sleep 0.2
}
feed_done() {
    wait "$feed_pid" 2>/dev/null || true
}
say "nginx + wrk (throughput) and load_gen at $lat_rate/s (latency), $rounds rounds"
for ((r = 0; r < rounds; r++)); do
    for cfg in $(order "$r") py null off feed spin; do
        start_nginx "$cfg"
        feed_pid=
        spin_pid=
        # a loop that touches no memory and runs only on a CPU that would
        # otherwise be idle (SCHED_IDLE): whether the CPU time wrk leaves
        # idle is free for other work on this machine
        if [[ $cfg == spin ]]; then
            chrt --idle 0 sh -c 'while :; do :; done' &
            spin_pid=$!
            pids+=("$spin_pid")
        fi
        # the shim's rate of this round (it always runs before "feed")
        [[ $cfg != feed ]] || feed "$(awk '{ printf "%d", $NF }' <<<"${rps[shim]}")" $((wrk_secs + 1))
        # CPU per request, by thread and process, during the wrk run
        read -r -a c0 <<<"$(cpu_snapshot)"
        out_wrk=$({ TIMEFORMAT='%3U %3S'; time "${wrk_cmd[@]}"; } 2>"$work/wrk.time")
        read -r -a c1 <<<"$(cpu_snapshot)"
        [[ -z $feed_pid ]] || feed_done
        [[ -z $spin_pid ]] || { kill "$spin_pid"; wait "$spin_pid" 2>/dev/null || true; }
        rps[$cfg]+=" $(awk '/^Requests\/sec/ { print $2 }' <<<"$out_wrk")"
        served=$(awk '/requests in/ { print $1 }' <<<"$out_wrk")
        if [[ $cfg == shim ]]; then
            served_shim=$((served_shim + served))
        fi
        # ticks: program thread, shim's threads, receiver, feed, wrk
        read -r -a acc <<<"${cpu_ticks[$cfg]:-0 0 0 0 0}"
        wrk_ticks=$(awk -v t="$clk_tck" '{ printf "%d", ($1 + $2) * t + 0.5 }' "$work/wrk.time")
        cpu_ticks[$cfg]="$((acc[0] + c1[0] - c0[0])) $((acc[1] + c1[1] - c0[1] - c1[0] + c0[0]))"
        cpu_ticks[$cfg]+=" $((acc[2] + c1[2] - c0[2])) $((acc[3] + c1[3] - c0[3])) $((acc[4] + wrk_ticks))"
        cpu_reqs[$cfg]=$((${cpu_reqs[$cfg]:-0} + served))
        rss[$cfg]+=" $(rss_kib "$nginx_pid")"
        anon[$cfg]+=" $(anon_kib "$nginx_pid")"
        if [[ $cfg == py || $cfg == off || $cfg == spin ]]; then
            stop_nginx
            continue
        fi
        [[ $cfg != feed ]] || feed "$lat_rate" $((lat_secs + 1))
        read -r _ _ _ lat_ach _ l50 _ _ _ l99 _ < <("${lat_cmd[@]}")
        [[ -z $feed_pid ]] || feed_done
        if [[ $cfg == shim ]]; then
            served_shim=$((served_shim + $(awk -v a="$lat_ach" -v t="$lat_secs" 'BEGIN { printf "%d", a * t }')))
        fi
        p50[$cfg]+=" $l50"
        p99[$cfg]+=" $l99"
        stop_nginx
    done
done
sleep 1
# the feed's spans went to the same receiver: counted apart
fed_spans=$(sum_after exported "$work/feed.out")
fed_dropped=$(sum_after dropped "$work/feed.out")
spans_nginx=$(($(spans_decoded) - spans_before - fed_spans))
malformed_nginx=$(malformed_decoded)

diff_list() {
    local -a a=($1) b=($2)
    local i
    for i in "${!a[@]}"; do sub "${a[$i]}" "${b[$i]}"; echo; done
}
tp_vs_none=($(ratio_list "${rps[shim]}" "${rps[none]}"))
tp_vs_pass=($(ratio_list "${rps[shim]}" "${rps[pass]}"))
p50_add_none=($(diff_list "${p50[shim]}" "${p50[none]}"))
p50_add_pass=($(diff_list "${p50[shim]}" "${p50[pass]}"))
p99_add_none=($(diff_list "${p99[shim]}" "${p99[none]}"))
p99_add_pass=($(diff_list "${p99[shim]}" "${p99[pass]}"))
p50_add_null=($(diff_list "${p50[null]}" "${p50[none]}"))
p99_add_null=($(diff_list "${p99[null]}" "${p99[none]}"))
rss_add=($(diff_list "${rss[shim]}" "${rss[pass]}"))
anon_add=($(diff_list "${anon[shim]}" "${anon[pass]}"))
rss_add_py=($(diff_list "${rss[py]}" "${rss[pass]}"))
tp_py_vs_none=($(ratio_list "${rps[py]}" "${rps[none]}"))
tp_null_vs_none=($(ratio_list "${rps[null]}" "${rps[none]}"))
tp_off_vs_none=($(ratio_list "${rps[off]}" "${rps[none]}"))
tp_feed_vs_none=($(ratio_list "${rps[feed]}" "${rps[none]}"))
tp_spin_vs_none=($(ratio_list "${rps[spin]}" "${rps[none]}"))
p50_add_feed=($(diff_list "${p50[feed]}" "${p50[none]}"))
p99_add_feed=($(diff_list "${p99[feed]}" "${p99[none]}"))
# us of CPU per request: "program shim receiver feed wrk" for CONFIG
cpu_per_req() {
    awk -v t="$clk_tck" -v n="${cpu_reqs[$1]}" '{ for (i = 1; i <= NF; i++) printf "%.2f ", $i * 1e6 / t / (n ? n : 1) }' <<<"${cpu_ticks[$1]}"
}
read -r cpu_none_prog _ _ _ cpu_none_wrk <<<"$(cpu_per_req none)"
read -r cpu_shim_prog cpu_shim_bg cpu_shim_recv _ cpu_shim_wrk <<<"$(cpu_per_req shim)"
read -r cpu_feed_prog _ cpu_feed_recv cpu_feed_feed cpu_feed_wrk <<<"$(cpu_per_req feed)"
read -r cpu_spin_prog _ _ _ cpu_spin_wrk <<<"$(cpu_per_req spin)"

# ---------------------------------------------------------------- load sweep (plot)
say "load sweep for the plot"
base_rps=$(median ${rps[none]})
sweep=$work/sweep.tsv
: >"$sweep"
sweep_secs=$((quick ? 1 : 2))
for frac in 0.1 0.25 0.5 0.7 0.85 1.0 1.15; do
    rate=$(awk -v b="$base_rps" -v f="$frac" 'BEGIN { printf "%d", b * f }')
    line="$rate"
    for cfg in none shim py; do
        start_nginx "$cfg"
        read -r _ _ _ ach _ s50 _ _ _ s99 _ < <("$build/bench/load_gen" "$nginx_port" /index.html "$rate" "$sweep_secs" 64)
        stop_nginx
        line+=" $ach $s50 $s99"
    done
    echo "$line" >>"$sweep"
done
mkdir -p "$(dirname "$plot")"
gnuplot <<EOF
set terminal pngcairo size 1100,480 font ",10"
set output "$plot"
set multiplot layout 1,2 title "nginx (1 worker), keep-alive, fixed-rate load (load\\\\_gen, 64 connections); shim: 100% sampled, OTLP to a C decoding receiver or to the Python test receiver"
set xlabel "offered load (requests/s)"
set ylabel "achieved throughput (requests/s)"
set key top left
set grid
plot "$sweep" using 1:2 with linespoints title "no preload", "$sweep" using 1:5 with linespoints title "shim", \
     "$sweep" using 1:8 with linespoints title "shim, Python receiver", x with lines dt 2 lc rgb "gray" title "offered"
set ylabel "latency (us, log scale)"
set logscale y
plot "$sweep" using 1:3 with linespoints title "p50 no preload", "$sweep" using 1:6 with linespoints title "p50 shim", \
     "$sweep" using 1:9 with linespoints title "p50 shim, Python receiver", \
     "$sweep" using 1:4 with linespoints title "p99 no preload", "$sweep" using 1:7 with linespoints title "p99 shim", \
     "$sweep" using 1:10 with linespoints title "p99 shim, Python receiver"
unset multiplot
EOF

# ---------------------------------------------------------------- TCP stream
stream_writes=$((quick ? 50000 : 100000))
# both threads on one CPU: how the writer and reader wake each other across
# CPUs on a shared machine would otherwise swamp the figure
stream_cmd=(taskset -c 0 "$build/bench/tcp_stream" "$stream_writes" 64)
declare -A mbs
say "loopback TCP stream of 64-byte writes, $((rounds + 2)) rounds"
for ((r = 0; r < rounds + 2; r++)); do
    for cfg in $(order "$r"); do
        mbs[$cfg]+=" $(run_as "$cfg" "${stream_cmd[@]}" | awk '{ print $8 }')"
    done
done
stream_vs_none=($(ratio_list "${mbs[shim]}" "${mbs[none]}"))
# The same stream under callgrind, in lockstep (each write read back before
# the next): instructions per 64-byte write and its read, from the difference between two lengths of run, so
# start-up does not count. Exact, whatever the machine is doing.
stream_instr() {
    local cfg=$1 n=$2
    run_as "$cfg" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$build/bench/tcp_stream" "$n" 64 lockstep 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
declare -A stream_ipw
for cfg in none pass shim; do
    a=$(stream_instr "$cfg" 2000)
    b=$(stream_instr "$cfg" 12000)
    stream_ipw[$cfg]=$(((b - a) / 10000))
done
stream_vs_pass=($(ratio_list "${mbs[shim]}" "${mbs[pass]}"))

# ---------------------------------------------------------------- redis
redis_port=$(free_port)
# long enough runs (~1.5 s each at ~90,000 ops/s) that a neighbour's burst moves a
# ratio by little; more rounds than the others for the same reason
redis_n=$((quick ? 30000 : 150000))
# server and client on CPUs of their own: left to the scheduler on a shared
# 2-CPU machine, where they land from run to run swamped the figure (rounds
# spread 0.80..1.17 with both free to move)
redis_cmd=(redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work")
redis_bench_cmd=(taskset -c 1 redis-benchmark -p "$redis_port" -t set,get -n "$redis_n" -c 16 -q)
declare -A redis_ops
say "redis-server under redis-benchmark, $((rounds + 2)) rounds"
for ((r = 0; r < rounds + 2; r++)); do
    for cfg in $(order "$r"); do
        run_as "$cfg" taskset -c 0 "${redis_cmd[@]}" >/dev/null &
        rp=$!
        pids+=("$rp")
        wait_port "$redis_port"
        out_redis=$("${redis_bench_cmd[@]}" 2>/dev/null | tr '\r' '\n')
        set_ops=$(awk '/^SET:/ { print $2 }' <<<"$out_redis" | tail -1)
        get_ops=$(awk '/^GET:/ { print $2 }' <<<"$out_redis" | tail -1)
        redis_ops[$cfg]+=" $(awk -v a="$set_ops" -v b="$get_ops" 'BEGIN { print (a + b) / 2 }')"
        kill "$rp"
        wait "$rp" 2>/dev/null || true
    done
done
redis_vs_none=($(ratio_list "${redis_ops[shim]}" "${redis_ops[none]}"))
redis_vs_pass=($(ratio_list "${redis_ops[shim]}" "${redis_ops[pass]}"))

bench_db "$rounds" "$quick"

# ---------------------------------------------------------------- the same servers in instructions
# What the throughput ratios above are made of, in numbers a noisy machine
# does not move: user-space instructions per request of the server under
# callgrind (--separate-threads: the program's thread apart from the
# shim's exporter thread), each config driven for a fixed time. The system
# calls themselves are not counted.
# cg_server CONFIG nginx|redis CLIENT ARG: prints "requests main_instr
# other_instr preload_instr"
cg_server() {
    local cfg=$1 name=$2 port dir
    local -a server
    dir=$(mktemp -d "$work/cg-$1-$2.XXXX")
    shift 2
    case $name in
        nginx) server=("${nginx_cmd[@]}") port=$nginx_port ;;
        redis) server=("${redis_cmd[@]}") port=$redis_port ;;
    esac
    run_as "$cfg" valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/cg.out" \
        "${server[@]}" >/dev/null 2>&1 &
    local vp=$!
    pids+=("$vp")
    # valgrind starts slowly on a loaded machine: up to a minute
    for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    local served
    served=$("$@")
    kill -INT "$vp" 2>/dev/null || true
    kill "$vp" 2>/dev/null || true
    # a signal that reached valgrind before the server was up can be lost:
    # never wait for ever (the run's counts are then missing, not the suite)
    for _ in $(seq 300); do kill -0 "$vp" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$vp" 2>/dev/null || true
    wait "$vp" 2>/dev/null || true
    local main other preload=0 f
    main=$(sed -n 's/^summary: //p' "$dir/cg.out-01" 2>/dev/null)
    other=$(cat "$dir"/cg.out-* 2>/dev/null | awk '/^summary:/ { s += $2 } END { print s + 0 }')
    # the instructions inside the preloaded library itself, all threads
    for f in "$dir"/cg.out-*; do
        preload=$((preload + $(callgrind_annotate --threshold=100 "$f" 2>/dev/null |
            awk '/\[.*lib(otelauto|passthrough)\.so\]$/ { gsub(",", "", $1); s += $1 } END { print s + 0 }')))
    done
    echo "$served ${main:-0} $((other - ${main:-0})) $preload"
}
nginx_served() { wrk -t1 -c4 -d"$1"s "http://127.0.0.1:$nginx_port/index.html" | awk '/requests in/ { print $1 }'; }
redis_served() {
    taskset -c 1 redis-benchmark -p "$redis_port" -t set,get -n "$1" -c 4 -q >/dev/null 2>&1
    echo $((2 * $1))
}
# per request, "main other preload", from a short and a long run: the
# difference leaves start-up out (the exporter's first batch loads libcurl
# and OpenSSL)
per_req() {
    local -a a=($1) b=($2)
    awk -v r1="${a[0]}" -v m1="${a[1]}" -v o1="${a[2]}" -v p1="${a[3]}" \
        -v r2="${b[0]}" -v m2="${b[1]}" -v o2="${b[2]}" -v p2="${b[3]}" \
        'BEGIN { d = r2 - r1; if (d <= 0) d = 1; printf "%d %d %.1f", (m2 - m1) / d, (o2 - o1) / d, (p2 - p1) / d }'
}
declare -A cg_ngx cg_rds
say "nginx and redis-server under callgrind: instructions per request"
for cfg in none pass shim; do
    cg_ngx[$cfg]=$(per_req "$(cg_server "$cfg" nginx nginx_served 2)" \
        "$(cg_server "$cfg" nginx nginx_served 6)")
    cg_rds[$cfg]=$(per_req "$(cg_server "$cfg" redis redis_served 1000)" \
        "$(cg_server "$cfg" redis redis_served 6000)")
done
read -r ngx_none _ _ <<<"${cg_ngx[none]}"
read -r ngx_pass _ _ <<<"${cg_ngx[pass]}"
read -r ngx_shim ngx_shim_bg _ <<<"${cg_ngx[shim]}"
read -r rds_none _ _ <<<"${cg_rds[none]}"
read -r rds_pass _ rds_pass_lib <<<"${cg_rds[pass]}"
read -r rds_shim _ rds_shim_lib <<<"${cg_rds[shim]}"

# ---------------------------------------------------------------- cost per request
say "instructions per traced request (callgrind) and ns"
cost_out=$("$root/scripts/measure-request-cost.sh" 200 2200)
# the first pass-through and shim lines are the program's thread, the second
# all threads
instr_pass=$(awk '/^ *pass-through/ { print $2; exit }' <<<"$cost_out")
instr_shim=$(awk '/^ *shim/ { print $2; exit }' <<<"$cost_out")
instr_pass_all=$(awk '/^ *pass-through/ { v = $2 } END { print v }' <<<"$cost_out")
instr_shim_all=$(awk '/^ *shim/ { v = $2 } END { print v }' <<<"$cost_out")
instr_per_req=$(((instr_shim - instr_pass) / 2))
instr_per_req_all=$(((instr_shim_all - instr_pass_all) / 2))
ns_line=$(grep 'wall clock' <<<"$cost_out")
ns_added=$(sed -n 's/.*(+\(-\{0,1\}[0-9]*\) ns).*/\1/p' <<<"$ns_line")

# ---------------------------------------------------------------- exporter
say "exporter throughput to a null receiver"
export_secs=$((quick ? 2 : 4))
export_out=$("$build/bench/export_bench" throughput "$export_secs")
exp_cpu=$(awk '{ for (i = 1; i < NF; i++) if ($i == "spans_per_cpu_s") print $(i + 1) }' <<<"$export_out")
exp_wall=$(awk '{ for (i = 1; i < NF; i++) if ($i == "spans_per_wall_s") print $(i + 1) }' <<<"$export_out")
exp_enc=$(awk '{ for (i = 1; i < NF; i++) if ($i == "encode_spans_per_cpu_s") print $(i + 1) }' <<<"$export_out")
exp_bytes=$(awk '{ for (i = 1; i < NF; i++) if ($i == "bytes_per_span") print $(i + 1) }' <<<"$export_out")

say "capacity: highest span rate with no drops (default queue 2048, batch 512)"
cap_secs=$((quick ? 2 : 3))
capacity=0
capacity_log=""
for rate in 25000 50000 100000 150000 200000 300000 400000 600000; do
    cap_out=$("$build/bench/export_bench" capacity "$rate" "$cap_secs")
    dropped=$(awk '{ for (i = 1; i < NF; i++) if ($i == "dropped") print $(i + 1) }' <<<"$cap_out")
    achieved=$(awk '{ print $4 }' <<<"$cap_out")
    capacity_log+="$rate/s: achieved $achieved, dropped $dropped; "
    # a producer that cannot even offer the rate ends the search too
    if [[ $dropped != 0 ]] || awk -v a="$achieved" -v r="$rate" 'BEGIN { exit !(a < 0.95 * r) }'; then
        break
    fi
    capacity=$rate
done

say "the exporter's share: its threads' CPU per span at a steady 20,000 spans/s"
# feed to the null receiver (another process): the CPU of every thread but
# the producer is the batch processor's and the exporter's alone
share=()
for _ in 1 2 3; do
    share+=("$("$build/bench/export_bench" feed 20000 "$cap_secs" "$work/null.port" |
        awk '{ for (i = 1; i < NF; i++) if ($i == "export_us_per_span") print $(i + 1) }')")
done

# ---------------------------------------------------------------- start-up
say "start-up of /bin/true"
startup_out=$("$root/scripts/measure-startup.sh" --runs $((quick ? 100 : 200)) --rounds "$rounds")
startup_ratio=$(sed -n 's/.*wall-clock ratio shim\/pass-through: \([0-9.]*\).*/\1/p' <<<"$startup_out")
startup_instr=$(sed -n 's/.*instructions (callgrind).*ratio \([0-9.]*\).*/\1/p' <<<"$startup_out")

# ---------------------------------------------------------------- report
say "writing $out"
tp=$(median "${tp_vs_none[@]}")
tpp=$(median "${tp_vs_pass[@]}")
a50=$(median "${p50_add_none[@]}")
a50p=$(median "${p50_add_pass[@]}")
a99=$(median "${p99_add_none[@]}")
a99p=$(median "${p99_add_pass[@]}")
a50n=$(median "${p50_add_null[@]}")
a99n=$(median "${p99_add_null[@]}")
st=$(median "${stream_vs_none[@]}")
stp=$(median "${stream_vs_pass[@]}")
rd=$(median "${redis_vs_none[@]}")
rdp=$(median "${redis_vs_pass[@]}")
ra=$(median "${rss_add[@]}")
ra_mib=$(awk -v k="$ra" 'BEGIN { printf "%.1f", k / 1024 }')
aa_mib=$(awk -v k="$(median "${anon_add[@]}")" 'BEGIN { printf "%.1f", k / 1024 }')
rp_mib=$(awk -v k="$(median "${rss_add_py[@]}")" 'BEGIN { printf "%.1f", k / 1024 }')
tpy=$(median "${tp_py_vs_none[@]}")
tnull=$(median "${tp_null_vs_none[@]}")
toff=$(median "${tp_off_vs_none[@]}")
tfeed=$(median "${tp_feed_vs_none[@]}")
tspin=$(median "${tp_spin_vs_none[@]}")
a50f=$(median "${p50_add_feed[@]}")
a99f=$(median "${p99_add_feed[@]}")
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
drop_pct=$(awk -v s="$spans_nginx" -v n="$served_shim" 'BEGIN { printf "%.1f", n ? 100 * (1 - s / n) : 0 }')
plot_rel=$(realpath --relative-to="$(dirname "$out")" "$plot")

cat >"$out" <<EOF
# Benchmarks

Written by \`make bench\` (scripts/bench.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'), commit
\`$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet -- . ":!BENCHMARKS.md" ":!docs/bench-load.png" 2>/dev/null || echo +changes)\`.
Machine: $(nproc) CPUs ($cpu_model), Linux $(uname -r), load average at the end $loadavg
(shared machine: other jobs were running; the wall-clock figures are only as steady as their
spread says, the instruction counts are exact). Rounds: $rounds.

Method: every comparison runs the same workload with no preload (**none**), with the
pass-through preload \`build/libpassthrough.so\` (**pass**: interposing the same libc symbols
and doing nothing else) and with the shim \`build/libotelauto.so\` (**shim**: 100% sampled,
OTLP/HTTP protobuf to \`build/bench/export_bench decode\`, a receiver in C that decodes
every request in full with protobuf-c into a per-thread arena, as a collector does; the
receivers run with nice +10, as a collector beside the program would). The three
alternate run by run, the order rotating every round; a figure is the **median of the
per-round ratios** (or differences), the spread is their min..max over the rounds. A verdict
marked "(noisy)" comes from rounds that disagree by more than the target's margin (0.1 for
ratios, 10 us at p50, 50 us at p99): it needs a quieter machine to stand, and the callgrind
rows are the ones to trust then.

| # | figure | target | result (median; spread) | |
|---|---|---|---|---|
$(cpu_rows)
| 1 | nginx throughput, shim / none | >= 0.97 | **$tp** ($(minmax "${tp_vs_none[@]}")); shim / pass $tpp ($(minmax "${tp_vs_pass[@]}")) | $(verdict "$tp" 0.97 ge 0.1 "${tp_vs_none[@]}") |
| 1c | the same nginx in user-space instructions per request (callgrind) | | **worker thread +$((ngx_shim - ngx_pass)) over pass** (none $ngx_none, pass $ngx_pass, shim $ngx_shim), and $ngx_shim_bg on the shim's own threads (exporter: building, encoding and sending the span) | |
| 1b | the same, exporting to the Python test receiver instead (it takes a core from nginx and wrk) | | **$tpy** ($(minmax "${tp_py_vs_none[@]}")) | |
| 1d | the same, exporting to a null receiver (the collector's decoding off these 2 cores) | | **$tnull** ($(minmax "${tp_null_vs_none[@]}")) | |
| 1e | the same, spans recorded and built but not exported (\`OTEL_TRACES_EXPORTER=none\`): the program's thread and the exporter's building | | **$toff** ($(minmax "${tp_off_vs_none[@]}")) | |
| 1f | **the export path alone**: untraced nginx (no hook at all) beside \`export_bench feed\`, which sends the shim's span rate of the round through the same batch processor and OTLP exporter to the same decoding receiver: what exporting 100% of the spans costs on these 2 cores, the ceiling of figure 1 here | | **$tfeed** ($(minmax "${tp_feed_vs_none[@]}")) | |
| 1g | untraced nginx beside a loop that uses only idle CPU time (\`chrt --idle 0\`, touching no memory): whether the CPU time wrk leaves idle is free for other work on this machine | | **$tspin** ($(minmax "${tp_spin_vs_none[@]}")) | |
| 1a | CPU per request during the wrk runs, us (user + system from /proc, all rounds) | | none: nginx $cpu_none_prog, wrk $cpu_none_wrk. shim: nginx's thread **$cpu_shim_prog**, the shim's threads $cpu_shim_bg, receiver $cpu_shim_recv, wrk $cpu_shim_wrk. 1f: nginx $cpu_feed_prog, feed $cpu_feed_feed, receiver $cpu_feed_recv, wrk $cpu_feed_wrk. 1g: nginx $cpu_spin_prog, wrk $cpu_spin_wrk | |
| 2 | latency added at $lat_rate req/s, p50 | +1 us | **$a50 us** vs none ($(minmax "${p50_add_none[@]}")); $a50p us vs pass | $(verdict "$a50" 1 le 10 "${p50_add_none[@]}") |
| 2 | latency added at $lat_rate req/s, p99 | +5 us | **$a99 us** vs none ($(minmax "${p99_add_none[@]}")); $a99p us vs pass | $(verdict "$a99" 5 le 50 "${p99_add_none[@]}") |
| 2b | the same latency, exporting to a null receiver (no decoding on these 2 cores), p50 / p99 | | **$a50n us / $a99n us** vs none (p50 $(minmax "${p50_add_null[@]}"); p99 $(minmax "${p99_add_null[@]}")) | |
| 2f | the same latency with the export path alone (untraced nginx beside \`export_bench feed\` at $lat_rate spans/s to the decoding receiver), p50 / p99 | | **$a50f us / $a99f us** vs none (p50 $(minmax "${p50_add_feed[@]}"); p99 $(minmax "${p99_add_feed[@]}")) | |
| 3 | TCP stream of 64-byte writes, shim / none | >= 0.99 | **$st** ($(minmax "${stream_vs_none[@]}")); shim / pass $stp ($(minmax "${stream_vs_pass[@]}")) | $(verdict "$st" 0.99 ge 0.1 "${stream_vs_none[@]}") |
| 3 | the same stream in lockstep, instructions per write + read in user space (callgrind) | | **shim +$((stream_ipw[shim] - stream_ipw[pass])) over pass**, +$((stream_ipw[shim] - stream_ipw[none])) over none (none ${stream_ipw[none]}, pass ${stream_ipw[pass]}, shim ${stream_ipw[shim]}; the system calls themselves are not counted) | |
| 3 | redis-server under redis-benchmark, shim / none | >= 0.99 | **$rd** ($(minmax "${redis_vs_none[@]}")); shim / pass $rdp ($(minmax "${redis_vs_pass[@]}")) | $(verdict "$rd" 0.99 ge 0.1 "${redis_vs_none[@]}") |
| 3 | redis-server under callgrind, instructions per SET or GET inside the preloaded library | | **shim $rds_shim_lib, pass $rds_pass_lib** (the whole server: none $rds_none, pass $rds_pass, shim $rds_shim, which redis's own timers make vary by a few hundred) | |
| 4 | cost of one traced request on the program's thread (callgrind) | floor ~110-160 ns | **$instr_per_req instructions**; wall clock +$((ns_added / 2)) ns per request; all threads together (exporter thread included) $instr_per_req_all instructions | see note |
| 5 | exporter throughput, one core, null receiver | >= 1,000,000 spans/s | **$(fmt "$exp_cpu" 0) spans/s** of exporter CPU ($(fmt "$exp_wall" 0) per wall second; encoding alone $(fmt "$exp_enc" 0)) | $(ok "$exp_cpu" 1000000 ge) |
| 6 | start-up of /bin/true, shim / pass | <= 1.1 | **$startup_ratio** (instructions: $startup_instr) | $(ok "$startup_ratio" 1.1 le) |
| 7 | RSS added to the nginx worker at steady load, shim - pass | <= 8 MiB | **$ra_mib MiB** ($(minmax "${rss_add[@]}") KiB), of which anonymous memory $aa_mib MiB; exporting to the Python receiver $rp_mib MiB | $(ok "$ra_mib" 8 le) |
| 8 | capacity: highest span rate with no drops, default queue | | **$capacity spans/s** (tried: $capacity_log) | |
| 8b | the exporter's share: CPU of the shim's export threads per span at a steady 20,000 spans/s (batching, encoding, compressing, sending built spans to a null receiver in another process; \`export_bench feed 20000 $cap_secs\`, 3 runs) | | **$(median "${share[@]}") us** ($(minmax "${share[@]}")) | |
$(db_rows)

![throughput and latency vs load]($plot_rel)

## Raw values per round

$(cpu_raw_values)
- nginx requests/s (wrk): none${rps[none]}; pass${rps[pass]}; shim${rps[shim]}
- p50 us at $lat_rate req/s: none${p50[none]}; pass${p50[pass]}; shim${p50[shim]}
- p99 us at $lat_rate req/s: none${p99[none]}; pass${p99[pass]}; shim${p99[shim]}
- p50 / p99 us at $lat_rate req/s, shim exporting to the null receiver: ${p50[null]} /${p99[null]}
- nginx requests/s, shim exporting to the Python receiver: py${rps[py]}
- nginx requests/s, shim exporting to the null receiver: null${rps[null]}; shim with OTEL_TRACES_EXPORTER=none: off${rps[off]}
- untraced nginx beside the export path alone (1f, 2f): requests/s${rps[feed]}; p50${p50[feed]}; p99${p99[feed]}; spans the feed exported $fed_spans, dropped $fed_dropped; beside the idle-time loop (1g): requests/s${rps[spin]}
- nginx worker VmRSS KiB after each run: none${rss[none]}; pass${rss[pass]}; shim${rss[shim]}; py${rss[py]}
- of which anonymous (smaps_rollup) KiB: none${anon[none]}; pass${anon[pass]}; shim${anon[shim]}; py${anon[py]}
- spans decoded by the C receiver from the traced nginx runs (wrk and load_gen): $spans_nginx
  of about $served_shim requests served ($drop_pct% not received: dropped at a full queue;
  the load_gen count is its achieved rate times its duration, so a small negative figure is
  rounding); malformed requests: $malformed_nginx
- TCP stream MB/s: none${mbs[none]}; pass${mbs[pass]}; shim${mbs[shim]}
- redis-benchmark ops/s (mean of SET and GET): none${redis_ops[none]}; pass${redis_ops[pass]}; shim${redis_ops[shim]}
$(db_raw_values)
- load sweep (offered, then achieved / p50 us / p99 us for none, for the shim with the
  C decoding receiver, for the shim with the Python receiver):
$(sed 's/^/  - /' "$sweep")
- exporter: $export_out
- request cost (scripts/measure-request-cost.sh 200 2200):
$(sed 's/^/      /' <<<"$cost_out")
- start-up (scripts/measure-startup.sh):
$(sed 's/^/      /' <<<"$startup_out")

## Commands

Run from the repository root after \`make lib bench-bins programs\`; CONFIG is nothing,
\`LD_PRELOAD=build/libpassthrough.so\` or \`LD_PRELOAD=build/libotelauto.so
OTEL_SERVICE_NAME=bench OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:RECEIVER\`, with
\`build/bench/export_bench decode PORTFILE COUNTFILE\` as the receiver.

1. \`CONFIG nginx -c nginx.conf\` (one worker, \`master_process off\`, 612-byte file, keep-alive;
   the file is generated by scripts/bench.sh), then \`${wrk_cmd[*]/$nginx_port/PORT}\`; 1b: the
   shim with its endpoint at \`python3 tests/lib/otlp_receiver.py --port 0 --out spans.jsonl\`
   1f: no preload, with \`build/bench/export_bench feed RATE $((wrk_secs + 1)) PORTFILE\` (RATE the round's
   traced requests/s) started 0.2 s before wrk; 1a: fields 14 and 15 of /proc/PID/stat and
   /proc/PID/task/PID/stat before and after wrk, and bash's \`time\` of wrk; 1g: no preload, with
   \`chrt --idle 0 sh -c 'while :; do :; done'\` running during wrk
2. the same nginx, then \`build/bench/load_gen PORT /index.html $lat_rate $lat_secs 16\` (open loop:
   latency counted from when each request was due); 2f: \`export_bench feed $lat_rate $((lat_secs + 1)) PORTFILE\` beside it
3. \`CONFIG ${stream_cmd[*]/$root\//}\`, and under \`valgrind --tool=callgrind\` with 2000 and
   12000 writes and \`lockstep\`; \`CONFIG redis-server --port PORT --save "" --appendonly no\`
   and \`redis-benchmark -p PORT -t set,get -n $redis_n -c 16 -q\` (server on CPU 0, client on CPU 1)
4. \`scripts/measure-request-cost.sh 200 2200\` (build/bench/request_loop: one thread plays
   client and server of a keep-alive connection; per exchange one CLIENT and one SERVER span;
   callgrind --separate-threads, OTEL_TRACES_EXPORTER=none; per request = half the exchange;
   the program's thread is callgrind's thread 1)
5. \`build/bench/export_bench throughput $export_secs\` (encoder + libcurl to an in-process null
   receiver, 512-span batches; rate per second of the sending thread's CPU time)
6. \`scripts/measure-startup.sh --runs N --rounds $rounds\`
7. VmRSS of the nginx worker (/proc/PID/status) at the end of each wrk run, shim - pass
8. \`build/bench/export_bench capacity RATE $cap_secs\` for increasing RATE (the whole batch span
   processor with its defaults, a producer thread paced every millisecond)
9. \`CONFIG ${db_pg_cmd[*]/$db_pg_bin\//}\` against \`postgres -c fsync=off\` (run as nobody, scale 1), and
   \`CONFIG ${db_redis_cmd[*]}\` against an untraced redis-server (servers on CPU 0, clients on CPU 1)
Plot: load sweep with \`build/bench/load_gen PORT /index.html RATE $sweep_secs 64\` at 10%..115% of
the untraced wrk throughput, gnuplot.
EOF
if [[ -f $root/docs/benchmarks-notes.md ]]; then
    { echo; cat "$root/docs/benchmarks-notes.md"; } >>"$out"
fi
say "done in $(($(date +%s) - t_start)) s"
