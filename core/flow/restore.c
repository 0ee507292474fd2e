/* flow_restore — restore a bundle without ever leaving the live database
 * half-restored, as a table of steps (core/step.h).
 *
 *  preflight  the manifest and the dump's table of contents (read without
 *             unpacking), the server, pg_restore's version, space,
 *             extensions, revisions
 *  verify     every member's hash, unpacking the dump and the files
 *  (confirm)  type the database name, or --yes
 *  safety     a safety backup of what is there now (type pre-restore)
 *  shadow     <db>_ferry_shadow ← globals, pg_restore
 *  gate       every table's rows = the manifest
 *  swap       <db> → <db>_prev_<ts>, shadow → <db>, in one transaction
 *  files      staged, then moved into place; old ones kept as .prev-<ts>
 *  hooks, migrate
 *
 * Nothing destructive happens before the swap; a failure before it leaves
 * the live database and files exactly as they were. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "db.h"
#include "dump.h"
#include "fault.h"
#include "flow/backup.h"
#include "flow/verify.h"
#include "flow/restore.h"
#include "flow/flow.h"
#include "dbname.h"
#include "dbprops.h"
#include "fsx.h"
#include "journal.h"
#include "migrate_db.h"
#include "restore_db.h"
#include "revision.h"
#include "step.h"
#include "toc.h"
#include "util.h"
#include "trust.h"

#include "flow/restore_int.h"

/* --- preflight: what the bundle says, what the server is ------------------ */

/* The manifest from the bundle's first member, before the verifying pass:
 * enough to decide what is unpacked and to check the space for it. The
 * verify step then checks it against SHA256SUMS with every other member. */
static int peek_manifest(struct restore_ctx *c)
{
	struct stat st;
	if (stat(c->bundle, &st) < 0) {
		err_set(c->e, ERR_USAGE, "cannot open bundle %s: %s", c->bundle, strerror(errno));
		return err_hint(c->e, "give a bundle path, or a name from `ferry list`");
	}
	char *text = NULL;
	int rc = bundle_read_first(c->bundle, MANIFEST_NAME, BUNDLE_SMALL_MAX, &text, c->e);
	if (rc == 0)
		rc = manifest_parse(text, &c->r->manifest, c->e);
	if (rc == 0)
		rc = trust_check_manifest(&c->r->manifest, c->bundle, c->e);
	free(text);
	return rc < 0 ? -1 : 0;
}

/* What the bundle's scope and the options make of the restore (see
 * restore_scope.h). */
static int resolve_mode(struct restore_ctx *c)
{
	const struct manifest *m = &c->r->manifest;
	const char *scope = manifest_scope(m);
	bool chosen = (c->o->tables && c->o->tables->n) || (c->o->schemas && c->o->schemas->n);
	c->schema_only = c->o->schema_only || strcmp(scope, MANIFEST_SCOPE_SCHEMA_ONLY) == 0;
	if (c->o->as_db)
		c->mode = RESTORE_NEW;
	else if (chosen || c->o->data_only || (!manifest_is_full(m) && !c->schema_only))
		c->mode = RESTORE_TABLES;
	else
		c->mode = RESTORE_SWAP;
	if (c->o->as_db && chosen)
		return err_set(c->e, ERR_USAGE, "--as restores the whole bundle; --table and --schema "
			       "restore some tables' rows into the live database");
	if (c->mode == RESTORE_TABLES && c->schema_only) {
		err_set(c->e, ERR_USAGE, "%s holds no rows (a schema-only bundle): there is nothing to put back "
			"into the tables", c->bundle);
		return err_hint(c->e, "restore it into a new database with --as NEWDB");
	}
	if (c->mode == RESTORE_TABLES && c->want_db)
		return restore_scope_select(m, c->o->tables, c->o->schemas, &c->set, c->e);
	return 0;
}

bool restore_tables_mode(const struct restore_ctx *c)
{
	return c->mode == RESTORE_TABLES;
}

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
	if (resolve_mode(c) < 0)
		return -1;
	c->dbname = c->o->as_db ? xstrdup(c->o->as_db) : profile_db_name(c->p);
	if (!c->dbname)
		c->dbname = db_conninfo_dbname(c->p->database.url, c->e);
	c->stamp = util_stamp(time(NULL));
	c->jobs = c->o->jobs > 0 ? c->o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (!c->dbname)
		return -1;
	c->shadow = dbname_derive(c->dbname, "ferry_shadow", NULL);
	return 0;
}

