/* Unit tests for the wizard's curses-free models: the run view (checklist,
 * progress, log), the worker thread's questions, the dialogs' keys, the
 * key-script parser and the line editor (tui/wiz/wiz_runview.c, wiz_job.c,
 * wiz_dialog.c, tui/ui/key.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan.h"
#include "ui/ui.h"
#include "wiz/wiz_dialog.h"
#include "wiz/wiz_job.h"
#include "wiz/wiz_runview.h"

static struct event ev_of(enum event_type type, const char *step, const char *text)
{
	return (struct event){.type = type, .step = step, .text = text};
}

static void make_plan(struct plan *p)
{
	plan_init(p, "back up");
	plan_add(p, "dump", "dump the database", NULL);
	plan_add(p, "write", "write the bundle", NULL);
}

/* The checklist follows the flow's events; a step the plan did not name is
 * put before the first pending one; on success planned steps are done. */
static void test_runview_follows_events(void **state)
{
	(void)state;
	struct plan plan;
	make_plan(&plan);
	struct wiz_runview rv;
	wiz_runview_init(&rv, &plan, 0);
	assert_int_equal(rv.nsteps, 2);

	struct event e = ev_of(EV_STEP_START, "dump", "dump it now");
	wiz_runview_apply(&rv, &e, 1);
	assert_int_equal(rv.steps[0].st, WS_RUNNING);
	assert_string_equal(rv.steps[0].title, "dump it now");
	assert_string_equal(wiz_runview_current(&rv)->id, "dump");

	e = ev_of(EV_STEP_DONE, "dump", "3 tables");
	wiz_runview_apply(&rv, &e, 2);
	assert_int_equal(rv.steps[0].st, WS_DONE);
	assert_string_equal(rv.log[rv.nlog - 1], "done: dump it now: 3 tables (1.0 s)");
	assert_null(wiz_runview_current(&rv));

	e = ev_of(EV_STEP_SKIP, "hooks", "no hooks");
	wiz_runview_apply(&rv, &e, 3);
	assert_int_equal(rv.nsteps, 3);
	assert_string_equal(rv.steps[1].id, "hooks");
	assert_int_equal(rv.steps[1].st, WS_SKIPPED);
	assert_string_equal(rv.steps[2].id, "write");

	wiz_runview_finish(&rv, true, 4);
	assert_true(rv.finished && rv.ok);
	assert_int_equal(rv.steps[2].st, WS_DONE);
	wiz_runview_done(&rv);
	plan_done(&plan);
}

static void test_runview_failure_and_log(void **state)
{
	(void)state;
	struct wiz_runview rv;
	wiz_runview_init(&rv, NULL, 0);
	struct event e = ev_of(EV_STEP_START, "copy", "copy the bundle");
	wiz_runview_apply(&rv, &e, 0);
	e = ev_of(EV_LOG, NULL, "connected");
	e.origin = "10.0.0.2";
	wiz_runview_apply(&rv, &e, 0);
	e = ev_of(EV_STEP_FAIL, "copy", "connection lost");
	wiz_runview_apply(&rv, &e, 1);
	wiz_runview_finish(&rv, false, 2);
	assert_int_equal(rv.nsteps, 1);
	assert_int_equal(rv.steps[0].st, WS_FAILED);
	assert_false(rv.ok);
	assert_int_equal(rv.nlog, 2);
	assert_string_equal(rv.log[0], "[10.0.0.2] connected");
	assert_string_equal(rv.log[1], "failed: connection lost");
	wiz_runview_done(&rv);
}

