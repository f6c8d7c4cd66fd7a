#!/usr/bin/env bash
# The test command: lint, fetch, apply, build, unit tests, qtests, iotests.
# Stops at the first failing stage; prints a summary with timings.
#   scripts/check.sh [STAGE...]   (default: all stages)
set -euo pipefail
. "$(dirname "$0")/common.sh"
S=$TOP/scripts

STAGES=(fetch lint apply build unit qtest iotests)
[ $# -gt 0 ] && STAGES=("$@")

summary=()
total_start=$SECONDS
finish() {
    echo
    echo "== summary =="
    printf '%-9s %7s %7s %7s %8s\n' stage passed failed skipped seconds
    printf '%s\n' "${summary[@]}"
    echo "total: $((SECONDS - total_start)) s"
}
trap finish EXIT

for st in "${STAGES[@]}"; do
    say "== $st =="
    start=$SECONDS
    out=$WORK/logs/$st.txt
    mkdir -p "$WORK/logs"
    case $st in
    fetch) cmd=("$S/fetch.sh") ;;
    lint) cmd=("$S/lint.sh") ;;
    apply) cmd=("$S/apply.sh") ;;
    build) cmd=("$S/build.sh") ;;
    unit) cmd=("$S/test-unit.sh") ;;
    qtest) cmd=("$S/test-qtest.sh") ;;
    iotests) cmd=("$S/test-iotests.sh") ;;
    *) die "unknown stage $st (one of fetch lint apply build unit qtest iotests)" ;;
    esac
    rc=0
    "${cmd[@]}" 2>&1 | tee "$out" || rc=${PIPESTATUS[0]}
    secs=$((SECONDS - start))
    res=$(sed -n 's/^RESULT [^ ]* //p' "$out" | tail -1)
    if [ -n "$res" ]; then
        read -r p f k <<<"$res"
        summary+=("$(printf '%-9s %7s %7s %7s %8s' "$st" "$p" "$f" "$k" "$secs")")
    else
        summary+=("$(printf '%-9s %7s %7s %7s %8s' "$st" "$([ $rc = 0 ] && echo ok || echo -)" "$([ $rc = 0 ] && echo - || echo FAIL)" - "$secs")")
    fi
    if [ "$rc" != 0 ]; then
        echo "check: stage '$st' failed (exit $rc); log in $out" >&2
        exit "$rc"
    fi
done
say "check: all stages passed"
