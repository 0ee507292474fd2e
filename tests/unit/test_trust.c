/* Unit tests for what a bundle may hold: the roles file is read as data
 * (what pg_dumpall writes is accepted, anything else refused by line), and
 * the manifest's paths and each member's header are checked before a byte
 * is written (core/trust.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "globals.h"
#include "trust.h"
#include "util.h"

/* What pg_dumpall --roles-only --no-role-passwords writes (PostgreSQL 15.14+,
 * with \restrict), odd names included. */
static const char *const real_roles =
	"--\n-- PostgreSQL database cluster dump\n--\n\n"
	"\\restrict t9qp8DTEFBeCKeqdTwjjs3heBOe60FhRlmVe2W\n\n"
	"SET default_transaction_read_only = off;\n\n"
	"SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n\n"
	"CREATE ROLE app;\n"
	"ALTER ROLE app WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;\n"
	"COMMENT ON ROLE app IS 'it''s app';\n"
	"CREATE ROLE \"we;ird\";\n"
	"ALTER ROLE \"we;ird\" WITH NOSUPERUSER INHERIT LOGIN CONNECTION LIMIT 3 VALID UNTIL '2030-01-01 00:00:00+00';\n"
	"ALTER ROLE app SET search_path TO 'a', 'B';\n"
	"ALTER ROLE app IN DATABASE shop SET work_mem TO '8MB';\n"
	"GRANT app TO \"we;ird\" WITH ADMIN OPTION GRANTED BY postgres;\n"
	"GRANT app TO reader WITH INHERIT TRUE, SET FALSE GRANTED BY postgres;\n\n"
	"\\unrestrict t9qp8DTEFBeCKeqdTwjjs3heBOe60FhRlmVe2W\n";

static void test_real_roles_accepted(void **state)
{
	(void)state;
	struct globals_script s;
	struct err e = {0};
	assert_int_equal(globals_parse(real_roles, "db/globals.sql", &s, &e), 0);
	assert_int_equal(s.n, 12);
	assert_int_equal(s.v[0].kind, GLOBALS_SET);
	assert_string_equal(s.v[0].sql, "SET LOCAL default_transaction_read_only = off");
	assert_int_equal(s.v[3].kind, GLOBALS_CREATE);
	assert_string_equal(s.v[3].role, "app");
	assert_string_equal(s.v[6].role, "we;ird");
	assert_int_equal(s.v[10].kind, GLOBALS_GRANT);
	assert_string_equal(s.v[10].role, "we;ird");
	assert_string_equal(s.v[10].grantor, "postgres");
	assert_string_equal(s.v[10].sql_no_grantor, "GRANT app TO \"we;ird\" WITH ADMIN OPTION");
	globals_script_done(&s);
}

static void refused(const char *text, int line, const char *words)
{
	struct globals_script s;
	struct err e = {0};
	assert_int_equal(globals_parse(text, "db/globals.sql", &s, &e), -1);
	assert_int_equal(e.kind, ERR_VERIFY);
	char *where = xasprintf("db/globals.sql line %d: ", line);
	if (!strstr(e.msg, where) || !strstr(e.msg, words))
		fail_msg("%s: got \"%s\"", text, e.msg);
	free(where);
}

static void test_anything_else_refused(void **state)
{
	(void)state;
	refused("CREATE ROLE a;\n\\! id > pwned\n", 2, "meta-command");
	refused("\\restrict abc; \\! id\n", 1, "meta-command");
	refused("CREATE ROLE a;\nSELECT pg_terminate_backend(1);\n", 2, "holds");
	refused("DROP DATABASE shop;\n", 1, "not a statement");
	refused("CREATE ROLE a; DROP DATABASE shop;\n", 1, "not a statement");
	refused("CREATE ROLE a WITH SUPERUSER;\n", 1, "not a statement");
	refused("ALTER ROLE a WITH LOGIN; COPY x TO PROGRAM 'id';\n", 1, "not a statement");
	refused("COMMENT ON ROLE a IS 'x' || (SELECT 1);\n", 1, "holds");
	refused("SET session_replication_role = replica;\n", 1, "not a statement");
	refused("SET role = postgres;\n", 1, "not a statement");
	refused("ALTER ROLE a SET search_path TO 'a';\nCREATE ROLE b\n", 2, "without its ';'");
	refused("COMMENT ON ROLE a IS 'never ends;\n", 1, "never ends");
}

