#!/usr/bin/env bash
# kill -9 of ferry at every step boundary of backup, restore and rollback
# (the seams "step.<flow>.<id>" of the test build), and inside the swap.
# After each kill: the live database accepts connections, its content is
# what it was or what the bundle holds, a rerun completes, nothing is left
# behind. One table row per kill, in $T_TMPROOT/../faults-table (printed).
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
db=faults_$$
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
echo bundle >"$app/uploads/a.txt"
cat >"$work/profiles.json" <<JSON
{"p": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
       "app": {"root": "$app", "paths": ["uploads"]},
       "backup": {"dir": "$work/backups"}, "log_dir": "$work/logs"}}
JSON
export FERRY_PROFILES=$work/profiles.json FERRY_FAULT_DIR=$T_TMPROOT
t_assert_exit 0 "$FERRY_BIN" backup
cp "$(ls "$work"/backups/*.ferry.tar.zst)" "$work/bundle.ferry.tar.zst"
bundle=$work/bundle.ferry.tar.zst
db_fingerprint source "$db" >"$work/fp.bundle"
table=${FAULTS_TABLE:-$work/table}

plan_ids() {
    python3 -c 'import json,sys; print(" ".join(s["id"] for s in json.loads(sys.stdin.read().strip().splitlines()[-1])["steps"]))'
}
leftovers() {
    local n
    n=$(ls -d "$work"/backups/.ferry-{staging,restore}-[0-9]* "$app"/.ferry-restore-files-* 2>/dev/null | wc -l)
    n=$((n + $(t_psql_source "SELECT count(*) FROM pg_database WHERE datname LIKE '${db}\\_ferry\\_%'")))
    [ "$n" -eq 0 ] && echo none || echo "$n"
}
# kill_at FLOW POINT CMD...: one row of the table.
kill_at() {
    local flow=$1 point=$2 before outcome rerun rows left
    shift 2
    DB=$db t_psql_source "UPDATE app.customers SET email = email || '.x' WHERE id = 1" >/dev/null
    db_fingerprint source "$db" >"$work/fp.before"
    t_run env FERRY_FAULT="$point:kill" "$FERRY_FAULTS_BIN" "$@"
    outcome=$([ "$T_RC" = 137 ] && echo killed || echo "exit $T_RC")
    t_assert_exit 0 "$FERRY_BIN" recover
    [ "$(t_psql_source "SELECT datallowconn FROM pg_database WHERE datname = '$db'")" = t ] ||
        t_fail "$point: the live database refuses connections after recover"
    db_fingerprint source "$db" >"$work/fp.after"
    if diff -q "$work/fp.before" "$work/fp.after" >/dev/null; then rows="0 (as before)"
    elif diff -q "$work/fp.bundle" "$work/fp.after" >/dev/null; then rows="0 (the bundle's)"
    else t_fail "$point: the database is neither as before nor the bundle's"; fi
    left=$(leftovers)
    [ "$left" = none ] || t_fail "$point: $left leftovers after recover: $(ls -d "$work"/backups/.ferry-* "$app"/.ferry-* 2>/dev/null) $(cat "$work/backups/.ferry-journal-p.json" 2>/dev/null)"
    t_run "$FERRY_BIN" "$@"
    rerun=$([ "$T_RC" = 0 ] && echo completes || echo "exit $T_RC")
    [ "$T_RC" = 0 ] || t_fail "$point: the rerun failed: $T_ERR"
    printf '%-8s %-34s %-8s %-16s %-10s %s\n' "$flow" "$point" "$outcome" "$rows" "$left" "$rerun" >>"$table"
}

restore=(restore "$bundle" --yes)
t_assert_exit 0 "$FERRY_BIN" "${restore[@]}" --dry-run --json
steps=$(plan_ids <<<"$T_OUT")
i=0
for s in $steps preflight; do
    i=$((i + 1))
    [ "${FAULTS_SHORT:-0}" = 1 ] && [ $((i % 3)) -ne 1 ] && continue
    [ "$s" = preflight ] && continue
    kill_at restore "step.restore.$s" "${restore[@]}"
done
kill_at restore restore.swap.begun "${restore[@]}"
kill_at restore restore.swap.closed "${restore[@]}"
kill_at restore restore.files.begun "${restore[@]}"

t_assert_exit 0 "$FERRY_BIN" backup --dry-run --json
for s in $(plan_ids <<<"$T_OUT"); do
    [ "$s" = preflight ] && continue
    kill_at backup "step.backup.$s" backup
done

# kill_rollback POINT: a restore to roll back, the rollback killed at POINT;
# after recover the database is the restored one or the one before it.
kill_rollback() {
    local point=$1 outcome rows left rerun
    DB=$db t_psql_source "UPDATE app.customers SET email = email || '.r' WHERE id = 2" >/dev/null
    db_fingerprint source "$db" >"$work/fp.prev"
    t_assert_exit 0 "$FERRY_BIN" restore "$bundle" --yes --no-safety-backup
    t_run env FERRY_FAULT="$point:kill" "$FERRY_FAULTS_BIN" rollback --yes
    outcome=$([ "$T_RC" = 137 ] && echo killed || echo "exit $T_RC")
    t_assert_exit 0 "$FERRY_BIN" recover
    db_fingerprint source "$db" >"$work/fp.after"
    if diff -q "$work/fp.bundle" "$work/fp.after" >/dev/null; then rows="0 (as before)"
    elif diff -q "$work/fp.prev" "$work/fp.after" >/dev/null; then rows="0 (rolled back)"
    else t_fail "$point: the database is neither the restored one nor the one before"; fi
    left=$(leftovers)
    [ "$left" = none ] || t_fail "$point: $left leftovers after recover"
    t_run "$FERRY_BIN" rollback --yes
    [ "$T_RC" = 0 ] || t_fail "$point: the rerun failed: $T_ERR"
    db_fingerprint source "$db" >"$work/fp.after"
    diff -q "$work/fp.prev" "$work/fp.after" >/dev/null || t_fail "$point: the rerun did not roll back"
    printf '%-8s %-34s %-8s %-16s %-10s %s\n' rollback "$point" "$outcome" "$rows" "$left" completes >>"$table"
}
kill_rollback step.rollback.swap
kill_rollback restore.swap.closed
kill_rollback step.rollback.files

echo "$(grep -c . "$table") kills, 0 rows lost, no leftovers, every rerun completed"
