#!/usr/bin/env bash
# Apply the series onto v10.2.2 in $WORK/qemu (branch 'series', one commit
# per patch) with 'git am --3way', then check that 'quilt push -a' applies
# the same files with zero fuzz onto a pristine checkout.
set -euo pipefail
. "$(dirname "$0")/common.sh"

[ -d "$SRC/.git" ] || die "no QEMU tree at $SRC (run scripts/fetch.sh)"
mapfile -t patches < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$TOP/series" | awk '{print $1}')

# Skip the work when the branch already holds exactly these patches.
sum=$(cd "$TOP" && cat series "${patches[@]/#/patches/}" | sha256sum | cut -d' ' -f1)
stamp=$SRC/.git/mq-applied
if [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ] &&
   [ "$(git -C "$SRC" rev-parse --abbrev-ref HEAD)" = series ] &&
   git -C "$SRC" diff --quiet HEAD; then
    say "apply: series already applied (${#patches[@]} patches)"
    exit 0
fi
rm -f "$stamp"

# git am onto v10.2.2
git -C "$SRC" am --abort >/dev/null 2>&1 || true
git -C "$SRC" checkout -q -f -B series v10.2.2
n=0
for p in "${patches[@]}"; do
    n=$((n + 1))
    [ -f "$TOP/patches/$p" ] || die "series lists $p, but patches/$p does not exist"
    if ! out=$(mq_git -C "$SRC" am -q --3way "$TOP/patches/$p" 2>&1); then
        git -C "$SRC" am --abort >/dev/null 2>&1 || true
        echo "$out" | sed 's/^/    /' >&2
        die "git am: patch $n ($p) does not apply onto v10.2.2 + patches 1-$((n - 1))"
    fi
done
say "apply: git am applied ${#patches[@]} patches on v10.2.2"

# quilt, in a throwaway worktree of v10.2.2
if [ ${#patches[@]} -gt 0 ]; then
    q=$WORK/quilt
    if [ ! -d "$q" ]; then
        git -C "$SRC" worktree add -q --detach "$q" v10.2.2
    fi
    git -C "$q" checkout -q -f --detach v10.2.2
    git -C "$q" clean -q -fdx
    ln -s "$TOP/patches" "$q/patches"
    ln -s "$TOP/series" "$q/series"
    if ! out=$(cd "$q" && QUILT_PATCHES=patches QUILT_SERIES=series \
               quilt push -a --fuzz=0 2>&1); then
        echo "$out" | tail -20 | sed 's/^/    /' >&2
        die "quilt push -a --fuzz=0 failed: $(echo "$out" | grep -m1 '^Applying patch' | tail -1)"
    fi
    if grep -q 'with fuzz' <<<"$out"; then
        die "quilt: fuzz while applying: $(echo "$out" | grep 'with fuzz')"
    fi
    # both tools must produce the same tree
    rm -rf "$q/.pc" "$q/patches" "$q/series"
    git -C "$q" add -A
    if ! git -C "$q" diff --cached --quiet series; then
        die "quilt and git am disagree: $(git -C "$q" diff --cached --stat series | tail -1)"
    fi
    say "apply: quilt push -a --fuzz=0 gives the same tree"
fi
echo "$sum" >"$stamp"
