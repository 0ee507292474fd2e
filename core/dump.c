/* dump — locate and run PostgreSQL client programs. */
#include "dump.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "proc.h"

void pg_tool_done(struct pg_tool *t)
{
	free(t->path);
	free(t->version);
	memset(t, 0, sizeof *t);
}

int dump_parse_version(const char *text, int *major, int *minor)
{
	const char *p = strstr(text, ") ");
	p = p ? p + 2 : text;
	while (*p && (*p < '0' || *p > '9'))
		p++;
	*minor = 0;
	if (sscanf(p, "%d.%d", major, minor) < 1)
		return -1;
	return 0;
}

/* Run `tool --version` and fill out; -1 when it does not run. */
static int probe_tool(const char *path, struct pg_tool *out)
{
	char *cmd = xasprintf("'%s' --version 2>/dev/null", path);
	FILE *f = popen(cmd, "r");
	free(cmd);
	if (!f)
		return -1;
	char line[256] = "";
	char *got = fgets(line, sizeof line, f);
	int status = pclose(f);
	if (!got || status != 0 || dump_parse_version(line, &out->major, &out->minor) < 0)
		return -1;
	out->path = xstrdup(path);
	out->version = out->major >= 10 ? xasprintf("%d.%d", out->major, out->minor)
					: xasprintf("%d", out->major);
	return 0;
}

static int try_path(const char *path, struct pg_tool *out)
{
	return access(path, X_OK) == 0 ? probe_tool(path, out) : -1;
}

static int newest_installed_major(void)
{
	DIR *d = opendir("/usr/lib/postgresql");
	if (!d)
		return 0;
	int best = 0;
	const struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		int v = atoi(de->d_name);
		if (v > best)
			best = v;
	}
	closedir(d);
	return best;
}

/* FERRY_PG_BIN names a PostgreSQL client's bin directory: 1 with out
 * filled when name runs there; 0 when the directory holds a pg_dump but
 * not name (the other places are searched); -1 with e naming the setting
 * when it is no such directory (never a silent fall back). */
static int find_in_pg_bin(const char *bindir, const char *name, struct pg_tool *out, struct err *e)
{
	char *path = xasprintf("%s/%s", bindir, name);
	char *pg_dump = xasprintf("%s/pg_dump", bindir);
	struct stat st;
	int rc = try_path(path, out) == 0 ? 1 : access(pg_dump, X_OK) == 0 ? 0 : -1;
	if (rc < 0 && stat(bindir, &st) < 0)
		err_set(e, ERR_TOOL, "FERRY_PG_BIN=%s does not exist", bindir);
	else if (rc < 0 && !S_ISDIR(st.st_mode))
		err_set(e, ERR_TOOL, "FERRY_PG_BIN=%s is not a directory", bindir);
	else if (rc < 0)
		err_set(e, ERR_TOOL, "FERRY_PG_BIN=%s has no %s that runs (%s)", bindir, name, path);
	free(path);
	free(pg_dump);
	if (rc >= 0)
		return rc;
	return err_hint(e, "set FERRY_PG_BIN to the bin directory of a PostgreSQL client "
			"(e.g. /usr/lib/postgresql/%d/bin), or unset it to use the newest installed",
			newest_installed_major() ? newest_installed_major() : 15);
}

int dump_find_tool(const char *name, int server_major, struct pg_tool *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	const char *bindir = getenv("FERRY_PG_BIN");
	int in_bin = bindir && *bindir ? find_in_pg_bin(bindir, name, out, e) : 0;
	if (in_bin != 0)
		return in_bin > 0 ? 0 : -1;
	char *cand[2] = {
		server_major ? xasprintf("/usr/lib/postgresql/%d/bin/%s", server_major, name) : NULL,
		xasprintf("/usr/lib/postgresql/%d/bin/%s", newest_installed_major(), name),
	};
	int rc = -1;
	for (int i = 0; i < 2 && rc < 0; i++)
		if (cand[i])
			rc = try_path(cand[i], out);
	for (int i = 0; i < 2; i++)
		free(cand[i]);
	if (rc == 0)
		return 0;
	char *found = proc_which(name);
	if (found) {
		rc = probe_tool(found, out);
		free(found);
		if (rc == 0)
			return 0;
	}
	err_set(e, ERR_TOOL, "%s not found", name);
	return err_hint(e, "install the PostgreSQL client%s%.0d (apt-get install postgresql-client%s%.0d) "
			"or set FERRY_PG_BIN to its bin directory",
			server_major ? " " : "", server_major, server_major ? "-" : "", server_major);
}

