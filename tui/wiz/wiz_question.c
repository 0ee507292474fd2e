/* wiz_question — the question pages (info, choice, form): each is
 * (init, draw, key) over the wizard's page; drawing only reads. */
#include <stdlib.h>
#include <string.h>

#include "wiz/wiz_app.h"
#include "wiz/wiz_draw.h"
#include "wiz/wiz_question.h"

enum {
	A_NEXT = 1, A_BACK, A_UP, A_DOWN, A_PGUP, A_PGDN, A_HOME, A_END, A_HELP, A_LEAVE,
	A_TAB, A_BTAB, A_LEFT, A_RIGHT, A_BACKSPACE, A_SPACE
};

#define KEYS(t) (*n = sizeof t / sizeof t[0], t)

static const struct ui_binding keys_info[] = {
	{UIK_ENTER, A_NEXT, "Enter", "Next", true},
	{UIK_ESC, A_BACK, "Esc", "Back", true},
	{UIK_BACKSPACE, A_BACK, "Backspace", "Back", false},
	{UIK_F(1), A_HELP, "F1", "Help", true},
	{'?', A_HELP, "?", "help on this page", false},
	{UIK_CTRL('c'), A_LEAVE, "C-c", "Quit", true},
	{'q', A_LEAVE, "q", "leave the wizard", false},
};

static const struct ui_binding keys_choice[] = {
	{UIK_ENTER, A_NEXT, "Enter", "Next", true},
	{UIK_ESC, A_BACK, "Esc", "Back", true},
	{UIK_BACKSPACE, A_BACK, "Backspace", "Back", false},
	{UIK_UP, A_UP, "Up/Down", "Move", true},
	{UIK_DOWN, A_DOWN, NULL, "next", false},
	{'k', A_UP, NULL, "previous", false},
	{'j', A_DOWN, NULL, "next", false},
	{UIK_PGUP, A_PGUP, "PgUp/PgDn", "a page up or down", false},
	{UIK_PGDN, A_PGDN, NULL, "a page down", false},
	{UIK_HOME, A_HOME, "Home/End", "first or last", false},
	{UIK_END, A_END, NULL, "last", false},
	{UIK_F(1), A_HELP, "F1", "Help", true},
	{'?', A_HELP, "?", "help on this page", false},
	{UIK_CTRL('c'), A_LEAVE, "C-c", "Quit", true},
	{'q', A_LEAVE, "q", "leave the wizard", false},
};

static const struct ui_binding keys_form[] = {
	{UIK_ENTER, A_NEXT, "Enter", "Next", true},
	{UIK_ESC, A_BACK, "Esc", "Back", true},
	{UIK_TAB, A_TAB, "Tab", "Field", true},
	{UIK_DOWN, A_TAB, "Down", "next field", false},
	{UIK_BTAB, A_BTAB, "S-Tab", "previous field", false},
	{UIK_UP, A_BTAB, "Up", "previous field", false},
	{UIK_LEFT, A_LEFT, "Left/Right", "Change", true},
	{UIK_RIGHT, A_RIGHT, NULL, "change a choice, or move in the text", false},
	{' ', A_SPACE, "Space", "next choice (in text: a space)", false},
	{UIK_BACKSPACE, A_BACKSPACE, "Backspace", "delete; on an empty field: Back", false},
	{UIK_F(1), A_HELP, "F1", "Help", true},
	{UIK_CTRL('c'), A_LEAVE, "C-c", "Quit", true},
};

/* --- common ------------------------------------------------------------------ */

/* The wizard's page shown now (read-only). */
static const struct wiz_page *cur_page(const struct wiz_app *a)
{
	return &a->w->pages[a->w->cur];
}

/* Actions every question page shares; true when handled. */
static bool common_action(struct wiz_app *a, int act)
{
	const struct wiz_page *pg = cur_page(a);
	switch (act) {
	case A_NEXT: wiz_app_next(a); return true;
	case A_BACK: wiz_app_back(a); return true;
	case A_HELP: wiz_app_help(a, pg->title, pg->help); return true;
	case A_LEAVE: wiz_app_ask_leave(a); return true;
	default: return false;
	}
}

/* No setup needed. */
static void init_nothing(struct wiz_app *a)
{
	(void)a;
}

/* --- info ----------------------------------------------------------------------- */

/* The info page's keys. */
static const struct ui_binding *info_keys(const struct wiz_app *a, size_t *n)
{
	(void)a;
	return KEYS(keys_info);
}

