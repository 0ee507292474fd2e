/* revision — the schema revision as each migration tool reports it: the
 * known tables found in the catalog, their rows read as text, the tool's
 * own ordering applied here (see revision.h). */
#include "revision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "proc.h"

/* --- cleaning text ------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (its code point in *cp), or 0. */
static size_t utf8_seq(const unsigned char *s, unsigned *cp)
{
	size_t n;
	unsigned min;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, min = 0x80, *cp = s[0] & 0x1Fu;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, min = 0x800, *cp = s[0] & 0x0Fu;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, min = 0x10000, *cp = s[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3Fu);
	}
	if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
		return 0;
	return n;
}

/* Bytes of the escape sequence at s (s[0] is ESC), within the line. */
static size_t escape_len(const char *s, const char *end)
{
	const char *p = s + 1;
	if (p < end && *p == '[') {
		/* CSI: parameters and intermediates up to a final byte @..~ */
		for (p++; p < end; p++)
			if (*p >= 0x40 && *p <= 0x7E)
				return (size_t)(p + 1 - s);
		return (size_t)(end - s);
	}
	if (p < end && *p == ']') {
		/* OSC: up to BEL or ESC \ */
		for (p++; p < end; p++) {
			if (*p == '\a')
				return (size_t)(p + 1 - s);
			if (*p == 0x1b && p + 1 < end && p[1] == '\\')
				return (size_t)(p + 2 - s);
		}
		return (size_t)(end - s);
	}
	return p < end ? 2 : 1;
}

/* One line [s, end) cleaned into b. */
static void clean_into(struct sbuf *b, const char *s, const char *end)
{
	while (s < end) {
		unsigned char ch = (unsigned char)*s;
		unsigned cp;
		size_t n;
		if (ch == 0x1b) {
			s += escape_len(s, end);
		} else if (ch == '\t') {
			sbuf_addc(b, ' '), s++;
		} else if (ch < 0x20 || ch == 0x7f) {
			s++;
		} else if (ch < 0x80) {
			sbuf_addc(b, (char)ch), s++;
		} else if ((n = utf8_seq((const unsigned char *)s, &cp)) > 0 && s + n <= end) {
			if (cp > 0x9F)   /* C1 controls are dropped */
				sbuf_add(b, s, n);
			s += n;
		} else {
			sbuf_addc(b, '?'), s++;
		}
	}
}

/* Trim blanks and cut to max bytes on a character boundary; NULL if empty. */
static char *trim_and_cap(char *s, size_t max)
{
	size_t len = strlen(s);
	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	while (len > 0 && s[len - 1] == ' ')
		len--;
	size_t start = 0;
	while (start < len && s[start] == ' ')
		start++;
	char *out = len > start ? xstrndup(s + start, len - start) : NULL;
	free(s);
	return out;
}

/* The first line of text that is not blank once cleaned. */
char *revision_clean_line(const char *text, size_t max)
{
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		const char *end = nl ? nl : line + strlen(line);
		struct sbuf b = {0};
		clean_into(&b, line, end);
		char *out = trim_and_cap(sbuf_take(&b), max);
		if (out)
			return out;
		line = nl ? nl + 1 : end;
	}
	return NULL;
}

