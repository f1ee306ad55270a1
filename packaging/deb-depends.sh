#!/usr/bin/env bash
# deb-depends.sh ROOT: prints the Depends field value of a package staged in
# ROOT, worked out from the ELF files there, never typed by hand, so that
# linking a new library (libunwind, say) changes Depends with no other edit.
#
# For each DT_NEEDED entry of each ELF file under ROOT: the path the dynamic
# loader resolves it to on this machine (ldd), the Debian package owning
# that path (dpkg -S), and ">= " the version installed here. That version is
# a safe lower bound, if a strict one (dpkg-shlibdeps would find the oldest
# version providing the symbols used; it needs a debian/ source tree we do
# not have). The Debian revision is dropped: any build of that upstream
# version will do. The epoch is kept, without it the bound would be void.
#
# Fails when a library cannot be resolved or belongs to no package: a
# package that does not name all it needs must not be built.
set -euo pipefail

root=${1:?usage: deb-depends.sh ROOT}

die() {
    echo "deb-depends.sh: $*" >&2
    exit 1
}

is_elf() {
    [[ $(head -c 4 "$1" | od -An -c | tr -d ' ') == '177ELF' ]]
}

# The package owning PATH, as dpkg names it (with :ARCH for Multi-Arch:
# same libraries, which dpkg-query needs). With merged /usr, dpkg knows a
# file by the path its package shipped, which may be the /usr-less one or
# the one behind a symbolic link: try each.
owner_of() {
    local path=$1 candidates=() c line
    candidates+=("$path" "$(readlink -f "$path")")
    for c in "${candidates[@]}"; do
        case $c in
            /usr/*) candidates+=("${c#/usr}") ;;
            *) candidates+=("/usr$c") ;;
        esac
    done
    for c in "${candidates[@]}"; do
        # "pkg:arch: /path"; diversion notices and shared folders are not owners
        line=$(dpkg -S "$c" 2>/dev/null | grep -v '^diversion' | grep -E "^[^ ,]+: $c\$" | head -n 1) ||
            continue
        [[ -n $line ]] && {
            printf '%s\n' "${line%%: /*}"
            return 0
        }
    done
    return 1
}

declare -A bound=()
while IFS= read -r -d '' file; do
    is_elf "$file" || continue
    libs=$(ldd "$file" 2>/dev/null || true)
    while IFS= read -r needed; do
        [[ -n $needed ]] || continue
        # "name => /path (addr)", or "/path/name (addr)" for the loader itself
        path=$(awk -v n="$needed" '$1 == n && $2 == "=>" { print $3; exit }
                                   $1 ~ ("/" n "$") { print $1; exit }' <<<"$libs")
        [[ $path == /* && -e $path ]] || die "${file#"$root"}: $needed not found by ldd"
        owner=$(owner_of "$path") || die "${file#"$root"}: $path ($needed) belongs to no package"
        version=$(dpkg-query -W -f='${Version}' "$owner")
        [[ $version == *-* ]] && version=${version%-*}
        bound[${owner%%:*}]=$version
    done < <(readelf -dW "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
done < <(find "$root" -path "$root/DEBIAN" -prune -o -type f -print0)

((${#bound[@]} > 0)) || die "no ELF file with DT_NEEDED entries under $root"
for pkg in "${!bound[@]}"; do
    printf '%s (>= %s)\n' "$pkg" "${bound[$pkg]}"
done | LC_ALL=C sort | paste -sd, - | sed 's/,/, /g'
