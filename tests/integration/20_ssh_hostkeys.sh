#!/usr/bin/env bash
# Host keys: a known key connects; an unknown key is refused (exit 5, its
# SHA256 fingerprint shown) unless --accept-new-host-key, which records it;
# a changed key is refused always, naming the known_hosts file and line.
. "$FERRY_SRC/tests/lib.sh"

d=$(t_tmpdir)
ssh_profiles() {
    cat >"$1" <<JSON
{"bed": {"database": {"url": "postgresql://ferry@127.0.0.1:1/x"},
         "backup": {"dir": "$d/backups"},
         "ssh": {"host": "$SSH_HOST", "port": $SSH_PORT, "user": "$SSH_USER",
                 "identity_file": "$SSH_KEY", "known_hosts": "$2",
                 "use_ssh_config": false}}}
JSON
}
key_type=$(cut -d' ' -f1 "$SSH_HOST_PUB")
key_b64=$(cut -d' ' -f2 "$SSH_HOST_PUB")
fp=$(ssh-keygen -lf "$SSH_HOST_PUB" | cut -d' ' -f2)
case "$fp" in SHA256:*) ;; *) t_fail "no SHA256 fingerprint from ssh-keygen: $fp" ;; esac
marker=$d/ran

# ---- known (the test bed's pinned file) -------------------------------------
ssh_profiles "$d/known.json" "$SSH_KNOWN_HOSTS"
t_assert_exit 0 "$FERRY_BIN" remote --profiles "$d/known.json" -- echo known
t_assert_eq known "$T_OUT" "known host key"

# ...also as a hashed entry (ssh-keygen -H).
cp "$SSH_KNOWN_HOSTS" "$d/hashed_known_hosts"
ssh-keygen -q -H -f "$d/hashed_known_hosts" >/dev/null 2>&1
rm -f "$d/hashed_known_hosts.old"
t_assert_file_not_contains "$d/hashed_known_hosts" "127.0.0.1" "file is hashed"
ssh_profiles "$d/hashed.json" "$d/hashed_known_hosts"
t_assert_exit 0 "$FERRY_BIN" remote --profiles "$d/hashed.json" -- echo hashed
t_assert_eq hashed "$T_OUT" "hashed known_hosts entry"

# ---- changed: another key pinned for [127.0.0.1]:PORT at line 4 ------------
ssh-keygen -q -t ed25519 -N '' -f "$d/fake_host_key" </dev/null
{
    echo "# pinned hosts"
    echo "other.example $key_type $key_b64"
    echo
    printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$d/fake_host_key.pub")"
} >"$d/changed_known_hosts"
cp "$d/changed_known_hosts" "$d/changed_before"
ssh_profiles "$d/changed.json" "$d/changed_known_hosts"
t_assert_exit 5 "$FERRY_BIN" remote --profiles "$d/changed.json" -- "touch '$marker'"
t_assert_contains "$T_ERR" "host key for 127.0.0.1:$SSH_PORT has CHANGED (now $fp); the known key is at $d/changed_known_hosts:4" "changed-key message"
t_assert_contains "$T_ERR" "ssh-keygen -R '[127.0.0.1]:$SSH_PORT' -f '$d/changed_known_hosts'" "changed-key hint"
[ ! -e "$marker" ] || t_fail "the command ran despite a changed host key"

# --accept-new-host-key does not accept a changed key; the file is untouched.
t_assert_exit 5 "$FERRY_BIN" remote --profiles "$d/changed.json" --accept-new-host-key -- "touch '$marker'"
t_assert_contains "$T_ERR" "has CHANGED" "changed key with --accept-new-host-key"
[ ! -e "$marker" ] || t_fail "the command ran despite a changed host key (--accept-new-host-key)"
cmp -s "$d/changed_known_hosts" "$d/changed_before" || t_fail "known_hosts changed by a refused connection"

# push is refused the same way, before anything is copied.
head -c 1000 /dev/urandom >"$d/small"
t_assert_exit 5 "$FERRY_BIN" push "$d/small" --target bed --profiles "$d/changed.json" --json
t_assert_contains "$T_OUT" '"exit_code":5' "push --json error"
t_assert_contains "$T_ERR" "has CHANGED" "push: changed host key"
[ ! -e "$d/backups" ] || t_fail "push created the backup dir despite a changed host key"

# A changed key in a hashed file: the line is found too.
cp "$d/changed_known_hosts" "$d/changed_hashed"
ssh-keygen -q -H -f "$d/changed_hashed" >/dev/null 2>&1
rm -f "$d/changed_hashed.old"
ssh_profiles "$d/changed_h.json" "$d/changed_hashed"
t_assert_exit 5 "$FERRY_BIN" remote --profiles "$d/changed_h.json" -- true
t_assert_contains "$T_ERR" "the known key is at $d/changed_hashed:4" "changed key, hashed file"

# ---- unknown: empty file, then a missing file --------------------------------
: >"$d/empty_known_hosts"
ssh_profiles "$d/unknown.json" "$d/empty_known_hosts"
t_assert_exit 5 "$FERRY_BIN" remote --profiles "$d/unknown.json" -- "touch '$marker'"
t_assert_contains "$T_ERR" "unknown host key for 127.0.0.1:$SSH_PORT: $fp ($key_type)" "unknown-key message"
t_assert_contains "$T_ERR" "(on a terminal, or with --accept-new-host-key); nothing was recorded" "unknown-key hint"
[ ! -e "$marker" ] || t_fail "the command ran despite an unknown host key"
[ ! -s "$d/empty_known_hosts" ] || t_fail "an unknown key was recorded without --accept-new-host-key"

# Accepted: recorded, and the command runs.
t_assert_exit 0 "$FERRY_BIN" remote --profiles "$d/unknown.json" --accept-new-host-key -- echo accepted
t_assert_eq accepted "$T_OUT" "accepted host key"
t_assert_eq "[127.0.0.1]:$SSH_PORT $key_type $key_b64" "$(cat "$d/empty_known_hosts")" "recorded entry"
# Known now, without the flag; OpenSSH agrees with the recorded line.
t_assert_exit 0 "$FERRY_BIN" remote --profiles "$d/unknown.json" -- echo again
t_assert_eq again "$T_OUT" "recorded key is known"
t_assert_exit 0 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$d/empty_known_hosts" -o GlobalKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -i "$SSH_KEY" -p "$SSH_PORT" "$SSH_USER@127.0.0.1" echo openssh
t_assert_eq openssh "$T_OUT" "OpenSSH accepts the recorded entry"

# A known_hosts file that does not exist yet (nor its directory).
ssh_profiles "$d/missing.json" "$d/new/dir/known_hosts"
t_assert_exit 5 "$FERRY_BIN" remote --profiles "$d/missing.json" -- true
t_assert_contains "$T_ERR" "unknown host key" "missing known_hosts = unknown"
t_assert_exit 0 "$FERRY_BIN" push "$d/small" --target bed --profiles "$d/missing.json" --accept-new-host-key
t_assert_eq 600 "$(stat -c %a "$d/new/dir/known_hosts")" "new known_hosts mode"
t_assert_eq 700 "$(stat -c %a "$d/new/dir")" "new known_hosts dir mode"
t_assert_file_contains "$d/new/dir/known_hosts" "[127.0.0.1]:$SSH_PORT $key_type $key_b64" "recorded by push"
cmp -s "$d/small" "$d/backups/small" || t_fail "push after accepting the key: copy differs"
