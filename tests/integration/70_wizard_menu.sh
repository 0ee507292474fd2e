#!/usr/bin/env bash
# Helper mode, driven by key scripts with the screen drawn off-screen: the
# menu and its seven entries, `ferry easy NAME` opening one wizard directly,
# a bad wizard name, Back keeping the answers given, a validation error
# that blocks Next, help, and redrawing after a resize (80x24 fits).
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
mkdir -p "$work/app/uploads"
echo hello >"$work/app/uploads/a.txt"
: >"$work/afile"
cat >"$work/profiles.json" <<JSON
{
  "demo": {
    "description": "the shop",
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/postgres"},
    "app": {"root": "$work/app", "paths": ["uploads"]},
    "backup": {"dir": "$work/backups"}
  },
  "dbonly": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/postgres"},
    "backup": {"dir": "$work/backups2"}
  }
}
JSON
export FERRY_PROFILES=$work/profiles.json
unset FERRY_PROFILE



# fits FILE COLS ROWS: the dump has ROWS lines, none wider than COLS.
fits() {
    t_assert_eq "$3" "$(wc -l <"$1")" "rows of $1"
    local wide
    wide=$(wc -L <"$1")
    [ "$wide" -le "$2" ] || t_fail "$1 is $wide columns wide, more than $2"
}

t_log "the menu: seven entries, the profiles found, the keys"
t_wiz "dump:$work/menu.txt"
t_assert_eq 0 "$T_RC" "exit status of the menu at the script's end"
for entry in "1) Backup your instance" "2) Restore from a backup" "3) Migrate to a new server" \
    "4) Deploy or restart services" "5) Check system status" "6) Test a backup (drill)" "7) Quit"; do
    t_assert_file_contains "$work/menu.txt" "$entry" "menu entry"
done
t_assert_file_contains "$work/menu.txt" "What would you like to do?" "menu question"
t_assert_file_contains "$work/menu.txt" "(demo, dbonly)" "profiles under the menu"
t_assert_file_contains "$work/menu.txt" "q Quit" "key-help line"
t_assert_file_contains "$work/menu.txt" "▸ 1) Backup your instance" "first entry selected"
fits "$work/menu.txt" 80 24

t_log "under an ASCII locale the marks are ASCII"
printf 'dump:%s\n' "$work/menu-ascii.txt" >"$work/keys"
t_run env LC_ALL=C COLUMNS=80 LINES=24 FERRY_KEYS="$work/keys" "$FERRY_BIN"
t_assert_file_contains "$work/menu-ascii.txt" "> 1) Backup your instance" "ASCII pointer"
t_assert_file_contains "$work/menu-ascii.txt" "ferry $(cat "$FERRY_SRC/VERSION") - helper mode" "ASCII dash"
if LC_ALL=C grep -q '[^ -~]' "$work/menu-ascii.txt"; then t_fail "non-ASCII on the screen under LC_ALL=C"; fi

t_log "moving, help, and quitting the menu"
t_wiz "Down Down dump:$work/m3.txt F1 dump:$work/help.txt Esc dump:$work/m3b.txt q wait:5000 dump:$work/never.txt"
t_assert_eq 0 "$T_RC" "exit status after q"
t_assert_file_contains "$work/m3.txt" "▸ 3) Migrate to a new server" "Down moves the selection"
t_assert_file_contains "$work/m3.txt" "copy to the new server over SSH" "the entry's description"
t_assert_file_contains "$work/help.txt" "Helper mode" "help title"
t_assert_file_contains "$work/help.txt" "1-7          Pick" "help lists the keys"
t_assert_file_not_contains "$work/m3b.txt" "Helper mode" "Esc closes the help"
[ ! -e "$work/never.txt" ] || t_fail "q did not quit the menu"
t_log "Esc and C-c on the menu ask before leaving; n stays, y leaves"
t_wiz "Esc dump:$work/ask1.txt n dump:$work/stay.txt C-c dump:$work/ask2.txt y wait:5000 dump:$work/never.txt"
t_assert_eq 0 "$T_RC" "exit status after leaving"
t_assert_file_contains "$work/ask1.txt" "Leave ferry? y/n" "Esc asks"
t_assert_file_contains "$work/ask1.txt" "[ Leave ]   [ Stay ]" "the answers"
t_assert_file_not_contains "$work/stay.txt" "Leave ferry?" "n closes the question"
t_assert_file_contains "$work/stay.txt" "What would you like to do?" "n stays on the menu"
t_assert_file_contains "$work/ask2.txt" "Leave ferry? y/n" "C-c asks"
[ ! -e "$work/never.txt" ] || t_fail "y did not leave"
t_wiz "F1 dump:$work/help2.txt"
t_assert_file_contains "$work/help2.txt" "leaves ferry; Esc and C-c ask first." "the help says so"
t_assert_file_contains "$work/help2.txt" "Esc          asks whether to leave ferry" "the help's keys say so"
t_wiz "7 wait:5000 dump:$work/never.txt" easy
t_assert_eq 0 "$T_RC" "exit status after 7) Quit"
[ ! -e "$work/never.txt" ] || t_fail "7 did not quit"

