#!/usr/bin/env bash
# `ferry status`: every check against the live test bed — database facts
# equal what the cluster says, the last backup appears after `ferry backup`
# (and its verification), a real HTTP service answers the health check, the
# test bed's sshd is reachable — and failures give the documented exit
# codes: a status command exiting 1 (1), a health URL on a closed port (6),
# an unreachable database (3), an unreachable ssh host (5).
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
db=ferry_status_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
DB=$db t_psql_source "CREATE SCHEMA app;
  CREATE TABLE app.orders (id int PRIMARY KEY, total numeric);
  CREATE TABLE app.customers (id int PRIMARY KEY, email text);
  CREATE TABLE public.notes AS SELECT g AS id, md5(g::text) AS body FROM generate_series(1, 5000) g;"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A real HTTP service: /health is a file (200), /sub a directory (301 to /sub/).
www=$work/www
mkdir -p "$www/sub"
echo ok >"$www/health"
http_port=$(free_port)
(cd "$www" && exec python3 -m http.server --bind 127.0.0.1 "$http_port") >"$work/http.log" 2>&1 &
http_pid=$!
t_on_exit "kill $http_pid 2>/dev/null; wait $http_pid 2>/dev/null"
t_wait_for 20 port_open "$http_port" || t_fail "the HTTP service did not start"
closed_port=$(free_port)

url="postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"

# profile DB_URL HEALTH_URL STATUS_CMD SSH_PORT [FOLLOW] [EXTRA_JSON]
profile() {
    cat >"$work/profiles.json" <<JSON
{"st": {"database": {"url": "$1"},
        "backup": {"dir": "$work/backups"},
        "health": [{"name": "web", "url": "$2", "timeout_s": 3, "follow_redirects": ${5:-false}}],
        "ssh": {"host": "$SSH_HOST", "port": $4, "user": "$SSH_USER",
                "identity_file": "$SSH_KEY", "known_hosts": "$SSH_KNOWN_HOSTS"},
        "services": {"status": ["$3"]}${6:-}}}
JSON
}
export FERRY_PROFILES=$work/profiles.json
health_url="http://127.0.0.1:$http_port/health"

# py EXPR: evaluate EXPR over the JSON document in T_OUT (d), with
# c(name) the first check of that name.
py() {
    printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c "
import json, sys
d = json.load(sys.stdin)
def c(name): return [x for x in d['checks'] if x['name'] == name][0]
print($1)"
}

t_log "no bundle yet: the backup check warns, status still exits 0"
profile "$url" "$health_url" "echo web running" "$SSH_PORT"
FERRY_FAULT_FREE_BYTES=999999999999999 t_assert_exit 0 "$FERRY_FAULTS_BIN" status --json
t_assert_eq warn "$(py "d['status']")" "overall without a bundle"
t_assert_eq warn "$(py "c('backup')['state']")" "backup check without a bundle"
t_assert_eq None "$(py "c('backup')['last_backup']")" "no last backup"

t_log "after a backup: every check ok but the drill's (none yet), the numbers match the live cluster"
t_assert_exit 0 "$FERRY_BIN" backup --json
bundle=$(printf '%s\n' "$T_OUT" | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["filename"])')
FERRY_FAULT_FREE_BYTES=999999999999999 t_assert_exit 0 "$FERRY_FAULTS_BIN" status --json
t_assert_eq warn "$(py "d['status']")" "overall after a backup, before any drill"
t_assert_eq warn "$(py "c('drill')['state']")" "no drill yet: the drill check warns"
t_assert_contains "$(py "c('drill')['detail']")" "no restore drill of profile st yet" "the drill check says why"
t_assert_eq None "$(py "c('drill')['last_drill']")" "no last drill"
t_assert_eq 0 "$(py "d['exit_code']")" "exit_code field"
for name in database schema size connections backup space health ssh service; do
    t_assert_eq ok "$(py "c('$name')['state']")" "check $name"
done
case "$(py "c('database')['server_version']")" in
    15.*) ;;
    *) t_fail "server_version: $(py "c('database')['server_version']")" ;;
esac
t_assert_eq "$(DB=$db t_psql_source "SHOW server_version" | cut -d' ' -f1)" \
    "$(py "c('database')['server_version']")" "server_version equals the server's"
