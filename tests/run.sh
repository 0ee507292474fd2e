#!/usr/bin/env bash
# The ferry test suite: unit test programs, then integration tests against
# one test bed (tests/testbed.sh).  What `make test` / `make check` run:
#
#   FERRY_BIN=/abs/ferry sh tests/run.sh BUILD_TESTS_DIR
#
# Unit tests: every executable BUILD_TESTS_DIR/test_*; one program = one count,
# judged by its exit status.  Integration tests: tests/integration/*.sh in
# order, each run by bash with testbed.env exported, FERRY_BIN and FERRY_SRC
# set, the repository root as working directory and stdin from /dev/null;
# exit 0 = pass, 77 = skipped, anything else = fail.
#
# Environment:
#   TESTS=PATTERN...         run only integration tests whose name contains
#                            one of the (space-separated) glob patterns
#   FERRY_SKIP_INTEGRATION=1 no test bed, no integration tests
#   INTEGRATION_DIR=DIR      the integration tests to run (default
#                            tests/integration; `make faults`: tests/faults)
#   TEST_TIMEOUT=SECS        per test program (default 600)
#   KEEP_LOGS=1              keep the temp root (logs) even when all passed
#
# Prints one line per test ("ok   unit/test_x (0.1s)" / "FAIL ..."), a
# failing test's output, and last, alone on its line, "N passed, M failed"
# (", K skipped" added when K > 0).  Exits non-zero when M > 0.

# Invoked with sh: continue in bash.
if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi

