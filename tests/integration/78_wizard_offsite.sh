#!/usr/bin/env bash
# The backup wizard offers "also copy offsite" for a profile with offsite
# targets (the test bed's real S3 server behind the SigV4-checking proxy):
# the page names the targets, "yes" puts the offsite step in the summary
# and the checklist, the object is on S3 afterwards (aws lists it) and the
# result page says where it went; answered "no", nothing is copied. A
# profile without offsite targets never sees the page.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=shop_wizoff_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)" >/dev/null
prefix=wizoff$$/
profile() {  # profile NAME OFFSITE_JSON
    cat <<JSON
  "$1": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "backup": {"dir": "$work/backups-$1"},
    "log_dir": "$work/logs"$2
  }
JSON
}
cat >"$work/profiles.json" <<JSON
{
$(profile off ", \"offsite\": [{\"name\": \"s3main\", \"type\": \"s3\", \"endpoint\": \"$S3_ENDPOINT\", \"region\": \"$S3_REGION\", \"bucket\": \"$S3_BUCKET\", \"prefix\": \"$prefix\", \"path_style\": true}]")
}
JSON
export FERRY_PROFILES=$work/profiles.json
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=$S3_REGION AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN FERRY_PROFILE
AWS=(/usr/bin/aws --endpoint-url "$S3_ENDPOINT")

t_log "backup wizard, offsite: yes"
t_wiz "dump:$work/o1.txt Enter dump:$work/o2.txt Right dump:$work/o3.txt Enter waitfor:\"copy the bundle to the offsite targets\" dump:$work/o4.txt s waitfor:Finished dump:$work/o5.txt Enter dump:$work/o6.txt Enter" easy backup
t_assert_eq 0 "$T_RC" "exit status of the backup wizard"
t_assert_file_contains "$work/o2.txt" "Also copy the bundle offsite?" "the offsite page follows the options"
t_wrapped_has "$work/o2.txt" "Profile off has offsite targets: s3main (s3)." "it names the targets"
t_assert_file_contains "$work/o2.txt" "◂ no, keep it here only ▸" "no is the default"
t_assert_file_contains "$work/o3.txt" "◂ yes, to every offsite target ▸" "Right picks yes"
t_assert_file_contains "$work/o4.txt" "copy the bundle to the offsite targets" "the summary has the offsite step"
t_assert_file_contains "$work/o5.txt" "[✔] copy the bundle to the offsite targets" "checklist: copied"
t_assert_file_not_contains "$work/o5.txt" "[✖]" "no failed step"
bundle=$(ls "$work/backups-off/"*.ferry.tar.zst)
name=$(basename "$bundle")
t_wrapped_has "$work/o6.txt" "Copied offsite to s3main: s3://$S3_BUCKET/$prefix$name" "the result says where it went"
t_assert_contains "$("${AWS[@]}" s3 ls "s3://$S3_BUCKET/$prefix")" "$name" "aws lists the copy"
"${AWS[@]}" s3 cp --quiet "s3://$S3_BUCKET/$prefix$name" "$work/copy"
cmp "$bundle" "$work/copy" || t_fail "the copy differs from the bundle"

t_log "backup wizard, offsite: no (the default) copies nothing"
"${AWS[@]}" s3 rm --quiet --recursive "s3://$S3_BUCKET/$prefix"
t_wiz "Enter dump:$work/n1.txt Enter waitfor:\"write the bundle\" dump:$work/n2.txt s waitfor:Finished Enter Enter" easy backup
t_assert_eq 0 "$T_RC" "exit status"
t_assert_file_contains "$work/n1.txt" "◂ no, keep it here only ▸" "the page again, no"
t_assert_file_not_contains "$work/n2.txt" "copy the bundle to the offsite targets" "no offsite step in the summary"
t_assert_eq "" "$("${AWS[@]}" s3 ls "s3://$S3_BUCKET/$prefix" || true)" "nothing on S3"

t_log "a profile without offsite targets: no offsite page"
cat >"$work/profiles.json" <<JSON
{
$(profile plain "")
}
JSON
t_wiz "Enter waitfor:\"write the bundle\" dump:$work/p1.txt s waitfor:Finished Enter Enter" easy backup
t_assert_eq 0 "$T_RC" "exit status"
t_assert_file_not_contains "$work/p1.txt" "offsite" "straight to the summary"
t_assert_file_contains "$work/p1.txt" "Summary: this is what will happen" "summary after the options"