live_tables=$(DB=$db t_psql_source "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
t_assert_eq 3 "$live_tables" "tables created by the test"
t_assert_eq "$live_tables" "$(py "c('size')['tables']")" "table count"
live_size=$(DB=$db t_psql_source "SELECT pg_database_size(current_database())")
size=$(py "c('size')['size_bytes']")
[ "$size" -gt 0 ] || t_fail "size_bytes $size"
# The size moves a little (the stats collector): within 10% of the live value.
[ $((size * 10)) -ge $((live_size * 9)) ] && [ $((size * 10)) -le $((live_size * 11)) ] ||
    t_fail "size_bytes $size far from the live $live_size"
[ "$(py "c('connections')['connections']")" -ge 1 ] || t_fail "connections < 1"
[ "$(py "c('database')['latency_ms']")" -ge 0 ] || t_fail "latency_ms"
t_assert_eq "$bundle" "$(py "c('backup')['last_backup']['file']")" "last backup is the new bundle"
t_assert_eq None "$(py "c('backup')['last_backup']['verified']")" "not verified yet"
[ "$(py "c('backup')['last_backup']['age_s']")" -lt 600 ] || t_fail "last backup age"
[ "$(py "c('space')['free_bytes']")" -gt 0 ] || t_fail "free_bytes"
t_assert_eq 200 "$(py "c('health')['http_status']")" "health status"
t_assert_eq web "$(py "c('health')['check']")" "health check name"
t_assert_contains "$(py "c('ssh')['banner']")" "SSH-2.0-" "ssh banner"
t_assert_eq "echo web running" "$(py "c('service')['command']")" "service command"
t_assert_contains "$(py "c('service')['detail']")" "web running" "service output"
t_assert_eq None "$(py "c('schema')['pending_migrations']")" "no migrations.dir: pending unknown"

t_log "a verified bundle shows as verified; after a drill every check is ok"
t_assert_exit 0 "$FERRY_BIN" verify "$bundle"
FERRY_FAULT_FREE_BYTES=999999999999999 t_assert_exit 0 "$FERRY_FAULTS_BIN" status --json
t_assert_eq True "$(py "c('backup')['last_backup']['verified']")" "verified after ferry verify"
t_assert_exit 0 "$FERRY_BIN" drill
FERRY_FAULT_FREE_BYTES=999999999999999 t_assert_exit 0 "$FERRY_FAULTS_BIN" status --json
t_assert_eq ok "$(py "d['status']")" "overall after a drill"
t_assert_eq ok "$(py "c('drill')['state']")" "the drill check"
t_assert_eq True "$(py "c('drill')['last_drill']['ok']")" "the last drill passed"
t_assert_eq "$bundle" "$(py "c('drill')['last_drill']['bundle']")" "the drilled bundle"
t_assert_eq 8 "$(py "c('drill')['max_age_days']")" "drill.max_age_days default"

t_log "text output: one line per check"
FERRY_FAULT_FREE_BYTES=999999999999999 t_assert_exit 0 "$FERRY_FAULTS_BIN" status
t_assert_contains "$T_OUT" "[ ok ] database     reachable in" "database line"
t_assert_contains "$T_OUT" "($db on 127.0.0.1:$SOURCE_PORT, PostgreSQL 15." "database detail"
t_assert_contains "$T_OUT" "[ ok ] health       web: 200 in" "health line"
t_assert_contains "$T_OUT" "[ ok ] ssh          $SSH_HOST:$SSH_PORT reachable" "ssh line"
t_assert_contains "$T_OUT" "[ ok ] drill        last drill" "drill line"
t_assert_contains "$T_OUT" "status ok: 11 checks, 0 warnings, 0 failed" "summary"
t_assert_not_contains "$T_OUT" $'\033[' "no colour without a terminal"

t_log "little free space: a warning, exit 0"
FERRY_FAULT_FREE_BYTES=1000 t_assert_exit 0 "$FERRY_FAULTS_BIN" status --json
t_assert_eq warn "$(py "c('space')['state']")" "space warning"
t_assert_eq warn "$(py "d['status']")" "overall warn"

t_log "pending migrations: a warning with the count"
mkdir -p "$work/migrations"
echo "CREATE TABLE m1 (id int);" >"$work/migrations/0001_m1.up.sql"
echo "CREATE TABLE m2 (id int);" >"$work/migrations/0002_m2.up.sql"
profile "$url" "$health_url" "true" "$SSH_PORT" false ", \"migrations\": {\"dir\": \"$work/migrations\"}"
FERRY_FAULT_FREE_BYTES=999999999999999 t_assert_exit 0 "$FERRY_FAULTS_BIN" status --json
t_assert_eq warn "$(py "c('schema')['state']")" "schema warns"
t_assert_eq 2 "$(py "c('schema')['pending_migrations']")" "pending migrations"
t_assert_exit 0 "$FERRY_BIN" db migrate
FERRY_FAULT_FREE_BYTES=999999999999999 t_assert_exit 0 "$FERRY_FAULTS_BIN" status --json
t_assert_eq 0 "$(py "c('schema')['pending_migrations']")" "none pending after migrate"
t_assert_eq 0002 "$(py "c('schema')['schema_revision']")" "revision after migrate"

t_log "a status command exiting 1: fail, exit 1"
profile "$url" "$health_url" "echo worker stopped; exit 1" "$SSH_PORT"
t_assert_exit 1 "$FERRY_BIN" status --json
t_assert_eq fail "$(py "d['status']")" "overall fail"
t_assert_eq fail "$(py "c('service')['state']")" "service fails"
t_assert_contains "$(py "c('service')['detail']")" "status 1" "service detail"
t_assert_eq ok "$(py "c('database')['state']")" "the database is still ok"
t_assert_exit 1 "$FERRY_BIN" status
t_assert_contains "$T_OUT" "[FAIL] service" "text fail line"

t_log "a health URL on a closed port: fail, exit 6"
profile "$url" "http://127.0.0.1:$closed_port/health" "true" "$SSH_PORT"
t_assert_exit 6 "$FERRY_BIN" status --json
t_assert_eq fail "$(py "c('health')['state']")" "health fails"
t_assert_eq None "$(py "c('health')['http_status']")" "no answer"
t_assert_contains "$(py "c('health')['detail']")" "127.0.0.1:$closed_port" "health detail names the URL"

t_log "a redirect is not healthy unless follow_redirects"
profile "$url" "http://127.0.0.1:$http_port/sub" "true" "$SSH_PORT"
t_assert_exit 6 "$FERRY_BIN" status --json
t_assert_eq 301 "$(py "c('health')['http_status']")" "the redirect is the answer"
t_assert_contains "$(py "c('health')['detail']")" "redirect" "detail says redirect"
profile "$url" "http://127.0.0.1:$http_port/sub" "true" "$SSH_PORT" true
FERRY_FAULT_FREE_BYTES=999999999999999 t_assert_exit 0 "$FERRY_FAULTS_BIN" status --json
t_assert_eq 200 "$(py "c('health')['http_status']")" "followed to 200"

t_log "the ssh host unreachable: fail, exit 5"
profile "$url" "$health_url" "true" "$closed_port"
t_assert_exit 5 "$FERRY_BIN" status --json
t_assert_eq fail "$(py "c('ssh')['state']")" "ssh fails"
t_assert_contains "$(py "c('ssh')['detail']")" "refused" "ssh detail"

t_log "the database unreachable: fail, exit 3, the other checks still run"
profile "postgresql://ferry@127.0.0.1:$closed_port/$db" "http://127.0.0.1:$closed_port/health" "true" "$SSH_PORT"
t_assert_exit 3 "$FERRY_BIN" status --json
t_assert_eq fail "$(py "c('database')['state']")" "database fails"
t_assert_eq db "$(py "c('database')['error']")" "error kind"
t_assert_contains "$(py "c('database')['detail']")" "cannot connect to database 127.0.0.1:$closed_port" "database detail"
t_assert_eq fail "$(py "c('health')['state']")" "health checked too"
t_assert_eq "$bundle" "$(py "c('backup')['last_backup']['file']")" "backup checked too"
t_assert_exit 3 "$FERRY_BIN" status
t_assert_contains "$T_OUT" "[FAIL] database" "text database line"

t_log "usage errors"
t_assert_exit 2 "$FERRY_BIN" status extra
t_assert_exit 0 "$FERRY_BIN" status --help
t_assert_contains "$T_OUT" "usage: ferry status" "help"

t_log "the newest bundle failed verification: fail, exit 4"
profile "$url" "$health_url" "true" "$SSH_PORT"
python3 - "$work/backups/$bundle" <<'PY'
import os, sys
p = sys.argv[1]
with open(p, "r+b") as f:
    f.seek(os.path.getsize(p) // 2)
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0xFF]))
PY
t_assert_exit 4 "$FERRY_BIN" verify "$bundle"
FERRY_FAULT_FREE_BYTES=999999999999999 t_assert_exit 4 "$FERRY_FAULTS_BIN" status --json
t_assert_eq fail "$(py "c('backup')['state']")" "backup fails"
t_assert_eq False "$(py "c('backup')['last_backup']['verified']")" "verified false"
t_assert_contains "$(py "c('backup')['detail']")" "FAILED" "detail says FAILED"
