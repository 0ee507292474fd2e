/* Tests against a real sshd: core/host over ssh, the sftp storage driver
 * (and the SFTP session under it), and the push flow (push_plan /
 * push_run). They need the test bed, so they run only from
 * tests/integration/20_ssh_storage.sh, which sets
 *
 *   FERRY_TEST_SSH_LIVE_PROFILES  a profiles file: "target" (ssh section,
 *                                 backup.dir DIR/pushed), "nossh"
 *   FERRY_TEST_SSH_LIVE_DIR       a scratch directory DIR, which the sshd
 *                                 (same machine, same user) sees as well
 *   FERRY_TEST_SSH_LIVE_BUNDLE    optional: a file to push to "target",
 *                                 its events and result written to
 *                                 DIR/flow-push.jsonl in the form of
 *                                 `ferry push --json`, for the script to
 *                                 compare with the command's output.
 *
 * Without them (the unit test run) every test is skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flow/push.h"
#include "fsx.h"
#include "hash.h"
#include "host.h"
#include "profile/profile.h"
#include "ssh/ssh.h"
#include "storage/storage.h"
#include "testutil.h"
#include "util.h"

static const char *dir;
static profile_file *profiles;

/* Events as "type:step:text" lines (progress: only the last of a run). */
struct seen {
	struct strv v;
	uint64_t last_done, last_total;
	FILE *jsonl;               /* when set: every event as a JSON line too */
};

static void record(void *ud, const struct event *ev)
{
	struct seen *s = ud;
	if (s->jsonl && (ev->type != EV_PROGRESS || (ev->total && ev->done >= ev->total))) {
		char *line = event_to_json(ev);
		fprintf(s->jsonl, "%s\n", line);
		free(line);
	}
	if (ev->type == EV_PROGRESS) {
		s->last_done = ev->done;
		s->last_total = ev->total;
		return;
	}
	const char *type = ev->type == EV_LOG ? event_level_name(ev->level) : event_type_name(ev->type);
	char *line = xasprintf("%s:%s:%s", type, ev->step ? ev->step : "", ev->text ? ev->text : "");
	strv_push(&s->v, line);
	free(line);
}

/* Whether some recorded line starts with prefix. */
static bool seen_prefix(const struct seen *s, const char *prefix)
{
	for (size_t i = 0; i < s->v.n; i++)
		if (str_starts(s->v.v[i], prefix))
			return true;
	return false;
}

static int setup(void **state)
{
	(void)state;
	dir = getenv("FERRY_TEST_SSH_LIVE_DIR");
	const char *pf = getenv("FERRY_TEST_SSH_LIVE_PROFILES");
	if (!dir || !pf)
		return 0;
	struct err e = {0};
	profiles = profile_file_load(pf, &e);
	if (!profiles)
		fprintf(stderr, "cannot load %s: %s\n", pf, e.msg);
	return profiles ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	profile_file_free(profiles);
	return 0;
}

/* Skip without the test bed. */
#define NEED_TESTBED()                                                               \
	do {                                                                         \
		if (!profiles)                                                       \
			skip();                                                      \
	} while (0)

static const struct profile *profile(const char *name)
{
	struct err e = {0};
	const struct profile *p = profile_file_get(profiles, name, &e);
	assert_non_null(p);
	return p;
}

static sshc_conn *connect_target(void)
{
	struct err e = {0};
	sshc_conn *c = sshc_connect(profile("target"), NULL, &e);
	if (!c)
		fprintf(stderr, "connect: %s\n", e.msg);
	assert_non_null(c);
	return c;
}

/* DIR/rel; caller frees. */
static char *at(const char *rel)
{
	return xasprintf("%s/%s", dir, rel);
}

/* A file of n pseudo-random bytes at DIR/rel; returns its path. */
static char *make_file(const char *rel, size_t n, unsigned seed)
{
	char *path = at(rel);
	char *buf = xmalloc(n ? n : 1);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (char)(seed >> 16);
	}
	struct err e = {0};
	assert_int_equal(fsx_write_atomic(path, buf, n, 0644, &e), 0);
	free(buf);
	return path;
}

