#!/usr/bin/env bash
# Build and run the unit tests and the block qtests at every prefix of the
# series (incremental builds, ccache), in $WORK/qemu and $WORK/build.
# MQ_BISECT_IOTESTS="NAME..." also runs those iotests (qcow2) at every
# prefix whose tree has them, e.g. a fix's test from the fix on.
set -euo pipefail
. "$(dirname "$0")/common.sh"
S=$TOP/scripts

"$S/fetch.sh"
"$S/apply.sh"
mapfile -t commits < <(git -C "$SRC" rev-list --reverse v10.2.2..series)
trap 'git -C "$SRC" checkout -q series' EXIT
# MQ_BISECT_FROM=N starts at patch N (0 = pristine v10.2.2), e.g. to check
# only the patches added since the last full run.
from=${MQ_BISECT_FROM:-0}
i=0
for c in v10.2.2 "${commits[@]}"; do
    if [ "$i" -lt "$from" ]; then
        i=$((i + 1))
        continue
    fi
    say "bisect: [$i/${#commits[@]}] $(git -C "$SRC" log -1 --format=%s "$c")"
    git -C "$SRC" checkout -q "$c"
    "$S/build.sh" >/dev/null || die "build fails at $c"
    "$S/test-unit.sh" | grep '^RESULT' || die "unit tests fail at $c"
    "$S/test-qtest.sh" | grep '^RESULT' || die "qtests fail at $c"
    for t in ${MQ_BISECT_IOTESTS:-}; do
        [ -e "$SRC/tests/qemu-iotests/tests/$t" ] || continue
        (cd "$BUILD/tests/qemu-iotests" &&
         PATH=/usr/bin:/bin:$PATH ./check -qcow2 "$t" | tail -1) ||
            die "iotest $t fails at $c"
    done
    i=$((i + 1))
done
say "bisect: every prefix builds and passes"
