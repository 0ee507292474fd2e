#!/usr/bin/env bash
# make bench, offsite part: S3 push against `aws s3 cp`, and what encryption
# costs a backup that is copied offsite.
#
#   bash tests/bench/offsite.sh /abs/path/ferry     (run.sh runs it last;
#                                                    alone it starts its own bed)
#
# Figures, BENCH_RUNS (default 3) runs per side, alternating which side goes
# first; medians reported:
#
#   push     ferry offsite push BUNDLE --to s3main (8 MiB parts: the test
#            bed's fauxqs refuses bodies over 11 MiB, so not the default 16;
#            4 in flight)  vs  aws s3 cp BUNDLE s3://... (its defaults: 8 MiB
#            parts, 10 in flight), the same bundle to the same
#            test-bed server behind the same SigV4-checking proxy; MB/s each
#            and the ratio ferry / aws (goal >= 1.0)
#   encrypt  ferry backup --offsite with encryption.recipients  vs  the same
#            profile without: wall time each and the ratio (goal <= 1.10)
#
# The data: a table of BENCH_OFFSITE_MB (default 200) MB of random bytea and
# an app dir of BENCH_OFFSITE_MB/2 MB random bytes, incompressible, so the
# bundle is about 1.5 x BENCH_OFFSITE_MB. Results: a table on stdout and
# BENCH_OFFSITE_OUT (default tests/bench/offsite_results.json).
if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
FB=${1:?usage: offsite.sh /abs/path/ferry}
RUNS=${BENCH_RUNS:-3}
MB=${BENCH_OFFSITE_MB:-200}
OUT=${BENCH_OFFSITE_OUT:-$HERE/offsite_results.json}
say() { printf 'bench offsite: %s\n' "$*" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-offsite.XXXXXX")
chmod 0755 "$WORK"
BED=$WORK/bed
cleanup() {
    local rc=$?
    trap '' INT TERM HUP
    if [ -e "$BED/.testbed" ]; then bash "$SRC/tests/testbed.sh" stop "$BED" >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT

if [ -z "${S3_ENDPOINT:-}" ]; then
    say "starting a test bed"
    bash "$SRC/tests/testbed.sh" start "$BED" >"$WORK/testbed.log" 2>&1 || { cat "$WORK/testbed.log" >&2; exit 1; }
    set -a; . "$BED/testbed.env"; set +a
fi
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=$S3_REGION AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN
AWS=(/usr/bin/aws --endpoint-url "$S3_ENDPOINT")
psql_src() { PGCONNECT_TIMEOUT=10 psql -X -q -v ON_ERROR_STOP=1 "postgresql://ferry@127.0.0.1:$SOURCE_PORT/${DB:-postgres}" "$@"; }

db=bench_off_$$
say "making $MB MB of table data and $((MB / 2)) MB of app files"
psql_src -c "CREATE DATABASE $db" >/dev/null
DB=$db psql_src -c "CREATE TABLE blob (id int PRIMARY KEY, b bytea);
    ALTER TABLE blob ALTER COLUMN b SET STORAGE EXTERNAL;
    INSERT INTO blob SELECT i, decode(string_agg(md5(random()::text || j), ''), 'hex')
      FROM generate_series(1, $MB * 64) i, generate_series(1, 1024) j GROUP BY i" >/dev/null
mkdir -p "$WORK/app/files"
head -c "$((MB / 2))M" /dev/urandom >"$WORK/app/files/random.bin"
age-keygen -o "$WORK/age.key" 2>/dev/null
recipient=$(age-keygen -y "$WORK/age.key")

profile() {  # profile NAME ENCRYPTION_JSON
    cat <<JSON
"$1": {
  "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
  "app": {"root": "$WORK/app", "paths": ["files"]},
  "backup": {"dir": "$WORK/backups-$1", "keep": {"last": 1000}},
  "offsite": [{"name": "s3main", "type": "s3", "endpoint": "$S3_ENDPOINT", "region": "$S3_REGION",
               "bucket": "$S3_BUCKET", "prefix": "bench-$1/", "path_style": true, "part_size_mib": 8}]
  $2
}
JSON
}
cat >"$WORK/profiles.json" <<JSON
{
$(profile plain ""),
$(profile enc ", \"encryption\": {\"recipients\": [\"$recipient\"]}")
}
JSON
export FERRY_PROFILES=$WORK/profiles.json

secs() { local t0=${EPOCHREALTIME/./}; "$@" >"$WORK/last.log" 2>&1 || { cat "$WORK/last.log" >&2; exit 1; };
         awk -v a="$t0" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
wipe() { "${AWS[@]}" s3 rm --quiet --recursive "s3://$S3_BUCKET/bench-$1/" >/dev/null 2>&1 || true; }

"$FB" backup --profile plain --no-log >/dev/null
bundle=$(ls "$WORK/backups-plain/"*.ferry.tar.zst | head -n 1)
bytes=$(stat -c %s "$bundle")
say "bundle: $((bytes / 1000000)) MB"

ferry_push=() aws_push=() plain_bk=() enc_bk=()
for ((i = 1; i <= RUNS; i++)); do
    for side in $([ $((i % 2)) -eq 1 ] && echo "ferry aws" || echo "aws ferry"); do
        wipe plain
        if [ "$side" = ferry ]; then
            ferry_push+=("$(secs "$FB" offsite push "$bundle" --to s3main --profile plain --no-log)")
        else
            aws_push+=("$(secs "${AWS[@]}" s3 cp --quiet "$bundle" "s3://$S3_BUCKET/bench-plain/aws.ferry.tar.zst")")
        fi
    done
    say "push    run $i/$RUNS: ferry ${ferry_push[-1]} s, aws ${aws_push[-1]} s"
done
for ((i = 1; i <= RUNS; i++)); do
    for side in $([ $((i % 2)) -eq 1 ] && echo "enc plain" || echo "plain enc"); do
        wipe "$side"
        rm -f "$WORK/backups-$side/"*.ferry.tar.zst*
        t=$(secs "$FB" backup --offsite --profile "$side" --no-log)
        if [ "$side" = enc ]; then enc_bk+=("$t"); else plain_bk+=("$t"); fi
    done
    say "encrypt run $i/$RUNS: with ${enc_bk[-1]} s, without ${plain_bk[-1]} s"
done
wipe plain; wipe enc
psql_src -c "DROP DATABASE $db" >/dev/null

fp=$(median "${ferry_push[@]}") ap=$(median "${aws_push[@]}")
eb=$(median "${enc_bk[@]}") pb=$(median "${plain_bk[@]}")
python3 - "$OUT" "$bytes" "$fp" "$ap" "$eb" "$pb" "$RUNS" <<'PY'
import json, os, sys, time
out, size, fp, ap, eb, pb, runs = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:7]), int(sys.argv[7])
r = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "nproc": os.cpu_count(),
     "loadavg": open("/proc/loadavg").read().split()[:3], "runs": runs, "bundle_bytes": size,
     "push": {"ferry_s": fp, "aws_s": ap, "ferry_mb_s": round(size / 1e6 / fp, 1),
              "aws_mb_s": round(size / 1e6 / ap, 1), "ratio": round(ap / fp, 3), "goal": ">= 1.0"},
     "encryption": {"with_s": eb, "without_s": pb, "ratio": round(eb / pb, 3), "goal": "<= 1.10"}}
json.dump(r, open(out, "w"), indent=2)
p, e = r["push"], r["encryption"]
print("offsite (bundle %.0f MB, median of %d, load %s)" % (size / 1e6, runs, " ".join(r["loadavg"])))
print("  S3 push        ferry %6.1f MB/s   aws s3 cp %6.1f MB/s   ratio %.2f (goal >= 1.0)"
      % (p["ferry_mb_s"], p["aws_mb_s"], p["ratio"]))
print("  backup+push    encrypted %6.2f s   plain %6.2f s         ratio %.2f (goal <= 1.10)"
      % (eb, pb, e["ratio"]))
PY