int restore_find_pg_restore(struct restore_ctx *c)
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

static void read_live_revision(struct restore_ctx *c)
{
	struct err ignored = {0};
	db_conn *live = db_connect(c->p->database.url, &ignored);
	struct revision rev = {0};
	if (live && revision_read(live, &rev, &ignored) == 0) {
		c->live_revision = rev.revision;
		rev.revision = NULL;
	}
	revision_done(&rev);
	db_close(live);
}

/* The dump's table of contents, from its TOC member alone. */
int restore_read_toc(struct restore_ctx *c)
{
	/* The backup dir when there is one (its disk has room for bundles),
	 * else the temporary directory: a plan makes no directory of its own. */
	const char *tmpdir = getenv("TMPDIR");
	const char *parent = fsx_exists(c->p->backup.dir) ? c->p->backup.dir
							   : tmpdir && *tmpdir ? tmpdir : "/tmp";
	char *tmp = xasprintf("%s/.ferry-toc-XXXXXX", parent);
	int rc = mkdtemp(tmp) ? 0 : err_set(c->e, ERR_FAILED, "cannot create a directory in %s: %s",
					    parent, strerror(errno));
	if (rc == 0)
		rc = toc_read_bundle(c->bundle, &c->r->manifest, c->pg_restore.path, tmp, c->o->cancel,
				     &c->toc, c->e);
	fsx_rm_rf(tmp);
	free(tmp);
	return rc;
}

/* --as needs a new name; a partial restore an existing database; a
 * schema-only bundle replaces rows only when asked. */
static int check_target_kind(struct restore_ctx *c)
{
	if (c->mode == RESTORE_NEW && c->live_exists) {
		err_set(c->e, ERR_USAGE, "database %s exists: --as restores into a new database", c->dbname);
		return err_hint(c->e, "pick a name that is not taken; nothing was changed");
	}
	if (c->mode == RESTORE_TABLES && !c->live_exists) {
		err_set(c->e, ERR_USAGE, "database %s does not exist: a partial restore puts rows back into "
			"the tables of an existing database", c->dbname);
		return err_hint(c->e, "restore a full bundle, or this one into a new database with --as NEWDB");
	}
	if (c->mode != RESTORE_SWAP || !c->live_exists || !c->schema_only || c->o->replace_data)
		return 0;
	char *live = db_conninfo_with_dbname(c->p->database.url, c->dbname, c->e);
	bool rows = false;
	int rc = live ? restore_scope_has_rows(live, &rows, c->e) : -1;
	free(live);
	if (rc < 0 || !rows)
		return rc;
	err_set(c->e, ERR_REFUSED, "%s holds no rows (schema-only), and database %s has rows that the "
		"restore would replace with empty tables", c->bundle, c->dbname);
	return err_hint(c->e, "restore it into a new database with --as NEWDB, or pass --replace-data if "
			"empty tables are what you want; nothing was changed");
}

static int prepare_db(struct restore_ctx *c)
{
	c->admin = restore_db_connect_admin(c->p->database.url, &c->admin_conninfo, c->e);
	if (!c->admin)
		return -1;
	int exists = restore_db_exists(c->admin, c->dbname, c->e);
	if (exists < 0 || restore_find_pg_restore(c) < 0)
		return -1;
	c->live_exists = exists;
	if (check_target_kind(c) < 0)
		return -1;
	if (c->live_exists)
		read_live_revision(c);
	if (c->live_exists && c->o->keep_target_settings &&
	    dbprops_read(c->admin, c->dbname, &c->live_props, c->e) < 0)
		return -1;
	return restore_read_toc(c);
}

static int prepare(void *ctx, struct err *e)
{
	struct restore_ctx *c = ctx;
	(void)e;
	if (peek_manifest(c) < 0 || resolve(c) < 0)
		return -1;
	c->streaming = restore_stream_applies(c);
	return c->want_db ? prepare_db(c) : 0;
}

static char *preflight_note(void *ctx)
{
	const struct restore_ctx *c = ctx;
	return xasprintf("bundle revision %s, live revision %s",
			 c->r->manifest.schema_revision ? c->r->manifest.schema_revision : "unknown",
			 !c->want_db ? "-" : c->live_exists ? (c->live_revision ? c->live_revision : "unknown")
							    : "(no database yet)");
}

