/* cmd_admin — the database tools: `ferry action`, `sql`, `exec`, `shell`,
 * `seed` and `reset`. The work is in core/admin.c; this file
 * confirms and prints. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "cli/cmd.h"
#include "flow/reset.h"
#include "db.h"
struct admin_args {
	struct strv files;        /* seed --file */
	bool force, no_seed;      /* reset */
};

static const struct cmd_option seed_options[] = {
	{.name = "file", .kind = CMD_LIST, .value = CMD_V_FILE, .metavar = "FILE",
	 .field = offsetof(struct admin_args, files),
	 .help = "run FILE instead of the profile's seeds (repeatable)"},
	{0},
};

static const struct cmd_option reset_options[] = {
	{.name = "force", .kind = CMD_FLAG, .field = offsetof(struct admin_args, force),
	 .help = "required: reset destroys every row of the database"},
	{.name = "no-seed", .kind = CMD_FLAG, .field = offsetof(struct admin_args, no_seed),
	 .help = "do not load the seeds"},
	{0},
};

static const struct cmd_arg action_args[] = {
	{.name = "NAME", .what = "action"},
	{.name = "ARG"},
	{0},
};

static const struct cmd_arg sql_args[] = {
	{.name = "FILE", .value = CMD_V_FILE},
	{0},
};

static const struct cmd_arg exec_args[] = {
	{.name = "'SQL'", .what = "SQL statement"},
	{0},
};

static const struct cmd_arg shell_args[] = {
	{.name = "-- PSQL_ARG"},
	{0},
};

/* --- shared ----------------------------------------------------------------- */

/* Ask on the terminal for `expected`, unless --yes. */
static int confirm(const struct cli *c, const char *question, const char *expected, struct err *e)
{
	return c->yes ? 0 : cli_ask_typed(c, question, expected, e);
}

/* The rows as an array of objects (text values, null for NULL). */
static json_t *rows_json(const struct admin_rows *r)
{
	json_t *a = json_array();
	for (size_t row = 0; row < r->nrows; row++) {
		json_t *o = json_object();
		for (size_t col = 0; col < r->ncols; col++) {
			const char *v = r->cells[row * r->ncols + col];
			json_object_set_new(o, r->headers[col], v ? json_string(v) : json_null());
		}
		json_array_append_new(a, o);
	}
	return a;
}

/* The rows as a table on stdout. */
static void print_table(const struct admin_rows *r)
{
	char *text = admin_format_table(r);
	fputs(text, stdout);
	free(text);
}

/* "db on host:port" of the profile, for questions; caller frees. */
static char *describe_target(const struct profile *p)
{
	char *redacted = profile_redact_url(p->database.url);
	struct err ignored = {0};
	char *name = db_conninfo_dbname(p->database.url, &ignored);
	char *out = xasprintf("database %s (%s)", name ? name : "?", redacted);
	free(redacted);
	free(name);
	return out;
}

/* --- action ----------------------------------------------------------------- */

/* The profile's actions: name, parameters, description. */
static void list_actions(const struct cli *c, const struct profile *p)
{
	json_t *a = c->json ? json_array() : NULL;
	if (!c->json && p->nactions == 0)
		printf("profile %s has no actions (see \"actions\" in profiles/README.md)\n", p->name);
	for (size_t i = 0; i < p->nactions; i++) {
		const struct profile_action *act = &p->actions[i];
		if (a) {
			json_t *params = json_array();
			for (size_t k = 0; k < act->params.n; k++)
				json_array_append_new(params, json_string(act->params.v[k]));
			json_array_append_new(a, json_pack("{s:s, s:o, s:b, s:o}", "name", act->name,
				"params", params, "confirm", act->confirm, "description",
				act->description ? json_string(act->description) : json_null()));
			continue;
		}
		char *syn = admin_action_synopsis(act);
		printf("%-40s %s%s\n", syn, act->description ? act->description : "",
		       act->confirm ? " (asks to confirm)" : "");
		free(syn);
	}
	if (a)
		cli_print_json(a);
}

/* The confirmation question of an action: what runs where, with which values. */
static int confirm_action(const struct cli *c, const struct profile *p, const struct profile_action *a,
			  char **args, struct err *e)
{
	char *target = describe_target(p);
	char *question = xasprintf("action %s on %s:\n  %s", a->name, target, a->sql);
	for (size_t i = 0; i < a->params.n; i++) {
		char *more = xasprintf("%s\n  $%zu %s = %s", question, i + 1, a->params.v[i], args[i]);
		free(question);
		question = more;
	}
	int rc = confirm(c, question, "yes", e);
	free(question);
	free(target);
	return rc;
}