/* Letters, digits, '.' and '-' only; 40 bytes at most. */
char *revision_for_name(const char *rev)
{
	char *s = xstrdup(rev && *rev ? rev : "unknown");
	for (char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			*p = '-';
	if (strlen(s) > 40)
		s[40] = '\0';
	return s;
}

/* --- ordering ------------------------------------------------------------ */

/* The digit run at *s without its leading zeros: start in *d, length
 * returned; *s moves past the run. */
static size_t digit_run(const char **s, const char **d)
{
	const char *p = *s;
	while (*p == '0' && p[1] >= '0' && p[1] <= '9')
		p++;
	*d = p;
	while (*p >= '0' && *p <= '9')
		p++;
	size_t n = (size_t)(p - *d);
	if (n == 1 && **d == '0')
		n = 0;   /* "0" and "" are both zero */
	*s = p;
	return n;
}

/* Compare two digit runs (no leading zeros) as numbers. */
static int cmp_runs(const char *a, size_t na, const char *b, size_t nb)
{
	if (na != nb)
		return na < nb ? -1 : 1;
	return na ? memcmp(a, b, na) : 0;
}

/* Leading digits as a number, then the text. */
int revision_cmp_numeric(const char *a, const char *b)
{
	const char *pa = a, *pb = b, *da, *db;
	size_t na = digit_run(&pa, &da), nb = digit_run(&pb, &db);
	int c = cmp_runs(da, na, db, nb);
	if (c)
		return c;
	c = strcmp(a, b);
	return c < 0 ? -1 : c > 0;
}

/* The first of the highest by revision_cmp_numeric. */
const char *revision_max_numeric(const struct strv *versions)
{
	const char *best = NULL;
	for (size_t i = 0; i < versions->n; i++)
		if (!best || revision_cmp_numeric(versions->v[i], best) > 0)
			best = versions->v[i];
	return best;
}

/* Skip to the next digit of a Flyway version (past '.', '_' and the like). */
static const char *next_part(const char *s)
{
	while (*s && !(*s >= '0' && *s <= '9'))
		s++;
	return s;
}

/* Part by part as numbers; a missing part is 0. */
int revision_cmp_flyway(const char *a, const char *b)
{
	const char *pa = next_part(a), *pb = next_part(b);
	while (*pa || *pb) {
		const char *da, *db;
		size_t na = digit_run(&pa, &da), nb = digit_run(&pb, &db);
		int c = cmp_runs(da, na, db, nb);
		if (c)
			return c;
		pa = next_part(pa), pb = next_part(pb);
	}
	return 0;
}

/* Drop every entry equal (as a Flyway version) to version. */
static void forget_version(const char **applied, size_t *n, const char *version)
{
	size_t kept = 0;
	for (size_t i = 0; i < *n; i++)
		if (revision_cmp_flyway(applied[i], version) != 0)
			applied[kept++] = applied[i];
	*n = kept;
}

/* Replay the history: applies add a version, undos and deletes take it back. */
const char *revision_flyway_current(const struct revision_flyway_row *rows, size_t n)
{
	const char **applied = xcalloc(n ? n : 1, sizeof *applied);
	size_t napplied = 0;
	for (size_t i = 0; i < n; i++) {
		const struct revision_flyway_row *r = &rows[i];
		if (!r->version || !r->success)
			continue;
		bool takes_back = r->type && (str_starts(r->type, "UNDO_") || strcmp(r->type, "DELETE") == 0);
		if (takes_back)
			forget_version(applied, &napplied, r->version);
		else
			applied[napplied++] = r->version;
	}
	const char *best = NULL;
	for (size_t i = 0; i < napplied; i++)
		if (!best || revision_cmp_flyway(applied[i], best) > 0)
			best = applied[i];
	free(applied);
	return best;
}

/* qsort comparator over char *. */
static int by_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted copy of sv (the strings copied too). */
static struct strv sorted_copy(const struct strv *sv)
{
	struct strv out = {0};
	for (size_t i = 0; i < sv->n; i++)
		strv_push(&out, sv->v[i]);
	if (out.n > 1)
		qsort(out.v, out.n, sizeof *out.v, by_bytes);
	return out;
}

/* Sorted bytewise, joined with "+". */
char *revision_join_heads(const struct strv *heads)
{
	if (heads->n == 0)
		return NULL;
	struct strv s = sorted_copy(heads);
	char *joined = strv_join(&s, "+");
	strv_done(&s);
	return joined;
}

/* SHA-256 of the sorted entries, one a line, cut to REVISION_DJANGO_HEX. */
char *revision_django_short(const struct strv *apps)
{
	if (apps->n == 0)
		return NULL;
	struct strv s = sorted_copy(apps);
	struct sbuf b = {0};
	for (size_t i = 0; i < s.n; i++)
		sbuf_addf(&b, "%s\n", s.v[i]);
	strv_done(&s);
	char hex[HASH_HEX_SIZE];
	struct err e = {0};
	int rc = hash_buffer(b.data, b.len, hex, &e);
	sbuf_done(&b);
	if (rc < 0)
		abort();   /* no SHA-256 in OpenSSL: nothing else works either */
	return xstrndup(hex, REVISION_DJANGO_HEX);
}

/* --- reading the tables -------------------------------------------------- */

/* Turn the rows of one table into a revision; false when they hold none. */
typedef bool (*pick_fn)(const db_result *r, struct revision *out);

/* A row value cleaned for keeping; NULL for SQL NULL or nothing left. */
static char *row_value(const db_result *r, int row, int col)
{
	const char *v = db_result_value(r, row, col);
	return v ? revision_clean_line(v, REVISION_VALUE_MAX) : NULL;
}

/* Column 0 of every row, cleaned. */
static void column_values(const db_result *r, struct strv *out)
{
	for (int i = 0; i < db_result_rows(r); i++) {
		char *v = row_value(r, i, 0);
		if (v)
			strv_push(out, v);
		free(v);
	}
}

/* The highest version as a number (ferry's runner, sqlx, Rails). */
static bool pick_max_numeric(const db_result *r, struct revision *out)
{
	struct strv v = {0};
	column_values(r, &v);
	const char *best = revision_max_numeric(&v);
	out->revision = xstrdup(best);
	strv_done(&v);
	return out->revision != NULL;
}

/* Every alembic head, sorted, joined with "+". */
static bool pick_heads(const db_result *r, struct revision *out)
{
	struct strv v = {0};
	column_values(r, &v);
	out->revision = revision_join_heads(&v);
	strv_done(&v);
	return out->revision != NULL;
}

/* Flyway's current version from (version, type, success) rows by rank. */
static bool pick_flyway(const db_result *r, struct revision *out)
{
	int n = db_result_rows(r);
	struct revision_flyway_row *rows = xcalloc(n ? (size_t)n : 1, sizeof *rows);
	char **vals = xcalloc(n ? (size_t)n : 1, sizeof *vals);
	for (int i = 0; i < n; i++) {
		const char *ok = db_result_value(r, i, 2);
		vals[i] = row_value(r, i, 0);
		rows[i] = (struct revision_flyway_row){
			.version = vals[i],
			.type = db_result_value(r, i, 1),
			.success = ok && (strcmp(ok, "true") == 0 || strcmp(ok, "t") == 0),
		};
	}
	out->revision = xstrdup(revision_flyway_current(rows, (size_t)n));
	for (int i = 0; i < n; i++)
		free(vals[i]);
	free(vals);
	free(rows);
	return out->revision != NULL;
}

/* Set app's latest migration in the parallel vectors apps/names. */
static void set_latest(struct strv *apps, struct strv *names, const char *app, const char *name)
{
	for (size_t j = 0; j < apps->n; j++)
		if (strcmp(apps->v[j], app) == 0) {
			free(names->v[j]);
			names->v[j] = xstrdup(name);
			return;
		}
	strv_push(apps, app);
	strv_push(names, name);
}

/* The latest migration of each app from (app, name) rows in id order. */
static bool pick_per_app(const db_result *r, struct revision *out)
{
	struct strv apps = {0}, names = {0}, entries = {0};
	for (int i = 0; i < db_result_rows(r); i++) {
		char *app = row_value(r, i, 0), *name = row_value(r, i, 1);
		if (app && name)
			set_latest(&apps, &names, app, name);
		free(app), free(name);
	}
	for (size_t j = 0; j < apps.n; j++) {
		char *entry = xasprintf("%s.%s", apps.v[j], names.v[j]);
		strv_push(&entries, entry);
		free(entry);
	}
	strv_done(&apps), strv_done(&names);
	out->apps = sorted_copy(&entries);
	strv_done(&entries);
	out->revision = revision_django_short(&out->apps);
	return out->revision != NULL;
}

/* A migration table: its name, the columns the query needs, whether it
 * may sit outside the search path, the query (%s = the table), and how
 * its rows become a revision. In precedence order. */
static const struct revision_source {
	const char *table;
	const char *columns;
	bool any_schema;
	const char *sql;
	pick_fn pick;
} sources[] = {
	{"ferry_schema_migrations", "{version}", false, "SELECT version::text FROM %s", pick_max_numeric},
	{"alembic_version", "{version_num}", true, "SELECT version_num::text FROM %s", pick_heads},
	{"_sqlx_migrations", "{version,success}", false,
	 "SELECT version::text FROM %s WHERE success::text IN ('true', 't')", pick_max_numeric},
	{"schema_migrations", "{version}", false, "SELECT version::text FROM %s", pick_max_numeric},
	{"flyway_schema_history", "{installed_rank,version,type,success}", true,
	 "SELECT version::text, type::text, success::text FROM %s ORDER BY installed_rank", pick_flyway},
	{"django_migrations", "{id,app,name}", false, "SELECT app::text, name::text FROM %s ORDER BY id",
	 pick_per_app},
};

/* Tables named like src with its columns, that we may read (a query that
 * fails would abort the caller's transaction): the one on the search path
 * first, then (any_schema) the others by schema name. Columns: schema,
 * visible ("t"/"f"). */
static db_result *find_tables(db_conn *c, const struct revision_source *src, struct err *e)
{
	const char *params[] = {src->table, src->any_schema ? "true" : "false", src->columns};
	return db_query(c,
		"SELECT n.nspname::text, pg_catalog.pg_table_is_visible(t.oid) "
		"FROM pg_catalog.pg_class t JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace "
		"WHERE t.relname = $1 AND t.relkind IN ('r', 'p', 'v', 'm', 'f') "
		"AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' "
		"AND ($2::boolean OR pg_catalog.pg_table_is_visible(t.oid)) "
		"AND pg_catalog.has_schema_privilege(n.oid, 'USAGE') "
		"AND pg_catalog.has_table_privilege(t.oid, 'SELECT') "
		"AND NOT EXISTS (SELECT 1 FROM unnest($3::text[]) AS want(col) WHERE NOT EXISTS ("
		"  SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.oid "
		"  AND a.attname = want.col AND a.attnum > 0 AND NOT a.attisdropped)) "
		"ORDER BY pg_catalog.pg_table_is_visible(t.oid) DESC, n.nspname",
		3, params, e);
}

/* Read one table (schema-qualified) with src's query into out: 1 when it
 * holds a revision, 0 when it holds none, -1 when it cannot be read (a
 * table of the same name that is not the tool's). */
static int read_table(db_conn *c, const struct revision_source *src, const char *schema,
		      struct revision *out)
{
	char *qs = db_quote_ident(schema), *qt = db_quote_ident(src->table);
	char *name = xasprintf("%s.%s", qs, qt);
	char *sql = xasprintf(src->sql, name);
	struct err ignored = {0};
	db_result *r = db_query(c, sql, 0, NULL, &ignored);
	int rc = !r ? -1 : src->pick(r, out) ? 1 : 0;
	db_result_free(r);
	free(sql), free(name), free(qs), free(qt);
	return rc;
}

/* The name a table is shown by: bare on the search path, else qualified. */
static char *display_name(const char *table, const char *schema, bool visible)
{
	return visible ? xstrdup(table) : xasprintf("%s.%s", schema, table);
}

/* Try each table of src; 1 found, 0 none (first_empty set when one was
 * empty), -1 on a catalog error. */
static int read_source(db_conn *c, const struct revision_source *src, struct revision *out,
		       char **first_empty, struct err *e)
{
	db_result *t = find_tables(c, src, e);
	if (!t)
		return -1;
	int found = 0;
	for (int i = 0; !found && i < db_result_rows(t); i++) {
		const char *schema = db_result_value(t, i, 0);
		bool visible = strcmp(db_result_value(t, i, 1), "t") == 0;
		int rc = read_table(c, src, schema, out);
		if (rc > 0) {
			out->source = display_name(src->table, schema, visible);
			found = 1;
			continue;
		}
		revision_done(out);
		if (rc == 0 && !*first_empty)
			*first_empty = display_name(src->table, schema, visible);
	}
	db_result_free(t);
	return found;
}

/* The first table in sources that holds a revision, else the first empty one. */
int revision_read(db_conn *c, struct revision *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	char *first_empty = NULL;
	for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
		int rc = read_source(c, &sources[i], out, &first_empty, e);
		if (rc != 0) {
			free(first_empty);
			return rc < 0 ? -1 : 0;
		}
	}
	out->source = first_empty;
	out->empty = first_empty != NULL;
	return 0;
}

