#!/usr/bin/env bash
# core/host over ssh, the sftp storage driver and the push flow, against the
# test bed's sshd: the test program build/tests/test_ssh_live (C, linked
# with the core) runs its checks here, where the test bed is up; then the
# push flow's events and result are compared with `ferry push --json` for
# the same file and target (same steps, titles, log lines and result, the
# flow adding its preflight step).
. "$FERRY_SRC/tests/lib.sh"

# The test program of the build FERRY_BIN belongs to (build/, build/asan/).
live=$(dirname "$FERRY_BIN")/tests/test_ssh_live
[ -x "$live" ] || live=$FERRY_SRC/build/tests/test_ssh_live
[ -x "$live" ] || t_skip "no $live (make unit)"

d=$(t_tmpdir)
ssh_json="\"ssh\": {\"host\": \"$SSH_HOST\", \"port\": $SSH_PORT, \"user\": \"$SSH_USER\",
                    \"identity_file\": \"$SSH_KEY\", \"known_hosts\": \"$SSH_KNOWN_HOSTS\",
                    \"use_ssh_config\": false}"
cat >"$d/profiles.json" <<JSON
{"target": {"database": {"url": "postgresql://ferry@127.0.0.1:1/x"},
            "backup": {"dir": "$d/pushed"}, $ssh_json},
 "nossh": {"database": {"url": "postgresql://ferry@127.0.0.1:1/x"},
           "backup": {"dir": "$d/pushed"}}}
JSON

head -c 20M /dev/urandom >"$d/cmp.ferry.tar.zst"

# The command (it runs the same flow).
t_assert_exit 0 "$FERRY_BIN" push "$d/cmp.ferry.tar.zst" --target target --profiles "$d/profiles.json" --json
cli=$T_OUT
rm -f "$d/pushed/cmp.ferry.tar.zst"

t_assert_exit 0 env FERRY_TEST_SSH_LIVE_DIR="$d" FERRY_TEST_SSH_LIVE_PROFILES="$d/profiles.json" \
    FERRY_TEST_SSH_LIVE_BUNDLE="$d/cmp.ferry.tar.zst" "$live"
t_log "$(grep -c '^\[       OK \]' <<<"$T_OUT") checks passed"
t_assert_not_contains "$T_OUT" "SKIPPED" "no test skipped with the test bed up"
[ -f "$d/pushed/cmp.ferry.tar.zst" ] || t_fail "the flow did not push the file"
cmp -s "$d/cmp.ferry.tar.zst" "$d/pushed/cmp.ferry.tar.zst" || t_fail "the flow's copy differs"

# Same events and result: timings and the progress throttling aside.
normalize() {
    grep -v '"event":"progress"' |
        sed -E 's/"text":"verified, [0-9]+ MB\/s"/"text":"verified, N MB\/s"/;
                s/,"seconds":[^,]*,"mb_per_s":[^}]*//'
}
flow=$(grep -v '"step":"preflight"' "$d/flow-push.jsonl" | normalize)
want=$(grep -v '"step":"preflight"' <<<"$cli" | normalize)
t_assert_eq "$want" "$flow" "push flow events and result = ferry push --json"
t_assert_contains "$(cat "$d/flow-push.jsonl")" '"event":"progress","step":"upload","done":20971520,"total":20971520' "flow progress"
t_assert_contains "$(cat "$d/flow-push.jsonl")" '"event":"step_start","step":"preflight"' "flow preflight"
t_assert_contains "$flow" '"event":"step_start","step":"upload","text":"copy '"$d/cmp.ferry.tar.zst"' to ' "compared: the upload's title"
t_assert_contains "$flow" '"event":"step_done","step":"connect"' "compared: connect"
t_assert_contains "$flow" '"status":"ok"' "compared: the result"
