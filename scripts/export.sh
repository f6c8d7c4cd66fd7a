#!/usr/bin/env bash
# Regenerate patches/ and series from the commits v10.2.2..series in
# $WORK/qemu (after 'make tree' and editing them with git rebase -i).
# The cover letter keeps its subject and text from
# patches/0000-cover-letter.patch; shortlog and diffstat are regenerated.
set -euo pipefail
. "$(dirname "$0")/common.sh"

git -C "$SRC" rev-parse -q --verify series >/dev/null || die "no branch 'series' in $SRC (run make tree)"
n=$(git -C "$SRC" rev-list --count v10.2.2..series)
[ "$n" -gt 0 ] || die "branch 'series' has no commits on top of v10.2.2"

cover=$TOP/patches/0000-cover-letter.patch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The revision ("PATCH v2") comes from the cover letter's subject
prefix=PATCH
if [ -f "$cover" ]; then
    prefix=$(sed -n 's/^Subject: \[\(PATCH[^]]*\) [0-9]*\/[0-9]*\].*/\1/p' "$cover")
fi
mq_git -C "$SRC" format-patch -q --zero-commit --no-signature --cover-letter \
    --subject-prefix="${prefix:-PATCH}" -o "$tmp" v10.2.2..series

# Subject and text of the existing cover letter: from the Subject line to
# the line before the shortlog ("Name (N):").
if [ -f "$cover" ]; then
    subject=$(sed -n 's/^Subject: \[PATCH[^]]*\] //p' "$cover")
    awk '/^$/ && !body { body = 1; next }
         body && /^[^ ].* \([0-9]+\):$/ { exit }
         body { print }' "$cover" >"$tmp/blurb"
else
    subject="block: Multiqueue block layer"
    echo "*** BLURB HERE ***" >"$tmp/blurb"
fi
# the cover letter is dated like the last patch, so an export is stable
date=$(git -C "$SRC" log -1 --format='%ad' --date=rfc2822 series)
python3 - "$tmp"/0000-cover-letter.patch "$subject" "$tmp/blurb" "$date" <<'PY'
import sys
path, subject, blurb, date = sys.argv[1], sys.argv[2], open(sys.argv[3]).read(), sys.argv[4]
s = open(path).read()
s = s.replace("*** SUBJECT HERE ***", subject, 1)
s = s.replace("*** BLURB HERE ***\n\n", blurb.rstrip("\n") + "\n\n", 1)
lines = s.split("\n")
for i, l in enumerate(lines):
    if l.startswith("Date: "):
        lines[i] = "Date: " + date
        break
open(path, "w").write("\n".join(lines))
PY

rm -f "$TOP"/patches/*.patch
cp "$tmp"/*.patch "$TOP/patches/"
(cd "$TOP/patches" && ls ./*.patch | sed 's|^\./||' | grep -v '^0000-cover-letter.patch$') >"$TOP/series"
say "export: $n patches written to patches/ and series"
