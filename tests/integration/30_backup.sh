#!/usr/bin/env bash
# Backup: a real database (schemas, enum, sequences, large objects, bytea,
# jsonb, partitions, views) and app files into one bundle that GNU tar,
# sha256sum and pg_restore read; counts from the dump's own snapshot;
# verify catches a flipped byte; every error path leaves nothing behind.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_backup_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null

# App files: three paths, an excluded temp file, a symlink.
app=$work/app
mkdir -p "$app/exports/2026" "$app/config" "$app/logs"
head -c 300000 /dev/urandom >"$app/exports/2026/report.bin"
echo "key=value" >"$app/config/app.conf"
echo "keep" >"$app/logs/app.log"
echo "drop" >"$app/logs/run.tmp"
ln -s ../config/app.conf "$app/exports/link.conf"

cat >"$work/profiles.json" <<JSON
{
  "test": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "app": {"root": "$app", "paths": ["exports", "config", "logs"], "exclude": ["logs/*.tmp"]},
    "backup": {"dir": "$work/backups", "keep": {"last": 3, "daily": 2, "weekly": 1, "monthly": 1}}
  }
}
JSON
export FERRY_PROFILES=$work/profiles.json

t_log "dry run touches nothing"
t_assert_exit 0 "$FERRY_BIN" backup --dry-run
t_assert_contains "$T_OUT" "dump the database in one snapshot" "dry-run plan"
t_assert_contains "$T_OUT" "test_" "dry-run names the output"
[ ! -e "$work/backups" ] || [ -z "$(ls -A "$work/backups")" ] || t_fail "dry run wrote files"

t_log "backup"
t_assert_exit 0 "$FERRY_BIN" backup --json
result=$(printf '%s\n' "$T_OUT" | tail -n 1)
bundle=$(printf '%s' "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["file"])')
[ -f "$bundle" ] || t_fail "no bundle at $bundle"
case "$(basename "$bundle")" in
    test_????????_??????_manual_3f2a9c1b7d4e.ferry.tar.zst) ;;
    *) t_fail "bundle name: $(basename "$bundle")" ;;
esac
t_assert_eq 600 "$(stat -c %a "$bundle")" "bundle mode"
t_assert_eq "" "$(find "$work/backups" -name '*.part' -o -name '.ferry-staging*')" "no leftovers"
t_assert_contains "$result" '"status":"success"' "JSON result"
t_assert_contains "$result" '"app.orders":2000' "per-table rows in the result"

t_log "GNU tar reads it: manifest.json first, SHA256SUMS last"
tar --zstd -tf "$bundle" >"$work/members"
t_assert_eq manifest.json "$(head -n 1 "$work/members")" "first member"
t_assert_eq SHA256SUMS "$(tail -n 1 "$work/members")" "last member"
t_assert_file_contains "$work/members" "files/exports/2026/report.bin" "app file member"
t_assert_file_contains "$work/members" "db/dump/toc.dat" "dump member"
t_assert_file_not_contains "$work/members" "run.tmp" "excluded file"
mkdir "$work/x"
tar --zstd -xf "$bundle" -C "$work/x"
(cd "$work/x" && sha256sum --quiet -c SHA256SUMS) || t_fail "sha256sum -c failed"
[ -L "$work/x/files/exports/link.conf" ] || t_fail "symlink not kept"
cmp "$app/exports/2026/report.bin" "$work/x/files/exports/2026/report.bin"
"$PGBIN/pg_restore" -l "$work/x/db/dump" >"$work/toc"
t_assert_file_contains "$work/toc" "TABLE DATA app customers" "pg_restore -l"
t_assert_file_contains "$work/toc" "BLOBS" "large objects in the dump"
t_assert_file_contains "$work/toc" "MATERIALIZED VIEW DATA app order_totals" "matview"

t_log "manifest: versions, revision, counts equal to the live counts"
m=$work/x/manifest.json
python3 - "$m" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["format"] == "ferry-bundle" and m["format_version"] == 1, m["format"]
assert m["schema_revision"] == {"revision": "3f2a9c1b7d4e", "source": "alembic_version"}, m["schema_revision"]
assert m["database"]["server_version"].startswith("15."), m["database"]
assert m["database"]["pg_dump_version"].startswith("15."), m["database"]
assert m["database"]["encoding"] and m["database"]["owner"], m["database"]
assert m["snapshot"], "snapshot id"
assert m["created_at"].endswith("Z")
names = {t["schema"] + "." + t["table"]: t["rows"] for t in m["tables"]}
assert names["app.customers"] == 500 and names["app.orders"] == 2000, names
assert names["audit.events_2025"] + names["audit.events_2026"] == 1500, names
assert "audit.events" not in names, "partitioned parent counted twice"
assert m["totals"]["rows"] == sum(names.values())
for mem in m["members"]:
    assert len(mem["sha256"]) == 64 and mem["size"] >= 0
PY
live=$(DB=$db t_psql_source "SELECT (SELECT count(*) FROM app.customers) || ' ' || (SELECT count(*) FROM app.orders) || ' ' || (SELECT count(*) FROM audit.events)")
t_assert_eq "500 2000 1500" "$live" "live counts"

t_log "verify passes, list shows it, a flipped byte is caught"
t_assert_exit 0 "$FERRY_BIN" verify "$bundle"
t_assert_contains "$T_OUT" "ok:" "verify output"
t_assert_exit 0 "$FERRY_BIN" list
t_assert_contains "$T_OUT" "3f2a9c1b7d4e" "list shows the revision"
t_assert_contains "$T_OUT" "verified 20" "list shows the verified state"

