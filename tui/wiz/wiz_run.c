/* wiz_run — the run page (checklist, progress bar, log pane) and the final
 * page (result, what was written, the next command). */
#include <stdlib.h>
#include <string.h>

#include "wiz/wiz.h"

enum { R_CANCEL = 1, R_UP, R_DOWN, R_PGUP, R_PGDN, R_END, R_HELP, R_RESULT, R_DONE, R_QUIT };

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

static const struct ui_binding keys_final[] = {
	{UIK_ENTER, R_DONE, "Enter", "Done", true},
	{UIK_ESC, R_DONE, "Esc", "done", false},
	{UIK_PGUP, R_PGUP, "PgUp/PgDn", "Scroll", true},
	{UIK_PGDN, R_PGDN, NULL, "scroll the result down", false},
	{UIK_UP, R_UP, "Up/Down", "scroll the result a line", false},
	{UIK_DOWN, R_DOWN, NULL, "scroll the result down a line", false},
	{'q', R_QUIT, "q", "Quit ferry", true},
	{UIK_CTRL('c'), R_QUIT, "C-c", "quit ferry", false},
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
static const char *step_mark(const struct wiz_app *a, const struct wiz_step *s, enum ui_style *st,
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
static void draw_step(const struct wiz_app *a, int y, const struct wiz_step *s, double now)
{
	const struct ui *ui = &a->ui;
	enum ui_style st;
	char spin[16];
	const char *mark = step_mark(a, s, &st, spin, sizeof spin);
	ui_put(ui, y, 2, 5, st, mark);
	char text[600];
	snprintf(text, sizeof text, "%s%s%s", s->title, s->note && s->st != WS_DONE ? ": " : "",
		 s->note && s->st != WS_DONE ? s->note : "");
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
	int pct = wiz_progress_pct(rv);
	int bw = 24, x = 6;
	ui_put(ui, y, 2, 4, US_DIM, "   ");
	for (int i = 0; i < bw; i++)
		ui_put(ui, y, x + i, 1, pct >= 0 && i < pct * bw / 100 ? US_OK : US_DIM,
		       pct >= 0 && i < pct * bw / 100 ? ui->g->bar_full : ui->g->bar_empty);
	char text[200];
	wiz_progress_text(rv, now, text, sizeof text);
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
	double t = (rv->finished ? rv->ended : now) - rv->started;
	if (!rv->finished)
		ui_putf(ui, y, 2, ui->cols - 4, US_NORMAL, "Running, %.0f s. C-c asks whether to cancel.", t);
	else if (w->rc == 0)
		ui_putf(ui, y, 2, ui->cols - 4, US_OK, "Finished in %.1f s. Enter: see the result.", t);
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
	int step_rows = (int)rv->nsteps;
	if (step_rows > avail / 2)
		step_rows = avail / 2 > 1 ? avail / 2 : 1;
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
	case R_RESULT:
		if (wiz_next(w))
			wiz_app_page_changed(a);
		return;
	default: return;
	}
}

const struct wiz_screen wiz_screen_run = {"run", run_keys, run_init, run_draw, run_key};

/* --- final page ---------------------------------------------------------------- */

/* The final page's keys. */
static const struct ui_binding *final_keys(const struct wiz_app *a, size_t *n)
{
	(void)a;
	return KEYS(keys_final);
}

/* Ask the flow for the result; write it to the log and close it. */
static void final_init(struct wiz_app *a)
{
	struct wiz *w = a->w;
	if (w->flow->result)
		w->flow->result(w);
	wiz_log_close(w);
	w->exit_code = w->rc == 0 ? 0 : err_exit_code(w->err.kind);
}

/* The headline: done, cancelled or failed. */
static int draw_headline(const struct wiz_app *a, int y)
{
	const struct ui *ui = &a->ui;
	const struct wiz *w = a->w;
	if (w->rc == 0) {
		ui_putf(ui, y, 2, ui->cols - 4, US_OK, "%s %s: done", ui->g->ok_big, w->flow->title);
		return y + 2;
	}
	bool cancelled = w->err.kind == ERR_INTERRUPTED;
	ui_putf(ui, y++, 2, ui->cols - 4, cancelled ? US_WARN : US_FAIL, "%s %s: %s", ui->g->fail_big,
		w->flow->title, cancelled ? "cancelled" : "failed");
	y += ui_wrap(ui, y, 4, ui->cols - 6, 4, US_NORMAL, w->err.msg);
	if (w->err.hint[0])
		y += ui_wrap(ui, y, 4, ui->cols - 6, 3, US_DIM, w->err.hint);
	return y + 1;
}

/* A labelled line: "Log:     /path". */
static int draw_labelled(const struct wiz_app *a, int y, const char *label, const char *text)
{
	const struct ui *ui = &a->ui;
	ui_put(ui, y, 2, 10, US_HEADER, label);
	return y + ui_wrap(ui, y, 12, ui->cols - 14, 3, US_NORMAL, text);
}

/* The rows draw_labelled takes for text (0 when there is none). */
static int labelled_rows(const struct wiz_app *a, const char *text)
{
	if (!text)
		return 0;
	int r = ui_wrap_rows(text, a->ui.cols - 14);
	return r > 3 ? 3 : r;
}

/* The result lines from result_top on, as many as fit above limit. When
 * some do not fit, the first or last row says so and how to scroll. */
static int draw_result_lines(const struct wiz_app *a, int y, int limit)
{
	const struct ui *ui = &a->ui;
	struct wiz *w = a->w;
	w->result_rows = limit - y;
	if (w->result_top >= w->result.n)
		w->result_top = w->result.n ? w->result.n - 1 : 0;
	if (w->result_top > 0 && y < limit)
		ui_putf(ui, y++, 4, ui->cols - 6, US_DIM, "(%zu line%s above: Up/PgUp)", w->result_top,
			w->result_top == 1 ? "" : "s");
	size_t i = w->result_top;
	for (; i < w->result.n && y < limit; i++) {
		int rows = ui_wrap_rows(w->result.v[i], ui->cols - 6);
		rows = rows > 2 ? 2 : rows < 1 ? 1 : rows;
		bool last_row = i + 1 < w->result.n && y + rows >= limit;
		if (last_row || y + rows > limit)
			break;
		y += ui_wrap(ui, y, 4, ui->cols - 6, rows, US_NORMAL, w->result.v[i]);
	}
	if (i < w->result.n && y < limit)
		ui_putf(ui, y++, 4, ui->cols - 6, US_DIM, "(%zu more line%s: Down/PgDn)", w->result.n - i,
			w->result.n - i == 1 ? "" : "s");
	return y;
}

/* A page of result lines: a line takes one or two rows, so half the rows
 * never skips a line unseen, and PgUp undoes PgDn. */
static long result_page(const struct wiz *w)
{
	return w->result_rows > 3 ? w->result_rows / 2 : 1;
}

/* Move the result view by delta lines, within the result. */
static void scroll_result(struct wiz *w, long delta)
{
	long top = (long)w->result_top + delta;
	long max = w->result.n ? (long)w->result.n - 1 : 0;
	w->result_top = (size_t)(top < 0 ? 0 : top > max ? max : top);
}

/* Result, files written, log, next command. */
static void final_draw(const struct wiz_app *a)
{
	const struct ui *ui = &a->ui;
	const struct wiz *w = a->w;
	size_t n;
	const struct ui_binding *k = final_keys(a, &n);
	int y = wiz_draw_chrome(a, k, n) - 1;
	y = draw_headline(a, y);
	/* The result text gets what the labelled lines and the key line leave. */
	int limit = ui->rows - 3 - labelled_rows(a, w->written) - labelled_rows(a, w->log_path) -
		    labelled_rows(a, w->next_cmd) - 1;
	y = draw_result_lines(a, y, limit);
	y++;
	if (w->written)
		y = draw_labelled(a, y, "Written:", w->written);
	if (w->log_path)
		y = draw_labelled(a, y, "Log:", w->log_path);
	if (w->next_cmd)
		draw_labelled(a, y, "Next:", w->next_cmd);
	ui_put(ui, ui->rows - 2, 2, ui->cols - 4, US_DIM,
	       a->direct ? "Enter: quit." : "Enter: back to the menu. q: quit ferry.");
}

/* Keys of the final page. */
static void final_key(struct wiz_app *a, int act, int key)
{
	(void)key;
	switch (act) {
	case R_DONE: wiz_app_close_wizard(a); return;
	case R_QUIT:
		wiz_app_close_wizard(a);
		a->quit = true;
		return;
	case R_HELP: wiz_app_help(a, "Result", a->w->pages[a->w->cur].help); return;
	case R_UP: scroll_result(a->w, -1); return;
	case R_DOWN: scroll_result(a->w, 1); return;
	case R_PGUP: scroll_result(a->w, -result_page(a->w)); return;
	case R_PGDN: scroll_result(a->w, result_page(a->w)); return;
	default: return;
	}
}

const struct wiz_screen wiz_screen_final = {"final", final_keys, final_init, final_draw, final_key};
