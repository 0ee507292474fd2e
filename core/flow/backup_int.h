/* backup_int — what the parts of the backup flow share (backup.c: the
 * flow, its checks and the dump; backup_write.c: hashing the members and
 * writing the bundle). Not for other modules. */
#ifndef FERRY_FLOW_BACKUP_INT_H
#define FERRY_FLOW_BACKUP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bundle/bundle.h"
#include "db.h"
#include "dump.h"
#include "flow/backup.h"
#include "revision.h"
#include "step.h"

/* One file, directory or link that goes into the bundle. */
struct item {
	char *member;        /* name inside the bundle */
	char *src;           /* path on disk */
	enum bundle_type kind;
	uint64_t size;
	unsigned mode;
	time_t mtime;
	char *link_target;
	char sha256[65];
};

struct backup_ctx {
	const struct profile *p;
	const struct backup_opts *o;
	const struct event_sink *ev;
	struct backup_result *r;
	struct err *e;

	char *out_dir;
	char *conninfo;
	char *type;
	bool want_db, want_files, want_globals;
	enum bundle_compression compression;
	int level, jobs;
	time_t started_wall;
	double started;

	db_conn *db;
	struct db_info info;
	struct pg_tool pg_dump, pg_restore;   /* pg_restore lists the dump's contents */
	struct revision rev;
	struct revision_command rev_cmd;   /* migrations.status_command's report */

	char *staging;           /* temp dir next to the output */
	struct item *items;
	size_t nitems;
	uint64_t files_bytes;    /* app files, from the walk */
	uint64_t write_total;    /* bytes the writer is handed: members, manifest, SHA256SUMS */
	double last_tick;        /* dump progress pacing */
	const char *walk_prefix; /* member name prefix while walking */
	char *final_path;
	bool prepared;
};

void backup_item_add(struct backup_ctx *c, const struct item *it);
int backup_check_cancel(struct backup_ctx *c);
int backup_walk_collect(void *ud, const struct bundle_walk_entry *ent, struct err *e);
char *backup_bundle_file_name(const struct backup_ctx *c);
uint64_t backup_estimate_need(const struct backup_ctx *c);

/* backup_write.c: the steps "hash" and "write". */
char *backup_hash_detail(void *ctx);
int backup_step_hash(void *ctx, struct step_run *sr, struct err *e);
char *backup_write_detail(void *ctx);
int backup_step_write(void *ctx, struct step_run *sr, struct err *e);

#endif
