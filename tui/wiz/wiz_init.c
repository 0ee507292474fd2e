/* wiz_init — "Set up ferry": a first profile for this machine. Two form
 * pages (the database and the app; where bundles and logs go, a new
 * server), each field filled with what was found; the summary is core's
 * plan (it connects: the server version, size, tables and revision show
 * there); the run is init_run(), the same call as `ferry init --yes`. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow/init.h"
#include "wiz/wiz_check.h"
#include "wiz/wiz_init.h"

struct init_state {
	char *file;                 /* where the profile goes */
	bool url_from_env_file;     /* the URL shown was found in ./.env */
	char *found_url;
	struct strv paths;          /* from the answer, split */
	struct init_result r;
	bool have_r;
};

/* The app root: empty (the database only) or an existing directory. */
static int check_app_root(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n)
{
	(void)w;
	const char *t = f->line.text;
	if (!*t)
		return 0;
	if (t[0] != '/')
		return snprintf(why, n, "\"%s\" is not an absolute path", t), -1;
	if (access(t, X_OK) != 0)
		return snprintf(why, n, "%s is not a directory that can be read", t), -1;
	return 0;
}

/* A backup or log dir: empty (the default) or an absolute one that can be made. */
static int check_dir_or_default(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n)
{
	return f->line.text[0] ? wiz_check_abs_dir(w, f, why, n) : 0;
}

static void init_setup(struct wiz *w)
{
	struct init_state *st = xcalloc(1, sizeof *st);
	w->st = st;
	char *file = profile_new_file_path(w->profiles_path, false);
	st->file = profile_path_absolute(file);
	if (st->file)
		free(file);
	else
		st->file = file;
	struct wiz_page *pg = wiz_add_page(w, "where", WP_FORM, "Where are the database and the app?",
		"ferry keeps what it needs to know in a profile: the database, the app files that "
		"belong with it, and where bundles go. What was found on this machine is filled in "
		"(DATABASE_URL, ./.env, the PG* variables, ~/.pgpass; the current directory). A "
		"password in the URL is used to connect but not written to the profile.");
	wiz_page_add_text(pg, "url", "Database URL", "postgresql://USER@HOST:PORT/DATABASE",
			  wiz_check_nonempty);
	wiz_page_add_text(pg, "root", "App root", "The app's directory; empty: the database only.",
			  check_app_root);
	wiz_page_add_text(pg, "paths", "App paths", "Directories in the app root to carry in bundles, "
			  "separated by blanks (uploads, config, ...).", NULL);
	pg = wiz_add_page(w, "dirs", WP_FORM, "Where do bundles and logs go?",
		"The backup dir is made with mode 0700; each bundle in it is 0600. A new server is "
		"optional: ferry then also writes a profile new-server that reaches it over SSH, for "
		"`ferry migrate --target new-server`.");
	wiz_page_add_text(pg, "backup", "Backup dir", "Empty: /var/backups/<database>.", check_dir_or_default);
	wiz_page_add_text(pg, "logs", "Log dir", "Empty: <backup dir>/logs.", check_dir_or_default);
	wiz_page_add_text(pg, "ssh", "New server", "[USER@]HOST[:PORT], or empty.", NULL);
	wiz_page_add_text(pg, "name", "Profile name", "Empty: the database's name. Bundles are named "
			  "after it.", NULL);
}

/* Fill the first page with what is found (once). */
static void init_enter(struct wiz *w, struct wiz_page *pg)
{
	struct init_state *st = w->st;
	if (strcmp(pg->id, "where") != 0 || !wiz_page_refill(pg, "found"))
		return;
	char *cwd = getcwd(NULL, 0);
	struct init_guess g = {0};
	if (init_guess_url(cwd ? cwd : ".", &g)) {
		ui_line_set(&pg->fields[0].line, g.url);
		st->found_url = xstrdup(g.url);
		st->url_from_env_file = g.from_env_file;
		wiz_page_text(pg, "Found a database URL in %s. The profile goes to %s.", g.source, st->file);
	} else {
		wiz_page_text(pg, "No database URL found. The profile goes to %s.", st->file);
	}
	init_guess_done(&g);
	ui_line_set(&pg->fields[1].line, cwd ? cwd : "");
	struct strv found = {0};
	init_suggest_paths(cwd ? cwd : ".", &found);
	char *paths = strv_join(&found, " ");
	ui_line_set(&pg->fields[2].line, paths);
	free(paths);
	strv_done(&found);
	free(cwd);
}