t_log "every entry opens its wizard; Esc on its first page returns to the menu"
t_wiz "1 dump:$work/w1.txt Esc 2 dump:$work/w2.txt Esc 3 dump:$work/w3.txt Esc 4 dump:$work/w4.txt Esc 5 dump:$work/w5.txt Esc 6 dump:$work/w6.txt Esc dump:$work/back.txt"
t_assert_file_contains "$work/w1.txt" "ferry — Backup your instance" "entry 1"
t_assert_file_contains "$work/w1.txt" "Which profile do you want to back up?" "entry 1 asks the profile"
t_assert_file_contains "$work/w2.txt" "ferry — Restore from a backup" "entry 2"
t_assert_file_contains "$work/w3.txt" "ferry — Migrate to a new server" "entry 3"
t_assert_file_contains "$work/w3.txt" "Moving to a new server" "entry 3 explains first"
t_assert_file_contains "$work/w4.txt" "ferry — Deploy or restart services" "entry 4"
t_assert_file_contains "$work/w5.txt" "ferry — Check system status" "entry 5"
t_assert_file_contains "$work/w6.txt" "ferry — Test a backup (drill)" "entry 6"
t_assert_file_contains "$work/w6.txt" "Which profile's backups do you want to test?" "entry 6 asks the profile"
t_assert_file_contains "$work/back.txt" "What would you like to do?" "back at the menu"

t_log "ferry easy backup opens the backup wizard directly; leaving it exits 10"
printf 'dump:%s Esc wait:5000 dump:%s\n' "$work/direct.txt" "$work/never.txt" >"$work/direct.keys"
t_run env LC_ALL=C.UTF-8 COLUMNS=80 LINES=24 "$FERRY_BIN" easy backup --keys "$work/direct.keys"
t_assert_eq 10 "$T_RC" "exit status when the wizard is left before anything ran"
t_assert_file_contains "$work/direct.txt" "ferry — Backup your instance" "direct wizard"
t_assert_file_contains "$work/direct.txt" "page 1 of 3" "page count"
t_assert_file_not_contains "$work/direct.txt" "What would you like to do?" "no menu"
[ ! -e "$work/never.txt" ] || t_fail "Esc on the first page did not leave the direct wizard"
t_run env LC_ALL=C.UTF-8 COLUMNS=80 LINES=24 "$FERRY_BIN" easy backup --profile demo --keys "$work/direct.keys"
t_assert_file_contains "$work/direct.txt" "What goes into the bundle, and where?" "--profile skips the question"
t_assert_file_contains "$work/direct.txt" "page 1 of 2" "page count without the profile question"

t_log "a bad wizard name, a stray argument, no terminal: exit 2 with a clear message"
t_assert_exit 2 "$FERRY_BIN" easy nosuch
t_assert_contains "$T_ERR" 'no wizard "nosuch"' "bad name"
t_assert_contains "$T_ERR" "backup, restore, migrate, deploy, status, drill" "the names listed"
t_assert_exit 2 "$FERRY_BIN" easy backup extra
t_assert_contains "$T_ERR" 'unexpected argument "extra"' "stray argument"
t_assert_exit 2 "$FERRY_BIN" easy backup
t_assert_contains "$T_ERR" "needs a terminal" "no terminal, no key script"
echo "Enter bogus:token" >"$work/bad.keys"
t_assert_exit 2 "$FERRY_BIN" easy --keys "$work/bad.keys"
t_assert_contains "$T_ERR" "bad.keys:1" "a bad key script names file and line"

t_log "Back keeps the answers: an option changed, a text typed, a profile picked"
t_wiz "1 Enter dump:$work/opt0.txt Tab C-u text:$work/elsewhere Tab Left dump:$work/opt1.txt Enter waitfor:\"write the bundle\" dump:$work/sum.txt Esc dump:$work/opt2.txt Esc dump:$work/prof.txt Enter dump:$work/opt3.txt"
t_wrapped_has "$work/opt0.txt" "Profile demo: database postgres; app files uploads under $work/app." "the profile's content"
t_assert_file_contains "$work/opt0.txt" "◂ database and app files ▸" "default for a profile with app files"
t_assert_file_contains "$work/opt1.txt" "◂ app files only ▸" "Left changed the option"
t_assert_file_contains "$work/opt1.txt" "About to back up profile demo (app files only) into" "the line about what will happen"
t_assert_file_contains "$work/opt1.txt" "$work/elsewhere" "typed directory"
t_wrapped_has "$work/opt1.txt" "About to back up profile demo (app files only) into $work/elsewhere" \
    "the line about what will happen wraps, whole"
