#!/usr/bin/env bash
# Run qemu-iotests: the quick group for qcow2 and raw, every test that uses
# IOThreads (with qcow2), and this project's tests-iotests/.  Failures are
# compared with tests-iotests/known-failures (failures of pristine v10.2.2).
#   scripts/test-iotests.sh [SRC BUILD]
set -euo pipefail
. "$(dirname "$0")/common.sh"
src=${1:-$SRC}
build=${2:-$BUILD}
known=$TOP/tests-iotests/known-failures
it=$build/tests/qemu-iotests
[ -x "$it/check" ] || die "no iotests in $build"

# Our own tests join the tree's tests/ directory, kept out of git.
mapfile -t own < <(mq_install_own_iotests "$src")

# Every test whose source mentions IOThreads, minus the quick group.
cd "$src/tests/qemu-iotests"
mapfile -t quick < <(cd "$it" && ./check -n -qcow2 -g quick 2>/dev/null)
# (check wants bare names: "iothreads-create", not "tests/iothreads-create")
mapfile -t iothread < <(grep -lis iothread [0-9][0-9][0-9] tests/* |
                        grep -v '\.out$\|\.py$' | sed 's|^tests/||' | sort)
extra=()
for t in "${iothread[@]}"; do
    grep -qxF "$t" < <(printf '%s\n' "${quick[@]}") || extra+=("$t")
done

log=$build/meson-logs/mq-iotests.txt
: >"$log"
runs=(
    "-qcow2 -g quick"
    "-raw -g quick"
    "-qcow2 ${extra[*]} ${own[*]}"
)
cd "$it"
# Debian's python3 (not a pyenv one first on PATH) sees python3-libnbd
export PATH=/usr/bin:/bin:$PATH
for r in "${runs[@]}"; do
    say "iotests: check $(echo "$r" | cut -c1-70)..."
    # shellcheck disable=SC2086
    before=$(grep -c '^TAP version' "$log" || true)
    timeout 1800 ./check -tap $r >>"$log" 2>&1 || true
    # check exits non-zero when a test fails; a run without TAP output is
    # an error of its own (bad arguments, timeout)
    [ "$(grep -c '^TAP version' "$log")" -gt "$before" ] ||
        { tail -5 "$log"; die "iotests: 'check $r' did not run"; }
done

# TAP lines: "ok FMT TEST", "ok FMT TEST # SKIP why", "not ok FMT TEST"
pass=$(grep -E '^ok ' "$log" | grep -vc '# SKIP' || true)
skip=$(grep -cE '^ok .*# SKIP' "$log" || true)
mapfile -t failed < <(sed -n 's/^not ok \([^ ]*\) \([^ ]*\).*/\1 \2/p' "$log")
mapfile -t listed < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$known" | awk '{print $1, $2}')
bad=0
for f in "${failed[@]}"; do
    if grep -qxF "$f" < <(printf '%s\n' "${listed[@]}"); then
        echo "  known failure: $f"
    else
        echo "  NEW FAILURE: $f"
        bad=1
    fi
done
for k in "${listed[@]}"; do
    [ -n "$k" ] || continue
    if grep -qE "^ok ${k% *} ${k#* }\$" "$log"; then
        echo "  $k passes but is listed in tests-iotests/known-failures: update the list"
        bad=1
    fi
done
echo "RESULT iotests $pass ${#failed[@]} $skip"
exit $bad
