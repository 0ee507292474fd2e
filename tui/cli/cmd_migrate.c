/* cmd_migrate — `ferry migrate --target NAME`: move to a new server. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "flow.h"

static int run_migrate(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_migrate = {
	"migrate", "move the application to a new server over SSH, and check both sides",
	"usage: ferry migrate --target NAME [--from NAME] [--dry-run] [--yes]\n"
	"                     [--accept-new-host-key] [--break-lock] [--json]\n"
	"\n"
	"--from is this machine's profile (default: --profile, $FERRY_PROFILE, or the\n"
	"only other profile); --target the new server's profile, which needs an ssh\n"
	"section. Steps: preflight both ends and lock the target; back up here;\n"
	"copy the bundle (resumable, SHA-256 checked); `ferry restore` on the target\n"
	"with its settings sent on stdin, progress shown live; rewrite the\n"
	"connection registry; restart the target's services; check health URLs,\n"
	"schema revision and every table's rows on both sides; write\n"
	"migration_log.json and a summary in log_dir. A failure names the step\n"
	"and the state of each side; running the same command again continues.\n"
	"\n"
	"  --dry-run               print the plan, connect to nothing\n"
	"  --yes                   confirm without asking (copying ferry there too)\n"
	"  --accept-new-host-key   record the target's host key when it is unknown\n"
	"                          (a changed key is always refused)\n"
	"  --break-lock            remove a stale lock left by a dead run\n",
	run_migrate};

enum { OPT_TARGET = OPT_COMMAND_BASE, OPT_FROM, OPT_DRY_RUN, OPT_ACCEPT, OPT_BREAK };

struct migrate_args {
	const char *target, *from;
	bool dry_run;
	struct migrate_opts o;
};

static int parse_args(struct cli *c, struct migrate_args *a, int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
		CLI_COMMON_OPTIONS,
		{"target", required_argument, NULL, OPT_TARGET},
		{"from", required_argument, NULL, OPT_FROM},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"accept-new-host-key", no_argument, NULL, OPT_ACCEPT},
		{"break-lock", no_argument, NULL, OPT_BREAK},
		{0, 0, 0, 0}};
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cli_common_option(c, &command_migrate, opt, optarg, e);
		if (r == 2)
			return 1;
		if (r == 1)
			continue;
		switch (opt) {
		case OPT_TARGET: a->target = optarg; break;
		case OPT_FROM: a->from = optarg; break;
		case OPT_DRY_RUN: a->dry_run = true; break;
		case OPT_ACCEPT: a->o.accept_new_host_key = true; break;
		case OPT_BREAK: a->o.break_lock = true; break;
		default: return cli_bad_option(&command_migrate, argv, e);
		}
	}
	if (!a->target || optind < argc) {
		err_set(e, ERR_USAGE, "migrate: %s", a->target ? "unexpected argument" : "--target NAME is required");
		return err_hint(e, "ferry migrate --target NAME; `ferry profiles list` shows the names");
	}
	return 0;
}

/* --from, else --profile / FERRY_PROFILE, else the only profile that is not the target. */
static const struct profile *pick_from(const struct cli *c, const struct migrate_args *a,
				       profile_file *pf, const struct profile *to, struct err *e)
{
	const char *name = a->from ? a->from : c->profile_name ? c->profile_name : getenv("FERRY_PROFILE");
	if (name && *name)
		return profile_file_get(pf, name, e);
	const struct profile *only = NULL;
	for (size_t i = 0; i < profile_file_count(pf); i++) {
		const struct profile *p = profile_file_at(pf, i);
		if (p == to)
			continue;
		if (only) {
			err_set(e, ERR_PROFILE, "migrate: which profile is this machine?");
			return err_hint(e, "pass --from NAME"), NULL;
		}
		only = p;
	}
	if (!only)
		err_set(e, ERR_PROFILE, "migrate: the profiles file has no profile for this machine besides %s",
			to->name);
	return only;
}

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
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:o, s:f}", "status", "success",
		"bundle", r->bundle, "remote_bundle", r->remote_bundle,
		"registry", r->registry_file ? json_string(r->registry_file) : json_null(),
		"log", r->log_file, "summary", r->summary_file, "skipped", skipped,
		"duration_s", r->duration_s);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

static int show_plan(const struct cli *c, const struct profile *from, const struct profile *to,
		     const struct migrate_args *a, struct err *e)
{
	struct plan plan;
	if (migrate_plan(from, to, &a->o, &plan, e) < 0)
		return -1;
	if (c->json) {
		char *text = plan_to_json(&plan);
		printf("%s\n", text);
		free(text);
	} else {
		plan_print(&plan, stdout);
		printf("dry run: nothing was done\n");
	}
	plan_done(&plan);
	return 0;
}

static int do_migrate(struct cli *c, const struct profile *from, const struct profile *to,
		      struct migrate_args *a, struct err *e)
{
	if (a->dry_run)
		return show_plan(c, from, to, a, e);
	struct cli_render *render = cli_render_new(c);
	struct event_sink sink = cli_render_sink(render);
	a->o.yes = c->yes;
	a->o.events = &sink;
	a->o.cancel = cli_cancel_flag();
	a->o.confirm = cli_confirm_plan;
	a->o.confirm_ud = c;
	a->o.confirm_host_key = cli_ask_host_key;
	a->o.hostkey_ud = c;
	struct migrate_result r;
	int rc = migrate_run(from, to, &a->o, &r, e);
	cli_render_free(render);
	if (rc == 0)
		print_result(c, &r);
	else if (r.summary && !c->json)
		fputs(r.summary, stderr);
	migrate_result_done(&r);
	return rc;
}

static int run_migrate(struct cli *c, int argc, char **argv, struct err *e)
{
	struct migrate_args a = {0};
	int rc = parse_args(c, &a, argc, argv, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	profile_file *pf = cli_load_profiles(c, e);
	const struct profile *to = pf ? profile_file_get(pf, a.target, e) : NULL;
	const struct profile *from = to ? pick_from(c, &a, pf, to, e) : NULL;
	if (from && from == to)
		rc = err_set(e, ERR_USAGE, "migrate: --from and --target are the same profile (%s)", to->name);
	else
		rc = from ? do_migrate(c, from, to, &a, e) : -1;
	profile_file_free(pf);
	return rc;
}
