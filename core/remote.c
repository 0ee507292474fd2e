/* remote — ferry-to-ferry events and results, and a ferry run over SSH. */
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* --- events --------------------------------------------------------------- */

char *remote_event_line(const struct event *ev)
{
	return event_to_json(ev);
}

static enum event_type type_from(const char *name)
{
	for (int t = 0; t < EV_TYPE_COUNT; t++)
		if (strcmp(event_type_name((enum event_type)t), name) == 0)
			return (enum event_type)t;
	return EV_LOG;
}

static enum event_level level_from(const char *name)
{
	if (name && strcmp(name, "error") == 0)
		return EV_ERROR;
	return name && strcmp(name, "warn") == 0 ? EV_WARN : EV_INFO;
}

int remote_event_parse(const json_t *o, struct event *ev)
{
	if (!json_is_object(o))
		return -1;
	const char *name = json_string_value(json_object_get(o, "event"));
	if (!name)
		return 0;
	*ev = (struct event){
		.type = type_from(name),
		.step = json_string_value(json_object_get(o, "step")),
		.text = json_string_value(json_object_get(o, "text")),
		.level = level_from(json_string_value(json_object_get(o, "level"))),
		.done = (uint64_t)json_integer_value(json_object_get(o, "done")),
		.total = (uint64_t)json_integer_value(json_object_get(o, "total")),
		.unit = json_string_value(json_object_get(o, "unit")),
		.origin = json_string_value(json_object_get(o, "origin")),
	};
	return 1;
}

/* --- results -------------------------------------------------------------- */

static json_t *result_object(const char *status)
{
	return json_pack("{s:s, s:i}", "status", status, "protocol", REMOTE_PROTOCOL);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *manifest_tables_json(const struct manifest *m)
{
	json_t *o = json_object();
	for (size_t i = 0; i < m->ntables; i++) {
		char *key = xasprintf("%s.%s", m->tables[i].schema, m->tables[i].table);
		json_object_set_new(o, key, json_integer(m->tables[i].rows));
		free(key);
	}
	return o;
}

static json_t *prune_json(const struct prune_report *pr)
{
	json_t *a = json_array();
	for (size_t i = 0; i < pr->n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "file", pr->v[i].file,
			"action", pr->v[i].keep ? "keep" : "delete", "rule", pr->v[i].rule));
	return a;
}

/* Rounded for people; the exact figure is size_bytes. */
static double round2(double v)
{
	return (double)(long long)(v * 100.0 + 0.5) / 100.0;
}

json_t *remote_backup_json(const struct backup_result *r)
{
	const struct manifest *m = &r->manifest;
	const char *name = strrchr(r->path, '/');
	json_t *o = result_object("success");
	json_object_set_new(o, "file", json_string(r->path));
	json_object_set_new(o, "filename", json_string(name ? name + 1 : r->path));
	json_object_set_new(o, "size_bytes", json_integer((json_int_t)r->size));
	json_object_set_new(o, "size_mb", json_real(round2((double)r->size / 1048576.0)));
	json_object_set_new(o, "tables_backed_up", json_integer((json_int_t)m->ntables));
	json_object_set_new(o, "total_rows", json_integer((json_int_t)manifest_total_rows(m)));
	json_object_set_new(o, "table_details", manifest_tables_json(m));
	json_object_set_new(o, "schema_revision",
			    json_string(m->schema_revision ? m->schema_revision : "unknown"));
	json_object_set_new(o, "type", str_or_null(m->type));
	json_object_set_new(o, "duration_s", json_real(round2(r->duration_s)));
	json_object_set_new(o, "pruned", prune_json(&r->pruned));
	if (r->prune_warning)
		json_object_set_new(o, "prune_warning", json_string(r->prune_warning));
	return o;
}

json_t *remote_restore_json(const struct restore_result *r)
{
	json_t *tables = json_array();
	for (size_t i = 0; i < r->ntables; i++)
		json_array_append_new(tables, json_pack("{s:s, s:s, s:I, s:I}", "schema", r->tables[i].schema,
			"table", r->tables[i].table, "expected", (json_int_t)r->tables[i].expected,
			"actual", (json_int_t)r->tables[i].actual));
	json_t *o = result_object("success");
	json_object_set_new(o, "bundle", json_string(r->bundle));
	json_object_set_new(o, "tables_restored", json_integer((json_int_t)r->ntables));
	json_object_set_new(o, "total_rows", json_integer((json_int_t)r->total_rows));
	json_object_set_new(o, "tables", tables);
	json_object_set_new(o, "safety_bundle", str_or_null(r->safety_bundle));
	json_object_set_new(o, "previous_db", str_or_null(r->previous_db));
	json_object_set_new(o, "duration_s", json_real(round2(r->duration_s)));
	json_object_set_new(o, "staging_peak_bytes", json_integer((json_int_t)r->staging_peak_bytes));
	return o;
}

