/* wiz_menu — the helper-mode menu (`ferry` with no arguments): one item
 * per wizard, and the lookup of a wizard by name for `ferry easy NAME`. */
#include <stdlib.h>
#include <string.h>

#include "wiz/wiz_app.h"
#include "wiz/wiz_backup.h"
#include "wiz/wiz_deploy.h"
#include "wiz/wiz_drill.h"
#include "wiz/wiz_init.h"
#include "wiz/wiz_menu.h"
#include "wiz/wiz_migrate.h"
#include "wiz/wiz_restore.h"
#include "wiz/wiz_status.h"

enum { M_UP = 1, M_DOWN, M_HOME, M_END, M_OPEN, M_QUIT, M_ASK_QUIT, M_HELP, M_PICK0, M_PICK1 };

static const struct ui_binding keys_menu[] = {
	{UIK_ENTER, M_OPEN, "Enter", "Open", true},
	{UIK_UP, M_UP, "Up/Down", "Move", true},
	{UIK_DOWN, M_DOWN, NULL, "next", false},
	{'k', M_UP, NULL, "previous", false},
	{'j', M_DOWN, NULL, "next", false},
	{UIK_HOME, M_HOME, "Home/End", "first or last", false},
	{UIK_END, M_END, NULL, "last", false},
	{'0', M_PICK0, NULL, "set up ferry (shown when there are no profiles)", false},
	{'1', M_PICK1, "1-7", "Pick", true},
	{'2', M_PICK1 + 1, NULL, "pick 2", false},
	{'3', M_PICK1 + 2, NULL, "pick 3", false},
	{'4', M_PICK1 + 3, NULL, "pick 4", false},
	{'5', M_PICK1 + 4, NULL, "pick 5", false},
	{'6', M_PICK1 + 5, NULL, "pick 6", false},
	{'7', M_PICK1 + 6, NULL, "pick 7", false},
	{'q', M_QUIT, "q", "Quit", true},
	{UIK_ESC, M_ASK_QUIT, "Esc", "asks whether to leave ferry", false},
	{UIK_CTRL('c'), M_ASK_QUIT, "C-c", "asks whether to leave ferry", false},
	{UIK_F(1), M_HELP, "F1", "Help", true},
	{'?', M_HELP, "?", "help", false},
};

struct menu_item {
	const char *label;
	const struct wiz_flow *flow;     /* NULL = quit */
	const char *about;
};

/* Item 0, "Set up ferry", is shown only when no profiles file is found. */
static const struct menu_item menu_items[] = {
	{"Set up ferry: no profiles yet", &wiz_init_flow,
	 "Write a first profile for this machine: the database (what is found is filled in), "
	 "the app, where bundles go. The same as `ferry init`."},
	{"Backup your instance", &wiz_backup_flow,
	 "One verified bundle: the database in one consistent snapshot, the app files, "
	 "and a manifest with every table's row count."},
	{"Restore from a backup", &wiz_restore_flow,
	 "Pick a bundle. It is verified, what is there now is backed up, and the database "
	 "is swapped in only when every row count matches."},
	{"Migrate to a new server", &wiz_migrate_flow,
	 "Back up here, copy to the new server over SSH, restore there, rewrite the "
	 "connection registry, restart services and compare both sides."},
	{"Deploy or restart services", &wiz_deploy_flow,
	 "A restore point first, then schema migrations, restarts and health checks, "
	 "rolled back when they fail."},
	{"Check system status", &wiz_status_flow,
	 "The self-check: database, services, health URLs, the last backup and drill."},
	{"Test a backup (drill)", &wiz_drill_flow,
	 "Restore a bundle into a scratch database, check every table byte for byte "
	 "against the dump and run the profile's checks; the live database is not touched."},
	{"Quit", NULL, "Leave ferry."},
};

#define NITEMS (sizeof menu_items / sizeof menu_items[0])

/* The wizard named on the command line (`ferry easy NAME`). */
const struct wiz_flow *wiz_menu_flow_find(const char *name)
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

/* The first item shown: "Set up ferry" only without profiles. */
static size_t first_item(const struct wiz_app *a)
{
	return a->no_profiles ? 0 : 1;
}

/* Note the profiles found (or why none) for the line under the menu. */
static void menu_init(struct wiz_app *a)
{
	struct err e = {0};
	char *path = profile_locate(a->profiles_path, &e);
	profile_file *pf = path ? profile_file_load(path, &e) : NULL;
	/* No file at all: setting up comes first; a file that does not load
	 * is for the operator to fix (init would not add to it). */
	bool was = a->no_profiles;
	a->no_profiles = !path;
	if (a->no_profiles && !was)
		a->menu_sel = 0;
	if (a->menu_sel < first_item(a))
		a->menu_sel = first_item(a);
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
	for (size_t i = first_item(a); i < NITEMS; i++, y++) {
		bool sel = i == a->menu_sel;
		char row[128];
		snprintf(row, sizeof row, "%zu) %s", i, menu_items[i].label);
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
	case M_UP: a->menu_sel = a->menu_sel > first_item(a) ? a->menu_sel - 1 : first_item(a); return;
	case M_DOWN: a->menu_sel = a->menu_sel + 1 < NITEMS ? a->menu_sel + 1 : NITEMS - 1; return;
	case M_HOME: a->menu_sel = first_item(a); return;
	case M_END: a->menu_sel = NITEMS - 1; return;
	case M_OPEN: menu_open(a, a->menu_sel); return;
	case M_QUIT: a->quit = true; return;
	case M_ASK_QUIT: wiz_app_ask_quit(a); return;
	case M_HELP:
		wiz_app_help(a, "Helper mode",
			     "Each item opens a guided wizard: it says what it is about to do, asks only "
			     "what the profile does not say, shows the plan and runs the same steps as "
			     "the command line (ferry backup, ferry restore, ...). Nothing changes before "
			     "you press Start on the summary. q leaves ferry; Esc and C-c ask first.");
		return;
	default:
		/* '1' is item 1; '0' (setting up) only while it is shown. */
		if (act >= M_PICK0 && act < M_PICK0 + (int)NITEMS && (size_t)(act - M_PICK0) >= first_item(a))
			menu_open(a, (size_t)(act - M_PICK0));
		return;
	}
}

const struct wiz_app_screen wiz_menu_screen = {"menu", menu_keys, menu_init, menu_draw, menu_key};
