/* drill_log — a drill as JSON, the drill log, its newest entry. */
#include "flow/drill_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"
#include "fsx.h"
#include "util.h"

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The file name of a path. */
static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

/* One table of the content check. */
static json_t *table_json(const struct content_table *t)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:b, s:o, s:o}", "schema", t->schema, "table",
			 t->table, "lines", (json_int_t)t->lines, "bytes", (json_int_t)t->bytes,
			 "dump_sha256", t->dump_sha256, "db_sha256", t->db_sha256, "match", t->match,
			 "first_diff_line", t->first_diff_line ? json_integer(t->first_diff_line) : json_null(),
			 "diff", str_or_null(t->diff));
}

/* The content check: every table, the large objects. */
static json_t *content_json(const struct drill_result *r)
{
	const struct content_result *c = &r->content;
	json_t *tables = json_array();
	for (size_t i = 0; i < c->ntables; i++)
		json_array_append_new(tables, table_json(&c->tables[i]));
	size_t differ = 0;
	json_t *bad = json_array();
	for (size_t i = 0; i < c->nlos; i++)
		if (!c->los[i].match) {
			differ++;
			json_array_append_new(bad, json_integer(c->los[i].oid));
		}
	return json_pack("{s:b, s:o, s:o, s:I, s:f, s:o, s:{s:I, s:I, s:I, s:o}}", "checked", r->content_checked,
			 "note", str_or_null(r->content_note), "encoding", str_or_null(c->encoding),
			 "bytes", (json_int_t)c->bytes, "seconds", c->seconds, "tables", tables,
			 "large_objects", "dump", (json_int_t)c->nlos, "database", (json_int_t)c->db_los,
			 "differ", (json_int_t)differ, "differing", bad);
}

/* The application checks. */
static json_t *checks_json(const struct drill_result *r)
{
	json_t *a = json_array();
	for (size_t i = 0; i < r->nchecks; i++) {
		const struct drill_check *k = &r->checks[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:o, s:b}", "name", k->name, "expect",
						   k->expect, "got", str_or_null(k->got), "error",
						   str_or_null(k->error), "ok", k->ok));
	}
	return a;
}

/* Each step's outcome and time. */
static json_t *steps_json(const struct flow_report *rep)
{
	static const char *const states[] = {"pending", "done", "skipped", "failed"};
	json_t *a = json_array();
	for (size_t i = 0; i < rep->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:f, s:o}", "id", rep->steps[i].id, "state",
						   states[rep->steps[i].state], "seconds", rep->steps[i].seconds,
						   "note", str_or_null(rep->steps[i].note)));
	return a;
}

/* Where it ran and what it found, besides the numbers. */
static void add_outcome(json_t *o, const struct drill_result *r)
{
	json_object_set_new(o, "failed_step", str_or_null(r->ok ? NULL : r->report.failed_step));
	json_object_set_new(o, "error", str_or_null(r->ok ? NULL : r->error.msg));
	json_object_set_new(o, "hint", str_or_null(r->ok || !r->error.hint[0] ? NULL : r->error.hint));
	json_object_set_new(o, "exit_code", json_integer(r->ok ? 0 : err_exit_code(r->error.kind)));
}

json_t *drill_result_json(const struct profile *p, const struct drill_result *r)
{
	json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:b, s:o, s:s, s:o}",
		"status", r->ok ? "success" : "failed", "profile", p->name, "bundle",
		str_or_null(base_name(r->bundle)), "bundle_path", str_or_null(r->bundle), "bundle_created",
		str_or_null(r->bundle_created), "server",
		r->server ? r->server : p->name, "scratch", str_or_null(r->scratch), "kept", r->kept, "connect",
		str_or_null(r->connect), "signature", r->signature ? r->signature : "unsigned", "started_at",
		str_or_null(r->started_at));
	json_object_set_new(o, "from", r->from ? json_pack("{s:s, s:o, s:f}", "target", r->from, "object",
							  str_or_null(r->from_object), "seconds", r->fetch_s)
					       : json_null());
	json_object_set_new(o, "duration_s", json_real(r->duration_s));
	json_object_set_new(o, "restore_s", json_real(r->restore_s));
	json_object_set_new(o, "content_s", json_real(r->content_s));
	json_object_set_new(o, "checks_s", json_real(r->checks_s));
	json_object_set_new(o, "bundle_bytes", json_integer((json_int_t)r->bundle_bytes));
	json_object_set_new(o, "database_bytes", json_integer((json_int_t)r->database_bytes));
	json_object_set_new(o, "tables", json_integer((json_int_t)r->tables));
	json_object_set_new(o, "rows", json_integer(r->rows));
	json_object_set_new(o, "content", content_json(r));
	json_object_set_new(o, "checks", checks_json(r));
	json_object_set_new(o, "steps", steps_json(&r->report));
	add_outcome(o, r);
	return o;
}

int drill_log_append(const struct profile *p, json_t *rec, char **path, struct err *e)
{
	*path = xasprintf("%s/%s", p->log_dir, DRILL_LOG_NAME);
	if (fsx_mkdir_p(p->log_dir, 0700, e) < 0)
		return -1;
	return flow_json_log_append(*path, rec, e);
}

/* "2026-11-21T19:50:00Z" as a time; 0 when it is not one. */
static time_t parse_iso(const char *s)
{
	struct tm tm = {0};
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			 &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

int drill_log_newest(const struct profile *p, struct drill_log_entry *out)
{
	memset(out, 0, sizeof *out);
	char *path = xasprintf("%s/%s", p->log_dir, DRILL_LOG_NAME);
	json_t *all = json_load_file(path, 0, NULL);
	free(path);
	size_t i;
	json_t *rec;
	json_array_foreach(all, i, rec) {
		const char *prof = json_string_value(json_object_get(rec, "profile"));
		time_t at = parse_iso(json_string_value(json_object_get(rec, "started_at")));
		if (!prof || strcmp(prof, p->name) != 0 || (out->found && at < out->at))
			continue;
		drill_log_entry_done(out);
		out->found = true;
		out->at = at;
		const char *status = json_string_value(json_object_get(rec, "status"));
		out->ok = status && strcmp(status, "success") == 0;
		out->restore_s = json_number_value(json_object_get(rec, "restore_s"));
		out->bundle = xstrdup(json_string_value(json_object_get(rec, "bundle")));
		out->error = xstrdup(json_string_value(json_object_get(rec, "error")));
	}
	json_decref(all);
	return out->found ? 1 : 0;
}

void drill_log_entry_done(struct drill_log_entry *en)
{
	free(en->bundle);
	free(en->error);
	en->bundle = en->error = NULL;
}
