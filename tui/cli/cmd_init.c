/* cmd_init — `ferry init`: the first profile, by asking on the terminal
 * (each question with what was found as its default) or, with --yes, from
 * the options and those defaults; then, on a terminal, the offer of a
 * first backup and of scheduled backups. The work is core's init flow. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/dispatch.h"
#include "flow/init.h"
#include "util.h"

struct init_args {
	const char *database_url, *app_root, *backup_dir, *log_dir, *ssh_host, *health_url, *name;
	struct strv paths;
	bool no_app, user, force;
};

#define ARG(member) offsetof(struct init_args, member)

static const struct cmd_option options[] = {
	{.name = "database-url", .kind = CMD_STRING, .metavar = "URL", .field = ARG(database_url),
	 .help = "the database (else $DATABASE_URL, DATABASE_URL in\n"
		 "./.env, the PG* variables, the first line of\n"
		 "~/.pgpass); the connection is tried, a password in\n"
		 "it is not written to the profile"},
	{.name = "app-root", .kind = CMD_STRING, .value = CMD_V_DIR, .metavar = "DIR", .field = ARG(app_root),
	 .help = "the application's directory (default: the current one)"},
	{.name = "path", .kind = CMD_LIST, .metavar = "P", .field = ARG(paths),
	 .help = "an app path to carry in bundles, relative to the\n"
		 "app root (repeatable; default: those of uploads,\n"
		 "media, storage, config, exports, public/uploads,\n"
		 "data that exist)"},
	{.name = "no-app", .kind = CMD_FLAG, .field = ARG(no_app),
	 .help = "the database only: no app section"},
	{.name = "backup-dir", .kind = CMD_STRING, .value = CMD_V_DIR, .metavar = "DIR", .field = ARG(backup_dir),
	 .help = "where bundles go (default /var/backups/<database>);\n"
		 "made with mode 0700"},
	{.name = "log-dir", .kind = CMD_STRING, .value = CMD_V_DIR, .metavar = "DIR", .field = ARG(log_dir),
	 .help = "where run logs go (default <backup dir>/logs)"},
	{.name = "ssh-host", .kind = CMD_STRING, .metavar = "[USER@]HOST[:PORT]", .field = ARG(ssh_host),
	 .help = "a new server: also write a profile new-server\n"
		 "reaching it over SSH"},
	{.name = "health-url", .kind = CMD_STRING, .metavar = "URL", .field = ARG(health_url),
	 .help = "the app's health URL, checked by status and deploy"},
	{.name = "name", .kind = CMD_STRING, .metavar = "NAME", .field = ARG(name),
	 .help = "the profile's name (also --profile NAME; default:\n"
		 "the database's); bundles are named after it"},
	{.name = "user", .kind = CMD_FLAG, .field = ARG(user),
	 .help = "write ~/.config/ferry/profiles.json\n"
		 "($XDG_CONFIG_HOME) instead of\n"
		 "./config/migration_profiles.json"},
	{.name = "force", .kind = CMD_FLAG, .field = ARG(force),
	 .help = "replace a profile of the same name"},
	{0},
};

/* What the questions and the options give. */
struct answers {
	char *file, *url, *app_root, *backup_dir, *log_dir, *ssh_host, *health_url, *name;
	struct strv paths;
	bool url_from_env_file;
	struct init_found found;
};

static void answers_done(struct answers *a)
{
	free(a->file), free(a->url), free(a->app_root), free(a->backup_dir), free(a->log_dir);
	free(a->ssh_host), free(a->health_url), free(a->name);
	strv_done(&a->paths);
	init_found_done(&a->found);
}

/* --- questions ---------------------------------------------------------------------- */

/* Ask on the terminal; Enter keeps dflt ("-" clears an optional answer).
 * A new string, or NULL for none. */
static char *ask(const char *question, const char *dflt)
{
	fprintf(stderr, "%s%s%s%s: ", question, dflt ? " [" : "", dflt ? dflt : "", dflt ? "]" : "");
	fflush(stderr);
	char line[4096] = "";
	if (!fgets(line, sizeof line, stdin))
		line[0] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	const char *t = line + strspn(line, " \t");
	if (!*t)
		t = dflt;
	return t && strcmp(t, "-") != 0 ? xstrdup(t) : NULL;
}

