/* wiz_drill — "Test a backup (drill)": profile, a bundle (the newest full
 * one picked), where to restore it, the plan from drill_plan(), then
 * drill_run() exactly as `ferry drill` calls it, and a result page with the
 * restore time and what was checked. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow/drill.h"
#include "flow/list.h"
#include "wiz/wiz_drill.h"

struct drill_state {
	struct drill_result r;
	bool have_r;
	struct strv servers;          /* the options of "Restore on": profile names */
};

static const char *const no_yes[] = {"no: drop it afterwards", "yes: keep it to look at", NULL};

/* Pages: the profile, the bundle, where and how. */
static void drill_setup(struct wiz *w)
{
	w->st = xcalloc(1, sizeof(struct drill_state));
	wiz_add_profile_page(w, "profile", "Which profile's backups do you want to test?");
	wiz_add_page(w, "bundle", WP_CHOICE, "Which bundle?",
		"The bundles with a database, newest first; the newest full one is picked. "
		"The drill verifies it, restores it into a scratch database, checks every "
		"table's row count and content against the dump, runs the profile's "
		"drill.checks, and drops the scratch database. The live database is not touched.");
	struct wiz_page *pg = wiz_add_page(w, "options", WP_FORM, "Where should it be restored?",
		"A scratch database is made on the chosen profile's PostgreSQL: pick a spare "
		"server's profile so the drill does not load production. Kept, it stays until "
		"the next drill drops it.");
	wiz_page_add_option(pg, "server", "Restore on",
		"Left/Right: the profile whose PostgreSQL takes the scratch database.", no_yes);
	wiz_page_add_option(pg, "keep", "Keep it afterwards",
		"Left/Right: drop it when the drill ends, or keep it (how to connect is shown).", no_yes);
}

/* One bundle as a row of the list. */
static void bundle_row(struct wiz_page *pg, const struct bundle_info *b)
{
	struct tm tm;
	gmtime_r(&b->created, &tm);
	char when[32], sz[32], state[64];
	strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	list_check_state(b, state, sizeof state);
	wiz_page_item(pg, b->path, "%-16s  %-9.9s %-8.8s %9s  %-10.10s  %s", when, b->type,
		      b->scope ? b->scope : "?", util_human_bytes(b->size, sz, sizeof sz),
		      b->revision ? b->revision : "unknown", state);
}

/* The bundles of the profile that hold a database; the newest full one picked. */
static void fill_bundles(struct wiz *w, struct wiz_page *pg)
{
	struct bundle_list l;
	struct err e = {0};
	wiz_page_clear_items(pg);
	pg->blocked = false;
	free(pg->header);
	pg->header = xasprintf("%-16s  %-9s %-8s %9s  %-10s  %s", "made (UTC)", "type", "scope", "size",
			       "revision", "checked");
	if (list_bundles(w->p->backup.dir, w->p->name, &l, &e) < 0) {
		wiz_page_text(pg, "The bundles cannot be listed: %s", e.msg);
		pg->blocked = true;
		return;
	}
	bool picked = false;
	for (size_t i = 0; i < l.n; i++) {
		if (!l.v[i].scope || strcmp(l.v[i].scope, "files only") == 0)
			continue;
		if (!picked && strcmp(l.v[i].scope, "full") == 0) {
			pg->sel = pg->nitems;
			picked = true;
		}
		bundle_row(pg, &l.v[i]);
	}
	if (pg->nitems == 0) {
		wiz_page_text(pg, "There is no bundle with a database in %s yet. Make one with \"Backup "
			      "your instance\" first (Esc goes back).", w->p->backup.dir);
		pg->blocked = true;
	} else {
		wiz_page_text(pg, "Bundles of profile %s in %s:", w->p->name, w->p->backup.dir);
	}
	list_done(&l);
}

/* "Restore on": the chosen profile first, then every other one. */
static void fill_servers(struct wiz *w, struct wiz_page *pg)
{
	struct drill_state *st = w->st;
	strv_done(&st->servers);
	strv_push(&st->servers, w->p->name);
	for (size_t i = 0; i < profile_file_count(w->pf); i++)
		if (profile_file_at(w->pf, i) != w->p)
			strv_push(&st->servers, profile_file_at(w->pf, i)->name);
	pg->fields[0].options = (const char *const *)st->servers.v;
	pg->fields[0].option = 0;
	pg->fields[1].option = 0;
	char *db = profile_db_name(w->p);
	wiz_page_text(pg, "The bundle's database (%s) goes into a scratch database <db>_drill_<time>.",
		      db ? db : "?");
	free(db);
}

/* Fill the pages that depend on the profile (answers kept on Back). */
static void drill_enter(struct wiz *w, struct wiz_page *pg)
{
	if (strcmp(pg->id, "bundle") == 0 && wiz_page_refill(pg, w->p->name))
		fill_bundles(w, pg);
	if (strcmp(pg->id, "options") == 0 && wiz_page_refill(pg, w->p->name))
		fill_servers(w, pg);
}

