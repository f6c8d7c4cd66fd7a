#!/usr/bin/env bash
# Configure (once) and build a QEMU tree for block-layer work.
#   scripts/build.sh [SRC BUILD]    default: $WORK/qemu $WORK/build
set -euo pipefail
. "$(dirname "$0")/common.sh"

src=${1:-$SRC}
build=${2:-$BUILD}
[ -f "$src/VERSION" ] || die "no QEMU tree at $src (run scripts/fetch.sh)"
src=$(cd "$src" && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)

# One configure line: x86_64 with TCG and KVM (nested KVM guests hang on
# these machines, so guest tests use TCG), the tools, linux-aio and io_uring,
# vhost-user for the vhost-user-blk qtest, the image formats iotests use,
# and the network drivers whose servers run on loopback here (curl, ssh,
# iscsi, nfs).  Debian 12 has no libblkio.
CONFIGURE_ARGS=(
    --target-list=x86_64-softmmu --without-default-features
    --disable-download --disable-docs --disable-user --disable-rust
    --enable-tcg --enable-kvm --enable-tools --enable-werror
    --enable-linux-aio --enable-linux-io-uring
    --enable-vhost-user --enable-vhost-kernel --enable-vhost-net
    --enable-vhost-user-blk-server --enable-libvduse --enable-vduse-blk-export
    --enable-gnutls --enable-fuse --enable-fuse-lseek --enable-zstd
    --enable-malloc-trim --enable-replication
    --enable-bochs --enable-cloop --enable-dmg --enable-qcow1 --enable-vdi
    --enable-vhdx --enable-vmdk --enable-vpc --enable-vvfat --enable-qed
    --enable-parallels --disable-install-blobs
    --enable-curl --enable-libssh --enable-libiscsi --enable-libnfs
    --python=/usr/bin/python3 --cc=/usr/lib/ccache/gcc
    ${MQ_CONFIGURE_EXTRA:-}
)

# Debian's +ds tarball lacks the edk2 blobs that pc-bios/meson.build unpacks
# for x86_64-softmmu.  Empty placeholders (kept out of git) let configure
# run; no test here boots UEFI firmware.
if [ ! -e "$src/pc-bios/edk2-x86_64-code.fd.bz2" ]; then
    say "build: creating placeholders for the edk2 blobs missing from the tarball"
    exclude=$(git -C "$src" rev-parse --path-format=absolute --git-path info/exclude)
    for n in aarch64-code arm-code arm-vars riscv-code riscv-vars i386-code \
             i386-secure-code i386-vars x86_64-code x86_64-secure-code \
             loongarch64-code loongarch64-vars; do
        bzip2 -c </dev/null >"$src/pc-bios/edk2-$n.fd.bz2"
        grep -qxF "/pc-bios/edk2-$n.fd.bz2" "$exclude" ||
            echo "/pc-bios/edk2-$n.fd.bz2" >>"$exclude"
    done
fi

mkdir -p "$build"
stamp="$build/.mq-configure-args"
if [ ! -f "$build/build.ninja" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${CONFIGURE_ARGS[*]}" ]; then
    say "build: configure $build"
    (cd "$build" && "$src/configure" "${CONFIGURE_ARGS[@]}" >configure.log 2>&1) ||
        { tail -30 "$build/configure.log"; die "configure failed (see $build/configure.log)"; }
    echo "${CONFIGURE_ARGS[*]}" >"$stamp"
fi

# Run from the build directory QEMU finds firmware only in qemu-bundle:
# take the x86 BIOS, VGA BIOS, iPXE ROMs and option ROMs from Debian.
fw=$build/qemu-bundle/usr/local/share/qemu
mkdir -p "$fw"
for f in /usr/share/seabios/*.bin /usr/lib/ipxe/qemu/*.rom \
         /usr/share/qemu/{linuxboot,linuxboot_dma,kvmvapic,multiboot,multiboot_dma,pvh}.bin; do
    [ -e "$f" ] && [ ! -e "$fw/$(basename "$f")" ] && ln -s "$f" "$fw/"
done

say "build: ninja in $build ($(nproc) jobs)"
start=$SECONDS
ninja -C "$build" -j"$(nproc)" ${MQ_NINJA_TARGETS:-} | {
    # one progress line every 500 steps instead of thousands
    awk '/^\[[0-9]+\/[0-9]+\]/ { split(substr($1, 2), a, "/");
             if (a[1] % 500 == 0 || a[1] == a[2]) { print "  " $1; fflush() } next }
         /error:|warning:|FAILED|ninja: / { print; fflush() }'
}
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || die "build failed in $build (ninja exit $rc)"
say "build: done in $((SECONDS - start)) s"