static char *plan_title(void *ctx)
{
	const struct restore_ctx *c = ctx;
	return xasprintf("restore %s into %s", c->bundle, c->p->name);
}

static char *confirm_word(void *ctx)
{
	return xstrdup(((struct restore_ctx *)ctx)->dbname);
}

/* --- verify: every hash, unpacking as it goes ------------------------------ */

/* Room to unpack the bundle next to the backups. */
static int check_space(void *ctx, struct err *e)
{
	struct restore_ctx *c = ctx;
	uint64_t need = manifest_total_bytes(&c->r->manifest), avail;
	if (fsx_free_space(c->p->backup.dir, &avail, e) < 0)
		return -1;
	if (avail >= need)
		return 0;
	char n[32], a[32];
	err_set(e, ERR_SPACE, "not enough space in %s to unpack the bundle: need %s, %s free",
		c->p->backup.dir, util_human_bytes(need, n, sizeof n), util_human_bytes(avail, a, sizeof a));
	return err_hint(e, "free space there, or point backup.dir at a larger disk");
}

/* The dump goes to a private directory in backup.dir; the files next to
 * where they go (under app.root, the same file system), so that putting
 * each in place is a rename. */
static int make_workdirs(struct restore_ctx *c)
{
	if (c->want_db && fsx_mkdir_p(c->p->backup.dir, 0700, c->e) < 0)
		return -1;
	if (c->want_db && !(c->work = flow_private_dir(c->p->backup.dir, ".ferry-restore", c->e)))
		return -1;
	if (c->work && journal_make(c->journal, "dir", c->work, c->e) < 0)
		return -1;
	if (!c->want_files)
		return 0;
	if (fsx_mkdir_p(c->p->app.root, 0755, c->e) < 0)
		return -1;
	c->files_staging = flow_private_dir(c->p->app.root, ".ferry-restore-files", c->e);
	if (!c->files_staging)
		return -1;
	return journal_make(c->journal, "dir", c->files_staging, c->e);
}

/* Streaming: room for the app files and the bounded staging of the dump
 * (its table of contents, a few batches of small tables, large objects). */
static int check_stream(void *ctx, struct err *e)
{
	struct restore_ctx *c = ctx;
	const struct manifest *m = &c->r->manifest;
	uint64_t need = 64u << 20, avail;
	for (size_t i = 0; i < m->nmembers; i++)
		if (!str_starts(m->members[i].name, "db/"))
			need += m->members[i].size;
	if (fsx_free_space(c->p->backup.dir, &avail, e) < 0)
		return -1;
	if (avail < need) {
		char n[32], a[32];
		err_set(e, ERR_SPACE, "not enough space in %s to stage the restore: need %s, %s free",
			c->p->backup.dir, util_human_bytes(need, n, sizeof n),
			util_human_bytes(avail, a, sizeof a));
		return err_hint(e, "free space there, or point backup.dir at a larger disk");
	}
	return restore_shadow_check(ctx, e);
}

static bool streams(void *ctx)
{
	return ((struct restore_ctx *)ctx)->streaming;
}

static bool unpacks(void *ctx)
{
	return !((struct restore_ctx *)ctx)->streaming;
}

static bool unpacks_db(void *ctx)
{
	const struct restore_ctx *c = ctx;
	return c->want_db && !c->streaming;
}

static char *stream_detail(void *ctx)
{
	const struct restore_ctx *c = ctx;
	const struct manifest *m = &c->r->manifest;
	return xasprintf("%zu members, created %s, revision %s: each hashed as it streams into %s "
			 "(pg_restore, %d jobs for indexes and constraints); nothing is swapped before "
			 "every hash matched", m->nmembers, m->created_at ? m->created_at : "?",
			 m->schema_revision ? m->schema_revision : "unknown", c->shadow, c->jobs);
}

static int step_stream(void *ctx, struct step_run *sr, struct err *e)
{
	struct restore_ctx *c = ctx;
	if (make_workdirs(c) < 0)
		return -1;
	return restore_stream_step(ctx, sr, e);
}

static char *verify_detail(void *ctx)
{
	const struct manifest *m = &((struct restore_ctx *)ctx)->r->manifest;
	return xasprintf("%zu members, created %s, revision %s", m->nmembers,
			 m->created_at ? m->created_at : "?",
			 m->schema_revision ? m->schema_revision : "unknown");
}

