#!/usr/bin/env bash
# The command line: help, version, exit codes, profiles list/show/check,
# a broken profile (exit 2 with line and column), secrets redacted, NO_COLOR.
. "$FERRY_SRC/tests/lib.sh"

work=$(t_tmpdir)

t_assert_exit 0 "$FERRY_BIN" --help
t_assert_contains "$T_OUT" "backup" "help lists backup"
t_assert_contains "$T_OUT" "restore" "help lists restore"
t_assert_exit 0 "$FERRY_BIN" --version
t_assert_contains "$T_OUT" "ferry $(cat "$FERRY_SRC/VERSION")" "version"
t_assert_exit 0 "$FERRY_BIN" help backup
t_assert_contains "$T_OUT" "--exclude-table" "help backup"
t_assert_exit 0 "$FERRY_BIN" help exit-codes
t_assert_contains "$T_OUT" "130  interrupted" "exit code table"

t_log "unknown command and option: exit 2 with a hint"
t_assert_exit 2 "$FERRY_BIN" bakup
t_assert_eq 'ferry: unknown command "bakup"' "$(printf '%s\n' "$T_ERR" | head -n 1)" "unknown command"
t_assert_contains "$T_ERR" 'did you mean "backup"?' "did-you-mean"
t_assert_exit 2 "$FERRY_BIN" backup --frobnicate
t_assert_contains "$T_ERR" "ferry help backup" "bad option hint"

t_log "example profiles pass profiles check"
printf "DB_PASSWORD=x\nSTAGING_HOST=staging.example.com\n" >"$work/.env"
for f in "$FERRY_SRC"/profiles/*.json; do
    APP_ROOT=$work STAGING_HOST=staging.example.com DB_PASSWORD=x \
        t_assert_exit 0 "$FERRY_BIN" profiles check "$f"
    t_assert_contains "$T_OUT" "ok: " "profiles check $f"
done

t_log "a broken profile exits 2 naming line and column"
printf '{\n  "prod": {\n    "database": {"url": "postgresql://a@b/c"},\n    "ssh": {"host": "h", "port": "22a"}\n  }\n}\n' >"$work/bad-type.json"
t_assert_exit 2 "$FERRY_BIN" profiles check "$work/bad-type.json"
t_assert_contains "$T_ERR" "prod.ssh.port: expected an integer 1-65535, got \"22a\"" "key path message"
printf '{\n  "prod": {\n    "database": {"url": "x"}\n    "backup": {}\n  }\n}\n' >"$work/bad-syntax.json"
t_assert_exit 2 "$FERRY_BIN" profiles check "$work/bad-syntax.json"
t_assert_contains "$T_ERR" "bad-syntax.json:4:" "line and column"
printf '{"prod": {"database": {"url": "x"}, "ssh": {"hots": "h"}}}\n' >"$work/typo.json"
t_assert_exit 2 "$FERRY_BIN" profiles check "$work/typo.json"
t_assert_contains "$T_ERR" 'did you mean "host"?' "did-you-mean for a key"

t_log "profiles list / show, secrets redacted"
cat >"$work/p.json" <<'JSON'
{"prod": {"database": {"url": "postgresql://app:${DB_PASSWORD}@db.internal:5432/shop"}},
 "staging": {"database": {"url": "postgresql://app@staging/shop"}}}
JSON
DB_PASSWORD=hunter2secret t_assert_exit 0 "$FERRY_BIN" profiles show prod --profiles "$work/p.json"
t_assert_not_contains "$T_OUT" "hunter2secret" "password redacted"
t_assert_contains "$T_OUT" "app:***@db.internal" "redaction marker"
DB_PASSWORD=x t_assert_exit 0 "$FERRY_BIN" profiles list --profiles "$work/p.json"
t_assert_contains "$T_OUT" "staging" "list"
DB_PASSWORD=x t_assert_exit 2 "$FERRY_BIN" backup --profiles "$work/p.json" --dry-run
t_assert_contains "$T_ERR" "has 2 profiles; pick one" "ambiguous profile"
t_assert_exit 2 "$FERRY_BIN" profiles show prod --profiles "$work/p.json"
t_assert_contains "$T_ERR" '${DB_PASSWORD} is not set' "unset variable"

t_log "no colour without a terminal or with NO_COLOR"
t_assert_exit 2 "$FERRY_BIN" bakup
t_assert_not_contains "$T_ERR" $'\033[' "no escape codes"

t_log "--json errors are machine readable"
t_assert_exit 2 "$FERRY_BIN" profiles check "$work/bad-type.json" --json
t_assert_contains "$T_OUT" '"exit_code":2' "json error"
