/* backup — one consistent snapshot of the database plus the app files into
 * one bundle (core/flow/backup.c). Results are the caller's, freed with
 * backup_result_done. */
#ifndef FERRY_FLOW_BACKUP_H
#define FERRY_FLOW_BACKUP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "err.h"
#include "event.h"
#include "plan.h"
#include "profile/profile.h"
#include "flow/offsite.h"
#include "step.h"
#include "dump.h"
#include "manifest.h"
#include "flow/prune.h"

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
	/* Copy the bundle to every offsite target (also when the profile's
	 * backup.offsite): the step "offsite", a push (core/flow/offsite.h)
	 * whose events carry the ids "offsite/<step>". */
	bool offsite;
	bool accept_new_host_key;     /* sftp targets: record an unknown host key */
	int (*confirm_host_key)(void *ud, const char *host, int port, const char *fingerprint,
				const char *type);
	void *hostkey_ud;
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
};

struct backup_result {
	char *path;                   /* the bundle */
	uint64_t size;                /* bytes on disk */
	double duration_s;
	struct manifest manifest;     /* what went in */
	struct prune_report pruned;   /* retention run afterwards */
	char *prune_warning;          /* retention failed (the backup did not) */
	struct offsite_push_result offsite;   /* the offsite copies, when made */
	struct flow_report report;    /* each step's outcome and time */
};
void backup_result_done(struct backup_result *r);

/* Dry-run plan: what would be dumped, paths, estimated size, output name.
 * Reads the database (size, revision), writes nothing. */
int backup_plan(const struct profile *p, const struct backup_opts *o,
		struct plan *plan, struct err *e);
int backup_run(const struct profile *p, const struct backup_opts *o,
	       struct backup_result *r, struct err *e);

#endif
