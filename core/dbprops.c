/* dbprops — database-level properties, read and applied over SQL. */
#include "dbprops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

int dbprops_read(db_conn *db, const char *name, struct manifest_db_properties *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	out->connection_limit = -1;
	const char *params[] = {name};
	db_result *r = db_query(db, "SELECT shobj_description(oid, 'pg_database'), datconnlimit, datacl::text "
				"FROM pg_database WHERE datname = $1", 1, params, e);
	if (!r)
		return -1;
	if (db_result_rows(r) == 1) {
		out->recorded = true;
		out->comment = xstrdup(db_result_value(r, 0, 0));
		out->connection_limit = atoi(db_result_value(r, 0, 1));
		out->acl = xstrdup(db_result_value(r, 0, 2));
	}
	db_result_free(r);
	/* In the order they were set: a later SET of the same key wins. */
	r = db_query(db, "SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END, c.v "
		     "FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase, "
		     "unnest(s.setconfig) WITH ORDINALITY AS c(v, n) "
		     "WHERE d.datname = $1 ORDER BY 1 NULLS FIRST, c.n", 1, params, e);
	if (!r)
		return -1;
	for (int i = 0; i < db_result_rows(r); i++)
		manifest_props_add_setting(out, db_result_value(r, i, 0), db_result_value(r, i, 1));
	db_result_free(r);
	return 0;
}

/* The settings PostgreSQL stores as a list of quoted names (GUC_LIST_QUOTE):
 * "search_path=app, \"$user\"" must go back as 'app', '$user', not as the
 * one name "app, $user". The same list pg_dump knows. */
static bool is_quoted_list(const char *key)
{
	static const char *const lists[] = {"search_path", "temp_tablespaces", "local_preload_libraries",
					    "session_preload_libraries", "shared_preload_libraries",
					    "unix_socket_directories"};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		if (strcasecmp(key, lists[i]) == 0)
			return true;
	return false;
}

/* One element of a stored list at *p: a "double-quoted" name ("" inside is
 * one quote) or bare text up to a comma; *p moves past it and its comma. */
static char *next_list_element(const char **p)
{
	struct sbuf b = {0};
	const char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '"') {
		for (s++; *s; s++) {
			if (*s == '"' && s[1] == '"')
				sbuf_addc(&b, *s++);
			else if (*s == '"')
				break;
			else
				sbuf_addc(&b, *s);
		}
		if (*s == '"')
			s++;
	}
	while (*s && *s != ',') {
		if (*s != ' ' && *s != '\t')
			sbuf_addc(&b, *s);
		s++;
	}
	*p = *s == ',' ? s + 1 : s;
	return sbuf_take(&b);
}

/* The value as SQL: one literal, or a literal per element of a list. */
static char *setting_value_sql(const char *key, const char *value)
{
	if (!is_quoted_list(key))
		return db_quote_literal(value);
	struct sbuf b = {0};
	for (const char *p = value; *p;) {
		char *el = next_list_element(&p);
		char *q = db_quote_literal(el);
		sbuf_addf(&b, "%s%s", b.len ? ", " : "", q);
		free(q), free(el);
	}
	return b.len ? sbuf_take(&b) : xstrdup("''");
}

/* "key=value" → ALTER DATABASE t [IN ROLE...] SET key = 'value'. */
static char *setting_sql(const char *qdb, const char *role, const char *setting)
{
	const char *eq = strchr(setting, '=');
	if (!eq || eq == setting)
		return NULL;
	char *key = xstrndup(setting, (size_t)(eq - setting));
	char *qkey = db_quote_ident(key);
	char *qval = setting_value_sql(key, eq + 1);
	char *qrole = role ? db_quote_ident(role) : NULL;
	char *sql = role ? xasprintf("ALTER ROLE %s IN DATABASE %s SET %s = %s", qrole, qdb, qkey, qval)
			 : xasprintf("ALTER DATABASE %s SET %s = %s", qdb, qkey, qval);
	free(key), free(qkey), free(qval), free(qrole);
	return sql;
}

