#!/usr/bin/env bash
# The streaming restore: one pass over the bundle hashes each member while
# the shadow database loads. A corrupted last member is refused after the
# load has started, a corrupted member in the middle stops the load there,
# and Ctrl-C or kill -9 in the middle of the stream leave the live database
# as it was and, once the next run (or `ferry recover`) has dealt with the
# journal, no shadow and no staging behind.
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
db=stream_$$
t_psql_source "CREATE DATABASE $db"
drop_all() {
    local d
    for d in $(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}%'"); do
        t_psql_source "DROP DATABASE IF EXISTS \"$d\"" >/dev/null 2>&1 || true
    done
}
t_on_exit drop_all
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
# A table whose data file is large enough to stream through a FIFO (and
# through the bundle reader's second thread), beside the shop's small ones.
DB=$db t_psql_source "CREATE TABLE app.bulk AS SELECT g AS id, repeat(md5(g::text), 4) AS pad
                      FROM generate_series(1, 120000) g" >/dev/null
app=$work/app
mkdir -p "$app/uploads"
echo "bundle" >"$app/uploads/a.txt"
cat >"$work/profiles.json" <<JSON
{"p": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
       "app": {"root": "$app", "paths": ["uploads"]},
       "backup": {"dir": "$work/backups", "compression": "none"}, "log_dir": "$work/logs"}}
JSON
export FERRY_PROFILES=$work/profiles.json FERRY_FAULT_DIR=$T_TMPROOT
t_assert_exit 0 "$FERRY_BIN" backup
bundle=$work/bundle.ferry.tar
cp "$(ls "$work"/backups/*.ferry.tar)" "$bundle"
DB=$db t_psql_source "UPDATE app.customers SET email = email || '.live' WHERE id = 1" >/dev/null
db_fingerprint source "$db" >"$work/fp.live"

