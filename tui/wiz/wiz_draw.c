/* wiz_draw — what every wizard screen draws: the title line, the line
 * about what will happen, the page's title and text, the inline error, and
 * the dialog over the screen. Drawing only reads. */
#include <stdio.h>
#include <string.h>

#include "wiz/wiz_draw.h"

/* The wizard's page shown now (read-only). */
static const struct wiz_page *cur_page(const struct wiz_app *a)
{
	return &a->w->pages[a->w->cur];
}

/* Title line, the line about what will happen, the page title and text. */
int wiz_draw_chrome(const struct wiz_app *a, const struct ui_binding *keys, size_t nkeys)
{
	const struct ui *ui = &a->ui;
	const struct wiz *w = a->w;
	const struct wiz_page *pg = cur_page(a);
	char left[256], right[64] = "", about[512] = "";
	snprintf(left, sizeof left, "ferry %s %s", ui->utf8 ? "—" : "-", w->flow->title);
	size_t at, of;
	wiz_position(w, &at, &of);
	if (pg->kind != WP_RUN && pg->kind != WP_FINAL && of > 0)
		snprintf(right, sizeof right, "page %zu of %zu", at, of);
	ui_titlebar(ui, left, right);
	if (w->load_err.kind == ERR_OK)
		w->flow->about(w, about, sizeof about);
	/* What is about to happen wraps onto the row below (blank otherwise)
	 * rather than losing its end. */
	char line[600];
	snprintf(line, sizeof line, "%s %s", ui->g->pointer, about);
	ui_wrap(ui, 1, 1, ui->cols - 2, 2, US_DIM, line);
	ui_put(ui, 3, 2, ui->cols - 4, US_HEADER, pg->title);
	int y = 4;
	if (pg->text)
		y += ui_wrap(ui, y, 2, ui->cols - 4, ui->rows - y - 4, US_NORMAL, pg->text);
	ui_keybar(ui, keys, nkeys);
	return y + 1;
}

/* The inline error (or note) above the key-help line: one row, or two
 * when it is longer, so that the reason at its end is not cut off. */
void wiz_draw_error(const struct wiz_app *a, const char *msg)
{
	const struct ui *ui = &a->ui;
	if (!msg || !*msg)
		return;
	int rows = ui_wrap_rows(msg, ui->cols - 4) > 1 ? 2 : 1;
	int y = ui->rows - 1 - rows;
	for (int i = 0; i < rows; i++)
		ui_put_pad(ui, y + i, 0, ui->cols, US_NORMAL, "");
	ui_wrap(ui, y, 2, ui->cols - 4, rows, US_ERROR, msg);
}

/* --- dialogs -------------------------------------------------------------------- */

/* Rows the dialog's body takes wrapped to w columns. */
static int body_rows(const struct wiz_dialog *d, int w)
{
	int rows = 0;
	for (size_t i = 0; i < d->body.n; i++) {
		int r = ui_wrap_rows(d->body.v[i], w);
		rows += r > 0 ? r : 1;
	}
	return rows;
}

/* The body, from line scroll on, within h rows. */
static int draw_body(const struct ui *ui, const struct wiz_dialog *d, int y, int x, int w, int h)
{
	int used = 0;
	for (size_t i = d->scroll; i < d->body.n && used < h; i++) {
		int r = ui_wrap(ui, y + used, x, w, h - used, US_NORMAL, d->body.v[i]);
		used += r > 0 ? r : 1;
	}
	return used;
}

/* The prompt, the input line with its cursor, and why it does not do. */
static void draw_input(const struct ui *ui, const struct wiz_dialog *d, int y, int x, int w)
{
	ui_put(ui, y++, x, w, US_HEADER, d->prompt);
	char shown[UI_LINE_MAX + 8];
	snprintf(shown, sizeof shown, "%s", d->input.text);
	ui_put_pad(ui, y, x, w, US_FIELD_FOCUS, shown);
	char before[UI_LINE_MAX];
	snprintf(before, sizeof before, "%.*s", (int)d->input.cursor, d->input.text);
	int cx = x + ui_text_width(before);
	if (cx < x + w)
		ui_put(ui, y, cx, 1, US_SELECTED, d->input.cursor < d->input.len ? "_" : " ");
	if (d->error[0])
		ui_put(ui, y + 1, x, w, US_ERROR, d->error);
}

/* The buttons, the focused one highlighted. */
static void draw_dialog_buttons(const struct ui *ui, const struct wiz_dialog *d, int y, int x)
{
	for (size_t i = 0; i < d->nbuttons; i++) {
		char label[64];
		snprintf(label, sizeof label, "[ %s ]", d->buttons[i]);
		x += ui_put(ui, y, x, ui->cols - x, i == d->focus ? US_BUTTON_FOCUS : US_BUTTON, label) + 3;
	}
}

/* A dialog in a frame over the middle of the screen; its keys at the bottom. */
void wiz_draw_dialog(const struct wiz_app *a, const struct wiz_dialog *d)
{
	const struct ui *ui = &a->ui;
	int w = ui->cols - 8 > 74 ? 74 : ui->cols - 8;
	int inner = w - 4;
	bool input = d->kind == WD_TYPE || d->kind == WD_INPUT;
	int extra = (input ? 4 : 0) + (d->nbuttons ? 2 : 0);
	int h = body_rows(d, inner) + extra + 2;
	if (h > ui->rows - 2)
		h = ui->rows - 2;
	int y0 = (ui->rows - 1 - h) / 2, x0 = (ui->cols - w) / 2;
	ui_frame(ui, y0, x0, h, w, d->title);
	int y = y0 + 1;
	y += draw_body(ui, d, y, x0 + 2, inner, h - 2 - extra) + 1;
	if (input)
		draw_input(ui, d, y, x0 + 2, inner);
	if (d->nbuttons)
		draw_dialog_buttons(ui, d, y0 + h - 2, x0 + 2);
	size_t n;
	const struct ui_binding *k = wiz_dialog_keys(d, &n);
	ui_keybar(ui, k, n);
}

