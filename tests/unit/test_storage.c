/* Unit tests for core/storage with the local driver: put / get / list /
 * stat / remove, names, a failed or cancelled put leaving nothing under the
 * final name, resume after a matching .part, .part entries never listed,
 * get's hash check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsx.h"
#include "hash.h"
#include "storage/storage.h"
#include "testutil.h"
#include "util.h"

static char *tmpdir;

static int setup(void **state)
{
	(void)state;
	tmpdir = tu_mkdtemp();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(tmpdir);
	free(tmpdir);
	return 0;
}

/* tmpdir/rel; caller frees. */
static char *at(const char *rel)
{
	return xasprintf("%s/%s", tmpdir, rel);
}

/* A file of n pseudo-random bytes at tmpdir/rel; returns its path. */
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

/* Whether two files hold the same bytes. */
static bool same_content(const char *a, const char *b)
{
	char ha[HASH_HEX_SIZE], hb[HASH_HEX_SIZE];
	struct err e = {0};
	return hash_file(a, ha, NULL, &e) == 0 && hash_file(b, hb, NULL, &e) == 0 &&
	       strcmp(ha, hb) == 0;
}

static storage *open_store(const char *rel)
{
	char *dir = at(rel);
	struct err e = {0};
	storage *s = storage_open_local(dir, &e);
	assert_non_null(s);
	assert_string_equal(storage_describe(s), dir);
	assert_string_equal(storage_driver_name(s), "local");
	free(dir);
	return s;
}

