/* Unit tests for derived database names: within 63 bytes, never the base
 * itself, cut on character boundaries, distinct for long bases that share
 * a beginning, and found again by their prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dbname.h"
#include "util.h"

/* true when s is well-formed UTF-8 (no cut sequence). */
static bool utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 :
			(*p & 0xF8) == 0xF0 ? 3 : -1;
		if (n < 0)
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xC0) != 0x80)
				return false;
	}
	return true;
}

/* A base of exactly len bytes made of unit (1 to 4 bytes), padded with 'x'. */
static char *make_base(size_t len, const char *unit)
{
	char *s = xcalloc(len + 1, 1);
	size_t u = strlen(unit), at = 0;
	while (at + u <= len) {
		memcpy(s + at, unit, u);
		at += u;
	}
	while (at < len)
		s[at++] = 'x';
	return s;
}

static void check_kind(const char *base, const char *kind, const char *suffix)
{
	char *name = dbname_derive(base, kind, suffix);
	assert_true(strlen(name) <= DBNAME_MAX);
	assert_string_not_equal(name, base);
	assert_true(utf8_ok(name));
	char *prefix = dbname_prefix(base, kind, suffix ? strlen(suffix) : 0);
	assert_true(str_starts(name, prefix));
	if (strlen(base) + strlen(kind) + (suffix ? strlen(suffix) + 2 : 1) + 3 <= DBNAME_MAX) {
		/* fits with room for dbname_unique's counter: left whole */
		char *plain = suffix ? xasprintf("%s_%s_%s", base, kind, suffix) : xasprintf("%s_%s", base, kind);
		assert_string_equal(name, plain);
		free(plain);
	}
	free(prefix);
	free(name);
}

static void test_every_length(void **state)
{
	(void)state;
	static const char *const units[] = {"a", "é", "日", "😀"};
	for (size_t u = 0; u < 4; u++)
		for (size_t len = 1; len <= DBNAME_MAX; len++) {
			char *base = make_base(len, units[u]);
			check_kind(base, "ferry_shadow", NULL);
			check_kind(base, "prev", "20261121_195000");
			check_kind(base, "rolledback", "20261121_195000");
			check_kind(base, "ferry_reset", "12345");
			free(base);
		}
}

static void test_long_bases_stay_apart(void **state)
{
	(void)state;
	char *a = make_base(63, "a"), *b = make_base(63, "a");
	b[62] = 'b';
	char *na = dbname_derive(a, "prev", "20261121_195000");
	char *nb = dbname_derive(b, "prev", "20261121_195000");
	assert_string_not_equal(na, nb);
	char *sa = dbname_derive(a, "ferry_shadow", NULL);
	assert_string_not_equal(sa, a);
	assert_int_equal(strlen(sa), DBNAME_MAX - 3);   /* room for a counter */
	free(a), free(b), free(na), free(nb), free(sa);
}

static int taken_twice(void *ud, const char *name, struct err *e)
{
	(void)e;
	int *calls = ud;
	(void)name;
	return (*calls)++ < 2;
}

static void test_unique(void **state)
{
	(void)state;
	int calls = 0;
	struct err e = {0};
	char *n = dbname_unique("shop", "prev", "20261121_195000", taken_twice, &calls, &e);
	assert_string_equal(n, "shop_prev_20261121_195000_3");
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_length),
		cmocka_unit_test(test_long_bases_stay_apart),
		cmocka_unit_test(test_unique),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
