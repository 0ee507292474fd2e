/* content — the restored tables against the dump's data files, byte for
 * byte (see content.h). */
#include "content.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "dump.h"
#include "fsx.h"
#include "util.h"

/* --- the dump's COPY statements ------------------------------------------------ */

/* An identifier at *p: "quoted" (with "" inside) or plain letters, digits,
 * _ and $ (and bytes of other scripts); advances *p. */
static bool skip_ident(const char **p)
{
	const char *s = *p;
	if (*s == '"') {
		for (s++; *s; s++)
			if (*s == '"' && s[1] == '"')
				s++;
			else if (*s == '"')
				break;
		if (*s != '"')
			return false;
		*p = s + 1;
		return true;
	}
	const char *start = s;
	while (*s == '_' || *s == '$' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	       (*s >= '0' && *s <= '9') || (unsigned char)*s >= 0x80)
		s++;
	*p = s;
	return s > start;
}

/* name[.name] [(col, col, ...)] and nothing else. */
static bool copy_target_ok(const char *s)
{
	if (!skip_ident(&s))
		return false;
	if (*s == '.' && (s++, !skip_ident(&s)))
		return false;
	while (*s == ' ')
		s++;
	if (*s == '(') {
		for (;;) {
			s++;   /* the '(' or a ',' */
			while (*s == ' ')
				s++;
			if (!skip_ident(&s))
				return false;
			if (*s != ',')
				break;
		}
		if (*s++ != ')')
			return false;
	}
	while (*s == ' ')
		s++;
	return *s == '\0';
}

char *content_copy_target(const char *stmt)
{
	static const char head[] = "COPY ", tail[] = " FROM stdin;";
	size_t n = strlen(stmt);
	while (n && (stmt[n - 1] == '\n' || stmt[n - 1] == '\r'))
		n--;
	if (n < sizeof head + sizeof tail - 2 || strncmp(stmt, head, sizeof head - 1) != 0 ||
	    strncmp(stmt + n - (sizeof tail - 1), tail, sizeof tail - 1) != 0)
		return NULL;
	char *target = xstrndup(stmt + sizeof head - 1, n - (sizeof head - 1) - (sizeof tail - 1));
	if (copy_target_ok(target))
		return target;
	free(target);
	return NULL;
}

/* "SET client_encoding = 'UTF8';" → UTF8. */
static char *encoding_of(const char *line)
{
	static const char head[] = "SET client_encoding = '";
	if (strncmp(line, head, sizeof head - 1) != 0)
		return NULL;
	const char *v = line + sizeof head - 1;
	size_t n = strcspn(v, "'");
	return v[n] == '\'' ? xstrndup(v, n) : NULL;
}

void content_parse_script(const char *script, struct strv *out, char **encoding)
{
	struct sbuf stmt = {0};
	bool in_copy = false;
	for (const char *line = script; *line;) {
		size_t n = strcspn(line, "\n");
		if (!in_copy && strncmp(line, "COPY ", 5) == 0)
			in_copy = true;
		if (in_copy) {
			sbuf_add(&stmt, line, n);
			/* A quoted name may hold a line break: the statement goes on. */
			if (n >= 12 && strncmp(line + n - 12, " FROM stdin;", 12) == 0) {
				char *s = sbuf_take(&stmt);
				strv_push(out, s);
				free(s);
				in_copy = false;
			} else {
				sbuf_addc(&stmt, '\n');
			}
		} else if (encoding && !*encoding) {
			char *line_copy = xstrndup(line, n);
			*encoding = encoding_of(line_copy);
			free(line_copy);
		}
		line += n + (line[n] == '\n');
	}
	sbuf_done(&stmt);
}

/* The TABLE DATA entries, in TOC order. */
static size_t data_entries(const struct toc *t, const struct toc_entry ***out)
{
	*out = xcalloc(t->n + 1, sizeof **out);
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].desc, "TABLE DATA") == 0)
			(*out)[n++] = &t->v[i];
	return n;
}

