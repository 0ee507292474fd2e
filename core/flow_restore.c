/* flow_restore — restore a bundle without ever leaving the live database
 * half-restored.
 *
 *  1. verify the bundle (every hash)          nothing is touched before
 *  2. preflight: server, pg_restore version,  step 4; a failure before
 *     space, extensions, revisions            the swap (7) leaves the live
 *  3. plan + confirmation                     database and files exactly
 *  4. safety backup (type pre-restore)        as they were
 *  5. shadow database ← globals, pg_restore
 *  6. gate: every table's rows = manifest
 *  7. swap: <db> → <db>_prev_<ts>, shadow → <db>, in one transaction
 *  8. files: staged, then moved into place; old ones kept as .prev-<ts>
 *  9. post_restore hooks, --migrate
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "fsx.h"
#include "bundle/bundle.h"
#include "db.h"
#include "dump.h"
#include "flow.h"
#include "fault.h"
#include "flow_util.h"
#include "migrate_db.h"
#include "restore_db.h"

#define STATE_FILE ".ferry-restore-state.json"

struct moved_path {
	char *path;        /* the app path */
	char *previous;    /* where the old one went, or NULL when there was none */
};

struct restore_ctx {
	const struct profile *p;
	const char *bundle;
	const struct restore_opts *o;
	struct restore_result *r;
	struct err *e;
	const struct event_sink *ev;
	char step[32];

	bool want_db, want_files;
	char *dbname, *shadow, *stamp;
	char *admin_conninfo, *shadow_conninfo;
	db_conn *admin;
	bool live_exists, shadow_created, swapped;
	char *live_revision;
	struct pg_tool pg_restore;
	char *work;                 /* extraction dir */
	char *files_staging;        /* files/ unpacked, under app.root (same filesystem) */
	bool planning;              /* restore_plan: the files are not unpacked */
	int jobs;

	struct moved_path *moved;
	size_t nmoved;
};

/* --- small helpers -------------------------------------------------------- */

static void step_start(struct restore_ctx *c, const char *id, const char *title)
{
	snprintf(c->step, sizeof c->step, "%s", id);
	event_step_start(c->ev, id, title);
}

static void step_done(struct restore_ctx *c, const char *note)
{
	event_step_done(c->ev, c->step, note);
	c->step[0] = '\0';
}

static int check_cancel(struct restore_ctx *c)
{
	if (!c->o->cancel || !*c->o->cancel)
		return 0;
	err_set(c->e, ERR_INTERRUPTED, "restore interrupted");
	return err_hint(c->e, c->swapped ? "the new database is in place; `ferry rollback` swaps the old one back"
					  : "the live database and files were not changed");
}

static bool database_exists(db_conn *admin, const char *name, struct err *e, int *failed)
{
	const char *params[] = {name};
	db_result *r = db_query(admin, "SELECT 1 FROM pg_database WHERE datname = $1", 1, params, e);
	if (!r) {
		*failed = 1;
		return false;
	}
	bool yes = db_result_rows(r) > 0;
	db_result_free(r);
	return yes;
}

/* A connection to the server's maintenance database (postgres, else template1). */
static db_conn *connect_admin(const char *url, char **conninfo_out, struct err *e)
{
	static const char *const maintenance[] = {"postgres", "template1"};
	db_conn *db = NULL;
	for (size_t i = 0; i < 2 && !db; i++) {
		char *ci = db_conninfo_with_dbname(url, maintenance[i], e);
		if (!ci)
			return NULL;
		db = db_connect(ci, e);
		if (db)
			*conninfo_out = ci;
		else
			free(ci);
	}
	return db;
}

/* --- 1. verify -------------------------------------------------------------- */

static int verify_bundle(struct restore_ctx *c)
{
	struct verify_opts vo = {.events = c->ev, .cancel = c->o->cancel};
	struct bundle_route routes[2];
	if (c->want_db)
		routes[vo.nextract++] = (struct bundle_route){.prefix = "db/", .dest_dir = c->work};
	if (c->want_files && c->files_staging)
		routes[vo.nextract++] = (struct bundle_route){
			.prefix = "files/", .dest_dir = c->files_staging, .strip_prefix = true};
	vo.extract = routes;
	if (vo.nextract)
		event_log(c->ev, EV_INFO, "unpacking while checking the hashes");
	struct verify_result vr;
	if (verify_run(c->bundle, &vo, &vr, c->e) < 0) {
		verify_result_done(&vr);
		return err_hint(c->e, "nothing was changed; pick another bundle (`ferry list`)");
	}
	manifest_done(&c->r->manifest);
	c->r->manifest = vr.manifest;   /* moved: the verified one */
	memset(&vr.manifest, 0, sizeof vr.manifest);
	verify_result_done(&vr);
	return 0;
}

/* --- 2. preflight ----------------------------------------------------------- */


