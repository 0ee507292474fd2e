/* remote — the protocol between two ferries, and running a ferry on the
 * other end of an SSH connection.
 *
 * A ferry run with `--json` prints its events as JSON lines on stdout
 * ({"event": "step_start", "step": ..., "text": ..., ...}) and, last, its
 * result: a JSON object with "status" and "protocol" (REMOTE_PROTOCOL).
 * The result objects of backup, restore, counts and verify are built here
 * (the CLI's --json printers use these encoders) and read back here by
 * migrate, deploy and drill: a key is named in one place only. A remote
 * whose results carry an older "protocol" (or none) is refused with a
 * clear message; `ferry version --json` says which protocol a ferry speaks.
 *
 * Ownership: encoders return a new json_t reference (json_decref it);
 * decoders fill caller-owned structs freed with their _done functions. */
#ifndef FERRY_REMOTE_H
#define FERRY_REMOTE_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>

#include "err.h"
#include "event.h"
#include "flow/backup.h"
#include "flow/verify.h"
#include "flow/restore.h"
#include "flow/counts.h"
#include "ssh/ssh.h"

#define REMOTE_PROTOCOL 1

/* --- events --------------------------------------------------------------- */

/* One event as a JSON line (no newline); caller frees. */
char *remote_event_line(const struct event *ev);

/* An event line back into an event: 1 and *ev filled (strings borrowed
 * from o), 0 when o is not an event (a result), -1 when not an object. */
int remote_event_parse(const json_t *o, struct event *ev);

/* --- results -------------------------------------------------------------- */

json_t *remote_backup_json(const struct backup_result *r);
json_t *remote_restore_json(const struct restore_result *r);
json_t *remote_counts_json(const struct counts_result *r);
json_t *remote_verify_json(const char *path, const struct verify_result *r);

/* The parts of a remote backup result its callers use. */
struct remote_backup {
	char *file;
	long long total_rows;
};
int remote_backup_parse(const json_t *o, struct remote_backup *out, struct err *e);
void remote_backup_done(struct remote_backup *r);

struct remote_restore {
	long long total_rows;
	long long tables;
	char *previous_db;            /* NULL when there was none */
};
int remote_restore_parse(const json_t *o, struct remote_restore *out, struct err *e);
void remote_restore_done(struct remote_restore *r);

/* A counts result into a struct counts_result. */
int remote_counts_parse(const json_t *o, struct counts_result *out, struct err *e);

/* The protocol of a result: ERR_TOOL naming both versions when it is
 * older than ours (a result without "protocol" is protocol 0). */
int remote_check_protocol(const json_t *result, const char *who, struct err *e);

/* --- a ferry over SSH --------------------------------------------------------- */

struct remote_ferry {
	sshc_conn *ssh;               /* borrowed */
	const char *path;             /* the ferry binary there */
	const char *profiles_json;    /* {"name": {...}} handed on stdin (--profiles -) */
	const char *profile;          /* its name */
};

struct remote_run_opts {
	const struct event_sink *events;   /* the remote's events, re-emitted (NULL = dropped) */
	const char *step_prefix;      /* their step ids become "<prefix>/<id>"; NULL = as they are */
	volatile sig_atomic_t *cancel;
	char stderr_tail[2048];       /* filled: the last bytes of its stderr */
};

/* `<path> ARGS --profiles - --profile NAME` there (ARGS should include
 * --json); every event line is re-emitted (origin = the host), the result
 * object is handed back in *result (NULL when none came). A non-zero exit
 * is ERR_FAILED naming the command, its status and what it said. */
int remote_ferry_run(const struct remote_ferry *rf, const char *args, struct remote_run_opts *o,
		     json_t **result, struct err *e);

/* The remote ferry's version ("0.1.0") and protocol, or -1 when it does
 * not run there. */
int remote_ferry_version(const struct remote_ferry *rf, char **version, int *protocol);

#endif
