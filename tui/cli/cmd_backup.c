/* cmd_backup — `ferry backup`: one consistent bundle of database and files. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "cli/cli.h"
#include "flow.h"
#include "flow_util.h"

static int run_backup(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_backup = {
	"backup", "back up the database and app files into one verified bundle",
	"usage: ferry backup [--profile NAME] [--out DIR] [--type manual|daily|weekly|monthly]\n"
	"                    [--db-only | --files-only] [--schema-only | --data-only]\n"
	"                    [--schema S]... [--table T]... [--exclude-table T]...\n"
	"                    [--format directory|custom] [--jobs N] [--compress zstd|gzip|none]\n"
	"                    [--level N] [--globals] [--no-prune] [--dry-run] [--json]\n"
	"\n"
	"Dumps the database in one snapshot (pg_dump --snapshot), counts every table's\n"
	"rows in that same snapshot, adds the profile's app paths, and writes one\n"
	"bundle <profile>_<YYYYMMDD_HHMMSS>_<type>_<revision>.ferry.tar.zst (UTC time)\n"
	"into the profile's backup.dir (or --out DIR). Retention runs afterwards\n"
	"(unless --no-prune or --out).\n"
	"\n"
	"  --out DIR            write the bundle here instead of backup.dir\n"
	"  --type T             manual (default), daily, weekly, monthly; also migrate,\n"
	"                       pre-restore, pre-deploy, pre-reset (safety copies)\n"
	"  --db-only            only the database; --files-only: only the app files\n"
	"  --schema-only        no table data; --data-only: no schema\n"
	"  --schema S           only schema S (repeatable); --table T: only table T\n"
	"  --exclude-table T    leave table T out (repeatable)\n"
	"  --format F           directory (default, parallel) or custom\n"
	"  --jobs N             pg_dump parallel jobs (default: number of cores)\n"
	"  --compress C         zstd (default), gzip or none\n"
	"  --level N            compression level (default 1)\n"
	"  --globals            include roles (pg_dumpall --roles-only, no passwords)\n"
	"  --no-prune           do not apply the retention policy afterwards\n"
	"  --dry-run            print the plan and touch nothing\n"
	"  --json               progress as JSON lines and a final JSON result on stdout\n",
	run_backup};

enum {
	OPT_OUT = OPT_COMMAND_BASE, OPT_TYPE, OPT_DB_ONLY, OPT_FILES_ONLY, OPT_SCHEMA_ONLY,
	OPT_DATA_ONLY, OPT_SCHEMA, OPT_TABLE, OPT_EXCLUDE_TABLE, OPT_FORMAT, OPT_JOBS,
	OPT_COMPRESS, OPT_LEVEL, OPT_GLOBALS, OPT_NO_PRUNE, OPT_DRY_RUN
};

struct backup_args {
	struct backup_opts o;
	struct strv schemas, tables, exclude;
	bool dry_run;
};

static const char *const valid_types[] = {"manual", "daily", "weekly", "monthly", "migrate",
					  "pre-restore", "pre-deploy", "pre-reset", NULL};

static int parse_type(const char *arg, struct err *e)
{
	for (const char *const *t = valid_types; *t; t++)
		if (strcmp(arg, *t) == 0)
			return 0;
	err_set(e, ERR_USAGE, "backup: --type \"%s\" is not one of manual, daily, weekly, monthly "
		"(or migrate, pre-restore, pre-deploy, pre-reset)", arg);
	return -1;
}

static int parse_backup_option(struct backup_args *a, int opt, const char *arg, struct err *e)
{
	switch (opt) {
	case OPT_OUT: a->o.out_dir = arg; return 0;
	case OPT_TYPE: a->o.type = arg; return parse_type(arg, e);
	case OPT_DB_ONLY: a->o.db_only = true; return 0;
	case OPT_FILES_ONLY: a->o.files_only = true; return 0;
	case OPT_SCHEMA_ONLY: a->o.schema_only = true; return 0;
	case OPT_DATA_ONLY: a->o.data_only = true; return 0;
	case OPT_SCHEMA: strv_push(&a->schemas, arg); return 0;
	case OPT_TABLE: strv_push(&a->tables, arg); return 0;
	case OPT_EXCLUDE_TABLE: strv_push(&a->exclude, arg); return 0;
	case OPT_GLOBALS: a->o.globals = true; return 0;
	case OPT_NO_PRUNE: a->o.no_prune = true; return 0;
	case OPT_DRY_RUN: a->dry_run = true; return 0;
	case OPT_COMPRESS: a->o.compression = arg; return 0;
	case OPT_FORMAT:
		if (strcmp(arg, "directory") == 0)
			a->o.format = DUMP_DIRECTORY;
		else if (strcmp(arg, "custom") == 0)
			a->o.format = DUMP_CUSTOM;
		else
			return err_set(e, ERR_USAGE, "backup: --format \"%s\" is not directory or custom", arg);
		return 0;
	case OPT_JOBS:
		a->o.jobs = atoi(arg);
		if (a->o.jobs < 1 || a->o.jobs > 64)
			return err_set(e, ERR_USAGE, "backup: --jobs expects 1-64, got \"%s\"", arg);
		return 0;
	case OPT_LEVEL:
		a->o.level = atoi(arg);
		if (a->o.level < 1 || a->o.level > 19)
			return err_set(e, ERR_USAGE, "backup: --level expects 1-19, got \"%s\"", arg);
		return 0;
	default:
		return 1;
	}
}

static int parse_args(struct cli *c, struct backup_args *a, int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
		CLI_COMMON_OPTIONS,
		{"out", required_argument, NULL, OPT_OUT},
		{"type", required_argument, NULL, OPT_TYPE},
		{"db-only", no_argument, NULL, OPT_DB_ONLY},
		{"files-only", no_argument, NULL, OPT_FILES_ONLY},
		{"schema-only", no_argument, NULL, OPT_SCHEMA_ONLY},
		{"data-only", no_argument, NULL, OPT_DATA_ONLY},
		{"schema", required_argument, NULL, OPT_SCHEMA},
		{"table", required_argument, NULL, OPT_TABLE},
		{"exclude-table", required_argument, NULL, OPT_EXCLUDE_TABLE},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"jobs", required_argument, NULL, OPT_JOBS},
		{"compress", required_argument, NULL, OPT_COMPRESS},
		{"level", required_argument, NULL, OPT_LEVEL},
		{"globals", no_argument, NULL, OPT_GLOBALS},
		{"no-prune", no_argument, NULL, OPT_NO_PRUNE},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{0, 0, 0, 0}};
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cli_common_option(c, &command_backup, opt, optarg, e);
		if (r == 2)
			return 1;
		if (r == 1)
			continue;
		r = parse_backup_option(a, opt, optarg, e);
		if (r < 0)
			return err_hint(e, "`ferry help backup` lists the options");
		if (r > 0)
			return cli_bad_option(&command_backup, argv, e);
	}
	if (optind < argc) {
		err_set(e, ERR_USAGE, "backup: unexpected argument \"%s\"", argv[optind]);
		return err_hint(e, "`ferry help backup` lists the options");
	}
	return 0;
}

static json_t *tables_json(const struct manifest *m)
{
	json_t *o = json_object();
	for (size_t i = 0; i < m->ntables; i++) {
		char *key = xasprintf("%s.%s", m->tables[i].schema, m->tables[i].table);
		json_object_set_new(o, key, json_integer(m->tables[i].rows));
		free(key);
	}
	return o;
}

static json_t *prune_json(const struct prune_report *pr)
{
	json_t *a = json_array();
	for (size_t i = 0; i < pr->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "file", pr->v[i].file,
			"action", pr->v[i].keep ? "keep" : "delete", "rule", pr->v[i].rule));
	return a;
}

static void print_result_json(const struct backup_result *r)
{
	const struct manifest *m = &r->manifest;
	const char *name = strrchr(r->path, '/');
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:f, s:I, s:I, s:o, s:s, s:s, s:f}",
		"status", "success", "file", r->path, "filename", name ? name + 1 : r->path,
		"size_bytes", (json_int_t)r->size, "size_mb", (double)r->size / 1048576.0,
		"tables_backed_up", (json_int_t)m->ntables,
		"total_rows", (json_int_t)manifest_total_rows(m), "table_details", tables_json(m),
		"schema_revision", m->schema_revision ? m->schema_revision : "unknown",
		"type", m->type, "duration_s", r->duration_s);
	json_object_set_new(o, "pruned", prune_json(&r->pruned));
	if (r->prune_warning)
		json_object_set_new(o, "prune_warning", json_string(r->prune_warning));
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

static void print_result_text(const struct backup_result *r)
{
	char sz[32];
	printf("backup written: %s\n", r->path);
	printf("  %s, %zu tables, %lld rows, revision %s, %.1f s\n",
	       util_human_bytes(r->size, sz, sizeof sz), r->manifest.ntables,
	       (long long)manifest_total_rows(&r->manifest),
	       r->manifest.schema_revision ? r->manifest.schema_revision : "unknown", r->duration_s);
	for (size_t i = 0; i < r->pruned.n; i++)
		if (!r->pruned.v[i].keep)
			printf("  pruned %s (%s)\n", r->pruned.v[i].file, r->pruned.v[i].rule);
	if (r->prune_warning)
		printf("  warning: retention failed: %s\n", r->prune_warning);
}

static int show_plan(struct cli *c, const struct profile *p, const struct backup_args *a,
		     struct err *e)
{
	struct plan plan;
	if (backup_plan(p, &a->o, &plan, e) < 0)
		return -1;
	if (c->json) {
		char *text = plan_to_json(&plan);
		printf("%s\n", text);
		free(text);
	} else {
		plan_print(&plan, stdout);
		printf("dry run: nothing was written\n");
	}
	plan_done(&plan);
	return 0;
}

static int do_backup(struct cli *c, const struct profile *p, struct backup_args *a, struct err *e)
{
	if (a->dry_run)
		return show_plan(c, p, a, e);
	struct cli_render *render = cli_render_new(c);
	struct event_sink sink = cli_render_sink(render);
	a->o.events = &sink;
	a->o.cancel = cli_cancel_flag();
	struct backup_result r;
	int rc = backup_run(p, &a->o, &r, e);
	cli_render_free(render);
	if (rc == 0) {
		if (c->json)
			print_result_json(&r);
		else
			print_result_text(&r);
	}
	backup_result_done(&r);
	return rc;
}

static int run_backup(struct cli *c, int argc, char **argv, struct err *e)
{
	struct backup_args a = {0};
	int rc = parse_args(c, &a, argc, argv, e);
	if (rc == 0) {
		a.o.schemas = &a.schemas;
		a.o.tables = &a.tables;
		a.o.exclude_tables = &a.exclude;
		profile_file *pf = cli_load_profiles(c, e);
		const struct profile *p = pf ? cli_pick_profile(c, pf, e) : NULL;
		rc = p ? do_backup(c, p, &a, e) : -1;
		profile_file_free(pf);
	}
	strv_done(&a.schemas);
	strv_done(&a.tables);
	strv_done(&a.exclude);
	return rc < 0 ? -1 : 0;
}