static int resolve(struct restore_ctx *c)
{
	const struct manifest *m = &c->r->manifest;
	if (c->o->db_only && c->o->files_only)
		return err_set(c->e, ERR_USAGE, "--db-only and --files-only exclude each other");
	if (c->o->schema_only && c->o->data_only)
		return err_set(c->e, ERR_USAGE, "--schema-only and --data-only exclude each other");
	c->want_db = !c->o->files_only && m->has_db && m->dump.path;
	c->want_files = !c->o->db_only && m->has_files && c->p->has_app;
	if (c->o->db_only && !m->has_db)
		return err_set(c->e, ERR_USAGE, "%s holds no database dump", c->bundle);
	if (c->o->files_only && !m->has_files)
		return err_set(c->e, ERR_USAGE, "%s holds no app files", c->bundle);
	if (!c->want_db && !c->want_files)
		return err_set(c->e, ERR_USAGE, "nothing to restore from %s with these options", c->bundle);
	c->dbname = profile_db_name(c->p);
	if (!c->dbname)
		c->dbname = db_conninfo_dbname(c->p->database.url, c->e);
	c->stamp = util_stamp(time(NULL));
	c->shadow = xasprintf("%s_ferry_shadow", c->dbname);
	c->jobs = c->o->jobs > 0 ? c->o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	return c->dbname ? 0 : -1;
}

static int check_pg_restore(struct restore_ctx *c)
{
	const struct manifest *m = &c->r->manifest;
	int major = 0, minor = 0;
	if (m->db.pg_dump_version)
		dump_parse_version(m->db.pg_dump_version, &major, &minor);
	int server_major = db_server_version_num(c->admin) / 10000;
	if (dump_find_tool("pg_restore", server_major > major ? server_major : major,
			   &c->pg_restore, c->e) < 0)
		return -1;
	if (c->pg_restore.major >= major)
		return 0;
	err_set(c->e, ERR_TOOL, "pg_restore %s (%s) is older than the pg_dump %s that made this bundle; "
		"it would stop with \"unsupported version in file header\"", c->pg_restore.version,
		c->pg_restore.path, m->db.pg_dump_version);
	return err_hint(c->e, "install postgresql-client-%d or newer (apt-get install postgresql-client-%d) "
			"or set FERRY_PG_BIN", major, major);
}

static int check_space(struct restore_ctx *c)
{
	uint64_t need = manifest_total_bytes(&c->r->manifest), avail;
	if (fsx_free_space(c->work, &avail, c->e) < 0)
		return -1;
	if (avail >= need)
		return 0;
	char n[32], a[32];
	err_set(c->e, ERR_SPACE, "not enough space in %s to unpack the bundle: need %s, %s free",
		c->work, util_human_bytes(need, n, sizeof n), util_human_bytes(avail, a, sizeof a));
	return err_hint(c->e, "free space there, or point backup.dir at a larger disk");
}

static int make_workdir(struct restore_ctx *c)
{
	if (fsx_mkdir_p(c->p->backup.dir, 0700, c->e) < 0)
		return -1;
	c->work = xasprintf("%s/.ferry-restore-XXXXXX", c->p->backup.dir);
	if (!mkdtemp(c->work)) {
		err_set(c->e, ERR_FAILED, "cannot create a work directory in %s: %s", c->p->backup.dir,
			strerror(errno));
		free(c->work);
		c->work = NULL;
		return -1;
	}
	return 0;
}

/* The files are unpacked next to where they go, so that putting each in
 * place is a rename. Non-destructive: a hidden directory, removed at the end. */
static int make_files_staging(struct restore_ctx *c)
{
	if (fsx_mkdir_p(c->p->app.root, 0755, c->e) < 0)
		return -1;
	c->files_staging = xasprintf("%s/.ferry-restore-files-XXXXXX", c->p->app.root);
	if (!mkdtemp(c->files_staging)) {
		err_set(c->e, ERR_FAILED, "cannot create a staging directory in %s: %s", c->p->app.root,
			strerror(errno));
		free(c->files_staging);
		c->files_staging = NULL;
		return -1;
	}
	return 0;
}

/* The manifest from the bundle's first member, before the verifying pass:
 * enough to decide what is unpacked and to check the space for it. The
 * pass then checks it against SHA256SUMS with every other member. */
static int peek_manifest(struct restore_ctx *c)
{
	struct stat st;
	if (stat(c->bundle, &st) < 0) {
		err_set(c->e, ERR_USAGE, "cannot open bundle %s: %s", c->bundle, strerror(errno));
		return err_hint(c->e, "give a bundle path, or a name from `ferry list`");
	}
	bundle_reader *br = bundle_reader_open(c->bundle, c->e);
	if (!br)
		return -1;
	struct bundle_entry ent;
	int rc = bundle_reader_next(br, &ent, c->e);
	if (rc == 0 || (rc == 1 && strcmp(ent.name, MANIFEST_NAME) != 0)) {
		err_set(c->e, ERR_VERIFY, "%s: %s is not the first member", c->bundle, MANIFEST_NAME);
		rc = err_hint(c->e, "this is not a ferry bundle, or it was repacked; nothing was changed");
	}
	char *text = NULL;
	size_t len = 0;
	FILE *mem = rc == 1 ? open_memstream(&text, &len) : NULL;
	char buf[65536];
	ssize_t got = 0;
	while (mem && len < (16u << 20) && (got = bundle_reader_read(br, buf, sizeof buf, c->e)) > 0) {
		fwrite(buf, 1, (size_t)got, mem);
		fflush(mem);
	}
	if (mem)
		fclose(mem);
	if (rc == 1)
		rc = got < 0 ? -1 : manifest_parse(text ? text : "", &c->r->manifest, c->e);
	free(text);
	bundle_reader_free(br);
	return rc < 0 ? -1 : 0;
}

