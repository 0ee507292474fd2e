/* Unit tests for the step runner: the plan and the run walk one table
 * (same checks, same ids), confirmation before the first destructive step,
 * cancellation between steps, the resume record, sub-flow event ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "step.h"
#include "testutil.h"
#include "util.h"

struct toy {
	bool want_b;            /* step "b" applies */
	bool fail_check;        /* c's check fails */
	int fail_run;           /* index of the step whose run fails, -1 none */
	bool skip_c;            /* c's run skips */
	int checks, runs, prepares;
	volatile sig_atomic_t cancel;
	int cancel_after;       /* set cancel once this many steps ran, -1 never */
	struct strv ran;
};

static bool b_applies(void *ctx)
{
	return ((struct toy *)ctx)->want_b;
}

static int c_check(void *ctx, struct err *e)
{
	struct toy *t = ctx;
	t->checks++;
	return t->fail_check ? err_set(e, ERR_SPACE, "not enough space") : 0;
}

static char *c_detail(void *ctx)
{
	(void)ctx;
	return xstrdup("detail of c");
}

static int toy_run(struct toy *t, struct step_run *sr, const char *id, struct err *e)
{
	strv_push(&t->ran, id);
	t->runs++;
	if (t->cancel_after >= 0 && t->runs >= t->cancel_after)
		t->cancel = 1;
	if (t->fail_run >= 0 && (int)t->ran.n - 1 == t->fail_run)
		return err_set(e, ERR_FAILED, "%s broke", id);
	step_note(sr, "%s ok", id);
	return 0;
}

static int a_run(void *ctx, struct step_run *sr, struct err *e)
{
	return toy_run(ctx, sr, "a", e);
}

static int b_run(void *ctx, struct step_run *sr, struct err *e)
{
	return toy_run(ctx, sr, "b", e);
}

static int c_run(void *ctx, struct step_run *sr, struct err *e)
{
	struct toy *t = ctx;
	if (t->skip_c) {
		strv_push(&t->ran, "c");
		step_note(sr, "nothing to do");
		return STEP_SKIPPED;
	}
	return toy_run(ctx, sr, "c", e);
}

static int toy_prepare(void *ctx, struct err *e)
{
	(void)e;
	((struct toy *)ctx)->prepares++;
	return 0;
}

static char *toy_title(void *ctx)
{
	(void)ctx;
	return xstrdup("toy flow");
}

static void toy_failed(void *ctx, const char *step, struct err *e)
{
	(void)ctx;
	err_hint(e, "failed at %s; nothing changed", step);
}

static const struct step toy_steps[] = {
	{.id = "a", .title = "step a", .run = a_run, .resumable = true},
	{.id = "b", .title = "step b", .applies = b_applies, .run = b_run, .resumable = true},
	{.id = "c", .title = "step c", .check = c_check, .detail = c_detail, .run = c_run,
	 .destructive = true},
};

static const struct flow_def toy_flow = {
	.name = "toy", .steps = toy_steps, .nsteps = 3, .prepare = toy_prepare, .title = toy_title,
	.failed = toy_failed,
};

/* Event ids as "type:id" lines. */
struct seen {
	struct strv v;
};

static void record(void *ud, const struct event *ev)
{
	struct seen *s = ud;
	if (ev->type == EV_PROGRESS || ev->type == EV_LOG)
		return;
	char *line = xasprintf("%s:%s", event_type_name(ev->type), ev->step ? ev->step : "");
	strv_push(&s->v, line);
	free(line);
}

static struct toy toy_new(void)
{
	return (struct toy){.want_b = true, .fail_run = -1, .cancel_after = -1};
}

static char *plan_ids(const struct plan *p)
{
	struct strv ids = {0};
	for (size_t i = 0; i < p->n; i++)
		strv_push(&ids, p->steps[i].id);
	char *s = strv_join(&ids, ",");
	strv_done(&ids);
	return s;
}

