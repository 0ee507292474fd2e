/* manifest — manifest.json to and from struct manifest (jansson). */
#include "manifest.h"
#include "text.h"
#include "revision.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *strv_json(const struct strv *sv)
{
	json_t *a = json_array();
	for (size_t i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

static json_t *db_json(const struct manifest *m)
{
	if (!m->has_db)
		return json_null();
	json_t *d = json_object();
	json_object_set_new(d, "name", str_or_null(m->db.name));
	json_object_set_new(d, "owner", str_or_null(m->db.owner));
	json_object_set_new(d, "encoding", str_or_null(m->db.encoding));
	json_object_set_new(d, "collate", str_or_null(m->db.collate));
	json_object_set_new(d, "ctype", str_or_null(m->db.ctype));
	json_object_set_new(d, "server_version", str_or_null(m->db.server_version));
	json_object_set_new(d, "pg_dump_version", str_or_null(m->db.pg_dump_version));
	json_object_set_new(d, "size_bytes", json_integer(m->db.size_bytes));
	const struct manifest_db_properties *pr = &m->db.props;
	if (pr->recorded) {
		json_t *settings = json_array();
		for (size_t i = 0; i < pr->nsettings; i++)
			json_array_append_new(settings, json_pack("{s:o, s:s}", "role",
				str_or_null(pr->settings[i].role), "setting", pr->settings[i].setting));
		json_object_set_new(d, "properties", json_pack("{s:o, s:i, s:o, s:o}",
			"comment", str_or_null(pr->comment), "connection_limit", pr->connection_limit,
			"acl", str_or_null(pr->acl), "settings", settings));
	}
	return d;
}

static json_t *dump_json(const struct manifest *m)
{
	if (!m->has_db)
		return json_null();
	json_t *d = json_object();
	json_object_set_new(d, "format", str_or_null(m->dump.format));
	json_object_set_new(d, "path", str_or_null(m->dump.path));
	json_object_set_new(d, "jobs", json_integer(m->dump.jobs));
	json_object_set_new(d, "schema_only", json_boolean(m->dump.schema_only));
	json_object_set_new(d, "data_only", json_boolean(m->dump.data_only));
	json_object_set_new(d, "schemas", strv_json(&m->dump.schemas));
	json_object_set_new(d, "tables", strv_json(&m->dump.tables));
	json_object_set_new(d, "exclude_tables", strv_json(&m->dump.exclude_tables));
	json_object_set_new(d, "globals", str_or_null(m->dump.globals));
	if (m->dump.session.n) {
		json_t *session = json_object();
		for (size_t i = 0; i < m->dump.session.n; i++) {
			const char *kv = m->dump.session.v[i];
			char *name = xstrndup(kv, strcspn(kv, "="));
			const char *eq = strchr(kv, '=');
			json_object_set_new(session, name, json_string(eq ? eq + 1 : ""));
			free(name);
		}
		json_object_set_new(d, "session", session);
	}
	return d;
}

static json_t *files_json(const struct manifest *m)
{
	if (!m->has_files)
		return json_null();
	json_t *f = json_object();
	json_object_set_new(f, "root", str_or_null(m->files.root));
	json_object_set_new(f, "paths", strv_json(&m->files.paths));
	json_object_set_new(f, "exclude", strv_json(&m->files.exclude));
	return f;
}

static json_t *tables_json(const struct manifest *m)
{
	json_t *a = json_array();
	for (size_t i = 0; i < m->ntables; i++) {
		json_t *t = json_pack("{s:s, s:s, s:I}", "schema", m->tables[i].schema,
				      "table", m->tables[i].table, "rows", (json_int_t)m->tables[i].rows);
		if (m->tables[i].matview)
			json_object_set_new(t, "kind", json_string("matview"));
		if (m->tables[i].oid)
			json_object_set_new(t, "oid", json_integer(m->tables[i].oid));
		json_array_append_new(a, t);
	}
	return a;
}

static json_t *members_json(const struct manifest *m)
{
	json_t *a = json_array();
	for (size_t i = 0; i < m->nmembers; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:s}", "name", m->members[i].name,
						   "size", (json_int_t)m->members[i].size,
						   "sha256", m->members[i].sha256));
	return a;
}

