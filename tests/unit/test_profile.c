/* test_profile — profiles: parsing, defaults, paths, ${VAR}, errors, redaction, saving a copy.
 *
 * Every test runs in a fresh scratch directory (the current directory), with
 * HOME pointing at <scratch>/home and the variables ferry reads unset.
 * Profiles are loaded as "profiles.json" so messages can be compared whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsx.h"
#include "profile/profile.h"
#include "testutil.h"

#define DB "'database': {'url': 'postgresql://app@db.internal:5432/shop'}"

static char *orig_cwd;   /* the repository root the tests were started in */
static char *orig_home;
static char *scratch;    /* this test's directory, also the cwd */
static struct err e;

static const char *const cleared_vars[] = {
	"DATABASE_URL", "FERRY_PROFILE", "FERRY_PROFILES", "XDG_CONFIG_HOME",
	"DB_PASSWORD", "DB_HOST", "DB_USER", "API_TOKEN", "FT_NAME", "FT_EMPTY",
	"FT_ROOT", "FT_ENV", "FT_FROM_FILE", "FT_BOTH", "FT_HASH", "WEBHOOK_SECRET",
	"APP_ROOT", "STAGING_HOST", "FT_HOST", NULL};

/* ---- fixtures ----------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	orig_cwd = getcwd(NULL, 0);
	orig_home = xstrdup(getenv("HOME"));
	return orig_cwd ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	if (orig_home)
		setenv("HOME", orig_home, 1);
	free(orig_home);
	free(orig_cwd);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	if (chdir(dir) != 0)
		return -1;
	/* The real name, as getcwd() reports it (TMPDIR may be a symlink). */
	scratch = getcwd(NULL, 0);
	free(dir);
	for (size_t i = 0; cleared_vars[i]; i++)
		unsetenv(cleared_vars[i]);
	char *home = xasprintf("%s/home", scratch);
	tu_mkdirs(home);
	setenv("HOME", home, 1);
	free(home);
	err_clear(&e);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (chdir(orig_cwd) != 0)
		return -1;
	tu_rmtree(scratch);
	free(scratch);
	scratch = NULL;
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

/* Load JSON written with ' for " as "profiles.json". */
static profile_file *load_q(const char *quoted)
{
	char *json = tu_json(quoted);
	err_clear(&e);
	profile_file *pf = profile_file_load_string(json, "profiles.json", &e);
	free(json);
	return pf;
}

/* {"production": {<valid database>, <members>}} */
static profile_file *load_with(const char *members)
{
	char *q = xasprintf("{'production': {" DB "%s%s}}", *members ? ", " : "", members);
	profile_file *pf = load_q(q);
	free(q);
	return pf;
}

static const struct profile *must(profile_file *pf)
{
	if (!pf)
		fail_msg("load failed: %s (hint: %s)", e.msg, e.hint);
	return profile_file_at(pf, 0);
}

static void check_error(profile_file *pf, const char *msg, const char *hint)
{
	if (pf) {
		profile_file_free(pf);
		fail_msg("loaded, but expected: %s", msg);
	}
	assert_int_equal(e.kind, ERR_PROFILE);
	assert_string_equal(e.msg, msg);
	if (hint)
		assert_string_equal(e.hint, hint);
}

static void expect_error(const char *quoted, const char *msg, const char *hint)
{
	check_error(load_q(quoted), msg, hint);
}

static void expect_error_with(const char *members, const char *msg, const char *hint)
{
	check_error(load_with(members), msg, hint);
}

/* <scratch>/rel, freed by the caller. */
static char *at(const char *rel)
{
	return xasprintf("%s/%s", scratch, rel);
}

static void assert_path(const char *got, const char *rel)
{
	char *want = at(rel);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(want);
}

/* ---- valid profiles ----------------------------------------------------- */

static const char *const FULL =
	"{'production': {"
	" 'description': 'the shop, live',"
	" 'database': {'url': 'postgresql://shop@db1:5432/shop?sslmode=require'},"
	" 'app': {'root': 'app', 'paths': ['exports', 'archives/', './config'],"
	"         'exclude': ['logs/*.tmp'], 'env_file': '.env'},"
	" 'backup': {'dir': 'bk', 'compression': 'gzip', 'level': 9, 'globals': true,"
	"            'keep': {'last': 5, 'daily': 6, 'weekly': 2, 'monthly': 3, 'manual_days': 9},"
	"            'schedule': ['daily', 'weekly', 'monthly']},"
	" 'ssh': {'host': 'db2.example.com', 'port': 2222, 'user': 'deploy',"
	"         'identity_file': '~/.ssh/id_ed25519', 'known_hosts': 'kh',"
	"         'use_ssh_config': false, 'ferry_path': '/usr/local/bin/ferry',"
	"         'remote_profiles': '/etc/ferry/profiles.json'},"
	" 'services': {'orchestrator': 'systemd', 'restart': ['systemctl restart shop'],"
	"              'stop': ['systemctl stop shop'], 'start': ['systemctl start shop'],"
	"              'status': ['systemctl is-active shop'], 'rollback': ['./rollback.sh']},"
	" 'health': [{'name': 'api', 'url': 'http://127.0.0.1:8080/health', 'expect': 204,"
	"             'timeout_s': 2, 'retries': 3, 'interval_s': 0, 'follow_redirects': true},"
	"            {'url': 'https://shop.example.com/'}],"
	" 'registry': {'file': 'config/connection_registry.json',"
	"              'primary_url': 'postgresql://shop@db2:5432/shop',"
	"              'fallback_url': 'postgresql://shop@db1:5432/shop', 'grace_period': 'P7DT12H'},"
	" 'hooks': {'pre_backup': ['a'], 'post_backup': ['b'], 'pre_restore': ['c'],"
	"           'post_restore': ['d'], 'pre_deploy': ['e'], 'post_deploy': ['f', 'g']},"
	" 'migrations': {'command': 'alembic upgrade head', 'status_command': 'alembic current'},"
	" 'actions': {'decommission-worker': {'sql': 'DELETE FROM workers WHERE id = $1',"
	"             'params': ['WORKER_ID'], 'confirm': true, 'description': 'remove a worker'},"
	"             'vacuum': {'sql': 'VACUUM ANALYZE'}},"
	" 'seeds': ['seeds/demo.sql'],"
	" 'log_dir': 'var/log',"
	" 'drill': {'checks': [{'name': 'admin', 'sql': 'SELECT count(*) FROM users WHERE admin', 'expect': 1},"
	"                      {'name': 'recent', 'sql': 'SELECT count(*) > 0 FROM orders WHERE at > $1',"
	"                       'expect': true, 'params': ['{bundle_created}']},"
	"                      {'name': 'name', 'sql': 'SELECT name FROM users LIMIT 1', 'expect': 'root'}],"
	"           'max_age_days': 3, 'schedule': 'Sat 01:30'},"
	" 'notify': {'on': ['failure'], 'command': 'mail -s ferry root',"
	"            'webhook': {'url': 'https://hooks.example.com/T0/B0/secretpart',"
	"                        'headers': {'Authorization': 'Bearer t0k3n', 'X-Tag': 'ferry'}},"
	"            'timeout_s': 9}"
	"}}";

static void test_full_profile(void **state)
{
	(void)state;
	tu_mkdirs("app");
	tu_write("app/.env", "X=1\n");
	profile_file *pf = load_q(FULL);
	const struct profile *p = must(pf);
	assert_int_equal(profile_file_count(pf), 1);
	assert_string_equal(profile_file_path(pf), "profiles.json");
	assert_string_equal(p->name, "production");
	assert_path(p->file, "profiles.json");
	assert_string_equal(p->dir, scratch);
	assert_string_equal(p->description, "the shop, live");
	assert_string_equal(p->database.url, "postgresql://shop@db1:5432/shop?sslmode=require");

	assert_true(p->has_app);
	assert_path(p->app.root, "app");
	assert_int_equal(p->app.paths.n, 3);
	assert_string_equal(p->app.paths.v[0], "exports");
	assert_string_equal(p->app.paths.v[1], "archives");
	assert_string_equal(p->app.paths.v[2], "config");
	assert_string_equal(p->app.exclude.v[0], "logs/*.tmp");
	assert_path(p->app.env_file, "app/.env");

	assert_path(p->backup.dir, "bk");
	assert_string_equal(p->backup.compression, "gzip");
	assert_int_equal(p->backup.level, 9);
	assert_true(p->backup.globals);
	assert_int_equal(p->backup.keep.last, 5);
	assert_int_equal(p->backup.keep.daily, 6);
	assert_int_equal(p->backup.keep.weekly, 2);
	assert_int_equal(p->backup.keep.monthly, 3);
	assert_int_equal(p->backup.keep.manual_days, 9);
	assert_int_equal(p->backup.schedule.n, 3);
	assert_string_equal(p->backup.schedule.v[2], "monthly");

	assert_true(p->has_ssh);
	assert_string_equal(p->ssh.host, "db2.example.com");
	assert_int_equal(p->ssh.port, 2222);
	assert_string_equal(p->ssh.user, "deploy");
	assert_path(p->ssh.identity_file, "home/.ssh/id_ed25519");
	assert_path(p->ssh.known_hosts, "kh");
	assert_false(p->ssh.use_ssh_config);
	assert_string_equal(p->ssh.ferry_path, "/usr/local/bin/ferry");
	assert_string_equal(p->ssh.remote_profiles, "/etc/ferry/profiles.json");

	assert_string_equal(p->services.orchestrator, "systemd");
	assert_string_equal(p->services.restart.v[0], "systemctl restart shop");
	assert_string_equal(p->services.stop.v[0], "systemctl stop shop");
	assert_string_equal(p->services.start.v[0], "systemctl start shop");
	assert_string_equal(p->services.status.v[0], "systemctl is-active shop");
	assert_string_equal(p->services.rollback.v[0], "./rollback.sh");

	assert_int_equal(p->nhealth, 2);
	assert_string_equal(p->health[0].name, "api");
	assert_string_equal(p->health[0].url, "http://127.0.0.1:8080/health");
	assert_int_equal(p->health[0].expect, 204);
	assert_int_equal(p->health[0].timeout_s, 2);
	assert_int_equal(p->health[0].retries, 3);
	assert_int_equal(p->health[0].interval_s, 0);
	assert_true(p->health[0].follow_redirects);
	assert_string_equal(p->health[1].name, "https://shop.example.com/");

	assert_true(p->has_registry);
	assert_path(p->registry.file, "app/config/connection_registry.json");
	assert_string_equal(p->registry.primary_url, "postgresql://shop@db2:5432/shop");
	assert_string_equal(p->registry.fallback_url, "postgresql://shop@db1:5432/shop");
	assert_string_equal(p->registry.grace_period, "P7DT12H");

	assert_string_equal(p->hooks.pre_backup.v[0], "a");
	assert_string_equal(p->hooks.post_backup.v[0], "b");
	assert_string_equal(p->hooks.pre_restore.v[0], "c");
	assert_string_equal(p->hooks.post_restore.v[0], "d");
	assert_string_equal(p->hooks.pre_deploy.v[0], "e");
	assert_int_equal(p->hooks.post_deploy.n, 2);

	assert_string_equal(p->migrations.command, "alembic upgrade head");
	assert_string_equal(p->migrations.status_command, "alembic current");
	assert_null(p->migrations.dir);

	assert_int_equal(p->nactions, 2);
	assert_string_equal(p->actions[0].name, "decommission-worker");
	assert_string_equal(p->actions[0].sql, "DELETE FROM workers WHERE id = $1");
	assert_int_equal(p->actions[0].params.n, 1);
	assert_string_equal(p->actions[0].params.v[0], "WORKER_ID");
	assert_true(p->actions[0].confirm);
	assert_string_equal(p->actions[0].description, "remove a worker");
	assert_string_equal(p->actions[1].name, "vacuum");
	assert_int_equal(p->actions[1].params.n, 0);
	assert_false(p->actions[1].confirm);

	assert_path(p->seeds.v[0], "seeds/demo.sql");
	assert_path(p->log_dir, "var/log");
	profile_file_free(pf);
}

