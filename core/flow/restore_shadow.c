/* restore_shadow — the restore's shadow database: the checks that it can
 * be made (privileges, the dump's roles, its extensions), its load
 * (roles, pg_restore, database properties), and the row-count gate. */
#include "flow/restore_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbname.h"
#include "dbprops.h"
#include "fault.h"
#include "fsx.h"
#include "restore_db.h"
#include "util.h"
#include "globals.h"
#include "bundle/bundle.h"

/* Extensions the dump creates must be installable on this server. */
static int check_extensions(struct restore_ctx *c, struct err *e)
{
	struct strv names = {0};
	toc_extensions(&c->toc, &names);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < names.n; i++) {
		const char *params[] = {names.v[i]};
		db_result *res = db_query(c->admin, "SELECT 1 FROM pg_available_extensions WHERE name = $1",
					  1, params, e);
		if (!res) {
			rc = -1;
		} else if (db_result_rows(res) == 0) {
			err_set(e, ERR_TOOL, "the dump needs extension \"%s\", which this server does not have",
				names.v[i]);
			rc = err_hint(e, "install it on the server (e.g. apt-get install postgresql-%d-%s)",
				      db_server_version_num(c->admin) / 10000, names.v[i]);
		}
		db_result_free(res);
	}
	strv_done(&names);
	return rc;
}


/* The restoring role may create the shadow, and the roles that own the
 * dump's objects exist here (or come with the bundle's roles). */
static int check_privileges(struct restore_ctx *c, struct err *e)
{
	db_result *r = db_query(c->admin, "SELECT rolsuper, rolcreatedb, current_user FROM pg_roles "
				"WHERE rolname = current_user", 0, NULL, e);
	if (!r)
		return -1;
	bool ok = db_result_rows(r) == 1 && (strcmp(db_result_value(r, 0, 0), "t") == 0 ||
					     strcmp(db_result_value(r, 0, 1), "t") == 0);
	char *who = xstrdup(db_result_rows(r) == 1 ? db_result_value(r, 0, 2) : "?");
	c->superuser = db_result_rows(r) == 1 && strcmp(db_result_value(r, 0, 0), "t") == 0;
	db_result_free(r);
	if (!ok) {
		err_set(e, ERR_DB, "role %s may not create databases: the restore loads a shadow database "
			"first", who);
		err_hint(e, "ALTER ROLE %s CREATEDB (as a superuser), or restore as a role that may; "
			 "nothing was changed", who);
	}
	free(who);
	return ok ? 0 : -1;
}


static int check_roles(struct restore_ctx *c, struct err *e)
{
	if (c->r->manifest.dump.globals)
		return 0;   /* the bundle brings its roles */
	struct strv owners = {0}, missing = {0};
	toc_owners(&c->toc, &owners);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < owners.n; i++) {
		const char *params[] = {owners.v[i]};
		db_result *r = db_query(c->admin, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, params, e);
		if (!r)
			rc = -1;
		else if (db_result_rows(r) == 0)
			strv_push(&missing, owners.v[i]);
		db_result_free(r);
	}
	if (rc == 0 && missing.n) {
		char *names = strv_join(&missing, ", ");
		err_set(e, ERR_DB, "the dump's objects belong to role%s %s, which this server does not have",
			missing.n == 1 ? "" : "s", names);
		rc = err_hint(e, "add --globals to the backup (or backup.globals), or create role%s %s; "
			      "nothing was changed", missing.n == 1 ? "" : "s", names);
		free(names);
	}
	strv_done(&owners);
	strv_done(&missing);
	return rc;
}


int restore_shadow_check(void *ctx, struct err *e)
{
	struct restore_ctx *c = ctx;
	if (check_privileges(c, e) < 0 || check_roles(c, e) < 0)
		return -1;
	return check_extensions(c, e);
}


char *restore_shadow_detail(void *ctx)
{
	const struct restore_ctx *c = ctx;
	return xasprintf("%s (pg_restore --jobs=%d%s%s)", c->shadow, c->jobs,
			 c->o->schema_only ? " --schema-only" : "", c->o->data_only ? " --data-only" : "");
}


int restore_shadow_apply_globals(struct restore_ctx *c, const char *text)
{
	const char *globals = c->r->manifest.dump.globals;
	event_log(c->ev, EV_INFO, "creating roles from %s (%s)", globals,
		  c->o->update_roles ? "existing roles are updated" : "existing roles are kept as they are");
	struct globals_script script = {0};
	int rc = globals_parse(text, globals, &script, c->e);
	struct globals_report report;
	if (rc == 0)
		rc = globals_apply(c->admin, &script, c->o->update_roles, globals, c->ev, &report, c->e);
	globals_script_done(&script);
	return rc;
}

static int restore_globals(struct restore_ctx *c)
{
	const char *globals = c->r->manifest.dump.globals;
	if (!globals)
		return 0;
	char *path = xasprintf("%s/%s", c->work, globals);
	char *text = fsx_read_file(path, BUNDLE_SMALL_MAX, NULL, c->e);
	int rc = text ? restore_shadow_apply_globals(c, text) : -1;
	free(text), free(path);
	return rc;
}


