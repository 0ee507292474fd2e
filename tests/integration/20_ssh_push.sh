#!/usr/bin/env bash
# `ferry push`: a 50 MB file arrives byte-identical (sha256 checked on the
# remote side) in the target profile's backup.dir, with no .part left; the
# JSON result says what happened; errors exit with the documented codes.
. "$FERRY_SRC/tests/lib.sh"

d=$(t_tmpdir)
remote_dir=$d/remote/backups   # does not exist yet: push creates it
cat >"$d/profiles.json" <<JSON
{"target": {"database": {"url": "postgresql://ferry@127.0.0.1:1/x"},
            "backup": {"dir": "$remote_dir"},
            "ssh": {"host": "$SSH_HOST", "port": $SSH_PORT, "user": "$SSH_USER",
                    "identity_file": "$SSH_KEY", "known_hosts": "$SSH_KNOWN_HOSTS",
                    "use_ssh_config": false}},
 "local": {"database": {"url": "postgresql://ferry@127.0.0.1:1/x"}}}
JSON
P=(--profiles "$d/profiles.json")

head -c 50M /dev/urandom >"$d/app-2024.ferry"
want=$(sha256sum "$d/app-2024.ferry" | cut -d' ' -f1)

t_assert_exit 0 "$FERRY_BIN" push "$d/app-2024.ferry" --target target "${P[@]}" --json
result=$(tail -n 1 <<<"$T_OUT")
t_assert_contains "$result" '"status":"ok"' "push result"
t_assert_contains "$result" "\"file\":\"$d/app-2024.ferry\"" "result: file"
t_assert_contains "$result" "\"remote\":\"$remote_dir/app-2024.ferry\"" "result: remote"
t_assert_contains "$result" '"bytes":52428800' "result: bytes"
t_assert_contains "$result" '"resumed_from":0' "result: resumed_from"
t_assert_contains "$result" "\"sha256\":\"$want\"" "result: sha256"
t_assert_contains "$result" '"mb_per_s":' "result: mb_per_s"
# Progress came as JSON lines before the result.
t_assert_contains "$T_OUT" '"event":"progress","step":"upload","done":52428800,"total":52428800' "progress events"

# On the remote side: the same bytes, no .part, private modes.
t_assert_exit 0 t_ssh "sha256sum '$remote_dir/app-2024.ferry'"
t_assert_eq "$want" "${T_OUT%% *}" "remote sha256"
t_assert_exit 0 t_ssh "ls -A '$remote_dir'"
t_assert_eq "app-2024.ferry" "$T_OUT" "remote dir holds the file only (no .part)"
t_assert_eq 600 "$(stat -c %a "$remote_dir/app-2024.ferry")" "remote file mode"
t_assert_eq 700 "$(stat -c %a "$remote_dir")" "new remote dir mode"

# Pushing again replaces it (a fresh copy, verified again).
t_assert_exit 0 "$FERRY_BIN" push "$d/app-2024.ferry" --target target "${P[@]}"
t_assert_contains "$T_OUT" "pushed $d/app-2024.ferry to $SSH_USER@$SSH_HOST:$SSH_PORT:$remote_dir/app-2024.ferry" "plain result line"
t_assert_contains "$T_OUT" "sha256 $want" "plain result: sha256"
t_assert_exit 0 t_ssh "ls -A '$remote_dir'"
t_assert_eq "app-2024.ferry" "$T_OUT" "still one file"

# Odd names survive the remote shell.
odd="$d/it's a \$(bundle) & more;.ferry"
head -c 100000 /dev/urandom >"$odd"
t_assert_exit 0 "$FERRY_BIN" push "$odd" --target target "${P[@]}"
cmp -s "$odd" "$remote_dir/$(basename "$odd")" || t_fail "odd file name: copy differs"

# An empty file is a file too.
: >"$d/empty.ferry"
t_assert_exit 0 "$FERRY_BIN" push "$d/empty.ferry" --target target "${P[@]}"
[ -f "$remote_dir/empty.ferry" ] && [ ! -s "$remote_dir/empty.ferry" ] || t_fail "empty file not copied"

# ---- errors ------------------------------------------------------------------
t_assert_exit 2 "$FERRY_BIN" push "$d/app-2024.ferry" "${P[@]}"
t_assert_contains "$T_ERR" "no --target" "missing --target"
t_assert_exit 2 "$FERRY_BIN" push --target target "${P[@]}"
t_assert_exit 2 "$FERRY_BIN" push "$d/app-2024.ferry" --target nosuch "${P[@]}"
t_assert_exit 2 "$FERRY_BIN" push "$d/app-2024.ferry" --target local "${P[@]}"
t_assert_contains "$T_ERR" "no ssh section" "target without ssh"
t_assert_exit 1 "$FERRY_BIN" push "$d/no-such-file" --target target "${P[@]}"
t_assert_contains "$T_ERR" "cannot open $d/no-such-file" "missing local file"
t_assert_exit 0 "$FERRY_BIN" push --help
t_assert_contains "$T_OUT" "resum" "usage text"

# A remote directory that cannot be made: exit 5, naming it.
: >"$d/remote/afile"
sed "s#\"dir\": \"$remote_dir\"#\"dir\": \"$d/remote/afile/sub\"#" "$d/profiles.json" >"$d/bad.json"
t_assert_exit 5 "$FERRY_BIN" push "$d/empty.ferry" --target target --profiles "$d/bad.json"
t_assert_contains "$T_ERR" "$d/remote/afile" "unwritable remote dir named"