static void test_put_get_list_stat_remove(void **state)
{
	(void)state;
	char *src = make_file("app-1.ferry.tar.zst", 3 * 1024 * 1024 + 17, 1);
	storage *s = open_store("store/sub");   /* does not exist yet */
	struct err e = {0};

	struct storage_list l;
	assert_int_equal(storage_list(s, NULL, &l, &e), 0);   /* missing dir: empty */
	assert_int_equal(l.n, 0);

	struct storage_put_result r;
	assert_int_equal(storage_put(s, src, NULL, &r, &e), 0);
	assert_int_equal(r.bytes, 3 * 1024 * 1024 + 17);
	assert_int_equal(r.sent, r.bytes);
	assert_int_equal(r.resumed_from, 0);
	char want[HASH_HEX_SIZE];
	assert_int_equal(hash_file(src, want, NULL, &e), 0);
	assert_string_equal(r.sha256, want);

	char *final = storage_entry_path(s, "app-1.ferry.tar.zst");
	char *expect = at("store/sub/app-1.ferry.tar.zst");
	assert_string_equal(final, expect);
	assert_true(same_content(src, final));
	char *part = xasprintf("%s.part", final);
	assert_false(fsx_exists(part));
	struct stat st;
	assert_int_equal(stat(final, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* A second entry under another name; list sorted, suffix filter. */
	struct storage_put_opts po = {.name = "app-0.ferry.tar.zst"};
	assert_int_equal(storage_put(s, src, &po, NULL, &e), 0);
	po.name = "notes.txt";
	assert_int_equal(storage_put(s, src, &po, NULL, &e), 0);
	assert_int_equal(storage_list(s, ".ferry.tar.zst", &l, &e), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].name, "app-0.ferry.tar.zst");
	assert_string_equal(l.v[1].name, "app-1.ferry.tar.zst");
	assert_int_equal(l.v[1].size, r.bytes);
	assert_true(l.v[1].mtime > 0);
	storage_list_done(&l);
	assert_int_equal(storage_list(s, NULL, &l, &e), 0);
	assert_int_equal(l.n, 3);
	storage_list_done(&l);

	struct storage_entry en;
	assert_int_equal(storage_stat(s, "app-1.ferry.tar.zst", &en, &e), 0);
	assert_string_equal(en.name, "app-1.ferry.tar.zst");
	assert_int_equal(en.size, r.bytes);
	storage_entry_done(&en);
	assert_int_equal(storage_stat(s, "nosuch.ferry.tar.zst", &en, &e), 1);

	/* get: atomic, hash checked. */
	char *out = at("out/copy.tar.zst");
	struct storage_get_opts go = {.sha256 = want};
	struct storage_get_result gr;
	assert_int_equal(storage_get(s, "app-1.ferry.tar.zst", out, &go, &gr, &e), 0);
	assert_string_equal(gr.sha256, want);
	assert_int_equal(gr.bytes, r.bytes);
	assert_true(same_content(src, out));
	char *outpart = xasprintf("%s.part", out);
	assert_false(fsx_exists(outpart));
	assert_int_equal(storage_get(s, "nosuch.ferry.tar.zst", out, NULL, NULL, &e), 1);
	assert_true(fsx_exists(out));   /* the earlier copy is untouched */

	assert_int_equal(storage_remove(s, "app-0.ferry.tar.zst", &e), 0);
	assert_int_equal(storage_remove(s, "app-0.ferry.tar.zst", &e), 1);
	assert_int_equal(storage_list(s, ".ferry.tar.zst", &l, &e), 0);
	assert_int_equal(l.n, 1);
	storage_list_done(&l);

	storage_close(s);
	free(outpart), free(out), free(part), free(expect), free(final), free(src);
}

static void test_get_hash_mismatch_leaves_nothing(void **state)
{
	(void)state;
	char *src = make_file("b.ferry.tar.zst", 100000, 2);
	storage *s = open_store("store");
	struct err e = {0};
	assert_int_equal(storage_put(s, src, NULL, NULL, &e), 0);
	char *out = at("fetched.tar.zst");
	struct storage_get_opts go = {
		.sha256 = "0000000000000000000000000000000000000000000000000000000000000000"};
	assert_int_equal(storage_get(s, "b.ferry.tar.zst", out, &go, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_VERIFY);
	assert_non_null(strstr(e.msg, "does not match"));
	char *outpart = xasprintf("%s.part", out);
	assert_false(fsx_exists(out));
	assert_false(fsx_exists(outpart));
	storage_close(s);
	free(outpart), free(out), free(src);
}

/* Cancels the put at its first progress past zero. */
static void cancel_on_progress(void *ud, const struct event *ev)
{
	volatile sig_atomic_t *cancel = ud;
	if (ev->type == EV_PROGRESS && ev->done > 0)
		*cancel = 1;
}

static void test_failed_put_leaves_no_final_file(void **state)
{
	(void)state;
	char *src = make_file("c.ferry.tar.zst", 5 * 1024 * 1024, 3);
	storage *s = open_store("store");
	struct err e = {0};
	volatile sig_atomic_t cancel = 0;
	struct event_sink sink = {cancel_on_progress, (void *)&cancel};
	struct storage_put_opts po = {.events = &sink, .cancel = &cancel};
	struct storage_put_result r;
	assert_int_equal(storage_put(s, src, &po, &r, &e), -1);
	assert_int_equal(e.kind, ERR_INTERRUPTED);
	assert_true(r.sent > 0 && r.sent < r.bytes);

	char *final = storage_entry_path(s, "c.ferry.tar.zst");
	char *part = xasprintf("%s.part", final);
	assert_false(fsx_exists(final));
	assert_true(fsx_exists(part));

	/* The .part is not an entry. */
	struct storage_list l;
	assert_int_equal(storage_list(s, NULL, &l, &e), 0);
	assert_int_equal(l.n, 0);
	storage_list_done(&l);
	struct storage_entry en;
	assert_int_equal(storage_stat(s, "c.ferry.tar.zst.part", &en, &e), -1);
	assert_int_equal(e.kind, ERR_USAGE);

	/* The next put resumes after the bytes already there. */
	uint64_t had = r.sent;
	assert_int_equal(storage_put(s, src, NULL, &r, &e), 0);
	assert_int_equal(r.resumed_from, had);
	assert_int_equal(r.sent, r.bytes - had);
	assert_true(same_content(src, final));
	assert_false(fsx_exists(part));

	storage_close(s);
	free(part), free(final), free(src);
}

static void test_differing_part_starts_over(void **state)
{
	(void)state;
	char *src = make_file("d.ferry.tar.zst", 2 * 1024 * 1024, 4);
	storage *s = open_store("store");
	struct err e = {0};
	tu_mkdirs(storage_describe(s));
	char *final = storage_entry_path(s, "d.ferry.tar.zst");
	char *part = xasprintf("%s.part", final);
	tu_write(part, "not the start of that file");
	struct storage_put_result r;
	assert_int_equal(storage_put(s, src, NULL, &r, &e), 0);
	assert_int_equal(r.resumed_from, 0);
	assert_int_equal(r.sent, r.bytes);
	assert_true(same_content(src, final));

	/* A .part longer than the file: start over too. */
	char *big = make_file("big", 3 * 1024 * 1024, 5);
	assert_int_equal(rename(big, part), 0);
	assert_int_equal(storage_put(s, src, NULL, &r, &e), 0);
	assert_int_equal(r.resumed_from, 0);
	assert_true(same_content(src, final));
	assert_false(fsx_exists(part));

	storage_close(s);
	free(big), free(part), free(final), free(src);
}

static void test_failed_put_keeps_earlier_entry(void **state)
{
	(void)state;
	char *src = make_file("e.ferry.tar.zst", 1000, 6);
	storage *s = open_store("store");
	struct err e = {0};
	assert_int_equal(storage_put(s, src, NULL, NULL, &e), 0);
	char *final = storage_entry_path(s, "e.ferry.tar.zst");
	char *missing = at("no-such-file");
	struct storage_put_opts po = {.name = "e.ferry.tar.zst"};
	assert_int_equal(storage_put(s, missing, &po, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "cannot open"));
	assert_true(same_content(src, final));   /* still the earlier copy */
	storage_close(s);
	free(missing), free(final), free(src);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(storage_name_ok("app-2024.ferry.tar.zst"));
	assert_false(storage_name_ok(""));
	assert_false(storage_name_ok(NULL));
	assert_false(storage_name_ok("."));
	assert_false(storage_name_ok(".."));
	assert_false(storage_name_ok("a/b"));
	assert_false(storage_name_ok("x.part"));
	char *src = make_file("f", 10, 7);
	storage *s = open_store("store");
	struct err e = {0};
	struct storage_put_opts po = {.name = "../escape"};
	assert_int_equal(storage_put(s, src, &po, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_USAGE);
	assert_false(fsx_exists(storage_describe(s)));   /* nothing was made */
	assert_int_equal(storage_remove(s, "../f", &e), -1);
	/* Hidden files are not listed either. */
	tu_mkdirs(storage_describe(s));
	char *hidden = xasprintf("%s/.lock", storage_describe(s));
	tu_write(hidden, "x");
	struct storage_list l;
	assert_int_equal(storage_list(s, NULL, &l, &e), 0);
	assert_int_equal(l.n, 0);
	storage_list_done(&l);
	storage_close(s);
	assert_null(storage_open_local("", &e));
	free(hidden), free(src);
}

static void test_put_onto_itself(void **state)
{
	(void)state;
	storage *s = open_store("store");
	tu_mkdirs(storage_describe(s));
	char *inside = make_file("store/g.ferry.tar.zst", 4096, 8);
	struct err e = {0};
	struct storage_put_result r;
	assert_int_equal(storage_put(s, inside, NULL, &r, &e), 0);
	assert_int_equal(r.sent, 0);
	assert_int_equal(r.bytes, 4096);
	char want[HASH_HEX_SIZE];
	assert_int_equal(hash_file(inside, want, NULL, &e), 0);
	assert_string_equal(r.sha256, want);
	storage_close(s);
	free(inside);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_list_stat_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_hash_mismatch_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_put_leaves_no_final_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_differing_part_starts_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_put_keeps_earlier_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_onto_itself, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
