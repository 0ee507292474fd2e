#!/usr/bin/env bash
# Helpers for integration tests (tests/integration/NN_name.sh).
#
# A test is a bash script run by tests/run.sh with the test bed's
# testbed.env exported (see tests/testbed.sh), plus FERRY_BIN (absolute path
# of the ferry binary) and FERRY_SRC (the repository root); the working
# directory is FERRY_SRC.  It exits 0 on pass, 77 to be counted as skipped,
# anything else on failure.  Start it with:
#
#   #!/usr/bin/env bash
#   . "$FERRY_SRC/tests/lib.sh"
#
# Sourcing this file turns on `set -Eeuo pipefail`, reports the line of a
# failing command, and sets an EXIT trap that removes t_tmpdir's directories
# (register more cleanup with t_on_exit, not with your own `trap ... EXIT`).
#
#   t_fail MSG                        "FAIL: MSG" on stderr, exit 1
#   t_skip MSG                        "SKIP: MSG" on stderr, exit 77
#   t_log MSG...                      a progress line on stderr
#   t_assert_eq EXPECTED ACTUAL WHAT
#   t_assert_ne UNEXPECTED ACTUAL WHAT
#   t_assert_contains HAYSTACK NEEDLE WHAT
#   t_assert_not_contains HAYSTACK NEEDLE WHAT
#   t_assert_file_contains FILE NEEDLE WHAT / t_assert_file_not_contains
#   t_assert_exit CODE CMD...         run CMD, assert its exit status; its
#                                     stdout/stderr/status land in T_OUT,
#                                     T_ERR, T_RC (CODE "nonzero" = any but 0)
#   t_run CMD...                      same capture, no assertion
#   t_ferry ARGS...                   t_run "$FERRY_BIN" ARGS...
#   t_psql_source SQL / t_psql_target SQL
#                                     psql -X -At over the socket as ferry,
#                                     database ${DB:-postgres}, ON_ERROR_STOP
#   t_ssh CMD...                      ssh to the test bed's sshd with only the
#                                     generated key and known_hosts
#   t_tmpdir                          print a new temp dir (0755, so the
#                                     postgres user can reach it), removed
#                                     at exit
#   t_on_exit CMD                     run CMD (a string, eval'd) at exit
#   t_wait_for SECS CMD...            retry CMD every 0.1 s until it succeeds
#                                     or SECS pass (then returns 1)
#   t_fault_start POINT CMD...        CMD in the background, paused at the
#                                     test build's fault point POINT
#   t_fault_go POINT                  let it go on

set -Eeuo pipefail

T_OUT=""
T_ERR=""
T_RC=0
_T_ON_EXIT=()
T_TMPROOT=$(mktemp -d "${TMPDIR:-/tmp}/ferry-t.XXXXXX")
# Reachable by the postgres user (a test bed may live below it).
chmod 0755 "$T_TMPROOT"

_T_ERR_AT=""
_T_FAILED=0

_t_cleanup() {
    local rc=$? i
    set +e
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$_T_FAILED" -eq 0 ] && [ -n "$_T_ERR_AT" ]; then
        printf 'FAIL: command failed: %s\n' "$_T_ERR_AT" >&2
    fi
    for ((i = ${#_T_ON_EXIT[@]} - 1; i >= 0; i--)); do
        eval "${_T_ON_EXIT[$i]}"
    done
    rm -rf "$T_TMPROOT"
    return "$rc"
}
trap _t_cleanup EXIT
# Killed (a time limit, ^C): still clean up.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

# With errexit, remember where the test stopped; the EXIT trap prints it
# (a bare exit status helps no one).  The first failure is the one that counts.
_t_on_err() {
    local rc=$?
    if [ -z "$_T_ERR_AT" ]; then
        _T_ERR_AT="${BASH_SOURCE[1]##*/}:$1: exit $rc: $BASH_COMMAND"
    fi
}
trap '_t_on_err "$LINENO"' ERR

t_fail() {
    _T_FAILED=1
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

t_skip() {
    printf 'SKIP: %s\n' "$*" >&2
    exit 77
}

t_log() {
    printf '# %s\n' "$*" >&2
}

t_on_exit() {
    _T_ON_EXIT+=("$1")
}

t_tmpdir() {
    local d
    d=$(mktemp -d "$T_TMPROOT/d.XXXXXX")
    chmod 0755 "$d"
    echo "$d"
}

t_assert_eq() {
    [ "$#" -eq 3 ] || t_fail "t_assert_eq: want EXPECTED ACTUAL WHAT, got $# arguments"
    if [ "$1" != "$2" ]; then
        t_fail "$3: expected '$1', got '$2'"
    fi
}

t_assert_ne() {
    [ "$#" -eq 3 ] || t_fail "t_assert_ne: want UNEXPECTED ACTUAL WHAT, got $# arguments"
    if [ "$1" = "$2" ]; then
        t_fail "$3: did not expect '$1'"
    fi
}

t_assert_contains() {
    [ "$#" -eq 3 ] || t_fail "t_assert_contains: want HAYSTACK NEEDLE WHAT, got $# arguments"
    case "$1" in
        *"$2"*) ;;
        *) t_fail "$3: '$2' not found in:
$1" ;;
    esac
}

t_assert_not_contains() {
    [ "$#" -eq 3 ] || t_fail "t_assert_not_contains: want HAYSTACK NEEDLE WHAT, got $# arguments"
    case "$1" in
        *"$2"*) t_fail "$3: '$2' found in:
$1" ;;
        *) ;;
    esac
}

