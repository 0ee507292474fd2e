/* sign — manifests signed and checked by ssh-keygen -Y (see sign.h). */
#include "crypto/sign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsx.h"
#include "proc.h"
#include "util.h"

/* A private directory for the files ssh-keygen reads; caller removes it. */
static char *scratch_dir(struct err *e)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/ferry-sign.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		err_set(e, ERR_FAILED, "cannot create a directory for ssh-keygen: %s", strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* ssh-keygen, or ERR_TOOL. Caller frees. */
static char *find_keygen(struct err *e)
{
	char *kg = proc_which("ssh-keygen");
	if (!kg) {
		err_set(e, ERR_TOOL, "ssh-keygen is not installed (it signs and checks manifests)");
		err_hint(e, "apt-get install openssh-client");
	}
	return kg;
}

int sign_data(const char *key, const char *data, size_t len, char **sig, struct err *e)
{
	*sig = NULL;
	if (access(key, R_OK) != 0) {
		err_set(e, ERR_PROFILE, "cannot read the signing key %s: %s", key, strerror(errno));
		return err_hint(e, "signing.key names an OpenSSH private key without a passphrase");
	}
	char *kg = find_keygen(e);
	char *dir = kg ? scratch_dir(e) : NULL;
	if (!dir) {
		free(kg);
		return -1;
	}
	char *in = xasprintf("%s/data", dir), *out = xasprintf("%s/sig", dir);
	int rc = fsx_write_atomic(in, data, len, 0600, e);
	if (rc == 0) {
		const char *argv[] = {kg, "-q", "-Y", "sign", "-f", key, "-n", SIGN_NAMESPACE, NULL};
		struct proc_opts po = {.stdin_path = in, .stdout_path = out};
		rc = proc_run(argv, &po, e);
		if (rc < 0)
			err_hint(e, "signing.key must be an OpenSSH private key without a passphrase");
	}
	size_t n = 0;
	if (rc == 0 && !(*sig = fsx_read_file(out, 64 * 1024, &n, e)))
		rc = -1;
	fsx_rm_rf(dir);
	free(in);
	free(out);
	free(dir);
	free(kg);
	return rc;
}

/* The allowed-signers line for the key in public_key. */
static char *allowed_line(const char *public_key, struct err *e)
{
	size_t n = 0;
	char *pub = fsx_read_file(public_key, 64 * 1024, &n, e);
	if (!pub) {
		err_prefix(e, "signing.public_key");
		return NULL;
	}
	pub[strcspn(pub, "\r\n")] = '\0';
	char *line = xasprintf("ferry namespaces=\"%s\" %s\n", SIGN_NAMESPACE, pub);
	free(pub);
	return line;
}

int sign_verify(const char *public_key, const char *data, size_t len, const char *sig,
		const char *what, struct err *e)
{
	char *line = allowed_line(public_key, e);
	if (!line)
		return -1;
	char *kg = find_keygen(e);
	char *dir = kg ? scratch_dir(e) : NULL;
	if (!dir) {
		free(kg);
		free(line);
		return -1;
	}
	char *in = xasprintf("%s/data", dir), *sg = xasprintf("%s/sig", dir);
	char *allowed = xasprintf("%s/allowed_signers", dir);
	int rc = fsx_write_atomic(in, data, len, 0600, e);
	if (rc == 0)
		rc = fsx_write_atomic(sg, sig, strlen(sig), 0600, e);
	if (rc == 0)
		rc = fsx_write_atomic(allowed, line, strlen(line), 0600, e);
	if (rc == 0) {
		const char *argv[] = {kg, "-Y", "verify", "-f", allowed, "-I", "ferry", "-n",
				      SIGN_NAMESPACE, "-s", sg, NULL};
		struct proc_opts po = {.stdin_path = in, .stdout_null = true};
		struct err why = {0};
		if (proc_run(argv, &po, &why) < 0) {
			rc = err_set(e, ERR_VERIFY, "the signature of %s does not verify with %s (%s)",
				     what, public_key, why.msg);
			err_hint(e, "the bundle was changed after it was signed, or signed with another "
				 "key: do not restore it; use another copy");
		}
	}
	fsx_rm_rf(dir);
	free(in);
	free(sg);
	free(allowed);
	free(dir);
	free(kg);
	free(line);
	return rc;
}
