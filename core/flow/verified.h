/* verified — the record beside a bundle, <bundle>.verified (mode 0600,
 * written atomically): what the last check of the bundle found, for
 * `ferry list`, `ferry status` and the wizards.
 *
 *   ok 2026-11-21T19:50:00Z                       the last `ferry verify` (or a
 *   FAILED 2026-11-21T19:50:00Z <why>             drill's verifying pass)
 *   drilled 2026-11-22T05:00:00Z ok               the last `ferry drill` of it
 *   drilled 2026-11-22T05:00:00Z FAILED <why>
 *
 * The first line is the verify outcome, as older ferries wrote it alone;
 * each writer keeps the other's line. Strings are the caller's to free. */
#ifndef FERRY_FLOW_VERIFIED_H
#define FERRY_FLOW_VERIFIED_H

#include <stdbool.h>

struct verified_record {
	char *verify;     /* "ok <time>", "FAILED <time> <why>", or NULL */
	char *drill;      /* "<time> ok", "<time> FAILED <why>" (after "drilled "), or NULL */
};

/* The record of bundle (both NULL when there is none). */
void verified_read(const char *bundle, struct verified_record *out);
void verified_record_done(struct verified_record *r);

/* Replace one line of the record (why: the failure, with ok false). */
void verified_write_verify(const char *bundle, bool ok, const char *why);
void verified_write_drill(const char *bundle, bool ok, const char *why);

/* Whether a record's line says ok. */
bool verified_ok(const char *line);

#endif
