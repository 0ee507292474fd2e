/* step — the runner every flow stands on. */
#include "step.h"
#include "fault.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsx.h"
#include "util.h"

struct step_run {
	const struct flow_def *f;
	void *ctx;
	const struct flow_run_opts *o;
	struct flow_report *rep;
	char *note;
	json_t *resume;             /* {"done": [...], "data": {...}} or NULL */
	bool confirmed;
	bool locked;                /* the flow's lock hook succeeded */
	const struct err *failure;  /* for the finally step: what failed, or NULL */
};

void flow_report_done(struct flow_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->steps[i].id);
		free(r->steps[i].note);
	}
	free(r->steps);
	free(r->failed_step);
	memset(r, 0, sizeof *r);
}

static bool applies(const struct step *s, void *ctx)
{
	return !s->applies || s->applies(ctx);
}

/* Every applicable step's check, in table order. */
static int run_checks(const struct flow_def *f, void *ctx, struct err *e)
{
	for (size_t i = 0; i < f->nsteps; i++)
		if (applies(&f->steps[i], ctx) && f->steps[i].check && f->steps[i].check(ctx, e) < 0)
			return -1;
	return 0;
}

static char *call_text(char *(*fn)(void *), void *ctx)
{
	return fn ? fn(ctx) : NULL;
}

/* --- the plan --------------------------------------------------------------- */

static void plan_step(struct plan *plan, const struct step *s, void *ctx)
{
	char *detail = call_text(s->detail, ctx);
	if (detail)
		plan_add(plan, s->id, s->title, "%s", detail);
	else
		plan_add(plan, s->id, s->title, NULL);
	free(detail);
}

int flow_plan(const struct flow_def *f, void *ctx, struct plan *plan, struct err *e)
{
	memset(plan, 0, sizeof *plan);
	if ((f->prepare && f->prepare(ctx, e) < 0) || run_checks(f, ctx, e) < 0)
		return -1;
	char *title = call_text(f->title, ctx);
	plan_init(plan, title ? title : f->name);
	free(title);
	char *note = call_text(f->preflight_note, ctx);
	if (note)
		plan_add(plan, STEP_PREFLIGHT, "check before anything runs", "%s", note);
	else
		plan_add(plan, STEP_PREFLIGHT, "check before anything runs", NULL);
	free(note);
	for (size_t i = 0; i < f->nsteps; i++)
		if (applies(&f->steps[i], ctx))
			plan_step(plan, &f->steps[i], ctx);
	if (f->finally && applies(f->finally, ctx))
		plan_step(plan, f->finally, ctx);
	return 0;
}

/* --- the report ------------------------------------------------------------- */

static struct flow_step_result *report_add(struct flow_report *rep, const char *id)
{
	rep->steps = xrealloc(rep->steps, (rep->n + 1) * sizeof *rep->steps);
	struct flow_step_result *r = &rep->steps[rep->n++];
	memset(r, 0, sizeof *r);
	r->id = xstrdup(id);
	return r;
}

static void report_end(struct flow_step_result *r, enum step_state st, const char *note, double t0)
{
	r->state = st;
	free(r->note);
	r->note = xstrdup(note);
	r->seconds = util_now() - t0;
}

/* --- the resume record ------------------------------------------------------ */

static void resume_load(struct step_run *sr)
{
	if (!sr->o->resume_path)
		return;
	sr->resume = json_load_file(sr->o->resume_path, 0, NULL);
	if (!json_is_object(sr->resume) || !json_is_array(json_object_get(sr->resume, "done")) ||
	    !json_is_object(json_object_get(sr->resume, "data"))) {
		json_decref(sr->resume);
		sr->resume = json_pack("{s:s, s:[], s:{}}", "flow", sr->f->name, "done", "data");
	}
}

static void resume_save(const struct step_run *sr)
{
	if (!sr->resume)
		return;
	char *text = json_dumps(sr->resume, JSON_INDENT(2));
	if (text)
		fsx_write_atomic(sr->o->resume_path, text, strlen(text), 0600, NULL);
	free(text);
}

const char *step_failed(const struct step_run *sr)
{
	return sr->failure ? sr->rep->failed_step : NULL;
}

const struct flow_report *step_report(const struct step_run *sr)
{
	return sr->rep;
}

const struct err *step_failure(const struct step_run *sr)
{
	return sr->failure;
}

