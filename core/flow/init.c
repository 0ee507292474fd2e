/* flow_init — `ferry init`: a machine's first profile. A table of steps
 * (core/step.h): preflight (the database answers; the app root and paths
 * exist; the backup and log dirs can be made; the name is free) → backup
 * dir → log dir → write the profile → check it. The suggestions the front
 * ends make before they ask (URL, app, paths) are in flow/init_guess.c. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "flow/init.h"
#include "fsx.h"
#include "profile/profile.h"
#include "revision.h"
#include "step.h"

/* The name of the new server's profile (with --ssh-host). */
#define INIT_TARGET_NAME "new-server"

struct init_ctx {
	const struct init_opts *o;
	struct init_result *r;
	struct err *e;
	char *name;
	char *app_root;             /* absolute */
	char *backup_dir, *log_dir; /* absolute */
	char *url_written;          /* database.url as the profile has it */
	char *ssh_host, *ssh_user;
	int ssh_port;
};

void init_result_done(struct init_result *r)
{
	free(r->file);
	free(r->name);
	free(r->target_name);
	free(r->backup_dir);
	free(r->log_dir);
	init_found_done(&r->found);
	strv_done(&r->notes);
	memset(r, 0, sizeof *r);
}

static void ctx_done(struct init_ctx *c)
{
	free(c->name);
	free(c->app_root);
	free(c->backup_dir);
	free(c->log_dir);
	free(c->url_written);
	free(c->ssh_host);
	free(c->ssh_user);
}

/* --- what the database says ------------------------------------------------------ */

/* Tables outside the system schemas. */
static long long count_tables(db_conn *db, struct err *e)
{
	char *v = db_query_value(db, "SELECT count(*) FROM pg_catalog.pg_tables "
				 "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')", e);
	long long n = v ? atoll(v) : -1;
	free(v);
	return n;
}

int init_inspect(const char *url, struct init_found *f, struct err *e)
{
	memset(f, 0, sizeof *f);
	db_conn *db = db_connect(url, e);
	if (!db)
		return -1;
	struct db_info info = {0};
	struct revision rev = {0};
	int rc = db_get_info(db, &info, e);
	if (rc == 0 && (f->tables = count_tables(db, e)) < 0)
		rc = -1;
	if (rc == 0)
		rc = revision_read(db, &rev, e);
	if (rc == 0) {
		f->database = xstrdup(db_name(db));
		/* "127.0.0.1:5432/shop": the name is said apart */
		const char *desc = db_host_desc(db);
		const char *slash = strrchr(desc, '/');
		f->where = slash && strcmp(slash + 1, f->database) == 0 ? xstrndup(desc, (size_t)(slash - desc))
									 : xstrdup(desc);
		f->server_version = xstrdup(info.server_version);
		f->size_bytes = info.size_bytes;
		f->revision = xstrdup(rev.revision);
		f->revision_line = revision_describe(&rev);
	}
	revision_done(&rev);
	db_info_done(&info);
	db_close(db);
	return rc;
}

void init_found_done(struct init_found *f)
{
	free(f->database);
	free(f->where);
	free(f->server_version);
	free(f->revision);
	free(f->revision_line);
	memset(f, 0, sizeof *f);
}

char *init_found_line(const struct init_found *f)
{
	char sz[32];
	return xasprintf("%s on %s, PostgreSQL %s, %s in %lld table%s, %s", f->database, f->where,
			 f->server_version, util_human_bytes((uint64_t)f->size_bytes, sz, sizeof sz),
			 f->tables, f->tables == 1 ? "" : "s", f->revision_line);
}

/* --- the answers ----------------------------------------------------------------- */

/* A URI's password taken out of its user info ("postgresql://u:pw@h/db" →
 * "postgresql://u@h/db"); other strings through libpq. NULL on a string
 * libpq cannot read. */