static int step_verify(void *ctx, struct step_run *sr, struct err *e)
{
	struct restore_ctx *c = ctx;
	if (make_workdirs(c) < 0)
		return -1;
	struct verify_opts vo = {.events = c->ev, .cancel = c->o->cancel,
				 .public_key = c->p->signing.public_key};
	struct bundle_route routes[2];
	if (c->want_db)
		routes[vo.nextract++] = (struct bundle_route){.prefix = "db/", .dest_dir = c->work};
	if (c->want_files)
		routes[vo.nextract++] = restore_files_route(c);
	vo.extract = routes;
	event_log(c->ev, EV_INFO, "unpacking while checking the hashes");
	struct verify_result vr;
	if (verify_pass(c->bundle, &vo, &vr, e) < 0) {
		verify_result_done(&vr);
		return err_hint(e, "nothing was changed; pick another bundle (`ferry list`)");
	}
	manifest_done(&c->r->manifest);
	c->r->manifest = vr.manifest;   /* moved: the verified one */
	memset(&vr.manifest, 0, sizeof vr.manifest);
	step_note(sr, "%zu members%s", vr.members_checked, vr.signature_ok ? ", signature verified" : "");
	verify_result_done(&vr);
	return STEP_DONE;
}

/* --- safety backup ------------------------------------------------------------ */

static bool safety_has_something(const struct restore_ctx *c, bool *db, bool *files)
{
	*db = c->want_db && c->live_exists;
	*files = c->want_files && flow_any_app_path_exists(c->p);
	return *db || *files;
}

static char *safety_detail(void *ctx)
{
	const struct restore_ctx *c = ctx;
	bool db, files;
	if (c->o->no_safety_backup)
		return xstrdup("skipped (--no-safety-backup)");
	if (!safety_has_something(c, &db, &files))
		return xstrdup("skipped: nothing there yet");
	return xasprintf("type pre-restore, into %s", c->p->backup.dir);
}

static int step_safety(void *ctx, struct step_run *sr, struct err *e)
{
	struct restore_ctx *c = ctx;
	bool db, files;
	if (c->o->no_safety_backup) {
		step_note(sr, "no safety backup, as asked (--no-safety-backup)");
		return STEP_SKIPPED;
	}
	if (!safety_has_something(c, &db, &files)) {
		step_note(sr, "no safety backup: nothing there yet");
		return STEP_SKIPPED;
	}
	struct backup_opts bo = {.type = "pre-restore", .db_only = !files, .files_only = !db,
				 .no_prune = true, .skip_missing_paths = true, .cancel = c->o->cancel};
	struct backup_result br;
	int rc = backup_run(c->p, &bo, &br, e);
	if (rc == 0) {
		c->r->safety_bundle = xstrdup(br.path);
		step_note(sr, "%s", br.path);
	} else {
		err_prefix(e, "safety backup");
	}
	backup_result_done(&br);
	return rc;
}

/* --- shadow ----------------------------------------------------------------- */

static bool wants_swap(void *ctx)
{
	const struct restore_ctx *c = ctx;
	return c->want_db && c->mode != RESTORE_TABLES;
}

/* Renaming the live database needs its owner (or a superuser). */
static int check_swap(void *ctx, struct err *e)
{
	struct restore_ctx *c = ctx;
	if (!c->live_exists || c->superuser)
		return 0;
	const char *params[] = {c->dbname};
	db_result *r = db_query(c->admin, "SELECT pg_get_userbyid(datdba) = current_user, "
				"pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", 1, params, e);
	if (!r)
		return -1;
	bool owner = db_result_rows(r) == 1 && strcmp(db_result_value(r, 0, 0), "t") == 0;
	char *who = xstrdup(db_result_rows(r) == 1 ? db_result_value(r, 0, 1) : "?");
	db_result_free(r);
	if (!owner) {
		err_set(e, ERR_DB, "database %s belongs to %s: only its owner (or a superuser) can swap "
			"the restored one in", c->dbname, who);
		err_hint(e, "restore as %s, or make the restoring role its owner; nothing was changed", who);
	}
	free(who);
	return owner ? 0 : -1;
}

/* --- replace: a partial restore ----------------------------------------------- */

