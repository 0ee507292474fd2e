/* lock — an atomic lock file, here or on a remote host. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "fsx.h"

char *lock_text(const char *flow)
{
	const struct passwd *pw = getpwuid(getuid());
	char *host = util_hostname();
	char *owner = xasprintf("%s@%s", pw ? pw->pw_name : "?", host);
	char *when = util_iso_time(time(NULL));
	json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:I}", "owner", owner, "pid", (int)getpid(),
			      "host", host, "flow", flow, "time", when, "epoch", (json_int_t)time(NULL));
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	char *out = xasprintf("%s\n", text ? text : "{}");
	free(text), free(host), free(owner), free(when);
	return out;
}

int lock_refuse(const char *where, const char *text, struct err *e)
{
	json_t *o = json_loads(text ? text : "", 0, NULL);
	const char *owner = json_string_value(json_object_get(o, "owner"));
	const char *flow = json_string_value(json_object_get(o, "flow"));
	const char *when = json_string_value(json_object_get(o, "time"));
	long long epoch = json_integer_value(json_object_get(o, "epoch"));
	long long pid = json_integer_value(json_object_get(o, "pid"));
	long long age = epoch ? (long long)time(NULL) - epoch : -1;
	if (age >= 0)
		err_set(e, ERR_LOCK, "%s is locked by %s of %s (pid %lld) since %s, %lld min ago", where,
			flow ? flow : "another run", owner ? owner : "?", pid, when ? when : "?", age / 60);
	else
		err_set(e, ERR_LOCK, "%s is locked (unreadable lock file)", where);
	json_decref(o);
	return err_hint(e, "wait for that run to finish; if it died, re-run with --break-lock");
}

static int acquire_local(const char *dir, const char *flow, bool break_lock, struct err *e)
{
	if (fsx_mkdir_p(dir, 0700, e) < 0)
		return -1;
	char *path = xasprintf("%s/%s", dir, LOCK_FILE);
	if (break_lock)
		unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		int rc;
		if (errno == EEXIST) {
			char buf[1024] = "";
			FILE *f = fopen(path, "r");
			if (f) {
				size_t n = fread(buf, 1, sizeof buf - 1, f);
				buf[n] = '\0';
				fclose(f);
			}
			rc = lock_refuse(path, buf, e);
		} else {
			rc = err_set(e, ERR_FAILED, "cannot create lock %s: %s", path, strerror(errno));
		}
		free(path);
		return rc;
	}
	char *text = lock_text(flow);
	ssize_t w = write(fd, text, strlen(text));
	close(fd);
	free(text);
	free(path);
	return w < 0 ? err_set(e, ERR_FAILED, "cannot write the lock in %s", dir) : 0;
}

static int acquire_remote(sshc_conn *c, const char *dir, const char *flow, bool break_lock,
			  struct err *e)
{
	char *qdir = sshc_quote(dir);
	char *cmd = xasprintf("mkdir -p %s && cd %s && %s(set -C; cat > %s) 2>/dev/null || "
			      "{ cat %s; exit 3; }", qdir, qdir, break_lock ? "rm -f " LOCK_FILE "; " : "",
			      LOCK_FILE, LOCK_FILE);
	char *text = lock_text(flow);
	struct sshc_buf out = {0};
	int status = 0;
	struct sshc_exec_opts o = {.stdin_buf = text, .stdin_len = strlen(text), .capture_stdout = &out,
				   .timeout_s = 30};
	int rc = sshc_exec(c, cmd, &o, &status, e);
	if (rc == 0 && status != 0) {
		char *where = xasprintf("%s:%s", sshc_target(c), dir);
		rc = lock_refuse(where, out.data, e);
		free(where);
	}
	sshc_buf_done(&out);
	free(text), free(cmd), free(qdir);
	return rc;
}

int lock_acquire(sshc_conn *c, const char *dir, const char *flow, bool break_lock, struct err *e)
{
	return c ? acquire_remote(c, dir, flow, break_lock, e) : acquire_local(dir, flow, break_lock, e);
}

void lock_release(sshc_conn *c, const char *dir)
{
	char *path = xasprintf("%s/%s", dir, LOCK_FILE);
	if (!c) {
		unlink(path);
	} else {
		char *q = sshc_quote(path);
		char *cmd = xasprintf("rm -f %s", q);
		struct err ignored = {0};
		struct sshc_buf out = {0};
		sshc_run(c, cmd, &out, &ignored);
		sshc_buf_done(&out);
		free(cmd), free(q);
	}
	free(path);
}
