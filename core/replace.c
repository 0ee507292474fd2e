/* replace — the rows of some tables, put back in one transaction. */
#include "replace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void replace_set_add(struct replace_set *s, const char *schema, const char *table, bool matview)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	s->v[s->n++] = (struct replace_table){xstrdup(schema), xstrdup(table), matview, 0};
}

void replace_set_done(struct replace_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].schema);
		free(s->v[i].table);
	}
	free(s->v);
	memset(s, 0, sizeof *s);
}

char *replace_set_names(const struct replace_set *s, size_t max)
{
	struct sbuf b = {0};
	for (size_t i = 0; i < s->n && i < max; i++)
		sbuf_addf(&b, "%s%s.%s", i ? ", " : "", s->v[i].schema, s->v[i].table);
	if (s->n > max)
		sbuf_addf(&b, " and %zu more", s->n - max);
	return sbuf_take(&b);
}

/* "schema"."table", quoted. */
static char *qualified(const struct replace_table *t)
{
	char *qs = db_quote_ident(t->schema), *qt = db_quote_ident(t->table);
	char *q = xasprintf("%s.%s", qs, qt);
	free(qs), free(qt);
	return q;
}

/* The set's oids as an array literal "{1,2,3}"; caller frees. */
static char *oid_array(const struct replace_set *s)
{
	struct sbuf b = {0};
	sbuf_adds(&b, "{");
	for (size_t i = 0; i < s->n; i++)
		sbuf_addf(&b, "%s%u", i ? "," : "", s->v[i].oid);
	sbuf_adds(&b, "}");
	return sbuf_take(&b);
}

/* --- checks ----------------------------------------------------------------- */

static const char find_sql[] =
	"SELECT c.oid, c.relkind, "
	"has_table_privilege(c.oid, 'TRUNCATE') AND has_table_privilege(c.oid, 'INSERT') "
	"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE n.nspname = $1 AND c.relname = $2";

/* The live oid of each table; the tables that are not there, or that the
 * role may not empty and fill, are named in e. */
static int find_tables(db_conn *live, struct replace_set *s, struct err *e)
{
	struct strv missing = {0}, denied = {0};
	for (size_t i = 0; i < s->n; i++) {
		const char *params[] = {s->v[i].schema, s->v[i].table};
		db_result *r = db_query(live, find_sql, 2, params, e);
		if (!r) {
			strv_done(&missing), strv_done(&denied);
			return -1;
		}
		char *name = xasprintf("%s.%s", s->v[i].schema, s->v[i].table);
		if (db_result_rows(r) == 0)
			strv_push(&missing, name);
		else if (strcmp(db_result_value(r, 0, 2), "t") != 0 && !s->v[i].matview)
			strv_push(&denied, name);
		else
			s->v[i].oid = (unsigned)strtoul(db_result_value(r, 0, 0), NULL, 10);
		free(name);
		db_result_free(r);
	}
	int rc = 0;
	if (missing.n) {
		char *names = strv_join(&missing, ", ");
		err_set(e, ERR_DB, "%s %s not in database %s: a partial restore puts back the rows of "
			"tables that are there", names, missing.n == 1 ? "is" : "are", db_name(live));
		rc = err_hint(e, "restore the bundle into a new database with --as NEWDB, or create the "
			      "tables first (e.g. the schema migrations); nothing was changed");
		free(names);
	} else if (denied.n) {
		char *names = strv_join(&denied, ", ");
		err_set(e, ERR_DB, "the restoring role may not empty and fill %s (TRUNCATE and INSERT)", names);
		rc = err_hint(e, "restore as the tables' owner; nothing was changed");
		free(names);
	}
	strv_done(&missing);
	strv_done(&denied);
	return rc;
}

static const char fk_owners_sql[] =
	"SELECT DISTINCT k.conrelid::regclass::text FROM pg_constraint k "
	"JOIN pg_class r ON r.oid = k.conrelid "
	"WHERE k.contype = 'f' AND (k.conrelid = ANY($1::oid[]) OR k.confrelid = ANY($1::oid[])) "
	"AND pg_get_userbyid(r.relowner) <> current_user "
	"AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) ORDER BY 1";

/* The foreign keys are set aside and made again: the role must own every
 * table that has one of them. */
static int check_fk_owners(db_conn *live, const struct replace_set *s, struct err *e)
{
	char *oids = oid_array(s);
	const char *params[] = {oids};
	db_result *r = db_query(live, fk_owners_sql, 1, params, e);
	free(oids);
	if (!r)
		return -1;
	int rc = 0;
	if (db_result_rows(r) > 0) {
		err_set(e, ERR_DB, "foreign keys of %s%s touch the tables to restore, and the restoring role "
			"does not own %s", db_result_value(r, 0, 0), db_result_rows(r) > 1 ? " and others" : "",
			db_result_rows(r) > 1 ? "them" : "it");
		rc = err_hint(e, "restore as the owner of the tables, so their foreign keys can be set aside "
			      "and checked again; nothing was changed");
	}
	db_result_free(r);
	return rc;
}

