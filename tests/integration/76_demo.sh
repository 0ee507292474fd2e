#!/usr/bin/env bash
# make demo's sandbox (tests/demo.sh, a test bed of its own) driven by a
# key script: it says how to use the sandbox from another shell, a backup
# made in it is kept when ferry is left (and it says where), and its
# servers are gone afterwards.
. "$FERRY_SRC/tests/lib.sh"

printf '%s\n' '1 Enter Enter waitfor:"write the bundle" s waitfor:Finished Enter Enter waitfor:"What would you like" q' \
    >"$T_TMPROOT/demo.keys"
t_run env LC_ALL=C.UTF-8 COLUMNS=80 LINES=24 FERRY_KEYS="$T_TMPROOT/demo.keys" TMPDIR="$T_TMPROOT" \
    bash "$FERRY_SRC/tests/demo.sh" "$FERRY_BIN"
printf '%s\n%s\n' "$T_OUT" "$T_ERR" >&2
dir=$(printf '%s\n' "$T_OUT" | sed -n 's|^sandbox ready: profiles in \(.*\)/profiles.json (demo, new-server)$|\1|p')
[ -n "$dir" ] || t_fail "the demo did not say where its sandbox is"
t_on_exit "rm -rf '$dir'"
t_assert_eq 0 "$T_RC" "exit status of the demo"

t_log "from another shell: the exact export line"
t_assert_contains "$T_OUT" "  export FERRY_PROFILES=$dir/profiles.json PGPASSFILE=$dir/bed/pgpass" "the export line"

t_log "leaving: the servers go, the bundle stays, and it says so"
t_assert_contains "$T_OUT" "sandbox stopped: its PostgreSQL servers and sshd are gone." "what stopped"
t_assert_contains "$T_OUT" "kept: 1 bundle(s) in $dir/backups" "what is kept"
t_assert_contains "$T_OUT" "remove them with: rm -rf $dir" "how to remove it"
ls "$dir"/backups/demo_*_manual_*.ferry.tar.zst >/dev/null || t_fail "the bundle made in the sandbox is gone"
[ ! -e "$dir/bed" ] || t_fail "the sandbox's servers' directory is still there"
if pgrep -f "$dir/bed" >/dev/null; then t_fail "a sandbox server still runs"; fi
