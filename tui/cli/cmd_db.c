/* cmd_db — `ferry db migrate | status | rollback [--to VERSION]`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "migrate_db.h"

struct db_args {
	const char *to;
};

static const struct cmd_option options[] = {
	{.name = "to", .kind = CMD_STRING, .metavar = "VERSION", .field = offsetof(struct db_args, to),
	 .help = "migrate up to VERSION, or roll back every migration newer than it"},
	{0},
};

static const char *const actions[] = {"migrate", "status", "rollback", NULL};

static const struct cmd_arg args[] = {
	{.name = "ACTION", .what = "action", .choices = actions},
	{0},
};

/* The migrations and their state, as a table. */
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

/* The migrations and their state, as JSON. */
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
	cli_print_json(o);
}

/* status, or migrate / rollback with progress. */
static int db_exec(struct cmd_run *r, struct err *e)
{
	const struct db_args *a = r->args;
	const char *what = r->argv[0];
	if (strcmp(what, "status") == 0) {
		struct migration_status s;
		int rc = migrate_db_status(r->p, &s, e);
		if (rc == 0 && r->c->json)
			print_status_json(&s);
		else if (rc == 0)
			print_status_text(&s);
		migration_status_done(&s);
		return rc;
	}
	if (strcmp(what, "migrate") == 0)
		return migrate_db_up(r->p, a->to, r->events, r->cancel, e);
	return migrate_db_rollback(r->p, a->to, r->events, r->cancel, e);
}

const struct cmd_entry cmd_db_entry = {
	.name = "db",
	.summary = "schema migrations: migrate, status, rollback",
	.description =
		"With migrations.command in the profile, migrate runs that command in\n"
		"app.root (alembic, sqlx, rails, ...) and status runs migrations.status_command.\n"
		"With migrations.dir, ferry's own runner applies NNNN_name.up.sql files in\n"
		"order, each in its own transaction, recorded in ferry_schema_migrations\n"
		"with a checksum; status lists applied (with dates) and pending ones and\n"
		"reports applied files that were edited; rollback runs the last\n"
		"NNNN_name.down.sql (or every one newer than --to).\n",
	.options = options,
	.args = args,
	.args_min = 1,
	.args_max = 1,
	.need = CMD_NEED_PROFILE,
	.flags = CMD_JSON | CMD_PROGRESS | CMD_CANCEL,
	.json_help = "db status: the migrations as JSON",
	.args_size = sizeof(struct db_args),
	.exec = db_exec,
};
