#!/usr/bin/env bash
# The ferry test bed: two real PostgreSQL 15 clusters ("source", "target") and
# a real OpenSSH sshd, all on 127.0.0.1 at free ports, all under one directory.
# Shared by the integration tests (tests/run.sh), `make demo` and `make bench`.
#
#   tests/testbed.sh start  DIR   start everything, write DIR/testbed.env
#   tests/testbed.sh stop   DIR   stop everything by pid, remove DIR
#   tests/testbed.sh status DIR   print what runs; exit 0 only if all of it does
#
# Sourced (`. tests/testbed.sh`), it defines testbed_start DIR (starts the bed
# and exports DIR/testbed.env into the calling shell), testbed_stop DIR and
# testbed_status DIR; each runs this file as a child process, so the caller's
# shell options do not matter.
#
# DIR/testbed.env (KEY=value lines, absolute paths, sourceable):
#   TESTBED_DIR TESTBED_ID TESTBED_SH PGBIN PG_MAJOR PG_USER PG_PASSWORD
#   PGPASSFILE SOURCE_{PORT,SOCK,DATA,LOG,PID,URL} TARGET_{PORT,SOCK,DATA,LOG,
#   PID,URL} SSH_HOST SSH_PORT SSH_USER SSH_KEY SSH_KNOWN_HOSTS SSH_HOST_PUB
#   SSH_CONFIG SSH_PID SSHD_CONFIG SSHD_LOG S3_ENDPOINT S3_REGION S3_BUCKET
#   S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY S3_REQUEST_LOG S3_SERVER_PID
#   S3_PROXY_PID (an S3 server behind a SigV4-checking proxy: tests/s3proxy.py)
#
# Auth: local (unix socket) connections are trusted; TCP from 127.0.0.1 needs
# a password (scram-sha-256).  Roles `ferry` (superuser, the one tests use) and
# `postgres` share PG_PASSWORD, which PGPASSFILE holds, so libpq clients log in
# without a password ever being in argv.  sshd takes only the generated key,
# only for the current user; SSH_KNOWN_HOSTS pins its generated host key.
#
# Environment: TESTBED_PGBIN overrides /usr/lib/postgresql/15/bin.

if [ -z "${BASH_VERSION:-}" ]; then
    exec bash "$0" "$@"
fi

_TB_SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

# ---- sourced API: thin wrappers that run this file as a child process ------

testbed_start() {
    bash "$_TB_SELF" start "$1" || return 1
    set -a
    # shellcheck disable=SC1091
    . "$1/testbed.env"
    set +a
}
testbed_stop()   { bash "$_TB_SELF" stop "$1"; }
testbed_status() { bash "$_TB_SELF" status "$1"; }

# ---- implementation ---------------------------------------------------------

tb_say() { printf 'testbed: %s\n' "$*" >&2; }

# tb_die MSG [LOGFILE...]: print MSG and the tail of each log, exit 1.
tb_die() {
    local msg=$1 f
    shift
    tb_say "error: $msg"
    for f in "$@"; do
        if [ -s "$f" ]; then
            printf -- '--- last lines of %s ---\n' "$f" >&2
            tail -n 25 "$f" >&2
            printf -- '---\n' >&2
        fi
    done
    exit 1
}

