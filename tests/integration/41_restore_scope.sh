#!/usr/bin/env bash
# What a bundle holds and what a restore replaces (real PostgreSQL):
# a 63-byte database name restored twice and rolled back; the manifest of
# pattern backups is what the dump holds; a schema-only bundle never empties
# a database that has rows unless asked; a partial bundle, --table from a
# full bundle and --data-only put back exactly their tables' rows in one
# transaction; database-level settings and grants follow the restore; the
# checks a restore needs come before its safety backup; pg_restore's error
# is the first ERROR line.
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
chmod 755 "$work"
db=scope_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "drop_all"
long=$(printf 'l%.0s' {1..56})$(printf '%07d' $$ | cut -c1-7)   # 63 bytes
drop_all() {
    local d
    for d in $(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}%' OR datname LIKE '${long:0:40}%' OR datname LIKE 'scope_new_$$%'"); do
        t_psql_source "DROP DATABASE IF EXISTS \"$d\"" >/dev/null 2>&1 || true
    done
    t_psql_source "DROP ROLE IF EXISTS scope_owner_$$" >/dev/null 2>&1 || true
    t_psql_source "DROP ROLE IF EXISTS scope_nocreate_$$" >/dev/null 2>&1 || true
    t_psql_source "DROP ROLE IF EXISTS scope_reader_$$" >/dev/null 2>&1 || true
}
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
DB=$db t_psql_source "CREATE TABLE public.\"TENK1\" (n int); INSERT INTO public.\"TENK1\" SELECT generate_series(1, 10);
  CREATE TABLE public.tenk2 (n int); INSERT INTO public.tenk2 SELECT generate_series(1, 20);
  CREATE TABLE public.other (n int); INSERT INTO public.other VALUES (1);" >/dev/null

