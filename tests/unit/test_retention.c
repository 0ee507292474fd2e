/* Unit tests for bundle names and the retention policy (synthetic dates). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow/list.h"
#include "flow/prune.h"

static time_t utc(int y, int mo, int d, int h)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h};
	return timegm(&tm);
}

static void add_bundle(struct bundle_list *l, time_t t, const char *type)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &tm);
	char *name = xasprintf("prod_%s_%s_abc.ferry.tar.zst", stamp, type);
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	assert_int_equal(list_parse_name(name, &l->v[l->n]), 0);
	l->v[l->n].path = xstrdup(name);
	l->n++;
	free(name);
}

static const struct prune_decision *decision(const struct prune_report *r, size_t i)
{
	assert_true(i < r->n);
	return &r->v[i];
}

static void test_name_parse(void **state)
{
	(void)state;
	struct bundle_info b;
	assert_int_equal(list_parse_name("my_app_20261121_195000_daily_3f2a.b-c.ferry.tar.zst", &b), 0);
	assert_string_equal(b.profile, "my_app");
	assert_string_equal(b.type, "daily");
	assert_string_equal(b.revision, "3f2a.b-c");
	assert_true(b.created == utc(2026, 11, 21, 19) + 50 * 60);
	struct bundle_list l = {&b, 1};
	(void)l;
	free(b.name), free(b.profile), free(b.type), free(b.revision);
	assert_int_equal(list_parse_name("prod_20261121_195000_daily_x.ferry.tar.zst.part", &b), -1);
	assert_int_equal(list_parse_name("notes.txt", &b), -1);
	assert_int_equal(list_parse_name("prod_2026112_195000_daily_x.ferry.tar", &b), -1);
}

/* 30 daily bundles (November 2026), newest first: keep last 3, 7 days,
 * 4 weeks, 2 months. */
static void test_daily_series(void **state)
{
	(void)state;
	struct bundle_list l = {0};
	for (int i = 0; i < 30; i++)
		add_bundle(&l, utc(2026, 11, 30, 2) - (time_t)i * 86400, "daily");
	struct profile_keep keep = {.last = 3, .daily = 7, .weekly = 4, .monthly = 2, .manual_days = 30};
	struct prune_report r;
	prune_select(&l, &keep, utc(2026, 11, 30, 12), &r);
	assert_int_equal(r.n, 30);
	assert_string_equal(decision(&r, 0)->rule, "last 3");
	assert_string_equal(decision(&r, 3)->rule, "daily 2026-11-27");
	assert_true(decision(&r, 6)->keep);
	/* 2026-11-23 is a Monday: the newest of ISO week 47 is Sunday the 22nd. */
	assert_true(decision(&r, 8)->keep);
	assert_string_equal(decision(&r, 8)->rule, "weekly 2026-W47");
	assert_false(decision(&r, 9)->keep);
	assert_string_equal(decision(&r, 9)->rule, "outside last/daily/weekly/monthly");
	assert_string_equal(decision(&r, 15)->rule, "weekly 2026-W46");
	size_t kept = 0;
	for (size_t i = 0; i < r.n; i++)
		kept += r.v[i].keep;
	/* 7 days + the Sundays of weeks 47 and 46 (weeks 49 and 48 and November
	 * are already covered by newer bundles). */
	assert_int_equal(kept, 9);
	prune_report_done(&r);
	list_done(&l);
}

static void test_manual_kept_for_days(void **state)
{
	(void)state;
	struct bundle_list l = {0};
	time_t now = utc(2026, 11, 30, 12);
	add_bundle(&l, now - 1 * 86400, "daily");
	add_bundle(&l, now - 5 * 86400, "manual");
	add_bundle(&l, now - 10 * 86400, "pre-restore");
	add_bundle(&l, now - 40 * 86400, "manual");
	struct profile_keep keep = {.last = 1, .daily = 7, .weekly = 0, .monthly = 0, .manual_days = 30};
	struct prune_report r;
	prune_select(&l, &keep, now, &r);
	assert_true(decision(&r, 0)->keep);
	assert_true(decision(&r, 1)->keep);
	assert_string_equal(decision(&r, 1)->rule, "manual < 30 days");
	assert_true(decision(&r, 2)->keep);
	assert_string_equal(decision(&r, 2)->rule, "pre-restore < 30 days");
	assert_false(decision(&r, 3)->keep);
	assert_string_equal(decision(&r, 3)->rule, "manual, older than the manual retention");
	prune_report_done(&r);
	list_done(&l);
}

static void test_newest_always_kept(void **state)
{
	(void)state;
	struct bundle_list l = {0};
	time_t now = utc(2026, 11, 30, 12);
	add_bundle(&l, now - 400 * 86400, "manual");
	struct profile_keep keep = {.last = 1, .manual_days = 30};
	struct prune_report r;
	prune_select(&l, &keep, now, &r);
	assert_true(decision(&r, 0)->keep);
	assert_string_equal(decision(&r, 0)->rule, "last 1");
	prune_report_done(&r);
	list_done(&l);
}

static void test_several_per_day(void **state)
{
	(void)state;
	struct bundle_list l = {0};
	time_t day = utc(2026, 11, 30, 0);
	for (int h = 20; h >= 0; h -= 4)
		add_bundle(&l, day + h * 3600, "daily");
	add_bundle(&l, day - 86400 + 3600, "daily");
	struct profile_keep keep = {.last = 0, .daily = 2};
	struct prune_report r;
	prune_select(&l, &keep, day + 86400, &r);
	assert_true(decision(&r, 0)->keep);             /* newest of the 30th */
	for (size_t i = 1; i < r.n - 1; i++)
		assert_false(decision(&r, i)->keep);     /* older ones that day */
	assert_true(decision(&r, r.n - 1)->keep);       /* the 29th */
	prune_report_done(&r);
	list_done(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_parse),
		cmocka_unit_test(test_daily_series),
		cmocka_unit_test(test_manual_kept_for_days),
		cmocka_unit_test(test_newest_always_kept),
		cmocka_unit_test(test_several_per_day),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
