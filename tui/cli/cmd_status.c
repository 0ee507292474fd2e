/* cmd_status — `ferry status`: the self-check, one line per check. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cmd.h"
#include "flow/status.h"

struct status_args {
	bool notify;
};

static const struct cmd_option options[] = {
	{.name = "notify", .kind = CMD_FLAG, .field = offsetof(struct status_args, notify),
	 .help = "when a check fails or warns, tell the profile's notify section\n"
		 "(scheduled daily by `ferry schedule install` when the profile has one)"},
	{0},
};

/* "[ ok ]", "[warn]", "[FAIL]", coloured on a terminal. */
static void print_mark(const struct cli *c, enum status_state s)
{
	static const char *const text[] = {"[ ok ]", "[warn]", "[FAIL]"};
	static const char *const colour[] = {"\033[32m", "\033[33m", "\033[31m"};
	if (c->color)
		printf("%s%s\033[0m", colour[s], text[s]);
	else
		fputs(text[s], stdout);
}

/* One line per check, printed as soon as it is done. */
static void print_check(void *ud, const struct status_check *ch)
{
	const struct cli *c = ud;
	print_mark(c, ch->state);
	printf(" %-12s %s\n", ch->name, ch->detail);
	fflush(stdout);
}

/* The closing line: the verdict and the counts. */
static void print_summary(const struct status_report *r)
{
	size_t warn = 0, fail = 0;
	for (size_t i = 0; i < r->n; i++) {
		warn += r->v[i].state == STATUS_WARN;
		fail += r->v[i].state == STATUS_FAIL;
	}
	printf("status %s: %zu check%s, %zu warning%s, %zu failed (%.1f s)\n",
	       status_state_name(status_overall(r)), r->n, r->n == 1 ? "" : "s", warn,
	       warn == 1 ? "" : "s", fail, r->duration_s);
}

/* The first check in state s, or NULL. */
static const struct status_check *first_in(const struct status_report *r, enum status_state s)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].state == s)
			return &r->v[i];
	return NULL;
}

/* --notify: a failed or warning report goes to the profile's notify section. */
static void alert(const struct cmd_run *run, const struct status_report *r)
{
	enum status_state overall = status_overall(r);
	const struct status_check *first = first_in(r, overall);
	struct err fe = {0};
	char *summary = NULL;
	if (overall == STATUS_FAIL)
		err_set(&fe, status_fail_kind(r), "status: %s: %s", first->name, first->detail);
	else if (first && overall == STATUS_WARN)
		summary = xasprintf("%s: %s", first->name, first->detail);
	else
		summary = xasprintf("%zu checks ok", r->n);
	char *text = status_to_json(r);
	json_t *result = json_loads(text, 0, NULL);
	cli_alert(run->c, run->p, "status", overall == STATUS_FAIL ? -1 : 0, &fe, overall == STATUS_WARN,
		  summary, result);
	free(text);
	free(summary);
}

/* Run the checks and print them; the exit status of the report. */
static int status_exec(struct cmd_run *run, struct err *e)
{
	const struct cli *c = run->c;
	struct status_opts o = {.cancel = run->cancel};
	if (!c->json) {
		o.on_check = print_check;
		o.ud = run->c;
	}
	struct status_report r;
	if (status_run(run->p, &o, &r, e) < 0) {
		status_report_done(&r);
		return -1;
	}
	if (c->json) {
		char *text = status_to_json(&r);
		printf("%s\n", text);
		free(text);
	} else {
		print_summary(&r);
	}
	const struct status_args *a = run->args;
	if (a->notify)
		alert(run, &r);
	int code = err_exit_code(status_fail_kind(&r));
	status_report_done(&r);
	return code;
}

static int status_plan_hook(struct cmd_run *run, struct plan *plan, struct err *e)
{
	return status_plan(run->p, NULL, plan, e);
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.summary = "self-check: database, migrations, backups, space, health, ssh, services",
	.description =
		"Checks the profile's setup and prints one line per check, marked\n"
		"ok, warn or FAIL:\n"
		"\n"
		"  database     reachable (connect + first query in ms), server version\n"
		"  schema       schema revision; pending migrations (migrations.dir)\n"
		"  size         database size and number of tables\n"
		"  connections  sessions on the database; warn at 80% of max_connections\n"
		"  backup       the newest bundle in backup.dir: age and verification;\n"
		"               warn when none or older than 2 days, fail when its\n"
		"               verification failed\n"
		"  drill        the newest `ferry drill`: age, outcome, restore time; warn\n"
		"               when none or older than drill.max_age_days (8), fail when\n"
		"               it failed\n"
		"  space        free space in backup.dir; warn under 10% or under twice\n"
		"               the newest bundle\n"
		"  health       each health URL, one GET (no retries)\n"
		"  ssh          TCP connect to ssh.host:port (5 s) and its SSH banner\n"
		"  service      each services.status command: ok when it exits 0\n"
		"\n"
		"Warnings do not change the exit status. When a check fails, ferry exits\n"
		"with the code of the first failed check's kind: 3 database, 4 backup\n"
		"verification or a failed drill, 5 ssh, 6 health, 1 a service status command.\n",
	.options = options,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_DRY_RUN | CMD_JSON | CMD_CANCEL,
	.args_size = sizeof(struct status_args),
	.json_help = "{\"status\":\"ok|warn|fail\",\"checks\":[{\"name\",\"state\",\"detail\",\n"
		     "and the check's numbers: latency_ms, server_version,\n"
		     "schema_revision, pending_migrations, size_bytes, tables,\n"
		     "connections, last_backup{...}, free_bytes, http_status, ...}]}",
	.plan = status_plan_hook,
	.exec = status_exec,
};
