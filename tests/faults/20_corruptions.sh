#!/usr/bin/env bash
# 100 random single-byte changes and 10 truncations of a real bundle: every
# one refused by verify (exit 4) and, for a sample, by restore before the
# database or the files change. And every hostile bundle of
# tests/fixtures/hostile.py refused by verify.
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
db=corrupt_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
mkdir -p "$work/app/uploads"
head -c 200000 /dev/urandom >"$work/app/uploads/blob"
cat >"$work/profiles.json" <<JSON
{"p": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
       "app": {"root": "$work/app", "paths": ["uploads"]},
       "backup": {"dir": "$work/backups", "compression": "none"}}}
JSON
export FERRY_PROFILES=$work/profiles.json
t_assert_exit 0 "$FERRY_BIN" backup
good=$(ls "$work"/backups/*.ferry.tar*)
size=$(stat -c %s "$good")
db_fingerprint source "$db" >"$work/fp.before"
table=${FAULTS_TABLE:-$work/table}

flipped=0 refused=0
for i in $(seq 1 100); do
    off=$(python3 -c "import random; print(random.Random($i).randrange($size))")
    cp "$good" "$work/bad"
    python3 - "$work/bad" "$off" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xff]))
PY
    flipped=$((flipped + 1))
    t_run "$FERRY_BIN" verify "$work/bad"
    if [ "$T_RC" = 0 ]; then
        # A flip in tar padding or an unused header field changes no member.
        cmp -s <(tar -xOf "$work/bad" 2>/dev/null | sha256sum) <(tar -xOf "$good" | sha256sum) ||
            t_fail "byte $off changed: verify said ok"
        continue
    fi
    [ "$T_RC" = 4 ] || t_fail "byte $off changed: exit $T_RC, not 4: $T_ERR"
    refused=$((refused + 1))
    if [ $((i % 20)) -eq 0 ]; then
        t_assert_exit 4 "$FERRY_BIN" restore "$work/bad" --yes
        db_fingerprint source "$db" >"$work/fp.after"
        diff -q "$work/fp.before" "$work/fp.after" >/dev/null || t_fail "byte $off: the database changed"
    fi
done
for n in 1 2 3 4 5 6 7 8 9 10; do
    head -c $((size * n / 11)) "$good" >"$work/short"
    t_assert_exit 4 "$FERRY_BIN" verify "$work/short"
done
printf '%-8s %-34s %-8s %-16s %-10s %s\n' verify "100 single-byte flips" "$refused refused" "0" none "$((flipped - refused)) changed no member" >>"$table"
printf '%-8s %-34s %-8s %-16s %-10s %s\n' verify "10 truncations" "10 refused" "0" none - >>"$table"
echo "$refused of $flipped flips refused (the rest changed no member), 10 of 10 truncations refused"
