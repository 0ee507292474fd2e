#!/usr/bin/env bash
# Schema revisions as each migration tool reports them: every tool's table
# made by hand with realistic rows (alembic heads, Rails and sqlx versions
# as numbers, Flyway's version order, Django per app, ferry's own, empty
# tables and the precedence between tables), then the real alembic (two
# heads; version_table_schema) and Django (two apps; `migrate shop zero`)
# from Debian's packages: ferry's revision equals what `alembic heads` /
# `alembic current` and `manage.py showmigrations` say, in `ferry status`,
# the bundle's name and its manifest; migrations.status_command's first
# line is recorded in the manifest.
. "$FERRY_SRC/tests/lib.sh"

# Debian's interpreter: python3-alembic and python3-django live there,
# whatever python3 comes first in PATH.
PY=/usr/bin/python3
"$PY" -c 'import alembic, django, psycopg2' 2>/dev/null ||
    t_fail "python3-alembic, python3-django and python3-psycopg2 are needed: run make deps"

work=$(t_tmpdir)
export FERRY_PROFILES=$work/profiles.json
n=0

# new_db: a fresh database on the source cluster, its name in $db.
new_db() {
    n=$((n + 1))
    db=ferry_rev_${n}_$$
    t_psql_source "CREATE DATABASE $db"
    t_on_exit "t_psql_source 'DROP DATABASE IF EXISTS $db' >/dev/null 2>&1"
    url="postgresql://ferry@127.0.0.1:$SOURCE_PORT/$db"
}

# profile [APP_ROOT] [MIGRATIONS_JSON]: profile "rev" on $db.
profile() {
    local extra=""
    [ -n "${1:-}" ] && extra="$extra, \"app\": {\"root\": \"$1\"}"
    [ -n "${2:-}" ] && extra="$extra, \"migrations\": $2"
    cat >"$FERRY_PROFILES" <<JSON
{"rev": {"database": {"url": "$url"}, "backup": {"dir": "$work/backups/$db"}$extra}}
JSON
}

sql() { DB=$db t_psql_source "$1" >/dev/null; }

# schema_check EXPR: EXPR over the schema check of `ferry status --json` (c).
schema_check() {
    t_run "$FERRY_BIN" status --json --profile rev
    printf '%s\n' "$T_OUT" | tail -n 1 | "$PY" -c "
import json, sys
d = json.load(sys.stdin)
c = [x for x in d['checks'] if x['name'] == 'schema'][0]
print($1)"
}

# expect_revision REVISION SOURCE WHAT: status's revision and source.
expect_revision() {
    t_assert_eq "$1" "$(schema_check "c['schema_revision']")" "$3: revision"
    t_assert_eq "$2" "$(schema_check "c['revision_source']")" "$3: source"
}

# backup_manifest: a backup of profile rev; the bundle in $bundle, its
# manifest in $work/manifest.json.
backup_manifest() {
    t_assert_exit 0 "$FERRY_BIN" backup --profile rev --json
    bundle=$(printf '%s\n' "$T_OUT" | tail -n 1 | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["file"])')
    tar --zstd -xOf "$bundle" manifest.json >"$work/manifest.json"
}

# manifest EXPR: EXPR over the last manifest's schema_revision (r).
manifest() {
    "$PY" -c "
import json
r = json.load(open('$work/manifest.json'))['schema_revision']
print($1)"
}

# ---- tables made by hand ----------------------------------------------------

t_log "no migration table"
new_db
profile
expect_revision None None "no table"
t_assert_eq "no revision found (no migration table)" "$(schema_check "c['detail']")" "no table: detail"

t_log "alembic: two heads (a merge pending), sorted and joined with +"
sql "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL,
       CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
     INSERT INTO alembic_version VALUES ('e0f1a2b3c4d5'), ('27c6a30d7c24');"
expect_revision "27c6a30d7c24+e0f1a2b3c4d5" alembic_version "two heads"
t_assert_exit 0 "$FERRY_BIN" counts --profile rev --json
t_assert_contains "$T_OUT" '"27c6a30d7c24+e0f1a2b3c4d5"' "counts: the same revision"
backup_manifest
case "$(basename "$bundle")" in
    rev_????????_??????_manual_27c6a30d7c24-e0f1a2b3c4d5.ferry.tar.zst) ;;
    *) t_fail "two heads: bundle name $(basename "$bundle")" ;;