/* Progress: percent and the text with rate and ETA; unknown totals say so. */
static void test_progress(void **state)
{
	(void)state;
	struct wiz_runview rv;
	wiz_runview_init(&rv, NULL, 0);
	assert_int_equal(wiz_runview_pct(&rv), -1);
	struct event e = ev_of(EV_STEP_START, "write", "write");
	wiz_runview_apply(&rv, &e, 0);
	e = ev_of(EV_PROGRESS, "write", NULL);
	e.done = 0;
	e.total = 100u << 20;
	wiz_runview_apply(&rv, &e, 0);
	e.done = 25u << 20;
	wiz_runview_apply(&rv, &e, 1);
	assert_int_equal(wiz_runview_pct(&rv), 25);
	char text[128];
	wiz_runview_progress_text(&rv, 1, text, sizeof text);
	assert_non_null(strstr(text, "25.0 MiB of 100.0 MiB"));
	assert_non_null(strstr(text, "ETA"));
	e.done = 200u << 20;   /* more than announced: capped */
	wiz_runview_apply(&rv, &e, 2);
	assert_int_equal(wiz_runview_pct(&rv), 100);
	wiz_runview_progress_text(&rv, 2, text, sizeof text);
	assert_non_null(strstr(text, "200.0 MiB of 200.0 MiB"));
	/* The log pane: each quarter passed, once. */
	assert_int_equal(rv.nlog, 2);
	assert_string_equal(rv.log[0], "write: 25% (25.0 MiB of 100.0 MiB)");
	assert_string_equal(rv.log[1], "write: 100% (200.0 MiB of 200.0 MiB)");
	wiz_runview_done(&rv);
}

/* The worker asks, the UI sees the question once and answers it. */
static int ask_once(struct wiz_job *j, void *ud, struct err *e)
{
	(void)e;
	int *answer = ud;
	*answer = wiz_job_ask(j, WIZ_JOB_ASK_WORD, "the plan", "shop");
	return 0;
}

static void test_job_question_and_answer(void **state)
{
	(void)state;
	struct wiz_job j;
	int answer = -1;
	assert_int_equal(wiz_job_start(&j, ask_once, &answer), 0);
	enum wiz_job_ask kind;
	char *a = NULL, *b = NULL;
	while (!wiz_job_question(&j, &kind, &a, &b))
		;
	assert_int_equal(kind, WIZ_JOB_ASK_WORD);
	assert_string_equal(b, "shop");
	assert_false(wiz_job_question(&j, &kind, &a, &b));   /* shown once */
	wiz_job_answer(&j, 1);
	wiz_job_join(&j);
	assert_int_equal(answer, 1);
	assert_int_equal(j.rc, 0);
	free(a);
	free(b);
}

/* Cancelling answers a pending question "no". */
static void test_job_cancel_answers_no(void **state)
{
	(void)state;
	struct wiz_job j;
	int answer = -1;
	assert_int_equal(wiz_job_start(&j, ask_once, &answer), 0);
	enum wiz_job_ask kind;
	char *a = NULL, *b = NULL;
	while (!wiz_job_question(&j, &kind, &a, &b))
		;
	wiz_job_cancel(&j);
	wiz_job_join(&j);
	assert_int_equal(answer, 0);
	free(a);
	free(b);
}

/* A word to type goes on only with the exact word; Esc gives up; a
 * question's safe answer (No) has the focus. */
static void test_dialog_keys(void **state)
{
	(void)state;
	struct wiz_dialog d;
	memset(&d, 0, sizeof d);
	wiz_dialog_open(&d, WD_TYPE, 7, "Confirm");
	snprintf(d.expect, sizeof d.expect, "shop");
	assert_int_equal(wiz_dialog_key(&d, 's'), WD_OPEN);
	assert_int_equal(wiz_dialog_key(&d, UIK_ENTER), WD_OPEN);
	assert_true(d.error[0] != '\0');
	assert_int_equal(wiz_dialog_key(&d, 'h'), WD_OPEN);
	assert_int_equal(wiz_dialog_key(&d, 'o'), WD_OPEN);
	assert_int_equal(wiz_dialog_key(&d, 'p'), WD_OPEN);
	assert_int_equal(wiz_dialog_key(&d, UIK_ENTER), WD_YES);
	assert_int_equal(d.purpose, 7);
	wiz_dialog_open(&d, WD_TYPE, 7, "Confirm");
	assert_int_equal(wiz_dialog_key(&d, UIK_ESC), WD_NO);
	wiz_dialog_open(&d, WD_CONFIRM, 1, "Leave?");
	wiz_dialog_line(&d, "Nothing has been changed.");
	assert_int_equal(d.body.n, 1);
	assert_int_equal(wiz_dialog_key(&d, UIK_ENTER), WD_NO);
	wiz_dialog_open(&d, WD_CONFIRM, 1, "Leave?");
	assert_int_equal(wiz_dialog_key(&d, UIK_TAB), WD_OPEN);
	assert_int_equal(wiz_dialog_key(&d, UIK_ENTER), WD_YES);
	wiz_dialog_done(&d);
}

