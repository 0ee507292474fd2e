/* migrate_db — delegated or built-in schema migrations. */
#include "migrate_db.h"
#include "fsx.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "flow/flow.h"
#include "hash.h"
#include "proc.h"
#include "util.h"

static const char create_table_sql[] =
	"CREATE TABLE IF NOT EXISTS ferry_schema_migrations ("
	" version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now())";

static void migration_free(struct migration *m)
{
	free(m->version), free(m->name), free(m->up_path), free(m->down_path), free(m->applied_at);
}

void migration_status_done(struct migration_status *s)
{
	for (size_t i = 0; i < s->n; i++)
		migration_free(&s->v[i]);
	free(s->v);
	free(s->output);
	memset(s, 0, sizeof *s);
}

static struct migration *find_version(struct migration_status *s, const char *version)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].version, version) == 0)
			return &s->v[i];
	return NULL;
}

static struct migration *add_version(struct migration_status *s, const char *version, const char *name)
{
	struct migration *m = find_version(s, version);
	if (m)
		return m;
	s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
	m = &s->v[s->n++];
	memset(m, 0, sizeof *m);
	m->version = xstrdup(version);
	m->name = xstrdup(name);
	return m;
}

/* "0001_create_tasks.up.sql" → version "0001", name "create_tasks", up. */
static bool parse_file_name(const char *file, char **version, char **name, bool *up)
{
	const char *us = strchr(file, '_');
	bool is_up = str_ends(file, ".up.sql"), is_down = str_ends(file, ".down.sql");
	if (!us || us == file || (!is_up && !is_down))
		return false;
	for (const char *p = file; p < us; p++)
		if (*p < '0' || *p > '9')
			return false;
	size_t tail = is_up ? strlen(".up.sql") : strlen(".down.sql");
	*version = xstrndup(file, (size_t)(us - file));
	*name = xstrndup(us + 1, strlen(us + 1) - tail);
	*up = is_up;
	return true;
}

static int by_version(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;
	size_t lx = strlen(x->version), ly = strlen(y->version);
	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->version, y->version);
}

static int scan_dir(const struct profile *p, struct migration_status *s, struct err *e)
{
	DIR *d = opendir(p->migrations.dir);
	if (!d) {
		err_set(e, ERR_PROFILE, "cannot read migrations.dir %s: %m", p->migrations.dir);
		return err_hint(e, "create it, or fix migrations.dir in the profile");
	}
	const struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char *version, *name;
		bool up;
		if (!parse_file_name(de->d_name, &version, &name, &up))
			continue;
		struct migration *m = add_version(s, version, name);
		char *path = xasprintf("%s/%s", p->migrations.dir, de->d_name);
		if (up)
			free(m->up_path), m->up_path = path;
		else
			free(m->down_path), m->down_path = path;
		free(version);
		free(name);
	}
	closedir(d);
	for (size_t i = 0; i < s->n; i++) {
		if (!s->v[i].up_path)
			continue;
		if (hash_file(s->v[i].up_path, s->v[i].checksum, NULL, e) < 0)
			return -1;
	}
	return 0;
}

static int read_applied(db_conn *db, struct migration_status *s, struct err *e)
{
	if (db_exec(db, create_table_sql, e) < 0)
		return -1;
	db_result *r = db_query(db, "SELECT version, name, checksum, "
				"to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
				"FROM ferry_schema_migrations", 0, NULL, e);
	if (!r)
		return -1;
	for (int i = 0; i < db_result_rows(r); i++) {
		struct migration *m = add_version(s, db_result_value(r, i, 0), db_result_value(r, i, 1));
		m->applied = true;
		m->applied_at = xstrdup(db_result_value(r, i, 3));
		m->missing = !m->up_path;
		m->drifted = m->up_path && strcmp(m->checksum, db_result_value(r, i, 2)) != 0;
	}
	db_result_free(r);
	return 0;
}

