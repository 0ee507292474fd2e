/* wiz — the helper-mode menu and the guided wizards (backup, restore,
 * migrate, deploy, status) over the core flows.
 *
 * A wizard is a list of pages. Each flow (wiz_backup.c, ...) adds its
 * question pages; the framework adds the summary (the plan from core), the
 * run page and the final page. Every screen is (init, draw, key) over its
 * own model, and keys map to named actions through one table per screen
 * that also carries the help text (DESIGN.md conventions 9 and 10).
 *
 * Threads: the core flow runs in a worker thread (struct wiz_job). Its
 * events go through a mutex-protected queue that the UI thread drains every
 * 100 ms; questions the flow asks while it runs (type the database name,
 * accept an unknown SSH host key) block the worker until the UI answers.
 * The UI thread alone touches curses and the wizard's pages.
 *
 * Ownership: everything a struct here points to is owned by it and freed by
 * its _done/_free function, except const pointers, which are borrowed. */
#ifndef FERRY_WIZ_H
#define FERRY_WIZ_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "event.h"
#include "plan.h"
#include "profile.h"
#include "ui/ui.h"
#include "util.h"

#define WIZ_MAX_PAGES 12
#define WIZ_MAX_FIELDS 4
#define WIZ_LOG_KEEP 2000

/* --- the run view: checklist, progress, log (UI thread) ---------------------- */

enum wiz_step_state { WS_PENDING, WS_RUNNING, WS_DONE, WS_FAILED, WS_SKIPPED };

struct wiz_step {
	char *id;
	char *title;
	char *note;               /* done/skip note or failure message */
	enum wiz_step_state st;
	double t0, t1;            /* started, ended (monotonic s) */
};

struct wiz_runview {
	struct wiz_step *steps;
	size_t nsteps;
	/* progress of the running step */
	char *pstep;
	char *punit;              /* NULL = bytes */
	uint64_t pdone, ptotal;
	double pt0;               /* first progress event of the step */
	double pt_last;
	/* the log pane: the last WIZ_LOG_KEEP lines, oldest first */
	char **log;
	size_t nlog;
	size_t scroll;            /* lines scrolled back from the newest */
	double started, ended;
	bool finished, ok;
};

/* Start from the plan's steps (plan may be NULL). */
void wiz_runview_init(struct wiz_runview *rv, const struct plan *plan, double now);
/* Apply one event. A step the plan did not name is added before the first
 * pending one. */
void wiz_runview_apply(struct wiz_runview *rv, const struct event *ev, double now);
/* The run ended; on success planned steps that never reported are done. */
void wiz_runview_finish(struct wiz_runview *rv, bool ok, double now);
void wiz_runview_log(struct wiz_runview *rv, const char *line);
void wiz_runview_done(struct wiz_runview *rv);
/* The running step, or NULL. */
const struct wiz_step *wiz_runview_current(const struct wiz_runview *rv);
/* Progress in percent, -1 when the total is unknown or there is none. */
int wiz_progress_pct(const struct wiz_runview *rv);
/* "12.3 MiB of 27.0 MiB, 4.1 MiB/s, ETA 3 s" ("" without progress). */
void wiz_progress_text(const struct wiz_runview *rv, double now, char *out, size_t n);

/* --- the worker thread ------------------------------------------------------- */

enum wiz_ask_kind { WIZ_ASK_NONE, WIZ_ASK_WORD, WIZ_ASK_HOSTKEY };

struct wiz_job;
/* The work: runs in the worker thread; returns 0 or -1 with e filled. */
typedef int (*wiz_job_fn)(struct wiz_job *j, void *ud, struct err *e);

struct wiz_job {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool live;                /* started and not joined yet */
	wiz_job_fn fn;
	void *ud;
	struct event_sink sink;   /* hand to the flow: queues events */
	volatile sig_atomic_t cancel;   /* the flow's cancel flag */
	/* under mu */
	bool finished;
	int rc;
	struct err err;
	struct event *q;          /* copies, strings owned */
	size_t qn, qcap;
	enum wiz_ask_kind ask;    /* a question waiting for the UI */
	char *ask_a, *ask_b;      /* WORD: the plan as text, the word; HOSTKEY: host, fingerprint */
	bool ask_shown, answered;
	int answer;               /* 1 = yes */
};

