/* wiz_runview — the run page's model: the checklist of steps, the
 * running step's progress and the log pane, fed by the flow's events. No
 * curses here; unit-tested in tests/unit/test_wiz_model.c. */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wiz/wiz_runview.h"

/* Free one step's strings. */
static void step_free(struct wiz_runview_step *s)
{
	free(s->id);
	free(s->title);
	free(s->note);
}

/* Insert a step at position at. */
static struct wiz_runview_step *step_insert(struct wiz_runview *rv, size_t at, const char *id, const char *title)
{
	rv->steps = xrealloc(rv->steps, (rv->nsteps + 1) * sizeof *rv->steps);
	memmove(rv->steps + at + 1, rv->steps + at, (rv->nsteps - at) * sizeof *rv->steps);
	rv->nsteps++;
	struct wiz_runview_step *s = &rv->steps[at];
	memset(s, 0, sizeof *s);
	s->id = xstrdup(id ? id : "");
	s->title = xstrdup(title && *title ? title : id ? id : "");
	return s;
}

/* Start the view from the plan's steps. */
void wiz_runview_init(struct wiz_runview *rv, const struct plan *plan, double now)
{
	memset(rv, 0, sizeof *rv);
	rv->started = now;
	for (size_t i = 0; plan && i < plan->n; i++)
		step_insert(rv, rv->nsteps, plan->steps[i].id, plan->steps[i].title);
}

/* The step with this id (the last one when the flow repeats an id). */
static struct wiz_runview_step *step_find(struct wiz_runview *rv, const char *id)
{
	for (size_t i = rv->nsteps; id && i > 0; i--)
		if (strcmp(rv->steps[i - 1].id, id) == 0)
			return &rv->steps[i - 1];
	return NULL;
}

/* Where a step the plan did not name goes: before the first pending one. */
static size_t first_pending(const struct wiz_runview *rv)
{
	for (size_t i = 0; i < rv->nsteps; i++)
		if (rv->steps[i].st == WS_PENDING)
			return i;
	return rv->nsteps;
}

/* Whether a step has ended (done, failed or skipped). */
static bool step_ended(const struct wiz_runview_step *s)
{
	return s->st == WS_DONE || s->st == WS_FAILED || s->st == WS_SKIPPED;
}

/* The step an event is about, added when new. A step that ended and starts
 * again is a new row; one still running that starts again is the same row
 * (a flow calling another that reports under the same id, as restore's
 * "verify" around verify_run's). */
static struct wiz_runview_step *step_for(struct wiz_runview *rv, const struct event *ev)
{
	struct wiz_runview_step *s = step_find(rv, ev->step);
	if (s && !(ev->type == EV_STEP_START && step_ended(s)))
		return s;
	return step_insert(rv, first_pending(rv), ev->step, ev->type == EV_STEP_START ? ev->text : NULL);
}

/* Forget the progress of the running step. */
static void progress_reset(struct wiz_runview *rv)
{
	free(rv->pstep);
	free(rv->punit);
	free(rv->ptext);
	rv->pstep = rv->punit = rv->ptext = NULL;
	rv->pdone = rv->ptotal = 0;
}

/* "12.3 MiB" or "1200 rows". */
static void amount(uint64_t n, const char *unit, char *out, size_t len)
{
	if (!unit || strcmp(unit, "bytes") == 0)
		util_human_bytes(n, out, len);
	else
		snprintf(out, len, "%llu %s", (unsigned long long)n, unit);
}

/* A line in the log pane when the progress passes a quarter of its total. */
static void progress_log(struct wiz_runview *rv)
{
	if (rv->ptotal == 0)
		return;
	int quarter = (int)(4 * (rv->pdone >= rv->ptotal ? rv->ptotal : rv->pdone) / rv->ptotal);
	if (quarter <= rv->pquarter)
		return;
	rv->pquarter = quarter;
	char a[48], b[48], line[160];
	amount(rv->pdone, rv->punit, a, sizeof a);
	amount(rv->pdone > rv->ptotal ? rv->pdone : rv->ptotal, rv->punit, b, sizeof b);
	snprintf(line, sizeof line, "%s: %d%% (%s of %s)", rv->pstep, quarter * 25, a, b);
	wiz_runview_log(rv, line);
}

