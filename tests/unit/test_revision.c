/* Unit tests for the pure parts of core/revision: numeric and Flyway
 * ordering, alembic heads, the Django short form, cleaning, file names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "revision.h"

/* A vector of the given strings (a NULL-terminated array). */
static struct strv vec_of(const char *const *list)
{
	struct strv sv = {0};
	for (; *list; list++)
		strv_push(&sv, *list);
	return sv;
}
#define vec(...) vec_of((const char *const[]){__VA_ARGS__})

static void test_numeric_order(void **state)
{
	(void)state;
	assert_true(revision_cmp_numeric("10", "9") > 0);
	assert_true(revision_cmp_numeric("9", "10") < 0);
	assert_true(revision_cmp_numeric("20240105120000", "99999999") > 0);
	assert_true(revision_cmp_numeric("0010", "9") > 0);
	assert_int_equal(revision_cmp_numeric("7", "7"), 0);
	/* equal numbers: the text decides, so the order is total */
	assert_true(revision_cmp_numeric("007", "7") != 0);
	/* Rails' to_i: leading digits count, the rest does not */
	assert_true(revision_cmp_numeric("12_add_x", "9_add_y") > 0);
	assert_true(revision_cmp_numeric("abc", "1") < 0);
	assert_true(revision_cmp_numeric("0", "") > 0 || revision_cmp_numeric("0", "") < 0);
	/* longer than any integer type */
	assert_true(revision_cmp_numeric("123456789012345678901234567890",
					 "123456789012345678901234567889") > 0);
}

static void test_max_numeric(void **state)
{
	(void)state;
	struct strv v = vec("1", "2", "9", "10", "20240105120000", NULL);
	assert_string_equal(revision_max_numeric(&v), "20240105120000");
	strv_done(&v);
	v = vec("9", "10", "2", NULL);
	assert_string_equal(revision_max_numeric(&v), "10");
	strv_done(&v);
	v = vec("0009", "0010", "0002", NULL);
	assert_string_equal(revision_max_numeric(&v), "0010");
	strv_done(&v);
	struct strv none = {0};
	assert_null(revision_max_numeric(&none));
}

static void test_flyway_order(void **state)
{
	(void)state;
	assert_true(revision_cmp_flyway("1.10", "1.9") > 0);
	assert_true(revision_cmp_flyway("1.9", "1.10") < 0);
	assert_int_equal(revision_cmp_flyway("1", "1.0"), 0);
	assert_int_equal(revision_cmp_flyway("1_1", "1.1"), 0);
	assert_true(revision_cmp_flyway("2", "1.999") > 0);
	assert_true(revision_cmp_flyway("1.0.1", "1") > 0);
	assert_true(revision_cmp_flyway("2024.01.05", "2023.12.31") > 0);
}

static void test_flyway_current(void **state)
{
	(void)state;
	/* out of order: 1.5 applied after 2, the current version stays 2 */
	struct revision_flyway_row rows[] = {
		{"1", "SQL", true},       {"2", "SQL", true},  {NULL, "SQL", true},
		{"1.5", "SQL", true},     {"3", "SQL", false},
	};
	assert_string_equal(revision_flyway_current(rows, 5), "2");
	/* 1.10 beats 1.9 */
	struct revision_flyway_row ten[] = {{"1.9", "SQL", true}, {"1.10", "SQL", true}};
	assert_string_equal(revision_flyway_current(ten, 2), "1.10");
	/* an undo takes its version back; a later apply brings it again */
	struct revision_flyway_row undo[] = {
		{"1", "BASELINE", true}, {"2", "SQL", true}, {"3", "SQL", true}, {"3", "UNDO_SQL", true},
	};
	assert_string_equal(revision_flyway_current(undo, 4), "2");
	struct revision_flyway_row redo[] = {
		{"1", "SQL", true}, {"2", "SQL", true}, {"2", "UNDO_SQL", true}, {"2", "SQL", true},
	};
	assert_string_equal(revision_flyway_current(redo, 4), "2");
	struct revision_flyway_row del[] = {{"1", "SQL", true}, {"2", "SQL", true}, {"2", "DELETE", true}};
	assert_string_equal(revision_flyway_current(del, 3), "1");
	struct revision_flyway_row failed[] = {{"1", "SQL", false}};
	assert_null(revision_flyway_current(failed, 1));
	assert_null(revision_flyway_current(NULL, 0));
}

static void test_join_heads(void **state)
{
	(void)state;
	struct strv v = vec("e0f1a2b3c4d5", "27c6a30d7c24", NULL);
	char *j = revision_join_heads(&v);
	assert_string_equal(j, "27c6a30d7c24+e0f1a2b3c4d5");
	free(j);
	strv_done(&v);
	/* the order the rows come in does not matter */
	v = vec("27c6a30d7c24", "e0f1a2b3c4d5", NULL);
	j = revision_join_heads(&v);
	assert_string_equal(j, "27c6a30d7c24+e0f1a2b3c4d5");
	free(j);
	strv_done(&v);
	v = vec("3f2a9c1b7d4e", NULL);
	j = revision_join_heads(&v);
	assert_string_equal(j, "3f2a9c1b7d4e");
	free(j);
	strv_done(&v);
	struct strv none = {0};
	assert_null(revision_join_heads(&none));
}

