/* admin — actions, SQL files, statements, psql, seeds and reset. */
#include "admin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "dump.h"
#include "migrate_db.h"
#include "util.h"

/* --- rows ------------------------------------------------------------------- */

void admin_rows_done(struct admin_rows *r)
{
	for (size_t i = 0; i < r->ncols; i++)
		free(r->headers[i]);
	for (size_t i = 0; i < r->ncols * r->nrows; i++)
		free(r->cells[i]);
	free(r->headers);
	free(r->cells);
	memset(r, 0, sizeof *r);
}

/* Copy a result's names and values into out. */
static void rows_from_result(const db_result *res, struct admin_rows *out)
{
	memset(out, 0, sizeof *out);
	out->ncols = (size_t)db_result_cols(res);
	out->nrows = (size_t)db_result_rows(res);
	out->affected = db_result_affected(res);
	out->headers = xcalloc(out->ncols + 1, sizeof *out->headers);
	out->cells = xcalloc(out->ncols * out->nrows + 1, sizeof *out->cells);
	for (size_t c = 0; c < out->ncols; c++)
		out->headers[c] = xstrdup(db_result_name(res, (int)c));
	for (size_t r = 0; r < out->nrows; r++)
		for (size_t c = 0; c < out->ncols; c++)
			out->cells[r * out->ncols + c] = xstrdup(db_result_value(res, (int)r, (int)c));
}

/* --- actions ---------------------------------------------------------------- */

const struct profile_action *admin_find_action(const struct profile *p, const char *name)
{
	for (size_t i = 0; i < p->nactions; i++)
		if (strcmp(p->actions[i].name, name) == 0)
			return &p->actions[i];
	return NULL;
}

int admin_unknown_action(const struct profile *p, const char *name, struct err *e)
{
	err_set(e, ERR_USAGE, "no action \"%s\" in profile %s", name, p->name);
	for (size_t i = 0; i < p->nactions; i++)
		if (util_edit_distance(name, p->actions[i].name) <= 2)
			return err_hint(e, "did you mean \"%s\"? `ferry action` lists the actions",
					p->actions[i].name);
	if (p->nactions == 0)
		return err_hint(e, "the profile has no \"actions\"; see profiles/README.md");
	return err_hint(e, "`ferry action` lists the actions");
}

char *admin_action_synopsis(const struct profile_action *a)
{
	char *out = xstrdup(a->name);
	for (size_t i = 0; i < a->params.n; i++) {
		char *more = xasprintf("%s <%s>", out, a->params.v[i]);
		free(out);
		out = more;
	}
	return out;
}

int admin_check_args(const struct profile_action *a, size_t nargs, struct err *e)
{
	if (nargs == a->params.n)
		return 0;
	char *names = strv_join(&a->params, ", ");
	if (a->params.n == 0)
		err_set(e, ERR_USAGE, "action %s takes no parameters, got %zu argument%s", a->name,
			nargs, nargs == 1 ? "" : "s");
	else
		err_set(e, ERR_USAGE, "action %s expects %zu parameter%s (%s), got %zu", a->name,
			a->params.n, a->params.n == 1 ? "" : "s", names, nargs);
	free(names);
	char *syn = admin_action_synopsis(a);
	err_hint(e, "ferry action %s", syn);
	free(syn);
	return -1;
}

/* One statement with bound parameters inside BEGIN ... COMMIT. */
static int query_in_transaction(db_conn *db, const char *sql, size_t nargs,
				const char *const *args, struct admin_rows *out, struct err *e)
{
	if (db_exec(db, "BEGIN", e) < 0)
		return -1;
	db_result *res = db_query(db, sql, (int)nargs, args, e);
	if (!res) {
		db_rollback(db);
		return -1;
	}
	rows_from_result(res, out);
	db_result_free(res);
	if (db_commit(db, e) < 0) {
		admin_rows_done(out);
		return -1;
	}
	return 0;
}