# An uncompressed bundle: flip one byte inside a member's content.
t_assert_exit 0 "$FERRY_BIN" backup --compress none --out "$work/plain" --json
plain=$(printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["file"])')
off=$(python3 - "$plain" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        if m.name == "files/exports/2026/report.bin":
            print(m.offset_data + 1000)
PY
)
cp "$plain" "$work/flipped.ferry.tar"
printf '\xff' | dd of="$work/flipped.ferry.tar" bs=1 seek="$off" conv=notrunc status=none
cmp -s "$plain" "$work/flipped.ferry.tar" && t_fail "byte not flipped"
t_assert_exit 4 "$FERRY_BIN" verify "$work/flipped.ferry.tar"
t_assert_contains "$T_ERR" "files/exports/2026/report.bin" "verify names the member"

# A compressed bundle with a flipped byte in the middle.
cp "$bundle" "$work/flipped.ferry.tar.zst"
size=$(stat -c %s "$bundle")
printf '\x5a' | dd of="$work/flipped.ferry.tar.zst" bs=1 seek=$((size / 2)) conv=notrunc status=none
t_assert_exit 4 "$FERRY_BIN" verify "$work/flipped.ferry.tar.zst"
t_assert_contains "$T_ERR" "ferry:" "error line"

t_log "concurrent writers: rows inserted during the dump are in neither dump nor counts"
DB=$db t_psql_source "CREATE TABLE app.ticks (id bigserial PRIMARY KEY, pad text);
  INSERT INTO app.ticks (pad) SELECT repeat('x', 200) FROM generate_series(1, 200000);" >/dev/null
(
    for _ in $(seq 1 400); do
        echo "INSERT INTO app.ticks (pad) VALUES ('live');"
        sleep 0.01
    done
) | "$PGBIN/psql" -X -q -h "$SOURCE_SOCK" -p "$SOURCE_PORT" -U ferry -d "$db" >/dev/null &
writer=$!
writing() { [ "$(DB=$db t_psql_source "SELECT count(*) > 0 FROM app.ticks WHERE pad = 'live'")" = t ]; }
t_wait_for 30 writing || t_fail "the concurrent writer did not start"
t_assert_exit 0 "$FERRY_BIN" backup --db-only --out "$work/concurrent" --json
wait "$writer"
cb=$(printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["file"])')
counted=$(printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["table_details"]["app.ticks"])')
live_after=$(DB=$db t_psql_source "SELECT count(*) FROM app.ticks")
[ "$live_after" -gt "$counted" ] || t_fail "writer did not insert after the snapshot ($live_after vs $counted)"
mkdir "$work/cx"
tar --zstd -xf "$cb" -C "$work/cx"
restored=rst_$$
t_psql_target "CREATE DATABASE $restored"
t_on_exit "t_psql_target 'DROP DATABASE IF EXISTS $restored' >/dev/null 2>&1"
"$PGBIN/pg_restore" -h "$TARGET_SOCK" -p "$TARGET_PORT" -U ferry -d "$restored" -j 2 "$work/cx/db/dump" 2>"$work/restore.err" || true
in_dump=$(DB=$restored t_psql_target "SELECT count(*) FROM app.ticks")
t_assert_eq "$counted" "$in_dump" "rows in the dump = rows counted"
t_log "counted $counted, in dump $in_dump, live after $live_after"

t_log "retention ran after the backup and prune explains itself"
t_assert_exit 0 "$FERRY_BIN" prune --dry-run
t_assert_contains "$T_OUT" "keep" "prune output"
t_assert_contains "$T_OUT" "last 3" "prune rule"

t_log "--globals carries the roles, without passwords"
t_psql_source "DO \$\$ BEGIN CREATE ROLE shop_app LOGIN PASSWORD 'role-secret-123'; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
t_assert_exit 0 "$FERRY_BIN" backup --db-only --globals --out "$work/globals" --json
gb=$(printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["file"])')
tar --zstd -xOf "$gb" db/globals.sql >"$work/globals.sql"
t_assert_file_contains "$work/globals.sql" "CREATE ROLE shop_app" "role in globals.sql"
t_assert_file_not_contains "$work/globals.sql" "role-secret-123" "no password in the bundle"
t_assert_file_not_contains "$work/globals.sql" "SCRAM-SHA-256" "no password hash in the bundle"

t_log "verify --deep restores into a scratch database and compares counts"
t_assert_exit 0 "$FERRY_BIN" verify --deep "$bundle"
t_assert_contains "$T_OUT" "row counts match" "deep verify"
t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE 'ferry_verify_%'")" "scratch database dropped"

t_log "schedule install / show / remove (cron, redirected)"
export FERRY_CRON_DIR=$work/cron.d
mkdir -p "$FERRY_CRON_DIR"
t_assert_exit 0 "$FERRY_BIN" schedule install --cron
t_assert_file_contains "$FERRY_CRON_DIR/ferry-test" "0 2 * * * root" "daily entry"
t_assert_file_contains "$FERRY_CRON_DIR/ferry-test" "--profile test --type weekly" "weekly entry"
t_assert_exit 0 "$FERRY_BIN" schedule show --cron
t_assert_contains "$T_OUT" "0 4 1 * *" "show prints the monthly entry"
t_assert_exit 0 "$FERRY_BIN" schedule remove --cron
[ ! -e "$FERRY_CRON_DIR/ferry-test" ] || t_fail "cron file not removed"
export FERRY_SYSTEMD_DIR=$work/systemd
mkdir -p "$FERRY_SYSTEMD_DIR"
t_assert_exit 0 "$FERRY_BIN" schedule install --systemd
t_assert_file_contains "$FERRY_SYSTEMD_DIR/ferry-backup-test-daily.timer" "OnCalendar=*-*-* 02:00:00" "timer"
t_assert_file_contains "$FERRY_SYSTEMD_DIR/ferry-backup-test-monthly.service" "--type monthly" "service"
