#!/usr/bin/env bash
# The restore wizard over a profile with an offsite target (the test bed's
# real S3 server behind the SigV4-checking proxy), its bundles encrypted
# for an age recipient:
#   the bundle list shows the local bundles and the offsite copies side by
#   side, the one only on S3 marked "s3main only, encrypted";
#   picking it asks for the identity file (a missing file is refused on the
#   page); the plan and the checklist have the fetch before the restore;
#   a wrong identity fails the fetch with a message that says the copy
#   could not be decrypted, nothing is restored, the live database is as it
#   was and no bundle or .part is left;
#   the right identity fetches, decrypts, verifies and restores: the live
#   database holds the bundle's rows;
#   a target that cannot be reached is said on the page and the local
#   bundles are still listed and can be picked.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_wizpull_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "drop_dbs"
drop_dbs() {
    local d
    for d in $(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}%'"); do
        t_psql_source "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true
    done
}
DB=$db t_psql_source "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)" >/dev/null

age-keygen -o "$work/age.key" 2>/dev/null
age-keygen -o "$work/wrong.key" 2>/dev/null
recipient=$(age-keygen -y "$work/age.key")
prefix=wizpull$$/
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
profiles() {  # profiles ENDPOINT
    cat <<JSON
{
  "off": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/backups"},
    "log_dir": "$work/logs",
    "offsite": [{"name": "s3main", "type": "s3", "endpoint": "$1", "region": "$S3_REGION",
                 "bucket": "$S3_BUCKET", "prefix": "$prefix", "path_style": true}],
    "encryption": {"recipients": ["$recipient"]}
  }
}
JSON
}
profiles "$S3_ENDPOINT" >"$work/profiles.json"
export FERRY_PROFILES=$work/profiles.json
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=$S3_REGION AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN FERRY_PROFILE
AWS=(/usr/bin/aws --endpoint-url "$S3_ENDPOINT")
rows() { DB=$db t_psql_source "SELECT string_agg(id::text, ',' ORDER BY id) FROM t"; }

t_log "a bundle copied to S3 (encrypted), then removed here; a newer one only here"
t_assert_exit 0 "$FERRY_BIN" backup --profile off --offsite
offsite_bundle=$(ls "$work/backups/"*.ferry.tar.zst)
name=$(basename "$offsite_bundle")
t_assert_contains "$("${AWS[@]}" s3 ls "s3://$S3_BUCKET/$prefix")" "$name.age" "the copy on S3 is encrypted"
rm -f "$offsite_bundle" "$offsite_bundle".verified
DB=$db t_psql_source "INSERT INTO t VALUES (50)" >/dev/null
stamp=$(date +%s)   # bundle names are stamped to the second: the next one must be newer
while [ "$(date +%s)" = "$stamp" ]; do :; done
t_assert_exit 0 "$FERRY_BIN" backup --profile off
local_name=$(basename "$(ls "$work/backups/"*.ferry.tar.zst)")
DB=$db t_psql_source "DELETE FROM t; INSERT INTO t VALUES (7)" >/dev/null

