#!/usr/bin/env bash
# The migrate wizard over the test bed's sshd, its target profile's
# known_hosts a new, empty file: the unknown host key shows as a SHA256
# fingerprint with Accept / Reject. Reject stops the run with nothing on the
# target and known_hosts still empty; Accept records the key and the
# migration goes on: the target database equals the source, the app files
# are there, the migration log is written. A second migration into the now
# existing database asks for its name to be typed. A result longer than the
# screen scrolls; Save as profile copies the new server's profile with the
# server page's answers.
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
db=shop_wmig_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
t_on_exit "drop_target_dbs"
drop_target_dbs() {
    local d
    for d in $(t_psql_target "SELECT datname FROM pg_database WHERE datname LIKE '${db}%'"); do
        t_psql_target "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true
    done
}
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null

app=$work/app
mkdir -p "$app/uploads"
head -c 100000 /dev/urandom >"$app/uploads/photo.jpg"
: >"$work/known_hosts"
cat >"$work/profiles.json" <<JSON
{
  "demo": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "app": {"root": "$app", "paths": ["uploads"]},
    "backup": {"dir": "$work/backups"},
    "log_dir": "$work/logs"
  },
  "new-server": {
    "database": {"url": "postgresql://ferry@/$db?host=$TARGET_SOCK&port=$TARGET_PORT"},
    "app": {"root": "$work/remote/app", "paths": ["uploads"]},
    "backup": {"dir": "$work/remote/backups"},
    "ssh": {"host": "127.0.0.1", "port": $SSH_PORT, "user": "$SSH_USER", "identity_file": "$SSH_KEY",
            "known_hosts": "$work/known_hosts", "use_ssh_config": false, "ferry_path": "$FERRY_BIN"}
  }
}
JSON
export FERRY_PROFILES=$work/profiles.json
unset FERRY_PROFILE



target_dbs() { t_psql_target "SELECT datname FROM pg_database WHERE datname LIKE '${db}%'"; }
fp=$(ssh-keygen -lf "$SSH_HOST_PUB" | awk '{print $2}')
case "$fp" in SHA256:*) ;; *) t_fail "cannot read the test bed's host key fingerprint: $fp" ;; esac

t_log "the pages, and Reject on the unknown host key (asked while the summary checks the new server)"
t_wiz "dump:$work/m1.txt Enter dump:$work/m2.txt Enter dump:$work/m3.txt Enter dump:$work/m4.txt Enter dump:$work/m4s.txt Enter waitfor:\"Unknown SSH host key\" dump:$work/hk.txt r waitfor:\"unknown host key for\" dump:$work/m6.txt c" easy migrate
t_assert_ne 0 "$T_RC" "exit status after Reject"
t_assert_file_contains "$work/m1.txt" "Moving to a new server" "explanation page"
t_assert_file_contains "$work/m1.txt" "You see the whole plan before anything happens." "explanation text"
t_assert_file_contains "$work/m2.txt" "Where is the database now (this server's profile)?" "source question"
t_assert_file_contains "$work/m3.txt" "Back up first?" "backup page"
t_wrapped_has "$work/m3.txt" "into $work/backups" "backup page names the directory"
t_assert_file_contains "$work/m4.txt" "Which profile is the new server?" "target question"
t_assert_file_contains "$work/m4.txt" "new-server" "target listed"
t_assert_file_contains "$work/m4.txt" "$SSH_USER@127.0.0.1:$SSH_PORT" "target's ssh shown"
t_assert_file_not_contains "$work/m4.txt" "▸ demo" "the source is not offered as the target"
t_assert_file_contains "$work/m4s.txt" "How does ferry reach the new server?" "server page"
t_assert_file_contains "$work/m4s.txt" "127.0.0.1" "host from the profile"
t_assert_file_contains "$work/m4s.txt" "$SSH_PORT" "port from the profile"
t_assert_file_contains "$work/m4s.txt" "$SSH_KEY" "key from the profile"
t_assert_file_contains "$work/hk.txt" "$fp" "the SHA256 fingerprint shown"
t_assert_file_contains "$work/hk.txt" "127.0.0.1:$SSH_PORT presents a host key" "the host shown"
t_assert_file_contains "$work/hk.txt" "[ Accept ]" "Accept button"
t_assert_file_contains "$work/hk.txt" "[ Reject ]" "Reject button"
t_assert_file_contains "$work/hk.txt" "a Accept  r Reject  Esc reject" "the keys for Accept and Reject on the key-help line"
t_wrapped_has "$work/m6.txt" "unknown host key for 127.0.0.1:$SSH_PORT" "the summary says why there is no plan"
t_assert_file_not_contains "$work/m6.txt" "copy the bundle" "no plan without the host key"
t_assert_eq 0 "$(stat -c %s "$work/known_hosts")" "known_hosts still empty"
t_assert_eq "" "$(target_dbs)" "nothing on the target"
[ ! -e "$work/remote" ] || [ -z "$(find "$work/remote" -type f)" ] || t_fail "files on the target"
[ ! -e "$work/backups" ] || [ -z "$(find "$work/backups" -name '*.ferry.tar.zst')" ] || t_fail "a bundle was made before the host key was accepted"

