/* db — libpq wrapper: connections, queries, snapshots, row counts. */
#include "db.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db_conn {
	PGconn *pg;
	char *desc;   /* "host:port/dbname" for messages */
};

struct db_result {
	PGresult *res;
};

/* The first line of a libpq error message, without the trailing newline. */
static void first_line(const char *msg, char *out, size_t len)
{
	snprintf(out, len, "%s", msg ? msg : "unknown error");
	out[strcspn(out, "\n")] = '\0';
}

static char *describe(PGconn *pg)
{
	const char *host = PQhost(pg);
	const char *port = PQport(pg);
	const char *db = PQdb(pg);
	return xasprintf("%s:%s/%s", host && *host ? host : "localhost",
			 port && *port ? port : "5432", db ? db : "?");
}

static int connect_error(PGconn *pg, struct err *e)
{
	char line[512];
	first_line(PQerrorMessage(pg), line, sizeof line);
	char *where = describe(pg);
	err_set(e, ERR_DB, "cannot connect to database %s: %s", where, line);
	free(where);
	if (strstr(line, "password authentication failed") || strstr(line, "no password supplied"))
		return err_hint(e, "check the user and the password in PGPASSWORD, ~/.pgpass "
			     "(PGPASSFILE) or the env file");
	if (strstr(line, "does not exist"))
		return err_hint(e, "check the database name in database.url");
	return err_hint(e, "check that PostgreSQL runs there and database.url "
		     "(host, port) in the profile");
}

/* Server notices ("... does not exist, skipping") are not for the operator. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg, (void)message;
}

db_conn *db_connect(const char *conninfo, struct err *e)
{
	const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *vals[] = {conninfo, "10", "ferry", NULL};
	PGconn *pg = PQconnectdbParams(keys, vals, 1);
	if (!pg) {
		err_set(e, ERR_DB, "cannot connect to database: out of memory");
		return NULL;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		connect_error(pg, e);
		PQfinish(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg, ignore_notice, NULL);
	db_conn *c = xcalloc(1, sizeof *c);
	c->pg = pg;
	c->desc = describe(pg);
	return c;
}

void db_close(db_conn *c)
{
	if (!c)
		return;
	PQfinish(c->pg);
	free(c->desc);
	free(c);
}

static int result_error(db_conn *c, PGresult *res, const char *sql, struct err *e)
{
	char line[512];
	first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg), line, sizeof line);
	if (!line[0])
		first_line(PQerrorMessage(c->pg), line, sizeof line);
	char shortsql[80];
	snprintf(shortsql, sizeof shortsql, "%s", sql);
	shortsql[strcspn(shortsql, "\n")] = '\0';
	err_set(e, ERR_DB, "database %s: %s (in: %s)", c->desc, line, shortsql);
	return -1;
}

static bool result_ok(PGresult *res)
{
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

int db_exec(db_conn *c, const char *sql, struct err *e)
{
	PGresult *res = PQexec(c->pg, sql);
	int rc = 0;
	if (!result_ok(res))
		rc = result_error(c, res, sql, e);
	PQclear(res);
	return rc;
}

/* Start a COPY and check the server went into the wanted state. */
static int copy_start(db_conn *c, const char *sql, ExecStatusType want, struct err *e)
{
	PGresult *res = PQexec(c->pg, sql);
	int rc = PQresultStatus(res) == want ? 0 : result_error(c, res, sql, e);
	PQclear(res);
	return rc;
}

/* The outcome of a finished COPY. */
static int copy_result(db_conn *c, const char *what, struct err *e)
{
	int rc = 0;
	PGresult *res;
	while ((res = PQgetResult(c->pg)) != NULL) {
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = result_error(c, res, what, e);
		PQclear(res);
	}
	return rc;
}

int db_copy_out(db_conn *c, const char *sql, struct err *e)
{
	return copy_start(c, sql, PGRES_COPY_OUT, e);
}

long db_copy_read(db_conn *c, char **buf, struct err *e)
{
	*buf = NULL;
	int n = PQgetCopyData(c->pg, buf, 0);
	if (n >= 0)
		return n;
	if (n == -1)
		return copy_result(c, "COPY TO STDOUT", e) < 0 ? -1 : 0;
	return result_error(c, NULL, "COPY TO STDOUT", e);
}

void db_copy_free(char *buf)
{
	if (buf)
		PQfreemem(buf);
}

