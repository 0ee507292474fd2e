/* wiz — a wizard's pages and answers: building them, Next and Back with
 * validation, the profile question. No curses here. */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wiz/wiz.h"
#include "wiz/wiz_log.h"

/* --- building ---------------------------------------------------------------- */

/* Load the profiles file; a failure is kept in load_err. */
static void load_profiles(struct wiz *w, const char *path)
{
	w->profiles_path = profile_locate(path, &w->load_err);
	if (!w->profiles_path)
		return;
	w->pf = profile_file_load(w->profiles_path, &w->load_err);
	if (w->pf && profile_file_count(w->pf) == 0)
		err_set(&w->load_err, ERR_PROFILE, "%s has no profiles", w->profiles_path);
	if (!w->pf || w->load_err.kind != ERR_OK)
		return;
	err_clear(&w->load_err);
}

/* The page that says why the wizard cannot go on (profiles failed). */
static void add_problem_page(struct wiz *w)
{
	struct wiz_page *pg = wiz_add_page(w, "problem", WP_INFO, "ferry cannot start this yet",
		"The profiles file tells ferry where the database, the app files and the "
		"backups are. Fix the problem shown, then open the wizard again.");
	wiz_page_text(pg, "%s", w->load_err.msg);
	if (w->load_err.hint[0])
		wiz_page_text(pg, "%s\nhint: %s", pg->text, w->load_err.hint);
	pg->blocked = true;
}

/* A new wizard over flow. */
struct wiz *wiz_new(const struct wiz_flow *flow, const char *profiles_path, const char *profile_name)
{
	struct wiz *w = xcalloc(1, sizeof *w);
	w->flow = flow;
	w->want_profile = xstrdup(profile_name);
	if (flow->no_profiles)
		w->profiles_path = xstrdup(profiles_path);
	else
		load_profiles(w, profiles_path);
	if (w->load_err.kind != ERR_OK) {
		add_problem_page(w);
		return w;
	}
	flow->setup(w);
	if (!flow->no_summary)
		wiz_add_page(w, "summary", WP_SUMMARY, "Summary: this is what will happen",
			"The plan comes from ferry's core, the same plan `--dry-run` prints. "
			"Nothing has been changed yet. Start runs it; Save as profile keeps these "
			"answers as a new profile so the next run asks nothing.");
	wiz_add_page(w, "run", WP_RUN, flow->doing,
		"Each step gets a mark when it ends: done, failed or skipped. C-c asks "
		"whether to cancel; a cancelled run removes its partial files.");
	wiz_add_page(w, "final", WP_FINAL, "Result", "What happened, where it was written, and what to run next.");
	struct wiz_page *first = &w->pages[0];
	if (flow->enter)
		flow->enter(w, first);
	if (first->skip)
		wiz_next(w);
	return w;
}

/* Free the wizard (the worker must have been joined). */
void wiz_free(struct wiz *w)
{
	if (!w)
		return;
	wiz_job_join(&w->job);
	if (w->flow->free_state)
		w->flow->free_state(w);
	for (size_t i = 0; i < w->npages; i++)
		wiz_page_done(&w->pages[i]);
	if (w->have_plan)
		plan_done(&w->plan);
	wiz_runview_done(&w->rv);
	wiz_log_close(w);
	free(w->log_path);
	strv_done(&w->result);
	free(w->written);
	free(w->next_cmd);
	profile_file_free(w->pf);
	free(w->profiles_path);
	free(w->want_profile);
	free(w);
}

/* Add a page. */
struct wiz_page *wiz_add_page(struct wiz *w, const char *id, enum wiz_page_kind kind,
			      const char *title, const char *help)
{
	if (w->npages == WIZ_MAX_PAGES)
		abort();
	struct wiz_page *pg = &w->pages[w->npages++];
	memset(pg, 0, sizeof *pg);
	pg->id = id;
	pg->kind = kind;
	pg->title = title;
	pg->help = help;
	return pg;
}

/* --- answers ----------------------------------------------------------------------- */

/* The page with this id. */
struct wiz_page *wiz_find_page(struct wiz *w, const char *id)
{
	for (size_t i = 0; i < w->npages; i++)
		if (strcmp(w->pages[i].id, id) == 0)
			return &w->pages[i];
	return NULL;
}

/* The page with this id, read-only. */
const struct wiz_page *wiz_find_page_c(const struct wiz *w, const char *id)
{
	for (size_t i = 0; i < w->npages; i++)
		if (strcmp(w->pages[i].id, id) == 0)
			return &w->pages[i];
	return NULL;
}

/* A field of a page. */
const struct wiz_page_field *wiz_field(const struct wiz *w, const char *page, const char *field)
{
	const struct wiz_page *pg = wiz_find_page_c(w, page);
	for (size_t i = 0; pg && i < pg->nfields; i++)
		if (strcmp(pg->fields[i].id, field) == 0)
			return &pg->fields[i];
	return NULL;
}

/* The value of a choice page's picked item. */
const char *wiz_choice(const struct wiz *w, const char *page)
{
	const struct wiz_page *pg = wiz_find_page_c(w, page);
	return pg && pg->sel < pg->nitems ? pg->items[pg->sel].value : NULL;
}

/* A field's answer as text. */
const char *wiz_answer(const struct wiz *w, const char *page, const char *field)
{
	const struct wiz_page_field *f = wiz_field(w, page, field);
	if (!f)
		return NULL;
	return f->kind == WF_OPTION ? f->options[f->option] : f->line.text;
}