static void test_script_parse(void **state)
{
	(void)state;
	struct ui_script s;
	memset(&s, 0, sizeof s);
	char why[256];
	assert_int_equal(ui_script_parse(&s, "Enter Down\ntext:\"two words\" waitfor:Done dump:/tmp/x "
					 "resize:100x30 wait:250 C-c q\n", "keys", why, sizeof why), 0);
	assert_int_equal(s.n, 9);
	assert_int_equal(s.v[0].kind, UT_KEY);
	assert_int_equal(s.v[0].key, UIK_ENTER);
	assert_int_equal(s.v[1].key, UIK_DOWN);
	assert_int_equal(s.v[2].kind, UT_TEXT);
	assert_string_equal(s.v[2].arg, "two words");
	assert_int_equal(s.v[2].line, 2);
	assert_int_equal(s.v[3].kind, UT_WAITFOR);
	assert_string_equal(s.v[3].arg, "Done");
	assert_int_equal(s.v[4].kind, UT_DUMP);
	assert_int_equal(s.v[5].kind, UT_RESIZE);
	assert_int_equal(s.v[5].cols, 100);
	assert_int_equal(s.v[5].rows, 30);
	assert_int_equal(s.v[6].kind, UT_WAIT);
	assert_int_equal(s.v[6].ms, 250);
	assert_int_equal(s.v[7].key, UIK_CTRL('c'));
	assert_int_equal(s.v[8].key, 'q');
	ui_script_done(&s);

	memset(&s, 0, sizeof s);
	assert_int_equal(ui_script_parse(&s, "Enter\n\nNoSuchKey\n", "keys", why, sizeof why), -1);
	assert_non_null(strstr(why, "keys:3"));
	assert_non_null(strstr(why, "NoSuchKey"));
	ui_script_done(&s);
}

/* The line editor works in characters, not bytes. */
static void test_line_editor_utf8(void **state)
{
	(void)state;
	struct ui_line l = {0};
	ui_line_set(&l, "caf");
	assert_true(ui_line_key(&l, 0xE9));   /* é */
	assert_string_equal(l.text, "café");
	assert_int_equal(ui_text_width(l.text), 4);
	assert_true(ui_line_key(&l, UIK_BACKSPACE));
	assert_string_equal(l.text, "caf");
	assert_true(ui_line_key(&l, UIK_HOME));
	assert_true(ui_line_key(&l, 'x'));
	assert_string_equal(l.text, "xcaf");
	assert_true(ui_line_key(&l, UIK_CTRL('k')));
	assert_string_equal(l.text, "x");
	assert_false(ui_line_key(&l, UIK_ENTER));
}

static void test_key_names_round_trip(void **state)
{
	(void)state;
	const int keys[] = {UIK_ENTER, UIK_ESC, UIK_TAB, UIK_PGDN, UIK_F(1), UIK_CTRL('c'), 'q'};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char buf[16];
		assert_int_equal(ui_key_parse(ui_key_name(keys[i], buf, sizeof buf)), keys[i]);
	}
	assert_int_equal(ui_key_parse("Escape"), UIK_ESC);
	assert_int_equal(ui_key_parse("bogus"), UIK_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runview_follows_events),
		cmocka_unit_test(test_runview_failure_and_log),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_job_question_and_answer),
		cmocka_unit_test(test_job_cancel_answers_no),
		cmocka_unit_test(test_dialog_keys),
		cmocka_unit_test(test_script_parse),
		cmocka_unit_test(test_line_editor_utf8),
		cmocka_unit_test(test_key_names_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
