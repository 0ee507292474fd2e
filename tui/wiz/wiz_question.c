/* wiz_screens — the question pages (info, choice, form) and the summary:
 * each is (init, draw, key) over the wizard's page; drawing only reads. */
#include <stdlib.h>
#include <string.h>

#include "wiz/wiz.h"

enum {
	A_NEXT = 1, A_BACK, A_UP, A_DOWN, A_PGUP, A_PGDN, A_HOME, A_END, A_HELP, A_LEAVE,
	A_TAB, A_BTAB, A_LEFT, A_RIGHT, A_BACKSPACE, A_SPACE, A_START, A_SAVE, A_CANCEL,
	A_ACTIVATE
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

static const struct ui_binding keys_summary[] = {
	{UIK_ENTER, A_ACTIVATE, "Enter", "Press button", true},
	{'s', A_START, "s", "Start", true},
	{'b', A_BACK, "b", "Back", true},
	{UIK_ESC, A_BACK, "Esc", "Back", false},
	{UIK_BACKSPACE, A_BACK, "Backspace", "Back", false},
	{'p', A_SAVE, "p", "Save as profile", true},
	{'c', A_CANCEL, "c", "Cancel", true},
	{UIK_TAB, A_TAB, "Tab", "next button", false},
	{UIK_RIGHT, A_TAB, "Left/Right", "choose a button", false},
	{UIK_LEFT, A_BTAB, NULL, "previous button", false},
	{UIK_BTAB, A_BTAB, NULL, "previous button", false},
	{UIK_UP, A_UP, "Up/Down", "scroll the plan", false},
	{UIK_DOWN, A_DOWN, NULL, "scroll", false},
	{UIK_F(1), A_HELP, "F1", "Help", true},
	{'?', A_HELP, "?", "help on this page", false},
	{UIK_CTRL('c'), A_LEAVE, "C-c", "Quit", false},
};

enum { B_START, B_BACK, B_SAVE, B_CANCEL, B_COUNT };
static const char *const button_names[B_COUNT] = {"Start", "Back", "Save as profile", "Cancel"};

/* --- common ------------------------------------------------------------------ */

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
	ui_putf(ui, 1, 1, ui->cols - 2, US_DIM, "%s %s", ui->g->pointer, about);
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

/* Next: validate and move on (the page's screen is set up by the app). */
static void go_next(struct wiz_app *a)
{
	if (wiz_next(a->w))
		wiz_app_page_changed(a);
}

/* Back: the page before, or out of the wizard from its first page. */
static void go_back(struct wiz_app *a)
{
	if (wiz_back(a->w))
		wiz_app_page_changed(a);
	else
		wiz_app_close_wizard(a);
}

/* Actions every question page shares; true when handled. */
static bool common_action(struct wiz_app *a, int act)
{
	const struct wiz_page *pg = cur_page(a);
	switch (act) {
	case A_NEXT: go_next(a); return true;
	case A_BACK: go_back(a); return true;
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

const struct wiz_screen wiz_screen_info = {"info", info_keys, init_nothing, info_draw, info_key};

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

const struct wiz_screen wiz_screen_choice = {"choice", choice_keys, init_nothing, choice_draw, choice_key};

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
static void draw_text_field(const struct wiz_app *a, int y, int x, int w, const struct wiz_field *f,
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
static void draw_option_field(const struct wiz_app *a, int y, int x, int w, const struct wiz_field *f,
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
		const struct wiz_field *f = &pg->fields[i];
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
	const struct wiz_field *f = &pg->fields[pg->focus];
	if (wiz_field_check(a->w, f, why, sizeof why) < 0)
		snprintf(pg->error, sizeof pg->error, "%s: %s", f->label, why);
	else
		pg->error[0] = '\0';
}

/* Step an option field's choice by delta. */
static void cycle(struct wiz_field *f, int delta)
{
	int count = 0;
	while (f->options[count])
		count++;
	f->option = (f->option + delta + count) % count;
}

/* Keys on an option field. */
static void option_key(struct wiz_app *a, struct wiz_field *f, int act)
{
	switch (act) {
	case A_LEFT: cycle(f, -1); break;
	case A_RIGHT: case A_SPACE: cycle(f, 1); break;
	case A_BACKSPACE: go_back(a); return;
	default: break;
	}
}

/* Keys on a text field: editing; Backspace on an empty field is Back. */
static void text_key(struct wiz_app *a, struct wiz_page *pg, struct wiz_field *f, int act, int key)
{
	if (act == A_BACKSPACE && f->line.len == 0) {
		go_back(a);
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
	struct wiz_field *f = &pg->fields[pg->focus];
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

const struct wiz_screen wiz_screen_form = {"form", form_keys, init_nothing, form_draw, form_key};

/* --- summary --------------------------------------------------------------------------- */

/* The summary's keys. */
static const struct ui_binding *summary_keys(const struct wiz_app *a, size_t *n)
{
	(void)a;
	return KEYS(keys_summary);
}

/* Ask core for the plan (in the worker). */
static void summary_init(struct wiz_app *a)
{
	a->w->button = B_START;
	a->w->plan_scroll = 0;
	a->w->note[0] = '\0';
	wiz_app_start_plan(a);
}

/* Rows step i of the plan takes: its title and its wrapped detail. */
static int step_rows(const struct wiz_app *a, size_t i)
{
	const char *d = a->w->plan.steps[i].detail;
	return 1 + (d ? ui_wrap_rows(d, a->ui.cols - 9) : 0);
}

/* Rows the summary has for the plan's steps: under the plan's title (the
 * first row after the page's chrome), over the buttons. */
static int plan_space(const struct wiz_app *a)
{
	const struct wiz_page *pg = cur_page(a);
	int text = pg->text ? ui_wrap_rows(pg->text, a->ui.cols - 4) : 0;
	if (text > a->ui.rows - 8)
		text = a->ui.rows - 8 > 0 ? a->ui.rows - 8 : 0;
	return (a->ui.rows - 4) - (4 + text + 1);
}

/* Whether the steps from first on do not all fit. */
static bool plan_more_below(const struct wiz_app *a, size_t first)
{
	int used = 0;
	for (size_t i = first; i < a->w->plan.n; i++)
		used += step_rows(a, i);
	return used > plan_space(a);
}

/* The plan: numbered steps with their details, from step plan_scroll on;
 * a last row says when there is more below. */
static void draw_plan(const struct wiz_app *a, int y, int bottom)
{
	const struct ui *ui = &a->ui;
	const struct plan *plan = &a->w->plan;
	size_t first = a->w->plan_scroll < plan->n ? a->w->plan_scroll : 0;
	bool more = plan_more_below(a, first);
	int limit = more ? bottom - 1 : bottom;
	ui_put(ui, y++, 2, ui->cols - 4, US_HEADER, plan->title);
	for (size_t i = first; i < plan->n && y < limit; i++) {
		ui_putf(ui, y++, 3, ui->cols - 5, US_NORMAL, "%zu. %s", i + 1, plan->steps[i].title);
		if (plan->steps[i].detail && y < limit)
			y += ui_wrap(ui, y, 7, ui->cols - 9, limit - y, US_DIM, plan->steps[i].detail);
	}
	if (more)
		ui_put(ui, bottom - 1, 3, ui->cols - 5, US_HEADER, "... more below: Down scrolls the plan");
}

/* The buttons row. */
static void draw_buttons(const struct wiz_app *a, int y)
{
	int x = 2;
	for (int b = 0; b < B_COUNT; b++) {
		char label[64];
		snprintf(label, sizeof label, "[ %s ]", button_names[b]);
		x += ui_put(&a->ui, y, x, a->ui.cols - x, b == a->w->button ? US_BUTTON_FOCUS : US_BUTTON, label) + 2;
	}
}

/* The plan (or the spinner while it is made, or why it failed) and the buttons. */
static void summary_draw(const struct wiz_app *a)
{
	const struct ui *ui = &a->ui;
	const struct wiz *w = a->w;
	size_t n;
	const struct ui_binding *k = summary_keys(a, &n);
	int y = wiz_draw_chrome(a, k, n) - 1;
	/* A note too long for one row (a saved profile's next command) takes
	 * two, below the buttons; the plan gives up a row for it. */
	int note_rows = w->note[0] && ui_wrap_rows(w->note, ui->cols - 4) > 1 ? 2 : 1;
	int bottom = ui->rows - 3 - note_rows;
	if (w->job_kind == WJ_PLAN && w->job.live) {
		ui_putf(ui, y, 2, ui->cols - 4, US_NORMAL, "%s Working out the plan (reading the database and the bundle)...",
			ui->g->spin[a->spin % ui->g->nspin]);
	} else if (!w->have_plan) {
		ui_put(ui, y++, 2, ui->cols - 4, US_ERROR, "The plan could not be made:");
		y += ui_wrap(ui, y, 4, ui->cols - 6, bottom - y, US_NORMAL, w->plan_err.msg);
		if (w->plan_err.hint[0]) {
			char hint[ERR_HINT_MAX + 8];
			snprintf(hint, sizeof hint, "hint: %s", w->plan_err.hint);
			ui_wrap(ui, y, 4, ui->cols - 6, bottom - y, US_DIM, hint);
		}
	} else {
		draw_plan(a, y, bottom);
	}
	draw_buttons(a, ui->rows - 2 - note_rows);
	if (w->note[0])
		ui_wrap(ui, ui->rows - 1 - note_rows, 2, ui->cols - 4, note_rows,
			strncmp(w->note, "saved", 5) == 0 ? US_OK : US_ERROR, w->note);
}

/* Start the run, when there is a plan. */
static void summary_start(struct wiz_app *a)
{
	struct wiz *w = a->w;
	if (!w->have_plan) {
		snprintf(w->note, sizeof w->note, "%s", w->job.live ? "the plan is not ready yet" :
			 "nothing to start: the plan could not be made (Back to change the answers)");
		return;
	}
	if (wiz_next(w))
		wiz_app_page_changed(a);
}

/* Save as profile: ask for the new profile's name. */
static void summary_save(struct wiz_app *a)
{
	struct wiz_dialog *d = wiz_app_dialog(a, WD_INPUT, DP_SAVE, "Save as profile");
	const char *base = wiz_save_base(a->w);
	base = base ? base : a->w->p->name;
	wiz_dialog_line(d, "A copy of profile \"%s\" with these answers is added to", base);
	wiz_dialog_line(d, "%s.", a->w->profiles_path);
	snprintf(d->prompt, sizeof d->prompt, "Name of the new profile:");
	char def[128];
	snprintf(def, sizeof def, "%s-%s", base, a->w->flow->name);
	ui_line_set(&d->input, def);
	d->check = wiz_check_profile_name;
	d->check_ud = a->w;
}

/* A button's action. */
static void summary_press(struct wiz_app *a, int b)
{
	switch (b) {
	case B_START: summary_start(a); return;
	case B_BACK: go_back(a); return;
	case B_SAVE: summary_save(a); return;
	default: wiz_app_close_wizard(a); return;
	}
}

/* Keys of the summary. */
static void summary_key(struct wiz_app *a, int act, int key)
{
	(void)key;
	struct wiz *w = a->w;
	switch (act) {
	case A_ACTIVATE: summary_press(a, w->button); return;
	case A_START: summary_press(a, B_START); return;
	case A_BACK: summary_press(a, B_BACK); return;
	case A_SAVE: summary_press(a, B_SAVE); return;
	case A_CANCEL: summary_press(a, B_CANCEL); return;
	case A_TAB: w->button = (w->button + 1) % B_COUNT; return;
	case A_BTAB: w->button = (w->button + B_COUNT - 1) % B_COUNT; return;
	case A_UP: if (w->plan_scroll > 0) w->plan_scroll--; return;
	case A_DOWN: if (w->have_plan && plan_more_below(a, w->plan_scroll)) w->plan_scroll++; return;
	case A_HELP: wiz_app_help(a, cur_page(a)->title, cur_page(a)->help); return;
	case A_LEAVE: wiz_app_ask_leave(a); return;
	default: return;
	}
}

const struct wiz_screen wiz_screen_summary = {"summary", summary_keys, summary_init, summary_draw, summary_key};
