/* cmd_restore — `ferry restore` and `ferry rollback`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "cli/cli.h"
#include "flow.h"
#include "flow_util.h"

static int run_restore(struct cli *c, int argc, char **argv, struct err *e);
static int run_rollback(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_restore = {
	"restore", "restore a bundle: verify, safety backup, shadow database, row-count gate, swap",
	"usage: ferry restore [BUNDLE] [--profile NAME] [--yes] [--db-only | --files-only]\n"
	"                     [--schema-only | --data-only] [--jobs N] [--no-safety-backup]\n"
	"                     [--keep-previous N] [--migrate] [--dry-run] [--json]\n"
	"\n"
	"BUNDLE is a path or a name from `ferry list`; with none, on a terminal, pick\n"
	"one from the list. Nothing is changed before: the bundle is verified, the\n"
	"plan is shown and you type the database name (or pass --yes). Then a\n"
	"safety backup (type pre-restore), a restore into <db>_ferry_shadow, every\n"
	"table's row count checked against the manifest, and one transaction that\n"
	"renames <db> to <db>_prev_<YYYYMMDD_HHMMSS> and the shadow to <db>.\n"
	"\n"
	"  --yes               confirm without asking (needed without a terminal)\n"
	"  --db-only           only the database; --files-only: only the app files\n"
	"  --schema-only       restore the schema without rows\n"
	"  --data-only         the live database's schema with the bundle's rows\n"
	"  --jobs N            pg_restore parallel jobs (default: number of cores)\n"
	"  --no-safety-backup  skip the safety backup of what is there now\n"
	"  --keep-previous N   previous databases and file sets kept (default 1)\n"
	"  --migrate           run the profile's migrations afterwards\n"
	"  --dry-run           verify and show the plan, change nothing\n",
	run_restore};

const struct cli_command command_rollback = {
	"rollback", "swap the database and files of the last restore back",
	"usage: ferry rollback [--profile NAME] [--yes]\n"
	"\n"
	"Puts back what the last `ferry restore` of this profile replaced: the\n"
	"previous database (<db>_prev_...) becomes <db> again, the restored one is\n"
	"kept as <db>_rolledback_<ts>; app paths saved as <path>.prev-<ts> go back.\n",
	run_rollback};

enum {
	OPT_DB_ONLY = OPT_COMMAND_BASE, OPT_FILES_ONLY, OPT_SCHEMA_ONLY, OPT_DATA_ONLY, OPT_JOBS,
	OPT_NO_SAFETY, OPT_KEEP_PREVIOUS, OPT_MIGRATE, OPT_DRY_RUN
};

struct restore_args {
	struct restore_opts o;
	bool dry_run;
};

static int parse_restore_option(struct restore_args *a, int opt, const char *arg, struct err *e)
{
	switch (opt) {
	case OPT_DB_ONLY: a->o.db_only = true; return 0;
	case OPT_FILES_ONLY: a->o.files_only = true; return 0;
	case OPT_SCHEMA_ONLY: a->o.schema_only = true; return 0;
	case OPT_DATA_ONLY: a->o.data_only = true; return 0;
	case OPT_NO_SAFETY: a->o.no_safety_backup = true; return 0;
	case OPT_MIGRATE: a->o.migrate = true; return 0;
	case OPT_DRY_RUN: a->dry_run = true; return 0;
	case OPT_JOBS:
		a->o.jobs = atoi(arg);
		if (a->o.jobs < 1 || a->o.jobs > 64)
			return err_set(e, ERR_USAGE, "restore: --jobs expects 1-64, got \"%s\"", arg);
		return 0;
	case OPT_KEEP_PREVIOUS:
		a->o.keep_previous = atoi(arg);
		if (a->o.keep_previous < 1 || a->o.keep_previous > 100)
			return err_set(e, ERR_USAGE, "restore: --keep-previous expects 1-100, got \"%s\"", arg);
		return 0;
	default:
		return 1;
	}
}

static int parse_args(struct cli *c, struct restore_args *a, int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
		CLI_COMMON_OPTIONS,
		{"db-only", no_argument, NULL, OPT_DB_ONLY},
		{"files-only", no_argument, NULL, OPT_FILES_ONLY},
		{"schema-only", no_argument, NULL, OPT_SCHEMA_ONLY},
		{"data-only", no_argument, NULL, OPT_DATA_ONLY},
		{"jobs", required_argument, NULL, OPT_JOBS},
		{"no-safety-backup", no_argument, NULL, OPT_NO_SAFETY},
		{"keep-previous", required_argument, NULL, OPT_KEEP_PREVIOUS},
		{"migrate", no_argument, NULL, OPT_MIGRATE},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{0, 0, 0, 0}};
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cli_common_option(c, &command_restore, opt, optarg, e);
		if (r == 2)
			return 1;
		if (r == 1)
			continue;
		r = parse_restore_option(a, opt, optarg, e);
		if (r < 0)
			return err_hint(e, "`ferry help restore` lists the options");
		if (r > 0)
			return cli_bad_option(&command_restore, argv, e);
	}
	if (argc - optind > 1) {
		err_set(e, ERR_USAGE, "restore: unexpected argument \"%s\"", argv[optind + 1]);
		return err_hint(e, "ferry restore [BUNDLE] [options]");
	}
	return 0;
}

/* No BUNDLE on a terminal: number the bundles and read a choice. */
static char *pick_bundle(const struct cli *c, const struct profile *p, struct err *e)
{
	if (!c->stdin_tty) {
		err_set(e, ERR_USAGE, "restore: no BUNDLE given");
		return err_hint(e, "give a path or a name from `ferry list`"), NULL;
	}
	struct bundle_list l;
	if (flow_list_bundles(p->backup.dir, p->name, &l, e) < 0)
		return NULL;
	if (l.n == 0) {
		err_set(e, ERR_USAGE, "no bundles in %s", p->backup.dir);
		flow_bundle_list_done(&l);
		return err_hint(e, "make one with `ferry backup`, or give a path"), NULL;
	}
	for (size_t i = 0; i < l.n; i++) {
		char sz[32];
		fprintf(stderr, "%3zu) %s  %-11s %10s  %-14s %s\n", i + 1, l.v[i].name, l.v[i].type,
			util_human_bytes(l.v[i].size, sz, sizeof sz), l.v[i].revision,
			l.v[i].verified ? l.v[i].verified : "not verified");
	}
	fprintf(stderr, "restore which bundle? [1] ");
	char line[32] = "";
	if (!fgets(line, sizeof line, stdin))
		line[0] = '\0';
	size_t pick = line[0] == '\n' || !line[0] ? 1 : (size_t)strtoul(line, NULL, 10);
	char *path = pick >= 1 && pick <= l.n ? xstrdup(l.v[pick - 1].path) : NULL;
	if (!path)
		err_set(e, ERR_REFUSED, "no bundle picked");
	flow_bundle_list_done(&l);
	return path;
}