int dump_check_not_older(const struct pg_tool *tool, const char *what,
			 int need_major, const char *need_version, struct err *e)
{
	if (tool->major >= need_major)
		return 0;
	const char *base = strrchr(tool->path, '/');
	base = base ? base + 1 : tool->path;
	err_set(e, ERR_TOOL, "%s %s (%s) is older than %s %s", base, tool->version,
		tool->path, what, need_version);
	return err_hint(e, "install postgresql-client-%d (apt-get install postgresql-client-%d) "
			"or set FERRY_PG_BIN to its bin directory", need_major, need_major);
}

const char *dump_member_path(enum dump_format f)
{
	return f == DUMP_CUSTOM ? "db/dump.pgdump" : "db/dump";
}

static void push_list(struct strv *argv, const char *flag, const struct strv *items)
{
	for (size_t i = 0; items && i < items->n; i++) {
		char *arg = xasprintf("%s=%s", flag, items->v[i]);
		strv_push(argv, arg);
		free(arg);
	}
}

void dump_pg_dump_argv(struct strv *argv, const char *pg_dump, const char *out_path,
		       const struct dump_opts *o)
{
	strv_push(argv, pg_dump);
	strv_push(argv, "--no-password");
	strv_push(argv, o->format == DUMP_DIRECTORY ? "--format=directory" : "--format=custom");
	if (o->format == DUMP_DIRECTORY && o->jobs > 1) {
		char *j = xasprintf("--jobs=%d", o->jobs);
		strv_push(argv, j);
		free(j);
	}
	char *z = xasprintf("--compress=%d", o->compress);
	strv_push(argv, z);
	free(z);
	if (o->snapshot) {
		char *s = xasprintf("--snapshot=%s", o->snapshot);
		strv_push(argv, s);
		free(s);
	}
	if (o->schema_only)
		strv_push(argv, "--schema-only");
	if (o->data_only)
		strv_push(argv, "--data-only");
	push_list(argv, "--schema", o->schemas);
	push_list(argv, "--table", o->tables);
	push_list(argv, "--exclude-table", o->exclude_tables);
	char *f = xasprintf("--file=%s", out_path);
	strv_push(argv, f);
	free(f);
	strv_push(argv, "--dbname");
	strv_push(argv, "{CONNINFO}");
}

static void log_line(void *ud, const char *line, bool is_stderr)
{
	const struct dump_run_opts *o = ud;
	if (o && o->events && *line)
		event_log(o->events, is_stderr ? EV_WARN : EV_INFO, "%s", line);
}

struct tick_relay {
	struct dump_run_opts run;   /* a copy: the caller's may be gone by then */
	void (*on_tick)(void *);
	void *tick_ud;
	char first_error[512];      /* the first "ERROR:" line: the cause, not its echoes */
	char command[512];          /* the "Command was:" after it */
};

static void relay_line(void *ud, const char *line, bool is_stderr)
{
	struct tick_relay *r = ud;
	log_line((void *)&r->run, line, is_stderr);
	const char *err = is_stderr ? strstr(line, "ERROR:") : NULL;
	if (err && !r->first_error[0])
		snprintf(r->first_error, sizeof r->first_error, "%s", err);
	else if (r->first_error[0] && !r->command[0] && strstr(line, "Command was:"))
		snprintf(r->command, sizeof r->command, "%s", strstr(line, "Command was:"));
}