/* A copy of the dump with its toc.dat and an empty file for each data
 * entry, and the list of those entries, under dir. */
static int write_stub(const struct content_opts *o, const struct toc_entry *const *ents, size_t n,
		      const char *dir, const char *list, struct err *e)
{
	char *toc = xasprintf("%s/toc.dat", o->dump_dir), *link = xasprintf("%s/toc.dat", dir);
	int rc = mkdir(dir, 0700) == 0 && symlink(toc, link) == 0
		 ? 0 : err_set(e, ERR_FAILED, "cannot prepare %s: %s", dir, strerror(errno));
	free(toc), free(link);
	struct sbuf b = {0};
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *empty = xasprintf("%s/%d.dat", dir, ents[i]->dump_id);
		rc = fsx_write_atomic(empty, "", 0, 0600, e);
		free(empty);
		sbuf_addf(&b, "%d; %u %u TABLE DATA %s\n", ents[i]->dump_id, ents[i]->tableoid,
			  ents[i]->oid, ents[i]->rest);
	}
	if (rc == 0)
		rc = fsx_write_atomic(list, b.data ? b.data : "", b.len, 0600, e);
	sbuf_done(&b);
	return rc;
}

/* Each data entry's COPY statement, as pg_restore prints it. */
static int copy_statements(const struct content_opts *o, const struct toc_entry *const *ents, size_t n,
			   struct strv *stmts, char **encoding, struct err *e)
{
	char *dir = xasprintf("%s/copy-stub", o->tmpdir);
	char *list = xasprintf("%s/copy.list", o->tmpdir), *script = xasprintf("%s/copy.sql", o->tmpdir);
	int rc = write_stub(o, ents, n, dir, list, e);
	if (rc == 0) {
		struct strv argv = {0};
		char *use = xasprintf("--use-list=%s", list), *file = xasprintf("--file=%s", script);
		strv_push(&argv, o->pg_restore), strv_push(&argv, "--data-only");
		strv_push(&argv, use), strv_push(&argv, file), strv_push(&argv, dir);
		struct dump_run_opts ro = {.cancel = o->cancel};
		rc = dump_run_pg_program(&argv, NULL, NULL, &ro, e);
		strv_done(&argv);
		free(use), free(file);
	}
	char *text = rc == 0 ? fsx_read_file(script, 0, NULL, e) : NULL;
	if (text)
		content_parse_script(text, stmts, encoding);
	else
		rc = -1;
	if (rc == 0 && stmts->n != n) {
		err_set(e, ERR_VERIFY, "pg_restore lists %zu COPY statements for the dump's %zu table data entries",
			stmts->n, n);
		rc = err_hint(e, "the dump's table of contents is not what pg_dump writes; use another bundle");
	}
	free(text);
	fsx_rm_rf(dir);
	unlink(list), unlink(script);
	free(dir), free(list), free(script);
	return rc;
}

/* --- the session ----------------------------------------------------------------- */

/* The settings of the manifest's dump.session that are read (others are
 * not trusted to be harmless). */
static const char *const recorded[] = {"TimeZone", "bytea_output", "lc_monetary", NULL};

size_t content_session(const struct manifest *m, const char *encoding, const char *out[][2])
{
	static const char *const fixed[][2] = {
		{"DateStyle", "ISO"}, {"IntervalStyle", "postgres"}, {"extra_float_digits", "3"},
		{"synchronize_seqscans", "off"}, {"search_path", ""},
		{"standard_conforming_strings", "on"}, {"row_security", "off"},
		{"statement_timeout", "0"}, {"lock_timeout", "0"},
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++, n++)
		out[n][0] = fixed[i][0], out[n][1] = fixed[i][1];
	if (encoding)
		out[n][0] = "client_encoding", out[n++][1] = encoding;
	for (size_t i = 0; i < m->dump.session.n && n + 1 < CONTENT_MAX_SETTINGS; i++) {
		const char *kv = m->dump.session.v[i], *eq = strchr(kv, '=');
		for (size_t k = 0; eq && recorded[k]; k++)
			if (strlen(recorded[k]) == (size_t)(eq - kv) && strncmp(kv, recorded[k], (size_t)(eq - kv)) == 0)
				out[n][0] = recorded[k], out[n++][1] = eq + 1;
	}
	out[n][0] = out[n][1] = NULL;
	return n;
}