/* schema_revision: the revision and its table; Django's per-app
 * revisions and migrations.status_command's line only when there are. */
static json_t *revision_json(const struct manifest *m)
{
	json_t *r = json_pack("{s:s, s:o}", "revision", m->schema_revision ? m->schema_revision : "unknown",
			      "source", str_or_null(m->revision_source));
	if (m->revisions.n)
		json_object_set_new(r, "revisions", revision_apps_to_json(&m->revisions));
	if (m->revision_command)
		json_object_set_new(r, "status_command",
				    json_pack("{s:s, s:o, s:o}", "command", m->revision_command,
					      "output", str_or_null(m->revision_command_output),
					      "error", str_or_null(m->revision_command_error)));
	return r;
}

char *manifest_to_json(const struct manifest *m)
{
	json_t *o = json_object();
	json_object_set_new(o, "format", json_string(MANIFEST_FORMAT));
	json_object_set_new(o, "format_version", json_integer(MANIFEST_FORMAT_VERSION));
	json_object_set_new(o, "ferry_version", str_or_null(m->ferry_version));
	json_object_set_new(o, "created_at", str_or_null(m->created_at));
	json_object_set_new(o, "host", str_or_null(m->host));
	json_object_set_new(o, "profile", str_or_null(m->profile));
	json_object_set_new(o, "type", str_or_null(m->type));
	json_object_set_new(o, "database", db_json(m));
	json_object_set_new(o, "schema_revision", revision_json(m));
	json_object_set_new(o, "snapshot", str_or_null(m->snapshot));
	json_object_set_new(o, "dump", dump_json(m));
	if (m->has_db) {
		json_object_set_new(o, "scope", json_string(manifest_scope(m)));
		json_object_set_new(o, "large_objects", json_integer(m->large_objects));
	}
	json_object_set_new(o, "files", files_json(m));
	json_object_set_new(o, "tables", tables_json(m));
	json_object_set_new(o, "totals", json_pack("{s:I, s:I, s:I, s:I}",
		"tables", (json_int_t)m->ntables, "rows", (json_int_t)manifest_total_rows(m),
		"members", (json_int_t)m->nmembers, "bytes", (json_int_t)manifest_total_bytes(m)));
	json_object_set_new(o, "members", members_json(m));
	json_object_set_new(o, "duration_s", json_real(m->duration_s));
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		abort();
	char *copy = xasprintf("%s\n", text);
	free(text);
	return copy;
}

/* --- parsing ------------------------------------------------------------ */

static char *get_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static int64_t get_int(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static void get_strv(json_t *o, const char *key, struct strv *out)
{
	json_t *a = json_object_get(o, key);
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
		if (json_is_string(v))
			strv_push(out, json_string_value(v));
}

static void parse_db(json_t *d, struct manifest *m)
{
	if (!json_is_object(d))
		return;
	m->has_db = true;
	m->db.name = get_str(d, "name");
	m->db.owner = get_str(d, "owner");
	m->db.encoding = get_str(d, "encoding");
	m->db.collate = get_str(d, "collate");
	m->db.ctype = get_str(d, "ctype");
	m->db.server_version = get_str(d, "server_version");
	m->db.pg_dump_version = get_str(d, "pg_dump_version");
	m->db.size_bytes = get_int(d, "size_bytes");
	json_t *pr = json_object_get(d, "properties");
	if (!json_is_object(pr))
		return;
	m->db.props.recorded = true;
	m->db.props.comment = get_str(pr, "comment");
	json_t *limit = json_object_get(pr, "connection_limit");
	m->db.props.connection_limit = json_is_integer(limit) ? (int)json_integer_value(limit) : -1;
	m->db.props.acl = get_str(pr, "acl");
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(pr, "settings"), i, s)
		if (json_is_string(json_object_get(s, "setting")))
			manifest_props_add_setting(&m->db.props, json_string_value(json_object_get(s, "role")),
					     json_string_value(json_object_get(s, "setting")));
}

