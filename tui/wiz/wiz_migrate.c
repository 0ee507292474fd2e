/* wiz_migrate — the guided migration (seed phase 2): explain → where is
 * the database → back up first → which profile is the new server → how to
 * reach it (host, user, port, key; the profile's as defaults) → summary
 * (migrate_plan: it connects and checks the new server, the host-key
 * dialog there) → run (migrate_run, with the
 * typed confirmations) → result. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow/migrate.h"
#include "wiz/wiz_migrate.h"

struct migrate_state {
	struct migrate_result r;
	bool have_r;
	struct profile *run_target;   /* the target with the server answers */
};

static int check_host(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n)
{
	(void)w;
	if (!*f->line.text || strpbrk(f->line.text, " \t/@"))
		return snprintf(why, n, "give a host name or address (no spaces, no user@)"), -1;
	return 0;
}

static int check_port(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n)
{
	(void)w;
	char *end = NULL;
	long port = strtol(f->line.text, &end, 10);
	if (!*f->line.text || *end || port < 1 || port > 65535)
		return snprintf(why, n, "a port is a number from 1 to 65535, not \"%s\"", f->line.text), -1;
	return 0;
}

static int check_key(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n)
{
	(void)w;
	const char *v = f->line.text;
	if (*v && v[0] != '/')
		return snprintf(why, n, "\"%s\": give the key file's absolute path", v), -1;
	if (*v && access(v, R_OK) != 0)
		return snprintf(why, n, "cannot read the key file %s", v), -1;
	return 0;
}

/* Pages: explanation, source, backup, target, server. */
static void migrate_setup(struct wiz *w)
{
	w->st = xcalloc(1, sizeof(struct migrate_state));
	struct wiz_page *pg = wiz_add_page(w, "explain", WP_INFO, "Moving to a new server",
		"The new server is a profile with an \"ssh\" section (host, user, key). "
		"ferry on this machine drives everything over one SSH connection; the host "
		"key is checked against known_hosts, and an unknown key is shown for you to "
		"accept or reject.");
	wiz_page_text(pg, "ferry will:\n"
		"  1. check both ends (SSH, disk space, pg_restore and ferry on the new server)\n"
		"  2. back up this server into one verified bundle\n"
		"  3. copy it over SSH (resumable, SHA-256 checked)\n"
		"  4. restore it there with ferry itself (shadow database, row-count gate, swap)\n"
		"  5. rewrite the connection registry and restart the services there\n"
		"  6. check health, schema revision and row counts on both sides\n"
		"  7. write a migration log\n"
		"You see the whole plan before anything happens. Enter goes on.");
	wiz_add_profile_page(w, "profile", "Where is the database now (this server's profile)?");
	wiz_add_page(w, "backup", WP_INFO, "Back up first? Yes: the move starts from a fresh backup",
		"The bundle made here is what is copied and restored; it stays in the backup "
		"directory afterwards, so this server can be restored from it too. On the new "
		"server, ferry restore takes its own safety backup of whatever is there.");
	wiz_add_page(w, "target", WP_CHOICE, "Which profile is the new server?",
		"Profiles other than this server's. The new server needs an \"ssh\" section; "
		"its database URL is the database there (as seen on that server).");
	struct wiz_page *pg2 = wiz_add_page(w, "server", WP_FORM, "How does ferry reach the new server?",
		"Filled in from the target profile's \"ssh\" section; change what is different "
		"for this move. Changes apply to this run; Save as profile on the summary keeps "
		"them as a copy of the target profile.");
	wiz_page_add_text(pg2, "host", "Host", "The new server's name or address.", check_host);
	wiz_page_add_text(pg2, "user", "User", "Empty: your user name here (or ~/.ssh/config's).", NULL);
	wiz_page_add_text(pg2, "port", "Port", "The SSH port, 22 unless the server says otherwise.", check_port);
	wiz_page_add_text(pg2, "key", "Key file",
		"The private key to log in with. Empty: ssh-agent, then ~/.ssh/config and the "
		"default keys.", check_key);
}

/* What the backup page says for the chosen source. */
static void fill_backup_page(struct wiz *w, struct wiz_page *pg)
{
	char *db = profile_redact_url(w->p->database.url);
	char *paths = w->p->has_app ? strv_join(&w->p->app.paths, ", ") : xstrdup("");
	wiz_page_text(pg, "A fresh bundle of this server is made first:\n"
		"  database  %s\n"
		"  files     %s%s%s\n"
		"  into      %s",
		db, w->p->has_app ? paths : "(none in this profile)", w->p->has_app ? " under " : "",
		w->p->has_app ? w->p->app.root : "", w->p->backup.dir);
	free(db);
	free(paths);
}

