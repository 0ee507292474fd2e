/* restore_db — create, fill and check a database from a bundle's dump. */
#include "restore_db.h"
#include "fault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "dbname.h"
#include "dump.h"
#include "fsx.h"

db_conn *restore_db_connect_admin(const char *url, char **conninfo_out, struct err *e)
{
	static const char *const maintenance[] = {"postgres", "template1"};
	db_conn *db = NULL;
	for (size_t i = 0; i < 2 && !db; i++) {
		char *ci = db_conninfo_with_dbname(url, maintenance[i], e);
		if (!ci)
			return NULL;
		db = db_connect(ci, e);
		if (db && conninfo_out)
			*conninfo_out = ci;
		else
			free(ci);
	}
	return db;
}

int restore_db_exists(db_conn *admin, const char *name, struct err *e)
{
	const char *params[] = {name};
	db_result *r = db_query(admin, "SELECT 1 FROM pg_database WHERE datname = $1", 1, params, e);
	if (!r)
		return -1;
	int yes = db_result_rows(r) > 0;
	db_result_free(r);
	return yes;
}

int restore_db_exists_fn(void *admin, const char *name, struct err *e)
{
	return restore_db_exists(admin, name, e);
}

void restore_db_prune_prefixed(db_conn *admin, const char *prefix, int keep,
			       const struct event_sink *ev)
{
	const char *params[] = {prefix};
	struct err ignored = {0};
	/* left() rather than LIKE: '_' and '%' in a database name are no wildcards. */
	db_result *r = db_query(admin, "SELECT datname FROM pg_database WHERE left(datname, length($1)) = $1 "
				"ORDER BY datname DESC", 1, params, &ignored);
	for (int i = keep; r && i < db_result_rows(r); i++) {
		event_log(ev, EV_INFO, "dropping old database %s", db_result_value(r, i, 0));
		restore_db_drop(admin, db_result_value(r, i, 0), &ignored);
	}
	db_result_free(r);
}

int restore_db_allow_connections(db_conn *admin, const char *db, bool allow, struct err *e)
{
	char *q = db_quote_ident(db);
	char *sql = xasprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS %s", q, allow ? "true" : "false");
	int rc = db_exec(admin, sql, e);
	free(q);
	free(sql);
	return rc;
}

static int terminate_sessions(db_conn *admin, const char *db, struct err *e)
{
	const char *params[] = {db};
	for (int attempt = 0; attempt < 50; attempt++) {
		db_result *r = db_query(admin, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
					"WHERE datname = $1 AND pid <> pg_backend_pid()", 1, params, e);
		if (!r)
			return -1;
		bool none = strcmp(db_result_value(r, 0, 0), "0") == 0;
		db_result_free(r);
		if (none)
			return 0;
		usleep(100 * 1000);   /* a terminated backend takes a moment to go */
	}
	return err_set(e, ERR_FAILED, "sessions on %s did not end", db);
}

/* Both renames commit together: there is no moment without live. */
static int rename_pair(db_conn *admin, const char *live, const char *prev, const char *incoming,
		       struct err *e)
{
	char *ql = db_quote_ident(live), *qi = db_quote_ident(incoming);
	char *qp = prev ? db_quote_ident(prev) : NULL;
	char *sql = prev ? xasprintf("BEGIN; ALTER DATABASE %s RENAME TO %s; ALTER DATABASE %s RENAME TO %s; COMMIT",
				     ql, qp, qi, ql)
			 : xasprintf("ALTER DATABASE %s RENAME TO %s", qi, ql);
	int rc = db_exec(admin, sql, e);
	if (rc < 0)
		db_exec(admin, "ROLLBACK", NULL);
	free(ql), free(qp), free(qi), free(sql);
	return rc;
}

