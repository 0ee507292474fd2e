/* cmd_restore — `ferry restore` and `ferry rollback`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "flow/offsite.h"
#include "remote.h"
#include "flow/restore.h"
#include "flow/rollback.h"
#include "flow/list.h"
#include "util.h"

struct restore_args {
	struct restore_opts o;
	struct strv tables, schemas;
	const char *from, *identity;
	bool accept_new_host_key;
};

#define ARG(member) offsetof(struct restore_args, member)

static const struct cmd_option restore_options[] = {
	CMD_USE(cmd_opt_db_only, struct restore_args, o.db_only),
	CMD_USE(cmd_opt_files_only, struct restore_args, o.files_only),
	CMD_USE(cmd_opt_schema_only, struct restore_args, o.schema_only),
	{.name = "data-only", .kind = CMD_FLAG, .field = ARG(o.data_only),
	 .help = "only rows: every table's rows put back into the live database's tables"},
	{.name = "table", .kind = CMD_LIST, .metavar = "T", .field = ARG(tables),
	 .help = "only table T's rows, put back into the live database (repeatable; schema.table, "
		 "wildcards as in the shell)"},
	{.name = "schema", .kind = CMD_LIST, .metavar = "S", .field = ARG(schemas),
	 .help = "only the rows of schema S's tables (repeatable)"},
	{.name = "as", .kind = CMD_STRING, .metavar = "NEWDB", .field = ARG(o.as_db),
	 .help = "into a new database NEWDB on the same server; the live one is not touched"},
	{.name = "replace-data", .kind = CMD_FLAG, .field = ARG(o.replace_data),
	 .help = "let a schema-only bundle replace a database that holds rows (with empty tables)"},
	{.name = "keep-target-settings", .kind = CMD_FLAG, .field = ARG(o.keep_target_settings),
	 .help = "keep the live database's settings, grants, comment and connection limit"},
	{.name = "update-roles", .kind = CMD_FLAG, .field = ARG(o.update_roles),
	 .help = "roles that exist take the bundle's attributes, settings and memberships "
		 "(default: left exactly as they are)"},
	CMD_USE(cmd_opt_jobs, struct restore_args, o.jobs),
	{.name = "from", .kind = CMD_STRING, .metavar = "TARGET", .field = ARG(from),
	 .help = "fetch NAME from this offsite target first (into backup.dir as .part,\n"
		 "decrypted and verified before anything else happens)"},
	{.name = "identity", .kind = CMD_STRING, .value = CMD_V_FILE, .metavar = "FILE",
	 .field = ARG(identity), .help = "the age key or ssh private key that decrypts (--from, or a\n"
		 "local bundle kept encrypted by encryption.local)"},
	CMD_USE(cmd_opt_accept_new_host_key, struct restore_args, accept_new_host_key),
	{.name = "no-safety-backup", .kind = CMD_FLAG, .field = ARG(o.no_safety_backup),
	 .help = "skip the safety backup of what is there now"},
	{.name = "keep-previous", .kind = CMD_INT, .min = 1, .max = 100, .metavar = "N",
	 .field = ARG(o.keep_previous), .help = "previous databases and file sets kept, default 1"},
	{.name = "migrate", .kind = CMD_FLAG, .field = ARG(o.migrate),
	 .help = "run the profile's migrations afterwards"},
	{0},
};

static const struct cmd_arg restore_args_spec[] = {
	{.name = "BUNDLE", .value = CMD_V_BUNDLE},
	{0},
};

/* No BUNDLE on a terminal: number the bundles and read a choice. */
static char *pick_bundle(const struct cli *c, const struct profile *p, struct err *e)
{
	if (!c->stdin_tty) {
		err_set(e, ERR_USAGE, "restore: no BUNDLE given");
		return err_hint(e, "give a path or a name from `ferry list`"), NULL;
	}
	struct bundle_list l;
	if (list_bundles(p->backup.dir, p->name, &l, e) < 0)
		return NULL;
	if (l.n == 0) {
		err_set(e, ERR_USAGE, "no bundles in %s", p->backup.dir);
		list_done(&l);
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
	list_done(&l);
	return path;
}

/* The outcome of the restore, as text or JSON. */
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
	cli_print_json(remote_restore_json(r));
}

/* The bundle: the argument, or picked from the list on a terminal. */
static char *bundle_of(struct cmd_run *r, struct err *e)
{
	return r->argc ? cli_resolve_bundle(r->argv[0], r->p, e) : pick_bundle(r->c, r->p, e);
}

/* The core options from the command line and the terminal. */
static struct restore_opts *opts_of(struct cmd_run *r)
{
	struct restore_args *a = r->args;
	a->o.tables = &a->tables;
	a->o.schemas = &a->schemas;
	a->o.events = r->events;
	a->o.cancel = r->cancel;
	a->o.yes = r->c->yes;
	a->o.confirm = cli_confirm_plan;
	a->o.confirm_ud = r->c;
	return &a->o;
}

