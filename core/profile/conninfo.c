/* conninfo — connection strings in profiles. libpq reads them (through
 * core/db.h): a password written in the file must be a whole ${VAR}, and the
 * database name is the one libpq would use. */
#include "profile_int.h"
#include "db.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *const PASSWORD_HINT =
	"remove it; libpq reads PGPASSWORD, ~/.pgpass (PGPASSFILE) or the env file"
	" \xe2\x80\x94 write ${DB_PASSWORD} to take it from there";

/* A password in a raw (unexpanded) conninfo must be a whole ${VAR}. A
 * string libpq cannot read as it is written (a whole URL in one ${VAR}, say)
 * is left to the connection, which reports it. */
int profile_check_no_literal_password(struct profile_ctx *c, const char *kp, const char *raw)
{
	struct db_conninfo_parts parts;
	struct err ignored = {0};
	if (db_conninfo_parts(raw, &parts, &ignored) < 0)
		return 0;
	const char *pw = parts.password;
	bool literal = pw && !profile_is_whole_var(pw, strlen(pw));
	db_conninfo_parts_done(&parts);
	if (!literal)
		return 0;
	profile_fail(c, kp, "contains a literal password");
	return err_hint(c->e, "%s", PASSWORD_HINT);
}

/* A connection string: type-checked, checked for a literal password, expanded. */
int profile_read_conninfo(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
			  char **out)
{
	char kp[KP_MAX];
	json_t *v = profile_member(obj, parent, key, kp);
	if (!v)
		return 0;
	if (json_is_string(v) && profile_check_no_literal_password(c, kp, json_string_value(v)) < 0)
		return -1;
	return profile_string_value(c, kp, v, NONEMPTY, out);
}

/* The database name database.url gives, as libpq reads it; NULL when none. */
char *profile_db_name(const struct profile *p)
{
	if (!p || !p->database.url)
		return NULL;
	struct db_conninfo_parts parts;
	struct err ignored = {0};
	if (db_conninfo_parts(p->database.url, &parts, &ignored) < 0)
		return NULL;
	char *name = parts.dbname;
	parts.dbname = NULL;
	db_conninfo_parts_done(&parts);
	return name;
}
