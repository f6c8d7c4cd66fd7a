#!/usr/bin/env bash
# Run the qtests of the block devices: qos-test's virtio-blk, virtio-scsi
# and vhost-user-blk cases, plus the standalone block device qtests.
#   scripts/test-qtest.sh [BUILD]
set -euo pipefail
. "$(dirname "$0")/common.sh"
build=${1:-$BUILD}

export QTEST_QEMU_BINARY=$build/qemu-system-x86_64
export QTEST_QEMU_IMG=$build/qemu-img
export QTEST_QEMU_STORAGE_DAEMON_BINARY=$build/storage-daemon/qemu-storage-daemon
export G_TEST_DBUS_DAEMON=/bin/true
q=$build/tests/qtest
[ -x "$q/qos-test" ] || die "no $q/qos-test in $build"

STANDALONE=(
    # added by the series
    virtio-blk-iothread-vq-mapping-test
)

log=$build/meson-logs/mq-qtest.txt
: >"$log"
# glib 2.74 wants full paths for -p: pick them from the list
mapfile -t paths < <("$q/qos-test" -l | grep -E '/(virtio-blk|virtio-scsi|vhost-user-blk)[^/]*/' )
args=()
for p in "${paths[@]}"; do
    args+=(-p "$p")
done
rc=0
run() {   # run NAME CMD...: TAP output appended to the log
    local name=$1
    shift
    echo "# $name" >>"$log"
    timeout 600 "$@" --tap >>"$log" 2>&1 || { rc=1; echo "  $name: FAILED"; }
}
run qos-test "$q/qos-test" "${args[@]}"
known=$(meson test -C "$build" --list 2>/dev/null | sed -n 's|^qemu:qtest.* / qtest-x86_64/||p')
for t in "${STANDALONE[@]}"; do
    if grep -qxF "$t" <<<"$known"; then
        run "$t" "$q/$t"
    fi
done
ok=$(grep -cE '^ok ' "$log" || true)
skip=$(grep -cE '^ok .*# SKIP' "$log" || true)
fail=$(grep -cE '^not ok ' "$log" || true)
grep -E '^not ok ' "$log" | sed 's/^/  /' || true
echo "RESULT qtest $((ok - skip)) $fail $skip"
[ "$rc" = 0 ] && [ "$fail" = 0 ] || { tail -40 "$log"; exit 1; }