static void init_about(const struct wiz *w, char *out, size_t n)
{
	const struct init_state *st = w->st;
	snprintf(out, n, "About to write a first profile for this machine into %s.", st ? st->file : "?");
}

/* An answer, NULL when empty. */
static const char *answer(const struct wiz *w, const char *page, const char *field)
{
	const char *a = wiz_answer(w, page, field);
	return a && *a ? a : NULL;
}

/* The core options from the answers (the same struct `ferry init` fills). */
static void init_options(const struct wiz *w, struct init_opts *o)
{
	struct init_state *st = w->st;
	memset(o, 0, sizeof *o);
	strv_done(&st->paths);
	const char *paths = answer(w, "where", "paths");
	char *copy = xstrdup(paths ? paths : "");
	for (char *save = NULL, *t = strtok_r(copy, " ,", &save); t; t = strtok_r(NULL, " ,", &save))
		strv_push(&st->paths, t);
	free(copy);
	o->profiles_path = st->file;
	o->database_url = answer(w, "where", "url");
	o->app_root = answer(w, "where", "root");
	o->paths = &st->paths;
	o->url_from_env_file = st->url_from_env_file && o->app_root && st->found_url && o->database_url &&
			       strcmp(st->found_url, o->database_url) == 0;
	o->app_env_file = ".env";
	o->backup_dir = answer(w, "dirs", "backup");
	o->log_dir = answer(w, "dirs", "logs");
	o->ssh_target = answer(w, "dirs", "ssh");
	o->name = answer(w, "dirs", "name");
}

/* Worker: the plan (it connects, and checks every answer). */
static int init_plan_hook(struct wiz *w, struct plan *plan, struct err *e)
{
	struct init_opts o;
	init_options(w, &o);
	return init_plan(&o, plan, e);
}

/* Worker: THE core call, init_run(). */
static int init_run_hook(struct wiz *w, struct wiz_job *j, struct err *e)
{
	struct init_state *st = w->st;
	struct init_opts o;
	init_options(w, &o);
	o.events = &j->sink;
	int rc = init_run(&o, &st->r, e);
	st->have_r = true;
	return rc;
}

static void init_result_hook(struct wiz *w)
{
	struct init_state *st = w->st;
	if (w->rc != 0 || !st->have_r)
		return;
	const struct init_result *r = &st->r;
	char *line = init_found_line(&r->found);
	char *text = xasprintf("Profile %s is written; the database: %s.", r->name, line);
	strv_push(&w->result, text);
	free(text);
	free(line);
	text = xasprintf("Bundles go to %s (mode 0700), logs to %s.", r->backup_dir, r->log_dir);
	strv_push(&w->result, text);
	free(text);
	if (r->target_name) {
		text = xasprintf("Profile %s is the new server, reached over SSH.", r->target_name);
		strv_push(&w->result, text);
		free(text);
	}
	if (r->password_left_out)
		strv_push(&w->result, "The password in the URL is not in the profile: put it in ~/.pgpass "
			  "(host:port:database:user:password, mode 0600) or PGPASSWORD.");
	strv_push(&w->result, "Back on the menu, \"Backup your instance\" makes the first bundle.");
	w->written = xasprintf("%s (profile %s)", r->file, r->name);
	w->next_cmd = xasprintf("ferry backup --profile %s   (then ferry schedule install --profile %s)",
				r->name, r->name);
}

static void init_free(struct wiz *w)
{
	struct init_state *st = w->st;
	if (!st)
		return;
	if (st->have_r)
		init_result_done(&st->r);
	strv_done(&st->paths);
	free(st->file);
	free(st->found_url);
	free(st);
	w->st = NULL;
}

const struct wiz_flow wiz_init_flow = {
	.name = "init",
	.title = "Set up ferry",
	.doing = "Setting up",
	.no_profiles = true,
	.setup = init_setup,
	.enter = init_enter,
	.about = init_about,
	.plan = init_plan_hook,
	.run = init_run_hook,
	.result = init_result_hook,
	.free_state = init_free,
};
