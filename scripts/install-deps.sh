#!/usr/bin/env bash
# Install the Debian packages needed to fetch, build and test the series.
# Needs root (or sudo).  Idempotent: does nothing when everything is present.
set -euo pipefail
. "$(dirname "$0")/common.sh"

PKGS=(
    ninja-build pkg-config libglib2.0-dev libpixman-1-dev libslirp-dev
    liburing-dev libaio-dev libfdt-dev libzstd-dev zlib1g-dev flex bison
    python3-venv python3-pycotap python3-libnbd ccache quilt
    libfuse3-dev libgnutls28-dev gnutls-bin device-tree-compiler
    lib32gcc-12-dev socat seabios ipxe-qemu qemu-system-data
    dpkg-dev xz-utils git valgrind gnuplot-nox
    fio busybox-static clang
    libcurl4-gnutls-dev libssh-dev libiscsi-dev libnfs-dev
    lighttpd openssh-server openssh-client tgt nfs-ganesha nfs-ganesha-vfs
    rpcbind
)

SUDO=
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi

missing=()
for p in "${PKGS[@]}"; do
    grep -q "ok installed" < <(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) ||
        missing+=("$p")
done
meson_ok=0
if [ -x /usr/bin/meson ] && dpkg --compare-versions \
        "$(/usr/bin/meson --version 2>/dev/null || echo 0)" ge 1.5; then
    meson_ok=1
fi

if [ ${#missing[@]} = 0 ] && [ $meson_ok = 1 ]; then
    echo "install-deps: all packages present"
    exit 0
fi

# meson >= 1.5 comes from bookworm-backports; deb-src lets fetch.sh use
# 'apt-get source'.  Both from the archive the machine already uses.
list=/etc/apt/sources.list.d/mq-block.sources
if [ ! -f "$list" ]; then
    uri=$(debian_archive_uri)
    $SUDO tee "$list" >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: $uri
Suites: sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
$SUDO apt-get update -q
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -q -y --no-install-recommends "${PKGS[@]}"
$SUDO apt-get install -q -y --no-install-recommends -t bookworm-backports meson
echo "install-deps: meson $(/usr/bin/meson --version)"