static int own_status(const struct profile *p, db_conn *db, struct migration_status *s, struct err *e)
{
	if (scan_dir(p, s, e) < 0 || read_applied(db, s, e) < 0)
		return -1;
	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, by_version);
	return 0;
}

struct capture {
	char *text;
};

static void capture_line(void *ud, const char *line, bool is_stderr)
{
	struct capture *cap = ud;
	(void)is_stderr;
	char *more = xasprintf("%s%s\n", cap->text ? cap->text : "", line);
	free(cap->text);
	cap->text = more;
}

static int delegated_status(const struct profile *p, struct migration_status *s, struct err *e)
{
	s->delegated = true;
	if (!p->migrations.status_command) {
		s->output = xstrdup("(no migrations.status_command in the profile)\n");
		return 0;
	}
	struct capture cap = {0};
	struct proc_opts po = {.cwd = p->has_app ? p->app.root : p->dir, .stdout_lines = true,
			       .on_line = capture_line, .ud = &cap};
	int rc = proc_run_shell(p->migrations.status_command, &po, e);
	s->output = cap.text ? cap.text : xstrdup("");
	return rc;
}

static int no_runner(const struct profile *p, struct err *e)
{
	err_set(e, ERR_PROFILE, "profile %s has no migrations", p->name);
	return err_hint(e, "add \"migrations\": {\"command\": \"...\"} or {\"dir\": \"migrations\"}");
}

int migrate_db_status(const struct profile *p, struct migration_status *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (p->migrations.command)
		return delegated_status(p, out, e);
	if (!p->migrations.dir)
		return no_runner(p, e);
	db_conn *db = db_connect(p->database.url, e);
	if (!db)
		return -1;
	int rc = own_status(p, db, out, e);
	db_close(db);
	return rc;
}

/* Run one file and its bookkeeping statement in one transaction. */
static int run_in_transaction(db_conn *db, const char *file, const char *book_sql,
			      const char *const *params, int nparams, struct err *e)
{
	char *sql = fsx_read_file(file, 0, NULL, e);
	if (!sql)
		return -1;
	int rc = db_exec(db, "BEGIN", e);
	if (rc == 0 && db_exec(db, sql, e) < 0)
		rc = err_prefix(e, "%s", file);
	if (rc == 0) {
		db_result *r = db_query(db, book_sql, nparams, params, e);
		rc = r ? 0 : -1;
		db_result_free(r);
	}
	if (rc == 0)
		rc = db_exec(db, "COMMIT", e);
	else
		db_exec(db, "ROLLBACK", NULL);
	free(sql);
	return rc;
}

static bool version_after(const char *v, const char *to)
{
	size_t lv = strlen(v), lt = strlen(to);
	return lv != lt ? lv > lt : strcmp(v, to) > 0;
}

static void warn_drift(const struct migration_status *s, const struct event_sink *ev)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].drifted)
			event_log(ev, EV_WARN, "migration %s_%s was edited after it was applied",
				  s->v[i].version, s->v[i].name);
		if (s->v[i].missing)
			event_log(ev, EV_WARN, "migration %s_%s was applied but its file is gone",
				  s->v[i].version, s->v[i].name);
	}
}

static int own_up(const struct profile *p, const char *to, const struct event_sink *ev,
		  volatile sig_atomic_t *cancel, struct err *e)
{
	db_conn *db = db_connect(p->database.url, e);
	if (!db)
		return -1;
	struct migration_status s = {0};
	int rc = own_status(p, db, &s, e);
	if (rc == 0)
		warn_drift(&s, ev);
	size_t applied = 0;
	for (size_t i = 0; rc == 0 && i < s.n; i++) {
		const struct migration *m = &s.v[i];
		if (m->applied || !m->up_path || (to && version_after(m->version, to)))
			continue;
		if (cancel && *cancel) {
			rc = err_set(e, ERR_INTERRUPTED, "migrations interrupted after %zu applied", applied);
			break;
		}
		event_log(ev, EV_INFO, "applying %s_%s", m->version, m->name);
		const char *params[] = {m->version, m->name, m->checksum};
		rc = run_in_transaction(db, m->up_path, "INSERT INTO ferry_schema_migrations "
					"(version, name, checksum) VALUES ($1, $2, $3)", params, 3, e);
		applied += rc == 0;
	}
	if (rc == 0)
		event_log(ev, EV_INFO, "%zu migration(s) applied", applied);
	migration_status_done(&s);
	db_close(db);
	return rc;
}

