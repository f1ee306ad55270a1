# Sourced by scripts/bench.sh (--only h2): HTTP/2 rows. nginx, the server
# bench-nginx.bash writes (one worker, the 612-byte file), listening with
# `http2` twice: cleartext h2c (prior knowledge) and TLS (ALPN h2, a
# self-signed certificate), runs on CPU 0 with no preload ("none"), the
# pass-through preload ("pass") or the shim ("shim", exporting to the C
# decoding receiver), alternating as bench.sh's other rows do; h2load
# (nghttp2-client) loads it untraced from CPU 1:
#
#   h2load -c 4 -m 16 -t 1 -D SECS, over h2c and over TLS
#
# Before the shim knows HTTP/2 these rows measure what it costs to pass
# HTTP/2 through; afterwards, a span per stream.
#
# bench_h2 ROUNDS QUICK: fills h2_rps[cfg.mode] (per-round requests/s),
# h2_cpu[cfg.mode] (nginx's CPU time per request, us) and h2_bad[cfg.mode]
# (requests h2load saw fail, error or time out: must stay 0), for mode h2c
# and tls, and h2_cmd. Needs bench.sh's run_as, order, free_port, wait_port,
# ticks, clk_tck, say, $work and bench-nginx.bash.

# h2_nginx_conf DIR PORT TLS_PORT: bench-nginx.bash's server, its listener
# made h2c, and a TLS one beside it
h2_nginx_conf() {
    local dir=$1 port=$2 tls_port=$3
    write_bench_nginx "$dir" "$port"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=localhost" -keyout "$dir/cert.key" -out "$dir/cert.crt" 2>/dev/null
    sed -i "s|^\( *\)listen 127.0.0.1:$port;|\1listen 127.0.0.1:$port http2;\n\1listen 127.0.0.1:$tls_port ssl http2;\n\1ssl_certificate $dir/cert.crt;\n\1ssl_certificate_key $dir/cert.key;|" \
        "$dir/nginx.conf"
    grep -q "listen 127.0.0.1:$tls_port ssl http2;" "$dir/nginx.conf" || {
        echo "bench: could not make bench-nginx.bash's server HTTP/2" >&2
        return 1
    }
}

# h2_field "LINE PREFIX" INDEX: a number from h2load's report
h2_field() {
    awk -v p="$1" -v i="$2" 'index($0, p) == 1 { gsub(/[,%]/, ""); print $i; exit }'
}

bench_h2() {
    local rounds=$1 quick=$2 r cfg mode out pid before reqs
    local secs=$((quick ? 2 : 4)) port tls_port dir=$work/h2nginx
    declare -gA h2_rps h2_cpu h2_bad
    source "$root/scripts/bench-nginx.bash"
    port=$(free_port)
    tls_port=$(free_port)
    h2_nginx_conf "$dir" "$port" "$tls_port"
    h2_cmd=(taskset -c 1 h2load -c 4 -m 16 -t 1 -D "$secs")
    say "nginx http2 + h2load (h2c and TLS), $rounds rounds"
    for ((r = 0; r < rounds; r++)); do
        for cfg in $(order "$r"); do
            run_as "$cfg" taskset -c 0 nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
            pid=$!
            pids+=("$pid")
            wait_port "$port"
            for mode in h2c tls; do
                local url=http://127.0.0.1:$port/index.html
                [[ $mode == tls ]] && url=https://127.0.0.1:$tls_port/index.html
                before=$(ticks "$pid")
                out=$("${h2_cmd[@]}" "$url" 2>&1) || true
                reqs=$(h2_field "requests:" 8 <<<"$out")
                h2_rps[$cfg.$mode]+=" $(h2_field "finished in" 4 <<<"$out")"
                h2_cpu[$cfg.$mode]+=" $(awk -v t="$(($(ticks "$pid") - before))" -v hz="$clk_tck" -v n="${reqs:-0}" \
                    'BEGIN { printf "%.3f", (n > 0) ? t * 1e6 / hz / n : 0 }')"
                h2_bad[$cfg.$mode]=$((${h2_bad[$cfg.$mode]:-0} + $(h2_field "requests:" 10 <<<"$out") +
                    $(h2_field "requests:" 12 <<<"$out") + $(h2_field "requests:" 14 <<<"$out")))
            done
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        done
    done
}

# h2_rows: the report's rows (bench.sh's median, minmax, ratio_list)
h2_rows() {
    local mode label
    local -a vs_none vs_pass cpu
    for mode in h2c tls; do
        label="nginx http2 ($mode), traced server, h2load -c 4 -m 16"
        [[ $mode == tls ]] && label="nginx http2 on TLS (ALPN h2), traced server, h2load -c 4 -m 16"
        vs_none=($(ratio_list "${h2_rps[shim.$mode]}" "${h2_rps[none.$mode]}"))
        vs_pass=($(ratio_list "${h2_rps[shim.$mode]}" "${h2_rps[pass.$mode]}"))
        cpu=($(ratio_list "${h2_cpu[pass.$mode]}" "${h2_cpu[shim.$mode]}"))
        echo "| h2 | $label, shim / pass | >= 0.95 | **$(median "${vs_pass[@]}")** ($(minmax "${vs_pass[@]}")); shim / none $(median "${vs_none[@]}") ($(minmax "${vs_none[@]}")) | $(verdict "$(median "${vs_pass[@]}")" 0.95 ge 0.1 "${vs_pass[@]}") |"
        echo "| h2 | nginx CPU per request ($mode), us | | **shim $(median ${h2_cpu[shim.$mode]}), pass $(median ${h2_cpu[pass.$mode]}), none $(median ${h2_cpu[none.$mode]})**; pass / shim $(median "${cpu[@]}") ($(minmax "${cpu[@]}")) | |"
    done
}

h2_raw_values() {
    local mode cfg
    for mode in h2c tls; do
        echo "- h2load $mode req/s: none${h2_rps[none.$mode]}; pass${h2_rps[pass.$mode]}; shim${h2_rps[shim.$mode]}"
        echo "- nginx CPU us per request, $mode: none${h2_cpu[none.$mode]}; pass${h2_cpu[pass.$mode]}; shim${h2_cpu[shim.$mode]}"
        for cfg in none pass shim; do
            echo "- h2load $mode, $cfg: ${h2_bad[$cfg.$mode]} request(s) failed, errored or timed out"
        done
    done
}
