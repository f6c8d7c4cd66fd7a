#!/usr/bin/env bash
# Run the test suites on pristine v10.2.2 and on the series and print a
# Markdown table (suite, passed, failed, skipped, seconds) for
# docs/baseline.md.  Builds work/build-pristine if needed.
set -euo pipefail
. "$(dirname "$0")/common.sh"
S=$TOP/scripts

"$S/build-pristine.sh" >/dev/null
"$S/apply.sh" >/dev/null
"$S/build.sh" >/dev/null

rows=()
for tree in pristine series; do
    if [ $tree = pristine ]; then src=$PRISTINE_SRC; build=$PRISTINE_BUILD; else src=$SRC; build=$BUILD; fi
    for suite in unit qtest iotests; do
        say "baseline: $suite on $tree"
        start=$SECONDS
        case $suite in
        unit) out=$("$S/test-unit.sh" "$build" 2>&1) || true ;;
        qtest) out=$("$S/test-qtest.sh" "$build" 2>&1) || true ;;
        iotests) out=$("$S/test-iotests.sh" "$src" "$build" 2>&1) || true ;;
        esac
        read -r p f k <<<"$(echo "$out" | sed -n 's/^RESULT [^ ]* //p' | tail -1)"
        rows+=("| $tree | $suite | ${p:-?} | ${f:-?} | ${k:-?} | $((SECONDS - start)) |")
        echo "$out" | grep -E 'known failure|NEW FAILURE|passes but' || true
    done
done
echo
echo "| tree | suite | passed | failed | skipped | seconds |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
