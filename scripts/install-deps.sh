#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only those missing.
set -euo pipefail
packages=(
  gcc make pkg-config
  libcurl4-openssl-dev libprotobuf-c-dev protobuf-c-compiler libunwind-dev zlib1g-dev
  bats bats-assert bats-support
  curl python3 nginx-light valgrind procps iproute2
  wrk redis-server redis-tools gnuplot-nox
)
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# nginx from any flavour will do
if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v nginx >/dev/null 2>&1; then
  missing=("${missing[@]/nginx-light}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
