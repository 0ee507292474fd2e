/* wiz_summary — the summary page: the plan from core (made in the
 * worker, the same plan `--dry-run` prints), and Start, Back, Save as
 * profile, Cancel. */
#include <stdlib.h>
#include <string.h>

#include "wiz/wiz_app.h"
#include "wiz/wiz_draw.h"
#include "wiz/wiz_check.h"
#include "wiz/wiz_save.h"
#include "wiz/wiz_summary.h"

enum { A_ACTIVATE = 1, A_START, A_BACK, A_SAVE, A_CANCEL, A_TAB, A_BTAB, A_UP, A_DOWN, A_HELP, A_LEAVE };

#define KEYS(t) (*n = sizeof t / sizeof t[0], t)

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

/* The wizard's page shown now (read-only). */
static const struct wiz_page *cur_page(const struct wiz_app *a)
{
	return &a->w->pages[a->w->cur];
}

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
	wiz_app_next(a);
}

/* Save as profile: ask for the new profile's name. */
static void summary_save(struct wiz_app *a)
{
	if (!a->w->p) {
		snprintf(a->w->note, sizeof a->w->note, "nothing to save: Start writes the profile");
		return;
	}
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
	case B_BACK: wiz_app_back(a); return;
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

const struct wiz_app_screen wiz_summary_screen = {"summary", summary_keys, summary_init, summary_draw, summary_key};
