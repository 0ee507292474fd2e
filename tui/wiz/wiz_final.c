/* wiz_final — the final page: the result, what was written, the log file
 * and the next command; Enter goes back to the menu (or quits). */
#include <stdlib.h>
#include <string.h>

#include "wiz/wiz_app.h"
#include "wiz/wiz_draw.h"
#include "wiz/wiz_final.h"
#include "wiz/wiz_log.h"

enum { R_DONE = 1, R_UP, R_DOWN, R_PGUP, R_PGDN, R_HELP, R_QUIT, R_ASK_QUIT };

#define KEYS(t) (*n = sizeof t / sizeof t[0], t)

/* A result line wraps onto at most this many rows (a bundle name and its
 * command are long). */
#define RESULT_LINE_ROWS 4

static const struct ui_binding keys_final[] = {
	{UIK_ENTER, R_DONE, "Enter", "Done", true},
	{UIK_ESC, R_DONE, "Esc", "done", false},
	{UIK_PGUP, R_PGUP, "PgUp/PgDn", "Scroll", true},
	{UIK_PGDN, R_PGDN, NULL, "scroll the result down", false},
	{UIK_UP, R_UP, "Up/Down", "scroll the result a line", false},
	{UIK_DOWN, R_DOWN, NULL, "scroll the result down a line", false},
	{'q', R_QUIT, "q", "Quit ferry", true},
	{UIK_CTRL('c'), R_ASK_QUIT, "C-c", "asks whether to leave ferry", false},
	{UIK_F(1), R_HELP, "F1", "Help", true},
	{'?', R_HELP, "?", "help on this page", false},
};

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
		rows = rows > RESULT_LINE_ROWS ? RESULT_LINE_ROWS : rows < 1 ? 1 : rows;
		bool last_row = i + 1 < w->result.n && y + rows >= limit;
		if (last_row || y + rows > limit)
			break;
		y += ui_wrap(ui, y, 4, ui->cols - 6, rows, US_NORMAL, w->result.v[i]);
	}
	w->result_shown = i - w->result_top;
	if (i < w->result.n && y < limit)
		ui_putf(ui, y++, 4, ui->cols - 6, US_DIM, "(%zu more line%s: Down/PgDn)", w->result.n - i,
			w->result.n - i == 1 ? "" : "s");
	return y;
}

/* PgDn: as many lines as fitted at the last draw (a line takes up to
 * RESULT_LINE_ROWS rows), so none is skipped unseen. */
static long result_page(const struct wiz *w)
{
	return w->result_shown > 1 ? (long)w->result_shown : 1;
}

/* Rows result line i takes. */
static int line_rows(const struct wiz_app *a, size_t i)
{
	int rows = ui_wrap_rows(a->w->result.v[i], a->ui.cols - 6);
	return rows > RESULT_LINE_ROWS ? RESULT_LINE_ROWS : rows < 1 ? 1 : rows;
}

/* How many lines before the top fill room rows. */
static long lines_before(const struct wiz_app *a, int room)
{
	int used = 0;
	long n = 0;
	for (size_t i = a->w->result_top; i > 0 && used + line_rows(a, i - 1) <= room; i--, n++)
		used += line_rows(a, i - 1);
	return n;
}

/* PgUp: the lines before the top that fill the rows the result had (less
 * the "more lines" rows: one at the very top, else two), so PgUp undoes
 * PgDn. */
static long result_page_back(const struct wiz_app *a)
{
	long top = (long)a->w->result_top;
	if (lines_before(a, a->w->result_rows - 1) >= top)
		return top > 1 ? top : 1;
	long n = lines_before(a, a->w->result_rows - 2);
	return n > 1 ? n : 1;
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
	case R_ASK_QUIT: wiz_app_ask_quit(a); return;
	case R_HELP: wiz_app_help(a, "Result", a->w->pages[a->w->cur].help); return;
	case R_UP: scroll_result(a->w, -1); return;
	case R_DOWN: scroll_result(a->w, 1); return;
	case R_PGUP: scroll_result(a->w, -result_page_back(a)); return;
	case R_PGDN: scroll_result(a->w, result_page(a->w)); return;
	default: return;
	}
}

const struct wiz_app_screen wiz_final_screen = {"final", final_keys, final_init, final_draw, final_key};
