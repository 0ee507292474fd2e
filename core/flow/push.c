/* flow_push — a bundle to the target profile's backup.dir over SSH, as a
 * step table: preflight, connect, upload (see flow_push.h). */
#include "flow/push.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssh/ssh.h"
#include "storage/storage.h"
#include "util.h"

enum { STEP_CONNECT, STEP_UPLOAD, NSTEPS };

struct push_ctx {
	const struct push_opts *o;
	struct push_result *r;
	const struct profile *p;
	char *shown;               /* the bundle as shown: absolute when it resolves */
	char *remote;              /* its path on the server */
	/* The table lives here: the upload's title names the host as the
	 * connection resolved it, known only once connected. */
	struct step steps[NSTEPS];
	struct flow_def def;
	char *upload_title;
	sshc_conn *conn;
	storage *store;
};

/* "user@host:port" as the profile says (before ssh_config); caller frees. */
static char *profile_target(const struct profile *p)
{
	if (p->ssh.user && *p->ssh.user)
		return xasprintf("%s@%s:%d", p->ssh.user, p->ssh.host, p->ssh.port > 0 ? p->ssh.port : 22);
	return xasprintf("%s:%d", p->ssh.host, p->ssh.port > 0 ? p->ssh.port : 22);
}

/* The upload's title for host: "copy FILE to HOST:REMOTE". */
static void set_upload_title(struct push_ctx *c, const char *host)
{
	free(c->upload_title);
	c->upload_title = xasprintf("copy %s to %s:%s", c->shown, host, c->remote);
	c->steps[STEP_UPLOAD].title = c->upload_title;
}

/* Options resolved: backup.dir usable on the remote side, the paths. */
static int push_prepare(void *ctx, struct err *e)
{
	struct push_ctx *c = ctx;
	const struct profile *p = c->p;
	const char *dir = p->backup.dir;
	if (!dir || dir[0] != '/') {
		err_set(e, ERR_PROFILE, "profile \"%s\": backup.dir must be an absolute path to be "
			"used on the remote side (it is \"%s\")", p->name, dir ? dir : "");
		return err_hint(e, "set backup.dir in the target profile, e.g. \"/var/backups/ferry\"");
	}
	if (!c->shown) {
		char *abs = realpath(c->o->bundle, NULL);
		c->shown = abs ? abs : xstrdup(c->o->bundle);
		c->remote = sshc_remote_join(dir, c->o->bundle);
	}
	set_upload_title(c, p->has_ssh && p->ssh.host ? p->ssh.host : "?");
	return 0;
}

/* "push FILE to PROFILE". */
static char *push_title(void *ctx)
{
	const struct push_ctx *c = ctx;
	return xasprintf("push %s to %s", c->shown, c->p->name);
}

/* The target has somewhere to connect to. */
static int connect_check(void *ctx, struct err *e)
{
	const struct profile *p = ((const struct push_ctx *)ctx)->p;
	if (p->has_ssh && p->ssh.host && *p->ssh.host)
		return 0;
	err_set(e, ERR_PROFILE, "profile \"%s\" has no ssh section (ssh.host)", p->name);
	return err_hint(e, "add \"ssh\": {\"host\": ..., \"user\": ...} to the profile");
}

/* user@host:port. */
static char *connect_detail(void *ctx)
{
	return profile_target(((const struct push_ctx *)ctx)->p);
}

/* Connect (host key checked against known_hosts) and open the storage. */
static int connect_run(void *ctx, struct step_run *sr, struct err *e)
{
	struct push_ctx *c = ctx;
	const struct push_opts *o = c->o;
	struct sshc_connect_opts co = {
		.accept_new_host_key = o->accept_new_host_key,
		.confirm_new_key = o->confirm_host_key,
		.confirm_ud = o->hostkey_ud,
		.events = step_events(sr),
	};
	c->conn = sshc_connect(c->p, &co, e);
	if (!c->conn)
		return -1;
	c->r->host = xstrdup(sshc_target(c->conn));
	c->store = storage_open_sftp(c->conn, c->p->backup.dir, e);
	if (!c->store)
		return -1;
	c->r->storage = xstrdup(storage_describe(c->store));
	set_upload_title(c, sshc_host(c->conn));
	step_note(sr, "%s", sshc_target(c->conn));
	return STEP_DONE;
}

