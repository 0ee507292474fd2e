/* wiz_backup — the backup wizard: profile, what goes in and where, the plan
 * from backup_plan(), then backup_run() exactly as `ferry backup` calls it. */
#include <stdlib.h>
#include <string.h>

#include "flow/backup.h"
#include "wiz/wiz_backup.h"
#include "wiz/wiz_check.h"

struct backup_state {
	struct backup_result r;
	bool have_r;
};

static const char *const include_options[] = {"database and app files", "database only",
					      "app files only", NULL};
enum { INC_BOTH, INC_DB, INC_FILES };

static const char *const offsite_options[] = {"no, keep it here only",
					      "yes, to every offsite target", NULL};
enum { OFFSITE_NO, OFFSITE_YES };

/* The include choice must fit the profile (no app section: database only). */
static int check_include(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n)
{
	if (w->p && !w->p->has_app && f->option != INC_DB)
		return snprintf(why, n, "profile %s has no app files (no \"app\" section)", w->p->name), -1;
	return 0;
}

/* Pages: the profile, then what and where. */
static void backup_setup(struct wiz *w)
{
	w->st = xcalloc(1, sizeof(struct backup_state));
	wiz_add_profile_page(w, "profile", "Which profile do you want to back up?");
	struct wiz_page *pg = wiz_add_page(w, "options", WP_FORM, "What goes into the bundle, and where?",
		"The bundle holds the database (dumped in one consistent snapshot, with every "
		"table's row count) and the profile's app files. It is written as <name>.part "
		"and renamed when complete, then the retention policy runs.");
	struct wiz_page_field *f = wiz_page_add_option(pg, "include", "Back up",
		"Left/Right: database and app files, database only, or app files only.", include_options);
	f->check = check_include;
	wiz_page_add_text(pg, "dir", "Bundle directory",
		"Default: the profile's backup.dir. Another directory works like --out: the "
		"retention policy is not applied there.", wiz_check_abs_dir);
	pg = wiz_add_page(w, "offsite", WP_FORM, "Also copy the bundle offsite?",
		"The bundle is copied to each of the profile's offsite targets after it is "
		"written (as `ferry backup --offsite`): encrypted with age when the profile has "
		"encryption.recipients, verified at the other end, resumable when interrupted "
		"(`ferry offsite push NAME` finishes it). Shown only for profiles with offsite "
		"targets whose backup.offsite is not already true.");
	wiz_page_add_option(pg, "copy", "Copy offsite",
		"Left/Right: keep the bundle here only, or copy it to every offsite target.",
		offsite_options);
	pg->skip = true;   /* counted in "page N of M" once the profile has targets */
}

/* The profile's offsite targets, "s3main (s3), box (sftp)"; caller frees. */
static char *target_names(const struct profile *p)
{
	struct sbuf b = {0};
	for (size_t i = 0; i < p->noffsite; i++)
		sbuf_addf(&b, "%s%s (%s)", i ? ", " : "", p->offsite[i].name, p->offsite[i].type);
	return sbuf_take(&b);
}

/* The offsite page: only when there are targets, backup.offsite does not
 * copy anyway, and the bundle goes to backup.dir (another dir is never copied). */
static void offsite_enter(struct wiz *w, struct wiz_page *pg)
{
	const char *dir = wiz_answer(w, "options", "dir");
	bool other_dir = dir && *dir && strcmp(dir, w->p->backup.dir) != 0;
	pg->skip = w->p->noffsite == 0 || w->p->backup.offsite || other_dir;
	if (pg->skip || !wiz_page_refill(pg, w->p->name))
		return;
	pg->fields[0].option = OFFSITE_NO;
	char *names = target_names(w->p);
	wiz_page_text(pg, "Profile %s has offsite targets: %s. The copy is %s.", w->p->name, names,
		      w->p->has_encryption ? "encrypted with age to encryption.recipients"
					   : "not encrypted (the profile has no encryption)");
	free(names);
}

/* Fill the options page for the chosen profile (answers kept on Back). */
static void backup_enter(struct wiz *w, struct wiz_page *pg)
{
	if (strcmp(pg->id, "offsite") == 0)
		offsite_enter(w, pg);
	if (strcmp(pg->id, "options") == 0)
		wiz_find_page(w, "offsite")->skip = w->p->noffsite == 0 || w->p->backup.offsite;
	if (strcmp(pg->id, "options") != 0 || !wiz_page_refill(pg, w->p->name))
		return;
	ui_line_set(&pg->fields[1].line, w->p->backup.dir);
	pg->fields[0].option = w->p->has_app ? INC_BOTH : INC_DB;
	char *db = profile_db_name(w->p);
	char *paths = w->p->has_app ? strv_join(&w->p->app.paths, ", ") : xstrdup("");
	if (w->p->has_app)
		wiz_page_text(pg, "Profile %s: database %s; app files %s under %s.", w->p->name,
			      db ? db : "?", paths, w->p->app.root);
	else
		wiz_page_text(pg, "Profile %s: database %s (no app files in this profile).", w->p->name,
			      db ? db : "?");
	free(db);
	free(paths);
}

