#!/usr/bin/env bash
# kill -9 of ferry's children (pg_dump during a backup, pg_restore during a
# restore, each held on a real lock so it is caught running); PostgreSQL
# stopped mid-restore (fast shutdown while pg_restore loads the shadow);
# the backup dir and the app root's staging dir full (a small tmpfs this
# test mounts and removes). After each: the live database accepts
# connections and is as it was, nothing is left behind once the next run
# (or `ferry recover`) has run, and the rerun completes. One table row each.
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
db=fchild_$$
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
head -c 3000000 /dev/urandom >"$app/uploads/blob"
profile() { # BACKUP_DIR APP_ROOT
    cat >"$work/profiles.json" <<JSON
{"p": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
       "app": {"root": "$2", "paths": ["uploads"]},
       "backup": {"dir": "$1", "compression": "none"}, "log_dir": "$work/logs"}}
JSON
}
profile "$work/backups" "$app"
export FERRY_PROFILES=$work/profiles.json FERRY_FAULT_DIR=$T_TMPROOT
t_assert_exit 0 "$FERRY_BIN" backup
bundle=$work/bundle.ferry.tar
cp "$(ls "$work"/backups/*.ferry.tar)" "$bundle"
table=${FAULTS_TABLE:-$work/table}
row() { printf '%-8s %-34s %-8s %-16s %-10s %s\n' "$@" >>"$table"; }

