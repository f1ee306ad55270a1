#!/usr/bin/env bash
# build-deb.sh ROOT VERSION OUT.deb: turns ROOT, filled by
# `make install DESTDIR=ROOT PREFIX=/usr` (see packaging/deb.mk), into a
# binary Debian package. Adds what only the package has (the copyright file,
# DEBIAN/control with computed Depends and Installed-Size, md5sums).
set -euo pipefail

root=${1:?usage: build-deb.sh ROOT VERSION OUT.deb}
version=${2:?usage: build-deb.sh ROOT VERSION OUT.deb}
out=${3:?usage: build-deb.sh ROOT VERSION OUT.deb}
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)

# Debug information goes, as in any Debian package; the symbol table stays:
# `otelauto doctor PID` finds oa_export_counters_live in the .symtab of the
# libotelauto.so a process mapped, and --strip-debug keeps .symtab.
while IFS= read -r -d '' f; do
    if [[ $(head -c 4 "$f" | od -An -c | tr -d ' ') == '177ELF' ]]; then
        strip --strip-debug "$f"
    fi
done < <(find "$root/usr" -type f -print0)

install -D -m 0644 "$here/copyright" "$root/usr/share/doc/otelauto/copyright"

depends=$("$here/deb-depends.sh" "$root")
# in KiB, the package's files only (Debian policy: du -k of the payload)
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)

install -d -m 0755 "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<EOF
Package: otelauto
Version: $version
Architecture: $arch
Maintainer: otelauto developers <otelauto@localhost>
Installed-Size: $installed_size
Depends: $depends
Section: utils
Priority: optional
Description: zero-code OpenTelemetry tracing for unmodified programs
 otelauto traces dynamically linked programs without changing or rebuilding
 them: a library loaded with LD_PRELOAD recognises HTTP/1.x on the sockets
 (and in OpenSSL and libcurl calls), turns each request into an
 OpenTelemetry span, propagates the W3C trace context between processes,
 measures the HTTP metrics, and exports over OTLP/HTTP to any
 OpenTelemetry backend.
 .
 The otelauto command runs a program under the library (otelauto run) and
 tells why a program or a running process is or is not traced
 (otelauto doctor). The configuration is the standard OTEL_* environment
 variables, described in otelauto(7).
EOF
chmod 0644 "$root/DEBIAN/control"

(cd "$root" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

dpkg-deb --root-owner-group --build "$root" "$out"

if command -v lintian >/dev/null; then
    # advice only: the package is built without a debian/ source tree
    lintian --no-tag-display-limit "$out" || true
fi
