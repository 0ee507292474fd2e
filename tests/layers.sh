#!/bin/sh
# make layers: each external library's headers are included in one place
# only, core/ never sees curses or the front end, tui/ never sees libpq,
# libssh or libarchive (it goes through core).  Prints every offending
# include as FILE:LINE: and exits 1 when there is one.
#
#   library      may be included in
#   libpq        core/db.c
#   libssh       core/ssh/
#   libarchive   core/bundle/
#   libcurl      core/http.c
#   OpenSSL      core/hash.c core/crypto/
#   curses       tui/ui/
set -eu
cd "$(dirname "$0")/.."

# rule NAME REGEX ALLOWED_PREFIX...: includes matching REGEX outside the
# allowed paths are errors (one grep over every file, not one per file).
rule() {
    name=$1 re=$2
    shift 2
    find core tui tests/unit -name '*.[ch]' | sort |
        xargs grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($re)" /dev/null |
        awk -v allowed="$*" -v name="$name" '
            BEGIN { n = split(allowed, prefix, " ") }
            {
                file = $0
                sub(/:.*/, "", file)
                for (i = 1; i <= n; i++)
                    if (index(file, prefix[i]) == 1)
                        next
                print $0 "   (" name " is only included in " allowed ")"
            }'
}

out=$(
    rule libpq 'libpq-fe\.h|libpq/|pg_config' core/db.c
    rule libssh 'libssh/' core/ssh/
    rule libarchive 'archive\.h|archive_entry\.h' core/bundle/
    rule libcurl 'curl/' core/http.c
    rule OpenSSL 'openssl/' core/hash.c core/crypto/
    rule curses 'n?curses(w)?\.h|ncursesw/|term\.h|panel\.h' tui/ui/
)
# core/ never includes a front-end header.
front=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(cli|ui|wiz)/' core 2>/dev/null || true)

if [ -n "$out" ] || [ -n "$front" ]; then
    [ -n "$out" ] && printf '%s\n' "$out" >&2
    [ -n "$front" ] && printf '%s   (core/ never includes the front end)\n' "$front" >&2
    echo "layers: library headers included outside their folder (see above)" >&2
    exit 1
fi
exit 0