/* A hint for the errors a dump or a restore commonly meets. */
static void known_hint(const char *what, const char *error, struct err *e)
{
	if (strcmp(what, "pg_dump") == 0) {
		if (strstr(error, "permission denied"))
			err_hint(e, "back up as a role that may read every object of the database (its owner "
				 "with SELECT on all tables and large objects, or a superuser)");
		return;
	}
	char role[128];
	const char *r = strstr(error, "role \"");
	if (r && sscanf(r, "role \"%127[^\"]\" does not exist", role) == 1)
		err_hint(e, "the dump's objects belong to role %s, which this server lacks: add --globals "
			 "to the backup (or backup.globals), or create the role first", role);
	else if (strstr(error, "permission denied"))
		err_hint(e, "restore as a role that owns the objects (or a superuser): see "
			 "\"Who runs the restore\" in the README");
	else if (strstr(error, "does not exist"))
		err_hint(e, "the dump needs something this database lacks; a partial bundle restores into "
			 "a database that has its tables' schemas and types");
}

static void relay_tick(void *ud)
{
	const struct tick_relay *r = ud;
	if (r->on_tick)
		r->on_tick(r->tick_ud);
}

struct proc *dump_spawn_pg_program(const struct strv *argv, const char *conninfo,
				   const char *stdout_path, const struct dump_run_opts *o,
				   void (*on_tick)(void *), void *tick_ud, struct err *e)
{
	char *safe = NULL, *password = NULL;
	if (conninfo && db_conninfo_split(conninfo, &safe, &password, e) < 0)
		return NULL;
	struct strv args = {0};
	for (size_t i = 0; i < argv->n; i++)
		strv_push(&args, strcmp(argv->v[i], "{CONNINFO}") == 0 && safe ? safe : argv->v[i]);
	char *pw_env = password ? xasprintf("PGPASSWORD=%s", password) : NULL;
	const char *env[] = {pw_env, NULL};
	/* The relay must outlive the child: it is freed with it in dump_wait. */
	struct tick_relay *relay = xmalloc(sizeof *relay);
	*relay = (struct tick_relay){.on_tick = on_tick, .tick_ud = tick_ud};
	if (o)
		relay->run = *o;
	struct proc_opts po = {
		.env = env,
		.stdout_path = stdout_path,
		.on_line = relay_line,
		.on_tick = relay_tick,
		.ud = relay,
		.cancel = relay->run.cancel,
	};
	struct proc *p = proc_spawn((const char *const *)args.v, &po, e);
	strv_done(&args);
	free(safe);
	if (password)
		memset(password, 0, strlen(password));
	free(password);
	if (pw_env)
		memset(pw_env, 0, strlen(pw_env));
	free(pw_env);
	if (!p)
		free(relay);
	else
		proc_set_owned(p, relay);
	return p;
}

int dump_wait(struct proc *p, const char *what, struct err *e)
{
	int rc = proc_wait(p, e);
	const struct tick_relay *relay = proc_owned(p);
	if (rc > 0 && relay && relay->first_error[0]) {
		err_set(e, ERR_FAILED, "%s failed with status %d: %s%s%s", what, rc, relay->first_error,
			relay->command[0] ? " — " : "", relay->command);
		known_hint(what, relay->first_error, e);
	} else if (rc > 0) {
		char line[512];
		proc_last_line(p, line, sizeof line);
		bool full = strstr(proc_stderr_tail(p), "No space left on device") != NULL;
		err_set(e, full ? ERR_SPACE : ERR_FAILED, "%s failed with status %d%s%s", what, rc,
			line[0] ? ": " : "", full ? "no space left on device" : line);
		if (full)
			err_hint(e, "free space where ferry writes (the backup dir), or pass --out DIR");
	}
	proc_free(p);
	return rc == 0 ? 0 : -1;
}

int dump_run_pg_program(const struct strv *argv, const char *conninfo,
			const char *stdout_path, const struct dump_run_opts *o,
			struct err *e)
{
	struct proc *p = dump_spawn_pg_program(argv, conninfo, stdout_path, o, NULL, NULL, e);
	if (!p)
		return -1;
	const char *base = strrchr(argv->v[0], '/');
	return dump_wait(p, base ? base + 1 : argv->v[0], e);
}