static void test_defaults(void **state)
{
	(void)state;
	profile_file *pf = load_with("'health': [{'url': 'http://localhost/'}]");
	const struct profile *p = must(pf);
	assert_false(p->has_app);
	assert_null(p->app.root);
	assert_path(p->backup.dir, "backups");
	assert_string_equal(p->backup.compression, "zstd");
	assert_int_equal(p->backup.level, 1);
	assert_false(p->backup.globals);
	assert_int_equal(p->backup.keep.last, 10);
	assert_int_equal(p->backup.keep.daily, 7);
	assert_int_equal(p->backup.keep.weekly, 4);
	assert_int_equal(p->backup.keep.monthly, 12);
	assert_int_equal(p->backup.keep.manual_days, 30);
	assert_int_equal(p->backup.schedule.n, 0);
	assert_false(p->has_ssh);
	assert_int_equal(p->ssh.port, 22);
	assert_path(p->ssh.known_hosts, "home/.ssh/known_hosts");
	assert_true(p->ssh.use_ssh_config);
	assert_string_equal(p->ssh.ferry_path, "ferry");
	assert_null(p->ssh.identity_file);
	assert_null(p->services.orchestrator);
	assert_int_equal(p->nhealth, 1);
	assert_string_equal(p->health[0].name, "http://localhost/");
	assert_int_equal(p->health[0].expect, 200);
	assert_int_equal(p->health[0].timeout_s, 5);
	assert_int_equal(p->health[0].retries, 30);
	assert_int_equal(p->health[0].interval_s, 1);
	assert_false(p->health[0].follow_redirects);
	assert_false(p->has_registry);
	assert_null(p->migrations.command);
	assert_null(p->migrations.dir);
	assert_int_equal(p->nactions, 0);
	assert_int_equal(p->seeds.n, 0);
	assert_path(p->log_dir, "logs");
	assert_null(p->description);
	profile_file_free(pf);
}

static void test_defaults_keep_partial_and_ssh(void **state)
{
	(void)state;
	profile_file *pf = load_with("'backup': {'keep': {'daily': 1}}, 'ssh': {'host': 'h'}");
	const struct profile *p = must(pf);
	assert_int_equal(p->backup.keep.last, 10);
	assert_int_equal(p->backup.keep.daily, 1);
	assert_true(p->has_ssh);
	assert_int_equal(p->ssh.port, 22);
	assert_null(p->ssh.user);
	assert_path(p->ssh.known_hosts, "home/.ssh/known_hosts");
	profile_file_free(pf);
}

static void test_relative_paths(void **state)
{
	(void)state;
	tu_mkdirs("srv/app");
	tu_write("srv/app/.env", "");
	profile_file *pf = load_with(
		"'app': {'root': './srv//app/', 'env_file': './.env', 'paths': ['./exports/', '.']},"
		"'backup': {'dir': '../elsewhere/./backups/'},"
		"'registry': {'file': 'config/reg.json'},"
		"'migrations': {'dir': 'db/migrations/'},"
		"'seeds': ['./seeds/a.sql', '/opt/seeds/b.sql'],"
		"'log_dir': '/var/log/ferry/'");
	const struct profile *p = must(pf);
	assert_path(p->app.root, "srv/app");
	assert_path(p->app.env_file, "srv/app/.env");
	assert_string_equal(p->app.paths.v[0], "exports");
	assert_string_equal(p->app.paths.v[1], ".");
	char *parent = xstrdup(scratch);
	*strrchr(parent, '/') = '\0';
	char *want = xasprintf("%s/elsewhere/backups", parent);
	assert_string_equal(p->backup.dir, want);
	free(want);
	free(parent);
	assert_path(p->registry.file, "srv/app/config/reg.json");
	assert_path(p->migrations.dir, "db/migrations");
	assert_path(p->seeds.v[0], "seeds/a.sql");
	assert_string_equal(p->seeds.v[1], "/opt/seeds/b.sql");
	assert_string_equal(p->log_dir, "/var/log/ferry");
	profile_file_free(pf);
}

static void test_registry_file_without_app(void **state)
{
	(void)state;
	profile_file *pf = load_with("'registry': {'file': 'config/reg.json'}");
	assert_path(must(pf)->registry.file, "config/reg.json");
	profile_file_free(pf);
}

static void test_app_root_defaults_to_file_dir(void **state)
{
	(void)state;
	profile_file *pf = load_with("'app': {'paths': ['exports']}");
	const struct profile *p = must(pf);
	assert_true(p->has_app);
	assert_string_equal(p->app.root, scratch);
	assert_null(p->app.env_file);
	profile_file_free(pf);
}

static void test_paths_relative_to_file_dir(void **state)
{
	(void)state;
	tu_mkdirs("conf");
	tu_write("conf/p.json", "{\"x\": {\"database\": {\"url\": \"dbname=x\"}, \"log_dir\": \"l\"}}");
	profile_file *pf = profile_file_load("conf/p.json", &e);
	const struct profile *p = must(pf);
	assert_string_equal(profile_file_path(pf), "conf/p.json");
	assert_path(p->file, "conf/p.json");
	assert_path(p->dir, "conf");
	assert_path(p->backup.dir, "conf/backups");
	assert_path(p->log_dir, "conf/l");
	profile_file_free(pf);
}

static void test_tilde_expansion(void **state)
{
	(void)state;
	profile_file *pf = load_with(
		"'backup': {'dir': '~/bk'}, 'log_dir': '~',"
		"'ssh': {'host': 'h', 'identity_file': '~/.ssh/id', 'known_hosts': '/etc/kh'},"
		"'seeds': ['~/s.sql', 'x~/y.sql']");
	const struct profile *p = must(pf);
	assert_path(p->backup.dir, "home/bk");
	assert_path(p->log_dir, "home");
	assert_path(p->ssh.identity_file, "home/.ssh/id");
	assert_string_equal(p->ssh.known_hosts, "/etc/kh");
	assert_path(p->seeds.v[0], "home/s.sql");
	assert_path(p->seeds.v[1], "x~/y.sql");
	profile_file_free(pf);
}

static void test_several_profiles_in_order(void **state)
{
	(void)state;
	profile_file *pf = load_q("{'production': {" DB "}, 'staging': {" DB "}, 'local': {" DB "}}");
	must(pf);
	assert_int_equal(profile_file_count(pf), 3);
	assert_string_equal(profile_file_at(pf, 0)->name, "production");
	assert_string_equal(profile_file_at(pf, 1)->name, "staging");
	assert_string_equal(profile_file_at(pf, 2)->name, "local");
	assert_null(profile_file_at(pf, 3));
	profile_file_free(pf);
}

static void test_compression_none_ignores_level(void **state)
{
	(void)state;
	profile_file *pf = load_with("'backup': {'compression': 'none', 'level': 99}");
	assert_string_equal(must(pf)->backup.compression, "none");
	profile_file_free(pf);
}

static void test_migrations_dir(void **state)
{
	(void)state;
	profile_file *pf = load_with("'migrations': {'dir': 'migrations'}");
	const struct profile *p = must(pf);
	assert_path(p->migrations.dir, "migrations");
	assert_null(p->migrations.command);
	profile_file_free(pf);
}

/* ---- file-level errors -------------------------------------------------- */

static void test_syntax_error_line_column(void **state)
{
	(void)state;
	err_clear(&e);
	profile_file *pf = profile_file_load_string(
		"{\n  \"production\": {\n    \"database\": {\"url\": \"x\"},\n  }\n}\n",
		"profiles.json", &e);
	check_error(pf, "profiles.json:4:3: string or '}' expected near '}'",
		    "check the JSON syntax near that position");
}

static void test_syntax_error_from_file(void **state)
{
	(void)state;
	tu_write("bad.json", "{\"a\": tru}");
	check_error(profile_file_load("bad.json", &e),
		    "bad.json:1:9: invalid token near 'tru'",
		    "check the JSON syntax near that position");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	err_clear(&e);
	profile_file *pf = profile_file_load_string(
		"{\"production\": {\"database\": {\"url\": \"x\"}},\n \"production\": {}}",
		"profiles.json", &e);
	check_error(pf, "profiles.json:2:13: duplicate object key near '\"production\"'",
		    "check the JSON syntax near that position");
}

