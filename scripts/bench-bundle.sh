#!/usr/bin/env bash
# Write bench/bench-bundle.tgz: the in-process benchmark built in the
# pristine and in the series tree, every library that ldd lists (the
# dynamic loader included) and sweep.sh (scripts/bench-sweep.sh), so that
# a machine without build tools can run the sweep:
#   tar xzf bench-bundle.tgz && bench-bundle/sweep.sh 1,2,4,8,16
# (../shared/device-bench.md).  Builds the trees first unless --no-build.
set -euo pipefail
. "$(dirname "$0")/common.sh"

python3 "$TOP/scripts/bench.py" --bins-only "$@"

out=$TOP/bench/bench-bundle
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
for tree in pristine series; do
    cp "$WORK/bench-bin/$tree/bench-block-multiqueue" "$out/bin/bench-$tree"
    strip "$out/bin/bench-$tree"
done
ldd "$out"/bin/bench-* |
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' |
    sort -u | while read -r lib; do
        cp -L "$lib" "$out/lib/"
    done
[ -e "$out/lib/ld-linux-x86-64.so.2" ] || die "bench-bundle: no dynamic loader found by ldd"
cp "$TOP/scripts/bench-sweep.sh" "$out/sweep.sh"
tar -C "$TOP/bench" -czf "$TOP/bench/bench-bundle.tgz" bench-bundle
say "bench-bundle: wrote bench/bench-bundle.tgz ($(du -h "$TOP/bench/bench-bundle.tgz" | cut -f1)," \
    "$(ls "$out/lib" | wc -l) libraries); run bench-bundle/sweep.sh there"
