#!/usr/bin/env bash
# kill -9 of ferry at every step boundary of migrate, deploy and push (the
# seams "step.<flow>.<id>" of the test build), of the remote ferry while it
# restores on the new server, and the SSH connection cut mid-copy (the
# sshd session serving the copy killed). After each: the source database
# is unchanged, the target one (when there) accepts connections, the rerun
# completes and takes over the killed run's lock on the new server (it
# records this host and a pid that is gone), nothing is left behind. Two
# migrates at once: the second is refused with exit 8 naming the holder's
# pid and host. PostgreSQL stopped on the new server while its restore
# runs: the migrate fails at restore, the rerun completes. One table row
# per fault.
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
chmod 755 "$work"
db=fmig_$$
t_psql_source "CREATE DATABASE $db"
drop_target() {
    local d
    for d in $(t_psql_target "SELECT datname FROM pg_database WHERE datname LIKE '${db}%'"); do
        t_psql_target "ALTER DATABASE \"$d\" WITH ALLOW_CONNECTIONS true" >/dev/null 2>&1 || true
        t_psql_target "DROP DATABASE IF EXISTS \"$d\"" >/dev/null 2>&1 || true
    done
}
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1; drop_target"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
app=$work/app
mkdir -p "$app/uploads"
head -c 2000000 /dev/urandom >"$app/uploads/big.bin"
echo one >"$app/uploads/a.txt"
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/www" && echo ok >"$work/www/health"
setsid python3 -m http.server "$http_port" --bind 127.0.0.1 --directory "$work/www" </dev/null >/dev/null 2>&1 &
web_pid=$!
t_on_exit "kill $web_pid 2>/dev/null || true"
web_up() { curl -fsS "http://127.0.0.1:$http_port/health" >/dev/null 2>&1; }
t_wait_for 30 web_up || t_fail "the health server did not start"

ssh_json="\"ssh\": {\"host\": \"127.0.0.1\", \"port\": $SSH_PORT, \"user\": \"$SSH_USER\", \"identity_file\": \"$SSH_KEY\",
            \"known_hosts\": \"$SSH_KNOWN_HOSTS\", \"use_ssh_config\": false, \"ferry_path\": \"$FERRY_BIN\"}"
cat >"$work/profiles.json" <<JSON
{
  "old": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
          "app": {"root": "$app", "paths": ["uploads"]},
          "backup": {"dir": "$work/backups"}, "log_dir": "$work/logs"},
  "new": {"database": {"url": "postgresql://ferry@/$db?host=$TARGET_SOCK&port=$TARGET_PORT"},
          "app": {"root": "$work/remote/app", "paths": ["uploads"]},
          "backup": {"dir": "$work/remote/backups"}, $ssh_json,
          "services": {"orchestrator": "custom", "restart": ["true"]},
          "health": [{"name": "web", "url": "http://127.0.0.1:$http_port/health", "expect": 200, "retries": 5, "interval_s": 1}]}
}
JSON
# profiles-p.json: the same two profiles, the new server's ferry the test
# build, paused in its restore once the shadow database exists (the
# environment does not cross SSH).
python3 - "$work/profiles.json" "$work/profiles-p.json" "$work/ferry-paused" "$FERRY_BIN" <<'PY'
import json, sys
src, dst, paused, ferry = sys.argv[1:]
p = json.load(open(src))
newp = dict(p["new"], ssh=dict(p["new"]["ssh"], ferry_path=paused))
json.dump({"old": p["old"], "new": newp}, open(dst, "w"))
PY
mkdir -p "$work/rfault"
cat >"$work/ferry-paused" <<SH
#!/bin/sh
case " \$* " in *" restore "*) export FERRY_FAULT=restore.shadow.created:pause FERRY_FAULT_DIR=$work/rfault ;; esac
exec "$FERRY_FAULTS_BIN" "\$@"
SH
chmod 755 "$work/ferry-paused"
export FERRY_PROFILES=$work/profiles.json FERRY_FAULT_DIR=$T_TMPROOT
table=${FAULTS_TABLE:-$work/table}
row() { printf '%-8s %-34s %-8s %-16s %-10s %s\n' "$@" >>"$table"; }

