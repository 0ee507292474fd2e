#!/usr/bin/env bash
# The deploy and status wizards driven by key scripts: a deploy restarts the
# services (a custom command that touches a file), applies the migrations,
# passes its health check against a real HTTP service and makes a restore
# point (or not, when the option says no); a deploy whose health check fails
# runs the rollback commands and names the restore command; the status
# wizard shows every check, ok on a healthy profile and failed on a profile
# whose database cannot be reached.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_wdep_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (1), (2)" >/dev/null
mkdir -p "$work/migrations" "$work/app/config"
echo "CREATE TABLE tasks (id serial PRIMARY KEY, state text);" >"$work/migrations/0001_tasks.up.sql"
echo "DROP TABLE tasks;" >"$work/migrations/0001_tasks.down.sql"
echo "x=1" >"$work/app/config/app.conf"

# A real HTTP service for the health checks.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
web=$FERRY_SRC/tests/fixtures/webapp.sh
"$web" start "$port" "$work/www" >/dev/null
t_on_exit "'$web' stop $port '$work/www' || true"
up() { curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; }
t_wait_for 20 up || t_fail "the HTTP service did not start"
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# profiles HEALTH_PATH: "web" deploys on this machine; "down" has a
# database nobody listens on.
profiles() {
    cat >"$work/profiles.json" <<JSON
{
  "web": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "app": {"root": "$work/app", "paths": ["config"]},
    "backup": {"dir": "$work/backups"},
    "log_dir": "$work/logs",
    "migrations": {"dir": "$work/migrations"},
    "services": {"orchestrator": "custom", "restart": ["touch $work/restarted"],
                 "rollback": ["touch $work/rolled-back"]},
    "health": [{"name": "web", "url": "http://127.0.0.1:$port$1", "expect": 200, "timeout_s": 2,
                "retries": 2, "interval_s": 1}]
  },
  "down": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$closed_port/$db"},
    "backup": {"dir": "$work/backups-down"}
  }
}
JSON
}
profiles /health
export FERRY_PROFILES=$work/profiles.json
unset FERRY_PROFILE


restore_points() { find "$work/backups" -name 'web_*_pre-deploy_*.ferry.tar.zst' 2>/dev/null | wc -l; }

t_log "deploy through the wizard: restart, migrations, health, restore point"
t_wiz "dump:$work/d1.txt Enter dump:$work/d2.txt Enter waitfor:\"take the deploy lock\" dump:$work/d3.txt s waitfor:Finished dump:$work/d4.txt Enter dump:$work/d5.txt Enter" easy deploy --profile web
t_assert_eq 0 "$T_RC" "exit status of the deploy wizard"
t_assert_file_contains "$work/d1.txt" "Deploying or restarting services" "explanation page"
t_assert_file_contains "$work/d2.txt" "Restore point first?" "options page"
t_assert_file_contains "$work/d2.txt" "Profile web deploys on this machine." "where it deploys"
t_assert_file_contains "$work/d2.txt" "◂ yes: back up first (a restore point) ▸" "restore point by default"
t_assert_file_contains "$work/d3.txt" "Summary: this is what will happen" "summary"
t_assert_file_not_contains "$work/d4.txt" "[✖]" "no failed step"
t_assert_file_contains "$work/d5.txt" "✔ Deploy or restart services: done" "result headline"
t_wrapped_has "$work/d5.txt" "restore point $work/backups/web_" "result names the restore point"
t_wrapped_has "$work/d5.txt" "ferry status --profile web" "next command"
[ -f "$work/restarted" ] || t_fail "the restart command did not run"
[ ! -e "$work/rolled-back" ] || t_fail "rollback ran after a good deploy"
t_assert_eq 1 "$(restore_points)" "restore points"
t_assert_eq 1 "$(DB=$db t_psql_source "SELECT count(*) FROM ferry_schema_migrations")" "migration applied"
t_assert_eq 0 "$(DB=$db t_psql_source "SELECT count(*) FROM tasks")" "the migration's table"
[ ! -e "$work/backups/.ferry.lock" ] || t_fail "lock not released"

t_log "deploy without a restore point"
rm -f "$work/restarted"
t_wiz "Enter Right dump:$work/e1.txt Enter waitfor:\"take the deploy lock\" dump:$work/e2.txt s waitfor:Finished Enter dump:$work/e3.txt Enter" easy deploy --profile web
t_assert_eq 0 "$T_RC" "exit status of the second deploy"
t_assert_file_contains "$work/e1.txt" "◂ no: restart without a restore point ▸" "option changed"
t_assert_file_contains "$work/e3.txt" "✔ Deploy or restart services: done" "result headline"
[ -f "$work/restarted" ] || t_fail "the restart command did not run"
t_assert_eq 1 "$(restore_points)" "no new restore point"

