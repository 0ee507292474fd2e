#!/usr/bin/env bash
# The backup and restore wizards driven end to end by key scripts: the
# bundle the backup wizard writes is complete (GNU tar lists it, ferry
# verify passes) and named on the result page; the restore wizard asks for
# the database name to be typed (a wrong word does not go on), brings a
# changed row back, keeps the previous database and leaves no shadow.
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
db=shop_wiz_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "drop_dbs"
drop_dbs() {
    local d
    for d in $(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}%'"); do
        t_psql_source "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true
    done
}
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null

app=$work/app
mkdir -p "$app/uploads" "$app/config"
head -c 50000 /dev/urandom >"$app/uploads/photo.jpg"
echo "v1" >"$app/config/app.conf"
cat >"$work/profiles.json" <<JSON
{
  "demo": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "app": {"root": "$app", "paths": ["uploads", "config"]},
    "backup": {"dir": "$work/backups"},
    "log_dir": "$work/logs"
  }
}
JSON
export FERRY_PROFILES=$work/profiles.json
unset FERRY_PROFILE



t_log "backup through the wizard"
t_wiz "dump:$work/b1.txt Enter waitfor:\"write the bundle\" dump:$work/b2.txt s waitfor:Finished dump:$work/b3.txt Enter dump:$work/b4.txt Enter" easy backup
t_assert_eq 0 "$T_RC" "exit status of the backup wizard"
t_assert_file_contains "$work/b1.txt" "◂ database and app files ▸" "options page first (one profile: no question)"
t_assert_file_contains "$work/b2.txt" "Summary: this is what will happen" "summary"
t_assert_file_contains "$work/b2.txt" "[ Start ]" "Start button"
t_assert_file_contains "$work/b3.txt" "[✔] write the bundle" "checklist: bundle written"
t_assert_file_contains "$work/b3.txt" "[✔] dump the database in one snapshot" "checklist: dump done"
t_assert_file_not_contains "$work/b3.txt" "[✖]" "no failed step"
t_assert_file_contains "$work/b4.txt" "✔ Backup your instance: done" "result headline"
t_wrapped_has "$work/b4.txt" "The bundle was written. Every member was hashed before and again while it was written" "result text: what the backup checked"
t_wrapped_has "$work/b4.txt" "It is not verified yet: \`ferry verify\` re-reads the finished bundle" "result text: not verified, as list says"
t_assert_file_contains "$work/b3.txt" "done: dump the database in one snapshot: 7 tables, 4506 rows" "the log pane has the step's lines"
grep -qE 'write: (25|50|75|100)% \(' "$work/b3.txt" || t_fail "the log pane has no progress line of the write"
bundles=("$work"/backups/*.ferry.tar.zst)
t_assert_eq 1 "${#bundles[@]}" "bundles in the backup directory"
bundle=${bundles[0]}
name=$(basename "$bundle")
[ -f "$bundle" ] || t_fail "no bundle in $work/backups"
t_wrapped_has "$work/b4.txt" "Written: $bundle" "result names the bundle"
t_wrapped_has "$work/b4.txt" "ferry verify $name --profile demo" "next command"
[ -z "$(find "$work/backups" -name '*.part')" ] || t_fail "a .part file was left"
tar --zstd -tf "$bundle" >"$work/members"
t_assert_file_contains "$work/members" "manifest.json" "GNU tar lists the manifest"
t_assert_file_contains "$work/members" "files/uploads/photo.jpg" "GNU tar lists the app files"
t_assert_exit 0 "$FERRY_BIN" verify "$bundle"
logs=("$work"/logs/ferry-backup-*.log)
t_assert_file_contains "${logs[0]}" "result: $bundle" "the run's log file"
t_wrapped_has "$work/b4.txt" "Log: ${logs[0]}" "result names the log"

t_log "restore through the wizard: a changed row comes back"
db_fingerprint source "$db" >"$work/fp.backup"
DB=$db t_psql_source "UPDATE app.customers SET email = 'changed@example.com' WHERE id = 1"
echo "v2" >"$app/config/app.conf"
export FERRY_FAULT_DIR=$work FERRY_FAULT=verify.pass@0:mark
# wait:8000 at the confirmation: the durations shown must leave it out.
T_WIZ_BIN=$FERRY_FAULTS_BIN t_wiz "dump:$work/r1.txt Enter dump:$work/r2.txt Enter waitfor:\"swap the shadow\" dump:$work/r3.txt s waitfor:Type dump:$work/r4.txt text:wrong Enter dump:$work/r5.txt wait:8000 C-u text:$db Enter waitfor:Finished dump:$work/r6.txt Enter dump:$work/r7.txt Enter" easy restore
unset FERRY_FAULT
t_assert_eq 0 "$T_RC" "exit status of the restore wizard"
t_assert_eq 1 "$(wc -l <"$work/verify.pass.count")" "one verifying pass over the bundle (summary and run)"
t_assert_file_contains "$work/r1.txt" "Which bundle?" "bundle question"
t_assert_file_contains "$work/r1.txt" "▸ " "a bundle picked"
t_assert_file_contains "$work/r1.txt" "manual" "the bundle's type listed"
grep -qE '▸ [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}  manual +full ' "$work/r1.txt" ||
    t_fail "the bundle row shows its time to the second, type and scope"
t_assert_file_contains "$work/r2.txt" "What should be restored?" "options page"
t_assert_file_contains "$work/r2.txt" "About to restore $name" "line about what will happen"
t_assert_file_contains "$work/r3.txt" "5. swap the shadow database in" "plan (the streaming restore loads the shadow in its verify step)"
t_assert_file_contains "$work/r3.txt" "3. safety backup of what is there now" "plan: safety backup"
t_assert_file_contains "$work/r4.txt" "Confirm before anything changes" "confirmation dialog"
t_assert_file_contains "$work/r4.txt" "Type $db to go on" "the word to type"
t_assert_file_contains "$work/r5.txt" "type $db exactly to go on" "a wrong word does not go on"
t_assert_file_contains "$work/r5.txt" "Confirm before anything changes" "the dialog stays"
t_assert_file_contains "$work/r6.txt" "[✔] swap the shadow database in" "checklist: swapped"
t_assert_file_contains "$work/r6.txt" "[✔] verify the bundle" "checklist: verified (one row, though verify reports under the same id)"
t_assert_file_not_contains "$work/r6.txt" "[✖]" "no failed step"
t_assert_file_contains "$work/r7.txt" "✔ Restore from a backup: done" "result headline"
t_wrapped_has "$work/r7.txt" "The previous database is kept as ${db}_prev_" "previous database named"
t_wrapped_has "$work/r7.txt" "ferry rollback --profile demo" "next command"
t_assert_file_contains "$work/r6.txt" "(not counting the confirmation)" "the run's time leaves the confirmation out"
run_s=$(grep -oE 'Finished in [0-9.]+ s' "$work/r6.txt" | grep -oE '[0-9.]+')
core_s=$(tr '\n' ' ' <"$work/r7.txt" | grep -oE 'rows checked against the manifest; [0-9.]+ s' | grep -oE '[0-9.]+ s' | grep -oE '[0-9.]+')
[ -n "$run_s" ] && [ -n "$core_s" ] || t_fail "no durations on the run page ($run_s) or the result ($core_s)"
awk -v a="$run_s" -v b="$core_s" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 4) }' ||
    t_fail "the run page says $run_s s, the restore $core_s s: the 8 s at the confirmation were counted"

t_assert_eq "user1@example.com" "$(DB=$db t_psql_source "SELECT email FROM app.customers WHERE id = 1")" "the row came back"
db_fingerprint source "$db" >"$work/fp.restored"
diff "$work/fp.backup" "$work/fp.restored" || t_fail "the restored database differs from the backup"
t_assert_eq v1 "$(cat "$app/config/app.conf")" "app files restored"
prev=$(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}_prev_%'")
[ -n "$prev" ] || t_fail "no ${db}_prev_* database"
t_assert_eq "changed@example.com" "$(DB=$prev t_psql_source "SELECT email FROM app.customers WHERE id = 1")" "the previous database holds the changed row"
t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname = '${db}_ferry_shadow'")" "no shadow left"
ls "$work"/backups/demo_*_pre-restore_*.ferry.tar.zst >/dev/null || t_fail "no safety backup"

t_log "a restore left at the confirmation changes nothing"
DB=$db t_psql_source "UPDATE app.customers SET email = 'changed-again@example.com' WHERE id = 1"
nbundles=$(find "$work/backups" -name '*.ferry.tar.zst' | wc -l)
t_wiz "dump:$work/n0.txt Down Enter Down Right dump:$work/n1.txt Enter waitfor:\"swap the shadow\" s waitfor:Type Esc waitfor:\"Enter: see the result\" dump:$work/n2.txt Enter dump:$work/n3.txt Enter" easy restore
t_assert_eq 10 "$T_RC" "exit status when the name was not typed"
t_wrapped_has "$work/n1.txt" "Safety backup first ◂ no ▸" "safety backup turned off"
grep -qE '^    [0-9-]+ [0-9:]+  pre-restore ' "$work/n0.txt" || t_fail "the safety copy is listed"
grep -qE '^  ▸ [0-9-]+ [0-9:]+  manual ' "$work/n0.txt" || t_fail "the newest ordinary bundle is picked, not the safety copy"
t_assert_file_contains "$work/n2.txt" "Failed: not confirmed" "status line"
t_assert_file_not_contains "$work/n2.txt" "[✖]" "no step failed: none had started"
t_assert_file_contains "$work/n3.txt" "✖ Restore from a backup: failed" "result headline"
t_wrapped_has "$work/n3.txt" "not confirmed" "the reason"
t_assert_eq "changed-again@example.com" "$(DB=$db t_psql_source "SELECT email FROM app.customers WHERE id = 1")" "live database untouched"
t_assert_eq "$nbundles" "$(find "$work/backups" -name '*.ferry.tar.zst' | wc -l)" "no safety backup made"
t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname = '${db}_ferry_shadow'")" "no shadow made"
