/* drill — a restore drill: a bundle proven restorable, byte for byte, with
 * the time it takes (core/flow/drill.c, a table of steps):
 *
 *   (from)     the bundle fetched from an offsite target first, as `ferry
 *              restore --from` fetches it (core/flow/offsite.h: connect,
 *              download, decrypt, verify), into the drill's own work
 *              directory in backup.dir, removed afterwards
 *   preflight  the bundle (default: the newest full one of the profile), its
 *              manifest and table of contents, the server, pg_restore
 *   verify     the manifest's signature (signing.public_key), every member's
 *              SHA-256, unpacking the dump (drill_verify_bundle)
 *   load       a scratch database <db>_drill_<time> on the server (--server:
 *              another profile's), loaded with the restore's own steps:
 *              roles, pg_restore, database-level properties
 *   gate       every table's row count against the manifest
 *   content    every table's COPY text and every large object against the
 *              dump's data files (core/content.h)
 *   checks     the profile's drill.checks, in a READ ONLY transaction
 *   record     the scratch database dropped (unless keep), the result
 *              appended to <log_dir>/drill_log.json and to the bundle's
 *              .verified record
 *
 * The scratch database is recorded in a journal before it is made, dropped
 * after success, failure and Ctrl-C, and a leftover of a killed drill is
 * dropped by the next one. Nothing else on the server is changed (roles
 * from the bundle's globals are created as a restore creates them).
 *
 * Ownership: results are the caller's, freed with drill_result_done. */
#ifndef FERRY_FLOW_DRILL_H
#define FERRY_FLOW_DRILL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "content.h"
#include "err.h"
#include "event.h"
#include "manifest.h"
#include "plan.h"
#include "profile/profile.h"
#include "step.h"

struct drill_opts {
	const char *bundle;           /* a path or a name in backup.dir; NULL = the newest full bundle;
				       * with from: a name on the target, NULL = its newest full bundle */
	const char *from;             /* an offsite target: the bundle is fetched from there first */
	const char *identity;         /* with from: decrypts an encrypted copy */
	bool accept_new_host_key;     /* with from: an SFTP target's unknown host key is recorded */
	int (*confirm_host_key)(void *ud, const char *host, int port, const char *fingerprint,
				const char *type);
	void *hostkey_ud;
	const struct profile *server; /* whose PostgreSQL takes the scratch database; NULL = the profile's */
	bool keep;                    /* keep the scratch database (the next drill drops it) */
	const char *check_only;       /* check this existing database (a kept scratch): no load */
	int jobs;                     /* pg_restore -j; 0 = number of cores */
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
};

/* One application check's outcome. */
struct drill_check {
	char *name, *expect, *got;    /* got NULL when the query failed */
	char *error;                  /* the query's error, or NULL */
	bool ok;
};

struct drill_result {
	char *bundle;                 /* its path */
	struct manifest manifest;
	char *server;                 /* the profile whose server took the scratch database */
	char *scratch;                /* its name (NULL before it was chosen) */
	char *connect;                /* kept: a connection string for it, password masked */
	bool kept;
	bool ok;
	char *started_at;             /* UTC, ISO-8601 */
	char *bundle_created;         /* the manifest's created_at */
	uint64_t bundle_bytes, database_bytes;
	size_t tables;
	int64_t rows;
	double restore_s;             /* verify + load + gate: what a restore of it would take */
	double content_s, checks_s, duration_s;
	bool content_checked;         /* false: skipped (a custom-format dump), see content_note */
	char *content_note;
	struct content_result content;
	struct drill_check *checks;
	size_t nchecks;
	const char *signature;        /* "verified" (signing.public_key) or "unsigned" */
	char *from;                   /* the offsite target it was fetched from, or NULL */
	char *from_object;            /* the object fetched there */
	double fetch_s;               /* the fetch: download, decrypt, verify */
	struct flow_report report;
	struct err error;             /* the failure, when !ok */
	char *log_path;               /* <log_dir>/drill_log.json */
};
void drill_result_done(struct drill_result *r);

/* The plan: the same checks the run makes, nothing changed. */
int drill_plan(const struct profile *p, const struct drill_opts *o, struct plan *plan, struct err *e);

/* The drill (see above): 0 when every step passed; -1 with e filled
 * (ERR_VERIFY when a check failed). r is filled either way. */
int drill_run(const struct profile *p, const struct drill_opts *o, struct drill_result *r,
	      struct err *e);

/* The bundle a drill takes by default: the newest full bundle of profile
 * p in its backup.dir (caller frees); NULL with e filled when there is none. */
char *drill_newest_full_bundle(const struct profile *p, struct err *e);

#endif