int db_copy_in(db_conn *c, const char *sql, struct err *e)
{
	return copy_start(c, sql, PGRES_COPY_IN, e);
}

int db_copy_write(db_conn *c, const char *buf, size_t len, struct err *e)
{
	if (PQputCopyData(c->pg, buf, (int)len) == 1)
		return 0;
	return result_error(c, NULL, "COPY FROM STDIN", e);
}

int db_copy_end(db_conn *c, const char *error, struct err *e)
{
	if (PQputCopyEnd(c->pg, error) != 1)
		return result_error(c, NULL, "COPY FROM STDIN", e);
	int rc = copy_result(c, "COPY FROM STDIN", error ? NULL : e);
	return error ? -1 : rc;
}

db_result *db_query(db_conn *c, const char *sql, int nparams,
		    const char *const *params, struct err *e)
{
	PGresult *res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
	if (!result_ok(res)) {
		result_error(c, res, sql, e);
		PQclear(res);
		return NULL;
	}
	db_result *r = xmalloc(sizeof *r);
	r->res = res;
	return r;
}

void db_result_free(db_result *r)
{
	if (!r)
		return;
	PQclear(r->res);
	free(r);
}

int db_result_rows(const db_result *r) { return PQntuples(r->res); }
int db_result_cols(const db_result *r) { return PQnfields(r->res); }
const char *db_result_name(const db_result *r, int col) { return PQfname(r->res, col); }

const char *db_result_value(const db_result *r, int row, int col)
{
	if (PQgetisnull(r->res, row, col))
		return NULL;
	return PQgetvalue(r->res, row, col);
}

long long db_result_affected(const db_result *r)
{
	const char *n = PQcmdTuples(r->res);
	return n && *n ? atoll(n) : 0;
}

char *db_query_value(db_conn *c, const char *sql, struct err *e)
{
	db_result *r = db_query(c, sql, 0, NULL, e);
	if (!r)
		return NULL;
	const char *v = db_result_rows(r) > 0 && db_result_cols(r) > 0 ? db_result_value(r, 0, 0) : NULL;
	char *out = xstrdup(v ? v : "");
	db_result_free(r);
	return out;
}

int db_server_version_num(const db_conn *c) { return PQserverVersion(c->pg); }
const char *db_name(const db_conn *c) { return PQdb(c->pg); }
const char *db_host_desc(const db_conn *c) { return c->desc; }

int db_get_info(db_conn *c, struct db_info *info, struct err *e)
{
	memset(info, 0, sizeof *info);
	db_result *r = db_query(c,
		"SELECT d.datname, pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), "
		"d.datcollate, d.datctype, current_setting('server_version'), "
		"pg_database_size(d.oid) FROM pg_database d WHERE d.datname = current_database()",
		0, NULL, e);
	if (!r)
		return -1;
	info->name = xstrdup(db_result_value(r, 0, 0));
	info->owner = xstrdup(db_result_value(r, 0, 1));
	info->encoding = xstrdup(db_result_value(r, 0, 2));
	info->collate = xstrdup(db_result_value(r, 0, 3));
	info->ctype = xstrdup(db_result_value(r, 0, 4));
	const char *ver = db_result_value(r, 0, 5);
	info->server_version = xstrndup(ver, strcspn(ver, " "));
	info->size_bytes = atoll(db_result_value(r, 0, 6));
	db_result_free(r);
	return 0;
}

void db_info_done(struct db_info *info)
{
	free(info->name);
	free(info->owner);
	free(info->encoding);
	free(info->collate);
	free(info->ctype);
	free(info->server_version);
	memset(info, 0, sizeof *info);
}

