#!/usr/bin/env bash
# Run IOThread iotests repeatedly while an fsync-heavy writer keeps the
# disk busy (-L: without it), and count passes (the iothreads-create hang
# of issue 6 showed only under such load).  Run N gets MQ_STRESS_SEED=N.
#   scripts/iotests-under-load.sh [-n RUNS] [-b BUILD] [-L] [TEST...]
# Default: 20 runs of iothreads-create and the other tests/iothreads-*.
set -euo pipefail
. "$(dirname "$0")/common.sh"

runs=20
build=$BUILD
load=1
while getopts n:b:L opt; do
    case $opt in
    n) runs=$OPTARG ;;
    b) build=$OPTARG ;;
    L) load=0 ;;
    *) die "usage: $0 [-n RUNS] [-b BUILD] [-L] [TEST...]" ;;
    esac
done
shift $((OPTIND - 1))
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(iothreads-create iothreads-commit-active
                                  iothreads-resize iothreads-stream)
build=$(cd "$build" && pwd)
it=$build/tests/qemu-iotests
[ -x "$it/check" ] || die "no iotests in $build"

for src in "$SRC" "$PRISTINE_SRC"; do
    [ ! -d "$src/tests/qemu-iotests" ] || mq_install_own_iotests "$src" >/dev/null
done

what="under fsync load"
if [ "$load" = 1 ]; then
    load_dir=$(mktemp -d "$it/load.XXXXXX")
    (
        while :; do
            dd if=/dev/zero of="$load_dir/f" bs=1M count=64 conv=fsync status=none
        done
    ) &
    load=$!
    trap 'kill $load 2>/dev/null; wait $load 2>/dev/null; rm -rf "$load_dir"' EXIT
    say "load: fsync writer running (pid $load)"
else
    what="without load"
fi

cd "$it"
for t in "${tests[@]}"; do
    pass=0
    start=$SECONDS
    for n in $(seq "$runs"); do
        if MQ_STRESS_SEED=$n timeout 300 ./check -qcow2 "$t" >/dev/null 2>&1; then
            pass=$((pass + 1))
        else
            say "$t: run $n (MQ_STRESS_SEED=$n) failed"
        fi
    done
    echo "RESULT $t $pass/$runs passed $what in $((SECONDS - start)) s ($build)"
done
