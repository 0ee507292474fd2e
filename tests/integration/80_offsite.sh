#!/usr/bin/env bash
# Offsite copies: the test bed's real S3 server (behind the SigV4-checking
# proxy) and its sshd as targets, the real age, ssh-keygen and aws.
#   wrong secret → refused (exit 11), nothing uploaded, no upload left open;
#   backup --offsite → S3 (multipart, ≥ 3 parts) and SFTP; aws lists and
#   downloads the object byte-identical; age -d | tar --zstd -t and
#   ssh-keygen -Y verify open it without ferry;
#   local bundles deleted → restore --from s3main --identity on the target
#   cluster gives identical content;
#   kill -9 during the multipart upload → the rerun sends only the missing
#   parts (counted at the proxy) and the object verifies;
#   a flipped byte in the stored object → refused at pull (exit 4);
#   a re-encrypted bundle with recomputed hashes → refused by the signature;
#   a bundle uploaded by `aws s3 cp` → listed, pulled, verified, restored;
#   offsite prune keeps exactly what keep says (dry run first).
. "$FERRY_SRC/tests/lib.sh"
. "$FERRY_SRC/tests/fixtures/fingerprint.sh"

work=$(t_tmpdir)
db=shop_off_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
t_on_exit "t_psql_target 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null

app=$work/app
mkdir -p "$app/uploads" "$app/config"
head -c 16000000 /dev/urandom >"$app/uploads/big.bin"   # incompressible: > 3 parts of 5 MiB
echo "v1" >"$app/config/app.conf"

age-keygen -o "$work/age.key" 2>/dev/null
recipient=$(age-keygen -y "$work/age.key")
ssh-keygen -q -t ed25519 -N '' -C ferry-sign -f "$work/sign" </dev/null
prefix=off$$/

targets() {
    cat <<JSON
    "offsite": [
      {"name": "s3main", "type": "s3", "endpoint": "$S3_ENDPOINT", "region": "$S3_REGION",
       "bucket": "$S3_BUCKET", "prefix": "$prefix", "path_style": true, "part_size_mib": 5,
       "parallel": 2, "keep": {"last": 2, "daily": 0, "weekly": 0, "monthly": 0, "manual_days": 0}},
      {"name": "box", "type": "sftp", "host": "127.0.0.1", "port": $SSH_PORT, "user": "$SSH_USER",
       "identity_file": "$SSH_KEY", "known_hosts": "$SSH_KNOWN_HOSTS", "dir": "$work/box"}
    ],
    "encryption": {"recipients": ["$recipient"]},
JSON
}
cat >"$work/profiles.json" <<JSON
{
  "here": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "app": {"root": "$app", "paths": ["uploads", "config"]},
    "backup": {"dir": "$work/backups", "keep": {"last": 50}},
    $(targets)
    "signing": {"key": "$work/sign", "public_key": "$work/sign.pub"}
  },
  "there": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$TARGET_PORT/$db"},
    "app": {"root": "$work/there-app", "paths": ["uploads", "config"]},
    "backup": {"dir": "$work/there-backups"},
    $(targets)
    "signing": {"public_key": "$work/sign.pub"}
  }
}
JSON
export FERRY_PROFILES=$work/profiles.json
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=$S3_REGION AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN
AWS=(/usr/bin/aws --endpoint-url "$S3_ENDPOINT")
log=$S3_REQUEST_LOG

# Requests of the proxy's log after line $1 matching a python condition on r.
requests() {
    tail -n +"$(($1 + 1))" "$log" | /usr/bin/python3 -c "
import json, sys
n = 0
for line in sys.stdin:
    r = json.loads(line)
    if $2: n += 1
print(n)"
}
json_field() { printf '%s\n' "$1" | tail -n 1 | python3 -c "import json,sys; print(json.load(sys.stdin)$2)"; }

t_assert_exit 0 "$FERRY_BIN" backup --profile here --json
bundle=$(json_field "$T_OUT" '["file"]')
name=$(basename "$bundle")

t_log "the test bed's proxy refuses a request signed with a wrong secret (aws itself)"
t_assert_exit 254 env AWS_SECRET_ACCESS_KEY=wrong-secret "${AWS[@]}" s3 ls "s3://$S3_BUCKET/"
t_assert_contains "$T_ERR" "SignatureDoesNotMatch" "aws is refused"