static json_t *tables_json(const struct restore_result *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < r->ntables; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I}", "schema", r->tables[i].schema,
			"table", r->tables[i].table, "expected", (json_int_t)r->tables[i].expected,
			"actual", (json_int_t)r->tables[i].actual));
	return a;
}

static void print_result(const struct cli *c, const struct restore_result *r)
{
	if (!c->json) {
		printf("restored %s: %zu tables, %lld rows checked, %.1f s\n", r->bundle, r->ntables,
		       (long long)r->total_rows, r->duration_s);
		if (r->safety_bundle)
			printf("  safety backup: %s\n", r->safety_bundle);
		if (r->previous_db)
			printf("  previous database kept as %s (`ferry rollback` swaps it back)\n", r->previous_db);
		for (size_t i = 0; i < r->previous_paths.n; i++)
			printf("  previous files kept as %s\n", r->previous_paths.v[i]);
		return;
	}
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:f}", "status", "success",
		"bundle", r->bundle, "tables_restored", (json_int_t)r->ntables,
		"total_rows", (json_int_t)r->total_rows, "tables", tables_json(r),
		"safety_bundle", r->safety_bundle ? json_string(r->safety_bundle) : json_null(),
		"previous_db", r->previous_db ? json_string(r->previous_db) : json_null(),
		"duration_s", r->duration_s);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

static int dry_run(struct cli *c, const struct profile *p, const char *bundle,
		   struct restore_args *a, struct err *e)
{
	struct plan plan;
	if (restore_plan(p, bundle, &a->o, &plan, e) < 0)
		return -1;
	if (c->json) {
		char *text = plan_to_json(&plan);
		printf("%s\n", text);
		free(text);
	} else {
		plan_print(&plan, stdout);
		printf("dry run: nothing was changed\n");
	}
	plan_done(&plan);
	return 0;
}

static int do_restore(struct cli *c, const struct profile *p, const char *arg,
		      struct restore_args *a, struct err *e)
{
	char *bundle = arg ? cli_resolve_bundle(arg, p, e) : pick_bundle(c, p, e);
	if (!bundle)
		return -1;
	struct cli_render *render = cli_render_new(c);
	struct event_sink sink = cli_render_sink(render);
	a->o.events = &sink;
	a->o.cancel = cli_cancel_flag();
	a->o.yes = c->yes;
	a->o.confirm = cli_confirm_plan;
	a->o.confirm_ud = c;
	int rc;
	if (a->dry_run) {
		rc = dry_run(c, p, bundle, a, e);
	} else {
		struct restore_result r;
		rc = restore_run(p, bundle, &a->o, &r, e);
		cli_render_free(render);
		render = NULL;
		if (rc == 0)
			print_result(c, &r);
		restore_result_done(&r);
	}
	cli_render_free(render);
	free(bundle);
	return rc;
}

static int run_restore(struct cli *c, int argc, char **argv, struct err *e)
{
	struct restore_args a = {0};
	int rc = parse_args(c, &a, argc, argv, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	const char *arg = optind < argc ? argv[optind] : NULL;
	profile_file *pf = cli_load_profiles(c, e);
	const struct profile *p = pf ? cli_pick_profile(c, pf, e) : NULL;
	rc = p ? do_restore(c, p, arg, &a, e) : -1;
	profile_file_free(pf);
	return rc;
}

static int run_rollback(struct cli *c, int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cli_common_option(c, &command_rollback, opt, optarg, e);
		if (r == 2)
			return 0;
		if (r == 0)
			return cli_bad_option(&command_rollback, argv, e);
	}
	profile_file *pf = cli_load_profiles(c, e);
	const struct profile *p = pf ? cli_pick_profile(c, pf, e) : NULL;
	if (!p) {
		profile_file_free(pf);
		return -1;
	}
	struct restore_opts o = {.yes = c->yes, .confirm = cli_confirm_plan, .confirm_ud = c};
	char *report = NULL;
	int rc = rollback_run(p, &o, &report, e);
	if (rc == 0)
		fputs(report, stdout);
	free(report);
	profile_file_free(pf);
	return rc;
}