/* The other profiles, marked when they cannot be reached over SSH. */
static void fill_targets(struct wiz *w, struct wiz_page *pg)
{
	wiz_page_clear_items(pg);
	free(pg->header);
	pg->header = xasprintf("%-14s %-30s %s", "profile", "ssh", "database there");
	for (size_t i = 0; i < profile_file_count(w->pf); i++) {
		const struct profile *t = profile_file_at(w->pf, i);
		if (t == w->p)
			continue;
		char *url = t->database.url ? profile_redact_url(t->database.url) : xstrdup("?");
		char ssh[200];
		if (t->has_ssh)
			snprintf(ssh, sizeof ssh, "%s@%s:%d", t->ssh.user ? t->ssh.user : "?", t->ssh.host, t->ssh.port);
		else
			snprintf(ssh, sizeof ssh, "(no ssh section)");
		wiz_page_item(pg, t->name, "%-14s %-30s %s", t->name, ssh, url);
		free(url);
	}
	if (pg->nitems == 0)
		wiz_page_text(pg, "%s has only the profile %s. Add the new server as a profile with an "
			      "\"ssh\" section (see profiles/README.md), then come back.", w->profiles_path,
			      w->p->name);
	else
		wiz_page_text(pg, "Moving %s to:", w->p->name);
}

static const struct profile *target(const struct wiz *w);

/* The target's SSH settings as the defaults (answers kept on Back). */
static void fill_server(struct wiz *w, struct wiz_page *pg)
{
	const struct profile *t = target(w);
	if (!t || !wiz_page_refill(pg, t->name))
		return;
	char port[16];
	snprintf(port, sizeof port, "%d", t->ssh.port);
	ui_line_set(&pg->fields[0].line, t->ssh.host ? t->ssh.host : "");
	ui_line_set(&pg->fields[1].line, t->ssh.user ? t->ssh.user : "");
	ui_line_set(&pg->fields[2].line, port);
	ui_line_set(&pg->fields[3].line, t->ssh.identity_file ? t->ssh.identity_file : "");
	wiz_page_text(pg, "Profile %s reaches its server over SSH; the host key is checked against %s.",
		      t->name, t->ssh.known_hosts ? t->ssh.known_hosts : "~/.ssh/known_hosts");
}

/* The answers become the SSH settings of this run's copy of the target
 * profile (the file changes only on Save). */
static int apply_server(struct wiz *w, char *why, size_t n)
{
	struct migrate_state *st = w->st;
	const struct profile *t = target(w);
	if (!t)
		return 0;
	struct profile *copy = profile_clone(t);
	struct profile_ssh_override o = {
		.host = wiz_answer(w, "server", "host"), .user = wiz_answer(w, "server", "user"),
		.port = atoi(wiz_answer(w, "server", "port")),
		.identity_file = wiz_answer(w, "server", "key"),
	};
	struct err e = {0};
	if (profile_set_ssh(copy, &o, &e) < 0) {
		profile_free(copy);
		return snprintf(why, n, "%s", e.msg), -1;
	}
	profile_free(st->run_target);
	st->run_target = copy;
	return 0;
}

/* Save as profile: a copy of the new server's profile with these answers. */
static const char *migrate_save_base(const struct wiz *w)
{
	const struct profile *t = target(w);
	return t ? t->name : NULL;
}

/* Save as profile: the server answers become the copy's ssh section. */
static void migrate_save(const struct wiz *w, profile_edit *ed)
{
	profile_edit_set_string(ed, "ssh", "host", wiz_answer(w, "server", "host"));
	profile_edit_set_string(ed, "ssh", "user", wiz_answer(w, "server", "user"));
	profile_edit_set_int(ed, "ssh", "port", atoi(wiz_answer(w, "server", "port")));
	profile_edit_set_string(ed, "ssh", "identity_file", wiz_answer(w, "server", "key"));
}

static char *migrate_save_next(const struct wiz *w, const char *saved_name)
{
	return xasprintf("ferry migrate --from %s --target %s", w->p->name, saved_name);
}

/* Fill the pages that depend on the source profile. */
static void migrate_enter(struct wiz *w, struct wiz_page *pg)
{
	if (strcmp(pg->id, "backup") == 0)
		fill_backup_page(w, pg);
	else if (strcmp(pg->id, "target") == 0 && wiz_page_refill(pg, w->p->name))
		fill_targets(w, pg);
	else if (strcmp(pg->id, "server") == 0)
		fill_server(w, pg);
}

