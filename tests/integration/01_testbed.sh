#!/usr/bin/env bash
# The test bed itself: both PostgreSQL 15 clusters answer over TCP (password
# from PGPASSFILE) and over their sockets; sshd takes the generated key and
# nothing else; the client refuses a host key it does not know.
. "$FERRY_SRC/tests/lib.sh"

for v in PGBIN PGPASSFILE SOURCE_PORT SOURCE_SOCK SOURCE_URL TARGET_PORT TARGET_SOCK \
    TARGET_URL SSH_HOST SSH_PORT SSH_USER SSH_KEY SSH_KNOWN_HOSTS SSH_HOST_PUB; do
    [ -n "${!v:-}" ] || t_fail "testbed.env did not set $v"
done
t_assert_eq 600 "$(stat -c %a "$PGPASSFILE")" "PGPASSFILE mode"

db=t01_$$

for side in source target; do
    if [ "$side" = source ]; then url=$SOURCE_URL port=$SOURCE_PORT; else url=$TARGET_URL port=$TARGET_PORT; fi

    # TCP: authenticates with the password from PGPASSFILE (scram).
    t_assert_exit 0 "$PGBIN/psql" -X -At -d "$url" -c 'SELECT current_user'
    t_assert_eq ferry "$T_OUT" "$side: current_user over TCP"
    t_assert_exit 0 "$PGBIN/psql" -X -At -d "$url" -c 'SHOW server_version_num'
    t_assert_contains "$T_OUT" 15 "$side: server_version_num"
    [ "${T_OUT:0:2}" = 15 ] || t_fail "$side: server_version_num is $T_OUT, want 15xxxx"

    # Without the password file, TCP login fails (the password is required).
    t_assert_exit nonzero env PGPASSFILE=/dev/null PGPASSWORD= "$PGBIN/psql" -X -At -w -d "$url" -c 'SELECT 1'
    t_assert_contains "$T_ERR" "password" "$side: TCP login without password"

    # Socket: trusted.
    if [ "$side" = source ]; then
        v=$(t_psql_source 'SELECT version()')
        t_psql_source "CREATE DATABASE $db"
        got=$(DB=$db t_psql_source "CREATE TABLE t(x int); INSERT INTO t VALUES (1),(2),(3); SELECT count(*) FROM t")
        t_psql_source "DROP DATABASE $db"
    else
        v=$(t_psql_target 'SELECT version()')
        t_psql_target "CREATE DATABASE $db"
        got=$(DB=$db t_psql_target "CREATE TABLE t(x int); INSERT INTO t VALUES (1),(2),(3); SELECT count(*) FROM t")
        t_psql_target "DROP DATABASE $db"
    fi
    t_assert_contains "$v" "PostgreSQL 15." "$side: version()"
    t_assert_eq 3 "$got" "$side: rows in a table of a new database"

    # Listens on 127.0.0.1 at its own port, and nowhere else.
    t_assert_exit 0 "$PGBIN/psql" -X -At -d "$url" -c "SELECT current_setting('listen_addresses') || ' ' || current_setting('port')"
    t_assert_eq "127.0.0.1 $port" "$T_OUT" "$side: listen address"
done
t_assert_ne "$SOURCE_PORT" "$TARGET_PORT" "the two clusters' ports"

# The two clusters are distinct.
t_psql_source "CREATE TABLE t01_marker_$$ (x int)"
t_assert_eq "" "$(t_psql_target "SELECT to_regclass('t01_marker_$$')")" "target sees source's table"
t_psql_source "DROP TABLE t01_marker_$$"

# pg_dump and pg_restore of the same major are there.
t_assert_exit 0 "$PGBIN/pg_dump" --version
t_assert_contains "$T_OUT" "15." "pg_dump version"
t_assert_exit 0 "$PGBIN/pg_restore" --version

# ---- sshd --------------------------------------------------------------------

ssh_base=(ssh -F /dev/null -o BatchMode=yes -o ConnectTimeout=10 -o GlobalKnownHostsFile=/dev/null -p "$SSH_PORT")

