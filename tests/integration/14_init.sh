#!/usr/bin/env bash
# ferry init: with --yes from options (the profile written, modes, what
# profiles check says, a second init refused, --force, a second profile
# added, a new server), the URL found in ./.env (written as
# ${DATABASE_URL}), a password never written, --dry-run, --user, every
# refusal with its exact message and nothing written; and on a terminal
# (a pty), the questions with what was found as defaults, then the first
# backup it offers.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_init_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
url="postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"
app=$work/app
mkdir -p "$app/uploads" "$app/storage" "$app/tmp"
echo a >"$app/uploads/a.jpg"
unset FERRY_PROFILES FERRY_PROFILE DATABASE_URL
export HOME=$work/home
mkdir -p "$HOME"

# json FILE EXPR: a value of the JSON file, by a python expression on d.
json() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

t_log "--yes: the options and the defaults are the answers"
cd "$app"
t_assert_exit 0 "$FERRY_BIN" init --yes --database-url "$url" --backup-dir "$work/backups" \
    --health-url http://127.0.0.1:9/health
file=$app/config/migration_profiles.json
t_assert_contains "$T_OUT" "wrote profile $db to $file" "the result line"
t_assert_contains "$T_OUT" "next: ferry backup --profile $db, then ferry list" "the next command"
t_assert_contains "$T_ERR" "✔ check before anything runs: $db on 127.0.0.1:$SOURCE_PORT, PostgreSQL $PG_MAJOR." \
    "what the database said"
t_assert_contains "$T_ERR" "in 7 tables, revision 3f2a9c1b7d4e (alembic_version)" "tables and revision"
t_assert_contains "$T_ERR" "✔ make the backup dir: made $work/backups (mode 0700)" "backup dir made"
t_assert_eq 600 "$(stat -c %a "$file")" "profiles file mode"
t_assert_eq 700 "$(stat -c %a "$app/config")" "its directory's mode"
t_assert_eq 700 "$(stat -c %a "$work/backups")" "backup dir mode"
t_assert_eq "$url" "$(json "$file" "d['$db']['database']['url']")" "database.url"
t_assert_eq "$app" "$(json "$file" "d['$db']['app']['root']")" "app.root: the current directory"
t_assert_eq "['uploads', 'storage']" "$(json "$file" "d['$db']['app']['paths']")" "the app paths that exist"
t_assert_eq "$work/backups/logs" "$(json "$file" "d['$db']['log_dir']")" "log_dir"
t_assert_eq "{'last': 10, 'daily': 7, 'weekly': 4, 'monthly': 12, 'manual_days': 30}" \
    "$(json "$file" "d['$db']['backup']['keep']")" "retention spelt out"
t_assert_eq "http://127.0.0.1:9/health" "$(json "$file" "d['$db']['health'][0]['url']")" "health url"
t_assert_exit 0 "$FERRY_BIN" profiles check
t_assert_eq "ok: ./config/migration_profiles.json: 1 profile ($db)" "$T_OUT" "profiles check accepts it"

t_log "a second init of the same name is refused, nothing changes; --force replaces"
before=$(sha256sum "$file")
t_assert_exit 2 "$FERRY_BIN" init --yes --database-url "$url" --backup-dir "$work/backups"
t_assert_eq "ferry: init: there is a profile \"$db\" in $file already" "$(printf '%s\n' "$T_ERR" | grep '^ferry:')" \
    "refusal"
t_assert_contains "$T_ERR" "hint: nothing was written; pick another name (--name), or pass --force to replace it" "hint"
t_assert_eq "$before" "$(sha256sum "$file")" "the file is unchanged"
t_assert_exit 0 "$FERRY_BIN" init --yes --force --database-url "$url" --backup-dir "$work/backups" --path uploads
t_assert_eq "['uploads']" "$(json "$file" "d['$db']['app']['paths']")" "replaced with --force"
t_assert_contains "$T_ERR" "there already: $work/backups (mode 0700)" "an existing backup dir is checked"

t_log "another name is added to the file; a new server gets a second profile"
t_assert_exit 0 "$FERRY_BIN" init --yes --name staging --database-url "$url" --backup-dir "$work/b2" \
    --ssh-host deploy@db2.example.com:2222
