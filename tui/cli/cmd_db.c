/* cmd_db — `ferry db migrate | status | rollback [--to VERSION]`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "migrate_db.h"

static int run_db(struct cli *c, int argc, char **argv, struct err *e);

const struct cli_command command_db = {
	"db", "schema migrations: migrate, status, rollback",
	"usage: ferry db migrate [--to VERSION] [--profile NAME]\n"
	"       ferry db status [--profile NAME] [--json]\n"
	"       ferry db rollback [--to VERSION] [--profile NAME]\n"
	"\n"
	"With migrations.command in the profile, migrate runs that command in\n"
	"app.root (alembic, sqlx, rails, ...) and status runs migrations.status_command.\n"
	"With migrations.dir, ferry's own runner applies NNNN_name.up.sql files in\n"
	"order, each in its own transaction, recorded in ferry_schema_migrations\n"
	"with a checksum; status lists applied (with dates) and pending ones and\n"
	"reports applied files that were edited; rollback runs the last\n"
	"NNNN_name.down.sql (or every one newer than --to).\n",
	run_db};

enum { OPT_TO = OPT_COMMAND_BASE };

static void print_status_text(const struct migration_status *s)
{
	if (s->delegated) {
		fputs(s->output ? s->output : "", stdout);
		return;
	}
	size_t pending = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct migration *m = &s->v[i];
		const char *state = m->missing ? "applied, FILE MISSING" : m->drifted ? "applied, EDITED SINCE"
				   : m->applied ? "applied" : "pending";
		printf("%-8s %-32s %-22s %s\n", m->version, m->name, state, m->applied_at ? m->applied_at : "");
		pending += !m->applied;
	}
	printf("%zu migration(s), %zu pending\n", s->n, pending);
}

static void print_status_json(const struct migration_status *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->n; i++) {
		const struct migration *m = &s->v[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:o, s:b, s:b}", "version", m->version,
			"name", m->name, "applied", m->applied,
			"applied_at", m->applied_at ? json_string(m->applied_at) : json_null(),
			"drifted", m->drifted, "missing", m->missing));
	}
	json_t *o = json_pack("{s:b, s:o}", "delegated", s->delegated, "migrations", a);
	if (s->output)
		json_object_set_new(o, "output", json_string(s->output));
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

static int act(struct cli *c, const char *what, const struct profile *p, const char *to, struct err *e)
{
	if (strcmp(what, "status") == 0) {
		struct migration_status s;
		int rc = migrate_db_status(p, &s, e);
		if (rc == 0 && c->json)
			print_status_json(&s);
		else if (rc == 0)
			print_status_text(&s);
		migration_status_done(&s);
		return rc;
	}
	struct cli_render *render = cli_render_new(c);
	struct event_sink sink = cli_render_sink(render);
	int rc;
	if (strcmp(what, "migrate") == 0)
		rc = migrate_db_up(p, to, &sink, cli_cancel_flag(), e);
	else if (strcmp(what, "rollback") == 0)
		rc = migrate_db_rollback(p, to, &sink, cli_cancel_flag(), e);
	else
		rc = err_set(e, ERR_USAGE, "db: unknown action \"%s\"; use migrate, status or rollback", what);
	cli_render_free(render);
	return rc;
}

static int run_db(struct cli *c, int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
		CLI_COMMON_OPTIONS, {"to", required_argument, NULL, OPT_TO}, {0, 0, 0, 0}};
	const char *to = NULL;
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = cli_common_option(c, &command_db, opt, optarg, e);
		if (r == 2)
			return 0;
		if (r == 1)
			continue;
		if (opt != OPT_TO)
			return cli_bad_option(&command_db, argv, e);
		to = optarg;
	}
	if (optind != argc - 1) {
		err_set(e, ERR_USAGE, "db: expected migrate, status or rollback");
		return err_hint(e, "`ferry help db`");
	}
	profile_file *pf = cli_load_profiles(c, e);
	const struct profile *p = pf ? cli_pick_profile(c, pf, e) : NULL;
	int rc = p ? act(c, argv[optind], p, to, e) : -1;
	profile_file_free(pf);
	return rc;
}
