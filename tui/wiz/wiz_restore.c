/* wiz_restore — the restore wizard: profile, a bundle from the list, what
 * to restore, the plan from restore_plan(), then restore_run() with its
 * confirm callback asking for the database name to be typed. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow/restore.h"
#include "flow/list.h"
#include "wiz/wiz_restore.h"

struct restore_state {
	struct restore_result r;
	bool have_r;
};

static const char *const what_options[] = {"database and app files", "database only",
					   "app files only", NULL};
static const char *const yes_no[] = {"yes", "no", NULL};
enum { WHAT_BOTH, WHAT_DB, WHAT_FILES };

/* Pages: the profile, the bundle, the options. */
static void restore_setup(struct wiz *w)
{
	w->st = xcalloc(1, sizeof(struct restore_state));
	wiz_add_profile_page(w, "profile", "Which profile do you want to restore into?");
	wiz_add_page(w, "bundle", WP_CHOICE, "Which bundle?",
		"The bundles in the profile's backup directory, newest first: when it was "
		"made (UTC, to the second), its type (pre-* are safety copies), its scope "
		"(full or partial), size, the schema revision inside, and whether "
		"`ferry verify` checked it. The newest bundle that is not a safety copy is "
		"picked. The restore verifies it again before it touches anything.");
	struct wiz_page *pg = wiz_add_page(w, "options", WP_FORM, "What should be restored?",
		"The database is restored into a shadow copy, every table's row count is "
		"checked against the manifest, and only then is it swapped in; the old "
		"database is kept for `ferry rollback`. App files are moved aside, not deleted.");
	wiz_page_add_option(pg, "what", "Restore",
		"Left/Right: database and app files, database only, or app files only.", what_options);
	wiz_page_add_option(pg, "safety", "Safety backup first",
		"A backup (type pre-restore) of what is there now, before anything is replaced.", yes_no);
}

/* "yes", "FAILED" or "no" from the bundle's .verified record. */
static const char *verified_word(const struct bundle_info *b)
{
	if (!b->verified)
		return "no";
	return strncmp(b->verified, "ok", 2) == 0 ? "yes" : "FAILED";
}

/* A safety copy: what ferry made of the live side before a restore,
 * deploy or reset (type pre-*). */
static bool is_safety_copy(const struct bundle_info *b)
{
	return b->type && strncmp(b->type, "pre-", 4) == 0;
}

/* One bundle as a row of the list: made (to the second), type, scope,
 * size, revision, verified; another profile's bundle says whose. */
static void bundle_row(struct wiz_page *pg, const struct bundle_info *b, const char *profile)
{
	struct tm tm;
	gmtime_r(&b->created, &tm);
	char when[32], sz[32], whose[96] = "";
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	if (b->profile && strcmp(b->profile, profile) != 0)
		snprintf(whose, sizeof whose, "  (profile %s)", b->profile);
	wiz_page_item(pg, b->path, "%-19s  %-11s %-7.7s %9s  %-12.12s  %-8s%s", when, b->type,
		      b->scope ? b->scope : "?", util_human_bytes(b->size, sz, sizeof sz),
		      b->revision ? b->revision : "unknown", verified_word(b), whose);
}

/* List the bundles in the profile's backup directory, the newest ordinary
 * one (not a safety copy) picked. */
static void fill_bundles(struct wiz *w, struct wiz_page *pg)
{
	struct bundle_list l;
	struct err e = {0};
	wiz_page_clear_items(pg);
	pg->blocked = false;
	free(pg->header);
	pg->header = xasprintf("%-19s  %-11s %-7s %9s  %-12s  %-8s", "made (UTC)", "type", "scope", "size",
			       "revision", "verified");
	if (list_bundles(w->p->backup.dir, NULL, &l, &e) < 0) {
		wiz_page_text(pg, "The bundles cannot be listed: %s", e.msg);
		pg->blocked = true;
		return;
	}
	bool picked = false;
	for (size_t i = 0; i < l.n; i++) {
		bundle_row(pg, &l.v[i], w->p->name);
		if (!picked && !is_safety_copy(&l.v[i])) {
			pg->sel = i;
			picked = true;
		}
	}
	if (l.n == 0)
		wiz_page_text(pg, "There are no bundles in %s yet. Make one with \"Backup your instance\" "
			      "first (Esc goes back).", w->p->backup.dir);
	else
		wiz_page_text(pg, "Bundles in %s. Those of type pre-restore, pre-deploy and pre-reset are "
			      "safety copies ferry made of what was there before.", w->p->backup.dir);
	list_done(&l);
}

