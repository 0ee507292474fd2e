/* restore — a bundle back, never leaving the live database half-restored
 * (core/flow/restore.c). Results are the caller's, freed with
 * restore_result_done. */
#ifndef FERRY_FLOW_RESTORE_H
#define FERRY_FLOW_RESTORE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "err.h"
#include "event.h"
#include "plan.h"
#include "profile/profile.h"
#include "step.h"
#include "manifest.h"
#include "flow/flow.h"

struct restore_opts {
	bool db_only, files_only;
	bool schema_only, data_only;
	int jobs;                     /* pg_restore -j; 0 = number of cores */
	bool no_safety_backup;
	int keep_previous;            /* previous databases / file sets kept; default 1 */
	bool migrate;                 /* run the profile's migrations afterwards */
	bool keep_target_settings;    /* the restored database gets the live one's settings,
	                               * ACL, comment and connection limit, not the bundle's */
	const char *as_db;            /* --as NEWDB: into a new database, the live one untouched */
	bool update_roles;            /* --update-roles: roles that exist take the bundle's
	                                 attributes, settings and memberships */
	bool replace_data;            /* --replace-data: a schema-only bundle may replace rows */
	const struct strv *tables;    /* --table: only these tables' rows (globs) */
	const struct strv *schemas;   /* --schema: only these schemas' tables' rows */
	bool yes;                     /* confirmed already (--yes) */
	flow_confirm_fn confirm;      /* NULL and !yes = refuse */
	void *confirm_ud;
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
};

struct restore_table {
	char *schema, *table;
	int64_t expected, actual;
};

struct restore_result {
	char *bundle;
	struct manifest manifest;
	char *safety_bundle;          /* NULL when skipped */
	char *previous_db;            /* NULL when the database did not exist */
	struct restore_table *tables;
	size_t ntables;
	int64_t total_rows;
	struct strv previous_paths;   /* app paths kept as <path>.prev-<ts> */
	double duration_s;            /* work only: the time spent confirming is left out */
	uint64_t staging_peak_bytes;  /* the streaming load's peak staging on disk (0: it unpacked) */
	struct flow_report report;    /* each step's outcome and time */
};
void restore_result_done(struct restore_result *r);

/* The last restore of a profile, for rollback: in its backup.dir. */
#define RESTORE_STATE_FILE ".ferry-restore-state.json"

/* Verify the bundle and read the live side; the plan of what would happen. */
int restore_plan(const struct profile *p, const char *bundle, const struct restore_opts *o,
		 struct plan *plan, struct err *e);

/* The steps restore_run will walk over a bundle that is still to be
 * fetched (an offsite copy): the table's steps the options make apply,
 * without their details (those need the bundle). */
void restore_plan_fetched(const struct profile *p, const struct restore_opts *o, struct plan *plan);

/* Verify → preflight → plan + confirm → safety backup → shadow database,
 * pg_restore, row-count gate → atomic swap → files → hooks (→ migrate).
 * Nothing destructive happens before the swap; a failure before it leaves
 * the live database and files exactly as they were. */
int restore_run(const struct profile *p, const char *bundle, const struct restore_opts *o,
		struct restore_result *r, struct err *e);

#endif
