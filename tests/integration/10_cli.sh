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

t_log "the example profiles pass profiles check where they say they do"
# production.json: as it is (its paths are on its ssh host: only noted).
t_assert_exit 0 "$FERRY_BIN" profiles check "$FERRY_SRC/profiles/production.json"
t_assert_eq "ok: $FERRY_SRC/profiles/production.json: 1 profile (production)" "$T_OUT" "production.json"
t_assert_contains "$T_ERR" "note: production.app.root: /srv/shop does not exist here (fine when it is on db2.example.com, the profile's ssh host)" \
    "a path on the ssh host is noted"
# staging.json: DB_PASSWORD in $APP_ROOT/.env; the other variables have defaults.
t_assert_exit 2 env -u APP_ROOT -u DB_PASSWORD "$FERRY_BIN" profiles check "$FERRY_SRC/profiles/staging.json"
t_assert_contains "$T_ERR" "staging.app.env_file: cannot read /srv/shop-staging/.env" "without its .env: names it"
printf "DB_PASSWORD=x\n" >"$work/.env"
APP_ROOT=$work t_assert_exit 0 env -u STAGING_HOST "$FERRY_BIN" profiles check "$FERRY_SRC/profiles/staging.json"
t_assert_contains "$T_OUT" "ok: $FERRY_SRC/profiles/staging.json: 1 profile (staging)" "staging.json"
# local.json: as the config/migration_profiles.json of an app with its dirs.
t_assert_exit 2 "$FERRY_BIN" profiles check "$FERRY_SRC/profiles/local.json"
t_assert_contains "$T_ERR" "local.app.paths[0]: $FERRY_SRC/exports does not exist" "local.json where it is not"
mkdir -p "$work/laptop/config" "$work/laptop/exports" "$work/laptop/backups"
cp "$FERRY_SRC/profiles/local.json" "$work/laptop/config/migration_profiles.json"
t_assert_exit 0 "$FERRY_BIN" profiles check "$work/laptop/config/migration_profiles.json"
t_assert_contains "$T_OUT" "ok: " "local.json in an app's config/"

t_log "profiles check fails, naming them, when paths a run needs are missing"
mkdir -p "$work/root/uploads"
cat >"$work/paths.json" <<JSON
{"prod": {"database": {"url": "postgresql://a@b/c"}, "app": {"root": "$work/root", "paths": ["uploads"]},
          "backup": {"dir": "$work/nobackups"}}}
JSON
t_assert_exit 2 "$FERRY_BIN" profiles check "$work/paths.json"
t_assert_eq "ferry: $work/paths.json: prod.backup.dir: $work/nobackups does not exist" "$(printf '%s\n' "$T_ERR" | head -n 1)" \
    "a missing backup dir"
t_assert_eq "hint: create them (a backup dir with mkdir -p -m 0700 DIR) or correct the profile; \`ferry init\` writes a profile for this machine" \
    "$(printf '%s\n' "$T_ERR" | sed -n 2p)" "the hint"
t_assert_eq "" "$T_OUT" "no ok line"
rmdir "$work/root/uploads"
t_assert_exit 2 "$FERRY_BIN" profiles check "$work/paths.json"
t_assert_eq "ferry: $work/paths.json: 2 paths a run needs are missing: prod.app.paths[0]: $work/root/uploads does not exist; prod.backup.dir: $work/nobackups does not exist" \
    "$(printf '%s\n' "$T_ERR" | head -n 1)" "two missing paths"
mkdir -p "$work/root/uploads" "$work/nobackups"
t_assert_exit 0 "$FERRY_BIN" profiles check "$work/paths.json"
t_assert_eq "ok: $work/paths.json: 1 profile (prod)" "$T_OUT" "all there"

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
{"prod": {"description": "the live shop", "database": {"url": "postgresql://app:${DB_PASSWORD}@db.internal:5432/shop"}},
 "staging": {"database": {"url": "postgresql://app@staging/shop"}, "ssh": {"host": "stage1"}}}
JSON
DB_PASSWORD=hunter2secret t_assert_exit 0 "$FERRY_BIN" profiles show prod --profiles "$work/p.json"
t_assert_not_contains "$T_OUT" "hunter2secret" "password redacted"
t_assert_contains "$T_OUT" "app:***@db.internal" "redaction marker"
DB_PASSWORD=x t_assert_exit 0 "$FERRY_BIN" profiles list --profiles "$work/p.json"
t_assert_contains "$T_OUT" "staging" "list"
t_assert_eq "prod             database shop                    the live shop" "$(printf '%s\n' "$T_OUT" | head -n 1)" \
    "list: name, database, description"
t_assert_eq "staging          database shop, ssh stage1" "$(printf '%s\n' "$T_OUT" | sed -n 2p | sed 's/ *$//')" \
    "list: the ssh host"
DB_PASSWORD=x t_assert_exit 0 "$FERRY_BIN" profiles list --profiles "$work/p.json" --json
t_assert_contains "$T_OUT" '{"name":"prod","database":"shop","ssh_host":null,"description":"the live shop"}' "list --json: details"
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