int restore_db_swap(db_conn *admin, const char *live, const char *previous, const char *incoming,
		    struct err *e)
{
	if (!previous)
		return rename_pair(admin, live, NULL, incoming, e);
	int rc = restore_db_allow_connections(admin, live, false, e);
	fault_point("restore.swap.closed");   /* the live database refuses connections now */
	if (rc == 0)
		rc = terminate_sessions(admin, live, e);
	if (rc == 0)
		rc = rename_pair(admin, live, previous, incoming, e);
	struct err ignored = {0};
	restore_db_allow_connections(admin, rc == 0 ? previous : live, true, &ignored);
	return rc;
}

static bool role_exists(db_conn *admin, const char *role)
{
	const char *params[] = {role};
	struct err ignored = {0};
	db_result *r = db_query(admin, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, params, &ignored);
	bool yes = r && db_result_rows(r) > 0;
	db_result_free(r);
	return yes;
}

int restore_db_create(db_conn *admin, const char *name, const struct manifest *m, struct err *e)
{
	char *qname = db_quote_ident(name);
	char *enc = db_quote_literal(m->db.encoding ? m->db.encoding : "UTF8");
	char *col = db_quote_literal(m->db.collate ? m->db.collate : "C");
	char *ctype = db_quote_literal(m->db.ctype ? m->db.ctype : "C");
	char *owner = m->db.owner && role_exists(admin, m->db.owner) ? db_quote_ident(m->db.owner)
								       : NULL;
	char *sql = xasprintf("CREATE DATABASE %s TEMPLATE template0 ENCODING %s LC_COLLATE %s "
			      "LC_CTYPE %s%s%s", qname, enc, col, ctype, owner ? " OWNER " : "",
			      owner ? owner : "");
	int rc = db_exec(admin, sql, e);
	free(qname), free(enc), free(col), free(ctype), free(owner), free(sql);
	return rc;
}

int restore_db_drop(db_conn *admin, const char *name, struct err *e)
{
	const char *params[] = {name};
	db_result *r = db_query(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
				"WHERE datname = $1 AND pid <> pg_backend_pid()", 1, params, e);
	if (!r)
		return -1;
	db_result_free(r);
	char *q = db_quote_ident(name);
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s", q);
	int rc = db_exec(admin, sql, e);
	free(q);
	free(sql);
	return rc;
}

int restore_db_pg_restore(const char *conninfo, const char *dump, const struct manifest *m,
			  int jobs, const struct event_sink *ev, volatile sig_atomic_t *cancel,
			  struct err *e)
{
	int major = 0, minor = 0;
	if (m->db.pg_dump_version)
		dump_parse_version(m->db.pg_dump_version, &major, &minor);
	struct pg_tool tool;
	if (dump_find_tool("pg_restore", major, &tool, e) < 0)
		return -1;
	if (dump_check_not_older(&tool, "the pg_dump that made this bundle", major,
				 m->db.pg_dump_version ? m->db.pg_dump_version : "?", e) < 0) {
		pg_tool_done(&tool);
		return -1;
	}
	struct strv argv = {0};
	strv_push(&argv, tool.path);
	strv_push(&argv, "--no-password");
	strv_push(&argv, "--exit-on-error");
	if (jobs > 1 && m->dump.format && strcmp(m->dump.format, "directory") == 0) {
		char *j = xasprintf("--jobs=%d", jobs);
		strv_push(&argv, j);
		free(j);
	}
	strv_push(&argv, "--dbname");
	strv_push(&argv, "{CONNINFO}");
	strv_push(&argv, dump);
	struct dump_run_opts ro = {.events = ev, .cancel = cancel, .step = "pg_restore"};
	int rc = dump_run_pg_program(&argv, conninfo, NULL, &ro, e);
	strv_done(&argv);
	pg_tool_done(&tool);
	return rc;
}

void restore_db_count_tables(db_conn *db, const struct manifest *m, int64_t *actual)
{
	for (size_t i = 0; i < m->ntables; i++) {
		const struct manifest_table *t = &m->tables[i];
		char *qs = db_quote_ident(t->schema), *qt = db_quote_ident(t->table);
		char *sql = xasprintf("SELECT count(*) FROM ONLY %s.%s", qs, qt);
		struct err qe = {0};
		char *v = db_query_value(db, sql, &qe);
		actual[i] = v ? atoll(v) : -1;
		free(qs), free(qt), free(sql), free(v);
	}
}