static bool wants_replace(void *ctx)
{
	const struct restore_ctx *c = ctx;
	return c->want_db && c->mode == RESTORE_TABLES;
}

static db_conn *connect_live(const struct restore_ctx *c, struct err *e)
{
	char *ci = db_conninfo_with_dbname(c->p->database.url, c->dbname, e);
	db_conn *db = ci ? db_connect(ci, e) : NULL;
	free(ci);
	return db;
}

/* The tables are there, the role may empty and fill them, and set aside
 * the foreign keys that touch them. */
static int check_replace(void *ctx, struct err *e)
{
	struct restore_ctx *c = ctx;
	db_conn *live = connect_live(c, e);
	int rc = live ? replace_check(live, &c->set, e) : -1;
	db_close(live);
	return rc;
}

static char *replace_detail(void *ctx)
{
	const struct restore_ctx *c = ctx;
	char *names = replace_set_names(&c->set, 6);
	char *d = xasprintf("the rows of %zu table%s of %s (%s): emptied and filled from the shadow in one "
			    "transaction; their definitions, and everything else in %s, stay as they are",
			    c->set.n, c->set.n == 1 ? "" : "s", c->dbname, names, c->dbname);
	free(names);
	return d;
}

static int step_replace(void *ctx, struct step_run *sr, struct err *e)
{
	struct restore_ctx *c = ctx;
	db_conn *live = connect_live(c, e);
	db_conn *shadow = live ? db_connect(c->shadow_conninfo, e) : NULL;
	uint64_t bytes = 0;
	int rc = shadow ? replace_rows(live, shadow, &c->set, c->ev, c->o->cancel, &bytes, e) : -1;
	db_close(shadow);
	db_close(live);
	if (rc < 0) {
		char *old = xstrdup(e->hint);
		err_hint(e, "%s%sthe transaction was rolled back: %s is as it was", old, old[0] ? "; " : "",
			 c->dbname);
		free(old);
		return -1;
	}
	char sz[32];
	step_note(sr, "%zu table%s, %s of rows", c->set.n, c->set.n == 1 ? "" : "s",
		  util_human_bytes(bytes, sz, sizeof sz));
	return STEP_DONE;
}

/* --- swap ------------------------------------------------------------------- */

static char *swap_detail(void *ctx)
{
	const struct restore_ctx *c = ctx;
	if (!c->live_exists)
		return xasprintf("%s → %s (new)", c->shadow, c->dbname);
	char *prev = dbname_derive(c->dbname, "prev", c->stamp);
	char *d = xasprintf("%s → %s, %s → %s (keep %d previous)", c->dbname, prev, c->shadow, c->dbname,
			    c->o->keep_previous > 0 ? c->o->keep_previous : 1);
	free(prev);
	return d;
}

static void drop_old_previous(struct restore_ctx *c)
{
	int keep = c->o->keep_previous > 0 ? c->o->keep_previous : 1;
	char *prefix = dbname_prefix(c->dbname, "prev", strlen(c->stamp));
	restore_db_prune_prefixed(c->admin, prefix, keep, c->ev);
	free(prefix);
}

static int step_swap(void *ctx, struct step_run *sr, struct err *e)
{
	struct restore_ctx *c = ctx;
	if (!c->live_exists) {
		if (restore_db_swap(c->admin, c->dbname, NULL, c->shadow, e) < 0)
			return -1;
		journal_forget(c->journal, "database", c->shadow, NULL);
		c->swapped = true;
		step_note(sr, "a new database");
		return STEP_DONE;
	}
	char *prev = dbname_unique(c->dbname, "prev", c->stamp, restore_db_exists_fn, c->admin, e);
	if (!prev)
		return -1;
	int step = journal_begin(c->journal, json_pack("{s:s, s:s, s:s, s:s}", "op", "swap", "live",
						       c->dbname, "previous", prev, "incoming", c->shadow), e);
	fault_point("restore.swap.begun");
	int rc = step < 0 ? -1 : restore_db_swap(c->admin, c->dbname, prev, c->shadow, e);
	if (rc == 0) {
		journal_forget(c->journal, "database", c->shadow, NULL);
		journal_done(c->journal, step, NULL);
		c->swapped = true;
		c->r->previous_db = xstrdup(prev);
		drop_old_previous(c);
		step_note(sr, "%s", prev);
	}
	free(prev);
	return rc;
}