/* Check, confirm and run one action, then report. */
static int do_action(struct cli *c, const struct profile *p, char **args, size_t nargs, struct err *e)
{
	const struct profile_action *a = admin_find_action(p, args[0]);
	if (!a)
		return admin_unknown_action(p, args[0], e);
	if (admin_check_args(a, nargs - 1, e) < 0)
		return -1;
	if (a->confirm && confirm_action(c, p, a, args + 1, e) < 0)
		return -1;
	struct admin_rows r;
	if (admin_run_action(p, a, (const char *const *)(args + 1), nargs - 1, &r, e) < 0)
		return -1;
	if (c->json)
		cli_print_json(json_pack("{s:s, s:s, s:I, s:o}", "status", "success", "action", a->name,
				     "rows_affected", (json_int_t)r.affected, "rows", rows_json(&r)));
	else
		print_table(&r);
	admin_rows_done(&r);
	return 0;
}


/* --- sql, exec, seed -------------------------------------------------------- */

/* Confirm, then run the file in one transaction. */
static int do_sql(struct cmd_run *r, const char *file, struct err *e)
{
	const struct cli *c = r->c;
	const struct profile *p = r->p;
	if (access(file, R_OK) < 0) {
		err_set(e, ERR_USAGE, "sql: cannot read %s: %s", file, strerror(errno));
		return err_hint(e, "give the path of an SQL file");
	}
	char *target = describe_target(p);
	char *question = xasprintf("run %s on %s in one transaction?", file, target);
	int rc = confirm(c, question, "yes", e);
	free(question);
	free(target);
	struct strv files = {0};
	strv_push(&files, file);
	if (rc == 0)
		rc = admin_run_sql_files(p, &files, NULL, r->cancel, NULL, e);
	strv_done(&files);
	if (rc == 0 && c->json)
		cli_print_json(json_pack("{s:s, s:s}", "status", "success", "file", file));
	else if (rc == 0)
		printf("%s applied (one transaction)\n", file);
	return rc;
}


/* Run the given files, else the profile's seeds. */
static int do_seed(struct cmd_run *r, const struct strv *given, struct err *e)
{
	const struct cli *c = r->c;
	const struct profile *p = r->p;
	const struct strv *files = given->n ? given : &p->seeds;
	if (files->n == 0) {
		err_set(e, ERR_USAGE, "seed: profile %s has no seeds and no --file was given", p->name);
		return err_hint(e, "add \"seeds\": [\"seeds/demo.sql\"] to the profile, or pass --file FILE");
	}
	size_t applied = 0;
	int rc = admin_run_sql_files(p, files, r->events, r->cancel, &applied, e);
	if (rc < 0)
		return -1;
	if (c->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < files->n; i++)
			json_array_append_new(a, json_string(files->v[i]));
		cli_print_json(json_pack("{s:s, s:o, s:I}", "status", "success", "files", a,
				     "applied", (json_int_t)applied));
	} else {
		printf("%zu seed file%s loaded\n", applied, applied == 1 ? "" : "s");
	}
	return 0;
}


/* --- shell ------------------------------------------------------------------ */

/* Replace ferry with psql; returns only on failure. */
static int exec_psql(const struct profile *p, const struct strv *extra, struct err *e)
{
	struct strv argv = {0};
	char *password = NULL;
	if (admin_shell_argv(p, extra, &argv, &password, e) < 0)
		return -1;
	if (password && setenv("PGPASSWORD", password, 1) < 0) {
		err_set(e, ERR_FAILED, "shell: cannot set PGPASSWORD: %s", strerror(errno));
	} else {
		fflush(NULL);
		execv(argv.v[0], argv.v);
		err_set(e, ERR_TOOL, "shell: cannot run %s: %s", argv.v[0], strerror(errno));
		err_hint(e, "install the PostgreSQL client, or set FERRY_PG_BIN to its bin directory");
	}
	if (password)
		memset(password, 0, strlen(password));
	free(password);
	strv_done(&argv);
	return -1;
}


/* --- reset ------------------------------------------------------------------ */

