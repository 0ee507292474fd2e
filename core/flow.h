/* flow — the operator's flows over the engine: backup, verify, list,
 * prune. Each takes a profile and an options struct, reports progress
 * through an event sink, and returns 0 or -1 with struct err filled.
 * Results are structs owned by the caller and freed with their _done. */
#ifndef FERRY_FLOW_H
#define FERRY_FLOW_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "db.h"
#include "bundle/bundle.h"
#include "dump.h"
#include "err.h"
#include "event.h"
#include "manifest.h"
#include "plan.h"
#include "profile/profile.h"
#include "step.h"

/* --- backup ------------------------------------------------------------- */

struct backup_opts {
	const char *out_dir;          /* NULL = the profile's backup.dir */
	const char *type;             /* NULL = "manual" */
	bool db_only, files_only;
	bool schema_only, data_only;
	const struct strv *schemas, *tables, *exclude_tables;
	enum dump_format format;      /* default DUMP_DIRECTORY */
	int jobs;                     /* 0 = number of cores */
	const char *compression;      /* NULL = the profile's (zstd) */
	int level;                    /* 0 = the profile's */
	bool globals;                 /* also when the profile's backup.globals */
	bool no_prune;                /* skip retention after success */
	bool skip_missing_paths;      /* leave out app paths that do not exist (safety backups) */
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
};

struct prune_decision {
	char *file;                   /* bundle file name */
	bool keep;
	char *rule;                   /* "last 10", "daily 2026-11-20", "manual < 30 days", ... */
};

struct prune_report {
	struct prune_decision *v;
	size_t n;
};
void prune_report_done(struct prune_report *r);

struct backup_result {
	char *path;                   /* the bundle */
	uint64_t size;                /* bytes on disk */
	double duration_s;
	struct manifest manifest;     /* what went in */
	struct prune_report pruned;   /* retention run afterwards */
	char *prune_warning;          /* retention failed (the backup did not) */
	struct flow_report report;    /* each step's outcome and time */
};
void backup_result_done(struct backup_result *r);

/* Dry-run plan: what would be dumped, paths, estimated size, output name.
 * Reads the database (size, revision), writes nothing. */
int backup_plan(const struct profile *p, const struct backup_opts *o,
		struct plan *plan, struct err *e);
int backup_run(const struct profile *p, const struct backup_opts *o,
	       struct backup_result *r, struct err *e);

/* --- verify ------------------------------------------------------------- */

struct verify_opts {
	bool deep;                    /* also restore into a scratch database */
	const struct profile *profile;/* where --deep restores (required for it) */
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
	/* Unpack members in the same pass (bundle_extract_routes; none = only
	 * check). On failure the destinations may hold a partial tree; the
	 * caller removes it. */
	const struct bundle_route *extract;
	size_t nextract;
};

struct verify_result {
	struct manifest manifest;
	size_t members_checked;
	uint64_t bytes_checked;
	bool deep_done;
	double duration_s;
};
void verify_result_done(struct verify_result *r);

/* Re-hash every member against the manifest and SHA256SUMS; ERR_VERIFY
 * naming the first member that differs. Records the outcome beside the
 * bundle (<bundle>.verified) for `ferry list`. Steps: preflight, verify,
 * deep (with o->deep). */
int verify_run(const char *bundle_path, const struct verify_opts *o,
	       struct verify_result *r, struct err *e);
/* The plan of verify_run (checks that the bundle is there). */
int verify_plan(const char *bundle_path, const struct verify_opts *o, struct plan *plan,
		struct err *e);
/* The verifying pass alone, no step events and no .verified record: what a
 * flow's own verify step runs (restore, migrate). Unpacks o->extract. */
int verify_pass(const char *bundle_path, const struct verify_opts *o, struct verify_result *r,
		struct err *e);

/* --- restore and rollback ---------------------------------------------- */

/* Asks the operator to confirm a destructive plan, e.g. by typing the
 * database name. Returns 0 when confirmed, -1 with e filled (ERR_REFUSED)
 * when not. */
typedef int (*flow_confirm_fn)(void *ud, const struct plan *plan, const char *dbname,
			       struct err *e);

struct restore_opts {
	bool db_only, files_only;
	bool schema_only, data_only;
	int jobs;                     /* pg_restore -j; 0 = number of cores */
	bool no_safety_backup;
	int keep_previous;            /* previous databases / file sets kept; default 1 */
	bool migrate;                 /* run the profile's migrations afterwards */
	bool keep_target_settings;    /* the restored database gets the live one's settings,
	                               * ACL, comment and connection limit, not the bundle's */
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
	struct flow_report report;    /* each step's outcome and time */
};
void restore_result_done(struct restore_result *r);

/* Verify the bundle and read the live side; the plan of what would happen. */
int restore_plan(const struct profile *p, const char *bundle, const struct restore_opts *o,
		 struct plan *plan, struct err *e);

/* Verify → preflight → plan + confirm → safety backup → shadow database,
 * pg_restore, row-count gate → atomic swap → files → hooks (→ migrate).
 * Nothing destructive happens before the swap; a failure before it leaves
 * the live database and files exactly as they were. */
