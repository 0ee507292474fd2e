#!/usr/bin/env bash
# encryption.local: local bundles are written encrypted (the real age).
#   backup leaves only x.ferry.tar.zst.age (no plain bundle), which
#   age -d | tar --zstd -t lists; list shows it;
#   verify and restore refuse it without --identity (exit 2, the hint names
#   it); with --identity verify passes, restore brings a changed row back,
#   and no plain bundle is left behind by either;
#   backup --offsite uploads that very file (same bytes) to S3.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_enc_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "drop_dbs"
drop_dbs() {
    local d
    for d in $(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}%'"); do
        t_psql_source "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true
    done
}
DB=$db t_psql_source "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one'), (2, 'two')" >/dev/null
age-keygen -o "$work/age.key" 2>/dev/null
age-keygen -o "$work/other.key" 2>/dev/null
recipient=$(age-keygen -y "$work/age.key")
prefix=enc$$/
cat >"$work/profiles.json" <<JSON
{
  "enc": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/backups"},
    "offsite": [{"name": "s3main", "type": "s3", "endpoint": "$S3_ENDPOINT", "region": "$S3_REGION",
                 "bucket": "$S3_BUCKET", "prefix": "$prefix", "path_style": true}],
    "encryption": {"recipients": ["$recipient"], "local": true}
  }
}
JSON
export FERRY_PROFILES=$work/profiles.json
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=$S3_REGION AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN FERRY_PROFILE
AWS=(/usr/bin/aws --endpoint-url "$S3_ENDPOINT")
json_field() { printf '%s\n' "$1" | tail -n 1 | python3 -c "import json,sys; print(json.load(sys.stdin)$2)"; }
plain_left() { find "$work/backups" -maxdepth 1 -name '*.ferry.tar.zst' -o -maxdepth 1 -name '*.part' | head -n 1; }

t_log "backup writes only the encrypted bundle"
t_assert_exit 0 "$FERRY_BIN" backup --profile enc --json
bundle=$(json_field "$T_OUT" '["file"]')
case "$bundle" in *.ferry.tar.zst.age) ;; *) t_fail "the bundle is $bundle, not .age" ;; esac
[ -f "$bundle" ] || t_fail "no $bundle"
t_assert_eq "" "$(plain_left)" "no plain bundle"
age -d -i "$work/age.key" "$bundle" | tar --zstd -t >"$work/members"
t_assert_file_contains "$work/members" "manifest.json" "age -d | tar --zstd -t lists it"
t_assert_exit 0 "$FERRY_BIN" list --profile enc --names
t_assert_eq "$(basename "$bundle")" "$T_OUT" "list shows it"

t_log "verify needs --identity; with it, ok and nothing plain left"
t_assert_exit 2 "$FERRY_BIN" verify "$bundle" --profile enc
t_assert_contains "$T_ERR" "is encrypted (encryption.local)" "says why"
t_assert_contains "$T_ERR" "--identity FILE" "hint"
t_assert_exit 4 "$FERRY_BIN" verify "$bundle" --profile enc --identity "$work/other.key"
t_assert_exit 0 "$FERRY_BIN" verify "$bundle" --profile enc --identity "$work/age.key"
t_assert_contains "$T_OUT" "ok:" "verified"
t_assert_eq "" "$(plain_left)" "no plain bundle after verify"

t_log "restore needs --identity; with it, the changed row comes back"
DB=$db t_psql_source "UPDATE t SET v = 'changed' WHERE id = 1"
t_assert_exit 2 "$FERRY_BIN" restore "$(basename "$bundle")" --profile enc --yes
t_assert_contains "$T_ERR" "--identity FILE" "hint"
t_assert_eq "changed" "$(DB=$db t_psql_source "SELECT v FROM t WHERE id = 1")" "nothing changed by the refused restore"
t_assert_exit 0 "$FERRY_BIN" restore "$(basename "$bundle")" --profile enc --identity "$work/age.key" --yes --no-safety-backup
t_assert_eq "one" "$(DB=$db t_psql_source "SELECT v FROM t WHERE id = 1")" "restored"
t_assert_eq "" "$(plain_left)" "no plain bundle after restore"

t_log "backup --offsite uploads the encrypted file as it is"
t_assert_exit 0 "$FERRY_BIN" backup --profile enc --offsite --json
b2=$(json_field "$T_OUT" '["file"]')
"${AWS[@]}" s3 cp --quiet "s3://$S3_BUCKET/$prefix$(basename "$b2")" "$work/copy.age"
cmp "$b2" "$work/copy.age" || t_fail "the offsite copy is not the local encrypted bundle"
