#!/usr/bin/env bash
# Where the copies are, and whether the targets answer: the test bed's real
# S3 server (behind the SigV4-checking proxy) and its sshd as targets.
#   list --offsite: local and offsite copies side by side (a bundle only
#   here, one only on S3, one on both), in text and --json; an unreachable
#   target is "?" with the reason below the table, and does not fail the list;
#   status: one "offsite" check per target (ok with the newest copy's age,
#   warn past offsite_max_age, fail naming the unreachable target, exit 11),
#   and none for a profile without offsite targets;
#   a multipart upload that fails is aborted: the server refuses a part
#   for that upload id afterwards, no checkpoint and no object remain;
#   offsite prune says when the server cannot list multipart uploads.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_where_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "CREATE TABLE t (id int); INSERT INTO t VALUES (1)" >/dev/null
mkdir -p "$work/app/files"
head -c 12000000 /dev/urandom >"$work/app/files/big.bin"   # > 2 parts of 5 MiB

prefix=where$$/
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
s3() {  # s3 NAME PREFIX [ENDPOINT]
    cat <<JSON
{"name": "$1", "type": "s3", "endpoint": "${3:-$S3_ENDPOINT}", "region": "$S3_REGION",
 "bucket": "$S3_BUCKET", "prefix": "$2", "path_style": true, "part_size_mib": 5, "parallel": 1}
JSON
}
cat >"$work/profiles.json" <<JSON
{
  "here": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "app": {"root": "$work/app", "paths": ["files"]},
    "backup": {"dir": "$work/backups", "keep": {"last": 50}},
    "offsite": [$(s3 s3main "$prefix"),
      {"name": "box", "type": "sftp", "host": "127.0.0.1", "port": $SSH_PORT, "user": "$SSH_USER",
       "identity_file": "$SSH_KEY", "known_hosts": "$SSH_KNOWN_HOSTS", "dir": "$work/box"}]
  },
  "stale": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/stale-backups"},
    "offsite": [$(s3 old "${prefix}stale/")],
    "offsite_max_age": "P1D"
  },
  "down": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/backups"},
    "offsite": [$(s3 gone "$prefix" "http://127.0.0.1:$closed_port")]
  },
  "plain": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/plain-backups"}
  }
}
JSON
export FERRY_PROFILES=$work/profiles.json
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=$S3_REGION AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN
AWS=(/usr/bin/aws --endpoint-url "$S3_ENDPOINT")
log=$S3_REQUEST_LOG
py() { printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

t_log "three bundles: one pushed to both targets, one kept only here, one only on S3"
t_assert_exit 0 "$FERRY_BIN" backup --profile here --json
b1=$(py 'print(d["file"])')
t_assert_exit 0 "$FERRY_BIN" offsite push "$b1" --profile here --accept-new-host-key
t_assert_exit 0 "$FERRY_BIN" backup --profile here --json
b2=$(py 'print(d["file"])')
n1=$(basename "$b1") n2=$(basename "$b2")
remote_only=here_20200101_000000_manual_none.ferry.tar.zst
"${AWS[@]}" s3 cp --quiet "$b1" "s3://$S3_BUCKET/$prefix$remote_only"

t_log "list --offsite: which bundle is where, text"
t_assert_exit 0 "$FERRY_BIN" list --offsite --profile here
t_assert_contains "$T_OUT" "s3main" "s3 column"
t_assert_contains "$T_OUT" "box" "sftp column"
row() { printf '%s\n' "$T_OUT" | grep -F "$1" | awk '{print $5, $6, $7, $8, $9, $10}'; }
size1=$(stat -c %s "$b1")
t_assert_eq 3 "$(printf '%s\n' "$T_OUT" | grep -c 'ferry.tar.zst')" "three rows"
printf '%s\n' "$T_OUT" | grep -F "$n1" | grep -qE '( MiB| MB).*( MiB| MB).*( MiB| MB)' ||
    t_fail "$n1 should have a size in all three places: $(printf '%s\n' "$T_OUT" | grep -F "$n1")"
printf '%s\n' "$T_OUT" | grep -F "$n2" | grep -qE ' -  +- ' || t_fail "$n2 should be only local"
printf '%s\n' "$T_OUT" | grep -F "$remote_only" | grep -qE '^2020-01-01 00:00:00 .* - ' ||
    t_fail "the S3-only bundle should be '-' locally"

t_log "list --offsite --json: the same, with sizes and ages"
t_assert_exit 0 "$FERRY_BIN" list --offsite --profile here --json
t_assert_eq "s3main box" "$(py 'print(" ".join(t["name"] for t in d["targets"]))')" "targets in profile order"
t_assert_eq "True True" "$(py 'print(*[t["reachable"] for t in d["targets"]])')" "both reachable"
t_assert_eq "$n2 $n1 $remote_only" "$(py 'print(*[b["name"] for b in d["bundles"]])')" "newest first"
t_assert_eq "$size1" "$(py "print(d['bundles'][1]['local']['size_bytes'])")" "local size"
t_assert_eq "None None" "$(py "b=d['bundles'][0]; print(b['offsite']['s3main'], b['offsite']['box'])")" "$n2 only local"
t_assert_eq "None $size1 None" "$(py "b=d['bundles'][2]; print(b['local'], b['offsite']['s3main']['size_bytes'], b['offsite']['box'])")" "S3 only"
age=$(py "print(d['bundles'][2]['age_s'])")
[ "$age" -gt 86400 ] || t_fail "the 2020 bundle's age is $age s"

t_log "status: one offsite check per target, ok with the newest copy's age"
t_assert_exit 0 "$FERRY_BIN" status --profile here --json
t_assert_eq "s3main box" "$(py 'print(" ".join(c["target"] for c in d["checks"] if c["name"] == "offsite"))')" "a check per target"
t_assert_eq "ok ok" "$(py 'print(*[c["state"] for c in d["checks"] if c["name"] == "offsite"])')" "both ok"
t_assert_eq "$n1" "$(py 'print([c for c in d["checks"] if c["name"] == "offsite"][0]["newest"])')" "newest copy on S3 (the 2020 one is older)"
t_assert_eq "2 172800" "$(py 'c=[c for c in d["checks"] if c["name"] == "offsite"][0]; print(c["copies"], c["max_age_s"])')" "copies, default max age 2 days"
t_assert_exit 0 "$FERRY_BIN" status --profile here
t_assert_contains "$T_OUT" "s3main (s3): newest copy $n1" "text detail"

t_log "status warns past offsite_max_age"
"${AWS[@]}" s3 cp --quiet "$b1" "s3://$S3_BUCKET/${prefix}stale/stale_20200101_000000_manual_none.ferry.tar.zst"
t_run "$FERRY_BIN" status --profile stale --json
t_assert_eq "warn" "$(py 'print([c for c in d["checks"] if c["name"] == "offsite"][0]["state"])')" "old copy warns"
t_assert_contains "$T_OUT" "older than offsite_max_age 24 h" "detail names the key"

t_log "an unreachable target: status fails naming it (exit 11); list shows ? and why"
t_assert_exit 11 "$FERRY_BIN" status --profile down
t_assert_contains "$T_OUT" "gone (s3) unreachable" "detail names the target"
t_assert_contains "$T_OUT" "127.0.0.1:$closed_port" "and where"
t_assert_exit 0 "$FERRY_BIN" list --offsite --all --profile down
t_assert_contains "$T_OUT" "gone (s3): unreachable:" "the reason below the table"
printf '%s\n' "$T_OUT" | grep -F "$n2" | grep -qE ' \? ' || t_fail "unreachable cell should be ?"

t_log "a profile without offsite targets gets no offsite check"
t_run "$FERRY_BIN" status --profile plain --json
t_assert_eq 0 "$(py 'print(sum(c["name"] == "offsite" for c in d["checks"]))')" "no offsite check"

t_log "a multipart upload that fails is aborted: no parts, no checkpoint, no object"
export FERRY_FAULT_DIR=$T_TMPROOT
at=$(wc -l <"$log")
t_assert_exit 11 env FERRY_FAULT="offsite.s3.part@1:fail" "$FERRY_FAULTS_BIN" offsite push "$b2" --to s3main --profile here
t_assert_contains "$T_ERR" "failure injected" "the failure is reported"
upload_id=$(tail -n +"$((at + 1))" "$log" | python3 -c '
import json, sys, urllib.parse
for line in sys.stdin:
    r = json.loads(line)
    q = urllib.parse.parse_qs(r["query"])
    if r["method"] == "DELETE" and "uploadId" in q and r["status"] < 300:
        print(q["uploadId"][0])')
[ -n "$upload_id" ] || t_fail "no AbortMultipartUpload was accepted"
t_assert_exit 0 test ! -e "$work/backups/.offsite/s3main/$n2.s3upload"
echo x >"$work/part"
t_run "${AWS[@]}" s3api upload-part --bucket "$S3_BUCKET" --key "$prefix$n2" --part-number 9 \
    --upload-id "$upload_id" --body "$work/part"
[ "$T_RC" -ne 0 ] || t_fail "the server still accepts parts for the aborted upload"
t_assert_contains "$T_ERR" "NoSuchUpload" "the upload is gone"
t_assert_not_contains "$("${AWS[@]}" s3 ls "s3://$S3_BUCKET/$prefix")" "$n2" "no object"

t_log "offsite prune asks the server for abandoned uploads, and says when it cannot list them"
at=$(wc -l <"$log")
t_assert_exit 0 "$FERRY_BIN" offsite prune --to s3main --profile here
t_assert_eq 1 "$(tail -n +"$((at + 1))" "$log" | grep -c '"method": "GET".*uploads=')" "ListMultipartUploads sent"
t_assert_contains "$T_ERR" "does not list multipart uploads" "the test bed's server (fauxqs) has no ListMultipartUploads"