static char *without_password(const char *url, bool *had, struct err *e)
{
	char *rest = NULL, *pw = NULL;
	if (db_conninfo_split(url, &rest, &pw, e) < 0)
		return NULL;
	*had = pw != NULL;
	free(pw);
	const char *scheme = strstr(url, "://");
	if (!*had || !scheme || strstr(url, "password="))
		return *had ? rest : (free(rest), xstrdup(url));
	free(rest);
	const char *auth = scheme + 3;
	size_t alen = strcspn(auth, "/?");
	const char *at = NULL;
	for (const char *p = auth; p < auth + alen; p++)
		if (*p == '@')
			at = p;
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!colon)
		return xstrdup(url);
	return xasprintf("%.*s%s", (int)(colon - url), url, at);
}

/* "[user@]host[:port]" into the context. */
static int parse_ssh_target(struct init_ctx *c, const char *t)
{
	const char *at = strrchr(t, '@');
	const char *host = at ? at + 1 : t;
	const char *colon = strrchr(host, ':');
	c->ssh_user = at ? xstrndup(t, (size_t)(at - t)) : NULL;
	c->ssh_host = colon ? xstrndup(host, (size_t)(colon - host)) : xstrdup(host);
	c->ssh_port = 22;
	char *end = NULL;
	if (colon)
		c->ssh_port = (int)strtol(colon + 1, &end, 10);
	if (!*c->ssh_host || (at && at == t) || (colon && (*end || c->ssh_port < 1 || c->ssh_port > 65535))) {
		err_set(c->e, ERR_USAGE, "init: --ssh-host \"%s\" is not [USER@]HOST[:PORT]", t);
		return err_hint(c->e, "e.g. deploy@db2.example.com or db2.example.com:2222");
	}
	return 0;
}

/* The name: given, or from the database; letters, digits, '-' and '_'. */
static int pick_name(struct init_ctx *c)
{
	c->name = c->o->name ? xstrdup(c->o->name) : init_profile_name(c->r->found.database);
	for (const char *p = c->name; *p; p++)
		if (!(*p == '-' || *p == '_' || (*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'z'))) {
			err_set(c->e, ERR_USAGE, "init: the profile name \"%s\" may hold only letters, "
				"digits, '-' and '_'", c->name);
			return err_hint(c->e, "pick another with --name");
		}
	return *c->name ? 0 : err_set(c->e, ERR_USAGE, "init: the profile name is empty");
}

/* Resolve the options: absolute paths, defaults from the database. */
static int prepare(void *ctx, struct err *e)
{
	struct init_ctx *c = ctx;
	const struct init_opts *o = c->o;
	if (!o->database_url || !*o->database_url) {
		err_set(e, ERR_USAGE, "init: no database URL");
		return err_hint(e, "pass --database-url postgresql://USER@HOST:PORT/DB, or set DATABASE_URL");
	}
	if (init_inspect(c->o->database_url, &c->r->found, e) < 0 || pick_name(c) < 0)
		return -1;
	if (o->ssh_target && parse_ssh_target(c, o->ssh_target) < 0)
		return -1;
	bool had_password = false;
	c->url_written = o->url_from_env_file ? xstrdup("${DATABASE_URL}")
					      : without_password(o->database_url, &had_password, e);
	if (!c->url_written)
		return -1;
	c->r->password_left_out = had_password;
	if (o->app_root && !(c->app_root = profile_path_absolute(o->app_root)))
		return err_set(e, ERR_FAILED, "init: cannot read the current directory");
	char *dflt = xasprintf("/var/backups/%s", c->r->found.database);
	c->backup_dir = profile_path_absolute(o->backup_dir ? o->backup_dir : dflt);
	free(dflt);
	dflt = xasprintf("%s/logs", c->backup_dir ? c->backup_dir : ".");
	c->log_dir = profile_path_absolute(o->log_dir ? o->log_dir : dflt);
	free(dflt);
	if (!c->backup_dir || !c->log_dir)
		return err_set(e, ERR_FAILED, "init: cannot read the current directory");
	c->r->file = xstrdup(o->profiles_path);
	c->r->name = xstrdup(c->name);
	c->r->backup_dir = xstrdup(c->backup_dir);
	c->r->log_dir = xstrdup(c->log_dir);
	return 0;
}