/* y or n, with a default. */
static bool ask_yes(const char *question, bool dflt)
{
	fprintf(stderr, "%s [%s] ", question, dflt ? "Y/n" : "y/N");
	fflush(stderr);
	char line[64] = "";
	if (!fgets(line, sizeof line, stdin))
		return false;
	char ch = line[strspn(line, " \t")];
	return ch == '\n' || ch == '\0' ? dflt : ch == 'y' || ch == 'Y';
}

/* --- the answers ---------------------------------------------------------------------- */

/* The URL: the option, else what is found; on a terminal asked. */
static int answer_url(struct cmd_run *r, struct answers *an, bool interactive, struct err *e)
{
	const struct init_args *a = r->args;
	struct init_guess g = {0};
	char *cwd = getcwd(NULL, 0);
	bool found = !a->database_url && init_guess_url(cwd ? cwd : ".", &g);
	free(cwd);
	const char *dflt = a->database_url ? a->database_url : g.url;
	if (interactive && found)
		fprintf(stderr, "found a database URL in %s\n", g.source);
	an->url = interactive ? ask("Database URL", dflt) : xstrdup(dflt);
	an->url_from_env_file = g.from_env_file && an->url && g.url && strcmp(an->url, g.url) == 0;
	init_guess_done(&g);
	if (an->url)
		return 0;
	err_set(e, ERR_USAGE, "init: no database URL given or found");
	return err_hint(e, "pass --database-url postgresql://USER@HOST:PORT/DB (or set DATABASE_URL); "
			"looked at $DATABASE_URL, ./.env, the PG* variables and ~/.pgpass");
}

/* The app root and its paths. */
static void answer_app(struct cmd_run *r, struct answers *an, bool interactive)
{
	const struct init_args *a = r->args;
	if (a->no_app)
		return;
	char *cwd = getcwd(NULL, 0);
	const char *dflt = a->app_root ? a->app_root : cwd ? cwd : ".";
	if (interactive) {
		struct strv markers = {0};
		init_app_markers(dflt, &markers);
		char *m = strv_join(&markers, ", ");
		fprintf(stderr, "%s%s%s\n", dflt, markers.n ? " looks like an app: " : " (no .env, compose file, "
			"package.json, alembic.ini or manage.py there)", m);
		free(m);
		strv_done(&markers);
		an->app_root = ask("App root (- for the database only)", dflt);
	} else {
		an->app_root = xstrdup(dflt);
	}
	free(cwd);
	if (!an->app_root)
		return;
	struct strv found = {0};
	if (a->paths.n)
		for (size_t i = 0; i < a->paths.n; i++)
			strv_push(&found, a->paths.v[i]);
	else
		init_suggest_paths(an->app_root, &found);
	char *list = strv_join(&found, " ");
	char *answer = interactive ? ask("App paths to carry, relative to it (- for none)", *list ? list : NULL)
				   : xstrdup(list);
	for (char *save = NULL, *t = answer ? strtok_r(answer, " ,", &save) : NULL; t; t = strtok_r(NULL, " ,", &save))
		strv_push(&an->paths, t);
	free(answer);
	free(list);
	strv_done(&found);
}

/* The directories, the new server, the health URL, the name. */
static void answer_rest(struct cmd_run *r, struct answers *an, bool interactive)
{
	const struct init_args *a = r->args;
	char *backup = a->backup_dir ? xstrdup(a->backup_dir) : xasprintf("/var/backups/%s", an->found.database);
	an->backup_dir = interactive ? ask("Backup dir (made with mode 0700)", backup) : xstrdup(backup);
	free(backup);
	char *logs = a->log_dir ? xstrdup(a->log_dir) : xasprintf("%s/logs", an->backup_dir ? an->backup_dir : ".");
	an->log_dir = interactive ? ask("Log dir", logs) : xstrdup(logs);
	free(logs);
	an->ssh_host = interactive ? ask("A new server to move to over SSH, [USER@]HOST[:PORT] (- for none)",
					 a->ssh_host ? a->ssh_host : "-")
				   : xstrdup(a->ssh_host);
	an->health_url = interactive ? ask("The app's health URL (- for none)", a->health_url ? a->health_url : "-")
				     : xstrdup(a->health_url);
	const char *given = a->name ? a->name : r->c->profile_name;
	char *name = given ? xstrdup(given) : init_profile_name(an->found.database);
	an->name = interactive ? ask("Profile name (bundles are named after it)", name) : xstrdup(name);
	free(name);
}