/* The outcome of a reset on stdout. */
static void print_reset(const struct cli *c, const struct reset_result *r)
{
	if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:o, s:b, s:b, s:I, s:f}", "status", "success",
			"database", r->database, "safety_bundle",
			r->safety_bundle ? json_string(r->safety_bundle) : json_null(),
			"existed", r->existed, "migrated", r->migrated, "seeded", (json_int_t)r->seeded,
			"duration_s", r->duration_s));
		return;
	}
	printf("database %s %s (%.1f s)\n", r->database, r->existed ? "reset" : "created", r->duration_s);
	if (r->safety_bundle)
		printf("  safety bundle: %s\n", r->safety_bundle);
	printf("  migrations: %s\n  seeds: %zu file%s loaded\n", r->migrated ? "applied" : "none",
	       r->seeded, r->seeded == 1 ? "" : "s");
}

static int reset_plan_hook(struct cmd_run *run, struct plan *plan, struct err *e)
{
	const struct admin_args *a = run->args;
	struct reset_opts o = {.no_seed = a->no_seed};
	return reset_plan(run->p, &o, plan, e);
}

/* Reset (core asks for the database name), rendering progress. */
static int do_reset(struct cmd_run *run, struct err *e)
{
	const struct cli *c = run->c;
	const struct admin_args *a = run->args;
	struct reset_opts o = {.no_seed = a->no_seed, .yes = c->yes, .confirm = cli_confirm_plan,
			       .confirm_ud = (void *)c, .events = run->events, .cancel = run->cancel};
	struct reset_result r;
	int rc = reset_run(run->p, &o, &r, e);
	if (rc == 0)
		print_reset(c, &r);
	reset_result_done(&r);
	return rc;
}

/* --- the commands ------------------------------------------------------------- */

/* No NAME: list the actions; else run one. */
static int action_exec(struct cmd_run *r, struct err *e)
{
	if (r->argc == 0) {
		list_actions(r->c, r->p);
		return 0;
	}
	return do_action(r->c, r->p, r->argv, (size_t)r->argc, e);
}

/* One SQL file in one transaction. */
static int sql_exec(struct cmd_run *r, struct err *e)
{
	return do_sql(r, r->argv[0], e);
}

/* One statement; its rows. */
static int exec_exec(struct cmd_run *r, struct err *e)
{
	struct admin_rows rows = {0};
	int rc = admin_exec(r->p, r->argv[0], &rows, e);
	if (rc == 0 && r->c->json)
		cli_print_json(rows_json(&rows));
	else if (rc == 0)
		print_table(&rows);
	admin_rows_done(&rows);
	return rc;
}

/* psql in place of ferry, with the words after `--`. */
static int shell_exec(struct cmd_run *r, struct err *e)
{
	struct strv extra = {0};
	for (int i = 0; i < r->argc; i++)
		strv_push(&extra, r->argv[i]);
	int rc = exec_psql(r->p, &extra, e);
	strv_done(&extra);
	return rc;
}

/* The given files, else the profile's seeds. */
static int seed_exec(struct cmd_run *r, struct err *e)
{
	const struct admin_args *a = r->args;
	return do_seed(r, &a->files, e);
}

/* reset needs --force before anything is loaded. */
static int reset_check(struct cmd_run *r, struct err *e)
{
	const struct admin_args *a = r->args;
	if (a->force)
		return 0;
	err_set(e, ERR_USAGE, "reset drops the database and creates it again: every row is lost");
	return err_hint(e, "pass --force to mean it (a safety backup is taken first); `ferry help reset`");
}

const struct cmd_entry cmd_admin_action_entry = {
	.name = "action",
	.summary = "run a named SQL action from the profile (no name: list them)",
	.description =
		"Without NAME, lists the profile's actions: name, parameters, description.\n"
		"With NAME, runs the action's SQL in one transaction with the arguments\n"
		"bound as $1, $2, ... in the order of its \"params\" (never pasted into the\n"
		"SQL text), and reports the rows affected (or prints the rows it returns).\n"
		"The number of arguments must equal the number of params (else exit 2).\n"
		"An argument that starts with '-' goes after `--`: ferry action NAME -- -1\n",
	.args = action_args,
	.args_max = -1,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_JSON | CMD_YES,
	.json_help = "{\"status\":\"success\",\"action\":...,\"rows_affected\":N,\"rows\":[...]}",
	.yes_help = "run an action marked \"confirm\" without asking; without a\n"
		    "terminal to ask on, such an action needs --yes (else exit 10)",
	.exec = action_exec,
};

