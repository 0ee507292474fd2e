#!/usr/bin/env bash
# make demo: a sandbox to try ferry on, stopped again when you leave.
#
# Starts the test bed (a "source" PostgreSQL cluster with a small sample
# shop database and app files, a "target" cluster behind a local sshd that
# stands in for the new server), writes demo profiles naming both, and opens
# ferry on them; it says how to use the sandbox from another shell while it
# runs. Leaving stops the sandbox's servers and removes them; the bundles
# and logs made in it are kept, and it says where (and how to remove them).
# Without a terminal the menu is drawn once; with FERRY_KEYS the wizard is
# driven by that key script (tests).
set -euo pipefail

ferry=${1:?usage: demo.sh /path/to/ferry}
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/ferry-demo.XXXXXX)
chmod 755 "$dir"

. "$src/tests/testbed.sh"
# Stop the servers and remove them; keep what the operator made (bundles,
# logs) and say so.
stop_all() {
    trap - EXIT INT TERM
    testbed_stop "$dir/bed" >/dev/null 2>&1 || true
    rm -rf "$dir/bed" "$dir/keys" "$dir/menu.txt"
    local n
    n=$( (find "$dir/backups" "$dir/new-server/backups" -name '*.ferry.tar*' ! -name '*.part' \
        ! -name '*.verified' 2>/dev/null || true) | wc -l)
    echo
    echo "sandbox stopped: its PostgreSQL servers and sshd are gone."
    if [ "$n" -gt 0 ]; then
        echo "kept: $n bundle(s) in $dir/backups (and $dir/new-server/backups), logs in $dir/logs"
        echo "remove them with: rm -rf $dir"
    else
        rm -rf "$dir"
        echo "no bundles were made; nothing is left behind"
    fi
}
trap stop_all EXIT INT TERM
testbed_start "$dir/bed"

"$PGBIN/psql" -X -q -h "$SOURCE_SOCK" -p "$SOURCE_PORT" -U ferry -d postgres -c "CREATE DATABASE shop"
"$PGBIN/psql" -X -q -h "$SOURCE_SOCK" -p "$SOURCE_PORT" -U ferry -d shop -f "$src/tests/fixtures/shop.sql" >/dev/null

app=$dir/app
mkdir -p "$app/uploads" "$app/config" "$app/logs"
for i in 1 2 3; do head -c 20000 /dev/urandom >"$app/uploads/photo$i.jpg"; done
printf 'API_URL=http://127.0.0.1:8080\n' >"$app/config/app.env"
printf 'started\n' >"$app/logs/app.log"

cat >"$dir/profiles.json" <<JSON
{
  "demo": {
    "description": "the sandbox shop on this machine",
    "database": {"url": "postgresql://ferry@127.0.0.1:$SOURCE_PORT/shop"},
    "app": {"root": "$app", "paths": ["uploads", "config", "logs"], "exclude": ["logs/*.tmp"]},
    "backup": {"dir": "$dir/backups"},
    "log_dir": "$dir/logs"
  },
  "new-server": {
    "description": "the stand-in new server, reached over SSH",
    "database": {"url": "postgresql://ferry@/shop?host=$TARGET_SOCK&port=$TARGET_PORT"},
    "app": {"root": "$dir/new-server/app", "paths": ["uploads", "config", "logs"]},
    "backup": {"dir": "$dir/new-server/backups"},
    "log_dir": "$dir/new-server/logs",
    "ssh": {"host": "127.0.0.1", "port": $SSH_PORT, "user": "$SSH_USER",
            "identity_file": "$SSH_KEY", "known_hosts": "$SSH_KNOWN_HOSTS",
            "use_ssh_config": false, "ferry_path": "$ferry"}
  }
}
JSON
export FERRY_PROFILES=$dir/profiles.json PGPASSFILE
# The bundles' directory, so that `ferry profiles check` passes from the start.
mkdir -m 0700 -p "$dir/backups"

echo
echo "sandbox ready: profiles in $FERRY_PROFILES (demo, new-server)"
echo "from another shell, while this runs:"
echo "  export FERRY_PROFILES=$FERRY_PROFILES PGPASSFILE=$PGPASSFILE"
echo "  $ferry status --profile demo"
echo "leaving ferry stops the sandbox; the bundles made in it are kept."
if [ -n "${FERRY_KEYS:-}" ]; then
    # A key script drives the wizard (tests); the trap says what is kept.
    "$ferry" || true
elif [ -t 0 ] && [ -t 1 ]; then
    # The wizard; leaving it stops the sandbox (the trap).
    "$ferry" || true
else
    # No terminal (a script, CI): the same menu, drawn off-screen once.
    keys=$dir/keys
    printf 'dump:%s\n' "$dir/menu.txt" >"$keys"
    FERRY_KEYS=$keys "$ferry" >/dev/null
    cat "$dir/menu.txt"
    echo "(no terminal: run make demo in a terminal to use the wizard)"
fi
