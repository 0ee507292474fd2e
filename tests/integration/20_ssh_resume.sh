#!/usr/bin/env bash
# `ferry push` resumes: a push killed mid-way (SIGKILL, no chance to clean
# up) leaves BUNDLE.part; the next push checks its prefix (hash on both
# sides), continues after it (resumed_from > 0) and ends byte-identical. A
# corrupted or oversized .part makes it start over, still ending correct.
. "$FERRY_SRC/tests/lib.sh"

d=$(t_tmpdir)
rdir=$d/remote
cat >"$d/profiles.json" <<JSON
{"target": {"database": {"url": "postgresql://ferry@127.0.0.1:1/x"},
            "backup": {"dir": "$rdir"},
            "ssh": {"host": "$SSH_HOST", "port": $SSH_PORT, "user": "$SSH_USER",
                    "identity_file": "$SSH_KEY", "known_hosts": "$SSH_KNOWN_HOSTS",
                    "use_ssh_config": false}}}
JSON
P=(--target target --profiles "$d/profiles.json" --json)
f=$d/bundle.ferry
head -c 50M /dev/urandom >"$f"
want=$(sha256sum "$f" | cut -d' ' -f1)

json_num() { # KEY JSON -> the number after "KEY":
    sed -n "s/.*\"$1\":\\([0-9]*\\).*/\\1/p" <<<"$2"
}
remote_sha() {
    t_ssh "sha256sum '$rdir/bundle.ferry'" | cut -d' ' -f1
}
# The server side notices a killed client's connection a moment later; wait
# until the .part stops growing.
settle() { # FILE
    local a b
    b=$(stat -c %s "$1")
    for _ in $(seq 1 50); do
        sleep 0.2
        a=$b
        b=$(stat -c %s "$1")
        [ "$a" = "$b" ] && return 0
    done
    t_fail "$1 keeps growing"
}
check_done() { # WHAT: final file right, no .part
    t_assert_eq "$want" "$(remote_sha)" "$1: remote sha256"
    [ ! -e "$rdir/bundle.ferry.part" ] || t_fail "$1: a .part was left"
}

# ---- killed by SIGKILL after 20 MB (the process kills itself: exact) -------
t_run env FERRY_FAULT_KILL_AFTER_BYTES=20000000 "$FERRY_FAULTS_BIN" push "$f" "${P[@]}"
t_assert_eq 137 "$T_RC" "push killed by SIGKILL"
[ ! -e "$rdir/bundle.ferry" ] || t_fail "a killed push left a final file"
t_wait_for 5 test -s "$rdir/bundle.ferry.part" || t_fail "no .part after the kill"
settle "$rdir/bundle.ferry.part"
part=$(stat -c %s "$rdir/bundle.ferry.part")
[ "$part" -gt 0 ] && [ "$part" -lt 52428800 ] || t_fail ".part has $part bytes"
t_log "killed with $part bytes in the .part"

t_assert_exit 0 "$FERRY_BIN" push "$f" "${P[@]}"
result=$(tail -n 1 <<<"$T_OUT")
t_assert_contains "$result" '"status":"ok"' "resumed push"
t_assert_eq "$part" "$(json_num resumed_from "$result")" "resumed_from = the .part's size"
t_assert_eq $((52428800 - part)) "$(json_num sent "$result")" "only the rest was sent"
t_assert_contains "$T_OUT" "resuming after $part bytes" "resume logged"
check_done "after resume"

# ---- a corrupted .part prefix: start over ----------------------------------
rm -f "$rdir/bundle.ferry"
t_run env FERRY_FAULT_KILL_AFTER_BYTES=20000000 "$FERRY_FAULTS_BIN" push "$f" "${P[@]}"
t_assert_eq 137 "$T_RC" "second kill"
t_wait_for 5 test -s "$rdir/bundle.ferry.part" || t_fail "no .part after the second kill"
settle "$rdir/bundle.ferry.part"
printf 'CORRUPT' | dd of="$rdir/bundle.ferry.part" bs=1 seek=4096 conv=notrunc 2>/dev/null
t_assert_exit 0 "$FERRY_BIN" push "$f" "${P[@]}"
result=$(tail -n 1 <<<"$T_OUT")
t_assert_eq 0 "$(json_num resumed_from "$result")" "corrupted prefix: resumed_from"
t_assert_eq 52428800 "$(json_num sent "$result")" "corrupted prefix: all sent again"
t_assert_contains "$T_OUT" "differs" "corrupted prefix logged"
check_done "after a corrupted prefix"

# ---- a .part larger than the file: start over ------------------------------
rm -f "$rdir/bundle.ferry"
head -c 60M /dev/zero >"$rdir/bundle.ferry.part"
t_assert_exit 0 "$FERRY_BIN" push "$f" "${P[@]}"
t_assert_eq 0 "$(json_num resumed_from "$(tail -n 1 <<<"$T_OUT")")" "oversized .part: resumed_from"
check_done "after an oversized .part"

# ---- a complete .part (killed between copy and rename): nothing to send ----
rm -f "$rdir/bundle.ferry"
cp "$f" "$rdir/bundle.ferry.part"
t_assert_exit 0 "$FERRY_BIN" push "$f" "${P[@]}"
result=$(tail -n 1 <<<"$T_OUT")
t_assert_eq 52428800 "$(json_num resumed_from "$result")" "complete .part: resumed_from"
t_assert_eq 0 "$(json_num sent "$result")" "complete .part: nothing sent"
check_done "after a complete .part"

# ---- a real kill from outside, while the .part grows -----------------------
big=$d/big.ferry
head -c 400M /dev/urandom >"$big"
bwant=$(sha256sum "$big" | cut -d' ' -f1)
"$FERRY_BIN" push "$big" "${P[@]}" >"$d/bg.out" 2>&1 &
pid=$!
t_on_exit "kill -KILL $pid 2>/dev/null || true"
killed=0
for _ in $(seq 1 2000); do
    s=$(stat -c %s "$rdir/big.ferry.part" 2>/dev/null || echo 0)
    if [ "$s" -ge 40000000 ]; then
        kill -KILL "$pid" 2>/dev/null && killed=1
        break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
done
wait "$pid" 2>/dev/null || true
if [ "$killed" -eq 1 ] && [ ! -e "$rdir/big.ferry" ]; then
    settle "$rdir/big.ferry.part"
    part=$(stat -c %s "$rdir/big.ferry.part")
    t_log "killed from outside with $part bytes in the .part"
    t_assert_exit 0 "$FERRY_BIN" push "$big" "${P[@]}"
    result=$(tail -n 1 <<<"$T_OUT")
    [ "$(json_num resumed_from "$result")" -gt 0 ] || t_fail "outside kill: resumed_from is 0: $result"
else
    t_log "the 400 MB push ended before it could be killed; resuming from outside not tested"
    t_assert_exit 0 "$FERRY_BIN" push "$big" "${P[@]}"
fi
t_assert_eq "$bwant" "$(t_ssh "sha256sum '$rdir/big.ferry'" | cut -d' ' -f1)" "big file after resume"
[ ! -e "$rdir/big.ferry.part" ] || t_fail "big: a .part was left"
