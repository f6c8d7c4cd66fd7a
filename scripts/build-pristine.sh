#!/usr/bin/env bash
# Build pristine v10.2.2 beside the series, for comparisons (baseline
# tests, benchmarks, reproducers): worktree $WORK/pristine, build
# $WORK/build-pristine, same configure line as the series build.
set -euo pipefail
. "$(dirname "$0")/common.sh"

"$TOP/scripts/fetch.sh"
if [ ! -d "$PRISTINE_SRC" ]; then
    git -C "$SRC" worktree add -q --detach "$PRISTINE_SRC" v10.2.2
fi
git -C "$PRISTINE_SRC" checkout -q --detach v10.2.2
"$TOP/scripts/build.sh" "$PRISTINE_SRC" "$PRISTINE_BUILD"
