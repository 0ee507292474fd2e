/* wiz_menu — the helper-mode menu (`ferry` with no arguments), dialogs
 * drawn over any screen, and the `ferry easy` command. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "wiz/wiz.h"

static int run_easy(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_easy = {
	"easy", "the guided wizards (helper mode): ferry easy [backup|restore|migrate|deploy]",
	"usage: ferry easy [backup | restore | migrate | deploy | status] [--profiles FILE]\n"
	"                  [--profile NAME] [--keys FILE]\n"
	"\n"
	"Opens a wizard on the terminal: it says what it is about to do, asks only\n"
	"what the profile does not say, shows the plan, runs the same core call as\n"
	"the command, and ends with the result and the next command. Without a\n"
	"wizard name: the helper menu (also what `ferry` alone opens on a terminal).\n"
	"\n"
	"  --profile NAME   use this profile (the question is skipped)\n"
	"  --keys FILE      read keys from FILE instead of the keyboard (also\n"
	"                   FERRY_KEYS=FILE); tokens: Enter Esc Tab Up Down Left Right\n"
	"                   PgUp PgDn Home End Backspace Space F1 C-c, a character,\n"
	"                   text:STRING wait:MS waitfor:TEXT dump:PATH resize:COLSxROWS;\n"
	"                   without a terminal the screen is drawn off-screen\n"
	"                   ($COLUMNS x $LINES, else 80x24) and the script's end quits\n"
	"\n"
	"Exit status: the wizard's run (0, or the error's code), 10 when left before\n"
	"anything ran, 130 when cancelled.\n",
	run_easy};

enum { M_UP = 1, M_DOWN, M_HOME, M_END, M_OPEN, M_QUIT, M_HELP, M_PICK1 };

static const struct ui_binding keys_menu[] = {
	{UIK_ENTER, M_OPEN, "Enter", "Open", true},
	{UIK_UP, M_UP, "Up/Down", "Move", true},
	{UIK_DOWN, M_DOWN, NULL, "next", false},
	{'k', M_UP, NULL, "previous", false},
	{'j', M_DOWN, NULL, "next", false},
	{UIK_HOME, M_HOME, "Home/End", "first or last", false},
	{UIK_END, M_END, NULL, "last", false},
	{'1', M_PICK1, "1-6", "Pick", true},
	{'2', M_PICK1 + 1, NULL, "pick 2", false},
	{'3', M_PICK1 + 2, NULL, "pick 3", false},
	{'4', M_PICK1 + 3, NULL, "pick 4", false},
	{'5', M_PICK1 + 4, NULL, "pick 5", false},
	{'6', M_PICK1 + 5, NULL, "pick 6", false},
	{'q', M_QUIT, "q", "Quit", true},
	{UIK_ESC, M_QUIT, "Esc", "quit", false},
	{UIK_CTRL('c'), M_QUIT, "C-c", "quit", false},
	{UIK_F(1), M_HELP, "F1", "Help", true},
	{'?', M_HELP, "?", "help", false},
};

struct menu_item {
	const char *label;
	const struct wiz_flow *flow;     /* NULL = quit */
	const char *about;
};

static const struct menu_item menu_items[] = {
	{"Backup your instance", &wiz_flow_backup,
	 "One verified bundle: the database in one consistent snapshot, the app files, "
	 "and a manifest with every table's row count."},
	{"Restore from a backup", &wiz_flow_restore,
	 "Pick a bundle. It is verified, what is there now is backed up, and the database "
	 "is swapped in only when every row count matches."},
	{"Migrate to a new server", &wiz_flow_migrate,
	 "Back up here, copy to the new server over SSH, restore there, rewrite the "
	 "connection registry, restart services and compare both sides."},
	{"Deploy or restart services", &wiz_flow_deploy,
	 "A restore point first, then schema migrations, restarts and health checks, "
	 "rolled back when they fail."},
	{"Check system status", &wiz_flow_status,
	 "The self-check: database, services, health URLs, the last backup."},
	{"Quit", NULL, "Leave ferry."},
};

#define NITEMS (sizeof menu_items / sizeof menu_items[0])

/* The wizard named on the command line (`ferry easy NAME`). */
const struct wiz_flow *wiz_flow_find(const char *name)
{
	for (size_t i = 0; i < NITEMS; i++)
		if (menu_items[i].flow && strcmp(menu_items[i].flow->name, name) == 0)
			return menu_items[i].flow;
	return NULL;
}

/* --- the menu screen ------------------------------------------------------------- */

/* The menu's keys. */
static const struct ui_binding *menu_keys(const struct wiz_app *a, size_t *n)
{
	(void)a;
	*n = sizeof keys_menu / sizeof keys_menu[0];
	return keys_menu;
}

/* Note the profiles found (or why none) for the line under the menu. */
static void menu_init(struct wiz_app *a)
{
	struct err e = {0};
	char *path = profile_locate(a->profiles_path, &e);
	profile_file *pf = path ? profile_file_load(path, &e) : NULL;
	if (!pf) {
		snprintf(a->menu_note, sizeof a->menu_note, "No profiles yet: %.400s", e.msg);
	} else {
		int o = snprintf(a->menu_note, sizeof a->menu_note, "Profiles: %s (", path);
		for (size_t i = 0; i < profile_file_count(pf) && o > 0 && (size_t)o < sizeof a->menu_note; i++)
			o += snprintf(a->menu_note + o, sizeof a->menu_note - (size_t)o, "%s%s", i ? ", " : "",
				      profile_file_at(pf, i)->name);
		if (o > 0 && (size_t)o < sizeof a->menu_note)
			snprintf(a->menu_note + o, sizeof a->menu_note - (size_t)o, ")");
	}
	profile_file_free(pf);
	free(path);
}