t_log "the server page's answers are what the summary checks: a wrong port fails to connect there"
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
t_wiz "Enter Enter Enter Enter Tab Tab C-u text:x Enter dump:$work/p1.txt C-u text:$closed_port Enter waitfor:\"cannot connect to\" dump:$work/p2.txt c" easy migrate
t_assert_ne 0 "$T_RC" "exit status with a closed port"
t_assert_file_contains "$work/p1.txt" "a port is a number from 1 to 65535" "a bad port is refused on the page"
t_assert_file_contains "$work/p1.txt" "How does ferry reach the new server?" "and Next is blocked"
t_wrapped_has "$work/p2.txt" "127.0.0.1:$closed_port" "the failure names the answered port"
t_assert_file_not_contains "$work/p2.txt" "copy the bundle" "no plan for a server that does not answer"
t_assert_eq 0 "$(stat -c %s "$work/known_hosts")" "known_hosts still empty"

t_log "Esc on the host key rejects too"
t_wiz "Enter Enter Enter Enter Enter waitfor:\"Unknown SSH host key\" Esc waitfor:\"unknown host key for\" c" easy migrate
t_assert_ne 0 "$T_RC" "exit status after Esc"
t_assert_eq 0 "$(stat -c %s "$work/known_hosts")" "known_hosts still empty after Esc"
rm -f "$work/logs/.ferry-migrate-new-server.json"

t_log "Accept: the key is recorded, the summary shows the plan, and the migration goes on"
t_wiz "Enter Enter Enter Enter Enter waitfor:\"Unknown SSH host key\" a waitfor:\"copy the bundle\" dump:$work/m5.txt Down Down Down Down Down Down Down Down Down Down dump:$work/m5b.txt Up dump:$work/m5c.txt s waitfor:Finished dump:$work/a1.txt Enter dump:$work/a2.txt PgDn dump:$work/a3.txt PgUp dump:$work/a4.txt Enter" easy migrate
ssh-keygen -F "[127.0.0.1]:$SSH_PORT" -f "$work/known_hosts" >/dev/null || t_fail "the key was not recorded in known_hosts"
t_assert_file_contains "$work/m5.txt" "4. copy the bundle to the new server" "plan"
t_assert_file_contains "$work/m5.txt" "... more below: Down scrolls the plan" "a plan longer than the screen says so"
t_assert_file_contains "$work/m5b.txt" "migration log" "Down scrolled to the plan's end"
t_assert_file_not_contains "$work/m5b.txt" "more below" "nothing more below at the end"
t_assert_file_not_contains "$work/m5b.txt" "1. check before anything runs" "the first steps scrolled away"
first_b=$(grep -m1 -o '^   [0-9]\.' "$work/m5b.txt" | tr -dc 0-9)
first_c=$(grep -m1 -o '^   [0-9]\.' "$work/m5c.txt" | tr -dc 0-9)
t_assert_eq "$((first_b - 1))" "$first_c" "Up from the end shows the step before (more Downs than steps did not overshoot)"
t_assert_file_contains "$work/m5.txt" "About to move demo to new-server ($SSH_USER@127.0.0.1) over SSH." "line about what will happen"
t_assert_eq 0 "$T_RC" "exit status of the migration"
t_assert_file_contains "$work/known_hosts" "$(cut -d' ' -f2 "$SSH_HOST_PUB")" "the recorded key is the server's"
t_assert_file_contains "$work/a1.txt" "[✔] swap the shadow database in" "checklist: the remote restore's steps, live"
t_assert_file_contains "$work/a1.txt" "[✔] write the migration log" "checklist: log written"
t_assert_file_contains "$work/a1.txt" "[127.0.0.1] " "remote log lines marked with the host"
t_assert_file_not_contains "$work/a1.txt" "[✖]" "no failed step"
t_assert_file_contains "$work/a2.txt" "✔ Migrate to a new server: done" "result headline"
t_wrapped_has "$work/a2.txt" "migration log $work/logs/" "result names the migration log"
t_wrapped_has "$work/a2.txt" "ferry status --profile new-server" "next command"
t_assert_file_contains "$work/a2.txt" "ferry migration demo → new-server: success" "the summary's first line"
t_assert_file_contains "$work/a2.txt" "more lines: Down/PgDn" "a result longer than 80x24 says there is more"
t_assert_file_contains "$work/a3.txt" "lines above: Up/PgUp" "PgDn scrolled the result"
t_assert_file_not_contains "$work/a3.txt" "ferry migration demo → new-server: success" "the first line scrolled away"
t_assert_file_contains "$work/a3.txt" "on the target $work/remote/backups/" "later summary lines shown"
t_assert_file_contains "$work/a4.txt" "ferry migration demo → new-server: success" "PgUp back at the top"
db_fingerprint source "$db" >"$work/fp.source"
db_fingerprint target "$db" >"$work/fp.target"
diff "$work/fp.source" "$work/fp.target" || t_fail "the target database differs from the source"
cmp "$app/uploads/photo.jpg" "$work/remote/app/uploads/photo.jpg"
python3 - "$work/logs/migration_log.json" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
assert log[-1]["status"] == "success" and log[-1]["to"] == "new-server", log[-1]
PY

