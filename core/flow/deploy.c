/* flow_deploy — ship a new release: restore point, migrations, restart,
 * health checks, and a way back when any of it fails. A table of steps
 * (core/step.h): preflight → lock → restore-point → pre_deploy →
 * migrations → restart → health → post_deploy, and the log whatever
 * happened.
 *
 * With an ssh section in the profile every command runs on that host (the
 * restore point and migrations by the ferry there, with this profile on
 * stdin); without one, here. Health URLs are checked from here. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "fsx.h"
#include "flow/backup.h"
#include "flow/deploy.h"
#include "flow/flow.h"
#include "host.h"
#include "http.h"
#include "lock.h"
#include "migrate_db.h"
#include "remote.h"
#include "ssh/ssh.h"
#include "step.h"

struct deploy_ctx {
	const struct profile *p;
	const struct deploy_opts *o;
	struct deploy_result *r;
	struct err *e;
	const struct event_sink *ev;
	double started;
	time_t started_wall;
	sshc_conn *ssh;
	host *host;               /* where the commands run */
	char *profile_json;       /* this profile as written, for the remote ferry */
	struct strv restart;      /* the restart commands */
	bool locked;
	bool past_restore_point;
	char *rollback_line;      /* what the rollback commands did, for the summary */
};

/* The restart commands: the profile's, else the orchestrator's default. */
static int restart_commands(const struct profile *p, struct strv *out, struct err *e)
{
	const char *orch = p->services.orchestrator ? p->services.orchestrator : "custom";
	for (size_t i = 0; i < p->services.restart.n; i++)
		strv_push(out, p->services.restart.v[i]);
	if (out->n)
		return 0;
	if (strcmp(orch, "docker") == 0)
		strv_push(out, "docker compose up -d --build");
	else if (strcmp(orch, "pm2") == 0)
		strv_push(out, "pm2 restart all");
	if (out->n)
		return 0;
	err_set(e, ERR_PROFILE, "profile %s: services.restart is empty and orchestrator %s has no default",
		p->name, orch);
	return err_hint(e, "list the commands, e.g. \"restart\": [\"systemctl restart myapp\"]");
}

/* --- running commands here or there ---------------------------------------- */

/* Each command on the deploy's host (here or there), in app.root. */
static int run_commands(struct deploy_ctx *c, const struct strv *cmds, const char *flow_env)
{
	char *env_profile = xasprintf("FERRY_PROFILE=%s", c->p->name);
	const char *env[] = {env_profile, flow_env, NULL};
	struct host_run_opts ho = {.cwd = c->p->has_app ? c->p->app.root : c->p->dir, .env = env,
				   .events = c->ev, .cancel = c->o->cancel};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < cmds->n; i++) {
		if (host_is_local(c->host))
			event_log(c->ev, EV_INFO, "$ %s", cmds->v[i]);
		else
			event_log(c->ev, EV_INFO, "[%s] $ %s", sshc_host(c->ssh), cmds->v[i]);
		rc = host_run(c->host, cmds->v[i], &ho, c->e);
	}
	free(env_profile);
	return rc;
}

static int profile_as_written(struct deploy_ctx *c)
{
	json_t *all = json_load_file(c->p->file, 0, NULL);
	json_t *mine = json_object_get(all, c->p->name);
	json_t *wrap = json_object();
	if (mine)
		json_object_set(wrap, c->p->name, mine);
	c->profile_json = json_dumps(wrap, JSON_COMPACT);
	json_decref(wrap);
	json_decref(all);
	return mine && c->profile_json ? 0 : err_set(c->e, ERR_PROFILE, "cannot read profile %s from %s",
						      c->p->name, c->p->file);
}

/* --- preflight --------------------------------------------------------------- */

static int prepare(void *ctx, struct err *e)
{
	struct deploy_ctx *c = ctx;
	if (restart_commands(c->p, &c->restart, e) < 0)
		return -1;
	if (!c->p->has_ssh) {
		c->host = host_local();
		return 0;
	}
	struct sshc_connect_opts so = {.accept_new_host_key = c->o->accept_new_host_key,
				       .confirm_new_key = c->o->confirm_host_key,
				       .confirm_ud = c->o->hostkey_ud, .events = c->ev};
	c->ssh = sshc_connect(c->p, &so, e);
	if (!c->ssh || profile_as_written(c) < 0)
		return -1;
	c->host = host_over_ssh(c->ssh);
	c->r->remote = true;
	return 0;
}

static const char *where(const struct deploy_ctx *c)
{
	return c->host ? host_describe(c->host) : "this machine";
}

static char *plan_title(void *ctx)
{
	const struct deploy_ctx *c = ctx;
	return xasprintf("deploy %s on %s", c->p->name, where(c));
}