/* A manifest with app paths and members, for the member checks. */
static void manifest_with(struct manifest *m, const char *const *paths, size_t n)
{
	memset(m, 0, sizeof *m);
	m->has_db = true;
	m->dump.path = xstrdup("db/dump");
	for (size_t i = 0; i < n; i++)
		strv_push(&m->files.paths, paths[i]);
	manifest_add_member(m, "db/dump/toc.dat", 10, "aa");
	manifest_add_member(m, "files/uploads/a.png", 5, "bb");
}

static int member(const struct manifest *m, const char *name, enum bundle_type type, uint64_t size,
		  const char *link, struct strset *links, struct err *e)
{
	struct bundle_entry ent = {.name = name, .type = type, .size = size, .link = link};
	return trust_check_member(m, "b.ferry.tar.zst", &ent, links, e);
}

static void test_manifest_paths(void **state)
{
	(void)state;
	static const char *const bad[][1] = {{"../X"}, {"/etc"}, {"a/../../b"}, {""}, {"a/./b"}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct manifest m;
		manifest_with(&m, bad[i], 1);
		struct err e = {0};
		assert_int_equal(trust_check_manifest(&m, "b", &e), -1);
		assert_non_null(strstr(e.msg, "files.paths"));
		manifest_done(&m);
	}
	static const char *const nested[] = {"uploads", "uploads/x"};
	struct manifest m;
	manifest_with(&m, nested, 2);
	struct err e = {0};
	assert_int_equal(trust_check_manifest(&m, "b", &e), -1);
	assert_non_null(strstr(e.msg, "inside another"));
	manifest_done(&m);
	static const char *const good[] = {"uploads", "config/app.yml"};
	manifest_with(&m, good, 2);
	free(m.dump.path);
	m.dump.path = xstrdup("../../etc/shadow");
	assert_int_equal(trust_check_manifest(&m, "b", &e), -1);
	assert_non_null(strstr(e.msg, "dump.path"));
	free(m.dump.path);
	m.dump.path = xstrdup("db/dump");
	m.dump.globals = xstrdup("/root/x.sql");
	assert_int_equal(trust_check_manifest(&m, "b", &e), -1);
	free(m.dump.globals);
	m.dump.globals = NULL;
	assert_int_equal(trust_check_manifest(&m, "b", &e), 0);
	manifest_add_member(&m, "files/other/x", 1, "cc");
	assert_int_equal(trust_check_manifest(&m, "b", &e), -1);
	manifest_done(&m);
}

static void test_members(void **state)
{
	(void)state;
	static const char *const paths[] = {"uploads", "config/app.yml", "current"};
	struct manifest m;
	manifest_with(&m, paths, 3);
	struct strset links = {0};
	struct err e = {0};
	assert_int_equal(member(&m, "db/dump/toc.dat", BUNDLE_REG, 10, NULL, &links, &e), 0);
	assert_int_equal(member(&m, "db/dump/toc.dat", BUNDLE_REG, 11, NULL, &links, &e), -1);
	assert_non_null(strstr(e.msg, "tar header"));
	assert_int_equal(member(&m, "db/dump/1.dat", BUNDLE_SYMLINK, 0, "/etc/shadow", &links, &e), -1);
	assert_int_equal(member(&m, "files/config", BUNDLE_DIR, 0, NULL, &links, &e), 0);
	assert_int_equal(member(&m, "files/config", BUNDLE_SYMLINK, 0, "/etc", &links, &e), -1);
	assert_int_equal(member(&m, "files/X/cron", BUNDLE_REG, 1, NULL, &links, &e), -1);
	assert_int_equal(member(&m, "etc/cron.d/x", BUNDLE_REG, 1, NULL, &links, &e), -1);
	assert_int_equal(member(&m, "files/uploads/up", BUNDLE_SYMLINK, 0, "../../..", &links, &e), -1);
	assert_int_equal(member(&m, "files/uploads/abs", BUNDLE_SYMLINK, 0, "/etc", &links, &e), -1);
	/* inside the app root: a deploy's links */
	assert_int_equal(member(&m, "files/current", BUNDLE_SYMLINK, 0, "releases/7", &links, &e), 0);
	assert_int_equal(member(&m, "files/uploads/log", BUNDLE_SYMLINK, 0, "../shared/log", &links, &e), 0);
	assert_int_equal(member(&m, "files/uploads/log/x", BUNDLE_REG, 1, NULL, &links, &e), -1);
	assert_non_null(strstr(e.msg, "below a symlink"));
	strset_done(&links);
	manifest_done(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_roles_accepted),
		cmocka_unit_test(test_anything_else_refused),
		cmocka_unit_test(test_manifest_paths),
		cmocka_unit_test(test_members),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