/* SHA-256 of a file. */
static void sha_of(const char *path, char hex[HASH_HEX_SIZE])
{
	struct err e = {0};
	assert_int_equal(hash_file(path, hex, NULL, &e), 0);
}

/* --- host over ssh ----------------------------------------------------------------- */

static void test_host_over_ssh(void **state)
{
	(void)state;
	NEED_TESTBED();
	sshc_conn *c = connect_target();
	host *h = host_over_ssh(c);
	assert_false(host_is_local(h));
	assert_ptr_equal(host_ssh(h), c);
	assert_string_equal(host_describe(h), sshc_target(c));

	struct seen seen = {0};
	struct event_sink sink = {record, &seen};
	const char *env[] = {"FERRY_T_A=one two", "FERRY_T_B=it's $(not run)", NULL};
	int status = 99;
	struct host_run_opts o = {.cwd = dir, .env = env, .events = &sink, .exit_status = &status};
	struct err e = {0};
	assert_int_equal(host_run(h, "pwd; echo \"$FERRY_T_A|$FERRY_T_B\"; echo; echo oops >&2", &o,
				  &e), 0);
	assert_int_equal(status, 0);
	char *want = xasprintf("info::[%s] %s", sshc_host(c), dir);
	assert_true(strv_contains(&seen.v, want));
	free(want);
	want = xasprintf("info::[%s] one two|it's $(not run)", sshc_host(c));
	assert_true(strv_contains(&seen.v, want));
	free(want);
	want = xasprintf("warn::[%s] oops", sshc_host(c));
	assert_true(strv_contains(&seen.v, want));
	free(want);
	assert_int_equal(seen.v.n, 3);   /* the empty line is dropped */
	strv_done(&seen.v);

	char *out = NULL;
	assert_int_equal(host_capture(h, "printf 'x\\ny'", NULL, &out, &e), 0);
	assert_string_equal(out, "x\ny");
	free(out);

	struct host_run_opts of = {.exit_status = &status};
	assert_int_equal(host_run(h, "echo broken >&2; exit 3", &of, &e), -1);
	assert_int_equal(status, 3);
	assert_int_equal(e.kind, ERR_FAILED);
	want = xasprintf("command `echo broken >&2; exit 3` on %s exited with status 3: broken",
			 sshc_target(c));
	assert_string_equal(e.msg, want);
	free(want);

	of.cwd = "/nonexistent/ferry-dir";
	assert_int_equal(host_run(h, "true", &of, &e), -1);
	assert_int_equal(e.kind, ERR_FAILED);
	assert_non_null(strstr(e.msg, "nonexistent"));

	struct host_run_opts ot = {.timeout_s = 1};
	double t0 = util_now();
	assert_int_equal(host_run(h, "sleep 30", &ot, &e), -1);
	assert_true(util_now() - t0 < 15);
	assert_int_equal(e.kind, ERR_SSH);
	assert_non_null(strstr(e.msg, "timed out"));

	volatile sig_atomic_t cancel = 1;
	struct host_run_opts oc = {.cancel = &cancel};
	assert_int_equal(host_run(h, "sleep 30", &oc, &e), -1);
	assert_int_equal(e.kind, ERR_INTERRUPTED);

	/* The connection is still good for the next command. */
	assert_int_equal(host_capture(h, "echo still", NULL, &out, &e), 0);
	assert_string_equal(out, "still\n");
	free(out);
	host_free(h);
	sshc_free(c);
}

/* --- the sftp storage driver ------------------------------------------------------ */

