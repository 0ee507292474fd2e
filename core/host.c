/* host — commands here (core/proc) or over ssh (sshc_exec), one interface. */
#include "host.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "util.h"

#define CAPTURE_MAX (16u * 1024 * 1024)

struct host {
	sshc_conn *ssh;            /* NULL = this machine */
};

/* This machine. */
host *host_local(void)
{
	return xcalloc(1, sizeof(host));
}

/* The server behind c. */
host *host_over_ssh(sshc_conn *c)
{
	host *h = xcalloc(1, sizeof *h);
	h->ssh = c;
	return h;
}

/* Free h (not its connection); NULL-safe. */
void host_free(host *h)
{
	free(h);
}

/* "this machine" / "user@host:port". */
const char *host_describe(const host *h)
{
	return h->ssh ? sshc_target(h->ssh) : "this machine";
}

/* Whether h is this machine. */
bool host_is_local(const host *h)
{
	return !h->ssh;
}

/* The connection, NULL for this machine. */
sshc_conn *host_ssh(const host *h)
{
	return h->ssh;
}

/* An env entry is KEY=VALUE with a shell-safe KEY. */
static int check_env(const char *const *env, struct err *e)
{
	for (const char *const *kv = env; kv && *kv; kv++) {
		const char *p = *kv;
		bool ok = isalpha((unsigned char)*p) || *p == '_';
		while (ok && *p && *p != '=') {
			ok = isalnum((unsigned char)*p) || *p == '_';
			p++;
		}
		if (!ok || *p != '=') {
			err_set(e, ERR_USAGE, "environment entry \"%s\" is not KEY=VALUE", *kv);
			return err_hint(e, "names are letters, digits and '_', not starting with a digit");
		}
	}
	return 0;
}

/* What a run collects on the way: events, stdout when captured, and the
 * last stderr line for the message. */
struct run {
	const host *h;
	const struct host_run_opts *o;
	struct sbuf *capture;      /* NULL = stdout lines are events */
	char last_err[512];
	bool truncated;
	struct sshc_lines out, errs;   /* over ssh: the two streams' splitters */
};

/* One output line: an event, or captured. */
static void on_line(struct run *r, const char *line, bool is_stderr)
{
	if (!is_stderr && r->capture) {
		if (r->capture->len + strlen(line) + 1 > CAPTURE_MAX) {
			r->truncated = true;
			return;
		}
		sbuf_adds(r->capture, line);
		sbuf_addc(r->capture, '\n');
		return;
	}
	if (!*line)
		return;
	if (is_stderr)
		snprintf(r->last_err, sizeof r->last_err, "%s", line);
	enum event_level lv = is_stderr ? EV_WARN : EV_INFO;
	if (r->h->ssh)
		event_log(r->o->events, lv, "[%s] %s", sshc_host(r->h->ssh), line);
	else
		event_log(r->o->events, lv, "%s", line);
}

/* --- this machine ------------------------------------------------------------- */

/* proc's line callback. */
static void local_line(void *ud, const char *line, bool is_stderr)
{
	on_line(ud, line, is_stderr);
}

/* proc names the program ("/bin/sh: timed out"): name the command. */
static void name_command(const char *command, struct err *e)
{
	static const char sh[] = "/bin/sh";
	if (!str_starts(e->msg, sh) || (e->msg[strlen(sh)] != ' ' && e->msg[strlen(sh)] != ':'))
		return;
	char rest[ERR_MSG_MAX];
	snprintf(rest, sizeof rest, "%s", e->msg + strlen(sh));
	char hint[ERR_HINT_MAX];
	snprintf(hint, sizeof hint, "%s", e->hint);
	err_set(e, e->kind, "command `%s`%s", command, rest);
	if (hint[0])
		err_hint(e, "%s", hint);
}

/* `sh -c command` here. */
static int run_local(struct run *r, const char *command, struct err *e)
{
	const struct host_run_opts *o = r->o;
	struct proc_opts po = {.cwd = o->cwd, .env = o->env, .stdout_lines = true,
			       .on_line = local_line, .ud = r, .cancel = o->cancel,
			       .timeout_s = o->timeout_s};
	const char *argv[] = {"/bin/sh", "-c", command, NULL};
	proc *p = proc_spawn(argv, &po, e);
	if (!p) {
		name_command(command, e);
		return -1;
	}
	int status = proc_wait(p, e);
	if (o->exit_status)
		*o->exit_status = status;
	int rc = 0;
	if (status < 0) {
		name_command(command, e);
		rc = -1;
	} else if (status > 0) {
		char line[512];
		proc_last_line(p, line, sizeof line);
		rc = err_set(e, ERR_FAILED, "command `%s` exited with status %d%s%s", command, status,
			     line[0] ? ": " : "", line);
	}
	proc_free(p);
	return rc;
}

