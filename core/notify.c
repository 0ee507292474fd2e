/* notify — an alert through the profile's command and webhook. */
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsx.h"
#include "http.h"
#include "proc.h"
#include "util.h"

#ifndef FERRY_VERSION
#define FERRY_VERSION "dev"
#endif

#define WEBHOOK_ATTEMPTS 4   /* the first and 3 retries */

const char *notify_status_name(enum notify_status s)
{
	return s == NOTIFY_FAILURE ? "failure" : s == NOTIFY_WARNING ? "warning" : "success";
}

bool notify_wants(const struct profile *p, enum notify_status s)
{
	return p->has_notify && strv_contains(&p->notify.on, notify_status_name(s));
}

json_t *notify_alert(const struct profile *p, const char *event, enum notify_status s, const char *summary,
		     const json_t *result)
{
	char *host = util_hostname();
	char *when = util_iso_time(time(NULL));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "text", summary, "event", event,
			      "profile", p->name, "status", notify_status_name(s), "host", host, "time", when,
			      "ferry_version", FERRY_VERSION, "result", result ? result : json_null());
	free(host);
	free(when);
	return o;
}

/* Where the command runs: app.root when it is a directory, else the
 * profile's directory. */
static const char *command_dir(const struct profile *p)
{
	struct stat st;
	if (p->has_app && p->app.root && stat(p->app.root, &st) == 0 && S_ISDIR(st.st_mode))
		return p->app.root;
	return p->dir;
}

struct line_log {
	const struct event_sink *ev;
};

/* The command's output as log lines. */
static void log_line(void *ud, const char *line, bool is_stderr)
{
	const struct line_log *ll = ud;
	if (*line)
		event_log(ll->ev, is_stderr ? EV_WARN : EV_INFO, "notify command: %s", line);
}

/* notify.command with the alert on stdin (a private temporary file). */
static int run_command(const struct profile *p, const json_t *alert, const char *text,
		       const struct event_sink *ev, volatile sig_atomic_t *cancel, struct err *e)
{
	const char *tmpdir = getenv("TMPDIR");
	char *path = xasprintf("%s/ferry-alert-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	int fd = mkstemp(path);
	int rc = fd >= 0 ? 0 : err_set(e, ERR_FAILED, "notify command: cannot create %s: %m", path);
	if (fd >= 0) {
		close(fd);
		rc = fsx_write_atomic(path, text, strlen(text), 0600, e);
	}
	char *env_event = xasprintf("FERRY_EVENT=%s", json_string_value(json_object_get(alert, "event")));
	char *env_profile = xasprintf("FERRY_PROFILE=%s", p->name);
	char *env_status = xasprintf("FERRY_STATUS=%s", json_string_value(json_object_get(alert, "status")));
	const char *env[] = {env_event, env_profile, env_status, NULL};
	struct line_log ll = {ev};
	struct proc_opts po = {.cwd = command_dir(p), .env = env, .stdin_path = path, .stdout_lines = true,
			       .on_line = log_line, .ud = &ll, .cancel = cancel, .timeout_s = p->notify.timeout_s};
	if (rc == 0)
		rc = proc_run_shell(p->notify.command, &po, e);
	if (rc < 0 && e->kind != ERR_INTERRUPTED) {
		e->kind = ERR_FAILED;
		err_prefix(e, "notify command");
	}
	unlink(path);
	free(path), free(env_event), free(env_profile), free(env_status);
	return rc;
}

int notify_send(const struct profile *p, const json_t *alert, const struct event_sink *ev,
		volatile sig_atomic_t *cancel, struct notify_report *rep, struct err *e)
{
	memset(rep, 0, sizeof *rep);
	char *text = json_dumps(alert, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc = 0;
	if (p->notify.command) {
		struct err ce = {0};
		rep->command_ran = true;
		rep->command_ok = run_command(p, alert, text, ev, cancel, &ce) == 0;
		if (!rep->command_ok) {
			event_log(ev, EV_WARN, "%s", ce.msg);
			*e = ce;
			rc = -1;
		}
	}
	if (p->notify.webhook_url) {
		struct err we = {0};
		struct http_post req = {.url = p->notify.webhook_url, .headers = &p->notify.webhook_headers,
					.body = text, .timeout_s = p->notify.timeout_s,
					.attempts = WEBHOOK_ATTEMPTS, .what = "notify webhook"};
		rep->webhook_ran = true;
		rep->webhook_ok = http_post_json(&req, ev, cancel, &rep->http_status, &we) == 0;
		if (!rep->webhook_ok) {
			event_log(ev, EV_WARN, "%s", we.msg);
			if (rc == 0)
				*e = we;
			rc = -1;
		}
	}
	free(text);
	return rc;
}
