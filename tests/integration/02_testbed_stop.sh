#!/usr/bin/env bash
# A second, separate test bed: starts beside the running one (no port
# collision), and `stop` leaves nothing behind, also when called twice or
# after part of it died.
. "$FERRY_SRC/tests/lib.sh"

tb=$FERRY_SRC/tests/testbed.sh
dir=$(t_tmpdir)/tb2
t_on_exit "bash '$tb' stop '$dir' >/dev/null 2>&1"

t_assert_exit 0 bash "$tb" start "$dir"
t_assert_eq "" "$T_OUT" "start prints nothing on stdout"
[ -f "$dir/testbed.env" ] || t_fail "no $dir/testbed.env"

# Read the second bed's env without clobbering ours.
get() { sed -n "s/^$1=//p" "$dir/testbed.env"; }
s_pid=$(get SOURCE_PID)
t_pid=$(get TARGET_PID)
h_pid=$(get SSH_PID)
s_port=$(get SOURCE_PORT)
t_port=$(get TARGET_PORT)
h_port=$(get SSH_PORT)
id2=$(get TESTBED_ID)

ports="$SOURCE_PORT $TARGET_PORT $SSH_PORT $s_port $t_port $h_port"
t_assert_eq 6 "$(tr ' ' '\n' <<<"$ports" | sort -u | wc -l)" "six distinct ports across two test beds ($ports)"
t_assert_ne "$TESTBED_ID" "$id2" "test bed ids"

t_assert_exit 0 bash "$tb" status "$dir"
t_assert_contains "$T_OUT" "source  running" "status"
t_assert_contains "$T_OUT" "sshd    running" "status"

# The second bed works on its own.
t_assert_exit 0 env PGPASSFILE="$(get PGPASSFILE)" "$PGBIN/psql" -X -At -d "$(get SOURCE_URL)" -c 'SELECT 1'
t_assert_eq 1 "$T_OUT" "second bed's source over TCP"

# Collect every process of the bed (postmasters' children, sshd sessions).
alive() { # true when PID runs (a zombie waiting for reaping does not count)
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }
    [ "${st%% *}" != Z ]
}
gone() { ! alive "$1"; }
kids=$(ps -e -o pid=,ppid= | awk -v a="$s_pid" -v b="$t_pid" '$2 == a || $2 == b { print $1 }')
[ -n "$kids" ] || t_fail "no postgres child processes found"
for p in "$s_pid" "$t_pid" "$h_pid"; do
    alive "$p" || t_fail "pid $p is not running after start"
done

# An open ssh session must not keep anything alive after stop.
ssh -F "$(get SSH_CONFIG)" testbed 'sleep 60' </dev/null >/dev/null 2>&1 &
sess=$!
t_on_exit "kill $sess 2>/dev/null || true"
t_wait_for 10 pgrep -P "$h_pid" >/dev/null || t_fail "ssh session did not start"
sess_procs=$(pgrep -P "$h_pid" | tr '\n' ' ')

# Part of the bed dies on its own (here: the target cluster, hard), stop copes.
kill -KILL "$t_pid"
t_wait_for 10 gone "$t_pid" ||
    t_fail "target postmaster did not die"

t0=$EPOCHREALTIME
t_assert_exit 0 bash "$tb" stop "$dir"
t_log "stop took $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2fs", b - a }')"

[ ! -e "$dir" ] || t_fail "$dir still exists after stop"
# shellcheck disable=SC2086 # lists of pids
for p in "$s_pid" "$t_pid" "$h_pid" $kids $sess_procs; do
    if alive "$p"; then
        t_fail "pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)) still runs after stop"
    fi
done
procs=$(ps -e -o stat=,comm=,args=)
left=$(awk -v d="$dir" -v id="ferry-$id2-" '$1 !~ /^Z/ && ($2 == "postgres" || $2 == "sshd") && (index($0, d) || index($0, id))' <<<"$procs")
t_assert_eq "" "$left" "processes of the stopped bed"

# The ssh client saw its session end.
t_wait_for 10 gone "$sess" || t_fail "ssh client still connected after stop"

# Twice is fine; status says nothing runs.
t_assert_exit 0 bash "$tb" stop "$dir"
t_assert_exit 1 bash "$tb" status "$dir"

# The first bed is untouched.
t_assert_eq 1 "$(t_psql_source 'SELECT 1')" "first bed's source"
t_assert_eq ok "$(t_ssh 'echo ok')" "first bed's sshd"

# stop refuses a directory that is not a test bed.
other=$(t_tmpdir)
echo keep >"$other/file"
t_assert_exit nonzero bash "$tb" stop "$other"
[ -f "$other/file" ] || t_fail "stop removed a directory that was not a test bed"