esac
t_assert_eq "{'revision': '27c6a30d7c24+e0f1a2b3c4d5', 'source': 'alembic_version'}" "$(manifest r)" \
    "two heads: manifest"

t_log "alembic: an empty table is named, not \"no migration table\""
sql "DELETE FROM alembic_version"
expect_revision None alembic_version "empty alembic_version"
t_assert_eq "no revision (table empty: alembic_version)" "$(schema_check "c['detail']")" "empty: detail"

t_log "precedence: an empty table gives way to the next tool's"
sql "CREATE TABLE schema_migrations (version character varying NOT NULL PRIMARY KEY);
     CREATE TABLE ar_internal_metadata (key character varying NOT NULL PRIMARY KEY,
       value character varying, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL);
     INSERT INTO ar_internal_metadata VALUES ('environment', 'production', now(), now());
     INSERT INTO schema_migrations VALUES ('1'), ('2'), ('9'), ('10'), ('20240105120000');"
expect_revision 20240105120000 schema_migrations "Rails after an empty alembic_version"
sql "INSERT INTO alembic_version VALUES ('3f2a9c1b7d4e')"
expect_revision 3f2a9c1b7d4e alembic_version "alembic before Rails"
sql "CREATE TABLE ferry_schema_migrations (version text PRIMARY KEY, name text NOT NULL,
       checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
expect_revision 3f2a9c1b7d4e alembic_version "an empty ferry_schema_migrations gives way"
sql "INSERT INTO ferry_schema_migrations (version, name, checksum) VALUES
       ('9', 'nine', 'x'), ('10', 'ten', 'x'), ('0002', 'two', 'x')"
expect_revision 10 ferry_schema_migrations "ferry's own table first, versions as numbers"

t_log "Rails: versions are strings, ordered as numbers"
new_db
profile
sql "CREATE TABLE schema_migrations (version character varying NOT NULL PRIMARY KEY);
     INSERT INTO schema_migrations VALUES ('1'), ('2'), ('9'), ('10'), ('20240105120000');"
expect_revision 20240105120000 schema_migrations "Rails"
t_assert_eq 9 "$(DB=$db t_psql_source "SELECT max(version) FROM schema_migrations")" "text order would say"

t_log "sqlx: the highest successful version"
new_db
profile
sql "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
       installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL,
       checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL);
     INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES
       (9, 'nine', true, '\\x00', 1), (10, 'ten', true, '\\x00', 1),
       (20240301000000, 'orders', true, '\\x00', 1), (20240401000000, 'broken', false, '\\x00', 1);"
expect_revision 20240301000000 _sqlx_migrations "sqlx"

t_log "Flyway: the highest applied version (1.10 after 1.9; a late 1.5 is not newer), success only, in its own schema"
new_db
profile
sql "CREATE SCHEMA app;
     CREATE TABLE app.flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY,
       version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL,
       script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL,
       installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INT NOT NULL,
       success BOOLEAN NOT NULL);
     INSERT INTO app.flyway_schema_history (installed_rank, version, description, type, script,
       checksum, installed_by, execution_time, success) VALUES
       (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'ferry', 1, true),
       (2, '1.9', 'nine', 'SQL', 'V1_9__nine.sql', 1, 'ferry', 1, true),
       (3, '1.10', 'ten', 'SQL', 'V1_10__ten.sql', 1, 'ferry', 1, true),
       (4, NULL, 'views', 'SQL', 'R__views.sql', 1, 'ferry', 1, true),
       (5, '1.5', 'late', 'SQL', 'V1_5__late.sql', 1, 'ferry', 1, true),
       (6, '2', 'broken', 'SQL', 'V2__broken.sql', 1, 'ferry', 1, false);"
expect_revision 1.10 app.flyway_schema_history "Flyway"

t_log "Django by hand: the latest migration of each app"
new_db
profile
sql "CREATE TABLE django_migrations (id bigserial PRIMARY KEY, app varchar(255) NOT NULL,
       name varchar(255) NOT NULL, applied timestamptz NOT NULL DEFAULT now());
     INSERT INTO django_migrations (app, name) VALUES
       ('contenttypes', '0001_initial'), ('shop', '0001_initial'), ('shop', '0002_order_note'),
       ('contenttypes', '0002_remove_content_type_name'), ('shop', '0003_order_paid'),
       ('sessions', '0001_initial');"