int restore_run(const struct profile *p, const char *bundle, const struct restore_opts *o,
		struct restore_result *r, struct err *e);

/* The last restore of a profile, for rollback: in its backup.dir. */
#define RESTORE_STATE_FILE ".ferry-restore-state.json"

/* Swap the previous database (and files) of the last restore back. */
int rollback_run(const struct profile *p, const struct restore_opts *o, char **report,
		 struct err *e);
int rollback_plan(const struct profile *p, const struct restore_opts *o, struct plan *plan,
		  struct err *e);

/* --- migrate to a new server ------------------------------------------- */

/* Asked when the target's SSH host key is unknown; non-zero = accept. */
typedef int (*flow_hostkey_fn)(void *ud, const char *host, int port, const char *fingerprint,
			       const char *type);

struct migrate_opts {
	bool yes;                     /* confirm without asking */
	bool accept_new_host_key;     /* record an unknown host key */
	bool break_lock;              /* remove a stale lock on the target */
	flow_confirm_fn confirm;      /* e.g. copying ferry to the target */
	void *confirm_ud;
	flow_hostkey_fn confirm_host_key;
	void *hostkey_ud;
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
};

struct migrate_result {
	char *bundle;                 /* made here */
	char *remote_bundle;          /* where it went */
	char *registry_file;          /* rewritten, or NULL */
	char *log_file;               /* migration_log.json */
	char *summary_file;           /* the human summary */
	char *summary;                /* its text */
	struct strv skipped;          /* steps finished by an earlier run */
	double duration_s;
};
void migrate_result_done(struct migrate_result *r);

/* Every step with hosts, paths and sizes; connects to nothing. */
int migrate_plan(const struct profile *from, const struct profile *to, const struct migrate_opts *o,
		 struct plan *plan, struct err *e);

/* Preflight both ends and lock the target → backup here → copy over SSH
 * (resumable, verified) → `ferry restore` there, its progress live →
 * registry → restart services → health, revisions and row counts on both
 * sides → migration log. A re-run continues where the last one stopped. */
int migrate_run(const struct profile *from, const struct profile *to, const struct migrate_opts *o,
		struct migrate_result *r, struct err *e);

/* --- deploy --------------------------------------------------------------- */

struct deploy_opts {
	bool yes;
	bool skip_backup;             /* no restore point */
	bool break_lock;
	bool accept_new_host_key;
	flow_hostkey_fn confirm_host_key;
	void *hostkey_ud;
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
};

struct deploy_result {
	char *restore_point;          /* the pre-deploy bundle (there when remote), or NULL */
	bool remote;                  /* ran over SSH */
	bool rolled_back;             /* the profile's rollback commands ran */
	char *restore_command;        /* the exact `ferry restore` of the restore point */
	char *log_file, *summary_file, *summary;
	double duration_s;
};
void deploy_result_done(struct deploy_result *r);

int deploy_plan(const struct profile *p, const struct deploy_opts *o, struct plan *plan,
		struct err *e);

/* Lock → restore point (pre-deploy bundle) → pre_deploy hooks → schema
 * migrations → restart services → health checks → post_deploy hooks → log.
 * Runs on the profile's ssh host when it has one, else here. When a step
 * after the restore point fails: the profile's services.rollback commands,
 * and the exact restore command in the result and the error hint. */
int deploy_run(const struct profile *p, const struct deploy_opts *o, struct deploy_result *r,
	       struct err *e);

/* --- counts: what is in a database, for comparing two sides ----------- */

struct counts_result {
	char *database;
	char *schema_revision;        /* NULL when none */
	struct db_table_counts tables;
};
void counts_result_done(struct counts_result *r);

/* Per-table row counts (in one REPEATABLE READ snapshot) and the schema
 * revision of the profile's database. */
int counts_read(const struct profile *p, struct counts_result *r, struct err *e);

/* --- list and prune ----------------------------------------------------- */

struct bundle_info {
	char *path;
	char *name;
	char *profile;
	char *type;
	char *revision;
	time_t created;               /* from the name (UTC) */
	uint64_t size;
	char *verified;               /* "ok <date>", "FAILED <date>", or NULL */
};

struct bundle_list {
	struct bundle_info *v;        /* newest first */
	size_t n;
};
void flow_bundle_list_done(struct bundle_list *l);

/* Bundles in dir (any profile when profile_name is NULL), newest first.
 * A missing dir is an empty list. */
int flow_list_bundles(const char *dir, const char *profile_name, struct bundle_list *out,
		    struct err *e);

/* Parse "<profile>_<YYYYMMDD>_<HHMMSS>_<type>_<rev>.ferry.tar.*". */
int flow_parse_bundle_name(const char *name, struct bundle_info *out);

/* The retention decision for bundles (newest first) at time now. */
void prune_select(const struct bundle_list *l, const struct profile_keep *keep, time_t now,
		  struct prune_report *out);

/* Apply retention in dir for the profile; with dry_run delete nothing. */
int prune_run(const struct profile *p, const char *dir, bool dry_run,
	      struct prune_report *out, struct err *e);

#endif