int replace_check(db_conn *live, struct replace_set *s, struct err *e)
{
	if (find_tables(live, s, e) < 0)
		return -1;
	return check_fk_owners(live, s, e);
}

/* --- the transaction ----------------------------------------------------- */

/* The statements that undo what a list query found, run in order. */
static int exec_all(db_conn *live, const struct strv *sql, struct err *e)
{
	for (size_t i = 0; i < sql->n; i++)
		if (db_exec(live, sql->v[i], e) < 0)
			return -1;
	return 0;
}

/* Set aside the foreign keys that touch the set: their DROP now, their ADD
 * in readd for after the rows are in. */
static int set_aside_fks(db_conn *live, const char *oids, struct strv *readd, struct err *e)
{
	const char *params[] = {oids};
	db_result *r = db_query(live, "SELECT conrelid::regclass::text, quote_ident(conname), "
				"pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' AND "
				"(conrelid = ANY($1::oid[]) OR confrelid = ANY($1::oid[])) ORDER BY 1, 2",
				1, params, e);
	if (!r)
		return -1;
	struct strv drop = {0};
	for (int i = 0; i < db_result_rows(r); i++) {
		char *d = xasprintf("ALTER TABLE %s DROP CONSTRAINT %s", db_result_value(r, i, 0),
				    db_result_value(r, i, 1));
		char *a = xasprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", db_result_value(r, i, 0),
				    db_result_value(r, i, 1), db_result_value(r, i, 2));
		strv_push(&drop, d);
		strv_push(readd, a);
		free(d), free(a);
	}
	db_result_free(r);
	int rc = exec_all(live, &drop, e);
	strv_done(&drop);
	return rc;
}

/* User triggers of tables the role owns are off while the rows go in, as
 * pg_restore --disable-triggers would do; each comes back in its mode. */
static int triggers_off(db_conn *live, const char *oids, struct strv *back, struct err *e)
{
	const char *params[] = {oids};
	db_result *r = db_query(live, "SELECT t.tgrelid::regclass::text, quote_ident(t.tgname), t.tgenabled "
				"FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
				"WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND t.tgrelid = ANY($1::oid[]) "
				"AND pg_get_userbyid(c.relowner) = current_user", 1, params, e);
	if (!r)
		return -1;
	struct strv off = {0};
	for (int i = 0; i < db_result_rows(r); i++) {
		const char *table = db_result_value(r, i, 0), *name = db_result_value(r, i, 1);
		const char mode = db_result_value(r, i, 2)[0];
		char *o = xasprintf("ALTER TABLE %s DISABLE TRIGGER %s", table, name);
		char *b = xasprintf("ALTER TABLE %s ENABLE %sTRIGGER %s", table,
				    mode == 'R' ? "REPLICA " : mode == 'A' ? "ALWAYS " : "", name);
		strv_push(&off, o);
		strv_push(back, b);
		free(o), free(b);
	}
	db_result_free(r);
	int rc = exec_all(live, &off, e);
	strv_done(&off);
	return rc;
}

static int truncate_all(db_conn *live, const struct replace_set *s, struct err *e)
{
	struct sbuf b = {0};
	sbuf_adds(&b, "TRUNCATE ");
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].matview)
			continue;
		char *q = qualified(&s->v[i]);
		sbuf_addf(&b, "%s%s", n++ ? ", " : "", q);
		free(q);
	}
	int rc = n ? db_exec(live, b.data, e) : 0;
	sbuf_done(&b);
	return rc;
}

/* The columns COPY moves: not dropped, not generated. */
static char *copy_columns(db_conn *live, unsigned oid, struct err *e)
{
	char *o = xasprintf("%u", oid);
	const char *params[] = {o};
	db_result *r = db_query(live, "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) "
				"FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped "
				"AND attgenerated = ''", 1, params, e);
	free(o);
	char *cols = r ? xstrdup(db_result_value(r, 0, 0)) : NULL;
	db_result_free(r);
	return cols;
}

