#!/usr/bin/env bash
# A bundle is untrusted input. Bundles built by hand with every hash
# recomputed (tests/fixtures/hostile.py) are refused by verify and by
# restore, before anything is touched: no shell command from the roles
# file, no database dropped, nothing written outside the app root, no
# symlinked data file read, no member the manifest does not describe.
# setuid bits are never restored, terminal escapes never printed, and roles
# that exist are left as they are unless --update-roles.
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
chmod 755 "$work"
db=hostile_$$
role=hostile_keep_$$
t_psql_source "CREATE DATABASE $db"
t_psql_source "CREATE ROLE $role NOLOGIN"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1; t_psql_source 'DROP ROLE IF EXISTS $role' >/dev/null 2>&1"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
DB=$db t_psql_source "GRANT SELECT ON ALL TABLES IN SCHEMA app TO $role" >/dev/null

app=$work/root/app
mkdir -p "$app/uploads" "$app/config"
echo "one" >"$app/uploads/a.txt"
echo "v1" >"$app/config/app.conf"
cat >"$work/profiles.json" <<JSON
{"p": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
       "app": {"root": "$app", "paths": ["uploads", "config"]},
       "backup": {"dir": "$work/backups", "globals": true}, "log_dir": "$work/logs"}}
JSON
export FERRY_PROFILES=$work/profiles.json
t_assert_exit 0 "$FERRY_BIN" backup --json
good=$(ls "$work"/backups/*.ferry.tar.zst)
t_assert_exit 0 "$FERRY_BIN" verify "$good"

tree_state() { (cd "$work/root" && find . -printf '%p %m %s\n' | sort && find . -type f -exec sha256sum {} + | sort); }
db_fingerprint source "$db" >"$work/fp.before"
tree_state >"$work/tree.before"

# CASE WORDS [ARG]: verify and restore both refuse, naming WORDS; nothing changed.
refused() {
    local case=$1 words=$2 arg=${3:-}
    local b=$work/$case.ferry.tar.zst
    t_log "$case: refused by verify and by restore"
    python3 "$FERRY_SRC/tests/fixtures/hostile.py" "$case" "$good" "$b" $arg || t_fail "hostile.py $case"
    t_assert_exit 4 "$FERRY_BIN" verify "$b"
    t_assert_contains "$T_ERR" "$words" "$case: verify names it"
    t_assert_exit 4 "$FERRY_BIN" restore "$b" --yes
    t_assert_contains "$T_ERR" "$words" "$case: restore names it"
    db_fingerprint source "$db" >"$work/fp.after"
    diff -q "$work/fp.before" "$work/fp.after" >/dev/null || t_fail "$case: the database changed"
    tree_state >"$work/tree.after"
    diff "$work/tree.before" "$work/tree.after" || t_fail "$case: files under the app's parent changed"
    [ -z "$(ls "$work"/backups/*pre-restore* 2>/dev/null)" ] || t_fail "$case: a safety backup was made before the refusal"
    [ -z "$(ls -d "$work"/backups/.ferry-restore-* "$app"/.ferry-restore-* 2>/dev/null)" ] ||
        t_fail "$case: a restore's work directory was left behind"
}

refused globals-shell "meta-command" "$work/PWNED"
[ ! -e "$work/PWNED" ] || t_fail "a shell command from the roles file ran"
refused globals-drop "not a statement pg_dumpall writes" "$db"
refused paths-escape 'files.paths "../X"'
[ ! -e "$work/root/X" ] && [ ! -e "$work/X" ] || t_fail "a path outside the app root was written"
refused dump-path "dump.path"
refused globals-path "dump.globals"
refused data-symlink "is a symlink in db/" /etc/passwd
refused files-symlink "leads outside the app root"
refused below-symlink "below a symlink member"
refused lying-size "by its tar header"
refused hardlink "is a hard link"
refused fifo "special file"
refused device "special file"
refused absolute "/tmp/ferry-abs"
refused dotdot "ferry-dotdot"
refused unlisted "is not in the manifest"
refused first-not-manifest "the first member"

t_log "setuid, setgid and sticky bits are not restored"
python3 "$FERRY_SRC/tests/fixtures/hostile.py" setuid "$good" "$work/setuid.ferry.tar.zst"
t_assert_exit 0 "$FERRY_BIN" restore "$work/setuid.ferry.tar.zst" --yes --no-safety-backup
special=$(find "$app" -perm /7000 -printf '%m %p\n')
t_assert_eq "" "$special" "no special bits on restored files"
t_assert_eq 755 "$(stat -c %a "$app/uploads/a.txt")" "the permission bits themselves are kept"

if [ "$(id -u)" = 0 ]; then
    t_log "ownership is the restoring user's unless app.keep_ownership"
    echo owned >"$app/uploads/owned.txt"
    chown 4242:4243 "$app/uploads/owned.txt"
    t_assert_exit 0 "$FERRY_BIN" backup
    owned=$(ls -t "$work"/backups/*.ferry.tar.zst | head -n 1)
    t_assert_exit 0 "$FERRY_BIN" restore "$owned" --yes --no-safety-backup
    t_assert_eq "0:0" "$(stat -c %u:%g "$app/uploads/owned.txt")" "owned by the restoring user by default"
    python3 - "$work/profiles.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); p["p"]["app"]["keep_ownership"] = True
json.dump(p, open(sys.argv[1], "w"))
PY
    t_assert_exit 0 "$FERRY_BIN" restore "$owned" --yes --no-safety-backup
    t_assert_eq "4242:4243" "$(stat -c %u:%g "$app/uploads/owned.txt")" "app.keep_ownership keeps the bundle's owner"
    t_assert_eq "" "$(find "$app" -perm /7000)" "still no special bits with keep_ownership"
    python3 - "$work/profiles.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); p["p"]["app"]["keep_ownership"] = "yes"
json.dump(p, open(sys.argv[1], "w"))
PY
    t_assert_exit 2 "$FERRY_BIN" restore "$owned" --yes --no-safety-backup
    t_assert_contains "$T_ERR" "keep_ownership" "a wrong value names the key"
    python3 - "$work/profiles.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); del p["p"]["app"]["keep_ownership"]
json.dump(p, open(sys.argv[1], "w"))
PY
    rm -f "$owned" "$app/uploads/owned.txt"
else
    t_log "SKIP app.keep_ownership: changing a file's owner needs root"
fi

t_log "terminal escapes in a manifest never reach the terminal"
python3 "$FERRY_SRC/tests/fixtures/hostile.py" escapes "$good" "$work/backups/esc.ferry.tar.zst"
for cmd in "verify $work/backups/esc.ferry.tar.zst" "list" "restore $work/backups/esc.ferry.tar.zst --dry-run"; do
    # shellcheck disable=SC2086
    t_run "$FERRY_BIN" $cmd
    if printf '%s%s' "$T_OUT" "$T_ERR" | LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]'; then
        t_fail "ferry $cmd printed a control character"
    fi
done
rm -f "$work/backups/esc.ferry.tar.zst"*

t_log "an existing role is left as it is; --update-roles takes the bundle's"
t_psql_source "ALTER ROLE $role LOGIN"
t_assert_exit 0 "$FERRY_BIN" restore "$good" --yes --no-safety-backup
t_assert_eq t "$(t_psql_source "SELECT rolcanlogin FROM pg_roles WHERE rolname = '$role'")" "LOGIN kept"
t_assert_exit 0 "$FERRY_BIN" restore "$good" --yes --no-safety-backup --update-roles
t_assert_eq f "$(t_psql_source "SELECT rolcanlogin FROM pg_roles WHERE rolname = '$role'")" "the bundle's NOLOGIN with --update-roles"
t_assert_eq t "$(t_psql_source "SELECT rolcanlogin FROM pg_roles WHERE rolname = current_user")" "the connected role untouched"
