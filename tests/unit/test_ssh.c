/* Unit tests for the pure parts of core/ssh: shell quoting, known_hosts
 * lookup (plain, hashed, patterns, markers, line numbers) and recording,
 * fingerprints, sha256 parsing, line splitting. No server involved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ssh/ssh.h"
#include "testutil.h"
#include "util.h"

/* Three real public keys (generated with ssh-keygen for these tests). */
#define KEY_A "AAAAC3NzaC1lZDI1NTE5AAAAIJpnQXU4O9k/cuw/g63DomrHTKcbCT/CE+KZOccc0Smy"
#define FP_A "SHA256:NTvzI0azQKcQdCXmgneGC5MKepwup9huzK4Yk2kALUw"
#define KEY_B "AAAAC3NzaC1lZDI1NTE5AAAAIBEcwERVLtOcUYF/+g9Y69SjAGj/1EKik6OW68hWUNlw"
#define FP_B "SHA256:7TZoOjgsuzS3eTaAUIcqEnzNlIek09U3G4H+c0qDUzk"
#define KEY_E "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBMfb2oMX9GLqBYNFmz9hTJ8v" \
	"OBNgnag/0lp2tcl/IszNbFoeR7WDDeeVgMcYggI+MJjZnsfSvlRRtWLOWxx8W5U="
#define FP_E "SHA256:xu4q8Uz1XYuoSyFUYOhjHk07RknFzpBbXlf6Hy/AfDI"
/* ssh-keygen -H of "[127.0.0.1]:2222 KEY_A" and "host.example KEY_B". */
#define HASHED_A "|1|YLqalH95D80IJzb9zLc2hQJHayw=|CY4BB2DeGQsijqN5P3b2hGKHDDg="
#define HASHED_B "|1|6/29Zjj+gGne1rSDVUlir/isiPA=|osUECO2UW/GLVWPRe5wvpJov8Uc="

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

/* Write text to a new file in tmpdir; caller frees the path. */
static char *write_tmp(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	tu_write(path, text);
	return path;
}

static void test_quote(void **state)
{
	(void)state;
	char *q = sshc_quote("abc");
	assert_string_equal(q, "'abc'");
	free(q);
	q = sshc_quote("it's");
	assert_string_equal(q, "'it'\\''s'");
	free(q);
	q = sshc_quote("");
	assert_string_equal(q, "''");
	free(q);
	q = sshc_quote("''");
	assert_string_equal(q, "''\\'''\\'''");
	free(q);
}

/* What the shell makes of a quoted string is the string itself. */
static void test_quote_roundtrip(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"plain", "with space", "it's", "$(rm -rf /tmp/x)", "`id`", "a\"b", "back\\slash",
		"semi;colon && or || pipe |", "new\nline", "*?[glob]", "~user", "-dash", "''''",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *q = sshc_quote(cases[i]);
		char *cmd = xasprintf("printf '%%s' %s", q);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		char buf[256] = "";
		size_t n = fread(buf, 1, sizeof buf - 1, p);
		buf[n] = '\0';
		assert_int_equal(pclose(p), 0);
		assert_string_equal(buf, cases[i]);
		free(cmd);
		free(q);
	}
}

static void test_known_hosts_name(void **state)
{
	(void)state;
	char *n = sshc_known_hosts_name("example.com", 22);
	assert_string_equal(n, "example.com");
	free(n);
	n = sshc_known_hosts_name("10.0.0.5", 2222);
	assert_string_equal(n, "[10.0.0.5]:2222");
	free(n);
	n = sshc_known_hosts_name("::1", 2200);
	assert_string_equal(n, "[::1]:2200");
	free(n);
}

static void test_fingerprint(void **state)
{
	(void)state;
	char *fp = sshc_fingerprint("ssh-ed25519", KEY_A);
	assert_non_null(fp);
	assert_string_equal(fp, FP_A);
	free(fp);
	fp = sshc_fingerprint("ecdsa-sha2-nistp256", KEY_E);
	assert_non_null(fp);
	assert_string_equal(fp, FP_E);
	free(fp);
	assert_null(sshc_fingerprint("ssh-ed25519", "not-base64!"));
	assert_null(sshc_fingerprint("no-such-type", KEY_A));
}