/* Step 1: what the bundle says, then one pass that checks every member's
 * hash and unpacks the dump into the work directory. */
static int verify_and_unpack(struct restore_ctx *c)
{
	if (peek_manifest(c) < 0 || resolve(c) < 0)
		return -1;
	if (c->want_db && (make_workdir(c) < 0 || check_space(c) < 0))
		return -1;
	if (c->want_files && !c->planning && make_files_staging(c) < 0)
		return -1;
	return verify_bundle(c);
}

/* Extensions the dump creates must be installable on this server. */
static int check_extensions(struct restore_ctx *c, const char *dump)
{
	char *list = xasprintf("%s/toc.txt", c->work);
	struct strv argv = {0};
	strv_push(&argv, c->pg_restore.path);
	strv_push(&argv, "--list");
	strv_push(&argv, dump);
	struct dump_run_opts ro = {.cancel = c->o->cancel};
	int rc = dump_run_pg_program(&argv, NULL, list, &ro, c->e);
	strv_done(&argv);
	FILE *f = rc == 0 ? fopen(list, "r") : NULL;
	char line[1024];
	while (f && rc == 0 && fgets(line, sizeof line, f)) {
		char name[256];
		const char *p = strstr(line, " EXTENSION - ");
		if (line[0] == ';' || !p || sscanf(p + 13, "%255s", name) != 1)
			continue;
		const char *params[] = {name};
		db_result *res = db_query(c->admin, "SELECT 1 FROM pg_available_extensions WHERE name = $1",
					  1, params, c->e);
		if (!res) {
			rc = -1;
		} else if (db_result_rows(res) == 0) {
			err_set(c->e, ERR_TOOL, "the dump needs extension \"%s\", which this server does not have",
				name);
			err_hint(c->e, "install it on the server (e.g. apt-get install postgresql-%d-%s)",
				 db_server_version_num(c->admin) / 10000, name);
			rc = -1;
		}
		db_result_free(res);
	}
	if (f)
		fclose(f);
	unlink(list);
	free(list);
	return rc;
}

static void read_live_revision(struct restore_ctx *c)
{
	struct err ignored = {0};
	db_conn *live = db_connect(c->p->database.url, &ignored);
	char *source = NULL;
	if (live)
		db_schema_revision(live, &c->live_revision, &source, &ignored);
	free(source);
	db_close(live);
}

static int preflight_db(struct restore_ctx *c)
{
	c->admin = connect_admin(c->p->database.url, &c->admin_conninfo, c->e);
	if (!c->admin)
		return -1;
	int failed = 0;
	c->live_exists = database_exists(c->admin, c->dbname, c->e, &failed);
	if (failed || check_pg_restore(c) < 0)
		return -1;
	if (c->live_exists)
		read_live_revision(c);
	return 0;
}

static int preflight(struct restore_ctx *c)
{
	step_start(c, "preflight", "check the server, tools, space and extensions");
	if (!c->work && make_workdir(c) < 0)
		return -1;
	if (c->want_db && preflight_db(c) < 0)
		return -1;
	if (c->want_db) {
		char *dump = xasprintf("%s/%s", c->work, c->r->manifest.dump.path);
		int rc = check_extensions(c, dump);
		free(dump);
		if (rc < 0)
			return -1;
	}
	char note[256];
	snprintf(note, sizeof note, "bundle revision %s, live revision %s",
		 c->r->manifest.schema_revision ? c->r->manifest.schema_revision : "unknown",
		 !c->want_db ? "-" : c->live_exists ? (c->live_revision ? c->live_revision : "unknown")
						    : "(no database yet)");
	step_done(c, note);
	return 0;
}

/* --- 3. plan and confirmation ----------------------------------------------- */