static void test_duplicate_nested_key(void **state)
{
	(void)state;
	err_clear(&e);
	profile_file *pf = profile_file_load_string(
		"{\"p\": {\"database\": {\"url\": \"x\", \"url\": \"y\"}}}", "profiles.json", &e);
	check_error(pf, "profiles.json:1:37: duplicate object key near '\"url\"'", NULL);
}

static void test_top_level_not_object(void **state)
{
	(void)state;
	expect_error("[]", "profiles.json: expected an object of named profiles, got an array",
		     "a profiles file looks like {\"production\": {\"database\": "
		     "{\"url\": \"postgresql://USER@HOST:5432/DBNAME\"}}}");
	expect_error("42", "profiles.json:1:2: '[' or '{' expected near '42'", NULL);
}

static void test_empty_file(void **state)
{
	(void)state;
	expect_error("", "profiles.json: the file is empty", NULL);
	expect_error(" \n\t", "profiles.json: the file is empty", NULL);
	tu_write("empty.json", "");
	check_error(profile_file_load("empty.json", &e), "empty.json: the file is empty", NULL);
}

static void test_byte_order_mark_is_skipped(void **state)
{
	(void)state;
	tu_write("bom.json", "\xef\xbb\xbf{\"p\": {\"database\": {\"url\": \"dbname=x\"}}}");
	profile_file *pf = profile_file_load("bom.json", &e);
	assert_string_equal(must(pf)->name, "p");
	profile_file_free(pf);
}

static void test_no_profiles(void **state)
{
	(void)state;
	expect_error("{}", "profiles.json: no profiles in the file", NULL);
}

static void test_profile_not_object(void **state)
{
	(void)state;
	expect_error("{'production': 42}", "profiles.json: production: expected an object, got 42",
		     NULL);
	expect_error("{'production': null}",
		     "profiles.json: production: expected an object, got null", NULL);
	expect_error("{'': {}}", "profiles.json: a profile name must not be empty", NULL);
}

static void test_unreadable_file(void **state)
{
	(void)state;
	check_error(profile_file_load("missing.json", &e),
		    "cannot read missing.json: No such file or directory", NULL);
	tu_mkdirs("adir");
	check_error(profile_file_load("adir", &e), "cannot read adir: Is a directory", NULL);
}

/* ---- type, range and enum errors ---------------------------------------- */

static void test_type_errors(void **state)
{
	(void)state;
	expect_error_with("'ssh': {'host': 42}",
			  "profiles.json: production.ssh.host: expected a string, got 42", NULL);
	expect_error_with("'services': {'restart': 'systemctl restart shop'}",
			  "profiles.json: production.services.restart: expected an array of "
			  "strings, got \"systemctl restart shop\"", NULL);
	expect_error_with("'services': {'restart': ['ok', 1.5]}",
			  "profiles.json: production.services.restart[1]: expected a string, "
			  "got 1.5", NULL);
	expect_error_with("'backup': []",
			  "profiles.json: production.backup: expected an object, got an array", NULL);
	expect_error_with("'backup': {'globals': 'yes'}",
			  "profiles.json: production.backup.globals: expected true or false, "
			  "got \"yes\"", NULL);
	expect_error_with("'backup': {'keep': true}",
			  "profiles.json: production.backup.keep: expected an object, got true", NULL);
	expect_error_with("'health': {'url': 'http://x/'}",
			  "profiles.json: production.health: expected an array of objects, got "
			  "an object", NULL);
	expect_error_with("'health': ['http://x/']",
			  "profiles.json: production.health[0]: expected an object, got "
			  "\"http://x/\"", NULL);
	expect_error_with("'actions': {'x': []}",
			  "profiles.json: production.actions.x: expected an object, got an array",
			  NULL);
	expect_error_with("'actions': []",
			  "profiles.json: production.actions: expected an object, got an array", NULL);
	expect_error_with("'seeds': 'a.sql'",
			  "profiles.json: production.seeds: expected an array of strings, got "
			  "\"a.sql\"", NULL);
	expect_error_with("'description': false",
			  "profiles.json: production.description: expected a string, got false",
			  NULL);
	expect_error("{'production': {'database': {'url': null}}}",
		     "profiles.json: production.database.url: expected a string, got null", NULL);
	expect_error("{'production': {'database': 'postgresql://x'}}",
		     "profiles.json: production.database: expected an object, got "
		     "\"postgresql://x\"", NULL);
	expect_error_with("'ssh': {'host': ''}",
			  "profiles.json: production.ssh.host: expected a non-empty string, "
			  "got \"\"", NULL);
}

static void test_range_errors(void **state)
{
	(void)state;
	expect_error_with("'ssh': {'host': 'h', 'port': '22a'}",
			  "profiles.json: production.ssh.port: expected an integer 1-65535, "
			  "got \"22a\"", NULL);
	expect_error_with("'ssh': {'host': 'h', 'port': 70000}",
			  "profiles.json: production.ssh.port: expected an integer 1-65535, "
			  "got 70000", NULL);
	expect_error_with("'ssh': {'host': 'h', 'port': 22.0}",
			  "profiles.json: production.ssh.port: expected an integer 1-65535, "
			  "got 22.0", NULL);
	expect_error_with("'backup': {'level': 25}",
			  "profiles.json: production.backup.level: expected an integer 1-19 for "
			  "zstd, got 25", NULL);
	expect_error_with("'backup': {'compression': 'gzip', 'level': 10}",
			  "profiles.json: production.backup.level: expected an integer 1-9 for "
			  "gzip, got 10", NULL);
	expect_error_with("'backup': {'compression': 'none', 'level': 'high'}",
			  "profiles.json: production.backup.level: expected an integer, got "
			  "\"high\"", NULL);
	expect_error_with("'backup': {'keep': {'last': -1}}",
			  "profiles.json: production.backup.keep.last: expected an integer >= 0, "
			  "got -1", NULL);
	expect_error_with("'health': [{'url': 'http://x/', 'expect': 99}]",
			  "profiles.json: production.health[0].expect: expected an integer "
			  "100-599, got 99", NULL);
	expect_error_with("'health': [{'url': 'http://x/', 'timeout_s': 0}]",
			  "profiles.json: production.health[0].timeout_s: expected an integer "
			  "1-3600, got 0", NULL);
	expect_error_with("'health': [{'url': 'http://x/', 'retries': 0}]",
			  "profiles.json: production.health[0].retries: expected an integer "
			  "1-10000, got 0", NULL);
}

static void test_enum_errors(void **state)
{
	(void)state;
	expect_error_with("'services': {'orchestrator': 'k8s'}",
			  "profiles.json: production.services.orchestrator: expected one of "
			  "docker, pm2, systemd, custom, got \"k8s\"", NULL);
	expect_error_with("'backup': {'compression': 'lz4'}",
			  "profiles.json: production.backup.compression: expected one of zstd, "
			  "gzip, none, got \"lz4\"", NULL);
	expect_error_with("'backup': {'compression': 3}",
			  "profiles.json: production.backup.compression: expected one of zstd, "
			  "gzip, none, got 3", NULL);
	expect_error_with("'backup': {'schedule': ['daily', 'hourly']}",
			  "profiles.json: production.backup.schedule[1]: expected one of daily, "
			  "weekly, monthly, got \"hourly\"", NULL);
}

static void test_value_format_errors(void **state)
{
	(void)state;
	expect_error_with("'health': [{'url': 'localhost:8080/health'}]",
			  "profiles.json: production.health[0].url: expected an http:// or "
			  "https:// URL, got \"localhost:8080/health\"", NULL);
	expect_error_with("'registry': {'grace_period': '7 days'}",
			  "profiles.json: production.registry.grace_period: expected an ISO-8601 "
			  "duration like \"P7D\" or \"PT12H\", got \"7 days\"", NULL);
	expect_error_with("'registry': {'grace_period': 'PT'}",
			  "profiles.json: production.registry.grace_period: expected an ISO-8601 "
			  "duration like \"P7D\" or \"PT12H\", got \"PT\"", NULL);
	expect_error_with("'registry': {'grace_period': 'P1D1Y'}",
			  "profiles.json: production.registry.grace_period: expected an ISO-8601 "
			  "duration like \"P7D\" or \"PT12H\", got \"P1D1Y\"", NULL);
	profile_file *pf = load_with("'registry': {'grace_period': 'P1Y2M3W4DT5H6M7S'}");
	must(pf);
	profile_file_free(pf);
}

/* ---- unknown and missing keys ------------------------------------------- */

static void test_unknown_key_did_you_mean(void **state)
{
	(void)state;
	expect_error_with("'ssh': {'hots': 'h'}",
			  "profiles.json: production.ssh.hots: unknown key",
			  "did you mean \"host\"?");
	expect_error("{'production': {'databse': {'url': 'x'}}}",
		     "profiles.json: production.databse: unknown key",
		     "did you mean \"database\"?");
	expect_error_with("'services': {'orch': 'docker'}",
			  "profiles.json: production.services.orch: unknown key",
			  "did you mean \"orchestrator\"?");
	expect_error_with("'health': [{'url': 'http://x/', 'timeout': 3}]",
			  "profiles.json: production.health[0].timeout: unknown key",
			  "did you mean \"timeout_s\"?");
	expect_error_with("'actions': {'a': {'sql': 'x', 'param': []}}",
			  "profiles.json: production.actions.a.param: unknown key",
			  "did you mean \"params\"?");
}

static void test_unknown_key_lists_valid_keys(void **state)
{
	(void)state;
	expect_error_with("'ssh': {'host': 'h', 'zzzzzz': 1}",
			  "profiles.json: production.ssh.zzzzzz: unknown key",
			  "valid keys: host, port, user, identity_file, known_hosts, "
			  "use_ssh_config, ferry_path, remote_profiles");
	expect_error_with("'backup': {'keep': {'yearly': 2}}",
			  "profiles.json: production.backup.keep.yearly: unknown key",
			  "valid keys: last, daily, weekly, monthly, manual_days");
	expect_error_with("'hooks': {'on_failure': []}",
			  "profiles.json: production.hooks.on_failure: unknown key",
			  "valid keys: pre_backup, post_backup, pre_restore, post_restore, "
			  "pre_deploy, post_deploy");
}

