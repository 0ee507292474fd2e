#!/usr/bin/env bash
# The database tools against the real cluster: `ferry action` binds its
# arguments (an injection attempt changes nothing), confirms (exit 10 without
# a terminal), counts arguments (exit 2); `ferry sql` is all or nothing;
# `ferry exec` prints a table and JSON; `ferry seed` loads files; `ferry
# shell` runs psql without the password in its argv; `ferry reset` takes a
# safety bundle, recreates the database (terminating sessions), migrates and
# seeds.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=ferry_admin_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "CREATE TABLE tasks (id int PRIMARY KEY, worker_id text, state text NOT NULL);
  INSERT INTO tasks VALUES (1, 'worker-1', 'processing'), (2, 'worker-2', 'processing'),
    (3, 'worker-2', 'processing'), (4, 'worker-2', 'done'), (5, 'worker-3', 'processing'),
    (6, NULL, 'pending');"
tasks() { DB=$db t_psql_source "SELECT id, coalesce(worker_id, '-'), state FROM tasks ORDER BY id" | tr '\n' ' '; }

mkdir -p "$work/migrations" "$work/seeds"
cat >"$work/migrations/0001_items.up.sql" <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
SQL
cat >"$work/migrations/0002_items_qty.up.sql" <<'SQL'
ALTER TABLE items ADD COLUMN qty int NOT NULL DEFAULT 0;
SQL
echo "INSERT INTO items (id, name) VALUES (1, 'one');" >"$work/seeds/a.sql"
echo "INSERT INTO items (id, name, qty) VALUES (2, 'two', 5);" >"$work/seeds/b.sql"

url="postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"
cat >"$work/profiles.json" <<JSON
{"adm": {
  "database": {"url": "$url"},
  "backup": {"dir": "$work/backups"},
  "migrations": {"dir": "migrations"},
  "seeds": ["seeds/a.sql", "seeds/b.sql"],
  "actions": {
    "decommission-worker": {
      "sql": "UPDATE tasks SET state='pending', worker_id=NULL WHERE worker_id=\$1 AND state='processing'",
      "params": ["WORKER_ID"], "confirm": true,
      "description": "put a worker's tasks back in the queue"},
    "tasks-in": {"sql": "SELECT id, worker_id FROM tasks WHERE state = \$1 ORDER BY id",
                 "params": ["STATE"]}
  }}}
JSON
export FERRY_PROFILES=$work/profiles.json

t_log "ferry action lists the actions"
t_assert_exit 0 "$FERRY_BIN" action
t_assert_contains "$T_OUT" "decommission-worker <WORKER_ID>" "list: name and params"
t_assert_contains "$T_OUT" "put a worker's tasks back in the queue" "list: description"
t_assert_exit 0 "$FERRY_BIN" action --json
t_assert_eq "decommission-worker WORKER_ID True" "$(printf '%s' "$T_OUT" | python3 -c '
import json, sys
a = [x for x in json.load(sys.stdin) if x["name"] == "decommission-worker"][0]
print(a["name"], " ".join(a["params"]), a["confirm"])')" "list --json"

t_log "the action changes exactly the intended rows"
before=$(tasks)
t_assert_exit 0 "$FERRY_BIN" action decommission-worker worker-2 --yes
t_assert_eq "2 rows affected" "$T_OUT" "rows affected"
t_assert_eq "1|worker-1|processing 2|-|pending 3|-|pending 4|worker-2|done 5|worker-3|processing 6|-|pending " \
    "$(tasks)" "only worker-2's processing tasks changed"

t_log "an injection attempt is a value, not SQL: 0 rows, table intact"
before=$(tasks)
t_assert_exit 0 "$FERRY_BIN" action decommission-worker "'; DROP TABLE tasks; --" --yes
t_assert_eq "0 rows affected" "$T_OUT" "injection: rows affected"
t_assert_eq "$before" "$(tasks)" "injection: table unchanged"
DB=$db t_psql_source "INSERT INTO tasks VALUES (7, '''; DROP TABLE tasks; --', 'processing')"
t_assert_exit 0 "$FERRY_BIN" action decommission-worker "'; DROP TABLE tasks; --" --yes --json
t_assert_eq 1 "$(printf '%s' "$T_OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows_affected"])')" \
    "the literal value matches its one row"
t_assert_eq "7" "$(DB=$db t_psql_source "SELECT id FROM tasks WHERE worker_id IS NULL AND id = 7")" "row 7 changed"

t_log "confirm without --yes and no terminal: exit 10, nothing changed"
DB=$db t_psql_source "UPDATE tasks SET worker_id = 'worker-1', state = 'processing' WHERE id = 2"
before=$(tasks)
t_assert_exit 10 "$FERRY_BIN" action decommission-worker worker-1
t_assert_contains "$T_ERR" "no terminal" "refusal message"
t_assert_contains "$T_ERR" "--yes" "refusal hint"
t_assert_eq "$before" "$(tasks)" "refused: unchanged"

