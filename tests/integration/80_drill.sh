#!/usr/bin/env bash
# ferry drill against the real clusters: a good bundle passes, its restore
# time is recorded in drill_log.json and the bundle's .verified record, and
# `ferry list` shows it drilled; --server restores on the target cluster and
# creates no database on the source; a row changed in a kept scratch
# database passes the row-count gate but fails the content check, naming the
# table and the line; a failing application check fails the drill with its
# name; the scratch database is gone after success, failure and Ctrl-C, and
# a kill -9's leftover is dropped by the next drill; status warns on an old
# drill and fails on a failed one; bad input gets clear errors.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_drill_$$
t_psql_source "CREATE DATABASE $db"
drop_all() {
    local side=$1 d
    for d in $("t_psql_$side" "SELECT datname FROM pg_database WHERE datname LIKE '${db}%'"); do
        "t_psql_$side" "DROP DATABASE IF EXISTS \"$d\"" >/dev/null 2>&1
    done
}
t_on_exit "drop_all source; drop_all target"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null

checks='[{"name": "customers exist", "sql": "SELECT count(*) > 0 FROM app.customers", "expect": true},
         {"name": "orders since", "sql": "SELECT count(*) FROM app.orders WHERE $1::timestamptz > now() - interval '"'"'1 day'"'"'", "expect": 2000, "params": ["{bundle_created}"]}]'
cat >"$work/profiles.json" <<JSON
{
  "prod": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/backups"},
    "log_dir": "$work/logs",
    "drill": {"checks": $checks}
  },
  "strict": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/backups"},
    "log_dir": "$work/logs",
    "drill": {"checks": [{"name": "an admin exists", "sql": "SELECT count(*) FROM app.customers WHERE email = 'admin@example.com'", "expect": 1}]}
  },
  "signed": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/signed-backups"},
    "log_dir": "$work/logs",
    "signing": {"key": "$work/sign", "public_key": "$work/sign.pub"}
  },
  "spare": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$TARGET_PORT/postgres"},
    "backup": {"dir": "$work/spare-backups"}
  }
}
JSON
export FERRY_PROFILES=$work/profiles.json
ssh-keygen -q -t ed25519 -N '' -C ferry-sign -f "$work/sign" </dev/null

scratches() { t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}_drill_%' ORDER BY 1"; }
target_scratches() { t_psql_target "SELECT datname FROM pg_database WHERE datname LIKE '${db}_drill_%' ORDER BY 1"; }
# jq-ish: EXPR over the JSON object on the last line of T_OUT (d).
py() {
    printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c "
import json, sys
d = json.load(sys.stdin)
print($1)"
}

t_assert_exit 0 "$FERRY_BIN" backup --profile prod --json
bundle=$(printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["file"])')
name=$(basename "$bundle")

t_log "--dry-run: the plan, nothing made"
t_assert_exit 0 "$FERRY_BIN" drill --profile prod --dry-run
t_assert_contains "$T_OUT" "restore into a scratch database" "the plan lists the load"
t_assert_contains "$T_OUT" "${db}_drill_" "the plan names the scratch database"
t_assert_contains "$T_OUT" "2 checks (customers exist, orders since)" "the plan lists the checks"
t_assert_eq "" "$(scratches)" "no scratch database after a dry run"
[ ! -e "$work/logs/drill_log.json" ] || t_fail "a dry run wrote the drill log"

t_log "a good bundle: every step passes, the time is recorded, the scratch database is dropped"
t_assert_exit 0 "$FERRY_BIN" drill --profile prod --json
t_assert_eq success "$(py "d['status']")" "drill result"
t_assert_eq "$name" "$(py "d['bundle']")" "the newest full bundle is drilled by default"
t_assert_eq True "$(py "d['restore_s'] > 0 and d['restore_s'] <= d['duration_s']")" "restore time measured"
t_assert_eq True "$(py "d['content']['checked'] and all(t['match'] for t in d['content']['tables'])")" \
    "every table's content matched"
t_assert_eq True "$(py "all(t['dump_sha256'] == t['db_sha256'] for t in d['content']['tables'])")" \
    "both sides' SHA-256 recorded and equal"
