/* migrate_db — schema migrations: delegated to the profile's
 * migrations.command (alembic, sqlx, rails, anything), or ferry's own
 * runner over migrations.dir.
 *
 * The own runner applies files NNNN_name.up.sql in order, each in its own
 * transaction, recorded in ferry_schema_migrations (version, name, SHA-256
 * checksum, applied_at); NNNN_name.down.sql undoes one. An applied file
 * that was edited afterwards is reported as drifted. */
#ifndef FERRY_MIGRATE_DB_H
#define FERRY_MIGRATE_DB_H

#include <signal.h>
#include <stdbool.h>

#include "err.h"
#include "event.h"
#include "profile/profile.h"

struct migration {
	char *version;       /* "0001" */
	char *name;          /* "create_tasks" */
	char *up_path, *down_path;   /* down_path NULL when there is none */
	char checksum[65];   /* of the up file; "" when the file is gone */
	bool applied;
	char *applied_at;    /* when applied */
	bool drifted;        /* applied, and the file changed since */
	bool missing;        /* applied, but no file any more */
};

struct migration_status {
	bool delegated;      /* migrations.command: see output */
	char *output;        /* the status command's output (delegated) */
	struct migration *v; /* own runner: by version */
	size_t n;
};
void migration_status_done(struct migration_status *s);

/* Status: applied (with dates) and pending migrations. */
int migrate_db_status(const struct profile *p, struct migration_status *out, struct err *e);

/* Apply pending migrations up to `to` (NULL = all). */
int migrate_db_up(const struct profile *p, const char *to, const struct event_sink *ev,
		  volatile sig_atomic_t *cancel, struct err *e);

/* Undo the last applied migration, or every one newer than `to`. */
int migrate_db_rollback(const struct profile *p, const char *to, const struct event_sink *ev,
			volatile sig_atomic_t *cancel, struct err *e);

/* Pending migrations count (0 for delegated runners without status). */
int migrate_db_pending(const struct profile *p, size_t *pending, struct err *e);

#endif