t_log "wrong argument count: exit 2 naming the parameters"
t_assert_exit 2 "$FERRY_BIN" action decommission-worker --yes
t_assert_contains "$T_ERR" "expects 1 parameter (WORKER_ID), got 0" "too few"
t_assert_exit 2 "$FERRY_BIN" action decommission-worker a b --yes
t_assert_contains "$T_ERR" "got 2" "too many"
t_assert_exit 2 "$FERRY_BIN" action decomission-worker x
t_assert_contains "$T_ERR" 'did you mean "decommission-worker"' "unknown action"
t_assert_eq "$before" "$(tasks)" "usage errors: unchanged"

t_log "an action returning rows prints them"
t_assert_exit 0 "$FERRY_BIN" action tasks-in done
t_assert_contains "$T_OUT" " id | worker_id" "action rows header"
t_assert_contains "$T_OUT" " 4  | worker-2" "action row"
t_assert_contains "$T_OUT" "(1 row)" "action row count"

t_log "sql FILE: an error mid-way leaves nothing applied"
cat >"$work/bad.sql" <<'SQL'
INSERT INTO tasks VALUES (100, 'w', 'new');
UPDATE tasks SET state = 'broken';
SELECT * FROM no_such_table;
INSERT INTO tasks VALUES (101, 'w', 'new');
SQL
before=$(tasks)
t_assert_exit 10 "$FERRY_BIN" sql "$work/bad.sql"
t_assert_exit 3 "$FERRY_BIN" sql "$work/bad.sql" --yes
t_assert_contains "$T_ERR" "$work/bad.sql" "error names the file"
t_assert_contains "$T_ERR" 'relation "no_such_table" does not exist' "error has the server's message"
t_assert_eq "$before" "$(tasks)" "nothing applied"
cat >"$work/good.sql" <<'SQL'
INSERT INTO tasks VALUES (100, 'w', 'new');
UPDATE tasks SET state = 'archived' WHERE id = 4;
SQL
t_assert_exit 0 "$FERRY_BIN" sql "$work/good.sql" --yes
t_assert_eq "archived|1" "$(DB=$db t_psql_source "SELECT (SELECT state FROM tasks WHERE id = 4), count(*) FROM tasks WHERE id = 100")" "good file applied"
t_assert_exit 2 "$FERRY_BIN" sql "$work/nosuch.sql" --yes
t_assert_exit 2 "$FERRY_BIN" sql

t_log "exec prints an aligned table and JSON"
t_assert_exit 0 "$FERRY_BIN" exec "SELECT id, worker_id, state FROM tasks WHERE id IN (1, 6) ORDER BY id"
expected=" id | worker_id | state
----+-----------+------------
 1  | worker-1  | processing
 6  |           | pending
(2 rows)"
t_assert_eq "$expected" "$T_OUT" "exec table"
t_assert_exit 0 "$FERRY_BIN" exec "SELECT id, worker_id, state FROM tasks WHERE id IN (1, 6) ORDER BY id" --json
t_assert_eq "[{'id': '1', 'worker_id': 'worker-1', 'state': 'processing'}, {'id': '6', 'worker_id': None, 'state': 'pending'}]" \
    "$(printf '%s' "$T_OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin))')" "exec --json"
t_assert_exit 0 "$FERRY_BIN" exec "DELETE FROM tasks WHERE id = 100"
t_assert_eq "1 row affected" "$T_OUT" "exec of a command"
t_assert_exit 3 "$FERRY_BIN" exec "SELECT * FROM no_such_table"
t_assert_contains "$T_ERR" "no_such_table" "exec error"

t_log "seed --file runs files, each in its own transaction"
DB=$db t_psql_source "CREATE TABLE colours (name text PRIMARY KEY)"
echo "INSERT INTO colours VALUES ('red'), ('green');" >"$work/c1.sql"
echo "INSERT INTO colours VALUES ('blue');" >"$work/c2.sql"
echo "INSERT INTO colours VALUES ('cyan'); INSERT INTO colours VALUES ('red');" >"$work/c3.sql"
t_assert_exit 0 "$FERRY_BIN" seed --file "$work/c1.sql" --file "$work/c2.sql"
t_assert_contains "$T_OUT" "2 seed files loaded" "seed output"
t_assert_eq "blue green red" "$(DB=$db t_psql_source "SELECT string_agg(name, ' ' ORDER BY name) FROM colours")" "seeded"
t_assert_exit 3 "$FERRY_BIN" seed --file "$work/c3.sql"
t_assert_contains "$T_ERR" "$work/c3.sql" "failing seed named"
t_assert_eq "blue green red" "$(DB=$db t_psql_source "SELECT string_agg(name, ' ' ORDER BY name) FROM colours")" "failed seed rolled back"
t_assert_exit 1 "$FERRY_BIN" seed --file "$work/c2.sql" --file "$work/missing.sql"
t_assert_contains "$T_ERR" "missing.sql" "missing file named"
t_assert_eq 3 "$(DB=$db t_psql_source "SELECT count(*) FROM colours")" "nothing run when a file is missing"

