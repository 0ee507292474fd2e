/* wiz_model — the wizard's models without curses: the run view
 * (checklist, progress, log), the worker thread and its event queue, and
 * the dialogs. Unit-tested in tests/unit/test_wiz_model.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wiz/wiz.h"

/* --- the run view ------------------------------------------------------------ */

/* Free one step's strings. */
static void step_free(struct wiz_step *s)
{
	free(s->id);
	free(s->title);
	free(s->note);
}

/* Insert a step at position at. */
static struct wiz_step *step_insert(struct wiz_runview *rv, size_t at, const char *id, const char *title)
{
	rv->steps = xrealloc(rv->steps, (rv->nsteps + 1) * sizeof *rv->steps);
	memmove(rv->steps + at + 1, rv->steps + at, (rv->nsteps - at) * sizeof *rv->steps);
	rv->nsteps++;
	struct wiz_step *s = &rv->steps[at];
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
static struct wiz_step *step_find(struct wiz_runview *rv, const char *id)
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
static bool step_ended(const struct wiz_step *s)
{
	return s->st == WS_DONE || s->st == WS_FAILED || s->st == WS_SKIPPED;
}

/* The step an event is about, added when new. A step that ended and starts
 * again is a new row; one still running that starts again is the same row
 * (a flow calling another that reports under the same id, as restore's
 * "verify" around verify_run's). */
static struct wiz_step *step_for(struct wiz_runview *rv, const struct event *ev)
{
	struct wiz_step *s = step_find(rv, ev->step);
	if (s && !(ev->type == EV_STEP_START && step_ended(s)))
		return s;
	return step_insert(rv, first_pending(rv), ev->step, ev->type == EV_STEP_START ? ev->text : NULL);
}

/* Forget the progress of the running step. */
static void progress_reset(struct wiz_runview *rv)
{
	free(rv->pstep);
	free(rv->punit);
	rv->pstep = rv->punit = NULL;
	rv->pdone = rv->ptotal = 0;
}

/* Keep the progress numbers of the running step. */
static void progress_apply(struct wiz_runview *rv, const struct event *ev, double now)
{
	if (!rv->pstep || !ev->step || strcmp(rv->pstep, ev->step) != 0) {
		progress_reset(rv);
		rv->pstep = xstrdup(ev->step ? ev->step : "");
		rv->punit = ev->unit ? xstrdup(ev->unit) : NULL;
		rv->pt0 = now;
	}
	rv->pdone = ev->done;
	rv->ptotal = ev->total;
	rv->pt_last = now;
}

/* A step event changes the step's mark. */
static void step_apply(struct wiz_runview *rv, const struct event *ev, double now)
{
	struct wiz_step *s = step_for(rv, ev);
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
	if (rv->pstep && strcmp(rv->pstep, s->id) == 0)
		progress_reset(rv);
}

/* Add a line to the log pane, dropping the oldest beyond WIZ_LOG_KEEP. */
void wiz_runview_log(struct wiz_runview *rv, const char *line)
{
	if (rv->nlog == WIZ_LOG_KEEP) {
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
		struct wiz_step *s = &rv->steps[i];
		if (s->st == WS_RUNNING)
			s->st = ok ? WS_DONE : WS_FAILED;
		else if (s->st == WS_PENDING && ok)
			s->st = WS_DONE;
		if (s->t1 == 0 && s->st != WS_PENDING)
			s->t1 = now;
	}
	progress_reset(rv);
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
const struct wiz_step *wiz_runview_current(const struct wiz_runview *rv)
{
	for (size_t i = 0; i < rv->nsteps; i++)
		if (rv->steps[i].st == WS_RUNNING)
			return &rv->steps[i];
	return NULL;
}

/* Percent done of the running step's progress. */
int wiz_progress_pct(const struct wiz_runview *rv)
{
	if (!rv->pstep || rv->ptotal == 0)
		return -1;
	uint64_t done = rv->pdone > rv->ptotal ? rv->ptotal : rv->pdone;
	return (int)(100.0 * (double)done / (double)rv->ptotal);
}

/* Numbers of the running step's progress as text: amounts, rate, ETA. */
void wiz_progress_text(const struct wiz_runview *rv, double now, char *out, size_t n)
{
	out[0] = '\0';
	if (!rv->pstep)
		return;
	bool bytes = !rv->punit || strcmp(rv->punit, "bytes") == 0;
	double elapsed = now - rv->pt0;
	double rate = elapsed > 0.2 ? (double)rv->pdone / elapsed : 0;
	char a[32], b[32], r[32];
	if (bytes) {
		util_human_bytes(rv->pdone, a, sizeof a);
		util_human_bytes(rv->ptotal, b, sizeof b);
		util_human_bytes((uint64_t)rate, r, sizeof r);
	} else {
		snprintf(a, sizeof a, "%llu", (unsigned long long)rv->pdone);
		snprintf(b, sizeof b, "%llu %s", (unsigned long long)rv->ptotal, rv->punit);
		snprintf(r, sizeof r, "%.0f", rate);
	}
	if (rv->ptotal == 0) {
		snprintf(out, n, "%s%s%s", a, rate > 0 ? ", " : "", rate > 0 ? r : "");
		if (rate > 0)
			snprintf(out + strlen(out), n - strlen(out), "/s");
		return;
	}
	if (rate <= 0) {
		snprintf(out, n, "%s of %s", a, b);
		return;
	}
	double left = rv->ptotal > rv->pdone ? (double)(rv->ptotal - rv->pdone) / rate : 0;
	snprintf(out, n, "%s of %s, %s/s, ETA %.0f s", a, b, r, left);
}

/* --- the worker thread ----------------------------------------------------------- */

/* Copy an event's strings so it outlives the callback. */
static void event_copy(struct event *dst, const struct event *src)
{
	*dst = *src;
	dst->step = xstrdup(src->step);
	dst->text = xstrdup(src->text);
	dst->unit = xstrdup(src->unit);
	dst->origin = xstrdup(src->origin);
}

/* Free the copied events. */
void wiz_events_free(struct event *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)v[i].step);
		free((char *)v[i].text);
		free((char *)v[i].unit);
		free((char *)v[i].origin);
	}
	free(v);
}

