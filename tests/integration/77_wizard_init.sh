#!/usr/bin/env bash
# "Set up ferry": with no profiles file the menu offers it first (item 0);
# its pages come filled with what was found (DATABASE_URL, the current
# directory, its uploads/), the summary is core's plan (the database's
# facts in it), Start writes the profile that `ferry profiles check`
# accepts, and back on the menu the profile is listed and item 0 is gone.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_wini_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
mkdir -p "$work/app/uploads" "$work/home"
echo a >"$work/app/uploads/a.jpg"
unset FERRY_PROFILES FERRY_PROFILE
export HOME=$work/home DATABASE_URL="postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"
cd "$work/app"

t_log "the menu without profiles: Set up ferry first"
t_wiz "dump:$work/m0.txt Enter dump:$work/p1.txt Enter dump:$work/p2.txt text:$work/backups Enter waitfor:\"write the profile\" dump:$work/sum.txt s waitfor:Finished dump:$work/run.txt Enter dump:$work/res.txt Enter dump:$work/m1.txt"
t_assert_eq 0 "$T_RC" "exit status"
t_assert_file_contains "$work/m0.txt" "▸ 0) Set up ferry: no profiles yet" "offered first, and picked"
t_assert_file_contains "$work/m0.txt" "1) Backup your instance" "the other items still there"
t_assert_file_contains "$work/p1.txt" "ferry — Set up ferry" "the wizard"
t_assert_file_contains "$work/p1.txt" "Found a database URL in DATABASE_URL." "where the URL came from"
t_assert_file_contains "$work/p1.txt" "ferry@127.0.0.1:$SOURCE_PORT/$db" "the URL filled in"
t_assert_file_contains "$work/p1.txt" "$work/app" "the app root: the current directory"
t_assert_file_contains "$work/p1.txt" "App paths                 uploads" "the paths that exist"
t_assert_file_contains "$work/p2.txt" "Where do bundles and logs go?" "the second page"
t_assert_file_contains "$work/sum.txt" "set up profile $db for database $db" "core's plan"
t_wrapped_has "$work/sum.txt" "$db on 127.0.0.1:$SOURCE_PORT, PostgreSQL $PG_MAJOR." "the database's facts in the plan"
t_wrapped_has "$work/sum.txt" "$work/backups, mode 0700" "the backup dir typed"
t_assert_file_contains "$work/run.txt" "[✔] write the profile" "written"
t_wrapped_has "$work/res.txt" "Profile $db is written" "the result"
t_wrapped_has "$work/res.txt" "Next: ferry backup --profile $db" "the next command"
t_assert_file_not_contains "$work/m1.txt" "Set up ferry" "back on the menu: setting up is done"
t_assert_file_contains "$work/m1.txt" "▸ 1) Backup your instance" "and the first item is picked"
t_assert_file_contains "$work/m1.txt" "($db)" "the new profile under the menu"

t_log "what it wrote"
t_assert_eq 600 "$(stat -c %a "$work/app/config/migration_profiles.json")" "profiles file mode"
t_assert_eq 700 "$(stat -c %a "$work/backups")" "backup dir mode"
t_assert_exit 0 "$FERRY_BIN" profiles check
t_assert_eq "ok: ./config/migration_profiles.json: 1 profile ($db)" "$T_OUT" "profiles check accepts it"
t_assert_exit 2 "$FERRY_BIN" easy nosuch
t_assert_contains "$T_ERR" "the wizards: backup, restore, migrate, deploy, status, drill, init" "init is a wizard by name"
