/* Unit tests: the offsite, encryption and signing keys of a profile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"
#include "testutil.h"

#define DB "'database': {'url': 'postgresql://app@db.internal:5432/shop'}"
#define AGE "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

static struct err e;

/* {"p": {<database>, members}} loaded from JSON written with ' for ". */
static profile_file *load_with(const char *members)
{
	char *q = xasprintf("{'p': {" DB ", %s}}", members);
	char *json = tu_json(q);
	err_clear(&e);
	profile_file *pf = profile_file_load_string(json, "/etc/ferry/profiles.json", &e);
	free(json);
	free(q);
	return pf;
}

static void expect_error(const char *members, const char *msg)
{
	profile_file *pf = load_with(members);
	if (pf) {
		profile_file_free(pf);
		fail_msg("loaded, but expected: %s", msg);
	}
	assert_int_equal(e.kind, ERR_PROFILE);
	assert_string_equal(e.msg, msg);
}

static void test_targets_and_defaults(void **state)
{
	(void)state;
	profile_file *pf = load_with(
		"'backup': {'offsite': true, 'keep': {'last': 3}},"
		"'offsite': [{'name': 's3main', 'type': 's3', 'bucket': 'b', 'prefix': 'shop/',"
		"  'endpoint': 'http://127.0.0.1:9000', 'path_style': true, 'part_size_mib': 5,"
		"  'keep': {'last': 2, 'daily': 0}},"
		" {'name': 'box', 'type': 'sftp', 'host': 'h', 'dir': '/b', 'port': 2222}],"
		"'encryption': {'recipients': ['" AGE "']},"
		"'signing': {'key': 'sign', 'public_key': '/k/sign.pub'},"
		"'offsite_max_age': 'PT36H'");
	if (!pf)
		fail_msg("%s", e.msg);
	const struct profile *p = profile_file_at(pf, 0);
	assert_true(p->backup.offsite);
	assert_int_equal(p->noffsite, 2);
	const struct profile_offsite *s3 = profile_offsite_find(p, "s3main");
	assert_non_null(s3);
	assert_string_equal(s3->region, "us-east-1");
	assert_int_equal(s3->part_size_mib, 5);
	assert_int_equal(s3->parallel, 4);
	assert_int_equal(s3->keep.last, 2);
	assert_int_equal(s3->keep.daily, 0);
	assert_int_equal(s3->keep.weekly, 4);
	const struct profile_offsite *box = profile_offsite_find(p, "box");
	assert_int_equal(box->port, 2222);
	assert_int_equal(box->keep.last, 3);   /* backup.keep's */
	assert_null(profile_offsite_find(p, "nope"));
	assert_true(p->has_encryption);
	assert_string_equal(p->signing.key, "/etc/ferry/sign");
	assert_int_equal(p->offsite_max_age_s, 36 * 3600);
	struct profile *c = profile_clone(p);
	assert_string_equal(c->offsite[1].dir, "/b");
	assert_string_equal(c->encryption.recipients.v[0], AGE);
	profile_free(c);
	char *json = profile_to_json_redacted(p);
	assert_non_null(strstr(json, "\"part_size_mib\": 5"));
	free(json);
	profile_file_free(pf);
}

static void test_default_endpoint_and_age(void **state)
{
	(void)state;
	profile_file *pf = load_with("'offsite': [{'name': 'a', 'type': 's3', 'bucket': 'b', 'region': 'eu-west-1'}]");
	if (!pf)
		fail_msg("%s", e.msg);
	const struct profile *p = profile_file_at(pf, 0);
	assert_string_equal(p->offsite[0].endpoint, "https://s3.eu-west-1.amazonaws.com");
	assert_int_equal(p->offsite_max_age_s, 2 * 86400);
	assert_false(p->has_encryption);
	profile_file_free(pf);
}

static void test_errors_name_key_paths(void **state)
{
	(void)state;
	expect_error("'offsite': [{'name': 'a', 'type': 's3'}]",
		     "/etc/ferry/profiles.json: p.offsite[0].bucket: missing");
	expect_error("'offsite': [{'name': 'a', 'type': 'ftp'}]",
		     "/etc/ferry/profiles.json: p.offsite[0].type: expected one of s3, sftp, got \"ftp\"");
	expect_error("'offsite': [{'name': 'a', 'type': 's3', 'bucket': 'b', 'host': 'h'}]",
		     "/etc/ferry/profiles.json: p.offsite[0].host: not a key of s3 targets");
	expect_error("'offsite': [{'name': 'a', 'type': 'sftp', 'host': 'h'}]",
		     "/etc/ferry/profiles.json: p.offsite[0].dir: missing");
	expect_error("'offsite': [{'name': 'a', 'type': 's3', 'bucket': 'b', 'part_size_mib': 4}]",
		     "/etc/ferry/profiles.json: p.offsite[0].part_size_mib: expected an integer 5-64 MiB (S3's "
		     "smallest part is 5), got 4");
	expect_error("'offsite': [{'name': 'a', 'type': 's3', 'bucket': 'b'},"
		     " {'name': 'a', 'type': 'sftp', 'host': 'h', 'dir': 'd'}]",
		     "/etc/ferry/profiles.json: p.offsite[1].name: \"a\" names two targets");
	expect_error("'offsite': [{'name': 'a b', 'type': 's3', 'bucket': 'b'}]",
		     "/etc/ferry/profiles.json: p.offsite[0].name: expected letters, digits, '-', '_' "
		     "or '.', got \"a b\"");
	expect_error("'offsite': [{'name': 'a', 'type': 's3', 'bucket': 'b', 'keep': {'lats': 1}}]",
		     "/etc/ferry/profiles.json: p.offsite[0].keep.lats: unknown key");
	expect_error("'backup': {'offsite': true}",
		     "/etc/ferry/profiles.json: p.backup.offsite: true, but the profile has no offsite targets");
	expect_error("'encryption': {'recipients': ['AGE-SECRET-KEY-1XYZ']}",
		     "/etc/ferry/profiles.json: p.encryption.recipients[0]: expected an age public key "
		     "(\"age1...\") or an ssh public key (\"ssh-ed25519 AAAA...\", \"ssh-rsa AAAA...\"), "
		     "got \"AGE-SECRET-KEY-1XYZ\"");
	expect_error("'encryption': {'local': true}",
		     "/etc/ferry/profiles.json: p.encryption.recipients: missing");
	expect_error("'signing': {}",
		     "/etc/ferry/profiles.json: p.signing: expected \"key\", \"public_key\" or both");
	expect_error("'offsite_max_age': '2 days'",
		     "/etc/ferry/profiles.json: p.offsite_max_age: expected an ISO-8601 duration like "
		     "\"P2D\" or \"PT36H\", got \"2 days\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets_and_defaults),
		cmocka_unit_test(test_default_endpoint_and_age),
		cmocka_unit_test(test_errors_name_key_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