tb_is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as the unprivileged postgres user when we are root (initdb
# and the server refuse root), else as ourselves.  `cd /` first: runuser from
# a directory postgres cannot read prints noise.
tb_as_pg() {
    if tb_is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

tb_pg_owner() {
    if tb_is_root; then chown postgres:postgres "$@"; fi
}

# Print N distinct TCP ports that are free on 127.0.0.1 right now.  The kernel
# picks them (bind to port 0), all sockets held open together so they differ.
tb_free_ports() {
    local n=$1 py
    py=$(command -v /usr/bin/python3 || command -v python3 || true)
    if [ -n "$py" ]; then
        "$py" - "$n" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
        return
    fi
    # Fallback: random high ports not in use according to ss.
    local out="" p used
    used=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' || true)
    while [ "$(wc -w <<<"$out")" -lt "$n" ]; do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        grep -qx "$p" <<<"$used" && continue
        case " $out " in *" $p "*) continue ;; esac
        out="$out $p"
    done
    echo "${out# }"
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
tb_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when PID runs.  A zombie counts as gone: here the orphaned postmaster
# and sshd are reaped by pid 1, which can take a second or two.
tb_pid_alive() {
    local stat
    if [ -z "$1" ] || ! kill -0 "$1" 2>/dev/null; then return 1; fi
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# True when PID runs and its command line contains STRING.
tb_pid_is() {
    local pid=$1 s=$2 cmd
    tb_pid_alive "$pid" || return 1
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmd == *"$s"* ]]
}

# Wait up to SECS for PID to exit; true when it did.
tb_wait_gone() {
    local pid=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        tb_pid_alive "$pid" || return 0
        sleep 0.1
    done
    ! tb_pid_alive "$pid"
}

# All descendants of PID (children first, then theirs).
tb_descendants() {
    ps -e -o pid=,ppid= 2>/dev/null | awk -v root="$1" '
        { kids[$2] = kids[$2] " " $1 }
        END {
            n = split(kids[root], q, " "); i = 1
            while (i <= n) {
                p = q[i++]; print p
                m = split(kids[p], c, " ")
                for (j = 1; j <= m; j++) q[++n] = c[j]
            }
        }'
}

tb_random_string() {
    # 24 alphanumeric characters.
    local s=""
    while [ ${#s} -lt 24 ]; do
        s="$s$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
    done
    printf '%s' "${s:0:24}"
}

tb_pgbin() {
    local b=${TESTBED_PGBIN:-/usr/lib/postgresql/15/bin}
    local f
    for f in initdb pg_ctl postgres psql; do
        [ -x "$b/$f" ] ||
            tb_die "PostgreSQL 15 server binaries not found in $b (hint: sh tests/deps.sh installs postgresql-15)"
    done
    echo "$b"
}

# ---- PostgreSQL --------------------------------------------------------------

# tb_pg_write_conf DIR NAME PORT: the settings the test bed runs a cluster with.
tb_pg_write_conf() {
    local dir=$1 name=$2 port=$3 data=$1/pg/$2
    cat >"$data/testbed.conf" <<EOF
# Written by tests/testbed.sh; included from postgresql.conf.
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/pg/$name-sock'
cluster_name = 'ferry-$TB_ID-$name'
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
max_connections = 50
max_wal_senders = 4
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
log_connections = off
EOF
    tb_pg_owner "$data/testbed.conf"
}

tb_pg_start() {
    local dir=$1 name=$2 port=$3 data=$1/pg/$2 log=$1/pg/$2.log
    tb_pg_write_conf "$dir" "$name" "$port"
    tb_as_pg "$PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start </dev/null >>"$dir/pg/$name-ctl.log" 2>&1
}

# Start cluster NAME, picking a new port when the one chosen was taken
# meanwhile (another test bed starting at the same moment).  Prints the port.
tb_pg_start_retry() {
    local dir=$1 name=$2 port=$3 try
    for try in 1 2 3 4 5; do
        if tb_pg_start "$dir" "$name" "$port"; then
            echo "$port"
            return 0
        fi
        if grep -qE 'could not (bind|create any TCP/IP)|already in use' "$dir/pg/$name.log" 2>/dev/null && [ "$try" -lt 5 ]; then
            tb_say "port $port for $name was taken; trying another"
            port=$(tb_free_ports 1)
            continue
        fi
        return 1
    done
    return 1
}

tb_pg_setup_roles() {
    local dir=$1 name=$2 port=$3
    # Passwords travel on stdin, never in argv.
    tb_as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/pg/$name-sock" -p "$port" \
        -U postgres -d postgres >>"$dir/pg/$name-ctl.log" 2>&1 <<EOF
ALTER ROLE postgres PASSWORD '$TB_PASSWORD';
CREATE ROLE ferry SUPERUSER LOGIN PASSWORD '$TB_PASSWORD';
EOF
}

# ---- sshd --------------------------------------------------------------------

tb_sshd_write_conf() {
    local dir=$1 port=$2 user=$3
    cat >"$dir/ssh/sshd_config" <<EOF
# Written by tests/testbed.sh.
Port $port
ListenAddress 127.0.0.1
AddressFamily inet
HostKey $dir/ssh/ssh_host_ed25519_key
PidFile $dir/ssh/sshd.pid
AuthorizedKeysFile $dir/ssh/authorized_keys
AllowUsers $user
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
HostbasedAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PrintMotd no
PrintLastLog no
X11Forwarding no
MaxStartups 100:30:200
MaxSessions 20
LogLevel VERBOSE
# Bash reads ~/.bashrc for each command sshd runs (Debian builds it so),
# unless it counts itself nested. This host's dotfiles are not the test
# server's: a root .bashrc's pyenv init waits 60 s on the lock a killed
# session left, before every command. SHLVL=1 makes bash count itself nested.
SetEnv SHLVL=1
Subsystem sftp internal-sftp
EOF
    printf '[127.0.0.1]:%s %s\n[localhost]:%s %s\n' "$port" "$(cat "$dir/ssh/ssh_host_ed25519_key.pub")" \
        "$port" "$(cat "$dir/ssh/ssh_host_ed25519_key.pub")" >"$dir/ssh/known_hosts"
    cat >"$dir/ssh/ssh_config" <<EOF
# Client config for the test bed: ssh -F $dir/ssh/ssh_config testbed CMD
Host testbed
    HostName 127.0.0.1
    Port $port
    User $user
    IdentityFile $dir/ssh/id_ed25519
    IdentitiesOnly yes
    UserKnownHostsFile $dir/ssh/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    BatchMode yes
    PasswordAuthentication no
    KbdInteractiveAuthentication no
    LogLevel ERROR
EOF
}

# Start sshd on PORT (retrying on a taken port).  Prints "PORT PID".
tb_sshd_start() {
    local dir=$1 port=$2 user=$3 try i pid=""
    local sshd=/usr/sbin/sshd
    [ -x "$sshd" ] || tb_die "$sshd not found (hint: sh tests/deps.sh installs openssh-server)"
    # sshd (as root) needs its privilege separation directory.
    if tb_is_root; then mkdir -p /run/sshd && chmod 0755 /run/sshd; fi
    for try in 1 2 3 4 5; do
        tb_sshd_write_conf "$dir" "$port" "$user"
        rm -f "$dir/ssh/sshd.pid"
        # Absolute path: sshd refuses to re-exec itself otherwise.
        if "$sshd" -f "$dir/ssh/sshd_config" -E "$dir/ssh/sshd.log" </dev/null >>"$dir/ssh/sshd-start.log" 2>&1; then
            for ((i = 0; i < 100; i++)); do
                pid=$(cat "$dir/ssh/sshd.pid" 2>/dev/null || true)
                if [ -n "$pid" ] && tb_port_open "$port"; then
                    echo "$port $pid"
                    return 0
                fi
                sleep 0.1
            done
            return 1
        fi
        if grep -qE 'Cannot bind|Address already in use' "$dir/ssh/sshd.log" "$dir/ssh/sshd-start.log" 2>/dev/null && [ "$try" -lt 5 ]; then
            tb_say "port $port for sshd was taken; trying another"
            port=$(tb_free_ports 1)
            continue
        fi
        return 1
    done
    return 1
}

# ---- S3 ----------------------------------------------------------------------
# A real S3-compatible server (fauxqs, from npm; tests/deps.sh installs it
# into FERRY_NPM_DIR) on 127.0.0.1, behind tests/s3proxy.py, which checks
# every request's AWS SigV4 signature with botocore and refuses a wrong one.
# Ferry and aws talk to the proxy only.

TB_NPM_DIR=${FERRY_NPM_DIR:-/usr/local/lib/ferry-tests}

# tb_wait_file FILE SECS: true once FILE exists.
tb_wait_file() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    [ -s "$1" ]
}

# Start the server and the proxy; prints "PROXY_PORT SERVER_PID PROXY_PID".
tb_s3_start() {
    local dir=$1 key=$2 secret=$3 cli=$TB_NPM_DIR/node_modules/fauxqs/dist/cli.js port try spid ppid
    [ -f "$cli" ] || tb_die "fauxqs (the S3 server) is not installed in $TB_NPM_DIR (hint: sh tests/deps.sh)"
    /usr/bin/python3 -c 'import botocore' 2>/dev/null ||
        tb_die "python3-botocore is missing (hint: sh tests/deps.sh)"
    mkdir -p "$dir/s3"
    for try in 1 2 3 4 5; do
        port=$(tb_free_ports 1)
        FAUXQS_PORT=$port FAUXQS_HOST=127.0.0.1 FAUXQS_LOGGER=false \
            node "$cli" </dev/null >>"$dir/s3/server.log" 2>&1 &
        spid=$!
        local i
        for ((i = 0; i < 100; i++)); do
            tb_port_open "$port" && break
            tb_pid_alive "$spid" || break
            sleep 0.1
        done
        tb_port_open "$port" && break
        kill "$spid" 2>/dev/null || true
        [ "$try" -lt 5 ] || return 1
    done
    echo "$spid" >"$dir/s3/server.pid"
    rm -f "$dir/s3/proxy.port"
    /usr/bin/python3 "$(dirname "$_TB_SELF")/s3proxy.py" --upstream "$port" --access-key "$key" \
        --secret-key "$secret" --region us-east-1 --log "$dir/s3/requests.log" \
        --port-file "$dir/s3/proxy.port" </dev/null >>"$dir/s3/proxy.log" 2>&1 &
    ppid=$!
    echo "$ppid" >"$dir/s3/proxy.pid"
    tb_wait_file "$dir/s3/proxy.port" 30 || return 1
    echo "$(cat "$dir/s3/proxy.port") $spid $ppid"
}

# Stop the S3 server and proxy by their pid files.
tb_s3_stop() {
    local dir=$1 f pid
    for f in proxy server; do
        pid=$(cat "$dir/s3/$f.pid" 2>/dev/null || true)
        [ -n "$pid" ] && tb_pid_alive "$pid" || continue
        kill -TERM "$pid" 2>/dev/null || true
        tb_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
    done
}

# ---- start / stop / status ---------------------------------------------------

tb_check_dir_name() {
    case "$1" in
        /*) ;;
        *) tb_die "DIR must be an absolute path: $1" ;;
    esac
    [[ $1 =~ ^[A-Za-z0-9._/-]+$ ]] ||
        tb_die "DIR may hold only letters, digits and . _ / - (got: $1)"
}

tb_abs() {
    case "$1" in
        /*) printf '%s' "$1" ;;
        *) printf '%s/%s' "$(pwd)" "$1" ;;
    esac
}

TB_STARTING=""
TB_BG=()

# EXIT trap of `start`: when it failed or was interrupted, end its background
# jobs (initdb, pg_ctl), stop whatever came up, keep the logs.
tb_start_cleanup() {
    local rc=$? p
    [ "$rc" -ne 0 ] || return 0
    [ -n "$TB_STARTING" ] || return "$rc"
    trap '' INT TERM HUP
    tb_say "start failed; stopping what was started (logs kept in $TB_STARTING)"
    for p in "${TB_BG[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${TB_BG[@]}"; do wait "$p" 2>/dev/null || true; done
    tb_stop_procs "$TB_STARTING" || true
    return "$rc"
}

tb_start() {
    local dir
    dir=$(tb_abs "$1")
    dir=${dir%/}
    tb_check_dir_name "$dir"
    if [ -e "$dir/.testbed" ]; then
        tb_die "a test bed was started in $dir already (hint: $_TB_SELF stop $dir)"
    fi
    if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
        tb_die "$dir exists and is not empty"
    fi
    mkdir -p "$dir"
    : >"$dir/.testbed"
    chmod 0755 "$dir"

    PGBIN=$(tb_pgbin)
    TB_ID=$(tb_random_string)
    TB_ID=${TB_ID:0:8}
    TB_PASSWORD=$(tb_random_string)
    local user
    user=$(id -un)

    if tb_is_root; then
        getent passwd postgres >/dev/null ||
            tb_die "no 'postgres' user (hint: sh tests/deps.sh installs postgresql-15, which creates it)"
        tb_as_pg test -x "$dir" ||
            tb_die "user postgres cannot reach $dir (hint: every parent directory needs o+x; use a directory under /tmp)"
        # sshd (UsePAM no) refuses even key logins to an account whose
        # password field is locked with '!'.
        if [ "$(getent shadow "$user" | cut -d: -f2 | cut -c1)" = "!" ]; then
            tb_die "account $user is locked ('!' in /etc/shadow): sshd refuses key logins to it (hint: usermod -p '*' $user)"
        fi
    fi

    # If anything below fails, stop what was started, keep the logs.
    TB_STARTING=$dir
    trap tb_start_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP

    mkdir -p "$dir/pg" "$dir/pg/source-sock" "$dir/pg/target-sock" "$dir/ssh"
    chmod 0755 "$dir/pg" "$dir/pg/source-sock" "$dir/pg/target-sock"
    chmod 0700 "$dir/ssh"
    tb_pg_owner "$dir/pg" "$dir/pg/source-sock" "$dir/pg/target-sock"

    # Keys for sshd, made while initdb runs.
    local name pids=()
    for name in source target; do
        # --no-sync: a test bed needs no durability, and it halves the time.
        tb_as_pg "$PGBIN/initdb" -D "$dir/pg/$name" -U postgres -A trust -E UTF8 \
            --locale=C.UTF-8 --lc-messages=C --no-sync --no-instructions \
            </dev/null >"$dir/pg/$name-initdb.log" 2>&1 &
        pids+=($!)
        TB_BG+=($!)
    done
    ssh-keygen -q -t ed25519 -N '' -C "ferry-testbed-host" -f "$dir/ssh/ssh_host_ed25519_key" </dev/null >/dev/null ||
        tb_die "ssh-keygen (host key) failed"
    ssh-keygen -q -t ed25519 -N '' -C "ferry-testbed-client" -f "$dir/ssh/id_ed25519" </dev/null >/dev/null ||
        tb_die "ssh-keygen (client key) failed"
    cp "$dir/ssh/id_ed25519.pub" "$dir/ssh/authorized_keys"
    chmod 0600 "$dir/ssh/authorized_keys" "$dir/ssh/id_ed25519" "$dir/ssh/ssh_host_ed25519_key"

    local i=0
    for name in source target; do
        wait "${pids[$i]}" || tb_die "initdb for $name failed" "$dir/pg/$name-initdb.log"
        i=$((i + 1))
        # pg_hba: trust on the socket; password (scram) over TCP.
        cat >"$dir/pg/$name/pg_hba.conf" <<EOF
# Written by tests/testbed.sh.
local   all             all                     trust
host    all             all     127.0.0.1/32    scram-sha-256
EOF
        echo "include 'testbed.conf'" >>"$dir/pg/$name/postgresql.conf"
        tb_pg_owner "$dir/pg/$name/pg_hba.conf"
    done

    local ports sport tport hport
    ports=$(tb_free_ports 3)
    read -r sport tport hport <<<"$ports"

    # Both clusters start at once.
    local sout tout
    sout=$(mktemp "$dir/.port.XXXXXX")
    tout=$(mktemp "$dir/.port.XXXXXX")
    tb_pg_start_retry "$dir" source "$sport" >"$sout" &
    local spid=$!
    TB_BG+=("$spid")
    tb_pg_start_retry "$dir" target "$tport" >"$tout" &
    local tpid=$!
    TB_BG+=("$tpid")
    local sok=0 tok=0
    wait "$spid" || sok=1
    wait "$tpid" || tok=1
    [ "$sok" -eq 0 ] || tb_die "PostgreSQL cluster 'source' did not start" "$dir/pg/source-ctl.log" "$dir/pg/source.log"
    [ "$tok" -eq 0 ] || tb_die "PostgreSQL cluster 'target' did not start" "$dir/pg/target-ctl.log" "$dir/pg/target.log"
    sport=$(cat "$sout")
    tport=$(cat "$tout")
    rm -f "$sout" "$tout"

    tb_pg_setup_roles "$dir" source "$sport" ||
        tb_die "creating roles on 'source' failed" "$dir/pg/source-ctl.log" "$dir/pg/source.log"
    tb_pg_setup_roles "$dir" target "$tport" ||
        tb_die "creating roles on 'target' failed" "$dir/pg/target-ctl.log" "$dir/pg/target.log"

    local spm tpm
    spm=$(head -n 1 "$dir/pg/source/postmaster.pid")
    tpm=$(head -n 1 "$dir/pg/target/postmaster.pid")

    # pgpass: hostname:port:database:username:password
    (
        umask 077
        for p in "$sport" "$tport"; do
            for h in 127.0.0.1 localhost; do
                printf '%s:%s:*:ferry:%s\n%s:%s:*:postgres:%s\n' "$h" "$p" "$TB_PASSWORD" "$h" "$p" "$TB_PASSWORD"
            done
        done >"$dir/pgpass"
    )

    local sshout sshport sshpid
    sshout=$(tb_sshd_start "$dir" "$hport" "$user") ||
        tb_die "sshd did not start" "$dir/ssh/sshd-start.log" "$dir/ssh/sshd.log"
    read -r sshport sshpid <<<"$sshout"

    local s3key s3secret s3out s3port s3pid s3ppid
    s3key=AK$(tb_random_string | cut -c1-16)
    s3secret=$(tb_random_string)
    s3out=$(tb_s3_start "$dir" "$s3key" "$s3secret") ||
        tb_die "the S3 server or its signature-checking proxy did not start" "$dir/s3/server.log" "$dir/s3/proxy.log"
    read -r s3port s3pid s3ppid <<<"$s3out"
    # One bucket for the tests, made through the proxy (signed).
    curl -sf -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$s3key:$s3secret" \
        -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
        "http://127.0.0.1:$s3port/ferry-test" >/dev/null ||
        tb_die "creating the test bucket failed" "$dir/s3/proxy.log" "$dir/s3/server.log"

    local env=$dir/testbed.env
    (
        umask 077
        cat >"$env.part" <<EOF
# Written by tests/testbed.sh start; source it (set -a; . $env; set +a).
TESTBED_DIR=$dir
TESTBED_ID=$TB_ID
TESTBED_SH=$_TB_SELF
PGBIN=$PGBIN
PG_MAJOR=15
PG_USER=ferry
PG_PASSWORD=$TB_PASSWORD
PGPASSFILE=$dir/pgpass
SOURCE_PORT=$sport
SOURCE_SOCK=$dir/pg/source-sock
SOURCE_DATA=$dir/pg/source
SOURCE_LOG=$dir/pg/source.log
SOURCE_PID=$spm
SOURCE_URL=postgresql://ferry@127.0.0.1:$sport/postgres
TARGET_PORT=$tport
TARGET_SOCK=$dir/pg/target-sock
TARGET_DATA=$dir/pg/target
TARGET_LOG=$dir/pg/target.log
TARGET_PID=$tpm
TARGET_URL=postgresql://ferry@127.0.0.1:$tport/postgres
SSH_HOST=127.0.0.1
SSH_PORT=$sshport
SSH_USER=$user
SSH_KEY=$dir/ssh/id_ed25519
SSH_KNOWN_HOSTS=$dir/ssh/known_hosts
SSH_HOST_PUB=$dir/ssh/ssh_host_ed25519_key.pub
SSH_CONFIG=$dir/ssh/ssh_config
SSH_PID=$sshpid
SSHD_CONFIG=$dir/ssh/sshd_config
SSHD_LOG=$dir/ssh/sshd.log
S3_ENDPOINT=http://127.0.0.1:$s3port
S3_REGION=us-east-1
S3_BUCKET=ferry-test
S3_ACCESS_KEY_ID=$s3key
S3_SECRET_ACCESS_KEY=$s3secret
S3_REQUEST_LOG=$dir/s3/requests.log
S3_SERVER_PID=$s3pid
S3_PROXY_PID=$s3ppid
EOF
    )
    mv "$env.part" "$env"
    trap - EXIT INT TERM HUP
    [ -t 2 ] && tb_say "up in $dir: source :$sport, target :$tport, sshd :$sshport"
    return 0
}

# Pids of test bed programs (not zombies) whose command line names DIR/.
tb_procs_under() {
    local dir=$1 pid stat comm args
    ps -e -o pid=,stat=,comm=,args= 2>/dev/null | while read -r pid stat comm args; do
        case "$stat" in Z*) continue ;; esac
        case "$comm" in postgres | postmaster | sshd | initdb | pg_ctl | runuser) ;; *) continue ;; esac
        case "$args" in *"$dir/"*) echo "$pid" ;; esac
    done
}

tb_sweep() {
    local dir=$1 pids p
    pids=$(tb_procs_under "$dir")
    [ -n "$pids" ] || return 0
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $pids; do
        tb_wait_gone "$p" 5 || kill -KILL "$p" 2>/dev/null || true
    done
}

# Stop postgres clusters and sshd under DIR, by pid.  Safe after a partial
# start, and when nothing runs.
tb_stop_procs() {
    local dir=$1 name data pid bad=0
    local pgbin=${PGBIN:-${TESTBED_PGBIN:-/usr/lib/postgresql/15/bin}}

    local stops=()
    for name in source target; do
        data=$dir/pg/$name
        [ -f "$data/postmaster.pid" ] || continue
        pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
        tb_pid_is "$pid" "$data" || continue
        (
            tb_as_pg "$pgbin/pg_ctl" -D "$data" -m fast -w -t 30 stop </dev/null >/dev/null 2>&1 || true
            if ! tb_wait_gone "$pid" 5; then
                kill -TERM "$pid" 2>/dev/null || true
                tb_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
            fi
        ) &
        stops+=($!)
    done

    tb_s3_stop "$dir"

    pid=$(cat "$dir/ssh/sshd.pid" 2>/dev/null || true)
    if tb_pid_is "$pid" "$dir/ssh/sshd_config"; then
        # The listener and every session it forked.
        local kids k
        kids=$(tb_descendants "$pid")
        kill -TERM "$pid" 2>/dev/null || true
        for k in $kids; do kill -TERM "$k" 2>/dev/null || true; done
        tb_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
        for k in $kids; do
            tb_wait_gone "$k" 5 || kill -KILL "$k" 2>/dev/null || true
        done
    fi

    for pid in "${stops[@]}"; do wait "$pid" || true; done

    # Anything else of ours still running: a postmaster that had not written
    # its pid file yet, an initdb, a pg_ctl.
    tb_sweep "$dir"

    # Verify: nothing of ours runs any more.
    for name in source target; do
        pid=$(head -n 1 "$dir/pg/$name/postmaster.pid" 2>/dev/null || true)
        if tb_pid_is "$pid" "$dir/pg/$name"; then
            tb_say "error: postgres $name (pid $pid) still runs"
            bad=1
        fi
    done
    pid=$(cat "$dir/ssh/sshd.pid" 2>/dev/null || true)
    if tb_pid_is "$pid" "$dir/ssh/sshd_config"; then
        tb_say "error: sshd (pid $pid) still runs"
        bad=1
    fi
    pid=$(tb_procs_under "$dir" | tr '\n' ' ')
    if [ -n "$pid" ]; then
        tb_say "error: still running: pids $pid"
        bad=1
    fi
    return "$bad"
}

tb_stop() {
    local dir
    dir=$(tb_abs "$1")
    dir=${dir%/}
    [ -d "$dir" ] || return 0
    if [ ! -e "$dir/.testbed" ] && [ -n "$(ls -A "$dir")" ]; then
        tb_die "$dir does not look like a test bed (no .testbed marker); not touching it"
    fi
    tb_stop_procs "$dir" || tb_die "could not stop everything in $dir"
    rm -rf "$dir"
}

tb_status() {
    local dir env rc=0 name pid port
    dir=$(tb_abs "$1")
    dir=${dir%/}
    env=$dir/testbed.env
    if [ ! -f "$env" ]; then
        echo "no test bed in $dir"
        return 1
    fi
    # shellcheck disable=SC1090
    . "$env"
    for name in source target; do
        if [ "$name" = source ]; then pid=$SOURCE_PID port=$SOURCE_PORT; else pid=$TARGET_PID port=$TARGET_PORT; fi
        if tb_pid_is "$pid" "$dir/pg/$name"; then
            printf '%-7s running  pid %-7s port %s  data %s\n' "$name" "$pid" "$port" "$dir/pg/$name"
        else
            printf '%-7s STOPPED  (pid %s, port %s)\n' "$name" "$pid" "$port"
            rc=1
        fi
    done
    if tb_pid_is "$SSH_PID" "$dir/ssh/sshd_config"; then
        printf '%-7s running  pid %-7s port %s  user %s\n' sshd "$SSH_PID" "$SSH_PORT" "$SSH_USER"
    else
        printf '%-7s STOPPED  (pid %s, port %s)\n' sshd "$SSH_PID" "$SSH_PORT"
        rc=1
    fi
    return "$rc"
}

tb_main() {
    set -euo pipefail
    local cmd=${1:-} dir=${2:-}
    if [ -z "$cmd" ] || [ -z "$dir" ]; then
        echo "usage: $0 start|stop|status DIR" >&2
        exit 2
    fi
    case "$cmd" in
        start) tb_start "$dir" ;;
        stop) tb_stop "$dir" ;;
        status) tb_status "$dir" ;;
        *)
            echo "usage: $0 start|stop|status DIR" >&2
            exit 2
            ;;
    esac
}

# Run only when executed, not when sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    tb_main "$@"
fi
