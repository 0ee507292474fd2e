#!/usr/bin/env bash
# make check-stress: the whole suite (tests/run.sh) STRESS_RUNS times in a
# row (default 3) while every core is kept busy, to shake out tests that
# wait on time instead of on observable state. Stops at the first failing
# run. Not part of make check.
#
#   FERRY_BIN=/abs/ferry FERRY_FAULTS_BIN=/abs/faults/ferry sh tests/stress.sh BUILD_TESTS_DIR
#
# Environment: STRESS_RUNS (default 3), STRESS_HOGS (busy processes,
# default the number of cores), and what tests/run.sh reads (TESTS, ...).
# The load is `stress-ng --cpu N` when installed, else N `yes >/dev/null`;
# they are stopped (by their process ids) when this ends, however it ends.

if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi
set -uo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${STRESS_RUNS:-3}
hogs=${STRESS_HOGS:-$(nproc 2>/dev/null || echo 2)}
pids=()

stop_hogs() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    pids=()
}
trap stop_hogs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if command -v stress-ng >/dev/null 2>&1; then
    stress-ng --cpu "$hogs" --quiet >/dev/null 2>&1 &
    pids+=($!)
    load="stress-ng --cpu $hogs"
else
    for ((i = 0; i < hogs; i++)); do
        yes >/dev/null &
        pids+=($!)
    done
    load="$hogs busy processes (yes >/dev/null)"
fi
echo "check-stress: $runs runs of the suite under load: $load"

for ((run = 1; run <= runs; run++)); do
    t0=$SECONDS
    rc=0
    bash "$src/tests/run.sh" "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "check-stress: run $run of $runs failed (after $((SECONDS - t0)) s)"
        exit 1
    fi
    echo "check-stress: run $run of $runs passed ($((SECONDS - t0)) s)"
done
echo "check-stress: $runs of $runs runs passed under load"