/* A partial restore's shadow: the live database's definitions, the
 * bundle's rows. */
static int copy_live_schema(struct restore_ctx *c)
{
	struct pg_tool pg_dump, psql;
	int major = db_server_version_num(c->admin) / 10000;
	if (dump_find_tool("pg_dump", major, &pg_dump, c->e) < 0)
		return -1;
	if (dump_find_tool("psql", major, &psql, c->e) < 0) {
		pg_tool_done(&pg_dump);
		return -1;
	}
	char *schema = xasprintf("%s/live-schema.sql", c->work);
	struct strv a = {0}, b = {0};
	/* The definitions the rows need, not the indexes, constraints and
	 * triggers that would only slow the load (the rows go on to the live
	 * tables, which have them). */
	strv_push(&a, pg_dump.path), strv_push(&a, "--no-password"), strv_push(&a, "--section=pre-data");
	strv_push(&a, "--dbname"), strv_push(&a, "{CONNINFO}");
	struct dump_run_opts ro = {.events = c->ev, .cancel = c->o->cancel};
	int rc = dump_run_pg_program(&a, c->p->database.url, schema, &ro, c->e);
	strv_push(&b, psql.path), strv_push(&b, "--no-password"), strv_push(&b, "--quiet");
	strv_push(&b, "--no-psqlrc"), strv_push(&b, "--set=ON_ERROR_STOP=1");
	strv_push(&b, "--file"), strv_push(&b, schema), strv_push(&b, "--dbname");
	strv_push(&b, "{CONNINFO}");
	if (rc == 0)
		rc = dump_run_pg_program(&b, c->shadow_conninfo, "/dev/null", &ro, c->e);
	strv_done(&a), strv_done(&b);
	free(schema);
	pg_tool_done(&pg_dump), pg_tool_done(&psql);
	return rc;
}


char *restore_shadow_load_conninfo(struct restore_ctx *c)
{
	/* The shadow is thrown away if anything goes wrong before the swap, so
	 * its load need not wait for WAL flushes; FERRY_RESTORE_OPTIONS adds
	 * (or, set empty, removes) server settings for this load only. */
	const char *tuning = getenv("FERRY_RESTORE_OPTIONS");
	if (!tuning)
		tuning = "-c synchronous_commit=off";
	return *tuning ? db_conninfo_with_options(c->shadow_conninfo, tuning, c->e)
		       : xstrdup(c->shadow_conninfo);
}


static int run_pg_restore(struct restore_ctx *c)
{
	const struct manifest *m = &c->r->manifest;
	struct strv argv = {0};
	strv_push(&argv, c->pg_restore.path);
	strv_push(&argv, "--no-password");
	strv_push(&argv, "--exit-on-error");
	if (c->jobs > 1 && m->dump.format && strcmp(m->dump.format, "directory") == 0) {
		char *j = xasprintf("--jobs=%d", c->jobs);
		strv_push(&argv, j);
		free(j);
	}
	if (c->o->schema_only)
		strv_push(&argv, "--schema-only");
	if (restore_tables_mode(c)) {
		/* Only the chosen tables' rows (and sequence values). */
		char *list = xasprintf("%s/restore.list", c->work);
		char *use = xasprintf("--use-list=%s", list);
		int lrc = restore_scope_list_file(&c->toc, m, &c->set, list, c->e);
		strv_push(&argv, "--data-only");
		strv_push(&argv, use);
		free(list), free(use);
		if (lrc < 0) {
			strv_done(&argv);
			return -1;
		}
	}
	strv_push(&argv, "--dbname");
	strv_push(&argv, "{CONNINFO}");
	char *dump = xasprintf("%s/%s", c->work, m->dump.path);
	strv_push(&argv, dump);
	free(dump);
	struct dump_run_opts ro = {.events = c->ev, .cancel = c->o->cancel, .step = "shadow"};
	char *conninfo = restore_shadow_load_conninfo(c);
	int rc = conninfo ? dump_run_pg_program(&argv, conninfo, NULL, &ro, c->e) : -1;
	free(conninfo);
	strv_done(&argv);
	if (rc < 0 && c->e->kind != ERR_INTERRUPTED)
		err_hint(c->e, "the shadow database is dropped; the live database was not touched");
	return rc;
}


/* The shadow's name: a leftover shadow that a journal says ferry made is
 * dropped and its name used again; a database of that name that ferry did
 * not make is left alone and another name is taken. */
int restore_shadow_choose(struct restore_ctx *c, struct err *e)
{
	int exists = restore_db_exists(c->admin, c->shadow, e);
	if (exists <= 0)
		return exists;
	if (journal_made(c->journal, "database", c->shadow)) {
		event_log(c->ev, EV_INFO, "dropping %s, left by an interrupted restore", c->shadow);
		if (restore_db_drop(c->admin, c->shadow, e) < 0)
			return -1;
		return journal_forget(c->journal, "database", c->shadow, e);
	}
	char *other = dbname_unique(c->dbname, c->shadow_kind ? c->shadow_kind : "ferry_shadow",
				    c->shadow_suffix, restore_db_exists_fn, c->admin, e);
	if (!other)
		return -1;
	event_log(c->ev, EV_WARN, "a database %s exists that ferry did not make: ferry loads %s instead",
		  c->shadow, other);
	free(c->shadow);
	c->shadow = other;
	return 0;
}


