#!/usr/bin/env bash
# Restore: backup → restore into the target cluster (a new server) and over
# an existing database on the same cluster; contents identical; rollback;
# failures (killed pg_restore, corrupted member, tampered dump with
# recomputed hashes, server stopped mid-restore) leave the live database
# exactly as it was; clear errors for bad input.
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
db=shop_rst_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
t_on_exit "t_psql_target 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
DB=$db t_psql_source "CREATE TABLE app.bulk AS SELECT g AS id, md5(g::text) AS a, md5((g*3)::text) AS b FROM generate_series(1, 300000) g;
  CREATE INDEX ON app.bulk (a); CREATE INDEX ON app.bulk (b);" >/dev/null

app=$work/app
mkdir -p "$app/uploads" "$app/config"
head -c 100000 /dev/urandom >"$app/uploads/a.bin"
echo "v1" >"$app/config/app.conf"

cat >"$work/profiles.json" <<JSON
{
  "here": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "app": {"root": "$app", "paths": ["uploads", "config"]},
    "backup": {"dir": "$work/backups"}
  },
  "there": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$TARGET_PORT/$db"},
    "app": {"root": "$work/there-app", "paths": ["uploads", "config"]},
    "backup": {"dir": "$work/there-backups"}
  }
}
JSON
export FERRY_PROFILES=$work/profiles.json

t_assert_exit 0 "$FERRY_BIN" backup --profile here --json
bundle=$(printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["file"])')
name=$(basename "$bundle")
db_fingerprint source "$db" >"$work/fp.source"

t_log "no terminal and no --yes: refused, nothing changed"
t_assert_exit 10 "$FERRY_BIN" restore "$bundle" --profile there
t_assert_contains "$T_ERR" "pass --yes" "refusal hint"
t_assert_eq "" "$(t_psql_target "SELECT datname FROM pg_database WHERE datname LIKE '$db%'")" "nothing created on target"

t_log "unknown bundle name, unreadable file: clear errors"
t_assert_exit 2 "$FERRY_BIN" restore nosuch.ferry.tar.zst --profile here --yes
t_assert_contains "$T_ERR" "no bundle \"nosuch.ferry.tar.zst\"" "unknown name"
echo garbage >"$work/garbage.ferry.tar.zst"
t_assert_exit 4 "$FERRY_BIN" restore "$work/garbage.ferry.tar.zst" --profile here --yes
t_assert_contains "$T_ERR" "garbage.ferry.tar.zst" "not a bundle names the file"

t_log "restore into the target cluster (a new server): the shadow becomes the database"
t_assert_exit 0 "$FERRY_BIN" restore "$bundle" --profile there --yes --json
result=$(printf '%s\n' "$T_OUT" | tail -n 1)
t_assert_contains "$result" '"status":"success"' "restore result"
t_assert_contains "$result" '"previous_db":null' "no previous database on a new server"
db_fingerprint target "$db" >"$work/fp.target"
diff "$work/fp.source" "$work/fp.target" || t_fail "target differs from source"
cmp "$app/uploads/a.bin" "$work/there-app/uploads/a.bin"

t_log "restore over the existing database on the same cluster"
DB=$db t_psql_source "INSERT INTO app.customers (email) VALUES ('after-backup@example.com'); SELECT nextval('app.invoice_no');" >/dev/null
echo "v2" >"$app/config/app.conf"
db_fingerprint source "$db" >"$work/fp.changed"
t_assert_exit 0 "$FERRY_BIN" restore "$name" --profile here --yes --json
result=$(printf '%s\n' "$T_OUT" | tail -n 1)
prev=$(printf '%s' "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["previous_db"])')
safety=$(printf '%s' "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["safety_bundle"])')
case "$prev" in "${db}_prev_"*) ;; *) t_fail "previous db: $prev";; esac
[ -f "$safety" ] || t_fail "no safety bundle $safety"
case "$safety" in *_pre-restore_*) ;; *) t_fail "safety bundle type: $safety";; esac
db_fingerprint source "$db" >"$work/fp.restored"
diff "$work/fp.source" "$work/fp.restored" || t_fail "restored differs from the backup"
t_assert_eq v1 "$(cat "$app/config/app.conf")" "files restored"
[ -d "$app/config.prev-"* ] || t_fail "old files not kept"
t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname = '${db}_ferry_shadow'")" "no shadow left"

t_log "rollback brings the previous data back"
t_assert_exit 0 "$FERRY_BIN" rollback --profile here --yes
db_fingerprint source "$db" >"$work/fp.rolledback"
diff "$work/fp.changed" "$work/fp.rolledback" || t_fail "rollback did not bring the previous data back"
t_assert_eq v2 "$(cat "$app/config/app.conf")" "files rolled back"

live_unchanged() {
    db_fingerprint source "$db" >"$work/fp.now"
    diff -q "$work/fp.changed" "$work/fp.now" >/dev/null || t_fail "$1: the live database changed"
    t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname = '${db}_ferry_shadow'")" "$1: shadow left"
    t_assert_eq v2 "$(cat "$app/config/app.conf")" "$1: files changed"
}