static void test_storage_sftp(void **state)
{
	(void)state;
	NEED_TESTBED();
	sshc_conn *c = connect_target();
	char *sdir = at("store/sub");   /* does not exist yet */
	struct err e = {0};
	storage *s = storage_open_sftp(c, sdir, &e);
	assert_non_null(s);
	char *desc = xasprintf("sftp://%s%s", sshc_target(c), sdir);
	assert_string_equal(storage_describe(s), desc);
	assert_string_equal(storage_driver_name(s), "sftp");

	struct storage_list l;
	assert_int_equal(storage_list(s, NULL, &l, &e), 0);
	assert_int_equal(l.n, 0);

	char *src = make_file("app-1.ferry.tar.zst", 5 * 1024 * 1024 + 3, 11);
	char want[HASH_HEX_SIZE];
	sha_of(src, want);
	struct seen seen = {0};
	struct event_sink sink = {record, &seen};
	struct storage_put_opts po = {.events = &sink, .step = "copy"};
	struct storage_put_result r;
	assert_int_equal(storage_put(s, src, &po, &r, &e), 0);
	assert_string_equal(r.sha256, want);
	assert_int_equal(r.bytes, 5 * 1024 * 1024 + 3);
	assert_int_equal(r.sent, r.bytes);
	assert_int_equal(seen.last_done, r.bytes);
	assert_int_equal(seen.last_total, r.bytes);
	strv_done(&seen.v);

	char *final = storage_entry_path(s, "app-1.ferry.tar.zst");
	char *expect = xasprintf("%s/app-1.ferry.tar.zst", sdir);
	assert_string_equal(final, expect);
	char there[HASH_HEX_SIZE];
	sha_of(final, there);   /* the server is this machine */
	assert_string_equal(there, want);

	po.name = "app-0.ferry.tar.zst";
	assert_int_equal(storage_put(s, src, &po, NULL, &e), 0);
	/* A transfer in progress and a hidden file are not entries. */
	char *part = xasprintf("%s/app-2.ferry.tar.zst.part", sdir);
	char *hidden = xasprintf("%s/.ferry.lock", sdir);
	tu_write(part, "partial");
	tu_write(hidden, "lock");
	assert_int_equal(storage_list(s, ".ferry.tar.zst", &l, &e), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].name, "app-0.ferry.tar.zst");
	assert_string_equal(l.v[1].name, "app-1.ferry.tar.zst");
	assert_int_equal(l.v[1].size, r.bytes);
	assert_true(l.v[1].mtime > 0);
	storage_list_done(&l);

	struct storage_entry en;
	assert_int_equal(storage_stat(s, "app-1.ferry.tar.zst", &en, &e), 0);
	assert_int_equal(en.size, r.bytes);
	storage_entry_done(&en);
	assert_int_equal(storage_stat(s, "nosuch.ferry.tar.zst", &en, &e), 1);

	/* get: pipelined download, hash checked, atomic. */
	char *out = at("fetched/copy.tar.zst");
	struct storage_get_opts go = {.sha256 = want, .events = &sink};
	struct storage_get_result gr;
	assert_int_equal(storage_get(s, "app-1.ferry.tar.zst", out, &go, &gr, &e), 0);
	assert_string_equal(gr.sha256, want);
	assert_int_equal(gr.bytes, r.bytes);
	sha_of(out, there);
	assert_string_equal(there, want);
	assert_int_equal(seen.last_done, r.bytes);
	char *outpart = xasprintf("%s.part", out);
	assert_false(fsx_exists(outpart));
	go.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	char *out2 = at("fetched/bad.tar.zst");
	assert_int_equal(storage_get(s, "app-1.ferry.tar.zst", out2, &go, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_VERIFY);
	assert_false(fsx_exists(out2));
	char *out2part = xasprintf("%s.part", out2);
	assert_false(fsx_exists(out2part));
	assert_int_equal(storage_get(s, "nosuch.ferry.tar.zst", out2, NULL, NULL, &e), 1);

	/* An empty entry comes and goes too. */
	char *empty = make_file("empty.ferry.tar.zst", 0, 0);
	assert_int_equal(storage_put(s, empty, NULL, NULL, &e), 0);
	assert_int_equal(storage_get(s, "empty.ferry.tar.zst", out2, NULL, &gr, &e), 0);
	assert_int_equal(gr.bytes, 0);
	assert_int_equal(storage_remove(s, "empty.ferry.tar.zst", &e), 0);

	assert_int_equal(storage_remove(s, "app-0.ferry.tar.zst", &e), 0);
	assert_int_equal(storage_remove(s, "app-0.ferry.tar.zst", &e), 1);
	assert_int_equal(storage_list(s, NULL, &l, &e), 0);
	assert_int_equal(l.n, 1);
	storage_list_done(&l);

	strv_done(&seen.v);
	storage_close(s);
	sshc_free(c);
	free(empty), free(out2part), free(out2), free(outpart), free(out), free(hidden);
	free(part), free(expect), free(final), free(src), free(desc), free(sdir);
}

