/* flow_counts — per-table row counts and schema revision of a database,
 * read in one snapshot: the target side of a migration's comparison. */
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "flow/counts.h"

int counts_read(const struct profile *p, struct counts_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	db_conn *db = db_connect(p->database.url, e);
	if (!db)
		return -1;
	r->database = xstrdup(db_name(db));
	char *source = NULL;
	int rc = db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", e);
	if (rc == 0)
		rc = db_schema_revision(db, &r->schema_revision, &source, e);
	if (rc == 0)
		rc = db_count_rows(db, NULL, NULL, NULL, &r->tables, e);
	db_rollback(db);
	free(source);
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
