/* revision — the application's schema revision, read the way each
 * migration tool reports its own.
 *
 * revision_read looks for the known migration tables in a fixed order and
 * takes the first that holds a revision; a table that exists but is empty
 * is passed over (and named when no later one holds a revision):
 *
 *   ferry_schema_migrations  highest version, compared as a number
 *   alembic_version          every head, sorted and joined with "+"
 *                            (searched in every schema: version_table_schema)
 *   _sqlx_migrations         highest successful version, as a number
 *   schema_migrations        highest version as a number (Rails' to_i)
 *   flyway_schema_history    highest applied version as Flyway compares
 *                            them (1.10 > 1.9), successful, not undone or
 *                            deleted (searched in every schema)
 *   django_migrations        the latest applied migration of each app (by
 *                            id); the revision is a short hash of them
 *
 * Tables other than alembic's and Flyway's are the ones on the search path
 * (where the tool creates them). revision_run_command runs the profile's
 * migrations.status_command and keeps the first line it prints.
 *
 * Only db.c talks libpq; this module goes through its query API. Text read
 * from the database or a command is cleaned of control characters and
 * invalid UTF-8 before it is kept. */
#ifndef FERRY_REVISION_H
#define FERRY_REVISION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "db.h"
#include "err.h"
#include "util.h"
#include "profile/profile.h"

/* Hex digits of the Django short form (a SHA-256 prefix). */
#define REVISION_DJANGO_HEX 12
/* Longest value kept from a table row or a command's output, in bytes. */
#define REVISION_VALUE_MAX 200
/* How long migrations.status_command may run. */
#define REVISION_COMMAND_TIMEOUT_S 30

/* What revision_read found. All strings are the struct's; revision_done
 * frees them (a zeroed struct is safe to free). */
struct revision {
	char *revision;   /* the short form: names bundles, is compared; NULL = none */
	char *source;     /* the table, schema-qualified when it is not on the search
			   * path ("meta.alembic_version"); NULL when there is none */
	bool empty;       /* source exists but holds no revision (revision NULL) */
	struct strv apps; /* django: "app.migration", the latest of each app, by app */
};
void revision_done(struct revision *r);

/* Read the revision of the database c is connected to. Safe inside a
 * transaction: only catalog queries and SELECTs of columns known to exist.
 * -1 with e filled (ERR_DB) only when the catalog cannot be read. */
int revision_read(db_conn *c, struct revision *out, struct err *e);

/* One line for people: "revision X (source)", "revision X (django_migrations,
 * 3 apps)", "no revision (table empty: alembic_version)", "no revision found
 * (no migration table)". Caller frees. */
char *revision_describe(const struct revision *r);

/* What migrations.status_command printed. Strings are the struct's;
 * revision_command_done frees them. */
struct revision_command {
	char *command;   /* as in the profile */
	char *output;    /* its first non-empty stdout line, cleaned; NULL = none */
	char *error;     /* why there is no output (exit status, timeout); NULL = ran */
};
void revision_command_done(struct revision_command *rc);

/* Run p's migrations.status_command with /bin/sh -c in app.root (else the
 * profile's dir), stdin from /dev/null, for at most timeout_s seconds
 * (0 = REVISION_COMMAND_TIMEOUT_S). Nothing from the database or elsewhere
 * is put into the command line. Returns 0 when it printed a line; -1 with
 * e filled and out->error set when it failed, timed out, was cancelled or
 * printed nothing. Does nothing and returns 0 (out->command NULL) when
 * the profile has no status_command. */
int revision_run_command(const struct profile *p, int timeout_s, volatile sig_atomic_t *cancel,
			 struct revision_command *out, struct err *e);

/* Django's "app.migration" entries as the JSON object {"app": "migration",
 * ...} (a new reference), and back (entries sorted; non-string values are
 * left out). */
json_t *revision_apps_to_json(const struct strv *apps);
void revision_apps_from_json(const json_t *o, struct strv *out);

/* --- the pure parts (exported for the unit tests) ------------------------- */

/* Compare two versions by their leading digits as numbers of any length
 * (no digits = 0), as Rails' to_i does; equal numbers fall back to the text,
 * so the order is total. <0, 0, >0. */
int revision_cmp_numeric(const char *a, const char *b);
/* The highest of versions by revision_cmp_numeric; NULL when none. The
 * string is the vector's. */
const char *revision_max_numeric(const struct strv *versions);

/* Compare two Flyway versions: parts split at '.' or '_', each a number,
 * missing parts 0 ("1.10" > "1.9", "1" == "1.0"). <0, 0, >0. */
int revision_cmp_flyway(const char *a, const char *b);

/* One row of flyway_schema_history, in installed_rank order. */
struct revision_flyway_row {
	const char *version;   /* NULL for repeatable migrations */
	const char *type;      /* "SQL", "BASELINE", "UNDO_SQL", "DELETE", ... */
	bool success;
};
/* Flyway's current version: the highest applied version, where an UNDO_*
 * or DELETE row takes back an earlier row of the same version. NULL when
 * none; the string is the rows'. */
const char *revision_flyway_current(const struct revision_flyway_row *rows, size_t n);

/* Alembic heads sorted and joined with "+" ("a1+b2"); NULL when none.
 * Caller frees. */
char *revision_join_heads(const struct strv *heads);

/* The Django short form of "app.migration" entries: the first
 * REVISION_DJANGO_HEX hex digits of the SHA-256 of the entries sorted
 * (bytewise) and each followed by "\n" — what
 * `printf 'auth.0012_x\nshop.0003_y\n' | sha256sum | cut -c1-12` prints.
 * NULL when there are none. Caller frees. */
char *revision_django_short(const struct strv *apps);

/* The first non-empty line of text with control characters (C0, DEL, C1,
 * ANSI escape sequences) removed, tabs as spaces, invalid UTF-8 as '?',
 * blanks trimmed, cut to at most max bytes on a character boundary. NULL
 * when nothing is left. Caller frees. */
char *revision_clean_line(const char *text, size_t max);

/* A revision as it may appear in a bundle file name: letters, digits, '.'
 * and '-' (anything else becomes '-'), at most 40 bytes, "unknown" for
 * NULL or "". Caller frees. */
char *revision_for_name(const char *rev);

#endif