t_log "a wrong identity: the fetch fails, nothing changes"
t_wiz "dump:$work/w1.txt Down dump:$work/w2.txt Enter dump:$work/w3.txt text:$work/nothere.key Enter dump:$work/w4.txt C-u text:$work/wrong.key Enter dump:$work/w5.txt Enter waitfor:\"fetch, decrypt and verify the bundle\" dump:$work/w6.txt s waitfor:\"Enter: see the result\" dump:$work/w7.txt Enter dump:$work/w8.txt Enter" easy restore
t_assert_eq 4 "$T_RC" "exit status: verification failed (the copy could not be decrypted)"
t_assert_file_contains "$work/w1.txt" "Which bundle?" "bundle question"
t_assert_file_contains "$work/w1.txt" "where" "the list has a where column"
grep -qE "▸ .* local( |$)" "$work/w1.txt" || t_fail "the newest (local) bundle is picked first"
t_assert_file_contains "$work/w1.txt" "s3main only, encrypted" "the offsite-only copy is marked, and encrypted"
grep -qE "▸ .*s3main only, encrypted" "$work/w2.txt" || t_fail "Down picks the offsite-only copy"
t_assert_file_contains "$work/w3.txt" "Which key decrypts the copy?" "the identity page follows"
t_wrapped_has "$work/w4.txt" "$work/nothere.key: No such file or directory" "a missing identity file is refused"
t_assert_file_contains "$work/w4.txt" "Which key decrypts the copy?" "the page stays"
t_assert_file_contains "$work/w5.txt" "What should be restored?" "then the options"
t_assert_file_contains "$work/w5.txt" "About to restore $name.age" "the line names the copy"
t_assert_file_contains "$work/w6.txt" "3. fetch, decrypt and verify the bundle" "the summary has the fetch"
t_assert_file_contains "$work/w6.txt" "4. verify the bundle" "then the restore's steps"
t_assert_file_contains "$work/w6.txt" "6. restore into a shadow database" "the restore's steps (shadow)"
t_assert_file_contains "$work/w7.txt" "[✖] fetch, decrypt and verify the bundle" "checklist: the fetch failed"
t_assert_file_not_contains "$work/w7.txt" "[✔] swap the shadow database in" "no swap"
t_wrapped_has "$work/w8.txt" "cannot decrypt $work/backups/$name.age.part with the identity $work/wrong.key: no identity matched any of the recipients" "the result says the copy could not be decrypted with that key"
t_wrapped_has "$work/w8.txt" "whose public key is among encryption.recipients" "and which key it needs"
t_assert_eq 7 "$(rows)" "the live database is untouched"
[ ! -e "$work/backups/$name" ] || t_fail "an unverified bundle carries the name"
[ -z "$(find "$work/backups" -name '*.part')" ] || t_fail "a .part file was left"
t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}_%'")" "no shadow, no previous database"

t_log "the right identity: fetched, decrypted, verified, restored"
t_wiz "Down Enter text:$work/age.key Enter Enter waitfor:\"fetch, decrypt and verify the bundle\" dump:$work/r1.txt s waitfor:Type text:$db Enter waitfor:Finished dump:$work/r2.txt Enter dump:$work/r3.txt Enter" easy restore
t_assert_eq 0 "$T_RC" "exit status of the restore wizard"
t_assert_file_contains "$work/r1.txt" "connect to the offsite target and find the bundle" "plan: connect first"
t_assert_file_contains "$work/r2.txt" "[✔] fetch, decrypt and verify the bundle" "checklist: fetched"
t_assert_file_contains "$work/r2.txt" "[✔] swap the shadow database in" "checklist: swapped"
t_assert_file_not_contains "$work/r2.txt" "[✖]" "no failed step"
t_assert_file_contains "$work/r3.txt" "✔ Restore from a backup: done" "result headline"
t_assert_eq "1,2" "$(rows)" "the live database has the bundle's rows"
[ -f "$work/backups/$name" ] || t_fail "the fetched bundle is not in the backup directory"
t_assert_exit 0 "$FERRY_BIN" verify "$work/backups/$name"

t_log "a target that cannot be reached: said on the page, the local bundles still listed"
profiles "http://127.0.0.1:$closed_port" >"$work/profiles.json"
t_wiz "dump:$work/d1.txt Enter dump:$work/d2.txt Esc Esc Esc" easy restore
t_wrapped_has "$work/d1.txt" "Offsite target s3main cannot be reached" "the page says the target is down"
t_assert_file_contains "$work/d1.txt" "local" "local bundles listed"
t_assert_file_not_contains "$work/d1.txt" "s3main only" "no offsite copy listed"
t_assert_file_contains "$work/d2.txt" "What should be restored?" "a local bundle can be picked"