static void test_django_short(void **state)
{
	(void)state;
	/* printf 'auth.0012_alter_user_first_name_max_length\nsessions.0001_initial\n'
	 *   'shop.0003_order_note\n' | sha256sum | cut -c1-12 */
	struct strv v = vec("shop.0003_order_note", "auth.0012_alter_user_first_name_max_length",
			    "sessions.0001_initial", NULL);
	char *s = revision_django_short(&v);
	assert_int_equal(strlen(s), REVISION_DJANGO_HEX);
	assert_string_equal(s, "c14334adb81f");
	/* stable whatever the order of the apps */
	struct strv w = vec("sessions.0001_initial", "shop.0003_order_note",
			    "auth.0012_alter_user_first_name_max_length", NULL);
	char *t = revision_django_short(&w);
	assert_string_equal(s, t);
	free(t);
	strv_done(&w);
	/* one app's state changes the short form */
	w = vec("sessions.0001_initial", "auth.0012_alter_user_first_name_max_length", NULL);
	t = revision_django_short(&w);
	assert_string_not_equal(s, t);
	free(t);
	strv_done(&w);
	free(s);
	strv_done(&v);
	struct strv none = {0};
	assert_null(revision_django_short(&none));
}

static void test_apps_json(void **state)
{
	(void)state;
	struct strv v = vec("shop.0003_x", "auth.0012_y", NULL);
	json_t *o = revision_apps_to_json(&v);
	assert_string_equal(json_string_value(json_object_get(o, "shop")), "0003_x");
	assert_string_equal(json_string_value(json_object_get(o, "auth")), "0012_y");
	struct strv back = {0};
	revision_apps_from_json(o, &back);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.v[0], "auth.0012_y");
	assert_string_equal(back.v[1], "shop.0003_x");
	json_decref(o);
	strv_done(&back);
	strv_done(&v);
}

static void test_clean_line(void **state)
{
	(void)state;
	char *s = revision_clean_line("\n  \nae1027a6acf (head)\nsecond\n", 200);
	assert_string_equal(s, "ae1027a6acf (head)");
	free(s);
	s = revision_clean_line("\x1b[32mok\x1b[0m\tdone\r\a", 200);
	assert_string_equal(s, "ok done");
	free(s);
	s = revision_clean_line("\x1b]0;title\a rev", 200);
	assert_string_equal(s, "rev");
	free(s);
	/* invalid UTF-8 as '?', valid kept, C1 controls dropped */
	s = revision_clean_line("a\xff" "b \xc3\xbc \xc2\x9b" "c", 200);
	assert_string_equal(s, "a?b \xc3\xbc c");
	free(s);
	/* cut on a character boundary */
	s = revision_clean_line("ab\xc3\xbc", 3);
	assert_string_equal(s, "ab");
	free(s);
	assert_null(revision_clean_line("\x1b[0m \n\t\n", 200));
	assert_null(revision_clean_line("", 200));
	assert_null(revision_clean_line(NULL, 200));
}

static void test_for_name(void **state)
{
	(void)state;
	char *s = revision_for_name("27c6a30d7c24+e0f1a2b3c4d5");
	assert_string_equal(s, "27c6a30d7c24-e0f1a2b3c4d5");
	free(s);
	s = revision_for_name(NULL);
	assert_string_equal(s, "unknown");
	free(s);
	s = revision_for_name("sessions.0001_initial/../x");
	assert_string_equal(s, "sessions.0001-initial-..-x");
	free(s);
	s = revision_for_name("0123456789012345678901234567890123456789abcdef");
	assert_int_equal(strlen(s), 40);
	free(s);
}

static void test_describe(void **state)
{
	(void)state;
	struct revision r = {0};
	char *d = revision_describe(&r);
	assert_string_equal(d, "no revision found (no migration table)");
	free(d);
	r.source = xstrdup("meta.alembic_version");
	r.empty = true;
	d = revision_describe(&r);
	assert_string_equal(d, "no revision (table empty: meta.alembic_version)");
	free(d);
	revision_done(&r);
	r.revision = xstrdup("0007");
	r.source = xstrdup("ferry_schema_migrations");
	d = revision_describe(&r);
	assert_string_equal(d, "revision 0007 (ferry_schema_migrations)");
	free(d);
	revision_done(&r);
	r.revision = xstrdup("c14334adb81f");
	r.source = xstrdup("django_migrations");
	strv_push(&r.apps, "auth.0012_x");
	strv_push(&r.apps, "shop.0003_y");
	d = revision_describe(&r);
	assert_string_equal(d, "revision c14334adb81f (django_migrations, 2 apps)");
	free(d);
	revision_done(&r);
	revision_done(&r);   /* a freed one is zeroed */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numeric_order), cmocka_unit_test(test_max_numeric),
		cmocka_unit_test(test_flyway_order),  cmocka_unit_test(test_flyway_current),
		cmocka_unit_test(test_join_heads),    cmocka_unit_test(test_django_short),
		cmocka_unit_test(test_apps_json),     cmocka_unit_test(test_clean_line),
		cmocka_unit_test(test_for_name),      cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
