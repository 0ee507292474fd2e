/* wiz_runview — the run page's model (UI thread only): the checklist of
 * steps from the plan, the running step's progress and the log pane, fed
 * by the flow's events. No curses.
 *
 * Ownership: the view owns every string it holds; wiz_runview_done frees
 * them. */
#ifndef FERRY_WIZ_RUNVIEW_H
#define FERRY_WIZ_RUNVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "plan.h"

#define WIZ_RUNVIEW_LOG_KEEP 2000

enum wiz_runview_state { WS_PENDING, WS_RUNNING, WS_DONE, WS_FAILED, WS_SKIPPED };

struct wiz_runview_step {
	char *id;
	char *title;
	char *note;               /* done/skip note or failure message */
	enum wiz_runview_state st;
	double t0, t1;            /* started, ended (monotonic s) */
};

struct wiz_runview {
	struct wiz_runview_step *steps;
	size_t nsteps;
	/* progress of the running step */
	char *pstep;
	char *punit;              /* NULL = bytes */
	char *ptext;              /* the flow's own progress line, or NULL */
	uint64_t pdone, ptotal;
	double pt0;               /* first progress event of the step */
	double pt_last;
	int pquarter;             /* the last quarter (25%, 50%, ...) logged */
	/* the log pane: the last WIZ_RUNVIEW_LOG_KEEP lines, oldest first */
	char **log;
	size_t nlog;
	size_t scroll;            /* lines scrolled back from the newest */
	double started, ended;
	double waited;            /* seconds the run waited for the operator */
	bool finished, ok;
};

/* Start from the plan's steps (plan may be NULL). */
void wiz_runview_init(struct wiz_runview *rv, const struct plan *plan, double now);
/* Apply one event. A step the plan did not name is added before the first
 * pending one. The log pane gets the log lines, and a line when a step
 * ends (with its note and seconds) and passes each quarter of its
 * progress. */
void wiz_runview_apply(struct wiz_runview *rv, const struct event *ev, double now);
/* The run's working time: start to end (or now), without the time it
 * waited for the operator (typing the confirmation). */
double wiz_runview_seconds(const struct wiz_runview *rv, double now);
/* The run ended; on success planned steps that never reported are done. */
void wiz_runview_finish(struct wiz_runview *rv, bool ok, double now);
/* Add a line to the log pane (copied). */
void wiz_runview_log(struct wiz_runview *rv, const char *line);
void wiz_runview_done(struct wiz_runview *rv);
/* The running step, or NULL. */
const struct wiz_runview_step *wiz_runview_current(const struct wiz_runview *rv);
/* Progress in percent, -1 when the total is unknown or there is none. */
int wiz_runview_pct(const struct wiz_runview *rv);
/* "12.3 MiB of 27.0 MiB, 4.1 MiB/s, ETA 3 s" ("" without progress). */
void wiz_runview_progress_text(const struct wiz_runview *rv, double now, char *out, size_t n);

#endif