/* Free and zero. */
void revision_done(struct revision *r)
{
	free(r->revision);
	free(r->source);
	strv_done(&r->apps);
	memset(r, 0, sizeof *r);
}

/* The status check's line. */
char *revision_describe(const struct revision *r)
{
	if (r->revision && r->apps.n)
		return xasprintf("revision %s (%s, %zu app%s)", r->revision, r->source, r->apps.n,
				 r->apps.n == 1 ? "" : "s");
	if (r->revision)
		return xasprintf("revision %s (%s)", r->revision, r->source);
	if (r->empty)
		return xasprintf("no revision (table empty: %s)", r->source);
	return xstrdup("no revision found (no migration table)");
}

/* "app.migration" → {"app": "migration"}. */
json_t *revision_apps_to_json(const struct strv *apps)
{
	json_t *o = json_object();
	for (size_t i = 0; i < apps->n; i++) {
		const char *dot = strchr(apps->v[i], '.');
		if (!dot)
			continue;
		char *app = xstrndup(apps->v[i], (size_t)(dot - apps->v[i]));
		json_object_set_new(o, app, json_string(dot + 1));
		free(app);
	}
	return o;
}

/* {"app": "migration"} → sorted "app.migration". */
void revision_apps_from_json(const json_t *o, struct strv *out)
{
	struct strv got = {0};
	const char *app;
	json_t *v;
	json_object_foreach((json_t *)o, app, v) {
		if (!json_is_string(v))
			continue;
		char *entry = xasprintf("%s.%s", app, json_string_value(v));
		strv_push(&got, entry);
		free(entry);
	}
	*out = sorted_copy(&got);
	strv_done(&got);
}