t_assert_eq "['$db', 'staging', 'new-server']" "$(json "$file" "list(d)")" "profiles in the file"
t_assert_eq "db2.example.com 2222 deploy" \
    "$(json "$file" "' '.join(str(d['new-server']['ssh'][k]) for k in ('host','port','user'))")" "the new server"
t_assert_contains "$T_OUT" "and new-server: the new server over SSH" "said"
t_assert_exit 0 "$FERRY_BIN" profiles list
t_assert_contains "$T_OUT" "new-server       database $db, ssh db2.example.com" "list: ssh host"
t_assert_contains "$T_OUT" "written by ferry init on" "list: the description"

t_log "a password in the URL is used to connect, never written"
pwurl="postgresql://ferry:$PG_PASSWORD@127.0.0.1:$SOURCE_PORT/$db"
t_assert_exit 0 env -u PGPASSFILE "$FERRY_BIN" init --yes --json --name pw --database-url "$pwurl" \
    --backup-dir "$work/b3"
t_assert_not_contains "$(cat "$file")" "$PG_PASSWORD" "no password in the file"
t_assert_eq "$url" "$(json "$file" "d['pw']['database']['url']")" "the URL without its password"
t_assert_contains "$T_OUT" '"password_left_out":true' "--json says so"
t_assert_contains "$T_OUT" "\"profile\":\"pw\"" "--json names the profile"

t_log "the URL found in ./.env is written as \${DATABASE_URL} with the env file"
app2=$work/app2
mkdir -p "$app2"
printf 'DATABASE_URL=%s\n' "$url" >"$app2/.env"
cd "$app2"
t_assert_exit 0 "$FERRY_BIN" init --yes --backup-dir "$work/b4" --no-app
t_assert_eq "$url" "$(json "$app2/config/migration_profiles.json" "d['$db']['database']['url']")" \
    "no app (no env file to read it from): the URL as found"
t_assert_exit 0 "$FERRY_BIN" init --yes --force --backup-dir "$work/b4"
t_assert_eq '${DATABASE_URL} .env' \
    "$(json "$app2/config/migration_profiles.json" "d['$db']['database']['url'] + ' ' + d['$db']['app']['env_file']")" \
    "the URL as a reference, read from the app's .env"
t_assert_contains "$T_OUT" "database.url is \${DATABASE_URL}, read from $app2/.env" "said"
t_assert_exit 0 "$FERRY_BIN" profiles check

t_log "--dry-run shows the plan and writes nothing; --user writes the user's file"
app3=$work/app3
mkdir -p "$app3"
cd "$app3"
t_assert_exit 0 "$FERRY_BIN" init --yes --dry-run --database-url "$url" --backup-dir "$work/b5"
t_assert_contains "$T_OUT" "plan: set up profile $db for database $db" "plan title"
t_assert_contains "$T_OUT" "$work/b5, mode 0700" "the backup dir in the plan"
t_assert_contains "$T_OUT" "dry run: nothing was changed" "dry run"
[ ! -e "$app3/config" ] && [ ! -e "$work/b5" ] || t_fail "the dry run wrote something"
XDG_CONFIG_HOME=$work/xdg t_assert_exit 0 "$FERRY_BIN" init --yes --user --database-url "$url" --backup-dir "$work/b5"
[ -f "$work/xdg/ferry/profiles.json" ] || t_fail "--user did not write \$XDG_CONFIG_HOME/ferry/profiles.json"

