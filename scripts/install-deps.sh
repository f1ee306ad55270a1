#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only those missing.
set -euo pipefail
packages=(
  gcc make pkg-config
  libcurl4-openssl-dev libprotobuf-c-dev protobuf-c-compiler libunwind-dev zlib1g-dev
  bats bats-assert bats-support
  curl python3 nginx-light valgrind procps iproute2 strace
  clang libclang-rt-14-dev libpython3.11-testsuite
  openssl libssl-dev
  nodejs openjdk-17-jdk-headless
  wrk redis-server redis-tools gnuplot-nox
  python3-yaml libcap2-bin musl-tools golang-go
  python3-grpcio python3-redis python3-psycopg2 python3-pymysql python3-aiohttp
  postgresql mariadb-server libdbd-mariadb-perl nghttp2-client nghttp2-proxy
)
# The HTTPS tests need nginx with the ssl and http_v2 modules: Debian 12's
# nginx (which nginx-light depends on) has both; older flavours may not.
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# nginx from any flavour will do
if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v nginx >/dev/null 2>&1; then
  missing=("${missing[@]/nginx-light}")
fi
# node from any source will do (tests/programs/node_proxy.js needs only its http module)
if [[ " ${missing[*]} " == *" nodejs "* ]] && command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if command -v nginx >/dev/null 2>&1 && ! nginx -V 2>&1 | grep -q -- --with-http_v2_module; then
  missing+=(nginx-full)
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
