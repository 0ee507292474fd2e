/* Unit tests for the pure parts of admin, status and http: the text table,
 * action arguments and synopsis, psql's argv, the status verdict and JSON,
 * and how a health answer is described. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "http.h"
#include "profile/profile.h"
#include "flow/status.h"
#include "testutil.h"

/* Rows from string literals: headers then cells (NULL = SQL NULL). */
static void make_rows(struct admin_rows *r, size_t ncols, size_t nrows, const char *const *headers,
		      const char *const *cells)
{
	memset(r, 0, sizeof *r);
	r->ncols = ncols;
	r->nrows = nrows;
	r->affected = (long long)nrows;
	r->headers = xcalloc(ncols + 1, sizeof *r->headers);
	r->cells = xcalloc(ncols * nrows + 1, sizeof *r->cells);
	for (size_t i = 0; i < ncols; i++)
		r->headers[i] = xstrdup(headers[i]);
	for (size_t i = 0; i < ncols * nrows; i++)
		r->cells[i] = xstrdup(cells[i]);
}

static void test_table_aligned(void **state)
{
	(void)state;
	static const char *const headers[] = {"id", "name", "note"};
	static const char *const cells[] = {"1", "alice", "a\nb", "22", NULL, "x"};
	struct admin_rows r;
	make_rows(&r, 3, 2, headers, cells);
	char *t = admin_format_table(&r);
	assert_string_equal(t,
		" id | name  | note\n"
		"----+-------+------\n"
		" 1  | alice | a\\nb\n"
		" 22 |       | x\n"
		"(2 rows)\n");
	free(t);
	admin_rows_done(&r);
}

static void test_table_utf8_and_one_row(void **state)
{
	(void)state;
	static const char *const headers[] = {"city", "n"};
	static const char *const cells[] = {"Zürich", "7"};
	struct admin_rows r;
	make_rows(&r, 2, 1, headers, cells);
	char *t = admin_format_table(&r);
	assert_string_equal(t,
		" city   | n\n"
		"--------+---\n"
		" Zürich | 7\n"
		"(1 row)\n");
	free(t);
	admin_rows_done(&r);
}

static void test_table_no_columns(void **state)
{
	(void)state;
	struct admin_rows r = {.affected = 3};
	char *t = admin_format_table(&r);
	assert_string_equal(t, "3 rows affected\n");
	free(t);
	r.affected = 1;
	t = admin_format_table(&r);
	assert_string_equal(t, "1 row affected\n");
	free(t);
	static const char *const headers[] = {"x"};
	make_rows(&r, 1, 0, headers, NULL);
	t = admin_format_table(&r);
	assert_string_equal(t, " x\n---\n(0 rows)\n");
	free(t);
	admin_rows_done(&r);
}

static const char profile_json[] =
	"{'p': {'database': {'url': 'postgresql://u@127.0.0.1:5432/shop'},"
	" 'actions': {'decommission-worker': {'sql': 'UPDATE tasks SET worker_id = NULL WHERE worker_id = $1',"
	"   'params': ['WORKER_ID'], 'confirm': true, 'description': 'take a worker out'},"
	"  'move': {'sql': 'SELECT $1, $2', 'params': ['FROM', 'TO']},"
	"  'vacuum': {'sql': 'SELECT 1'}}}}";

static void test_actions(void **state)
{
	(void)state;
	char *json = tu_json(profile_json);
	struct err e = {0};
	profile_file *pf = profile_file_load_string(json, "/tmp/profiles.json", &e);
	free(json);
	assert_non_null(pf);
	const struct profile *p = profile_file_get(pf, "p", &e);
	assert_non_null(p);
	const struct profile_action *a = admin_find_action(p, "decommission-worker");
	assert_non_null(a);
	assert_string_equal(a->sql, "UPDATE tasks SET worker_id = NULL WHERE worker_id = $1");
	assert_int_equal(admin_check_args(a, 1, &e), 0);
	assert_int_equal(admin_check_args(a, 2, &e), -1);
	assert_int_equal(e.kind, ERR_USAGE);
	assert_non_null(strstr(e.msg, "expects 1 parameter (WORKER_ID), got 2"));
	assert_string_equal(e.hint, "ferry action decommission-worker <WORKER_ID>");
	const struct profile_action *move = admin_find_action(p, "move");
	assert_int_equal(admin_check_args(move, 0, &e), -1);
	assert_non_null(strstr(e.msg, "expects 2 parameters (FROM, TO), got 0"));
	char *syn = admin_action_synopsis(move);
	assert_string_equal(syn, "move <FROM> <TO>");
	free(syn);
	assert_int_equal(admin_check_args(admin_find_action(p, "vacuum"), 1, &e), -1);
	assert_non_null(strstr(e.msg, "takes no parameters, got 1 argument"));
	assert_null(admin_find_action(p, "decomission-worker"));
	assert_int_equal(admin_unknown_action(p, "decomission-worker", &e), -1);
	assert_int_equal(e.kind, ERR_USAGE);
	assert_non_null(strstr(e.hint, "did you mean \"decommission-worker\"?"));
	profile_file_free(pf);
}