/* Start fn(j, ud) in a new thread. -1 when no thread could be made. */
int wiz_job_start(struct wiz_job *j, wiz_job_fn fn, void *ud);
/* Move the queued events out (caller frees them with wiz_events_free). */
size_t wiz_job_take(struct wiz_job *j, struct event **out);
void wiz_events_free(struct event *v, size_t n);
/* A question not shown yet: true with copies of its texts (caller frees). */
bool wiz_job_question(struct wiz_job *j, enum wiz_ask_kind *kind, char **a, char **b);
/* The UI's answer to the question (yes = 1). */
void wiz_job_answer(struct wiz_job *j, int yes);
/* Worker side: ask and wait; 1 = yes, 0 = no or cancelled. */
int wiz_job_ask(struct wiz_job *j, enum wiz_ask_kind kind, const char *a, const char *b);
bool wiz_job_finished(struct wiz_job *j);
/* Set the cancel flag (a pending question is answered no). */
void wiz_job_cancel(struct wiz_job *j);
/* Wait for the thread; rc and err hold its result. NULL-safe, idempotent. */
void wiz_job_join(struct wiz_job *j);

/* --- dialogs ---------------------------------------------------------------- */

enum wiz_dlg_kind {
	WD_CONFIRM,               /* a question with two buttons */
	WD_TYPE,                  /* type a word (the database name) to go on */
	WD_HOSTKEY,               /* unknown SSH host key: Accept / Reject */
	WD_INPUT,                 /* a line of text, checked */
	WD_HELP,                  /* help for the page and its keys */
	WD_MESSAGE,               /* text and OK */
};

enum wiz_dlg_result { WD_OPEN = 0, WD_YES, WD_NO };

struct wiz_dialog {
	enum wiz_dlg_kind kind;
	int purpose;              /* the opener's tag: what to do with the answer */
	char title[128];
	struct strv body;         /* lines */
	const char *buttons[2];   /* [0] = yes, [1] = no */
	size_t nbuttons;
	size_t focus;
	char prompt[256];         /* WD_TYPE, WD_INPUT: the line over the input */
	struct ui_line input;     /* WD_TYPE, WD_INPUT */
	char expect[256];         /* WD_TYPE: the word to type */
	char error[256];          /* why the input does not do */
	int (*check)(const char *text, const void *ud, char *why, size_t n);
	const void *check_ud;
	const struct ui_binding *page_keys;  /* WD_HELP: the page's table */
	size_t npage_keys;
	size_t scroll;
	int result;
};