t_assert_file_contains() {
    [ -f "$1" ] || t_fail "$3: no file $1"
    grep -qF -- "$2" "$1" || t_fail "$3: '$2' not found in $1"
}

t_assert_file_not_contains() {
    [ -f "$1" ] || t_fail "$3: no file $1"
    if grep -qF -- "$2" "$1"; then t_fail "$3: '$2' found in $1"; fi
}

# t_run CMD...: run CMD with stdin from /dev/null; capture into T_OUT/T_ERR/T_RC.
t_run() {
    local out err
    out=$(mktemp "$T_TMPROOT/out.XXXXXX")
    err=$(mktemp "$T_TMPROOT/err.XXXXXX")
    T_RC=0
    "$@" </dev/null >"$out" 2>"$err" || T_RC=$?
    T_OUT=$(cat "$out")
    T_ERR=$(cat "$err")
    rm -f "$out" "$err"
}

t_assert_exit() {
    local want=$1
    shift
    [ "$#" -gt 0 ] || t_fail "t_assert_exit: no command"
    t_run "$@"
    local ok=0
    if [ "$want" = nonzero ]; then
        if [ "$T_RC" -ne 0 ]; then ok=1; fi
    elif [ "$T_RC" -eq "$want" ]; then
        ok=1
    fi
    if [ "$ok" -ne 1 ]; then
        printf -- '--- stdout ---\n%s\n--- stderr ---\n%s\n---\n' "$T_OUT" "$T_ERR" >&2
        t_fail "exit status of '$*': expected $want, got $T_RC"
    fi
}

t_ferry() {
    t_run "$FERRY_BIN" "$@"
}

t_psql_source() {
    "$PGBIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "$SOURCE_SOCK" -p "$SOURCE_PORT" \
        -U "${PG_USER:-ferry}" -d "${DB:-postgres}" -c "$1"
}

t_psql_target() {
    "$PGBIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "$TARGET_SOCK" -p "$TARGET_PORT" \
        -U "${PG_USER:-ferry}" -d "${DB:-postgres}" -c "$1"
}

t_ssh() {
    ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
        -o UserKnownHostsFile="$SSH_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null \
        -o IdentitiesOnly=yes -o IdentityFile="$SSH_KEY" -o LogLevel=ERROR \
        -p "$SSH_PORT" "$SSH_USER@$SSH_HOST" "$@"
}

t_wait_for() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 10; i++)); do
        if "$@"; then return 0; fi
        sleep 0.1
    done
    "$@"
}

# t_fault_start POINT CMD...: run CMD (a ferry of the test build,
# $FERRY_FAULTS_BIN) in the background with FERRY_FAULT=POINT:pause; wait
# until it has reached the point (its marker file exists). T_BG_PID is its
# pid; its output goes to $T_TMPROOT/bg.out and bg.err. t_fault_go POINT
# lets it go on.
t_fault_start() {
    local point=$1
    shift
    export FERRY_FAULT_DIR=$T_TMPROOT
    rm -f "$T_TMPROOT/$point.paused"
    FERRY_FAULT="$point:pause" "$@" </dev/null >"$T_TMPROOT/bg.out" 2>"$T_TMPROOT/bg.err" &
    T_BG_PID=$!
    local i
    for ((i = 0; i < 1200; i++)); do
        [ -f "$T_TMPROOT/$point.paused" ] && return 0
        kill -0 "$T_BG_PID" 2>/dev/null || t_fail "$* ended before reaching $point: $(cat "$T_TMPROOT/bg.err")"
        sleep 0.1
    done
    t_fail "$* did not reach $point in 120 s"
}

t_fault_go() {
    rm -f "$T_TMPROOT/$1.paused"
}

# t_wiz SCRIPT ARGS...: `ferry ARGS...` (the menu when there are none) with
# SCRIPT as its key script, no terminal, an 80x24 UTF-8 screen; the result
# in T_OUT/T_ERR/T_RC, stderr also shown in the test's log. T_WIZ_BIN
# (e.g. $FERRY_FAULTS_BIN) runs another binary.
t_wiz() {
    printf '%s\n' "$1" >"$T_TMPROOT/keys"
    shift
    t_run env LC_ALL=C.UTF-8 COLUMNS=80 LINES=24 FERRY_KEYS="$T_TMPROOT/keys" "${T_WIZ_BIN:-$FERRY_BIN}" "$@"
    if [ -n "$T_ERR" ]; then printf '%s\n' "$T_ERR" >&2; fi
}

# t_wrapped_has FILE TEXT WHAT: TEXT is on the screen dumped in FILE, maybe
# wrapped over rows (compared with all blanks and line ends left out).
t_wrapped_has() {
    [ -f "$1" ] || t_fail "$3: no file $1"
    t_assert_contains "$(tr -d ' \n' <"$1")" "${2// /}" "$3"
}