/* The step ids the events name, in order, each once. */
static char *run_ids(const struct seen *s)
{
	struct strv ids = {0};
	for (size_t i = 0; i < s->v.n; i++) {
		const char *l = s->v.v[i];
		const char *id = strchr(l, ':') + 1;
		bool again = ids.n && strcmp(ids.v[ids.n - 1], id) == 0;
		if ((str_starts(l, "step_start:") || str_starts(l, "step_skip:")) && !again)
			strv_push(&ids, id);
	}
	char *r = strv_join(&ids, ",");
	strv_done(&ids);
	return r;
}

static void test_plan_ids_equal_run_ids(void **state)
{
	(void)state;
	for (int variant = 0; variant < 3; variant++) {
		struct toy t = toy_new();
		t.want_b = variant != 1;
		t.skip_c = variant == 2;
		struct plan plan;
		struct err e = {0};
		assert_int_equal(flow_plan(&toy_flow, &t, &plan, &e), 0);
		assert_int_equal(t.checks, 1);
		assert_int_equal(t.runs, 0);
		char *pids = plan_ids(&plan);
		assert_string_equal(pids, variant == 1 ? "preflight,a,c" : "preflight,a,b,c");
		assert_string_equal(plan.title, "toy flow");
		assert_string_equal(plan.steps[plan.n - 1].detail, "detail of c");
		plan_done(&plan);

		struct seen seen = {0};
		struct event_sink sink = {record, &seen};
		struct flow_run_opts o = {.events = &sink, .yes = true};
		struct flow_report rep;
		assert_int_equal(flow_run(&toy_flow, &t, &o, &rep, &e), 0);
		assert_int_equal(t.checks, 2);
		assert_int_equal(t.prepares, 2);
		char *rids = run_ids(&seen);
		assert_string_equal(rids, pids);
		assert_int_equal(rep.n, variant == 1 ? 3 : 4);
		assert_null(rep.failed_step);
		assert_int_equal(rep.steps[rep.n - 1].state, variant == 2 ? STEP_STATE_SKIPPED : STEP_STATE_DONE);
		free(pids);
		free(rids);
		flow_report_done(&rep);
		strv_done(&seen.v);
		strv_done(&t.ran);
	}
}

static void test_failed_check_runs_nothing(void **state)
{
	(void)state;
	struct toy t = toy_new();
	t.fail_check = true;
	struct plan plan;
	struct err e = {0};
	assert_int_equal(flow_plan(&toy_flow, &t, &plan, &e), -1);
	assert_int_equal(e.kind, ERR_SPACE);
	plan_done(&plan);
	struct seen seen = {0};
	struct event_sink sink = {record, &seen};
	struct flow_run_opts o = {.events = &sink, .yes = true};
	struct flow_report rep;
	err_clear(&e);
	assert_int_equal(flow_run(&toy_flow, &t, &o, &rep, &e), -1);
	assert_int_equal(e.kind, ERR_SPACE);
	assert_int_equal(t.runs, 0);
	assert_string_equal(rep.failed_step, "preflight");
	assert_string_equal(e.hint, "failed at preflight; nothing changed");
	char *all = strv_join(&seen.v, " ");
	assert_string_equal(all, "step_start:preflight step_fail:preflight");
	free(all);
	flow_report_done(&rep);
	strv_done(&seen.v);
}

static void test_failure_names_the_step(void **state)
{
	(void)state;
	struct toy t = toy_new();
	t.fail_run = 1;   /* b */
	struct seen seen = {0};
	struct event_sink sink = {record, &seen};
	struct flow_run_opts o = {.events = &sink, .yes = true};
	struct flow_report rep;
	struct err e = {0};
	assert_int_equal(flow_run(&toy_flow, &t, &o, &rep, &e), -1);
	assert_string_equal(rep.failed_step, "b");
	assert_string_equal(e.msg, "b broke");
	assert_int_equal(rep.steps[2].state, STEP_STATE_FAILED);
	assert_string_equal(seen.v.v[seen.v.n - 1], "step_fail:b");
	assert_int_equal(t.ran.n, 2);
	flow_report_done(&rep);
	strv_done(&seen.v);
	strv_done(&t.ran);
}