t_log "into the existing database: its name must be typed"
DB=$db t_psql_source "INSERT INTO app.customers (email) VALUES ('second-move@example.com')" >/dev/null
t_wiz "Enter Enter Enter Enter Enter waitfor:\"copy the bundle\" s waitfor:Type dump:$work/t1.txt text:$db Enter waitfor:Finished Enter dump:$work/t2.txt Enter" easy migrate
t_assert_eq 0 "$T_RC" "exit status of the second migration"
t_assert_file_not_contains "$work/t1.txt" "Unknown SSH host key" "the key is known now"
t_assert_file_contains "$work/t1.txt" "Type $db to go on" "the target database's name asked"
t_assert_file_contains "$work/t2.txt" "✔ Migrate to a new server: done" "result headline"
t_assert_eq 1 "$(DB=$db t_psql_target "SELECT count(*) FROM app.customers WHERE email = 'second-move@example.com'")" "the new row moved"
db_fingerprint source "$db" >"$work/fp.source2"
db_fingerprint target "$db" >"$work/fp.target2"
diff "$work/fp.source2" "$work/fp.target2" || t_fail "the target database differs after the second migration"

t_log "Save as profile on the summary: a copy of the new server's profile with the server answers"
t_wiz "Enter Enter Enter Enter Tab Tab C-u text:2222 Enter waitfor:\"cannot connect to\" p waitfor:\"Name of the new profile\" dump:$work/sv1.txt Enter waitfor:\"saved profile\" dump:$work/sv2.txt c" easy migrate
t_assert_eq 10 "$T_RC" "exit status after Save and Cancel (nothing run: refused)"
t_assert_file_contains "$work/sv1.txt" "A copy of profile \"new-server\" with these answers" "the dialog names the profile copied"
t_assert_file_contains "$work/sv1.txt" "new-server-migrate" "the default name"
t_wrapped_has "$work/sv2.txt" "next time: ferry migrate --from demo --target new-server-migrate" "how to use the copy"
python3 - "$work/profiles.json" "$SSH_KEY" "$SSH_USER" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
ssh = p["new-server-migrate"]["ssh"]
assert ssh["port"] == 2222 and ssh["host"] == "127.0.0.1", ssh
assert ssh["identity_file"] == sys.argv[2] and ssh["user"] == sys.argv[3], ssh
assert p["new-server-migrate"]["database"] == p["new-server"]["database"], "the copy keeps the target's database"
assert p["new-server"]["ssh"]["port"] != 2222, "the original profile is unchanged"
PY
[ $? -eq 0 ] || t_fail "the saved profile is not the target's with the answers"
