#!/usr/bin/env bash
# The command table: every command's help comes from it (`ferry help CMD`
# and `CMD --help` alike), a range error and "did you mean" from the one
# parser, `version --json`, `deploy --dry-run --json` (the plan as JSON),
# the manual page (groff -ww finds nothing to warn about) and the bash and
# zsh completion scripts printed from the same table.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)

t_log "ferry --help lists every command, easy with its wizards"
t_assert_exit 0 "$FERRY_BIN" --help
help=$T_OUT
commands=$(printf '%s\n' "$help" | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && /^  [a-z]/ {print $1}')
[ "$(wc -l <<<"$commands")" -ge 20 ] || t_fail "ferry --help lists too few commands: $commands"
for c in backup restore migrate deploy status drill notify easy completion help version; do
    grep -qx "$c" <<<"$commands" || t_fail "ferry --help does not list $c"
done
t_assert_contains "$help" "ferry easy [backup|restore|migrate|deploy|status|drill|init]" "the wizards"

t_log "each command's help comes from the table"
for c in $commands; do
    t_assert_exit 0 "$FERRY_BIN" help "$c"
    first=${T_OUT%%$'\n'*}
    case $first in "usage: ferry $c"*) ;; *) t_fail "help $c starts with \"$first\"" ;; esac
    t_assert_contains "$T_OUT" "options:" "help $c has an options list"
    t_assert_contains "$T_OUT" "--help" "help $c lists --help"
    usage=$T_OUT
    t_assert_exit 0 "$FERRY_BIN" "$c" --help
    t_assert_eq "$usage" "$T_OUT" "ferry $c --help is ferry help $c"
done
t_assert_exit 0 "$FERRY_BIN" help backup
t_assert_contains "$T_OUT" "--jobs N" "backup lists --jobs"
t_assert_contains "$T_OUT" "(1-64)" "the range from the table"
t_assert_contains "$T_OUT" "--dry-run" "backup supports --dry-run"
t_assert_exit 0 "$FERRY_BIN" help restore
t_assert_contains "$T_OUT" "(1-64)" "restore shares --jobs"
t_assert_exit 0 "$FERRY_BIN" help rollback
t_assert_contains "$T_OUT" "--dry-run" "rollback has a plan too"
t_assert_exit 0 "$FERRY_BIN" help schedule
t_assert_not_contains "$T_OUT" "--dry-run" "schedule has no --dry-run"

t_log "range errors, unknown options, missing values"
t_assert_exit 2 "$FERRY_BIN" backup --jobs 0
t_assert_contains "$T_ERR" 'backup: --jobs expects 1-64, got "0"' "range error"
t_assert_exit 2 "$FERRY_BIN" restore --jobs 65
t_assert_contains "$T_ERR" 'restore: --jobs expects 1-64, got "65"' "the same range for restore"
t_assert_exit 2 "$FERRY_BIN" backup --level x
t_assert_contains "$T_ERR" 'backup: --level expects 1-19, got "x"' "not a number"
t_assert_exit 2 "$FERRY_BIN" backup --dryrun
t_assert_contains "$T_ERR" 'unknown option "--dryrun"' "unknown option"
t_assert_contains "$T_ERR" "did you mean --dry-run?" "did-you-mean"
t_assert_exit 2 "$FERRY_BIN" backup --out
t_assert_contains "$T_ERR" "backup: --out needs a value (DIR)" "missing value"
t_assert_exit 2 "$FERRY_BIN" backup --type hourly
t_assert_contains "$T_ERR" 'backup: --type "hourly" is not one of manual' "choices"
t_assert_exit 2 "$FERRY_BIN" db frobnicate
t_assert_contains "$T_ERR" 'db: no action "frobnicate"' "a word that is not one of the choices"

t_log "version --json"
t_assert_exit 0 "$FERRY_BIN" version --json
printf '%s' "$T_OUT" | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["version"] == sys.argv[1], d' \
    "$(cat "$FERRY_SRC/VERSION")" || t_fail "version --json: $T_OUT"

t_log "deploy --dry-run --json: the plan as JSON"
cat >"$work/profiles.json" <<JSON
{"web": {
  "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/postgres"},
  "backup": {"dir": "$work/backups"},
  "log_dir": "$work/logs",
  "services": {"orchestrator": "custom", "restart": ["true"]},
  "health": [{"name": "web", "url": "http://127.0.0.1:9/health"}]
},
"other": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/postgres"},
  "backup": {"dir": "$work/backups"}}}
JSON
t_assert_exit 0 "$FERRY_BIN" deploy --env web --dry-run --json --profiles "$work/profiles.json"
printf '%s' "$T_OUT" | python3 -c '
import json, sys
plan = json.load(sys.stdin)
ids = [s["id"] for s in plan["steps"]]
assert plan["plan"] and ids, plan
assert any("restart" in i for i in ids), ids
' || t_fail "deploy --dry-run --json is not the plan as JSON: $T_OUT"
t_assert_not_contains "$T_OUT" "dry run:" "no text with --json"
[ ! -e "$work/backups" ] || t_fail "the dry run made a backup"
[ ! -e "$work/logs" ] || t_fail "the dry run wrote a log"
t_assert_exit 0 "$FERRY_BIN" deploy --env web --dry-run --profiles "$work/profiles.json"
t_assert_contains "$T_OUT" "dry run: nothing was changed" "the text plan"

