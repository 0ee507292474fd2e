#!/usr/bin/env bash
# kill -9 is a normal event. A restore killed inside the swap (the live
# database refusing connections), at the swap, while moving the app files,
# and while loading its shadow: `status` fails with the command that deals
# with it, and the next run (`ferry recover`, or any restore or backup of
# the profile) finishes or undoes it and says what it did. One restore or
# backup at a time per profile: a second is refused with the holder, a
# killed holder's lock is taken over.
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
db=kills_$$
t_psql_source "CREATE DATABASE $db"
drop_all() {
    local d
    for d in $(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}%'"); do
        t_psql_source "ALTER DATABASE \"$d\" WITH ALLOW_CONNECTIONS true" >/dev/null 2>&1 || true
        t_psql_source "DROP DATABASE IF EXISTS \"$d\"" >/dev/null 2>&1 || true
    done
}
t_on_exit drop_all
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
app=$work/app
mkdir -p "$app/uploads"
echo "bundle" >"$app/uploads/a.txt"
cat >"$work/profiles.json" <<JSON
{"p": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
       "app": {"root": "$app", "paths": ["uploads"]},
       "backup": {"dir": "$work/backups"}, "log_dir": "$work/logs"}}
JSON
export FERRY_PROFILES=$work/profiles.json FERRY_FAULT_DIR=$T_TMPROOT
t_assert_exit 0 "$FERRY_BIN" backup
bundle=$(ls "$work"/backups/*.ferry.tar.zst)
cp "$bundle" "$work/bundle.ferry.tar.zst"
bundle=$work/bundle.ferry.tar.zst
db_fingerprint source "$db" >"$work/fp.bundle"

change_live() { DB=$db t_psql_source "UPDATE app.customers SET email = email || '.changed' WHERE id = 1" >/dev/null; echo "changed" >"$app/uploads/a.txt"; }
allows() { t_psql_source "SELECT datallowconn FROM pg_database WHERE datname = '$db'"; }
no_leftovers() {
    local left
    left=$(ls -d "$work"/backups/.ferry-* "$app"/.ferry-* 2>/dev/null | grep -v -e '\.lock$' -e 'ferry-restore-state.json$' || true)
    t_assert_eq "" "$left" "$1: no work directory left"
    t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}_ferry_shadow%'")" "$1: no shadow left"
}

t_log "killed inside the swap (connections refused): status says how, recover undoes it"
change_live
db_fingerprint source "$db" >"$work/fp.live"
t_run env FERRY_FAULT=restore.swap.closed:kill "$FERRY_FAULTS_BIN" restore "$bundle" --yes --no-safety-backup
t_assert_eq 137 "$T_RC" "killed"
t_assert_eq f "$(allows)" "the live database refuses connections after the kill"
t_assert_exit 3 "$FERRY_BIN" status
t_assert_contains "$T_OUT$T_ERR" "ferry recover --profile p" "status names the command"
t_assert_exit 0 "$FERRY_BIN" recover
t_assert_contains "$T_ERR" "accepts connections again" "recover says what it did"
t_assert_eq t "$(allows)" "connections allowed again"
db_fingerprint source "$db" >"$work/fp.after"
diff "$work/fp.live" "$work/fp.after" || t_fail "the swap had not happened: the live database must be as it was"
no_leftovers "after recover"
t_assert_exit 0 "$FERRY_BIN" recover
t_assert_contains "$T_OUT" "nothing to recover" "a second recover has nothing to do"

t_log "killed at the swap: the next restore recovers first, then completes"
t_run env FERRY_FAULT=restore.swap.begun:kill "$FERRY_FAULTS_BIN" restore "$bundle" --yes --no-safety-backup
t_assert_eq 137 "$T_RC" "killed"
t_assert_exit 0 "$FERRY_BIN" restore "$bundle" --yes --no-safety-backup
t_assert_contains "$T_ERR" "left by a killed run" "the rerun says what it cleaned"
db_fingerprint source "$db" >"$work/fp.after"
diff "$work/fp.bundle" "$work/fp.after" || t_fail "the rerun restored the bundle"
no_leftovers "after the rerun"

t_log "killed while moving the app files: recover puts them in place"
change_live
t_run env FERRY_FAULT=restore.files.begun:kill "$FERRY_FAULTS_BIN" restore "$bundle" --yes --no-safety-backup
t_assert_eq 137 "$T_RC" "killed"
t_assert_eq changed "$(cat "$app/uploads/a.txt")" "the files were not moved yet"
t_assert_exit 0 "$FERRY_BIN" recover
t_assert_eq bundle "$(cat "$app/uploads/a.txt")" "the restored file is in place"
t_assert_eq changed "$(cat "$(ls -d "$app"/uploads.prev-* | tail -n 1)/a.txt")" "the old one kept aside"
no_leftovers "after the files"

t_log "one run at a time per profile; a killed holder's lock is taken over"
t_fault_start restore.shadow.created "$FERRY_FAULTS_BIN" restore "$bundle" --yes --no-safety-backup
t_assert_exit 8 "$FERRY_BIN" restore "$bundle" --yes --no-safety-backup
t_assert_contains "$T_ERR" "locked by restore" "a second restore names the holder"
t_assert_exit 8 "$FERRY_BIN" backup
kill -9 "$T_BG_PID"
wait "$T_BG_PID" 2>/dev/null || true
t_fault_go restore.shadow.created
t_assert_exit 0 "$FERRY_BIN" restore "$bundle" --yes --no-safety-backup
t_assert_contains "$T_ERR" "took over the lock of a run that is gone" "the stale lock is taken over"
t_assert_contains "$T_ERR" "removed database" "the killed run's shadow is dropped"
no_leftovers "after the takeover"
db_fingerprint source "$db" >"$work/fp.after"
diff "$work/fp.bundle" "$work/fp.after" || t_fail "the takeover run restored the bundle"

t_log "a backup killed while writing leaves nothing that the next one keeps"
t_run env FERRY_FAULT=step.backup.write:kill "$FERRY_FAULTS_BIN" backup
t_assert_eq 137 "$T_RC" "killed"
t_assert_exit 0 "$FERRY_BIN" backup
t_assert_contains "$T_ERR" "left by a killed run" "the staging directory is removed"
no_leftovers "after the backup"
