#!/usr/bin/env bash
# Build the series with ThreadSanitizer and with AddressSanitizer +
# UndefinedBehaviorSanitizer (clang) and run the block-layer unit tests,
# the block qtests and this project's multiqueue iotests (stress with
# MQ_STRESS_ROUNDS rounds, default 5; fault injection) under each.  Separate build directories
# ($WORK/build-tsan, $WORK/build-asan); not part of 'make check'.
#   scripts/check-sanitize.sh [tsan|asan]...   (default: both)
set -euo pipefail
. "$(dirname "$0")/common.sh"
S=$TOP/scripts

kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(tsan asan)

"$S/fetch.sh"
"$S/apply.sh"
mkdir -p "$WORK/logs"

# Only what the tests need: the unit tests and the binaries qtests start
targets="qemu-system-x86_64 qemu-img qemu-io qemu-nbd
         storage-daemon/qemu-storage-daemon
         tests/qtest/qos-test tests/qtest/virtio-blk-iothread-vq-mapping-test"
for t in $(sed -n '/^UNIT_TESTS=(/,/^)/p' "$S/test-unit.sh" | grep -v '[()#]'); do
    targets="$targets tests/unit/$t"
done

rc=0
for kind in "${kinds[@]}"; do
    build=$WORK/build-$kind
    case $kind in
    tsan)
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
    *) die "unknown sanitizer '$kind' (tsan or asan)" ;;
    esac
    say "sanitize: building with $kind in $build"
    start=$SECONDS
    MQ_CONFIGURE_EXTRA=$(echo $extra) MQ_NINJA_TARGETS=$(echo $targets) \
        "$S/build.sh" "$SRC" "$build" >"$WORK/logs/build-$kind.txt" 2>&1 ||
        { tail -20 "$WORK/logs/build-$kind.txt"; die "$kind build failed"; }
    say "sanitize: $kind build took $((SECONDS - start)) s"
    rm -f "$build"/sanitizer.log*
    "$S/test-unit.sh" "$build" | grep RESULT || rc=1
    "$S/test-qtest.sh" "$build" | grep RESULT || rc=1
    own=$(mq_install_own_iotests "$SRC" | grep '^multiqueue-' | tr '\n' ' ')
    # shellcheck disable=SC2086
    (cd "$build/tests/qemu-iotests" && PATH=/usr/bin:/bin:$PATH \
        MQ_STRESS_ROUNDS=${MQ_STRESS_ROUNDS:-5} \
        timeout 1800 ./check -qcow2 $own) >"$build/meson-logs/mq-iotests.txt" 2>&1 || rc=1
    echo "RESULT iotests $(grep -E '^(Passed|Failed|Not run)' "$build/meson-logs/mq-iotests.txt" | tr '\n' ' ')"
    echo "reports by location:"
    cat "$build"/sanitizer.log* 2>/dev/null | sed -n 's/^SUMMARY: [A-Za-z]*Sanitizer: //p' |
        sort | uniq -c | sort -rn | head -40
    reports=$(cat "$build"/sanitizer.log* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer\|^==[0-9]*==ERROR\|runtime error:' || true)
    echo "RESULT $kind: $reports sanitizer reports (logs: $build/sanitizer.log.*)"
    [ "$reports" = 0 ] || rc=1
done
exit $rc
