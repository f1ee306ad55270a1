# Sourced by scripts/bench.sh and scripts/measure-nginx-worker.sh: the nginx
# the benchmarks load, written once so that every figure measures the same
# server. One worker with master_process off (the worker is the process
# measured), sendfile, a 612-byte file, keep-alive for the whole run.

# write_bench_nginx DIR PORT: DIR/nginx.conf, serving DIR/www/index.html on
# 127.0.0.1:PORT, logs and temporary files under DIR
write_bench_nginx() {
    local dir=$1 port=$2
    mkdir -p "$dir/www" "$dir/tmp"
    head -c 612 /dev/zero | tr '\0' 'x' >"$dir/www/index.html"
    cat >"$dir/nginx.conf" <<EOC
daemon off;
master_process off;
worker_processes 1;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_timeout 60s;
    keepalive_requests 10000000;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port;
        root $dir/www;
    }
}
EOC
}