static void parse_dump(json_t *d, struct manifest *m)
{
	if (!json_is_object(d))
		return;
	m->dump.format = get_str(d, "format");
	m->dump.path = get_str(d, "path");
	m->dump.jobs = (int)get_int(d, "jobs");
	m->dump.schema_only = json_is_true(json_object_get(d, "schema_only"));
	m->dump.data_only = json_is_true(json_object_get(d, "data_only"));
	get_strv(d, "schemas", &m->dump.schemas);
	get_strv(d, "tables", &m->dump.tables);
	get_strv(d, "exclude_tables", &m->dump.exclude_tables);
	m->dump.globals = get_str(d, "globals");
	const char *name;
	json_t *v;
	json_object_foreach(json_object_get(d, "session"), name, v) {
		if (!json_is_string(v) || strchr(name, '='))
			continue;
		char *kv = xasprintf("%s=%s", name, json_string_value(v));
		strv_push(&m->dump.session, kv);
		free(kv);
	}
}

static void parse_files(json_t *f, struct manifest *m)
{
	if (!json_is_object(f))
		return;
	m->has_files = true;
	m->files.root = get_str(f, "root");
	get_strv(f, "paths", &m->files.paths);
	get_strv(f, "exclude", &m->files.exclude);
}

static int parse_tables(json_t *a, struct manifest *m, struct err *e)
{
	size_t i;
	json_t *t;
	json_array_foreach(a, i, t) {
		json_t *schema = json_object_get(t, "schema"), *table = json_object_get(t, "table");
		json_t *rows = json_object_get(t, "rows");
		if (!json_is_string(schema) || !json_is_string(table) || !json_is_integer(rows))
			return err_set(e, ERR_VERIFY, "manifest.json: tables[%zu] is malformed", i);
		manifest_add_table(m, json_string_value(schema), json_string_value(table),
				   (int64_t)json_integer_value(rows));
		const char *kind = json_string_value(json_object_get(t, "kind"));
		m->tables[m->ntables - 1].matview = kind && strcmp(kind, "matview") == 0;
		m->tables[m->ntables - 1].oid = (unsigned)get_int(t, "oid");
	}
	return 0;
}

