/* wiz_job — the wizard's worker thread: the core flow runs in it, its
 * events are queued for the UI thread, its questions wait for the UI's
 * answer. No curses here; unit-tested in tests/unit/test_wiz_model.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "wiz/wiz_job.h"

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
void wiz_job_events_free(struct event *v, size_t n)
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
bool wiz_job_question(struct wiz_job *j, enum wiz_job_ask *kind, char **a, char **b)
{
	if (!j->live)
		return false;
	pthread_mutex_lock(&j->mu);
	bool pending = j->ask != WIZ_JOB_ASK_NONE && !j->ask_shown && !j->answered;
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
int wiz_job_ask(struct wiz_job *j, enum wiz_job_ask kind, const char *a, const char *b)
{
	pthread_mutex_lock(&j->mu);
	j->ask = kind;
	j->ask_a = xstrdup(a);
	j->ask_b = xstrdup(b);
	j->ask_shown = j->answered = false;
	j->answer = 0;
	double t0 = util_now();
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
	j->asked_s += util_now() - t0;
	free(j->ask_a);
	free(j->ask_b);
	j->ask_a = j->ask_b = NULL;
	j->ask = WIZ_JOB_ASK_NONE;
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
	wiz_job_events_free(j->q, j->qn);
	j->q = NULL;
	j->qn = j->qcap = 0;
	free(j->ask_a);
	free(j->ask_b);
	j->ask_a = j->ask_b = NULL;
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
}

/* --- the flows' callbacks, answered by the UI ------------------------------------ */

/* The plan as short lines (title, then the steps' titles); caller frees. */
static char *plan_text(const struct plan *plan)
{
	if (!plan)
		return xstrdup("");
	struct strv lines = {0};
	strv_push(&lines, plan->title);
	for (size_t i = 0; i < plan->n; i++) {
		char *l = xasprintf("  %zu. %s", i + 1, plan->steps[i].title);
		strv_push(&lines, l);
		free(l);
	}
	char *text = strv_join(&lines, "\n");
	strv_done(&lines);
	return text;
}

/* A flow's confirm callback: the UI asks for the word to be typed. */
int wiz_job_confirm_word(void *ud, const struct plan *plan, const char *word, struct err *e)
{
	struct wiz_job *j = ud;
	char *text = plan_text(plan);
	int yes = wiz_job_ask(j, WIZ_JOB_ASK_WORD, text, word);
	free(text);
	if (yes)
		return 0;
	if (j->cancel)
		err_set(e, ERR_INTERRUPTED, "cancelled before anything was changed");
	else
		err_set(e, ERR_REFUSED, "not confirmed: \"%s\" was not typed", word);
	return err_hint(e, "nothing was changed");
}

/* An SSH connection's unknown host key: the UI shows Accept / Reject. */
int wiz_job_confirm_host_key(void *ud, const char *host, int port, const char *fingerprint,
			 const char *type)
{
	char where[300], what[300];
	snprintf(where, sizeof where, "%s:%d", host, port);
	snprintf(what, sizeof what, "%s %s", type ? type : "", fingerprint);
	return wiz_job_ask(ud, WIZ_JOB_ASK_HOSTKEY, where, what);
}
