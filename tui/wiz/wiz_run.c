/* wiz_run — the run page: the checklist of steps, the progress bar and
 * the log pane while the flow runs in the worker. */
#include <stdlib.h>
#include <string.h>

#include "wiz/wiz_app.h"
#include "wiz/wiz_draw.h"
#include "wiz/wiz_run.h"

enum { R_CANCEL = 1, R_UP, R_DOWN, R_PGUP, R_PGDN, R_END, R_HELP, R_RESULT };

#define KEYS(t) (*n = sizeof t / sizeof t[0], t)

static const struct ui_binding keys_running[] = {
	{UIK_CTRL('c'), R_CANCEL, "C-c", "Cancel", true},
	{UIK_PGUP, R_PGUP, "PgUp/PgDn", "Scroll log", true},
	{UIK_PGDN, R_PGDN, NULL, "scroll the log down", false},
	{UIK_UP, R_UP, "Up/Down", "scroll the log a line", false},
	{UIK_DOWN, R_DOWN, NULL, "scroll the log down a line", false},
	{UIK_END, R_END, "End", "the newest log lines", false},
	{UIK_F(1), R_HELP, "F1", "Help", true},
	{'?', R_HELP, "?", "help on this page", false},
};

static const struct ui_binding keys_finished[] = {
	{UIK_ENTER, R_RESULT, "Enter", "Result", true},
	{UIK_ESC, R_RESULT, "Esc", "the result", false},
	{UIK_PGUP, R_PGUP, "PgUp/PgDn", "Scroll log", true},
	{UIK_PGDN, R_PGDN, NULL, "scroll the log down", false},
	{UIK_UP, R_UP, "Up/Down", "scroll the log a line", false},
	{UIK_DOWN, R_DOWN, NULL, "scroll the log down a line", false},
	{UIK_END, R_END, "End", "the newest log lines", false},
	{UIK_F(1), R_HELP, "F1", "Help", true},
	{'?', R_HELP, "?", "help on this page", false},
};

/* --- run page ------------------------------------------------------------------ */

/* Running or finished: the keys differ. */
static const struct ui_binding *run_keys(const struct wiz_app *a, size_t *n)
{
	if (a->w->rv.finished)
		return KEYS(keys_finished);
	return KEYS(keys_running);
}

/* Start the flow in the worker. */
static void run_init(struct wiz_app *a)
{
	wiz_app_start_run(a);
}

/* A step's mark and its style (buf holds the spinner frame). */
static const char *step_mark(const struct wiz_app *a, const struct wiz_runview_step *s, enum ui_style *st,
			     char *spin, size_t len)
{
	const struct ui_glyphs *g = a->ui.g;
	switch (s->st) {
	case WS_DONE: *st = US_OK; return g->done;
	case WS_FAILED: *st = US_FAIL; return g->fail;
	case WS_SKIPPED: *st = US_WARN; return g->skip;
	case WS_RUNNING:
		*st = US_HEADER;
		snprintf(spin, len, "[%s]", g->spin[a->spin % g->nspin]);
		return spin;
	default: *st = US_DIM; return g->pending;
	}
}

/* The first step to show so that the running one is in view. */
static size_t steps_top(const struct wiz_runview *rv, int rows)
{
	size_t focus = 0;
	for (size_t i = 0; i < rv->nsteps; i++)
		if (rv->steps[i].st != WS_PENDING)
			focus = i;
	return focus >= (size_t)rows ? focus - (size_t)rows + 1 : 0;
}

/* One checklist row: mark, title, note, seconds. */
static void draw_step(const struct wiz_app *a, int y, const struct wiz_runview_step *s, double now)
{
	const struct ui *ui = &a->ui;
	enum ui_style st;
	char spin[16];
	const char *mark = step_mark(a, s, &st, spin, sizeof spin);
	ui_put(ui, y, 2, 5, st, mark);
	char text[600];
	snprintf(text, sizeof text, "%s%s%s", s->title, s->note ? ": " : "", s->note ? s->note : "");
	int tw = ui->cols - 18;
	ui_put(ui, y, 6, tw, s->st == WS_PENDING ? US_DIM : s->st == WS_FAILED ? US_FAIL : US_NORMAL, text);
	if (s->st != WS_PENDING) {
		double t = (s->t1 > 0 ? s->t1 : now) - s->t0;
		if (s->t0 > 0 && t >= 0)
			ui_putf(ui, y, ui->cols - 10, 9, US_DIM, "%7.1f s", t);
	}
}

/* The progress bar with bytes, rate and ETA. */
static void draw_progress(const struct wiz_app *a, int y, double now)
{
	const struct ui *ui = &a->ui;
	const struct wiz_runview *rv = &a->w->rv;
	if (!rv->pstep)
		return;
	int pct = wiz_runview_pct(rv);
	int bw = 24, x = 6;
	ui_put(ui, y, 2, 4, US_DIM, "   ");
	for (int i = 0; i < bw; i++)
		ui_put(ui, y, x + i, 1, pct >= 0 && i < pct * bw / 100 ? US_OK : US_DIM,
		       pct >= 0 && i < pct * bw / 100 ? ui->g->bar_full : ui->g->bar_empty);
	char text[200];
	wiz_runview_progress_text(rv, now, text, sizeof text);
	if (pct >= 0)
		ui_putf(ui, y, x + bw + 1, ui->cols - x - bw - 2, US_NORMAL, "%3d%%  %s", pct, text);
	else
		ui_put(ui, y, x + bw + 1, ui->cols - x - bw - 2, US_NORMAL, text);
}

