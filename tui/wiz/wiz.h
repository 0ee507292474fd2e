/* wiz — a guided wizard over one core flow (backup, restore, migrate,
 * deploy, status): its pages in order, the answers, Next and Back.
 *
 * A wizard is a list of pages. Each flow (wiz_backup.c, ...) adds its
 * question pages; wiz_new adds the summary (the plan from core), the run
 * page and the final page. The screens that show them are wiz_question.c,
 * wiz_summary.c, wiz_run.c and wiz_final.c; the app (wiz_app.c) runs the
 * flow's plan and run hooks in a worker thread (wiz_job.h).
 *
 * Ownership: everything a struct here points to is owned by it and freed by
 * its _done/_free function, except const pointers, which are borrowed. */
#ifndef FERRY_WIZ_H
#define FERRY_WIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "plan.h"
#include "profile/profile.h"
#include "runlog.h"
#include "util.h"
#include "wiz/wiz_job.h"
#include "wiz/wiz_page.h"
#include "wiz/wiz_runview.h"

#define WIZ_MAX_PAGES 12

/* A flow's part of a wizard. The run and plan hooks run in the worker
 * thread and must only read the wizard; everything else runs in the UI
 * thread. */
struct wiz_flow {
	const char *name;         /* "backup": `ferry easy backup` */
	const char *title;        /* "Backup your instance" */
	const char *doing;        /* "Backing up" */
	bool no_summary;          /* read-only flows start without a plan */
	bool no_profiles;         /* needs no profiles file (it writes the first one):
				   * profiles_path is --profiles, or NULL */
	/* Add the question pages (wiz_add_page, wiz_page_add_*). */
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
	void (*save)(const struct wiz *w, profile_edit *ed);
	/* Which profile Save copies (NULL hook = the chosen one, w->p) and the
	 * command that uses the copy next time (NULL hook = "ferry FLOW
	 * --profile NAME"; the string is the caller's to free). */
	const char *(*save_base)(const struct wiz *w);
	char *(*save_next)(const struct wiz *w, const char *saved_name);
	/* Free the flow's state. */
	void (*free_state)(struct wiz *w);
};

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
	runlog *log;              /* the run's log file (core/runlog.h) */
	char *log_path;           /* its path, kept after it is closed */
	bool ran;
	int rc;
	struct err err;
	/* final */
	struct strv result;
	size_t result_top;        /* the first result line shown (scrolled) */
	int result_rows;          /* rows the result had at the last draw */
	size_t result_shown;      /* result lines that fitted in them */
	char *written;            /* "Bundle: /path" etc. */
	char *next_cmd;
	int exit_code;
};

/* A new wizard for flow: loads the profiles (a failure becomes a page
 * saying why), adds the pages. profiles_path / profile_name may be NULL. */
struct wiz *wiz_new(const struct wiz_flow *flow, const char *profiles_path, const char *profile_name);
/* Free the wizard (its worker is joined first). NULL is fine. */
void wiz_free(struct wiz *w);

/* Page builders for the flows' setup. */
struct wiz_page *wiz_add_page(struct wiz *w, const char *id, enum wiz_page_kind kind,
			      const char *title, const char *help);
/* The "Which profile?" page (skipped with one profile or --profile). */
struct wiz_page *wiz_add_profile_page(struct wiz *w, const char *id, const char *title);

/* The page with this id, or NULL. */
struct wiz_page *wiz_find_page(struct wiz *w, const char *id);
const struct wiz_page *wiz_find_page_c(const struct wiz *w, const char *id);
const struct wiz_page_field *wiz_field(const struct wiz *w, const char *page, const char *field);
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
int wiz_field_check(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n);

#endif
