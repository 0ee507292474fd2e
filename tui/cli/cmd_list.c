/* cmd_list — `ferry list` and `ferry prune`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "cli/cli.h"
#include "flow.h"
#include "flow_util.h"

static int run_list(struct cli *c, int argc, char **argv, struct err *e);
static int run_prune(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_list = {
	"list", "list the bundles in the backup directory, newest first",
	"usage: ferry list [--profile NAME] [--all] [--json]\n"
	"\n"
	"Shows the bundles in the profile's backup.dir, newest first: date (UTC),\n"
	"type, size, schema revision and verified state (from `ferry verify`).\n"
	"  --all   bundles of every profile in that directory\n",
	run_list};

const struct cli_command command_prune = {
	"prune", "delete old bundles by the profile's retention policy",
	"usage: ferry prune [--profile NAME] [--dry-run] [--json]\n"
	"\n"
	"Keeps the newest backup.keep.last bundles, the newest bundle of each of\n"
	"the last keep.daily days, keep.weekly ISO weeks and keep.monthly months\n"
	"(scheduled bundles), and manual / pre-* bundles younger than\n"
	"keep.manual_days days; deletes the rest. Prints each bundle kept or\n"
	"deleted and the rule that decided it. Runs after each successful backup.\n"
	"  --dry-run   decide and print, delete nothing\n",
	run_prune};

enum { OPT_ALL = OPT_COMMAND_BASE, OPT_DRY = OPT_COMMAND_BASE + 1 };

char *cli_resolve_bundle(const char *arg, const struct profile *p, struct err *e)
{
	if (access(arg, F_OK) == 0)
		return xstrdup(arg);
	if (p && !strchr(arg, '/')) {
		char *path = xasprintf("%s/%s", p->backup.dir, arg);
		if (access(path, F_OK) == 0)
			return path;
		free(path);
	}
	err_set(e, ERR_USAGE, "no bundle \"%s\"%s%s", arg, p ? " in " : "", p ? p->backup.dir : "");
	err_hint(e, "give a path, or a name from `ferry list`");
	return NULL;
}

static int parse_flag(struct cli *c, const struct cli_command *cmd, int argc, char **argv,
		      int flag_opt, const char *flag_name, bool *flag, struct err *e)
{
	const struct option longopts[] = {
		CLI_COMMON_OPTIONS, {flag_name, no_argument, NULL, flag_opt}, {0, 0, 0, 0}};
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cli_common_option(c, cmd, opt, optarg, e);
		if (r == 2)
			return 1;
		if (r == 1)
			continue;
		if (opt != flag_opt)
			return cli_bad_option(cmd, argv, e);
		*flag = true;
	}
	if (optind < argc) {
		err_set(e, ERR_USAGE, "%s: unexpected argument \"%s\"", cmd->name, argv[optind]);
		return err_hint(e, "`ferry help %s`", cmd->name);
	}
	return 0;
}

static void format_time(time_t t, char *out, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void print_list_json(const struct bundle_list *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++) {
		const struct bundle_info *b = &l->v[i];
		char when[32];
		format_time(b->created, when, sizeof when);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o}",
			"name", b->name, "path", b->path, "profile", b->profile, "created", when,
			"type", b->type, "size_bytes", (json_int_t)b->size, "schema_revision", b->revision,
			"verified", b->verified ? json_string(b->verified) : json_null()));
	}
	json_dumpf(a, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(a);
}

static void print_list_text(const struct bundle_list *l, const char *dir)
{
	if (l->n == 0) {
		printf("no bundles in %s\n", dir);
		return;
	}
	printf("%-19s  %-11s  %10s  %-14s  %-22s  %s\n", "created (UTC)", "type", "size",
	       "revision", "verified", "name");
	for (size_t i = 0; i < l->n; i++) {
		const struct bundle_info *b = &l->v[i];
		char when[32], sz[32];
		format_time(b->created, when, sizeof when);
		printf("%-19s  %-11s  %10s  %-14s  %-22.22s  %s\n", when, b->type,
		       util_human_bytes(b->size, sz, sizeof sz), b->revision,
		       b->verified ? b->verified : "not verified", b->name);
	}
}

static int run_list(struct cli *c, int argc, char **argv, struct err *e)
{
	bool all = false;
	int r = parse_flag(c, &command_list, argc, argv, OPT_ALL, "all", &all, e);
	if (r != 0)
		return r < 0 ? -1 : 0;
	profile_file *pf = cli_load_profiles(c, e);
	const struct profile *p = pf ? cli_pick_profile(c, pf, e) : NULL;
	if (!p) {
		profile_file_free(pf);
		return -1;
	}
	struct bundle_list l;
	int rc = flow_list_bundles(p->backup.dir, all ? NULL : p->name, &l, e);
	if (rc == 0) {
		if (c->json)
			print_list_json(&l);
		else
			print_list_text(&l, p->backup.dir);
	}
	flow_bundle_list_done(&l);
	profile_file_free(pf);
	return rc;
}

static void print_prune(const struct cli *c, const struct prune_report *pr, bool dry_run)
{
	if (c->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < pr->n; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "file", pr->v[i].file,
				"action", pr->v[i].keep ? "keep" : dry_run ? "would delete" : "delete",
				"rule", pr->v[i].rule));
		json_dumpf(a, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(a);
		return;
	}
	for (size_t i = 0; i < pr->n; i++)
		printf("%-12s %s  (%s)\n",
		       pr->v[i].keep ? "keep" : dry_run ? "would delete" : "delete", pr->v[i].file,
		       pr->v[i].rule);
	if (pr->n == 0)
		printf("no bundles to consider\n");
}

static int run_prune(struct cli *c, int argc, char **argv, struct err *e)
{
	bool dry_run = false;
	int r = parse_flag(c, &command_prune, argc, argv, OPT_DRY, "dry-run", &dry_run, e);
	if (r != 0)
		return r < 0 ? -1 : 0;
	profile_file *pf = cli_load_profiles(c, e);
	const struct profile *p = pf ? cli_pick_profile(c, pf, e) : NULL;
	if (!p) {
		profile_file_free(pf);
		return -1;
	}
	struct prune_report pr = {0};
	int rc = prune_run(p, NULL, dry_run, &pr, e);
	if (rc == 0)
		print_prune(c, &pr, dry_run);
	prune_report_done(&pr);
	profile_file_free(pf);
	return rc;
}
