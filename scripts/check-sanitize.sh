#!/usr/bin/env bash
# Build the series with ThreadSanitizer and with AddressSanitizer +
# UndefinedBehaviorSanitizer (clang) and run the block-layer unit tests,
# the block qtests and this project's multiqueue iotests (stress with
# MQ_STRESS_ROUNDS rounds, default 5; fault injection) under each.
# tsan-pristine does the same for pristine v10.2.2 (the tests it has), and
# then every TSan report location of the series must also be one of
# pristine's (scripts/tsan-compare.py; without a tsan-pristine run, those
# saved in scripts/tsan-pristine.json).  Separate build directories
# ($WORK/build-tsan, build-asan, build-tsan-pristine); not part of
# 'make check'.
#   scripts/check-sanitize.sh [tsan|asan|tsan-pristine]...
#   (default: tsan asan tsan-pristine)
set -euo pipefail
. "$(dirname "$0")/common.sh"
S=$TOP/scripts

kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(tsan asan tsan-pristine)

"$S/fetch.sh"
"$S/apply.sh"
mkdir -p "$WORK/logs"

# Only what the tests need: the unit tests and the binaries the qtests and
# iotests start; of the tests, those the tree being built has (the series
# adds some, and a stage of it may not have them yet)
targets_for() {
    local t
    echo qemu-system-x86_64 qemu-img qemu-io qemu-nbd \
         storage-daemon/qemu-storage-daemon tests/qtest/qos-test
    [ ! -e "$1/tests/qtest/virtio-blk-iothread-vq-mapping-test.c" ] ||
        echo tests/qtest/virtio-blk-iothread-vq-mapping-test
    for t in $(sed -n '/^UNIT_TESTS=(/,/^)/p' "$S/test-unit.sh" | grep -v '[()#]'); do
        [ ! -e "$1/tests/unit/$t.c" ] || echo "tests/unit/$t"
    done
}