int restore_shadow_create(struct restore_ctx *c, struct err *e)
{
	if (journal_make(c->journal, "database", c->shadow, e) < 0)
		return -1;
	c->shadow_created = true;
	if (restore_db_create(c->admin, c->shadow, &c->r->manifest, e) < 0)
		return -1;
	c->shadow_conninfo = db_conninfo_with_dbname(c->p->database.url, c->shadow, e);
	return c->shadow_conninfo ? 0 : -1;
}

int restore_shadow_props(struct restore_ctx *c, struct err *e)
{
	/* The database that takes the live one's place behaves as the one
	 * backed up (or, asked, as the one it replaces). */
	const struct manifest_db_properties *props = c->o->keep_target_settings && c->live_exists
						       ? &c->live_props : &c->r->manifest.db.props;
	return dbprops_apply(c->admin, c->shadow, props, c->ev, e);
}

int restore_shadow_step(void *ctx, struct step_run *sr, struct err *e)
{
	struct restore_ctx *c = ctx;
	bool tables = restore_tables_mode(c);
	if (restore_shadow_choose(c, e) < 0 || (!tables && restore_globals(c) < 0) ||
	    restore_shadow_create(c, e) < 0)
		return -1;
	if (tables && copy_live_schema(c) < 0)
		return -1;
	if (fault_point("restore.shadow.created") < 0)
		return err_set(e, ERR_FAILED, "injected fault before loading the shadow");
	if (run_pg_restore(c) < 0)
		return -1;
	if (tables) {
		step_note(sr, "%s (the rows of %zu tables)", c->shadow, c->set.n);
		return STEP_DONE;
	}
	if (restore_shadow_props(c, e) < 0)
		return -1;
	step_note(sr, "%s", c->shadow);
	return STEP_DONE;
}


bool restore_shadow_gate_applies(void *ctx)
{
	const struct restore_ctx *c = ctx;
	return c->want_db && !c->o->schema_only && !c->r->manifest.dump.schema_only;
}




/* The tables the gate checks: every table of the manifest, or in a partial
 * restore the chosen ones (materialized views among them are refreshed in
 * the live database, not loaded). The strings are borrowed from the
 * manifest; free only gm->tables. */
static void gate_tables(const struct restore_ctx *c, struct manifest *gm)
{
	const struct manifest *m = &c->r->manifest;
	memset(gm, 0, sizeof *gm);
	gm->tables = xcalloc(m->ntables + 1, sizeof *gm->tables);
	for (size_t i = 0; i < m->ntables; i++) {
		bool in = !restore_tables_mode(c);
		for (size_t j = 0; !in && j < c->set.n; j++)
			in = !m->tables[i].matview && strcmp(c->set.v[j].schema, m->tables[i].schema) == 0 &&
			     strcmp(c->set.v[j].table, m->tables[i].table) == 0;
		if (in)
			gm->tables[gm->ntables++] = m->tables[i];
	}
}

static void record_tables(struct restore_ctx *c, const struct manifest *m, const int64_t *actual)
{
	c->r->tables = xcalloc(m->ntables + 1, sizeof *c->r->tables);
	for (size_t i = 0; i < m->ntables; i++) {
		struct restore_table *t = &c->r->tables[c->r->ntables++];
		t->schema = xstrdup(m->tables[i].schema);
		t->table = xstrdup(m->tables[i].table);
		t->expected = m->tables[i].rows;
		t->actual = actual[i];
		c->r->total_rows += actual[i] > 0 ? actual[i] : 0;
	}
}


char *restore_shadow_gate_detail(void *ctx)
{
	struct manifest gm;
	gate_tables(ctx, &gm);
	char *d = xasprintf("%zu tables, %lld rows", gm.ntables, (long long)manifest_total_rows(&gm));
	free(gm.tables);
	return d;
}

int restore_shadow_gate_step(void *ctx, struct step_run *sr, struct err *e)
{
	struct restore_ctx *c = ctx;
	db_conn *db = db_connect(c->shadow_conninfo, e);
	if (!db)
		return -1;
	struct manifest gm;
	gate_tables(c, &gm);
	const struct manifest *m = &gm;
	int64_t *actual = xcalloc(m->ntables + 1, sizeof *actual);
	restore_db_count_tables(db, m, actual);
	db_close(db);
	record_tables(c, m, actual);
	int rc = restore_db_compare_counts(m, actual, c->ev, e);
	free(actual);
	size_t ntables = m->ntables;
	free(gm.tables);
	if (rc < 0)
		return err_hint(e, "the shadow database is dropped; the live database was not touched");
	step_note(sr, "%zu tables, %lld rows match", ntables, (long long)c->r->total_rows);
	return STEP_DONE;
}