/* "What would you like to do?" and the numbered list. */
static void menu_draw(const struct wiz_app *a)
{
	const struct ui *ui = &a->ui;
	char title[128];
	snprintf(title, sizeof title, "ferry %s %s helper mode", FERRY_VERSION, ui->utf8 ? "—" : "-");
	ui_titlebar(ui, title, "F1 help");
	ui_put(ui, 2, 2, ui->cols - 4, US_HEADER, "What would you like to do?");
	int y = 4;
	for (size_t i = 0; i < NITEMS; i++, y++) {
		bool sel = i == a->menu_sel;
		char row[128];
		snprintf(row, sizeof row, "%zu) %s", i + 1, menu_items[i].label);
		if (sel)
			ui_put(ui, y, 2, 1, US_SELECTED, ui->g->pointer);
		ui_put_pad(ui, y, 4, 40, sel ? US_SELECTED : US_NORMAL, row);
	}
	ui_wrap(ui, y + 1, 4, ui->cols - 8, 3, US_DIM, menu_items[a->menu_sel].about);
	ui_wrap(ui, ui->rows - 3, 2, ui->cols - 4, 2, strncmp(a->menu_note, "No ", 3) == 0 ? US_WARN : US_DIM,
		a->menu_note);
	ui_keybar(ui, keys_menu, sizeof keys_menu / sizeof keys_menu[0]);
}

/* Open the item: a wizard, or quit. */
static void menu_open(struct wiz_app *a, size_t i)
{
	a->menu_sel = i;
	if (!menu_items[i].flow) {
		a->quit = true;
		return;
	}
	wiz_app_open(a, menu_items[i].flow);
}

/* Keys of the menu. */
static void menu_key(struct wiz_app *a, int act, int key)
{
	(void)key;
	switch (act) {
	case M_UP: a->menu_sel = a->menu_sel ? a->menu_sel - 1 : 0; return;
	case M_DOWN: a->menu_sel = a->menu_sel + 1 < NITEMS ? a->menu_sel + 1 : NITEMS - 1; return;
	case M_HOME: a->menu_sel = 0; return;
	case M_END: a->menu_sel = NITEMS - 1; return;
	case M_OPEN: menu_open(a, a->menu_sel); return;
	case M_QUIT: a->quit = true; return;
	case M_HELP:
		wiz_app_help(a, "Helper mode",
			     "Each item opens a guided wizard: it says what it is about to do, asks only "
			     "what the profile does not say, shows the plan and runs the same steps as "
			     "the command line (ferry backup, ferry restore, ...). Nothing changes before "
			     "you press Start on the summary.");
		return;
	default:
		if (act >= M_PICK1 && act < M_PICK1 + (int)NITEMS)
			menu_open(a, (size_t)(act - M_PICK1));
		return;
	}
}

const struct wiz_screen wiz_screen_menu = {"menu", menu_keys, menu_init, menu_draw, menu_key};

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

/* --- `ferry easy` --------------------------------------------------------------------- */

enum { OPT_KEYS = OPT_COMMAND_BASE };

/* Options and the wizard's name. */
static int parse_easy(struct cli *c, int argc, char **argv, const char **keys, const char **name,
		      struct err *e)
{
	static const struct option longopts[] = {
		CLI_COMMON_OPTIONS, {"keys", required_argument, NULL, OPT_KEYS}, {0, 0, 0, 0}};
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cli_common_option(c, &command_easy, opt, optarg, e);
		if (r == 2)
			return 1;
		if (r == 1)
			continue;
		if (opt != OPT_KEYS)
			return cli_bad_option(&command_easy, argv, e);
		*keys = optarg;
	}
	if (argc - optind > 1) {
		err_set(e, ERR_USAGE, "easy: unexpected argument \"%s\"", argv[optind + 1]);
		return err_hint(e, "ferry easy [backup|restore|migrate|deploy|status]");
	}
	*name = optind < argc ? argv[optind] : NULL;
	return 0;
}

/* `ferry easy [NAME]`: a wizard, or the menu. */
static int run_easy(struct cli *c, int argc, char **argv, struct err *e)
{
	const char *keys = NULL, *name = NULL;
	int rc = parse_easy(c, argc, argv, &keys, &name, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	const struct wiz_flow *flow = name ? wiz_flow_find(name) : NULL;
	if (name && !flow) {
		err_set(e, ERR_USAGE, "easy: no wizard \"%s\"", name);
		return err_hint(e, "the wizards: backup, restore, migrate, deploy, status");
	}
	return wiz_app_run(c, flow, keys, e);
}

/* `ferry` with no arguments on a terminal (or with FERRY_KEYS): the menu. */
int wiz_helper(struct cli *c, struct err *e)
{
	return wiz_app_run(c, NULL, NULL, e);
}
