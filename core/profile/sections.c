/* sections — the keys of each section of a profile and how each is read,
 * in a fixed order: app first (its env file feeds ${VAR} expansion of
 * everything else), then database, backup, ssh, services, health, registry,
 * hooks, migrations, actions, seeds, log_dir, description, then the
 * offsite keys (offsite.c), drill and notify (alerts.c). Every object's
 * keys are checked against the section's table before its values, so a typo
 * is reported as a typo and not as a missing key. */
#include "profile_int.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- sections ----------------------------------------------------------- */

static const char *const profile_keys[] = {
	"description", "database", "app", "backup", "ssh", "services", "health",
	"registry", "hooks", "migrations", "actions", "seeds", "log_dir", "offsite",
	"encryption", "signing", "offsite_max_age", "drill", "notify", NULL};
static const char *const database_keys[] = {"url", NULL};
static const char *const app_keys[] = {"root", "paths", "exclude", "env_file", "keep_ownership", NULL};
static const char *const backup_keys[] = {
	"dir", "compression", "level", "globals", "keep", "schedule", "offsite", NULL};
static const char *const keep_keys[] = {
	"last", "daily", "weekly", "monthly", "manual_days", NULL};
static const char *const ssh_keys[] = {
	"host", "port", "user", "identity_file", "known_hosts", "use_ssh_config",
	"ferry_path", "remote_profiles", NULL};
static const char *const services_keys[] = {
	"orchestrator", "restart", "stop", "start", "status", "rollback", NULL};
static const char *const health_keys[] = {
	"name", "url", "expect", "timeout_s", "retries", "interval_s",
	"follow_redirects", NULL};
static const char *const registry_keys[] = {
	"file", "primary_url", "fallback_url", "grace_period", NULL};
static const char *const hooks_keys[] = {
	"pre_backup", "post_backup", "pre_restore", "post_restore", "pre_deploy",
	"post_deploy", NULL};
static const char *const migrations_keys[] = {"command", "status_command", "dir", NULL};
static const char *const action_keys[] = {"sql", "params", "confirm", "description", NULL};

static const char *const compressions[] = {"zstd", "gzip", "none", NULL};
static const char *const orchestrators[] = {"docker", "pm2", "systemd", "custom", NULL};
static const char *const schedules[] = {"daily", "weekly", "monthly", NULL};

/* The defaults every profile starts from. */
static void set_defaults(struct profile *p)
{
	p->backup.dir = profile_path_resolve(p->dir, "backups");
	p->backup.compression = xstrdup("zstd");
	p->backup.level = 1;
	p->backup.keep = (struct profile_keep){
		.last = 10, .daily = 7, .weekly = 4, .monthly = 12, .manual_days = 30};
	p->ssh.port = 22;
	p->ssh.known_hosts = profile_path_resolve(p->dir, "~/.ssh/known_hosts");
	p->ssh.use_ssh_config = true;
	p->ssh.ferry_path = xstrdup("ferry");
	p->log_dir = profile_path_resolve(p->dir, "logs");
}

/* app.paths are relative to app.root and stay below it; cleaned in place. */
static int check_app_paths(struct profile_ctx *c, const char *parent, struct strv *paths)
{
	char kp[KP_MAX];
	profile_keypath(kp, parent, "paths");
	for (size_t i = 0; i < paths->n; i++) {
		char *rel = profile_relative_clean(paths->v[i]);
		if (!rel) {
			char ikp[KP_MAX];
			profile_keypath_index(ikp, kp, i);
			return profile_fail(c, ikp, "expected a path relative to app.root without \"..\", got %s",
				    profile_quote(paths->v[i]).s);
		}
		free(paths->v[i]);
		paths->v[i] = rel;
	}
	return 0;
}

