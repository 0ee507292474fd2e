#!/usr/bin/env bash
# The drill's content check on the regression-style fixture
# (tests/fixtures/regress.sql: partitions, inheritance with a column added
# later, large objects, bytea, arrays, ranges, numeric, timestamptz, floats
# with NaN and Infinity, text of many scripts and escapes, generated and
# dropped columns), dumped under odd database settings (a +05:30 time zone,
# bytea_output escape, IntervalStyle sql_standard, DateStyle SQL, DMY,
# extra_float_digits 0): it passes on the same cluster and on the target
# cluster; a LATIN1 database passes too; a flipped byte of bytea and a
# shifted timestamp in a kept copy fail it, naming the table.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=regress_drill_$$
latin=latin_drill_$$
drop_all() {
    local side=$1 d
    for d in $("t_psql_$side" "SELECT datname FROM pg_database WHERE datname LIKE '${db}%' OR datname LIKE '${latin}%'"); do
        "t_psql_$side" "DROP DATABASE IF EXISTS \"$d\"" >/dev/null 2>&1
    done
}
t_on_exit "drop_all source; drop_all target"
t_psql_source "CREATE DATABASE $db"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/regress.sql")" >/dev/null
for setting in "timezone = 'Asia/Kolkata'" "bytea_output = 'escape'" "intervalstyle = 'sql_standard'" \
    "datestyle = 'SQL, DMY'" "extra_float_digits = 0"; do
    t_psql_source "ALTER DATABASE $db SET $setting"
done
t_psql_source "CREATE DATABASE $latin TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'"
DB=$latin t_psql_source "SET client_encoding = 'UTF8';
  CREATE TABLE t (id int, s text, b bytea);
  INSERT INTO t VALUES (1, 'café crème brûlée', '\\x00ff'), (2, 'Ærø ¡¿«»¼½¾×÷', NULL), (3, E'tab\\tand\\\\', '');"

cat >"$work/profiles.json" <<JSON
{
  "reg": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
          "backup": {"dir": "$work/backups"}, "log_dir": "$work/logs"},
  "latin": {"database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$latin"},
            "backup": {"dir": "$work/backups"}, "log_dir": "$work/logs"},
  "spare": {"database": {"url": "postgresql://ferry@127.0.0.1:$TARGET_PORT/postgres"},
            "backup": {"dir": "$work/spare"}}
}
JSON
export FERRY_PROFILES=$work/profiles.json
py() {
    printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c "
import json, sys
d = json.load(sys.stdin)
print($1)"
}

t_assert_exit 0 "$FERRY_BIN" backup --profile reg --json
bundle=$(printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["file"])')
tar --zstd -xOf "$bundle" manifest.json >"$work/manifest.json"
t_assert_eq "Asia/Kolkata escape" \
    "$(python3 -c "import json; s=json.load(open('$work/manifest.json'))['dump']['session']; print(s['TimeZone'], s['bytea_output'])")" \
    "the manifest records pg_dump's session settings"
mkdir -p "$work/x" && tar --zstd -xf "$bundle" -C "$work/x" db/dump
grep -q '+05:30' "$work"/x/db/dump/*.dat || t_fail "the dump's timestamps are not in the database's time zone"
entries=$("$PGBIN/pg_restore" -l "$work/x/db/dump" | grep -c "TABLE DATA ")

for server in reg spare; do
    t_log "the fixture passes the content check (scratch database on the server of $server)"
    t_assert_exit 0 "$FERRY_BIN" drill --profile reg --server "$server" --json
    t_assert_eq success "$(py "d['status']")" "drill on $server"
    t_assert_eq "$entries" "$(py "len(d['content']['tables'])")" "every table data entry compared ($server)"
    t_assert_eq True "$(py "all(t['match'] for t in d['content']['tables'])")" "every table matches ($server)"
    t_assert_eq "4 4 0" "$(py "' '.join(str(d['content']['large_objects'][k]) for k in ('dump', 'database', 'differ'))")" \
        "four large objects, each as the dump holds it ($server)"
    t_assert_eq UTF8 "$(py "d['content']['encoding']")" "the dump's client encoding ($server)"
done
for table in dogs measurements_2025 measurements_2026_a measurements_2026_rest binaries numbers times shapes \
    texts computed nothing '"Weird Table"'; do
    t_assert_eq True "$(py "any(t['table'] == '$table'.strip('\"') and t['match'] for t in d['content']['tables'])")" \
        "reg.$table was compared and matches"
done
t_assert_eq 0 "$(py "len([t for t in d['content']['tables'] if t['table'] == 'measurements'])")" \
    "a partitioned parent holds no rows of its own (its partitions are compared)"

t_log "a LATIN1 database passes: the COPY text is read in the dump's encoding"
t_assert_exit 0 "$FERRY_BIN" backup --profile latin --json
t_assert_exit 0 "$FERRY_BIN" drill --profile latin --json
t_assert_eq success "$(py "d['status']")" "latin drill"
t_assert_eq LATIN1 "$(py "d['content']['encoding']")" "the dump's client encoding"

t_log "a flipped bytea byte and a shifted timestamp in a kept copy: the content check names them"
t_assert_exit 0 "$FERRY_BIN" drill --profile reg --keep --json
kept=$(py "d['scratch']")
DB=$kept t_psql_source "UPDATE reg.binaries SET b = set_byte(b, 7, 0) WHERE id = 1;
  UPDATE reg.times SET tz = tz + interval '1 microsecond' WHERE id = 1"
t_assert_exit 4 "$FERRY_BIN" drill --profile reg --check-only "$kept" --json
t_assert_eq False "$(py "[t['match'] for t in d['content']['tables'] if t['table'] == 'binaries'][0]")" \
    "reg.binaries differs"
t_assert_eq False "$(py "[t['match'] for t in d['content']['tables'] if t['table'] == 'times'][0]")" \
    "reg.times differs"
t_assert_eq 1 "$(py "[t['first_diff_line'] for t in d['content']['tables'] if t['table'] == 'binaries'][0]")" \
    "the first line of reg.binaries differs"
t_assert_contains "$T_ERR" "content check: reg." "the error names the table"
t_assert_contains "$T_ERR" "and 1 more table" "the other table is counted"
t_assert_exit 0 "$FERRY_BIN" drill --profile reg --json
t_assert_eq "" "$(t_psql_source "SELECT datname FROM pg_database WHERE datname = '$kept'")" \
    "the kept copy is dropped by the next drill"