/* --- hooks and migrations -------------------------------------------------------- */

static bool has_hooks(void *ctx)
{
	return ((struct restore_ctx *)ctx)->p->hooks.post_restore.n > 0;
}

static char *hooks_detail(void *ctx)
{
	return xasprintf("%zu command(s)", ((struct restore_ctx *)ctx)->p->hooks.post_restore.n);
}

static int step_hooks(void *ctx, struct step_run *sr, struct err *e)
{
	struct restore_ctx *c = ctx;
	(void)sr;
	char *env_bundle = xasprintf("FERRY_BUNDLE=%s", c->bundle);
	char *env_profile = xasprintf("FERRY_PROFILE=%s", c->p->name);
	const char *env[] = {env_bundle, env_profile, "FERRY_FLOW=restore", NULL};
	int rc = flow_run_commands(&c->p->hooks.post_restore, c->p, env, c->ev, c->o->cancel, e);
	free(env_bundle);
	free(env_profile);
	return rc < 0 ? err_prefix(e, "post_restore hook") : STEP_DONE;
}

static bool wants_migrate(void *ctx)
{
	return ((struct restore_ctx *)ctx)->o->migrate;
}

/* --migrate without migrations would fail only after the swap. */
static int check_migrate(void *ctx, struct err *e)
{
	const struct profile *p = ((struct restore_ctx *)ctx)->p;
	if (p->migrations.dir || p->migrations.command)
		return 0;
	err_set(e, ERR_USAGE, "--migrate: profile %s has no migrations (migrations.dir or migrations.command)",
		p->name);
	return err_hint(e, "add them to the profile, or restore without --migrate; nothing was changed");
}

static int step_migrate(void *ctx, struct step_run *sr, struct err *e)
{
	struct restore_ctx *c = ctx;
	(void)sr;
	return migrate_db_up(c->p, NULL, c->ev, c->o->cancel, e) < 0 ? -1 : STEP_DONE;
}

/* --- the record for rollback --------------------------------------------------- */

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
	char *path = xasprintf("%s/%s", c->p->backup.dir, RESTORE_STATE_FILE);
	flow_json_write(path, o, NULL);
	free(path);
	json_decref(o);
}

/* --- the flow --------------------------------------------------------------- */

static void failed(void *ctx, const char *step, struct err *e)
{
	const struct restore_ctx *c = ctx;
	(void)step;
	if (c->swapped)
		err_hint(e, "the restored database is in place; to go back run: ferry rollback --profile %s --yes",
			 c->p->name);
	else if (e->kind == ERR_INTERRUPTED)
		err_hint(e, "the live database and files were not changed");
}

static const struct step restore_steps[] = {
	{.id = "verify", .title = "verify the bundle", .applies = unpacks, .check = check_space,
	 .detail = verify_detail, .run = step_verify},
	{.id = "verify", .title = "verify the bundle while loading it into a shadow database",
	 .applies = streams, .check = check_stream, .detail = stream_detail, .run = step_stream,
	 .asks = true},
	{.id = "safety", .title = "safety backup of what is there now", .detail = safety_detail,
	 .run = step_safety, .asks = true},
	{.id = "shadow", .title = "restore into a shadow database", .applies = unpacks_db,
	 .check = restore_shadow_check, .detail = restore_shadow_detail, .run = restore_shadow_step},
	{.id = "gate", .title = "check every table's row count against the manifest",
	 .applies = restore_shadow_gate_applies, .detail = restore_shadow_gate_detail, .run = restore_shadow_gate_step},
	{.id = "swap", .title = "swap the shadow database in", .applies = wants_swap,
	 .check = check_swap, .detail = swap_detail, .run = step_swap, .destructive = true},
	{.id = "replace", .title = "put the tables' rows back in one transaction",
	 .applies = wants_replace, .check = check_replace, .detail = replace_detail,
	 .run = step_replace, .destructive = true},
	{.id = "files", .title = "put the app files in place", .applies = restore_wants_files,
	 .detail = restore_files_detail, .run = restore_step_files, .destructive = true},
	{.id = "hooks", .title = "run post_restore hooks", .applies = has_hooks, .detail = hooks_detail,
	 .run = step_hooks},
	{.id = "migrate", .title = "run the schema migrations", .applies = wants_migrate,
	 .check = check_migrate, .run = step_migrate},
};

