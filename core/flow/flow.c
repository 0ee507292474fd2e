/* flow_util — helpers shared by the flows. */
#define _XOPEN_SOURCE 700
#include "flow/flow.h"
#include "lock.h"
#include "recover.h"
#include "text.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsx.h"
#include "proc.h"
#include "util.h"

int flow_compression_parse(const char *name, enum bundle_compression *out)
{
	if (strcmp(name, "zstd") == 0)
		*out = BUNDLE_ZSTD;
	else if (strcmp(name, "gzip") == 0)
		*out = BUNDLE_GZIP;
	else if (strcmp(name, "none") == 0)
		*out = BUNDLE_NONE;
	else
		return -1;
	return 0;
}

const char *flow_compression_name(enum bundle_compression c)
{
	return c == BUNDLE_GZIP ? "gzip" : c == BUNDLE_NONE ? "none" : "zstd";
}

const char *flow_bundle_extension(enum bundle_compression c)
{
	return c == BUNDLE_GZIP ? ".ferry.tar.gz" : c == BUNDLE_NONE ? ".ferry.tar" : ".ferry.tar.zst";
}

bool flow_app_path_exists(const struct profile *p, const char *rel)
{
	char *path = xasprintf("%s/%s", p->app.root, rel);
	struct stat st;
	bool yes = lstat(path, &st) == 0;
	free(path);
	return yes;
}

bool flow_any_app_path_exists(const struct profile *p)
{
	for (size_t i = 0; p->has_app && i < p->app.paths.n; i++)
		if (flow_app_path_exists(p, p->app.paths.v[i]))
			return true;
	return false;
}


struct command_log {
	const struct event_sink *ev;
};

static void command_line(void *ud, const char *line, bool is_stderr)
{
	const struct command_log *cl = ud;
	if (*line)
		event_log(cl->ev, is_stderr ? EV_WARN : EV_INFO, "%s", line);
}

int flow_run_commands(const struct strv *cmds, const struct profile *p, const char *const *env,
		      const struct event_sink *ev, volatile sig_atomic_t *cancel, struct err *e)
{
	struct command_log cl = {ev};
	struct proc_opts po = {
		.cwd = p->has_app && p->app.root ? p->app.root : p->dir,
		.env = env,
		.stdout_lines = true,
		.on_line = command_line,
		.ud = &cl,
		.cancel = cancel,
	};
	for (size_t i = 0; i < cmds->n; i++) {
		event_log(ev, EV_INFO, "$ %s", cmds->v[i]);
		if (proc_run_shell(cmds->v[i], &po, e) < 0)
			return -1;
	}
	return 0;
}

int flow_write_text(const char *path, const char *text, struct err *e)
{
	return fsx_write_atomic(path, text, strlen(text), 0600, e);
}

int flow_json_write(const char *path, const json_t *v, struct err *e)
{
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		return err_set(e, ERR_FAILED, "cannot encode %s", path);
	char *line = xasprintf("%s\n", text);
	free(text);
	int rc = flow_write_text(path, line, e);
	free(line);
	return rc;
}

int flow_json_log_append(const char *path, json_t *rec, struct err *e)
{
	json_t *all = json_load_file(path, 0, NULL);
	if (!json_is_array(all)) {
		json_decref(all);
		all = json_array();
	}
	json_array_append(all, rec);
	int rc = flow_json_write(path, all, e);
	json_decref(all);
	return rc;
}

char *flow_report_text(const struct flow_report *rep, const char *sep)
{
	static const char *const marks[] = {"·", "✔", "⚠", "✖"};
	struct sbuf b = {0};
	for (size_t i = 0; i < rep->n; i++) {
		const struct flow_step_result *r = &rep->steps[i];
		if (strcmp(r->id, STEP_PREFLIGHT) == 0 && r->state != STEP_STATE_FAILED)
			continue;
		if (b.len)
			sbuf_adds(&b, sep);
		sbuf_addf(&b, "%s %s%s%s", marks[r->state], r->id, r->note && *r->note ? ": " : "",
			  r->note ? r->note : "");
	}
	return sbuf_take(&b);
}

/* Say that a lock of a killed run was taken over (old: its text, or NULL
 * when there was none); frees old. */
void flow_note_takeover(const struct event_sink *ev, char *old)
{
	if (!old)
		return;
	char *line = text_clean(xstrdup(old), false);
	event_log(ev, EV_WARN, "took over the lock of a run that is gone: %s", line);
	free(line), free(old);
}

int flow_lock_profile(const struct profile *p, const char *flow, const struct event_sink *ev,
		      struct err *e)
{
	if (!p->backup.dir)
		return 0;
	char *old = NULL;
	int taken = lock_profile_acquire(p->backup.dir, p->name, flow, &old, e);
	if (taken < 0)
		return -1;
	if (taken == 1)   /* this process's own run holds it (a restore's safety backup) */
		return 0;
	flow_note_takeover(ev, old);
	if (recover_profile(p, ev, NULL, e) < 0) {
		lock_profile_release(p->backup.dir, p->name);
		return -1;
	}
	flow_sweep_leftovers(p->backup.dir, ev);
	if (p->app.root)
		flow_sweep_leftovers(p->app.root, ev);
	return 0;
}

char *flow_private_dir(const char *parent, const char *name, struct err *e)
{
	char *dir = xasprintf("%s/%s-%d-XXXXXX", parent, name, (int)getpid());
	if (mkdtemp(dir))
		return dir;
	err_set(e, ERR_FAILED, "cannot create a work directory in %s: %s", parent, strerror(errno));
	free(dir);
	return NULL;
}

/* The pid in ".ferry-<kind>-<pid>-XXXXXX", 0 when name is not one. */
static long leftover_pid(const char *name)
{
	static const char *const kinds[] = {".ferry-staging-", ".ferry-restore-files-", ".ferry-restore-"};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		size_t n = strlen(kinds[i]);
		if (strncmp(name, kinds[i], n) != 0)
			continue;
		char *end = NULL;
		long pid = strtol(name + n, &end, 10);
		return end && *end == '-' && strlen(end) == 7 && pid > 0 ? pid : 0;
	}
	return 0;
}

void flow_sweep_leftovers(const char *dir, const struct event_sink *ev)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		long pid = leftover_pid(de->d_name);
		if (!pid || (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		fsx_rm_rf(path);
		event_log(ev, EV_WARN, "removed %s, left by a killed run", path);
		free(path);
	}
	closedir(d);
}

void flow_unlock_profile(const struct profile *p)
{
	if (p->backup.dir)
		lock_profile_release(p->backup.dir, p->name);
}