static bool is_sha256_hex(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static int parse_members(json_t *a, struct manifest *m, struct err *e)
{
	if (!json_is_array(a))
		return err_set(e, ERR_VERIFY, "manifest.json: no members list");
	size_t i;
	json_t *mem;
	json_array_foreach(a, i, mem) {
		json_t *name = json_object_get(mem, "name"), *size = json_object_get(mem, "size");
		json_t *sha = json_object_get(mem, "sha256");
		if (!json_is_string(name) || !json_is_integer(size) || !json_is_string(sha) ||
		    !is_sha256_hex(json_string_value(sha)))
			return err_set(e, ERR_VERIFY, "manifest.json: members[%zu] is malformed", i);
		manifest_add_member(m, json_string_value(name), (uint64_t)json_integer_value(size),
				    json_string_value(sha));
	}
	return 0;
}

static int parse_root(json_t *o, struct manifest *m, struct err *e)
{
	json_t *fmt = json_object_get(o, "format");
	if (!json_is_string(fmt) || strcmp(json_string_value(fmt), MANIFEST_FORMAT) != 0)
		return err_set(e, ERR_VERIFY, "manifest.json: not a ferry manifest (format is not \"%s\")",
			       MANIFEST_FORMAT);
	m->format_version = (int)get_int(o, "format_version");
	if (m->format_version < 1 || m->format_version > MANIFEST_FORMAT_VERSION) {
		err_set(e, ERR_VERIFY, "manifest.json: format version %d is not supported (this ferry reads %d)",
			m->format_version, MANIFEST_FORMAT_VERSION);
		return err_hint(e, "use a newer ferry to read this bundle");
	}
	m->ferry_version = get_str(o, "ferry_version");
	m->created_at = get_str(o, "created_at");
	m->host = get_str(o, "host");
	m->profile = get_str(o, "profile");
	m->type = get_str(o, "type");
	m->snapshot = get_str(o, "snapshot");
	json_t *rev = json_object_get(o, "schema_revision");
	m->schema_revision = get_str(rev, "revision");
	m->revision_source = get_str(rev, "source");
	json_t *apps = json_object_get(rev, "revisions");
	if (json_is_object(apps))
		revision_apps_from_json(apps, &m->revisions);
	json_t *cmd = json_object_get(rev, "status_command");
	m->revision_command = get_str(cmd, "command");
	m->revision_command_output = get_str(cmd, "output");
	m->revision_command_error = get_str(cmd, "error");
	parse_db(json_object_get(o, "database"), m);
	parse_dump(json_object_get(o, "dump"), m);
	parse_files(json_object_get(o, "files"), m);
	m->scope = get_str(o, "scope");
	m->large_objects = get_int(o, "large_objects");
	json_t *dur = json_object_get(o, "duration_s");
	m->duration_s = json_is_number(dur) ? json_number_value(dur) : 0;
	if (parse_tables(json_object_get(o, "tables"), m, e) < 0)
		return -1;
	return parse_members(json_object_get(o, "members"), m, e);
}

/* The fields that only describe the bundle reach people as they are: no
 * control characters in them (core/text.h). Names used in SQL are left
 * alone; the messages that show them are cleaned on their way. */
static void clean_descriptions(struct manifest *m)
{
	char *strs[] = {m->ferry_version, m->created_at, m->host, m->profile, m->type,
			m->schema_revision, m->revision_source, m->revision_command,
			m->revision_command_output, m->revision_command_error, m->snapshot,
			m->db.encoding, m->db.collate, m->db.ctype, m->db.server_version,
			m->db.pg_dump_version, m->files.root, m->scope};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		text_clean(strs[i], false);
	for (size_t i = 0; i < m->revisions.n; i++)
		text_clean(m->revisions.v[i], false);
}

int manifest_parse(const char *json, struct manifest *m, struct err *e)
{
	memset(m, 0, sizeof *m);
	json_error_t jerr;
	json_t *o = json_loads(json, 0, &jerr);
	if (!json_is_object(o)) {
		json_decref(o);
		return err_set(e, ERR_VERIFY, "manifest.json is not valid JSON (line %d: %s)",
			       jerr.line, jerr.text);
	}
	int rc = parse_root(o, m, e);
	json_decref(o);
	if (rc < 0)
		manifest_done(m);
	else
		clean_descriptions(m);
	return rc;
}

void manifest_done(struct manifest *m)
{
	char **strs[] = {&m->ferry_version, &m->created_at, &m->host, &m->profile, &m->type,
			 &m->schema_revision, &m->revision_source, &m->revision_command,
			 &m->revision_command_output, &m->revision_command_error, &m->snapshot, &m->db.name,
			 &m->db.owner, &m->db.encoding, &m->db.collate, &m->db.ctype,
			 &m->db.server_version, &m->db.pg_dump_version, &m->dump.format,
			 &m->dump.path, &m->dump.globals, &m->files.root, &m->scope};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		free(*strs[i]);
	manifest_props_done(&m->db.props);
	strv_done(&m->revisions);
	strv_done(&m->dump.schemas);
	strv_done(&m->dump.tables);
	strv_done(&m->dump.exclude_tables);
	strv_done(&m->dump.session);
	strv_done(&m->files.paths);
	strv_done(&m->files.exclude);
	for (size_t i = 0; i < m->ntables; i++) {
		free(m->tables[i].schema);
		free(m->tables[i].table);
	}
	free(m->tables);
	for (size_t i = 0; i < m->nmembers; i++)
		free(m->members[i].name);
	strset_done(&m->member_index);
	free(m->members);
	memset(m, 0, sizeof *m);
}

void manifest_add_member(struct manifest *m, const char *name, uint64_t size, const char *sha256)
{
	if ((m->nmembers & (m->nmembers - 1)) == 0)
		m->members = xrealloc(m->members, (m->nmembers ? 2 * m->nmembers : 1) * sizeof *m->members);
	strset_add(&m->member_index, name, m->nmembers);
	struct manifest_member *mm = &m->members[m->nmembers++];
	mm->name = xstrdup(name);
	mm->size = size;
	snprintf(mm->sha256, sizeof mm->sha256, "%s", sha256);
}

void manifest_add_table(struct manifest *m, const char *schema, const char *table, int64_t rows)
{
	if ((m->ntables & (m->ntables - 1)) == 0)
		m->tables = xrealloc(m->tables, (m->ntables ? 2 * m->ntables : 1) * sizeof *m->tables);
	struct manifest_table *t = &m->tables[m->ntables++];
	*t = (struct manifest_table){0};   /* matview, oid: set by the caller when known */
	t->schema = xstrdup(schema);
	t->table = xstrdup(table);
	t->rows = rows;
}

const struct manifest_member *manifest_find_member(const struct manifest *m, const char *name)
{
	size_t i;
	return strset_get(&m->member_index, name, &i) ? &m->members[i] : NULL;
}

int64_t manifest_total_rows(const struct manifest *m)
{
	int64_t total = 0;
	for (size_t i = 0; i < m->ntables; i++)
		total += m->tables[i].rows;
	return total;
}

uint64_t manifest_total_bytes(const struct manifest *m)
{
	uint64_t total = 0;
	for (size_t i = 0; i < m->nmembers; i++)
		total += m->members[i].size;
	return total;
}

const char *manifest_scope(const struct manifest *m)
{
	static const char *const known[] = {MANIFEST_SCOPE_FULL, MANIFEST_SCOPE_SCHEMA_ONLY,
					    MANIFEST_SCOPE_DATA_ONLY, MANIFEST_SCOPE_PARTIAL};
	for (size_t i = 0; m->scope && i < 4; i++)
		if (strcmp(m->scope, known[i]) == 0)
			return known[i];
	if (m->scope)
		return MANIFEST_SCOPE_PARTIAL;   /* a scope this ferry does not know: the careful reading */
	if (m->dump.schemas.n || m->dump.tables.n || m->dump.exclude_tables.n)
		return MANIFEST_SCOPE_PARTIAL;
	if (m->dump.schema_only)
		return MANIFEST_SCOPE_SCHEMA_ONLY;
	return m->dump.data_only ? MANIFEST_SCOPE_DATA_ONLY : MANIFEST_SCOPE_FULL;
}

bool manifest_is_full(const struct manifest *m)
{
	return strcmp(manifest_scope(m), MANIFEST_SCOPE_FULL) == 0;
}

void manifest_props_add_setting(struct manifest_db_properties *p, const char *role,
				const char *setting)
{
	p->settings = xrealloc(p->settings, (p->nsettings + 1) * sizeof *p->settings);
	p->settings[p->nsettings++] = (struct manifest_setting){xstrdup(role), xstrdup(setting)};
}

void manifest_props_done(struct manifest_db_properties *p)
{
	free(p->comment);
	free(p->acl);
	for (size_t i = 0; i < p->nsettings; i++) {
		free(p->settings[i].role);
		free(p->settings[i].setting);
	}
	free(p->settings);
	memset(p, 0, sizeof *p);
}
