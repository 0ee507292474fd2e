/* flow_deploy — ship a new release: restore point, migrations, restart,
 * health checks, and a way back when any of it fails.
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
#include "flow.h"
#include "flow_util.h"
#include "http.h"
#include "lock.h"
#include "migrate_db.h"
#include "ssh/ssh.h"

struct deploy_ctx {
	const struct profile *p;
	const struct deploy_opts *o;
	struct deploy_result *r;
	struct err *e;
	const struct event_sink *ev;
	char step[32];
	double started;
	time_t started_wall;
	sshc_conn *ssh;
	char *profile_json;       /* this profile as written, for the remote ferry */
	bool locked;
	bool past_restore_point;
	struct strv report;
};

static void step_start(struct deploy_ctx *c, const char *id, const char *title)
{
	snprintf(c->step, sizeof c->step, "%s", id);
	event_step_start(c->ev, id, title);
}

static void step_done(struct deploy_ctx *c, const char *note)
{
	event_step_done(c->ev, c->step, note);
	char *line = xasprintf("✔ %s%s%s", c->step, note ? ": " : "", note ? note : "");
	strv_push(&c->report, line);
	free(line);
	c->step[0] = '\0';
}

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

struct remote_log {
	const struct deploy_ctx *c;
	struct sshc_lines lines;
};

static void remote_line(void *ud, const char *line)
{
	const struct remote_log *rl = ud;
	event_log(rl->c->ev, EV_INFO, "[%s] %s", sshc_host(rl->c->ssh), line);
}

static int run_remote(struct deploy_ctx *c, const char *cmd, const char *stdin_text)
{
	char *root = sshc_quote(c->p->has_app ? c->p->app.root : "/");
	char *full = xasprintf("cd %s 2>/dev/null; %s", root, cmd);
	struct remote_log rl = {.c = c, .lines = {.on_line = remote_line}};
	rl.lines.ud = &rl;
	struct sshc_exec_info info = {0};
	struct sshc_exec_opts o = {.stdin_buf = stdin_text, .stdin_len = stdin_text ? strlen(stdin_text) : 0,
				   .on_stdout = sshc_lines_feed, .on_stderr = sshc_lines_feed,
				   .ud = &rl.lines, .cancel = c->o->cancel, .info = &info};
	int status = 0;
	int rc = sshc_exec(c->ssh, full, &o, &status, c->e);
	sshc_lines_flush(&rl.lines);
	if (rc == 0 && status != 0) {
		err_set(c->e, ERR_FAILED, "`%s` on %s exited with status %d", cmd, sshc_target(c->ssh), status);
		rc = info.stderr_tail[0] ? err_hint(c->e, "it said: %s", info.stderr_tail) : -1;
	}
	free(full);
	free(root);
	return rc;
}

static int run_commands(struct deploy_ctx *c, const struct strv *cmds, const char *flow_env)
{
	if (!c->ssh) {
		char *env_profile = xasprintf("FERRY_PROFILE=%s", c->p->name);
		const char *env[] = {env_profile, flow_env, NULL};
		int rc = flow_run_commands(cmds, c->p, env, c->ev, c->o->cancel, c->e);
		free(env_profile);
		return rc;
	}
	for (size_t i = 0; i < cmds->n; i++) {
		event_log(c->ev, EV_INFO, "[%s] $ %s", sshc_host(c->ssh), cmds->v[i]);
		if (run_remote(c, cmds->v[i], NULL) < 0)
			return -1;
	}
	return 0;
}

