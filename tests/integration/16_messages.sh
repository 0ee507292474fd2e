#!/usr/bin/env bash
# What a new user reads, exactly: a missing bundle path, a name not in the
# backup dir, a truncated bundle, a FERRY_PG_BIN without the tools, a
# misspelt option, version --json, --help listing every command, the
# database's password error printed once, size_mb rounded, progress never
# past its total, the gzip level's hint, and the log file every
# command-line run writes (--no-log: none).
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_msg_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
mkdir -p "$work/app/uploads" "$work/backups"
head -c 100000 /dev/urandom >"$work/app/uploads/a.bin"
cat >"$work/profiles.json" <<JSON
{"prod": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
          "app": {"root": "$work/app", "paths": ["uploads"]},
          "backup": {"dir": "$work/backups"}, "log_dir": "$work/logs"}}
JSON
export FERRY_PROFILES=$work/profiles.json
unset FERRY_PROFILE

# first_error: the "ferry:" line of T_ERR.
first_error() { printf '%s\n' "$T_ERR" | grep '^ferry:'; }

t_log "help, version, did you mean"
t_assert_exit 0 "$FERRY_BIN" --help
for c in init backup restore rollback verify migrate deploy list prune schedule db counts profiles \
    remote push status easy action sql exec shell seed reset completion help version; do
    printf '%s\n' "$T_OUT" | grep -qE "^  $c " || t_fail "ferry --help does not list $c"
done
t_assert_contains "$T_OUT" "ferry easy [backup|restore|migrate|deploy|status|drill|init]" "--help names easy status"
t_assert_exit 0 "$FERRY_BIN" version --json
t_assert_eq "{\"program\":\"ferry\",\"version\":\"$(cat "$FERRY_SRC/VERSION")\",\"protocol\":1}" "$T_OUT" "version --json"
t_assert_exit 2 "$FERRY_BIN" backup --dryrun
t_assert_eq 'ferry: backup: unknown option "--dryrun"' "$(first_error)" "unknown option"
t_assert_contains "$T_ERR" "hint: did you mean --dry-run?" "did you mean"

t_log "a backup: size_mb rounded, progress within its total, a log file"
t_assert_exit 0 "$FERRY_BIN" backup --json
result=$(printf '%s\n' "$T_OUT" | tail -n 1)
size_mb=$(printf '%s' "$result" | grep -oE '"size_mb":[0-9.e-]+' | cut -d: -f2)
[[ $size_mb =~ ^[0-9]+(\.[0-9]{1,2})?$ ]] || t_fail "size_mb is not rounded to two decimals: $size_mb"
printf '%s\n' "$T_OUT" | grep '"event":"progress"' | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e.get("total") and e["done"] > e["total"]:
        sys.exit("progress past its total: %s" % line.strip())