leftovers() { # DIR...: ferry's work files and shadows, "none" or their names
    local l
    l=$( (find "$@" -maxdepth 1 \( -name '.ferry-staging-*' -o -name '.ferry-restore-*' -o -name '*.part' \) ! -name '.ferry-restore-state.json' 2>/dev/null
        t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}\\_ferry\\_%'") | tr '\n' ' ')
    l=${l% }
    echo "${l:-none}"
}
live_ok() { # WHAT: accepts connections and is as before
    t_assert_eq t "$(t_psql_source "SELECT datallowconn FROM pg_database WHERE datname = '$db'")" "$1: accepts connections"
    db_fingerprint source "$db" >"$work/fp.after"
    diff -q "$work/fp.before" "$work/fp.after" >/dev/null || t_fail "$1: the live database changed"
}
child_of() { pgrep -P "$1" -x "$2" | head -n 1; }
# A session holding a lock (SQL, in database DBNAME) until release; a
# multi-statement -c shows nothing until it ends, so it is seen sleeping.
hold() { # DBNAME SQL
    (DB=$1 t_psql_source "BEGIN; $2; SELECT pg_sleep(3600)" >"$work/hold.out" 2>&1) &
    HOLD_PID=$!
    t_wait_for 60 holding || t_fail "the lock was not taken: $(cat "$work/hold.out")"
}
holding() { [ "$(t_psql_source "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%pg_sleep(3600)%'")" -gt 0 ]; }
release() {
    t_psql_source "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3600)%' AND pid <> pg_backend_pid()" >/dev/null
    wait "$HOLD_PID" 2>/dev/null || true
}
waiting_on_lock() { [ "$(t_psql_source "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = '$1'")" -gt 0 ]; }

t_log "pg_dump killed -9 during a backup"
db_fingerprint source "$db" >"$work/fp.before"
hold "$db" "LOCK TABLE app.customers IN ACCESS EXCLUSIVE MODE"
"$FERRY_BIN" backup >"$work/bg.out" 2>"$work/bg.err" &
fpid=$!
dumping() { [ -n "$(child_of "$fpid" pg_dump)" ] && waiting_on_lock "$db"; }
t_wait_for 120 dumping || t_fail "pg_dump did not start: $(cat "$work/bg.err")"
kill -9 "$(child_of "$fpid" pg_dump)"
release
rc=0
wait "$fpid" || rc=$?
[ "$rc" != 0 ] || t_fail "the backup said ok although pg_dump was killed"
t_assert_contains "$(cat "$work/bg.err")" "pg_dump" "the failure names pg_dump"
live_ok "pg_dump killed"
left=$(leftovers "$work/backups")
[ "$left" = none ] || t_fail "pg_dump killed: leftovers $left"
t_assert_eq 1 "$(ls "$work"/backups/*.ferry.tar | wc -l)" "no half bundle kept"
t_assert_exit 0 "$FERRY_BIN" backup
row backup "pg_dump killed -9" "exit $rc" 0 "$left" completes

t_log "pg_restore killed -9 during a restore"
t_fault_start restore.shadow.created "$FERRY_FAULTS_BIN" restore "$bundle" --yes --no-safety-backup
shadow=$(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}\\_ferry\\_shadow%'" | head -n 1)
[ -n "$shadow" ] || t_fail "no shadow database while paused"
hold "$shadow" "CREATE SCHEMA app"
t_fault_go restore.shadow.created
fpid=$T_BG_PID
restoring() { [ -n "$(child_of "$fpid" pg_restore)" ] && waiting_on_lock "$shadow"; }
t_wait_for 120 restoring || t_fail "pg_restore did not start: $(cat "$T_TMPROOT/bg.err")"
kill -9 "$(child_of "$fpid" pg_restore)"
release
rc=0
wait "$fpid" || rc=$?
[ "$rc" != 0 ] || t_fail "the restore said ok although pg_restore was killed"
live_ok "pg_restore killed"
t_assert_exit 0 "$FERRY_BIN" recover
left=$(leftovers "$work/backups" "$app")
[ "$left" = none ] || t_fail "pg_restore killed: leftovers $left"
t_assert_exit 0 "$FERRY_BIN" restore "$bundle" --yes --no-safety-backup
row restore "pg_restore killed -9" "exit $rc" "0 (as before)" "$left" completes

t_log "PostgreSQL stopped while pg_restore loads the shadow"
DB=$db t_psql_source "UPDATE app.customers SET email = email || '.s' WHERE id = 1" >/dev/null
db_fingerprint source "$db" >"$work/fp.before"
t_fault_start restore.shadow.created "$FERRY_FAULTS_BIN" restore "$bundle" --yes --no-safety-backup
fpid=$T_BG_PID
pg() { "$PGBIN/pg_ctl" "$@" >/dev/null 2>&1 || (cd / && runuser -u postgres -- "$PGBIN/pg_ctl" "$@" >/dev/null 2>&1); }
pg -D "$SOURCE_DATA" -m fast -w -t 60 stop
t_fault_go restore.shadow.created
rc=0
wait "$fpid" || rc=$?
pg -D "$SOURCE_DATA" -l "$SOURCE_LOG" -w -t 60 start || t_fail "the source cluster did not start again"
[ "$rc" != 0 ] || t_fail "the restore said ok although the server was stopped"
t_assert_contains "$(cat "$T_TMPROOT/bg.err")" "hint:" "the failure carries a hint"
t_assert_exit 0 "$FERRY_BIN" recover
live_ok "server stopped mid-restore"
left=$(leftovers "$work/backups" "$app")
[ "$left" = none ] || t_fail "server stopped: leftovers $left"
t_assert_exit 0 "$FERRY_BIN" restore "$bundle" --yes --no-safety-backup
row restore "PostgreSQL stopped mid-restore" "exit $rc" "0 (as before)" "$left" completes

# ---- disk full -------------------------------------------------------------------
small=$work/small
mkdir -p "$small"
if ! mount -t tmpfs -o size=2m tmpfs "$small" 2>/dev/null; then
    t_log "SKIP disk full: mounting a tmpfs is not permitted here"
    row backup "disk full (backup dir)" SKIP - - "mount not permitted"
    exit 0
fi
t_on_exit "umount '$small' 2>/dev/null || true"

t_log "the backup dir full: refused by the space check, or failing at the write, nothing left"
mkdir -p "$small/backups"
profile "$small/backups" "$app"
t_assert_exit 7 "$FERRY_BIN" backup
t_assert_contains "$T_ERR" "$small/backups" "the space check names the dir"
# The check fooled (the test build's seam): the real write hits ENOSPC.
t_run env FERRY_FAULT_FREE_BYTES=100000000000 "$FERRY_FAULTS_BIN" backup
[ "$T_RC" = 7 ] || [ "$T_RC" = 1 ] || t_fail "backup into a full dir: exit $T_RC: $T_ERR"
rc=$T_RC
grep -qi "no space left" <<<"$T_ERR" || t_fail "the write failure is not named: $T_ERR"
left=$(leftovers "$small/backups")
[ "$left" = none ] || t_fail "backup dir full: leftovers $(ls -a "$small/backups")"
t_assert_eq "" "$(ls "$small/backups")" "no bundle in the full dir"
umount "$small"
mount -t tmpfs -o size=64m tmpfs "$small"
mkdir -p "$small/backups"
t_assert_exit 0 "$FERRY_BIN" backup
row backup "disk full (backup dir)" "exit $rc" 0 "$left" completes

t_log "the app root full while the restore stages its files: nothing changed"
rm -rf "${small:?}"/*
umount "$small"
mount -t tmpfs -o size=2m tmpfs "$small"
mkdir -p "$small/app/uploads"
echo small >"$small/app/uploads/keep.txt"
profile "$work/backups" "$small/app"
db_fingerprint source "$db" >"$work/fp.before"
t_run env FERRY_FAULT_FREE_BYTES=100000000000 "$FERRY_FAULTS_BIN" restore "$bundle" --yes --no-safety-backup
[ "$T_RC" != 0 ] || t_fail "a restore into a full app root said ok"
rc=$T_RC
grep -qi "no space left" <<<"$T_ERR" || t_fail "the write failure is not named: $T_ERR"
t_assert_exit 0 "$FERRY_BIN" recover
live_ok "app root full"
t_assert_eq small "$(cat "$small/app/uploads/keep.txt")" "the live files are untouched"
left=$(leftovers "$work/backups" "$small/app")
[ "$left" = none ] || t_fail "app root full: leftovers $(ls -a "$small/app")"
t_assert_exit 7 "$FERRY_BIN" restore "$bundle" --yes --no-safety-backup
t_assert_contains "$T_ERR" "$small/app" "without the seam the space check refuses, naming the app root"
umount "$small"
mount -t tmpfs -o size=64m tmpfs "$small"
mkdir -p "$small/app/uploads"
t_assert_exit 0 "$FERRY_BIN" restore "$bundle" --yes --no-safety-backup
cmp -s "$app/uploads/blob" "$small/app/uploads/blob" || t_fail "the rerun did not restore the files"
row restore "disk full (app staging dir)" "exit $rc" "0 (as before)" "$left" completes

t_log "zstd bombs: 200 MiB of zeros in a 64 MiB app root, honest and lying sizes"
zsrc=$work/zsrc.ferry.tar.zst
zstd -q -c "$bundle" >"$zsrc"
for case in bomb bomb-lying; do
    python3 "$FERRY_SRC/tests/fixtures/hostile.py" "$case" "$zsrc" "$work/$case.ferry.tar.zst" 200 || t_fail "hostile.py $case"
    [ "$(stat -c %s "$work/$case.ferry.tar.zst")" -lt $(($(stat -c %s "$zsrc") + 1000000)) ] ||
        t_fail "$case: 200 MiB of zeros did not compress to a bomb"
    db_fingerprint source "$db" >"$work/fp.before"
    t_run "$FERRY_BIN" restore "$work/$case.ferry.tar.zst" --yes --no-safety-backup
    if [ "$case" = bomb ]; then
        t_assert_eq 7 "$T_RC" "the honest bomb is refused by the space check"
    else
        t_assert_eq 4 "$T_RC" "the lying bomb is refused by its tar header"
        t_assert_contains "$T_ERR" "by its tar header" "the lie is named"
    fi
    live_ok "$case"
    t_assert_eq "" "$(find "$small/app" -name bomb)" "$case: nothing of the bomb was written"
    left=$(leftovers "$work/backups" "$small/app")
    [ "$left" = none ] || t_fail "$case: leftovers $left"
    row restore "zstd $case (200 MiB)" "exit $T_RC" "0 (as before)" "$left" refused
done
umount "$small"

echo "$(grep -c . "$table") faults in the table so far"
