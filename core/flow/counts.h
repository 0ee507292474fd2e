/* counts — per-table rows and schema revision of a database, in one
 * snapshot: the target side of a migration's comparison. */
#ifndef FERRY_FLOW_COUNTS_H
#define FERRY_FLOW_COUNTS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "db.h"
#include "err.h"
#include "profile/profile.h"

struct counts_result {
	char *database;
	char *schema_revision;        /* NULL when none */
	struct db_table_counts tables;
};
void counts_result_done(struct counts_result *r);

/* Per-table row counts (in one REPEATABLE READ snapshot) and the schema
 * revision of the profile's database. */
int counts_read(const struct profile *p, struct counts_result *r, struct err *e);

#endif
