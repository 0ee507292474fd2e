/* cmd_deploy — `ferry deploy --env NAME`. */
#include <jansson.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "flow/deploy.h"

struct deploy_args {
	struct deploy_opts o;
};

static const struct cmd_option options[] = {
	{.name = "env", .kind = CMD_STRING, .value = CMD_V_PROFILE, .metavar = "NAME",
	 .in_cli = true, .field = offsetof(struct cli, profile_name),
	 .help = "the profile to deploy (as --profile)"},
	{.name = "skip-backup", .kind = CMD_FLAG, .field = offsetof(struct deploy_args, o.skip_backup),
	 .help = "no restore point before the deploy"},
	CMD_USE(cmd_opt_break_lock, struct deploy_args, o.break_lock),
	CMD_USE(cmd_opt_accept_new_host_key, struct deploy_args, o.accept_new_host_key),
	{0},
};

/* The core options from the command line and the terminal. */
static struct deploy_opts *opts_of(struct cmd_run *r)
{
	struct deploy_args *a = r->args;
	a->o.yes = r->c->yes;
	a->o.events = r->events;
	a->o.cancel = r->cancel;
	a->o.confirm_host_key = cli_ask_host_key;
	a->o.hostkey_ud = r->c;
	return &a->o;
}

/* The summary and the log, or the result as JSON. */
static void print_result(const struct cli *c, const struct deploy_result *r)
{
	if (!c->json) {
		fputs(r->summary ? r->summary : "", stdout);
		printf("log: %s\n", r->log_file ? r->log_file : "-");
		return;
	}
	cli_print_json(json_pack("{s:s, s:o, s:b, s:s, s:s, s:f}", "status", "success",
		"restore_point", r->restore_point ? json_string(r->restore_point) : json_null(),
		"remote", r->remote, "log", r->log_file ? r->log_file : "",
		"summary", r->summary_file ? r->summary_file : "", "duration_s", r->duration_s));
}

/* --dry-run: deploy_plan. */
static int deploy_plan_hook(struct cmd_run *r, struct plan *plan, struct err *e)
{
	return deploy_plan(r->p, opts_of(r), plan, e);
}

/* deploy_run; on failure the summary goes to stderr. */
static int deploy_exec(struct cmd_run *r, struct err *e)
{
	struct deploy_result res;
	int rc = deploy_run(r->p, opts_of(r), &res, e);
	if (rc == 0)
		print_result(r->c, &res);
	else if (res.summary && !r->c->json)
		fprintf(stderr, "%s\n", res.summary);
	deploy_result_done(&res);
	return rc;
}

const struct cmd_entry cmd_deploy_entry = {
	.name = "deploy",
	.summary = "restore point, migrations, restart, health checks, rollback on failure",
	.description =
		"--env names the profile. Steps: take the lock (the same as migrate); a\n"
		"bundle of type pre-deploy as the restore point; pre_deploy hooks; schema\n"
		"migrations; restart services (services.restart, else `docker compose up\n"
		"-d --build` / `pm2 restart all` by orchestrator), output streamed; health\n"
		"checks with retries; post_deploy hooks; deploy_log.json and a summary in\n"
		"log_dir. With an ssh section everything runs on that host. When a step\n"
		"after the restore point fails, services.rollback runs and the exact\n"
		"`ferry restore` of the restore point is printed; the exit code is never 0.\n",
	.options = options,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_DRY_RUN | CMD_JSON | CMD_YES | CMD_PROGRESS | CMD_CANCEL | CMD_REMOTE_PROFILE,
	.json_help = "progress as JSON lines and a final JSON result on stdout",
	.args_size = sizeof(struct deploy_args),
	.plan = deploy_plan_hook,
	.exec = deploy_exec,
};
