#!/usr/bin/env bash
# Alerts and schedules: a scheduled backup that fails calls the profile's
# notify command (the alert JSON on stdin, FERRY_EVENT / FERRY_PROFILE /
# FERRY_STATUS in its environment; asserted by the files it writes) and
# POSTs the same JSON to a webhook receiver on 127.0.0.1 (retried after a
# 503, its headers sent); a run without --scheduled, or one that succeeds,
# sends nothing; a failing notifier never changes the run's exit status; a
# scheduled drill that fails and `status --notify` alert too; `notify
# --test`; `schedule install` writes the drill timer (Sunday 05:00,
# Persistent=true, drill.schedule) and the status timer, and `remove`
# removes them, for systemd and cron.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=notify_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "for d in \$(t_psql_source \"SELECT datname FROM pg_database WHERE datname LIKE '${db}%'\"); do t_psql_source \"DROP DATABASE IF EXISTS \\\"\$d\\\"\" >/dev/null 2>&1; done"
DB=$db t_psql_source "CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 100) g"

hooks=$work/hooks
mkdir -p "$hooks"
python3 "$FERRY_SRC/tests/webhook_receiver.py" "$hooks" --fail-first 1 >"$work/receiver.log" 2>&1 &
receiver=$!
t_on_exit "kill $receiver 2>/dev/null; wait $receiver 2>/dev/null"
t_wait_for 30 test -s "$hooks/port" || t_fail "the webhook receiver did not start: $(cat "$work/receiver.log")"
hook_port=$(cat "$hooks/port")
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# The notify command keeps what it was given: stdin and its FERRY_ variables.
cat >"$work/alert.sh" <<'SH'
#!/bin/sh
n=$(ls "$ALERTS" | grep -c '\.json$' || true)
n=$((n + 1))
cat >"$ALERTS/$n.json.part" && mv "$ALERTS/$n.json.part" "$ALERTS/$n.json"
env | grep '^FERRY_' | sort >"$ALERTS/$n.env"
SH
chmod +x "$work/alert.sh"
export ALERTS=$work/alerts
mkdir -p "$ALERTS"

# profile NAME DB_PORT [NOTIFY_JSON] [DRILL_JSON]
notify_json="{\"command\": \"$work/alert.sh\",
              \"webhook\": {\"url\": \"http://127.0.0.1:$hook_port/hooks/secret-part\",
                            \"headers\": {\"Authorization\": \"Bearer \${HOOK_TOKEN}\", \"X-Ferry\": \"yes\"}}}"
export HOOK_TOKEN=tok-123
cat >"$work/profiles.json" <<JSON
{
  "down": {"database": {"url": "postgresql://ferry@127.0.0.1:$closed/$db"},
           "backup": {"dir": "$work/backups-down"}, "log_dir": "$work/logs", "notify": $notify_json},
  "up": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
         "backup": {"dir": "$work/backups-up"}, "log_dir": "$work/logs", "notify": $notify_json,
         "drill": {"checks": [{"name": "hundred rows", "sql": "SELECT count(*) FROM t", "expect": 101}],
                   "schedule": "Wed 04:30"}},
  "broken": {"database": {"url": "postgresql://ferry@127.0.0.1:$closed/$db"},
             "backup": {"dir": "$work/backups-broken"}, "log_dir": "$work/logs",
             "notify": {"command": "exit 7", "webhook": {"url": "http://127.0.0.1:$closed/x"}, "timeout_s": 2}},
  "quiet": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
            "backup": {"dir": "$work/backups-quiet"}, "log_dir": "$work/logs"}
}
JSON
export FERRY_PROFILES=$work/profiles.json
alerts() { ls "$ALERTS" | grep -c '\.json$' || true; }
posts() { ls "$hooks" | grep -c '\.json$' || true; }
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

t_log "a backup without --scheduled that fails: no alert"
t_assert_exit 3 "$FERRY_BIN" backup --profile down
t_assert_eq 0 "$(alerts)" "no alert without --scheduled"
t_assert_eq 0 "$(posts)" "no POST without --scheduled"