static void build_plan(struct restore_ctx *c, struct plan *plan)
{
	const struct manifest *m = &c->r->manifest;
	char *title = xasprintf("restore %s into %s", c->bundle, c->p->name);
	plan_init(plan, title);
	free(title);
	plan_add(plan, "verify", "verify the bundle", "%zu members, created %s, revision %s",
		 m->nmembers, m->created_at ? m->created_at : "?",
		 m->schema_revision ? m->schema_revision : "unknown");
	if (!c->o->no_safety_backup && (c->live_exists || (c->want_files && flow_any_app_path_exists(c->p))))
		plan_add(plan, "safety", "safety backup of what is there now", "type pre-restore, into %s",
			 c->p->backup.dir);
	if (c->want_db) {
		plan_add(plan, "shadow", "restore into a shadow database", "%s (pg_restore --jobs=%d%s%s)",
			 c->shadow, c->jobs, c->o->schema_only ? " --schema-only" : "",
			 c->o->data_only ? " --data-only" : "");
		plan_add(plan, "gate", "check every table's row count against the manifest",
			 "%zu tables, %lld rows", m->ntables, (long long)manifest_total_rows(m));
		if (c->live_exists)
			plan_add(plan, "swap", "swap the shadow in", "%s → %s_prev_%s, %s → %s (keep %d previous)",
				 c->dbname, c->dbname, c->stamp, c->shadow, c->dbname,
				 c->o->keep_previous > 0 ? c->o->keep_previous : 1);
		else
			plan_add(plan, "swap", "the shadow becomes the database", "%s → %s (new)", c->shadow,
				 c->dbname);
	}
	if (c->want_files) {
		char *paths = strv_join(&m->files.paths, ", ");
		plan_add(plan, "files", "put the app files in place", "%s under %s; old ones kept as <path>.prev-%s",
			 paths, c->p->app.root, c->stamp);
		free(paths);
	}
	if (c->p->hooks.post_restore.n)
		plan_add(plan, "hooks", "run post_restore hooks", "%zu command(s)", c->p->hooks.post_restore.n);
	if (c->o->migrate)
		plan_add(plan, "migrate", "run the schema migrations", NULL);
}

static int confirm(struct restore_ctx *c)
{
	if (c->o->yes)
		return 0;
	struct plan plan;
	build_plan(c, &plan);
	int rc;
	if (c->o->confirm) {
		rc = c->o->confirm(c->o->confirm_ud, &plan, c->dbname, c->e);
	} else {
		err_set(c->e, ERR_REFUSED, "restore needs confirmation and there is no one to ask");
		rc = err_hint(c->e, "pass --yes to confirm from a script");
	}
	plan_done(&plan);
	return rc;
}

/* --- 4. safety backup ------------------------------------------------------- */

static int safety_backup(struct restore_ctx *c)
{
	if (c->o->no_safety_backup) {
		event_step_skip(c->ev, "safety", "no safety backup, as asked (--no-safety-backup)");
		return 0;
	}
	bool db = c->want_db && c->live_exists;
	bool files = c->want_files && flow_any_app_path_exists(c->p);
	if (!db && !files) {
		event_step_skip(c->ev, "safety", "no safety backup: nothing there yet");
		return 0;
	}
	step_start(c, "safety", "safety backup of what is there now");
	struct backup_opts bo = {.type = "pre-restore", .db_only = !files, .files_only = !db,
				 .no_prune = true, .skip_missing_paths = true, .cancel = c->o->cancel};
	struct backup_result br;
	int rc = backup_run(c->p, &bo, &br, c->e);
	if (rc == 0) {
		c->r->safety_bundle = xstrdup(br.path);
		step_done(c, br.path);
	} else {
		err_prefix(c->e, "safety backup");
	}
	backup_result_done(&br);
	return rc;
}

/* --- 5. shadow -------------------------------------------------------------- */

static int restore_globals(struct restore_ctx *c)
{
	const char *globals = c->r->manifest.dump.globals;
	if (!globals)
		return 0;
	event_log(c->ev, EV_INFO, "creating roles from %s (existing roles are kept)", globals);
	char *path = xasprintf("%s/%s", c->work, globals);
	int rc = restore_db_globals(c->admin_conninfo, path, c->ev, c->e);
	free(path);
	return rc;
}

/* --data-only: the live database's schema, the bundle's data. */
static int copy_live_schema(struct restore_ctx *c)
{
	struct pg_tool pg_dump, psql;
	int major = db_server_version_num(c->admin) / 10000;
	if (dump_find_tool("pg_dump", major, &pg_dump, c->e) < 0)
		return -1;
	if (dump_find_tool("psql", major, &psql, c->e) < 0) {
		pg_tool_done(&pg_dump);
		return -1;
	}
	char *schema = xasprintf("%s/live-schema.sql", c->work);
	struct strv a = {0}, b = {0};
	strv_push(&a, pg_dump.path), strv_push(&a, "--no-password"), strv_push(&a, "--schema-only");
	strv_push(&a, "--dbname"), strv_push(&a, "{CONNINFO}");
	struct dump_run_opts ro = {.events = c->ev, .cancel = c->o->cancel};
	int rc = dump_run_pg_program(&a, c->p->database.url, schema, &ro, c->e);
	strv_push(&b, psql.path), strv_push(&b, "--no-password"), strv_push(&b, "--quiet");
	strv_push(&b, "--no-psqlrc"), strv_push(&b, "--set=ON_ERROR_STOP=1");
	strv_push(&b, "--file"), strv_push(&b, schema), strv_push(&b, "--dbname");
	strv_push(&b, "{CONNINFO}");
	if (rc == 0)
		rc = dump_run_pg_program(&b, c->shadow_conninfo, "/dev/null", &ro, c->e);
	strv_done(&a), strv_done(&b);
	free(schema);
	pg_tool_done(&pg_dump), pg_tool_done(&psql);
	return rc;
}

