/* cmd_counts — `ferry counts`: per-table rows and schema revision. */
#include <jansson.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "flow.h"

static int run_counts(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_counts = {
	"counts", "per-table row counts and the schema revision of the database",
	"usage: ferry counts [--profile NAME] [--json]\n"
	"\n"
	"Counts every table's rows in one snapshot and reads the schema revision:\n"
	"what `ferry migrate` compares on both sides after a move.\n",
	run_counts};

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
		json_t *o = json_pack("{s:s, s:o, s:o, s:I}", "database", r->database, "schema_revision",
			r->schema_revision ? json_string(r->schema_revision) : json_null(),
			"tables", tables, "total_rows", (json_int_t)total);
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
		return;
	}
	json_decref(tables);
	printf("%12lld  rows in %zu tables of %s, schema revision %s\n", total, r->tables.n,
	       r->database, r->schema_revision ? r->schema_revision : "unknown");
}

static int run_counts(struct cli *c, int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cli_common_option(c, &command_counts, opt, optarg, e);
		if (r == 2)
			return 0;
		if (r == 0)
			return cli_bad_option(&command_counts, argv, e);
	}
	profile_file *pf = cli_load_profiles(c, e);
	const struct profile *p = pf ? cli_pick_profile(c, pf, e) : NULL;
	struct counts_result r = {0};
	int rc = p ? counts_read(p, &r, e) : -1;
	if (rc == 0)
		print_counts(c, &r);
	counts_result_done(&r);
	profile_file_free(pf);
	return rc;
}