plan_ids() {
    python3 -c 'import json,sys; print(" ".join(s["id"] for s in json.loads(sys.stdin.read().strip().splitlines()[-1])["steps"]))'
}
leftovers() {
    local n
    n=$(ls -d "$work"/backups/.ferry-staging-* "$work"/backups/*.part "$work"/remote/backups/*.part \
        "$work"/remote/backups/.ferry-{staging,restore}-[0-9]* "$work"/remote/backups/.ferry.lock \
        "$work"/remote/app/.ferry-restore-files-* 2>/dev/null | wc -l)
    n=$((n + $(t_psql_target "SELECT count(*) FROM pg_database WHERE datname LIKE '${db}\\_ferry\\_%'")))
    [ "$n" -eq 0 ] && echo none || echo "$n"
}
target_ok() { # POINT: the target database, when there, accepts connections
    local allow
    allow=$(t_psql_target "SELECT datallowconn FROM pg_database WHERE datname = '$db'")
    [ -z "$allow" ] || [ "$allow" = t ] || t_fail "$1: the target database refuses connections"
}
# after_migrate_fault FAULT OUTCOME: source unchanged, rerun completes, the
# target equals the source, nothing left; one row.
after_migrate_fault() {
    local point=$1 outcome=$2 left
    db_fingerprint source "$db" >"$work/fp.after"
    diff -q "$work/fp.before" "$work/fp.after" >/dev/null || t_fail "$point: the source database changed"
    target_ok "$point"
    t_run "$FERRY_BIN" migrate --target new --yes
    [ "$T_RC" = 0 ] || t_fail "$point: the rerun failed ($T_RC): $T_ERR"
    db_fingerprint target "$db" >"$work/fp.target"
    diff -q "$work/fp.before" "$work/fp.target" >/dev/null || t_fail "$point: the target differs from the source after the rerun"
    cmp -s "$app/uploads/big.bin" "$work/remote/app/uploads/big.bin" || t_fail "$point: the app files differ"
    left=$(leftovers)
    [ "$left" = none ] || t_fail "$point: leftovers after the rerun: $left"
    row migrate "$point" "$outcome" "0 (the source's)" "$left" completes
}
change_source() {
    DB=$db t_psql_source "UPDATE app.customers SET email = email || '.m' WHERE id = 1" >/dev/null
    db_fingerprint source "$db" >"$work/fp.before"
}

# FAULTS_ONLY=deploy-push: only the deploy and push parts (a bundle made here);
# FAULTS_ONLY=pg-stop: a migrate, then PostgreSQL stopped on the new server.
if [ "${FAULTS_ONLY:-}" != deploy-push ]; then
t_log "kill -9 of ferry at every step boundary of migrate"
t0=$(date +%s)
t_assert_exit 0 "$FERRY_BIN" migrate --target new --yes
t_log "a whole migrate: $(( $(date +%s) - t0 )) s"
if [ "${FAULTS_ONLY:-}" != pg-stop ]; then
t_assert_exit 0 "$FERRY_BIN" migrate --target new --dry-run --json
steps=$(plan_ids <<<"$T_OUT")
[ -n "$steps" ] || t_fail "no migrate plan"
i=0
for s in $steps; do
    i=$((i + 1))
    [ "$s" = preflight ] && continue
    [ "${FAULTS_SHORT:-0}" = 1 ] && [ "$s" != restore ] && [ $((i % 3)) -ne 1 ] && continue
    change_source
    t_run env FERRY_FAULT="step.migrate.$s:kill" "$FERRY_FAULTS_BIN" migrate --target new --yes
    [ "$T_RC" = 137 ] || t_fail "step.migrate.$s: not killed ($T_RC): $T_ERR"
    lock_left=$([ -e "$work/remote/backups/.ferry.lock" ] && echo yes || echo no)
    after_migrate_fault "step.migrate.$s" killed
    if [ "$lock_left" = yes ]; then
        t_assert_contains "$T_ERR" "took over the lock of a run that is gone" "step.migrate.$s: the rerun takes over the stale remote lock"
    fi
done

t_log "kill -9 of the remote ferry while it restores on the new server"
change_source
t_fault_start step.migrate.restore "$FERRY_FAULTS_BIN" migrate --target new --yes
local_pid=$T_BG_PID
t_fault_go step.migrate.restore
remote_ferry() { pgrep -f "^$FERRY_BIN .*restore .*--yes --json" | head -n 1; }
remote_loading() { [ -n "$(remote_ferry)" ] || ! kill -0 "$local_pid" 2>/dev/null; }
t_wait_for 120 remote_loading || t_fail "the remote restore did not start"
rpid=$(remote_ferry)
[ -n "$rpid" ] || t_fail "the migrate ended before its remote restore could be killed: $(cat "$T_TMPROOT/bg.err")"
kill -9 "$rpid"
rc=0
wait "$local_pid" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || t_fail "migrate said ok although its remote restore was killed"
after_migrate_fault "remote ferry restore (kill -9)" "exit $rc"

t_log "the SSH connection cut mid-copy"
change_source
head -c 40000000 /dev/urandom >"$app/uploads/big.bin"
t_fault_start step.migrate.copy "$FERRY_FAULTS_BIN" migrate --target new --yes
local_pid=$T_BG_PID
t_fault_go step.migrate.copy
copying() { [ "$(find "$work/remote/backups" -name '*.part' -size +2M 2>/dev/null | wc -l)" -gt 0 ] || ! kill -0 "$local_pid" 2>/dev/null; }
t_wait_for 120 copying || t_fail "the copy did not start"
kill -0 "$local_pid" 2>/dev/null || t_fail "the copy ended before it could be cut"
# The sshd processes serving this test's user: kill the session children,
# never the listening daemon.
sshd_pid=$SSH_PID
for p in $(pgrep -P "$sshd_pid"); do kill -9 "$p" 2>/dev/null || true; done
rc=0
wait "$local_pid" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || t_fail "migrate said ok although its connection was cut"
after_migrate_fault "ssh connection cut mid-copy" "exit $rc"
t_assert_contains "$T_OUT$T_ERR" "resumed" "the cut copy resumes"

fi   # FAULTS_ONLY=pg-stop: the first migrate, then this part alone

t_log "PostgreSQL stopped on the new server while its restore runs"
change_source
pg() { "$PGBIN/pg_ctl" "$@" >/dev/null 2>&1 || (cd / && runuser -u postgres -- "$PGBIN/pg_ctl" "$@" >/dev/null 2>&1); }
rm -f "$work/rfault/restore.shadow.created.paused"
FERRY_PROFILES=$work/profiles-p.json "$FERRY_BIN" migrate --target new --yes </dev/null >"$work/mig.out" 2>"$work/mig.err" &
local_pid=$!
remote_paused() { [ -f "$work/rfault/restore.shadow.created.paused" ] || ! kill -0 "$local_pid" 2>/dev/null; }
t_wait_for 300 remote_paused || t_fail "the remote restore did not reach its shadow"
[ -f "$work/rfault/restore.shadow.created.paused" ] ||
    t_fail "the migrate ended before its remote restore paused: $(cat "$work/mig.err")"
pg -D "$TARGET_DATA" -m fast -w -t 60 stop || t_fail "the target cluster did not stop"
rm -f "$work/rfault/restore.shadow.created.paused"
rc=0
wait "$local_pid" || rc=$?
pg -D "$TARGET_DATA" -l "$TARGET_LOG" -w -t 60 start || t_fail "the target cluster did not start again"
[ "$rc" != 0 ] || t_fail "migrate said ok although PostgreSQL stopped on the new server"
t_assert_contains "$(cat "$work/mig.err")" "restore" "the failure names the restore step"
t_assert_contains "$(cat "$work/mig.err")" "hint:" "the failure carries a hint"
after_migrate_fault "PostgreSQL stopped on the new server" "exit $rc"

t_log "two migrates at once: the second is refused naming the holder"
change_source
t_fault_start step.migrate.backup "$FERRY_FAULTS_BIN" migrate --target new --yes
t_assert_exit 8 "$FERRY_BIN" migrate --target new --yes
t_assert_contains "$T_ERR" "locked by migrate" "the holder's flow"
t_assert_contains "$T_ERR" "(pid $T_BG_PID)" "the holder's pid"
t_assert_contains "$T_ERR" "@$(hostname)" "the holder's host"
t_fault_go step.migrate.backup
wait "$T_BG_PID" || t_fail "the first migrate failed: $(cat "$T_TMPROOT/bg.err")"
left=$(leftovers)
[ "$left" = none ] || t_fail "two migrates: leftovers $left"
row migrate "two at once" "exit 8" "0" "$left" "first completes"
else
    t_assert_exit 0 "$FERRY_BIN" backup --profile old
fi

# ---- deploy ---------------------------------------------------------------------
ddb=fdep_$$
t_psql_source "CREATE DATABASE $ddb"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $ddb' >/dev/null 2>&1"
DB=$ddb t_psql_source "CREATE TABLE items (id int primary key); INSERT INTO items SELECT generate_series(1, 1000)" >/dev/null
mkdir -p "$work/migrations" "$work/dapp/config"
echo "x=1" >"$work/dapp/config/app.conf"
echo "CREATE TABLE tasks (id serial primary key);" >"$work/migrations/0001_tasks.up.sql"
echo "DROP TABLE tasks;" >"$work/migrations/0001_tasks.down.sql"
cat >"$work/deploy.json" <<JSON
{"web": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$ddb"},
         "app": {"root": "$work/dapp", "paths": ["config"]},
         "backup": {"dir": "$work/dbackups"}, "log_dir": "$work/dlogs",
         "migrations": {"dir": "$work/migrations"},
         "services": {"orchestrator": "custom", "restart": ["true"]},
         "health": [{"name": "web", "url": "http://127.0.0.1:$http_port/health", "expect": 200, "retries": 5, "interval_s": 1}]}}
JSON
deploy_leftovers() {
    local n
    n=$(ls -d "$work"/dbackups/.ferry-staging-* "$work"/dbackups/*.part "$work"/dbackups/.ferry.lock \
        "$work"/dbackups/.ferry-*.lock 2>/dev/null | wc -l)
    [ "$n" -eq 0 ] && echo none || echo "$n"
}
t_log "kill -9 of ferry at every step boundary of deploy"
t_assert_exit 0 "$FERRY_BIN" deploy --env web --dry-run --json --profiles "$work/deploy.json"
for s in $(plan_ids <<<"$T_OUT"); do
    [ "$s" = preflight ] && continue
    t_run env FERRY_FAULT="step.deploy.$s:kill" "$FERRY_FAULTS_BIN" deploy --env web --profiles "$work/deploy.json"
    [ "$T_RC" = 137 ] || t_fail "step.deploy.$s: not killed ($T_RC): $T_ERR"
    t_assert_eq 1000 "$(DB=$ddb t_psql_source "SELECT count(*) FROM items")" "step.deploy.$s: no row lost"
    t_run "$FERRY_BIN" deploy --env web --profiles "$work/deploy.json"
    [ "$T_RC" = 0 ] || t_fail "step.deploy.$s: the rerun failed ($T_RC): $T_ERR"
    t_assert_eq 1 "$(DB=$ddb t_psql_source "SELECT count(*) FROM pg_tables WHERE tablename = 'tasks'")" "step.deploy.$s: migrated"
    left=$(deploy_leftovers)
    [ "$left" = none ] || t_fail "step.deploy.$s: leftovers $left"
    row deploy "step.deploy.$s" killed 0 "$left" completes
    # The next kill starts from the schema before the migration.
    DB=$ddb t_psql_source "DROP TABLE tasks" >/dev/null
    DB=$ddb t_psql_source "DELETE FROM ferry_schema_migrations" >/dev/null 2>&1 ||
        DB=$ddb t_psql_source "DELETE FROM ferry.schema_migrations" >/dev/null 2>&1 || true
done

# ---- push -----------------------------------------------------------------------
t_log "kill -9 of ferry at every step boundary of push, and mid-upload"
bundle=$(ls "$work"/backups/*.ferry.tar.zst | tail -n 1)
want=$(sha256sum "$bundle" | cut -d' ' -f1)
push_check() { # POINT OUTCOME
    local left
    t_run "$FERRY_BIN" push "$bundle" --target new
    [ "$T_RC" = 0 ] || t_fail "$1: the rerun failed ($T_RC): $T_ERR"
    t_assert_eq "$want" "$(sha256sum "$work/remote/backups/$(basename "$bundle")" | cut -d' ' -f1)" "$1: the pushed copy"
    left=$(find "$work/remote/backups" -maxdepth 1 -name '*.part' | wc -l)
    [ "$left" -eq 0 ] && left=none || t_fail "$1: $left .part left"
    row push "$1" "$2" 0 "$left" completes
}
t_assert_exit 0 "$FERRY_BIN" push "$bundle" --target new --dry-run --json
for s in $(plan_ids <<<"$T_OUT"); do
    [ "$s" = preflight ] && continue
    t_run env FERRY_FAULT="step.push.$s:kill" "$FERRY_FAULTS_BIN" push "$bundle" --target new
    [ "$T_RC" = 137 ] || t_fail "step.push.$s: not killed ($T_RC): $T_ERR"
    push_check "step.push.$s" killed
done
half=$(($(stat -c %s "$bundle") / 2))
t_run env FERRY_FAULT_KILL_AFTER_BYTES=$half "$FERRY_FAULTS_BIN" push "$bundle" --target new
[ "$T_RC" = 137 ] || t_fail "push mid-upload: not killed ($T_RC): $T_ERR"
push_check "push killed halfway through upload" killed

echo "$(grep -c '^migrate\|^deploy\|^push' "$table") migrate/deploy/push faults, 0 rows lost, no leftovers, every rerun completed"
