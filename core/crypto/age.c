/* age — files encrypted and decrypted by the age program (see age.h). */
#include "crypto/age.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsx.h"
#include "proc.h"

#define AGE_HEADER "age-encryption.org/v1\n"

/* The age program, or ERR_TOOL. Caller frees. */
static char *find_age(struct err *e)
{
	char *age = proc_which("age");
	if (!age) {
		err_set(e, ERR_TOOL, "the age program is not installed (needed to encrypt and decrypt "
			"offsite copies)");
		err_hint(e, "apt-get install age");
	}
	return age;
}

/* age's own reason in its stderr: the text after "age: error: " (its last
 * line only points at the bug tracker), or the last line. */
static void age_reason(const char *tail, char *out, size_t n)
{
	const char *at = tail ? strstr(tail, "error: ") : NULL;
	const char *from = at ? at + strlen("error: ") : tail ? tail : "";
	size_t len = strcspn(from, "\n");
	snprintf(out, n, "%.*s", (int)len, from);
}

/* age -d: a failure names the file, the identity and age's reason
 * (ERR_VERIFY: a wrong identity and a damaged copy look the same). */
static int run_decrypt(const char *const *argv, const struct proc_opts *po, struct err *e)
{
	proc *p = proc_spawn(argv, po, e);
	if (!p)
		return -1;
	int rc = proc_wait(p, e);
	if (rc > 0) {
		char reason[256];
		age_reason(proc_stderr_tail(p), reason, sizeof reason);
		err_set(e, ERR_VERIFY, "cannot decrypt %s with the identity %s: %s", argv[6], argv[3],
			reason[0] ? reason : "age failed");
		err_hint(e, "give the identity (--identity FILE) whose public key is among "
			 "encryption.recipients; a damaged copy fails the same way");
	}
	proc_free(p);
	return rc == 0 ? 0 : -1;
}

/* Run age with argv (OUT.part as its -o), rename to out when it succeeded.
 * Decrypting, argv is {age, -d, -i, IDENTITY, -o, PART, IN}. */
static int run_age(const char *const *argv, const char *part, const char *out, bool decrypting,
		   volatile sig_atomic_t *cancel, struct err *e)
{
	struct proc_opts po = {.cancel = cancel, .stdout_null = true};
	unlink(part);
	int rc = decrypting ? run_decrypt(argv, &po, e) : proc_run(argv, &po, e);
	if (rc == 0 && rename(part, out) != 0)
		rc = err_set(e, ERR_FAILED, "cannot rename %s to %s: %s", part, out, strerror(errno));
	if (rc == 0)
		fsx_sync_parent(out);
	else
		unlink(part);
	return rc;
}

int age_encrypt_file(const struct strv *recipients, const char *in, const char *out,
		     volatile sig_atomic_t *cancel, struct err *e)
{
	char *age = find_age(e);
	if (!age)
		return -1;
	char *part = xasprintf("%s.part", out);
	const char **argv = xcalloc(2 * recipients->n + 5, sizeof *argv);
	size_t n = 0;
	argv[n++] = age;
	for (size_t i = 0; i < recipients->n; i++) {
		argv[n++] = "-r";
		argv[n++] = recipients->v[i];
	}
	argv[n++] = "-o";
	argv[n++] = part;
	argv[n++] = in;
	int rc = run_age(argv, part, out, false, cancel, e);
	free(argv);
	free(part);
	free(age);
	return rc;
}

int age_decrypt_file(const char *identity, const char *in, const char *out,
		     volatile sig_atomic_t *cancel, struct err *e)
{
	if (access(identity, R_OK) != 0) {
		err_set(e, ERR_USAGE, "cannot read the identity %s: %s", identity, strerror(errno));
		return err_hint(e, "give the age key file or ssh private key that decrypts the copy");
	}
	char *age = find_age(e);
	if (!age)
		return -1;
	char *part = xasprintf("%s.part", out);
	const char *argv[] = {age, "-d", "-i", identity, "-o", part, in, NULL};
	int rc = run_age(argv, part, out, true, cancel, e);
	free(part);
	free(age);
	return rc;
}

bool age_is_encrypted(const char *path)
{
	char buf[sizeof AGE_HEADER - 1];
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	bool yes = fread(buf, 1, sizeof buf, f) == sizeof buf && memcmp(buf, AGE_HEADER, sizeof buf) == 0;
	fclose(f);
	return yes;
}