/* Whether ev is progress of the same step as the last queued event. */
static bool coalesces(const struct wiz_job *j, const struct event *ev)
{
	if (ev->type != EV_PROGRESS || j->qn == 0)
		return false;
	const struct event *last = &j->q[j->qn - 1];
	return last->type == EV_PROGRESS && last->step && ev->step && strcmp(last->step, ev->step) == 0;
}

/* The sink's callback (worker thread): queue a copy; progress coalesces. */
static void queue_event(void *ud, const struct event *ev)
{
	struct wiz_job *j = ud;
	pthread_mutex_lock(&j->mu);
	if (coalesces(j, ev)) {
		j->q[j->qn - 1].done = ev->done;
		j->q[j->qn - 1].total = ev->total;
	} else {
		if (j->qn == j->qcap) {
			j->qcap = j->qcap ? 2 * j->qcap : 64;
			j->q = xrealloc(j->q, j->qcap * sizeof *j->q);
		}
		event_copy(&j->q[j->qn++], ev);
	}
	pthread_mutex_unlock(&j->mu);
}

/* The thread: run the work, then say it finished. */
static void *job_main(void *arg)
{
	struct wiz_job *j = arg;
	struct err e = {0};
	int rc = j->fn(j, j->ud, &e);
	pthread_mutex_lock(&j->mu);
	j->rc = rc;
	j->err = e;
	j->finished = true;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Start the work in a new thread. */
int wiz_job_start(struct wiz_job *j, wiz_job_fn fn, void *ud)
{
	memset(j, 0, sizeof *j);
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->fn = fn;
	j->ud = ud;
	j->sink = (struct event_sink){.fn = queue_event, .ud = j};
	if (pthread_create(&j->thread, NULL, job_main, j) != 0) {
		pthread_mutex_destroy(&j->mu);
		pthread_cond_destroy(&j->cv);
		return -1;
	}
	j->live = true;
	return 0;
}

/* Hand the queued events to the UI. */
size_t wiz_job_take(struct wiz_job *j, struct event **out)
{
	*out = NULL;
	if (!j->live)
		return 0;
	pthread_mutex_lock(&j->mu);
	size_t n = j->qn;
	*out = j->q;
	j->q = NULL;
	j->qn = j->qcap = 0;
	pthread_mutex_unlock(&j->mu);
	return n;
}

/* A question the UI has not shown yet. */
bool wiz_job_question(struct wiz_job *j, enum wiz_ask_kind *kind, char **a, char **b)
{
	if (!j->live)
		return false;
	pthread_mutex_lock(&j->mu);
	bool pending = j->ask != WIZ_ASK_NONE && !j->ask_shown && !j->answered;
	if (pending) {
		j->ask_shown = true;
		*kind = j->ask;
		*a = xstrdup(j->ask_a);
		*b = xstrdup(j->ask_b);
	}
	pthread_mutex_unlock(&j->mu);
	return pending;
}

/* The UI answers the question. */
void wiz_job_answer(struct wiz_job *j, int yes)
{
	pthread_mutex_lock(&j->mu);
	j->answered = true;
	j->answer = yes;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* Worker: ask the UI and wait for the answer (or the cancel flag). */
int wiz_job_ask(struct wiz_job *j, enum wiz_ask_kind kind, const char *a, const char *b)
{
	pthread_mutex_lock(&j->mu);
	j->ask = kind;
	j->ask_a = xstrdup(a);
	j->ask_b = xstrdup(b);
	j->ask_shown = j->answered = false;
	j->answer = 0;
	while (!j->answered && !j->cancel) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&j->cv, &j->mu, &ts);
	}
	int yes = j->answered && j->answer && !j->cancel;
	free(j->ask_a);
	free(j->ask_b);
	j->ask_a = j->ask_b = NULL;
	j->ask = WIZ_ASK_NONE;
	pthread_mutex_unlock(&j->mu);
	return yes;
}