t_log "a scheduled backup that fails: the command and the webhook get the alert; the exit status stays 3"
t_assert_exit 3 "$FERRY_BIN" backup --profile down --type daily --scheduled
t_assert_contains "$T_ERR" "cannot connect to database" "the backup's own error"
t_assert_eq 1 "$(alerts)" "the notify command ran once"
t_assert_eq "FERRY_EVENT=backup FERRY_PROFILE=down FERRY_STATUS=failure" \
    "$(grep -E '^FERRY_(EVENT|PROFILE|STATUS)=' "$ALERTS/1.env" | tr '\n' ' ' | sed 's/ $//')" "its environment"
t_assert_eq "backup down failure" "$(field "$ALERTS/1.json" "d['event'], d['profile'], d['status']" | tr -d "(),'")" \
    "the alert's event, profile and status"
t_assert_contains "$(field "$ALERTS/1.json" "d['text']")" "ferry: backup of down FAILED on" "the alert's text"
t_assert_eq "db 3" "$(field "$ALERTS/1.json" "d['result']['error'], d['result']['exit_code']" | tr -d "(),'")" \
    "the alert carries the error"
t_assert_eq 2 "$(posts)" "the webhook was retried after its 503 and then took the alert"
t_assert_contains "$T_ERR" "attempt 1/4: answered 503" "the retry is logged"
cmp "$hooks/002.json" "$ALERTS/1.json" || t_fail "the webhook body differs from the command's stdin"
t_assert_file_contains "$hooks/002.headers" "Authorization: Bearer tok-123" "the header, with its variable expanded"
t_assert_file_contains "$hooks/002.headers" "Content-Type: application/json" "a JSON POST"
t_assert_file_contains "$hooks/002.headers" "User-Agent: ferry/" "ferry's user agent"
t_assert_exit 0 "$FERRY_BIN" profiles show up
t_assert_not_contains "$T_OUT" "secret-part" "profiles show hides the webhook's path"
t_assert_not_contains "$T_OUT" "tok-123" "profiles show hides the header values"

t_log "a failing notifier is reported and changes nothing: the run's exit status stands"
t_assert_exit 3 "$FERRY_BIN" backup --profile broken --scheduled
t_assert_contains "$T_ERR" "the alert was not delivered everywhere" "the notifier's failure is reported"
t_assert_contains "$T_ERR" "cannot connect to database" "the backup's own error still shown"

t_log "a scheduled backup that succeeds: nothing sent (notify.on is failure, warning)"
t_assert_exit 0 "$FERRY_BIN" backup --profile up --scheduled --type daily
t_assert_eq 1 "$(alerts)" "no alert for a success"

t_log "a scheduled drill that fails alerts with event drill"
t_assert_exit 4 "$FERRY_BIN" drill --profile up --scheduled
t_assert_eq 2 "$(alerts)" "the failed drill's alert"
t_assert_eq "drill failure" "$(field "$ALERTS/2.json" "d['event'], d['status']" | tr -d "(),'")" "drill alert"
t_assert_eq "hundred rows" "$(field "$ALERTS/2.json" "d['result']['checks'][0]['name']")" \
    "the alert carries the drill's record"
t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}_drill_%'")" \
    "no scratch database left"

t_log "status --notify: the failed drill makes the report fail, and it is sent"
t_assert_exit 4 "$FERRY_BIN" status --profile up --notify
t_assert_eq 3 "$(alerts)" "status alert"
t_assert_eq "status failure" "$(field "$ALERTS/3.json" "d['event'], d['status']" | tr -d "(),'")" "status alert"
t_assert_eq fail "$(field "$ALERTS/3.json" "d['result']['status']")" "the alert carries the status report"
t_assert_exit 4 "$FERRY_BIN" status --profile up
t_assert_eq 3 "$(alerts)" "status without --notify sends nothing"

