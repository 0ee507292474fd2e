#!/usr/bin/env bash
# Migrate: a database like the Backup issue's moves to the target cluster,
# which is reached only through the test bed's sshd (the remote ferry talks
# to it over its socket). Content identical, registry rewritten, services
# restarted and healthy, log written; a cut copy resumes; host keys are
# checked; a held lock refuses; a failing remote restore is reported with
# the remote's stderr and leaves the target database untouched.
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
chmod 755 "$work"
db=shop_mig_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
t_on_exit "t_psql_target 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1; t_psql_target 'DROP DATABASE IF EXISTS ${db}_bad' >/dev/null 2>&1"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null

app=$work/app
mkdir -p "$app/uploads" "$app/config"
head -c 200000 /dev/urandom >"$app/uploads/photo.jpg"
cat >"$app/config/connection_registry.json" <<JSON
{"primary_url": "postgresql://app@old-server:5432/shop", "clients": ["web", "worker"]}
JSON

http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/www"
echo ok >"$work/www/health"
t_on_exit "pkill -f 'http.server $http_port' 2>/dev/null || true"

write_profiles() { # known_hosts target_db_url
    cat >"$work/profiles.json" <<JSON
{
  "old": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "app": {"root": "$app", "paths": ["uploads", "config"]},
    "backup": {"dir": "$work/backups"},
    "log_dir": "$work/logs"
  },
  "new": {
    "database": {"url": "$2"},
    "app": {"root": "$work/remote/app", "paths": ["uploads", "config"]},
    "backup": {"dir": "$work/remote/backups"},
    "ssh": {"host": "127.0.0.1", "port": $SSH_PORT, "user": "$SSH_USER", "identity_file": "$SSH_KEY",
            "known_hosts": "$1", "use_ssh_config": false, "ferry_path": "$FERRY_BIN"},
    "services": {"orchestrator": "custom",
                 "restart": ["setsid python3 -m http.server $http_port --bind 127.0.0.1 --directory $work/www </dev/null >/dev/null 2>&1 &"]},
    "health": [{"name": "web", "url": "http://127.0.0.1:$http_port/health", "expect": 200, "retries": 50, "interval_s": 1}],
    "registry": {"file": "$app/config/connection_registry.json", "primary_url": "postgresql://app@new-server:5432/shop", "grace_period": "P7D"}
  }
}
JSON
}
target_url="postgresql://ferry@/$db?host=$TARGET_SOCK&port=$TARGET_PORT"
write_profiles "$SSH_KNOWN_HOSTS" "$target_url"
export FERRY_PROFILES=$work/profiles.json

t_log "dry run: the plan, nothing done"
t_assert_exit 0 "$FERRY_BIN" migrate --target new --dry-run
t_assert_contains "$T_OUT" "copy the bundle to the new server" "plan"
[ ! -e "$work/backups" ] || t_fail "dry run made a backup"

t_log "an unknown host key is refused without --accept-new-host-key"
: >"$work/empty_known_hosts"
write_profiles "$work/empty_known_hosts" "$target_url"
t_assert_exit 5 "$FERRY_BIN" migrate --target new
t_assert_contains "$T_ERR" "SHA256:" "fingerprint shown"
t_assert_contains "$T_ERR" "--accept-new-host-key" "hint"
[ ! -e "$work/backups" ] || [ -z "$(ls -A "$work/backups")" ] || t_fail "refused run made a backup"

t_log "a changed host key is refused"
ssh-keygen -q -t ed25519 -N '' -f "$work/other_key"
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$work/other_key.pub")" >"$work/changed_known_hosts"
write_profiles "$work/changed_known_hosts" "$target_url"
t_assert_exit 5 "$FERRY_BIN" migrate --target new
t_assert_contains "$T_ERR" "changed_known_hosts:1" "file:line of the known key"

t_log "a held lock refuses a second migrate"
write_profiles "$SSH_KNOWN_HOSTS" "$target_url"
mkdir -p "$work/remote/backups"
printf '{"owner":"deploy@elsewhere","pid":4242,"host":"elsewhere","flow":"deploy","time":"2026-01-01T00:00:00Z","epoch":%s}\n' "$(date +%s)" >"$work/remote/backups/.ferry.lock"
t_assert_exit 8 "$FERRY_BIN" migrate --target new
t_assert_contains "$T_ERR" "locked by deploy of deploy@elsewhere (pid 4242)" "lock holder"
t_assert_contains "$T_ERR" "--break-lock" "lock hint"
rm -f "$work/remote/backups/.ferry.lock"

