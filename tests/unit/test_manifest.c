/* Unit tests for manifest.json round trips and rejection of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

static const char sha_a[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void fill(struct manifest *m)
{
	memset(m, 0, sizeof *m);
	m->format_version = 1;
	m->ferry_version = xstrdup("0.1.0");
	m->created_at = xstrdup("2026-11-21T19:50:00Z");
	m->profile = xstrdup("prod");
	m->type = xstrdup("manual");
	m->schema_revision = xstrdup("abc");
	m->revision_source = xstrdup("alembic_version");
	m->has_db = true;
	m->db.name = xstrdup("shop");
	m->db.pg_dump_version = xstrdup("15.20");
	m->db.size_bytes = 12345;
	m->dump.format = xstrdup("directory");
	m->dump.path = xstrdup("db/dump");
	strv_push(&m->dump.tables, "app.orders");
	manifest_add_table(m, "app", "orders", 2000);
	manifest_add_table(m, "app", "customers", 500);
	manifest_add_member(m, "db/dump/toc.dat", 42, sha_a);
	manifest_add_member(m, "files/a b/ü.txt", 7, sha_a);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct manifest m, back;
	fill(&m);
	char *json = manifest_to_json(&m);
	struct err e = {0};
	assert_int_equal(manifest_parse(json, &back, &e), 0);
	assert_string_equal(back.schema_revision, "abc");
	assert_string_equal(back.db.name, "shop");
	assert_int_equal(back.ntables, 2);
	assert_int_equal(manifest_total_rows(&back), 2500);
	assert_int_equal(back.nmembers, 2);
	assert_int_equal(manifest_total_bytes(&back), 49);
	assert_non_null(manifest_find_member(&back, "files/a b/ü.txt"));
	assert_null(manifest_find_member(&back, "nope"));
	assert_string_equal(back.dump.tables.v[0], "app.orders");
	assert_false(back.has_files);
	assert_non_null(strstr(json, "\"totals\""));
	free(json);
	manifest_done(&m);
	manifest_done(&back);
}

/* Django's per-app revisions and the status command's line survive a
 * round trip; a manifest without them (an older ferry's) leaves them empty
 * and keeps schema_revision as {revision, source}. */
static void test_revision_fields(void **state)
{
	(void)state;
	struct manifest m, back;
	fill(&m);
	char *json = manifest_to_json(&m);
	assert_null(strstr(json, "\"revisions\""));
	assert_null(strstr(json, "\"status_command\""));
	struct err e = {0};
	assert_int_equal(manifest_parse(json, &back, &e), 0);
	assert_int_equal(back.revisions.n, 0);
	assert_null(back.revision_command);
	manifest_done(&back);
	free(json);

	strv_push(&m.revisions, "shop.0003_order_note");
	strv_push(&m.revisions, "auth.0012_x");
	m.revision_command = xstrdup("alembic current");
	m.revision_command_output = xstrdup("abc (head)");
	json = manifest_to_json(&m);
	assert_non_null(strstr(json, "\"shop\": \"0003_order_note\""));
	assert_int_equal(manifest_parse(json, &back, &e), 0);
	assert_int_equal(back.revisions.n, 2);
	assert_string_equal(back.revisions.v[0], "auth.0012_x");
	assert_string_equal(back.revisions.v[1], "shop.0003_order_note");
	assert_string_equal(back.revision_command, "alembic current");
	assert_string_equal(back.revision_command_output, "abc (head)");
	assert_null(back.revision_command_error);
	free(json);
	manifest_done(&m);
	manifest_done(&back);
}

static void test_rejects(void **state)
{
	(void)state;
	struct manifest m;
	struct err e = {0};
	assert_int_equal(manifest_parse("{", &m, &e), -1);
	assert_int_equal(e.kind, ERR_VERIFY);
	assert_int_equal(manifest_parse("{\"format\": \"other\"}", &m, &e), -1);
	assert_string_equal(e.msg, "manifest.json: not a ferry manifest (format is not \"ferry-bundle\")");
	assert_int_equal(manifest_parse("{\"format\": \"ferry-bundle\", \"format_version\": 9}", &m, &e), -1);
	assert_string_equal(e.msg, "manifest.json: format version 9 is not supported (this ferry reads 1)");
	assert_int_equal(manifest_parse("{\"format\": \"ferry-bundle\", \"format_version\": 1,"
					"\"members\": [{\"name\": \"x\", \"size\": 1, \"sha256\": \"zz\"}]}",
					&m, &e), -1);
	assert_string_equal(e.msg, "manifest.json: members[0] is malformed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_revision_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