t_log "ferry notify --test reaches both notifiers"
t_assert_exit 0 "$FERRY_BIN" notify --test --profile up
t_assert_contains "$T_OUT" "notify command: ok" "the command"
t_assert_contains "$T_OUT" "notify webhook: ok (HTTP 200)" "the webhook"
t_assert_eq "test success" "$(field "$ALERTS/4.json" "d['event'], d['status']" | tr -d "(),'")" "test alert"
t_assert_exit 1 "$FERRY_BIN" notify --test --profile broken
t_assert_contains "$T_ERR" "notify command" "a failing test names the notifier"
t_assert_exit 2 "$FERRY_BIN" notify --test --profile quiet
t_assert_contains "$T_ERR" "profile quiet has no notify section" "no notify section"
t_assert_exit 2 "$FERRY_BIN" notify --profile up
t_assert_contains "$T_ERR" "nothing to do without --test" "notify without --test"

t_log "schedule install (systemd): the drill timer and the status timer; remove takes them away"
export FERRY_SYSTEMD_DIR=$work/systemd FERRY_CRON_DIR=$work/cron.d
mkdir -p "$FERRY_SYSTEMD_DIR" "$FERRY_CRON_DIR"
t_assert_exit 0 "$FERRY_BIN" schedule install --systemd --profile quiet
t_assert_file_contains "$FERRY_SYSTEMD_DIR/ferry-drill-quiet.timer" "OnCalendar=Sun *-*-* 05:00:00" "weekly drill, Sunday 05:00"
t_assert_file_contains "$FERRY_SYSTEMD_DIR/ferry-drill-quiet.timer" "Persistent=true" "a missed drill runs at boot"
t_assert_file_contains "$FERRY_SYSTEMD_DIR/ferry-drill-quiet.service" "drill --profiles $FERRY_PROFILES --profile quiet --scheduled" \
    "the drill service runs a scheduled drill"
t_assert_file_contains "$FERRY_SYSTEMD_DIR/ferry-backup-quiet-daily.service" "--type daily --scheduled" \
    "backups are marked scheduled"
[ ! -e "$FERRY_SYSTEMD_DIR/ferry-status-quiet.timer" ] || t_fail "a status timer without a notify section"
t_assert_exit 0 "$FERRY_BIN" schedule show --systemd --profile quiet
t_assert_contains "$T_OUT" "ferry-drill-quiet.timer: Sun *-*-* 05:00:00 (restore drill)" "show lists the drill timer"
t_assert_exit 0 "$FERRY_BIN" schedule install --systemd --profile up
t_assert_file_contains "$FERRY_SYSTEMD_DIR/ferry-drill-up.timer" "OnCalendar=Wed *-*-* 04:30:00" "drill.schedule"
t_assert_file_contains "$FERRY_SYSTEMD_DIR/ferry-status-up.timer" "OnCalendar=*-*-* 06:00:00" "the daily status check"
t_assert_file_contains "$FERRY_SYSTEMD_DIR/ferry-status-up.service" "status --profiles $FERRY_PROFILES --profile up --notify" \
    "the status service notifies"
t_assert_exit 0 "$FERRY_BIN" schedule remove --systemd --profile quiet
t_assert_contains "$T_OUT" "removed $FERRY_SYSTEMD_DIR/ferry-drill-quiet.timer" "remove names the drill timer"
[ -z "$(ls "$FERRY_SYSTEMD_DIR" | grep -- '-quiet')" ] || t_fail "units of quiet left: $(ls "$FERRY_SYSTEMD_DIR")"
t_assert_exit 0 "$FERRY_BIN" schedule remove --systemd --profile up
[ -z "$(ls "$FERRY_SYSTEMD_DIR")" ] || t_fail "units left: $(ls "$FERRY_SYSTEMD_DIR")"

t_log "schedule install (cron): the drill line; remove removes the file"
t_assert_exit 0 "$FERRY_BIN" schedule install --cron --profile quiet
t_assert_file_contains "$FERRY_CRON_DIR/ferry-quiet" "0 5 * * 0 root " "the weekly drill in cron"
t_assert_file_contains "$FERRY_CRON_DIR/ferry-quiet" "drill --profiles $FERRY_PROFILES --profile quiet --scheduled" "its command"
t_assert_exit 0 "$FERRY_BIN" schedule remove --cron --profile quiet
[ ! -e "$FERRY_CRON_DIR/ferry-quiet" ] || t_fail "the cron file is left"
