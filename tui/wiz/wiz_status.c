/* wiz_status — "Check system status": the profile, then status_run() (the
 * same self-check as `ferry status`), each check a line of the checklist as
 * it completes. Read-only: no summary page. */
#include <stdlib.h>
#include <string.h>

#include "flow/status.h"
#include "wiz/wiz_status.h"

struct status_wiz {
	struct status_report r;
	bool have_r;
};

/* Pages: the profile only. */
static void status_setup(struct wiz *w)
{
	w->st = xcalloc(1, sizeof(struct status_wiz));
	wiz_add_profile_page(w, "profile", "Which profile do you want to check?");
}

/* One line: what is about to happen. */
static void status_about(const struct wiz *w, char *out, size_t n)
{
	if (!w->p)
		snprintf(out, n, "About to check the database, services, health URLs and the last backup.");
	else
		snprintf(out, n, "About to check profile %s: database, backups, space, health, SSH, services.",
			 w->p->name);
}

/* status_run's callback (worker): each check becomes a finished step. */
static void on_check(void *ud, const struct status_check *c)
{
	const struct event_sink *sink = ud;
	char id[200];
	snprintf(id, sizeof id, "%s%s%s", c->name, c->subject ? " " : "", c->subject ? c->subject : "");
	event_step_start(sink, id, id);
	if (c->state == STATUS_OK)
		event_step_done(sink, id, c->detail);
	else if (c->state == STATUS_WARN)
		event_step_skip(sink, id, c->detail);
	else
		event_step_fail(sink, id, c->detail);
}

/* Worker: THE core call, status_run(); a failed check fails the run. */
static int status_run_hook(struct wiz *w, struct wiz_job *j, struct err *e)
{
	struct status_wiz *st = w->st;
	struct status_opts o = {.on_check = on_check, .ud = &j->sink, .cancel = &j->cancel};
	int rc = status_run(w->p, &o, &st->r, e);
	st->have_r = true;
	if (rc < 0)
		return -1;
	size_t failed = 0;
	for (size_t i = 0; i < st->r.n; i++)
		failed += st->r.v[i].state == STATUS_FAIL;
	if (failed == 0)
		return 0;
	err_set(e, status_fail_kind(&st->r), "%zu of %zu checks failed", failed, st->r.n);
	return err_hint(e, "the failed checks are marked in the list; `ferry status --profile %s` shows the same",
			w->p->name);
}

/* "[ ok ]", "[warn]", "[FAIL]", as `ferry status` marks them. */
static const char *state_mark(enum status_state s)
{
	return s == STATUS_OK ? "[ ok ]" : s == STATUS_WARN ? "[warn]" : "[FAIL]";
}

/* The final page: the overall state, then every check with its state and
 * detail (latency, the last backup and whether it was verified, ...), as
 * `ferry status` prints them. */
static void status_result_hook(struct wiz *w)
{
	struct status_wiz *st = w->st;
	if (!st->have_r)
		return;
	size_t warn = 0, fail = 0;
	for (size_t i = 0; i < st->r.n; i++) {
		warn += st->r.v[i].state == STATUS_WARN;
		fail += st->r.v[i].state == STATUS_FAIL;
	}
	char *line = xasprintf("Overall: %s: %zu checks, %zu warning%s, %zu failed (%.1f s).",
			       status_state_name(status_overall(&st->r)), st->r.n, warn, warn == 1 ? "" : "s",
			       fail, st->r.duration_s);
	strv_push(&w->result, line);
	free(line);
	for (size_t i = 0; i < st->r.n; i++) {
		const struct status_check *c = &st->r.v[i];
		/* The detail names the subject (a health check's name) itself. */
		line = xasprintf("%s %s: %s", state_mark(c->state), c->name, c->detail ? c->detail : "");
		strv_push(&w->result, line);
		free(line);
	}
	w->next_cmd = xasprintf("ferry status --profile %s --json   (the same, for scripts)", w->p->name);
}

/* Free the report. */
static void status_free(struct wiz *w)
{
	struct status_wiz *st = w->st;
	if (!st)
		return;
	if (st->have_r)
		status_report_done(&st->r);
	free(st);
	w->st = NULL;
}

const struct wiz_flow wiz_status_flow = {
	.name = "status",
	.title = "Check system status",
	.doing = "Checking",
	.no_summary = true,
	.setup = status_setup,
	.about = status_about,
	.run = status_run_hook,
	.result = status_result_hook,
	.free_state = status_free,
};