static char *preflight_note(void *ctx)
{
	return xstrdup(where(ctx));
}

/* --- steps --------------------------------------------------------------------- */

static char *lock_detail(void *ctx)
{
	const struct deploy_ctx *c = ctx;
	return xasprintf("%s/%s", c->p->backup.dir, LOCK_FILE);
}

static int step_lock(void *ctx, struct step_run *sr, struct err *e)
{
	struct deploy_ctx *c = ctx;
	char *old = NULL;
	if (lock_acquire(c->ssh, c->p->backup.dir, "deploy", c->o->break_lock, &old, e) < 0)
		return -1;
	c->locked = true;
	flow_note_takeover(step_events(sr), old);
	step_note(sr, "%s", where(c));
	return STEP_DONE;
}

static char *restore_command(const struct deploy_ctx *c, const char *bundle)
{
	return xasprintf("%sferry restore %s --profile %s --yes", c->ssh ? "on the target: " : "",
			 bundle, c->p->name);
}

static struct remote_ferry remote_of(const struct deploy_ctx *c)
{
	return (struct remote_ferry){.ssh = c->ssh,
				     .path = c->p->ssh.ferry_path ? c->p->ssh.ferry_path : "ferry",
				     .profiles_json = c->profile_json, .profile = c->p->name};
}

/* `ferry backup` there; its steps show here as restore-point/<id>. */
static int remote_restore_point(struct deploy_ctx *c)
{
	struct remote_ferry rf = remote_of(c);
	struct remote_run_opts ro = {.events = c->ev, .step_prefix = "restore-point",
				     .cancel = c->o->cancel};
	json_t *res = NULL;
	struct remote_backup rb = {0};
	int rc = remote_ferry_run(&rf, "backup --type pre-deploy --no-prune --json", &ro, &res, c->e);
	if (rc == 0 && !res)
		rc = err_set(c->e, ERR_FAILED, "the restore point backup on %s printed no result",
			     sshc_target(c->ssh));
	if (rc == 0)
		rc = remote_backup_parse(res, &rb, c->e);
	json_decref(res);
	if (rc == 0)
		c->r->restore_point = xstrdup(rb.file);
	remote_backup_done(&rb);
	return rc;
}

static int local_restore_point(struct deploy_ctx *c)
{
	struct step_child child;
	struct backup_opts bo = {.type = "pre-deploy", .no_prune = true, .cancel = c->o->cancel,
				 .skip_missing_paths = true,
				 .events = step_child_sink(&child, c->ev, "restore-point")};
	struct backup_result br;
	int rc = backup_run(c->p, &bo, &br, c->e);
	if (rc == 0)
		c->r->restore_point = xstrdup(br.path);
	backup_result_done(&br);
	return rc;
}

static char *restore_point_detail(void *ctx)
{
	const struct deploy_ctx *c = ctx;
	if (c->o->skip_backup)
		return xstrdup("skipped (--skip-backup)");
	return xasprintf("type pre-deploy, in %s", c->p->backup.dir);
}

static int step_restore_point(void *ctx, struct step_run *sr, struct err *e)
{
	struct deploy_ctx *c = ctx;
	c->past_restore_point = true;
	if (c->o->skip_backup) {
		step_note(sr, "--skip-backup");
		return STEP_SKIPPED;
	}
	if ((c->ssh ? remote_restore_point(c) : local_restore_point(c)) < 0)
		return err_prefix(e, "restore point");
	c->r->restore_command = restore_command(c, c->r->restore_point);
	step_note(sr, "%s", c->r->restore_point);
	return STEP_DONE;
}

static bool has_pre_hooks(void *ctx)
{
	return ((struct deploy_ctx *)ctx)->p->hooks.pre_deploy.n > 0;
}

static bool has_post_hooks(void *ctx)
{
	return ((struct deploy_ctx *)ctx)->p->hooks.post_deploy.n > 0;
}

static char *pre_hooks_detail(void *ctx)
{
	return xasprintf("%zu command(s)", ((struct deploy_ctx *)ctx)->p->hooks.pre_deploy.n);
}

static char *post_hooks_detail(void *ctx)
{
	return xasprintf("%zu command(s)", ((struct deploy_ctx *)ctx)->p->hooks.post_deploy.n);
}

static int run_hooks(struct deploy_ctx *c, const char *which, const struct strv *cmds)
{
	if (run_commands(c, cmds, "FERRY_FLOW=deploy") < 0)
		return err_prefix(c->e, "%s hook", which);
	return STEP_DONE;
}

static int step_pre_hooks(void *ctx, struct step_run *sr, struct err *e)
{
	struct deploy_ctx *c = ctx;
	(void)sr, (void)e;
	return run_hooks(c, "pre_deploy", &c->p->hooks.pre_deploy);
}

