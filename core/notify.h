/* notify — alerts: after a scheduled run (backup, prune, drill) that fails
 * or warns, and from `ferry status --notify`, the profile's notify section
 * is called: its command with the alert's JSON on stdin and FERRY_EVENT,
 * FERRY_PROFILE, FERRY_STATUS in its environment, and its webhook with the
 * same JSON as a POST (core/http.c: timeouts, 3 retries, TLS verified).
 *
 * The alert:
 *   {"text": "ferry: backup of production FAILED on db1: ...",
 *    "event": "backup", "profile": "production", "status": "failure",
 *    "host": "db1", "time": "2026-11-21T02:00:04Z", "ferry_version": "0.1.0",
 *    "result": {... the run's JSON result or error ...}}
 *
 * A notifier that fails is logged (and reported to the caller); it never
 * changes the outcome of the run it reports on. */
#ifndef FERRY_NOTIFY_H
#define FERRY_NOTIFY_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

#include "err.h"
#include "event.h"
#include "profile/profile.h"

enum notify_status { NOTIFY_SUCCESS, NOTIFY_WARNING, NOTIFY_FAILURE };

/* "success", "warning", "failure" (the words of notify.on). */
const char *notify_status_name(enum notify_status s);

/* Whether p's notify.on asks to be told of s (false without a notify section). */
bool notify_wants(const struct profile *p, enum notify_status s);

/* The alert as JSON (a new reference); result (may be NULL) is copied in. */
json_t *notify_alert(const struct profile *p, const char *event, enum notify_status s, const char *summary,
		     const json_t *result);

/* What each notifier did. */
struct notify_report {
	bool command_ran, command_ok;
	bool webhook_ran, webhook_ok;
	int http_status;              /* the webhook's last answer; 0 = none */
};

/* Send alert through p's command and webhook (whichever it has), whatever
 * notify.on says. 0 when each one that ran succeeded; else -1 with e naming
 * the first failure (ERR_FAILED); both are tried either way, and each
 * failure is also logged to ev. */
int notify_send(const struct profile *p, const json_t *alert, const struct event_sink *ev,
		volatile sig_atomic_t *cancel, struct notify_report *rep, struct err *e);

#endif