/* The profile's lock, what a killed run left dealt with, then this run's
 * journal (core/journal.h). */
static int restore_lock(void *ctx, const struct event_sink *ev, struct err *e)
{
	struct restore_ctx *c = ctx;
	if (flow_lock_profile(c->p, "restore", ev, e) < 0)
		return -1;
	c->journal = journal_open(c->p->backup.dir, c->p->name, "restore", e);
	if (!c->journal) {
		flow_unlock_profile(c->p);
		return -1;
	}
	return 0;
}

static void restore_unlock(void *ctx)
{
	struct restore_ctx *c = ctx;
	/* What this run made is cleaned first (ctx_done), then the journal
	 * closes and the lock goes: see restore_run. */
	c->unlock_at_end = true;
}

static const struct flow_def restore_flow = {
	.name = "restore",
	.lock = restore_lock,
	.unlock = restore_unlock,
	.steps = restore_steps,
	.nsteps = sizeof restore_steps / sizeof restore_steps[0],
	.prepare = prepare,
	.title = plan_title,
	.preflight_note = preflight_note,
	.confirm_word = confirm_word,
	.failed = failed,
};

static void ctx_done(struct restore_ctx *c)
{
	if (c->shadow_created && !c->swapped && c->admin) {
		struct err ignored = {0};
		if (restore_db_drop(c->admin, c->shadow, &ignored) == 0)
			journal_forget(c->journal, "database", c->shadow, NULL);
	}
	if (c->work)
		fsx_rm_rf(c->work);
	if (c->files_staging)
		fsx_rm_rf(c->files_staging);
	if (c->work)
		journal_forget(c->journal, "dir", c->work, NULL);
	if (c->files_staging)
		journal_forget(c->journal, "dir", c->files_staging, NULL);
	free(c->work);
	free(c->files_staging);
	journal_close(c->journal);
	if (c->unlock_at_end)
		flow_unlock_profile(c->p);
	db_close(c->admin);
	pg_tool_done(&c->pg_restore);
	toc_done(&c->toc);
	manifest_props_done(&c->live_props);
	replace_set_done(&c->set);
	free(c->dbname), free(c->shadow), free(c->stamp), free(c->admin_conninfo);
	free(c->shadow_conninfo), free(c->live_revision);
	for (size_t i = 0; i < c->nmoved; i++) {
		free(c->moved[i].path);
		free(c->moved[i].previous);
	}
	free(c->moved);
}

int restore_run(const struct profile *p, const char *bundle, const struct restore_opts *o,
		struct restore_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	r->bundle = xstrdup(bundle);
	struct restore_ctx c = {.p = p, .bundle = bundle, .o = o, .r = r, .e = e, .ev = o->events};
	struct flow_run_opts ro = {.events = o->events, .cancel = o->cancel, .yes = o->yes,
				   .confirm = o->confirm, .confirm_ud = o->confirm_ud};
	int rc = flow_run(&restore_flow, &c, &ro, &r->report, e);
	if (c.swapped || c.nmoved)
		write_state(&c);
	ctx_done(&c);
	r->duration_s = r->report.seconds;
	return rc;
}

int restore_plan(const struct profile *p, const char *bundle, const struct restore_opts *o,
		 struct plan *plan, struct err *e)
{
	struct restore_result r = {0};
	struct restore_ctx c = {.p = p, .bundle = bundle, .o = o, .r = &r, .e = e, .ev = o->events};
	int rc = flow_plan(&restore_flow, &c, plan, e);
	ctx_done(&c);
	restore_result_done(&r);
	return rc;
}

void restore_plan_fetched(const struct profile *p, const struct restore_opts *o, struct plan *plan)
{
	struct restore_result r = {0};
	struct restore_ctx c = {.p = p, .o = o, .r = &r, .want_db = !o->files_only,
				.want_files = !o->db_only && p->has_app,
				.mode = o->as_db ? RESTORE_NEW : RESTORE_SWAP};
	for (size_t i = 0; i < sizeof restore_steps / sizeof restore_steps[0]; i++) {
		const struct step *s = &restore_steps[i];
		if (!s->applies || s->applies(&c))
			plan_add(plan, s->id, s->title, "on the fetched copy");
	}
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
	flow_report_done(&r->report);
	memset(r, 0, sizeof *r);
}