/* The bundle opens and is a regular file (the upload's own message). */
static int upload_check(void *ctx, struct err *e)
{
	const char *path = ((const struct push_ctx *)ctx)->o->bundle;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_FAILED, "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	close(fd);
	if (!regular)
		return err_set(e, ERR_FAILED, "%s is not a regular file", path);
	return 0;
}

/* "FILE → sftp://user@host:port/dir/NAME (resumable, sha256 on both sides)". */
static char *upload_detail(void *ctx)
{
	const struct push_ctx *c = ctx;
	char *where = profile_target(c->p);
	char *d = xasprintf("%s -> sftp://%s%s (resumable, sha256 checked on both sides)", c->shown,
			    where, c->remote);
	free(where);
	return d;
}

/* The copy through the storage: .part, resume, remote hash, rename. */
static int upload_run(void *ctx, struct step_run *sr, struct err *e)
{
	struct push_ctx *c = ctx;
	struct push_result *r = c->r;
	struct storage_put_opts po = {.events = step_events(sr), .step = "upload",
				      .cancel = step_cancel(sr)};
	struct storage_put_result res;
	int rc = storage_put(c->store, c->o->bundle, &po, &res, e);
	r->bytes = res.bytes;
	r->resumed_from = res.resumed_from;
	r->sent = res.sent;
	r->seconds = res.seconds;
	r->mb_per_s = res.seconds > 0 ? (double)res.sent / res.seconds / 1e6 : 0;
	if (rc != 0) {
		if (res.sent > 0 && (e->kind == ERR_INTERRUPTED || e->kind == ERR_SSH))
			err_hint(e, "run the same push again: it resumes after the bytes already copied");
		return -1;
	}
	memcpy(r->sha256, res.sha256, sizeof r->sha256);
	step_note(sr, "verified, %.0f MB/s", r->mb_per_s);
	return STEP_DONE;
}

static const struct step push_steps[NSTEPS] = {
	[STEP_CONNECT] = {.id = "connect", .title = "connect to the target", .check = connect_check,
			  .detail = connect_detail, .run = connect_run},
	[STEP_UPLOAD] = {.id = "upload", .title = "copy the bundle to the target",
			 .check = upload_check, .detail = upload_detail, .run = upload_run},
};

/* A context over o filling r. */
static void ctx_init(struct push_ctx *c, const struct push_opts *o, struct push_result *r)
{
	memset(c, 0, sizeof *c);
	c->o = o;
	c->r = r;
	c->p = o->target;
	memcpy(c->steps, push_steps, sizeof c->steps);
	c->def = (struct flow_def){.name = "push", .steps = c->steps, .nsteps = NSTEPS,
				   .prepare = push_prepare, .title = push_title};
}

/* Free what the context holds (the connection last: the storage uses it). */
static void ctx_done(struct push_ctx *c)
{
	storage_close(c->store);
	sshc_free(c->conn);
	free(c->upload_title);
	free(c->shown);
	free(c->remote);
}

/* Free a result's strings and report and reset it; NULL-safe. */
void push_result_done(struct push_result *r)
{
	if (!r)
		return;
	free(r->file);
	free(r->host);
	free(r->remote);
	free(r->storage);
	flow_report_done(&r->report);
	memset(r, 0, sizeof *r);
}

/* The plan (see flow_push.h). */
int push_plan(const struct push_opts *o, struct plan *plan, struct err *e)
{
	struct push_result r = {0};
	struct push_ctx c;
	ctx_init(&c, o, &r);
	int rc = flow_plan(&c.def, &c, plan, e);
	ctx_done(&c);
	push_result_done(&r);
	return rc;
}

/* The run (see flow_push.h). */
int push_run(const struct push_opts *o, struct push_result *r, struct err *e)
{
	struct push_result r_local = {0};
	r = r ? r : &r_local;
	memset(r, 0, sizeof *r);
	struct push_ctx c;
	ctx_init(&c, o, r);
	struct flow_run_opts fo = {.events = o->events, .cancel = o->cancel};
	int rc = flow_run(&c.def, &c, &fo, &r->report, e);
	if (c.shown) {
		r->file = xstrdup(c.shown);
		r->remote = xstrdup(c.remote);
	}
	ctx_done(&c);
	push_result_done(&r_local);
	return rc;
}