/* Keep the progress numbers of the running step. */
static void progress_apply(struct wiz_runview *rv, const struct event *ev, double now)
{
	if (!rv->pstep || !ev->step || strcmp(rv->pstep, ev->step) != 0) {
		progress_reset(rv);
		rv->pstep = xstrdup(ev->step ? ev->step : "");
		rv->punit = ev->unit ? xstrdup(ev->unit) : NULL;
		rv->pt0 = now;
		rv->pquarter = 0;
	}
	rv->pdone = ev->done;
	rv->ptotal = ev->total;
	rv->pt_last = now;
	free(rv->ptext);
	rv->ptext = ev->text && *ev->text ? xstrdup(ev->text) : NULL;
	progress_log(rv);
}

/* The log pane's line for a step that ended (the checklist shows the one
 * running). */
static void step_log(struct wiz_runview *rv, const struct wiz_runview_step *s, const struct event *ev)
{
	char line[2300], where[128] = "";
	const char *note = ev->text && *ev->text ? ev->text : NULL;
	if (ev->origin)
		snprintf(where, sizeof where, "[%s] ", ev->origin);   /* a remote ferry's step */
	switch (ev->type) {
	case EV_STEP_DONE:
		snprintf(line, sizeof line, "%sdone: %s%s%s (%.1f s)", where, s->title, note ? ": " : "",
			 note ? note : "", s->t0 > 0 ? s->t1 - s->t0 : 0.0);
		break;
	case EV_STEP_SKIP:
		snprintf(line, sizeof line, "%sskipped: %s%s%s", where, s->title, note ? ": " : "", note ? note : "");
		break;
	default:
		return;
	}
	wiz_runview_log(rv, line);
}

/* A step event changes the step's mark. */
static void step_apply(struct wiz_runview *rv, const struct event *ev, double now)
{
	struct wiz_runview_step *s = step_for(rv, ev);
	switch (ev->type) {
	case EV_STEP_START:
		if (s->st == WS_RUNNING)
			return;   /* nested under the same id: the outer title stays */
		s->st = WS_RUNNING;
		s->t0 = now;
		if (ev->text && *ev->text) {
			free(s->title);
			s->title = xstrdup(ev->text);
		}
		progress_reset(rv);
		return;
	case EV_STEP_DONE: s->st = WS_DONE; break;
	case EV_STEP_FAIL: s->st = WS_FAILED; break;
	case EV_STEP_SKIP: s->st = WS_SKIPPED; break;
	default: return;
	}
	s->t1 = now;
	free(s->note);
	s->note = ev->text && *ev->text ? xstrdup(ev->text) : NULL;
	step_log(rv, s, ev);
	if (rv->pstep && strcmp(rv->pstep, s->id) == 0)
		progress_reset(rv);
}

/* Add a line to the log pane, dropping the oldest beyond WIZ_RUNVIEW_LOG_KEEP. */
void wiz_runview_log(struct wiz_runview *rv, const char *line)
{
	if (rv->nlog == WIZ_RUNVIEW_LOG_KEEP) {
		free(rv->log[0]);
		memmove(rv->log, rv->log + 1, (rv->nlog - 1) * sizeof *rv->log);
		rv->nlog--;
	} else if ((rv->nlog & (rv->nlog - 1)) == 0) {
		rv->log = xrealloc(rv->log, (rv->nlog ? 2 * rv->nlog : 1) * sizeof *rv->log);
	}
	rv->log[rv->nlog++] = xstrdup(line);
	if (rv->scroll > 0 && rv->scroll + 1 < rv->nlog)
		rv->scroll++;   /* keep the lines being read in place */
}

/* One event into the view. */
void wiz_runview_apply(struct wiz_runview *rv, const struct event *ev, double now)
{
	char line[2300];
	switch (ev->type) {
	case EV_PROGRESS:
		progress_apply(rv, ev, now);
		return;
	case EV_LOG: {
		const char *lv = ev->level == EV_ERROR ? "error: " : ev->level == EV_WARN ? "warning: " : "";
		if (ev->origin)
			snprintf(line, sizeof line, "[%s] %s%s", ev->origin, lv, ev->text ? ev->text : "");
		else
			snprintf(line, sizeof line, "%s%s", lv, ev->text ? ev->text : "");
		wiz_runview_log(rv, line);
		return;
	}
	case EV_STEP_FAIL:
		snprintf(line, sizeof line, "failed: %s", ev->text ? ev->text : ev->step ? ev->step : "");
		wiz_runview_log(rv, line);
		break;
	default:
		break;
	}
	step_apply(rv, ev, now);
}