/* --from: the pull flow (fetch, decrypt, verify); its bundle's path. */
static char *fetch_offsite(struct cmd_run *r, struct err *e)
{
	const struct restore_args *a = r->args;
	if (!r->argc) {
		err_set(e, ERR_USAGE, "restore --from %s needs the bundle's name", a->from);
		err_hint(e, "`ferry offsite list --from %s` lists them", a->from);
		return NULL;
	}
	struct offsite_flow_opts o = {
		.profile = r->p, .target = a->from, .accept_new_host_key = a->accept_new_host_key,
		.confirm_host_key = cli_ask_host_key, .hostkey_ud = r->c,
		.events = r->events, .cancel = r->cancel};
	struct offsite_pull_flow_result res;
	char *path = NULL;
	if (offsite_pull_run(&o, r->argv[0], a->identity, &res, e) == 0)
		path = xstrdup(res.pull.path);
	offsite_pull_flow_result_done(&res);
	return path;
}

/* --dry-run: verify the bundle and restore_plan (--from: the fetch's plan). */
static int restore_plan_hook(struct cmd_run *r, struct plan *plan, struct err *e)
{
	const struct restore_args *a = r->args;
	if (a->from) {
		struct offsite_flow_opts o = {.profile = r->p, .target = a->from};
		return r->argc ? offsite_pull_plan(&o, r->argv[0], a->identity, plan, e)
			       : err_set(e, ERR_USAGE, "restore --from needs the bundle's name");
	}
	char *bundle = bundle_of(r, e), *plain = NULL;
	int rc = bundle ? cli_decrypt_local(r->p, bundle, a->identity, NULL, r->cancel, &plain, e) : -1;
	if (rc == 0)
		rc = restore_plan(r->p, plain ? plain : bundle, opts_of(r), plan, e);
	if (plain)
		unlink(plain);
	free(plain);
	free(bundle);
	return rc;
}

/* restore_run, then the result. */
static int restore_exec(struct cmd_run *r, struct err *e)
{
	const struct restore_args *a = r->args;
	char *bundle = a->from ? fetch_offsite(r, e) : bundle_of(r, e);
	char *plain = NULL;
	if (!bundle || cli_decrypt_local(r->p, bundle, a->identity, r->events, r->cancel, &plain, e) < 0) {
		free(bundle);
		return -1;
	}
	struct restore_result res;
	int rc = restore_run(r->p, plain ? plain : bundle, opts_of(r), &res, e);
	if (rc == 0)
		print_result(r->c, &res);
	restore_result_done(&res);
	if (plain)
		unlink(plain);   /* encryption.local: no plain bundle is kept */
	free(plain);
	free(bundle);
	return rc;
}

/* rollback_run: the last restore's previous database and files back. */
static int rollback_exec(struct cmd_run *r, struct err *e)
{
	struct restore_opts o = {.yes = r->c->yes, .confirm = cli_confirm_plan, .confirm_ud = r->c,
				 .events = r->events, .cancel = r->cancel};
	char *report = NULL;
	int rc = rollback_run(r->p, &o, &report, e);
	if (rc == 0)
		fputs(report, stdout);
	free(report);
	return rc;
}

static int rollback_plan_hook(struct cmd_run *r, struct plan *plan, struct err *e)
{
	struct restore_opts o = {0};
	return rollback_plan(r->p, &o, plan, e);
}

const struct cmd_entry cmd_restore_entry = {
	.name = "restore",
	.summary = "restore a bundle: verify, safety backup, shadow database, row-count gate, swap",
	.description =
		"BUNDLE is a path or a name from `ferry list`; with none, on a terminal, pick\n"
		"one from the list. Nothing is changed before: the bundle is verified, the\n"
		"plan is shown and you type the database name (or pass --yes). Then a\n"
		"safety backup (type pre-restore), a restore into <db>_ferry_shadow, every\n"
		"table's row count checked against the manifest, and one transaction that\n"
		"renames <db> to <db>_prev_<YYYYMMDD_HHMMSS> and the shadow to <db>.\n",
	.options = restore_options,
	.args = restore_args_spec,
	.args_max = 1,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_DRY_RUN | CMD_JSON | CMD_YES | CMD_PROGRESS | CMD_CANCEL,
	.json_help = "progress as JSON lines and a final JSON result on stdout",
	.yes_help = "confirm without typing the database name (needed without a terminal)",
	.args_size = sizeof(struct restore_args),
	.plan = restore_plan_hook,
	.exec = restore_exec,
};

const struct cmd_entry cmd_restore_rollback_entry = {
	.name = "rollback",
	.summary = "swap the database and files of the last restore back",
	.description =
		"Puts back what the last `ferry restore` of this profile replaced: the\n"
		"previous database (<db>_prev_...) becomes <db> again, the restored one is\n"
		"kept as <db>_rolledback_<ts>; app paths saved as <path>.prev-<ts> go back.\n",
	.need = CMD_NEED_PROFILE,
	.flags = CMD_DRY_RUN | CMD_YES | CMD_PROGRESS | CMD_CANCEL,
	.plan = rollback_plan_hook,
	.exec = rollback_exec,
};
