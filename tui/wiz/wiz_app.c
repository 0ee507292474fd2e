/* wiz_app — helper mode's services for its screens: opening and closing
 * a wizard, Next and Back, dialogs and their answers, the worker's events
 * and questions, stopping. */
#include <stdlib.h>
#include <string.h>

#include "wiz/wiz_app.h"
#include "wiz/wiz_log.h"
#include "wiz/wiz_save.h"

/* --- wizards and pages --------------------------------------------------------- */

/* Stop a plan that is still being made (the operator went Back). */
static void drop_plan_job(struct wiz *w)
{
	if (w->job_kind != WJ_PLAN)
		return;
	wiz_job_cancel(&w->job);
	wiz_job_join(&w->job);
	w->job_kind = WJ_NONE;
}

/* Another page is shown: only the summary keeps its plan being made. */
void wiz_app_entered_page(struct wiz_app *a)
{
	struct wiz *w = a->w;
	if (w && w->pages[w->cur].kind != WP_SUMMARY)
		drop_plan_job(w);
}

/* Forget the wizard: back to the menu, or quit when it was opened directly. */
void wiz_app_close_wizard(struct wiz_app *a)
{
	struct wiz *w = a->w;
	if (!w)
		return;
	if (w->job.live) {
		wiz_job_cancel(&w->job);
		wiz_job_join(&w->job);
	}
	if (a->direct)
		a->exit_code = w->ran ? w->exit_code : err_exit_code(ERR_REFUSED);
	wiz_free(w);
	a->w = NULL;
	a->dlg_open = false;
	if (a->direct)
		a->quit = true;
}

/* Open a wizard; the loop sets up its first page's screen. */
void wiz_app_open(struct wiz_app *a, const struct wiz_flow *flow)
{
	a->w = wiz_new(flow, a->profiles_path, a->profile_name);
	a->opened++;
}

/* Next: validate and move on (the loop sets up the new page's screen). */
void wiz_app_next(struct wiz_app *a)
{
	wiz_next(a->w);
}

/* Back: the page before, or out of the wizard from its first page. */
void wiz_app_back(struct wiz_app *a)
{
	if (!wiz_back(a->w))
		wiz_app_close_wizard(a);
}

/* --- dialogs -------------------------------------------------------------------- */

/* Open a dialog over the screen. */
struct wiz_dialog *wiz_app_dialog(struct wiz_app *a, enum wiz_dialog_kind kind, int purpose, const char *title)
{
	wiz_dialog_open(&a->dlg, kind, purpose, title);
	a->dlg_open = true;
	return &a->dlg;
}

/* Help: the page's text, then every key of the screen's table. */
void wiz_app_help(struct wiz_app *a, const char *title, const char *text)
{
	size_t n = 0;
	const struct ui_binding *k = a->screen ? a->screen->keys(a, &n) : NULL;
	struct wiz_dialog *d = wiz_app_dialog(a, WD_HELP, DP_HELP, title && *title ? title : "Help");
	if (text && *text) {
		wiz_dialog_line(d, "%s", text);
		wiz_dialog_line(d, "%s", "");
	}
	wiz_dialog_line(d, "Keys:");
	for (size_t i = 0; i < n; i++)
		if (k[i].label)
			wiz_dialog_line(d, "  %-12s %s", k[i].label, k[i].help);
}

/* C-c on a question page: leave? */
void wiz_app_ask_leave(struct wiz_app *a)
{
	struct wiz_dialog *d = wiz_app_dialog(a, WD_CONFIRM, DP_LEAVE, "Leave the wizard?");
	wiz_dialog_line(d, "Nothing has been changed. Leave the %s wizard?", a->w->flow->name);
	d->buttons[0] = "Leave";
	d->buttons[1] = "Stay";
}

/* Esc or C-c where leaving ends ferry: ask first. */
void wiz_app_ask_quit(struct wiz_app *a)
{
	struct wiz_dialog *d = wiz_app_dialog(a, WD_CONFIRM, DP_QUIT, "Leave ferry?");
	wiz_dialog_line(d, "Leave ferry? y/n");
	wiz_dialog_line(d, "Nothing is running; q on the menu leaves without asking.");
	d->buttons[0] = "Leave";
	d->buttons[1] = "Stay";
}

/* --- the worker ---------------------------------------------------------------- */

/* Worker: the flow's plan. */
static int plan_job(struct wiz_job *j, void *ud, struct err *e)
{
	(void)j;
	struct wiz *w = ud;
	return w->flow->plan(w, &w->plan, e);
}

/* Worker: the flow's run (the core call). */
static int run_job(struct wiz_job *j, void *ud, struct err *e)
{
	struct wiz *w = ud;
	return w->flow->run(w, j, e);
}

/* Start making the plan for the summary. */
void wiz_app_start_plan(struct wiz_app *a)
{
	struct wiz *w = a->w;
	wiz_job_join(&w->job);
	if (w->have_plan)
		plan_done(&w->plan);
	w->have_plan = false;
	memset(&w->plan, 0, sizeof w->plan);
	err_clear(&w->plan_err);
	w->job_kind = WJ_PLAN;
	if (wiz_job_start(&w->job, plan_job, w) < 0) {
		w->job_kind = WJ_NONE;
		err_set(&w->plan_err, ERR_FAILED, "cannot start a thread to make the plan");
	}
}