set -uo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
UNIT_DIR=${1:-$SRC/build/tests}
case "$UNIT_DIR" in
    /*) ;;
    *) UNIT_DIR=$(pwd)/$UNIT_DIR ;;
esac
FERRY_BIN=${FERRY_BIN:-$SRC/ferry}
case "$FERRY_BIN" in
    /*) ;;
    *) FERRY_BIN=$(pwd)/$FERRY_BIN ;;
esac
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
export FERRY_BIN FERRY_SRC=$SRC

PASSED=0
FAILED=0
SKIPPED=0
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/ferry-test.XXXXXX")
chmod 0755 "$ROOT"
LOGS=$ROOT/logs
TB=$ROOT/tb
mkdir -p "$LOGS"
TB_STARTED=0
CURRENT_PID=""
CURRENT_NAME=""

# Seconds since SINCE (EPOCHREALTIME), one decimal.
elapsed() {
    local now=${EPOCHREALTIME/,/.} since=${1/,/.}
    awk -v a="$since" -v b="$now" 'BEGIN { printf "%.1fs", b - a }'
}

show_log() {
    local f=$1 n
    n=$(wc -l <"$f")
    if [ "$n" -gt 400 ]; then
        echo "    ... ($((n - 400)) earlier lines in $f)"
        tail -n 400 "$f" | sed 's/^/    /'
    else
        sed 's/^/    /' "$f"
    fi
}

# report NAME RC LOG START
report() {
    local name=$1 rc=$2 log=$3 t
    t=$(elapsed "$4")
    if [ "$rc" -eq 0 ]; then
        printf 'ok   %s (%s)\n' "$name" "$t"
        PASSED=$((PASSED + 1))
    elif [ "$rc" -eq 77 ] && [[ $name == integration/* ]]; then
        printf 'skip %s (%s) %s\n' "$name" "$t" "$(grep -m1 '^SKIP:' "$log" | cut -c7- || true)"
        SKIPPED=$((SKIPPED + 1))
    else
        local why="exit $rc"
        [ "$rc" -eq 124 ] && why="timed out after ${TEST_TIMEOUT}s"
        [ "$rc" -gt 128 ] && [ "$rc" -ne 124 ] && why="killed by signal $((rc - 128))"
        printf 'FAIL %s (%s, %s)\n' "$name" "$t" "$why"
        show_log "$log"
        FAILED=$((FAILED + 1))
    fi
}

# run_one LOG CMD...: run CMD in the background (so a signal to us is handled
# at once), with a time limit; return its exit status.
run_one() {
    local log=$1 rc=0
    shift
    timeout --kill-after=10 "$TEST_TIMEOUT" "$@" </dev/null >"$log" 2>&1 &
    CURRENT_PID=$!
    wait "$CURRENT_PID" 2>/dev/null || rc=$?
    CURRENT_PID=""
    return "$rc"
}

# shellcheck disable=SC2317 # reached from the EXIT trap
# PIDs of postgres/sshd processes (not zombies) that belong to the test bed.
leftovers() {
    local id=${TESTBED_ID:-none}
    ps -e -o pid=,stat=,comm=,args= 2>/dev/null | while read -r pid stat comm args; do
        case "$stat" in Z*) continue ;; esac
        case "$comm" in postgres | postmaster | sshd) ;; *) continue ;; esac
        case "$args" in
            *"$TB"* | *"ferry-$id-"*) echo "$pid $args" ;;
        esac
    done
}

# shellcheck disable=SC2317 # reached from the EXIT trap
stop_testbed() {
    [ "$TB_STARTED" -eq 1 ] || return 0
    TB_STARTED=0
    local t0=$EPOCHREALTIME rc=0 left
    # After a failure, keep the servers' logs with the tests' logs.
    if [ "$FAILED" -gt 0 ] && [ -d "$TB" ]; then
        mkdir -p "$LOGS/testbed"
        cp "$TB"/pg/*.log "$TB"/ssh/*.log "$LOGS/testbed/" 2>/dev/null || true
    fi
    bash "$SRC/tests/testbed.sh" stop "$TB" >"$LOGS/testbed-stop.log" 2>&1 || rc=$?
    # Give pid 1 a moment to reap, then look for anything left running.
    left=$(leftovers)
    if [ -n "$left" ]; then
        sleep 1
        left=$(leftovers)
    fi
    if [ -n "$left" ]; then
        echo "left running after stop:" >>"$LOGS/testbed-stop.log"
        echo "$left" >>"$LOGS/testbed-stop.log"
        local pid _
        while read -r pid _; do
            kill -KILL "$pid" 2>/dev/null || true
        done <<<"$left"
        [ "$rc" -eq 0 ] && rc=1
    fi
    report testbed/stop "$rc" "$LOGS/testbed-stop.log" "$t0"
}

# shellcheck disable=SC2317 # the EXIT trap
finish() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ -n "$CURRENT_PID" ]; then
        kill -TERM "$CURRENT_PID" 2>/dev/null || true
        wait "$CURRENT_PID" 2>/dev/null || true
        printf 'FAIL %s (interrupted)\n' "$CURRENT_NAME"
    fi
    stop_testbed
    if [ "$FAILED" -gt 0 ] || [ "${KEEP_LOGS:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
        echo "logs: $LOGS"
    else
        rm -rf "$ROOT"
    fi
    if [ "$SKIPPED" -gt 0 ]; then
        echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
    else
        echo "$PASSED passed, $FAILED failed"
    fi
    if [ "$FAILED" -gt 0 ]; then exit 1; fi
    exit "$rc"
}
trap finish EXIT
trap 'echo "interrupted"; FAILED=$((FAILED + 1)); exit 130' INT
trap 'echo "terminated"; FAILED=$((FAILED + 1)); exit 143' TERM
trap 'echo "hangup"; FAILED=$((FAILED + 1)); exit 129' HUP

cd "$SRC" || exit 1

# ---- unit tests --------------------------------------------------------------

if [ -d "$UNIT_DIR" ] && [ "${FERRY_SKIP_UNIT:-0}" != 1 ]; then
    for t in "$UNIT_DIR"/test_*; do
        if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
        name=unit/$(basename "$t")
        t0=$EPOCHREALTIME
        rc=0
        CURRENT_NAME=$name
        run_one "$LOGS/$(basename "$t").log" "$t" || rc=$?
        report "$name" "$rc" "$LOGS/$(basename "$t").log" "$t0"
    done
fi

# ---- integration tests -------------------------------------------------------

if [ "${FERRY_SKIP_INTEGRATION:-0}" = 1 ]; then
    exit 0
fi

tests=()
for t in "$SRC/${INTEGRATION_DIR:-tests/integration}"/*.sh; do
    [ -f "$t" ] || continue
    base=$(basename "$t" .sh)
    if [ -n "${TESTS:-}" ]; then
        match=0
        for pat in $TESTS; do
            # shellcheck disable=SC2254 # the pattern is meant to glob
            case "$base" in *$pat*) match=1 ;; esac
        done
        [ "$match" -eq 1 ] || continue
    fi
    tests+=("$t")
done

[ "${#tests[@]}" -gt 0 ] || exit 0

t0=$EPOCHREALTIME
TB_STARTED=1
rc=0
CURRENT_NAME=testbed/start
run_one "$LOGS/testbed-start.log" bash "$SRC/tests/testbed.sh" start "$TB" || rc=$?
if [ "$rc" -ne 0 ]; then
    report testbed/start "$rc" "$LOGS/testbed-start.log" "$t0"
    exit 1
fi
set -a
# shellcheck disable=SC1091
. "$TB/testbed.env"
set +a
printf '#    test bed up (%s): source :%s, target :%s, sshd :%s\n' "$(elapsed "$t0")" \
    "$SOURCE_PORT" "$TARGET_PORT" "$SSH_PORT"

for t in "${tests[@]}"; do
    base=$(basename "$t" .sh)
    t0=$EPOCHREALTIME
    rc=0
    CURRENT_NAME=integration/$base
    run_one "$LOGS/$base.log" bash "$t" || rc=$?
    report "integration/$base" "$rc" "$LOGS/$base.log" "$t0"
done

exit 0