t_log "a health check that fails: rollback, and the restore command"
profiles /never-there
rm -f "$work/restarted"
t_wiz "Enter Enter waitfor:\"take the deploy lock\" s waitfor:\"Enter: see the result\" dump:$work/f1.txt Enter dump:$work/f2.txt Enter" easy deploy --profile web
t_assert_eq 6 "$T_RC" "exit status of a deploy whose health check failed"
t_assert_file_contains "$work/f1.txt" "Failed:" "status line"
t_assert_file_contains "$work/f2.txt" "✖ Deploy or restart services: failed" "result headline"
t_wrapped_has "$work/f2.txt" "The profile's rollback commands ran." "rollback reported"
t_wrapped_has "$work/f2.txt" "Next: ferry restore" "the restore command as the next step"
[ -f "$work/restarted" ] || t_fail "the restart command did not run"
[ -f "$work/rolled-back" ] || t_fail "the rollback command did not run"
t_assert_eq 2 "$(restore_points)" "a restore point for the failed deploy"
profiles /health

t_log "status through the wizard: every check ok (a drill of the newest bundle first)"
t_assert_exit 0 "$FERRY_BIN" drill --profile web
t_wiz "waitfor:Finished dump:$work/s1.txt Enter dump:$work/s2.txt PgDn dump:$work/s3.txt Enter" easy status --profile web
t_assert_eq 0 "$T_RC" "exit status of the status wizard"
t_assert_file_contains "$work/s1.txt" "Checking" "run page"
t_assert_file_contains "$work/s1.txt" "[✔] database" "database check"
t_assert_file_contains "$work/s1.txt" "[✔] health web" "health check"
t_assert_file_contains "$work/s1.txt" "[✔] drill" "drill check"
t_assert_file_not_contains "$work/s1.txt" "[✖]" "no failed check"
t_assert_file_contains "$work/s2.txt" "✔ Check system status: done" "result headline"
t_assert_file_contains "$work/s2.txt" "Overall: ok" "overall state"
# Every check with its state and detail, as `ferry status` prints them.
t_assert_file_contains "$work/s2.txt" "[ ok ] database: reachable in" "the database check's latency"
t_assert_file_contains "$work/s2.txt" "[ ok ] size: " "the size check"
t_wrapped_has "$work/s2.txt" "[ ok ] backup: last web_" "the last backup named"
t_wrapped_has "$work/s2.txt" "ago, verified" "and that the drill verified it"
t_assert_file_contains "$work/s2.txt" "more lines: Down/PgDn" "the rest is a key away"
t_assert_file_contains "$work/s3.txt" "[ ok ] health: web: 200 in" "the health check's status and time"
t_assert_file_contains "$work/s1.txt" "[✔] database: reachable in" "the run page shows each check's detail"

t_log "status of a profile whose database is down, from the menu"
printf '5 Down Enter waitfor:"Enter: see the result" dump:%s Enter dump:%s Enter dump:%s\n' \
    "$work/x1.txt" "$work/x2.txt" "$work/x3.txt" >"$work/menu.keys"
t_run env LC_ALL=C.UTF-8 COLUMNS=80 LINES=24 FERRY_KEYS="$work/menu.keys" "$FERRY_BIN"
t_assert_eq 0 "$T_RC" "the menu's exit status"
t_assert_file_contains "$work/x1.txt" "[✖] database" "the database check failed"
t_assert_file_contains "$work/x2.txt" "✖ Check system status: failed" "result headline"
t_wrapped_has "$work/x2.txt" "Overall: fail" "overall state"
t_assert_file_contains "$work/x2.txt" "Enter: back to the menu. q: quit ferry." "opened from the menu"
t_assert_file_contains "$work/x3.txt" "What would you like to do?" "Enter returned to the menu"

t_log "each run has its own log file, also two in the same second"
printf 'waitfor:Finished Enter Enter\n' >"$work/st.keys"
env LC_ALL=C.UTF-8 "$FERRY_BIN" easy status --profile web --keys "$work/st.keys" </dev/null >/dev/null 2>&1 &
env LC_ALL=C.UTF-8 "$FERRY_BIN" easy status --profile web --keys "$work/st.keys" </dev/null >/dev/null 2>&1 &
wait
for f in "$work"/logs/ferry-status-*.log; do
    t_assert_eq 1 "$(grep -c '^ferry .*: status, profile ' "$f")" "runs logged in $f"
done
t_assert_eq 4 "$(cat "$work"/logs/ferry-status-*.log | grep -c '^ferry .*: status, profile ')" "status runs logged"
