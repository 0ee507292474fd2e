/* restore_db — database restore building blocks shared by `ferry restore`
 * and `ferry verify --deep`: extract the dump, create a database like the
 * one recorded in the manifest, pg_restore into it, compare row counts. */
#ifndef FERRY_RESTORE_DB_H
#define FERRY_RESTORE_DB_H

#include <signal.h>
#include <stdint.h>

#include "db.h"
#include "err.h"
#include "event.h"
#include "manifest.h"
#include "profile/profile.h"

/* A connection to the server's maintenance database (postgres, else
 * template1) for url's server; *conninfo_out (caller frees) is its
 * connection string. NULL with e filled. */
db_conn *restore_db_connect_admin(const char *url, char **conninfo_out, struct err *e);

/* 1 when database name exists, 0 when not, -1 with e filled. */
int restore_db_exists(db_conn *admin, const char *name, struct err *e);

/* restore_db_exists as a dbname_exists_fn (ud = the admin connection). */
int restore_db_exists_fn(void *admin, const char *name, struct err *e);

/* Drop the databases whose names start with prefix (dbname_prefix), all
 * but the keep newest (names sort by their time stamp); log says which. */
void restore_db_prune_prefixed(db_conn *admin, const char *prefix, int keep,
			       const struct event_sink *ev);

/* ALTER DATABASE db WITH ALLOW_CONNECTIONS allow. */
int restore_db_allow_connections(db_conn *admin, const char *db, bool allow, struct err *e);

/* Put incoming in live's place in one transaction, live becoming
 * previous: new connections to live are refused, its sessions ended, both
 * renames commit together (there is no moment without live), then
 * connections are allowed again on whichever database ended up where.
 * previous NULL: live does not exist, incoming is renamed to it. */
int restore_db_swap(db_conn *admin, const char *live, const char *previous, const char *incoming,
		    struct err *e);

/* CREATE DATABASE name with the manifest's encoding, collation and ctype
 * (template0), owned by the manifest's owner when that role exists. */
int restore_db_create(db_conn *admin, const char *name, const struct manifest *m, struct err *e);

/* DROP DATABASE IF EXISTS name (other sessions terminated first). */
int restore_db_drop(db_conn *admin, const char *name, struct err *e);

/* pg_restore --exit-on-error -j jobs of dump (a path) into conninfo. */
int restore_db_pg_restore(const char *conninfo, const char *dump, const struct manifest *m,
			  int jobs, const struct event_sink *ev, volatile sig_atomic_t *cancel,
			  struct err *e);

/* Count every manifest table's rows in db: actual[i] for m->tables[i],
 * -1 when the table is missing. actual has m->ntables entries. */
void restore_db_count_tables(db_conn *db, const struct manifest *m, int64_t *actual);

/* Every table of the manifest has the recorded row count in conninfo's
 * database; ERR_VERIFY naming each table that differs (the first few). */
int restore_db_check_counts(db_conn *db, const struct manifest *m, const struct event_sink *ev,
			    struct err *e);
/* The same check on counts already made (restore_db_count_tables). */
int restore_db_compare_counts(const struct manifest *m, const int64_t *actual,
			      const struct event_sink *ev, struct err *e);

/* Restore the bundle's dump into a scratch database on the profile's
 * server, compare row counts with the manifest, drop it. */
int restore_db_deep_check(const char *bundle, const struct manifest *m, const struct profile *p,
			  const struct event_sink *ev, volatile sig_atomic_t *cancel, struct err *e);

#endif