/* app: root and env_file first (from the environment only), then the env file. */
static int load_app(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *app;
	if (profile_read_section(c, prof, name, "app", app_keys, &app, kp) < 0)
		return -1;
	if (!app)
		return 0;
	struct profile *p = c->p;
	p->has_app = true;
	p->app.root = xstrdup(p->dir);
	c->env_only = true;
	int rc = profile_read_path(c, app, kp, "root", c->dir, &p->app.root);
	if (rc == 0)
		rc = profile_read_path(c, app, kp, "env_file", p->app.root, &p->app.env_file);
	c->env_only = false;
	if (rc == 0 && p->app.env_file) {
		char ekp[KP_MAX];
		profile_keypath(ekp, kp, "env_file");
		rc = profile_env_file_read(c, ekp, p->app.env_file);
	}
	if (rc == 0)
		rc = profile_read_strv(c, app, kp, "paths", &p->app.paths);
	if (rc == 0)
		rc = check_app_paths(c, kp, &p->app.paths);
	if (rc == 0)
		rc = profile_read_strv(c, app, kp, "exclude", &p->app.exclude);
	if (rc == 0)
		rc = profile_read_bool(c, app, kp, "keep_ownership", &p->app.keep_ownership);
	return rc;
}

/* database.url, or $DATABASE_URL over it (the file's value is still checked). */
static int load_database(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX], ukp[KP_MAX];
	json_t *db;
	if (profile_read_section(c, prof, name, "database", database_keys, &db, kp) < 0)
		return -1;
	json_t *url = db ? profile_member(db, kp, "url", ukp) : NULL;
	profile_keypath(ukp, kp, "url");
	const char *override = getenv("DATABASE_URL");
	if (override && *override) {
		/* The file's value must still be a string without a password. */
		if (url && !json_is_string(url))
			return profile_fail(c, ukp, "expected a string, got %s", profile_describe(url).s);
		if (url && profile_check_no_literal_password(c, ukp, json_string_value(url)) < 0)
			return -1;
		c->p->database.url = xstrdup(override);
		return 0;
	}
	if (!url) {
		profile_fail(c, ukp, "missing (or set DATABASE_URL)");
		return err_hint(c->e, "add \"database\": {\"url\": "
				"\"postgresql://USER@HOST:5432/DBNAME\"} to the profile");
	}
	return profile_read_conninfo(c, db, kp, "url", &c->p->database.url);
}

/* backup.keep: the retention counts. */
static int load_keep(struct profile_ctx *c, json_t *backup, const char *parent)
{
	char kp[KP_MAX];
	json_t *keep;
	if (profile_read_section(c, backup, parent, "keep", keep_keys, &keep, kp) < 0)
		return -1;
	if (!keep)
		return 0;
	struct profile_keep *k = &c->p->backup.keep;
	if (profile_read_int(c, keep, kp, "last", 0, INT_MAX, NULL, &k->last) < 0 ||
	    profile_read_int(c, keep, kp, "daily", 0, INT_MAX, NULL, &k->daily) < 0 ||
	    profile_read_int(c, keep, kp, "weekly", 0, INT_MAX, NULL, &k->weekly) < 0 ||
	    profile_read_int(c, keep, kp, "monthly", 0, INT_MAX, NULL, &k->monthly) < 0)
		return -1;
	return profile_read_int(c, keep, kp, "manual_days", 0, INT_MAX, NULL, &k->manual_days);
}

/* Every backup.schedule entry is daily, weekly or monthly. */
static int check_schedule(struct profile_ctx *c, const char *parent, const struct strv *sv)
{
	char kp[KP_MAX];
	profile_keypath(kp, parent, "schedule");
	for (size_t i = 0; i < sv->n; i++) {
		if (profile_list_has(schedules, sv->v[i]))
			continue;
		char ikp[KP_MAX];
		profile_keypath_index(ikp, kp, i);
		return profile_fail_enum(c, ikp, schedules, profile_quote(sv->v[i]).s);
	}
	return 0;
}

/* level: 1-19 for zstd, 1-9 for gzip, any integer (unused) for none. */
static int get_level(struct profile_ctx *c, json_t *backup, const char *parent)
{
	const char *comp = c->p->backup.compression;
	if (strcmp(comp, "zstd") == 0)
		return profile_read_int(c, backup, parent, "level", 1, 19, "for zstd", &c->p->backup.level);
	if (strcmp(comp, "gzip") == 0)
		return profile_read_int(c, backup, parent, "level", 1, 9, "for gzip", &c->p->backup.level);
	return profile_read_int(c, backup, parent, "level", INT_MIN, INT_MAX, NULL, &c->p->backup.level);
}