static int step_post_hooks(void *ctx, struct step_run *sr, struct err *e)
{
	struct deploy_ctx *c = ctx;
	(void)sr, (void)e;
	return run_hooks(c, "post_deploy", &c->p->hooks.post_deploy);
}

static bool has_migrations(const struct deploy_ctx *c)
{
	return c->p->migrations.command || c->p->migrations.dir;
}

static char *migrations_detail(void *ctx)
{
	const struct deploy_ctx *c = ctx;
	if (!has_migrations(c))
		return xstrdup("none in the profile");
	return xstrdup(c->p->migrations.command ? c->p->migrations.command : c->p->migrations.dir);
}

static int step_migrations(void *ctx, struct step_run *sr, struct err *e)
{
	struct deploy_ctx *c = ctx;
	if (!has_migrations(c)) {
		step_note(sr, "no migrations in the profile");
		return STEP_SKIPPED;
	}
	int rc;
	if (c->ssh) {
		struct remote_ferry rf = remote_of(c);
		struct remote_run_opts ro = {.events = c->ev, .cancel = c->o->cancel};
		json_t *res = NULL;
		rc = remote_ferry_run(&rf, "db migrate", &ro, &res, e);
		json_decref(res);
	} else {
		rc = migrate_db_up(c->p, NULL, c->ev, c->o->cancel, e);
	}
	return rc < 0 ? err_prefix(e, "migrations") : STEP_DONE;
}

static char *restart_detail(void *ctx)
{
	return strv_join(&((struct deploy_ctx *)ctx)->restart, "; ");
}

static int step_restart(void *ctx, struct step_run *sr, struct err *e)
{
	struct deploy_ctx *c = ctx;
	(void)e;
	if (run_commands(c, &c->restart, "FERRY_FLOW=deploy") < 0)
		return -1;
	if (c->p->services.orchestrator)
		step_note(sr, "%s", c->p->services.orchestrator);
	return STEP_DONE;
}

static char *health_detail(void *ctx)
{
	const struct profile *p = ((struct deploy_ctx *)ctx)->p;
	if (p->nhealth == 0)
		return xstrdup("no health URLs in the profile");
	return xasprintf("%zu URL(s), up to %d tries each", p->nhealth, p->health[0].retries);
}

static int step_health(void *ctx, struct step_run *sr, struct err *e)
{
	struct deploy_ctx *c = ctx;
	if (c->p->nhealth == 0) {
		step_note(sr, "no health URLs in the profile");
		return STEP_SKIPPED;
	}
	for (size_t i = 0; i < c->p->nhealth; i++)
		if (http_wait_healthy(&c->p->health[i], c->ev, c->o->cancel, e) < 0)
			return -1;
	step_note(sr, "%zu URL(s) healthy", c->p->nhealth);
	return STEP_DONE;
}

/* After a failure past the restore point: the profile's rollback commands,
 * and the exact command that goes back to before the deploy. */
static void failed(void *ctx, const char *step, struct err *e)
{
	struct deploy_ctx *c = ctx;
	(void)step;
	if (!c->past_restore_point)
		return;
	if (c->p->services.rollback.n) {
		event_step_start(c->ev, "rollback", "run the profile's rollback commands");
		struct err re = {0};
		struct deploy_ctx quiet = *c;
		quiet.e = &re;
		if (run_commands(&quiet, &c->p->services.rollback, "FERRY_FLOW=rollback") == 0) {
			c->r->rolled_back = true;
			event_step_done(c->ev, "rollback", NULL);
			c->rollback_line = xstrdup("✔ rollback commands ran");
		} else {
			event_step_fail(c->ev, "rollback", re.msg);
			c->rollback_line = xasprintf("✖ rollback: %s", re.msg);
		}
	}
	if (c->r->restore_command) {
		char *old = xstrdup(e->hint);
		err_hint(e, "%s%sto go back to before the deploy: %s", old, old[0] ? "; " : "",
			 c->r->restore_command);
		free(old);
	}
}

/* --- log ------------------------------------------------------------------------ */

