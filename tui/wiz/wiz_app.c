/* wiz_app — the main loop of helper mode: the screen stack (menu, pages,
 * dialogs), the worker's events and questions, signals, and the way out. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "wiz/wiz.h"

#define POLL_MS 100

/* --- screens and dialogs ----------------------------------------------------- */

/* The screen shown now. */
const struct wiz_screen *wiz_app_screen(const struct wiz_app *a)
{
	static const struct wiz_screen *const by_kind[WP_KIND_COUNT] = {
		[WP_INFO] = &wiz_screen_info, [WP_CHOICE] = &wiz_screen_choice,
		[WP_FORM] = &wiz_screen_form, [WP_SUMMARY] = &wiz_screen_summary,
		[WP_RUN] = &wiz_screen_run, [WP_FINAL] = &wiz_screen_final,
	};
	if (!a->w)
		return &wiz_screen_menu;
	return by_kind[a->w->pages[a->w->cur].kind];
}

/* Stop a plan that is still being made (the operator went Back). */
static void drop_plan_job(struct wiz *w)
{
	if (w->job_kind != WJ_PLAN)
		return;
	wiz_job_cancel(&w->job);
	wiz_job_join(&w->job);
	w->job_kind = WJ_NONE;
}

/* The page changed: set up its screen. */
void wiz_app_page_changed(struct wiz_app *a)
{
	struct wiz *w = a->w;
	if (w->pages[w->cur].kind != WP_SUMMARY)
		drop_plan_job(w);
	a->shown = w->cur;
	wiz_app_screen(a)->init(a);
}

/* Open a dialog over the screen. */
struct wiz_dialog *wiz_app_dialog(struct wiz_app *a, enum wiz_dlg_kind kind, int purpose, const char *title)
{
	wiz_dialog_open(&a->dlg, kind, purpose, title);
	a->dlg_open = true;
	return &a->dlg;
}

/* Help: the page's text, then every key of the screen's table. */
void wiz_app_help(struct wiz_app *a, const char *title, const char *text)
{
	size_t n;
	const struct ui_binding *k = wiz_app_screen(a)->keys(a, &n);
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
	else
		wiz_screen_menu.init(a);
}

/* Open a wizard. */
void wiz_app_open(struct wiz_app *a, const struct wiz_flow *flow)
{
	a->w = wiz_new(flow, a->profiles_path, a->profile_name);
	wiz_app_page_changed(a);
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
	wiz_events_free(ev, n);
}

