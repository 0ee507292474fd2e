/* cmd_notify — `ferry notify --test`, and the alert after a scheduled run
 * (cli_alert, used by backup, prune, drill and status --notify). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "notify.h"
#include "util.h"

struct notify_args {
	bool test;
};

static const struct cmd_option options[] = {
	{.name = "test", .kind = CMD_FLAG, .field = offsetof(struct notify_args, test),
	 .help = "send a test alert through the profile's notify command and webhook"},
	{0},
};

/* A notifier's log lines on stderr: retries and what its command printed. */
static void print_log(void *ud, const struct event *ev)
{
	(void)ud;
	if (ev->type == EV_LOG)
		fprintf(stderr, "ferry: %s%s\n", ev->level == EV_INFO ? "" : "warning: ", ev->text);
}

static const struct event_sink stderr_sink = {.fn = print_log};

void cli_alert(const struct cli *c, const struct profile *p, const char *event, int rc,
	       const struct err *e, bool warned, const char *summary, json_t *result)
{
	(void)c;
	enum notify_status s = rc < 0 ? NOTIFY_FAILURE : warned ? NOTIFY_WARNING : NOTIFY_SUCCESS;
	if (!notify_wants(p, s)) {
		json_decref(result);
		return;
	}
	if (!result)
		result = rc < 0 ? cli_error_json(e) : json_null();
	char *host = util_hostname();
	char *text = rc < 0 ? xasprintf("ferry: %s of %s FAILED on %s: %s", event, p->name, host, e->msg)
			    : xasprintf("ferry: %s of %s %s on %s: %s", event, p->name,
					warned ? "warned" : "succeeded", host, summary ? summary : "");
	json_t *alert = notify_alert(p, event, s, text, result);
	struct notify_report rep;
	struct err ne = {0};
	if (notify_send(p, alert, &stderr_sink, NULL, &rep, &ne) < 0)
		fprintf(stderr, "ferry: warning: the alert was not delivered everywhere: %s "
			"(the %s's own outcome stands)\n", ne.msg, event);
	json_decref(alert);
	json_decref(result);
	free(text);
	free(host);
}

/* One line per notifier that ran. */
static void print_report(const struct cli *c, const struct profile *p, const struct notify_report *rep,
			 int rc)
{
	if (c->json) {
		cli_print_json(json_pack("{s:s, s:s, s:o, s:o, s:o}", "status", rc == 0 ? "success" : "failed",
			"profile", p->name,
			"command", rep->command_ran ? json_boolean(rep->command_ok) : json_null(),
			"webhook", rep->webhook_ran ? json_boolean(rep->webhook_ok) : json_null(),
			"http_status", rep->http_status ? json_integer(rep->http_status) : json_null()));
		return;
	}
	if (rep->command_ran)
		printf("notify command: %s\n", rep->command_ok ? "ok" : "FAILED");
	if (rep->webhook_ran)
		printf("notify webhook: %s (HTTP %d)\n", rep->webhook_ok ? "ok" : "FAILED", rep->http_status);
}

/* A test alert through every notifier, whatever notify.on says. */
static int notify_exec(struct cmd_run *r, struct err *e)
{
	const struct notify_args *a = r->args;
	const struct profile *p = r->p;
	if (!a->test) {
		err_set(e, ERR_USAGE, "notify: nothing to do without --test");
		return err_hint(e, "ferry notify --test --profile %s sends a test alert", p->name);
	}
	if (!p->has_notify) {
		err_set(e, ERR_PROFILE, "profile %s has no notify section", p->name);
		return err_hint(e, "add \"notify\": {\"command\": \"...\"} or {\"webhook\": {\"url\": \"...\"}} "
				"(profiles/README.md)");
	}
	char *host = util_hostname();
	char *text = xasprintf("ferry: test alert of %s from %s", p->name, host);
	json_t *alert = notify_alert(p, "test", NOTIFY_SUCCESS, text, NULL);
	struct notify_report rep;
	int rc = notify_send(p, alert, &stderr_sink, r->cancel, &rep, e);
	print_report(r->c, p, &rep, rc);
	json_decref(alert);
	free(text);
	free(host);
	return rc;
}

const struct cmd_entry cmd_notify_entry = {
	.name = "notify",
	.summary = "send a test alert through the profile's notify command and webhook",
	.description =
		"With --test, sends an alert (event \"test\", status \"success\") through the\n"
		"profile's notify.command (the alert's JSON on stdin; FERRY_EVENT,\n"
		"FERRY_PROFILE and FERRY_STATUS in its environment) and notify.webhook (a\n"
		"JSON POST, 3 retries), whatever notify.on says. Scheduled runs (--scheduled)\n"
		"and `ferry status --notify` send the same alerts when they fail or warn.\n",
	.footer = "Exit status: 0 every notifier succeeded; 1 one failed; 2 no notify section.\n",
	.options = options,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_JSON | CMD_CANCEL,
	.args_size = sizeof(struct notify_args),
	.exec = notify_exec,
};