t_log "a corrupted member: refused before anything is touched"
cp "$bundle" "$work/corrupt.ferry.tar.zst"
size=$(stat -c %s "$bundle")
printf '\x33' | dd of="$work/corrupt.ferry.tar.zst" bs=1 seek=$((size / 3)) conv=notrunc status=none
t_assert_exit 4 "$FERRY_BIN" restore "$work/corrupt.ferry.tar.zst" --profile here --yes --no-safety-backup
live_unchanged corrupt

t_log "a tampered dump with recomputed hashes: the row-count gate catches it"
mkdir "$work/tamper"
tar --zstd -xf "$bundle" -C "$work/tamper"
python3 - "$work/tamper" <<'PY'
import hashlib, json, os, sys
root = sys.argv[1]
toc = open(os.path.join(root, "db/dump/toc.dat"), "rb").read()
# The biggest data file is app.bulk: drop its last 10 rows (plain COPY text, -Z0).
files = [f for f in os.listdir(os.path.join(root, "db/dump")) if f.endswith(".dat") and f != "toc.dat"]
big = max(files, key=lambda f: os.path.getsize(os.path.join(root, "db/dump", f)))
path = os.path.join(root, "db/dump", big)
lines = open(path, "rb").read().split(b"\n")
end = lines.index(b"\\.")
del lines[end - 10:end]
open(path, "wb").write(b"\n".join(lines))
def sha(p): return hashlib.sha256(open(os.path.join(root, p), "rb").read()).hexdigest()
m = json.load(open(os.path.join(root, "manifest.json")))
for mem in m["members"]:
    mem["sha256"] = sha(mem["name"]); mem["size"] = os.path.getsize(os.path.join(root, mem["name"]))
open(os.path.join(root, "manifest.json"), "w").write(json.dumps(m, indent=2) + "\n")
with open(os.path.join(root, "SHA256SUMS"), "w") as out:
    for name in ["manifest.json"] + [mem["name"] for mem in m["members"]]:
        out.write("%s  %s\n" % (sha(name), name))
PY
(cd "$work/tamper" && tar --zstd -cf "$work/tampered.ferry.tar.zst" manifest.json db files SHA256SUMS)
t_assert_exit 0 "$FERRY_BIN" verify "$work/tampered.ferry.tar.zst"
t_assert_exit 4 "$FERRY_BIN" verify --deep --profile here "$work/tampered.ferry.tar.zst"
t_assert_contains "$T_ERR" "app.bulk has 299990 rows" "verify --deep catches the tampered dump"
t_assert_exit 4 "$FERRY_BIN" restore "$work/tampered.ferry.tar.zst" --profile here --yes --no-safety-backup
t_assert_contains "$T_ERR" "row counts differ from the manifest" "gate message"
t_assert_contains "$T_ERR" "app.bulk has 299990 rows, the manifest says 300000" "gate names the table"
live_unchanged tampered

t_log "pg_restore killed mid-way"
"$FERRY_BIN" restore "$bundle" --profile here --yes --no-safety-backup >"$work/kill.out" 2>"$work/kill.err" &
pid=$!
restore_running() { pgrep -f "pg_restore.*${db}_ferry_shadow" >/dev/null; }
t_wait_for 30 restore_running || t_fail "pg_restore did not start"
# The streaming restore runs one pg_restore after another: kill until one
# is caught (pkill says so), or the restore has ended.
until pkill -KILL -f "pg_restore.*${db}_ferry_shadow"; do
    kill -0 "$pid" 2>/dev/null || break
done
rc=0; wait "$pid" || rc=$?
t_assert_ne 0 "$rc" "exit status after pg_restore was killed"
t_assert_contains "$(cat "$work/kill.err")" "pg_restore" "message names pg_restore"
live_unchanged killed

t_log "the server stopped mid-restore"
db_fingerprint target "$db" >"$work/fp.target.before"
t_fault_start restore.shadow.created "$FERRY_FAULTS_BIN" restore "$bundle" --profile there --yes --no-safety-backup
"$PGBIN/pg_ctl" -D "$TARGET_DATA" -m immediate stop >/dev/null 2>&1 || runuser -u postgres -- "$PGBIN/pg_ctl" -D "$TARGET_DATA" -m immediate stop >/dev/null
t_fault_go restore.shadow.created
rc=0; wait "$T_BG_PID" || rc=$?
t_assert_ne 0 "$rc" "exit status when the server stopped"
(cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$TARGET_DATA" -l "$TARGET_LOG" -w start >/dev/null 2>&1) ||
    "$PGBIN/pg_ctl" -D "$TARGET_DATA" -l "$TARGET_LOG" -w start >/dev/null
db_fingerprint target "$db" >"$work/fp.target.after"
diff "$work/fp.target.before" "$work/fp.target.after" || t_fail "target database changed by a failed restore"
t_log "and a second attempt succeeds (the leftover shadow is replaced)"
t_assert_exit 0 "$FERRY_BIN" restore "$bundle" --profile there --yes --no-safety-backup
