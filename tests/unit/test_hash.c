/* Unit tests for core/hash: SHA-256 of buffers and files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "util.h"

#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/ferry-test-hash-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void test_known_vectors(void **state)
{
	(void)state;
	char hex[HASH_HEX_SIZE];
	struct err e = {0};
	assert_int_equal(hash_buffer("abc", 3, hex, &e), 0);
	assert_string_equal(hex, ABC_SHA256);
	assert_int_equal(hash_buffer("", 0, hex, &e), 0);
	assert_string_equal(hex, EMPTY_SHA256);
}

static void test_incremental_equals_oneshot(void **state)
{
	(void)state;
	struct hash_ctx h = {0};
	struct err e = {0};
	char hex[HASH_HEX_SIZE];
	assert_int_equal(hash_init(&h, &e), 0);
	hash_update(&h, "a", 1);
	hash_update(&h, "", 0);
	hash_update(&h, "bc", 2);
	hash_final(&h, hex);
	assert_string_equal(hex, ABC_SHA256);
	/* the context can be started again after final */
	assert_int_equal(hash_init(&h, &e), 0);
	hash_final(&h, hex);
	assert_string_equal(hex, EMPTY_SHA256);
	hash_done(&h);
	hash_done(&h);
	hash_done(NULL);
}

static void test_file_spanning_buffers(void **state)
{
	struct fixture *f = *state;
	size_t len = 3 * HASH_FILE_BUFSIZE + 12345;
	unsigned char *data = xmalloc(len);
	uint32_t x = 12345;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (unsigned char)(x >> 24);
	}
	char *path = xasprintf("%s/data.bin", f->dir);
	write_file(path, data, len);
	char want[HASH_HEX_SIZE], got[HASH_HEX_SIZE];
	struct err e = {0};
	uint64_t bytes = 0;
	assert_int_equal(hash_buffer(data, len, want, &e), 0);
	assert_int_equal(hash_file(path, got, &bytes, &e), 0);
	assert_string_equal(got, want);
	assert_int_equal(bytes, len);
	assert_int_equal(hash_file(path, got, NULL, &e), 0);
	free(path);
	free(data);
}

static void test_empty_file(void **state)
{
	struct fixture *f = *state;
	char *path = xasprintf("%s/empty", f->dir);
	write_file(path, "", 0);
	char hex[HASH_HEX_SIZE];
	uint64_t bytes = 99;
	struct err e = {0};
	assert_int_equal(hash_file(path, hex, &bytes, &e), 0);
	assert_string_equal(hex, EMPTY_SHA256);
	assert_int_equal(bytes, 0);
	free(path);
}

static void test_file_errors(void **state)
{
	struct fixture *f = *state;
	char hex[HASH_HEX_SIZE];
	struct err e = {0};
	char *missing = xasprintf("%s/missing", f->dir);
	assert_int_equal(hash_file(missing, hex, NULL, &e), -1);
	assert_int_equal(e.kind, ERR_FAILED);
	char *want = xasprintf("cannot open %s: No such file or directory", missing);
	assert_string_equal(e.msg, want);
	free(want);
	err_clear(&e);
	assert_int_equal(hash_file(f->dir, hex, NULL, &e), -1);
	want = xasprintf("cannot read %s: Is a directory", f->dir);
	assert_string_equal(e.msg, want);
	free(want);
	free(missing);
}

static void test_is_hex(void **state)
{
	(void)state;
	assert_true(hash_is_hex(ABC_SHA256));
	assert_false(hash_is_hex(NULL));
	assert_false(hash_is_hex(""));
	assert_false(hash_is_hex("abc"));
	assert_false(hash_is_hex(ABC_SHA256 "0"));
	assert_false(hash_is_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	assert_false(hash_is_hex("ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_incremental_equals_oneshot),
		cmocka_unit_test(test_file_spanning_buffers),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_is_hex),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