static void test_psql_argv(void **state)
{
	(void)state;
	struct strv extra = {0}, argv = {0};
	strv_push(&extra, "-c");
	strv_push(&extra, "SELECT 1");
	admin_psql_argv("/usr/bin/psql", "host='h' dbname='d'", &extra, &argv);
	char *joined = strv_join(&argv, "|");
	assert_string_equal(joined, "/usr/bin/psql|--dbname|host='h' dbname='d'|-c|SELECT 1");
	free(joined);
	strv_done(&argv);
	strv_done(&extra);
}

/* Append a check to a hand-made report. */
static void add(struct status_report *r, const char *name, const char *subject,
		enum status_state s, enum err_kind kind)
{
	r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
	r->v[r->n++] = (struct status_check){.name = xstrdup(name), .subject = xstrdup(subject),
		.state = s, .kind = kind, .detail = xstrdup("detail")};
}

static void test_status_verdict(void **state)
{
	(void)state;
	struct status_report r = {0};
	add(&r, "size", NULL, STATUS_OK, ERR_OK);
	assert_int_equal(status_overall(&r), STATUS_OK);
	assert_int_equal(status_fail_kind(&r), ERR_OK);
	add(&r, "backup", NULL, STATUS_WARN, ERR_OK);
	assert_int_equal(status_overall(&r), STATUS_WARN);
	assert_int_equal(status_fail_kind(&r), ERR_OK);
	add(&r, "health", "api", STATUS_FAIL, ERR_HEALTH);
	add(&r, "service", "false", STATUS_FAIL, ERR_FAILED);
	assert_int_equal(status_overall(&r), STATUS_FAIL);
	assert_int_equal(status_fail_kind(&r), ERR_HEALTH);
	assert_string_equal(status_state_name(STATUS_WARN), "warn");
	status_report_done(&r);
}

static void test_status_json(void **state)
{
	(void)state;
	struct status_report r = {0};
	r.profile = xstrdup("prod");
	r.facts.has_db = true;
	r.facts.latency_ms = 2.6;
	r.facts.db_name = xstrdup("shop");
	r.facts.db_host = xstrdup("127.0.0.1:5432");
	r.facts.server_version = xstrdup("15.20");
	r.facts.size_bytes = 8000000;
	r.facts.tables = 3;
	r.facts.backup_dir = xstrdup("/b");
	add(&r, "database", NULL, STATUS_OK, ERR_OK);
	add(&r, "size", NULL, STATUS_OK, ERR_OK);
	add(&r, "backup", NULL, STATUS_WARN, ERR_OK);
	add(&r, "health", "api", STATUS_FAIL, ERR_HEALTH);
	r.health = xcalloc(1, sizeof *r.health);
	r.health[0] = (struct status_health_fact){.url = xstrdup("http://x/h"), .http_status = 503};
	r.nhealth = 1;
	char *text = status_to_json(&r);
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "status")), "fail");
	assert_int_equal(json_integer_value(json_object_get(o, "exit_code")), 6);
	json_t *checks = json_object_get(o, "checks");
	assert_int_equal(json_array_size(checks), 4);
	json_t *db = json_array_get(checks, 0);
	assert_int_equal(json_integer_value(json_object_get(db, "latency_ms")), 3);
	assert_string_equal(json_string_value(json_object_get(db, "server_version")), "15.20");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(checks, 1), "tables")), 3);
	assert_true(json_is_null(json_object_get(json_array_get(checks, 2), "last_backup")));
	json_t *h = json_array_get(checks, 3);
	assert_string_equal(json_string_value(json_object_get(h, "check")), "api");
	assert_string_equal(json_string_value(json_object_get(h, "error")), "health");
	assert_int_equal(json_integer_value(json_object_get(h, "http_status")), 503);
	json_decref(o);
	free(text);
	status_report_done(&r);
}

static void test_human_age(void **state)
{
	(void)state;
	char buf[32];
	assert_string_equal(status_human_age(5, buf, sizeof buf), "5 s");
	assert_string_equal(status_human_age(600, buf, sizeof buf), "10 min");
	assert_string_equal(status_human_age(5 * 3600, buf, sizeof buf), "5 h");
	assert_string_equal(status_human_age(3 * 86400 + 5, buf, sizeof buf), "3 d");
	assert_string_equal(status_human_age(-4, buf, sizeof buf), "0 s");
}

static void test_http_describe(void **state)
{
	(void)state;
	struct profile_health h = {.name = "api", .url = "http://x/", .expect = 200};
	struct http_result r = {.status = 200};
	char buf[400];
	assert_string_equal(http_result_describe(&h, &r, buf, sizeof buf), "200");
	r.status = 503;
	assert_string_equal(http_result_describe(&h, &r, buf, sizeof buf), "503 (expected 200)");
	r.status = 302;
	assert_non_null(strstr(http_result_describe(&h, &r, buf, sizeof buf), "a redirect"));
	r.status = 0;
	snprintf(r.error, sizeof r.error, "Connection refused");
	assert_string_equal(http_result_describe(&h, &r, buf, sizeof buf), "Connection refused");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_aligned),
		cmocka_unit_test(test_table_utf8_and_one_row),
		cmocka_unit_test(test_table_no_columns),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_psql_argv),
		cmocka_unit_test(test_status_verdict),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_human_age),
		cmocka_unit_test(test_http_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