static void test_unknown_key_reported_before_missing(void **state)
{
	(void)state;
	expect_error("{'production': {'database': {'uri': 'x'}}}",
		     "profiles.json: production.database.uri: unknown key",
		     "did you mean \"url\"?");
}

static void test_missing_database_url(void **state)
{
	(void)state;
	expect_error("{'production': {}}",
		     "profiles.json: production.database.url: missing (or set DATABASE_URL)",
		     "add \"database\": {\"url\": \"postgresql://USER@HOST:5432/DBNAME\"} to the "
		     "profile");
	expect_error("{'production': {'database': {}}}",
		     "profiles.json: production.database.url: missing (or set DATABASE_URL)", NULL);
	setenv("DATABASE_URL", "postgresql://envuser@envhost/envdb", 1);
	profile_file *pf = load_q("{'production': {}}");
	assert_string_equal(must(pf)->database.url, "postgresql://envuser@envhost/envdb");
	profile_file_free(pf);
}

static void test_ssh_requires_host(void **state)
{
	(void)state;
	expect_error_with("'ssh': {'user': 'deploy'}",
			  "profiles.json: production.ssh.host: missing",
			  "ssh needs the server: \"ssh\": {\"host\": \"db2.example.com\"}");
}

static void test_health_and_action_required_keys(void **state)
{
	(void)state;
	expect_error_with("'health': [{'url': 'http://x/'}, {'name': 'api'}]",
			  "profiles.json: production.health[1].url: missing", NULL);
	expect_error_with("'actions': {'decommission-worker': {'params': ['WORKER_ID']}}",
			  "profiles.json: production.actions.decommission-worker.sql: missing", NULL);
}

static void test_migrations_mutually_exclusive(void **state)
{
	(void)state;
	expect_error_with("'migrations': {'command': 'alembic upgrade head', 'dir': 'migrations'}",
			  "profiles.json: production.migrations: command and dir are mutually "
			  "exclusive",
			  "use command for the app's own runner (alembic, rails, ...) or dir for "
			  "ferry's runner over plain SQL files");
	expect_error_with("'migrations': {'status_command': 'alembic current'}",
			  "profiles.json: production.migrations.status_command: needs "
			  "migrations.command", NULL);
}

static void test_bad_app_paths(void **state)
{
	(void)state;
	expect_error_with("'app': {'paths': ['exports', '../etc']}",
			  "profiles.json: production.app.paths[1]: expected a path relative to "
			  "app.root without \"..\", got \"../etc\"", NULL);
	expect_error_with("'app': {'paths': ['a/../../b']}",
			  "profiles.json: production.app.paths[0]: expected a path relative to "
			  "app.root without \"..\", got \"a/../../b\"", NULL);
	expect_error_with("'app': {'paths': ['/etc']}",
			  "profiles.json: production.app.paths[0]: expected a path relative to "
			  "app.root without \"..\", got \"/etc\"", NULL);
	expect_error_with("'app': {'paths': ['x/..']}",
			  "profiles.json: production.app.paths[0]: expected a path relative to "
			  "app.root without \"..\", got \"x/..\"", NULL);
}

/* ---- literal passwords -------------------------------------------------- */

static const char *const PASSWORD_HINT =
	"remove it; libpq reads PGPASSWORD, ~/.pgpass (PGPASSFILE) or the env file "
	"\xe2\x80\x94 write ${DB_PASSWORD} to take it from there";

static void test_literal_password_uri(void **state)
{
	(void)state;
	expect_error("{'production': {'database': {'url': 'postgresql://app:secret@db/shop'}}}",
		     "profiles.json: production.database.url: contains a literal password",
		     PASSWORD_HINT);
	expect_error("{'production': {'database': {'url': 'postgres://app:x${DB_PASSWORD}@db/s'}}}",
		     "profiles.json: production.database.url: contains a literal password", NULL);
	expect_error("{'production': {'database': {'url': 'postgresql://app@db/s?password=pw'}}}",
		     "profiles.json: production.database.url: contains a literal password", NULL);
	expect_error("{'production': {'database': {'url': 'postgresql://app:p@ss@db/s'}}}",
		     "profiles.json: production.database.url: contains a literal password", NULL);
}

static void test_literal_password_keyvalue(void **state)
{
	(void)state;
	expect_error("{'production': {'database': {'url': 'host=db password=secret dbname=shop'}}}",
		     "profiles.json: production.database.url: contains a literal password",
		     PASSWORD_HINT);
	expect_error("{'production': {'database': {'url': "
		     "'host=db password = \\u0027se cret\\u0027 dbname=shop'}}}",
		     "profiles.json: production.database.url: contains a literal password", NULL);
}

static void test_literal_password_registry(void **state)
{
	(void)state;
	expect_error_with("'registry': {'primary_url': 'postgresql://app:pw@db2/shop'}",
			  "profiles.json: production.registry.primary_url: contains a literal "
			  "password", PASSWORD_HINT);
	expect_error_with("'registry': {'fallback_url': 'host=db1 password=pw'}",
			  "profiles.json: production.registry.fallback_url: contains a literal "
			  "password", PASSWORD_HINT);
}

static void test_password_from_variable_is_fine(void **state)
{
	(void)state;
	setenv("DB_PASSWORD", "s3cret", 1);
	profile_file *pf = load_q(
		"{'a': {'database': {'url': 'postgresql://app:${DB_PASSWORD}@db/shop'}},"
		" 'b': {'database': {'url': 'host=db password=${DB_PASSWORD} dbname=shop'}},"
		" 'c': {'database': {'url': 'host=db password=\\u0027${DB_PASSWORD}\\u0027'}},"
		" 'd': {'database': {'url': 'postgresql://app:@db/shop'}},"
		" 'e': {'database': {'url': 'postgresql://app@db/shop?sslmode=require'}}}");
	must(pf);
	assert_string_equal(profile_file_at(pf, 0)->database.url, "postgresql://app:s3cret@db/shop");
	assert_string_equal(profile_file_at(pf, 1)->database.url,
			    "host=db password=s3cret dbname=shop");
	profile_file_free(pf);
}

/* libpq reads the raw string: ${VAR} anywhere is no literal password, and a
 * string libpq cannot read as written is left to the connection. */
static void test_password_check_reads_like_libpq(void **state)
{
	(void)state;
	setenv("DB_USER", "app", 1);
	setenv("DB_PASSWORD", "s3cret", 1);
	setenv("DB_HOST", "db9", 1);
	setenv("FT_NAME", "postgresql://u@h/whole", 1);
	profile_file *pf = load_q(
		"{'a': {'database': {'url': "
		"'postgresql://${DB_USER}:${DB_PASSWORD}@${DB_HOST}:5432/shop?sslmode=require'}},"
		" 'b': {'database': {'url': '${FT_NAME}'}},"
		" 'c': {'database': {'url': 'host=${DB_HOST} user=${DB_USER} password=${DB_PASSWORD}'}}}");
	must(pf);
	assert_string_equal(profile_file_at(pf, 0)->database.url,
			    "postgresql://app:s3cret@db9:5432/shop?sslmode=require");
	assert_string_equal(profile_file_at(pf, 1)->database.url, "postgresql://u@h/whole");
	profile_file_free(pf);
	expect_error("{'production': {'database': {'url': "
		     "'postgresql://app@db/shop?sslmode=require&password=${DB_PASSWORD}x'}}}",
		     "profiles.json: production.database.url: contains a literal password", NULL);
}

static void test_literal_password_checked_under_override(void **state)
{
	(void)state;
	setenv("DATABASE_URL", "postgresql://u@h/d", 1);
	expect_error("{'production': {'database': {'url': 'postgresql://app:pw@db/shop'}}}",
		     "profiles.json: production.database.url: contains a literal password", NULL);
}

/* ---- ${VAR} expansion --------------------------------------------------- */

static void test_expand_from_environment(void **state)
{
	(void)state;
	setenv("DB_HOST", "db9.internal", 1);
	setenv("FT_NAME", "shop", 1);
	profile_file *pf = load_q(
		"{'production': {'database': {'url': 'postgresql://app@${DB_HOST}:5432/${FT_NAME}'},"
		" 'services': {'restart': ['systemctl restart ${FT_NAME}.service']},"
		" 'backup': {'dir': '/var/backups/${FT_NAME}'}}}");
	const struct profile *p = must(pf);
	assert_string_equal(p->database.url, "postgresql://app@db9.internal:5432/shop");
	assert_string_equal(p->services.restart.v[0], "systemctl restart shop.service");
	assert_string_equal(p->backup.dir, "/var/backups/shop");
	profile_file_free(pf);
}

static void test_expand_from_env_file(void **state)
{
	(void)state;
	tu_write(".env",
		 "# database\n"
		 "\n"
		 "export DB_HOST=db7.internal\n"
		 "DB_USER = 'shop user'   # a comment\n"
		 "FT_NAME=\"shop \\\"live\\\"\"\n"
		 "FT_EMPTY=\n"
		 "FT_BOTH=from-file\n"
		 "FT_FROM_FILE=plain value # trailing comment\n"
		 "FT_HASH=a#b\r\n");
	setenv("FT_BOTH", "from-env", 1);
	profile_file *pf = load_with(
		"'app': {'env_file': '.env'},"
		"'description': '${DB_HOST}|${DB_USER}|${FT_NAME}|${FT_EMPTY}|${FT_BOTH}|"
		"${FT_FROM_FILE}|${FT_HASH}'");
	const struct profile *p = must(pf);
	assert_string_equal(p->description,
			    "db7.internal|shop user|shop \"live\"||from-env|plain value|a#b");
	profile_file_free(pf);
}

static void test_env_file_is_per_profile(void **state)
{
	(void)state;
	tu_write("a.env", "FT_NAME=alpha\n");
	profile_file *pf = load_q("{'a': {" DB ", 'app': {'env_file': 'a.env'},"
				  " 'description': '${FT_NAME}'},"
				  " 'b': {" DB ", 'description': '${FT_NAME}'}}");
	check_error(pf, "profiles.json: b.description: ${FT_NAME} is not set",
		    "set it in the environment, or name an env file in app.env_file");
}