# members BUNDLE: the bundle's regular members in order, one a line.
members() { python3 -c 'import sys,tarfile; [print(m.name) for m in tarfile.open(sys.argv[1]) if m.isfile()]' "$1"; }
# corrupt BUNDLE MEMBER OUT: a copy with one byte of MEMBER's content flipped
# (same sizes: only its hash tells).
corrupt() {
    python3 - "$@" <<'PY'
import shutil, sys, tarfile
src, name, out = sys.argv[1:4]
shutil.copyfile(src, out)
with tarfile.open(src) as t:
    m = t.getmember(name)
with open(out, "r+b") as f:
    f.seek(m.offset_data + m.size // 2)
    b = f.read(1)
    f.seek(m.offset_data + m.size // 2)
    f.write(bytes([b[0] ^ 0xFF]))
PY
}
untouched() {
    db_fingerprint source "$db" >"$work/fp.now"
    diff "$work/fp.live" "$work/fp.now" >/dev/null || t_fail "$1: the live database changed"
    t_assert_eq "bundle" "$(cat "$app/uploads/a.txt")" "$1: the app files are as they were"
}
no_leftovers() {
    local left
    left=$(ls -d "$work"/backups/.ferry-* "$app"/.ferry-* 2>/dev/null | grep -v -e '\.lock$' -e 'ferry-restore-state.json$' || true)
    t_assert_eq "" "$left" "$1: no staging left"
    t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}_ferry_shadow%'")" "$1: no shadow left"
}
passes() { [ -f "$T_TMPROOT/restore.stream.member.count" ] && wc -l <"$T_TMPROOT/restore.stream.member.count" || echo 0; }

members "$bundle" >"$work/members"
nmembers=$(wc -l <"$work/members")

t_log "the plan: one step verifies and loads"
t_assert_exit 0 "$FERRY_BIN" restore "$bundle" --yes --dry-run
t_assert_contains "$T_OUT$T_ERR" "verify the bundle while loading it into a shadow database" "the streaming step is planned"

t_log "a corrupted last member: refused after the load started, the live database untouched"
last=$(grep -v -e '^SHA256SUMS$' "$work/members" | tail -n 1)
corrupt "$bundle" "$last" "$work/last.ferry.tar"
rm -f "$T_TMPROOT/restore.stream.member.count"
t_assert_exit 4 env FERRY_FAULT=restore.stream.member@0:mark "$FERRY_FAULTS_BIN" restore "$work/last.ferry.tar" --yes --no-safety-backup
t_assert_contains "$T_ERR" "member $last is corrupted" "the message names the last member"
t_assert_contains "$T_ERR" "pre-data into" "the load had started"
[ "$(passes)" -ge 3 ] || t_fail "the load had not gone past the first members ($(passes) passes)"
untouched "corrupted last member"
no_leftovers "corrupted last member"

t_log "a corrupted member in the middle: the load stops there"
bulk=$(python3 -c 'import sys,tarfile; t=tarfile.open(sys.argv[1]); print(max((m for m in t if m.isfile() and "/dump/" in m.name), key=lambda m: m.size).name)' "$bundle")
at=$(grep -n -x -F "$bulk" "$work/members" | cut -d: -f1)
[ "$at" -lt "$nmembers" ] || t_fail "the large table's data is not in the middle of the bundle"
corrupt "$bundle" "$bulk" "$work/middle.ferry.tar"
rm -f "$T_TMPROOT/restore.stream.member.count"
t_assert_exit 4 env FERRY_FAULT=restore.stream.member@0:mark "$FERRY_FAULTS_BIN" restore "$work/middle.ferry.tar" --yes --no-safety-backup
t_assert_contains "$T_ERR" "member $bulk is corrupted" "the message names the member"
# Passes are counted after each verified db/ member: none after the bad one.
[ "$(passes)" -lt "$at" ] || t_fail "the load went on after the corrupted member ($(passes) passes, member $at)"
untouched "corrupted middle member"
no_leftovers "corrupted middle member"

t_log "Ctrl-C in the middle of the stream"
rm -f "$T_TMPROOT/restore.stream.member.paused"
FERRY_FAULT="restore.stream.member@3:pause" "$FERRY_FAULTS_BIN" restore "$bundle" --yes --no-safety-backup \
    </dev/null >"$work/int.out" 2>"$work/int.err" &
pid=$!
paused() { [ -f "$T_TMPROOT/restore.stream.member.paused" ]; }
t_wait_for 120 paused || t_fail "the restore did not reach its third member: $(cat "$work/int.err")"
t_assert_contains "$(cat "$work/int.err")" "pre-data into" "the load is under way"
kill -INT "$pid"
t_fault_go restore.stream.member
rc=0; wait "$pid" || rc=$?
t_assert_eq 130 "$rc" "interrupted (exit 130): $(cat "$work/int.err")"
untouched "Ctrl-C"
no_leftovers "Ctrl-C"

t_log "kill -9 in the middle of the stream: the next run cleans up"
t_run env FERRY_FAULT=restore.stream.member@3:kill "$FERRY_FAULTS_BIN" restore "$bundle" --yes --no-safety-backup
t_assert_eq 137 "$T_RC" "killed"
untouched "kill -9"
t_assert_exit 0 "$FERRY_BIN" recover
no_leftovers "kill -9, after recover"
untouched "kill -9, after recover"

t_log "and the restore completes"
t_assert_exit 0 "$FERRY_BIN" restore "$bundle" --yes --no-safety-backup --json
t_assert_contains "$T_OUT" "peak staging" "the step reports its peak staging"
# One progress line for the whole way, as --json events: bytes, tables, indexes.
line=$(grep '"event":"progress"' <<<"$T_OUT" | grep 'indexes built' | tail -n 1)
t_assert_contains "$line" "read and hashed" "progress: bytes read and hashed"
t_assert_contains "$line" "tables loaded" "progress: tables loaded"
python3 -c 'import json,sys; e=json.loads(sys.argv[1]); assert e["done"] == e["total"] > 0, e' "$line" ||
    t_fail "the last progress event is not complete: $line"
t_assert_eq 120000 "$(DB=$db t_psql_source "SELECT count(*) FROM app.bulk")" "the large table is loaded"
no_leftovers "after the restore"
