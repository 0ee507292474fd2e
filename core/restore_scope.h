/* restore_scope — what a restore replaces, decided from the bundle's scope
 * and the options:
 *
 *   full bundle                       the whole database, by a shadow and a swap
 *   --as NEWDB                        a new database NEWDB; the live one untouched
 *   schema-only bundle                the whole database (or --as), refused over
 *                                     one that holds rows unless --replace-data
 *   partial or data-only bundle,      the rows of exactly the bundle's (or the
 *   --table / --schema / --data-only  chosen) tables, in one transaction of the
 *                                     live database (core/replace)
 *
 * Ownership: strings and sets filled here are the caller's. */
#ifndef FERRY_RESTORE_SCOPE_H
#define FERRY_RESTORE_SCOPE_H

#include <stdbool.h>

#include "err.h"
#include "manifest.h"
#include "replace.h"
#include "toc.h"
#include "util.h"

enum restore_mode {
	RESTORE_SWAP,       /* the shadow takes the live database's place */
	RESTORE_NEW,        /* the shadow becomes a database that does not exist yet */
	RESTORE_TABLES,     /* rows of some tables put back into the live database */
};

/* The manifest's tables matched by the patterns (shell globs over
 * "schema.table" or the bare table name; --schema names whole schemas),
 * every table of the manifest when both lists are empty. ERR_USAGE naming
 * a pattern that matches nothing. */
int restore_scope_select(const struct manifest *m, const struct strv *tables,
			 const struct strv *schemas, struct replace_set *out, struct err *e);

/* A `pg_restore --use-list` file at path: the data entries of exactly the
 * set's tables (by the oid the manifest recorded, else by name) and every
 * sequence value. */
int restore_scope_list_file(const struct toc *t, const struct manifest *m,
			    const struct replace_set *set, const char *path, struct err *e);

/* Whether a database holds any row in a table outside the system schemas. */
int restore_scope_has_rows(const char *conninfo, bool *rows, struct err *e);

#endif