/* --- navigation -------------------------------------------------------------------- */

/* Check one field. */
int wiz_field_check(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n)
{
	why[0] = '\0';
	if (!f->check)
		return 0;
	return f->check(w, f, why, n) < 0 ? -1 : 0;
}

/* Leaving the profile question sets the profile the flows work on. */
static int take_profile(struct wiz *w, const struct wiz_page *pg, char *why, size_t n)
{
	if (strcmp(pg->id, "profile") != 0)
		return 0;
	struct err e = {0};
	const char *name = wiz_choice(w, "profile");
	w->p = name ? profile_file_get(w->pf, name, &e) : NULL;
	if (!w->p)
		return snprintf(why, n, "%.250s", e.msg[0] ? e.msg : "pick a profile"), -1;
	return 0;
}

/* Check every field of the page, then the flow's leave hook. */
static int page_valid(struct wiz *w, struct wiz_page *pg)
{
	char why[256] = "";
	pg->error[0] = '\0';
	if (pg->blocked)
		return -1;
	if (pg->kind == WP_CHOICE && pg->nitems == 0)
		return -1;
	for (size_t i = 0; i < pg->nfields; i++) {
		if (wiz_field_check(w, &pg->fields[i], why, sizeof why) < 0) {
			pg->focus = i;
			snprintf(pg->error, sizeof pg->error, "%s: %s", pg->fields[i].label, why);
			return -1;
		}
	}
	if (take_profile(w, pg, why, sizeof why) < 0 ||
	    (w->flow->leave && w->flow->leave(w, pg, why, sizeof why) < 0)) {
		snprintf(pg->error, sizeof pg->error, "%s", why);
		return -1;
	}
	return 0;
}

/* A skipped page still hands its (default) answer on. */
static void leave_skipped(struct wiz *w, struct wiz_page *pg)
{
	char why[256];
	take_profile(w, pg, why, sizeof why);
	if (w->flow->leave)
		w->flow->leave(w, pg, why, sizeof why);
}

/* Go to the next page that is not skipped; false when the page does not
 * validate or there is no next page. */
bool wiz_next(struct wiz *w)
{
	struct wiz_page *pg = &w->pages[w->cur];
	bool shown = !pg->skip;
	if (shown && page_valid(w, pg) < 0)
		return false;
	if (!shown)
		leave_skipped(w, pg);
	for (size_t i = w->cur + 1; i < w->npages; i++) {
		struct wiz_page *nx = &w->pages[i];
		nx->error[0] = '\0';
		if (w->flow->enter)
			w->flow->enter(w, nx);
		if (!nx->skip) {
			if (shown && w->nhist < WIZ_MAX_PAGES)
				w->hist[w->nhist++] = w->cur;
			w->cur = i;
			return true;
		}
		leave_skipped(w, nx);
	}
	return false;
}

/* Back to the page shown before this one. */
bool wiz_back(struct wiz *w)
{
	if (w->nhist == 0)
		return false;
	w->cur = w->hist[--w->nhist];
	w->pages[w->cur].error[0] = '\0';
	return true;
}

/* The page shown now. */
struct wiz_page *wiz_current(struct wiz *w)
{
	return &w->pages[w->cur];
}

/* Position of the current page among those shown. */
void wiz_position(const struct wiz *w, size_t *at, size_t *of)
{
	*at = *of = 0;
	for (size_t i = 0; i < w->npages; i++) {
		if (w->pages[i].skip || w->pages[i].kind == WP_RUN || w->pages[i].kind == WP_FINAL)
			continue;
		(*of)++;
		if (i <= w->cur)
			*at = *of;
	}
}

/* --- the profile question -------------------------------------------------------- */

/* A profile's row for the list: name, database, description. */
static void profile_row(struct wiz_page *pg, const struct profile *p)
{
	char *url = p->database.url ? profile_redact_url(p->database.url) : NULL;
	wiz_page_item(pg, p->name, "%-14s %-44s %s", p->name, url ? url : "(no database)",
		      p->description ? p->description : "");
	free(url);
}

/* Add the "Which profile?" page; the flow's enter hook calls
 * wiz_fill_profiles for it. */
struct wiz_page *wiz_add_profile_page(struct wiz *w, const char *id, const char *title)
{
	struct wiz_page *pg = wiz_add_page(w, id, WP_CHOICE, title,
		"A profile names one environment: its database, app files, backup "
		"directory and, for another server, how to reach it over SSH. The list "
		"comes from the profiles file shown above.");
	wiz_page_text(pg, "Profiles in %s:", w->profiles_path);
	for (size_t i = 0; i < profile_file_count(w->pf); i++) {
		const struct profile *p = profile_file_at(w->pf, i);
		profile_row(pg, p);
		const char *env = getenv("FERRY_PROFILE");
		if ((w->want_profile && strcmp(p->name, w->want_profile) == 0) ||
		    (!w->want_profile && env && strcmp(p->name, env) == 0))
			pg->sel = i;
	}
	bool found = w->want_profile && strcmp(pg->items[pg->sel].value, w->want_profile) == 0;
	pg->skip = pg->nitems == 1 || found;
	if (w->want_profile && !found)
		snprintf(pg->error, sizeof pg->error, "no profile \"%s\" in %s: pick one", w->want_profile,
			 w->profiles_path);
	return pg;
}