/* The run ended: running steps stop; on success, planned steps count as done. */
void wiz_runview_finish(struct wiz_runview *rv, bool ok, double now)
{
	rv->finished = true;
	rv->ok = ok;
	rv->ended = now;
	for (size_t i = 0; i < rv->nsteps; i++) {
		struct wiz_runview_step *s = &rv->steps[i];
		if (s->st == WS_RUNNING)
			s->st = ok ? WS_DONE : WS_FAILED;
		else if (s->st == WS_PENDING && ok)
			s->st = WS_DONE;
		if (s->t1 == 0 && s->st != WS_PENDING)
			s->t1 = now;
	}
	progress_reset(rv);
}

double wiz_runview_seconds(const struct wiz_runview *rv, double now)
{
	double t = (rv->finished ? rv->ended : now) - rv->started - rv->waited;
	return t > 0 ? t : 0;
}

/* Free the view. */
void wiz_runview_done(struct wiz_runview *rv)
{
	for (size_t i = 0; i < rv->nsteps; i++)
		step_free(&rv->steps[i]);
	free(rv->steps);
	for (size_t i = 0; i < rv->nlog; i++)
		free(rv->log[i]);
	free(rv->log);
	progress_reset(rv);
	memset(rv, 0, sizeof *rv);
}

/* The running step, if any. */
const struct wiz_runview_step *wiz_runview_current(const struct wiz_runview *rv)
{
	for (size_t i = 0; i < rv->nsteps; i++)
		if (rv->steps[i].st == WS_RUNNING)
			return &rv->steps[i];
	return NULL;
}

/* Percent done of the running step's progress. */
int wiz_runview_pct(const struct wiz_runview *rv)
{
	if (!rv->pstep || rv->ptotal == 0)
		return -1;
	uint64_t done = rv->pdone > rv->ptotal ? rv->ptotal : rv->pdone;
	return (int)(100.0 * (double)done / (double)rv->ptotal);
}

/* Numbers of the running step's progress as text: amounts, rate, ETA. */
void wiz_runview_progress_text(const struct wiz_runview *rv, double now, char *out, size_t n)
{
	out[0] = '\0';
	if (!rv->pstep)
		return;
	bool bytes = !rv->punit || strcmp(rv->punit, "bytes") == 0;
	double elapsed = now - rv->pt0;
	double rate = elapsed > 0.2 ? (double)rv->pdone / elapsed : 0;
	char a[32], b[32], r[32];
	/* More done than announced: the total shown is what was done. */
	uint64_t total = rv->ptotal && rv->pdone > rv->ptotal ? rv->pdone : rv->ptotal;
	if (bytes) {
		util_human_bytes(rv->pdone, a, sizeof a);
		util_human_bytes(total, b, sizeof b);
		util_human_bytes((uint64_t)rate, r, sizeof r);
	} else {
		snprintf(a, sizeof a, "%llu", (unsigned long long)rv->pdone);
		snprintf(b, sizeof b, "%llu %s", (unsigned long long)total, rv->punit);
		snprintf(r, sizeof r, "%.0f", rate);
	}
	if (rv->ptotal == 0) {
		snprintf(out, n, "%s%s%s", a, rate > 0 ? ", " : "", rate > 0 ? r : "");
		if (rate > 0)
			snprintf(out + strlen(out), n - strlen(out), "/s");
		return;
	}
	if (rate <= 0) {
		snprintf(out, n, "%s", rv->ptext ? rv->ptext : a);
		if (!rv->ptext)
			snprintf(out + strlen(out), n - strlen(out), " of %s", b);
		return;
	}
	double left = total > rv->pdone ? (double)(total - rv->pdone) / rate : 0;
	if (rv->ptext)
		snprintf(out, n, "%s, ETA %.0f s", rv->ptext, left);
	else
		snprintf(out, n, "%s of %s, %s/s, ETA %.0f s", a, b, r, left);
}