dump_tables=$(tar --zstd -xOf "$bundle" db/dump/toc.dat >/dev/null && mkdir -p "$work/x" &&
    tar --zstd -xf "$bundle" -C "$work/x" db/dump && "$PGBIN/pg_restore" -l "$work/x/db/dump" | grep -c "TABLE DATA ")
t_assert_eq "$dump_tables" "$(py "len(d['content']['tables'])")" "every TABLE DATA entry was compared"
t_assert_eq "2000" "$(py "[t['lines'] for t in d['content']['tables'] if t['table'] == 'orders'][0]")" \
    "app.orders: 2000 lines compared"
t_assert_eq "True True" "$(py "' '.join(str(c['ok']) for c in d['checks'])")" "both application checks passed"
t_assert_eq unsigned "$(py "d['signature']")" "the result says the bundle is unsigned"
t_assert_eq "" "$(scratches)" "the scratch database is gone after success"
t_assert_eq 1 "$(python3 -c "import json; print(len(json.load(open('$work/logs/drill_log.json'))))")" \
    "one record in drill_log.json"
t_assert_eq True "$(python3 -c "import json; r=json.load(open('$work/logs/drill_log.json'))[0]; print(r['status']=='success' and r['restore_s'] > 0)")" \
    "the log records the restore time"
t_assert_file_contains "$bundle.verified" "drilled 20" "the .verified record says drilled"
t_assert_exit 0 "$FERRY_BIN" list --profile prod
t_assert_contains "$T_OUT" "drilled $(date -u +%Y-%m-%d)" "list shows drilled (date)"
t_assert_exit 0 "$FERRY_BIN" drill "$name" --profile prod
t_assert_contains "$T_OUT" "drill passed: $bundle" "text result, a bundle named"
t_assert_contains "$T_OUT" "signature: unsigned" "text result says unsigned"

t_log "--server: the scratch database is made on the target cluster, nothing on the source"
before=$(t_psql_source "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database")
t_fault_start drill.loaded "$FERRY_FAULTS_BIN" drill --profile prod --server spare --json
t_assert_eq "$before" "$(t_psql_source "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database")" \
    "while loaded: no database on the source"
case "$(target_scratches)" in "${db}_drill_"*) ;; *) t_fail "no scratch database on the target while loaded" ;; esac
t_fault_go drill.loaded
wait "$T_BG_PID" || t_fail "the drill on the spare server failed: $(cat "$T_TMPROOT/bg.err")"
T_OUT=$(cat "$T_TMPROOT/bg.out")
t_assert_eq spare "$(py "d['server']")" "the drill ran on the spare profile's server"
t_assert_eq "$before" "$(t_psql_source "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database")" \
    "after: the source cluster's databases are as before"
t_assert_eq "" "$(target_scratches)" "the scratch database on the target is dropped"

t_log "a row changed after the load: the row-count gate passes, the content check names table and line"
t_assert_exit 0 "$FERRY_BIN" drill --profile prod --keep
kept=$(scratches)
[ -n "$kept" ] || t_fail "--keep left no scratch database"
t_assert_contains "$T_OUT" "kept $kept: psql" "--keep prints how to connect"
t_assert_contains "$T_OUT" "dbname='$kept'" "the connection names the scratch database"
line5=$(DB=$kept t_psql_source "COPY app.customers (id) TO STDOUT" | sed -n 5p)
DB=$kept t_psql_source "UPDATE app.customers SET email = 'changed@example.com' WHERE id = $line5"
t_assert_exit 4 "$FERRY_BIN" drill --profile prod --check-only "$kept"
t_assert_contains "$T_ERR" "✔ check every table's row count against the manifest" "the row-count gate passed"
t_assert_contains "$T_ERR" "content check: app.customers differs from the dump at line 5" \
    "the content check names the table and the first differing line"
t_assert_eq "$kept" "$(scratches)" "--check-only leaves the database it checked"
t_assert_file_contains "$bundle.verified" "FAILED content check: app.customers" "the drill failure recorded"

