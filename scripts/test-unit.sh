#!/usr/bin/env bash
# Run the block-layer and AIO unit tests of a build with meson.
#   scripts/test-unit.sh [BUILD]
# Tests that do not exist in the build (earlier patches of the series) are
# left out, so the script works at every prefix of the series.
# MQ_TIMEOUT_MULTIPLIER scales meson's per-test timeouts (sanitizer builds
# run several times slower).
set -euo pipefail
. "$(dirname "$0")/common.sh"
build=${1:-$BUILD}

UNIT_TESTS=(
    test-block-iothread test-bdrv-drain test-bdrv-graph-mod test-block-backend
    test-blockjob test-aio test-aio-multithread test-throttle test-thread-pool
    # added by the series
    test-block-serialising test-block-multiqueue test-block-home-context
    test-block-queue test-block-accounting
)

known=$(meson test -C "$build" --list 2>/dev/null | sed -n 's|^qemu:unit / ||p')
tests=()
for t in "${UNIT_TESTS[@]}"; do
    grep -qxF "$t" <<<"$known" && tests+=("$t")
done
[ ${#tests[@]} -gt 0 ] || die "no unit tests built in $build"

log=$build/meson-logs/mq-unit.txt
rc=0
meson test -C "$build" --no-rebuild --print-errorlogs \
    --timeout-multiplier "${MQ_TIMEOUT_MULTIPLIER:-1}" "${tests[@]}" >"$log" 2>&1 || rc=$?
grep -E '^ *[0-9]+/[0-9]+ ' "$log" | sed 's/^/  /'
ok=$(sed -n 's/^Ok: *//p' "$log")
fail=$(sed -n 's/^Fail: *//p' "$log")
skip=$(sed -n 's/^Skipped: *//p' "$log")
timeout=$(sed -n 's/^Timeout: *//p' "$log")
echo "RESULT unit ${ok:-0} $(( ${fail:-0} + ${timeout:-0} )) ${skip:-0}"
[ "$rc" = 0 ] || { grep -A30 'stderr:' "$log" | head -60; exit 1; }