/* Every answer, asked or from the options; the database is tried on the way. */
static int gather(struct cmd_run *r, struct answers *an, bool interactive, struct err *e)
{
	const struct init_args *a = r->args;
	char *file = profile_new_file_path(r->c->profiles_path, a->user);
	an->file = profile_path_absolute(file);
	if (!an->file)
		an->file = file;
	else
		free(file);
	if (answer_url(r, an, interactive, e) < 0 || init_inspect(an->url, &an->found, e) < 0)
		return -1;
	if (interactive) {
		char *line = init_found_line(&an->found);
		fprintf(stderr, "connected: %s\n", line);
		free(line);
	}
	answer_app(r, an, interactive);
	answer_rest(r, an, interactive);
	return 0;
}

/* Whether the file at path has a profile of that name (false when it
 * cannot be read: init's own check says why). */
static bool has_profile(const char *path, const char *name)
{
	struct err e = {0};
	profile_file *pf = access(path, F_OK) == 0 ? profile_file_load(path, &e) : NULL;
	bool found = false;
	for (size_t i = 0; pf && i < profile_file_count(pf); i++)
		found |= strcmp(profile_file_at(pf, i)->name, name) == 0;
	profile_file_free(pf);
	return found;
}

/* The core options from the answers (borrowing them). */
static struct init_opts opts_of(const struct cmd_run *r, const struct answers *an)
{
	const struct init_args *a = r->args;
	return (struct init_opts){
		.profiles_path = an->file, .name = an->name, .database_url = an->url,
		.url_from_env_file = an->url_from_env_file && an->app_root, .app_env_file = ".env",
		.app_root = an->app_root, .paths = &an->paths, .backup_dir = an->backup_dir,
		.log_dir = an->log_dir, .ssh_target = an->ssh_host, .health_url = an->health_url,
		.replace = a->force, .events = r->events};
}

/* --- the outcome ------------------------------------------------------------------- */

static void print_json(const struct init_result *res)
{
	json_t *notes = json_array();
	for (size_t i = 0; i < res->notes.n; i++)
		json_array_append_new(notes, json_string(res->notes.v[i]));
	cli_print_json(json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:b, s:b, s:{s:s, s:s, s:s, s:I, s:I, s:s?}, s:o}",
				 "status", "success", "file", res->file, "profile", res->name,
				 "target_profile", res->target_name, "backup_dir", res->backup_dir,
				 "log_dir", res->log_dir, "made_backup_dir", res->made_backup_dir,
				 "password_left_out", res->password_left_out, "database",
				 "name", res->found.database, "where", res->found.where,
				 "server_version", res->found.server_version,
				 "size_bytes", (json_int_t)res->found.size_bytes,
				 "tables", (json_int_t)res->found.tables, "schema_revision", res->found.revision,
				 "notes", notes));
}

static void print_text(const struct init_result *res, const struct answers *an)
{
	printf("wrote profile %s to %s\n", res->name, res->file);
	if (res->target_name)
		printf("  and %s: the new server over SSH (edit its database.url if the database is reached "
		       "differently there)\n", res->target_name);
	if (res->password_left_out)
		printf("  the password in the URL is not in the profile: put it in ~/.pgpass "
		       "(host:port:database:user:password, mode 0600) or PGPASSWORD\n");
	if (an->url_from_env_file && an->app_root)
		printf("  database.url is ${DATABASE_URL}, read from %s/.env\n", an->app_root);
	for (size_t i = 0; i < res->notes.n; i++)
		printf("  note: %s\n", res->notes.v[i]);
	printf("next: ferry backup --profile %s, then ferry list; ferry schedule install --profile %s "
	       "for daily, weekly and monthly backups\n", res->name, res->name);
}