bool step_done_before(const struct step_run *sr, const char *id)
{
	size_t i;
	json_t *v;
	json_array_foreach(sr->resume ? json_object_get(sr->resume, "done") : NULL, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
			return true;
	return false;
}

json_t *step_resume_data(const struct step_run *sr)
{
	return sr->resume ? json_object_get(sr->resume, "data") : NULL;
}

/* --- the run ---------------------------------------------------------------- */

void step_note(struct step_run *sr, const char *fmt, ...)
{
	free(sr->note);
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&sr->note, fmt, ap) < 0)
		abort();
	va_end(ap);
}

const struct event_sink *step_events(const struct step_run *sr)
{
	return sr->o->events;
}

volatile sig_atomic_t *step_cancel(const struct step_run *sr)
{
	return sr->o->cancel;
}

int step_check_cancel(const struct step_run *sr, struct err *e)
{
	if (!sr->o->cancel || !*sr->o->cancel)
		return 0;
	err_set(e, ERR_INTERRUPTED, "%s interrupted", sr->f->name);
	return -1;
}

/* The run's lock (and what it finds a killed run left), between prepare
 * and the checks; released when the run ends. */
static int take_lock(struct step_run *sr, struct err *e)
{
	if (!sr->f->lock)
		return 0;
	if (sr->f->lock(sr->ctx, sr->o->events, e) < 0)
		return -1;
	sr->locked = true;
	return 0;
}

static int preflight(struct step_run *sr, struct err *e)
{
	const struct flow_def *f = sr->f;
	struct flow_step_result *r = report_add(sr->rep, STEP_PREFLIGHT);
	double t0 = util_now();
	event_step_start(sr->o->events, STEP_PREFLIGHT, "check before anything runs");
	if ((f->prepare && f->prepare(sr->ctx, e) < 0) || take_lock(sr, e) < 0 || run_checks(f, sr->ctx, e) < 0) {
		report_end(r, STEP_STATE_FAILED, e->msg, t0);
		return -1;
	}
	char *note = call_text(f->preflight_note, sr->ctx);
	event_step_done(sr->o->events, STEP_PREFLIGHT, note);
	report_end(r, STEP_STATE_DONE, note, t0);
	free(note);
	return 0;
}

/* Before the first destructive step: --yes, or the operator confirms the
 * plan (the flow may say none is needed). The waiting is not work: it is
 * kept out of the run's duration. */
static int confirm(struct step_run *sr, struct err *e)
{
	if (sr->confirmed || sr->o->yes)
		return 0;
	sr->confirmed = true;
	const struct flow_def *f = sr->f;
	char *word = f->confirm_word ? f->confirm_word(sr->ctx) : xstrdup("yes");
	if (!word)
		return 0;
	double t0 = util_now();
	int rc;
	if (sr->o->confirm) {
		struct plan plan = {0};
		char *title = call_text(f->title, sr->ctx);
		plan_init(&plan, title ? title : f->name);
		free(title);
		for (size_t i = 0; i < f->nsteps; i++)
			if (applies(&f->steps[i], sr->ctx))
				plan_step(&plan, &f->steps[i], sr->ctx);
		rc = sr->o->confirm(sr->o->confirm_ud, &plan, word, e);
		plan_done(&plan);
	} else {
		err_set(e, ERR_REFUSED, "%s needs confirmation and there is no one to ask", f->name);
		rc = err_hint(e, "pass --yes to confirm from a script; nothing was changed");
	}
	sr->rep->confirm_seconds += util_now() - t0;
	free(word);
	return rc;
}

