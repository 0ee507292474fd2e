/* migrate_target — the new server's side of ferry migrate, over SSH. */
#include "flow/migrate_target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "dump.h"
#include "util.h"

/* First line of a remote command's output, trimmed; NULL on failure. */
static char *remote_line(sshc_conn *ssh, const char *cmd, struct err *e)
{
	struct sshc_buf out = {0};
	int rc = sshc_run(ssh, cmd, &out, e);
	char *line = NULL;
	if (rc == 0) {
		line = xstrndup(out.data ? out.data : "", out.len);
		line[strcspn(line, "\n")] = '\0';
	}
	sshc_buf_done(&out);
	return line;
}

char *migrate_target_uname(sshc_conn *ssh, struct err *e)
{
	return remote_line(ssh, "uname -sm", e);
}

int migrate_target_free_space(sshc_conn *ssh, const char *dir, uint64_t *avail, struct err *e)
{
	char *q = sshc_quote(dir);
	char *cmd = xasprintf("mkdir -p %s && df -Pk %s | tail -n 1", q, q);
	char *line = remote_line(ssh, cmd, e);
	free(cmd), free(q);
	if (!line)
		return -1;
	unsigned long long kb = 0;
	sscanf(line, "%*s %*s %*s %llu", &kb);
	free(line);
	*avail = kb * 1024;
	return 0;
}

static int highest_major(const char *text)
{
	int best = 0;
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		int major, minor;
		if (dump_parse_version(p, &major, &minor) == 0 && major > best)
			best = major;
	}
	return best;
}

static int version_cmp(const char *a, const char *b)
{
	int x[3] = {0}, y[3] = {0};
	sscanf(a, "%d.%d.%d", &x[0], &x[1], &x[2]);
	sscanf(b, "%d.%d.%d", &y[0], &y[1], &y[2]);
	for (int i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

int migrate_target_check_pg_restore(sshc_conn *ssh, struct err *e)
{
	struct pg_tool here;
	if (dump_find_tool("pg_dump", 0, &here, e) < 0)
		return -1;
	struct sshc_buf out = {0};
	int status = 0;
	struct sshc_exec_opts o = {.capture_stdout = &out, .timeout_s = 60};
	int rc = sshc_exec(ssh, "for t in /usr/lib/postgresql/*/bin/pg_restore $(command -v pg_restore); do "
			   "\"$t\" --version 2>/dev/null; done", &o, &status, e);
	int remote = rc == 0 && out.data ? highest_major(out.data) : 0;
	sshc_buf_done(&out);
	if (rc == 0 && remote == 0) {
		err_set(e, ERR_TOOL, "no pg_restore on %s", sshc_target(ssh));
		rc = err_hint(e, "install postgresql-client-%d there (apt-get install postgresql-client-%d)",
			      here.major, here.major);
	} else if (rc == 0 && remote < here.major) {
		err_set(e, ERR_TOOL, "pg_restore %d on %s is older than pg_dump %s here", remote,
			sshc_target(ssh), here.version);
		rc = err_hint(e, "install postgresql-client-%d on the new server", here.major);
	}
	pg_tool_done(&here);
	return rc;
}

/* The version `PATH --version` prints there, or NULL when it does not run. */
static char *ferry_version_at(sshc_conn *ssh, const char *path)
{
	char *q = sshc_quote(path);
	char *cmd = xasprintf("%s --version", q);
	struct err ignored = {0};
	char *line = remote_line(ssh, cmd, &ignored);
	free(cmd), free(q);
	char *v = line && str_starts(line, "ferry ") ? xstrdup(line + strlen("ferry ")) : NULL;
	free(line);
	return v;
}

char *migrate_target_ferry_path(const struct profile *to)
{
	return xasprintf("%s/.ferry-bin/ferry-%s", to->backup.dir, FERRY_VERSION);
}

char *migrate_target_find_ferry(sshc_conn *ssh, const struct profile *to, char **found_version)
{
	char *candidates[2] = {xstrdup(to->ssh.ferry_path ? to->ssh.ferry_path : "ferry"),
			       migrate_target_ferry_path(to)};
	char *found = NULL;
	if (found_version)
		*found_version = NULL;
	for (int i = 0; i < 2 && !found; i++) {
		char *v = ferry_version_at(ssh, candidates[i]);
		if (v && version_cmp(v, FERRY_VERSION) >= 0) {
			found = candidates[i];
			candidates[i] = NULL;
		} else if (v && found_version && !*found_version) {
			*found_version = xstrdup(v);
		}
		free(v);
	}
	free(candidates[0]);
	free(candidates[1]);
	return found;
}

bool migrate_target_can_run_here(const char *remote_uname)
{
	struct utsname u;
	uname(&u);
	char *here = xasprintf("%s %s", u.sysname, u.machine);
	bool same = remote_uname && strcmp(here, remote_uname) == 0;
	free(here);
	return same;
}

static int check_libraries(sshc_conn *ssh, const char *path, struct err *e)
{
	char *q = sshc_quote(path);
	char *cmd = xasprintf("chmod 755 %s && ldd %s | grep 'not found' || true", q, q);
	struct sshc_buf out = {0};
	int rc = sshc_run(ssh, cmd, &out, e);
	free(cmd), free(q);
	if (rc == 0 && out.len > 0) {
		char *missing = xstrndup(out.data, out.len);
		err_set(e, ERR_TOOL, "ferry copied to %s lacks shared libraries: %s", sshc_target(ssh),
			missing);
		err_hint(e, "install them there: apt-get install libpq5 libssh-4 libarchive13 libjansson4 "
			 "libcurl4 libncursesw6 (or build ferry there: make && make install)");
		free(missing);
		rc = -1;
	}
	sshc_buf_done(&out);
	return rc;
}

int migrate_target_copy_ferry(sshc_conn *ssh, const struct profile *to, const struct event_sink *ev,
			      volatile sig_atomic_t *cancel, struct err *e)
{
	char *path = migrate_target_ferry_path(to);
	struct sshc_upload_opts uo = {.events = ev, .step = "ferry", .cancel = cancel};
	struct sshc_upload_result ur;
	int rc = sshc_upload(ssh, "/proc/self/exe", path, &uo, &ur, e);
	if (rc == 0)
		rc = check_libraries(ssh, path, e);
	if (rc == 0)
		event_log(ev, EV_INFO, "copied ferry %s to %s", FERRY_VERSION, path);
	free(path);
	return rc;
}