/* The chosen target profile (with the server answers once given), or NULL. */
static const struct profile *target(const struct wiz *w)
{
	const char *name = wiz_choice(w, "target");
	const struct migrate_state *st = w->st;
	if (name && st && st->run_target && strcmp(st->run_target->name, name) == 0)
		return st->run_target;
	for (size_t i = 0; name && i < profile_file_count(w->pf); i++)
		if (strcmp(profile_file_at(w->pf, i)->name, name) == 0)
			return profile_file_at(w->pf, i);
	return NULL;
}

/* The target must be reachable over SSH. */
static int migrate_leave(struct wiz *w, struct wiz_page *pg, char *why, size_t n)
{
	if (strcmp(pg->id, "server") == 0)
		return apply_server(w, why, n);
	if (strcmp(pg->id, "target") != 0)
		return 0;
	const struct profile *t = target(w);
	if (!t)
		return snprintf(why, n, "pick the new server's profile"), -1;
	if (!t->has_ssh)
		return snprintf(why, n, "profile %s has no \"ssh\" section: ferry reaches the new server over SSH",
				t->name), -1;
	return 0;
}

/* One line: what is about to happen. */
static void migrate_about(const struct wiz *w, char *out, size_t n)
{
	const struct wiz_page *tp = wiz_find_page_c(w, "target");
	const struct profile *t = tp && w->cur > (size_t)(tp - w->pages) ? target(w) : NULL;
	if (!w->p || !t || !t->has_ssh)
		snprintf(out, n, "About to move the database and app files to a new server over SSH.");
	else
		snprintf(out, n, "About to move %s to %s (%s@%s) over SSH.", w->p->name, t->name,
			 t->ssh.user ? t->ssh.user : "?", t->ssh.host);
}

/* Worker: the plan (migrate_plan: it connects and checks the new server,
 * so an unknown host key is asked about here, in the plan's job). */
static int migrate_plan_hook(struct wiz *w, struct plan *plan, struct err *e)
{
	struct migrate_opts o = {.confirm_host_key = wiz_job_confirm_host_key, .hostkey_ud = &w->job};
	return migrate_plan(w->p, target(w), &o, plan, e);
}

/* Worker: THE core call, migrate_run(); questions go to the UI. */
static int migrate_run_hook(struct wiz *w, struct wiz_job *j, struct err *e)
{
	struct migrate_state *st = w->st;
	struct migrate_opts o = {
		.confirm = wiz_job_confirm_word, .confirm_ud = j,
		.confirm_host_key = wiz_job_confirm_host_key, .hostkey_ud = j,
		.events = &j->sink, .cancel = &j->cancel,
	};
	int rc = migrate_run(w->p, target(w), &o, &st->r, e);
	st->have_r = true;
	return rc;
}

/* The final page: the migration's own summary, files, next command. */
static void migrate_result_hook(struct wiz *w)
{
	struct migrate_state *st = w->st;
	if (!st->have_r)
		return;
	const struct migrate_result *r = &st->r;
	if (r->summary) {
		char *copy = xstrdup(r->summary), *save = NULL;
		for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			strv_push(&w->result, line);
		free(copy);
	}
	if (r->log_file)
		w->written = xasprintf("migration log %s%s%s", r->log_file, r->bundle ? "; bundle " : "",
				       r->bundle ? r->bundle : "");
	const struct profile *t = target(w);
	if (w->rc == 0 && t)
		w->next_cmd = xasprintf("ferry status --profile %s", t->name);
	else if (t)
		w->next_cmd = xasprintf("ferry migrate --target %s --profile %s   (continues where it stopped)",
					t->name, w->p->name);
}

/* Free the result. */
static void migrate_free(struct wiz *w)
{
	struct migrate_state *st = w->st;
	if (!st)
		return;
	if (st->have_r)
		migrate_result_done(&st->r);
	profile_free(st->run_target);
	free(st);
	w->st = NULL;
}

const struct wiz_flow wiz_migrate_flow = {
	.name = "migrate",
	.title = "Migrate to a new server",
	.doing = "Migrating",
	.setup = migrate_setup,
	.enter = migrate_enter,
	.leave = migrate_leave,
	.about = migrate_about,
	.plan = migrate_plan_hook,
	.run = migrate_run_hook,
	.result = migrate_result_hook,
	.save = migrate_save,
	.save_base = migrate_save_base,
	.save_next = migrate_save_next,
	.free_state = migrate_free,
};