/* COPY one table from the shadow into live, chunk by chunk. */
static int copy_table(db_conn *live, db_conn *from, const struct replace_table *t,
		      const struct event_sink *ev, volatile sig_atomic_t *cancel, uint64_t *bytes,
		      struct err *e)
{
	char *cols = copy_columns(live, t->oid, e);
	if (!cols)
		return -1;
	char *q = qualified(t);
	char *out = xasprintf("COPY %s (%s) TO STDOUT", q, cols);
	char *in = xasprintf("COPY %s (%s) FROM STDIN", q, cols);
	int rc = db_copy_out(from, out, e);
	if (rc == 0 && db_copy_in(live, in, e) < 0) {
		rc = -1;
		char *buf;
		while (db_copy_read(from, &buf, NULL) > 0)   /* drain the other side */
			db_copy_free(buf);
	}
	long n = 0;
	char *buf = NULL;
	while (rc == 0 && (n = db_copy_read(from, &buf, e)) > 0) {
		if (cancel && *cancel)
			n = err_set(e, ERR_INTERRUPTED, "restore interrupted while copying %s", q);
		else if (db_copy_write(live, buf, (size_t)n, e) < 0)
			n = -1;
		*bytes += n > 0 ? (uint64_t)n : 0;
		db_copy_free(buf);
		if (n < 0)
			break;
		event_progress(ev, "replace", *bytes, 0);
	}
	if (rc == 0)
		rc = db_copy_end(live, n < 0 ? "ferry stopped the copy" : NULL, n < 0 ? NULL : e);
	if (n < 0)
		rc = -1;
	free(cols), free(q), free(out), free(in);
	return rc;
}

/* Sequences owned by the tables take the shadow's values where the bundle
 * set them (is_called); others keep the live value. */
static int copy_sequences(db_conn *live, db_conn *from, const char *oids, struct err *e)
{
	const char *params[] = {oids};
	/* Qualified by hand: regclass::text leaves the schema out when it is on
	 * the search_path, and the shadow's search_path may differ. */
	db_result *r = db_query(live, "SELECT DISTINCT format('%I.%I', n.nspname, s.relname) FROM pg_depend d "
				"JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
				"JOIN pg_namespace n ON n.oid = s.relnamespace "
				"WHERE d.refobjid = ANY($1::oid[]) AND d.deptype IN ('a', 'i')", 1, params, e);
	if (!r)
		return -1;
	int rc = 0;
	for (int i = 0; rc == 0 && i < db_result_rows(r); i++) {
		const char *seq = db_result_value(r, i, 0);
		char *sql = xasprintf("SELECT last_value, is_called FROM %s", seq);
		db_result *v = db_query(from, sql, 0, NULL, e);
		free(sql);
		if (!v) {
			rc = -1;
			break;
		}
		if (strcmp(db_result_value(v, 0, 1), "t") == 0) {
			char *lit = db_quote_literal(seq);
			char *set = xasprintf("SELECT setval(%s, %s, true)", lit, db_result_value(v, 0, 0));
			rc = db_exec(live, set, e);
			free(lit), free(set);
		}
		db_result_free(v);
	}
	db_result_free(r);
	return rc;
}

static int refresh_matviews(db_conn *live, const struct replace_set *s, struct err *e)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!s->v[i].matview)
			continue;
		char *q = qualified(&s->v[i]);
		char *sql = xasprintf("REFRESH MATERIALIZED VIEW %s", q);
		int rc = db_exec(live, sql, e);
		free(q), free(sql);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int fill(db_conn *live, db_conn *from, const struct replace_set *s, const char *oids,
		const struct event_sink *ev, volatile sig_atomic_t *cancel, uint64_t *bytes, struct err *e)
{
	struct strv readd = {0}, triggers = {0};
	int rc = set_aside_fks(live, oids, &readd, e);
	if (rc == 0)
		rc = triggers_off(live, oids, &triggers, e);
	if (rc == 0)
		rc = truncate_all(live, s, e);
	for (size_t i = 0; rc == 0 && i < s->n; i++)
		if (!s->v[i].matview)
			rc = copy_table(live, from, &s->v[i], ev, cancel, bytes, e);
	if (rc == 0)
		rc = copy_sequences(live, from, oids, e);
	if (rc == 0)
		rc = exec_all(live, &triggers, e);
	if (rc == 0)
		rc = refresh_matviews(live, s, e);
	if (rc == 0 && exec_all(live, &readd, e) < 0)
		rc = err_hint(e, "a foreign key no longer holds with the bundle's rows; nothing was changed");
	strv_done(&readd);
	strv_done(&triggers);
	return rc;
}

int replace_rows(db_conn *live, db_conn *from, const struct replace_set *s,
		 const struct event_sink *ev, volatile sig_atomic_t *cancel, uint64_t *bytes,
		 struct err *e)
{
	uint64_t local = 0;
	if (!bytes)
		bytes = &local;
	*bytes = 0;
	char *oids = oid_array(s);
	int rc = db_exec(live, "BEGIN", e);
	if (rc == 0)
		rc = db_exec(live, "SET LOCAL lock_timeout = '60s'", e);
	if (rc == 0)
		rc = fill(live, from, s, oids, ev, cancel, bytes, e);
	if (rc == 0)
		rc = db_exec(live, "COMMIT", e);
	else
		db_exec(live, "ROLLBACK", NULL);
	free(oids);
	return rc;
}