/* Open (reset) a dialog of a kind with a title. */
void wiz_dialog_open(struct wiz_dialog *d, enum wiz_dlg_kind kind, int purpose, const char *title);
void wiz_dialog_line(struct wiz_dialog *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The unknown-host-key question. */
void wiz_dialog_hostkey(struct wiz_dialog *d, int purpose, const char *host, const char *fingerprint);
/* A key for the dialog; returns its result (WD_OPEN while it stays). */
int wiz_dialog_key(struct wiz_dialog *d, int key);
void wiz_dialog_done(struct wiz_dialog *d);
/* The dialog's key table. */
const struct ui_binding *wiz_dialog_keys(const struct wiz_dialog *d, size_t *n);

/* --- wizards ------------------------------------------------------------------ */

enum wiz_page_kind { WP_INFO, WP_CHOICE, WP_FORM, WP_SUMMARY, WP_RUN, WP_FINAL, WP_KIND_COUNT };

struct wiz_item {
	char *label;              /* the row shown */
	char *value;              /* what picking it means (a name, a path) */
};

enum wiz_field_kind { WF_TEXT, WF_OPTION };

struct wiz;
struct wiz_field;
/* A field's check: -1 with the reason in why when the value will not do. */
typedef int (*wiz_check_fn)(const struct wiz *w, const struct wiz_field *f, char *why, size_t n);

struct wiz_field {
	const char *id;
	const char *label;
	const char *help;
	enum wiz_field_kind kind;
	struct ui_line line;      /* WF_TEXT */
	const char *const *options;   /* WF_OPTION: NULL-terminated */
	int option;
	wiz_check_fn check;
};

struct wiz_page {
	const char *id;
	enum wiz_page_kind kind;
	const char *title;        /* the question, e.g. "Which profile?" */
	const char *help;         /* the F1 text */
	char *text;               /* explanation above the content */
	char *header;             /* WP_CHOICE: a header row over the items */
	bool skip;                /* not shown (decided when entered) */
	bool blocked;             /* Next is not possible (text says why) */
	struct wiz_item *items;
	size_t nitems, sel, top;
	struct wiz_field fields[WIZ_MAX_FIELDS];
	size_t nfields, focus;
	char error[512];          /* inline validation message */
	char *made_for;           /* what the content was filled for */
};

/* A flow's part of a wizard. The run and plan hooks run in the worker
 * thread and must only read the wizard; everything else runs in the UI
 * thread. */
struct wiz_flow {
	const char *name;         /* "backup": `ferry easy backup` */
	const char *title;        /* "Backup your instance" */
	const char *doing;        /* "Backing up" */
	bool no_summary;          /* read-only flows start without a plan */
	/* Add the question pages (wiz_add_*). */
	void (*setup)(struct wiz *w);
	/* A page is reached going forward: fill it from the answers so far. */
	void (*enter)(struct wiz *w, struct wiz_page *pg);
	/* Next on a page: -1 with why filled keeps the operator there. */
	int (*leave)(struct wiz *w, struct wiz_page *pg, char *why, size_t n);
	/* One line: what it is about to do. */
	void (*about)(const struct wiz *w, char *out, size_t n);
	/* Worker: the plan from core (backup_plan, restore_plan, ...). */
	int (*plan)(struct wiz *w, struct plan *plan, struct err *e);
	/* Worker: THE core call (backup_run, restore_run, ...). */
	int (*run)(struct wiz *w, struct wiz_job *j, struct err *e);
	/* After the run: result lines, the file written, the next command. */
	void (*result)(struct wiz *w);
	/* Save as profile: apply the answers to a copy of the profile's JSON
	 * object (a json_t *); NULL = a plain copy. */
	void (*save)(const struct wiz *w, void *profile_json);
	/* Which profile Save copies (NULL hook = the chosen one, w->p) and the
	 * command that uses the copy next time (NULL hook = "ferry FLOW
	 * --profile NAME"; the string is the caller's to free). */
	const char *(*save_base)(const struct wiz *w);
	char *(*save_next)(const struct wiz *w, const char *saved_name);
	/* Free the flow's state. */
	void (*free_state)(struct wiz *w);
};

extern const struct wiz_flow wiz_flow_backup;
extern const struct wiz_flow wiz_flow_restore;
extern const struct wiz_flow wiz_flow_migrate;
extern const struct wiz_flow wiz_flow_deploy;
extern const struct wiz_flow wiz_flow_status;

struct wiz {
	const struct wiz_flow *flow;
	void *st;                 /* the flow's answers and results */
	/* profiles */
	char *profiles_path;
	profile_file *pf;
	struct err load_err;      /* kind != ERR_OK: loading failed */
	char *want_profile;       /* --profile: the question is skipped */
	const struct profile *p;  /* the chosen profile */
	/* pages */
	struct wiz_page pages[WIZ_MAX_PAGES];
	size_t npages, cur;
	size_t hist[WIZ_MAX_PAGES];
	size_t nhist;
	/* summary */
	struct plan plan;
	bool have_plan;
	struct err plan_err;
	size_t plan_scroll;
	int button;
	char note[512];           /* a message on the summary (saved, ...) */
	/* the worker: plan or run */
	struct wiz_job job;
	enum { WJ_NONE, WJ_PLAN, WJ_RUN } job_kind;
	/* run */
	struct wiz_runview rv;
	FILE *log;
	char *log_path;
	bool ran;
	int rc;
	struct err err;
	/* final */
	struct strv result;
	size_t result_top;        /* the first result line shown (scrolled) */
	int result_rows;          /* rows the result had at the last draw */
	char *written;            /* "Bundle: /path" etc. */
	char *next_cmd;
	int exit_code;
};

/* A new wizard for flow: loads the profiles (a failure becomes a page
 * saying why), adds the pages. profiles_path / profile_name may be NULL. */
struct wiz *wiz_new(const struct wiz_flow *flow, const char *profiles_path, const char *profile_name);
void wiz_free(struct wiz *w);
const struct wiz_flow *wiz_flow_find(const char *name);

/* Page builders for the flows' setup. */
struct wiz_page *wiz_add_page(struct wiz *w, const char *id, enum wiz_page_kind kind,
			      const char *title, const char *help);
/* The "Which profile?" page (skipped with one profile or --profile). */
struct wiz_page *wiz_add_profile_page(struct wiz *w, const char *id, const char *title);
struct wiz_field *wiz_add_text(struct wiz_page *pg, const char *id, const char *label,
			       const char *help, wiz_check_fn check);
struct wiz_field *wiz_add_option(struct wiz_page *pg, const char *id, const char *label,
				 const char *help, const char *const *options);
void wiz_page_text(struct wiz_page *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wiz_page_clear_items(struct wiz_page *pg);
void wiz_page_item(struct wiz_page *pg, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Whether the page must be filled again for key (and remember key). */
bool wiz_page_refill(struct wiz_page *pg, const char *key);

struct wiz_page *wiz_page(struct wiz *w, const char *id);
const struct wiz_page *wiz_page_c(const struct wiz *w, const char *id);
const struct wiz_field *wiz_field(const struct wiz *w, const char *page, const char *field);
/* The picked item's value of a choice page, or NULL. */
const char *wiz_choice(const struct wiz *w, const char *page);
/* A field's text, or its option's text. */
const char *wiz_answer(const struct wiz *w, const char *page, const char *field);

/* Navigation (UI thread). Next validates the page (fields, then the flow's
 * leave hook) and moves to the next page not skipped; Back returns to the
 * page before, answers kept. Both return false when nothing moved. */
bool wiz_next(struct wiz *w);
bool wiz_back(struct wiz *w);
struct wiz_page *wiz_current(struct wiz *w);
/* "2 of 5": position among the pages not skipped. */
void wiz_position(const struct wiz *w, size_t *at, size_t *of);
/* Check one field: 0, or -1 with the reason. */
int wiz_field_check(const struct wiz *w, const struct wiz_field *f, char *why, size_t n);

/* Checks the flows share. */
int wiz_check_abs_dir(const struct wiz *w, const struct wiz_field *f, char *why, size_t n);
int wiz_check_nonempty(const struct wiz *w, const struct wiz_field *f, char *why, size_t n);
int wiz_check_profile_name(const char *text, const void *wiz, char *why, size_t n);

/* Save as profile: a copy of the chosen profile named name, with the
 * flow's answers, added to the profiles file (written atomically and
 * loaded again to check it). msg says what happened. */
int wiz_save_profile(struct wiz *w, const char *name, char *msg, size_t n);
/* The profile Save copies: the flow's save_base, else the chosen one. */
const char *wiz_save_base(const struct wiz *w);

/* The run's log file: opened under the profile's log_dir when the run
 * starts, one line per event, the result at the end. */
void wiz_log_open(struct wiz *w);
void wiz_log_event(struct wiz *w, const struct event *ev);
void wiz_log_close(struct wiz *w);

/* Shared by the flows: a confirmation (restore: type the database name;
 * migrate: type "copy") and the unknown-host-key question go through the
 * job to the UI. ud is the wizard's job. Signatures of flow_confirm_fn and
 * flow_hostkey_fn (core/flow.h). */
int wiz_confirm_word(void *ud, const struct plan *plan, const char *word, struct err *e);
int wiz_confirm_host_key(void *ud, const char *host, int port, const char *fingerprint,
			 const char *type);

/* --- the app: menu, screens, main loop --------------------------------------- */

struct cli;

/* What an open dialog's answer is for. */
enum wiz_purpose { DP_NONE, DP_LEAVE, DP_CANCEL_RUN, DP_WORD, DP_HOSTKEY, DP_SAVE, DP_HELP, DP_MESSAGE };

struct wiz_app {
	struct ui ui;
	const char *profiles_path;        /* --profiles */
	const char *profile_name;         /* --profile */
	const struct wiz_flow *direct;    /* `ferry easy NAME`: quit after it */
	struct wiz *w;                    /* the open wizard; NULL = the menu */
	size_t shown;                     /* the page the screen was set up for */
	size_t menu_sel;
	char menu_note[512];              /* the profiles found, under the menu */
	struct wiz_dialog dlg;
	bool dlg_open;
	bool quit;
	bool stopping;                    /* a signal: cancel, then quit */
	int exit_code;
	volatile sig_atomic_t *signalled;
	unsigned spin;                    /* spinner frame */
};

/* A screen: (init, draw, key) over its model, with its key table. */
struct wiz_screen {
	const char *name;
	const struct ui_binding *(*keys)(const struct wiz_app *a, size_t *n);
	void (*init)(struct wiz_app *a);
	void (*draw)(const struct wiz_app *a);
	void (*key)(struct wiz_app *a, int action, int key);
};

extern const struct wiz_screen wiz_screen_menu;
extern const struct wiz_screen wiz_screen_info;
extern const struct wiz_screen wiz_screen_choice;
extern const struct wiz_screen wiz_screen_form;
extern const struct wiz_screen wiz_screen_summary;
extern const struct wiz_screen wiz_screen_run;
extern const struct wiz_screen wiz_screen_final;

/* The screen shown now (the menu, or the current page's kind). */
const struct wiz_screen *wiz_app_screen(const struct wiz_app *a);
/* The page changed: set up its screen. */
void wiz_app_page_changed(struct wiz_app *a);
/* Open a dialog (it takes the keys until it closes). */
struct wiz_dialog *wiz_app_dialog(struct wiz_app *a, enum wiz_dlg_kind kind, int purpose, const char *title);
/* F1: help for the screen and its keys. */
void wiz_app_help(struct wiz_app *a, const char *title, const char *text);
/* C-c outside a run: ask whether to leave the wizard. */
void wiz_app_ask_leave(struct wiz_app *a);
/* Leave the wizard: back to the menu, or quit when opened directly. */
void wiz_app_close_wizard(struct wiz_app *a);
/* Open a wizard from the menu. */
void wiz_app_open(struct wiz_app *a, const struct wiz_flow *flow);
/* Start the worker for the summary's plan or the run. */
void wiz_app_start_plan(struct wiz_app *a);
void wiz_app_start_run(struct wiz_app *a);
/* Drain the worker's events and questions; notice its end. */
void wiz_app_poll(struct wiz_app *a);

/* Common parts of a wizard page: title line, the one line about what will
 * happen, the page's title and text; returns the first free row. */
int wiz_draw_chrome(const struct wiz_app *a, const struct ui_binding *keys, size_t nkeys);
/* The inline error above the key-help line (two rows when it is long). */
void wiz_draw_error(const struct wiz_app *a, const char *msg);
/* A dialog over the screen. */
void wiz_draw_dialog(const struct wiz_app *a, const struct wiz_dialog *d);

/* Open the helper menu (flow NULL) or one wizard; the process exit code. */
int wiz_app_run(struct cli *c, const struct wiz_flow *flow, const char *keys_path, struct err *e);

#endif