t_log "the manual page renders without a warning"
t_assert_exit 0 "$FERRY_BIN" help --man
printf '%s\n' "$T_OUT" >"$work/ferry.1"
t_assert_contains "$(head -n 3 "$work/ferry.1")" ".TH FERRY 1" "roff"
for c in $commands; do
    t_assert_file_contains "$work/ferry.1" ".SS \"ferry $c\"" "a section for $c"
done
groff -ww -man -Tutf8 -z "$work/ferry.1" 2>"$work/groff.err" || t_fail "groff failed: $(cat "$work/groff.err")"
[ ! -s "$work/groff.err" ] || t_fail "groff -ww warns: $(cat "$work/groff.err")"
groff -man -Tutf8 "$work/ferry.1" 2>/dev/null | sed 's/.\x08//g' >"$work/ferry.txt"
t_assert_file_contains "$work/ferry.txt" "--jobs N" "rendered options"
t_assert_file_contains "$work/ferry.txt" "EXIT STATUS" "exit status section"

t_log "bash completion: commands, flags, values, profile names"
t_assert_exit 0 "$FERRY_BIN" completion bash
printf '%s\n' "$T_OUT" >"$work/ferry.bash"
bash -n "$work/ferry.bash" || t_fail "the bash script does not parse"
complete_words() { # WORD... : what _ferry offers for the last word
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ferry; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$work/ferry.bash" "$@"
}
got=$(complete_words "$FERRY_BIN" ea)
t_assert_eq "easy" "$got" "a command"
got=$(complete_words "$FERRY_BIN" backup --dr)
t_assert_eq "--dry-run" "$got" "a command's flag"
got=$(complete_words "$FERRY_BIN" backup --j)
t_assert_eq "--jobs --json" "$(echo $got)" "flags of backup"
got=$(complete_words "$FERRY_BIN" schedule --d)
t_assert_eq "" "$got" "schedule has no --dry-run"
got=$(complete_words "$FERRY_BIN" backup --format "")
t_assert_eq "directory custom" "$(echo $got)" "an option's choices"
got=$(complete_words "$FERRY_BIN" easy "")
t_assert_eq "backup restore migrate deploy status drill init" "$(echo $got)" "the wizards"
got=$(complete_words "$FERRY_BIN" migrate --profiles "$work/profiles.json" --target "")
t_assert_eq "web other" "$(echo $got)" "profile names from the profiles file"
got=$(complete_words "$FERRY_BIN" drill --profiles "$work/profiles.json" --server "")
t_assert_eq "web other" "$(echo $got)" "drill --server completes profile names"
got=$(complete_words "$FERRY_BIN" help ver)
t_assert_eq "verify version" "$(echo $got)" "help completes commands"
t_assert_exit 0 "$FERRY_BIN" completion profiles --profiles "$work/profiles.json"
t_assert_eq "web
other" "$T_OUT" "completion profiles"

t_log "bash completion: bundle names from the profile's backup dir"
mkdir -p "$work/backups"
: >"$work/backups/web_20261121_020000_daily_0042.ferry.tar.zst"
: >"$work/backups/web_20261122_020000_daily_0042.ferry.tar.zst"
: >"$work/backups/other_20261122_030000_manual_0042.ferry.tar.zst"
t_assert_exit 0 "$FERRY_BIN" completion bundles --profiles "$work/profiles.json" --profile web
t_assert_eq "web_20261122_020000_daily_0042.ferry.tar.zst
web_20261121_020000_daily_0042.ferry.tar.zst" "$T_OUT" "completion bundles: the profile's, newest first"
got=$(cd "$work" && complete_words "$FERRY_BIN" verify --profiles "$work/profiles.json" --profile web web_2026112)
t_assert_eq "web_20261122_020000_daily_0042.ferry.tar.zst web_20261121_020000_daily_0042.ferry.tar.zst" \
    "$(echo $got)" "verify completes bundle names"
t_assert_exit 0 "$FERRY_BIN" list --names --profiles "$work/profiles.json" --profile web
t_assert_eq "web_20261122_020000_daily_0042.ferry.tar.zst
web_20261121_020000_daily_0042.ferry.tar.zst" "$T_OUT" "list --names: the same, for scripts"
got=$(complete_words "$FERRY_BIN" ini)
t_assert_eq "init" "$got" "init is a command"
got=$(complete_words "$FERRY_BIN" init --backup)
t_assert_eq "--backup-dir" "$got" "init's flags"

t_log "zsh completion"
t_assert_exit 0 "$FERRY_BIN" completion zsh
printf '%s\n' "$T_OUT" >"$work/_ferry"
t_assert_contains "$(head -n 1 "$work/_ferry")" "#compdef ferry" "compdef line"
t_assert_file_contains "$work/_ferry" "'--jobs=[parallel jobs" "a flag with its help"
t_assert_file_contains "$work/_ferry" ":WIZARD:(backup restore migrate deploy status drill init)'" "the wizards"
zsh -n "$work/_ferry" || t_fail "the zsh script does not parse"