t_log "a failing remote restore is reported with the remote's stderr; the target is untouched"
t_psql_target "CREATE DATABASE ${db}_bad"
DB=${db}_bad t_psql_target "CREATE TABLE keep (v int); INSERT INTO keep VALUES (7)"
db_fingerprint target "${db}_bad" >"$work/fp.bad.before"
write_profiles "$SSH_KNOWN_HOSTS" "postgresql://nosuchrole@/${db}_bad?host=$TARGET_SOCK&port=$TARGET_PORT"
t_assert_exit 1 "$FERRY_BIN" migrate --target new --yes
t_assert_contains "$T_ERR" "remote restore" "failing step named"
t_assert_contains "$T_ERR" "nosuchrole" "remote stderr carried back"
t_assert_contains "$T_ERR" "ferry migrate --target new" "continue command"
db_fingerprint target "${db}_bad" >"$work/fp.bad.after"
diff "$work/fp.bad.before" "$work/fp.bad.after" || t_fail "target database changed"
rm -f "$work/logs/.ferry-migrate-new.json"

t_log "the full migration"
write_profiles "$SSH_KNOWN_HOSTS" "$target_url"
t_assert_exit 0 "$FERRY_BIN" migrate --target new --yes --json
result=$(printf '%s\n' "$T_OUT" | tail -n 1)
t_assert_contains "$result" '"status":"success"' "result"
t_assert_contains "$T_OUT" '"origin":"127.0.0.1"' "remote progress re-emitted live"
db_fingerprint source "$db" >"$work/fp.source"
db_fingerprint target "$db" >"$work/fp.target"
diff "$work/fp.source" "$work/fp.target" || t_fail "target differs from source"
cmp "$app/uploads/photo.jpg" "$work/remote/app/uploads/photo.jpg"
python3 - "$app/config/connection_registry.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["primary_url"] == "postgresql://app@new-server:5432/shop", r
assert r["fallback_url"] == "postgresql://app@old-server:5432/shop", r
assert r["grace_period"] == "P7D" and r["fallback_until"], r
assert "moved" in r["migration_notice"]["message"], r
assert r["clients"] == ["web", "worker"], "other keys kept"
PY
python3 - "$work/logs/migration_log.json" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
assert log[-1]["status"] == "success" and log[-1]["to"] == "new", log[-1]
assert log[-2]["status"] == "failed", "the failed run was logged too"
PY
ls "$work/logs"/migration_new_*.txt >/dev/null || t_fail "no summary file"
curl -fsS "http://127.0.0.1:$http_port/health" >/dev/null || t_fail "service not restarted"
[ ! -e "$work/remote/backups/.ferry.lock" ] || t_fail "lock not released"

t_log "a copy cut mid-way resumes on the next run"
head -c 150000000 /dev/urandom >"$app/uploads/big.bin"
DB=$db t_psql_source "INSERT INTO app.customers (email) VALUES ('second-run@example.com')" >/dev/null
"$FERRY_BIN" migrate --target new --yes >"$work/cut.out" 2>"$work/cut.err" &
pid=$!
part_growing() { [ "$(find "$work/remote/backups" -name '*.part' -size +20M 2>/dev/null | wc -l)" -gt 0 ]; }
t_wait_for 60 part_growing || t_fail "the copy did not start"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
part=$(find "$work/remote/backups" -name '*.ferry.tar.zst.part' | head -n 1)
had=$(stat -c %s "$part")
t_log "cut at $had bytes"
[ -e "$work/remote/backups/.ferry.lock" ] || t_fail "the killed run's lock is not on the target"
t_assert_exit 0 "$FERRY_BIN" migrate --target new --yes --json
t_assert_contains "$T_OUT$T_ERR" "took over the lock of a run that is gone" "the killed holder's lock on the target is taken over"
t_assert_contains "$T_OUT" '"skipped":["backup"]' "the backup was not made again"
t_assert_contains "$T_OUT" "(resumed)" "the copy resumed"
db_fingerprint source "$db" >"$work/fp.source2"
db_fingerprint target "$db" >"$work/fp.target2"
diff "$work/fp.source2" "$work/fp.target2" || t_fail "target differs after the resumed run"
cmp "$app/uploads/big.bin" "$work/remote/app/uploads/big.bin"

t_log "an existing target database is not replaced without confirmation"
rm -f "$app/uploads/big.bin"
db_fingerprint target "$db" >"$work/fp.keep.before"
t_assert_exit 10 "$FERRY_BIN" migrate --target new </dev/null
t_assert_contains "$T_ERR" "already has" "names what is there"
t_assert_contains "$T_ERR" "--yes" "hint"
db_fingerprint target "$db" >"$work/fp.keep.after"
diff "$work/fp.keep.before" "$work/fp.keep.after" || t_fail "target changed without confirmation"
[ ! -e "$work/remote/backups/.ferry.lock" ] || t_fail "lock not released after the refusal"
