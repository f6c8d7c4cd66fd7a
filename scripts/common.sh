# Shared settings for the project scripts; sourced, not run.
# shellcheck shell=bash

QEMU_VERSION=10.2.2
DEB_VERSION=1:10.2.2+ds-1
# Debian's repacked tarball (no firmware blobs, no vendored meson wheel).
DEB_TARBALL=qemu_10.2.2+ds.orig.tar.xz
DEB_SHA256=be05230fe47a6937cd29f28f562932c8125f9c93c2a82c625198f7a4aa601dfb
# Upstream's release tarball, as pinned by several independent public
# build scripts (Homebrew formula, distribution build scripts).
UP_TARBALL=qemu-10.2.2.tar.xz
UP_URL=https://download.qemu.org/qemu-10.2.2.tar.xz
UP_SHA256=784b296ff29c1417aa72323abcb2d2ea9ab9771724f577dcd785c3b04f21e176

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK:-$TOP/work}
CACHE=${MQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qemu-mq}
SRC=$WORK/qemu             # git tree: v10.2.2 + the series as commits
BUILD=$WORK/build          # build directory of $SRC
PRISTINE_SRC=$WORK/pristine    # worktree of the v10.2.2 tag
PRISTINE_BUILD=$WORK/build-pristine

export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# hit the cache from any clone of this repository
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$WORK}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The identity used for commits made by the scripts in the QEMU tree.
mq_git() {
    git -c user.name="${MQ_NAME:-$(git -C "$TOP" config user.name || echo mq-block)}" \
        -c user.email="${MQ_EMAIL:-$(git -C "$TOP" config user.email || echo mq-block@localhost)}" \
        -c advice.detachedHead=false "$@"
}

# The iotests that the series adds to QEMU's tree and that the sanitizer
# stages run (multiqueue, mirror, export, shared-node, throttling and block
# job tests with several IOThreads)
MQ_TREE_IOTESTS="multiqueue-drivers multiqueue-stress multiqueue-faults
                 qcow2-multiqueue-integrity mirror-active-multiqueue
                 iothreads-export-device iothreads-shared-node
                 throttle-multiqueue jobs-multiqueue"

# Copy the series' multiqueue iotests and their guest driver from $SRC into
# the tree $1 (pristine v10.2.2), kept out of git there.
mq_install_series_iotests() {
    local dst=$1 exclude f
    exclude=$(git -C "$dst" rev-parse --path-format=absolute --git-path info/exclude)
    for f in mqvirtio.py $(for t in $MQ_TREE_IOTESTS; do
                               echo "tests/$t tests/$t.out"; done); do
        cp "$SRC/tests/qemu-iotests/$f" "$dst/tests/qemu-iotests/$f"
        grep -qxF "/tests/qemu-iotests/$f" "$exclude" ||
            echo "/tests/qemu-iotests/$f" >>"$exclude"
    done
}

# Copy this project's iotests (tests-iotests/) into the iotests tests/
# directory of the QEMU tree $1, kept out of git there; print the names
# of the tests (helpers *.py and the lists are copied but not tests).
mq_install_own_iotests() {
    local src=$1 exclude f name
    exclude=$(git -C "$src" rev-parse --path-format=absolute --git-path info/exclude)
    for f in "$TOP"/tests-iotests/*; do
        name=$(basename "$f")
        case $name in known-failures|README*) continue ;; esac
        cp "$f" "$src/tests/qemu-iotests/tests/"
        grep -qxF "/tests/qemu-iotests/tests/$name" "$exclude" ||
            echo "/tests/qemu-iotests/tests/$name" >>"$exclude"
        case $name in *.out|*.py) ;; *) echo "$name" ;; esac
    done
}

# Print the URI of the Debian archive this machine already uses (the first
# 'deb' source for its release codename, one-line or deb822 format), so
# that the entries the scripts add use the same mirror; no script names one.
debian_archive_uri() {
    local codename f uri
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || die "cannot tell the Debian release from /etc/os-release"
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
             /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        case $f in
        *.sources)
            # deb822 stanzas are separated by blank lines
            uri=$(awk -v rel="$codename" '
                function flush() {
                    if (!done && (" " types " ") ~ / deb / &&
                        (" " suites " ") ~ (" " rel " ")) {
                        split(uris, u, " "); print u[1]; done = 1
                    }
                    types = uris = suites = ""
                }
                /^[ \t]*$/ { flush(); next }
                /^Types:/  { sub(/^Types:[ \t]*/, "");  types = $0 }
                /^URIs:/   { sub(/^URIs:[ \t]*/, "");   uris = $0 }
                /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
                END        { flush() }' "$f") ;;
        *)
            # deb [options] URI SUITE COMPONENT...
            uri=$(sed -E 's/\[[^]]*\]//' "$f" |
                  awk -v rel="$codename" '$1 == "deb" && $3 == rel { print $2; exit }') ;;
        esac
        if [ -n "$uri" ]; then
            echo "$uri"
            return 0
        fi
    done
    die "no 'deb' source for Debian $codename in /etc/apt/sources.list*"
}