rc=0
for kind in "${kinds[@]}"; do
    build=$WORK/build-$kind
    src=$SRC
    # one sanitizer's options must not leak into the next (a TSan binary
    # also honours UBSAN_OPTIONS' log_path)
    unset TSAN_OPTIONS ASAN_OPTIONS UBSAN_OPTIONS
    case $kind in
    tsan|tsan-pristine)
        extra="--cc=/usr/lib/ccache/clang --cxx=/usr/lib/ccache/clang++
               --enable-tsan --disable-werror"
        # exitcode=0: report, do not fail the test (QEMU under a qtest too);
        # die_after_fork=0: libqtest forks QEMU from a threaded test
        export TSAN_OPTIONS="suppressions=$SRC/tests/tsan/suppressions.tsan:halt_on_error=0:exitcode=0:die_after_fork=0:log_path=$build/sanitizer.log"
        ;;
    asan)
        extra="--cc=/usr/lib/ccache/clang --cxx=/usr/lib/ccache/clang++
               --enable-asan --enable-ubsan --disable-werror"
        export ASAN_OPTIONS="detect_leaks=0:log_path=$build/sanitizer.log"
        export UBSAN_OPTIONS="print_stacktrace=1:log_path=$build/sanitizer.log"
        ;;
    *) die "unknown sanitizer '$kind' (tsan, asan or tsan-pristine)" ;;
    esac
    if [ "$kind" = tsan-pristine ]; then
        src=$PRISTINE_SRC
        [ -d "$src" ] || git -C "$SRC" worktree add -q --detach "$src" v10.2.2
        git -C "$src" checkout -q --detach v10.2.2
    fi
    tgts=$(targets_for "$src")
    say "sanitize: building $kind in $build"
    start=$SECONDS
    MQ_CONFIGURE_EXTRA=$(echo $extra) MQ_NINJA_TARGETS=$(echo $tgts) \
        "$S/build.sh" "$src" "$build" >"$WORK/logs/build-$kind.txt" 2>&1 ||
        { tail -20 "$WORK/logs/build-$kind.txt"; die "$kind build failed"; }
    say "sanitize: $kind build took $((SECONDS - start)) s"
    rm -f "$build"/sanitizer.log*
    start=$SECONDS
    # Races show up in some runs only: pristine, the reference, runs twice
    runs=1
    [ "$kind" != tsan-pristine ] || runs=2
    for _ in $(seq $runs); do
        MQ_TIMEOUT_MULTIPLIER=4 "$S/test-unit.sh" "$build" | grep RESULT || rc=1
        "$S/test-qtest.sh" "$build" | grep RESULT || rc=1
        # The series' multiqueue iotests (in its tree; copied into
        # pristine's) and this project's own
        if [ "$kind" = tsan-pristine ]; then
            mq_install_series_iotests "$src"
        fi
        own="$MQ_TREE_IOTESTS $(mq_install_own_iotests "$src" |
                                grep '^multiqueue-' | tr '\n' ' ')"
        # On pristine, multiqueue-drivers fails in qcow2 and may abort in
        # qed (both fixed by the series) before the later drivers run: run
        # the driver tests one driver at a time there, so that pristine
        # gives TSan reports for every driver.  Pristine's test results are
        # the reference's, not a verdict on the series.
        fatal=1
        if [ "$kind" = tsan-pristine ]; then
            fatal=0
            own=$(echo "$own" | sed 's/multiqueue-drivers//; s/multiqueue-servers//')
        fi
        # shellcheck disable=SC2086
        (cd "$build/tests/qemu-iotests" && PATH=/usr/bin:/bin:$PATH \
            MQ_STRESS_ROUNDS=${MQ_STRESS_ROUNDS:-5} \
            timeout 1800 ./check -qcow2 $own) >"$build/meson-logs/mq-iotests.txt" 2>&1 ||
            [ $fatal = 0 ] || rc=1
        if [ "$kind" = tsan-pristine ]; then
            for d in nbd:drivers qcow2:drivers qed:drivers throttle:drivers \
                     http:servers ssh:servers iscsi:servers nfs:servers; do
                (cd "$build/tests/qemu-iotests" && PATH=/usr/bin:/bin:$PATH \
                    MQ_DRIVERS=${d%:*} timeout 600 ./check -qcow2 "multiqueue-${d#*:}") \
                    >>"$build/meson-logs/mq-iotests.txt" 2>&1 || true
            done
        fi
        echo "RESULT iotests $(grep -E '^(Passed|Failed|Not run)' "$build/meson-logs/mq-iotests.txt" | tr '\n' ' ')"
        # CI keeps nothing but this output: say what failed and how
        if grep -q '^Failures:' "$build/meson-logs/mq-iotests.txt"; then
            grep -v -E '^\S+ +\.\.\. ' "$build/meson-logs/mq-iotests.txt" | tail -80
        fi
    done
    if [ "$kind" = tsan-pristine ] && [ -x "$WORK/build-tsan/tests/qtest/virtio-blk-iothread-vq-mapping-test" ]; then
        # The series' mapping qtest against pristine QEMU, for the reports
        # QEMU gives under it (the cases that test the series' fixes fail
        # there, as they should: not counted)
        t=$WORK/build-tsan/tests/qtest/virtio-blk-iothread-vq-mapping-test
        export QTEST_QEMU_BINARY=$build/qemu-system-x86_64
        for p in $("$t" -l | grep '^/'); do
            timeout 300 "$t" -p "$p" ||
                true
        done >"$build/meson-logs/mq-mapping-on-pristine.txt" 2>&1
    fi
    say "sanitize: $kind tests took $((SECONDS - start)) s"
    reports=$(cat "$build"/sanitizer.log* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer\|^==[0-9]*==ERROR\|runtime error:' || true)
    echo "RESULT $kind: $reports sanitizer reports (logs: $build/sanitizer.log.*)"
    case $kind in
    asan) [ "$reports" = 0 ] || rc=1 ;;
    esac
done

# TSan: the series may only show what pristine shows too.  Pristine's
# locations come from its build when tsan-pristine ran, else from the
# reference saved from such a run (scripts/tsan-pristine.json; CI does not
# build pristine).
ref=$WORK/build-tsan-pristine
if ls "$ref"/sanitizer.log* >/dev/null 2>&1; then
    "$S/tsan-compare.py" --save "$ref" "$WORK/logs/tsan-pristine.json"
else
    ref=$S/tsan-pristine.json
fi
if [ -d "$WORK/build-tsan" ] && [ -e "$ref" ]; then
    say "sanitize: comparing TSan reports with $ref"
    "$S/tsan-compare.py" "$WORK/build-tsan" "$ref" "$SRC" \
        >"$WORK/logs/tsan-compare.md" || rc=1
    cat "$WORK/logs/tsan-compare.md"
fi
exit $rc