/* An explanation (or a problem) and Next. */
static void info_draw(const struct wiz_app *a)
{
	size_t n;
	const struct ui_binding *k = info_keys(a, &n);
	wiz_draw_chrome(a, k, n);
	wiz_draw_error(a, cur_page(a)->error);
}

/* Keys of the info page. */
static void info_key(struct wiz_app *a, int act, int key)
{
	(void)key;
	common_action(a, act);
}

const struct wiz_app_screen wiz_question_info = {"info", info_keys, init_nothing, info_draw, info_key};

/* --- choice ---------------------------------------------------------------------- */

/* The choice page's keys. */
static const struct ui_binding *choice_keys(const struct wiz_app *a, size_t *n)
{
	(void)a;
	return KEYS(keys_choice);
}

/* Rows available for the list from row y. */
static int list_rows(const struct wiz_app *a, int y)
{
	int h = a->ui.rows - 3 - y;
	return h > 1 ? h : 1;
}

/* A list to pick one item from, the picked one highlighted. */
static void choice_draw(const struct wiz_app *a)
{
	const struct ui *ui = &a->ui;
	const struct wiz_page *pg = cur_page(a);
	size_t n;
	const struct ui_binding *k = choice_keys(a, &n);
	int y = wiz_draw_chrome(a, k, n);
	if (pg->header && pg->nitems)
		ui_putf(ui, y++, 4, ui->cols - 6, US_DIM, "%s", pg->header);
	int vis = list_rows(a, y);
	size_t top = pg->sel >= (size_t)vis ? pg->sel - (size_t)vis + 1 : 0;
	for (size_t i = top; i < pg->nitems && (int)(i - top) < vis; i++) {
		bool sel = i == pg->sel;
		int row = y + (int)(i - top);
		if (sel)
			ui_put(ui, row, 2, 1, US_SELECTED, ui->g->pointer);
		ui_put_pad(ui, row, 4, ui->cols - 6, sel ? US_SELECTED : US_NORMAL, pg->items[i].label);
	}
	wiz_draw_error(a, pg->error);
}

/* Move the selection by delta, within the list. */
static void choice_move(struct wiz_page *pg, long delta)
{
	if (pg->nitems == 0)
		return;
	long s = (long)pg->sel + delta;
	if (s < 0)
		s = 0;
	if (s >= (long)pg->nitems)
		s = (long)pg->nitems - 1;
	pg->sel = (size_t)s;
	pg->error[0] = '\0';
}

/* Keys of the choice page. */
static void choice_key(struct wiz_app *a, int act, int key)
{
	(void)key;
	struct wiz_page *pg = wiz_current(a->w);
	long page = list_rows(a, 6);
	switch (act) {
	case A_UP: choice_move(pg, -1); return;
	case A_DOWN: choice_move(pg, 1); return;
	case A_PGUP: choice_move(pg, -page); return;
	case A_PGDN: choice_move(pg, page); return;
	case A_HOME: choice_move(pg, -(long)pg->nitems); return;
	case A_END: choice_move(pg, (long)pg->nitems); return;
	default: common_action(a, act); return;
	}
}

const struct wiz_app_screen wiz_question_choice = {"choice", choice_keys, init_nothing, choice_draw, choice_key};

/* --- form ---------------------------------------------------------------------------- */

/* The form page's keys. */
static const struct ui_binding *form_keys(const struct wiz_app *a, size_t *n)
{
	(void)a;
	return KEYS(keys_form);
}

/* Byte offset where the visible part of a text field starts. */
static size_t field_start(const struct ui_line *l, int width)
{
	size_t start = 0;
	while (start < l->cursor && ui_text_width(l->text + start) >= width) {
		int c;
		start += ui_utf8_decode(l->text + start, &c);
	}
	return start;
}

/* A text field: its visible part, and the cursor when it has the focus. */
static void draw_text_field(const struct wiz_app *a, int y, int x, int w, const struct wiz_page_field *f,
			    bool focus)
{
	const struct ui *ui = &a->ui;
	size_t start = field_start(&f->line, w);
	ui_put_pad(ui, y, x, w, focus ? US_FIELD_FOCUS : US_FIELD, f->line.text + start);
	if (!focus)
		return;
	char before[UI_LINE_MAX];
	snprintf(before, sizeof before, "%.*s", (int)(f->line.cursor - start), f->line.text + start);
	int cx = x + ui_text_width(before);
	char under[8] = " ";
	if (f->line.cursor < f->line.len) {
		int c;
		size_t len = ui_utf8_decode(f->line.text + f->line.cursor, &c);
		snprintf(under, sizeof under, "%.*s", (int)len, f->line.text + f->line.cursor);
	}
	if (cx < x + w)
		ui_put(ui, y, cx, 1, US_SELECTED, under);
}

