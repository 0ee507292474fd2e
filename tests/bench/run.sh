#!/usr/bin/env bash
# make bench: ferry against the plain tools on a ~1 GB database, in one run.
#
#   sh tests/bench/run.sh /abs/path/ferry        (what `make bench` runs)
#
# Starts a fresh test bed (tests/testbed.sh) in a temporary directory, fills
# its source cluster with the bench database, measures, stops the bed and
# removes the directory.  Figures, each measured N times, ferry and the
# baseline alternating run by run (odd runs ferry first, even runs the
# baseline first); medians reported:
#
#   backup   ferry backup            vs pg_dump -Fc; tar czf (dump + app dir)
#   copy     ferry push              vs scp (OpenSSH) of the same bundle
#   restore  ferry restore --no-safety-backup --yes into a new database
#                                    vs createdb; pg_restore -j2 of the same
#                                    (extracted) db/dump directory
#            (and, no bar, the same ferry runs vs what the plain tools need
#            for that bundle: tar --zstd -xf of db/, createdb, pg_restore -j2)
#   drill    ferry drill BUNDLE --server spare (scratch database on the target
#            cluster: verify, load, gate, content check, drop)
#                                    vs ferry verify --deep (extract, load,
#                                    row counts, drop); and, ferry alone, the
#            drill's restore time and the content check's share of the drill
#   migrate  ferry migrate --yes     vs pg_dump -Fc; tar czf; scp;
#                                       ssh tar xzf; ssh createdb + pg_restore -j2
#   RSS      ferry's own peak RSS (getrusage at exit via an LD_PRELOAD
#            helper, tests/bench/rss.c; children not counted) in the timed
#            backup, restore and migrate runs (migrate: the larger of the
#            local and the remote ferry); max over runs
#   paint    `ferry` in tmux: exec to "Backup your instance" on the screen
#   offsite  tests/bench/offsite.sh: S3 push vs aws s3 cp, and backup+push
#            with and without encryption (its own table and JSON)
#
# The data: pgbench -i -s 45*SCALE (~680 MB) plus table docs, 100000*SCALE
# rows of ~1 KB word text and 2 KB random bytea (~380 MB), generated in every
# run (about 15 s at scale 1: cheaper than copying a cached cluster); the app
# dir (~100 MB*SCALE: compressible logs, random binaries) is made once and
# reused from $BENCH_CACHE_ROOT/ferry-bench-SCALE/app.
#
# Environment:
#   BENCH_SCALE       data size multiplier (default 1)
#   BENCH_RUNS        runs per figure and side (default 3)
#   BENCH_RSS_SCALES  scales at which ferry's peak RSS is measured (default
#                     "BENCH_SCALE 4": memory must stay flat as the data grows;
#                     another scale costs one extra backup, restore and
#                     migrate at that size)
#   BENCH_PAINT_RUNS  wizard first-paint samples (default 5)
#   BENCH_OUT         JSON results (default tests/bench/results.json)
#   BENCH_CACHE_ROOT  where the app dirs are kept (default /var/tmp)
#
# The table goes to stdout, progress lines to stderr; everything else into
# logs that are shown only when a step fails.  Needs python3, cc, tmux (for
# the paint; installed with apt-get when missing and root), ssh and scp.

if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi
set -euo pipefail
export LC_ALL=C

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

FERRY_IN=${1:-}
if [ -z "$FERRY_IN" ] || [ ! -x "$FERRY_IN" ]; then
    echo "usage: $0 /abs/path/ferry" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)

SCALE=${BENCH_SCALE:-1}
RUNS=${BENCH_RUNS:-3}
RSS_SCALES=${BENCH_RSS_SCALES:-"$SCALE 4"}
PAINT_RUNS=${BENCH_PAINT_RUNS:-5}
OUT=${BENCH_OUT:-$HERE/results.json}
CACHE_ROOT=${BENCH_CACHE_ROOT:-/var/tmp}

is_scale() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v s="$1" 'BEGIN { exit !(s > 0) }'; }
is_scale "$SCALE" || die "BENCH_SCALE must be a positive number (got '$SCALE')"
for s in $RSS_SCALES; do is_scale "$s" || die "BENCH_RSS_SCALES: '$s' is not a positive number"; done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer (got '$RUNS')"
[[ $PAINT_RUNS =~ ^[0-9]+$ ]] || die "BENCH_PAINT_RUNS must be an integer (got '$PAINT_RUNS')"
command -v python3 >/dev/null || die "python3 is needed"
for t in ssh scp; do command -v "$t" >/dev/null || die "$t is needed (openssh-client)"; done

