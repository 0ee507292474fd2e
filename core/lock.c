/* lock — an atomic lock file, here or on a remote host. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <signal.h>
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

/* The lock file's text, "" when it cannot be read. */
static void read_lock(const char *path, char *buf, size_t size)
{
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (f) {
		size_t n = fread(buf, 1, size - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
}

/* A lock taken on this host by a process that is gone: its holder was
 * killed, and nobody else can be holding it. */
static bool holder_gone(const char *text)
{
	json_t *o = json_loads(text, 0, NULL);
	const char *host = json_string_value(json_object_get(o, "host"));
	long long pid = json_integer_value(json_object_get(o, "pid"));
	char *here = util_hostname();
	bool gone = host && strcmp(host, here) == 0 && pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
	free(here);
	json_decref(o);
	return gone;
}

/* Create path exclusively with this run's text; a stale lock is taken over
 * (*took_over gets the old holder's text). */
static int create_lock(const char *path, const char *flow, char **took_over, struct err *e)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			char *text = lock_text(flow);
			ssize_t w = write(fd, text, strlen(text));
			close(fd);
			free(text);
			return w < 0 ? err_set(e, ERR_FAILED, "cannot write the lock %s", path) : 0;
		}
		if (errno != EEXIST)
			return err_set(e, ERR_FAILED, "cannot create lock %s: %s", path, strerror(errno));
		char buf[1024];
		read_lock(path, buf, sizeof buf);
		if (attempt > 0 || !holder_gone(buf))
			return lock_refuse(path, buf, e);
		if (took_over) {
			free(*took_over);
			*took_over = xstrdup(buf);
		}
		unlink(path);
	}
	return err_set(e, ERR_LOCK, "cannot take the lock %s", path);
}

static int acquire_local(const char *dir, const char *flow, bool break_lock, char **took_over,
			 struct err *e)
{
	if (fsx_mkdir_p(dir, 0700, e) < 0)
		return -1;
	char *path = xasprintf("%s/%s", dir, LOCK_FILE);
	if (break_lock)
		unlink(path);
	int rc = create_lock(path, flow, took_over, e);
	free(path);
	return rc;
}

/* One attempt at the remote lock: 0 taken, 1 held (*text gets the holder's
 * lock file), -1 when the command could not run. */
static int try_remote(sshc_conn *c, const char *qdir, const char *flow, bool break_lock, char **text,
		      struct err *e)
{
	char *cmd = xasprintf("mkdir -p %s && cd %s && %s(set -C; cat > %s) 2>/dev/null || "
			      "{ cat %s; exit 3; }", qdir, qdir, break_lock ? "rm -f " LOCK_FILE "; " : "",
			      LOCK_FILE, LOCK_FILE);
	char *mine = lock_text(flow);
	struct sshc_buf out = {0};
	int status = 0;
	struct sshc_exec_opts o = {.stdin_buf = mine, .stdin_len = strlen(mine), .capture_stdout = &out,
				   .timeout_s = 30};
	int rc = sshc_exec(c, cmd, &o, &status, e);
	if (rc == 0 && status != 0) {
		*text = xstrdup(out.data ? out.data : "");
		rc = 1;
	}
	sshc_buf_done(&out);
	free(mine), free(cmd);
	return rc;
}

/* Remove the remote lock only while it still holds exactly text (a run
 * that took it in the meantime keeps it). */
static void remove_remote_if(sshc_conn *c, const char *qdir, const char *text)
{
	char *qtext = sshc_quote(text);
	char *cmd = xasprintf("cd %s && printf %%s %s | cmp -s - %s && rm -f %s", qdir, qtext, LOCK_FILE,
			      LOCK_FILE);
	struct err ignored = {0};
	struct sshc_buf out = {0};
	sshc_run(c, cmd, &out, &ignored);
	sshc_buf_done(&out);
	free(cmd), free(qtext);
}

/* The remote lock records the pid and host of the ferry that took it here,
 * so a holder on this host whose pid is gone (killed) is stale there too. */
static int acquire_remote(sshc_conn *c, const char *dir, const char *flow, bool break_lock,
			  char **took_over, struct err *e)
{
	char *qdir = sshc_quote(dir);
	char *text = NULL;
	int rc = try_remote(c, qdir, flow, break_lock, &text, e);
	if (rc == 1 && holder_gone(text)) {
		remove_remote_if(c, qdir, text);
		if (took_over) {
			free(*took_over);
			*took_over = xstrdup(text);
		}
		free(text);
		text = NULL;
		rc = try_remote(c, qdir, flow, false, &text, e);
	}
	if (rc == 1) {
		char *where = xasprintf("%s:%s", sshc_target(c), dir);
		rc = lock_refuse(where, text, e);
		free(where);
	}
	free(text), free(qdir);
	return rc;
}

int lock_acquire(sshc_conn *c, const char *dir, const char *flow, bool break_lock, char **took_over,
		 struct err *e)
{
	return c ? acquire_remote(c, dir, flow, break_lock, took_over, e)
		 : acquire_local(dir, flow, break_lock, took_over, e);
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

/* ---- the profile lock ----------------------------------------------------- */

/* The profile locks this process holds, and how often (a restore's safety
 * backup takes the lock its restore holds). */
static struct held_lock {
	char *path;
	int count;
} held[8];

/* The entry for path, or with path NULL a free one. */
static struct held_lock *find_held(const char *path)
{
	for (size_t i = 0; i < sizeof held / sizeof held[0]; i++)
		if (path ? held[i].path && strcmp(held[i].path, path) == 0 : !held[i].path)
			return &held[i];
	return NULL;
}

static char *profile_lock_path(const char *dir, const char *profile)
{
	return xasprintf("%s/.ferry-%s.lock", dir, profile);
}

int lock_profile_acquire(const char *dir, const char *profile, const char *flow, char **took_over,
			 struct err *e)
{
	char *path = profile_lock_path(dir, profile);
	struct held_lock *h = find_held(path);
	if (h) {
		h->count++;
		free(path);
		return 1;
	}
	h = find_held(NULL);
	int rc = !h ? err_set(e, ERR_FAILED, "too many locks held at once")
		    : fsx_mkdir_p(dir, 0700, e) < 0 ? -1 : create_lock(path, flow, took_over, e);
	if (rc < 0) {
		free(path);
		return -1;
	}
	*h = (struct held_lock){.path = path, .count = 1};
	return 0;
}

void lock_profile_release(const char *dir, const char *profile)
{
	char *path = profile_lock_path(dir, profile);
	struct held_lock *h = find_held(path);
	if (h && --h->count == 0) {
		unlink(path);
		free(h->path);
		*h = (struct held_lock){0};
	}
	free(path);
}
