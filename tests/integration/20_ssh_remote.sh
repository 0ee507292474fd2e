#!/usr/bin/env bash
# `ferry remote`: runs a command on the profile's SSH host (the test bed's
# sshd), streams its output, exits with its status; bad usage and an
# unreachable host fail with the documented codes.
. "$FERRY_SRC/tests/lib.sh"

d=$(t_tmpdir)
# ssh_profiles FILE [KNOWN_HOSTS]: a profiles file with one profile "bed"
# pointing at the test bed's sshd.
ssh_profiles() {
    cat >"$1" <<JSON
{"bed": {"database": {"url": "postgresql://ferry@127.0.0.1:1/x"},
         "backup": {"dir": "$d/backups"},
         "ssh": {"host": "$SSH_HOST", "port": $SSH_PORT, "user": "$SSH_USER",
                 "identity_file": "$SSH_KEY", "known_hosts": "${2:-$SSH_KNOWN_HOSTS}",
                 "use_ssh_config": false}}}
JSON
}
ssh_profiles "$d/profiles.json"
P=(--profiles "$d/profiles.json")

t_assert_exit 0 "$FERRY_BIN" remote "${P[@]}" -- echo hi
t_assert_eq hi "$T_OUT" "remote echo"

# The words are joined and run by the remote shell; the user is the bed's.
t_assert_exit 0 "$FERRY_BIN" remote "${P[@]}" -- 'echo $((6*7))' '$(id -un)'
t_assert_eq "42 $SSH_USER" "$T_OUT" "remote shell expansion"

# Options of the command are not ours (no -- needed).
t_assert_exit 0 "$FERRY_BIN" remote "${P[@]}" ls -d -- /
t_assert_eq "/" "$T_OUT" "command options passed through"

# Exit status and stderr come back.
t_assert_exit 7 "$FERRY_BIN" remote "${P[@]}" -- 'echo out; echo err >&2; exit 7'
t_assert_eq out "$T_OUT" "stdout of a failing command"
t_assert_eq err "$T_ERR" "stderr of a failing command"
t_assert_exit 0 "$FERRY_BIN" remote "${P[@]}" -- true
t_assert_exit 1 "$FERRY_BIN" remote "${P[@]}" -- false

# A command killed by a signal: 128 + N, and said so.
t_assert_exit 143 "$FERRY_BIN" remote "${P[@]}" -- 'kill -TERM $$'
t_assert_contains "$T_ERR" "killed by signal TERM" "signal reported"

# stdin goes to the command; a large output arrives whole.
got=$(printf 'line1\nline2\n' | "$FERRY_BIN" remote "${P[@]}" -- 'tr a-z A-Z')
t_assert_eq "$(printf 'LINE1\nLINE2')" "$got" "stdin forwarded"
head -c 3000000 /dev/urandom >"$d/blob"
got=$("$FERRY_BIN" remote "${P[@]}" -- sha256sum <"$d/blob" | cut -d' ' -f1)
t_assert_eq "$(sha256sum <"$d/blob" | cut -d' ' -f1)" "$got" "3 MB through stdin"
got=$("$FERRY_BIN" remote "${P[@]}" -n -- "cat '$d/blob'" | sha256sum | cut -d' ' -f1)
t_assert_eq "$(sha256sum <"$d/blob" | cut -d' ' -f1)" "$got" "3 MB through stdout"

# --json: one object with the output.
t_assert_exit 3 "$FERRY_BIN" remote "${P[@]}" --json -- 'echo a; echo b >&2; exit 3'
t_assert_eq '{"status":"ok","host":"'"$SSH_USER@$SSH_HOST:$SSH_PORT"'","exit_status":3,"signal":null,"stdout":"a\n","stderr":"b\n"}' \
    "$T_OUT" "remote --json"

# --timeout stops a command that runs too long (exit 5).
t0=$SECONDS
t_assert_exit 5 "$FERRY_BIN" remote "${P[@]}" --timeout 1 -- 'sleep 30'
t_assert_contains "$T_ERR" "timed out after 1 s" "timeout message"
[ $((SECONDS - t0)) -lt 10 ] || t_fail "--timeout 1 took $((SECONDS - t0)) s"

# Usage errors: exit 2.
t_assert_exit 2 "$FERRY_BIN" remote "${P[@]}"
t_assert_contains "$T_ERR" "no command" "no command"
t_assert_exit 2 "$FERRY_BIN" remote "${P[@]}" --timeout soon -- true
t_assert_exit 0 "$FERRY_BIN" remote --help
t_assert_contains "$T_OUT" "--accept-new-host-key" "usage text"

# Nothing listens: exit 5, naming user@host:port, with the hint.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed "s/\"port\": $SSH_PORT/\"port\": $port/" "$d/profiles.json" >"$d/closed.json"
t_assert_exit 5 "$FERRY_BIN" remote --profiles "$d/closed.json" -- true
t_assert_contains "$T_ERR" "cannot connect to $SSH_USER@127.0.0.1:$port: Connection refused" "refused message"
t_assert_contains "$T_ERR" "check ssh.host / ssh.port" "refused hint"

# A key the server does not take: exit 5, naming the key tried.
ssh-keygen -q -t ed25519 -N '' -f "$d/other_key" </dev/null
sed "s#\"identity_file\": \"$SSH_KEY\"#\"identity_file\": \"$d/other_key\"#" "$d/profiles.json" >"$d/badkey.json"
t_assert_exit 5 "$FERRY_BIN" remote --profiles "$d/badkey.json" -- true
t_assert_contains "$T_ERR" "authentication failed for $SSH_USER@127.0.0.1:$SSH_PORT" "auth failure"
t_assert_contains "$T_ERR" "$d/other_key" "auth failure names the key"
t_assert_contains "$T_ERR" "authorized_keys" "auth failure hint"

# A profile without an ssh section: a profile error (exit 2).
cat >"$d/nossh.json" <<JSON
{"local": {"database": {"url": "postgresql://ferry@127.0.0.1:1/x"}}}
JSON
t_assert_exit 2 "$FERRY_BIN" remote --profiles "$d/nossh.json" -- true
t_assert_contains "$T_ERR" "no ssh section" "no ssh section"