static void write_log(struct deploy_ctx *c, const struct flow_report *rep, const char *status,
		      const char *error)
{
	if (fsx_mkdir_p(c->p->log_dir, 0700, NULL) < 0)
		return;
	char *stamp = util_stamp(c->started_wall);
	char *when = util_iso_time(c->started_wall);
	c->r->log_file = xasprintf("%s/deploy_log.json", c->p->log_dir);
	c->r->summary_file = xasprintf("%s/deploy_%s_%s.txt", c->p->log_dir, c->p->name, stamp);
	free(stamp);
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:o, s:f}", "status", status,
		"started_at", when, "env", c->p->name, "where", c->ssh ? sshc_target(c->ssh) : "local",
		"restore_point", c->r->restore_point ? json_string(c->r->restore_point) : json_null(),
		"rolled_back", c->r->rolled_back, "error", error ? json_string(error) : json_null(),
		"duration_s", util_now() - c->started);
	flow_json_log_append(c->r->log_file, rec, NULL);
	json_decref(rec);
	char *steps = flow_report_text(rep, "\n  ");
	char *lines = c->rollback_line ? xasprintf("%s\n  %s", steps, c->rollback_line) : xstrdup(steps);
	free(steps);
	c->r->summary = xasprintf("ferry deploy %s: %s\n  started %s, %.1f s, on %s\n  %s\n%s%s%s%s%s",
		c->p->name, status, when, util_now() - c->started, where(c),
		lines, error ? "  error: " : "", error ? error : "", error ? "\n" : "",
		error && c->r->restore_command ? "  to go back: " : "",
		error && c->r->restore_command ? c->r->restore_command : "");
	free(lines);
	free(when);
	flow_write_text(c->r->summary_file, c->r->summary, NULL);
}

static int step_log(void *ctx, struct step_run *sr, struct err *e)
{
	struct deploy_ctx *c = ctx;
	(void)e;
	const struct err *failure = step_failure(sr);
	write_log(c, step_report(sr), failure ? "failed" : "success", failure ? failure->msg : NULL);
	step_note(sr, "%s", c->r->log_file ? c->r->log_file : "no log directory");
	return STEP_DONE;
}

static char *log_detail(void *ctx)
{
	return xasprintf("%s/deploy_log.json", ((struct deploy_ctx *)ctx)->p->log_dir);
}

/* --- the flow ------------------------------------------------------------------ */

static const struct step deploy_steps[] = {
	{.id = "lock", .title = "take the deploy lock", .detail = lock_detail, .run = step_lock},
	{.id = "restore-point", .title = "back up as a restore point", .detail = restore_point_detail,
	 .run = step_restore_point, .asks = true},
	{.id = "pre_deploy", .title = "run pre_deploy hooks", .applies = has_pre_hooks,
	 .detail = pre_hooks_detail, .run = step_pre_hooks, .destructive = true},
	{.id = "migrations", .title = "run the schema migrations", .detail = migrations_detail,
	 .run = step_migrations, .destructive = true},
	{.id = "restart", .title = "restart services", .detail = restart_detail, .run = step_restart,
	 .destructive = true},
	{.id = "health", .title = "health checks", .detail = health_detail, .run = step_health},
	{.id = "post_deploy", .title = "run post_deploy hooks", .applies = has_post_hooks,
	 .detail = post_hooks_detail, .run = step_post_hooks},
};

static const struct step deploy_log_step = {.id = "log", .title = "write the deploy log",
					    .detail = log_detail, .run = step_log};

static const struct flow_def deploy_flow = {
	.name = "deploy",
	.steps = deploy_steps,
	.nsteps = sizeof deploy_steps / sizeof deploy_steps[0],
	.prepare = prepare,
	.title = plan_title,
	.preflight_note = preflight_note,
	.failed = failed,
	.finally = &deploy_log_step,
};

static void ctx_done(struct deploy_ctx *c)
{
	if (c->locked)
		lock_release(c->ssh, c->p->backup.dir);
	host_free(c->host);
	sshc_free(c->ssh);
	free(c->profile_json);
	free(c->rollback_line);
	strv_done(&c->restart);
}

int deploy_run(const struct profile *p, const struct deploy_opts *o, struct deploy_result *r,
	       struct err *e)
{
	memset(r, 0, sizeof *r);
	struct deploy_ctx c = {.p = p, .o = o, .r = r, .e = e, .ev = o->events};
	c.started = util_now();
	c.started_wall = time(NULL);
	struct flow_run_opts ro = {.events = o->events, .cancel = o->cancel, .yes = true};
	int rc = flow_run(&deploy_flow, &c, &ro, NULL, e);
	ctx_done(&c);
	r->duration_s = util_now() - c.started;
	return rc;
}

int deploy_plan(const struct profile *p, const struct deploy_opts *o, struct plan *plan,
		struct err *e)
{
	struct deploy_result r = {0};
	struct deploy_ctx c = {.p = p, .o = o, .r = &r, .e = e, .ev = o->events};
	int rc = flow_plan(&deploy_flow, &c, plan, e);
	ctx_done(&c);
	deploy_result_done(&r);
	return rc;
}

void deploy_result_done(struct deploy_result *r)
{
	free(r->restore_point), free(r->restore_command);
	free(r->log_file), free(r->summary_file), free(r->summary);
	memset(r, 0, sizeof *r);
}
