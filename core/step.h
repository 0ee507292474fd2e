/* step — a flow is a table of steps, and the plan and the run walk the same
 * table.
 *
 *   flow_plan()  prepare → every applicable step's check → the plan (ids,
 *                titles, details). Read-only: this is --dry-run and the
 *                wizard's summary.
 *   flow_run()   "preflight": prepare → the same checks → then each
 *                applicable step in order: start, run, done / skipped /
 *                failed events. Confirmation is asked once, before the
 *                first destructive step. Cancellation is checked between
 *                steps (and by the steps inside long work).
 *
 * So a dry run makes exactly the checks the run makes, and on a successful
 * run the ids of the step events are exactly the plan's ids, in the same
 * order. A step that runs a sub-flow (migrate's backup) passes its events
 * on with ids prefixed "<step>/" (step_child_sink): top-level ids never
 * contain a '/'.
 *
 * The runner owns the step events, the timing of each step (the report),
 * the "failed at X" message and the flow's hint about the state of each
 * side and the command that continues, and the resume record of flows
 * that can continue after a failure (steps marked resumable that finished
 * in an earlier run are skipped: "done by an earlier run").
 *
 * Ownership: the tables are static; ctx is the flow's and is only passed
 * through. A struct flow_report is the caller's, freed with
 * flow_report_done. */
#ifndef FERRY_STEP_H
#define FERRY_STEP_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "event.h"
#include "plan.h"

/* Asks the operator to confirm a destructive plan, e.g. by typing the
 * database name (word). 0 when confirmed, -1 with e filled (ERR_REFUSED)
 * when not. */
typedef int (*step_confirm_fn)(void *ud, const struct plan *plan, const char *word, struct err *e);

/* What a running step sees of the runner. */
struct step_run;

/* The outcomes of a step's run besides failure (-1). */
enum { STEP_DONE = 0, STEP_SKIPPED = 1 };

struct step {
	const char *id;           /* stable: the event and plan id */
	const char *title;        /* what the step does, one line */
	/* Whether the step applies (NULL = always); asked after prepare, by
	 * the plan and the run alike. */
	bool (*applies)(void *ctx);
	/* A read-only precondition (NULL = none), made by the plan and by the
	 * run's preflight before any step runs. */
	int (*check)(void *ctx, struct err *e);
	/* The plan's detail line (caller frees; NULL = none). */
	char *(*detail)(void *ctx);
	/* The work: STEP_DONE, STEP_SKIPPED (the note says why), or -1 with e
	 * filled. step_note() sets the line shown with the outcome. */
	int (*run)(void *ctx, struct step_run *sr, struct err *e);
	/* Changes what the operator has: the confirmation comes before the
	 * first such step at the latest. */
	bool destructive;
	/* Ask for the confirmation before this step already (a safety backup
	 * that precedes the destructive steps: the operator confirms once, at
	 * the start, and can walk away). */
	bool asks;
	/* Recorded in the resume file when done; a rerun skips it. */
	bool resumable;
	/* A resumable step done by an earlier run: does its result still hold
	 * (the bundle it made is still there and sound)? NULL = yes. When not,
	 * the step runs again and the marks of the steps after it are dropped. */
	bool (*still_done)(void *ctx, struct step_run *sr);
};

struct flow_def {
	const char *name;         /* "backup", also the default lock/log name */
	const struct step *steps;
	size_t nsteps;
	/* Resolve options, connect, read what the checks and details need
	 * (read-only). Called once by flow_plan and once by flow_run. */
	int (*prepare)(void *ctx, struct err *e);
	/* The plan's title; caller frees. */
	char *(*title)(void *ctx);
	/* The preflight step's note (NULL hook or result = none); caller frees. */
	char *(*preflight_note)(void *ctx);
	/* Whether the destructive steps need a confirmation, and the word to
	 * type (caller frees); NULL hook = always, the word "yes". */
	char *(*confirm_word)(void *ctx);
	/* After a failure at step id: add the state of each side and the
	 * command that continues to e's hint (NULL = nothing to add). */
	void (*failed)(void *ctx, const char *step_id, struct err *e);
	/* The run only (never the plan), after prepare and before the checks:
	 * take the flow's lock and deal with what a killed run left (NULL =
	 * none). unlock is called at the end of a run whose lock succeeded. */
	int (*lock)(void *ctx, const struct event_sink *ev, struct err *e);
	void (*unlock)(void *ctx);
	/* A last step that runs whatever happened before it (a log of the
	 * run); listed last in the plan. step_failed() tells it the outcome.
	 * Its own failure is reported but does not change the run's. */
	const struct step *finally;
};

/* The preflight step every run starts with (and every plan lists first). */
#define STEP_PREFLIGHT "preflight"

struct flow_run_opts {
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
	bool yes;                   /* confirmed already (--yes) */
	step_confirm_fn confirm;    /* NULL and !yes: destructive steps are refused */
	void *confirm_ud;
	/* The resume record of a flow that continues after a failure
	 * ({"done": [ids], "data": {...}}); NULL = none. Removed when the run
	 * succeeds. */
	const char *resume_path;
};

enum step_state { STEP_STATE_PENDING, STEP_STATE_DONE, STEP_STATE_SKIPPED, STEP_STATE_FAILED };

struct flow_step_result {
	char *id;
	enum step_state state;
	char *note;                 /* done/skip note or the failure */
	double seconds;             /* wall time of its run (0 when not run) */
};

struct flow_report {
	struct flow_step_result *steps;   /* preflight first, in run order */
	size_t n;
	char *failed_step;          /* NULL on success */
	double seconds;             /* the whole run, confirmation time excluded */
	double confirm_seconds;     /* time spent waiting for the operator */
};
void flow_report_done(struct flow_report *r);

/* prepare → checks → the plan; plan_done frees it (also on failure). */
int flow_plan(const struct flow_def *f, void *ctx, struct plan *plan, struct err *e);

/* preflight → steps (see above). rep (may be NULL) is filled either way. */
int flow_run(const struct flow_def *f, void *ctx, const struct flow_run_opts *o,
	     struct flow_report *rep, struct err *e);

/* --- for the steps -------------------------------------------------------- */

/* The line shown with the step's outcome ("3 tables, 120 rows"). */
void step_note(struct step_run *sr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const struct event_sink *step_events(const struct step_run *sr);
volatile sig_atomic_t *step_cancel(const struct step_run *sr);
/* -1 with ERR_INTERRUPTED (and a hint) when cancelled, else 0. */
int step_check_cancel(const struct step_run *sr, struct err *e);
/* The flow's own data in the resume record (an object; borrowed), NULL
 * without one; saved with the record after each resumable step. */
json_t *step_resume_data(const struct step_run *sr);
/* In the finally step: the id of the step that failed, NULL after success;
 * and that failure. */
const char *step_failed(const struct step_run *sr);
const struct err *step_failure(const struct step_run *sr);
/* The outcomes so far (for a log written by the finally step). */
const struct flow_report *step_report(const struct step_run *sr);
/* Whether an earlier run finished step id (resume record). */
bool step_done_before(const struct step_run *sr, const char *id);

/* A sink that passes events on to parent with "<prefix>/" before their
 * step ids (a sub-flow's steps inside one of ours). */
struct step_child {
	const struct event_sink *parent;
	const char *prefix;
	struct event_sink sink;
};
const struct event_sink *step_child_sink(struct step_child *c, const struct event_sink *parent,
					 const char *prefix);

#endif