/* `ferry ARGS --profiles - --profile NAME` on the remote host. */
static char *remote_ferry_command(const struct deploy_ctx *c, const char *args)
{
	char *qf = sshc_quote(c->p->ssh.ferry_path ? c->p->ssh.ferry_path : "ferry");
	char *qn = sshc_quote(c->p->name);
	char *cmd = xasprintf("%s %s --profiles - --profile %s", qf, args, qn);
	free(qf), free(qn);
	return cmd;
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

/* --- steps --------------------------------------------------------------------- */

static int connect_and_lock(struct deploy_ctx *c)
{
	step_start(c, "lock", "take the deploy lock");
	if (c->p->has_ssh) {
		struct sshc_connect_opts so = {.accept_new_host_key = c->o->accept_new_host_key,
					       .confirm_new_key = c->o->confirm_host_key,
					       .confirm_ud = c->o->hostkey_ud, .events = c->ev};
		c->ssh = sshc_connect(c->p, &so, c->e);
		if (!c->ssh || profile_as_written(c) < 0)
			return -1;
		c->r->remote = true;
	}
	if (lock_acquire(c->ssh, c->p->backup.dir, "deploy", c->o->break_lock, c->e) < 0)
		return -1;
	c->locked = true;
	step_done(c, c->ssh ? sshc_target(c->ssh) : "this machine");
	return 0;
}

static char *restore_command(const struct deploy_ctx *c, const char *bundle)
{
	return xasprintf("%sferry restore %s --profile %s --yes", c->ssh ? "on the target: " : "",
			 bundle, c->p->name);
}

/* The bundle path from a remote `ferry backup --json` result line. */
static void remote_backup_line(void *ud, const char *line)
{
	char **path = ud;
	json_t *o = json_loads(line, 0, NULL);
	const char *file = json_string_value(json_object_get(o, "file"));
	if (file && json_object_get(o, "status")) {
		free(*path);
		*path = xstrdup(file);
	}
	json_decref(o);
}

static int remote_restore_point(struct deploy_ctx *c)
{
	char *cmd = remote_ferry_command(c, "backup --type pre-deploy --no-prune --json");
	char *path = NULL;
	struct sshc_lines lines = {.on_line = remote_backup_line, .ud = &path};
	struct sshc_exec_info info = {0};
	struct sshc_exec_opts o = {.stdin_buf = c->profile_json, .stdin_len = strlen(c->profile_json),
				   .on_stdout = sshc_lines_feed, .ud = &lines, .cancel = c->o->cancel,
				   .info = &info};
	int status = 0;
	int rc = sshc_exec(c->ssh, cmd, &o, &status, c->e);
	sshc_lines_flush(&lines);
	free(cmd);
	if (rc == 0 && (status != 0 || !path)) {
		char first[sizeof info.stderr_tail];
		memcpy(first, info.stderr_tail, sizeof first);
		first[strcspn(first, "\n")] = '\0';
		err_set(c->e, ERR_FAILED, "the restore point backup on %s failed (exit %d): %s",
			sshc_target(c->ssh), status, first);
		rc = -1;
	}
	if (rc == 0)
		c->r->restore_point = path;
	else
		free(path);
	return rc;
}

static int local_restore_point(struct deploy_ctx *c)
{
	struct backup_opts bo = {.type = "pre-deploy", .no_prune = true, .cancel = c->o->cancel,
				 .skip_missing_paths = true};
	struct backup_result br;
	int rc = backup_run(c->p, &bo, &br, c->e);
	if (rc == 0)
		c->r->restore_point = xstrdup(br.path);
	backup_result_done(&br);
	return rc;
}

static int restore_point(struct deploy_ctx *c)
{
	if (c->o->skip_backup) {
		event_step_skip(c->ev, "restore-point", "--skip-backup");
		return 0;
	}
	step_start(c, "restore-point", "back up as a restore point");
	if ((c->ssh ? remote_restore_point(c) : local_restore_point(c)) < 0)
		return err_prefix(c->e, "restore point");
	c->r->restore_command = restore_command(c, c->r->restore_point);
	step_done(c, c->r->restore_point);
	return 0;
}

static int hooks(struct deploy_ctx *c, const char *which, const struct strv *cmds)
{
	if (cmds->n == 0)
		return 0;
	char *title = xasprintf("run %s hooks", which);
	step_start(c, which, title);
	free(title);
	if (run_commands(c, cmds, "FERRY_FLOW=deploy") < 0)
		return err_prefix(c->e, "%s hook", which);
	step_done(c, NULL);
	return 0;
}

static int migrations(struct deploy_ctx *c)
{
	if (!c->p->migrations.command && !c->p->migrations.dir) {
		event_step_skip(c->ev, "migrations", "no migrations in the profile");
		return 0;
	}
	step_start(c, "migrations", "run the schema migrations");
	int rc;
	if (c->ssh) {
		char *cmd = remote_ferry_command(c, "db migrate");
		rc = run_remote(c, cmd, c->profile_json);
		free(cmd);
	} else {
		rc = migrate_db_up(c->p, NULL, c->ev, c->o->cancel, c->e);
	}
	if (rc < 0)
		return err_prefix(c->e, "migrations");
	step_done(c, NULL);
	return 0;
}

static int restart(struct deploy_ctx *c)
{
	struct strv cmds = {0};
	int rc = restart_commands(c->p, &cmds, c->e);
	if (rc == 0) {
		step_start(c, "restart", "restart services");
		rc = run_commands(c, &cmds, "FERRY_FLOW=deploy");
	}
	strv_done(&cmds);
	if (rc < 0)
		return -1;
	step_done(c, c->p->services.orchestrator);
	return 0;
}

static int health(struct deploy_ctx *c)
{
	if (c->p->nhealth == 0) {
		event_step_skip(c->ev, "health", "no health URLs in the profile");
		return 0;
	}
	step_start(c, "health", "health checks");
	for (size_t i = 0; i < c->p->nhealth; i++)
		if (http_wait_healthy(&c->p->health[i], c->ev, c->o->cancel, c->e) < 0)
			return -1;
	char note[64];
	snprintf(note, sizeof note, "%zu URL(s) healthy", c->p->nhealth);
	step_done(c, note);
	return 0;
}

/* After a failure past the restore point: the profile's rollback commands. */
static void roll_back(struct deploy_ctx *c)
{
	if (c->p->services.rollback.n == 0)
		return;
	event_step_start(c->ev, "rollback", "run the profile's rollback commands");
	struct err re = {0};
	struct deploy_ctx rc_ctx = *c;
	rc_ctx.e = &re;
	if (run_commands(&rc_ctx, &c->p->services.rollback, "FERRY_FLOW=rollback") == 0) {
		c->r->rolled_back = true;
		event_step_done(c->ev, "rollback", NULL);
		strv_push(&c->report, "✔ rollback commands ran");
	} else {
		event_step_fail(c->ev, "rollback", re.msg);
		char *line = xasprintf("✖ rollback: %s", re.msg);
		strv_push(&c->report, line);
		free(line);
	}
}

/* --- log ------------------------------------------------------------------------ */

static void write_log(struct deploy_ctx *c, const char *status, const char *error)
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
	char *lines = strv_join(&c->report, "\n  ");
	c->r->summary = xasprintf("ferry deploy %s: %s\n  started %s, %.1f s, on %s\n  %s\n%s%s%s%s%s",
		c->p->name, status, when, util_now() - c->started, c->ssh ? sshc_target(c->ssh) : "this machine",
		lines, error ? "  error: " : "", error ? error : "", error ? "\n" : "",
		error && c->r->restore_command ? "  to go back: " : "",
		error && c->r->restore_command ? c->r->restore_command : "");
	free(lines);
	free(when);
	flow_write_text(c->r->summary_file, c->r->summary, NULL);
}

