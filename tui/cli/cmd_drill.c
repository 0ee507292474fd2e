/* cmd_drill — `ferry drill`: a bundle restored into a scratch database,
 * checked byte for byte and by the application's own checks, timed,
 * dropped, recorded (core/flow/drill.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "flow/drill.h"
#include "flow/drill_log.h"
#include "util.h"

struct drill_args {
	bool latest, keep, scheduled, accept_new_host_key;
	const char *server, *check_only, *from, *identity;
	int jobs;
};

#define ARG(member) offsetof(struct drill_args, member)

static const struct cmd_option options[] = {
	{.name = "latest", .kind = CMD_FLAG, .field = ARG(latest),
	 .help = "the newest full bundle of the profile (the default without BUNDLE)"},
	{.name = "server", .kind = CMD_STRING, .value = CMD_V_PROFILE, .metavar = "PROFILE",
	 .field = ARG(server),
	 .help = "restore on the PostgreSQL of another profile (a spare server), so the\n"
		 "drill does not load production; nothing is created on the profile's own"},
	{.name = "keep", .kind = CMD_FLAG, .field = ARG(keep),
	 .help = "keep the scratch database and print how to connect to it (the next\n"
		 "drill drops it)"},
	{.name = "check-only", .kind = CMD_STRING, .metavar = "SCRATCHDB", .field = ARG(check_only),
	 .help = "load nothing: run the row-count gate, the content check and the\n"
		 "application checks on SCRATCHDB (one a --keep drill left)"},
	{.name = "from", .kind = CMD_STRING, .metavar = "TARGET", .field = ARG(from),
	 .help = "fetch the bundle from this offsite target first (BUNDLE: a name there;\n"
		 "default its newest full bundle), decrypted and verified as restore --from does"},
	{.name = "identity", .kind = CMD_STRING, .value = CMD_V_FILE, .metavar = "FILE",
	 .field = ARG(identity), .help = "with --from: the age key or ssh private key that decrypts"},
	CMD_USE(cmd_opt_accept_new_host_key, struct drill_args, accept_new_host_key),
	CMD_USE(cmd_opt_jobs, struct drill_args, jobs),
	CMD_USE(cmd_opt_scheduled, struct drill_args, scheduled),
	{0},
};

static const struct cmd_arg args[] = {
	{.name = "BUNDLE", .value = CMD_V_BUNDLE},
	{0},
};

/* BUNDLE and --latest are one choice. */
static int drill_check_args(struct cmd_run *r, struct err *e)
{
	const struct drill_args *a = r->args;
	if (a->latest && r->argc > 0)
		return err_set(e, ERR_USAGE, "drill: BUNDLE and --latest exclude each other");
	if (a->identity && !a->from)
		return err_set(e, ERR_USAGE, "drill: --identity decrypts a copy fetched with --from TARGET");
	if (a->keep && a->check_only)
		return err_set(e, ERR_USAGE, "drill: --check-only checks a kept database; --keep keeps a new one");
	return 0;
}

/* The options from the command line; *bundle (caller frees) resolved in
 * backup.dir, *server from the profiles file. */
static int opts_of(struct cmd_run *r, struct drill_opts *o, char **bundle, struct err *e)
{
	const struct drill_args *a = r->args;
	*bundle = NULL;
	*o = (struct drill_opts){.keep = a->keep, .check_only = a->check_only, .jobs = a->jobs,
				 .from = a->from, .identity = a->identity,
				 .accept_new_host_key = a->accept_new_host_key,
				 .confirm_host_key = cli_ask_host_key, .hostkey_ud = r->c,
				 .events = r->events, .cancel = r->cancel};
	if (a->server && !(o->server = profile_file_get(r->pf, a->server, e)))
		return err_prefix(e, "--server");
	if (r->argc > 0 && a->from)
		*bundle = xstrdup(r->argv[0]);   /* a name on the target */
	else if (r->argc > 0 && !(*bundle = cli_resolve_bundle(r->argv[0], r->p, e)))
		return -1;
	o->bundle = *bundle;
	return 0;
}

/* "1.2 s" of one step of the report, or "-" when it did not run. */
static const char *step_time(const struct flow_report *rep, const char *id, char *buf, size_t len)
{
	for (size_t i = 0; i < rep->n; i++)
		if (strcmp(rep->steps[i].id, id) == 0 && rep->steps[i].state != STEP_STATE_PENDING) {
			snprintf(buf, len, "%.1f s", rep->steps[i].seconds);
			return buf;
		}
	return "-";
}

