#!/usr/bin/env bash
# Helper mode on a real terminal (tmux): `ferry` alone paints the menu,
# the keyboard moves and opens a wizard, a window resize redraws at the new
# size, q, Esc and C-c quit at once and give the terminal back, colours are
# used unless NO_COLOR is set.
. "$FERRY_SRC/tests/lib.sh"

command -v tmux >/dev/null || t_skip "tmux is not installed (make deps)"
work=$(t_tmpdir)
cat >"$work/profiles.json" <<JSON
{"demo": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/postgres"},
          "backup": {"dir": "$work/backups"}}}
JSON

TM=(tmux -L "ferrytest$$" -f /dev/null)
t_on_exit "${TM[*]} kill-server >/dev/null 2>&1 || true"

# start [ENV=VALUE...]: `ferry` with no arguments in an 80x24 window; the
# shell around it prints EXIT=<status> when it ends and stays.
start() {
    "${TM[@]}" kill-session -t term >/dev/null 2>&1 || true
    "${TM[@]}" new-session -d -s term -x 80 -y 24 \
        "env LC_ALL=C.UTF-8 FERRY_PROFILES='$work/profiles.json' $* '$FERRY_BIN'; echo EXIT=\$?; sleep 600"
}
screen() { "${TM[@]}" capture-pane -p -t term 2>/dev/null; }
screen_has() { screen | grep -qF -- "$1"; }
screen_lacks() { ! screen_has "$1"; }
# wait_screen SECS TEXT: until TEXT is on the screen.
wait_screen() {
    if ! t_wait_for "$1" screen_has "$2"; then
        screen >&2 || true
        t_fail "'$2' did not show on the screen within $1 s"
    fi
}
keys() { "${TM[@]}" send-keys -t term "$@"; }

t_log "ferry alone on a terminal paints the menu"
start
wait_screen 10 "What would you like to do?"
screen >"$work/menu.txt"
for entry in "1) Backup your instance" "7) Quit"; do
    t_assert_file_contains "$work/menu.txt" "$entry" "menu entry"
done
t_assert_file_contains "$work/menu.txt" "q Quit" "key-help line"
t_assert_eq 24 "$(grep -n 'q Quit' "$work/menu.txt" | cut -d: -f1)" "key-help line on the last row"
"${TM[@]}" capture-pane -p -e -t term >"$work/menu.esc"
grep -qE $'\e\\[([0-9;]*;)?3[0-7](;[0-9;]*)?m' "$work/menu.esc" || t_fail "no colours without NO_COLOR"

t_log "the keyboard moves and opens a wizard; Esc comes back"
keys Down Down
wait_screen 5 "▸ 3) Migrate to a new server"
keys Enter
wait_screen 5 "Moving to a new server"
keys Escape
wait_screen 5 "What would you like to do?"

t_log "a resize redraws at the new size"
"${TM[@]}" resize-window -t term -x 100 -y 30
wide() { [ "$(screen | head -n 1 | sed 's/ *$//' | wc -L)" -gt 90 ]; }
t_wait_for 5 wide || { screen >&2; t_fail "the title bar was not redrawn across 100 columns"; }
t_assert_eq 30 "$(screen | grep -n 'q Quit' | cut -d: -f1)" "key-help line on the last of 30 rows"
"${TM[@]}" resize-window -t term -x 80 -y 24

t_log "q quits at once and gives the terminal back"
keys q
t_wait_for 2 screen_has "EXIT=0" || { screen >&2; t_fail "q did not quit within 2 s"; }
screen >"$work/after.txt"
t_assert_file_not_contains "$work/after.txt" "What would you like to do?" "the menu is gone from the terminal"

t_log "Esc and C-c on the menu ask \"Leave ferry? y/n\" first: n stays, y leaves"
start
wait_screen 10 "What would you like to do?"
keys Escape
wait_screen 10 "Leave ferry? y/n"
keys n
t_wait_for 10 screen_lacks "Leave ferry?" || { screen >&2; t_fail "n did not close the question"; }
screen_has "EXIT=" && t_fail "n left ferry"
keys Escape
wait_screen 10 "Leave ferry? y/n"
keys y
t_wait_for 10 screen_has "EXIT=0" || { screen >&2; t_fail "y after Esc did not leave"; }
start
wait_screen 10 "What would you like to do?"
keys C-c
wait_screen 10 "Leave ferry? y/n"
keys y
t_wait_for 10 screen_has "EXIT=0" || { screen >&2; t_fail "y after C-c did not leave"; }

t_log "NO_COLOR=1: no colours, the same screen"
start NO_COLOR=1
wait_screen 10 "What would you like to do?"
screen >"$work/menu-nc.txt"
diff "$work/menu.txt" "$work/menu-nc.txt" || t_fail "the screen differs under NO_COLOR"
"${TM[@]}" capture-pane -p -e -t term >"$work/menu-nc.esc"
if grep -qE $'\e\\[([0-9;]*;)?[34][0-7](;[0-9;]*)?m' "$work/menu-nc.esc"; then
    t_fail "colours under NO_COLOR=1"
fi
grep -q $'\e\\[' "$work/menu-nc.esc" || t_fail "no attributes at all (the selection must still show)"
keys q
t_wait_for 2 screen_has "EXIT=0" || t_fail "q did not quit under NO_COLOR"