const struct cmd_entry cmd_admin_sql_entry = {
	.name = "sql",
	.summary = "run an SQL file in one transaction",
	.description =
		"Runs FILE on the profile's database in one transaction (BEGIN; FILE;\n"
		"COMMIT). The first error rolls everything back and names the file and\n"
		"the server's message (exit 3): nothing of the file stays applied.\n"
		"FILE is plain SQL executed by the server: no psql backslash commands, no\n"
		"COPY ... FROM STDIN, and no BEGIN/COMMIT of its own.\n",
	.args = sql_args,
	.args_min = 1,
	.args_max = 1,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_JSON | CMD_YES | CMD_CANCEL,
	.json_help = "{\"status\":\"success\",\"file\":...}",
	.yes_help = "do not ask; without a terminal to ask on --yes is needed (else exit 10)",
	.exec = sql_exec,
};

const struct cmd_entry cmd_admin_exec_entry = {
	.name = "exec",
	.summary = "run one SQL statement and print its rows",
	.description =
		"Runs one statement on the profile's database and prints its rows as an\n"
		"aligned table (column names, a rule, the rows, \"(N rows)\"); a statement\n"
		"without result columns prints \"N rows affected\". NULL shows as empty;\n"
		"newlines and tabs in values show as \\n and \\t.\n",
	.args = exec_args,
	.args_min = 1,
	.args_max = 1,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_JSON,
	.json_help = "an array of objects, one per row, column name → text value (or null)",
	.exec = exec_exec,
};

const struct cmd_entry cmd_admin_shell_entry = {
	.name = "shell",
	.summary = "open psql on the profile's database",
	.description =
		"Replaces ferry with psql (the newest installed, or FERRY_PG_BIN) connected\n"
		"to the profile's database. The password, when the URL has one, goes to\n"
		"psql in PGPASSWORD, never on its command line. Arguments after `--` go to\n"
		"psql, e.g. ferry shell -- -c 'SELECT count(*) FROM tasks'\n",
	.args = shell_args,
	.args_max = -1,
	.need = CMD_NEED_PROFILE,
	.exec = shell_exec,
};

const struct cmd_entry cmd_admin_seed_entry = {
	.name = "seed",
	.summary = "load the profile's seed SQL files (or --file F ...)",
	.description =
		"Runs the profile's \"seeds\" (or the files given with --file, in that order)\n"
		"each in its own transaction. Every file is checked readable first; the\n"
		"first failing file is rolled back and stops the run (exit 3), the files\n"
		"before it stay applied. Plain SQL as for `ferry sql`.\n",
	.options = seed_options,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_JSON | CMD_PROGRESS | CMD_CANCEL,
	.json_help = "{\"status\":\"success\",\"files\":[...],\"applied\":N}",
	.args_size = sizeof(struct admin_args),
	.exec = seed_exec,
};

const struct cmd_entry cmd_admin_reset_entry = {
	.name = "reset",
	.summary = "drop and recreate the database, migrate and seed (needs --force)",
	.description =
		"Starts the database over, for development and staging:\n"
		"  1. a safety backup of the database (type pre-reset, never pruned)\n"
		"  2. the new database is created under a scratch name with the same owner,\n"
		"     encoding and locale, the old one dropped (its sessions terminated)\n"
		"     and the new one renamed to its name\n"
		"  3. the profile's migrations (migrations.dir or migrations.command)\n"
		"  4. the profile's seeds (unless --no-seed)\n"
		"Database-level settings (ALTER DATABASE ... SET) and grants on the database\n"
		"itself are not carried over. Undo with `ferry restore` of the safety bundle.\n",
	.options = reset_options,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_DRY_RUN | CMD_JSON | CMD_YES | CMD_PROGRESS | CMD_CANCEL,
	.plan = reset_plan_hook,
	.json_help = "{\"status\":\"success\",\"database\":...,\"safety_bundle\":...,...}",
	.yes_help = "do not ask for the database name; without a terminal to ask\n"
		    "on --yes is needed (else exit 10)",
	.args_size = sizeof(struct admin_args),
	.check = reset_check,
	.exec = do_reset,
};