t_log "wrong secret: ferry fails clearly (exit 11), nothing uploaded, no upload left open"
at=$(wc -l <"$log")
t_assert_exit 11 env AWS_SECRET_ACCESS_KEY=wrong-secret "$FERRY_BIN" offsite push "$bundle" --to s3main --profile here
t_assert_contains "$T_ERR" "SignatureDoesNotMatch" "S3's code named"
t_assert_contains "$T_ERR" "hint: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY" "hint"
t_assert_eq 0 "$(requests "$at" 'r["status"] < 300')" "no request was accepted"
t_assert_eq "" "$("${AWS[@]}" s3 ls "s3://$S3_BUCKET/$prefix" || true)" "no object"

t_log "push: S3 (multipart) and SFTP; the plan names both targets"
t_assert_exit 0 "$FERRY_BIN" offsite push "$bundle" --profile here --dry-run
t_assert_contains "$T_OUT" "copy the bundle to offsite target s3main" "plan s3"
t_assert_contains "$T_OUT" "copy the bundle to offsite target box" "plan sftp"
at=$(wc -l <"$log")
t_assert_exit 0 "$FERRY_BIN" offsite push "$bundle" --profile here --accept-new-host-key --json
push=$T_OUT
parts=$(json_field "$push" '["copies"][0]["parts"]')
[ "$parts" -ge 3 ] || t_fail "expected at least 3 parts, got $parts"
t_assert_eq "$parts" "$(requests "$at" '"partNumber=" in r["query"] and r["method"] == "PUT" and r["status"] == 200')" "parts at the proxy"
t_assert_eq 1 "$(requests "$at" 'r["query"] == "uploads=" and r["status"] == 200')" "one upload started"
obj_sha=$(json_field "$push" '["copies"][0]["sha256"]')
t_assert_eq "$name.age" "$(json_field "$push" '["object"]')" "object name"
[ -f "$work/box/$name.age" ] || t_fail "no copy on the sftp target"
t_assert_eq "$obj_sha" "$(sha256sum <"$work/box/$name.age" | cut -d' ' -f1)" "sftp copy is the same object"
[ ! -e "$work/backups/.offsite/$name.age" ] || t_fail "the encrypted copy was not removed after every target had it"

t_log "aws lists the object ferry uploaded and downloads it byte-identical; its metadata is the sha256"
t_assert_contains "$("${AWS[@]}" s3 ls "s3://$S3_BUCKET/$prefix")" "$name.age" "aws ls"
"${AWS[@]}" s3 cp --quiet "s3://$S3_BUCKET/$prefix$name.age" "$work/aws.age"
t_assert_eq "$obj_sha" "$(sha256sum <"$work/aws.age" | cut -d' ' -f1)" "aws download identical"
meta=$("${AWS[@]}" s3api head-object --bucket "$S3_BUCKET" --key "$prefix$name.age" --query Metadata.sha256 --output text)
t_assert_eq "$obj_sha" "$meta" "x-amz-meta-sha256"

t_log "the plain tools open it: age -d | tar --zstd -t, ssh-keygen -Y verify"
age -d -i "$work/age.key" "$work/aws.age" | tar --zstd -t >"$work/members"
t_assert_file_contains "$work/members" "manifest.json.sig"
t_assert_file_contains "$work/members" "files/uploads/big.bin"
mkdir -p "$work/plain" && age -d -i "$work/age.key" "$work/aws.age" | tar --zstd -x -C "$work/plain" manifest.json manifest.json.sig
echo "ferry namespaces=\"ferry\" $(cat "$work/sign.pub")" >"$work/allowed_signers"
t_assert_exit 0 bash -c 'ssh-keygen -Y verify -f "$1" -I ferry -n ferry -s "$2" <"$3"' _ \
    "$work/allowed_signers" "$work/plain/manifest.json.sig" "$work/plain/manifest.json"

t_log "list --offsite shows where each bundle is"
t_assert_exit 0 "$FERRY_BIN" offsite list --profile here --json
t_assert_contains "$T_OUT" "\"target\":\"s3main\"" "s3 listed"
t_assert_contains "$T_OUT" "\"target\":\"box\"" "sftp listed"