/* Start the run: checklist from the plan, log file, worker. */
void wiz_app_start_run(struct wiz_app *a)
{
	struct wiz *w = a->w;
	wiz_job_join(&w->job);
	wiz_runview_done(&w->rv);
	wiz_runview_init(&w->rv, w->have_plan ? &w->plan : NULL, ui_now());
	wiz_log_open(w);
	w->job_kind = WJ_RUN;
	if (wiz_job_start(&w->job, run_job, w) < 0) {
		w->job_kind = WJ_NONE;
		w->ran = true;
		w->rc = err_set(&w->err, ERR_FAILED, "cannot start a thread for the run");
		wiz_runview_finish(&w->rv, false, ui_now());
	}
}

/* Apply the queued events to the run view and the log file. */
static void drain_events(struct wiz *w)
{
	struct event *ev;
	size_t n = wiz_job_take(&w->job, &ev);
	double now = ui_now();
	for (size_t i = 0; i < n; i++) {
		if (w->job_kind != WJ_RUN)
			continue;
		wiz_runview_apply(&w->rv, &ev[i], now);
		wiz_log_event(w, &ev[i]);
	}
	wiz_job_events_free(ev, n);
}

/* A question from the flow becomes a dialog. */
static void open_question(struct wiz_app *a)
{
	enum wiz_job_ask kind;
	char *qa = NULL, *qb = NULL;
	if (a->dlg_open || !wiz_job_question(&a->w->job, &kind, &qa, &qb))
		return;
	if (kind == WIZ_JOB_ASK_HOSTKEY) {
		a->dlg_open = true;
		wiz_dialog_hostkey(&a->dlg, DP_HOSTKEY, qa, qb);
	} else {
		struct wiz_dialog *d = wiz_app_dialog(a, WD_TYPE, DP_WORD, "Confirm before anything changes");
		char *save = NULL;
		for (char *line = strtok_r(qa, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			wiz_dialog_line(d, "%s", line);
		snprintf(d->prompt, sizeof d->prompt, "Type %.200s to go on (Esc stops; nothing has changed yet):", qb);
		snprintf(d->expect, sizeof d->expect, "%s", qb);
	}
	free(qa);
	free(qb);
}

/* The worker ended: keep its result. */
static void job_ended(struct wiz_app *a)
{
	struct wiz *w = a->w;
	drain_events(w);
	wiz_job_join(&w->job);
	if (w->job_kind == WJ_PLAN) {
		w->note[0] = '\0';
		w->have_plan = w->job.rc == 0;
		if (!w->have_plan)
			w->plan_err = w->job.err;
	} else if (w->job_kind == WJ_RUN) {
		w->ran = true;
		w->rc = w->job.rc;
		w->err = w->job.err;
		w->rv.waited = w->job.asked_s;
		wiz_runview_finish(&w->rv, w->rc == 0, ui_now());
	}
	w->job_kind = WJ_NONE;
	if (a->dlg_open && (a->dlg.purpose == DP_WORD || a->dlg.purpose == DP_HOSTKEY ||
			    a->dlg.purpose == DP_CANCEL_RUN))
		a->dlg_open = false;
}

/* Every tick: events, questions, the end of the work. */
void wiz_app_poll(struct wiz_app *a)
{
	struct wiz *w = a->w;
	if (!w || !w->job.live)
		return;
	drain_events(w);
	open_question(a);
	if (wiz_job_finished(&w->job))
		job_ended(a);
}

/* --- dialogs' answers ---------------------------------------------------------- */

/* Save the answers as a new profile; the outcome shows on the summary. */
static void save_profile(struct wiz_app *a, const char *name)
{
	struct wiz *w = a->w;
	wiz_save_profile(w, name, w->note, sizeof w->note);
}

/* A dialog closed with result r. */
static void dialog_closed(struct wiz_app *a, int r)
{
	struct wiz_dialog *d = &a->dlg;
	a->dlg_open = false;
	switch (d->purpose) {
	case DP_LEAVE:
		if (r == WD_YES)
			wiz_app_close_wizard(a);
		break;
	case DP_QUIT:
		if (r == WD_YES) {
			if (a->w)
				wiz_app_close_wizard(a);
			a->quit = true;
		}
		break;
	case DP_CANCEL_RUN:
		if (r == WD_YES && a->w) {
			wiz_job_cancel(&a->w->job);
			wiz_runview_log(&a->w->rv, "cancelling: stopping at the next safe point...");
		}
		break;
	case DP_WORD:
	case DP_HOSTKEY:
		if (a->w)
			wiz_job_answer(&a->w->job, r == WD_YES);
		break;
	case DP_SAVE:
		if (r == WD_YES && a->w)
			save_profile(a, d->input.text);
		break;
	default:
		break;
	}
	wiz_dialog_done(d);
}

/* A key for the open dialog; when it closes, act on its answer. */
void wiz_app_dialog_key(struct wiz_app *a, int key)
{
	int r = wiz_dialog_key(&a->dlg, key);
	if (r != WD_OPEN)
		dialog_closed(a, r);
}

/* --- stopping ------------------------------------------------------------------ */

/* The exit code of what happened: the direct wizard's run, else 0. */
static int outcome_code(const struct wiz_app *a)
{
	if (!a->direct || !a->w)
		return a->exit_code;
	if (!a->w->ran)
		return err_exit_code(ERR_REFUSED);
	return a->w->rc == 0 ? 0 : err_exit_code(a->w->err.kind);
}

/* Cancel the work, wait for it, quit with exit_code (-1: the outcome's). */
void wiz_app_stop(struct wiz_app *a, int exit_code)
{
	if (a->w && a->w->job.live) {
		wiz_job_cancel(&a->w->job);
		job_ended(a);
	}
	a->exit_code = exit_code >= 0 ? exit_code : outcome_code(a);
	a->quit = true;
}