struct asked {
	int times;
	int answer;   /* 0 = yes */
	char word[64];
	size_t plan_steps;
};

static int ask(void *ud, const struct plan *plan, const char *word, struct err *e)
{
	struct asked *a = ud;
	a->times++;
	snprintf(a->word, sizeof a->word, "%s", word);
	a->plan_steps = plan->n;
	return a->answer == 0 ? 0 : err_set(e, ERR_REFUSED, "not confirmed");
}

static void test_confirm_before_destructive(void **state)
{
	(void)state;
	struct toy t = toy_new();
	struct asked a = {.answer = 1};
	struct flow_run_opts o = {.confirm = ask, .confirm_ud = &a};
	struct err e = {0};
	assert_int_equal(flow_run(&toy_flow, &t, &o, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_REFUSED);
	assert_int_equal(a.times, 1);
	assert_string_equal(a.word, "yes");
	assert_int_equal(a.plan_steps, 3);
	/* a and b ran (not destructive), c did not */
	assert_int_equal(t.ran.n, 2);
	strv_done(&t.ran);

	struct toy t2 = toy_new();
	struct flow_run_opts none = {0};
	err_clear(&e);
	assert_int_equal(flow_run(&toy_flow, &t2, &none, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_REFUSED);
	assert_int_equal(t2.ran.n, 2);
	strv_done(&t2.ran);
}

static void test_cancel_between_steps(void **state)
{
	(void)state;
	struct toy t = toy_new();
	t.cancel_after = 1;
	struct flow_run_opts o = {.yes = true, .cancel = &t.cancel};
	struct flow_report rep;
	struct err e = {0};
	assert_int_equal(flow_run(&toy_flow, &t, &o, &rep, &e), -1);
	assert_int_equal(e.kind, ERR_INTERRUPTED);
	assert_string_equal(rep.failed_step, "b");
	assert_int_equal(t.ran.n, 1);
	flow_report_done(&rep);
	strv_done(&t.ran);
}

static void test_resume_skips_done_steps(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char *path = xasprintf("%s/resume.json", dir);
	struct toy t = toy_new();
	t.fail_run = 1;   /* b fails: a is recorded */
	struct flow_run_opts o = {.yes = true, .resume_path = path};
	struct err e = {0};
	assert_int_equal(flow_run(&toy_flow, &t, &o, NULL, &e), -1);
	assert_int_equal(access(path, F_OK), 0);
	strv_done(&t.ran);

	struct toy t2 = toy_new();
	struct seen seen = {0};
	struct event_sink sink = {record, &seen};
	o.events = &sink;
	err_clear(&e);
	assert_int_equal(flow_run(&toy_flow, &t2, &o, NULL, &e), 0);
	char *ran = strv_join(&t2.ran, ",");
	assert_string_equal(ran, "b,c");
	assert_true(strv_contains(&seen.v, "step_skip:a"));
	assert_int_equal(access(path, F_OK), -1);   /* removed after success */
	free(ran);
	strv_done(&t2.ran);
	strv_done(&seen.v);
	rmdir(dir);
	free(path);
	free(dir);
}

static void test_child_sink_prefixes(void **state)
{
	(void)state;
	struct seen seen = {0};
	struct event_sink sink = {record, &seen};
	struct step_child child;
	const struct event_sink *cs = step_child_sink(&child, &sink, "backup");
	event_step_start(cs, "dump", "dump");
	event_log(cs, EV_INFO, "a log line has no step");
	assert_int_equal(seen.v.n, 1);
	assert_string_equal(seen.v.v[0], "step_start:backup/dump");
	strv_done(&seen.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_ids_equal_run_ids),
		cmocka_unit_test(test_failed_check_runs_nothing),
		cmocka_unit_test(test_failure_names_the_step),
		cmocka_unit_test(test_confirm_before_destructive),
		cmocka_unit_test(test_cancel_between_steps),
		cmocka_unit_test(test_resume_skips_done_steps),
		cmocka_unit_test(test_child_sink_prefixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