t_log "local bundles deleted; restore --from s3main --identity on the target cluster: identical content"
db_fingerprint source "$db" >"$work/fp.source"
rm -f "$work/backups/"*.ferry.tar.zst*
t_assert_exit 2 "$FERRY_BIN" restore "$name" --from s3main --profile there --yes
t_assert_contains "$T_ERR" "--identity FILE" "identity asked for"
t_assert_exit 0 "$FERRY_BIN" restore "$name" --from s3main --identity "$work/age.key" --profile there --yes
t_assert_contains "$T_ERR" "signature verified" "signature checked on the way"
db_fingerprint target "$db" >"$work/fp.target"
t_assert_eq "$(cat "$work/fp.source")" "$(cat "$work/fp.target")" "restored content identical"
cmp "$app/uploads/big.bin" "$work/there-app/uploads/big.bin" || t_fail "app files differ"

t_log "pull from the SFTP target"
t_assert_exit 0 "$FERRY_BIN" offsite pull "$name" --from box --identity "$work/age.key" --profile there --json
t_assert_eq "True" "$(json_field "$T_OUT" '["signature_verified"]')" "sftp pull verified"

t_log "kill -9 during the multipart upload; the rerun sends only the missing parts"
t_assert_exit 0 "$FERRY_BIN" backup --profile here --json
b2=$(json_field "$T_OUT" '["file"]')
n2=$(basename "$b2")
export FERRY_FAULT_DIR=$T_TMPROOT
t_run env FERRY_FAULT="offsite.s3.part@2:kill" "$FERRY_FAULTS_BIN" offsite push "$b2" --to s3main --profile here
t_assert_eq 137 "$T_RC" "killed"
ckpt=$work/backups/.offsite/s3main/$n2.age.s3upload
[ -f "$ckpt" ] || t_fail "no checkpoint after the kill"
done_before=$(python3 -c "import json; print(len(json.load(open('$ckpt'))['parts']))" )
[ "$done_before" -ge 2 ] || t_fail "checkpoint lists $done_before parts"
at=$(wc -l <"$log")
t_assert_exit 0 "$FERRY_BIN" offsite push "$b2" --to s3main --profile here --json
total=$(json_field "$T_OUT" '["copies"][0]["parts"]')
t_assert_eq "$done_before" "$(json_field "$T_OUT" '["copies"][0]["parts_resumed"]')" "parts taken from the checkpoint"
t_assert_eq "$((total - done_before))" "$(requests "$at" '"partNumber=" in r["query"] and r["method"] == "PUT"')" "only the missing parts were sent"
t_assert_eq 0 "$(requests "$at" 'r["query"] == "uploads="')" "no new upload started"
[ ! -f "$ckpt" ] || t_fail "checkpoint left after success"
t_assert_exit 0 "$FERRY_BIN" offsite pull "$n2" --from s3main --identity "$work/age.key" --profile there
t_assert_contains "$T_OUT" "stored sha256 matches" "the resumed object verifies"

t_log "a flipped byte in the stored object is refused at pull"
"${AWS[@]}" s3 cp --quiet "s3://$S3_BUCKET/$prefix$n2.age" "$work/flip.age"
printf '\x55' | dd of="$work/flip.age" bs=1 seek=5000000 conv=notrunc status=none
orig=$("${AWS[@]}" s3api head-object --bucket "$S3_BUCKET" --key "$prefix$n2.age" --query Metadata.sha256 --output text)
"${AWS[@]}" s3 cp --quiet "$work/flip.age" "s3://$S3_BUCKET/${prefix}flipped_$n2.age" --metadata "sha256=$orig"
t_assert_exit 4 "$FERRY_BIN" offsite pull "flipped_$n2.age" --from s3main --identity "$work/age.key" --profile there
t_assert_contains "$T_ERR" "does not match the sha256 it was stored with" "stored hash refused"
ls "$work/there-backups" | grep -q "flipped" && t_fail "something of the flipped copy was left"

t_log "re-encrypted with recomputed hashes: refused by the signature"
mkdir -p "$work/evil" && age -d -i "$work/age.key" "$work/aws.age" >"$work/evil.tar.zst"
tar --zstd -tf "$work/evil.tar.zst" >"$work/evil.list"
tar --zstd -xf "$work/evil.tar.zst" -C "$work/evil"
echo "v666" >"$work/evil/files/config/app.conf"
cat >"$work/rehash.py" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
for mem in m["members"]:
    p = os.path.join(d, mem["name"])
    if mem["name"] == "files/config/app.conf":
        data = open(p, "rb").read()
        mem["sha256"] = hashlib.sha256(data).hexdigest()
        mem["size"] = len(data)