# Programs that would steer ferry or libpq elsewhere.
unset DATABASE_URL FERRY_PROFILE FERRY_PROFILES PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER \
    PGSERVICE PGSERVICEFILE PGPASSWORD FERRY_PG_BIN LD_PRELOAD NO_COLOR || true

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench.XXXXXX")
chmod 0755 "$WORK"
BED=$WORK/bed
OUTD=$WORK/out    # logs of every command
RAW=$WORK/raw.tsv
mkdir -p "$OUTD" "$WORK/bin" "$WORK/rss"
: >"$RAW"

cleanup() {
    local rc=$?
    trap '' INT TERM HUP
    if [ -S "$WORK/tmux.sock" ]; then tmux -S "$WORK/tmux.sock" kill-server >/dev/null 2>&1 || true; fi
    if [ -e "$BED/.testbed" ]; then
        bash "$SRC/tests/testbed.sh" stop "$BED" || say "warning: stopping the test bed failed"
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The binary under test, copied: a rebuild of ./ferry during the run must not
# change what is measured.
FB=$WORK/bin/ferry
cp "$FERRY_IN" "$FB"
FB_REAL=$(readlink -f "$FB")
RSS_SO=""
if cc -shared -fPIC -O2 -o "$WORK/bin/rss.so" "$HERE/rss.c" >"$OUTD/rss-cc.log" 2>&1; then
    RSS_SO=$WORK/bin/rss.so
else
    say "warning: could not build the RSS helper (cc failed); RSS figures will be n/a"
fi
# The target's ferry (ssh.ferry_path): the same binary, RSS recorded too.
cat >"$WORK/bin/ferry-remote" <<EOF
#!/bin/sh
${RSS_SO:+export LD_PRELOAD=$RSS_SO FERRY_BENCH_RSS_EXE=$FB_REAL FERRY_BENCH_RSS_LOG=$WORK/rss/remote.log}
exec $FB "\$@"
EOF
chmod 0755 "$WORK/bin/ferry-remote"

# ---- helpers -------------------------------------------------------------------

# failed WHAT LOG: the tail of LOG, then stop.
failed() {
    say "error: $1 failed; last lines of its output:"
    tail -n 30 "$2" >&2 || true
    exit 1
}

# timed LOG CMD...: run CMD, its output into LOG; T_SECS = wall seconds.
T_SECS=0
timed() {
    local log=$1 t0 t1
    shift
    t0=$EPOCHREALTIME
    "$@" >"$log" 2>&1 </dev/null || failed "$*" "$log"
    t1=$EPOCHREALTIME
    T_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# ferry_timed LOG ARGS...: timed ferry run, its own peak RSS into T_RSS_KIB.
T_RSS_KIB=""
ferry_timed() {
    local log=$1
    shift
    rm -f "$WORK/rss/local.log" "$WORK/rss/remote.log"
    if [ -n "$RSS_SO" ]; then
        timed "$log" env LD_PRELOAD="$RSS_SO" FERRY_BENCH_RSS_EXE="$FB_REAL" \
            FERRY_BENCH_RSS_LOG="$WORK/rss/local.log" "$FB" "$@"
    else
        timed "$log" "$FB" "$@"
    fi
    T_RSS_KIB=$(rss_max "$WORK/rss/local.log")
}

# rss_max FILE: the largest MAXRSS_KIB in an rss.c log (empty when none).
rss_max() {
    [ -s "$1" ] || return 0
    awk '$2 > m { m = $2 } END { if (m) print m }' "$1"
}

record() { printf 'value\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RAW"; }
note() { printf 'note\t%s\t%s\n' "$1" "$2" >>"$RAW"; }
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
mib() { calc "$1 / 1024"; }

# result_field LOG KEY: KEY of ferry's final JSON result line in LOG.
result_field() {
    grep '^{"status"' "$1" | tail -n 1 |
        python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

psql_src() {
    "$PGBIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "$SOURCE_SOCK" -p "$SOURCE_PORT" -U ferry \
        -d "${DB:-postgres}" "$@"
}
psql_tgt() {
    "$PGBIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h "$TARGET_SOCK" -p "$TARGET_PORT" -U ferry \
        -d "${DB:-postgres}" "$@"
}

# Every database on the target cluster but the built-in ones.
drop_target_dbs() {
    local d
    for d in $(psql_tgt -c "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')"); do
        psql_tgt -c "DROP DATABASE \"$d\" WITH (FORCE)" >/dev/null
    done
}

# Before every timed command: no dirty pages or checkpoints from the last one.
settle() {
    sync
    psql_src -c CHECKPOINT >/dev/null
    psql_tgt -c CHECKPOINT >/dev/null
}

ssh_bed() { ssh -F "$SSH_CONFIG" testbed "$@"; }

# first_side RUN: ferry first on odd runs, the baseline first on even ones.
sides() { if [ $(($1 % 2)) -eq 1 ]; then echo "ferry baseline"; else echo "baseline ferry"; fi; }

# ---- the test bed and the data ---------------------------------------------------

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_START=$(loadavg)

need_gb=$(awk -v s="$SCALE" -v r="$RSS_SCALES" 'BEGIN { m = s; n = split(r, a, " "); for (i = 1; i <= n; i++) if (a[i] > m) m = a[i]; printf "%d", 8 * m + 1 }')
free_gb=$(df -P -k "$WORK" | awk 'NR == 2 { printf "%d", $4 / 1048576 }')
[ "$free_gb" -ge "$need_gb" ] || die "about ${need_gb} GiB free needed in $WORK, ${free_gb} GiB there"

say "starting the test bed in $BED"
bash "$SRC/tests/testbed.sh" start "$BED" >"$OUTD/testbed.log" 2>&1 || failed "tests/testbed.sh start" "$OUTD/testbed.log"
set -a
# shellcheck disable=SC1091
. "$BED/testbed.env"
set +a

# app_dir SCALE: the cached app dir of that scale, made when missing.
app_dir() {
    local c=$CACHE_ROOT/ferry-bench-$1
    if [ "$(cat "$c/app.ok" 2>/dev/null || true)" != "gen_data v1 scale $1" ]; then
        say "making the app dir for scale $1 in $c/app (once)"
        mkdir -p "$c"
        rm -rf "$c/app" "$c/app.tmp" "$c/app.ok"
        python3 "$HERE/gen_data.py" app "$c/app.tmp" "$1" >"$OUTD/gen-app.log" 2>&1 ||
            failed "generating the app dir" "$OUTD/gen-app.log"
        mv "$c/app.tmp" "$c/app"
        echo "gen_data v1 scale $1" >"$c/app.ok"
    fi
    echo "$c/app"
}

# make_db SCALE: (re)create database bench on the source cluster.
DB_BYTES=0
make_db() {
    local pgb rows t0
    pgb=$(awk -v s="$1" 'BEGIN { n = int(45 * s + 0.5); print (n < 1 ? 1 : n) }')
    rows=$(awk -v s="$1" 'BEGIN { n = int(100000 * s + 0.5); print (n < 1000 ? 1000 : n) }')
    say "making the database at scale $1 (pgbench -i -s $pgb, docs $rows rows)"
    t0=$EPOCHREALTIME
    {
        psql_src -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" &&
            psql_src -c "CREATE DATABASE bench" &&
            "$PGBIN/pgbench" -i -q -s "$pgb" -h "$SOURCE_SOCK" -p "$SOURCE_PORT" -U ferry bench &&
            DB=bench psql_src -c "CREATE TABLE docs (id bigint PRIMARY KEY, title text NOT NULL, body text NOT NULL, blob bytea NOT NULL)" &&
            python3 "$HERE/gen_data.py" docs "$rows" | DB=bench psql_src -c "COPY docs FROM STDIN" &&
            DB=bench psql_src -c "VACUUM ANALYZE docs" &&
            psql_src -c CHECKPOINT
    } >"$OUTD/gen-db.log" 2>&1 || failed "making the bench database" "$OUTD/gen-db.log"
    DB_BYTES=$(psql_src -c "SELECT pg_database_size('bench')")
    say "database: $(calc "$DB_BYTES / 1048576") MiB in $(calc "$EPOCHREALTIME - $t0") s"
}

# write_profiles APP: src (the source cluster) and dst (the target cluster,
# reached over the test bed's sshd with the remote ferry on its socket).
write_profiles() {
    cat >"$WORK/profiles.json" <<JSON
{
  "src": {
    "database": {"url": "postgresql://ferry@/bench?host=$SOURCE_SOCK&port=$SOURCE_PORT"},
    "app": {"root": "$1", "paths": ["logs", "uploads", "config"]},
    "backup": {"dir": "$WORK/backups"},
    "log_dir": "$WORK/logs"
  },
  "dst": {
    "database": {"url": "postgresql://ferry@/bench?host=$TARGET_SOCK&port=$TARGET_PORT"},
    "app": {"root": "$WORK/remote/app", "paths": ["logs", "uploads", "config"]},
    "backup": {"dir": "$WORK/remote/backups"},
    "log_dir": "$WORK/remote/logs",
    "ssh": {"host": "$SSH_HOST", "port": $SSH_PORT, "user": "$SSH_USER", "identity_file": "$SSH_KEY",
            "known_hosts": "$SSH_KNOWN_HOSTS", "use_ssh_config": false,
            "ferry_path": "$WORK/bin/ferry-remote"}
  },
  "spare": {
    "database": {"url": "postgresql://ferry@/postgres?host=$TARGET_SOCK&port=$TARGET_PORT"},
    "backup": {"dir": "$WORK/spare/backups"},
    "log_dir": "$WORK/spare/logs"
  }
}
JSON
}
export FERRY_PROFILES=$WORK/profiles.json

APP=$(app_dir "$SCALE")
APP_BYTES=$(du -sb "$APP" | cut -f1)
make_db "$SCALE"
MAIN_DB_BYTES=$DB_BYTES   # make_db at another RSS scale changes DB_BYTES
write_profiles "$APP"

# ---- 1. backup ------------------------------------------------------------------

base_backup() {
    "$PGBIN/pg_dump" -Fc -h "$SOURCE_SOCK" -p "$SOURCE_PORT" -U ferry -d bench -f "$WORK/base/dump.pgdump" &&
        tar czf "$WORK/base/bundle.tgz" -C "$WORK/base" dump.pgdump -C "$APP" logs uploads config
}

BUNDLE=""
mkdir -p "$WORK/keep"
for ((i = 1; i <= RUNS; i++)); do
    for side in $(sides "$i"); do
        if [ "$side" = ferry ]; then
            rm -rf "$WORK/backups"
            settle
            ferry_timed "$OUTD/backup-$i.log" backup --profile src --no-prune --json
            f=$(result_field "$OUTD/backup-$i.log" file)
            size=$(stat -c %s "$f")
            rm -f "$WORK/keep/"*
            mv "$f" "$WORK/keep/"
            BUNDLE=$WORK/keep/$(basename "$f")
            record backup_s ferry "$i" "$T_SECS"
            record backup_size_mb ferry "$i" "$(calc "$size / 1e6")"
            [ -z "$T_RSS_KIB" ] || record "rss_backup_x$SCALE" ferry "$i" "$(mib "$T_RSS_KIB")"
            fsecs=$T_SECS
        else
            rm -rf "$WORK/base"
            mkdir -p "$WORK/base"
            settle
            timed "$OUTD/base-backup-$i.log" base_backup
            record backup_s baseline "$i" "$T_SECS"
            record backup_size_mb baseline "$i" "$(calc "$(stat -c %s "$WORK/base/bundle.tgz") / 1e6")"
            bsecs=$T_SECS
        fi
    done
    say "backup  run $i/$RUNS: ferry ${fsecs} s, pg_dump -Fc + tar czf ${bsecs} s"
done
rm -rf "$WORK/base" "$WORK/backups"
BUNDLE_BYTES=$(stat -c %s "$BUNDLE")

# ---- 2. copy --------------------------------------------------------------------

for ((i = 1; i <= RUNS; i++)); do
    for side in $(sides "$i"); do
        if [ "$side" = ferry ]; then
            rm -rf "$WORK/remote/backups"
            settle
            ferry_timed "$OUTD/push-$i.log" push "$BUNDLE" --target dst --json
            fmb=$(calc "$BUNDLE_BYTES / $T_SECS / 1e6")
            record copy_mbps ferry "$i" "$fmb"
        else
            rm -rf "$WORK/remote/scp"
            mkdir -p "$WORK/remote/scp"
            settle
            timed "$OUTD/scp-$i.log" scp -q -F "$SSH_CONFIG" "$BUNDLE" "testbed:$WORK/remote/scp/"
            bmb=$(calc "$BUNDLE_BYTES / $T_SECS / 1e6")
            record copy_mbps baseline "$i" "$bmb"
        fi
    done
    say "copy    run $i/$RUNS: ferry push $fmb MB/s, scp $bmb MB/s"
done
ciph=$(grep -o 'connected to [^"]*' "$OUTD/push-1.log" | head -n 1 | sed 's/.*(\(.*\))/\1/' || true)
sciph=$(ssh -v -F "$SSH_CONFIG" testbed true 2>&1 | sed -n 's/.*kex: client->server cipher: \([^ ]*\).*/\1/p' | head -n 1 || true)
note copy_mbps "$(calc "$BUNDLE_BYTES / 1e6") MB bundle, wall time of the whole command (connect, copy, remote hash check); ciphers: ferry ${ciph:-?}, scp ${sciph:-?}"
rm -rf "$WORK/remote"

# ---- 3. restore -----------------------------------------------------------------

mkdir -p "$WORK/extract"
tar --zstd -xf "$BUNDLE" -C "$WORK/extract" db >"$OUTD/extract.log" 2>&1 || failed "extracting db/ from the bundle" "$OUTD/extract.log"
[ -f "$WORK/extract/db/dump/toc.dat" ] || die "the bundle has no db/dump/toc.dat (not the directory format?)"
DUMP_BYTES=$(du -sb "$WORK/extract/db/dump" | cut -f1)

base_restore() {
    "$PGBIN/createdb" -h "$TARGET_SOCK" -p "$TARGET_PORT" -U ferry basedb &&
        "$PGBIN/pg_restore" -h "$TARGET_SOCK" -p "$TARGET_PORT" -U ferry -j2 -d basedb "$WORK/extract/db/dump"
}
base_restore_bundle() {
    mkdir -p "$WORK/extract2" &&
        tar --zstd -xf "$BUNDLE" -C "$WORK/extract2" db &&
        "$PGBIN/createdb" -h "$TARGET_SOCK" -p "$TARGET_PORT" -U ferry basedb &&
        "$PGBIN/pg_restore" -h "$TARGET_SOCK" -p "$TARGET_PORT" -U ferry -j2 -d basedb "$WORK/extract2/db/dump"
}

for ((i = 1; i <= RUNS; i++)); do
    for side in $(sides "$i"); do
        drop_target_dbs
        if [ "$side" = ferry ]; then
            rm -rf "$WORK/remote"
            settle
            ferry_timed "$OUTD/restore-$i.log" restore "$BUNDLE" --profile dst --no-safety-backup --yes --json
            record restore_s ferry "$i" "$T_SECS"
            record restore_bundle_s ferry "$i" "$T_SECS"
            record restore_staging_pct ferry "$i" "$(python3 -c 'import sys; print(round(100.0 * int(sys.argv[1]) / int(sys.argv[2]), 2))' \
                "$(result_field "$OUTD/restore-$i.log" staging_peak_bytes)" "$DUMP_BYTES")"
            [ -z "$T_RSS_KIB" ] || record "rss_restore_x$SCALE" ferry "$i" "$(mib "$T_RSS_KIB")"
            fsecs=$T_SECS
        else
            settle
            timed "$OUTD/base-restore-$i.log" base_restore
            record restore_s baseline "$i" "$T_SECS"
            bsecs=$T_SECS
        fi
    done
    drop_target_dbs
    rm -rf "$WORK/extract2"
    settle
    timed "$OUTD/base-restore-bundle-$i.log" base_restore_bundle
    record restore_bundle_s baseline "$i" "$T_SECS"
    rm -rf "$WORK/extract2"
    say "restore run $i/$RUNS: ferry ${fsecs} s, createdb + pg_restore -j2 ${bsecs} s, with tar x first ${T_SECS} s"
done
note restore_staging_pct "the streaming restore's peak bytes on disk (toc.dat, batches of small tables, large objects) against the dump's $DUMP_BYTES bytes (db/dump members of the manifest)"
note restore_bundle_s "the ferry restore runs above; baseline: tar --zstd -xf of db/ from the bundle, createdb, pg_restore -j2 (no hash check, no gate, no swap)"
note restore_s "ferry: one pass hashing every member while it loads the shadow (pre-data at toc.dat, data through FIFOs and batches, post-data --jobs=$(nproc)), row-count gate, swap, app files; baseline: pg_restore -j2 of the already extracted dump"
drop_target_dbs
rm -rf "$WORK/extract" "$WORK/remote"

# ---- 3b. drill ------------------------------------------------------------------

# drill_field LOG EXPR: EXPR over the drill's JSON result (d) in LOG.
drill_field() {
    grep '^{"status"' "$1" | tail -n 1 | python3 -c "import json, sys; d = json.load(sys.stdin); print($2)"
}

for ((i = 1; i <= RUNS; i++)); do
    for side in $(sides "$i"); do
        drop_target_dbs
        if [ "$side" = ferry ]; then
            rm -rf "$WORK/backups"
            settle
            ferry_timed "$OUTD/drill-$i.log" drill "$BUNDLE" --profile src --server spare --json
            [ "$(drill_field "$OUTD/drill-$i.log" "d['status']")" = success ] || failed "ferry drill" "$OUTD/drill-$i.log"
            record drill_s ferry "$i" "$T_SECS"
            record drill_restore_s ferry "$i" "$(drill_field "$OUTD/drill-$i.log" "d['restore_s']")"
            record drill_content_s ferry "$i" "$(drill_field "$OUTD/drill-$i.log" "d['content_s']")"
            record drill_content_pct ferry "$i" "$(drill_field "$OUTD/drill-$i.log" "100 * d['content_s'] / d['duration_s']")"
            fsecs=$T_SECS
        else
            settle
            timed "$OUTD/deep-$i.log" "$FB" verify --deep "$BUNDLE" --profile spare
            record drill_s baseline "$i" "$T_SECS"
            bsecs=$T_SECS
        fi
    done
    say "drill   run $i/$RUNS: ferry drill ${fsecs} s, ferry verify --deep ${bsecs} s"
done
note drill_s "ferry drill: verify, unpack db/, scratch database (pg_restore --jobs=$(nproc)), row-count gate, every table's COPY text and every large object against the dump (SHA-256 both sides), drop; baseline: ferry verify --deep (hash pass, extract, pg_restore, row counts, drop)"
drop_target_dbs
rm -rf "$WORK/backups"

# ---- 4. migrate -----------------------------------------------------------------

base_migrate() {
    local m=$WORK/mb r=$WORK/remote/mb
    "$PGBIN/pg_dump" -Fc -h "$SOURCE_SOCK" -p "$SOURCE_PORT" -U ferry -d bench -f "$m/dump.pgdump" &&
        tar czf "$m/bundle.tgz" -C "$m" dump.pgdump -C "$APP" logs uploads config &&
        scp -q -F "$SSH_CONFIG" "$m/bundle.tgz" "testbed:$r/" &&
        ssh_bed "tar xzf $r/bundle.tgz -C $r" &&
        ssh_bed "$PGBIN/createdb -h $TARGET_SOCK -p $TARGET_PORT -U ferry basedb && $PGBIN/pg_restore -h $TARGET_SOCK -p $TARGET_PORT -U ferry -j2 -d basedb $r/dump.pgdump"
}

migrate_rss_note=""
for ((i = 1; i <= RUNS; i++)); do
    for side in $(sides "$i"); do
        drop_target_dbs
        if [ "$side" = ferry ]; then
            rm -rf "$WORK/remote" "$WORK/backups" "$WORK/logs/.ferry-migrate-dst.json"
            settle
            ferry_timed "$OUTD/migrate-$i.log" migrate --from src --target dst --yes --json
            record migrate_s ferry "$i" "$T_SECS"
            rl=$T_RSS_KIB
            rr=$(rss_max "$WORK/rss/remote.log")
            if [ -n "$rl" ] && [ -n "$rr" ]; then
                m=$rl
                [ "$rr" -le "$m" ] || m=$rr
                record "rss_migrate_x$SCALE" ferry "$i" "$(mib "$m")"
                migrate_rss_note="run $i: local ferry $(mib "$rl") MiB, remote ferry $(mib "$rr") MiB"
                note "rss_migrate_x$SCALE" "$migrate_rss_note"
            fi
            fsecs=$T_SECS
        else
            rm -rf "$WORK/mb" "$WORK/remote/mb"
            mkdir -p "$WORK/mb" "$WORK/remote/mb"
            settle
            timed "$OUTD/base-migrate-$i.log" base_migrate
            record migrate_s baseline "$i" "$T_SECS"
            bsecs=$T_SECS
        fi
    done
    say "migrate run $i/$RUNS: ferry ${fsecs} s, pg_dump + tar + scp + tar x + pg_restore ${bsecs} s"
done
drop_target_dbs
rm -rf "$WORK/remote" "$WORK/mb" "$WORK/backups"

# ---- 5. peak RSS at other scales --------------------------------------------------

for s in $RSS_SCALES; do
    [ "$s" != "$SCALE" ] || continue
    [ -n "$RSS_SO" ] || break
    app=$(app_dir "$s")
    make_db "$s"
    write_profiles "$app"
    rm -rf "$WORK/backups"
    ferry_timed "$OUTD/rss-backup-$s.log" backup --profile src --no-prune --json
    [ -z "$T_RSS_KIB" ] || record "rss_backup_x$s" ferry 1 "$(mib "$T_RSS_KIB")"
    b=$(result_field "$OUTD/rss-backup-$s.log" file)
    say "RSS at scale $s: backup $(mib "${T_RSS_KIB:-0}") MiB in $T_SECS s"
    drop_target_dbs
    ferry_timed "$OUTD/rss-restore-$s.log" restore "$b" --profile dst --no-safety-backup --yes --json
    [ -z "$T_RSS_KIB" ] || record "rss_restore_x$s" ferry 1 "$(mib "$T_RSS_KIB")"
    say "RSS at scale $s: restore $(mib "${T_RSS_KIB:-0}") MiB in $T_SECS s"
    drop_target_dbs
    rm -rf "$WORK/remote" "$WORK/backups" "$WORK/logs/.ferry-migrate-dst.json"
    ferry_timed "$OUTD/rss-migrate-$s.log" migrate --from src --target dst --yes --json
    rl=$T_RSS_KIB
    rr=$(rss_max "$WORK/rss/remote.log")
    if [ -n "$rl" ] && [ -n "$rr" ]; then
        m=$rl
        [ "$rr" -le "$m" ] || m=$rr
        record "rss_migrate_x$s" ferry 1 "$(mib "$m")"
        note "rss_migrate_x$s" "local ferry $(mib "$rl") MiB, remote ferry $(mib "$rr") MiB"
    fi
    say "RSS at scale $s: migrate $(mib "${m:-0}") MiB in $T_SECS s"
    drop_target_dbs
    rm -rf "$WORK/remote" "$WORK/backups"
    psql_src -c "DROP DATABASE IF EXISTS bench WITH (FORCE)" >/dev/null
done

# ---- 6. wizard first paint ---------------------------------------------------------

MENU_TEXT="Backup your instance"
paint() {
    if ! command -v tmux >/dev/null && [ "$(id -u)" -eq 0 ]; then
        say "installing tmux"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >"$OUTD/apt.log" 2>&1 || true
    fi
    if ! command -v tmux >/dev/null; then
        note paint_ms "n/a: tmux is not installed"
        return 0
    fi
    if ! grep -qaF "$MENU_TEXT" "$FB"; then
        note paint_ms "n/a: this ferry has no menu yet (\"$MENU_TEXT\" is not in the binary)"
        return 0
    fi
    local sock=$WORK/tmux.sock i t0 t1 start n out ms polls=0 polltime=0 cold=""
    # Run 0 is a warm-up (binary and libraries not yet in the page cache
    # after a rebuild): reported in a note, not counted.
    for ((i = 0; i <= PAINT_RUNS; i++)); do
        rm -f "$WORK/paint.t0"
        tmux -u -S "$sock" new-session -d -s "p$i" -x 100 -y 30 \
            "env LC_ALL=C.UTF-8 FERRY_PROFILES=$WORK/profiles.json FERRY_PROFILE=src bash -c 'printf %s \$EPOCHREALTIME >$WORK/paint.t0; exec $FB'" \
            >"$OUTD/tmux.log" 2>&1 || failed "tmux new-session" "$OUTD/tmux.log"
        # Microseconds as integers: no fork per poll but tmux's own.
        start=${EPOCHREALTIME/./}
        n=0
        t1=""
        while :; do
            out=$(tmux -S "$sock" capture-pane -p -t "p$i" 2>/dev/null || true)
            n=$((n + 1))
            if [[ $out == *"$MENU_TEXT"* ]]; then
                t1=${EPOCHREALTIME/./}
                break
            fi
            [ $((${EPOCHREALTIME/./} - start)) -lt 5000000 ] || break
        done
        t0=$(cat "$WORK/paint.t0" 2>/dev/null || true)
        t0=${t0/./}
        tmux -S "$sock" kill-session -t "p$i" >/dev/null 2>&1 || true
        if [ -z "$t1" ] || [ -z "$t0" ]; then
            printf '%s\n' "$out" >"$OUTD/paint-screen.txt"
            note paint_ms "n/a: \"$MENU_TEXT\" did not appear within 5 s"
            return 0
        fi
        ms=$(calc "($t1 - $t0) / 1000")
        if [ "$i" -eq 0 ]; then
            cold=$ms
            continue
        fi
        record paint_ms ferry "$i" "$ms"
        polls=$((polls + n))
        polltime=$((polltime + t1 - start))
        say "paint   run $i/$PAINT_RUNS: $ms ms"
    done
    note paint_ms "exec (a timestamp written in the pane just before exec) to the menu text seen by tmux capture-pane, polled in a tight loop: one poll every $(calc "$polltime / $polls / 1000") ms on average, which is the resolution; includes tmux's own pty-to-screen latency; median of $PAINT_RUNS warm runs (a first, discarded run took $cold ms)"
}
[ "$PAINT_RUNS" -eq 0 ] || paint

# ---- report ------------------------------------------------------------------------

LOAD_END=$(loadavg)
ferry_version=$("$FB" --version 2>/dev/null | head -n 1 || echo "?")
pg_version=$("$PGBIN/pg_dump" --version | head -n 1)
ssh_version=$(ssh -V 2>&1 | head -n 1)
MACHINE_JSON=$WORK/machine.json
python3 - "$MACHINE_JSON" "$LOAD_START" "$LOAD_END" "$ferry_version" "$pg_version" "$ssh_version" <<'PY'
import json, os, platform, sys
out, load0, load1, fv, pgv, sshv = sys.argv[1:7]
cpu = "?"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
mem = 0
for line in open("/proc/meminfo"):
    if line.startswith("MemTotal:"):
        mem = int(line.split()[1]) * 1024
osname = "?"
try:
    for line in open("/etc/os-release"):
        if line.startswith("PRETTY_NAME="):
            osname = line.split("=", 1)[1].strip().strip('"')
except OSError:
    pass
json.dump({"nproc": os.cpu_count(), "cpu": cpu, "mem_gib": round(mem / 2**30, 1),
           "kernel": platform.release(), "os": osname, "loadavg_start": load0,
           "loadavg_end": load1, "ferry": fv, "pg_dump": pgv, "ssh": sshv}, open(out, "w"))
PY
python3 - "$WORK/config.json" <<PY
import json, sys, time
json.dump({"scale": "$SCALE", "runs": $RUNS, "rss_scales": "$RSS_SCALES".split(),
           "paint_runs": $PAINT_RUNS, "database_mib": round($MAIN_DB_BYTES / 2**20),
           "app_dir_mib": round($APP_BYTES / 2**20), "bundle_mb": round($BUNDLE_BYTES / 1e6, 1),
           "order": "odd runs ferry first, even runs baseline first",
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, open(sys.argv[1], "w"))
PY

python3 "$HERE/report.py" "$RAW" "$MACHINE_JSON" "$WORK/config.json" "$OUT"
python3 - "$MACHINE_JSON" "$WORK/config.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
print("machine: %s cores, %s, %s GiB RAM, kernel %s, %s; load average %s at start, %s at end"
      % (m["nproc"], m["cpu"], m["mem_gib"], m["kernel"], m["os"], m["loadavg_start"], m["loadavg_end"]))
print("data: scale %s, database %s MiB, app dir %s MiB, bundle %s MB; %s runs, %s; %s"
      % (c["scale"], c["database_mib"], c["app_dir_mib"], c["bundle_mb"], c["runs"], c["order"], m["ferry"]))
PY
say "results in $OUT"

# ---- 7. offsite (tests/bench/offsite.sh, on this bed) -------------------------------
(set -a; . "$BED/testbed.env"; set +a; bash "$HERE/offsite.sh" "$FB")
