/* Unit tests for the drill's pure pieces: the COPY statements taken from a
 * pg_restore script (and refused when they are anything else), the
 * session settings of the content check, the .verified record, a
 * compressed data file read as a stream, and the alert's JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/bundle.h"
#include "content.h"
#include "flow/list.h"
#include "flow/verified.h"
#include "manifest.h"
#include "notify.h"
#include "testutil.h"

static void test_copy_target(void **state)
{
	(void)state;
	char *t = content_copy_target("COPY public.t (a, b) FROM stdin;\n");
	assert_string_equal(t, "public.t (a, b)");
	free(t);
	t = content_copy_target("COPY \"Weird Schema\".\"Tab\"\"le\" (\"col one\", \"ünï\", x$1) FROM stdin;");
	assert_string_equal(t, "\"Weird Schema\".\"Tab\"\"le\" (\"col one\", \"ünï\", x$1)");
	free(t);
	t = content_copy_target("COPY public.nothing  FROM stdin;");
	assert_string_equal(t, "public.nothing ");
	free(t);
	t = content_copy_target("COPY \"a\nb\".c (d) FROM stdin;");
	assert_non_null(t);
	free(t);
	/* Anything but a plain COPY of columns is refused. */
	assert_null(content_copy_target("COPY public.t (a) FROM stdin; DROP TABLE x; COPY y FROM stdin;"));
	assert_null(content_copy_target("COPY (SELECT 1) FROM stdin;"));
	assert_null(content_copy_target("COPY public.t (a) TO PROGRAM 'rm' FROM stdin;"));
	assert_null(content_copy_target("COPY public.t (a FROM stdin;"));
	assert_null(content_copy_target("COPY \"unterminated FROM stdin;"));
	assert_null(content_copy_target("SELECT 1 FROM stdin;"));
	assert_null(content_copy_target("COPY public.t (a) FROM '/etc/passwd';"));
	assert_null(content_copy_target("COPY public.t (a, ) FROM stdin;"));
}

static void test_parse_script(void **state)
{
	(void)state;
	const char *script =
		"--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n"
		"SET client_encoding = 'LATIN1';\nSET standard_conforming_strings = on;\n\n"
		"--\n-- Data for Name: c; Type: TABLE DATA; Schema: public; Owner: ferry\n--\n\n"
		"COPY public.c (a, b, z, late) FROM stdin;\n"
		"--\n-- Data for Name: odd; Type: TABLE DATA\n--\n\n"
		"COPY public.\"line\nbreak\" (x) FROM stdin;\n"
		"COPY public.p (a) FROM stdin;\n";
	struct strv stmts = {0};
	char *enc = NULL;
	content_parse_script(script, &stmts, &enc);
	assert_string_equal(enc, "LATIN1");
	assert_int_equal(stmts.n, 3);
	assert_string_equal(stmts.v[0], "COPY public.c (a, b, z, late) FROM stdin;");
	assert_string_equal(stmts.v[1], "COPY public.\"line\nbreak\" (x) FROM stdin;");
	assert_string_equal(stmts.v[2], "COPY public.p (a) FROM stdin;");
	free(enc);
	strv_done(&stmts);
}

/* pg_dump's own settings first, the encoding, then the recorded ones (only
 * those the check trusts). */
static void test_session(void **state)
{
	(void)state;
	struct manifest m;
	memset(&m, 0, sizeof m);
	strv_push(&m.dump.session, "TimeZone=Asia/Kolkata");
	strv_push(&m.dump.session, "bytea_output=escape");
	strv_push(&m.dump.session, "search_path=evil");
	strv_push(&m.dump.session, "lc_monetary=C");
	const char *set[CONTENT_MAX_SETTINGS + 1][2];
	size_t n = content_session(&m, "UTF8", set);
	struct sbuf b = {0};
	for (size_t i = 0; i < n; i++)
		sbuf_addf(&b, "%s=%s;", set[i][0], set[i][1]);
	assert_string_equal(b.data, "DateStyle=ISO;IntervalStyle=postgres;extra_float_digits=3;"
			    "synchronize_seqscans=off;search_path=;standard_conforming_strings=on;"
			    "row_security=off;statement_timeout=0;lock_timeout=0;client_encoding=UTF8;"
			    "TimeZone=Asia/Kolkata;bytea_output=escape;lc_monetary=C;");
	assert_null(set[n][0]);
	sbuf_done(&b);
	manifest_done(&m);
}

