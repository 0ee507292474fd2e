/* cmd_backup — `ferry backup`: one consistent bundle of database and files. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "remote.h"
#include "flow/backup.h"
#include "util.h"

struct backup_args {
	struct backup_opts o;
	const char *format;
	struct strv schemas, tables, exclude;
	bool scheduled;
};

#define ARG(member) offsetof(struct backup_args, member)

static const char *const types[] = {"manual", "daily", "weekly", "monthly", "migrate",
				    "pre-restore", "pre-deploy", "pre-reset", NULL};
static const char *const formats[] = {"directory", "custom", NULL};
static const char *const compressions[] = {"zstd", "gzip", "none", NULL};

static const struct cmd_option options[] = {
	{.name = "out", .kind = CMD_STRING, .value = CMD_V_DIR, .metavar = "DIR", .field = ARG(o.out_dir),
	 .help = "write the bundle here instead of backup.dir (no retention then)"},
	{.name = "type", .kind = CMD_STRING, .choices = types, .metavar = "TYPE", .field = ARG(o.type),
	 .help = "manual (default), daily, weekly, monthly; also migrate,\n"
		 "pre-restore, pre-deploy, pre-reset (safety copies)"},
	CMD_USE(cmd_opt_db_only, struct backup_args, o.db_only),
	CMD_USE(cmd_opt_files_only, struct backup_args, o.files_only),
	CMD_USE(cmd_opt_schema_only, struct backup_args, o.schema_only),
	CMD_USE(cmd_opt_data_only, struct backup_args, o.data_only),
	{.name = "schema", .kind = CMD_LIST, .metavar = "S", .field = ARG(schemas),
	 .help = "only schema S (repeatable)"},
	{.name = "table", .kind = CMD_LIST, .metavar = "T", .field = ARG(tables),
	 .help = "only table T (repeatable)"},
	{.name = "exclude-table", .kind = CMD_LIST, .metavar = "T", .field = ARG(exclude),
	 .help = "leave table T out (repeatable)"},
	{.name = "format", .kind = CMD_STRING, .choices = formats, .field = ARG(format),
	 .help = "the dump's format: directory (default, dumped in parallel) or custom"},
	CMD_USE(cmd_opt_jobs, struct backup_args, o.jobs),
	{.name = "compress", .kind = CMD_STRING, .choices = compressions, .field = ARG(o.compression),
	 .help = "zstd (default), gzip or none"},
	{.name = "level", .kind = CMD_INT, .min = 1, .max = 19, .metavar = "N", .field = ARG(o.level),
	 .help = "compression level, default 1"},
	{.name = "globals", .kind = CMD_FLAG, .field = ARG(o.globals),
	 .help = "include roles (pg_dumpall --roles-only, no passwords)"},
	{.name = "no-prune", .kind = CMD_FLAG, .field = ARG(o.no_prune),
	 .help = "do not apply the retention policy afterwards"},
	{.name = "offsite", .kind = CMD_FLAG, .field = ARG(o.offsite),
	 .help = "then copy the bundle to every offsite target (as backup.offsite)"},
	CMD_USE(cmd_opt_accept_new_host_key, struct backup_args, o.accept_new_host_key),
	CMD_USE(cmd_opt_scheduled, struct backup_args, scheduled),
	{0},
};

/* The core options from the command line. */
static struct backup_opts *opts_of(struct cmd_run *r)
{
	struct backup_args *a = r->args;
	a->o.format = a->format && strcmp(a->format, "custom") == 0 ? DUMP_CUSTOM : DUMP_DIRECTORY;
	a->o.schemas = &a->schemas;
	a->o.tables = &a->tables;
	a->o.exclude_tables = &a->exclude;
	a->o.events = r->events;
	a->o.cancel = r->cancel;
	a->o.confirm_host_key = cli_ask_host_key;
	a->o.hostkey_ud = r->c;
	return &a->o;
}

/* The result a remote ferry prints for migrate and deploy (core/remote). */
static void print_result_json(const struct backup_result *r)
{
	cli_print_json(remote_backup_json(r));
}

/* The bundle and its numbers, as text. */
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
	for (size_t i = 0; i < r->offsite.ncopies; i++)
		printf("  offsite %s: %s (%.0f MB/s)\n", r->offsite.copies[i].target,
		       r->offsite.copies[i].where, r->offsite.copies[i].mb_per_s);
}

/* --dry-run: backup_plan. */
static int backup_plan_hook(struct cmd_run *r, struct plan *plan, struct err *e)
{
	return backup_plan(r->p, opts_of(r), plan, e);
}

/* A scheduled backup's alert: failed, retention warned, or done. */
static void alert(struct cmd_run *r, int rc, const struct err *e, const struct backup_result *res)
{
	char *summary = rc == 0 ? xasprintf("%s%s%s", res->path, res->prune_warning ? "; retention failed: " : "",
					    res->prune_warning ? res->prune_warning : "")
				: NULL;
	cli_alert(r->c, r->p, "backup", rc, e, rc == 0 && res->prune_warning, summary,
		  rc == 0 ? remote_backup_json(res) : NULL);
	free(summary);
}

/* backup_run, then the result. */
static int backup_exec(struct cmd_run *r, struct err *e)
{
	const struct backup_args *a = r->args;
	struct backup_result res;
	int rc = backup_run(r->p, opts_of(r), &res, e);
	if (rc == 0 && r->c->json)
		print_result_json(&res);
	else if (rc == 0)
		print_result_text(&res);
	if (a->scheduled)
		alert(r, rc, e, &res);
	backup_result_done(&res);
	return rc;
}

const struct cmd_entry cmd_backup_entry = {
	.name = "backup",
	.summary = "back up the database and app files into one verified bundle",
	.description =
		"Dumps the database in one snapshot (pg_dump --snapshot), counts every table's\n"
		"rows in that same snapshot, adds the profile's app paths, and writes one\n"
		"bundle <profile>_<YYYYMMDD_HHMMSS>_<type>_<revision>.ferry.tar.zst (UTC time)\n"
		"into the profile's backup.dir (or --out DIR). Retention runs afterwards\n"
		"(unless --no-prune or --out).\n",
	.options = options,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_DRY_RUN | CMD_JSON | CMD_PROGRESS | CMD_CANCEL,
	.json_help = "progress as JSON lines and a final JSON result on stdout",
	.args_size = sizeof(struct backup_args),
	.plan = backup_plan_hook,
	.exec = backup_exec,
};
