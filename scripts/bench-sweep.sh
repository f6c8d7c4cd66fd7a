#!/usr/bin/env bash
# Sweep of the in-process benchmark for a machine without build tools,
# shipped in bench/bench-bundle.tgz by scripts/bench-bundle.sh (see
# ../shared/device-bench.md).  Runs from the unpacked bundle:
#
#   ./sweep.sh [THREADS] [SECONDS] [ROUNDS] [WORKLOADS] [DEADLINE_S]
#
# THREADS like 1,2,4,8,16 (default: powers of two up to nproc, and nproc);
# WORKLOADS like null-co:write,qcow2:read (default null-co:write,
# null-co-acct:write,null-co:read,raw:read,qcow2:read,qcow2-meta:read).
# For each workload, thread count N and round, pristine and series
# alternate (the order flips every round), then the no-sharing limit
# runs: N processes of the series with one IOThread each, started
# together, IOPS summed.  One JSON object per run is printed on stdout
# and appended to $OUT/sweep.jsonl when $OUT is set.  The sweep stops,
# with a note on stderr, once DEADLINE_S seconds (default 480) have
# passed, so that what was measured comes back.
set -euo pipefail
cd "$(dirname "$0")"

n=$(nproc)
default_threads=1
for t in 2 4 8 16 32 64; do
    [ "$t" -lt "$n" ] && default_threads+=",$t"
done
[ "$n" -gt 1 ] && default_threads+=",$n"
threads=${1:-$default_threads}
seconds=${2:-1.5}
rounds=${3:-2}
workloads=${4:-null-co:write,null-co-acct:write,null-co:read,raw:read,qcow2:read,qcow2-meta:read}
deadline=$((SECONDS + ${5:-480}))

run() {   # tree threads backend mode -> one JSON line from the benchmark
    lib/ld-linux-x86-64.so.2 --library-path lib "bin/bench-$1" \
        --backend "$3" --mode "$4" --threads "$2" --depth 16 \
        --seconds "$seconds" --json | tail -n 1
}

emit() {  # tree workload threads round json
    local line="{\"tree\": \"$1\", \"workload\": \"$2\", \"threads\": $3, \"round\": $4, \"machine\": \"$n CPUs\", \"result\": $5}"
    echo "$line"
    if [ -n "${OUT:-}" ]; then
        echo "$line" >>"$OUT/sweep.jsonl"
    fi
}

for w in ${workloads//,/ }; do
    backend=${w%%:*}
    mode=${w#*:}
    for t in ${threads//,/ }; do
        for ((r = 0; r < rounds; r++)); do
            if [ "$SECONDS" -ge "$deadline" ]; then
                echo "sweep: deadline reached, stopping before $w $t/$r" >&2
                exit 0
            fi
            order="pristine series"
            [ $((r % 2)) = 1 ] && order="series pristine"
            for tree in $order; do
                emit "$tree" "$w" "$t" "$r" "$(run "$tree" "$t" "$backend" "$mode")"
            done
            # the no-sharing limit: t processes with one IOThread each
            tmp=$(mktemp -d)
            for ((i = 0; i < t; i++)); do
                run series 1 "$backend" "$mode" >"$tmp/$i" &
            done
            wait
            total=$(cat "$tmp"/* | sed -n 's/.*"iops_total": *\([0-9.]*\).*/\1/p' |
                    awk '{ s += $1 } END { printf "%.0f", s }')
            rm -rf "$tmp"
            emit unshared "$w" "$t" "$r" "{\"iops_total\": $total, \"processes\": $t}"
        done
    done
done