t_log "shell runs psql; the password goes by environment, never argv"
password=$(grep -m1 ":ferry:" "$PGPASSFILE" | cut -d: -f5)
[ -n "$password" ] || t_fail "no ferry password in $PGPASSFILE"
cat >"$work/pw.json" <<JSON
{"adm": {"database": {"url": "postgresql://ferry:\${DB_PASSWORD}@127.0.0.1:$SOURCE_PORT/$db"}}}
JSON
export DB_PASSWORD=$password
PGPASSFILE=/dev/null t_assert_exit 0 "$FERRY_BIN" shell --profiles "$work/pw.json" -- -X -At -c "SELECT count(*) FROM colours"
t_assert_eq 3 "$T_OUT" "psql ran the query"
PGPASSFILE=/dev/null "$FERRY_BIN" shell --profiles "$work/pw.json" -- -X -At -c "SELECT pg_sleep(5)" \
    </dev/null >"$work/shell.out" 2>&1 &
shell_pid=$!
became_psql() { tr '\0' ' ' <"/proc/$shell_pid/cmdline" | grep -q psql; }
t_wait_for 4 became_psql || true
args=$(tr '\0' ' ' <"/proc/$shell_pid/cmdline")
t_assert_contains "$args" "psql" "ferry became psql (same pid)"
t_assert_not_contains "$args" "$password" "password not in psql's argv"
wait "$shell_pid" || t_fail "psql with the password from PGPASSWORD failed: $(cat "$work/shell.out")"

t_log "reset: --force needed, confirmation needed"
t_assert_exit 2 "$FERRY_BIN" reset --yes
t_assert_contains "$T_ERR" "--force" "reset without --force"
t_assert_exit 10 "$FERRY_BIN" reset --force
t_assert_eq 3 "$(DB=$db t_psql_source "SELECT count(*) FROM colours")" "refused: database untouched"

t_log "reset --force --yes: safety bundle, recreated (sessions terminated), migrated, seeded"
shape="SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = '$db'"
shape_before=$(t_psql_source "$shape")
DB=$db "$PGBIN/psql" -X -q -h "$SOURCE_SOCK" -p "$SOURCE_PORT" -U ferry -d "$db" -c "SELECT pg_sleep(60)" \
    >/dev/null 2>&1 &
sleeper=$!
t_on_exit "kill $sleeper 2>/dev/null"
in_db() { [ "$(t_psql_source "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query LIKE '%pg_sleep(60)%'")" -ge 1 ]; }
t_wait_for 10 in_db || t_fail "the other session did not start"
t_assert_exit 0 "$FERRY_BIN" reset --force --yes --json
result=$(printf '%s\n' "$T_OUT" | tail -n 1)
safety=$(printf '%s' "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["safety_bundle"])')
case "$safety" in "$work/backups/adm_"*"_pre-reset_"*) ;; *) t_fail "safety bundle: $safety" ;; esac
[ -f "$safety" ] || t_fail "no safety bundle file $safety"
t_assert_exit 0 "$FERRY_BIN" verify "$safety"
t_assert_eq "True True 2" "$(printf '%s' "$result" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["existed"], d["migrated"], d["seeded"])')" "reset result"
wait "$sleeper" 2>/dev/null && t_fail "the other session was not terminated"
t_assert_eq "$shape_before" "$(t_psql_source "$shape")" "same owner, encoding and collation"
t_assert_eq "" "$(DB=$db t_psql_source "SELECT to_regclass('tasks')")" "old tables gone"
t_assert_eq "0001 0002" "$(DB=$db t_psql_source "SELECT string_agg(version, ' ' ORDER BY version) FROM ferry_schema_migrations")" "migrated"
t_assert_eq "1:one:0 2:two:5" "$(DB=$db t_psql_source "SELECT string_agg(id || ':' || name || ':' || qty, ' ' ORDER BY id) FROM items")" "seeded"
t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '%ferry_reset%'")" "no scratch database left"

t_log "the safety bundle brings the old data back"
t_assert_exit 0 "$FERRY_BIN" restore "$safety" --yes --no-safety-backup
t_assert_eq 3 "$(DB=$db t_psql_source "SELECT count(*) FROM colours")" "restored from the safety bundle"

t_log "reset --no-seed; the profile's seeds with ferry seed"
t_assert_exit 0 "$FERRY_BIN" reset --force --yes --no-seed
t_assert_contains "$T_OUT" "seeds: 0 files loaded" "no seeds"
t_assert_eq 0 "$(DB=$db t_psql_source "SELECT count(*) FROM items")" "items empty"
t_assert_exit 0 "$FERRY_BIN" seed
t_assert_eq 2 "$(DB=$db t_psql_source "SELECT count(*) FROM items")" "profile seeds loaded"