/* Whether the work has ended. */
bool wiz_job_finished(struct wiz_job *j)
{
	if (!j->live)
		return true;
	pthread_mutex_lock(&j->mu);
	bool f = j->finished;
	pthread_mutex_unlock(&j->mu);
	return f;
}

/* Ask the work to stop: the flow sees its cancel flag. */
void wiz_job_cancel(struct wiz_job *j)
{
	if (!j->live)
		return;
	pthread_mutex_lock(&j->mu);
	j->cancel = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* Wait for the thread and free the queue; rc and err stay. */
void wiz_job_join(struct wiz_job *j)
{
	if (!j || !j->live)
		return;
	pthread_join(j->thread, NULL);
	j->live = false;
	wiz_events_free(j->q, j->qn);
	j->q = NULL;
	j->qn = j->qcap = 0;
	free(j->ask_a);
	free(j->ask_b);
	j->ask_a = j->ask_b = NULL;
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
}

/* --- dialogs --------------------------------------------------------------------- */

enum { DA_YES = 1, DA_NO, DA_NEXT, DA_PREV, DA_ACTIVATE, DA_UP, DA_DOWN, DA_BACKSPACE };

static const struct ui_binding keys_confirm[] = {
	{UIK_ENTER, DA_ACTIVATE, "Enter", "choose the highlighted button", true},
	{UIK_LEFT, DA_PREV, "Left", "previous button", false},
	{UIK_RIGHT, DA_NEXT, "Right", "next button", false},
	{UIK_TAB, DA_NEXT, "Tab", "next button", true},
	{'y', DA_YES, "y", "yes", true},
	{'n', DA_NO, "n", "no", true},
	{UIK_ESC, DA_NO, "Esc", "no", true},
};

/* Short texts: the whole bar, Reject included, fits 80 columns (the dialog
 * itself says what Accept and Reject do). */
static const struct ui_binding keys_hostkey[] = {
	{UIK_ENTER, DA_ACTIVATE, "Enter", "choose", true},
	{UIK_LEFT, DA_PREV, "Left", "previous button", false},
	{UIK_RIGHT, DA_NEXT, "Right", "next button", false},
	{UIK_TAB, DA_NEXT, "Tab", "next button", true},
	{'a', DA_YES, "a", "Accept", true},
	{'r', DA_NO, "r", "Reject", true},
	{UIK_ESC, DA_NO, "Esc", "reject", true},
};

static const struct ui_binding keys_input[] = {
	{UIK_ENTER, DA_ACTIVATE, "Enter", "go on with what was typed", true},
	{UIK_ESC, DA_NO, "Esc", "give up; nothing is changed", true},
	{UIK_CTRL('c'), DA_NO, "C-c", "give up", false},
};

static const struct ui_binding keys_help[] = {
	{UIK_ESC, DA_NO, "Esc", "close the help", true},
	{UIK_ENTER, DA_NO, "Enter", "close the help", false},
	{'q', DA_NO, "q", "close the help", false},
	{UIK_F(1), DA_NO, "F1", "close the help", false},
	{UIK_UP, DA_UP, "Up", "scroll", true},
	{UIK_DOWN, DA_DOWN, "Down", "scroll", true},
};

static const struct ui_binding keys_message[] = {
	{UIK_ENTER, DA_NO, "Enter", "close", true},
	{UIK_ESC, DA_NO, "Esc", "close", true},
};

/* The dialog's key table. */
const struct ui_binding *wiz_dialog_keys(const struct wiz_dialog *d, size_t *n)
{
#define TABLE(t) (*n = sizeof t / sizeof t[0], t)
	switch (d->kind) {
	case WD_CONFIRM: return TABLE(keys_confirm);
	case WD_HOSTKEY: return TABLE(keys_hostkey);
	case WD_TYPE: case WD_INPUT: return TABLE(keys_input);
	case WD_HELP: return TABLE(keys_help);
	default: return TABLE(keys_message);
	}
#undef TABLE
}

/* Reset d as a new dialog. */
void wiz_dialog_open(struct wiz_dialog *d, enum wiz_dlg_kind kind, int purpose, const char *title)
{
	wiz_dialog_done(d);
	d->kind = kind;
	d->purpose = purpose;
	snprintf(d->title, sizeof d->title, "%s", title ? title : "");
	if (kind == WD_CONFIRM || kind == WD_HOSTKEY) {
		d->buttons[0] = kind == WD_HOSTKEY ? "Accept" : "Yes";
		d->buttons[1] = kind == WD_HOSTKEY ? "Reject" : "No";
		d->nbuttons = 2;
		d->focus = 1;    /* the safe answer is the default */
	}
}

/* Add a line of text to the dialog. */
void wiz_dialog_line(struct wiz_dialog *d, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	strv_push(&d->body, buf);
}

/* The unknown-host-key dialog: the SHA256 fingerprint, Accept / Reject. */
void wiz_dialog_hostkey(struct wiz_dialog *d, int purpose, const char *host, const char *fingerprint)
{
	wiz_dialog_open(d, WD_HOSTKEY, purpose, "Unknown SSH host key");
	wiz_dialog_line(d, "%s presents a host key ferry has not seen before:", host);
	wiz_dialog_line(d, "%s", "");
	wiz_dialog_line(d, "    %s", fingerprint);
	wiz_dialog_line(d, "%s", "");
	wiz_dialog_line(d, "Compare it with the server's own (on the server:");
	wiz_dialog_line(d, "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub).");
	wiz_dialog_line(d, "Accept records it in known_hosts; Reject stops here.");
}

/* Whether the typed text does: the expected word, or the check passes. */
static bool input_ok(struct wiz_dialog *d)
{
	d->error[0] = '\0';
	if (d->kind == WD_TYPE) {
		if (strcmp(d->input.text, d->expect) == 0)
			return true;
		snprintf(d->error, sizeof d->error, "type %.200s exactly to go on (Esc stops)", d->expect);
		return false;
	}
	if (d->check && d->check(d->input.text, d->check_ud, d->error, sizeof d->error) < 0)
		return false;
	return true;
}

/* An action of a dialog with buttons. */
static int button_action(struct wiz_dialog *d, int act)
{
	switch (act) {
	case DA_YES: return d->result = WD_YES;
	case DA_NO: return d->result = WD_NO;
	case DA_NEXT: d->focus = (d->focus + 1) % d->nbuttons; return WD_OPEN;
	case DA_PREV: d->focus = (d->focus + d->nbuttons - 1) % d->nbuttons; return WD_OPEN;
	case DA_ACTIVATE: return d->result = d->focus == 0 ? WD_YES : WD_NO;
	default: return WD_OPEN;
	}
}

/* A key for a text dialog: edit, or Enter / Esc. */
static int input_key(struct wiz_dialog *d, int act, int key)
{
	if (act == DA_NO)
		return d->result = WD_NO;
	if (act == DA_ACTIVATE)
		return input_ok(d) ? (d->result = WD_YES) : WD_OPEN;
	if (ui_line_key(&d->input, key))
		d->error[0] = '\0';
	return WD_OPEN;
}

/* One key for the dialog. */
int wiz_dialog_key(struct wiz_dialog *d, int key)
{
	size_t n;
	const struct ui_binding *t = wiz_dialog_keys(d, &n);
	int act = ui_binding_action(t, n, key);
	switch (d->kind) {
	case WD_CONFIRM:
	case WD_HOSTKEY:
		return button_action(d, act);
	case WD_TYPE:
	case WD_INPUT:
		return input_key(d, act, key);
	case WD_HELP:
		if (act == DA_UP && d->scroll > 0)
			d->scroll--;
		else if (act == DA_DOWN)
			d->scroll++;
		return act == DA_NO ? (d->result = WD_NO) : WD_OPEN;
	default:
		return act ? (d->result = WD_NO) : WD_OPEN;
	}
}

/* Free the dialog's text. */
void wiz_dialog_done(struct wiz_dialog *d)
{
	strv_done(&d->body);
	memset(d, 0, sizeof *d);
}
