/* wiz_easy — `ferry easy [NAME]` and helper mode (`ferry` alone on a
 * terminal): the main loop. It picks the screen (the menu, or the page's
 * kind), sets it up when it changes, draws it with the open dialog over it,
 * and hands each key to the dialog or to the screen through its key table. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd.h"
#include "wiz/wiz_app.h"
#include "wiz/wiz_draw.h"
#include "wiz/wiz_easy.h"
#include "wiz/wiz_final.h"
#include "wiz/wiz_menu.h"
#include "wiz/wiz_question.h"
#include "wiz/wiz_run.h"
#include "wiz/wiz_summary.h"

#define POLL_MS 100

/* --- the screen shown -------------------------------------------------------- */

/* The screen for what is shown now: the menu, or the page's kind. */
static const struct wiz_app_screen *screen_for(const struct wiz_app *a)
{
	static const struct wiz_app_screen *const by_kind[WP_KIND_COUNT] = {
		[WP_INFO] = &wiz_question_info, [WP_CHOICE] = &wiz_question_choice,
		[WP_FORM] = &wiz_question_form, [WP_SUMMARY] = &wiz_summary_screen,
		[WP_RUN] = &wiz_run_screen, [WP_FINAL] = &wiz_final_screen,
	};
	if (!a->w)
		return &wiz_menu_screen;
	return by_kind[a->w->pages[a->w->cur].kind];
}

/* What the screen was last set up for. */
struct shown {
	bool valid;
	bool menu;
	unsigned opened;          /* which wizard (a->opened then) */
	size_t page;
};

/* Set up the screen when what is shown changed: another page, another
 * wizard, the menu again. */
static void show_screen(struct wiz_app *a, struct shown *s)
{
	struct shown now = {.valid = true, .menu = !a->w, .opened = a->opened,
			    .page = a->w ? a->w->cur : 0};
	a->screen = screen_for(a);
	if (s->valid && s->menu == now.menu && s->opened == now.opened && s->page == now.page)
		return;
	*s = now;
	wiz_app_entered_page(a);
	a->screen->init(a);
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
		a->screen->draw(a);
		if (a->dlg_open)
			wiz_draw_dialog(a, &a->dlg);
	}
	ui_flush(&a->ui);
}

/* A key to the dialog, or to the screen through its key table. */
static void dispatch(struct wiz_app *a, int key)
{
	if (a->dlg_open) {
		wiz_app_dialog_key(a, key);
		return;
	}
	const struct wiz_app_screen *s = a->screen;
	size_t n;
	const struct ui_binding *t = s->keys(a, &n);
	s->key(a, ui_binding_action(t, n, key), key);
}

/* Run until the operator quits. */
static void loop(struct wiz_app *a)
{
	struct shown shown = {0};
	while (!a->quit) {
		wiz_app_poll(a);
		if (*a->signalled) {
			wiz_app_stop(a, err_exit_code(ERR_INTERRUPTED));
			break;
		}
		show_screen(a, &shown);
		a->spin = (unsigned)(ui_now() * 10);
		draw(a);
		int k = ui_input(&a->ui, POLL_MS);
		if (k == UIK_NONE)
			continue;
		if (k == UIK_RESIZE)
			ui_resized(&a->ui);
		else if (k == UIK_EOF)
			wiz_app_stop(a, -1);
		else if (k == UIK_ABORT)
			wiz_app_stop(a, 1);
		else
			dispatch(a, k);
	}
}

/* Whether `ferry` alone opens the menu. */
bool wiz_easy_wanted(const struct cli *c)
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
int wiz_easy_run(struct cli *c, const struct wiz_flow *flow, const char *keys_path, struct err *e)
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

/* --- `ferry easy` --------------------------------------------------------------------- */

struct easy_args {
	const char *keys;
};

static const struct cmd_option options[] = {
	{.name = "keys", .kind = CMD_STRING, .value = CMD_V_FILE, .metavar = "FILE",
	 .field = offsetof(struct easy_args, keys),
	 .help = "read keys from FILE instead of the keyboard (also\n"
		 "FERRY_KEYS=FILE); tokens: Enter Esc Tab Up Down\n"
		 "Left Right PgUp PgDn Home End Backspace Space F1\n"
		 "C-c, a character, text:STRING wait:MS waitfor:TEXT\n"
		 "dump:PATH resize:COLSxROWS; without a terminal the\n"
		 "screen is drawn off-screen ($COLUMNS x $LINES, else\n"
		 "80x24) and the script's end quits"},
	{0},
};

/* The wizards by name: the menu's flows (wiz_menu_flow_find). */
static const char *const wizards[] = {"backup", "restore", "migrate", "deploy", "status", "drill", "init", NULL};

static const struct cmd_arg args[] = {
	{.name = "WIZARD", .what = "wizard", .choices = wizards},
	{0},
};

/* `ferry easy [NAME]`: a wizard, or the menu. */
static int easy_exec(struct cmd_run *r, struct err *e)
{
	const struct easy_args *a = r->args;
	const char *name = r->argc ? r->argv[0] : NULL;
	const struct wiz_flow *flow = name ? wiz_menu_flow_find(name) : NULL;
	if (name && !flow) {
		err_set(e, ERR_USAGE, "easy: no wizard \"%s\"", name);
		return err_hint(e, "the wizards: backup, restore, migrate, deploy, status, drill, init");
	}
	return wiz_easy_run(r->c, flow, a->keys, e);
}

const struct cmd_entry wiz_easy_entry = {
	.name = "easy",
	.summary = "the guided wizards (helper mode), also what `ferry` alone opens",
	.description =
		"Opens a wizard on the terminal: it says what it is about to do, asks only\n"
		"what the profile does not say, shows the plan, runs the same core call as\n"
		"the command, and ends with the result and the next command. Without a\n"
		"wizard name: the helper menu (also what `ferry` alone opens on a terminal).\n"
		"With --profile the question for the profile is skipped.\n",
	.footer =
		"Exit status: the wizard's run (0, or the error's code), 10 when left before\n"
		"anything ran, 130 when cancelled.\n",
	.options = options,
	.args = args,
	.args_max = 1,
	.need = CMD_NEED_OPTIONAL,
	.args_size = sizeof(struct easy_args),
	.exec = easy_exec,
};

/* `ferry` with no arguments on a terminal (or with FERRY_KEYS): the menu. */
int wiz_easy_helper(struct cli *c, struct err *e)
{
	return wiz_easy_run(c, NULL, NULL, e);
}