static void test_storage_sftp_resumes(void **state)
{
	(void)state;
	NEED_TESTBED();
	sshc_conn *c = connect_target();
	char *sdir = at("resume");
	assert_int_equal(mkdir(sdir, 0700), 0);
	struct err e = {0};
	storage *s = storage_open_sftp(c, sdir, &e);
	char *src = make_file("r.ferry.tar.zst", 3 * 1024 * 1024, 12);
	/* An earlier, interrupted put left the first MiB. */
	char *part = xasprintf("%s/r.ferry.tar.zst.part", sdir);
	char *head = xmalloc(1024 * 1024);
	FILE *f = fopen(src, "rb");
	assert_non_null(f);
	assert_int_equal(fread(head, 1, 1024 * 1024, f), 1024 * 1024);
	fclose(f);
	assert_int_equal(fsx_write_atomic(part, head, 1024 * 1024, 0600, &e), 0);
	struct seen seen = {0};
	struct event_sink sink = {record, &seen};
	struct storage_put_opts po = {.events = &sink};
	struct storage_put_result r;
	assert_int_equal(storage_put(s, src, &po, &r, &e), 0);
	assert_int_equal(r.resumed_from, 1024 * 1024);
	assert_int_equal(r.sent, 2 * 1024 * 1024);
	assert_true(strv_contains(&seen.v, "info::resuming after 1048576 bytes"));
	assert_false(fsx_exists(part));
	strv_done(&seen.v);
	storage_close(s);
	sshc_free(c);
	free(head), free(part), free(src), free(sdir);
}

/* --- the push flow ------------------------------------------------------------------- */

static void test_push_plan(void **state)
{
	(void)state;
	NEED_TESTBED();
	char *src = make_file("plan.ferry.tar.zst", 1000, 13);
	struct push_opts o = {.target = profile("target"), .bundle = src};
	struct plan plan;
	struct err e = {0};
	assert_int_equal(push_plan(&o, &plan, &e), 0);
	assert_int_equal(plan.n, 3);
	assert_string_equal(plan.steps[0].id, "preflight");
	assert_string_equal(plan.steps[1].id, "connect");
	assert_string_equal(plan.steps[2].id, "upload");
	assert_non_null(strstr(plan.steps[2].detail, "plan.ferry.tar.zst"));
	assert_non_null(strstr(plan.steps[2].detail, "sftp://"));
	plan_done(&plan);
	/* Nothing went anywhere. */
	char *remote = at("pushed/plan.ferry.tar.zst");
	assert_false(fsx_exists(remote));

	char *missing = at("no-such-file");
	o.bundle = missing;
	assert_int_equal(push_plan(&o, &plan, &e), -1);
	plan_done(&plan);
	assert_int_equal(e.kind, ERR_FAILED);
	char *want = xasprintf("cannot open %s: No such file or directory", missing);
	assert_string_equal(e.msg, want);
	o = (struct push_opts){.target = profile("nossh"), .bundle = src};
	assert_int_equal(push_plan(&o, &plan, &e), -1);
	plan_done(&plan);
	assert_int_equal(e.kind, ERR_PROFILE);
	assert_non_null(strstr(e.msg, "no ssh section"));
	free(want), free(missing), free(remote), free(src);
}

