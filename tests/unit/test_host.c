/* Unit tests for core/host on this machine: sh -c in a directory with
 * extra environment, output lines as log events (stdout info, stderr
 * warn), capture, exit statuses and their messages, timeout, cancel, bad
 * environment entries. The ssh side runs in tests/integration/20_ssh_storage.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "testutil.h"
#include "util.h"

/* Log events as "info:line" / "warn:line". */
struct seen {
	struct strv v;
};

static void record(void *ud, const struct event *ev)
{
	struct seen *s = ud;
	if (ev->type != EV_LOG)
		return;
	char *line = xasprintf("%s:%s", event_level_name(ev->level), ev->text);
	strv_push(&s->v, line);
	free(line);
}

static void test_describe(void **state)
{
	(void)state;
	host *h = host_local();
	assert_string_equal(host_describe(h), "this machine");
	assert_true(host_is_local(h));
	assert_null(host_ssh(h));
	host_free(h);
	host_free(NULL);
}

static void test_run_cwd_env_lines(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	host *h = host_local();
	struct seen seen = {0};
	struct event_sink sink = {record, &seen};
	const char *env[] = {"FERRY_T_A=one two", "FERRY_T_B=it's", NULL};
	int status = 99;
	struct host_run_opts o = {.cwd = dir, .env = env, .events = &sink, .exit_status = &status};
	struct err e = {0};
	assert_int_equal(host_run(h, "pwd; echo \"$FERRY_T_A|$FERRY_T_B\"; echo; echo oops >&2", &o,
				  &e), 0);
	assert_int_equal(status, 0);
	/* The empty line is dropped; stdout and stderr are two pipes, so only
	 * the order within each is fixed. */
	assert_int_equal(seen.v.n, 3);
	struct strv info = {0};
	for (size_t i = 0; i < seen.v.n; i++)
		if (str_starts(seen.v.v[i], "info:"))
			strv_push(&info, seen.v.v[i]);
	assert_int_equal(info.n, 2);
	char *want = xasprintf("info:%s", dir);
	assert_string_equal(info.v[0], want);
	assert_string_equal(info.v[1], "info:one two|it's");
	assert_true(strv_contains(&seen.v, "warn:oops"));
	free(want);
	strv_done(&info);
	strv_done(&seen.v);
	host_free(h);
	tu_rmtree(dir);
	free(dir);
}

static void test_capture(void **state)
{
	(void)state;
	host *h = host_local();
	struct seen seen = {0};
	struct event_sink sink = {record, &seen};
	struct host_run_opts o = {.events = &sink};
	struct err e = {0};
	char *out = NULL;
	assert_int_equal(host_capture(h, "printf 'a\\nb\\n'; echo note >&2", &o, &out, &e), 0);
	assert_string_equal(out, "a\nb\n");
	assert_int_equal(seen.v.n, 1);
	assert_string_equal(seen.v.v[0], "warn:note");
	free(out);
	assert_int_equal(host_capture(h, "true", NULL, &out, &e), 0);
	assert_string_equal(out, "");
	free(out);
	strv_done(&seen.v);
	host_free(h);
}

static void test_failures(void **state)
{
	(void)state;
	host *h = host_local();
	struct err e = {0};
	int status = 0;
	struct host_run_opts o = {.exit_status = &status};
	assert_int_equal(host_run(h, "echo broken >&2; exit 3", &o, &e), -1);
	assert_int_equal(status, 3);
	assert_int_equal(e.kind, ERR_FAILED);
	assert_string_equal(e.msg, "command `echo broken >&2; exit 3` exited with status 3: broken");

	char *out = NULL;
	assert_int_equal(host_capture(h, "echo partial; exit 1", &o, &out, &e), -1);
	assert_string_equal(out, "partial\n");
	free(out);

	o.cwd = "/nonexistent/ferry-dir";
	assert_int_equal(host_run(h, "true", &o, &e), -1);
	assert_int_equal(e.kind, ERR_FAILED);
	assert_non_null(strstr(e.msg, "/nonexistent/ferry-dir"));

	const char *bad[] = {"1X=y", NULL};
	struct host_run_opts ob = {.env = bad, .exit_status = &status};
	assert_int_equal(host_run(h, "true", &ob, &e), -1);
	assert_int_equal(e.kind, ERR_USAGE);
	assert_int_equal(status, -1);
	const char *noeq[] = {"X", NULL};
	ob.env = noeq;
	assert_int_equal(host_run(h, "true", &ob, &e), -1);
	assert_int_equal(e.kind, ERR_USAGE);
	host_free(h);
}

static void test_timeout_and_cancel(void **state)
{
	(void)state;
	host *h = host_local();
	struct err e = {0};
	int status = 0;
	struct host_run_opts o = {.timeout_s = 1, .exit_status = &status};
	double t0 = util_now();
	assert_int_equal(host_run(h, "sleep 30", &o, &e), -1);
	assert_true(util_now() - t0 < 15);
	assert_int_equal(e.kind, ERR_FAILED);
	assert_string_equal(e.msg, "command `sleep 30`: timed out after 1 s");
	assert_int_equal(status, -1);

	volatile sig_atomic_t cancel = 1;
	struct host_run_opts oc = {.cancel = &cancel};
	assert_int_equal(host_run(h, "sleep 30", &oc, &e), -1);
	assert_int_equal(e.kind, ERR_INTERRUPTED);
	assert_non_null(strstr(e.msg, "sleep 30"));
	host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_run_cwd_env_lines),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_timeout_and_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
