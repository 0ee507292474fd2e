#!/usr/bin/env bash
# The README's Quick start, run as it is written: its sh block is taken
# out of README.md, the three lines marked "# yours:" get the test bed's
# values (the app directory, the database, the backup dir) and nothing
# else changes; then it runs with ferry on PATH in a fresh app directory
# and a fresh HOME. It must end with the newest bundle verified, named
# after the profile init wrote.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_qs_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
mkdir -p "$work/shop/uploads" "$work/shop/config" "$work/home"
echo photo >"$work/shop/uploads/a.jpg"
printf 'DEBUG=0\n' >"$work/shop/config/app.env"

t_log "the Quick start block, out of README.md"
# The first ```sh block after "## Quick start", up to the next heading.
awk '/^## Quick start/ {on = 1; next} on && /^## / {exit}
     on && /^```sh/ {inblock = 1; blocks++; next} inblock && /^```/ {inblock = 0; next}
     inblock && blocks == 1 {print}' "$FERRY_SRC/README.md" >"$work/quickstart.sh"
[ -s "$work/quickstart.sh" ] || t_fail "no sh block under ## Quick start in README.md"
t_assert_file_contains "$work/quickstart.sh" "ferry init" "the Quick start starts with ferry init"

# Only the lines marked "# yours:" change, and only their value.
yours=$(grep -c '# yours:' "$work/quickstart.sh" || true)
t_assert_eq 3 "$yours" "lines the reader changes"
declare -A value=(
    [APP]="$work/shop"
    [DATABASE_URL]="postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"
    [BACKUPS]="$work/backups"
)
while IFS= read -r line; do
    case "$line" in
        *'# yours:'*)
            name=$(printf '%s\n' "$line" | sed -E 's/^(export )?([A-Z_]+)=.*/\2/')
            [ -n "${value[$name]:-}" ] || t_fail "a \"yours\" line this test does not know: $line"
            prefix=$(printf '%s\n' "$line" | sed -E 's/^((export )?[A-Z_]+=).*/\1/')
            printf '%s%q\n' "$prefix" "${value[$name]}"
            ;;
        *) printf '%s\n' "$line" ;;
    esac
done <"$work/quickstart.sh" >"$work/run.sh"
if diff <(grep -v '# yours:' "$work/quickstart.sh") <(grep -v "^\(export \)\?[A-Z_]*=" "$work/run.sh") >/dev/null; then :; else
    t_fail "the block changed beyond the \"yours\" lines"
fi
cat "$work/run.sh" >&2

t_log "run it: ferry on PATH, a fresh HOME, no profiles anywhere"
bindir=$(t_tmpdir)
ln -s "$FERRY_BIN" "$bindir/ferry"
t_run env -u FERRY_PROFILES -u FERRY_PROFILE HOME="$work/home" PATH="$bindir:$PATH" \
    bash -e "$work/run.sh"
printf '%s\n%s\n' "$T_OUT" "$T_ERR" >&2
t_assert_eq 0 "$T_RC" "exit status of the Quick start"

t_log "what it made: the profile, the bundle named after it, verified"
profiles=$work/shop/config/migration_profiles.json
[ -f "$profiles" ] || t_fail "init did not write $profiles"
t_assert_eq 600 "$(stat -c %a "$profiles")" "profiles file mode"
t_assert_eq 700 "$(stat -c %a "$work/backups")" "backup dir mode"
t_assert_contains "$T_OUT" "wrote profile $db to $profiles" "init's result line"
t_assert_contains "$T_OUT" "ok: ./config/migration_profiles.json: 1 profile ($db)" "profiles check"
t_assert_contains "$T_OUT" "dry run: nothing was changed" "the dry run"
bundle=$(ls "$work/backups" | grep '\.ferry\.tar\.zst$')
t_assert_eq 1 "$(printf '%s\n' "$bundle" | wc -l)" "one bundle"
case "$bundle" in
    "${db}"_????????_??????_manual_3f2a9c1b7d4e.ferry.tar.zst) ;;
    *) t_fail "bundle name $bundle is not <profile>_<time>_manual_<revision>" ;;
esac
t_assert_contains "$T_OUT" "ok: $work/backups/$bundle:" "verify of the newest bundle"
t_assert_file_contains "$work/backups/$bundle.verified" "ok" "the verified record list reads"
t_assert_contains "$T_ERR" "log: $work/backups/logs/ferry-backup-" "the backup's log file"
ls "$work/backups/logs"/ferry-backup-*.log >/dev/null || t_fail "no backup log in $work/backups/logs"