/* One line: what is about to happen. */
static void backup_about(const struct wiz *w, char *out, size_t n)
{
	if (!w->p) {
		snprintf(out, n, "About to back up a database and its app files into one verified bundle.");
		return;
	}
	const char *dir = wiz_answer(w, "options", "dir");
	const struct wiz_page_field *inc = wiz_field(w, "options", "include");
	int what = !w->p->has_app ? INC_DB : inc ? inc->option : INC_BOTH;
	char *db = profile_db_name(w->p);
	char *parts = what == INC_FILES ? xstrdup("app files only") :
		xasprintf("database %s%s", db ? db : "?", what == INC_BOTH ? " and app files" : "");
	snprintf(out, n, "About to back up profile %s (%s) into %s.", w->p->name, parts,
		 dir && *dir ? dir : w->p->backup.dir);
	free(parts);
	free(db);
}

/* The options from the answers: the same struct `ferry backup` fills. */
static void backup_options(const struct wiz *w, struct backup_opts *o)
{
	memset(o, 0, sizeof *o);
	const struct wiz_page_field *inc = wiz_field(w, "options", "include");
	const char *dir = wiz_answer(w, "options", "dir");
	o->db_only = inc && inc->option == INC_DB;
	o->files_only = inc && inc->option == INC_FILES;
	if (dir && *dir && strcmp(dir, w->p->backup.dir) != 0)
		o->out_dir = dir;
	const struct wiz_page_field *off = wiz_field(w, "offsite", "copy");
	o->offsite = off && off->option == OFFSITE_YES && w->p->noffsite > 0 && !o->out_dir;
}

/* Worker: the plan (backup_plan, as --dry-run). */
static int backup_plan_hook(struct wiz *w, struct plan *plan, struct err *e)
{
	struct backup_opts o;
	backup_options(w, &o);
	return backup_plan(w->p, &o, plan, e);
}

/* Worker: THE core call, backup_run(). */
static int backup_run_hook(struct wiz *w, struct wiz_job *j, struct err *e)
{
	struct backup_state *st = w->st;
	struct backup_opts o;
	backup_options(w, &o);
	o.events = &j->sink;
	o.cancel = &j->cancel;
	int rc = backup_run(w->p, &o, &st->r, e);
	st->have_r = true;
	return rc;
}

/* The final page: the bundle, its numbers, what to run next. */
static void backup_result_hook(struct wiz *w)
{
	struct backup_state *st = w->st;
	if (w->rc != 0 || !st->have_r || !st->r.path)
		return;
	const struct backup_result *r = &st->r;
	char sz[32];
	size_t pruned = 0;
	for (size_t i = 0; i < r->pruned.n; i++)
		pruned += !r->pruned.v[i].keep;
	strv_push(&w->result, "The bundle was written. Every member was hashed before and again while it "
		  "was written, and both match the manifest. It is not verified yet: `ferry verify` "
		  "re-reads the finished bundle and re-hashes every member (Next, below).");
	char *line = xasprintf("%s, %zu tables, %lld rows, schema revision %s, %.1f s.",
			       util_human_bytes(r->size, sz, sizeof sz), r->manifest.ntables,
			       (long long)manifest_total_rows(&r->manifest),
			       r->manifest.schema_revision ? r->manifest.schema_revision : "unknown",
			       r->duration_s);
	strv_push(&w->result, line);
	free(line);
	if (pruned) {
		line = xasprintf("Retention removed %zu older bundle(s).", pruned);
		strv_push(&w->result, line);
		free(line);
	}
	if (r->prune_warning) {
		line = xasprintf("Warning: retention failed: %s", r->prune_warning);
		strv_push(&w->result, line);
		free(line);
	}
	for (size_t i = 0; i < r->offsite.ncopies; i++) {
		const struct offsite_copy *cp = &r->offsite.copies[i];
		line = xasprintf("Copied offsite to %s: %s (%s, sha256 checked there).", cp->target,
				 cp->where, util_human_bytes(cp->bytes, sz, sizeof sz));
		strv_push(&w->result, line);
		free(line);
	}
	const char *name = strrchr(r->path, '/');
	name = name ? name + 1 : r->path;
	w->written = xasprintf("%s", r->path);
	line = xasprintf("To restore it later: ferry restore %s --profile %s", name, w->p->name);
	strv_push(&w->result, line);
	free(line);
	w->next_cmd = xasprintf("ferry verify %s --profile %s", name, w->p->name);
}

/* Save as profile: another bundle directory becomes backup.dir. */
static void backup_save(const struct wiz *w, profile_edit *ed)
{
	struct backup_opts o;
	backup_options(w, &o);
	if (o.out_dir)
		profile_edit_set_string(ed, "backup", "dir", o.out_dir);
}

/* Free the result. */
static void backup_free(struct wiz *w)
{
	struct backup_state *st = w->st;
	if (!st)
		return;
	if (st->have_r)
		backup_result_done(&st->r);
	free(st);
	w->st = NULL;
}

const struct wiz_flow wiz_backup_flow = {
	.name = "backup",
	.title = "Backup your instance",
	.doing = "Backing up",
	.setup = backup_setup,
	.enter = backup_enter,
	.about = backup_about,
	.plan = backup_plan_hook,
	.run = backup_run_hook,
	.result = backup_result_hook,
	.save = backup_save,
	.free_state = backup_free,
};