int admin_run_action(const struct profile *p, const struct profile_action *a,
		     const char *const *args, size_t nargs, struct admin_rows *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (admin_check_args(a, nargs, e) < 0)
		return -1;
	db_conn *db = db_connect(p->database.url, e);
	if (!db)
		return -1;
	int rc = query_in_transaction(db, a->sql, nargs, args, out, e);
	db_close(db);
	if (rc < 0) {
		err_prefix(e, "action %s", a->name);
		err_hint(e, "nothing was changed (rolled back)");
	}
	return rc;
}

/* --- statements and files --------------------------------------------------- */

int admin_exec(const struct profile *p, const char *sql, struct admin_rows *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	db_conn *db = db_connect(p->database.url, e);
	if (!db)
		return -1;
	db_result *res = db_query(db, sql, 0, NULL, e);
	if (res)
		rows_from_result(res, out);
	db_result_free(res);
	db_close(db);
	return res ? 0 : -1;
}

/* The whole file as a string; ERR_FAILED naming it. */
static char *read_text(const char *path, struct err *e)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		err_set(e, ERR_FAILED, "cannot read SQL file %s: %m", path);
		err_hint(e, "check the path (seeds in the profile are relative to the profiles file)");
		return NULL;
	}
	size_t cap = 8192, len = 0, n;
	char *buf = xmalloc(cap);
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2)
			buf = xrealloc(buf, cap *= 2);
	}
	bool bad = ferror(f) != 0;
	fclose(f);
	buf[len] = '\0';
	if (bad || strlen(buf) != len) {
		free(buf);
		err_set(e, ERR_FAILED, "cannot read SQL file %s: %s", path,
			bad ? "read error" : "it contains a NUL byte (not a text file)");
		return NULL;
	}
	return buf;
}

/* BEGIN; the file; COMMIT — or ROLLBACK at the first error. */
static int run_file(db_conn *db, const char *path, struct err *e)
{
	char *sql = read_text(path, e);
	if (!sql)
		return -1;
	int rc = db_exec(db, "BEGIN", e);
	if (rc == 0 && db_exec(db, sql, e) < 0) {
		db_rollback(db);
		err_prefix(e, "%s", path);
		rc = err_hint(e, "nothing from %s was applied (rolled back)", path);
	} else if (rc == 0) {
		rc = db_commit(db, e);
	}
	free(sql);
	return rc;
}

/* Every file is readable before anything runs. */
static int check_readable(const struct strv *files, struct err *e)
{
	for (size_t i = 0; i < files->n; i++) {
		if (access(files->v[i], R_OK) == 0)
			continue;
		err_set(e, ERR_FAILED, "cannot read SQL file %s: %m", files->v[i]);
		return err_hint(e, "nothing was run; fix the path (profile seeds are relative "
				"to the profiles file)");
	}
	return 0;
}

int admin_run_sql_files(const struct profile *p, const struct strv *files,
			const struct event_sink *ev, volatile sig_atomic_t *cancel,
			size_t *applied, struct err *e)
{
	size_t done = 0;
	if (applied)
		*applied = 0;
	if (check_readable(files, e) < 0)
		return -1;
	db_conn *db = db_connect(p->database.url, e);
	if (!db)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < files->n; i++) {
		if (cancel && *cancel) {
			rc = err_set(e, ERR_INTERRUPTED, "interrupted after %zu of %zu SQL files", done, files->n);
			break;
		}
		event_log(ev, EV_INFO, "running %s", files->v[i]);
		rc = run_file(db, files->v[i], e);
		done += rc == 0;
	}
	if (rc < 0 && done > 0 && e->kind == ERR_DB)
		err_hint(e, "%zu file%s before it stayed applied; %s was rolled back", done,
			 done == 1 ? "" : "s", files->v[done]);
	db_close(db);
	if (applied)
		*applied = done;
	return rc;
}

/* --- the text table ---------------------------------------------------------- */

struct buf {
	char *s;
	size_t len, cap;
};