/* backup: directory, compression, level, globals, keep, schedule. */
static int load_backup(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *b;
	if (profile_read_section(c, prof, name, "backup", backup_keys, &b, kp) < 0)
		return -1;
	if (!b)
		return 0;
	struct profile *p = c->p;
	if (profile_read_path(c, b, kp, "dir", c->dir, &p->backup.dir) < 0 ||
	    profile_read_enum(c, b, kp, "compression", compressions, &p->backup.compression) < 0 ||
	    get_level(c, b, kp) < 0 ||
	    profile_read_bool(c, b, kp, "globals", &p->backup.globals) < 0 ||
	    load_keep(c, b, kp) < 0 ||
	    profile_read_strv(c, b, kp, "schedule", &p->backup.schedule) < 0 ||
	    profile_read_bool(c, b, kp, "offsite", &p->backup.offsite) < 0)
		return -1;
	return check_schedule(c, kp, &p->backup.schedule);
}

/* ssh: host (required), port, user, keys, ssh config, the remote ferry. */
static int load_ssh(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *s;
	if (profile_read_section(c, prof, name, "ssh", ssh_keys, &s, kp) < 0)
		return -1;
	if (!s)
		return 0;
	struct profile *p = c->p;
	p->has_ssh = true;
	if (!json_object_get(s, "host")) {
		char hkp[KP_MAX];
		profile_keypath(hkp, kp, "host");
		profile_fail_missing(c, hkp);
		return err_hint(c->e, "ssh needs the server: \"ssh\": {\"host\": \"db2.example.com\"}");
	}
	if (profile_read_string(c, s, kp, "host", NONEMPTY, &p->ssh.host) < 0 ||
	    profile_read_int(c, s, kp, "port", 1, 65535, NULL, &p->ssh.port) < 0 ||
	    profile_read_string(c, s, kp, "user", NONEMPTY, &p->ssh.user) < 0 ||
	    profile_read_path(c, s, kp, "identity_file", c->dir, &p->ssh.identity_file) < 0 ||
	    profile_read_path(c, s, kp, "known_hosts", c->dir, &p->ssh.known_hosts) < 0 ||
	    profile_read_bool(c, s, kp, "use_ssh_config", &p->ssh.use_ssh_config) < 0 ||
	    profile_read_string(c, s, kp, "ferry_path", NONEMPTY, &p->ssh.ferry_path) < 0)
		return -1;
	return profile_read_string(c, s, kp, "remote_profiles", NONEMPTY, &p->ssh.remote_profiles);
}

/* services: orchestrator and the commands. */
static int load_services(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *s;
	if (profile_read_section(c, prof, name, "services", services_keys, &s, kp) < 0)
		return -1;
	if (!s)
		return 0;
	struct profile *p = c->p;
	if (profile_read_enum(c, s, kp, "orchestrator", orchestrators, &p->services.orchestrator) < 0 ||
	    profile_read_strv(c, s, kp, "restart", &p->services.restart) < 0 ||
	    profile_read_strv(c, s, kp, "stop", &p->services.stop) < 0 ||
	    profile_read_strv(c, s, kp, "start", &p->services.start) < 0 ||
	    profile_read_strv(c, s, kp, "status", &p->services.status) < 0)
		return -1;
	return profile_read_strv(c, s, kp, "rollback", &p->services.rollback);
}

/* A health URL is http:// or https://. */
static int check_health_url(struct profile_ctx *c, const char *parent, const char *url)
{
	if (str_starts(url, "http://") || str_starts(url, "https://"))
		return 0;
	char kp[KP_MAX];
	profile_keypath(kp, parent, "url");
	return profile_fail(c, kp, "expected an http:// or https:// URL, got %s", profile_quote(url).s);
}