# The roles made here log in with the test bed's password, from our own pgpass.
cp "$PGPASSFILE" "$work/pgpass"
printf '*:*:*:scope_%s_%s:%s\n' owner $$ "$PG_PASSWORD" nocreate $$ "$PG_PASSWORD" >>"$work/pgpass"
chmod 600 "$work/pgpass"
export PGPASSFILE=$work/pgpass
profiles() { # NAME DB [USER]
    cat >"$work/profiles.json" <<JSON
{"p": {"database": {"url": "postgresql://${3:-ferry}@127.0.0.1:$SOURCE_PORT/$2"},
       "backup": {"dir": "$work/backups/$1"}, "log_dir": "$work/logs"}}
JSON
}
export FERRY_PROFILES=$work/profiles.json
last_bundle() { ls -t "$work/backups/$1"/*.ferry.tar.zst | head -n 1; }
manifest_tables() { # BUNDLE: "schema.table rows" lines
    tar --zstd -xOf "$1" manifest.json | python3 -c 'import json,sys; m=json.load(sys.stdin); print("\n".join("%s.%s %d" % (t["schema"], t["table"], t["rows"]) for t in m["tables"]))'
}

t_log "a 63-byte database name: restored twice and rolled back, the live database never dropped"
t_psql_source "CREATE DATABASE \"$long\""
DB=$long t_psql_source "CREATE TABLE t (v int); INSERT INTO t VALUES (1), (2), (3)" >/dev/null
profiles long "$long"
t_assert_exit 0 "$FERRY_BIN" backup --json
b=$(last_bundle long)
DB=$long t_psql_source "INSERT INTO t VALUES (4)"
t_assert_exit 0 "$FERRY_BIN" restore "$b" --yes --no-safety-backup
t_assert_eq 3 "$(DB=$long t_psql_source 'SELECT count(*) FROM t')" "first restore"
DB=$long t_psql_source "INSERT INTO t VALUES (5)"
t_assert_exit 0 "$FERRY_BIN" restore "$b" --yes --no-safety-backup --keep-previous 2
t_assert_eq 3 "$(DB=$long t_psql_source 'SELECT count(*) FROM t')" "second restore"
for d in $(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${long:0:30}%'"); do
    [ "${#d}" -le 63 ] || t_fail "derived name longer than 63 bytes: $d"
done
t_assert_eq 2 "$(t_psql_source "SELECT count(*) FROM pg_database WHERE datname LIKE '%\\_prev\\_%' AND datname LIKE '${long:0:30}%'")" "two previous databases kept"
t_assert_exit 0 "$FERRY_BIN" rollback --yes
t_assert_eq 4 "$(DB=$long t_psql_source 'SELECT count(*) FROM t')" "rollback brings the second previous back (4 rows)"

t_log "pattern backups: the manifest lists exactly what the dump holds"
profiles pat "$db"
t_assert_exit 0 "$FERRY_BIN" backup --exclude-table 'public.tenk*' --exclude-table 'public."TENK1"'
tables=$(manifest_tables "$(last_bundle pat)")
t_assert_not_contains "$tables" "tenk2" "excluded by pattern"
t_assert_not_contains "$tables" "TENK1" "excluded, mixed case quoted"
t_assert_contains "$tables" "app.orders 2000" "the rest is there"
rm -f "$work"/backups/pat/*
t_assert_exit 0 "$FERRY_BIN" backup --table 'public.tenk*' --table 'public."TENK1"'
tables=$(manifest_tables "$(last_bundle pat)")
t_assert_eq "public.TENK1 10
public.tenk2 20" "$tables" "a wildcard and a quoted mixed-case name, as pg_dump takes them"
tar --zstd -xOf "$(last_bundle pat)" manifest.json | python3 -c 'import json,sys; assert json.load(sys.stdin)["scope"] == "partial"' ||
    t_fail "a --table bundle's scope is partial"
t_assert_exit 0 "$FERRY_BIN" list --json
t_assert_contains "$T_OUT" "partial" "list shows the scope"
cp "$(last_bundle pat)" "$work/partial.ferry.tar.zst"
partial=$work/partial.ferry.tar.zst

t_log "a partial bundle puts back only its tables' rows, in the live database"
DB=$db t_psql_source "DELETE FROM public.tenk2 WHERE n > 5; UPDATE public.other SET n = 42; INSERT INTO public.\"TENK1\" VALUES (99)"
t_assert_exit 0 "$FERRY_BIN" restore "$partial" --yes --no-safety-backup --json
t_assert_eq 20 "$(DB=$db t_psql_source 'SELECT count(*) FROM public.tenk2')" "tenk2 back"
t_assert_eq 10 "$(DB=$db t_psql_source 'SELECT count(*) FROM public."TENK1"')" "TENK1 back"
t_assert_eq 42 "$(DB=$db t_psql_source 'SELECT n FROM public.other')" "a table the bundle does not hold keeps its rows"
t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}\\_prev\\_%'")" "no database swapped"
t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}\\_ferry\\_shadow%'")" "no shadow left"
t_assert_exit 0 "$FERRY_BIN" restore "$partial" --dry-run
t_assert_contains "$T_OUT" "stay as they are" "the plan says what stays"

t_log "--table from a full bundle; a missing table is refused before anything"
rm -f "$work"/backups/pat/*
t_assert_exit 0 "$FERRY_BIN" backup
full=$(last_bundle pat)
DB=$db t_psql_source "UPDATE app.orders SET total_cents = 0; UPDATE app.customers SET email = email || '.x' WHERE id = 1" >/dev/null
t_assert_exit 0 "$FERRY_BIN" restore "$full" --table app.orders --yes --no-safety-backup
t_assert_eq 0 "$(DB=$db t_psql_source 'SELECT count(*) FROM app.orders WHERE total_cents = 0')" "orders back"
t_assert_eq 1 "$(DB=$db t_psql_source "SELECT count(*) FROM app.customers WHERE email LIKE '%.x'")" "customers untouched"
t_assert_exit 2 "$FERRY_BIN" restore "$full" --table app.nosuch --yes
t_assert_contains "$T_ERR" "app.nosuch" "the pattern named"
DB=$db t_psql_source "DROP TABLE public.tenk2"
db_fingerprint source "$db" >"$work/fp.before"
t_assert_exit 3 "$FERRY_BIN" restore "$partial" --yes
t_assert_contains "$T_ERR" "public.tenk2 is not in database" "a missing table is named"
db_fingerprint source "$db" >"$work/fp.after"
diff "$work/fp.before" "$work/fp.after" || t_fail "a refused partial restore changed the database"
[ -z "$(ls "$work"/backups/pat/*pre-restore* 2>/dev/null)" ] || t_fail "the refusal came after a safety backup"

t_log "a schema-only bundle: refused over rows, --as a new database, --replace-data"
rm -f "$work"/backups/pat/*
t_assert_exit 0 "$FERRY_BIN" backup --schema-only
schema=$(last_bundle pat)
db_fingerprint source "$db" >"$work/fp.before"
t_assert_exit 10 "$FERRY_BIN" restore "$schema" --yes
t_assert_contains "$T_ERR" "--replace-data" "the refusal says how"
db_fingerprint source "$db" >"$work/fp.after"
diff "$work/fp.before" "$work/fp.after" || t_fail "a refused schema-only restore changed the database"
t_assert_exit 0 "$FERRY_BIN" restore "$schema" --as "scope_new_$$" --yes
t_assert_eq 0 "$(DB=scope_new_$$ t_psql_source 'SELECT count(*) FROM app.orders')" "the new database has the tables, empty"
t_assert_eq 2000 "$(DB=$db t_psql_source 'SELECT count(*) FROM app.orders')" "--as left the live database alone"
t_assert_exit 2 "$FERRY_BIN" restore "$schema" --as "scope_new_$$" --yes
t_assert_contains "$T_ERR" "exists" "--as needs a new name"

t_log "database-level properties follow the restore (or stay, with --keep-target-settings)"
t_psql_source "CREATE ROLE scope_reader_$$ LOGIN"
t_psql_source "ALTER DATABASE $db SET statement_timeout = '42s'; ALTER DATABASE $db SET search_path = app, public;
  REVOKE CONNECT ON DATABASE $db FROM PUBLIC; GRANT CONNECT ON DATABASE $db TO scope_reader_$$;
  COMMENT ON DATABASE $db IS 'the shop'; ALTER DATABASE $db CONNECTION LIMIT 77"
rm -f "$work"/backups/pat/*
t_assert_exit 0 "$FERRY_BIN" backup
full=$(last_bundle pat)
props() {
    t_psql_source "SELECT datconnlimit, has_database_privilege('public', oid, 'CONNECT'), has_database_privilege('scope_reader_$$', oid, 'CONNECT'), shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$db'"
    t_psql_source "SELECT array_to_string(setconfig, ';') FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = '$db'"
}
want=$(props)
t_assert_exit 0 "$FERRY_BIN" restore "$full" --yes --no-safety-backup
t_assert_eq "$want" "$(props)" "settings, CONNECT grants, comment and limit carried over"
t_psql_source "ALTER DATABASE $db SET statement_timeout = '7s'; GRANT CONNECT ON DATABASE $db TO PUBLIC"
kept=$(props)
t_assert_exit 0 "$FERRY_BIN" restore "$full" --yes --no-safety-backup --keep-target-settings
t_assert_eq "$kept" "$(props)" "--keep-target-settings keeps the live database's"

t_log "--data-only: NOT VALID checks and foreign keys, as a role that is no superuser"
DB=$db t_psql_source "ALTER TABLE app.orders ADD CONSTRAINT positive CHECK (total_cents >= 0) NOT VALID" >/dev/null
t_psql_source "CREATE ROLE scope_owner_$$ LOGIN CREATEDB PASSWORD '$PG_PASSWORD'; ALTER DATABASE $db OWNER TO scope_owner_$$"
DB=$db t_psql_source "DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('app', 'audit', 'public') AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
      AND (c.relkind <> 'S' OR NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype IN ('a', 'i'))) LOOP
    EXECUTE format('ALTER %s %I.%I OWNER TO scope_owner_$$',
      CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.nspname, r.relname);
  END LOOP;
  FOR r IN SELECT oid FROM pg_largeobject_metadata LOOP
    EXECUTE format('ALTER LARGE OBJECT %s OWNER TO scope_owner_$$', r.oid);
  END LOOP; END \$\$; ALTER SCHEMA app OWNER TO scope_owner_$$; ALTER SCHEMA audit OWNER TO scope_owner_$$;
  ALTER TYPE app.order_state OWNER TO scope_owner_$$" >/dev/null
profiles owner "$db" "scope_owner_$$"
t_assert_exit 0 "$FERRY_BIN" backup --data-only
data=$(last_bundle owner)
DB=$db t_psql_source "UPDATE app.orders SET total_cents = 5 WHERE id <= 10" >/dev/null
db_fingerprint source "$db" >"$work/fp.changed"
t_assert_exit 0 "$FERRY_BIN" restore "$data" --yes --no-safety-backup
t_assert_eq 0 "$(DB=$db t_psql_source 'SELECT count(*) FROM app.orders WHERE total_cents = 5 AND id <= 10')" "rows back"
t_assert_eq 1 "$(DB=$db t_psql_source "SELECT count(*) FROM pg_constraint WHERE conname = 'positive' AND NOT convalidated")" "the NOT VALID check is as it was"

t_log "checks before the safety backup: CREATEDB, --migrate"
t_psql_source "CREATE ROLE scope_nocreate_$$ LOGIN PASSWORD '$PG_PASSWORD'; GRANT CONNECT ON DATABASE $db TO scope_nocreate_$$"
profiles nocreate "$db" "scope_nocreate_$$"
t_assert_exit 3 "$FERRY_BIN" restore "$full" --yes
t_assert_contains "$T_ERR" "may not create databases" "no CREATEDB named"
[ -z "$(ls "$work"/backups/nocreate/*pre-restore* 2>/dev/null)" ] || t_fail "no CREATEDB: a safety backup was made first"
profiles pat "$db"
t_assert_exit 2 "$FERRY_BIN" restore "$full" --yes --migrate
t_assert_contains "$T_ERR" "has no migrations" "--migrate without migrations"
[ -z "$(ls "$work"/backups/pat/*pre-restore* 2>/dev/null)" ] || t_fail "--migrate: a safety backup was made first"

t_log "materialized views are counted"
t_assert_contains "$(manifest_tables "$full")" "app.order_totals" "the materialized view's rows are in the manifest"