static int run_pg_restore(struct restore_ctx *c)
{
	const struct manifest *m = &c->r->manifest;
	struct strv argv = {0};
	strv_push(&argv, c->pg_restore.path);
	strv_push(&argv, "--no-password");
	strv_push(&argv, "--exit-on-error");
	if (c->jobs > 1 && m->dump.format && strcmp(m->dump.format, "directory") == 0) {
		char *j = xasprintf("--jobs=%d", c->jobs);
		strv_push(&argv, j);
		free(j);
	}
	if (c->o->schema_only)
		strv_push(&argv, "--schema-only");
	if (c->o->data_only) {
		strv_push(&argv, "--data-only");
		strv_push(&argv, "--disable-triggers");
	}
	strv_push(&argv, "--dbname");
	strv_push(&argv, "{CONNINFO}");
	char *dump = xasprintf("%s/%s", c->work, m->dump.path);
	strv_push(&argv, dump);
	free(dump);
	struct dump_run_opts ro = {.events = c->ev, .cancel = c->o->cancel, .step = "shadow"};
	/* The shadow is thrown away if anything goes wrong before the swap, so
	 * its load need not wait for WAL flushes; FERRY_RESTORE_OPTIONS adds
	 * (or, set empty, removes) server settings for this load only. */
	const char *tuning = getenv("FERRY_RESTORE_OPTIONS");
	if (!tuning)
		tuning = "-c synchronous_commit=off";
	char *conninfo = *tuning ? db_conninfo_with_options(c->shadow_conninfo, tuning, c->e)
				 : xstrdup(c->shadow_conninfo);
	int rc = conninfo ? dump_run_pg_program(&argv, conninfo, NULL, &ro, c->e) : -1;
	free(conninfo);
	strv_done(&argv);
	if (rc < 0 && c->e->kind != ERR_INTERRUPTED)
		err_hint(c->e, "the shadow database is dropped; the live database was not touched");
	return rc;
}

static int build_shadow(struct restore_ctx *c)
{
	step_start(c, "shadow", "restore into a shadow database");
	struct err ignored = {0};
	restore_db_drop(c->admin, c->shadow, &ignored);   /* a leftover of an interrupted run */
	if (restore_globals(c) < 0 || restore_db_create(c->admin, c->shadow, &c->r->manifest, c->e) < 0)
		return -1;
	c->shadow_created = true;
	c->shadow_conninfo = db_conninfo_with_dbname(c->p->database.url, c->shadow, c->e);
	if (!c->shadow_conninfo)
		return -1;
	if (c->o->data_only && c->live_exists && copy_live_schema(c) < 0)
		return -1;
	if (fault_point("restore.shadow.created") < 0)
		return err_set(c->e, ERR_FAILED, "injected fault before loading the shadow");
	if (run_pg_restore(c) < 0)
		return -1;
	step_done(c, c->shadow);
	return 0;
}

/* --- 6. gate ---------------------------------------------------------------- */

static void record_tables(struct restore_ctx *c, const int64_t *actual)
{
	const struct manifest *m = &c->r->manifest;
	c->r->tables = xcalloc(m->ntables + 1, sizeof *c->r->tables);
	for (size_t i = 0; i < m->ntables; i++) {
		struct restore_table *t = &c->r->tables[c->r->ntables++];
		t->schema = xstrdup(m->tables[i].schema);
		t->table = xstrdup(m->tables[i].table);
		t->expected = m->tables[i].rows;
		t->actual = actual[i];
		c->r->total_rows += actual[i] > 0 ? actual[i] : 0;
	}
}

static int gate(struct restore_ctx *c)
{
	if (c->o->schema_only || c->r->manifest.dump.schema_only) {
		event_step_skip(c->ev, "gate", "schema only: no rows to compare");
		return 0;
	}
	step_start(c, "gate", "check every table's row count against the manifest");
	db_conn *db = db_connect(c->shadow_conninfo, c->e);
	if (!db)
		return -1;
	const struct manifest *m = &c->r->manifest;
	int64_t *actual = xcalloc(m->ntables + 1, sizeof *actual);
	restore_db_count_tables(db, m, actual);
	db_close(db);
	record_tables(c, actual);
	int rc = restore_db_compare_counts(m, actual, c->ev, c->e);
	free(actual);
	if (rc < 0)
		return err_hint(c->e, "the shadow database is dropped; the live database was not touched");
	char note[96];
	snprintf(note, sizeof note, "%zu tables, %lld rows match", m->ntables, (long long)c->r->total_rows);
	step_done(c, note);
	return 0;
}

/* --- 7. swap ---------------------------------------------------------------- */

static int set_allow_connections(struct restore_ctx *c, const char *db, bool allow, struct err *e)
{
	char *q = db_quote_ident(db);
	char *sql = xasprintf("ALTER DATABASE %s WITH ALLOW_CONNECTIONS %s", q, allow ? "true" : "false");
	int rc = db_exec(c->admin, sql, e);
	free(q);
	free(sql);
	return rc;
}

static int terminate_sessions(struct restore_ctx *c, const char *db)
{
	const char *params[] = {db};
	for (int attempt = 0; attempt < 50; attempt++) {
		db_result *r = db_query(c->admin, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
					"WHERE datname = $1 AND pid <> pg_backend_pid()", 1, params, c->e);
		if (!r)
			return -1;
		bool none = strcmp(db_result_value(r, 0, 0), "0") == 0;
		db_result_free(r);
		if (none)
			return 0;
		usleep(100 * 1000);
	}
	return err_set(c->e, ERR_FAILED, "sessions on %s did not end", db);
}