int restore_db_check_counts(db_conn *db, const struct manifest *m, const struct event_sink *ev,
			    struct err *e)
{
	int64_t *actual = xcalloc(m->ntables + 1, sizeof *actual);
	restore_db_count_tables(db, m, actual);
	int rc = restore_db_compare_counts(m, actual, ev, e);
	free(actual);
	return rc;
}

int restore_db_compare_counts(const struct manifest *m, const int64_t *actual,
			      const struct event_sink *ev, struct err *e)
{
	size_t bad = 0;
	char first[512] = "";
	for (size_t i = 0; i < m->ntables; i++) {
		const struct manifest_table *t = &m->tables[i];
		if (actual[i] == t->rows)
			continue;
		bad++;
		event_log(ev, EV_ERROR, "%s.%s: %lld rows, the manifest says %lld", t->schema, t->table,
			  (long long)actual[i], (long long)t->rows);
		if (!first[0])
			snprintf(first, sizeof first, "%s.%s has %lld rows, the manifest says %lld%s",
				 t->schema, t->table, (long long)actual[i], (long long)t->rows,
				 actual[i] < 0 ? " (table missing)" : "");
	}
	if (bad == 0)
		return 0;
	err_set(e, ERR_VERIFY, "row counts differ from the manifest in %zu table%s: %s", bad,
		bad == 1 ? "" : "s", first);
	return err_hint(e, "the dump does not hold what the manifest recorded; use another bundle");
}

static int deep_steps(const char *bundle, const struct manifest *m, const struct profile *p,
		      const char *tmp, const char *scratch, db_conn *admin,
		      const struct event_sink *ev, volatile sig_atomic_t *cancel, struct err *e)
{
	/* The verifying pass before this one checked every member (core/trust.h). */
	if (bundle_extract(bundle, tmp, "db/", false, NULL, NULL, cancel, e) < 0)
		return -1;
	if (restore_db_create(admin, scratch, m, e) < 0)
		return -1;
	char *conninfo = db_conninfo_with_dbname(p->database.url, scratch, e);
	if (!conninfo)
		return -1;
	char *dump = xasprintf("%s/%s", tmp, m->dump.path);
	int rc = restore_db_pg_restore(conninfo, dump, m, (int)sysconf(_SC_NPROCESSORS_ONLN), ev,
				       cancel, e);
	free(dump);
	db_conn *db = rc == 0 ? db_connect(conninfo, e) : NULL;
	if (db)
		rc = restore_db_check_counts(db, m, ev, e);
	else
		rc = -1;
	db_close(db);
	free(conninfo);
	return rc;
}

int restore_db_deep_check(const char *bundle, const struct manifest *m, const struct profile *p,
			  const struct event_sink *ev, volatile sig_atomic_t *cancel, struct err *e)
{
	if (!p) {
		err_set(e, ERR_USAGE, "verify --deep needs a profile to know which server to use");
		return err_hint(e, "pass --profile NAME");
	}
	if (!m->has_db || !m->dump.path)
		return 0;
	db_conn *admin = db_connect(p->database.url, e);
	if (!admin)
		return -1;
	char pid[24];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	char *scratch = dbname_unique("ferry", "verify", pid, restore_db_exists_fn, admin, e);
	if (!scratch) {
		db_close(admin);
		return -1;
	}
	char *tmp = xstrdup("/tmp/ferry-verify-XXXXXX");
	int rc = -1;
	if (!mkdtemp(tmp))
		err_set(e, ERR_FAILED, "cannot create a temporary directory: %s", strerror(errno));
	else
		rc = deep_steps(bundle, m, p, tmp, scratch, admin, ev, cancel, e);
	struct err ignored = {0};
	restore_db_drop(admin, scratch, &ignored);
	fsx_rm_rf(tmp);
	free(tmp);
	free(scratch);
	db_close(admin);
	return rc;
}