static void test_dollar_escapes(void **state)
{
	(void)state;
	setenv("FT_NAME", "x", 1);
	profile_file *pf = load_with(
		"'description': 'cost $$5, $1 and $FT_NAME stay, $${FT_NAME} is literal, "
		"${FT_NAME}$$'");
	assert_string_equal(must(pf)->description,
			    "cost $5, $1 and $FT_NAME stay, ${FT_NAME} is literal, x$");
	profile_file_free(pf);
}

static void test_unset_variable(void **state)
{
	(void)state;
	expect_error("{'production': {'database': {'url': 'postgresql://app@${DB_HOST}/shop'}}}",
		     "profiles.json: production.database.url: ${DB_HOST} is not set",
		     "set it in the environment, or name an env file in app.env_file");
	tu_write(".env", "OTHER=1\n");
	char *hint = xasprintf("set it in the environment or in %s/.env", scratch);
	expect_error("{'production': {'app': {'env_file': '.env'},"
		     " 'database': {'url': 'postgresql://app@${DB_HOST}/shop'}}}",
		     "profiles.json: production.database.url: ${DB_HOST} is not set", hint);
	free(hint);
	expect_error_with("'services': {'restart': ['ok', 'restart ${FT_NAME}']}",
			  "profiles.json: production.services.restart[1]: ${FT_NAME} is not set",
			  NULL);
}

/* ${NAME:-default}: the default when NAME is unset or empty, else NAME. */
static void test_variable_default(void **state)
{
	(void)state;
	setenv("FT_EMPTY", "", 1);
	setenv("FT_NAME", "set", 1);
	profile_file *pf = load_with("'app': {'root': '${FT_ROOT:-/srv/app}'},"
				     "'description': '${FT_EMPTY:-empty}|${FT_NAME:-unused}|${FT_HOST:-a:b-c}'");
	const struct profile *p = must(pf);
	assert_string_equal(p->app.root, "/srv/app");
	assert_string_equal(p->description, "empty|set|a:b-c");
	profile_file_free(pf);
	expect_error_with("'description': '${1BAD:-x}'", "profiles.json: production.description: bad variable name ${1BAD}",
			  NULL);
}

/* profile_env_file_get: the last line of a key, quotes undone; NULL when absent. */
static void test_env_file_get(void **state)
{
	(void)state;
	tu_write(".env", "# c\nDATABASE_URL=postgresql://a@b/c\nexport DATABASE_URL='postgresql://x@y/z'\nBAD LINE\n");
	char *v = profile_env_file_get(".env", "DATABASE_URL");
	assert_string_equal(v, "postgresql://x@y/z");
	free(v);
	assert_null(profile_env_file_get(".env", "NOPE"));
	assert_null(profile_env_file_get("missing.env", "DATABASE_URL"));
}

/* profile_save_new: a new file (0600, in a 0700 directory); another
 * profile added; a name taken refused without replace, and the file left
 * as it was; a profile that does not load is never written. */
