/* cmd_list — `ferry list` and `ferry prune`. */
#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include "cli/cmd.h"
#include "flow/list.h"
#include "flow/prune.h"
#include "util.h"

struct list_args {
	bool all;
	bool names;
};

static const struct cmd_option list_options[] = {
	{.name = "all", .kind = CMD_FLAG, .field = offsetof(struct list_args, all),
	 .help = "bundles of every profile in that directory"},
	{.name = "names", .kind = CMD_FLAG, .field = offsetof(struct list_args, names),
	 .help = "only the bundles' file names, one per line, newest first (for scripts:\n"
		 "ferry verify \"$(ferry list --names | head -n 1)\")"},
	{0},
};

/* "2026-11-20 02:00:00" (UTC). */
static void format_time(time_t t, char *out, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* The bundles as a JSON array. */
static void print_list_json(const struct bundle_list *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++) {
		const struct bundle_info *b = &l->v[i];
		char when[32];
		format_time(b->created, when, sizeof when);
		char state[64];
		list_check_state(b, state, sizeof state);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:s, s:o, s:o, s:s}",
			"name", b->name, "path", b->path, "profile", b->profile, "created", when,
			"type", b->type, "scope", b->scope ? json_string(b->scope) : json_null(),
			"size_bytes", (json_int_t)b->size, "schema_revision", b->revision,
			"verified", b->verified ? json_string(b->verified) : json_null(),
			"drilled", b->drilled ? json_string(b->drilled) : json_null(), "state", state));
	}
	cli_print_json(a);
}

/* The bundles as a table. */
static void print_list_text(const struct bundle_list *l, const char *dir)
{
	if (l->n == 0) {
		printf("no bundles in %s\n", dir);
		return;
	}
	printf("%-19s  %-11s  %-11s  %10s  %-14s  %-23s  %s\n", "created (UTC)", "type", "scope", "size",
	       "revision", "checked", "name");
	for (size_t i = 0; i < l->n; i++) {
		const struct bundle_info *b = &l->v[i];
		char when[32], sz[32], state[64];
		format_time(b->created, when, sizeof when);
		list_check_state(b, state, sizeof state);
		printf("%-19s  %-11s  %-11s  %10s  %-14s  %-23.23s  %s\n", when, b->type,
		       b->scope ? b->scope : "?", util_human_bytes(b->size, sz, sizeof sz), b->revision,
		       state, b->name);
	}
}

/* Each bundle kept or deleted, and the rule that decided. */
static void print_prune(const struct cli *c, const struct prune_report *pr, bool dry_run)
{
	if (c->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < pr->n; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "file", pr->v[i].file,
				"action", pr->v[i].keep ? "keep" : dry_run ? "would delete" : "delete",
				"rule", pr->v[i].rule));
		cli_print_json(a);
		return;
	}
	for (size_t i = 0; i < pr->n; i++)
		printf("%-12s %s  (%s)\n",
		       pr->v[i].keep ? "keep" : dry_run ? "would delete" : "delete", pr->v[i].file,
		       pr->v[i].rule);
	if (pr->n == 0)
		printf("no bundles to consider\n");
}

/* The bundles in backup.dir, newest first. */
static int list_exec(struct cmd_run *r, struct err *e)
{
	const struct list_args *a = r->args;
	struct bundle_list l;
	int rc = list_bundles(r->p->backup.dir, a->all ? NULL : r->p->name, &l, e);
	if (rc == 0 && r->c->json)
		print_list_json(&l);
	else if (rc == 0 && a->names)
		for (size_t i = 0; i < l.n; i++)
			printf("%s\n", l.v[i].name);
	else if (rc == 0)
		print_list_text(&l, r->p->backup.dir);
	list_done(&l);
	return rc;
}

struct prune_args {
	bool scheduled;
};

static const struct cmd_option prune_options[] = {
	CMD_USE(cmd_opt_scheduled, struct prune_args, scheduled),
	{0},
};

/* A scheduled prune's alert: how many bundles went. */
static void prune_alert(struct cmd_run *r, int rc, const struct err *e, const struct prune_report *pr)
{
	size_t gone = 0;
	for (size_t i = 0; i < pr->n; i++)
		gone += !pr->v[i].keep;
	char *summary = xasprintf("%zu bundle%s deleted, %zu kept", gone, gone == 1 ? "" : "s", pr->n - gone);
	cli_alert(r->c, r->p, "prune", rc, e, false, summary,
		  rc == 0 ? json_pack("{s:s, s:I}", "status", "success", "deleted", (json_int_t)gone) : NULL);
	free(summary);
}

/* The retention policy, applied (or with --dry-run only decided: prune
 * has no plan hook, prune_run decides and deletes nothing). */
static int prune_exec(struct cmd_run *r, struct err *e)
{
	const struct prune_args *a = r->args;
	struct prune_report pr = {0};
	int rc = prune_run(r->p, NULL, r->c->dry_run, &pr, e);
	if (rc == 0)
		print_prune(r->c, &pr, r->c->dry_run);
	if (a->scheduled && !r->c->dry_run)
		prune_alert(r, rc, e, &pr);
	prune_report_done(&pr);
	return rc;
}

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.summary = "list the bundles in the backup directory, newest first",
	.description =
		"Shows the bundles in the profile's backup.dir, newest first: date (UTC),\n"
		"type, scope, size, schema revision and what checked it last: not verified,\n"
		"verified <date> (`ferry verify`), drilled <date> (`ferry drill` restored it\n"
		"and found every table as the dump holds it), or verify / drill FAILED <date>.\n",
	.options = list_options,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_JSON,
	.args_size = sizeof(struct list_args),
	.exec = list_exec,
};

const struct cmd_entry cmd_list_prune_entry = {
	.name = "prune",
	.summary = "delete old bundles by the profile's retention policy",
	.description =
		"Keeps the newest backup.keep.last bundles, the newest bundle of each of\n"
		"the last keep.daily days, keep.weekly ISO weeks and keep.monthly months\n"
		"(scheduled bundles), and manual / pre-* bundles younger than\n"
		"keep.manual_days days; deletes the rest. Prints each bundle kept or\n"
		"deleted and the rule that decided it. Runs after each successful backup.\n",
	.options = prune_options,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_DRY_RUN | CMD_JSON,
	.args_size = sizeof(struct prune_args),
	.exec = prune_exec,
};
