#!/usr/bin/env bash
# "Test a backup (drill)" driven by key scripts: from the menu, the profile
# and the bundle (the newest full one picked, partial ones listed but not
# picked), the server (another profile's, Right), the summary (the plan
# drill_plan makes), the checklist of the run, and the result page with the
# restore time, the content check and the log; the drill is in the log and
# the scratch database gone from both clusters. A failing check shows on
# the result page with its name, and the wizard exits 4.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_wdrill_$$
t_psql_source "CREATE DATABASE $db"
drop_all() {
    local side=$1 d
    for d in $("t_psql_$side" "SELECT datname FROM pg_database WHERE datname LIKE '${db}%'"); do
        "t_psql_$side" "DROP DATABASE IF EXISTS \"$d\"" >/dev/null 2>&1
    done
}
t_on_exit "drop_all source; drop_all target"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
cat >"$work/profiles.json" <<JSON
{
  "shop": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/backups"},
    "log_dir": "$work/logs",
    "drill": {"checks": [{"name": "orders", "sql": "SELECT count(*) FROM app.orders", "expect": 2000}]}
  },
  "spare": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$TARGET_PORT/postgres"},
    "backup": {"dir": "$work/spare"},
    "log_dir": "$work/spare-logs",
    "drill": {"checks": [{"name": "no orders", "sql": "SELECT count(*) FROM app.orders", "expect": 0}]}
  }
}
JSON
export FERRY_PROFILES=$work/profiles.json
unset FERRY_PROFILE

t_assert_exit 0 "$FERRY_BIN" backup --profile shop
full=$(ls "$work"/backups/shop_*.ferry.tar.zst)
t_assert_exit 0 "$FERRY_BIN" backup --profile shop --table app.orders --type daily
scratches() { "t_psql_$1" "SELECT datname FROM pg_database WHERE datname LIKE '${db}_drill_%'"; }

t_log "from the menu: profile, bundle, server, summary, run, result"
t_wiz "6 dump:$work/d1.txt Enter dump:$work/d2.txt Enter dump:$work/d3.txt Right dump:$work/d4.txt Enter waitfor:\"unpacking the dump\" dump:$work/d5.txt s waitfor:Finished dump:$work/d6.txt Enter dump:$work/d7.txt q"
t_assert_eq 0 "$T_RC" "exit status of the menu after a drill"
t_assert_file_contains "$work/d1.txt" "ferry — Test a backup (drill)" "the drill wizard"
t_assert_file_contains "$work/d1.txt" "Which profile's backups do you want to test?" "the profile question"
t_assert_file_contains "$work/d2.txt" "Which bundle?" "the bundle question"
t_assert_file_contains "$work/d2.txt" "partial" "the partial bundle is listed"
t_assert_file_contains "$work/d2.txt" "▸ " "a bundle is selected"
t_assert_eq "full" "$(grep '▸ 20' "$work/d2.txt" | awk '{print $5}')" "the newest full bundle is picked"
t_assert_file_contains "$work/d3.txt" "◂ shop ▸" "the profile's own server first"
t_assert_file_contains "$work/d4.txt" "◂ spare ▸" "Right picks the spare server"
t_assert_file_contains "$work/d5.txt" "Summary: this is what will happen" "the summary"
t_wrapped_has "$work/d5.txt" "on the server of profile spare" "the plan restores on spare"
t_wrapped_has "$work/d5.txt" "1 check (orders), read only" "the plan lists the check"
t_assert_file_contains "$work/d6.txt" "Testing" "the run page"
for step in "verify the bundle" "restore into a scratch database" "check every table's row count" \
    "compare every table's content with the dump" "run the profile's application checks" \
    "drop the scratch database, record the outcome"; do
    t_assert_file_contains "$work/d6.txt" "[✔] $step" "checklist: $step"
done
t_assert_file_contains "$work/d7.txt" "✔ Test a backup (drill): done" "the result headline"
t_wrapped_has "$work/d7.txt" "The bundle restores:" "the restore time"
t_wrapped_has "$work/d7.txt" "on the server of profile spare" "where it was restored"
t_wrapped_has "$work/d7.txt" "byte for byte what the dump holds" "the content check"
t_wrapped_has "$work/d7.txt" "Check orders: ok (expected 2000, got 2000)." "the application check"
t_wrapped_has "$work/d7.txt" "$work/logs/drill_log.json" "the drill log named"
t_assert_eq "success $(basename "$full") spare" \
    "$(python3 -c "import json; r=json.load(open('$work/logs/drill_log.json'))[-1]; print(r['status'], r['bundle'], r['server'])")" \
    "the drill is in the log"
t_assert_eq "" "$(scratches source)" "no scratch database on the source"
t_assert_eq "" "$(scratches target)" "no scratch database on the target"

t_log "ferry easy drill with a failing check: the result page names it, exit 4"
mkdir -p "$work/spare"
cp "$full" "$work/spare/spare_20260101_000000_manual_x.ferry.tar.zst"
t_wiz "Enter Enter waitfor:\"unpacking the dump\" s waitfor:\"Enter: see the result\" dump:$work/f1.txt Enter dump:$work/f2.txt Enter" \
    easy drill --profile spare
t_assert_eq 4 "$T_RC" "exit status of a failed drill"
t_assert_file_contains "$work/f1.txt" "[✖] run the profile's application checks" "the failed step"
t_assert_file_contains "$work/f2.txt" "✖ Test a backup (drill): failed" "the result headline"
t_wrapped_has "$work/f2.txt" 'application check "no orders" failed: expected 0, got 2000' "the check is named"
t_assert_eq "" "$(scratches target)" "no scratch database after the failure"