# The generated key and the pinned host key: in.
# shellcheck disable=SC2016 # expanded by the remote shell
t_assert_exit 0 "${ssh_base[@]}" -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$SSH_KNOWN_HOSTS" \
    -o IdentitiesOnly=yes -i "$SSH_KEY" "$SSH_USER@127.0.0.1" 'echo hello-$((6*7))'
t_assert_eq hello-42 "$T_OUT" "ssh command output"

t_assert_exit 0 t_ssh 'id -un'
t_assert_eq "$SSH_USER" "$T_OUT" "ssh user"

t_assert_exit 0 ssh -F "$SSH_CONFIG" testbed 'echo via-config'
t_assert_eq via-config "$T_OUT" "ssh via SSH_CONFIG"

# sftp (internal-sftp) works: ferry may copy bundles over it.
d=$(t_tmpdir)
echo payload >"$d/src"
echo "put $d/src $d/dst" >"$d/batch"
t_assert_exit 0 sftp -q -F /dev/null -b "$d/batch" -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$SSH_KNOWN_HOSTS" -o IdentitiesOnly=yes -i "$SSH_KEY" -P "$SSH_PORT" \
    "$SSH_USER@127.0.0.1"
t_assert_eq payload "$(cat "$d/dst")" "file copied over sftp"

# The known_hosts entry is the host key the server presents.
t_assert_contains "$(cat "$SSH_KNOWN_HOSTS")" "$(cut -d' ' -f2 "$SSH_HOST_PUB")" "known_hosts holds the host key"

# Password authentication: refused (offered nothing else, the client fails).
t_assert_exit nonzero "${ssh_base[@]}" -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$SSH_KNOWN_HOSTS" \
    -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive \
    -o IdentitiesOnly=yes "$SSH_USER@127.0.0.1" true
t_assert_contains "$T_ERR" "Permission denied" "password auth refused"

# The server offers only publickey.
t_assert_exit nonzero "${ssh_base[@]}" -v -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$SSH_KNOWN_HOSTS" \
    -o PubkeyAuthentication=no -o IdentitiesOnly=yes "$SSH_USER@127.0.0.1" true
methods=$(grep -m1 'Authentications that can continue:' <<<"$T_ERR" | sed 's/.*continue: //' | tr -d '\r')
t_assert_eq publickey "$methods" "authentication methods sshd offers"

# Another key: refused.
ssh-keygen -q -t ed25519 -N '' -f "$d/other_key" </dev/null
t_assert_exit nonzero "${ssh_base[@]}" -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$SSH_KNOWN_HOSTS" \
    -o IdentitiesOnly=yes -i "$d/other_key" "$SSH_USER@127.0.0.1" true
t_assert_contains "$T_ERR" "Permission denied" "unknown client key refused"

# Unknown host key (empty known_hosts) with strict checking: refused.
: >"$d/empty_known_hosts"
t_assert_exit nonzero "${ssh_base[@]}" -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$d/empty_known_hosts" \
    -o IdentitiesOnly=yes -i "$SSH_KEY" "$SSH_USER@127.0.0.1" 'echo should-not-run'
t_assert_not_contains "$T_OUT" "should-not-run" "command ran despite an unknown host key"
t_assert_contains "$T_ERR" "Host key verification failed" "unknown host key refused"

# Changed host key (another key pinned for this host:port): refused.
ssh-keygen -q -t ed25519 -N '' -f "$d/fake_host_key" </dev/null
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$d/fake_host_key.pub")" >"$d/wrong_known_hosts"
t_assert_exit nonzero "${ssh_base[@]}" -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$d/wrong_known_hosts" \
    -o IdentitiesOnly=yes -i "$SSH_KEY" "$SSH_USER@127.0.0.1" 'echo should-not-run'
t_assert_not_contains "$T_OUT" "should-not-run" "command ran despite a changed host key"
t_assert_contains "$T_ERR" "HOST IDENTIFICATION HAS CHANGED" "changed host key refused"

# sshd logged the accepted key login.
t_wait_for 5 grep -q "Accepted publickey for $SSH_USER" "$SSHD_LOG" ||
    t_fail "sshd log has no accepted publickey login"