/* The verify and the drill line live side by side; list shows the drill's. */
static void test_verified_record(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char *bundle = xasprintf("%s/b.ferry.tar.zst", dir);
	struct verified_record r;
	verified_read(bundle, &r);
	assert_null(r.verify);
	assert_null(r.drill);
	verified_write_verify(bundle, true, NULL);
	verified_write_drill(bundle, false, "content check: public.t differs\nat line 3");
	verified_read(bundle, &r);
	assert_true(str_starts(r.verify, "ok 20"));
	assert_non_null(strstr(r.drill, " FAILED content check: public.t differs at line 3"));
	assert_true(verified_ok(r.verify));
	assert_false(verified_ok(r.drill));
	struct bundle_info b = {.verified = r.verify, .drilled = r.drill};
	char state_text[64];
	list_check_state(&b, state_text, sizeof state_text);
	assert_true(str_starts(state_text, "drill FAILED 20"));
	verified_record_done(&r);
	verified_write_drill(bundle, true, NULL);
	verified_write_verify(bundle, false, "member db/x is corrupted");
	verified_read(bundle, &r);
	assert_true(str_starts(r.verify, "FAILED 20"));
	assert_true(verified_ok(r.drill));
	b = (struct bundle_info){.verified = r.verify, .drilled = r.drill};
	list_check_state(&b, state_text, sizeof state_text);
	assert_true(str_starts(state_text, "drilled 20"));
	b.drilled = NULL;
	list_check_state(&b, state_text, sizeof state_text);
	assert_true(str_starts(state_text, "verify FAILED 20"));
	b.verified = NULL;
	list_check_state(&b, state_text, sizeof state_text);
	assert_string_equal(state_text, "not verified");
	verified_record_done(&r);
	tu_rmtree(dir);
	free(bundle);
	free(dir);
}

/* A gzip data file reads as its content, a plain one as it is. */
static void test_stream(void **state)
{
	(void)state;
	char *dir = tu_mkdtemp();
	char *plain = xasprintf("%s/1.dat", dir), *gz = xasprintf("%s/1.dat.gz", dir);
	tu_write(plain, "1\tone\n\\.\n\n");
	char *cmd = xasprintf("gzip -c %s > %s", plain, gz);
	assert_int_equal(system(cmd), 0);
	const char *paths[] = {plain, gz};
	for (size_t i = 0; i < 2; i++) {
		struct err e = {0};
		bundle_stream *s = bundle_stream_open(paths[i], &e);
		assert_non_null(s);
		char buf[64];
		ssize_t n = bundle_stream_read(s, buf, sizeof buf, &e);
		assert_int_equal(n, 10);
		assert_memory_equal(buf, "1\tone\n\\.\n\n", 10);
		assert_int_equal(bundle_stream_read(s, buf, sizeof buf, &e), 0);
		bundle_stream_free(s);
	}
	struct err e = {0};
	assert_null(bundle_stream_open("/nonexistent/2.dat", &e));
	assert_non_null(strstr(e.msg, "/nonexistent/2.dat"));
	tu_rmtree(dir);
	free(plain), free(gz), free(cmd), free(dir);
}

/* The alert: text, event, profile, status, the result; notify.on decides. */
static void test_alert(void **state)
{
	(void)state;
	struct profile p = {.name = "prod", .has_notify = true};
	strv_push(&p.notify.on, "failure");
	assert_true(notify_wants(&p, NOTIFY_FAILURE));
	assert_false(notify_wants(&p, NOTIFY_WARNING));
	json_t *result = json_pack("{s:s}", "status", "error");
	json_t *a = notify_alert(&p, "backup", NOTIFY_FAILURE, "ferry: backup of prod FAILED", result);
	assert_string_equal(json_string_value(json_object_get(a, "text")), "ferry: backup of prod FAILED");
	assert_string_equal(json_string_value(json_object_get(a, "event")), "backup");
	assert_string_equal(json_string_value(json_object_get(a, "status")), "failure");
	assert_string_equal(json_string_value(json_object_get(a, "profile")), "prod");
	assert_true(json_equal(json_object_get(a, "result"), result));
	json_decref(a);
	json_decref(result);
	p.has_notify = false;
	assert_false(notify_wants(&p, NOTIFY_FAILURE));
	strv_done(&p.notify.on);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_target),
		cmocka_unit_test(test_parse_script),
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_verified_record),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_alert),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
