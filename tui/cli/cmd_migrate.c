/* cmd_migrate — `ferry migrate --target NAME`: move to a new server. */
#include <jansson.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "flow/migrate.h"

struct migrate_args {
	struct migrate_opts o;
};

static const struct cmd_option options[] = {
	CMD_USE_CLI(cmd_opt_target),
	{.name = "from", .kind = CMD_STRING, .value = CMD_V_PROFILE, .metavar = "NAME",
	 .in_cli = true, .field = offsetof(struct cli, from_name),
	 .help = "this machine's profile (default: --profile, $FERRY_PROFILE, or the\n"
		 "only other profile)"},
	CMD_USE(cmd_opt_accept_new_host_key, struct migrate_args, o.accept_new_host_key),
	CMD_USE(cmd_opt_break_lock, struct migrate_args, o.break_lock),
	{0},
};

/* The core options from the command line and the terminal. */
static struct migrate_opts *opts_of(struct cmd_run *r)
{
	struct migrate_args *a = r->args;
	a->o.yes = r->c->yes;
	a->o.events = r->events;
	a->o.cancel = r->cancel;
	a->o.confirm = cli_confirm_plan;
	a->o.confirm_ud = r->c;
	a->o.confirm_host_key = cli_ask_host_key;
	a->o.hostkey_ud = r->c;
	return &a->o;
}

/* The summary and where the log is, or the result as JSON. */
static void print_result(const struct cli *c, const struct migrate_result *r)
{
	if (!c->json) {
		fputs(r->summary ? r->summary : "", stdout);
		printf("log: %s\nsummary: %s\n", r->log_file ? r->log_file : "-",
		       r->summary_file ? r->summary_file : "-");
		return;
	}
	json_t *skipped = json_array();
	for (size_t i = 0; i < r->skipped.n; i++)
		json_array_append_new(skipped, json_string(r->skipped.v[i]));
	cli_print_json(json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:f}", "status", "success",
		"bundle", r->bundle, "remote_bundle", r->remote_bundle,
		"registry", r->registry_file ? json_string(r->registry_file) : json_null(),
		"log", r->log_file, "summary", r->summary_file, "skipped", skipped,
		"duration_s", r->duration_s));
}

/* --dry-run: migrate_plan (connects to nothing). */
static int migrate_plan_hook(struct cmd_run *r, struct plan *plan, struct err *e)
{
	return migrate_plan(r->p, r->target, opts_of(r), plan, e);
}

/* migrate_run; on failure the summary goes to stderr. */
static int migrate_exec(struct cmd_run *r, struct err *e)
{
	struct migrate_result res;
	int rc = migrate_run(r->p, r->target, opts_of(r), &res, e);
	if (rc == 0)
		print_result(r->c, &res);
	else if (res.summary && !r->c->json)
		fputs(res.summary, stderr);
	migrate_result_done(&res);
	return rc;
}

const struct cmd_entry cmd_migrate_entry = {
	.name = "migrate",
	.summary = "move the application to a new server over SSH, and check both sides",
	.description =
		"--from is this machine's profile; --target the new server's profile, which\n"
		"needs an ssh section. Steps: preflight both ends and lock the target; back\n"
		"up here; copy the bundle (resumable, SHA-256 checked); `ferry restore` on\n"
		"the target with its settings sent on stdin, progress shown live; rewrite the\n"
		"connection registry; restart the target's services; check health URLs,\n"
		"schema revision and every table's rows on both sides; write\n"
		"migration_log.json and a summary in log_dir. A failure names the step\n"
		"and the state of each side; running the same command again continues.\n",
	.options = options,
	.need = CMD_NEED_PAIR,
	.flags = CMD_DRY_RUN | CMD_JSON | CMD_YES | CMD_PROGRESS | CMD_CANCEL,
	.json_help = "progress as JSON lines and a final JSON result on stdout",
	.yes_help = "confirm without asking (copying ferry there too)",
	.args_size = sizeof(struct migrate_args),
	.plan = migrate_plan_hook,
	.exec = migrate_exec,
};