/* A question from the flow becomes a dialog. */
static void open_question(struct wiz_app *a)
{
	enum wiz_ask_kind kind;
	char *qa = NULL, *qb = NULL;
	if (a->dlg_open || !wiz_job_question(&a->w->job, &kind, &qa, &qb))
		return;
	if (kind == WIZ_ASK_HOSTKEY) {
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

/* --- the loop ------------------------------------------------------------------ */

/* Draw the screen and, over it, the dialog. */
static void draw(const struct wiz_app *a)
{
	ui_clear(&a->ui);
	if (a->ui.rows < 10 || a->ui.cols < 40) {
		char msg[96];
		snprintf(msg, sizeof msg, "ferry needs at least 40x10 (now %dx%d)", a->ui.cols, a->ui.rows);
		ui_wrap(&a->ui, 0, 0, a->ui.cols, a->ui.rows, US_ERROR, msg);
	} else {
		wiz_app_screen(a)->draw(a);
		if (a->dlg_open)
			wiz_draw_dialog(a, &a->dlg);
	}
	ui_flush(&a->ui);
}

/* A key to the dialog, or to the screen through its key table. */
static void dispatch(struct wiz_app *a, int key)
{
	if (a->dlg_open) {
		int r = wiz_dialog_key(&a->dlg, key);
		if (r != WD_OPEN)
			dialog_closed(a, r);
		return;
	}
	const struct wiz_screen *s = wiz_app_screen(a);
	size_t n;
	const struct ui_binding *t = s->keys(a, &n);
	s->key(a, ui_binding_action(t, n, key), key);
}

/* The exit code of what happened: the direct wizard's run, else 0. */
static int outcome_code(const struct wiz_app *a)
{
	if (!a->direct || !a->w)
		return a->exit_code;
	if (!a->w->ran)
		return err_exit_code(ERR_REFUSED);
	return a->w->rc == 0 ? 0 : err_exit_code(a->w->err.kind);
}

/* A signal, or the end of a key script: cancel the work, wait for it, quit
 * with exit_code (-1: the outcome's). */
static void stop(struct wiz_app *a, int exit_code)
{
	if (a->w && a->w->job.live) {
		wiz_job_cancel(&a->w->job);
		job_ended(a);
	}
	a->exit_code = exit_code >= 0 ? exit_code : outcome_code(a);
	a->quit = true;
}

/* Run until the operator quits. */
static void loop(struct wiz_app *a)
{
	while (!a->quit) {
		wiz_app_poll(a);
		if (*a->signalled) {
			stop(a, err_exit_code(ERR_INTERRUPTED));
			break;
		}
		if (a->w && a->shown != a->w->cur)
			wiz_app_page_changed(a);
		a->spin = (unsigned)(ui_now() * 10);
		draw(a);
		int k = ui_input(&a->ui, POLL_MS);
		if (k == UIK_NONE)
			continue;
		if (k == UIK_RESIZE)
			ui_resized(&a->ui);
		else if (k == UIK_EOF)
			stop(a, -1);
		else if (k == UIK_ABORT)
			stop(a, 1);
		else
			dispatch(a, k);
	}
}

/* Whether `ferry` alone opens the menu. */
bool wiz_helper_wanted(const struct cli *c)
{
	const char *keys = getenv("FERRY_KEYS");
	return (c->stdin_tty && c->stdout_tty) || (keys && *keys);
}

/* The key script from --keys or FERRY_KEYS, if any. */
static int load_script(const char *keys_path, struct ui_script *s, bool *have, struct err *e)
{
	const char *env = getenv("FERRY_KEYS");
	const char *path = keys_path ? keys_path : env && *env ? env : NULL;
	char why[512];
	*have = path != NULL;
	if (path && ui_script_load(s, path, why, sizeof why) < 0)
		return err_set(e, ERR_USAGE, "%s", why);
	return 0;
}

/* After curses: a failed key script says why and shows the last screen. */
static void report_script_failure(const struct wiz_app *a, const char *screen)
{
	if (!a->ui.fail[0])
		return;
	fprintf(stderr, "ferry: key script: %s\n", a->ui.fail);
	if (screen)
		fprintf(stderr, "--- the screen then ---\n%s---\n", screen);
}

/* The screen as text (for a failure report); caller frees. */
static char *screen_text(const struct wiz_app *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	ui_dump(&a->ui, f);
	fclose(f);
	return buf;
}

/* Open the menu (flow NULL) or one wizard, until the operator leaves. */
int wiz_app_run(struct cli *c, const struct wiz_flow *flow, const char *keys_path, struct err *e)
{
	struct ui_script script;
	bool have_script;
	memset(&script, 0, sizeof script);
	if (load_script(keys_path, &script, &have_script, e) < 0)
		return -1;
	struct wiz_app a;
	memset(&a, 0, sizeof a);
	a.profiles_path = c->profiles_path;
	a.profile_name = c->profile_name;
	a.direct = flow;
	a.signalled = cli_cancel_flag();
	char why[512];
	if (ui_start(&a.ui, have_script ? &script : NULL, why, sizeof why) < 0) {
		ui_stop(&a.ui);
		ui_script_done(&script);
		err_set(e, ERR_USAGE, "%s", why);
		return err_hint(e, "the same is done by the commands: `ferry --help` lists them");
	}
	if (flow)
		wiz_app_open(&a, flow);
	else
		wiz_screen_menu.init(&a);
	loop(&a);
	char *screen = a.ui.fail[0] ? screen_text(&a) : NULL;
	wiz_free(a.w);
	wiz_dialog_done(&a.dlg);
	ui_stop(&a.ui);
	report_script_failure(&a, screen);
	free(screen);
	ui_script_done(&script);
	return a.exit_code;
}