/* --- checks ---------------------------------------------------------------------- */

/* The profiles file loads (so a profile can be added) and has no profile
 * of that name, unless it is to be replaced. */
static int check_file(void *ctx, struct err *e)
{
	struct init_ctx *c = ctx;
	if (!fsx_exists(c->o->profiles_path))
		return 0;
	profile_file *pf = profile_file_load(c->o->profiles_path, e);
	if (!pf)
		return err_prefix(e, "init: the profiles file does not load, so nothing can be added to it");
	bool taken = false, target_taken = false;
	for (size_t i = 0; i < profile_file_count(pf); i++) {
		taken |= strcmp(profile_file_at(pf, i)->name, c->name) == 0;
		target_taken |= c->ssh_host && strcmp(profile_file_at(pf, i)->name, INIT_TARGET_NAME) == 0;
	}
	profile_file_free(pf);
	if ((taken || target_taken) && !c->o->replace) {
		err_set(e, ERR_PROFILE, "init: there is a profile \"%s\" in %s already",
			taken ? c->name : INIT_TARGET_NAME, c->o->profiles_path);
		return err_hint(e, "nothing was written; pick another name (--name), or pass --force to replace it");
	}
	return 0;
}

/* The app root is a directory and every path is in it. */
static int check_app(void *ctx, struct err *e)
{
	struct init_ctx *c = ctx;
	struct stat st;
	if (!c->app_root)
		return 0;
	bool there = stat(c->app_root, &st) == 0;
	if (!there || !S_ISDIR(st.st_mode)) {
		err_set(e, ERR_USAGE, "init: the app root %s %s", c->app_root,
			there ? "is not a directory" : "does not exist");
		return err_hint(e, "give the application's directory with --app-root DIR");
	}
	for (size_t i = 0; c->o->paths && i < c->o->paths->n; i++) {
		char *full = xasprintf("%s/%s", c->app_root, c->o->paths->v[i]);
		bool found = stat(full, &st) == 0;
		free(full);
		if (!found) {
			err_set(e, ERR_USAGE, "init: the app path %s is not in %s", c->o->paths->v[i], c->app_root);
			return err_hint(e, "name paths relative to the app root that exist (--path P)");
		}
	}
	return 0;
}

/* dir is a writable directory, or can be made: its nearest existing
 * parent is a writable directory. */
static int check_makeable(const char *what, const char *dir, struct err *e)
{
	char *d = xstrdup(dir);
	struct stat st;
	while (stat(d, &st) < 0 && strcmp(d, "/") != 0) {
		char *up = profile_path_dirname(d);
		free(d);
		d = up;
	}
	int rc = 0;
	if (!S_ISDIR(st.st_mode))
		rc = err_set(e, ERR_USAGE, "init: the %s %s: %s is not a directory", what, dir, d);
	else if (access(d, W_OK | X_OK) < 0)
		rc = err_set(e, ERR_USAGE, "init: the %s %s cannot be %s: %s is not writable", what, dir,
			     strcmp(d, dir) == 0 ? "written" : "made", d);
	free(d);
	return rc < 0 ? err_hint(e, "pick a directory this user may write (--%s DIR)",
				 strcmp(what, "backup dir") == 0 ? "backup-dir" : "log-dir") : 0;
}

static int check_backup_dir(void *ctx, struct err *e)
{
	return check_makeable("backup dir", ((struct init_ctx *)ctx)->backup_dir, e);
}

static int check_log_dir(void *ctx, struct err *e)
{
	return check_makeable("log dir", ((struct init_ctx *)ctx)->log_dir, e);
}

/* --- the steps --------------------------------------------------------------------- */

/* Make a directory (mode) or find it there; the note says which. */
static int make_dir(struct step_run *sr, const char *dir, unsigned mode, bool *made, struct err *e)
{
	*made = !fsx_exists(dir);
	if (fsx_mkdir_p(dir, mode, e) < 0)
		return -1;
	struct stat st;
	unsigned have = stat(dir, &st) == 0 ? st.st_mode & 07777 : mode;
	step_note(sr, "%s %s (mode %04o)", *made ? "made" : "there already:", dir, have);
	return STEP_DONE;
}