/* One health check, its defaults filled in. */
static int load_health_check(struct profile_ctx *c, json_t *obj, const char *kp,
			     struct profile_health *h)
{
	*h = (struct profile_health){
		.expect = 200, .timeout_s = 5, .retries = 30, .interval_s = 1};
	if (!json_is_object(obj))
		return profile_fail(c, kp, "expected an object, got %s", profile_describe(obj).s);
	if (profile_check_keys(c, obj, kp, health_keys) < 0 ||
	    profile_read_string(c, obj, kp, "url", REQUIRED | NONEMPTY, &h->url) < 0 ||
	    check_health_url(c, kp, h->url) < 0 ||
	    profile_read_string(c, obj, kp, "name", NONEMPTY, &h->name) < 0 ||
	    profile_read_int(c, obj, kp, "expect", 100, 599, NULL, &h->expect) < 0 ||
	    profile_read_int(c, obj, kp, "timeout_s", 1, 3600, NULL, &h->timeout_s) < 0 ||
	    profile_read_int(c, obj, kp, "retries", 1, 10000, NULL, &h->retries) < 0 ||
	    profile_read_int(c, obj, kp, "interval_s", 0, 3600, NULL, &h->interval_s) < 0)
		return -1;
	if (!h->name)
		h->name = xstrdup(h->url);
	return profile_read_bool(c, obj, kp, "follow_redirects", &h->follow_redirects);
}

/* health: an array of checks. */
static int load_health(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *arr = profile_member(prof, name, "health", kp);
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return profile_fail(c, kp, "expected an array of objects, got %s", profile_describe(arr).s);
	struct profile *p = c->p;
	p->health = xcalloc(json_array_size(arr), sizeof *p->health);
	size_t i;
	json_t *item;
	json_array_foreach(arr, i, item) {
		char ikp[KP_MAX];
		profile_keypath_index(ikp, kp, i);
		p->nhealth = i + 1;
		if (load_health_check(c, item, ikp, &p->health[i]) < 0)
			return -1;
	}
	return 0;
}

/* registry.grace_period is an ISO-8601 duration. */
static int check_grace_period(struct profile_ctx *c, const char *parent, const char *value)
{
	if (!value || profile_iso_duration_seconds(value, NULL))
		return 0;
	char kp[KP_MAX];
	profile_keypath(kp, parent, "grace_period");
	return profile_fail(c, kp, "expected an ISO-8601 duration like \"P7D\" or \"PT12H\", got %s",
		    profile_quote(value).s);
}

/* registry: file, primary and fallback URLs, grace period. */
static int load_registry(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *r;
	if (profile_read_section(c, prof, name, "registry", registry_keys, &r, kp) < 0)
		return -1;
	if (!r)
		return 0;
	struct profile *p = c->p;
	p->has_registry = true;
	const char *base = p->has_app ? p->app.root : c->dir;
	if (profile_read_path(c, r, kp, "file", base, &p->registry.file) < 0 ||
	    profile_read_conninfo(c, r, kp, "primary_url", &p->registry.primary_url) < 0 ||
	    profile_read_conninfo(c, r, kp, "fallback_url", &p->registry.fallback_url) < 0 ||
	    profile_read_string(c, r, kp, "grace_period", NONEMPTY, &p->registry.grace_period) < 0)
		return -1;
	return check_grace_period(c, kp, p->registry.grace_period);
}

/* hooks: commands before and after each flow. */
static int load_hooks(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *h;
	if (profile_read_section(c, prof, name, "hooks", hooks_keys, &h, kp) < 0)
		return -1;
	if (!h)
		return 0;
	struct profile *p = c->p;
	if (profile_read_strv(c, h, kp, "pre_backup", &p->hooks.pre_backup) < 0 ||
	    profile_read_strv(c, h, kp, "post_backup", &p->hooks.post_backup) < 0 ||
	    profile_read_strv(c, h, kp, "pre_restore", &p->hooks.pre_restore) < 0 ||
	    profile_read_strv(c, h, kp, "post_restore", &p->hooks.post_restore) < 0 ||
	    profile_read_strv(c, h, kp, "pre_deploy", &p->hooks.pre_deploy) < 0)
		return -1;
	return profile_read_strv(c, h, kp, "post_deploy", &p->hooks.post_deploy);
}