t_log "refusals: exact messages, exit codes, nothing written"
cd "$app3"
rm -rf "$app3/config"
t_assert_exit 10 "$FERRY_BIN" init --database-url "$url"
t_assert_eq "ferry: init asks its questions on a terminal, and there is none" "$(printf '%s\n' "$T_ERR" | head -n 1)" "no terminal"
t_assert_exit 2 env -u PGHOST -u PGDATABASE -u PGPASSFILE "$FERRY_BIN" init --yes
t_assert_eq "ferry: init: no database URL given or found" "$(printf '%s\n' "$T_ERR" | head -n 1)" "no URL"
t_assert_exit 3 "$FERRY_BIN" init --yes --database-url "postgresql://ferry@127.0.0.1:1/$db" --backup-dir "$work/b6"
t_assert_contains "$T_ERR" "ferry: cannot connect to database 127.0.0.1:1/$db" "unreachable database"
t_assert_exit 2 "$FERRY_BIN" init --yes --database-url "$url" --app-root "$work/nope" --backup-dir "$work/b6"
t_assert_contains "$T_ERR" "ferry: init: the app root $work/nope does not exist" "missing app root"
: >"$work/afile"
t_assert_exit 2 "$FERRY_BIN" init --yes --database-url "$url" --backup-dir "$work/afile/backups"
t_assert_contains "$T_ERR" "ferry: init: the backup dir $work/afile/backups: $work/afile is not a directory" "backup dir under a file"
t_assert_exit 2 "$FERRY_BIN" init --yes --database-url "$url" --name 'a b' --backup-dir "$work/b6"
t_assert_contains "$T_ERR" "the profile name \"a b\" may hold only letters, digits, '-' and '_'" "bad name"
t_assert_exit 2 "$FERRY_BIN" init --yes --database-url "$url" --ssh-host 'user@' --backup-dir "$work/b6"
t_assert_contains "$T_ERR" "--ssh-host \"user@\" is not [USER@]HOST[:PORT]" "bad ssh host"
t_assert_exit 2 "$FERRY_BIN" init --yes --databse-url "$url"
t_assert_contains "$T_ERR" "did you mean --database-url?" "did you mean"
[ ! -e "$app3/config" ] && [ ! -e "$work/b6" ] || t_fail "a refused init wrote something"

t_log "on a terminal: the questions, with what was found; then the first backup"
app4=$work/app4
mkdir -p "$app4/media" "$app4/config"
printf 'x\n' >"$app4/manage.py"
echo m >"$app4/media/m.png"
cat >"$work/answers" <<EOF
found a database URL in DATABASE_URL	
App root (- for the database only) [$app4]	
App paths to carry, relative to it (- for none) [media config]	media
Backup dir (made with mode 0700) [/var/backups/$db]	$work/b7
Log dir [$work/b7/logs]	
[USER@]HOST[:PORT] (- for none) [-]	
The app's health URL (- for none) [-]	
Profile name (bundles are named after it) [$db]	shop
Make the first backup now? [Y/n]	y
Install scheduled backups now (ferry schedule install)? [y/N]	n
EOF
cd "$app4"
t_run env DATABASE_URL="$url" python3 "$FERRY_SRC/tests/fixtures/pty_answer.py" "$work/answers" "$work/pty.out" \
    -- "$FERRY_BIN" init
out=$(tr -d '\r' <"$work/pty.out")
printf '%s\n' "$out" >&2
t_assert_eq 0 "$T_RC" "exit status of the interactive init"
t_assert_contains "$out" "Database URL [$url]" "the URL found, as the default"
t_assert_contains "$out" "connected: $db on 127.0.0.1:$SOURCE_PORT, PostgreSQL" "what it found"
t_assert_contains "$out" "$app4 looks like an app: manage.py" "the app recognised"
t_assert_contains "$out" "wrote profile shop to $app4/config/migration_profiles.json" "written"
t_assert_contains "$out" "backup written: $work/b7/shop_" "the first backup, named after the profile"
t_assert_eq "['media']" "$(json "$app4/config/migration_profiles.json" "d['shop']['app']['paths']")" "the paths answered"
ls "$work/b7"/shop_*_manual_*.ferry.tar.zst >/dev/null || t_fail "no first bundle in $work/b7"

t_log "on a terminal, a profile of that name is replaced only when the answer is y"
before=$(sha256sum "$app4/config/migration_profiles.json")
sed -e '/Make the first backup/d' -e '/Install scheduled/d' "$work/answers" >"$work/answers2"
printf 'Replace it? [y/N]\tn\n' >>"$work/answers2"
t_run env DATABASE_URL="$url" python3 "$FERRY_SRC/tests/fixtures/pty_answer.py" "$work/answers2" "$work/pty2.out" \
    -- "$FERRY_BIN" init
out=$(tr -d '\r' <"$work/pty2.out" | sed 's/\x1b\[[0-9;]*m//g')
t_assert_eq 2 "$T_RC" "exit status when the replacement is declined"
t_assert_contains "$out" "$app4/config/migration_profiles.json already has a profile shop." "it asks"
t_assert_contains "$out" "ferry: init: there is a profile \"shop\" in $app4/config/migration_profiles.json already" "and refuses"
t_assert_eq "$before" "$(sha256sum "$app4/config/migration_profiles.json")" "the file is unchanged"