/* Append n bytes. */
static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Append a formatted string. */
static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	buf_add(b, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Append c n times. */
static void buf_repeat(struct buf *b, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_add(b, &c, 1);
}

/* A value as shown: NULL as "", control characters escaped. Caller frees. */
static char *display_value(const char *v)
{
	struct buf b = {0};
	buf_add(&b, "", 0);
	for (const unsigned char *s = (const unsigned char *)(v ? v : ""); *s; s++) {
		if (*s == '\n')
			buf_add(&b, "\\n", 2);
		else if (*s == '\t')
			buf_add(&b, "\\t", 2);
		else if (*s == '\r')
			buf_add(&b, "\\r", 2);
		else if (*s < 0x20 || *s == 0x7f)
			buf_printf(&b, "\\x%02x", *s);
		else
			buf_add(&b, (const char *)s, 1);
	}
	return b.s;
}

/* Columns a UTF-8 string takes (one per code point). */
static size_t display_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* One line of cells: " a | b | c" padded to the widths, no trailing blanks. */
static void table_line(struct buf *b, char *const *cells, const size_t *width, size_t ncols)
{
	for (size_t c = 0; c < ncols; c++) {
		if (c)
			buf_add(b, " |", 2);
		buf_add(b, " ", 1);
		buf_add(b, cells[c], strlen(cells[c]));
		if (c + 1 < ncols)
			buf_repeat(b, ' ', width[c] - display_width(cells[c]));
	}
	buf_add(b, "\n", 1);
}

/* "-----+------" under the headers. */
static void table_rule(struct buf *b, const size_t *width, size_t ncols)
{
	for (size_t c = 0; c < ncols; c++) {
		if (c)
			buf_add(b, "+", 1);
		buf_repeat(b, '-', width[c] + 2);
	}
	buf_add(b, "\n", 1);
}

char *admin_format_table(const struct admin_rows *r)
{
	struct buf b = {0};
	buf_add(&b, "", 0);
	if (r->ncols == 0) {
		buf_printf(&b, "%lld row%s affected\n", r->affected, r->affected == 1 ? "" : "s");
		return b.s;
	}
	size_t n = r->ncols * (r->nrows + 1);
	char **shown = xcalloc(n, sizeof *shown);
	size_t *width = xcalloc(r->ncols, sizeof *width);
	for (size_t i = 0; i < n; i++) {
		shown[i] = display_value(i < r->ncols ? r->headers[i] : r->cells[i - r->ncols]);
		size_t w = display_width(shown[i]);
		if (w > width[i % r->ncols])
			width[i % r->ncols] = w;
	}
	table_line(&b, shown, width, r->ncols);
	table_rule(&b, width, r->ncols);
	for (size_t row = 1; row <= r->nrows; row++)
		table_line(&b, shown + row * r->ncols, width, r->ncols);
	buf_printf(&b, "(%zu row%s)\n", r->nrows, r->nrows == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		free(shown[i]);
	free(shown);
	free(width);
	return b.s;
}

/* --- psql ------------------------------------------------------------------- */

void admin_psql_argv(const char *psql_path, const char *conninfo, const struct strv *extra,
		     struct strv *out)
{
	strv_push(out, psql_path);
	strv_push(out, "--dbname");
	strv_push(out, conninfo);
	for (size_t i = 0; extra && i < extra->n; i++)
		strv_push(out, extra->v[i]);
}

int admin_shell_argv(const struct profile *p, const struct strv *extra, struct strv *argv,
		     char **password, struct err *e)
{
	*password = NULL;
	struct pg_tool psql;
	if (dump_find_tool("psql", 0, &psql, e) < 0)
		return -1;
	char *safe = NULL;
	int rc = db_conninfo_split(p->database.url, &safe, password, e);
	if (rc == 0)
		admin_psql_argv(psql.path, safe, extra, argv);
	free(safe);
	pg_tool_done(&psql);
	return rc;
}