static void test_save_new(void **state)
{
	(void)state;
	const char *path = "config/migration_profiles.json";
	assert_int_equal(profile_save_new(path, "shop", "{\"database\": {\"url\": \"postgresql://a@b/shop\"}}",
					  false, &e), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat("config", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(profile_save_new(path, "other", "{\"database\": {\"url\": \"postgresql://a@b/o\"}}",
					  false, &e), 0);
	char *before = NULL;
	size_t len;
	before = fsx_read_file(path, 1 << 20, &len, &e);
	assert_int_equal(profile_save_new(path, "shop", "{\"database\": {\"url\": \"postgresql://a@b/x\"}}",
					  false, &e), -1);
	assert_int_equal(e.kind, ERR_PROFILE);
	char *msg = xasprintf("there is a profile \"shop\" in %s already", path);
	assert_string_equal(e.msg, msg);
	free(msg);
	assert_int_equal(profile_save_new(path, "bad", "{\"database\": {\"url\": 5}}", false, &e), -1);
	char *after = fsx_read_file(path, 1 << 20, &len, &e);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(profile_save_new(path, "shop", "{\"database\": {\"url\": \"postgresql://a@b/x\"}}",
					  true, &e), 0);
	profile_file *pf = profile_file_load(path, &e);
	assert_non_null(pf);
	assert_int_equal(profile_file_count(pf), 2);
	assert_string_equal(profile_file_at(pf, 0)->database.url, "postgresql://a@b/x");
	profile_file_free(pf);
	free(before);
}

/* profile_check_paths: missing paths are errors, or notes with an ssh section. */
static void test_check_paths(void **state)
{
	(void)state;
	tu_mkdirs("app/uploads");
	profile_file *pf = load_q("{'here': {" DB ", 'app': {'root': 'app', 'paths': ['uploads', 'gone']},"
				  " 'backup': {'dir': 'nobackups'}},"
				  " 'there': {" DB ", 'app': {'root': '/srv/none'}, 'ssh': {'host': 'h2'}}}");
	assert_non_null(pf);
	struct strv errors = {0}, notes = {0};
	assert_int_equal(profile_check_paths(profile_file_at(pf, 0), &errors, &notes), 2);
	char *want = xasprintf("here.app.paths[1]: %s/app/gone does not exist", scratch);
	assert_string_equal(errors.v[0], want);
	free(want);
	want = xasprintf("here.backup.dir: %s/nobackups does not exist", scratch);
	assert_string_equal(errors.v[1], want);
	free(want);
	assert_int_equal(profile_check_paths(profile_file_at(pf, 1), &errors, &notes), 0);
	assert_int_equal(errors.n, 2);
	assert_int_equal(notes.n, 2);
	assert_string_equal(notes.v[0], "there.app.root: /srv/none does not exist here (fine when it is on h2, "
			    "the profile's ssh host)");
	strv_done(&errors);
	strv_done(&notes);
	profile_file_free(pf);
}

static void test_env_file_path_expanded_from_environment_only(void **state)
{
	(void)state;
	tu_write(".env", "FT_ENV=.env\n");
	expect_error_with("'app': {'env_file': '${FT_ENV}'}",
			  "profiles.json: production.app.env_file: ${FT_ENV} is not set",
			  "set it in the environment (app.root and app.env_file are expanded "
			  "from the environment only)");
	tu_mkdirs("r");
	tu_write("r/vars", "FT_NAME=n\n");
	setenv("FT_ROOT", "r", 1);
	setenv("FT_ENV", "vars", 1);
	profile_file *pf = load_with("'app': {'root': '${FT_ROOT}', 'env_file': '${FT_ENV}'},"
				     "'description': '${FT_NAME}'");
	const struct profile *p = must(pf);
	assert_path(p->app.env_file, "r/vars");
	assert_string_equal(p->description, "n");
	profile_file_free(pf);
}

static void test_missing_env_file(void **state)
{
	(void)state;
	tu_mkdirs("app");
	char *msg = xasprintf("profiles.json: production.app.env_file: cannot read "
			      "%s/app/.env: No such file or directory", scratch);
	expect_error_with("'app': {'root': 'app', 'env_file': '.env'}", msg,
			  "create it (KEY=VALUE lines) or remove app.env_file");
	free(msg);
}

static void test_env_file_syntax_errors(void **state)
{
	(void)state;
	tu_write(".env", "A=1\nthis is not an assignment\n");
	char *msg = xasprintf("profiles.json: production.app.env_file: %s/.env:2: "
			      "expected KEY=VALUE", scratch);
	expect_error_with("'app': {'env_file': '.env'}", msg, NULL);
	free(msg);
	tu_write(".env", "A=\"open\n");
	msg = xasprintf("profiles.json: production.app.env_file: %s/.env:1: "
			"unterminated double quote", scratch);
	expect_error_with("'app': {'env_file': '.env'}", msg, NULL);
	free(msg);
	tu_write(".env", "B='x' y\n");
	msg = xasprintf("profiles.json: production.app.env_file: %s/.env:1: "
			"text after the closing quote", scratch);
	expect_error_with("'app': {'env_file': '.env'}", msg, NULL);
	free(msg);
}

static void test_bad_variable_syntax(void **state)
{
	(void)state;
	expect_error_with("'description': 'x ${FT_NAME'",
			  "profiles.json: production.description: unterminated ${ in "
			  "\"${FT_NAME\"", "write ${NAME}, or $$ for a literal $");
	expect_error_with("'description': '${1X}'",
			  "profiles.json: production.description: bad variable name ${1X}", NULL);
	expect_error_with("'description': '${}'",
			  "profiles.json: production.description: bad variable name ${}", NULL);
}

static void test_expands_to_empty(void **state)
{
	(void)state;
	setenv("FT_EMPTY", "", 1);
	expect_error_with("'ssh': {'host': '${FT_EMPTY}'}",
			  "profiles.json: production.ssh.host: \"${FT_EMPTY}\" expands to an "
			  "empty string", NULL);
	expect_error_with("'services': {'orchestrator': '${FT_EMPTY}'}",
			  "profiles.json: production.services.orchestrator: expected one of "
			  "docker, pm2, systemd, custom, got \"\"", NULL);
}

static void test_database_url_override(void **state)
{
	(void)state;
	setenv("DATABASE_URL", "postgresql://u@override/odb", 1);
	/* the file's URL is not expanded when overridden: ${DB_HOST} may be unset */
	profile_file *pf = load_q("{'production': {'database': "
				  "{'url': 'postgresql://app@${DB_HOST}/shop'}}}");
	const struct profile *p = must(pf);
	assert_string_equal(p->database.url, "postgresql://u@override/odb");
	char *name = profile_db_name(p);
	assert_string_equal(name, "odb");
	free(name);
	profile_file_free(pf);
	expect_error("{'production': {'database': {'url': 42}}}",
		     "profiles.json: production.database.url: expected a string, got 42", NULL);
}

/* ---- redaction ---------------------------------------------------------- */

static void assert_redacted(const char *url, const char *want)
{
	char *got = profile_redact_url(url);
	assert_string_equal(got, want);
	free(got);
}

static void test_redact_url(void **state)
{
	(void)state;
	assert_redacted("postgresql://u:secret@h:5432/db", "postgresql://u:***@h:5432/db");
	assert_redacted("postgres://u:p%40ss@h/db?sslmode=require",
			"postgres://u:***@h/db?sslmode=require");
	assert_redacted("postgresql://u@h/db", "postgresql://u@h/db");
	assert_redacted("postgresql://u:@h/db", "postgresql://u:@h/db");
	assert_redacted("postgresql://h/db?user=u&password=pw&sslmode=require",
			"postgresql://h/db?user=u&password=***&sslmode=require");
	assert_redacted("postgresql://u:a@b@h/db", "postgresql://u:***@h/db");
	assert_redacted("host=h password=secret dbname=d", "host=h password=*** dbname=d");
	assert_redacted("host=h password='se cr\\'et' dbname=d", "host=h password=*** dbname=d");
	assert_redacted("host=h password = secret", "host=h password = ***");
	assert_redacted("host=h dbname=d", "host=h dbname=d");
	assert_redacted("", "");
	assert_null(profile_redact_url(NULL));
}

/* drill and notify as FULL gives them; defaults without them. */
static void test_drill_notify_sections(void **state)
{
	(void)state;
	tu_mkdirs("app");
	tu_write("app/.env", "X=1\n");
	profile_file *pf = load_q(FULL);
	const struct profile *p = must(pf);
	assert_int_equal(p->drill.nchecks, 3);
	assert_string_equal(p->drill.checks[0].name, "admin");
	assert_string_equal(p->drill.checks[0].expect, "1");
	assert_string_equal(p->drill.checks[1].expect, "t");
	assert_string_equal(p->drill.checks[1].params.v[0], "{bundle_created}");
	assert_string_equal(p->drill.checks[2].expect, "root");
	assert_int_equal(p->drill.max_age_days, 3);
	assert_string_equal(p->drill.schedule, "Sat 01:30");
	assert_true(p->has_notify);
	assert_int_equal(p->notify.on.n, 1);
	assert_string_equal(p->notify.on.v[0], "failure");
	assert_string_equal(p->notify.command, "mail -s ferry root");
	assert_string_equal(p->notify.webhook_url, "https://hooks.example.com/T0/B0/secretpart");
	assert_string_equal(p->notify.webhook_headers.v[0], "Authorization: Bearer t0k3n");
	assert_int_equal(p->notify.timeout_s, 9);
	char *text = profile_to_json_redacted(p);
	assert_null(strstr(text, "secretpart"));
	assert_null(strstr(text, "t0k3n"));
	assert_non_null(strstr(text, "\"url\": \"https://hooks.example.com/***\""));
	free(text);
	struct profile *c = profile_clone(p);
	assert_string_equal(c->drill.checks[1].params.v[0], "{bundle_created}");
	assert_string_equal(c->notify.webhook_headers.v[1], "X-Tag: ferry");
	profile_free(c);
	profile_file_free(pf);
	pf = load_with("");
	p = must(pf);
	assert_int_equal(p->drill.nchecks, 0);
	assert_int_equal(p->drill.max_age_days, 8);
	assert_string_equal(p->drill.schedule, "weekly");
	assert_false(p->has_notify);
	profile_file_free(pf);
	pf = load_with("'notify': {'command': 'true'}");
	p = must(pf);
	assert_int_equal(p->notify.on.n, 2);
	assert_string_equal(p->notify.on.v[1], "warning");
	profile_file_free(pf);
}

/* Bad drill and notify keys name their key path. */
static void test_drill_notify_errors(void **state)
{
	(void)state;
	expect_error_with("'drill': {'check': []}", "profiles.json: production.drill.check: unknown key",
			  "did you mean \"checks\"?");
	expect_error_with("'drill': {'checks': {}}", "profiles.json: production.drill.checks: expected an "
			  "array of {\"name\", \"sql\", \"expect\"}, got an object", NULL);
	expect_error_with("'drill': {'checks': [{'name': 'a', 'sql': 'SELECT 1'}]}",
			  "profiles.json: production.drill.checks[0].expect: missing", NULL);
	expect_error_with("'drill': {'checks': [{'name': 'a', 'sql': 'SELECT 1', 'expect': [1]}]}",
			  "profiles.json: production.drill.checks[0].expect: expected a string, an integer, true "
			  "or false, got an array", NULL);
	expect_error_with("'drill': {'checks': [{'sql': 'SELECT 1', 'expect': 1}]}",
			  "profiles.json: production.drill.checks[0].name: missing", NULL);
	expect_error_with("'drill': {'checks': [{'name': 'a', 'sql': 'SELECT 1', 'expect': 1},"
			  "{'name': 'a', 'sql': 'SELECT 2', 'expect': 2}]}",
			  "profiles.json: production.drill.checks[1]: a second check named \"a\"", NULL);
	expect_error_with("'drill': {'max_age_days': 0}", "profiles.json: production.drill.max_age_days: "
			  "expected an integer 1-3650, got 0", NULL);
	expect_error_with("'drill': {'schedule': 'Sunday 5am'}", "profiles.json: production.drill.schedule: "
			  "expected \"weekly\", \"daily\", \"monthly\", \"off\" or \"<day> HH:MM\", got "
			  "\"Sunday 5am\"", NULL);
	expect_error_with("'drill': {'schedule': 'Sun 25:00'}", "profiles.json: production.drill.schedule: "
			  "expected \"weekly\", \"daily\", \"monthly\", \"off\" or \"<day> HH:MM\", got "
			  "\"Sun 25:00\"", NULL);
	expect_error_with("'notify': {}", "profiles.json: production.notify: needs a command or a webhook", NULL);
	expect_error_with("'notify': {'on': ['failure', 'always'], 'command': 'x'}",
			  "profiles.json: production.notify.on[1]: expected one of failure, warning, success, "
			  "got \"always\"", NULL);
	expect_error_with("'notify': {'webhook': {'url': 'ftp://x'}}", "profiles.json: production.notify."
			  "webhook.url: expected an http:// or https:// URL, got \"ftp://x\"", NULL);
	expect_error_with("'notify': {'webhook': {'headers': {}}}",
			  "profiles.json: production.notify.webhook.url: missing", NULL);
	expect_error_with("'notify': {'webhook': {'url': 'http://x', 'headers': {'Bad Name': 'v'}}}",
			  "profiles.json: production.notify.webhook.headers.Bad Name: not a valid HTTP header (a "
			  "name of letters, digits and -, a value without line breaks)", NULL);
	expect_error_with("'notify': {'command': 'x', 'timeout_s': 0}", "profiles.json: production.notify."
			  "timeout_s: expected an integer 1-3600, got 0", NULL);
}

/* drill.schedule's forms. */
static void test_when_parse(void **state)
{
	(void)state;
	struct profile_when w;
	assert_int_equal(profile_when_parse("weekly", &w), 0);
	assert_int_equal(w.weekday, 0);
	assert_int_equal(w.hour, 5);
	assert_int_equal(profile_when_parse("daily 04:30", &w), 0);
	assert_int_equal(w.weekday, -1);
	assert_int_equal(w.minute, 30);
	assert_int_equal(profile_when_parse("monthly", &w), 0);
	assert_true(w.monthly);
	assert_int_equal(profile_when_parse("fri 23:59", &w), 0);
	assert_int_equal(w.weekday, 5);
	assert_int_equal(profile_when_parse("off", &w), 0);
	assert_true(w.off);
	assert_int_equal(profile_when_parse("Sun 5:00", &w), -1);
	assert_int_equal(profile_when_parse("hourly", &w), -1);
	assert_int_equal(profile_when_parse("Sun 05:00 extra", &w), -1);
}

static void test_json_redacted_exact(void **state)
{
	(void)state;
	setenv("DATABASE_URL", "postgresql://u:hunter2@h:5432/db", 1);
	profile_file *pf = load_q("{'p': {'ssh': {'host': 'h'}}}");
	char *text = profile_to_json_redacted(must(pf));
	char *want = xasprintf(
		"{\n"
		"  \"name\": \"p\",\n"
		"  \"file\": \"%1$s/profiles.json\",\n"
		"  \"database\": {\n"
		"    \"url\": \"postgresql://u:***@h:5432/db\"\n"
		"  },\n"
		"  \"backup\": {\n"
		"    \"dir\": \"%1$s/backups\",\n"
		"    \"compression\": \"zstd\",\n"
		"    \"level\": 1,\n"
		"    \"globals\": false,\n"
		"    \"keep\": {\n"
		"      \"last\": 10,\n"
		"      \"daily\": 7,\n"
		"      \"weekly\": 4,\n"
		"      \"monthly\": 12,\n"
		"      \"manual_days\": 30\n"
		"    }\n"
		"  },\n"
		"  \"ssh\": {\n"
		"    \"host\": \"h\",\n"
		"    \"port\": 22,\n"
		"    \"known_hosts\": \"%1$s/home/.ssh/known_hosts\",\n"
		"    \"use_ssh_config\": true,\n"
		"    \"ferry_path\": \"ferry\"\n"
		"  },\n"
		"  \"log_dir\": \"%1$s/logs\",\n"
		"  \"drill\": {\n"
		"    \"max_age_days\": 8,\n"
		"    \"schedule\": \"weekly\"\n"
		"  }\n"
		"}", scratch);
	assert_string_equal(text, want);
	free(want);
	free(text);
	profile_file_free(pf);
}

static void test_json_redacts_secret_variables(void **state)
{
	(void)state;
	setenv("DB_PASSWORD", "pw-Zq81", 1);
	setenv("API_TOKEN", "tok-77Xa", 1);
	setenv("FT_NAME", "visible-name", 1);
	tu_write(".env", "WEBHOOK_SECRET=hook-Qq3\n");
	profile_file *pf = load_with(
		"'app': {'env_file': '.env'},"
		"'registry': {'primary_url': 'host=db2 password=${DB_PASSWORD} dbname=shop'},"
		"'hooks': {'post_deploy': ['notify --token ${API_TOKEN} --sig ${WEBHOOK_SECRET}']},"
		"'description': '${FT_NAME} ${DB_PASSWORD}'");
	const struct profile *p = must(pf);
	assert_string_equal(p->hooks.post_deploy.v[0], "notify --token tok-77Xa --sig hook-Qq3");
	assert_int_equal(p->secrets.n, 3);
	char *text = profile_to_json_redacted(p);
	assert_null(strstr(text, "pw-Zq81"));
	assert_null(strstr(text, "tok-77Xa"));
	assert_null(strstr(text, "hook-Qq3"));
	assert_non_null(strstr(text, "\"primary_url\": \"host=db2 password=*** dbname=shop\""));
	assert_non_null(strstr(text, "\"notify --token *** --sig ***\""));
	assert_non_null(strstr(text, "\"description\": \"visible-name ***\""));
	free(text);
	profile_file_free(pf);
}

static void test_json_full_profile_is_valid_json(void **state)
{
	(void)state;
	tu_mkdirs("app");
	tu_write("app/.env", "");
	profile_file *pf = load_q(FULL);
	char *text = profile_to_json_redacted(must(pf));
	json_error_t jerr;
	json_t *parsed = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(parsed);
	json_decref(parsed);
	const char *order[] = {"\"name\"", "\"file\"", "\"description\"", "\"database\"",
			       "\"app\"", "\"backup\"", "\"ssh\"", "\"services\"", "\"health\"",
			       "\"registry\"", "\"hooks\"", "\"migrations\"", "\"actions\"",
			       "\"seeds\"", "\"log_dir\""};
	const char *last = text;
	for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
		const char *hit = strstr(text, order[i]);
		assert_non_null(hit);
		assert_true(hit >= last);
		last = hit;
	}
	free(text);
	profile_file_free(pf);
}

/* ---- database name ------------------------------------------------------ */

static void assert_db_name(const char *url, const char *want)
{
	char *q = xasprintf("{'p': {'database': {'url': '%s'}}}", url);
	profile_file *pf = load_q(q);
	char *got = profile_db_name(must(pf));
	if (want) {
		assert_non_null(got);
		assert_string_equal(got, want);
	} else {
		assert_null(got);
	}
	free(got);
	profile_file_free(pf);
	free(q);
}

static void test_db_name(void **state)
{
	(void)state;
	assert_db_name("postgresql://u@h:5432/shop", "shop");
	assert_db_name("postgresql://u@h/my%20db?sslmode=require", "my db");
	assert_db_name("postgresql://u@h", NULL);
	assert_db_name("postgresql://u@h/", NULL);
	assert_db_name("postgresql:///local", "local");
	assert_db_name("postgresql://u@h?dbname=q", "q");
	assert_db_name("host=h dbname=shop user=u", "shop");
	assert_db_name("host=h dbname = \\u0027my db\\u0027", "my db");
	assert_db_name("host=h user=u", NULL);
	assert_db_name("host=h dbname=my\\\\ db", "my db");
	assert_db_name("postgresql://u@h/a?dbname=b", "b");
	assert_null(profile_db_name(NULL));
}

/* ---- picking a profile -------------------------------------------------- */

static profile_file *three_profiles(void)
{
	profile_file *pf = load_q(
		"{'production': {" DB "}, 'staging': {" DB "}, 'local': {" DB "}}");
	must(pf);
	return pf;
}

static void test_get_by_name(void **state)
{
	(void)state;
	profile_file *pf = three_profiles();
	const struct profile *p = profile_file_get(pf, "staging", &e);
	assert_non_null(p);
	assert_string_equal(p->name, "staging");
	profile_file_free(pf);
}

static void test_get_unknown_name(void **state)
{
	(void)state;
	profile_file *pf = three_profiles();
	assert_null(profile_file_get(pf, "prod", &e));
	assert_int_equal(e.kind, ERR_PROFILE);
	assert_string_equal(e.msg, "no profile \"prod\" in profiles.json");
	assert_string_equal(e.hint,
			    "did you mean \"production\"? profiles: production, staging, local");
	assert_null(profile_file_get(pf, "stagign", &e));
	assert_string_equal(e.hint,
			    "did you mean \"staging\"? profiles: production, staging, local");
	assert_null(profile_file_get(pf, "qa", &e));
	assert_string_equal(e.msg, "no profile \"qa\" in profiles.json");
	assert_string_equal(e.hint, "profiles: production, staging, local");
	profile_file_free(pf);
}

static void test_get_ambiguous(void **state)
{
	(void)state;
	profile_file *pf = three_profiles();
	assert_null(profile_file_get(pf, NULL, &e));
	assert_int_equal(e.kind, ERR_PROFILE);
	assert_string_equal(e.msg, "profiles.json has 3 profiles; pick one");
	assert_string_equal(e.hint,
			    "use --profile NAME (production, staging, local) or set FERRY_PROFILE");
	profile_file_free(pf);
}

static void test_get_from_environment(void **state)
{
	(void)state;
	profile_file *pf = three_profiles();
	setenv("FERRY_PROFILE", "local", 1);
	const struct profile *p = profile_file_get(pf, NULL, &e);
	assert_non_null(p);
	assert_string_equal(p->name, "local");
	/* an explicit name wins over $FERRY_PROFILE */
	p = profile_file_get(pf, "production", &e);
	assert_string_equal(p->name, "production");
	setenv("FERRY_PROFILE", "nope", 1);
	assert_null(profile_file_get(pf, NULL, &e));
	assert_string_equal(e.msg, "no profile \"nope\" in profiles.json");
	profile_file_free(pf);
}

static void test_get_only_profile(void **state)
{
	(void)state;
	profile_file *pf = load_with("");
	must(pf);
	const struct profile *p = profile_file_get(pf, NULL, &e);
	assert_non_null(p);
	assert_string_equal(p->name, "production");
	profile_file_free(pf);
}

/* ---- locating the file -------------------------------------------------- */

static void write_profiles(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		tu_mkdirs(dir);
	}
	free(dir);
	tu_write(path, "{\"p\": {\"database\": {\"url\": \"dbname=x\"}}}");
}