/* Both renames commit together: there is no moment without <db>. */
static int rename_pair(struct restore_ctx *c, const char *live, const char *prev, const char *shadow)
{
	char *ql = db_quote_ident(live), *qs = db_quote_ident(shadow);
	char *qp = prev ? db_quote_ident(prev) : NULL;
	char *sql = prev ? xasprintf("BEGIN; ALTER DATABASE %s RENAME TO %s; ALTER DATABASE %s RENAME TO %s; COMMIT",
				     ql, qp, qs, ql)
			 : xasprintf("ALTER DATABASE %s RENAME TO %s", qs, ql);
	int rc = db_exec(c->admin, sql, c->e);
	if (rc < 0)
		db_exec(c->admin, "ROLLBACK", NULL);
	free(ql), free(qp), free(qs), free(sql);
	return rc;
}

static void drop_old_previous(struct restore_ctx *c)
{
	int keep = c->o->keep_previous > 0 ? c->o->keep_previous : 1;
	char *pattern = xasprintf("%s_prev_%%", c->dbname);
	const char *params[] = {pattern};
	struct err ignored = {0};
	db_result *r = db_query(c->admin, "SELECT datname FROM pg_database WHERE datname LIKE $1 "
				"ORDER BY datname DESC", 1, params, &ignored);
	for (int i = keep; r && i < db_result_rows(r); i++) {
		event_log(c->ev, EV_INFO, "dropping old previous database %s", db_result_value(r, i, 0));
		restore_db_drop(c->admin, db_result_value(r, i, 0), &ignored);
	}
	db_result_free(r);
	free(pattern);
}

static int swap(struct restore_ctx *c)
{
	if (check_cancel(c) < 0)
		return -1;
	step_start(c, "swap", "swap the shadow database in");
	if (!c->live_exists) {
		if (rename_pair(c, c->dbname, NULL, c->shadow) < 0)
			return -1;
		c->swapped = true;
		step_done(c, "a new database");
		return 0;
	}
	char *prev = xasprintf("%s_prev_%s", c->dbname, c->stamp);
	int rc = set_allow_connections(c, c->dbname, false, c->e);
	if (rc == 0)
		rc = terminate_sessions(c, c->dbname);
	if (rc == 0)
		rc = rename_pair(c, c->dbname, prev, c->shadow);
	struct err ignored = {0};
	set_allow_connections(c, rc == 0 ? prev : c->dbname, true, &ignored);
	if (rc == 0) {
		c->swapped = true;
		c->r->previous_db = xstrdup(prev);
		drop_old_previous(c);
		step_done(c, prev);
	}
	free(prev);
	return rc;
}

/* --- 8. files ----------------------------------------------------------------- */

static void undo_moves(struct restore_ctx *c, const char *staging)
{
	for (size_t i = c->nmoved; i-- > 0;) {
		const struct moved_path *mv = &c->moved[i];
		char *back = xasprintf("%s/%s", staging, mv->path);
		rename(mv->path, back);
		if (mv->previous)
			rename(mv->previous, mv->path);
		free(back);
	}
}

static int move_into_place(struct restore_ctx *c, const char *staging, const char *rel)
{
	char *src = xasprintf("%s/%s", staging, rel);
	char *dst = xasprintf("%s/%s", c->p->app.root, rel);
	char *prev = xasprintf("%s.prev-%s", dst, c->stamp);
	struct stat st;
	int rc = 0;
	bool had_old = lstat(dst, &st) == 0;
	if (lstat(src, &st) < 0)
		goto out;   /* the bundle carried nothing under this path */
	char *parent = xstrdup(dst);
	*strrchr(parent, '/') = '\0';
	rc = fsx_mkdir_p(parent, 0755, c->e);
	free(parent);
	if (rc == 0 && had_old && rename(dst, prev) < 0)
		rc = err_set(c->e, ERR_FAILED, "cannot move %s aside: %s", dst, strerror(errno));
	if (rc == 0 && rename(src, dst) < 0) {
		rc = err_set(c->e, ERR_FAILED, "cannot move the restored %s into place: %s", dst, strerror(errno));
		if (had_old)
			rename(prev, dst);
	}
	if (rc == 0) {
		c->moved = xrealloc(c->moved, (c->nmoved + 1) * sizeof *c->moved);
		c->moved[c->nmoved++] = (struct moved_path){xstrdup(dst), had_old ? xstrdup(prev) : NULL};
	}
out:
	free(src), free(dst), free(prev);
	return rc;
}

static int restore_files(struct restore_ctx *c)
{
	if (!c->want_files)
		return 0;
	step_start(c, "files", "put the app files in place");
	const char *staging = c->files_staging;   /* unpacked and checked in step 1 */
	int rc = 0;
	const struct strv *paths = &c->r->manifest.files.paths;
	for (size_t i = 0; rc == 0 && i < paths->n; i++)
		rc = move_into_place(c, staging, paths->v[i]);
	if (rc < 0)
		undo_moves(c, staging);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < c->nmoved; i++)
		if (c->moved[i].previous)
			strv_push(&c->r->previous_paths, c->moved[i].previous);
	char note[64];
	snprintf(note, sizeof note, "%zu path(s)", c->nmoved);
	step_done(c, note);
	return 0;
}

