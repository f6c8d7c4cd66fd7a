#!/usr/bin/env bash
# Run IOThread iotests repeatedly while an fsync-heavy writer keeps the
# disk busy, and count passes (the iothreads-create hang of issue 6 showed
# only under such load).
#   scripts/iotests-under-load.sh [-n RUNS] [-b BUILD] [TEST...]
# Default: 20 runs of iothreads-create and the other tests/iothreads-*.
set -euo pipefail
. "$(dirname "$0")/common.sh"

runs=20
build=$BUILD
while getopts n:b: opt; do
    case $opt in
    n) runs=$OPTARG ;;
    b) build=$OPTARG ;;
    *) die "usage: $0 [-n RUNS] [-b BUILD] [TEST...]" ;;
    esac
done
shift $((OPTIND - 1))
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(iothreads-create iothreads-commit-active
                                  iothreads-resize iothreads-stream)
build=$(cd "$build" && pwd)
it=$build/tests/qemu-iotests
[ -x "$it/check" ] || die "no iotests in $build"

load_dir=$(mktemp -d "$it/load.XXXXXX")
(
    while :; do
        dd if=/dev/zero of="$load_dir/f" bs=1M count=64 conv=fsync status=none
    done
) &
load=$!
trap 'kill $load 2>/dev/null; wait $load 2>/dev/null; rm -rf "$load_dir"' EXIT
say "load: fsync writer running (pid $load)"

cd "$it"
for t in "${tests[@]}"; do
    pass=0
    for _ in $(seq "$runs"); do
        if timeout 120 ./check -qcow2 "$t" >/dev/null 2>&1; then
            pass=$((pass + 1))
        fi
    done
    echo "RESULT $t $pass/$runs passed under fsync load ($build)"
done