static int run_delegated(const struct profile *p, const char *command, const struct event_sink *ev,
			 volatile sig_atomic_t *cancel, struct err *e)
{
	struct strv cmds = {0};
	strv_push(&cmds, command);
	const char *env[] = {"FERRY_FLOW=migrate", NULL};
	int rc = flow_run_commands(&cmds, p, env, ev, cancel, e);
	strv_done(&cmds);
	return rc < 0 ? err_prefix(e, "migrations") : 0;
}

int migrate_db_up(const struct profile *p, const char *to, const struct event_sink *ev,
		  volatile sig_atomic_t *cancel, struct err *e)
{
	if (p->migrations.command) {
		if (to)
			return err_set(e, ERR_USAGE, "--to needs ferry's own runner (migrations.dir); "
				       "the delegated command decides its own target");
		return run_delegated(p, p->migrations.command, ev, cancel, e);
	}
	if (!p->migrations.dir)
		return no_runner(p, e);
	return own_up(p, to, ev, cancel, e);
}

static int own_rollback(const struct profile *p, const char *to, const struct event_sink *ev,
			struct err *e)
{
	db_conn *db = db_connect(p->database.url, e);
	if (!db)
		return -1;
	struct migration_status s = {0};
	int rc = own_status(p, db, &s, e);
	size_t undone = 0;
	for (size_t i = s.n; rc == 0 && i-- > 0;) {
		const struct migration *m = &s.v[i];
		if (!m->applied)
			continue;
		if (to ? !version_after(m->version, to) : undone == 1)
			break;
		if (!m->down_path) {
			err_set(e, ERR_FAILED, "migration %s_%s has no down file", m->version, m->name);
			rc = err_hint(e, "write %s/%s_%s.down.sql", p->migrations.dir, m->version, m->name);
			break;
		}
		event_log(ev, EV_INFO, "rolling back %s_%s", m->version, m->name);
		const char *params[] = {m->version};
		rc = run_in_transaction(db, m->down_path, "DELETE FROM ferry_schema_migrations WHERE version = $1",
					params, 1, e);
		undone += rc == 0;
	}
	if (rc == 0 && undone == 0)
		event_log(ev, EV_INFO, "nothing to roll back");
	migration_status_done(&s);
	db_close(db);
	return rc;
}

int migrate_db_rollback(const struct profile *p, const char *to, const struct event_sink *ev,
			volatile sig_atomic_t *cancel, struct err *e)
{
	(void)cancel;
	if (p->migrations.command) {
		err_set(e, ERR_USAGE, "rollback needs ferry's own runner (migrations.dir)");
		return err_hint(e, "use your migration tool's own downgrade command, e.g. `alembic downgrade -1`");
	}
	if (!p->migrations.dir)
		return no_runner(p, e);
	return own_rollback(p, to, ev, e);
}

int migrate_db_pending(const struct profile *p, size_t *pending, struct err *e)
{
	*pending = 0;
	if (!p->migrations.dir)
		return 0;
	struct migration_status s;
	int rc = migrate_db_status(p, &s, e);
	for (size_t i = 0; rc == 0 && i < s.n; i++)
		*pending += !s.v[i].applied && s.v[i].up_path;
	migration_status_done(&s);
	return rc;
}
