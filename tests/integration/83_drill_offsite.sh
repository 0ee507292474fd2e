#!/usr/bin/env bash
# ferry drill --from TARGET against the test bed's real S3 server and sshd:
# the bundle is fetched from the target (encrypted with age, signed),
# decrypted with --identity and verified as restore --from does, then
# drilled; without a name the newest *full* bundle there is taken (a newer
# schema-only one is passed over); the fetched copy and the scratch
# database are gone afterwards; the fetch counts in the restore time; an
# encrypted copy without --identity and an unknown target are refused.
# `ferry list` says not verified, then verified (date) (80_drill: drilled).
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_doff_$$
t_psql_source "CREATE DATABASE $db"
drop_all() {
    local d
    for d in $(t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}%'"); do
        t_psql_source "DROP DATABASE IF EXISTS \"$d\"" >/dev/null 2>&1
    done
}
t_on_exit drop_all
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null

age-keygen -o "$work/age.key" 2>/dev/null
recipient=$(age-keygen -y "$work/age.key")
ssh-keygen -q -t ed25519 -N '' -C ferry-sign -f "$work/sign" </dev/null
prefix=doff$$/
cat >"$work/profiles.json" <<JSON
{
  "here": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/backups", "keep": {"last": 50}},
    "log_dir": "$work/logs",
    "offsite": [
      {"name": "s3main", "type": "s3", "endpoint": "$S3_ENDPOINT", "region": "$S3_REGION",
       "bucket": "$S3_BUCKET", "prefix": "$prefix", "path_style": true},
      {"name": "box", "type": "sftp", "host": "127.0.0.1", "port": $SSH_PORT, "user": "$SSH_USER",
       "identity_file": "$SSH_KEY", "known_hosts": "$work/known_hosts", "dir": "$work/box"}
    ],
    "encryption": {"recipients": ["$recipient"]},
    "signing": {"key": "$work/sign", "public_key": "$work/sign.pub"},
    "drill": {"checks": [{"name": "customers exist", "sql": "SELECT count(*) > 0 FROM app.customers", "expect": true}]}
  }
}
JSON
export FERRY_PROFILES=$work/profiles.json
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
unset AWS_PROFILE AWS_SESSION_TOKEN
scratches() { t_psql_source "SELECT datname FROM pg_database WHERE datname LIKE '${db}_drill_%' ORDER BY 1"; }
py() {
    printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c "
import json, sys
d = json.load(sys.stdin)
print($1)"
}

t_assert_exit 0 "$FERRY_BIN" backup --profile here --json
full=$(basename "$(py "d['file']")")
t_assert_exit 0 "$FERRY_BIN" offsite push "$work/backups/$full" --profile here --accept-new-host-key
# A newer bundle that is not full (its name's second must be a later one).
t0=$(date +%s)
while [ "$(date +%s)" = "$t0" ]; do sleep 0.1; done
t_assert_exit 0 "$FERRY_BIN" backup --profile here --schema-only --json
schema=$(basename "$(py "d['file']")")
t_assert_exit 0 "$FERRY_BIN" offsite push "$work/backups/$schema" --to s3main --profile here
t_log "ferry list: not verified, then verified (date)"
t_assert_exit 0 "$FERRY_BIN" list --profile here
t_assert_contains "$T_OUT" "not verified" "a fresh bundle is not verified"
t_assert_exit 0 "$FERRY_BIN" verify "$work/backups/$full" --profile here
t_assert_exit 0 "$FERRY_BIN" list --profile here
t_assert_contains "$T_OUT" "verified $(date -u +%Y-%m-%d)" "after ferry verify: verified (date)"
rm -f "$work/backups/"*.ferry.tar.zst*   # only the offsite copies are left

t_log "--dry-run: the fetch's steps, then the drill's"
t_assert_exit 0 "$FERRY_BIN" drill --from s3main --identity "$work/age.key" --profile here --dry-run
t_assert_contains "$T_OUT" "fetch, decrypt and verify the bundle" "the plan fetches"
t_assert_contains "$T_OUT" "restore into a scratch database" "then loads"
t_assert_eq "" "$(scratches)" "no scratch database after a dry run"

t_log "an encrypted copy without --identity: refused before anything is fetched"
t_assert_exit 2 "$FERRY_BIN" drill --from s3main --profile here
t_assert_contains "$T_ERR" "--identity FILE" "the identity is asked for"
t_assert_exit 2 "$FERRY_BIN" drill --from nosuch --identity "$work/age.key" --profile here
t_assert_contains "$T_ERR" "nosuch" "an unknown target is named"
t_assert_exit 2 "$FERRY_BIN" drill --identity "$work/age.key" --profile here
t_assert_contains "$T_ERR" "--identity decrypts a copy fetched with --from" "--identity without --from"

t_log "S3: the newest full bundle there is fetched, decrypted, verified, drilled"
t_assert_exit 0 "$FERRY_BIN" drill --from s3main --identity "$work/age.key" --profile here --json
t_assert_eq success "$(py "d['status']")" "the drill passed"
t_assert_eq "$full" "$(py "d['bundle']")" "the newest full bundle, the schema-only one passed over"
t_assert_contains "$T_OUT" "$schema.age is a schema-only bundle, not a full one" "the skip is said (a progress line)"
t_assert_eq "s3main $full.age" "$(py "d['from']['target'] + ' ' + d['from']['object']")" "where it came from"
t_assert_eq verified "$(py "d['signature']")" "the signature was checked"
t_assert_eq True "$(py "d['content']['checked'] and all(t['match'] for t in d['content']['tables'])")" \
    "the content check passed"
t_assert_eq True "$(py "d['from']['seconds'] > 0 and d['restore_s'] >= d['from']['seconds']")" \
    "the fetch counts in the restore time"
t_assert_contains "$T_OUT" "signature verified" "the fetch verified the signature (its step note)"
t_assert_eq "" "$(scratches)" "the scratch database is dropped"
t_assert_eq "" "$(ls -A "$work/backups" | grep -v '^\.offsite$' || true)" \
    "the fetched copy and the work directory are gone"
t_assert_eq True "$(python3 -c "import json; r=json.load(open('$work/logs/drill_log.json'))[-1]; print(r['status']=='success' and r['from']['target']=='s3main')")" \
    "the drill log records the target"

t_log "SFTP: a bundle named"
t_assert_exit 0 "$FERRY_BIN" drill "$full" --from box --identity "$work/age.key" --profile here
t_assert_contains "$T_OUT" "drill passed:" "the drill passed"
t_assert_contains "$T_OUT" "fetched $full.age from offsite target box" "fetched over SFTP"
t_assert_eq "" "$(scratches)" "the scratch database is dropped"

t_log "a name that is not there: exit 2, named, recorded as a failed drill"
t_assert_exit 2 "$FERRY_BIN" drill here_20200101_000000_manual_x.ferry.tar.zst --from box --identity "$work/age.key" --profile here
t_assert_contains "$T_ERR" "no bundle here_20200101_000000_manual_x.ferry.tar.zst on offsite target box" "named"
t_assert_eq failed "$(python3 -c "import json; print(json.load(open('$work/logs/drill_log.json'))[-1]['status'])")" \
    "the failed fetch is in the drill log"
t_assert_eq "" "$(ls -A "$work/backups" | grep -v '^\.offsite$' || true)" "nothing left in backup.dir"