static void assert_located(const char *explicit_path, const char *want)
{
	err_clear(&e);
	char *got = profile_locate(explicit_path, &e);
	if (!got)
		fail_msg("not located: %s", e.msg);
	assert_string_equal(got, want);
	free(got);
}

static void test_locate_order(void **state)
{
	(void)state;
	char *xdg = at("xdg");
	char *xdg_file = at("xdg/ferry/profiles.json");
	char *home_file = at("home/.config/ferry/profiles.json");
	char *env_file = at("env.json");
	write_profiles("explicit.json");
	write_profiles(env_file);
	write_profiles("config/migration_profiles.json");
	write_profiles(xdg_file);
	write_profiles(home_file);
	setenv("FERRY_PROFILES", env_file, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);

	assert_located("explicit.json", "explicit.json");
	assert_located(NULL, env_file);
	unsetenv("FERRY_PROFILES");
	assert_located(NULL, "./config/migration_profiles.json");
	remove("config/migration_profiles.json");
	assert_located(NULL, xdg_file);
	unsetenv("XDG_CONFIG_HOME");
	assert_located(NULL, home_file);
	setenv("XDG_CONFIG_HOME", "relative/ignored", 1);
	assert_located(NULL, home_file);
	free(xdg);
	free(xdg_file);
	free(home_file);
	free(env_file);
}

static void test_locate_errors(void **state)
{
	(void)state;
	assert_null(profile_locate("nope.json", &e));
	assert_int_equal(e.kind, ERR_PROFILE);
	assert_string_equal(e.msg, "cannot read nope.json: No such file or directory");

	setenv("FERRY_PROFILES", "gone.json", 1);
	assert_null(profile_locate(NULL, &e));
	assert_string_equal(e.msg, "cannot read gone.json: No such file or directory");
	assert_string_equal(e.hint, "FERRY_PROFILES points there; fix or unset it");
	unsetenv("FERRY_PROFILES");

	if (access("/etc/ferry/profiles.json", F_OK) == 0)
		skip();
	char *got = profile_locate(NULL, &e);
	assert_null(got);
	assert_string_equal(e.msg, "no profiles file found");
	char *hint = xasprintf("`ferry init` writes one; looked for --profiles FILE, $FERRY_PROFILES, "
			       "./config/migration_profiles.json, %s/home/.config/ferry/"
			       "profiles.json, /etc/ferry/profiles.json (profiles/README.md)", scratch);
	assert_string_equal(e.hint, hint);
	free(hint);
}

/* ---- a profile of one's own --------------------------------------------- */

static void test_clone_is_deep_and_equal(void **state)
{
	(void)state;
	tu_mkdirs("app");
	tu_write("app/.env", "");
	setenv("API_TOKEN", "tok-1", 1);
	profile_file *pf = load_q(FULL);
	const struct profile *p = must(pf);
	struct profile *c = profile_clone(p);
	char *a = profile_to_json_redacted(p);
	profile_file_free(pf);   /* the copy owns everything it points to */
	char *b = profile_to_json_redacted(c);
	assert_string_equal(a, b);
	assert_int_equal(c->nhealth, 2);
	assert_true(c->nactions > 0);
	free(a);
	free(b);
	profile_free(c);
	profile_free(NULL);
}

static void test_set_ssh(void **state)
{
	(void)state;
	profile_file *pf = load_with("'ssh': {'host': 'old', 'user': 'u', 'port': 2200,"
				     " 'identity_file': '/k/old', 'ferry_path': '/opt/ferry'}");
	const struct profile *p = must(pf);
	struct profile *c = profile_clone(p);
	struct profile_ssh_override o = {.host = "new", .user = "", .port = 2222,
					 .identity_file = "~/.ssh/id_new"};
	assert_int_equal(profile_set_ssh(c, &o, &e), 0);
	assert_string_equal(c->ssh.host, "new");
	assert_null(c->ssh.user);
	assert_int_equal(c->ssh.port, 2222);
	char *key = xasprintf("%s/home/.ssh/id_new", scratch);
	assert_string_equal(c->ssh.identity_file, key);
	free(key);
	assert_string_equal(c->ssh.ferry_path, "/opt/ferry");
	assert_string_equal(p->ssh.host, "old");
	assert_int_equal(p->ssh.port, 2200);
	o = (struct profile_ssh_override){.host = "x", .port = 0};
	assert_int_equal(profile_set_ssh(c, &o, &e), -1);
	assert_int_equal(e.kind, ERR_PROFILE);
	assert_string_equal(e.msg, "profile production: ssh.port: expected 1-65535, got 0");
	o = (struct profile_ssh_override){.host = "", .port = 22};
	assert_int_equal(profile_set_ssh(c, &o, &e), -1);
	assert_string_equal(c->ssh.host, "new");
	profile_free(c);
	profile_file_free(pf);
	pf = load_with("");
	c = profile_clone(must(pf));
	o = (struct profile_ssh_override){.host = "h", .port = 22};
	assert_int_equal(profile_set_ssh(c, &o, &e), 0);
	assert_true(c->has_ssh);
	assert_null(c->ssh.identity_file);
	profile_free(c);
	profile_file_free(pf);
}