if head -n 3 "$work/opt1.txt" | grep -q '…'; then t_fail "the line about what will happen is cut"; fi
t_assert_file_contains "$work/sum.txt" "Summary: this is what will happen" "Next reached the summary"
t_assert_file_contains "$work/sum.txt" "page 3 of 3" "summary page number"
t_wrapped_has "$work/sum.txt" "$work/elsewhere/demo_" "the plan writes to the typed directory"
t_assert_file_not_contains "$work/sum.txt" "pg_dump" "app files only: no database dump planned"
t_assert_file_contains "$work/opt2.txt" "◂ app files only ▸" "option kept after Back"
t_assert_file_contains "$work/opt2.txt" "$work/elsewhere" "text kept after Back"
t_assert_file_contains "$work/opt2.txt" "page 2 of 3" "Back from the summary"
t_assert_file_contains "$work/prof.txt" "▸ demo" "the profile picked is still picked"
t_assert_file_contains "$work/opt3.txt" "◂ app files only ▸" "option kept after going back two pages"
t_assert_file_contains "$work/opt3.txt" "$work/elsewhere" "text kept after going back two pages"
t_log "picking another profile fills the page for it"
t_wiz "1 Enter Left Esc Down Enter dump:$work/opt4.txt"
t_assert_file_contains "$work/opt4.txt" "Profile dbonly: database postgres (no app files" "the other profile"
t_assert_file_contains "$work/opt4.txt" "◂ database only ▸" "filled for the other profile"
t_assert_file_contains "$work/opt4.txt" "About to back up profile dbonly (database postgres) into" "the line about what will happen"
t_assert_file_contains "$work/opt4.txt" "$work/backups2" "its backup directory"
[ ! -e "$work/elsewhere" ] || t_fail "the summary created the directory"
[ ! -e "$work/backups" ] || t_fail "nothing ran, yet the backup directory exists"

t_log "a validation error shows its reason and blocks Next"
t_wiz "1 Enter Tab C-u text:$work/afile dump:$work/v1.txt Enter dump:$work/v2.txt C-u text:relative/dir Enter dump:$work/v3.txt C-u text:$work/new/sub Enter waitfor:\"write the bundle\" dump:$work/v4.txt"
t_wrapped_has "$work/v1.txt" "Bundle directory: $work/afile is a file, not a directory" "reason shown while typing"
t_wrapped_has "$work/v2.txt" "Bundle directory: $work/afile is a file, not a directory" "reason shown on Next"
t_assert_file_contains "$work/v2.txt" "page 2 of 3" "Next blocked by a file"
t_assert_file_contains "$work/v2.txt" "What goes into the bundle, and where?" "still the options page"
t_assert_file_contains "$work/v3.txt" '"relative/dir" is not an absolute path' "relative path refused"
t_assert_file_contains "$work/v3.txt" "page 2 of 3" "Next blocked by a relative path"
t_assert_file_contains "$work/v4.txt" "page 3 of 3" "a new directory under a writable one is fine"
t_assert_file_not_contains "$work/v4.txt" "Bundle directory:" "no error left on the summary"
t_wiz "1 Down Enter Right dump:$work/v5.txt Enter dump:$work/v6.txt"
t_assert_file_contains "$work/v6.txt" "profile dbonly has no app files" "include must fit the profile"
t_assert_file_contains "$work/v6.txt" "page 2 of 3" "Next blocked by the include choice"

t_log "a resize redraws the screen at the new size; too small says so"
t_wiz "1 Enter dump:$work/r80.txt resize:100x30 dump:$work/r100.txt resize:30x8 dump:$work/rsmall.txt resize:80x24 dump:$work/rback.txt Esc Esc resize:120x40 dump:$work/rmenu.txt"
fits "$work/r80.txt" 80 24
fits "$work/r100.txt" 100 30
title80=$(head -n 1 "$work/r80.txt")
title100=$(head -n 1 "$work/r100.txt")
t_assert_eq 79 "${#title80}" "title bar width at 80 columns"
t_assert_eq 99 "${#title100}" "title bar width at 100 columns"
t_assert_eq 30 "$(grep -n 'Enter Next' "$work/r100.txt" | cut -d: -f1)" "key-help line on the last row"
fits "$work/rsmall.txt" 30 8
t_wrapped_has "$work/rsmall.txt" "ferry needs at least 40x10 (now 30x8)" "too small"
cmp "$work/r80.txt" "$work/rback.txt" || t_fail "back at 80x24 the screen differs"
fits "$work/rmenu.txt" 120 40
t_assert_file_contains "$work/rmenu.txt" "7) Quit" "the menu at 120x40"
