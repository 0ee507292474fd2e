#!/usr/bin/env bash
# Backup failures: each gives a clear message, the documented exit code,
# and leaves no .part file, no staging dir and nothing else changed.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_err_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000);"
mkdir -p "$work/app/data"
echo hi >"$work/app/data/a.txt"

profile() { # url app_path
    cat >"$work/profiles.json" <<JSON
{"test": {"database": {"url": "$1"},
          "app": {"root": "$work/app", "paths": ["$2"]},
          "backup": {"dir": "$work/backups"}}}
JSON
}
export FERRY_PROFILES=$work/profiles.json
good_url="postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"

no_leftovers() {
    local left
    left=$(find "$work/backups" \( -name '*.part' -o -name '.ferry-staging*' -o -name '*.ferry.tar*' \) 2>/dev/null || true)
    t_assert_eq "" "$left" "$1: leftovers"
}

t_log "unreachable database: exit 3"
free_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
profile "postgresql://ferry@127.0.0.1:$free_port/$db" data
t_assert_exit 3 "$FERRY_BIN" backup
t_assert_contains "$T_ERR" "ferry: cannot connect to database 127.0.0.1:$free_port/$db" "unreachable message"
t_assert_contains "$T_ERR" "hint:" "unreachable hint"
no_leftovers unreachable

t_log "bad credentials: exit 3"
profile "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db" data
PGPASSFILE=/dev/null PGPASSWORD=wrong t_assert_exit 3 "$FERRY_BIN" backup
t_assert_contains "$T_ERR" "password authentication failed" "bad credentials message"
t_assert_not_contains "$T_ERR$T_OUT" "wrong" "password not echoed"
no_leftovers credentials

t_log "missing app path: exit 1, named"
profile "$good_url" nosuchdir
t_assert_exit 1 "$FERRY_BIN" backup
t_assert_contains "$T_ERR" "$work/app/nosuchdir does not exist" "missing path message"
no_leftovers missing-path

t_log "not enough space: exit 7 with the numbers"
profile "$good_url" data
FERRY_FAULT_FREE_BYTES=1000 t_assert_exit 7 "$FERRY_FAULTS_BIN" backup
t_assert_contains "$T_ERR" "not enough space in $work/backups" "space message"
t_assert_contains "$T_ERR" "free" "space numbers"
no_leftovers space
t_log "the dry run makes the same checks: space, and option ranges"
FERRY_FAULT_FREE_BYTES=1000 t_assert_exit 7 "$FERRY_FAULTS_BIN" backup --dry-run
t_assert_contains "$T_ERR" "not enough space in $work/backups" "dry run: space message"
t_assert_exit 2 "$FERRY_BIN" backup --compress gzip --level 15 --dry-run
t_assert_contains "$T_ERR" "--level 15 is out of range for gzip (1-9)" "dry run: level range"
t_assert_exit 2 "$FERRY_BIN" backup --compress gzip --level 15
t_assert_contains "$T_ERR" "--level 15 is out of range for gzip (1-9)" "run: level range"
no_leftovers dry-run

t_log "a real full disk (tmpfs) fails cleanly"
full=$work/full
mkdir -p "$full"
if mount -t tmpfs -o size=256k tmpfs "$full" 2>/dev/null; then
    t_on_exit "umount '$full' 2>/dev/null"
    DB=$db t_psql_source "CREATE TABLE big AS SELECT g, md5(g::text) || md5((g*7)::text) AS pad FROM generate_series(1, 60000) g"
    FERRY_FAULT_FREE_BYTES=999999999999 t_assert_exit nonzero "$FERRY_FAULTS_BIN" backup --out "$full" --compress none
    case "$T_RC" in 1|7) ;; *) t_fail "full disk exit $T_RC";; esac
    t_assert_eq "" "$(ls -A "$full")" "full disk leftovers"
    DB=$db t_psql_source "DROP TABLE big"
else
    t_log "cannot mount tmpfs here; the FERRY_FAULT_FREE_BYTES case above covers the early check"
fi

t_log "pg_dump older than the server: exit 9, naming both versions"
fake=$work/oldbin
mkdir -p "$fake"
printf '#!/bin/sh\necho "pg_dump (PostgreSQL) 14.1"\n' >"$fake/pg_dump"
chmod +x "$fake/pg_dump"
FERRY_PG_BIN=$fake t_assert_exit 9 "$FERRY_BIN" backup
t_assert_contains "$T_ERR" "pg_dump 14.1" "old tool version"
t_assert_contains "$T_ERR" "older than the server 15." "server version"
no_leftovers old-pg_dump

t_log "a failing pre_backup hook stops the backup"
cat >"$work/profiles.json" <<JSON
{"test": {"database": {"url": "$good_url"}, "backup": {"dir": "$work/backups"},
          "hooks": {"pre_backup": ["echo about to fail; exit 3"]}}}
JSON
t_assert_exit 1 "$FERRY_BIN" backup
t_assert_contains "$T_ERR" "pre_backup hook" "hook failure message"
no_leftovers hook

t_log "SIGINT mid-way: exit 130, nothing left"
profile "$good_url" data
DB=$db t_psql_source "CREATE TABLE slow AS SELECT g, repeat(md5(g::text), 8) AS pad FROM generate_series(1, 300000) g"
"$FERRY_BIN" backup --compress gzip --level 9 >"$work/int.out" 2>"$work/int.err" &
pid=$!
staging_exists() { [ -n "$(find "$work/backups" -name '.ferry-staging*' 2>/dev/null)" ]; }
t_wait_for 20 staging_exists || t_fail "backup did not start"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
t_assert_eq 130 "$rc" "exit status after SIGINT"
t_assert_contains "$(cat "$work/int.err")" "interrupted" "interrupt message"
no_leftovers sigint

t_log "a broken profile exits 2 naming line and column"
printf '{"test": {"database": {"url": "x"},\n  "backup": {"dir": 5,}}}\n' >"$work/broken.json"
t_assert_exit 2 "$FERRY_BIN" backup --profiles "$work/broken.json"
t_assert_contains "$T_ERR" "broken.json:2:" "line in message"