/* The log pane: a frame with the newest lines (or those scrolled back to). */
static void draw_log(const struct wiz_app *a, int y, int h)
{
	const struct ui *ui = &a->ui;
	const struct wiz_runview *rv = &a->w->rv;
	if (h < 3)
		return;
	char title[64];
	snprintf(title, sizeof title, rv->scroll ? "Log (scrolled back %zu)" : "Log", rv->scroll);
	ui_frame(ui, y, 1, h, ui->cols - 2, title);
	int inner = h - 2;
	size_t end = rv->nlog > rv->scroll ? rv->nlog - rv->scroll : 0;
	size_t start = end > (size_t)inner ? end - (size_t)inner : 0;
	for (size_t i = start; i < end; i++)
		ui_put(ui, y + 1 + (int)(i - start), 3, ui->cols - 6, US_NORMAL, rv->log[i]);
}

/* "Failed: why  Enter: see the result." (a long why is cut, not the key). */
static void draw_failed_status(const struct wiz_app *a, int y)
{
	const struct ui *ui = &a->ui;
	static const char next[] = "  Enter: see the result.";
	int nw = (int)strlen(next);
	int used = ui_putf(ui, y, 2, ui->cols - 4 - nw, US_FAIL, "Failed: %s", a->w->err.msg);
	ui_put(ui, y, 2 + used, nw, US_FAIL, next);
}

/* The status line above the key-help line. */
static void draw_run_status(const struct wiz_app *a, double now)
{
	const struct ui *ui = &a->ui;
	const struct wiz *w = a->w;
	const struct wiz_runview *rv = &w->rv;
	int y = ui->rows - 2;
	double t = wiz_runview_seconds(rv, now);
	if (!rv->finished)
		ui_putf(ui, y, 2, ui->cols - 4, US_NORMAL, "Running, %.0f s. C-c asks whether to cancel.", t);
	else if (w->rc == 0)
		ui_putf(ui, y, 2, ui->cols - 4, US_OK, "Finished in %.1f s%s. Enter: see the result.", t,
			rv->waited >= 0.05 ? " (not counting the confirmation)" : "");
	else if (w->err.kind == ERR_INTERRUPTED)
		ui_put(ui, y, 2, ui->cols - 4, US_WARN, "Cancelled; partial files removed. Enter: see the result.");
	else
		draw_failed_status(a, y);
}

/* Checklist, progress, log pane and status. */
static void run_draw(const struct wiz_app *a)
{
	const struct ui *ui = &a->ui;
	const struct wiz_runview *rv = &a->w->rv;
	double now = ui_now();
	size_t n;
	const struct ui_binding *k = run_keys(a, &n);
	int y = wiz_draw_chrome(a, k, n) - 1;
	int avail = ui->rows - 3 - y;
	/* The checklist comes first: the log keeps a frame with 3 lines and the
	 * progress line, the steps take the rest (status has 9+ checks). */
	int max_steps = avail - 6 > avail / 2 ? avail - 6 : avail / 2;
	int step_rows = (int)rv->nsteps;
	if (step_rows > max_steps)
		step_rows = max_steps > 1 ? max_steps : 1;
	size_t top = steps_top(rv, step_rows);
	for (size_t i = top; i < rv->nsteps && (int)(i - top) < step_rows; i++)
		draw_step(a, y + (int)(i - top), &rv->steps[i], now);
	y += step_rows;
	draw_progress(a, y++, now);
	draw_log(a, y, ui->rows - 2 - y);
	draw_run_status(a, now);
}

/* Scroll the log pane by delta lines (positive = back in time). */
static void log_scroll(struct wiz_runview *rv, long delta)
{
	long s = (long)rv->scroll + delta;
	long max = rv->nlog > 0 ? (long)rv->nlog - 1 : 0;
	rv->scroll = (size_t)(s < 0 ? 0 : s > max ? max : s);
}

/* Keys of the run page. */
static void run_key(struct wiz_app *a, int act, int key)
{
	(void)key;
	struct wiz *w = a->w;
	long page = a->ui.rows / 3;
	switch (act) {
	case R_CANCEL: {
		struct wiz_dialog *d = wiz_app_dialog(a, WD_CONFIRM, DP_CANCEL_RUN, "Cancel?");
		wiz_dialog_line(d, "Stop %s now?", w->flow->doing);
		wiz_dialog_line(d, "ferry stops at the next safe point and removes its partial");
		wiz_dialog_line(d, "files; what was there before stays as it was.");
		d->buttons[0] = "Cancel the run";
		d->buttons[1] = "Keep going";
		return;
	}
	case R_UP: log_scroll(&w->rv, 1); return;
	case R_DOWN: log_scroll(&w->rv, -1); return;
	case R_PGUP: log_scroll(&w->rv, page); return;
	case R_PGDN: log_scroll(&w->rv, -page); return;
	case R_END: w->rv.scroll = 0; return;
	case R_HELP: wiz_app_help(a, w->pages[w->cur].title, w->pages[w->cur].help); return;
	case R_RESULT: wiz_app_next(a); return;
	default: return;
	}
}

const struct wiz_app_screen wiz_run_screen = {"run", run_keys, run_init, run_draw, run_key};
