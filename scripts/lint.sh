#!/usr/bin/env bash
# Lint the series: every patch in patches/ listed once in series, QEMU-style
# subjects, a Signed-off-by from the author, checkpatch.pl clean.
set -euo pipefail
. "$(dirname "$0")/common.sh"

cd "$TOP"
fail=0
err() { echo "lint: $*" >&2; fail=1; }

mapfile -t listed < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' series | awk '{print $1}')
dups=$(printf '%s\n' "${listed[@]}" | sort | uniq -d)
[ -z "$dups" ] || err "listed more than once in series: $dups"
for p in "${listed[@]}"; do
    [ -f "patches/$p" ] || err "series lists $p, but patches/$p does not exist"
done
for f in patches/*.patch; do
    [ -e "$f" ] || continue
    b=${f#patches/}
    [ "$b" = 0000-cover-letter.patch ] && continue
    grep -qxF "$b" < <(printf '%s\n' "${listed[@]}") || err "$f is not listed in series"
done

checkpatch=$SRC/scripts/checkpatch.pl
[ -x "$checkpatch" ] || die "no $checkpatch (run scripts/fetch.sh)"

# header FIELD FILE: the mail header FIELD of FILE, folded lines joined
header() {
    awk -v h="$1: " '/^$/ { exit }
        /^[ \t]/ { if (found == 1) { sub(/^[ \t]+/, " "); v = v $0 } next }
        found == 1 { found = 2 }
        !found && index($0, h) == 1 { v = substr($0, length(h) + 1); found = 1 }
        END { print v }' "$2"
}

for p in "${listed[@]}"; do
    f=patches/$p
    [ -f "$f" ] || continue
    subj=$(header Subject "$f" | sed 's/^\[PATCH[^]]*\] //')
    # 'area: summary' or 'area/sub: summary', no trailing full stop
    echo "$subj" | grep -Eq '^[A-Za-z0-9_./+-]+(, ?[A-Za-z0-9_./+-]+)*: [^ ].*[^.]$' ||
        err "$p: subject '$subj' is not in 'subsystem: summary' form"
    [ ${#subj} -le 76 ] || err "$p: subject longer than 76 characters"
    from=$(header From "$f")
    grep -qxF "Signed-off-by: $from" "$f" || err "$p: no 'Signed-off-by: $from'"
    # the commit message says why: at least a few lines of body
    body=$(awk '/^$/ && !b { b = 1; next } b && /^---$/ { exit } b' "$f" | grep -cv '^\(Signed-off-by\|Cc\|Fixes\|Reviewed-by\):' || true)
    [ "$body" -ge 3 ] || err "$p: commit message has no body explaining why"
    # Fixes: names a commit by id and subject, never a Message-ID
    msg=$(awk '/^$/ && !b { b = 1; next } b && /^---$/ { exit } b' "$f")
    while read -r fixes; do
        echo "$fixes" | grep -Eq '^Fixes: [0-9a-f]{12,40} \(".+"\)$' ||
            err "$p: '$fixes' is not 'Fixes: <12-hex commit> (\"subject\")'"
    done < <(grep '^Fixes:' <<<"$msg" || true)
    if grep -q '^Cc: qemu-stable@nongnu.org' <<<"$msg" &&
       ! grep -q '^Fixes:' <<<"$msg" &&
       ! grep -q 'there is no Fixes: line' <<<"$msg"; then
        err "$p: Cc stable without a Fixes: line or a reason why there is none"
    fi
    out=$(cd "$SRC" && ./scripts/checkpatch.pl --no-color "$TOP/$f" 2>&1) || true
    # Two warnings that every new iotest gets upstream: its reference
    # output (.out) cannot carry an SPDX header, and tests/qemu-iotests/ is
    # in MAINTAINERS already.  Accept them for patches that add files under
    # tests/qemu-iotests/ only.
    if ! grep '^new file mode' -B3 "$f" | grep '^diff --git' |
         grep -qv ' b/tests/qemu-iotests/'; then
        out=$(awk '/^WARNING: Does new file .*\.out. need .SPDX/ { skip = 1 }
                   /^WARNING: added, moved or deleted file/ { skip = 1 }
                   /^$/ { skip = 0 }
                   !skip' <<<"$out")
    fi
    if grep -qE '^(ERROR|WARNING)' <<<"$out" ||
       ! grep -qE 'has no obvious style problems|^total: 0 errors, [0-9]+ warnings' <<<"$out"; then
        echo "$out" | grep -E '^(ERROR|WARNING)' -A3 | head -30 >&2
        err "$p: checkpatch.pl found problems"
    fi
done
[ $fail = 0 ] || exit 1
say "lint: ${#listed[@]} patches OK"
