/* cmd_counts — `ferry counts`: per-table rows and schema revision. */
#include <jansson.h>
#include <stdlib.h>

#include "cli.h"
#include "flow.h"
#include "remote.h"

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