/* --- migrations.status_command ------------------------------------------- */

/* Keeps the first non-empty stdout line of a command, cleaned. */
static void first_stdout_line(void *ud, const char *line, bool is_stderr)
{
	char **kept = ud;
	if (!is_stderr && !*kept)
		*kept = revision_clean_line(line, REVISION_VALUE_MAX);
}

/* Run status_command, keep its first stdout line or why there is none. */
int revision_run_command(const struct profile *p, int timeout_s, volatile sig_atomic_t *cancel,
			 struct revision_command *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (!p->migrations.status_command)
		return 0;
	out->command = xstrdup(p->migrations.status_command);
	struct proc_opts po = {
		.cwd = p->has_app && p->app.root ? p->app.root : p->dir,
		.stdout_lines = true,
		.on_line = first_stdout_line,
		.ud = &out->output,
		.cancel = cancel,
		.timeout_s = timeout_s > 0 ? timeout_s : REVISION_COMMAND_TIMEOUT_S,
	};
	int rc = proc_run_shell(out->command, &po, e);
	if (rc == 0 && !out->output)
		rc = err_set(e, ERR_FAILED, "migrations.status_command `%s` printed nothing", out->command);
	if (rc < 0) {
		free(out->output);
		out->output = NULL;
		out->error = revision_clean_line(e->msg, 2 * REVISION_VALUE_MAX);
		if (!out->error)
			out->error = xstrdup("failed");
	}
	return rc;
}

/* Free and zero. */
void revision_command_done(struct revision_command *rc)
{
	free(rc->command);
	free(rc->output);
	free(rc->error);
	memset(rc, 0, sizeof *rc);
}