char *db_begin_snapshot(db_conn *c, struct err *e)
{
	if (db_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", e) < 0)
		return NULL;
	char *id = db_query_value(c, "SELECT pg_export_snapshot()", e);
	if (!id)
		db_rollback(c);
	return id;
}

int db_commit(db_conn *c, struct err *e)
{
	return db_exec(c, "COMMIT", e);
}

int db_rollback(db_conn *c)
{
	return db_exec(c, "ROLLBACK", NULL);
}

char *db_quote_ident(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(2 * n + 3);
	char *p = out;
	*p++ = '"';
	for (; *s; s++) {
		if (*s == '"')
			*p++ = '"';
		*p++ = *s;
	}
	*p++ = '"';
	*p = '\0';
	return out;
}

char *db_quote_literal(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(2 * n + 3);
	char *p = out;
	*p++ = '\'';
	for (; *s; s++) {
		if (*s == '\'')
			*p++ = '\'';
		*p++ = *s;
	}
	*p++ = '\'';
	*p = '\0';
	return out;
}

/* Text array literal {a,b} of strv, for a = ANY($1) parameter. */
static char *text_array(const struct strv *sv)
{
	size_t len = 3;
	for (size_t i = 0; i < sv->n; i++)
		len += 2 * strlen(sv->v[i]) + 4;
	char *out = xmalloc(len);
	char *p = out;
	*p++ = '{';
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		for (const char *s = sv->v[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				*p++ = '\\';
			*p++ = *s;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return out;
}

static const char list_tables_sql[] =
	"SELECT n.nspname, c.relname, c.oid, c.relkind = 'm' FROM pg_class c "
	"JOIN pg_namespace n ON n.oid = c.relnamespace "
	"WHERE (c.relkind = 'r' OR (c.relkind = 'm' AND c.relispopulated)) "
	"AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
	"AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' "
	"AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[])) "
	"AND (cardinality($2::text[]) = 0 OR c.relname = ANY($2::text[]) "
	"     OR n.nspname || '.' || c.relname = ANY($2::text[])) "
	"AND NOT (c.relname = ANY($3::text[]) OR n.nspname || '.' || c.relname = ANY($3::text[])) "
	"ORDER BY n.nspname, c.relname";

static int count_one(db_conn *c, struct db_table_count *tc, struct err *e);

/* Count each relation a listing query returned (schema, name, oid, is matview). */
static int count_listed(db_conn *c, db_result *r, struct db_table_counts *out, struct err *e)
{
	int n = db_result_rows(r);
	out->v = xcalloc((size_t)n + 1, sizeof *out->v);
	for (int i = 0; i < n; i++) {
		struct db_table_count *tc = &out->v[out->n++];
		tc->schema = xstrdup(db_result_value(r, i, 0));
		tc->table = xstrdup(db_result_value(r, i, 1));
		tc->oid = (unsigned)strtoul(db_result_value(r, i, 2), NULL, 10);
		tc->matview = strcmp(db_result_value(r, i, 3), "t") == 0;
		if (count_one(c, tc, e) < 0) {
			db_table_counts_done(out);
			return -1;
		}
	}
	return 0;
}

static int count_one(db_conn *c, struct db_table_count *tc, struct err *e)
{
	char *qs = db_quote_ident(tc->schema);
	char *qt = db_quote_ident(tc->table);
	/* ONLY: a partition's rows are its own, not its parent's again. */
	char *sql = tc->matview ? xasprintf("SELECT count(*) FROM %s.%s", qs, qt)
				: xasprintf("SELECT count(*) FROM ONLY %s.%s", qs, qt);
	char *v = db_query_value(c, sql, e);
	free(qs);
	free(qt);
	free(sql);
	if (!v)
		return -1;
	tc->rows = atoll(v);
	free(v);
	return 0;
}

int db_count_rows(db_conn *c, const struct strv *schemas, const struct strv *tables,
		  const struct strv *exclude_tables, struct db_table_counts *out,
		  struct err *e)
{
	static const struct strv none = {0};
	char *a1 = text_array(schemas ? schemas : &none);
	char *a2 = text_array(tables ? tables : &none);
	char *a3 = text_array(exclude_tables ? exclude_tables : &none);
	const char *params[] = {a1, a2, a3};
	db_result *r = db_query(c, list_tables_sql, 3, params, e);
	free(a1);
	free(a2);
	free(a3);
	memset(out, 0, sizeof *out);
	if (!r)
		return -1;
	int rc = count_listed(c, r, out, e);
	db_result_free(r);
	return rc;
}

int db_count_oids(db_conn *c, const unsigned *oids, size_t n, struct db_table_counts *out,
		  struct err *e)
{
	struct sbuf a = {0};
	sbuf_adds(&a, "{");
	for (size_t i = 0; i < n; i++)
		sbuf_addf(&a, "%s%u", i ? "," : "", oids[i]);
	sbuf_adds(&a, "}");
	const char *params[] = {a.data};
	db_result *r = db_query(c, "SELECT n.nspname, c.relname, c.oid, c.relkind = 'm' FROM pg_class c "
				"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY($1::oid[]) "
				"ORDER BY n.nspname, c.relname", 1, params, e);
	sbuf_done(&a);
	memset(out, 0, sizeof *out);
	if (!r)
		return -1;
	int rc = count_listed(c, r, out, e);
	db_result_free(r);
	return rc;
}

void db_table_counts_add(struct db_table_counts *tc, const char *schema, const char *table,
			 int64_t rows)
{
	tc->v = xrealloc(tc->v, (tc->n + 1) * sizeof *tc->v);
	tc->v[tc->n++] = (struct db_table_count){xstrdup(schema), xstrdup(table), rows, 0, false};
}

void db_table_counts_done(struct db_table_counts *tc)
{
	for (size_t i = 0; i < tc->n; i++) {
		free(tc->v[i].schema);
		free(tc->v[i].table);
	}
	free(tc->v);
	tc->v = NULL;
	tc->n = 0;
}

static PQconninfoOption *parse_conninfo(const char *conninfo, struct err *e)
{
	char *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &errmsg);
	if (!opts) {
		char line[256];
		first_line(errmsg, line, sizeof line);
		err_set(e, ERR_PROFILE, "bad database connection string: %s", line);
		err_hint(e, "database.url takes a libpq URI (postgresql://user@host:port/db) "
			 "or key=value pairs");
		PQfreemem(errmsg);
	}
	return opts;
}

/* Rebuild a key=value string from parsed options, replacing one key. */
static char *conninfo_rebuild(PQconninfoOption *opts, const char *skip_key,
			      const char *set_key, const char *set_value)
{
	size_t cap = 256, len = 0;
	char *out = xmalloc(cap);
	out[0] = '\0';
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		const char *val = o->val;
		if (set_key && strcmp(o->keyword, set_key) == 0)
			val = set_value;
		if (!val || (skip_key && strcmp(o->keyword, skip_key) == 0))
			continue;
		/* libpq key=value quoting escapes ' and \ with a backslash. */
		size_t need = strlen(o->keyword) + 2 * strlen(val) + 5;
		while (len + need + 1 > cap)
			out = xrealloc(out, cap *= 2);
		len += (size_t)sprintf(out + len, "%s%s='", len ? " " : "", o->keyword);
		for (const char *s = val; *s; s++) {
			if (*s == '\'' || *s == '\\')
				out[len++] = '\\';
			out[len++] = *s;
		}
		out[len++] = '\'';
		out[len] = '\0';
	}
	return out;
}

/* The string without its password, and the password, for a child process. */
int db_conninfo_split(const char *conninfo, char **without_password,
		      char **password, struct err *e)
{
	PQconninfoOption *opts = parse_conninfo(conninfo, e);
	if (!opts)
		return -1;
	*password = NULL;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
			*password = xstrdup(o->val);
	*without_password = conninfo_rebuild(opts, "password", NULL, NULL);
	PQconninfoFree(opts);
	return 0;
}

/* conninfo rebuilt with another dbname. */
char *db_conninfo_with_dbname(const char *conninfo, const char *dbname, struct err *e)
{
	PQconninfoOption *opts = parse_conninfo(conninfo, e);
	if (!opts)
		return NULL;
	char *out = conninfo_rebuild(opts, NULL, "dbname", dbname);
	PQconninfoFree(opts);
	return out;
}

/* conninfo rebuilt with options appended to its own. */
char *db_conninfo_with_options(const char *conninfo, const char *options, struct err *e)
{
	PQconninfoOption *opts = parse_conninfo(conninfo, e);
	if (!opts)
		return NULL;
	const char *have = NULL;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "options") == 0)
			have = o->val;
	char *both = have && *have ? xasprintf("%s %s", have, options) : xstrdup(options);
	char *out = conninfo_rebuild(opts, NULL, "options", both);
	free(both);
	PQconninfoFree(opts);
	return out;
}

