#!/usr/bin/env bash
# Cancelling a wizard's run leaves nothing behind. The wizards run in a
# real terminal (tmux) so that C-c is pressed at a known moment: a backup
# while its bundle is being written (the .part file exists), a restore while
# pg_restore fills the shadow database. The "Cancel?" dialog is answered
# yes; then no .part, no bundle, no staging directory; the live database is
# as it was, with no shadow and no previous copy.
. "$FERRY_SRC/tests/lib.sh"

command -v tmux >/dev/null || t_skip "tmux is not installed (make deps)"
work=$(t_tmpdir)
db=big_wiz_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "drop_dbs"
drop_dbs() {
    local d
    for d in $(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}%'"); do
        t_psql_source "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true
    done
}
# Big enough that writing its bundle and restoring it take a few seconds.
DB=$db t_psql_source "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS a, md5((g * 7)::text) AS b
    FROM generate_series(1, 2500000) g;
    ALTER TABLE big ADD PRIMARY KEY (id); CREATE INDEX big_a ON big (a); CREATE INDEX big_b ON big (b)" >/dev/null

cat >"$work/profiles.json" <<JSON
{
  "slow": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/backups", "level": 8},
    "log_dir": "$work/logs"
  },
  "fast": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/backups2", "level": 1},
    "log_dir": "$work/logs"
  }
}
JSON

TM=(tmux -L "ferrytest$$" -f /dev/null)
t_on_exit "${TM[*]} kill-server >/dev/null 2>&1 || true"

# start SCRIPT ARGS...: `ferry ARGS...` in an 80x24 tmux window, SCRIPT as
# the first keys (the keyboard takes over after it); its exit status goes
# to $work/rc.
start() {
    printf '%s\n' "$1" >"$work/keys"
    shift
    rm -f "$work/rc"
    "${TM[@]}" new-session -d -s wiz -x 80 -y 24 \
        "env LC_ALL=C.UTF-8 FERRY_PROFILES='$work/profiles.json' '$FERRY_BIN' $* --keys '$work/keys'; echo \$? >'$work/rc'"
}
screen() { "${TM[@]}" capture-pane -p -t wiz 2>/dev/null; }
screen_has() { screen | grep -qF -- "$1"; }
# wait_screen TEXT: until TEXT is on the screen (30 s).
wait_screen() {
    if ! t_wait_for 30 screen_has "$1"; then
        screen >&2 || true
        t_fail "'$1' did not show on the screen"
    fi
}
keys() { "${TM[@]}" send-keys -t wiz "$@"; }
# finish: Enter to the result page, Enter to quit; the exit status.
finish() {
    keys Enter
    wait_screen "Enter: quit."
    screen >"$work/final.txt"
    keys Enter
    t_wait_for 10 test -s "$work/rc" || t_fail "ferry did not quit"
    cat "$work/rc"
}
# cancel_now: C-c, the dialog, yes.
cancel_now() {
    keys C-c
    wait_screen "Cancel?"
    screen >"$work/dialog.txt"
    keys y
    wait_screen "Cancelled; partial files removed."
    screen >"$work/cancelled.txt"
}

t_log "a backup cancelled while its bundle is written"
start "Enter waitfor:\"write the bundle\" s" easy backup --profile slow
part_exists() { [ -n "$(find "$work/backups" -name '*.part' 2>/dev/null)" ]; }
t_wait_for 60 part_exists || { screen >&2; t_fail "the bundle was never being written"; }
cancel_now
t_assert_file_contains "$work/dialog.txt" "Stop Backing up now?" "cancel dialog"
t_assert_file_contains "$work/dialog.txt" "[ Cancel the run ]" "cancel button"
t_assert_file_contains "$work/dialog.txt" "[ Keep going ]" "keep-going button"
t_assert_file_contains "$work/cancelled.txt" "cancelling: stopping at the next safe point" "log line"
t_assert_eq 130 "$(finish)" "exit status of a cancelled wizard"
t_assert_file_contains "$work/final.txt" "Backup your instance: cancelled" "result headline"
[ -z "$(find "$work/backups" -name '*.part')" ] || t_fail "a .part file was left"
[ -z "$(find "$work/backups" -name '*.ferry.tar.zst')" ] || t_fail "a bundle was written"
t_assert_eq "" "$(ls -A "$work/backups")" "the backup directory is empty (no staging directory, no lock)"

t_log "a restore cancelled while pg_restore fills the shadow database"
t_assert_exit 0 "$FERRY_BIN" backup --profiles "$work/profiles.json" --profile fast
DB=$db t_psql_source "UPDATE big SET a = 'changed' WHERE id = 1"
# What a directory holds, but the .verified records verify leaves.
listing() { find "$1" -mindepth 1 -maxdepth 1 ! -name '*.verified' -printf '%f\n' | sort; }
before=$(listing "$work/backups2")
start "Enter Down Right Enter waitfor:\"swap the shadow\" s waitfor:Type text:$db Enter" easy restore --profile fast
restoring() { pgrep -f "pg_restore.*${db}_ferry_shadow" >/dev/null; }
t_wait_for 60 restoring || { screen >&2; t_fail "pg_restore did not start"; }
cancel_now
t_assert_file_contains "$work/dialog.txt" "Stop Restoring now?" "cancel dialog"
t_assert_eq 130 "$(finish)" "exit status of a cancelled wizard"
t_assert_file_contains "$work/final.txt" "Restore from a backup: cancelled" "result headline"
! restoring || t_fail "pg_restore still runs"
t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname <> '$db' AND datname LIKE '${db}%'")" "no shadow or previous database left"
t_assert_eq changed "$(DB=$db t_psql_source "SELECT a FROM big WHERE id = 1")" "the live row is as it was"
t_assert_eq 2500000 "$(DB=$db t_psql_source "SELECT count(*) FROM big")" "the live table is whole"
t_assert_eq "$before" "$(listing "$work/backups2")" "nothing new in the backup directory"