/* migrations: a delegated command or ferry's own dir, not both. */
static int load_migrations(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *m;
	if (profile_read_section(c, prof, name, "migrations", migrations_keys, &m, kp) < 0)
		return -1;
	if (!m)
		return 0;
	if (json_object_get(m, "command") && json_object_get(m, "dir")) {
		profile_fail(c, kp, "command and dir are mutually exclusive");
		return err_hint(c->e, "use command for the app's own runner (alembic, rails, ...)"
				" or dir for ferry's runner over plain SQL files");
	}
	if (json_object_get(m, "status_command") && !json_object_get(m, "command")) {
		char skp[KP_MAX];
		profile_keypath(skp, kp, "status_command");
		profile_fail(c, skp, "needs migrations.command");
		return err_hint(c->e, "add \"command\", or remove \"status_command\"");
	}
	struct profile *p = c->p;
	if (profile_read_string(c, m, kp, "command", NONEMPTY, &p->migrations.command) < 0 ||
	    profile_read_string(c, m, kp, "status_command", NONEMPTY, &p->migrations.status_command) < 0)
		return -1;
	return profile_read_path(c, m, kp, "dir", c->dir, &p->migrations.dir);
}

/* One named action: sql, params, confirm, description. */
static int load_action(struct profile_ctx *c, const char *kp, json_t *obj, struct profile_action *a)
{
	if (!json_is_object(obj))
		return profile_fail(c, kp, "expected an object, got %s", profile_describe(obj).s);
	if (profile_check_keys(c, obj, kp, action_keys) < 0 ||
	    profile_read_string(c, obj, kp, "sql", REQUIRED | NONEMPTY, &a->sql) < 0 ||
	    profile_read_strv(c, obj, kp, "params", &a->params) < 0 ||
	    profile_read_bool(c, obj, kp, "confirm", &a->confirm) < 0)
		return -1;
	return profile_read_string(c, obj, kp, "description", OPTIONAL, &a->description);
}

/* actions: an object of named actions. */
static int load_actions(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *acts;
	if (profile_read_object(c, prof, name, "actions", &acts) < 0)
		return -1;
	if (!acts)
		return 0;
	profile_keypath(kp, name, "actions");
	struct profile *p = c->p;
	p->actions = xcalloc(json_object_size(acts), sizeof *p->actions);
	const char *aname;
	json_t *obj;
	json_object_foreach(acts, aname, obj) {
		char akp[KP_MAX];
		profile_keypath(akp, kp, aname);
		struct profile_action *a = &p->actions[p->nactions++];
		a->name = xstrdup(aname);
		if (!*aname)
			return profile_fail(c, akp, "an action needs a name");
		if (load_action(c, akp, obj, a) < 0)
			return -1;
	}
	return 0;
}

/* seeds: SQL files, absolute against the file's directory. */
static int load_seeds(struct profile_ctx *c, json_t *prof, const char *name)
{
	struct strv raw = {0};
	int rc = profile_read_strv(c, prof, name, "seeds", &raw);
	for (size_t i = 0; rc == 0 && i < raw.n; i++) {
		char *abs = profile_path_resolve(c->dir, raw.v[i]);
		strv_push(&c->p->seeds, abs);
		free(abs);
	}
	strv_done(&raw);
	return rc;
}

/* log_dir and description. */
static int load_misc(struct profile_ctx *c, json_t *prof, const char *name)
{
	if (profile_read_path(c, prof, name, "log_dir", c->dir, &c->p->log_dir) < 0)
		return -1;
	return profile_read_string(c, prof, name, "description", OPTIONAL, &c->p->description);
}

typedef int (*section_loader)(struct profile_ctx *, json_t *, const char *);

/* app comes first: its env file feeds the expansion of everything else. */
static const section_loader section_loaders[] = {
	load_app, load_database, load_backup, load_ssh, load_services, load_health,
	load_registry, load_hooks, load_migrations, load_actions, load_seeds, load_misc,
	profile_load_offsite, profile_load_drill, profile_load_notify};

/* One profile: its keys, the defaults, then every section in order. */
int profile_load_sections(struct profile_ctx *c, const char *name, json_t *obj)
{
	if (!*name)
		return err_set(c->e, ERR_PROFILE, "%s: a profile name must not be empty", c->path);
	if (!json_is_object(obj))
		return profile_fail(c, name, "expected an object, got %s", profile_describe(obj).s);
	if (profile_check_keys(c, obj, name, profile_keys) < 0)
		return -1;
	set_defaults(c->p);
	for (size_t i = 0; i < sizeof section_loaders / sizeof *section_loaders; i++)
		if (section_loaders[i](c, obj, name) < 0)
			return -1;
	return 0;
}