/* The database a connection would use, libpq's defaults included. */
char *db_conninfo_dbname(const char *conninfo, struct err *e)
{
	PQconninfoOption *opts = parse_conninfo(conninfo, e);
	if (!opts)
		return NULL;
	const char *db = NULL, *user = NULL;
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
		if (strcmp(o->keyword, "user") == 0)
			user = o->val;
	}
	const char *envdb = getenv("PGDATABASE"), *envuser = getenv("PGUSER");
	char *out = xstrdup(db && *db ? db : envdb && *envdb ? envdb :
			    user && *user ? user : envuser && *envuser ? envuser : "postgres");
	PQconninfoFree(opts);
	return out;
}

/* A copy of the option key's value, or NULL when it is not given or empty. */
static char *option_value(const PQconninfoOption *opts, const char *key)
{
	for (const PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, key) == 0)
			return o->val && *o->val ? xstrdup(o->val) : NULL;
	return NULL;
}

/* The host, port, database, user and password conninfo gives, via libpq. */
int db_conninfo_parts(const char *conninfo, struct db_conninfo_parts *out, struct err *e)
{
	*out = (struct db_conninfo_parts){0};
	PQconninfoOption *opts = parse_conninfo(conninfo, e);
	if (!opts)
		return -1;
	out->host = option_value(opts, "host");
	out->port = option_value(opts, "port");
	out->dbname = option_value(opts, "dbname");
	out->user = option_value(opts, "user");
	out->password = option_value(opts, "password");
	PQconninfoFree(opts);
	return 0;
}