/* Drop the done marks of id and of everything recorded after it. */
static void unmark_from(struct step_run *sr, const char *id)
{
	json_t *done = json_object_get(sr->resume, "done");
	size_t i;
	json_t *v;
	json_array_foreach(done, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
			break;
	while (json_array_size(done) > i)
		json_array_remove(done, json_array_size(done) - 1);
	resume_save(sr);
}

static void mark_done(struct step_run *sr, const char *id)
{
	if (!sr->resume)
		return;
	json_array_append_new(json_object_get(sr->resume, "done"), json_string(id));
	resume_save(sr);
}

/* One step: 0 to go on, -1 failed (e filled). */
static int run_step(struct step_run *sr, const struct step *s, struct err *e)
{
	const struct event_sink *ev = sr->o->events;
	struct flow_step_result *r = report_add(sr->rep, s->id);
	double t0 = util_now();
	if (s->resumable && step_done_before(sr, s->id)) {
		if (!s->still_done || s->still_done(sr->ctx, sr)) {
			event_step_skip(ev, s->id, "done by an earlier run");
			report_end(r, STEP_STATE_SKIPPED, "done by an earlier run", t0);
			return 0;
		}
		unmark_from(sr, s->id);
	}
	free(sr->note);
	sr->note = NULL;
	event_step_start(ev, s->id, s->title);
	/* Every step boundary is a test seam: "step.<flow>.<id>". */
	char *seam = xasprintf("step.%s.%s", sr->f->name, s->id);
	int rc = fault_point(seam) < 0 ? err_set(e, ERR_FAILED, "fault at %s", seam) : 0;
	free(seam);
	if (rc == 0)
		rc = s->run(sr->ctx, sr, e);
	if (rc < 0) {
		report_end(r, STEP_STATE_FAILED, e->msg, t0);
		return -1;
	}
	if (rc == STEP_SKIPPED) {
		event_step_skip(ev, s->id, sr->note);
		report_end(r, STEP_STATE_SKIPPED, sr->note, t0);
		return 0;
	}
	event_step_done(ev, s->id, sr->note);
	report_end(r, STEP_STATE_DONE, sr->note, t0);
	if (s->resumable)
		mark_done(sr, s->id);
	return 0;
}

static int fail_at(struct step_run *sr, const char *id)
{
	sr->rep->failed_step = xstrdup(id);
	return -1;
}

static int run_steps(struct step_run *sr, struct err *e)
{
	const struct flow_def *f = sr->f;
	if (preflight(sr, e) < 0)
		return fail_at(sr, STEP_PREFLIGHT);
	for (size_t i = 0; i < f->nsteps; i++) {
		const struct step *s = &f->steps[i];
		if (!applies(s, sr->ctx))
			continue;
		bool resumed = s->resumable && step_done_before(sr, s->id);
		if (step_check_cancel(sr, e) < 0 ||
		    ((s->destructive || s->asks) && !resumed && confirm(sr, e) < 0) ||
		    run_step(sr, s, e) < 0)
			return fail_at(sr, s->id);
	}
	return 0;
}

/* The finally step, after success or failure; its own error only shows. */
static void run_finally(struct step_run *sr, const struct err *failure)
{
	const struct step *s = sr->f->finally;
	if (!s || !applies(s, sr->ctx))
		return;
	sr->failure = failure;
	struct err fe = {0};
	if (run_step(sr, s, &fe) < 0)
		event_step_fail(sr->o->events, s->id, fe.msg);
}

int flow_run(const struct flow_def *f, void *ctx, const struct flow_run_opts *o,
	     struct flow_report *rep, struct err *e)
{
	struct flow_report local = {0};
	if (!rep)
		rep = &local;
	memset(rep, 0, sizeof *rep);
	struct step_run sr = {.f = f, .ctx = ctx, .o = o, .rep = rep};
	double t0 = util_now();
	resume_load(&sr);
	int rc = run_steps(&sr, e);
	if (rc < 0) {
		if (e->kind != ERR_REFUSED)
			event_step_fail(o->events, rep->failed_step, e->msg);
		if (f->failed)
			f->failed(ctx, rep->failed_step, e);
	} else if (o->resume_path) {
		unlink(o->resume_path);
	}
	run_finally(&sr, rc < 0 ? e : NULL);
	if (sr.locked && f->unlock)
		f->unlock(ctx);
	rep->seconds = util_now() - t0 - rep->confirm_seconds;
	json_decref(sr.resume);
	free(sr.note);
	flow_report_done(&local);
	return rc;
}

/* --- sub-flows ------------------------------------------------------------------ */

static void child_event(void *ud, const struct event *ev)
{
	const struct step_child *c = ud;
	struct event copy = *ev;
	char *id = ev->step ? xasprintf("%s/%s", c->prefix, ev->step) : NULL;
	copy.step = id;
	event_emit(c->parent, &copy);
	free(id);
}

const struct event_sink *step_child_sink(struct step_child *c, const struct event_sink *parent,
					 const char *prefix)
{
	c->parent = parent;
	c->prefix = prefix;
	c->sink = (struct event_sink){.fn = child_event, .ud = c};
	return &c->sink;
}
