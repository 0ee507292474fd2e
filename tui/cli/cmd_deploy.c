/* cmd_deploy — `ferry deploy --env NAME`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "flow.h"

static int run_deploy(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_deploy = {
	"deploy", "restore point, migrations, restart, health checks, rollback on failure",
	"usage: ferry deploy --env NAME [--dry-run] [--yes] [--skip-backup] [--break-lock]\n"
	"                    [--accept-new-host-key] [--json]\n"
	"\n"
	"--env names the profile. Steps: take the lock (the same as migrate); a\n"
	"bundle of type pre-deploy as the restore point; pre_deploy hooks; schema\n"
	"migrations; restart services (services.restart, else `docker compose up\n"
	"-d --build` / `pm2 restart all` by orchestrator), output streamed; health\n"
	"checks with retries; post_deploy hooks; deploy_log.json and a summary in\n"
	"log_dir. With an ssh section everything runs on that host. When a step\n"
	"after the restore point fails, services.rollback runs and the exact\n"
	"`ferry restore` of the restore point is printed; the exit code is never 0.\n",
	run_deploy};

enum { OPT_ENV = OPT_COMMAND_BASE, OPT_DRY_RUN, OPT_SKIP_BACKUP, OPT_BREAK, OPT_ACCEPT };

static void print_result(const struct cli *c, const struct deploy_result *r)
{
	if (!c->json) {
		fputs(r->summary ? r->summary : "", stdout);
		printf("log: %s\n", r->log_file ? r->log_file : "-");
		return;
	}
	json_t *o = json_pack("{s:s, s:o, s:b, s:s, s:s, s:f}", "status", "success",
		"restore_point", r->restore_point ? json_string(r->restore_point) : json_null(),
		"remote", r->remote, "log", r->log_file ? r->log_file : "",
		"summary", r->summary_file ? r->summary_file : "", "duration_s", r->duration_s);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

static int do_deploy(struct cli *c, const struct profile *p, const struct deploy_opts *given,
		     bool dry_run, struct err *e)
{
	struct deploy_opts run = *given;
	struct deploy_opts *o = &run;
	if (dry_run) {
		struct plan plan;
		if (deploy_plan(p, o, &plan, e) < 0)
			return -1;
		plan_print(&plan, stdout);
		printf("dry run: nothing was done\n");
		plan_done(&plan);
		return 0;
	}
	struct cli_render *render = cli_render_new(c);
	struct event_sink sink = cli_render_sink(render);
	o->yes = c->yes;
	o->events = &sink;
	o->cancel = cli_cancel_flag();
	o->confirm_host_key = cli_ask_host_key;
	o->hostkey_ud = c;
	struct deploy_result r;
	int rc = deploy_run(p, o, &r, e);
	cli_render_free(render);
	if (rc == 0)
		print_result(c, &r);
	else if (r.summary && !c->json)
		fprintf(stderr, "%s\n", r.summary);
	deploy_result_done(&r);
	return rc;
}

static int run_deploy(struct cli *c, int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
		CLI_COMMON_OPTIONS,
		{"env", required_argument, NULL, OPT_ENV},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"skip-backup", no_argument, NULL, OPT_SKIP_BACKUP},
		{"break-lock", no_argument, NULL, OPT_BREAK},
		{"accept-new-host-key", no_argument, NULL, OPT_ACCEPT},
		{0, 0, 0, 0}};
	struct deploy_opts o = {0};
	bool dry_run = false;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cli_common_option(c, &command_deploy, opt, optarg, e);
		if (r == 2)
			return 0;
		if (r == 1)
			continue;
		switch (opt) {
		case OPT_ENV: c->profile_name = optarg; break;
		case OPT_DRY_RUN: dry_run = true; break;
		case OPT_SKIP_BACKUP: o.skip_backup = true; break;
		case OPT_BREAK: o.break_lock = true; break;
		case OPT_ACCEPT: o.accept_new_host_key = true; break;
		default: return cli_bad_option(&command_deploy, argv, e);
		}
	}
	if (optind < argc) {
		err_set(e, ERR_USAGE, "deploy: unexpected argument \"%s\"", argv[optind]);
		return err_hint(e, "ferry deploy --env NAME");
	}
	profile_file *pf = cli_load_profiles(c, e);
	const struct profile *p = pf ? cli_pick_profile(c, pf, e) : NULL;
	int rc = p ? do_deploy(c, p, &o, dry_run, e) : -1;
	profile_file_free(pf);
	return rc;
}