/* One READ ONLY snapshot with the dump's settings. */
static int begin_session(db_conn *db, const struct manifest *m, const char *encoding, struct err *e)
{
	if (db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e) < 0)
		return -1;
	const char *set[CONTENT_MAX_SETTINGS + 1][2];
	content_session(m, encoding, set);
	for (size_t i = 0; set[i][0]; i++) {
		const char *params[] = {set[i][0], set[i][1]};
		db_result *r = db_query(db, "SELECT pg_catalog.set_config($1, $2, true)", 2, params, e);
		if (!r)
			return err_prefix(e, "setting %s to \"%s\" for the content check", set[i][0], set[i][1]);
		db_result_free(r);
	}
	return 0;
}

/* --- one table: the data file and COPY in step ------------------------------------ */

/* The data file, read a line at a time as far as its end marker. */
struct dat_reader {
	bundle_stream *s;
	char *buf;
	size_t len, pos;
	bool eof, at_marker;
	struct hash_ctx h;
	struct err *e;
};

/* At least want bytes ahead of pos, unless the file ends first. */
static int fill(struct dat_reader *d, size_t want)
{
	while (!d->eof && d->len - d->pos < want) {
		memmove(d->buf, d->buf + d->pos, d->len - d->pos);
		d->len -= d->pos;
		d->pos = 0;
		ssize_t n = bundle_stream_read(d->s, d->buf + d->len, BUNDLE_BUFSIZE - d->len, d->e);
		if (n < 0)
			return -1;
		d->eof = n == 0;
		d->len += (size_t)n;
	}
	return 0;
}

/* Whether the next line is the end marker "\." (pg_dump ends the data
 * with it; a data line never starts with a backslash and a dot). */
static int marker_next(struct dat_reader *d)
{
	if (d->at_marker)
		return 1;
	if (fill(d, 3) < 0)
		return -1;
	const char *p = d->buf + d->pos;
	size_t n = d->len - d->pos;
	d->at_marker = n >= 2 && p[0] == '\\' && p[1] == '.' && (n == 2 || p[2] == '\n');
	if (!d->at_marker && n == 0) {
		err_set(d->e, ERR_VERIFY, "the data file ends without its end marker");
		return -1;
	}
	return d->at_marker;
}

/* Consume the next line (hashing it) and tell whether it is row[0..len). */
static int next_line_is(struct dat_reader *d, const char *row, size_t len, bool *same)
{
	size_t at = 0;
	*same = true;
	for (;;) {
		if (fill(d, 1) < 0)
			return -1;
		if (d->pos == d->len)
			return err_set(d->e, ERR_VERIFY, "the data file ends in the middle of a row");
		const char *p = d->buf + d->pos;
		const char *nl = memchr(p, '\n', d->len - d->pos);
		size_t chunk = nl ? (size_t)(nl - p) + 1 : d->len - d->pos;
		size_t cmp = at < len ? (chunk < len - at ? chunk : len - at) : 0;
		if (cmp < chunk || memcmp(p, row + at, cmp) != 0)
			*same = false;
		hash_update(&d->h, p, chunk);
		d->pos += chunk;
		at += chunk;
		if (nl) {
			*same = *same && at == len;
			return 0;
		}
	}
}

/* The data file of a TOC entry: NNNN.dat, or a compressed one. */
static char *data_file(const char *dump_dir, int dump_id)
{
	static const char *const exts[] = {".dat", ".dat.gz", ".dat.lz4", ".dat.zst"};
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		char *path = xasprintf("%s/%d%s", dump_dir, dump_id, exts[i]);
		if (fsx_exists(path))
			return path;
		free(path);
	}
	return xasprintf("%s/%d.dat", dump_dir, dump_id);
}

