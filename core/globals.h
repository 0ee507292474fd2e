/* globals — the roles of a bundle (db/globals.sql, as `pg_dumpall
 * --roles-only` writes it), read as data and applied over libpq.
 *
 * The file is untrusted: it is never given to psql. globals_parse accepts
 * only the statements pg_dumpall writes for roles —
 *   SET client_encoding | standard_conforming_strings | default_transaction_read_only
 *   CREATE ROLE r;   ALTER ROLE r WITH <attributes>;
 *   ALTER ROLE r [IN DATABASE d] SET|RESET ...;   COMMENT ON ROLE r IS '...';
 *   GRANT r[, ...] TO r[, ...] [WITH ...] [GRANTED BY r];
 * with "--" comment lines and psql's \restrict / \unrestrict lines — and
 * refuses anything else (a meta-command, another statement, a stray
 * character), naming the line. globals_apply runs them one by one in one
 * transaction: roles that exist already are left exactly as they are
 * (attributes, settings, comment, memberships) unless update_roles, and
 * the role ferry is connected as is never altered. */
#ifndef FERRY_GLOBALS_H
#define FERRY_GLOBALS_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "err.h"
#include "event.h"

enum globals_kind {
	GLOBALS_SET,        /* a session setting */
	GLOBALS_CREATE,     /* CREATE ROLE role */
	GLOBALS_ALTER,      /* ALTER ROLE role ..., COMMENT ON ROLE role */
	GLOBALS_GRANT,      /* GRANT ... TO role (role = the grantee) */
};

struct globals_stmt {
	enum globals_kind kind;
	char *role;         /* the role it is about (unquoted), NULL for SET */
	char *grantor;      /* GRANTED BY (unquoted), else NULL */
	char *sql;          /* the statement rebuilt from its checked tokens */
	char *sql_no_grantor;   /* GRANT without its GRANTED BY, else NULL */
	int line;
};

struct globals_script {
	struct globals_stmt *v;
	size_t n;
};

/* Parse text (what names the file in messages); ERR_VERIFY naming the line
 * on anything pg_dumpall does not write. */
int globals_parse(const char *text, const char *what, struct globals_script *out, struct err *e);
void globals_script_done(struct globals_script *s);

struct globals_report {
	size_t created;     /* roles made */
	size_t kept;        /* roles that existed, left as they were */
	size_t updated;     /* existing roles changed (update_roles) */
};

/* Apply the script as the admin connection (one transaction; nothing stays
 * on failure: ERR_FAILED naming the line and the server's error). */
int globals_apply(db_conn *admin, const struct globals_script *s, bool update_roles, const char *what,
		  const struct event_sink *ev, struct globals_report *r, struct err *e);

#endif