/* --- the flow ------------------------------------------------------------------ */

static int deploy_steps(struct deploy_ctx *c)
{
	if (connect_and_lock(c) < 0 || restore_point(c) < 0)
		return -1;
	c->past_restore_point = true;
	if (hooks(c, "pre_deploy", &c->p->hooks.pre_deploy) < 0 || migrations(c) < 0)
		return -1;
	if (restart(c) < 0 || health(c) < 0)
		return -1;
	return hooks(c, "post_deploy", &c->p->hooks.post_deploy);
}

int deploy_run(const struct profile *p, const struct deploy_opts *o, struct deploy_result *r,
	       struct err *e)
{
	memset(r, 0, sizeof *r);
	struct deploy_ctx c = {.p = p, .o = o, .r = r, .e = e, .ev = o->events};
	c.started = util_now();
	c.started_wall = time(NULL);
	int rc = deploy_steps(&c);
	if (rc < 0) {
		const char *failed = c.step[0] ? c.step : "lock";
		event_step_fail(c.ev, failed, e->msg);
		char *line = xasprintf("✖ %s: %s", failed, e->msg);
		strv_push(&c.report, line);
		free(line);
		if (c.past_restore_point) {
			struct err saved = *e;
			roll_back(&c);
			*e = saved;
			if (r->restore_command)
				err_hint(e, "%s%sto go back to before the deploy: %s", saved.hint,
					 saved.hint[0] ? "; " : "", r->restore_command);
		}
	}
	write_log(&c, rc == 0 ? "success" : "failed", rc == 0 ? NULL : e->msg);
	if (c.locked)
		lock_release(c.ssh, p->backup.dir);
	sshc_free(c.ssh);
	free(c.profile_json);
	strv_done(&c.report);
	r->duration_s = util_now() - c.started;
	return rc;
}

int deploy_plan(const struct profile *p, const struct deploy_opts *o, struct plan *plan,
		struct err *e)
{
	struct strv cmds = {0};
	if (restart_commands(p, &cmds, e) < 0)
		return -1;
	char *where = p->has_ssh ? xasprintf("%s@%s:%d", p->ssh.user ? p->ssh.user : "?", p->ssh.host,
					      p->ssh.port)
				 : xstrdup("this machine");
	char *title = xasprintf("deploy %s on %s", p->name, where);
	plan_init(plan, title);
	plan_add(plan, "lock", "take the deploy lock", "%s/%s", p->backup.dir, LOCK_FILE);
	if (!o->skip_backup)
		plan_add(plan, "restore-point", "back up as a restore point", "type pre-deploy, in %s",
			 p->backup.dir);
	if (p->hooks.pre_deploy.n)
		plan_add(plan, "pre_deploy", "run pre_deploy hooks", "%zu command(s)", p->hooks.pre_deploy.n);
	if (p->migrations.command || p->migrations.dir)
		plan_add(plan, "migrations", "run the schema migrations", "%s",
			 p->migrations.command ? p->migrations.command : p->migrations.dir);
	char *joined = strv_join(&cmds, "; ");
	plan_add(plan, "restart", "restart services", "%s", joined);
	if (p->nhealth)
		plan_add(plan, "health", "health checks", "%zu URL(s), up to %d tries each", p->nhealth,
			 p->health[0].retries);
	if (p->hooks.post_deploy.n)
		plan_add(plan, "post_deploy", "run post_deploy hooks", "%zu command(s)", p->hooks.post_deploy.n);
	free(joined), free(title), free(where);
	strv_done(&cmds);
	return 0;
}

void deploy_result_done(struct deploy_result *r)
{
	free(r->restore_point), free(r->restore_command);
	free(r->log_file), free(r->summary_file), free(r->summary);
	memset(r, 0, sizeof *r);
}