/* --- state for rollback --------------------------------------------------- */

static void write_state(struct restore_ctx *c)
{
	json_t *paths = json_array();
	for (size_t i = 0; i < c->nmoved; i++)
		json_array_append_new(paths, json_pack("{s:s, s:o}", "path", c->moved[i].path, "previous",
			c->moved[i].previous ? json_string(c->moved[i].previous) : json_null()));
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s}", "profile", c->p->name, "bundle", c->bundle,
		"database", c->dbname,
		"previous_db", c->r->previous_db ? json_string(c->r->previous_db) : json_null(),
		"paths", paths, "at", c->stamp);
	char *path = xasprintf("%s/%s", c->p->backup.dir, STATE_FILE);
	flow_json_write(path, o, NULL);
	free(path);
	json_decref(o);
}

/* --- 9. hooks and migrations ------------------------------------------------ */

static int after_swap(struct restore_ctx *c)
{
	if (c->p->hooks.post_restore.n) {
		step_start(c, "hooks", "run post_restore hooks");
		char *env_bundle = xasprintf("FERRY_BUNDLE=%s", c->bundle);
		char *env_profile = xasprintf("FERRY_PROFILE=%s", c->p->name);
		const char *env[] = {env_bundle, env_profile, "FERRY_FLOW=restore", NULL};
		int rc = flow_run_commands(&c->p->hooks.post_restore, c->p, env, c->ev, c->o->cancel, c->e);
		free(env_bundle);
		free(env_profile);
		if (rc < 0)
			return err_prefix(c->e, "post_restore hook");
		step_done(c, NULL);
	}
	if (c->o->migrate) {
		step_start(c, "migrate", "run the schema migrations");
		if (migrate_db_up(c->p, NULL, c->ev, c->o->cancel, c->e) < 0)
			return -1;
		step_done(c, NULL);
	}
	return 0;
}

/* --- the flow --------------------------------------------------------------- */

static void ctx_done(struct restore_ctx *c)
{
	if (c->shadow_created && !c->swapped && c->admin) {
		struct err ignored = {0};
		restore_db_drop(c->admin, c->shadow, &ignored);
	}
	if (c->work)
		fsx_rm_rf(c->work);
	free(c->work);
	if (c->files_staging)
		fsx_rm_rf(c->files_staging);
	free(c->files_staging);
	db_close(c->admin);
	pg_tool_done(&c->pg_restore);
	free(c->dbname), free(c->shadow), free(c->stamp), free(c->admin_conninfo);
	free(c->shadow_conninfo), free(c->live_revision);
	for (size_t i = 0; i < c->nmoved; i++) {
		free(c->moved[i].path);
		free(c->moved[i].previous);
	}
	free(c->moved);
}

static int restore_steps(struct restore_ctx *c)
{
	/* verify_run reports the "verify" step itself; a failure before it
	 * (a bundle that does not open) is still that step's. */
	snprintf(c->step, sizeof c->step, "%s", "verify");
	if (verify_and_unpack(c) < 0)
		return -1;
	c->step[0] = '\0';
	if (preflight(c) < 0 || confirm(c) < 0)
		return -1;
	if (safety_backup(c) < 0 || check_cancel(c) < 0)
		return -1;
	if (c->want_db && (build_shadow(c) < 0 || check_cancel(c) < 0 || gate(c) < 0 || swap(c) < 0))
		return -1;
	int rc = restore_files(c);
	if (c->swapped || c->nmoved)
		write_state(c);
	if (rc < 0 || after_swap(c) < 0)
		return -1;
	return 0;
}

int restore_run(const struct profile *p, const char *bundle, const struct restore_opts *o,
		struct restore_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	r->bundle = xstrdup(bundle);
	struct restore_ctx c = {.p = p, .bundle = bundle, .o = o, .r = r, .e = e, .ev = o->events};
	double started = util_now();
	int rc = restore_steps(&c);
	if (rc < 0 && c.step[0])
		event_step_fail(c.ev, c.step, e->msg);
	if (rc < 0 && c.swapped) {
		err_hint(e, "the restored database is in place; to go back run: ferry rollback --profile %s --yes",
			 p->name);
	}
	ctx_done(&c);
	r->duration_s = util_now() - started;
	return rc;
}

int restore_plan(const struct profile *p, const char *bundle, const struct restore_opts *o,
		 struct plan *plan, struct err *e)
{
	struct restore_result r = {0};
	struct restore_ctx c = {.p = p, .bundle = bundle, .o = o, .r = &r, .e = e, .ev = o->events,
				.planning = true};
	int rc = verify_and_unpack(&c);
	if (rc == 0)
		rc = preflight(&c);
	if (rc == 0)
		build_plan(&c, plan);
	ctx_done(&c);
	restore_result_done(&r);
	return rc;
}

