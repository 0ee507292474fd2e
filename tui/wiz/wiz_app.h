/* wiz_app — helper mode's state and the services its screens use: open a
 * wizard, Next and Back, dialogs and their answers, help, the worker for
 * the summary's plan and the run, stopping. The screens (wiz_menu.c,
 * wiz_question.c, wiz_summary.c, wiz_run.c, wiz_final.c) call these; the
 * main loop (wiz_easy.c) picks the screen, sets it up when it changes and
 * feeds it the keys. This module calls no screen: a new page or a closed
 * wizard is noticed by the loop.
 *
 * Threads: everything here runs in the UI thread; the flow's plan and run
 * hooks run in the wizard's worker (wiz_job.h).
 *
 * Ownership: the app owns the open wizard (w) and the dialog; profiles_path,
 * profile_name, direct, screen and signalled are borrowed. */
#ifndef FERRY_WIZ_APP_H
#define FERRY_WIZ_APP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "ui/ui.h"
#include "wiz/wiz.h"
#include "wiz/wiz_dialog.h"

/* What an open dialog's answer is for. */
enum wiz_app_purpose { DP_NONE, DP_LEAVE, DP_QUIT, DP_CANCEL_RUN, DP_WORD, DP_HOSTKEY, DP_SAVE, DP_HELP, DP_MESSAGE };

struct wiz_app;

/* A screen: (init, draw, key) over its model, with its key table. */
struct wiz_app_screen {
	const char *name;
	const struct ui_binding *(*keys)(const struct wiz_app *a, size_t *n);
	void (*init)(struct wiz_app *a);
	void (*draw)(const struct wiz_app *a);
	void (*key)(struct wiz_app *a, int action, int key);
};

struct wiz_app {
	struct ui ui;
	const char *profiles_path;        /* --profiles */
	const char *profile_name;         /* --profile */
	const struct wiz_flow *direct;    /* `ferry easy NAME`: quit after it */
	struct wiz *w;                    /* the open wizard; NULL = the menu */
	unsigned opened;                  /* wizards opened so far */
	const struct wiz_app_screen *screen;  /* the screen shown now (set by the loop) */
	size_t menu_sel;                  /* the item picked (0: Set up ferry) */
	bool no_profiles;                 /* no profiles file found: Set up ferry shown */
	char menu_note[512];              /* the profiles found, under the menu */
	struct wiz_dialog dlg;
	bool dlg_open;
	bool quit;
	int exit_code;
	volatile sig_atomic_t *signalled;
	unsigned spin;                    /* spinner frame */
};

/* Open a wizard (from the menu, or `ferry easy NAME`). */
void wiz_app_open(struct wiz_app *a, const struct wiz_flow *flow);
/* Leave the wizard: back to the menu, or quit when opened directly. */
void wiz_app_close_wizard(struct wiz_app *a);
/* Next: validate the page and move on. Back: the page before, or out of
 * the wizard from its first page. */
void wiz_app_next(struct wiz_app *a);
void wiz_app_back(struct wiz_app *a);
/* The loop entered another page: a plan still being made for a summary
 * that is no longer shown is stopped. */
void wiz_app_entered_page(struct wiz_app *a);

/* Open a dialog (it takes the keys until it closes). */
struct wiz_dialog *wiz_app_dialog(struct wiz_app *a, enum wiz_dialog_kind kind, int purpose, const char *title);
/* A key for the open dialog; its answer is acted on when it closes. */
void wiz_app_dialog_key(struct wiz_app *a, int key);
/* F1: help for the screen and its keys (from a->screen's table). */
void wiz_app_help(struct wiz_app *a, const char *title, const char *text);
/* C-c outside a run: ask whether to leave the wizard. */
void wiz_app_ask_leave(struct wiz_app *a);
/* Esc or C-c on the menu, C-c on a result: "Leave ferry?" (y leaves). */
void wiz_app_ask_quit(struct wiz_app *a);

/* Start the worker for the summary's plan or the run. */
void wiz_app_start_plan(struct wiz_app *a);
void wiz_app_start_run(struct wiz_app *a);
/* Drain the worker's events and questions; notice its end. */
void wiz_app_poll(struct wiz_app *a);
/* A signal or the end of a key script: cancel the work, wait for it, and
 * quit with exit_code (-1: the direct wizard's outcome). */
void wiz_app_stop(struct wiz_app *a, int exit_code);

#endif