static int step_backup_dir(void *ctx, struct step_run *sr, struct err *e)
{
	struct init_ctx *c = ctx;
	return make_dir(sr, c->backup_dir, 0700, &c->r->made_backup_dir, e);
}

static int step_log_dir(void *ctx, struct step_run *sr, struct err *e)
{
	bool made;
	return make_dir(sr, ((struct init_ctx *)ctx)->log_dir, 0755, &made, e);
}

/* "written by ferry init on HOST, DATE: DB on WHERE". */
static char *description(const struct init_ctx *c)
{
	char *host = util_hostname();
	char day[16];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	char *d = xasprintf("written by ferry init on %s, %s: database %s on %s", host, day,
			    c->r->found.database, c->r->found.where);
	free(host);
	return d;
}

/* The profile of this machine as JSON text. */
static char *profile_text(const struct init_ctx *c)
{
	char *desc = description(c);
	json_t *p = json_pack("{s:s, s:{s:s}}", "description", desc, "database", "url", c->url_written);
	free(desc);
	if (c->app_root) {
		json_t *paths = json_array();
		for (size_t i = 0; c->o->paths && i < c->o->paths->n; i++)
			json_array_append_new(paths, json_string(c->o->paths->v[i]));
		json_t *app = json_pack("{s:s, s:o}", "root", c->app_root, "paths", paths);
		if (c->o->url_from_env_file)
			json_object_set_new(app, "env_file", json_string(c->o->app_env_file ? c->o->app_env_file : ".env"));
		json_object_set_new(p, "app", app);
	}
	json_object_set_new(p, "backup", json_pack("{s:s, s:{s:i, s:i, s:i, s:i, s:i}}", "dir",
						   c->backup_dir, "keep", "last", INIT_KEEP_LAST, "daily",
						   INIT_KEEP_DAILY, "weekly", INIT_KEEP_WEEKLY, "monthly",
						   INIT_KEEP_MONTHLY, "manual_days", INIT_KEEP_MANUAL_DAYS));
	json_object_set_new(p, "log_dir", json_string(c->log_dir));
	if (c->o->health_url)
		json_object_set_new(p, "health", json_pack("[{s:s, s:s}]", "name", "app", "url", c->o->health_url));
	char *text = json_dumps(p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(p);
	return text;
}

/* The new server's profile: the same database, app and dirs, on its host. */
static char *target_text(const struct init_ctx *c)
{
	json_t *ssh = json_pack("{s:s, s:i}", "host", c->ssh_host, "port", c->ssh_port);
	if (c->ssh_user)
		json_object_set_new(ssh, "user", json_string(c->ssh_user));
	json_t *p = json_pack("{s:s, s:{s:s}, s:{s:s}, s:s, s:o}",
			      "description", "the new server (written by ferry init): the same database, "
			      "app and directories there; edit what differs",
			      "database", "url", c->url_written, "backup", "dir", c->backup_dir,
			      "log_dir", c->log_dir, "ssh", ssh);
	if (c->app_root) {
		json_t *paths = json_array();
		for (size_t i = 0; c->o->paths && i < c->o->paths->n; i++)
			json_array_append_new(paths, json_string(c->o->paths->v[i]));
		json_object_set_new(p, "app", json_pack("{s:s, s:o}", "root", c->app_root, "paths", paths));
	}
	char *text = json_dumps(p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(p);
	return text;
}

static int step_write(void *ctx, struct step_run *sr, struct err *e)
{
	struct init_ctx *c = ctx;
	char *text = profile_text(c);
	int rc = profile_save_new(c->o->profiles_path, c->name, text, c->o->replace, e);
	free(text);
	if (rc == 0 && c->ssh_host) {
		text = target_text(c);
		rc = profile_save_new(c->o->profiles_path, INIT_TARGET_NAME, text, c->o->replace, e);
		free(text);
		if (rc == 0)
			c->r->target_name = xstrdup(INIT_TARGET_NAME);
	}
	if (rc < 0)
		return -1;
	step_note(sr, "profile %s%s%s in %s", c->name, c->ssh_host ? " and " : "",
		  c->ssh_host ? INIT_TARGET_NAME : "", c->o->profiles_path);
	return STEP_DONE;
}

/* Load the file again and check the paths, as `ferry profiles check`. */
static int step_check(void *ctx, struct step_run *sr, struct err *e)
{
	struct init_ctx *c = ctx;
	profile_file *pf = profile_file_load(c->o->profiles_path, e);
	const struct profile *p = pf ? profile_file_get(pf, c->name, e) : NULL;
	struct strv errors = {0};
	if (p)
		profile_check_paths(p, &errors, &c->r->notes);
	for (size_t i = 0; p && c->r->target_name && i < profile_file_count(pf); i++)
		if (strcmp(profile_file_at(pf, i)->name, c->r->target_name) == 0)
			profile_check_paths(profile_file_at(pf, i), &errors, &c->r->notes);
	int rc = p ? 0 : -1;
	if (p && errors.n)
		rc = err_set(e, ERR_PROFILE, "init: the profile written does not check: %s", errors.v[0]);
	strv_done(&errors);
	profile_file_free(pf);
	if (rc == 0)
		step_note(sr, "loads, and the paths it needs are there");
	return rc;
}

/* --- details and the table ---------------------------------------------------------- */

static char *file_detail(void *ctx)
{
	const struct init_ctx *c = ctx;
	return xasprintf("profile %s%s in %s%s", c->name, c->ssh_host ? " and " INIT_TARGET_NAME : "",
			 c->o->profiles_path, fsx_exists(c->o->profiles_path) ? " (added to it)" : " (a new file, mode 0600)");
}

static char *backup_dir_detail(void *ctx)
{
	const struct init_ctx *c = ctx;
	return xasprintf("%s, mode 0700%s", c->backup_dir, fsx_exists(c->backup_dir) ? " (there already)" : "");
}

static char *log_dir_detail(void *ctx)
{
	return xstrdup(((const struct init_ctx *)ctx)->log_dir);
}

static char *check_detail(void *ctx)
{
	(void)ctx;
	return xstrdup("ferry profiles check: the file loads, app.root, app.paths and backup.dir exist");
}

static char *preflight_note(void *ctx)
{
	return init_found_line(&((const struct init_ctx *)ctx)->r->found);
}

static char *plan_title(void *ctx)
{
	const struct init_ctx *c = ctx;
	return xasprintf("set up profile %s for database %s", c->name, c->r->found.database);
}

static const struct step init_steps[] = {
	{.id = "backup-dir", .title = "make the backup dir", .check = check_backup_dir,
	 .detail = backup_dir_detail, .run = step_backup_dir},
	{.id = "log-dir", .title = "make the log dir", .check = check_log_dir, .detail = log_dir_detail,
	 .run = step_log_dir},
	{.id = "write", .title = "write the profile", .check = check_file, .detail = file_detail,
	 .run = step_write},
	{.id = "check", .title = "check the profile", .check = check_app, .detail = check_detail,
	 .run = step_check},
};

static const struct flow_def init_flow = {
	.name = "init",
	.steps = init_steps,
	.nsteps = sizeof init_steps / sizeof init_steps[0],
	.prepare = prepare,
	.title = plan_title,
	.preflight_note = preflight_note,
};

int init_run(const struct init_opts *o, struct init_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	struct init_ctx c = {.o = o, .r = r, .e = e};
	struct flow_run_opts ro = {.events = o->events, .yes = true};
	int rc = flow_run(&init_flow, &c, &ro, NULL, e);
	ctx_done(&c);
	return rc;
}

int init_plan(const struct init_opts *o, struct plan *plan, struct err *e)
{
	struct init_result r = {0};
	struct init_ctx c = {.o = o, .r = &r, .e = e};
	int rc = flow_plan(&init_flow, &c, plan, e);
	ctx_done(&c);
	init_result_done(&r);
	return rc;
}