/* ---- saving a copy ------------------------------------------------------ */

#define TWO_PROFILES \
	"{'a': {'database': {'url': 'postgresql://app:${DB_PASSWORD}@db/shop'}," \
	" 'ssh': {'host': 'old.example.com', 'user': 'deploy', 'port': 2200}}," \
	" 'b': {" DB "}}"

/* The answers a wizard would give: another host, no user, another port. */
static void edit_ssh(profile_edit *ed, void *ud)
{
	(void)ud;
	profile_edit_set_string(ed, "ssh", "host", "new.example.com");
	profile_edit_set_string(ed, "ssh", "user", NULL);
	profile_edit_set_int(ed, "ssh", "port", 2222);
	profile_edit_set_string(ed, "backup", "dir", "/srv/bundles");
	profile_edit_set_string(ed, "migrations", "dir", "");
	profile_edit_set_string(ed, NULL, "description", "a copy");
}

/* The file's text, parsed. */
static json_t *read_json(const char *path)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		fail_msg("%s: %s", path, jerr.text);
	return root;
}

/* The whole file, as bytes. */
static char *slurp(const char *path)
{
	size_t len;
	char *text = fsx_read_file(path, 0, &len, &e);
	if (!text)
		fail_msg("%s", e.msg);
	return text;
}

static void test_save_copy(void **state)
{
	(void)state;
	setenv("DB_PASSWORD", "s3cret", 1);
	char *json = tu_json(TWO_PROFILES);
	tu_write("profiles.json", json);
	free(json);
	assert_int_equal(chmod("profiles.json", 0640), 0);
	assert_int_equal(profile_save_copy("profiles.json", "a", "a-moved", edit_ssh, NULL, &e), 0);
	struct stat st;
	assert_int_equal(stat("profiles.json", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	json_t *root = read_json("profiles.json");
	char *want = tu_json("{'database': {'url': 'postgresql://app:${DB_PASSWORD}@db/shop'},"
			     " 'ssh': {'host': 'new.example.com', 'port': 2222},"
			     " 'backup': {'dir': '/srv/bundles'}, 'description': 'a copy'}");
	json_t *copy = json_loads(want, 0, NULL);
	assert_true(json_equal(json_object_get(root, "a-moved"), copy));
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(json_object_get(root, "a"), "ssh"), "host")), "old.example.com");
	assert_non_null(json_object_get(root, "b"));
	json_decref(copy);
	json_decref(root);
	free(want);
	profile_file *pf = profile_file_load("profiles.json", &e);
	assert_non_null(pf);
	assert_int_equal(profile_file_count(pf), 3);
	profile_file_free(pf);
	assert_false(fsx_exists("profiles.json.part"));
}

/* A plain copy (no changes) of the only profile. */
static void test_save_plain_copy(void **state)
{
	(void)state;
	char *json = tu_json("{'b': {" DB "}}");
	tu_write("profiles.json", json);
	free(json);
	assert_int_equal(profile_save_copy("profiles.json", "b", "c", NULL, NULL, &e), 0);
	json_t *root = read_json("profiles.json");
	assert_true(json_equal(json_object_get(root, "b"), json_object_get(root, "c")));
	json_decref(root);
}

/* A copy that would not load: another ssh.port. */
static void edit_bad_port(profile_edit *ed, void *ud)
{
	profile_edit_set_int(ed, "ssh", "port", *(const int *)ud);
}

static void test_save_refused_leaves_file(void **state)
{
	(void)state;
	setenv("DB_PASSWORD", "s3cret", 1);
	char *json = tu_json(TWO_PROFILES);
	tu_write("profiles.json", json);
	free(json);
	char *before = slurp("profiles.json");
	int port = 0;
	assert_int_equal(profile_save_copy("profiles.json", "a", "x", edit_bad_port, &port, &e), -1);
	assert_int_equal(e.kind, ERR_PROFILE);
	assert_string_equal(e.msg, "profiles.json: x.ssh.port: expected an integer 1-65535, got 0");
	assert_int_equal(profile_save_copy("profiles.json", "nope", "x", NULL, NULL, &e), -1);
	assert_string_equal(e.msg, "no profile \"nope\" in profiles.json to copy");
	assert_int_equal(profile_save_copy("profiles.json", "a", "b", NULL, NULL, &e), -1);
	assert_string_equal(e.msg, "there is a profile \"b\" in profiles.json already");
	assert_int_equal(profile_save_copy("profiles.json", "a", "", NULL, NULL, &e), -1);
	char *after = slurp("profiles.json");
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_int_equal(profile_save_copy("missing.json", "a", "x", NULL, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_FAILED);
	tu_write("broken.json", "{\"a\": ");
	assert_int_equal(profile_save_copy("broken.json", "a", "x", NULL, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_PROFILE);
}

/* ---- the shipped examples ----------------------------------------------- */

static char *example_path(const char *name)
{
	const char *src = getenv("FERRY_SRC");
	if (!src || !*src)
		src = ".";
	if (src[0] == '/')
		return xasprintf("%s/profiles/%s", src, name);
	return xasprintf("%s/%s/profiles/%s", orig_cwd, src, name);
}

static profile_file *load_example(const char *name)
{
	char *path = example_path(name);
	err_clear(&e);
	profile_file *pf = profile_file_load(path, &e);
	if (!pf)
		fail_msg("%s: %s (hint: %s)", name, e.msg, e.hint);
	free(path);
	return pf;
}

static void test_example_local(void **state)
{
	(void)state;
	profile_file *pf = load_example("local.json");
	const struct profile *p = profile_file_get(pf, NULL, &e);
	assert_non_null(p);
	assert_string_equal(p->name, "local");
	profile_file_free(pf);
}

static void test_example_staging(void **state)
{
	(void)state;
	tu_mkdirs("shop");
	tu_write("shop/.env", "DB_PASSWORD=staging-pw\nSTAGING_HOST=staging.example.com\n");
	char *root = at("shop");
	setenv("APP_ROOT", root, 1);
	profile_file *pf = load_example("staging.json");
	const struct profile *p = profile_file_get(pf, "staging", &e);
	assert_non_null(p);
	assert_string_equal(p->app.root, root);
	char *json = profile_to_json_redacted(p);
	assert_null(strstr(json, "staging-pw"));
	free(json);
	free(root);
	profile_file_free(pf);
}

static void test_example_production(void **state)
{
	(void)state;
	profile_file *pf = load_example("production.json");
	const struct profile *p = profile_file_get(pf, "production", &e);
	assert_non_null(p);
	assert_true(p->has_ssh);
	assert_string_equal(p->services.orchestrator, "systemd");
	assert_true(p->nhealth > 0);
	assert_true(p->has_registry);
	assert_non_null(p->migrations.command);
	bool found = false;
	for (size_t i = 0; i < p->nactions; i++)
		found = found || strcmp(p->actions[i].name, "decommission-worker") == 0;
	assert_true(found);
	profile_file_free(pf);
}

/* ---- main --------------------------------------------------------------- */

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_full_profile),
		T(test_defaults),
		T(test_defaults_keep_partial_and_ssh),
		T(test_relative_paths),
		T(test_registry_file_without_app),
		T(test_app_root_defaults_to_file_dir),
		T(test_paths_relative_to_file_dir),
		T(test_tilde_expansion),
		T(test_several_profiles_in_order),
		T(test_compression_none_ignores_level),
		T(test_migrations_dir),
		T(test_syntax_error_line_column),
		T(test_syntax_error_from_file),
		T(test_duplicate_key),
		T(test_duplicate_nested_key),
		T(test_top_level_not_object),
		T(test_empty_file),
		T(test_byte_order_mark_is_skipped),
		T(test_no_profiles),
		T(test_profile_not_object),
		T(test_unreadable_file),
		T(test_type_errors),
		T(test_range_errors),
		T(test_enum_errors),
		T(test_value_format_errors),
		T(test_unknown_key_did_you_mean),
		T(test_unknown_key_lists_valid_keys),
		T(test_unknown_key_reported_before_missing),
		T(test_missing_database_url),
		T(test_ssh_requires_host),
		T(test_health_and_action_required_keys),
		T(test_migrations_mutually_exclusive),
		T(test_bad_app_paths),
		T(test_literal_password_uri),
		T(test_literal_password_keyvalue),
		T(test_literal_password_registry),
		T(test_password_from_variable_is_fine),
		T(test_password_check_reads_like_libpq),
		T(test_literal_password_checked_under_override),
		T(test_expand_from_environment),
		T(test_expand_from_env_file),
		T(test_env_file_is_per_profile),
		T(test_dollar_escapes),
		T(test_unset_variable),
		T(test_variable_default),
		T(test_env_file_get),
		T(test_save_new),
		T(test_check_paths),
		T(test_env_file_path_expanded_from_environment_only),
		T(test_missing_env_file),
		T(test_env_file_syntax_errors),
		T(test_bad_variable_syntax),
		T(test_expands_to_empty),
		T(test_database_url_override),
		T(test_redact_url),
		T(test_json_redacted_exact),
		T(test_drill_notify_sections),
		T(test_drill_notify_errors),
		T(test_when_parse),
		T(test_json_redacts_secret_variables),
		T(test_json_full_profile_is_valid_json),
		T(test_db_name),
		T(test_get_by_name),
		T(test_get_unknown_name),
		T(test_get_ambiguous),
		T(test_get_from_environment),
		T(test_get_only_profile),
		T(test_locate_order),
		T(test_locate_errors),
		T(test_clone_is_deep_and_equal),
		T(test_set_ssh),
		T(test_save_copy),
		T(test_save_plain_copy),
		T(test_save_refused_leaves_file),
		T(test_example_local),
		T(test_example_staging),
		T(test_example_production),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