short=$(printf 'contenttypes.0002_remove_content_type_name\nsessions.0001_initial\nshop.0003_order_paid\n' |
    sha256sum | cut -c1-12)
expect_revision "$short" django_migrations "Django by hand"
t_assert_eq "{'contenttypes': '0002_remove_content_type_name', 'sessions': '0001_initial', 'shop': '0003_order_paid'}" \
    "$(schema_check "c['revisions']")" "Django by hand: per app"
t_assert_eq "revision $short (django_migrations, 3 apps)" "$(schema_check "c['detail']")" "Django: detail"

# ---- the real alembic ----------------------------------------------------------

# alembic_project DIR [VERSION_TABLE_SCHEMA]: `alembic init` (alembic.ini in
# DIR, the scripts in DIR/migrations), pointed at $url.
alembic_project() {
    mkdir -p "$1"
    (cd "$1" && "$PY" -m alembic init migrations >/dev/null)
    sed -i "s|^sqlalchemy.url = .*|sqlalchemy.url = $url|" "$1/alembic.ini"
    [ -n "${2:-}" ] && sed -i "s|^\[alembic\]$|[alembic]\nversion_table_schema = $2|" "$1/alembic.ini"
    cat >"$1/migrations/env.py" <<'PY'
from alembic import context
from sqlalchemy import create_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
schema = config.get_main_option("version_table_schema") or None
engine = create_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None, version_table_schema=schema)
    with context.begin_transaction():
        context.run_migrations()
PY
}

alembic() { (cd "$project" && "$PY" -m alembic "$@"); }

# two_heads: a base revision and two branches from it, all applied.
two_heads() {
    alembic revision -m "create orders" >/dev/null
    local base
    base=$(alembic heads | awk '{print $1}')
    alembic revision -m "add note" >/dev/null
    alembic revision -m "add customers" --head "$base" --splice >/dev/null
    alembic upgrade heads >/dev/null 2>&1
}

# joined: "id (head)" lines on stdin as ferry joins them.
joined() { awk '{print $1}' | sort | paste -sd+; }

t_log "real alembic: two heads"
new_db
project=$work/alembic_app
alembic_project "$project"
profile "$project" '{"command": "/usr/bin/python3 -m alembic upgrade heads", "status_command": "/usr/bin/python3 -m alembic current"}'
two_heads
heads=$(alembic heads | joined)
current=$(alembic current 2>/dev/null | joined)
t_assert_eq 2 "$(alembic heads | wc -l)" "alembic heads: two"
t_assert_eq "$heads" "$current" "alembic current = alembic heads"
expect_revision "$heads" alembic_version "real alembic"
backup_manifest
t_assert_eq "$heads" "$(manifest "r['revision']")" "real alembic: manifest revision"
# alembic prints the heads in no fixed order: the line is one of them
t_assert_contains "$(alembic current 2>/dev/null)" "$(manifest "r['status_command']['output']")" \
    "status_command's first line in the manifest"
t_assert_contains "$(manifest "r['status_command']['output']")" " (head)" "a line of alembic current"
t_assert_eq "/usr/bin/python3 -m alembic current" "$(manifest "r['status_command']['command']")" \
    "status_command in the manifest"
t_assert_eq None "$(manifest "r['status_command']['error']")" "status_command ran"
t_assert_contains "$(basename "$bundle")" "_manual_${heads//+/-}.ferry.tar.zst" "real alembic: bundle name"

t_log "real alembic: downgrade base leaves the table empty"
alembic downgrade base >/dev/null 2>&1
t_assert_eq "" "$(alembic current 2>/dev/null)" "alembic current: nothing"
expect_revision None alembic_version "after downgrade base"

t_log "real alembic: version_table_schema=meta"
new_db
sql "CREATE SCHEMA meta"
project=$work/alembic_meta
alembic_project "$project" meta
profile "$project"
two_heads
t_assert_eq 1 "$(DB=$db t_psql_source "SELECT count(*) FROM pg_tables WHERE schemaname = 'meta' AND tablename = 'alembic_version'")" \
    "alembic put its table in meta"
expect_revision "$(alembic current 2>/dev/null | joined)" meta.alembic_version "version_table_schema"

# ---- the real Django -------------------------------------------------------------