/* The chosen server's profile. */
static const struct profile *server_of(const struct wiz *w)
{
	const struct drill_state *st = w->st;
	const struct wiz_page_field *f = wiz_field(w, "options", "server");
	if (!f || !st->servers.n || f->option <= 0 || (size_t)f->option >= st->servers.n)
		return w->p;
	struct err ignored = {0};
	const struct profile *s = profile_file_get(w->pf, st->servers.v[f->option], &ignored);
	return s ? s : w->p;
}

/* One line: what is about to happen. */
static void drill_about(const struct wiz *w, char *out, size_t n)
{
	const struct wiz_page *bp = wiz_find_page_c(w, "bundle");
	const char *path = w->p ? wiz_choice(w, "bundle") : NULL;
	const char *name = path && strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!name || !bp || w->cur <= (size_t)(bp - w->pages)) {
		snprintf(out, n, "About to test a backup: restore it into a scratch database and check it "
			 "byte for byte.");
		return;
	}
	snprintf(out, n, "About to restore %s on the server of profile %s and check it.", name,
		 server_of(w)->name);
}

/* The options from the answers: the same struct `ferry drill` fills. */
static void drill_options(const struct wiz *w, struct drill_opts *o)
{
	memset(o, 0, sizeof *o);
	const struct wiz_page_field *keep = wiz_field(w, "options", "keep");
	o->bundle = wiz_choice(w, "bundle");
	o->server = server_of(w);
	o->keep = keep && keep->option == 1;
}

/* Worker: the plan (drill_plan, as --dry-run). */
static int drill_plan_hook(struct wiz *w, struct plan *plan, struct err *e)
{
	struct drill_opts o;
	drill_options(w, &o);
	return drill_plan(w->p, &o, plan, e);
}

/* Worker: THE core call, drill_run(). */
static int drill_run_hook(struct wiz *w, struct wiz_job *j, struct err *e)
{
	struct drill_state *st = w->st;
	struct drill_opts o;
	drill_options(w, &o);
	o.events = &j->sink;
	o.cancel = &j->cancel;
	int rc = drill_run(w->p, &o, &st->r, e);
	st->have_r = true;
	return rc;
}

/* Push a formatted result line. */
static void result_line(struct wiz *w, char *line)
{
	strv_push(&w->result, line);
	free(line);
}

/* The final page: the restore time, what was compared, where it is logged. */
static void drill_result_hook(struct wiz *w)
{
	struct drill_state *st = w->st;
	if (!st->have_r)
		return;
	const struct drill_result *r = &st->r;
	char sz[32];
	if (w->rc == 0)
		result_line(w, xasprintf("The bundle restores: %.1f s to restore (verify, load, row counts) on "
					 "the server of profile %s.", r->restore_s, r->server));
	if (r->tables)
		result_line(w, xasprintf("%zu tables, %lld rows; the database is %s.", r->tables,
					 (long long)r->rows, util_human_bytes(r->database_bytes, sz, sizeof sz)));
	if (r->content_checked && w->rc == 0)
		result_line(w, xasprintf("Every table and %zu large objects are byte for byte what the dump "
					 "holds (%s compared, SHA-256).", r->content.nlos,
					 util_human_bytes(r->content.bytes, sz, sizeof sz)));
	else if (r->content_note)
		result_line(w, xasprintf("Content: %s.", r->content_note));
	for (size_t i = 0; i < r->nchecks; i++)
		result_line(w, xasprintf("Check %s: %s (expected %s, got %s).", r->checks[i].name,
					 r->checks[i].ok ? "ok" : "FAILED", r->checks[i].expect,
					 r->checks[i].error ? r->checks[i].error : r->checks[i].got));
	if (r->kept)
		result_line(w, xasprintf("Kept %s: psql \"%s\" (the next drill drops it).", r->scratch,
					 r->connect ? r->connect : ""));
	else if (r->scratch && w->rc == 0)
		result_line(w, xasprintf("The scratch database %s was dropped.", r->scratch));
	result_line(w, xasprintf("Signature: %s.", r->signature));
	if (r->log_path)
		w->written = xasprintf("drill log %s", r->log_path);
	w->next_cmd = xasprintf("ferry status --profile %s   (its drill check shows this drill)", w->p->name);
}

/* Free the result. */
static void drill_free(struct wiz *w)
{
	struct drill_state *st = w->st;
	if (!st)
		return;
	if (st->have_r)
		drill_result_done(&st->r);
	strv_done(&st->servers);
	free(st);
	w->st = NULL;
}

const struct wiz_flow wiz_drill_flow = {
	.name = "drill",
	.title = "Test a backup (drill)",
	.doing = "Testing",
	.setup = drill_setup,
	.enter = drill_enter,
	.about = drill_about,
	.plan = drill_plan_hook,
	.run = drill_run_hook,
	.result = drill_result_hook,
	.free_state = drill_free,
};
