#!/usr/bin/env bash
# The plan is the run: for every flow, the step ids `--dry-run --json`
# lists are exactly, in order, the step ids a successful `--json` run
# reports (step_start / step_skip events; a sub-flow's steps, "backup/dump"
# and the like, are its own). Backup, verify (and --deep), drill (here and
# on another server), restore (a new
# database and over an existing one), rollback, reset, deploy, push,
# migrate.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)
chmod 755 "$work"
db=shop_ids_$$
t_psql_source "CREATE DATABASE $db"
t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
t_on_exit "for d in \$(t_psql_source \"SELECT datname FROM pg_database WHERE datname LIKE '${db}%'\"); do t_psql_source \"DROP DATABASE IF EXISTS \\\"\$d\\\"\" >/dev/null 2>&1; done"
t_on_exit "for d in \$(t_psql_target \"SELECT datname FROM pg_database WHERE datname LIKE '${db}%'\"); do t_psql_target \"DROP DATABASE IF EXISTS \\\"\$d\\\"\" >/dev/null 2>&1; done"
DB=$db t_psql_source "$(cat "$FERRY_SRC/tests/fixtures/shop.sql")" >/dev/null
mkdir -p "$work/app/uploads" "$work/www"
echo photo >"$work/app/uploads/a.jpg"
echo ok >"$work/www/health"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
web=$FERRY_SRC/tests/fixtures/webapp.sh
t_on_exit "'$web' stop $port '$work/www' || true"

ssh_json="\"ssh\": {\"host\": \"127.0.0.1\", \"port\": $SSH_PORT, \"user\": \"$SSH_USER\",
          \"identity_file\": \"$SSH_KEY\", \"known_hosts\": \"$SSH_KNOWN_HOSTS\",
          \"use_ssh_config\": false, \"ferry_path\": \"$FERRY_BIN\"}"
cat >"$work/profiles.json" <<JSON
{
  "here": {
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"},
    "app": {"root": "$work/app", "paths": ["uploads"]},
    "backup": {"dir": "$work/backups"},
    "log_dir": "$work/logs",
    "hooks": {"pre_backup": ["true"], "post_backup": ["true"]},
    "services": {"orchestrator": "custom", "restart": ["$web restart $port $work/www"]},
    "health": [{"name": "web", "url": "http://127.0.0.1:$port/health", "expect": 200, "retries": 20, "interval_s": 1}]
  },
  "there": {
    "database": {"url": "postgresql://ferry@/$db?host=$TARGET_SOCK&port=$TARGET_PORT"},
    "app": {"root": "$work/remote/app", "paths": ["uploads"]},
    "backup": {"dir": "$work/remote/backups"},
    $ssh_json
  }
}
JSON
export FERRY_PROFILES=$work/profiles.json

# plan_ids: the ids of the plan JSON on stdin.
plan_ids() {
    python3 -c 'import json,sys; print(",".join(s["id"] for s in json.loads(sys.stdin.read().strip().splitlines()[-1])["steps"]))'
}
# run_ids: the top-level step ids the events on stdin name, each once.
run_ids() {
    python3 -c '
import json, sys
ids = []
for line in sys.stdin:
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get("event") in ("step_start", "step_skip") and "/" not in o.get("step", "/"):
        if not ids or ids[-1] != o["step"]:
            ids.append(o["step"])
print(",".join(ids))'
}
# same WHAT ARGS...: the dry run's plan ids equal the run's step ids.
same() {
    local what=$1 plan run
    shift
    t_assert_exit 0 "$FERRY_BIN" "$@" --dry-run --json
    plan=$(plan_ids <<<"$T_OUT")
    t_assert_exit 0 "$FERRY_BIN" "$@" --json
    run=$(run_ids <<<"$T_OUT")
    t_log "$what: $plan"
    t_assert_eq "$plan" "$run" "$what: plan ids = run ids"
}

same backup backup --profile here
bundle=$(ls "$work"/backups/here_*.ferry.tar.zst | head -n 1)
same verify verify "$bundle" --profile here
same "verify --deep" verify "$bundle" --profile here --deep
same drill drill "$bundle" --profile here
same "drill on another server" drill --profile here --server there
same "restore into a new database" restore "$bundle" --profile there --yes --no-safety-backup
same "restore over the database" restore "$bundle" --profile here --yes
same rollback rollback --profile here --yes
same reset reset --profile here --force --yes --no-seed
same deploy deploy --env here
same push push "$bundle" --target there
same migrate migrate --from here --target there --yes