json_t *remote_counts_json(const struct counts_result *r)
{
	long long total = 0;
	json_t *tables = json_array();
	for (size_t i = 0; i < r->tables.n; i++) {
		const struct db_table_count *t = &r->tables.v[i];
		total += t->rows;
		json_array_append_new(tables, json_pack("{s:s, s:s, s:I}", "schema", t->schema,
							"table", t->table, "rows", (json_int_t)t->rows));
	}
	json_t *o = result_object("success");
	json_object_set_new(o, "database", json_string(r->database));
	json_object_set_new(o, "schema_revision", str_or_null(r->schema_revision));
	json_object_set_new(o, "tables", tables);
	json_object_set_new(o, "total_rows", json_integer(total));
	return o;
}

json_t *remote_verify_json(const char *path, const struct verify_result *r)
{
	const struct manifest *m = &r->manifest;
	json_t *o = result_object("ok");
	json_object_set_new(o, "bundle", json_string(path));
	json_object_set_new(o, "members", json_integer((json_int_t)r->members_checked));
	json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes_checked));
	json_object_set_new(o, "deep", json_boolean(r->deep_done));
	json_object_set_new(o, "schema_revision",
			    json_string(m->schema_revision ? m->schema_revision : "unknown"));
	json_object_set_new(o, "created_at", json_string(m->created_at ? m->created_at : ""));
	json_object_set_new(o, "tables", json_integer((json_int_t)m->ntables));
	json_object_set_new(o, "total_rows", json_integer((json_int_t)manifest_total_rows(m)));
	json_object_set_new(o, "duration_s", json_real(round2(r->duration_s)));
	return o;
}

int remote_check_protocol(const json_t *result, const char *who, struct err *e)
{
	json_int_t got = json_integer_value(json_object_get(result, "protocol"));
	if (got >= REMOTE_PROTOCOL)
		return 0;
	err_set(e, ERR_TOOL, "the ferry on %s speaks protocol %lld, this one %d", who, (long long)got,
		REMOTE_PROTOCOL);
	return err_hint(e, "install the same ferry version there (or let ferry migrate copy this one)");
}

static int missing_key(const char *what, const char *key, struct err *e)
{
	return err_set(e, ERR_FAILED, "the remote %s result has no \"%s\"", what, key);
}

int remote_backup_parse(const json_t *o, struct remote_backup *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	const char *file = json_string_value(json_object_get(o, "file"));
	if (!file)
		return missing_key("backup", "file", e);
	out->file = xstrdup(file);
	out->total_rows = json_integer_value(json_object_get(o, "total_rows"));
	return 0;
}

void remote_backup_done(struct remote_backup *r)
{
	free(r->file);
	memset(r, 0, sizeof *r);
}

int remote_restore_parse(const json_t *o, struct remote_restore *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (!json_is_integer(json_object_get(o, "total_rows")))
		return missing_key("restore", "total_rows", e);
	out->total_rows = json_integer_value(json_object_get(o, "total_rows"));
	out->tables = json_integer_value(json_object_get(o, "tables_restored"));
	out->previous_db = xstrdup(json_string_value(json_object_get(o, "previous_db")));
	return 0;
}

void remote_restore_done(struct remote_restore *r)
{
	free(r->previous_db);
	memset(r, 0, sizeof *r);
}

int remote_counts_parse(const json_t *o, struct counts_result *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	const json_t *tables = json_object_get(o, "tables");
	if (!json_is_array(tables))
		return missing_key("counts", "tables", e);
	out->database = xstrdup(json_string_value(json_object_get(o, "database")));
	out->schema_revision = xstrdup(json_string_value(json_object_get(o, "schema_revision")));
	size_t i;
	const json_t *row;
	json_array_foreach(tables, i, row) {
		const char *schema = json_string_value(json_object_get(row, "schema"));
		const char *table = json_string_value(json_object_get(row, "table"));
		if (schema && table)
			db_table_counts_add(&out->tables, schema, table,
					    json_integer_value(json_object_get(row, "rows")));
	}
	return 0;
}

