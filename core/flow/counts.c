/* flow_counts — per-table row counts and schema revision of a database,
 * read in one snapshot: the target side of a migration's comparison. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "flow/counts.h"
#include "revision.h"

int counts_read(const struct profile *p, struct counts_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	db_conn *db = db_connect(p->database.url, e);
	if (!db)
		return -1;
	r->database = xstrdup(db_name(db));
	struct revision rev = {0};
	int rc = db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", e);
	if (rc == 0)
		rc = revision_read(db, &rev, e);
	r->schema_revision = rev.revision;
	rev.revision = NULL;
	if (rc == 0)
		rc = db_count_rows(db, NULL, NULL, NULL, &r->tables, e);
	db_rollback(db);
	revision_done(&rev);
	db_close(db);
	return rc;
}

void counts_result_done(struct counts_result *r)
{
	free(r->database);
	free(r->schema_revision);
	db_table_counts_done(&r->tables);
	memset(r, 0, sizeof *r);
}
