#!/usr/bin/env bash
# Deploy: a real HTTP service restarted by the profile's command and
# checked at its health URL; migrations applied; a restore point made; a
# health URL that never comes up fails the deploy, runs the rollback
# commands, prints the restore command and exits non-zero; the same deploy
# over SSH on the test bed's sshd.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
chmod 755 "$work"
db=shop_dep_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "CREATE TABLE items (id int primary key)" >/dev/null
mkdir -p "$work/migrations" "$work/app/config"
echo "CREATE TABLE tasks (id serial primary key, state text);" >"$work/migrations/0001_tasks.up.sql"
echo "DROP TABLE tasks;" >"$work/migrations/0001_tasks.down.sql"
echo "ALTER TABLE tasks ADD COLUMN worker_id text;" >"$work/migrations/0002_worker.up.sql"
echo "x=1" >"$work/app/config/app.conf"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
web=$FERRY_SRC/tests/fixtures/webapp.sh
t_on_exit "'$web' stop $port '$work/www' || true"

profiles() { # health_path [ssh]
    local ssh_section="" url="postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"
    if [ "${2:-}" = ssh ]; then
        ssh_section=", \"ssh\": {\"host\": \"127.0.0.1\", \"port\": $SSH_PORT, \"user\": \"$SSH_USER\",
            \"identity_file\": \"$SSH_KEY\", \"known_hosts\": \"$SSH_KNOWN_HOSTS\",
            \"use_ssh_config\": false, \"ferry_path\": \"$FERRY_BIN\"}"
        url="postgresql://ferry@/$db?host=$SOURCE_SOCK&port=$SOURCE_PORT"
    fi
    cat >"$work/profiles.json" <<JSON
{"web": {
  "database": {"url": "$url"},
  "app": {"root": "$work/app", "paths": ["config"]},
  "backup": {"dir": "$work/backups"},
  "log_dir": "$work/logs",
  "migrations": {"dir": "$work/migrations"},
  "services": {"orchestrator": "custom",
               "restart": ["$web restart $port $work/www"],
               "rollback": ["touch $work/rolled-back"]},
  "health": [{"name": "web", "url": "http://127.0.0.1:$port$1", "expect": 200, "timeout_s": 2,
              "retries": 5, "interval_s": 1}],
  "hooks": {"pre_deploy": ["echo pre-deploy-ran > $work/pre.txt"], "post_deploy": ["echo post > $work/post.txt"]}
  $ssh_section
}}
JSON
}
export FERRY_PROFILES=$work/profiles.json

t_log "dry run"
profiles /health
t_assert_exit 0 "$FERRY_BIN" deploy --env web --dry-run
t_assert_contains "$T_OUT" "restart services" "plan"

t_log "a deploy that succeeds"
t_assert_exit 0 "$FERRY_BIN" deploy --env web --json
t_assert_contains "$T_OUT" '"status":"success"' "result"
t_assert_contains "$T_OUT" "webapp started" "restart output streamed"
curl -fsS "http://127.0.0.1:$port/health" >/dev/null || t_fail "service not running"
t_assert_eq "2" "$(DB=$db t_psql_source "SELECT count(*) FROM ferry_schema_migrations")" "migrations applied"
ls "$work/backups"/web_*_pre-deploy_*.ferry.tar.zst >/dev/null || t_fail "no restore point"
[ -f "$work/pre.txt" ] && [ -f "$work/post.txt" ] || t_fail "hooks did not run"
python3 -c "import json,sys; l=json.load(open('$work/logs/deploy_log.json')); assert l[-1]['status']=='success', l" 
[ ! -e "$work/backups/.ferry.lock" ] || t_fail "lock not released"

t_log "a health URL that never comes up fails the deploy and rolls back"
profiles /never-there
rm -f "$work/post.txt"
t_assert_exit 6 "$FERRY_BIN" deploy --env web
t_assert_contains "$T_ERR" "http://127.0.0.1:$port/never-there" "health failure names the URL"
t_assert_contains "$T_ERR" "ferry restore" "the exact restore command"
[ -f "$work/rolled-back" ] || t_fail "rollback commands did not run"
[ ! -f "$work/post.txt" ] || t_fail "post_deploy ran after a failed health check"
python3 -c "import json,sys; l=json.load(open('$work/logs/deploy_log.json')); assert l[-1]['status']=='failed' and l[-1]['rolled_back'], l"

t_log "a held lock refuses a deploy"
printf '{"owner":"x@y","pid":1,"flow":"migrate","time":"t","epoch":%s}\n' "$(date +%s)" >"$work/backups/.ferry.lock"
profiles /health
t_assert_exit 8 "$FERRY_BIN" deploy --env web
rm -f "$work/backups/.ferry.lock"

t_log "deploy over SSH"
profiles /health ssh
echo "ALTER TABLE tasks ADD COLUMN done_at timestamptz;" >"$work/migrations/0003_done.up.sql"
"$web" stop "$port" "$work/www"
t_assert_exit 0 "$FERRY_BIN" deploy --env web
t_assert_contains "$T_ERR" "[127.0.0.1] webapp started" "remote output streamed"
t_assert_eq "3" "$(DB=$db t_psql_source "SELECT count(*) FROM ferry_schema_migrations")" "remote migrations applied"
curl -fsS "http://127.0.0.1:$port/health" >/dev/null || t_fail "service not restarted over SSH"