/* Note the first line that differs. */
static void differs(struct content_table *t, int64_t line, const char *why)
{
	if (t->first_diff_line == 0) {
		t->first_diff_line = line;
		t->diff = why;
	}
}

/* The restored rows, each against the next line of the file. */
static int compare_rows(db_conn *db, struct dat_reader *d, struct hash_ctx *dbh, struct content_table *t,
			volatile sig_atomic_t *cancel, struct err *e)
{
	char *row;
	long n;
	int rc = 0;
	while (rc == 0 && (n = db_copy_read(db, &row, e)) > 0) {
		t->lines++;
		t->bytes += (uint64_t)n;
		hash_update(dbh, row, (size_t)n);
		int marker = marker_next(d);
		bool same = false;
		if (marker < 0 || (marker == 0 && next_line_is(d, row, (size_t)n, &same) < 0))
			rc = -1;
		else if (marker)
			differs(t, t->lines, "the restored table has more rows than the dump");
		else if (!same)
			differs(t, t->lines, "the restored row differs from the dump's");
		db_copy_free(row);
		if (cancel && *cancel)
			rc = err_set(e, ERR_INTERRUPTED, "content check interrupted");
	}
	if (rc < 0) {
		while (db_copy_read(db, &row, e) > 0)   /* drain: the connection stays usable */
			db_copy_free(row);
		return -1;
	}
	return n < 0 ? -1 : 0;
}

/* Lines of the file after the last restored row: the dump holds more. */
static int rest_of_file(struct dat_reader *d, struct content_table *t)
{
	int64_t line = t->lines;
	int marker;
	while ((marker = marker_next(d)) == 0) {
		bool same;
		if (next_line_is(d, "", 0, &same) < 0)
			return -1;
		differs(t, ++line, "the dump has more rows than the restored table");
	}
	return marker < 0 ? -1 : 0;
}

/* One table: COPY target TO STDOUT against the entry's data file. */
static int check_table(db_conn *db, const struct content_opts *o, const char *target,
		       struct content_table *t, struct err *e)
{
	char *path = data_file(o->dump_dir, t->dump_id);
	struct dat_reader d = {.e = e};
	struct hash_ctx dbh = {0};
	d.s = bundle_stream_open(path, e);
	int rc = d.s && hash_init(&d.h, e) == 0 && hash_init(&dbh, e) == 0 ? 0 : -1;
	d.buf = xmalloc(BUNDLE_BUFSIZE);
	char *sql = xasprintf("COPY %s TO STDOUT", target);
	if (rc == 0)
		rc = db_copy_out(db, sql, e);
	if (rc == 0)
		rc = compare_rows(db, &d, &dbh, t, o->cancel, e);
	if (rc == 0)
		rc = rest_of_file(&d, t);
	if (rc == 0) {
		hash_final(&d.h, t->dump_sha256);
		hash_final(&dbh, t->db_sha256);
		t->match = t->first_diff_line == 0 && strcmp(t->dump_sha256, t->db_sha256) == 0;
	} else if (e->kind != ERR_INTERRUPTED) {
		err_prefix(e, "%s.%s (%s)", t->schema, t->table, path);
	}
	hash_done(&d.h);
	hash_done(&dbh);
	bundle_stream_free(d.s);
	free(d.buf), free(sql), free(path);
	return rc;
}

/* --- the whole check ---------------------------------------------------------------- */

/* The entry's schema and table: from the manifest by oid, else the TOC
 * line ("namespace tag owner"). */
