/* cmd_list — `ferry list` and `ferry prune`. */
#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include "cli/cmd.h"
#include "flow/list.h"
#include "flow/prune.h"
#include "flow/status.h"
#include "flow/where.h"
#include "util.h"

struct list_args {
	bool all;
	bool names;
	bool offsite;
	bool accept_new_host_key;
};

static const struct cmd_option list_options[] = {
	{.name = "all", .kind = CMD_FLAG, .field = offsetof(struct list_args, all),
	 .help = "bundles of every profile in that directory"},
	{.name = "names", .kind = CMD_FLAG, .field = offsetof(struct list_args, names),
	 .help = "only the bundles' file names, one per line, newest first (for scripts:\n"
		 "ferry verify \"$(ferry list --names | head -n 1)\")"},
	{.name = "offsite", .kind = CMD_FLAG, .field = offsetof(struct list_args, offsite),
	 .help = "local bundles and the copies on every offsite target side by side:\n"
		 "which bundle is where, its size there and its age"},
	CMD_USE(cmd_opt_accept_new_host_key, struct list_args, accept_new_host_key),
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

/* A cell of the side-by-side table: the size, "-" (absent) or "?" (unreachable). */
static const char *where_cell(bool present, uint64_t size, bool unreachable, char *buf, size_t len)
{
	if (present)
		return util_human_bytes(size, buf, len);
	return unreachable ? "?" : "-";
}

/* Local bundles and offsite copies as a table, unreachable targets below. */
static void print_where_text(const struct where_table *t, const char *dir)
{
	if (t->n == 0)
		printf("no bundles in %s or on the offsite targets\n", dir);
	else {
		printf("%-19s  %-6s  %-11s  %10s", "created (UTC)", "age", "type", "local");
		for (size_t i = 0; i < t->ntargets; i++)
			printf("  %10.10s", t->targets[i].t->name);
		printf("  name\n");
	}
	time_t now = time(NULL);
	for (size_t k = 0; k < t->n; k++) {
		const struct where_row *r = &t->v[k];
		char when[32], age[32], sz[32];
		format_time(r->created, when, sizeof when);
		printf("%-19s  %-6s  %-11s  %10s", when, status_human_age(now - r->created, age, sizeof age),
		       r->type, where_cell(r->local_path, r->local_size, false, sz, sizeof sz));
		for (size_t i = 0; i < t->ntargets; i++)
			printf("  %10s", where_cell(r->copies[i].present, r->copies[i].size,
						    t->targets[i].error, sz, sizeof sz));
		printf("  %s\n", r->bundle);
	}
	for (size_t i = 0; i < t->ntargets; i++)
		if (t->targets[i].error)
			printf("%s (%s): unreachable: %s\n", t->targets[i].t->name, t->targets[i].t->type,
			       t->targets[i].error);
}

/* {"targets": [...], "bundles": [{..., "local": {...}|null, "offsite": {TARGET: {...}|null}}]}. */
static void print_where_json(const struct where_table *t)
{
	json_t *targets = json_array(), *bundles = json_array();
	for (size_t i = 0; i < t->ntargets; i++)
		json_array_append_new(targets, json_pack("{s:s, s:s, s:b, s:o}", "name", t->targets[i].t->name,
			"type", t->targets[i].t->type, "reachable", !t->targets[i].error,
			"error", t->targets[i].error ? json_string(t->targets[i].error) : json_null()));
	time_t now = time(NULL);
	for (size_t k = 0; k < t->n; k++) {
		const struct where_row *r = &t->v[k];
		char when[32];
		format_time(r->created, when, sizeof when);
		json_t *off = json_object();
		for (size_t i = 0; i < t->ntargets; i++)
			json_object_set_new(off, t->targets[i].t->name, r->copies[i].present
				? json_pack("{s:s, s:I}", "object", r->copies[i].object,
					    "size_bytes", (json_int_t)r->copies[i].size)
				: json_null());
		json_array_append_new(bundles, json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:o}",
			"name", r->bundle, "profile", r->profile, "type", r->type, "created", when,
			"age_s", (json_int_t)(now - r->created),
			"local", r->local_path ? json_pack("{s:s, s:I}", "path", r->local_path,
							   "size_bytes", (json_int_t)r->local_size)
					       : json_null(),
			"offsite", off));
	}
	cli_print_json(json_pack("{s:o, s:o}", "targets", targets, "bundles", bundles));
}

/* `ferry list --offsite`: every place at once. */
static int list_where_exec(struct cmd_run *r, struct err *e)
{
	const struct list_args *a = r->args;
	struct offsite_flow_opts o = {.profile = r->p, .accept_new_host_key = a->accept_new_host_key,
				      .confirm_host_key = cli_ask_host_key, .hostkey_ud = r->c,
				      .events = r->events, .cancel = r->cancel};
	struct where_table t;
	if (where_list(&o, a->all, &t, e) < 0)
		return -1;
	if (r->c->json)
		print_where_json(&t);
	else
		print_where_text(&t, r->p->backup.dir);
	where_table_done(&t);
	return 0;
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
	if (a->offsite)
		return list_where_exec(r, e);
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
		"and found every table as the dump holds it), or verify / drill FAILED <date>.\n"
		"With --offsite: the local bundles and the copies on the profile's offsite\n"
		"targets side by side (size in each place, \"-\" where it is not, \"?\" where\n"
		"the target could not be reached, which a line below the table explains).\n",
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
