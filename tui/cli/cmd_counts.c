/* cmd_counts — `ferry counts`: per-table rows and schema revision. */
#include <stdlib.h>

#include "cli/cmd.h"
#include "remote.h"
#include "flow/counts.h"

/* The tables' rows, as text or JSON (what a remote ferry prints for migrate). */
static void print_counts(const struct cli *c, const struct counts_result *r)
{
	if (c->json) {
		cli_print_json(remote_counts_json(r));
		return;
	}
	long long total = 0;
	for (size_t i = 0; i < r->tables.n; i++) {
		const struct db_table_count *t = &r->tables.v[i];
		total += t->rows;
		printf("%12lld  %s.%s\n", (long long)t->rows, t->schema, t->table);
	}
	printf("%12lld  rows in %zu tables of %s, schema revision %s\n", total, r->tables.n,
	       r->database, r->schema_revision ? r->schema_revision : "unknown");
}

/* counts_read, then the counts. */
static int counts_exec(struct cmd_run *r, struct err *e)
{
	struct counts_result res = {0};
	int rc = counts_read(r->p, &res, e);
	if (rc == 0)
		print_counts(r->c, &res);
	counts_result_done(&res);
	return rc;
}

const struct cmd_entry cmd_counts_entry = {
	.name = "counts",
	.summary = "per-table row counts and the schema revision of the database",
	.description =
		"Counts every table's rows in one snapshot and reads the schema revision:\n"
		"what `ferry migrate` compares on both sides after a move.\n",
	.need = CMD_NEED_PROFILE,
	.flags = CMD_JSON,
	.exec = counts_exec,
};