open(os.path.join(d, "manifest.json"), "w").write(json.dumps(m, indent=2) + "\n")
lines = []
for name in ["manifest.json", "manifest.json.sig"] + [x["name"] for x in m["members"]]:
    p = os.path.join(d, name)
    if os.path.isfile(p) and not os.path.islink(p):
        lines.append("%s  %s" % (hashlib.sha256(open(p, "rb").read()).hexdigest(), name))
open(os.path.join(d, "SHA256SUMS"), "w").write("\n".join(lines) + "\n")
PY
/usr/bin/python3 "$work/rehash.py" "$work/evil"
(cd "$work/evil" && tar --zstd --no-recursion --format=pax -cf "$work/evil.ferry.tar.zst" -T "$work/evil.list")
age -r "$recipient" -o "$work/evil.age" "$work/evil.ferry.tar.zst"
evil_name=${name/_manual_/_evil_}
"${AWS[@]}" s3 cp --quiet "$work/evil.age" "s3://$S3_BUCKET/$prefix$evil_name.age" \
    --metadata "sha256=$(sha256sum <"$work/evil.age" | cut -d' ' -f1)"
t_assert_exit 4 "$FERRY_BIN" offsite pull "$evil_name" --from s3main --identity "$work/age.key" --profile there
t_assert_contains "$T_ERR" "does not verify" "signature refused"
[ ! -e "$work/there-backups/$evil_name" ] || t_fail "the tampered bundle got a bundle's name"
# Without the signature member at all: refused as unsigned.
grep -v '^manifest.json.sig$' "$work/evil.list" >"$work/evil2.list"
rm "$work/evil/manifest.json.sig"
/usr/bin/python3 "$work/rehash.py" "$work/evil"
(cd "$work/evil" && tar --zstd --no-recursion --format=pax -cf "$work/evil2.ferry.tar.zst" -T "$work/evil2.list")
t_assert_exit 4 "$FERRY_BIN" verify "$work/evil2.ferry.tar.zst" --profile there
t_assert_contains "$T_ERR" "is not signed" "unsigned refused"

t_log "a bundle uploaded by aws s3 cp is listed, pulled, verified and restored by ferry"
t_assert_exit 0 "$FERRY_BIN" backup --profile here --json
b3=$(json_field "$T_OUT" '["file"]')
n3=$(basename "$b3")
"${AWS[@]}" s3 cp --quiet "$b3" "s3://$S3_BUCKET/$prefix$n3"
t_assert_exit 0 "$FERRY_BIN" offsite list --from s3main --profile there
t_assert_contains "$T_OUT" "$n3" "listed"
DB=$db t_psql_target "DROP SCHEMA app CASCADE" >/dev/null
t_assert_exit 0 "$FERRY_BIN" restore "$n3" --from s3main --identity "$work/age.key" --profile there --yes
t_assert_contains "$T_ERR" "carries no stored sha256" "said: checked by the members' hashes only"
db_fingerprint target "$db" >"$work/fp.target3"
t_assert_eq "$(cat "$work/fp.source")" "$(cat "$work/fp.target3")" "restored content identical"

t_log "offsite retention keeps exactly what keep says (last 2); dry run first"
before=$("${AWS[@]}" s3 ls "s3://$S3_BUCKET/$prefix" | wc -l)
[ "$before" -gt 2 ] || t_fail "expected more than 2 objects, have $before"
t_assert_exit 0 "$FERRY_BIN" offsite prune --to s3main --dry-run --profile here --json
kept=$(printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c 'import json,sys; print(sorted(x["file"] for x in json.load(sys.stdin) if x["action"] == "keep"))')
t_assert_eq "$before" "$("${AWS[@]}" s3 ls "s3://$S3_BUCKET/$prefix" | wc -l)" "dry run deleted nothing"
t_assert_exit 0 "$FERRY_BIN" offsite prune --to s3main --profile here
after=$("${AWS[@]}" s3 ls "s3://$S3_BUCKET/$prefix" | awk '{print $4}' | sort | python3 -c 'import sys; print(sorted(l.strip() for l in sys.stdin if l.strip()))')
t_assert_eq "$kept" "$after" "exactly the kept ones remain"
t_assert_eq 2 "$("${AWS[@]}" s3 ls "s3://$S3_BUCKET/$prefix" | wc -l)" "two remain"
