/* restore_int — what the parts of the restore flow share (restore.c: the
 * flow, its preflight, verify, safety backup, swap, files; restore_shadow.c:
 * loading the shadow database and its row-count gate), and what the drill
 * (core/flow/drill.c) loads its scratch database with: the same context and
 * the same steps, so a drill restores exactly as a restore does. Not for
 * other modules. */
#ifndef FERRY_FLOW_RESTORE_INT_H
#define FERRY_FLOW_RESTORE_INT_H

#include <stdbool.h>

#include "bundle/bundle.h"
#include "db.h"
#include "dump.h"
#include "flow/restore.h"
#include "journal.h"
#include "replace.h"
#include "restore_scope.h"
#include "step.h"
#include "toc.h"

struct moved_path {
	char *path;        /* the app path */
	char *previous;    /* where the old one went, or NULL when there was none */
};

struct restore_ctx {
	bool unlock_at_end;            /* the run holds the profile lock */
	const struct profile *p;
	const char *bundle;
	const struct restore_opts *o;
	struct restore_result *r;
	struct err *e;
	const struct event_sink *ev;

	bool want_db, want_files;
	char *dbname, *shadow, *stamp;
	/* The kind and suffix of the shadow's name when its first choice is
	 * taken (dbname_unique); NULL = "ferry_shadow", no suffix. */
	const char *shadow_kind, *shadow_suffix;
	char *admin_conninfo, *shadow_conninfo;
	db_conn *admin;
	bool live_exists, shadow_created, swapped;
	bool superuser;             /* the restoring role is one */
	char *live_revision;
	struct pg_tool pg_restore;
	struct toc toc;             /* the dump's table of contents */
	struct manifest_db_properties live_props;   /* --keep-target-settings */
	char *work;                 /* extraction dir */
	char *files_staging;        /* files/ unpacked, under app.root (same filesystem) */
	int jobs;
	bool streaming;             /* restore_stream_applies, decided in prepare */

	struct moved_path *moved;
	size_t nmoved;
	journal *journal;           /* the run's (NULL for a plan) */

	enum restore_mode mode;     /* the whole database, a new one, or some tables' rows */
	bool schema_only;           /* the bundle (or --schema-only) brings no rows */
	struct replace_set set;     /* RESTORE_TABLES: the tables whose rows come back */
};

/* Whether the shadow gets the live database's definitions and the bundle's
 * rows (RESTORE_TABLES), rather than the whole bundle. */
bool restore_tables_mode(const struct restore_ctx *c);

/* restore.c: pg_restore for the manifest's pg_dump and this server, and the
 * dump's table of contents (read from the bundle alone), into c. */
int restore_find_pg_restore(struct restore_ctx *c);
int restore_read_toc(struct restore_ctx *c);

/* restore_files.c: where the bundle's files/ are unpacked to (the staging
 * dir under app.root), and the files step (moves them into place). */
struct bundle_route restore_files_route(const struct restore_ctx *c);
bool restore_wants_files(void *ctx);
char *restore_files_detail(void *ctx);
int restore_step_files(void *ctx, struct step_run *sr, struct err *e);

/* restore_shadow.c: the shadow's name (a leftover one of ferry's dropped),
 * its creation (journaled), the roles file applied, the connection string
 * its load uses, the database properties it ends with. */
int restore_shadow_choose(struct restore_ctx *c, struct err *e);
int restore_shadow_create(struct restore_ctx *c, struct err *e);
int restore_shadow_apply_globals(struct restore_ctx *c, const char *text);
char *restore_shadow_load_conninfo(struct restore_ctx *c);
int restore_shadow_props(struct restore_ctx *c, struct err *e);

/* restore_stream.c: the streaming restore (one pass verifies the bundle
 * and loads the shadow, see there); whether this bundle and these options
 * take it, and the step. */
bool restore_stream_applies(const struct restore_ctx *c);
int restore_stream_step(void *ctx, struct step_run *sr, struct err *e);

/* restore_shadow.c: the steps */
int restore_shadow_check(void *ctx, struct err *e);
char *restore_shadow_detail(void *ctx);
int restore_shadow_step(void *ctx, struct step_run *sr, struct err *e);
bool restore_shadow_gate_applies(void *ctx);
char *restore_shadow_gate_detail(void *ctx);
int restore_shadow_gate_step(void *ctx, struct step_run *sr, struct err *e);

#endif