' || t_fail "a progress event is past its total"
bundle=$(printf '%s' "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["file"])')
name=$(basename "$bundle")
logs=("$work"/logs/ferry-backup-*.log)
[ -f "${logs[0]}" ] || t_fail "no log file of the command-line backup in $work/logs"
t_assert_file_contains "${logs[0]}" "ferry $(cat "$FERRY_SRC/VERSION"): backup, profile prod, started " "log header"
t_assert_file_contains "${logs[0]}" "step_done  write: $bundle" "log: the write step"
t_assert_file_contains "${logs[0]}" "exit status 0" "log: the outcome"
t_assert_exit 0 "$FERRY_BIN" backup --no-log
t_assert_eq 1 "$(find "$work/logs" -name 'ferry-backup-*.log' | wc -l)" "--no-log writes none"
t_assert_not_contains "$T_ERR" "log: " "--no-log: no log line"
t_assert_exit 0 "$FERRY_BIN" backup
t_assert_eq "log: $(ls -t "$work"/logs/ferry-backup-*.log | head -n 1)" "$(printf '%s\n' "$T_ERR" | tail -n 1)" \
    "the log's path is the last line"
printf '%s\n' "$T_ERR" | grep -E '  write: ' | while read -r line; do
    # "write: 197.5 KiB of 197.5 KiB, ..." never more done than the total
    done_s=$(printf '%s' "$line" | sed -E 's/.*write: ([0-9.]+ [KMG]?i?B) of ([0-9.]+ [KMG]?i?B).*/\1/')
    total_s=$(printf '%s' "$line" | sed -E 's/.*write: ([0-9.]+ [KMG]?i?B) of ([0-9.]+ [KMG]?i?B).*/\2/')
    [ "$done_s" = "$total_s" ] || [ "$(printf '%s\n%s\n' "$done_s" "$total_s" | sort -h | tail -n 1)" = "$total_s" ] ||
        t_fail "write progress past its total: $line"
done
t_assert_contains "$T_OUT" "not verified yet: \`ferry verify " "the backup says what it checked"

t_log "bundles that are not there, or not whole"
t_assert_exit 2 "$FERRY_BIN" verify /srv/nope/x.ferry.tar.zst
t_assert_eq "ferry: bundle /srv/nope/x.ferry.tar.zst does not exist" "$(first_error)" "a missing path"
t_assert_contains "$T_ERR" "hint: check the path; \`ferry list\` shows the bundles in the backup dir" "its hint"
t_assert_exit 2 "$FERRY_BIN" verify nope.ferry.tar.zst
t_assert_eq "ferry: no bundle \"nope.ferry.tar.zst\" in $work/backups" "$(first_error)" "a name not in the backup dir"
head -c 20000 "$bundle" >"$work/cut.ferry.tar.zst"
t_assert_exit 4 "$FERRY_BIN" verify "$work/cut.ferry.tar.zst"
t_assert_eq "ferry: bundle $work/cut.ferry.tar.zst ends after 20000 bytes: the bundle is incomplete (Truncated zstd input)" \
    "$(first_error)" "a truncated bundle"
t_assert_contains "$T_ERR" "hint: was the copy interrupted? copy the bundle again" "its hint"
t_assert_eq 1 "$(printf '%s\n' "$T_ERR" | grep -c 'ends after 20000 bytes')" "said once"
t_assert_exit 4 "$FERRY_BIN" restore "$work/cut.ferry.tar.zst" --dry-run
t_assert_contains "$T_ERR" "ends after 20000 bytes: the bundle is incomplete" "restore says the same"

t_log "FERRY_PG_BIN that does not hold the tools: exit 9 naming it"
FERRY_PG_BIN=$work/nonexistent t_assert_exit 9 "$FERRY_BIN" backup --dry-run
t_assert_eq "ferry: FERRY_PG_BIN=$work/nonexistent does not exist" "$(first_error)" "a missing directory"
t_assert_contains "$T_ERR" "hint: set FERRY_PG_BIN to the bin directory of a PostgreSQL client" "its hint"
mkdir -p "$work/emptybin"
FERRY_PG_BIN=$work/emptybin t_assert_exit 9 "$FERRY_BIN" backup --dry-run
t_assert_eq "ferry: FERRY_PG_BIN=$work/emptybin has no pg_dump that runs ($work/emptybin/pg_dump)" "$(first_error)" \
    "a directory without pg_dump"
FERRY_PG_BIN=$work/profiles.json t_assert_exit 9 "$FERRY_BIN" backup --dry-run
t_assert_eq "ferry: FERRY_PG_BIN=$work/profiles.json is not a directory" "$(first_error)" "a file"

t_log "the database's password error, once"
DATABASE_URL="postgresql://ferry:wrong@127.0.0.1:$SOURCE_PORT/$db" t_assert_exit 3 env -u PGPASSFILE "$FERRY_BIN" backup
t_assert_eq 1 "$(printf '%s\n' "$T_ERR" | grep -c 'password authentication failed')" "printed once"
t_assert_contains "$T_ERR" "✖ check before anything runs" "the step that failed is still marked"

t_log "the gzip level's hint names the real default"
t_assert_exit 2 "$FERRY_BIN" backup --compress gzip --level 12 --dry-run
t_assert_eq "ferry: backup: --level 12 is out of range for gzip (1-9)" "$(first_error)" "gzip level range"
t_assert_contains "$T_ERR" "hint: zstd takes 1-19, gzip 1-9; 1 is the default for both (backup.level)" "the default"
