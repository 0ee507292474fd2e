/* restore_scope — choosing what a restore replaces. */
#include "restore_scope.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "fsx.h"

/* Whether pattern names t: "schema.table" or the bare table name, with
 * shell wildcards. */
static bool table_matches(const char *pattern, const struct manifest_table *t)
{
	char *full = xasprintf("%s.%s", t->schema, t->table);
	bool yes = fnmatch(pattern, strchr(pattern, '.') ? full : t->table, 0) == 0;
	free(full);
	return yes;
}

static bool selected(const struct manifest_table *t, const struct strv *tables,
		     const struct strv *schemas)
{
	for (size_t i = 0; tables && i < tables->n; i++)
		if (table_matches(tables->v[i], t))
			return true;
	for (size_t i = 0; schemas && i < schemas->n; i++)
		if (fnmatch(schemas->v[i], t->schema, 0) == 0)
			return true;
	return false;
}

/* A pattern no table of the bundle matches is a mistake to name. */
static int check_used(const struct manifest *m, const struct strv *pats, bool schema, struct err *e)
{
	for (size_t i = 0; pats && i < pats->n; i++) {
		bool hit = false;
		for (size_t j = 0; j < m->ntables && !hit; j++)
			hit = schema ? fnmatch(pats->v[i], m->tables[j].schema, 0) == 0
				     : table_matches(pats->v[i], &m->tables[j]);
		if (!hit) {
			err_set(e, ERR_USAGE, "--%s %s: the bundle holds no such %s", schema ? "schema" : "table",
				pats->v[i], schema ? "schema's rows" : "table");
			return err_hint(e, "`ferry verify BUNDLE --json` lists the tables a bundle holds");
		}
	}
	return 0;
}

int restore_scope_select(const struct manifest *m, const struct strv *tables,
			 const struct strv *schemas, struct replace_set *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	bool all = !(tables && tables->n) && !(schemas && schemas->n);
	if (check_used(m, tables, false, e) < 0 || check_used(m, schemas, true, e) < 0)
		return -1;
	for (size_t i = 0; i < m->ntables; i++)
		if (all || selected(&m->tables[i], tables, schemas))
			replace_set_add(out, m->tables[i].schema, m->tables[i].table, m->tables[i].matview);
	return 0;
}

/* The manifest table an entry's data belongs to: by oid, else by the
 * "schema table " its line starts with. */
static bool entry_in_set(const struct toc_entry *t, const struct manifest *m,
			 const struct replace_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct manifest_table *mt = NULL;
		for (size_t j = 0; j < m->ntables && !mt; j++)
			if (strcmp(m->tables[j].schema, set->v[i].schema) == 0 &&
			    strcmp(m->tables[j].table, set->v[i].table) == 0)
				mt = &m->tables[j];
		if (mt && mt->oid) {
			if (mt->oid == t->oid)
				return true;
			continue;
		}
		char *head = xasprintf("%s %s ", set->v[i].schema, set->v[i].table);
		bool yes = str_starts(t->rest, head);
		free(head);
		if (yes)
			return true;
	}
	return false;
}

int restore_scope_list_file(const struct toc *t, const struct manifest *m,
			    const struct replace_set *set, const char *path, struct err *e)
{
	struct sbuf b = {0};
	for (size_t i = 0; i < t->n; i++) {
		const struct toc_entry *en = &t->v[i];
		bool data = strcmp(en->desc, "TABLE DATA") == 0 && entry_in_set(en, m, set);
		if (data || strcmp(en->desc, "SEQUENCE SET") == 0)
			sbuf_addf(&b, "%d; %u %u %s %s\n", en->dump_id, en->tableoid, en->oid, en->desc, en->rest);
	}
	int rc = fsx_write_atomic(path, b.data ? b.data : "", b.len, 0600, e);
	sbuf_done(&b);
	return rc;
}

/* Whether one table holds a row (without counting them). */
static int table_has_row(db_conn *db, const char *schema, const char *table, bool *yes, struct err *e)
{
	char *qs = db_quote_ident(schema), *qt = db_quote_ident(table);
	char *sql = xasprintf("SELECT EXISTS (SELECT 1 FROM ONLY %s.%s)", qs, qt);
	char *v = db_query_value(db, sql, e);
	free(qs), free(qt), free(sql);
	if (!v)
		return -1;
	*yes = strcmp(v, "t") == 0;
	free(v);
	return 0;
}

int restore_scope_has_rows(const char *conninfo, bool *rows, struct err *e)
{
	*rows = false;
	db_conn *db = db_connect(conninfo, e);
	if (!db)
		return -1;
	db_result *r = db_query(db, "SELECT n.nspname, c.relname FROM pg_class c "
				"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
				"AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
				"AND n.nspname NOT LIKE 'pg\\_%'", 0, NULL, e);
	int rc = r ? 0 : -1;
	for (int i = 0; r && rc == 0 && !*rows && i < db_result_rows(r); i++)
		rc = table_has_row(db, db_result_value(r, i, 0), db_result_value(r, i, 1), rows, e);
	db_result_free(r);
	db_close(db);
	return rc;
}