t_log "the next drill drops the kept scratch database"
t_assert_exit 0 "$FERRY_BIN" drill --profile prod
t_assert_contains "$T_ERR" "dropping $kept, left by an earlier drill" "the leftover is named"
t_assert_eq "" "$(scratches)" "no scratch database left"

t_log "a failing application check fails the drill with its name; the scratch database is gone"
t_assert_exit 4 "$FERRY_BIN" drill "$bundle" --profile strict
t_assert_contains "$T_ERR" 'application check "an admin exists" failed: expected 1, got 0' "the check is named"
t_assert_eq "" "$(scratches)" "the scratch database is gone after a failure"

t_log "status fails on a failed drill"
t_assert_exit 4 "$FERRY_BIN" status --profile strict --json
t_assert_eq fail "$(py "[c for c in d['checks'] if c['name'] == 'drill'][0]['state']")" "drill check fails"
t_assert_contains "$(py "[c for c in d['checks'] if c['name'] == 'drill'][0]['detail']")" "an admin exists" \
    "the failure is shown"

t_log "status warns when the newest drill is older than drill.max_age_days"
t_assert_exit 0 "$FERRY_BIN" status --profile prod --json
t_assert_eq ok "$(py "[c for c in d['checks'] if c['name'] == 'drill'][0]['state']")" "a fresh drill is ok"
python3 - "$work/logs/drill_log.json" <<'PY'
import json, sys, datetime
path = sys.argv[1]
log = json.load(open(path))
old = (datetime.datetime.utcnow() - datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
for r in log:
    if r["profile"] == "prod":
        r["started_at"] = old
json.dump(log, open(path, "w"))
PY
t_assert_exit 0 "$FERRY_BIN" status --profile prod --json
t_assert_eq warn "$(py "[c for c in d['checks'] if c['name'] == 'drill'][0]['state']")" "an old drill warns"
t_assert_contains "$(py "[c for c in d['checks'] if c['name'] == 'drill'][0]['detail']")" "older than 8 d" \
    "the detail says how old is too old"

t_log "Ctrl-C (SIGINT) while loaded: exit 130, the scratch database is dropped"
t_fault_start drill.loaded "$FERRY_FAULTS_BIN" drill --profile prod
[ -n "$(scratches)" ] || t_fail "no scratch database while paused"
kill -INT "$T_BG_PID"
t_fault_go drill.loaded
rc=0
wait "$T_BG_PID" || rc=$?
t_assert_eq 130 "$rc" "exit status after SIGINT"
t_assert_eq "" "$(scratches)" "the scratch database is gone after Ctrl-C"
[ -z "$(ls -d "$work"/backups/.ferry-drill-* 2>/dev/null)" ] || t_fail "the work directory is left after Ctrl-C"

t_log "kill -9 while loaded: the next drill drops the leftover"
t_fault_start drill.loaded "$FERRY_FAULTS_BIN" drill --profile prod
left=$(scratches)
[ -n "$left" ] || t_fail "no scratch database while paused"
kill -9 "$T_BG_PID"
wait "$T_BG_PID" 2>/dev/null || true
t_fault_go drill.loaded
t_assert_eq "$left" "$(scratches)" "the killed drill left its scratch database"
t_assert_exit 0 "$FERRY_BIN" drill --profile prod
t_assert_contains "$T_ERR" "dropping $left, left by an earlier drill" "the next drill names the leftover"
t_assert_eq "" "$(scratches)" "nothing left after the next drill"
[ -z "$(ls -d "$work"/backups/.ferry-drill-* 2>/dev/null)" ] || t_fail "the killed drill's work directory is left"

t_log "signing configured: the signature is checked; dump data changed with hashes recomputed is refused"
t_assert_exit 0 "$FERRY_BIN" backup --profile signed --json
signed=$(printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["file"])')
t_assert_exit 0 "$FERRY_BIN" drill --profile signed --json
t_assert_eq verified "$(py "d['signature']")" "the drill says the signature verified"
mkdir -p "$work/evil"
tar --zstd -tf "$signed" >"$work/evil.list"
tar --zstd -xf "$signed" -C "$work/evil"
python3 - "$work/evil" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
dump = os.path.join(d, "db/dump")
# The biggest data file: one row's text changed, the end marker kept.
files = [f for f in os.listdir(dump) if f.endswith(".dat") and f != "toc.dat"]
big = max(files, key=lambda f: os.path.getsize(os.path.join(dump, f)))
p = os.path.join(dump, big)
data = open(p, "rb").read()
first = data.index(b"\n")
open(p, "wb").write(b"X" + data[1:first] + data[first:])
m = json.load(open(os.path.join(d, "manifest.json")))
for mem in m["members"]:
    q = os.path.join(d, mem["name"])
    if os.path.isfile(q) and not os.path.islink(q):
        b = open(q, "rb").read()
        mem["sha256"] = hashlib.sha256(b).hexdigest()
        mem["size"] = len(b)
open(os.path.join(d, "manifest.json"), "w").write(json.dumps(m, indent=2) + "\n")
lines = []
for name in ["manifest.json", "manifest.json.sig"] + [x["name"] for x in m["members"]]:
    q = os.path.join(d, name)
    if os.path.isfile(q) and not os.path.islink(q):
        lines.append("%s  %s" % (hashlib.sha256(open(q, "rb").read()).hexdigest(), name))
open(os.path.join(d, "SHA256SUMS"), "w").write("\n".join(lines) + "\n")
PY
(cd "$work/evil" && tar --zstd --no-recursion --format=pax -cf "$work/signed-backups/signed_20260101_000000_manual_evil.ferry.tar.zst" -T "$work/evil.list")
evil=$work/signed-backups/signed_20260101_000000_manual_evil.ferry.tar.zst
t_assert_exit 0 "$FERRY_BIN" verify "$evil"
t_assert_exit 4 "$FERRY_BIN" drill "$evil" --profile signed
t_assert_contains "$T_ERR" "does not verify" "refused by the signature"
t_assert_not_contains "$T_ERR" "restore into a scratch database" "nothing was loaded"
t_assert_eq "" "$(scratches)" "no scratch database for the tampered bundle"
t_assert_eq "verify False" "$(python3 -c "import json; r=json.load(open('$work/logs/drill_log.json'))[-1]; print(r['failed_step'], any(s['id'] == 'load' and s['state'] != 'pending' for s in r['steps']))")" \
    "the drill log: failed at verify, the load never ran"

t_log "a corrupted bundle is refused before anything is loaded"
cp "$bundle" "$work/corrupt_20260101_000000_manual_x.ferry.tar.zst"
size=$(stat -c %s "$bundle")
printf '\x33' | dd of="$work/corrupt_20260101_000000_manual_x.ferry.tar.zst" bs=1 seek=$((size / 2)) conv=notrunc status=none
t_assert_exit 4 "$FERRY_BIN" drill "$work/corrupt_20260101_000000_manual_x.ferry.tar.zst" --profile prod
t_assert_eq "" "$(scratches)" "no scratch database for a corrupted bundle"
t_assert_not_contains "$T_ERR" "restore into a scratch database" "the load never started"

t_log "bad input: clear errors, exit 2"
t_assert_exit 2 "$FERRY_BIN" drill "$name" --latest --profile prod
t_assert_contains "$T_ERR" "BUNDLE and --latest exclude each other" "bundle and --latest"
t_assert_exit 2 "$FERRY_BIN" drill --profile prod --server nosuch
t_assert_contains "$T_ERR" "nosuch" "unknown --server named"
t_assert_exit 2 "$FERRY_BIN" drill --profile prod --check-only "${db}_nosuch"
t_assert_contains "$T_ERR" "database ${db}_nosuch does not exist" "unknown --check-only database"
t_assert_exit 2 "$FERRY_BIN" drill nosuch.ferry.tar.zst --profile prod
t_assert_contains "$T_ERR" 'no bundle "nosuch.ferry.tar.zst"' "unknown bundle"
t_assert_exit 2 "$FERRY_BIN" drill --profile spare
t_assert_contains "$T_ERR" "no full bundle of profile spare" "no bundle to drill"
t_assert_eq "" "$(scratches)" "no scratch database after bad input"