t_log "real Django: two apps, migrate, then migrate shop zero"
new_db
site=$work/django_site
mkdir -p "$site/proj" "$site/shop" "$site/billing"
touch "$site/proj/__init__.py" "$site/shop/__init__.py" "$site/billing/__init__.py"
cat >"$site/proj/settings.py" <<PY
SECRET_KEY = "test"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.sessions", "shop", "billing"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "$db",
                         "USER": "ferry", "HOST": "127.0.0.1", "PORT": "$SOURCE_PORT"}}
PY
cat >"$site/manage.py" <<'PY'
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
PY
cat >"$site/shop/models.py" <<'PY'
from django.db import models
class Order(models.Model):
    total = models.DecimalField(max_digits=10, decimal_places=2)
PY
cat >"$site/billing/models.py" <<'PY'
from django.db import models
class Invoice(models.Model):
    number = models.CharField(max_length=20)
PY
manage() { (cd "$site" && "$PY" manage.py "$@"); }
manage makemigrations shop billing >/dev/null
echo '    note = models.TextField(default="")' >>"$site/shop/models.py"
manage makemigrations shop >/dev/null
profile "$site" '{"command": "/usr/bin/python3 manage.py migrate"}'
manage migrate >/dev/null

# showmigrations: {app: its last applied migration} and the short form.
showmigrations() {
    manage showmigrations | "$PY" -c "
import hashlib, sys
latest, app = {}, None
for line in sys.stdin:
    if not line.startswith(' '):
        app = line.strip()
    elif line.strip().startswith('[X]'):
        latest[app] = line.strip()[3:].strip()
entries = ''.join(a + '.' + latest[a] + '\n' for a in sorted(latest))
print(hashlib.sha256(entries.encode()).hexdigest()[:12] if '$1' == 'short' else dict(sorted(latest.items())))"
}

check_django() {
    local want_apps want_short
    want_apps=$(showmigrations apps)
    want_short=$(showmigrations short)
    expect_revision "$want_short" django_migrations "$1"
    t_assert_eq "$want_apps" "$(schema_check "dict(sorted(c['revisions'].items()))")" "$1: status per app"
    backup_manifest
    t_assert_eq "$want_short" "$(manifest "r['revision']")" "$1: manifest revision"
    t_assert_eq "$want_apps" "$(manifest "dict(sorted(r['revisions'].items()))")" "$1: manifest per app"
    t_assert_contains "$(basename "$bundle")" "_manual_$want_short.ferry.tar.zst" "$1: bundle name"
}

check_django "migrate"
t_assert_contains "$(manifest "r['revisions']")" "'shop': '0002_order_note'" "shop at 0002"
t_assert_contains "$(manifest "r['revisions']")" "'billing': '0001_initial'" "billing at 0001"
before=$(manifest "r['revision']")

manage migrate shop zero >/dev/null
check_django "migrate shop zero"
t_assert_not_contains "$(manifest "r['revisions']")" "shop" "shop has nothing applied"
t_assert_ne "$before" "$(manifest "r['revision']")" "the revision changed"
t_assert_ne "sessions.0001_initial" "$(manifest "r['revision']")" "not the last row of all apps"

# ---- migrations.status_command ------------------------------------------------------

t_log "status_command: output cleaned; a failing one is recorded, the backup goes on"
new_db
sql "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
     INSERT INTO alembic_version VALUES ('3f2a9c1b7d4e');"
app=$work/app
mkdir -p "$app"
printf '#!/bin/sh\nprintf "\\n\\033[32m%%s\\033[0m (head)\\tok\\nmore\\n" "$(pwd)"\n' >"$app/status.sh"
chmod +x "$app/status.sh"
profile "$app" '{"command": "true", "status_command": "./status.sh"}'
backup_manifest
t_assert_eq "$app (head) ok" "$(manifest "r['status_command']['output']")" "cleaned first line, run in app.root"
t_assert_eq 3f2a9c1b7d4e "$(manifest "r['revision']")" "the table still gives the revision"

profile "$app" '{"command": "true", "status_command": "echo broken >&2; exit 3"}'
backup_manifest
t_assert_eq None "$(manifest "r['status_command']['output']")" "no output from a failing command"
t_assert_contains "$(manifest "r['status_command']['error']")" "status 3" "the failure recorded"
t_assert_contains "$T_OUT$T_ERR" "status 3" "the failure shown"

t_log "dry run lists the step"
t_assert_exit 0 "$FERRY_BIN" backup --profile rev --dry-run
t_assert_contains "$T_OUT" "record migrations.status_command" "dry-run plan"