/* Look up KEY with type in file for host:port; returns the status. */
static enum sshc_hostkey_status lookup(const char *file, const char *host, int port,
				       const char *type, const char *key, int *line)
{
	struct sshc_hostkey hk;
	struct err e = {0};
	int rc = sshc_known_hosts_check(file, host, port, type, key, &hk, &e);
	if (rc != 0)
		fail_msg("sshc_known_hosts_check: %s", e.msg);
	*line = hk.line;
	return hk.status;
}

static void test_known_hosts_plain(void **state)
{
	(void)state;
	char *f = write_tmp("kh_plain",
			    "# a comment\n"
			    "\n"
			    "other.example ssh-ed25519 " KEY_B "\n"
			    "[127.0.0.1]:2222 ssh-ed25519 " KEY_A " root@vm\n"
			    "127.0.0.1 ssh-ed25519 " KEY_B "\n"
			    "web.example,10.0.0.9 ssh-ed25519 " KEY_A "\n"
			    "[db.example]:2200\tssh-ed25519\t" KEY_A "\n");
	int line = -1;
	/* Known, with its line. */
	assert_int_equal(lookup(f, "127.0.0.1", 2222, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_KNOWN);
	assert_int_equal(line, 4);
	/* Port 22 is the bare name: another entry, another key -> changed. */
	assert_int_equal(lookup(f, "127.0.0.1", 22, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_CHANGED);
	assert_int_equal(line, 5);
	/* [host]:port with a different key -> changed, naming that line. */
	assert_int_equal(lookup(f, "127.0.0.1", 2222, "ssh-ed25519", KEY_B, &line), SSHC_HOSTKEY_CHANGED);
	assert_int_equal(line, 4);
	/* A name in a comma list; tabs as separators. */
	assert_int_equal(lookup(f, "10.0.0.9", 22, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_KNOWN);
	assert_int_equal(line, 6);
	assert_int_equal(lookup(f, "db.example", 2200, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_KNOWN);
	assert_int_equal(line, 7);
	/* The same host on another port is not known. */
	assert_int_equal(lookup(f, "db.example", 22, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_UNKNOWN);
	assert_int_equal(line, 0);
	assert_int_equal(lookup(f, "new.example", 22, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_UNKNOWN);
	/* Only a key of another type is known -> other, with its line. */
	assert_int_equal(lookup(f, "127.0.0.1", 2222, "ecdsa-sha2-nistp256", KEY_E, &line),
			 SSHC_HOSTKEY_OTHER);
	assert_int_equal(line, 4);
	free(f);
}

static void test_known_hosts_multiple_keys(void **state)
{
	(void)state;
	/* Two keys for one host (a rotation): either is fine; a third is not. */
	char *f = write_tmp("kh_multi",
			    "[h.example]:2022 ssh-ed25519 " KEY_B "\n"
			    "[h.example]:2022 ssh-ed25519 " KEY_A "\n"
			    "[h.example]:2022 ecdsa-sha2-nistp256 " KEY_E "\n");
	int line;
	assert_int_equal(lookup(f, "h.example", 2022, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_KNOWN);
	assert_int_equal(line, 2);
	assert_int_equal(lookup(f, "h.example", 2022, "ecdsa-sha2-nistp256", KEY_E, &line),
			 SSHC_HOSTKEY_KNOWN);
	assert_int_equal(line, 3);
	free(f);
}

static void test_known_hosts_hashed(void **state)
{
	(void)state;
	char *f = write_tmp("kh_hashed",
			    HASHED_B " ssh-ed25519 " KEY_B "\n"
			    HASHED_A " ssh-ed25519 " KEY_A "\n");
	int line;
	assert_int_equal(lookup(f, "127.0.0.1", 2222, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_KNOWN);
	assert_int_equal(line, 2);
	assert_int_equal(lookup(f, "127.0.0.1", 2222, "ssh-ed25519", KEY_B, &line), SSHC_HOSTKEY_CHANGED);
	assert_int_equal(line, 2);
	assert_int_equal(lookup(f, "host.example", 22, "ssh-ed25519", KEY_B, &line), SSHC_HOSTKEY_KNOWN);
	assert_int_equal(line, 1);
	assert_int_equal(lookup(f, "host.example", 22, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_CHANGED);
	assert_int_equal(line, 1);
	/* The hash is of "[127.0.0.1]:2222": the bare name does not match. */
	assert_int_equal(lookup(f, "127.0.0.1", 22, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_UNKNOWN);
	free(f);
}

static void test_known_hosts_patterns_and_markers(void **state)
{
	(void)state;
	char *f = write_tmp("kh_markers",
			    "@cert-authority *.example ssh-ed25519 " KEY_B "\n"
			    "*.example,!bad.example ssh-ed25519 " KEY_A "\n"
			    "@revoked rev.example ssh-ed25519 " KEY_A "\n"
			    "rev.example ssh-ed25519 " KEY_A "\n"
			    "garbage line without a key\n"
			    "bad.example ssh-ed25519 not-a-key\n");
	int line;
	/* A wildcard pattern matches; the CA line is not a host key. */
	assert_int_equal(lookup(f, "www.example", 22, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_KNOWN);
	assert_int_equal(line, 2);
	assert_int_equal(lookup(f, "www.example", 22, "ssh-ed25519", KEY_B, &line), SSHC_HOSTKEY_CHANGED);
	assert_int_equal(line, 2);
	/* A negated name is excluded from the pattern. */
	assert_int_equal(lookup(f, "bad.example", 22, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_UNKNOWN);
	/* @revoked wins over a plain entry with the same key. */
	assert_int_equal(lookup(f, "rev.example", 22, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_REVOKED);
	assert_int_equal(line, 3);
	free(f);
}

static void test_known_hosts_missing_file(void **state)
{
	(void)state;
	char *f = xasprintf("%s/no/such/known_hosts", tmpdir);
	int line;
	assert_int_equal(lookup(f, "127.0.0.1", 2222, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_UNKNOWN);
	struct sshc_hostkey hk;
	struct err e = {0};
	assert_int_equal(sshc_known_hosts_check(f, "h", 22, "ssh-ed25519", KEY_A, &hk, &e), 0);
	assert_string_equal(hk.fingerprint, FP_A);
	assert_string_equal(hk.type, "ssh-ed25519");
	assert_string_equal(hk.known_hosts, f);
	/* A malformed key is an error, not "unknown". */
	assert_int_equal(sshc_known_hosts_check(f, "h", 22, "ssh-ed25519", "AAAA", &hk, &e), -1);
	assert_int_equal(e.kind, ERR_SSH);
	free(f);
}

static void test_known_hosts_add(void **state)
{
	(void)state;
	char *f = xasprintf("%s/newdir/sub/known_hosts", tmpdir);
	struct err e = {0};
	assert_int_equal(sshc_known_hosts_add(f, "127.0.0.1", 2222, "ssh-ed25519", KEY_A, &e), 0);
	struct stat st;
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *dir = xasprintf("%s/newdir/sub", tmpdir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(dir);
	int line;
	assert_int_equal(lookup(f, "127.0.0.1", 2222, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_KNOWN);
	assert_int_equal(line, 1);
	free(f);

	/* Appending to a file without a final newline starts a new line. */
	f = write_tmp("kh_nonl", "other.example ssh-ed25519 " KEY_B);
	assert_int_equal(sshc_known_hosts_add(f, "web.example", 22, "ssh-ed25519", KEY_A, &e), 0);
	assert_int_equal(lookup(f, "web.example", 22, "ssh-ed25519", KEY_A, &line), SSHC_HOSTKEY_KNOWN);
	assert_int_equal(line, 2);
	assert_int_equal(lookup(f, "other.example", 22, "ssh-ed25519", KEY_B, &line), SSHC_HOSTKEY_KNOWN);
	assert_int_equal(line, 1);
	FILE *fp = fopen(f, "r");
	char text[512] = "";
	size_t n = fread(text, 1, sizeof text - 1, fp);
	text[n] = '\0';
	fclose(fp);
	assert_non_null(strstr(text, "\nweb.example ssh-ed25519 " KEY_A "\n"));
	free(f);
}

static void test_parse_sha256(void **state)
{
	(void)state;
	char hex[65];
	const char *h = "a636200553ae71637130b4b7df5ecf8d56e4fdfb9401473b49db51e7798faeac";
	assert_int_equal(sshc_parse_sha256(h, hex), 0);
	assert_string_equal(hex, h);
	char *line = xasprintf("%s  /tmp/file\n", h);
	assert_int_equal(sshc_parse_sha256(line, hex), 0);
	free(line);
	line = xasprintf("%s *stdin", h);
	assert_int_equal(sshc_parse_sha256(line, hex), 0);
	free(line);
	assert_int_equal(sshc_parse_sha256("A636200553AE71637130B4B7DF5ECF8D56E4FDFB9401473B49DB51E7798FAEAC",
					   hex), 0);
	assert_string_equal(hex, h);
	assert_int_equal(sshc_parse_sha256("a63620", hex), -1);
	assert_int_equal(sshc_parse_sha256("", hex), -1);
	assert_int_equal(sshc_parse_sha256(NULL, hex), -1);
	line = xasprintf("%s0", h);   /* 65 digits */
	assert_int_equal(sshc_parse_sha256(line, hex), -1);
	free(line);
	line = xasprintf("%.63sg", h);
	assert_int_equal(sshc_parse_sha256(line, hex), -1);
	free(line);
}

static void test_signal_and_join(void **state)
{
	(void)state;
	assert_int_equal(sshc_signal_number("TERM"), 15);
	assert_int_equal(sshc_signal_number("KILL"), 9);
	assert_int_equal(sshc_signal_number("SIGINT"), 2);
	assert_int_equal(sshc_signal_number("NOPE"), 0);
	assert_int_equal(sshc_signal_number(NULL), 0);
	char *p = sshc_remote_join("/srv/backups", "out/app-2024.ferry");
	assert_string_equal(p, "/srv/backups/app-2024.ferry");
	free(p);
	p = sshc_remote_join("/srv/backups///", "x.tar");
	assert_string_equal(p, "/srv/backups/x.tar");
	free(p);
	p = sshc_remote_join("/", "x.tar");
	assert_string_equal(p, "/x.tar");
	free(p);
	p = sshc_remote_join("rel", "/abs/x.tar");
	assert_string_equal(p, "rel/x.tar");
	free(p);
}

struct collected {
	char lines[8][64];
	int n;
};

static void collect(void *ud, const char *line)
{
	struct collected *c = ud;
	if (c->n < 8)
		snprintf(c->lines[c->n++], sizeof c->lines[0], "%s", line);
}

static void test_lines(void **state)
{
	(void)state;
	struct collected got = {0};
	struct sshc_lines *l = xcalloc(1, sizeof *l);
	l->on_line = collect;
	l->ud = &got;
	sshc_lines_feed(l, "{\"a\":1}\n{\"b\"", 12);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.lines[0], "{\"a\":1}");
	sshc_lines_feed(l, ":2}\r\n\nlast", 10);
	assert_int_equal(got.n, 3);
	assert_string_equal(got.lines[1], "{\"b\":2}");
	assert_string_equal(got.lines[2], "");
	sshc_lines_flush(l);
	assert_int_equal(got.n, 4);
	assert_string_equal(got.lines[3], "last");
	sshc_lines_flush(l);
	assert_int_equal(got.n, 4);

	/* A line longer than the buffer arrives in pieces, nothing is lost. */
	struct collected big = {0};
	l->ud = &big;
	size_t len = sizeof l->buf + 100;
	char *text = xmalloc(len + 1);
	memset(text, 'x', len);
	text[len] = '\n';
	sshc_lines_feed(l, text, len + 1);
	assert_int_equal(big.n, 2);
	free(text);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_quote_roundtrip),
		cmocka_unit_test(test_known_hosts_name),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_known_hosts_plain),
		cmocka_unit_test(test_known_hosts_multiple_keys),
		cmocka_unit_test(test_known_hosts_hashed),
		cmocka_unit_test(test_known_hosts_patterns_and_markers),
		cmocka_unit_test(test_known_hosts_missing_file),
		cmocka_unit_test(test_known_hosts_add),
		cmocka_unit_test(test_parse_sha256),
		cmocka_unit_test(test_signal_and_join),
		cmocka_unit_test(test_lines),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
