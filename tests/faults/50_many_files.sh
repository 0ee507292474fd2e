#!/usr/bin/env bash
# A 150,000-file app tree (with a 100-level deep path, SQL-looking names
# and names holding terminal escapes): backup, verify and restore work, the
# restored tree is the same, no control character reaches the output.
# verify is timed at 50k, 100k and 150k files and the times reported in
# the table (reported, not asserted: speed belongs in `make bench`).
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=many_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "CREATE TABLE t (v int); INSERT INTO t VALUES (1)" >/dev/null
app=$work/app
mkdir -p "$app/tree"
cat >"$work/profiles.json" <<JSON
{"p": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
       "app": {"root": "$app", "paths": ["tree"]},
       "backup": {"dir": "$work/backups"}, "log_dir": "$work/logs"}}
JSON
export FERRY_PROFILES=$work/profiles.json
table=${FAULTS_TABLE:-$work/table}

# grow N: files until the tree holds N (1000 per directory).
grow() {
    python3 - "$app/tree" "$1" <<'PY'
import os, sys
root, want = sys.argv[1], int(sys.argv[2])
have = sum(len(f) for _, _, f in os.walk(root))
for i in range(have, want):
    d = os.path.join(root, "d%03d" % (i // 1000))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d" % i), "w") as f:
        f.write("%d\n" % i)
PY
}
grow 10
deep=$app/tree/$(printf 'n/%.0s' $(seq 1 100))
mkdir -p "$deep" && echo deep >"$deep/bottom.txt"
echo sql >"$app/tree/'; DROP TABLE t; --"
echo sql >"$app/tree/\$(touch ferry-pwned)"
echo esc >"$app/tree/$(printf 'x\033]0;pwned\007\033[2Jall good')"
no_control() { # WHAT TEXT
    if printf '%s' "$2" | LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]'; then t_fail "$1 printed a control character"; fi
}

times=""
for n in 50000 100000 150000; do
    grow "$n"
    t_assert_exit 0 "$FERRY_BIN" backup
    no_control "backup ($n files)" "$T_OUT$T_ERR"
    bundle=$(ls -t "$work"/backups/*.ferry.tar.zst | head -n 1)
    t0=$(date +%s.%N)
    t_assert_exit 0 "$FERRY_BIN" verify "$bundle"
    t1=$(date +%s.%N)
    no_control "verify ($n files)" "$T_OUT$T_ERR"
    secs=$(python3 -c "print('%.1f' % ($t1 - $t0))")
    t_log "verify of $n files: $secs s"
    times="$times${times:+ / }$secs s"
done

t_log "restore of the 150,000-file bundle"
find "$app/tree" -type f -printf '%P\n' | sort >"$work/list.before"
(cd "$app/tree" && find . -type f -exec cat {} + | sha256sum) >"$work/sum.before"
rm -rf "$app/tree"
t_assert_exit 0 "$FERRY_BIN" restore "$bundle" --yes --no-safety-backup
no_control "restore" "$T_OUT$T_ERR"
find "$app/tree" -type f -printf '%P\n' | sort >"$work/list.after"
diff -q "$work/list.before" "$work/list.after" >/dev/null || t_fail "the restored tree lists other files"
(cd "$app/tree" && find . -type f -exec cat {} + | sha256sum) >"$work/sum.after"
t_assert_eq "$(cat "$work/sum.before")" "$(cat "$work/sum.after")" "the restored content"
t_assert_eq deep "$(cat "$deep/bottom.txt")" "the 100-level deep file"
[ -z "$(find "$work" "$PWD" -maxdepth 3 -name ferry-pwned 2>/dev/null)" ] || t_fail "a file name was run by a shell"
t_assert_eq 1 "$(DB=$db t_psql_source "SELECT count(*) FROM t")" "the SQL-looking names changed nothing"
t_assert_eq "" "$(ls -d "$work"/backups/.ferry-* "$app"/.ferry-* 2>/dev/null | grep -v '\.lock$' || true)" "nothing left behind"
printf '%-8s %-34s %-8s %-16s %-10s %s\n' restore "150,000 files, deep, odd names" ok 0 none "verify 50k/100k/150k: $times" >>"$table"
echo "verify 50k/100k/150k files: $times"