static void name_table(const struct manifest *m, const struct toc_entry *te, struct content_table *t)
{
	for (size_t i = 0; i < m->ntables; i++)
		if (m->tables[i].oid && m->tables[i].oid == te->oid) {
			t->schema = xstrdup(m->tables[i].schema);
			t->table = xstrdup(m->tables[i].table);
			return;
		}
	size_t ns = strcspn(te->rest, " ");
	const char *tag = te->rest[ns] ? te->rest + ns + 1 : "";
	t->schema = xstrndup(te->rest, ns);
	t->table = xstrndup(tag, strcspn(tag, " "));
}

/* ERR_VERIFY naming the tables that differ, the first one's line. */
static int report_differences(const struct content_result *r, const struct event_sink *ev, struct err *e)
{
	size_t bad = 0;
	const struct content_table *first = NULL;
	for (size_t i = 0; i < r->ntables; i++) {
		const struct content_table *t = &r->tables[i];
		if (t->match)
			continue;
		bad++;
		first = first ? first : t;
		event_log(ev, EV_ERROR, "%s.%s: line %lld differs: %s", t->schema, t->table,
			  (long long)t->first_diff_line, t->diff ? t->diff : "the SHA-256 differs");
	}
	if (!first)
		return 0;
	char more[64] = "";
	if (bad > 1)
		snprintf(more, sizeof more, ", and %zu more table%s", bad - 1, bad > 2 ? "s" : "");
	err_set(e, ERR_VERIFY, "content check: %s.%s differs from the dump at line %lld (%s)%s", first->schema,
		first->table, (long long)first->first_diff_line, first->diff ? first->diff : "SHA-256", more);
	return err_hint(e, "the restore did not give back what the bundle holds; the drill log has "
			"each table's SHA-256 on both sides");
}

static int check_tables(db_conn *db, const struct content_opts *o, struct content_result *r, struct err *e)
{
	const struct toc_entry **ents;
	size_t n = data_entries(o->toc, &ents);
	struct strv stmts = {0};
	int rc = copy_statements(o, ents, n, &stmts, &r->encoding, e);
	if (rc == 0)
		rc = begin_session(db, o->m, r->encoding, e);
	r->tables = xcalloc(n + 1, sizeof *r->tables);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct content_table *t = &r->tables[r->ntables++];
		t->dump_id = ents[i]->dump_id;
		name_table(o->m, ents[i], t);
		char *target = content_copy_target(stmts.v[i]);
		if (!target) {
			err_set(e, ERR_VERIFY, "the dump's COPY statement of %s.%s is not a plain COPY", t->schema,
				t->table);
			rc = err_hint(e, "a bundle altered to run other SQL; do not restore it");
			break;
		}
		rc = check_table(db, o, target, t, e);
		free(target);
		r->bytes += t->bytes;
		event_progress_of(o->ev, o->step, i + 1, n, "tables");
	}
	strv_done(&stmts);
	free(ents);
	return rc;
}

int content_check(db_conn *db, const struct content_opts *o, struct content_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	double t0 = util_now();
	int rc = check_tables(db, o, r, e);
	if (rc == 0)
		rc = content_check_large_objects(db, o, r, e);
	db_exec(db, "ROLLBACK", NULL);
	r->seconds = util_now() - t0;
	if (rc < 0)
		return -1;
	if (report_differences(r, o->ev, e) < 0)
		return -1;
	for (size_t i = 0; i < r->nlos; i++)
		if (!r->los[i].match) {
			err_set(e, ERR_VERIFY, "content check: large object %u differs from the dump's", r->los[i].oid);
			return err_hint(e, "the restore did not give back what the bundle holds");
		}
	if (r->db_los != r->nlos) {
		err_set(e, ERR_VERIFY, "content check: the restored database has %zu large objects, the dump %zu",
			r->db_los, r->nlos);
		return err_hint(e, "the restore did not give back what the bundle holds");
	}
	return 0;
}

void content_result_done(struct content_result *r)
{
	for (size_t i = 0; i < r->ntables; i++) {
		free(r->tables[i].schema);
		free(r->tables[i].table);
	}
	free(r->tables);
	free(r->los);
	free(r->encoding);
	memset(r, 0, sizeof *r);
}
