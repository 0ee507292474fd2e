/* replace — put the rows of some tables of a live database back from
 * another database (a restore's shadow), in one transaction.
 *
 * What a partial restore (a bundle of some tables or schemas, a data-only
 * bundle, or --table/--schema from a full one) does instead of swapping
 * the whole database: in one transaction of the live database, the tables
 * are locked, the foreign keys that touch them are set aside, user
 * triggers on them are off, they are emptied (TRUNCATE) and filled with the
 * shadow's rows (COPY, streamed through ferry), sequences owned by them get
 * the bundle's values, materialized views among them are refreshed, the
 * foreign keys are made again (and so checked against the new rows), and
 * only then does it commit. Any failure rolls all of it back: the live
 * database is as it was. The tables' definitions, and everything else in
 * the database, stay as they are.
 *
 * Ownership: a struct replace_set owns its strings; replace_set_done frees
 * them. */
#ifndef FERRY_REPLACE_H
#define FERRY_REPLACE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"
#include "event.h"

struct replace_table {
	char *schema, *table;
	bool matview;             /* refreshed, not copied */
	unsigned oid;             /* in the live database (filled by replace_check) */
};

struct replace_set {
	struct replace_table *v;
	size_t n;
};
void replace_set_add(struct replace_set *s, const char *schema, const char *table, bool matview);
void replace_set_done(struct replace_set *s);
/* "app.orders, app.items" (at most max names, then "and N more"); caller frees. */
char *replace_set_names(const struct replace_set *s, size_t max);

/* The checks before anything is changed: every table exists in live, the
 * role may empty and fill it, and owns every table whose foreign keys have
 * to be set aside (those of the set and those referencing it). ERR_DB
 * naming the table and what is missing. */
int replace_check(db_conn *live, struct replace_set *s, struct err *e);

/* The transaction (see above). bytes (may be NULL) gets the COPY bytes. */
int replace_rows(db_conn *live, db_conn *from, const struct replace_set *s,
		 const struct event_sink *ev, volatile sig_atomic_t *cancel, uint64_t *bytes,
		 struct err *e);

#endif