/* --- a ferry over SSH --------------------------------------------------------- */

struct remote_lines {
	struct remote_run_opts *o;
	const char *host;
	json_t *result;
	struct sshc_lines lines;
};

/* One line from the remote ferry: an event to re-emit, or the result. */
static void line_in(void *ud, const char *line)
{
	struct remote_lines *rl = ud;
	json_t *obj = json_loads(line, 0, NULL);
	struct event ev;
	int kind = remote_event_parse(obj, &ev);
	if (kind < 0) {
		if (*line)
			event_log(rl->o->events, EV_INFO, "[%s] %s", rl->host, line);
	} else if (kind == 0) {
		json_decref(rl->result);
		rl->result = json_incref(obj);
	} else {
		char *step = ev.step && rl->o->step_prefix ? xasprintf("%s/%s", rl->o->step_prefix, ev.step)
							   : NULL;
		if (step)
			ev.step = step;
		ev.origin = rl->host;
		event_emit(rl->o->events, &ev);
		free(step);
	}
	json_decref(obj);
}

static char *ferry_command(const struct remote_ferry *rf, const char *args)
{
	char *qf = sshc_quote(rf->path);
	char *qn = sshc_quote(rf->profile);
	char *cmd = xasprintf("%s %s --profiles - --profile %s", qf, args, qn);
	free(qf), free(qn);
	return cmd;
}

int remote_ferry_run(const struct remote_ferry *rf, const char *args, struct remote_run_opts *o,
		     json_t **result, struct err *e)
{
	*result = NULL;
	char *cmd = ferry_command(rf, args);
	struct remote_lines rl = {.o = o, .host = sshc_host(rf->ssh), .lines = {.on_line = line_in}};
	rl.lines.ud = &rl;
	struct sshc_exec_info info = {0};
	struct sshc_exec_opts eo = {
		.stdin_buf = rf->profiles_json, .stdin_len = strlen(rf->profiles_json),
		.on_stdout = sshc_lines_feed, .ud = &rl.lines, .cancel = o->cancel, .info = &info,
	};
	int status = 0;
	int rc = sshc_exec(rf->ssh, cmd, &eo, &status, e);
	sshc_lines_flush(&rl.lines);
	free(cmd);
	snprintf(o->stderr_tail, sizeof o->stderr_tail, "%s", info.stderr_tail);
	if (rc == 0 && status != 0) {
		const char *msg = json_string_value(json_object_get(rl.result, "message"));
		err_set(e, ERR_FAILED, "`ferry %s` on %s failed (exit %d): %s", args, sshc_target(rf->ssh),
			status, msg ? msg : info.stderr_tail);
		rc = err_hint(e, "the remote said: %s", info.stderr_tail[0] ? info.stderr_tail : "(nothing)");
	}
	if (rc == 0 && rl.result && json_object_get(rl.result, "status") &&
	    strcmp(json_string_value(json_object_get(rl.result, "status")), "error") != 0)
		rc = remote_check_protocol(rl.result, sshc_target(rf->ssh), e);
	if (rc == 0)
		*result = rl.result;
	else
		json_decref(rl.result);
	return rc;
}

int remote_ferry_version(const struct remote_ferry *rf, char **version, int *protocol)
{
	*version = NULL;
	*protocol = 0;
	char *q = sshc_quote(rf->path);
	char *cmd = xasprintf("%s version --json", q);
	free(q);
	struct sshc_buf out = {0};
	struct err ignored = {0};
	int rc = sshc_run(rf->ssh, cmd, &out, &ignored);
	free(cmd);
	json_t *o = rc == 0 && out.data ? json_loads(out.data, 0, NULL) : NULL;
	const char *v = json_string_value(json_object_get(o, "version"));
	if (!v && rc == 0 && out.data && str_starts(out.data, "ferry "))
		v = out.data + strlen("ferry ");   /* an older ferry prints text */
	if (v) {
		*version = xstrndup(v, strcspn(v, "\n"));
		*protocol = (int)json_integer_value(json_object_get(o, "protocol"));
	}
	json_decref(o);
	sshc_buf_done(&out);
	return *version ? 0 : -1;
}