/* Free the parts' strings; NULL is fine. */
void db_conninfo_parts_done(struct db_conninfo_parts *parts)
{
	if (!parts)
		return;
	free(parts->host);
	free(parts->port);
	free(parts->dbname);
	free(parts->user);
	free(parts->password);
	*parts = (struct db_conninfo_parts){0};
}

/* ---- passwords masked for display --------------------------------------- */

#define MASKS_MAX 8

struct span {
	size_t start, len;
};

/* Where passwords are written in a URI: the user info after its first ':'
 * up to the authority's last '@', and every password= query value. */
static size_t uri_password_spans(const char *s, struct span *out, size_t max)
{
	size_t n = 0;
	const char *auth = strstr(s, "://") + 3;
	size_t auth_len = strcspn(auth, "/?#");
	const char *at = memrchr(auth, '@', auth_len);
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon)
		out[n++] = (struct span){(size_t)(colon + 1 - s), (size_t)(at - colon - 1)};
	const char *q = strchr(auth + auth_len, '?');
	size_t i = q ? (size_t)(q + 1 - s) : strlen(s);
	while (s[i] && s[i] != '#' && n < max) {
		size_t end = i + strcspn(s + i, "&#");
		if (str_starts(s + i, "password="))
			out[n++] = (struct span){i + 9, end - i - 9};
		i = s[end] == '&' ? end + 1 : end;
	}
	return n;
}

/* Index of the first character from i on that is not white space. */
static size_t skip_space(const char *s, size_t i)
{
	while (s[i] && isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* The next "key = value" of a key=value string, as written (a quoted value
 * with its quotes); false at the end. */
static bool kv_next(const char *s, size_t *pos, struct span *key, struct span *value)
{
	size_t i = skip_space(s, *pos);
	if (!s[i])
		return false;
	key->start = i;
	while (s[i] && s[i] != '=' && !isspace((unsigned char)s[i]))
		i++;
	key->len = i - key->start;
	i = skip_space(s, i);
	if (s[i] == '=')
		i = skip_space(s, i + 1);
	value->start = i;
	bool quoted = s[i] == '\'';
	for (i += quoted; s[i] && (quoted ? s[i] != '\'' : !isspace((unsigned char)s[i])); i++)
		if (s[i] == '\\' && s[i + 1])
			i++;
	if (quoted && s[i])
		i++;
	value->len = i - value->start;
	*pos = i;
	return true;
}

/* Where password= values are written in a key=value string. */
static size_t kv_password_spans(const char *s, struct span *out, size_t max)
{
	size_t n = 0, pos = 0;
	struct span key, value;
	while (n < max && kv_next(s, &pos, &key, &value))
		if (key.len == 8 && strncmp(s + key.start, "password", 8) == 0)
			out[n++] = value;
	return n;
}

/* conninfo with its passwords masked (see db.h). */
char *db_conninfo_redact(const char *conninfo)
{
	if (!conninfo)
		return NULL;
	struct span spans[MASKS_MAX];
	bool uri = str_starts(conninfo, "postgresql://") || str_starts(conninfo, "postgres://");
	size_t n = uri ? uri_password_spans(conninfo, spans, MASKS_MAX)
		       : kv_password_spans(conninfo, spans, MASKS_MAX);
	struct sbuf b = {0};
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		if (spans[i].len == 0 || spans[i].start < at)
			continue;
		sbuf_add(&b, conninfo + at, spans[i].start - at);
		sbuf_adds(&b, "***");
		at = spans[i].start + spans[i].len;
	}
	sbuf_adds(&b, conninfo + at);
	return sbuf_take(&b);
}