/* --- over ssh ------------------------------------------------------------------ */

/* A line of the remote stdout. */
static void remote_out_line(void *ud, const char *line)
{
	on_line(ud, line, false);
}

/* A line of the remote stderr. */
static void remote_err_line(void *ud, const char *line)
{
	on_line(ud, line, true);
}

/* sshc_exec's stdout chunks, to the stdout splitter. */
static void remote_stdout(void *ud, const char *data, size_t len)
{
	struct run *r = ud;
	sshc_lines_feed(&r->out, data, len);
}

/* sshc_exec's stderr chunks, to the stderr splitter. */
static void remote_stderr(void *ud, const char *data, size_t len)
{
	struct run *r = ud;
	sshc_lines_feed(&r->errs, data, len);
}

/* "cd 'DIR' && exec env 'K=V'... sh -c 'CMD'"; caller frees. */
static char *remote_command(const char *command, const struct host_run_opts *o)
{
	struct sbuf b = {0};
	if (o->cwd) {
		char *q = sshc_quote(o->cwd);
		sbuf_addf(&b, "cd %s && ", q);
		free(q);
	}
	sbuf_adds(&b, "exec ");
	if (o->env && o->env[0]) {
		sbuf_adds(&b, "env");
		for (const char *const *kv = o->env; *kv; kv++) {
			char *q = sshc_quote(*kv);
			sbuf_addf(&b, " %s", q);
			free(q);
		}
		sbuf_addc(&b, ' ');
	}
	char *q = sshc_quote(command);
	sbuf_addf(&b, "sh -c %s", q);
	free(q);
	return sbuf_take(&b);
}

/* `sh -c command` on the server. */
static int run_remote(struct run *r, const char *command, struct err *e)
{
	const struct host_run_opts *o = r->o;
	r->out = (struct sshc_lines){.on_line = remote_out_line, .ud = r};
	r->errs = (struct sshc_lines){.on_line = remote_err_line, .ud = r};
	struct sshc_buf cap = {0};
	struct sshc_exec_opts eo = {.on_stderr = remote_stderr, .ud = r, .cancel = o->cancel,
				    .timeout_s = o->timeout_s, .capture_max = CAPTURE_MAX};
	if (r->capture)
		eo.capture_stdout = &cap;
	else
		eo.on_stdout = remote_stdout;
	char *full = remote_command(command, o);
	int status = -1;
	int rc = sshc_exec(r->h->ssh, full, &eo, &status, e);
	sshc_lines_flush(&r->out);
	sshc_lines_flush(&r->errs);
	free(full);
	if (r->capture && cap.data)
		sbuf_add(r->capture, cap.data, cap.len);
	r->truncated = cap.truncated;
	sshc_buf_done(&cap);
	if (o->exit_status)
		*o->exit_status = rc == 0 ? status : -1;
	if (rc == 0 && status != 0)
		rc = err_set(e, ERR_FAILED, "command `%s` on %s exited with status %d%s%s", command,
			     sshc_target(r->h->ssh), status, r->last_err[0] ? ": " : "", r->last_err);
	return rc;
}

/* --- both ---------------------------------------------------------------------- */

/* The run, here or there. */
static int run(host *h, const char *command, const struct host_run_opts *o, struct sbuf *capture,
	       struct err *e)
{
	static const struct host_run_opts defaults = {0};
	o = o ? o : &defaults;
	if (o->exit_status)
		*o->exit_status = -1;
	if (check_env(o->env, e) != 0)
		return -1;
	struct run *r = xcalloc(1, sizeof *r);
	*r = (struct run){.h = h, .o = o, .capture = capture};
	int rc = h->ssh ? run_remote(r, command, e) : run_local(r, command, e);
	if (r->truncated)
		event_log(o->events, EV_WARN, "the output of `%s` was cut after %u bytes", command,
			  CAPTURE_MAX);
	free(r);
	return rc;
}

/* Run command on h (see host.h). */
int host_run(host *h, const char *command, const struct host_run_opts *o, struct err *e)
{
	return run(h, command, o, NULL, e);
}

/* Run command on h, its stdout into *out (see host.h). */
int host_capture(host *h, const char *command, const struct host_run_opts *o, char **out,
		 struct err *e)
{
	struct sbuf b = {0};
	int rc = run(h, command, o, &b, e);
	*out = sbuf_take(&b);
	return rc;
}