/* What the drill found, as text. */
static void print_text(const struct drill_result *r)
{
	char v[16], l[16], g[16], sz[32];
	const struct flow_report *rep = &r->report;
	printf("drill %s: %s\n", r->ok ? "passed" : "FAILED", r->bundle ? r->bundle : "(no bundle)");
	if (r->from)
		printf("  fetched %s from offsite target %s in %.1f s (counted in the restore time)\n",
		       r->from_object ? r->from_object : "?", r->from, r->fetch_s);
	printf("  restore time %.1f s (verify %s, load %s, gate %s) into %s on the server of profile %s\n",
	       r->restore_s, step_time(rep, "verify", v, sizeof v), step_time(rep, "load", l, sizeof l),
	       step_time(rep, "gate", g, sizeof g), r->scratch ? r->scratch : "-", r->server);
	printf("  %zu tables, %lld rows; database %s\n", r->tables, (long long)r->rows,
	       util_human_bytes(r->database_bytes, sz, sizeof sz));
	if (r->content_checked)
		printf("  content: %zu tables and %zu large objects compared with the dump (%s, SHA-256) in %.1f s\n",
		       r->content.ntables, r->content.nlos, util_human_bytes(r->content.bytes, sz, sizeof sz),
		       r->content_s);
	else if (r->content_note)
		printf("  content: %s\n", r->content_note);
	for (size_t i = 0; i < r->nchecks; i++)
		printf("  check %-24s %s (expected %s, got %s)\n", r->checks[i].name, r->checks[i].ok ? "ok" : "FAILED",
		       r->checks[i].expect, r->checks[i].error ? r->checks[i].error : r->checks[i].got);
	printf("  signature: %s\n", r->signature);
	if (r->kept)
		printf("  kept %s: psql \"%s\" (the next drill drops it)\n", r->scratch, r->connect ? r->connect : "");
	if (r->log_path)
		printf("  log: %s\n", r->log_path);
}

/* A scheduled drill's alert. */
static void alert(struct cmd_run *r, int rc, const struct err *e, const struct drill_result *res)
{
	char *summary = xasprintf("%s restored in %.1f s, %zu tables, %lld rows, content as the dump holds it",
				  res->bundle ? res->bundle : "?", res->restore_s, res->tables, (long long)res->rows);
	cli_alert(r->c, r->p, "drill", rc, e, false, summary,
		  res->started_at ? drill_result_json(r->p, res) : NULL);
	free(summary);
}

static int drill_exec(struct cmd_run *r, struct err *e)
{
	const struct drill_args *a = r->args;
	struct drill_opts o;
	char *bundle;
	int rc = opts_of(r, &o, &bundle, e);
	struct drill_result res;
	memset(&res, 0, sizeof res);
	if (rc == 0)
		rc = drill_run(r->p, &o, &res, e);
	if (rc == 0 || res.started_at) {
		if (r->c->json)
			cli_print_json(drill_result_json(r->p, &res));
		else
			print_text(&res);
	}
	if (a->scheduled)
		alert(r, rc, e, &res);
	drill_result_done(&res);
	free(bundle);
	if (rc < 0 && r->c->json) {
		/* The result above carries the error: only the message on stderr. */
		struct cli quiet = *r->c;
		quiet.json = false;
		cli_print_error(&quiet, e);
		return err_exit_code(e->kind);
	}
	return rc;
}

static int drill_plan_hook(struct cmd_run *r, struct plan *plan, struct err *e)
{
	struct drill_opts o;
	char *bundle;
	int rc = opts_of(r, &o, &bundle, e);
	if (rc == 0)
		rc = drill_plan(r->p, &o, plan, e);
	free(bundle);
	return rc;
}

const struct cmd_entry cmd_drill_entry = {
	.name = "drill",
	.summary = "prove a bundle restorable: restore it into a scratch database, check it byte for byte",
	.description =
		"Restores a bundle (default: the newest full one) into a scratch database\n"
		"<db>_drill_<time> with the same steps as `ferry restore` (verify every hash,\n"
		"roles, pg_restore, database settings), then checks it: every table's row\n"
		"count against the manifest; every table's COPY text, under pg_dump's session\n"
		"settings, against the dump's data file, SHA-256 on both sides (a difference\n"
		"names the table and its first differing line); every large object; and the\n"
		"profile's drill.checks. The restore time is measured; the scratch database is\n"
		"dropped (after success, failure or Ctrl-C; a killed drill's by the next one);\n"
		"the outcome goes to <log_dir>/drill_log.json and the bundle's .verified record\n"
		"(`ferry list` shows \"drilled <date>\"; `ferry status` checks its age).\n"
		"With --from TARGET the bundle is first fetched from that offsite target\n"
		"(BUNDLE names it there; default: the newest full bundle there) into the\n"
		"drill's work directory, decrypted (--identity) and verified as `ferry restore\n"
		"--from` does, and removed after the drill; the fetch counts in the restore time.\n",
	.footer = "Exit status: 0 the drill passed; 4 a check failed (hashes, row counts, content,\n"
		  "an application check); 3 the server; 9 pg_restore missing or too old; 130 interrupted.\n",
	.options = options,
	.args = args,
	.args_min = 0,
	.args_max = 1,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_DRY_RUN | CMD_JSON | CMD_PROGRESS | CMD_CANCEL,
	.json_help = "progress as JSON lines, then the drill's record (as in drill_log.json)",
	.args_size = sizeof(struct drill_args),
	.check = drill_check_args,
	.plan = drill_plan_hook,
	.exec = drill_exec,
};