static int apply_settings(db_conn *admin, const char *qdb, const struct manifest_db_properties *p,
			  const struct event_sink *ev, struct err *e)
{
	char *reset = xasprintf("ALTER DATABASE %s RESET ALL", qdb);
	int rc = db_exec(admin, reset, e);
	free(reset);
	for (size_t i = 0; rc == 0 && i < p->nsettings; i++) {
		char *sql = setting_sql(qdb, p->settings[i].role, p->settings[i].setting);
		struct err one = {0};
		if (sql && db_exec(admin, sql, &one) < 0)
			event_log(ev, EV_WARN, "setting %s%s%s left out: %s", p->settings[i].setting,
				  p->settings[i].role ? " for role " : "",
				  p->settings[i].role ? p->settings[i].role : "", one.msg);
		free(sql);
	}
	return rc;
}

/* The grants of an aclitem[] text, one GRANT each; grantees missing here are logged. */
static int apply_acl(db_conn *admin, const char *qdb, const char *acl, const struct event_sink *ev,
		     struct err *e)
{
	char *revoke = xasprintf("REVOKE ALL ON DATABASE %s FROM PUBLIC", qdb);
	int rc = db_exec(admin, revoke, e);
	free(revoke);
	/* Each item "grantee=privs/grantor"; the letters of a database: C, c, T. */
	char *copy = xstrdup(acl), *save = NULL;
	for (char *item = strtok_r(copy + (copy[0] == '{'), ",}", &save); rc == 0 && item;
	     item = strtok_r(NULL, ",}", &save)) {
		char *eq = strrchr(item, '='), *slash = strrchr(item, '/');
		if (!eq || (slash && slash < eq))
			continue;
		char *grantee = xstrndup(item, (size_t)(eq - item));
		if (grantee[0] == '"') {
			memmove(grantee, grantee + 1, strlen(grantee));
			grantee[strcspn(grantee, "\"")] = '\0';
		}
		struct sbuf privs = {0};
		for (const char *c = eq + 1; *c && *c != '/'; c++) {
			const char *what = *c == 'C' ? "CREATE" : *c == 'c' ? "CONNECT" : *c == 'T' ? "TEMPORARY" : NULL;
			if (what)
				sbuf_addf(&privs, "%s%s", privs.len ? ", " : "", what);
		}
		char *who = grantee[0] ? db_quote_ident(grantee) : xstrdup("PUBLIC");
		char *sql = privs.len ? xasprintf("GRANT %s ON DATABASE %s TO %s", privs.data, qdb, who) : NULL;
		struct err one = {0};
		if (sql && db_exec(admin, sql, &one) < 0)
			event_log(ev, EV_WARN, "grant on the database to %s left out: %s", grantee, one.msg);
		free(sql), free(who), free(grantee);
		sbuf_done(&privs);
	}
	free(copy);
	return rc;
}

int dbprops_apply(db_conn *admin, const char *target, const struct manifest_db_properties *p,
		  const struct event_sink *ev, struct err *e)
{
	if (!p->recorded)
		return 0;
	char *qdb = db_quote_ident(target);
	int rc = apply_settings(admin, qdb, p, ev, e);
	if (rc == 0 && p->acl)
		rc = apply_acl(admin, qdb, p->acl, ev, e);
	if (rc == 0) {
		char *limit = xasprintf("ALTER DATABASE %s CONNECTION LIMIT %d", qdb, p->connection_limit);
		rc = db_exec(admin, limit, e);
		free(limit);
	}
	if (rc == 0) {
		char *text = p->comment ? db_quote_literal(p->comment) : xstrdup("NULL");
		char *sql = xasprintf("COMMENT ON DATABASE %s IS %s", qdb, text);
		rc = db_exec(admin, sql, e);
		free(sql), free(text);
	}
	free(qdb);
	return rc < 0 ? err_prefix(e, "database properties of %s", target) : 0;
}