/* On a terminal: the first backup and the schedule, by the commands themselves. */
static int offer_next(struct cmd_run *r, const struct init_result *res, struct err *e)
{
	char *argv[] = {"backup", "--profiles", res->file, "--profile", res->name, NULL};
	if (ask_yes("Make the first backup now?", true)) {
		int rc = dispatch_run(r->c, 5, argv, e);
		if (rc != 0)
			return rc;
	}
	if (ask_yes("Install scheduled backups now (ferry schedule install)?", false)) {
		char *sargv[] = {"schedule", "install", "--profiles", res->file, "--profile", res->name, NULL};
		return dispatch_run(r->c, 6, sargv, e);
	}
	return 0;
}

static int init_exec(struct cmd_run *r, struct err *e)
{
	bool interactive = !r->c->yes;
	if (interactive && !r->c->stdin_tty) {
		err_set(e, ERR_REFUSED, "init asks its questions on a terminal, and there is none");
		return err_hint(e, "pass --yes with the answers as options (--database-url, --app-root, "
				"--backup-dir, ...); nothing was written");
	}
	struct answers an = {0};
	struct init_result res = {0};
	int rc = gather(r, &an, interactive, e);
	struct init_args *a = r->args;
	if (rc == 0 && interactive && !a->force && has_profile(an.file, an.name)) {
		fprintf(stderr, "%s already has a profile %s.\n", an.file, an.name);
		a->force = ask_yes("Replace it?", false);
	}
	if (rc == 0) {
		struct init_opts o = opts_of(r, &an);
		rc = init_run(&o, &res, e);
	}
	if (rc == 0 && r->c->json)
		print_json(&res);
	else if (rc == 0)
		print_text(&res, &an);
	if (rc == 0 && interactive)
		rc = offer_next(r, &res, e);
	init_result_done(&res);
	answers_done(&an);
	return rc;
}

/* --dry-run: the plan from the options and what is found (no questions). */
static int init_plan_hook(struct cmd_run *r, struct plan *plan, struct err *e)
{
	struct answers an = {0};
	int rc = gather(r, &an, false, e);
	if (rc == 0) {
		struct init_opts o = opts_of(r, &an);
		rc = init_plan(&o, plan, e);
	}
	answers_done(&an);
	return rc;
}

const struct cmd_entry cmd_init_entry = {
	.name = "init",
	.summary = "set ferry up: write a first profile for this machine, by asking",
	.description =
		"Finds the database (DATABASE_URL, ./.env, the PG* variables, ~/.pgpass),\n"
		"connects and shows what is there (server version, size, tables, schema\n"
		"revision), then asks for the app root, the paths to carry, the backup dir\n"
		"(made with mode 0700), the log dir, an optional new server over SSH and a\n"
		"health URL, each with what was found as the default. It writes the profile\n"
		"through the profile module (validated before the file is replaced) into\n"
		"./config/migration_profiles.json, the first place ferry looks (--user:\n"
		"~/.config/ferry/profiles.json; --profiles FILE: there), adding it to a\n"
		"file that is there, and checks it as `ferry profiles check` does. A\n"
		"profile of the same name is replaced only when you say so on the terminal,\n"
		"or with --force. On a terminal it then offers the first backup and\n"
		"`ferry schedule install`.\n"
		"With --yes nothing is asked: the options and the defaults are the answers.\n",
	.footer =
		"Exit status: 0 written; 2 a bad option or a profile of that name exists;\n"
		"3 the database does not answer; 10 no terminal and no --yes.\n",
	.options = options,
	.need = CMD_NEED_OPTIONAL,   /* --profiles is the file written; nothing is loaded */
	.flags = CMD_DRY_RUN | CMD_JSON | CMD_YES | CMD_PROGRESS | CMD_NO_RUN_LOG,
	.json_help = "the result as JSON: file, profile, target_profile,\n"
		     "backup_dir, log_dir, made_backup_dir,\n"
		     "password_left_out, database {name, where,\n"
		     "server_version, size_bytes, tables,\n"
		     "schema_revision}, notes",
	.yes_help = "ask nothing: the options and the defaults are the answers",
	.args_size = sizeof(struct init_args),
	.plan = init_plan_hook,
	.exec = init_exec,
};