/* Fill the pages that depend on the profile (answers kept on Back). */
static void restore_enter(struct wiz *w, struct wiz_page *pg)
{
	if (strcmp(pg->id, "bundle") == 0 && wiz_page_refill(pg, w->p->name))
		fill_bundles(w, pg);
	if (strcmp(pg->id, "options") == 0 && wiz_page_refill(pg, w->p->name)) {
		pg->fields[0].option = w->p->has_app ? WHAT_BOTH : WHAT_DB;
		pg->fields[1].option = 0;
	}
}

/* The bundle's file name. */
static const char *bundle_name(const struct wiz *w)
{
	const char *path = wiz_choice(w, "bundle");
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

/* One line: what is about to happen. */
static void restore_about(const struct wiz *w, char *out, size_t n)
{
	const struct wiz_page *bp = wiz_find_page_c(w, "bundle");
	const char *name = w->p ? bundle_name(w) : NULL;
	if (!name || !bp || w->cur <= (size_t)(bp - w->pages)) {
		snprintf(out, n, "About to restore a bundle: verified first, a safety backup, then an atomic swap.");
		return;
	}
	char *db = profile_db_name(w->p);
	snprintf(out, n, "About to restore %s into profile %s (database %s).", name, w->p->name, db ? db : "?");
	free(db);
}

/* The options from the answers: the same struct `ferry restore` fills. */
static void restore_options(const struct wiz *w, struct restore_opts *o)
{
	memset(o, 0, sizeof *o);
	const struct wiz_page_field *what = wiz_field(w, "options", "what");
	const struct wiz_page_field *safety = wiz_field(w, "options", "safety");
	o->db_only = what && what->option == WHAT_DB;
	o->files_only = what && what->option == WHAT_FILES;
	o->no_safety_backup = safety && safety->option == 1;
}

/* Worker: the plan (restore_plan verifies the bundle and reads the live side). */
static int restore_plan_hook(struct wiz *w, struct plan *plan, struct err *e)
{
	struct restore_opts o;
	restore_options(w, &o);
	return restore_plan(w->p, wiz_choice(w, "bundle"), &o, plan, e);
}

/* Worker: THE core call, restore_run(); the confirmation goes to the UI. */
static int restore_run_hook(struct wiz *w, struct wiz_job *j, struct err *e)
{
	struct restore_state *st = w->st;
	struct restore_opts o;
	restore_options(w, &o);
	o.events = &j->sink;
	o.cancel = &j->cancel;
	o.confirm = wiz_job_confirm_word;
	o.confirm_ud = j;
	int rc = restore_run(w->p, wiz_choice(w, "bundle"), &o, &st->r, e);
	st->have_r = true;
	return rc;
}

/* Push "prefix value suffix" as a result line. */
static void result_line(struct wiz *w, const char *prefix, const char *value, const char *suffix)
{
	char *line = xasprintf("%s%s%s", prefix, value, suffix);
	strv_push(&w->result, line);
	free(line);
}

/* The final page: what was restored, what was kept, how to go back. */
static void restore_result_hook(struct wiz *w)
{
	struct restore_state *st = w->st;
	if (w->rc != 0 || !st->have_r)
		return;
	const struct restore_result *r = &st->r;
	char *line = xasprintf("Restored %zu tables; %lld rows checked against the manifest; %.1f s.",
			       r->ntables, (long long)r->total_rows, r->duration_s);
	strv_push(&w->result, line);
	free(line);
	if (r->safety_bundle)
		result_line(w, "Safety backup of what was there: ", r->safety_bundle, "");
	if (r->previous_db)
		result_line(w, "The previous database is kept as ", r->previous_db, ".");
	for (size_t i = 0; i < r->previous_paths.n; i++)
		result_line(w, "Previous files kept as ", r->previous_paths.v[i], ".");
	char *db = profile_db_name(w->p);
	w->written = xasprintf("database %s (profile %s) from %s", db ? db : "?", w->p->name, bundle_name(w));
	free(db);
	if (r->previous_db || r->previous_paths.n)
		w->next_cmd = xasprintf("ferry rollback --profile %s   (puts the previous data back)", w->p->name);
}

/* Free the result. */
static void restore_free(struct wiz *w)
{
	struct restore_state *st = w->st;
	if (!st)
		return;
	if (st->have_r)
		restore_result_done(&st->r);
	free(st);
	w->st = NULL;
}

const struct wiz_flow wiz_restore_flow = {
	.name = "restore",
	.title = "Restore from a backup",
	.doing = "Restoring",
	.setup = restore_setup,
	.enter = restore_enter,
	.about = restore_about,
	.plan = restore_plan_hook,
	.run = restore_run_hook,
	.result = restore_result_hook,
	.free_state = restore_free,
};
