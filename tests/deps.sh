#!/bin/sh
# Install the Debian packages that building and testing ferry need.
#
# Prints nothing when everything is installed already.  When something is
# missing and we are root: one `apt-get update`, then one non-interactive
# install of exactly the missing packages (--no-upgrade: an installed
# PostgreSQL or library is never upgraded by this script).  Not root: prints
# the command to run and exits 1.
#
# Usage: sh tests/deps.sh          (what `make deps` runs)
#        sh tests/deps.sh --list   (print the package list and exit)
set -eu

# postgresql-15 ships the contrib modules on Debian 12 (it Provides
# postgresql-contrib-15); postgresql-client-15 has psql, pg_dump, pg_restore.
# gcc only Recommends libc6-dev, so it is listed on its own (we install with
# --no-install-recommends). groff-base and zsh check the manual page and the
# zsh completion script (tests/integration/12_cli_table.sh).
# python3-alembic, python3-django and
# python3-psycopg2: tests/integration/32_revisions.sh runs the real migration
# tools (with /usr/bin/python3) and checks ferry reads their revisions alike.
PACKAGES="
postgresql-15 postgresql-client-15
libpq-dev libssh-dev libarchive-dev libncurses-dev libjansson-dev
libcurl4-openssl-dev libssl-dev libcmocka-dev
openssh-server openssh-client
gcc libc6-dev make pkg-config cppcheck
zstd tar gzip tmux python3 curl ca-certificates
groff-base zsh python3-alembic python3-django python3-psycopg2
procps util-linux iproute2 coreutils findutils
age awscli python3-botocore
"

# The S3 server of the test bed (tests/testbed.sh): fauxqs from npm, pinned,
# installed into FERRY_NPM_DIR. age, awscli and python3-botocore: the offsite
# tests encrypt with the real age, check interop with the real aws client,
# and tests/s3proxy.py checks every request's SigV4 signature with botocore.
NPM_DIR=${FERRY_NPM_DIR:-/usr/local/lib/ferry-tests}
NPM_PACKAGES="fauxqs@1.9.2"

npm_deps() {
    [ -f "$NPM_DIR/node_modules/fauxqs/package.json" ] && return 0
    if ! command -v npm >/dev/null 2>&1; then
        echo "deps: npm is missing (Node.js 20 or newer with npm is needed for the S3 test server)" >&2
        return 1
    fi
    echo "deps: npm install $NPM_PACKAGES into $NPM_DIR"
    mkdir -p "$NPM_DIR"
    # shellcheck disable=SC2086
    npm install --prefix "$NPM_DIR" --no-audit --no-fund --no-save $NPM_PACKAGES >/dev/null
}

if [ "${1:-}" = "--list" ]; then
    for p in $PACKAGES; do echo "$p"; done
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: dpkg-query not found: this script installs Debian packages (Debian 12)" >&2
    echo "deps: hint: install by hand:$(echo "$PACKAGES" | tr '\n' ' ')" >&2
    exit 1
fi

missing=""
for p in $PACKAGES; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    case "$st" in
        installed) ;;
        *) missing="$missing $p" ;;
    esac
done
missing=${missing# }

if [ -z "$missing" ]; then
    npm_deps
    exit $?
fi

cmd="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade $missing"

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages: $missing" >&2
    echo "deps: run as root:" >&2
    echo "  $cmd" >&2
    exit 1
fi

echo "deps: installing: $missing"
export DEBIAN_FRONTEND=noninteractive
# Retry once: a mirror can be briefly out of step with its index.
if ! apt-get update -qq; then
    sleep 2
    apt-get update -qq
fi
# shellcheck disable=SC2086 # word splitting of the package list is intended
if ! apt-get install -y -qq --no-install-recommends --no-upgrade \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        $missing </dev/null; then
    echo "deps: apt-get install failed; retrying after apt-get update" >&2
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends --no-upgrade \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        $missing </dev/null
fi

# Verify: a package that apt could not install must not pass silently.
still=""
for p in $missing; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = installed ] || still="$still $p"
done
if [ -n "$still" ]; then
    echo "deps: still missing after install:$still" >&2
    exit 1
fi
npm_deps
echo "deps: done"
