/* cmd_counts — `ferry counts`: per-table rows and schema revision. */
#include <jansson.h>
#include <stdlib.h>

#include "cli/cmd.h"
#include "flow.h"

/* The tables' rows, as text or JSON (what a remote ferry prints for migrate). */
static void print_counts(const struct cli *c, const struct counts_result *r)
{
	long long total = 0;
	json_t *tables = json_array();
	for (size_t i = 0; i < r->tables.n; i++) {
		const struct db_table_count *t = &r->tables.v[i];
		total += t->rows;
		if (c->json)
			json_array_append_new(tables, json_pack("{s:s, s:s, s:I}", "schema", t->schema,
								"table", t->table, "rows", (json_int_t)t->rows));
		else
			printf("%12lld  %s.%s\n", (long long)t->rows, t->schema, t->table);
	}
	if (c->json) {
		cli_print_json(json_pack("{s:s, s:o, s:o, s:I}", "database", r->database, "schema_revision",
			r->schema_revision ? json_string(r->schema_revision) : json_null(),
			"tables", tables, "total_rows", (json_int_t)total));
		return;
	}
	json_decref(tables);
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
