#!/usr/bin/env bash
# Get a pristine QEMU v10.2.2 into $WORK/qemu as a git repository whose
# single commit is tagged v10.2.2.
#
# Sources, tried in order:
#   QEMU_SRC=DIR          an existing QEMU 10.2.2 tree (checkout or unpacked)
#   QEMU_TARBALL=FILE     a tarball (Debian's +ds orig or upstream's release)
#   the cache             $MQ_CACHE (default ~/.cache/qemu-mq)
#   Debian                apt-get source --download-only qemu=1:10.2.2+ds-1
#   upstream              https://download.qemu.org/qemu-10.2.2.tar.xz
# Every tarball is checked against its pinned sha256.
set -euo pipefail
. "$(dirname "$0")/common.sh"

if [ -d "$SRC/.git" ] && git -C "$SRC" rev-parse -q --verify v10.2.2 >/dev/null; then
    say "fetch: $SRC already holds v10.2.2"
    exit 0
fi

tried=()

# check_tarball FILE: succeed if FILE has one of the pinned checksums
check_tarball() {
    local sum
    sum=$(sha256sum "$1" | cut -d' ' -f1)
    if [ "$sum" = "$DEB_SHA256" ] || [ "$sum" = "$UP_SHA256" ]; then
        return 0
    fi
    tried+=("$1: sha256 $sum matches neither $DEB_SHA256 ($DEB_TARBALL) nor $UP_SHA256 ($UP_TARBALL)")
    return 1
}

unpack_tree() {   # unpack_tree TARBALL|DIR
    rm -rf "$SRC.tmp"
    mkdir -p "$SRC.tmp"
    if [ -d "$1" ]; then
        [ "$(cat "$1/VERSION" 2>/dev/null)" = "$QEMU_VERSION" ] ||
            die "QEMU_SRC=$1 is not QEMU $QEMU_VERSION (VERSION file says '$(cat "$1/VERSION" 2>/dev/null)')"
        if [ -d "$1/.git" ]; then
            git -C "$1" archive --format=tar v10.2.2 | tar -x -C "$SRC.tmp"
        else
            tar -C "$1" --exclude=./build --exclude=./.git -cf - . | tar -x -C "$SRC.tmp"
        fi
    else
        say "fetch: unpacking $1"
        tar -xJf "$1" -C "$SRC.tmp" --strip-components=1
    fi
    [ "$(cat "$SRC.tmp/VERSION")" = "$QEMU_VERSION" ] ||
        die "$1 does not contain QEMU $QEMU_VERSION"
    (
        cd "$SRC.tmp"
        git init -q -b master
        # subprojects/.gitignore hides vendored subprojects: add them by force
        git add -A . && git add -f subprojects
        mq_git commit -q -m "QEMU $QEMU_VERSION (from $(basename "$1"))"
        git tag v10.2.2
    )
    rm -rf "$SRC"
    mv "$SRC.tmp" "$SRC"
    say "fetch: $SRC is at v10.2.2 ($(git -C "$SRC" ls-files | wc -l) files)"
}

mkdir -p "$WORK" "$CACHE"

# 1. A tree the user names.
if [ -n "${QEMU_SRC:-}" ]; then
    [ -d "$QEMU_SRC" ] || die "QEMU_SRC=$QEMU_SRC is not a directory"
    unpack_tree "$QEMU_SRC"
    exit 0
fi

# 2. A tarball the user names, then the cache.
cands=()
if [ -n "${QEMU_TARBALL:-}" ]; then
    [ -f "$QEMU_TARBALL" ] || die "QEMU_TARBALL=$QEMU_TARBALL: no such file"
    cands+=("$QEMU_TARBALL")
fi
cands+=("$CACHE/$DEB_TARBALL" "$CACHE/$UP_TARBALL")
for t in "${cands[@]}"; do
    if [ ! -f "$t" ]; then
        tried+=("$t: no such file")
        continue
    fi
    if check_tarball "$t"; then
        unpack_tree "$t"
        exit 0
    fi
    [ "$t" = "${QEMU_TARBALL:-}" ] && die "QEMU_TARBALL=$t has the wrong checksum (${tried[-1]})"
done

# 3. Debian's source package.
have_debsrc() {
    # no grep -q: an early exit would fail apt-cache with SIGPIPE (pipefail)
    apt-cache showsrc qemu 2>/dev/null | grep -x "Version: $DEB_VERSION" >/dev/null
}
if ! have_debsrc && [ "$(id -u)" = 0 ] && ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    say "fetch: adding a deb-src entry for Debian sid"
    cat > /etc/apt/sources.list.d/mq-block-src.sources <<SRC
Types: deb-src
URIs: $(debian_archive_uri)
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt-get update -q >/dev/null || true
fi
if have_debsrc; then
    say "fetch: apt-get source --download-only qemu=$DEB_VERSION"
    if (cd "$CACHE" && apt-get source -q --download-only "qemu=$DEB_VERSION" >/dev/null 2>"$CACHE/apt.err"); then
        if check_tarball "$CACHE/$DEB_TARBALL"; then
            unpack_tree "$CACHE/$DEB_TARBALL"
            exit 0
        fi
        rm -f "$CACHE/$DEB_TARBALL"
    else
        tried+=("apt-get source qemu=$DEB_VERSION: $(tail -1 "$CACHE/apt.err")")
    fi
else
    tried+=("apt-get source: no deb-src entry offers qemu $DEB_VERSION")
fi

# 4. Upstream.
if command -v curl >/dev/null; then
    say "fetch: downloading $UP_URL"
    if curl -fsSL --connect-timeout 15 -o "$CACHE/$UP_TARBALL.part" "$UP_URL" 2>"$CACHE/curl.err"; then
        mv "$CACHE/$UP_TARBALL.part" "$CACHE/$UP_TARBALL"
        if check_tarball "$CACHE/$UP_TARBALL"; then
            unpack_tree "$CACHE/$UP_TARBALL"
            exit 0
        fi
        rm -f "$CACHE/$UP_TARBALL"
    else
        tried+=("$UP_URL: $(head -1 "$CACHE/curl.err")")
    fi
else
    tried+=("$UP_URL: curl is not installed")
fi

{
    echo "error: could not get QEMU $QEMU_VERSION. Tried:"
    printf '  - %s\n' "${tried[@]}"
    echo "Set QEMU_SRC=DIR or QEMU_TARBALL=FILE to use a copy you have."
} >&2
exit 1