void restore_result_done(struct restore_result *r)
{
	free(r->bundle);
	manifest_done(&r->manifest);
	free(r->safety_bundle);
	free(r->previous_db);
	for (size_t i = 0; i < r->ntables; i++) {
		free(r->tables[i].schema);
		free(r->tables[i].table);
	}
	free(r->tables);
	strv_done(&r->previous_paths);
	memset(r, 0, sizeof *r);
}

/* --- rollback ------------------------------------------------------------------ */

struct rollback_state {
	json_t *root;
	const char *database, *previous_db, *at;
	json_t *paths;
};

static int load_state(const struct profile *p, struct rollback_state *st, struct err *e)
{
	char *path = xasprintf("%s/%s", p->backup.dir, STATE_FILE);
	json_error_t jerr;
	st->root = json_load_file(path, 0, &jerr);
	if (!st->root) {
		err_set(e, ERR_USAGE, "nothing to roll back: no restore recorded in %s", path);
		free(path);
		return err_hint(e, "rollback undoes the last `ferry restore` of this profile");
	}
	free(path);
	st->database = json_string_value(json_object_get(st->root, "database"));
	st->previous_db = json_string_value(json_object_get(st->root, "previous_db"));
	st->at = json_string_value(json_object_get(st->root, "at"));
	st->paths = json_object_get(st->root, "paths");
	if (!st->database || !st->at)
		return err_set(e, ERR_FAILED, "the restore record %s/%s is damaged", p->backup.dir, STATE_FILE);
	return 0;
}

static int rollback_db(struct restore_ctx *c, const struct rollback_state *st, char **report)
{
	if (!st->previous_db)
		return 0;
	int failed = 0;
	if (!database_exists(c->admin, st->previous_db, c->e, &failed)) {
		if (failed)
			return -1;
		err_set(c->e, ERR_FAILED, "the previous database %s no longer exists", st->previous_db);
		return err_hint(c->e, "restore the safety bundle instead (`ferry list`, type pre-restore)");
	}
	char *aside = xasprintf("%s_rolledback_%s", st->database, c->stamp);
	int rc = set_allow_connections(c, st->database, false, c->e);
	if (rc == 0)
		rc = terminate_sessions(c, st->database);
	if (rc == 0)
		rc = rename_pair(c, st->database, aside, st->previous_db);
	struct err ignored = {0};
	set_allow_connections(c, rc == 0 ? aside : st->database, true, &ignored);
	if (rc == 0) {
		char *more = xasprintf("%sdatabase: %s is back as %s; the restored one is now %s\n", *report,
				       st->previous_db, st->database, aside);
		free(*report);
		*report = more;
	}
	free(aside);
	return rc;
}

static int rollback_files(struct restore_ctx *c, const struct rollback_state *st, char **report)
{
	size_t i;
	json_t *item;
	json_array_foreach(st->paths, i, item) {
		const char *path = json_string_value(json_object_get(item, "path"));
		const char *prev = json_string_value(json_object_get(item, "previous"));
		if (!path || !prev)
			continue;
		char *aside = xasprintf("%s.rolledback-%s", path, c->stamp);
		if (rename(path, aside) < 0 || rename(prev, path) < 0) {
			err_set(c->e, ERR_FAILED, "cannot put %s back: %s", prev, strerror(errno));
			free(aside);
			return -1;
		}
		char *more = xasprintf("%sfiles: %s is back; the restored copy is %s\n", *report, path, aside);
		free(*report);
		*report = more;
		free(aside);
	}
	return 0;
}

int rollback_run(const struct profile *p, const struct restore_opts *o, char **report,
		 struct err *e)
{
	*report = xstrdup("");
	struct rollback_state st = {0};
	struct restore_result r = {0};
	struct restore_ctx c = {.p = p, .o = o, .r = &r, .e = e, .ev = o->events};
	c.stamp = util_stamp(time(NULL));
	int rc = load_state(p, &st, e);
	if (rc == 0) {
		c.dbname = xstrdup(st.database);
		struct plan plan;
		plan_init(&plan, "roll back the last restore");
		if (st.previous_db)
			plan_add(&plan, "swap", "swap the previous database back", "%s → %s", st.previous_db,
				 st.database);
		plan_add(&plan, "files", "put the previous app files back", "%zu path(s)",
			 json_array_size(st.paths));
		rc = o->yes ? 0 : o->confirm ? o->confirm(o->confirm_ud, &plan, st.database, e)
			     : err_set(e, ERR_REFUSED, "rollback needs confirmation; pass --yes");
		plan_done(&plan);
	}
	if (rc == 0 && st.previous_db) {
		c.admin = connect_admin(p->database.url, &c.admin_conninfo, e);
		rc = c.admin ? rollback_db(&c, &st, report) : -1;
	}
	if (rc == 0)
		rc = rollback_files(&c, &st, report);
	if (rc == 0) {
		char *path = xasprintf("%s/%s", p->backup.dir, STATE_FILE);
		unlink(path);
		free(path);
	}
	json_decref(st.root);
	ctx_done(&c);
	restore_result_done(&r);
	return rc;
}