/* An option field: "< value >". */
static void draw_option_field(const struct wiz_app *a, int y, int x, int w, const struct wiz_page_field *f,
			      bool focus)
{
	const struct ui *ui = &a->ui;
	char buf[256];
	snprintf(buf, sizeof buf, "%s %s %s", ui->utf8 ? "◂" : "<", f->options[f->option], ui->utf8 ? "▸" : ">");
	ui_put_pad(ui, y, x, w, focus ? US_FIELD_FOCUS : US_NORMAL, buf);
}

/* Labels and fields; the focused one shows its help. */
static void form_draw(const struct wiz_app *a)
{
	const struct ui *ui = &a->ui;
	const struct wiz_page *pg = cur_page(a);
	size_t n;
	const struct ui_binding *k = form_keys(a, &n);
	int y = wiz_draw_chrome(a, k, n);
	int lw = 24, fx = 2 + lw + 2, fw = ui->cols - fx - 2;
	if (fw > 60)
		fw = 60;
	for (size_t i = 0; i < pg->nfields && y < ui->rows - 3; i++) {
		const struct wiz_page_field *f = &pg->fields[i];
		bool focus = i == pg->focus;
		ui_put(ui, y, 2, lw, focus ? US_HEADER : US_NORMAL, f->label);
		if (f->kind == WF_TEXT)
			draw_text_field(a, y, fx, fw, f, focus);
		else
			draw_option_field(a, y, fx, fw, f, focus);
		y++;
		if (focus && f->help)
			y += ui_wrap(ui, y, fx, ui->cols - fx - 2, 3, US_DIM, f->help);
		y++;
	}
	wiz_draw_error(a, pg->error);
}

/* Check the focused field again after an edit: the reason shows at once. */
static void recheck(struct wiz_app *a, struct wiz_page *pg)
{
	char why[256];
	const struct wiz_page_field *f = &pg->fields[pg->focus];
	if (wiz_field_check(a->w, f, why, sizeof why) < 0)
		snprintf(pg->error, sizeof pg->error, "%s: %s", f->label, why);
	else
		pg->error[0] = '\0';
}

/* Step an option field's choice by delta. */
static void cycle(struct wiz_page_field *f, int delta)
{
	int count = 0;
	while (f->options[count])
		count++;
	f->option = (f->option + delta + count) % count;
}

/* Keys on an option field. */
static void option_key(struct wiz_app *a, struct wiz_page_field *f, int act)
{
	switch (act) {
	case A_LEFT: cycle(f, -1); break;
	case A_RIGHT: case A_SPACE: cycle(f, 1); break;
	case A_BACKSPACE: wiz_app_back(a); return;
	default: break;
	}
}

/* Keys on a text field: editing; Backspace on an empty field is Back. */
static void text_key(struct wiz_app *a, struct wiz_page *pg, struct wiz_page_field *f, int act, int key)
{
	if (act == A_BACKSPACE && f->line.len == 0) {
		wiz_app_back(a);
		return;
	}
	int k = act == A_LEFT ? UIK_LEFT : act == A_RIGHT ? UIK_RIGHT : act == A_SPACE ? ' ' :
		act == A_BACKSPACE ? UIK_BACKSPACE : key;
	if (ui_line_key(&f->line, k))
		recheck(a, pg);
}

/* Keys of the form page. */
static void form_key(struct wiz_app *a, int act, int key)
{
	struct wiz_page *pg = wiz_current(a->w);
	if (pg->nfields == 0) {
		common_action(a, act);
		return;
	}
	struct wiz_page_field *f = &pg->fields[pg->focus];
	switch (act) {
	case A_TAB: pg->focus = (pg->focus + 1) % pg->nfields; recheck(a, pg); return;
	case A_BTAB: pg->focus = (pg->focus + pg->nfields - 1) % pg->nfields; recheck(a, pg); return;
	case A_HELP: wiz_app_help(a, f->label, f->help ? f->help : pg->help); return;
	default: break;
	}
	if (common_action(a, act))
		return;
	if (f->kind == WF_OPTION)
		option_key(a, f, act);
	else
		text_key(a, pg, f, act, key);
}

const struct wiz_app_screen wiz_question_form = {"form", form_keys, init_nothing, form_draw, form_key};