static void test_push_run(void **state)
{
	(void)state;
	NEED_TESTBED();
	char *src = make_file("run.ferry.tar.zst", 4 * 1024 * 1024 + 5, 14);
	char want[HASH_HEX_SIZE];
	sha_of(src, want);
	struct seen seen = {0};
	struct event_sink sink = {record, &seen};
	struct push_opts o = {.target = profile("target"), .bundle = src, .events = &sink};
	struct push_result r;
	struct err e = {0};
	assert_int_equal(push_run(&o, &r, &e), 0);
	assert_string_equal(r.file, src);
	char *remote = at("pushed/run.ferry.tar.zst");
	assert_string_equal(r.remote, remote);
	assert_non_null(r.host);
	assert_int_equal(r.bytes, 4 * 1024 * 1024 + 5);
	assert_int_equal(r.resumed_from, 0);
	assert_int_equal(r.sent, r.bytes);
	assert_string_equal(r.sha256, want);
	assert_true(r.seconds > 0);
	char there[HASH_HEX_SIZE];
	sha_of(remote, there);
	assert_string_equal(there, want);
	/* The step events, in the plan's order. */
	assert_true(seen_prefix(&seen, "step_start:preflight:"));
	char *line = xasprintf("step_done:connect:%s", r.host);
	assert_true(strv_contains(&seen.v, line));
	free(line);
	line = xasprintf("step_start:upload:copy %s to ", src);
	assert_true(seen_prefix(&seen, line));
	free(line);
	assert_true(seen_prefix(&seen, "step_done:upload:verified, "));
	assert_int_equal(seen.last_done, r.bytes);
	assert_int_equal(r.report.n, 3);
	assert_null(r.report.failed_step);
	strv_done(&seen.v);
	push_result_done(&r);

	/* The remote .part of an interrupted push is resumed. */
	char *part = xasprintf("%s.part", remote);
	assert_int_equal(rename(remote, part), 0);
	assert_int_equal(truncate(part, 1024 * 1024), 0);
	assert_int_equal(push_run(&o, &r, &e), 0);
	assert_int_equal(r.resumed_from, 1024 * 1024);
	assert_int_equal(r.sent, r.bytes - 1024 * 1024);
	assert_true(strv_contains(&seen.v, "info::resuming after 1048576 bytes"));
	assert_false(fsx_exists(part));
	strv_done(&seen.v);
	push_result_done(&r);

	/* A failure names its step; cancel stops before anything runs. */
	char *missing = at("no-such-file");
	o.bundle = missing;
	assert_int_equal(push_run(&o, &r, &e), -1);
	assert_string_equal(r.report.failed_step, "preflight");
	assert_true(seen_prefix(&seen, "step_fail:preflight:cannot open "));
	push_result_done(&r);
	strv_done(&seen.v);
	volatile sig_atomic_t cancel = 1;
	o.bundle = src;
	o.cancel = &cancel;
	assert_int_equal(push_run(&o, &r, &e), -1);
	assert_int_equal(e.kind, ERR_INTERRUPTED);
	assert_string_equal(r.report.failed_step, "connect");
	push_result_done(&r);
	push_result_done(NULL);
	strv_done(&seen.v);
	free(missing), free(part), free(remote), free(src);
}

/* The flow's events and result in the form of `ferry push --json`. */
static void test_push_record(void **state)
{
	(void)state;
	NEED_TESTBED();
	const char *bundle = getenv("FERRY_TEST_SSH_LIVE_BUNDLE");
	if (!bundle)
		skip();
	char *path = at("flow-push.jsonl");
	struct seen seen = {.jsonl = fopen(path, "w")};
	assert_non_null(seen.jsonl);
	struct event_sink sink = {record, &seen};
	struct push_opts o = {.target = profile("target"), .bundle = bundle, .events = &sink};
	struct push_result r;
	struct err e = {0};
	assert_int_equal(push_run(&o, &r, &e), 0);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "status", "ok", "file", r.file,
			      "host", r.host, "remote", r.remote, "bytes", (json_int_t)r.bytes,
			      "resumed_from", (json_int_t)r.resumed_from, "sent", (json_int_t)r.sent,
			      "sha256", r.sha256);
	json_dumpf(j, seen.jsonl, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', seen.jsonl);
	json_decref(j);
	fclose(seen.jsonl);
	strv_done(&seen.v);
	push_result_done(&r);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_over_ssh),
		cmocka_unit_test(test_storage_sftp),
		cmocka_unit_test(test_storage_sftp_resumes),
		cmocka_unit_test(test_push_plan),
		cmocka_unit_test(test_push_run),
		cmocka_unit_test(test_push_record),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
