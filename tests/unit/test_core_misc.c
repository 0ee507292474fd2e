/* Unit tests for small core pieces: error table, events, pg_dump argv and
 * version parsing, conninfo splitting, plans, schedule texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "dump.h"
#include "err.h"
#include "event.h"
#include "plan.h"
#include "schedule.h"

static void test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(err_exit_code(ERR_OK), 0);
	assert_int_equal(err_exit_code(ERR_FAILED), 1);
	assert_int_equal(err_exit_code(ERR_USAGE), 2);
	assert_int_equal(err_exit_code(ERR_PROFILE), 2);
	assert_int_equal(err_exit_code(ERR_DB), 3);
	assert_int_equal(err_exit_code(ERR_VERIFY), 4);
	assert_int_equal(err_exit_code(ERR_SPACE), 7);
	assert_int_equal(err_exit_code(ERR_INTERRUPTED), 130);
	assert_string_equal(err_kind_name(ERR_DB), "db");
	struct err e;
	assert_int_equal(err_set(&e, ERR_DB, "cannot connect to %s", "h"), -1);
	err_hint(&e, "check %d", 5);
	err_prefix(&e, "step %s", "dump");
	assert_string_equal(e.msg, "step dump: cannot connect to h");
	assert_string_equal(e.hint, "check 5");
}

static void test_event_json(void **state)
{
	(void)state;
	struct event ev = {.type = EV_PROGRESS, .step = "dump", .done = 5, .total = 10};
	char *j = event_to_json(&ev);
	assert_string_equal(j, "{\"event\":\"progress\",\"step\":\"dump\",\"done\":5,\"total\":10,\"unit\":\"bytes\"}");
	free(j);
}

static void test_pg_dump_argv(void **state)
{
	(void)state;
	struct strv tables = {0};
	strv_push(&tables, "app.orders");
	struct dump_opts o = {.format = DUMP_DIRECTORY, .jobs = 2, .snapshot = "00000003-1",
			      .tables = &tables};
	struct strv argv = {0};
	dump_pg_dump_argv(&argv, "/usr/bin/pg_dump", "/tmp/out", &o);
	char *joined = strv_join(&argv, " ");
	assert_string_equal(joined, "/usr/bin/pg_dump --no-password --format=directory --jobs=2 "
			    "--compress=0 --snapshot=00000003-1 --table=app.orders --file=/tmp/out "
			    "--dbname {CONNINFO}");
	free(joined);
	strv_done(&argv);
	strv_done(&tables);
}

static void test_version_parse(void **state)
{
	(void)state;
	int major, minor;
	assert_int_equal(dump_parse_version("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)", &major, &minor), 0);
	assert_int_equal(major, 15);
	assert_int_equal(minor, 20);
	assert_int_equal(dump_parse_version("pg_restore (PostgreSQL) 16.1", &major, &minor), 0);
	assert_int_equal(major, 16);
	assert_int_equal(dump_parse_version("garbage", &major, &minor), -1);
}

static void test_conninfo_split(void **state)
{
	(void)state;
	char *safe, *pw;
	struct err e = {0};
	assert_int_equal(db_conninfo_split("postgresql://u:s3cr%27et@h:5433/shop", &safe, &pw, &e), 0);
	assert_string_equal(pw, "s3cr'et");
	assert_null(strstr(safe, "s3cr"));
	assert_non_null(strstr(safe, "dbname='shop'"));
	assert_non_null(strstr(safe, "port='5433'"));
	free(safe), free(pw);
	assert_int_equal(db_conninfo_split("host=h dbname=x", &safe, &pw, &e), 0);
	assert_null(pw);
	free(safe);
	assert_int_equal(db_conninfo_split("postgresql://h/x?bogus=1", &safe, &pw, &e), -1);
	assert_int_equal(e.kind, ERR_PROFILE);
	char *other = db_conninfo_with_dbname("postgresql://u@h/shop", "shop_shadow", &e);
	assert_non_null(strstr(other, "dbname='shop_shadow'"));
	free(other);
	char *name = db_conninfo_dbname("postgresql://u@h:1/shop", &e);
	assert_string_equal(name, "shop");
	free(name);
	char *q = db_quote_ident("we\"ird");
	assert_string_equal(q, "\"we\"\"ird\"");
	free(q);
}

static void test_plan(void **state)
{
	(void)state;
	struct plan p;
	plan_init(&p, "back up prod");
	plan_add(&p, "dump", "dump the database", "%d tables", 3);
	plan_add(&p, "write", "write the bundle", NULL);
	char *j = plan_to_json(&p);
	assert_string_equal(j, "{\"plan\":\"back up prod\",\"steps\":[{\"id\":\"dump\",\"title\":"
			    "\"dump the database\",\"detail\":\"3 tables\"},{\"id\":\"write\","
			    "\"title\":\"write the bundle\"}]}");
	free(j);
	plan_done(&p);
}

static void test_schedule_texts(void **state)
{
	(void)state;
	struct profile p = {.name = "prod"};
	struct schedule_opts o = {.ferry_path = "/usr/local/bin/ferry", .profiles_path = "/etc/ferry/profiles.json"};
	char *svc = schedule_service_text(&p, "daily", &o);
	assert_non_null(strstr(svc, "ExecStart=/usr/local/bin/ferry backup --profiles /etc/ferry/profiles.json --profile prod --type daily"));
	char *tmr = schedule_timer_text(&p, "weekly");
	assert_non_null(strstr(tmr, "OnCalendar=Sun *-*-* 03:00:00"));
	char *cron = schedule_cron_text(&p, &o);
	assert_non_null(strstr(cron, "0 4 1 * * root /usr/local/bin/ferry backup"));
	assert_non_null(strstr(cron, "--type monthly --scheduled"));
	free(svc), free(tmr), free(cron);
}

/* The drill's timer: Sunday 05:00 by default, drill.schedule otherwise; off: none. */
static void test_schedule_drill(void **state)
{
	(void)state;
	struct profile p = {.name = "prod"};
	struct schedule_opts o = {.ferry_path = "/usr/bin/ferry", .profiles_path = "/etc/ferry/p.json"};
	char *tmr = schedule_timer_text(&p, "drill");
	assert_non_null(strstr(tmr, "OnCalendar=Sun *-*-* 05:00:00\nPersistent=true"));
	char *svc = schedule_service_text(&p, "drill", &o);
	assert_non_null(strstr(svc, "ExecStart=/usr/bin/ferry drill --profiles /etc/ferry/p.json --profile prod --scheduled"));
	char *cron = schedule_cron_text(&p, &o);
	assert_non_null(strstr(cron, "0 5 * * 0 root /usr/bin/ferry drill"));
	assert_null(strstr(cron, "status"));
	free(tmr), free(svc), free(cron);
	p.drill.schedule = (char *)"Wed 04:30";
	tmr = schedule_timer_text(&p, "drill");
	assert_non_null(strstr(tmr, "OnCalendar=Wed *-*-* 04:30:00"));
	free(tmr);
	p.drill.schedule = (char *)"monthly";
	cron = schedule_cron_text(&p, &o);
	assert_non_null(strstr(cron, "0 5 1 * * root /usr/bin/ferry drill"));
	free(cron);
	p.drill.schedule = (char *)"off";
	assert_null(schedule_timer_text(&p, "drill"));
	p.has_notify = true;
	tmr = schedule_timer_text(&p, "status");
	assert_non_null(strstr(tmr, "OnCalendar=*-*-* 06:00:00"));
	cron = schedule_cron_text(&p, &o);
	assert_non_null(strstr(cron, "0 6 * * * root /usr/bin/ferry status --profiles /etc/ferry/p.json --profile prod --notify"));
	assert_null(strstr(cron, "ferry drill"));
	free(tmr), free(cron);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_event_json),
		cmocka_unit_test(test_pg_dump_argv),
		cmocka_unit_test(test_version_parse),
		cmocka_unit_test(test_conninfo_split),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_schedule_texts),
		cmocka_unit_test(test_schedule_drill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
