/* init — `ferry init`: the first profile of a machine, from what is found
 * and answered. A table of steps (core/step.h): preflight (the database
 * answers: its server version, size, tables and schema revision; the app
 * root and paths exist; the backup and log dirs can be made; the profile's
 * name is free, or --force) → make the backup dir (0700) → make the log
 * dir → write the profile (core/profile/save.c, validated before it
 * replaces the file) → check it as `ferry profiles check` does.
 *
 * And what the front ends suggest before they ask: the database URL from
 * $DATABASE_URL, a .env, the PG* variables or ~/.pgpass; whether a
 * directory looks like an app; the app paths worth carrying.
 *
 * Ownership: options are borrowed; results and guesses are the caller's,
 * freed with their _done function. */
#ifndef FERRY_FLOW_INIT_H
#define FERRY_FLOW_INIT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "event.h"
#include "plan.h"
#include "util.h"

/* Retention written into a new profile (the profile defaults, spelt out). */
#define INIT_KEEP_LAST 10
#define INIT_KEEP_DAILY 7
#define INIT_KEEP_WEEKLY 4
#define INIT_KEEP_MONTHLY 12
#define INIT_KEEP_MANUAL_DAYS 30

struct init_opts {
	const char *profiles_path;  /* the file to write (profile_new_file_path) */
	const char *name;           /* the profile; NULL = from the database name */
	const char *database_url;   /* required; may hold a password (not written) */
	/* database.url is written as ${DATABASE_URL}, read from the app's env
	 * file app_env_file (relative to app_root), instead of the URL. */
	bool url_from_env_file;
	const char *app_env_file;   /* ".env" */
	const char *app_root;       /* NULL = no app section */
	const struct strv *paths;   /* relative to app_root; NULL = none */
	const char *backup_dir;     /* NULL = /var/backups/<database> */
	const char *log_dir;        /* NULL = <backup_dir>/logs */
	const char *ssh_target;     /* "[user@]host[:port]" of a new server; NULL = none */
	const char *health_url;     /* NULL = none */
	bool replace;               /* a profile of that name is replaced (--force) */
	const struct event_sink *events;
};

/* What the database said. */
struct init_found {
	char *database;             /* its name */
	char *where;                /* "127.0.0.1:5432" */
	char *server_version;       /* "15.20" */
	int64_t size_bytes;
	long long tables;           /* outside the system schemas */
	char *revision;             /* NULL = none */
	char *revision_line;        /* "revision 3f2a9c1b7d4e (alembic_version)" */
};

/* Connect to url and read what init shows and names the profile by. */
int init_inspect(const char *url, struct init_found *f, struct err *e);
void init_found_done(struct init_found *f);
/* "shop on 127.0.0.1:5432, PostgreSQL 15.20, 8.2 MiB in 7 tables,
 * revision 3f2a9c1b7d4e (alembic_version)"; caller frees. */
char *init_found_line(const struct init_found *f);

struct init_result {
	char *file;                 /* the profiles file written */
	char *name;                 /* the profile written */
	char *target_name;          /* the new server's profile, or NULL */
	char *backup_dir, *log_dir;
	bool made_backup_dir;       /* created now (else it was there) */
	bool password_left_out;     /* the URL's password is not in the profile */
	struct init_found found;
	struct strv notes;          /* `profiles check`'s notes */
};
void init_result_done(struct init_result *r);

int init_plan(const struct init_opts *o, struct plan *plan, struct err *e);
int init_run(const struct init_opts *o, struct init_result *r, struct err *e);

/* --- suggestions ---------------------------------------------------------------- */

/* A database URL found on this machine, and where. */
struct init_guess {
	char *url;
	const char *source;         /* "DATABASE_URL", "DATABASE_URL in DIR/.env",
				     * "PGHOST, PGDATABASE, ...", "~/.pgpass" */
	bool from_env_file;         /* from dir's .env */
};
void init_guess_done(struct init_guess *g);
/* The first of: $DATABASE_URL; DATABASE_URL in dir/.env; a URL made of
 * the PG* variables that are set (PGHOST, PGPORT, PGUSER, PGDATABASE);
 * the first line of ~/.pgpass (PGPASSFILE) without wildcards. false when
 * none is found (g->url NULL). */
bool init_guess_url(const char *dir, struct init_guess *g);
/* The files that make dir look like an app (".env", "docker-compose.yml",
 * "package.json", "alembic.ini", "manage.py", ...), appended to markers. */
void init_app_markers(const char *dir, struct strv *markers);
/* The directories under root worth carrying in bundles (uploads, config,
 * storage, media, ...), those that exist, appended to out. */
void init_suggest_paths(const char *root, struct strv *out);
/* A profile name from a database name: letters, digits, '-' and '_'
 * kept, the rest '-'; "main" when nothing is left. Caller frees. */
char *init_profile_name(const char *database);

#endif
