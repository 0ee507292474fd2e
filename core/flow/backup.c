/* flow_backup — one consistent snapshot of the database plus the app
 * files into one bundle, as a table of steps (core/step.h).
 *
 * preflight (options, tools, connection, app paths, space) → pre_backup
 * hooks → dump: a REPEATABLE READ transaction exports its snapshot, pg_dump
 * runs on it while the same transaction counts every table's rows →
 * globals → hash every member → write the bundle (manifest.json first,
 * SHA256SUMS last) as <name>.part, renamed when complete → post_backup
 * hooks → prune. Any failure removes the staging dir and the .part file. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "fsx.h"
#include "bundle/bundle.h"
#include "db.h"
#include "flow/backup.h"
#include "crypto/age.h"
#include "flow/prune.h"
#include "flow/flow.h"
#include "hash.h"
#include "dbprops.h"
#include "proc.h"
#include "revision.h"
#include "step.h"
#include "toc.h"

#include "flow/backup_int.h"

/* --- small helpers ------------------------------------------------------ */

void backup_item_add(struct backup_ctx *c, const struct item *it)
{
	if ((c->nitems & (c->nitems - 1)) == 0)
		c->items = xrealloc(c->items, (c->nitems ? 2 * c->nitems : 1) * sizeof *c->items);
	c->items[c->nitems++] = *it;
}

static void items_free(struct backup_ctx *c)
{
	for (size_t i = 0; i < c->nitems; i++) {
		free(c->items[i].member);
		free(c->items[i].src);
		free(c->items[i].link_target);
	}
	free(c->items);
	c->items = NULL;
	c->nitems = 0;
}

int backup_check_cancel(struct backup_ctx *c)
{
	if (!c->o->cancel || !*c->o->cancel)
		return 0;
	err_set(c->e, ERR_INTERRUPTED, "backup interrupted");
	return err_hint(c->e, "nothing was written; partial files were removed");
}

char *backup_bundle_file_name(const struct backup_ctx *c)
{
	char *stamp = util_stamp(c->started_wall);
	char *rev = revision_for_name(c->rev.revision);
	char *name = xasprintf("%s_%s_%s_%s%s", c->p->name, stamp, c->type, rev,
			       flow_bundle_extension(c->compression));
	free(rev);
	free(stamp);
	return name;
}

/* --- prepare and checks --------------------------------------------------- */

/* The level the compression takes: zstd 1-19, gzip 1-9 (0 = the default). */
static int check_level(const struct backup_ctx *c, struct err *e)
{
	int max = c->compression == BUNDLE_GZIP ? 9 : 19;
	if (c->compression == BUNDLE_NONE || c->level == 0 || (c->level >= 1 && c->level <= max))
		return 0;
	err_set(e, ERR_USAGE, "backup: --level %d is out of range for %s (1-%d)", c->level,
		flow_compression_name(c->compression), max);
	return err_hint(e, "zstd takes 1-19, gzip 1-9; 1 is the default for both (backup.level)");
}

static int resolve_options(struct backup_ctx *c)
{
	const struct backup_opts *o = c->o;
	const struct profile *p = c->p;
	if (o->db_only && o->files_only)
		return err_set(c->e, ERR_USAGE, "--db-only and --files-only exclude each other");
	if (o->schema_only && o->data_only)
		return err_set(c->e, ERR_USAGE, "--schema-only and --data-only exclude each other");
	c->want_db = !o->files_only;
	c->want_files = !o->db_only && p->has_app && p->app.paths.n > 0;
	if (o->files_only && !c->want_files) {
		err_set(c->e, ERR_PROFILE, "%s: --files-only but the profile names no app.paths", p->name);
		return err_hint(c->e, "add \"app\": {\"root\": ..., \"paths\": [...]} to the profile");
	}
	c->want_globals = c->want_db && (o->globals || p->backup.globals);
	c->type = xstrdup(o->type ? o->type : "manual");
	c->out_dir = xstrdup(o->out_dir ? o->out_dir : p->backup.dir);
	const char *comp = o->compression ? o->compression : p->backup.compression;
	if (flow_compression_parse(comp ? comp : "zstd", &c->compression) < 0) {
		err_set(c->e, ERR_USAGE, "unknown compression \"%s\"", comp);
		return err_hint(c->e, "use zstd, gzip or none");
	}
	c->level = o->level ? o->level : p->backup.level;
	c->jobs = o->jobs > 0 ? o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (c->jobs < 1)
		c->jobs = 1;
	c->conninfo = xstrdup(p->database.url);
	return check_level(c, c->e);
}

static int connect_db(struct backup_ctx *c)
{
	c->db = db_connect(c->conninfo, c->e);
	if (!c->db)
		return -1;
	if (db_get_info(c->db, &c->info, c->e) < 0)
		return -1;
	if (revision_read(c->db, &c->rev, c->e) < 0)
		return -1;
	int major = db_server_version_num(c->db) / 10000;
	if (dump_find_tool("pg_dump", major, &c->pg_dump, c->e) < 0 ||
	    dump_find_tool("pg_restore", c->pg_dump.major, &c->pg_restore, c->e) < 0)
		return -1;
	return dump_check_not_older(&c->pg_dump, "the server", major, c->info.server_version, c->e);
}

int backup_walk_collect(void *ud, const struct bundle_walk_entry *ent, struct err *e)
{
	struct backup_ctx *c = ud;
	(void)e;
	struct item it = {
		.member = xasprintf("%s%s", c->walk_prefix, ent->path),
		.src = xstrdup(ent->full_path),
		.kind = ent->type,
		.size = ent->size,
		.mode = ent->mode,
		.mtime = (time_t)ent->mtime,
		.link_target = xstrdup(ent->link),
	};
	backup_item_add(c, &it);
	if (ent->type == BUNDLE_REG)
		c->files_bytes += ent->size;
	return 0;
}

static int collect_app_files(struct backup_ctx *c)
{
	if (!c->want_files)
		return 0;
	const struct profile *p = c->p;
	c->walk_prefix = "files/";
	for (size_t i = 0; i < p->app.paths.n; i++) {
		if (c->o->skip_missing_paths && !flow_app_path_exists(p, p->app.paths.v[i]))
			continue;
		if (bundle_walk(p->app.root, p->app.paths.v[i], &p->app.exclude, backup_walk_collect, c, c->e) < 0)
			return -1;
	}
	return 0;
}

/* Options, the database and its tools, the app files: what every check
 * and the plan need. The run and the dry run both start here. */
static int prepare(void *ctx, struct err *e)
{
	struct backup_ctx *c = ctx;
	(void)e;
	if (c->prepared)
		return 0;
	c->prepared = true;
	if (resolve_options(c) < 0)
		return -1;
	if (c->want_db && connect_db(c) < 0)
		return -1;
	return collect_app_files(c);
}

uint64_t backup_estimate_need(const struct backup_ctx *c)
{
	uint64_t db = c->want_db ? (uint64_t)c->info.size_bytes : 0;
	/* staging holds the raw dump; the bundle is estimated at 60% of its input. */
	return db + (db + c->files_bytes) * 6 / 10;
}

/* The backup dir exists (or can be made) and has room for staging and
 * the bundle. */
static int check_space(void *ctx, struct err *e)
{
	struct backup_ctx *c = ctx;
	uint64_t avail;
	if (fsx_free_space(c->out_dir, &avail, e) < 0)
		return -1;
	uint64_t need = backup_estimate_need(c);
	if (avail >= need)
		return 0;
	char a[32], n[32], d[32], f[32];
	err_set(e, ERR_SPACE, "not enough space in %s: need about %s (database %s, files %s), %s free",
		c->out_dir, util_human_bytes(need, n, sizeof n),
		util_human_bytes((uint64_t)c->info.size_bytes, d, sizeof d),
		util_human_bytes(c->files_bytes, f, sizeof f), util_human_bytes(avail, a, sizeof a));
	return err_hint(e, "free space there, run `ferry prune`, or pass --out DIR");
}

static char *preflight_note(void *ctx)
{
	const struct backup_ctx *c = ctx;
	char sz[32];
	if (!c->want_db)
		return xstrdup("files only");
	return xasprintf("%s %s, %s, revision %s", c->info.name, c->info.server_version,
			 util_human_bytes((uint64_t)c->info.size_bytes, sz, sizeof sz),
			 c->rev.revision ? c->rev.revision : "unknown");
}

static char *plan_title(void *ctx)
{
	const struct backup_ctx *c = ctx;
	return xasprintf("back up %s to %s", c->p->name, c->out_dir);
}

/* --- hooks ------------------------------------------------------------------ */

static int run_hooks(struct backup_ctx *c, const char *which, const struct strv *cmds)
{
	char *env_profile = xasprintf("FERRY_PROFILE=%s", c->p->name);
	char *env_bundle = xasprintf("FERRY_BUNDLE=%s", c->r->path ? c->r->path : "");
	const char *env[] = {env_profile, env_bundle, "FERRY_FLOW=backup", NULL};
	int rc = flow_run_commands(cmds, c->p, env, c->ev, c->o->cancel, c->e);
	if (rc < 0)
		err_prefix(c->e, "%s hook", which);
	free(env_profile);
	free(env_bundle);
	return rc;
}

static bool has_pre_hooks(void *ctx)
{
	return ((struct backup_ctx *)ctx)->p->hooks.pre_backup.n > 0;
}

static bool has_post_hooks(void *ctx)
{
	return ((struct backup_ctx *)ctx)->p->hooks.post_backup.n > 0;
}

static char *pre_hooks_detail(void *ctx)
{
	return xasprintf("%zu command(s)", ((struct backup_ctx *)ctx)->p->hooks.pre_backup.n);
}

static char *post_hooks_detail(void *ctx)
{
	return xasprintf("%zu command(s), with FERRY_BUNDLE set",
			 ((struct backup_ctx *)ctx)->p->hooks.post_backup.n);
}

static int step_pre_hooks(void *ctx, struct step_run *sr, struct err *e)
{
	struct backup_ctx *c = ctx;
	(void)sr, (void)e;
	return run_hooks(c, "pre_backup", &c->p->hooks.pre_backup);
}

static int step_post_hooks(void *ctx, struct step_run *sr, struct err *e)
{
	struct backup_ctx *c = ctx;
	(void)sr, (void)e;
	return run_hooks(c, "post_backup", &c->p->hooks.post_backup);
}

/* --- what the migration tool says ---------------------------------------- */

static bool has_status_command(void *ctx)
{
	const struct backup_ctx *c = ctx;
	return c->want_db && c->p->migrations.status_command;
}

static char *status_command_detail(void *ctx)
{
	const struct backup_ctx *c = ctx;
	return xasprintf("`%s` in %s, its first line into the manifest", c->p->migrations.status_command,
			 c->p->has_app && c->p->app.root ? c->p->app.root : c->p->dir);
}

/* migrations.status_command's first line goes into the manifest; a
 * command that fails is recorded there and warned about, and the backup
 * goes on (a cancel still stops it). */
static int step_status_command(void *ctx, struct step_run *sr, struct err *e)
{
	struct backup_ctx *c = ctx;
	(void)e;
	struct err ce = {0};
	if (revision_run_command(c->p, 0, c->o->cancel, &c->rev_cmd, &ce) == 0) {
		step_note(sr, "%s", c->rev_cmd.output);
		return STEP_DONE;
	}
	if (ce.kind == ERR_INTERRUPTED) {
		*c->e = ce;
		return -1;
	}
	event_log(c->ev, EV_WARN, "%s", c->rev_cmd.error);
	step_note(sr, "%s", c->rev_cmd.error);
	return STEP_SKIPPED;
}

/* --- the dump ----------------------------------------------------------- */

static int make_staging(struct backup_ctx *c)
{
	if (c->staging)
		return 0;
	if (fsx_mkdir_p(c->out_dir, 0700, c->e) < 0)
		return -1;
	c->staging = flow_private_dir(c->out_dir, ".ferry-staging", c->e);
	return c->staging ? 0 : err_hint(c->e, "check that the backup directory is writable");
}

static void dump_tick(void *ud)
{
	struct backup_ctx *c = ud;
	double t = util_now();
	if (t - c->last_tick < 0.5)
		return;
	c->last_tick = t;
	uint64_t done = fsx_dir_bytes(c->staging);
	event_progress(c->ev, "dump", done, (uint64_t)c->info.size_bytes);
}

/* A full backup counts every table while pg_dump runs (same snapshot); a
 * backup of some schemas or tables counts, after the dump, exactly what
 * the dump's table of contents says it holds. */
/* By schema, then name: the manifest's order. */
static int compare_counts(const void *a, const void *b)
{
	const struct db_table_count *x = a, *y = b;
	int d = strcmp(x->schema, y->schema);
	return d ? d : strcmp(x->table, y->table);
}

static bool counts_while_dumping(const struct backup_ctx *c)
{
	const struct backup_opts *o = c->o;
	return !o->schema_only && !(o->schemas && o->schemas->n) && !(o->tables && o->tables->n) &&
	       !(o->exclude_tables && o->exclude_tables->n);
}

static int count_rows(struct backup_ctx *c, struct db_table_counts *tc)
{
	if (!counts_while_dumping(c))
		return 0;
	event_log(c->ev, EV_INFO, "counting rows in the snapshot");
	return db_count_rows(c->db, NULL, NULL, NULL, tc, c->e);
}

static int compare_oids(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

static int compare_count_oids(const void *a, const void *b)
{
	const struct db_table_count *x = a, *y = b;
	return x->oid < y->oid ? -1 : x->oid > y->oid;
}

/* The count made while dumping of oid (during sorted by oid), or NULL. */
static const struct db_table_count *counted(const struct db_table_counts *during, unsigned oid)
{
	struct db_table_count key = {.oid = oid};
	return during->n ? bsearch(&key, during->v, during->n, sizeof key, compare_count_oids) : NULL;
}

static void add_count(struct manifest *m, const struct db_table_count *t)
{
	manifest_add_table(m, t->schema, t->table, t->rows);
	m->tables[m->ntables - 1].matview = t->matview;
	m->tables[m->ntables - 1].oid = t->oid;
}

/* The dump's own table of contents decides what the manifest lists: the
 * rows of exactly the tables (and materialized views) whose data it holds,
 * counted in the dump's snapshot, whatever the patterns were. */
static int record_counts(struct backup_ctx *c, struct db_table_counts *during)
{
	char *dump = xasprintf("%s/%s", c->staging, dump_member_path(c->o->format));
	char *list = xasprintf("%s/toc.txt", c->staging);
	struct toc toc;
	int rc = toc_read_dump(c->pg_restore.path, dump, list, c->o->cancel, &toc, c->e);
	free(dump);
	free(list);
	if (rc < 0)
		return -1;
	unsigned *oids, *missing;
	size_t n, nmissing = 0;
	toc_data_oids(&toc, &oids, &n);
	missing = xcalloc(n + 1, sizeof *missing);
	struct db_table_counts all = {0};
	qsort(during->v, during->n, sizeof *during->v, compare_count_oids);
	qsort(oids, n, sizeof *oids, compare_oids);
	for (size_t i = 0; i < n; i++)
		if (!counted(during, oids[i]))
			missing[nmissing++] = oids[i];
	if (nmissing)
		rc = db_count_oids(c->db, missing, nmissing, &all, c->e);
	for (size_t i = 0; rc == 0 && i < during->n; i++)
		if (bsearch(&during->v[i].oid, oids, n, sizeof *oids, compare_oids)) {
			db_table_counts_add(&all, during->v[i].schema, during->v[i].table, during->v[i].rows);
			all.v[all.n - 1].matview = during->v[i].matview;
			all.v[all.n - 1].oid = during->v[i].oid;
		}
	if (rc == 0) {
		qsort(all.v, all.n, sizeof *all.v, compare_counts);
		for (size_t i = 0; i < all.n; i++)
			add_count(&c->r->manifest, &all.v[i]);
		c->r->manifest.large_objects = (int64_t)toc_large_objects(&toc);
	}
	db_table_counts_done(&all);
	free(oids);
	free(missing);
	toc_done(&toc);
	return rc;
}

static struct proc *spawn_pg_dump(struct backup_ctx *c, const char *snapshot, const char *out)
{
	struct dump_opts dopts = {
		.format = c->o->format,
		.jobs = c->jobs,
		.snapshot = snapshot,
		.schema_only = c->o->schema_only,
		.data_only = c->o->data_only,
		.schemas = c->o->schemas,
		.tables = c->o->tables,
		.exclude_tables = c->o->exclude_tables,
	};
	struct strv argv = {0};
	dump_pg_dump_argv(&argv, c->pg_dump.path, out, &dopts);
	struct dump_run_opts ro = {.events = c->ev, .cancel = c->o->cancel, .step = "dump"};
	struct proc *pr = dump_spawn_pg_program(&argv, c->conninfo, NULL, &ro, dump_tick, c, c->e);
	strv_done(&argv);
	return pr;
}

static bool wants_db(void *ctx)
{
	return ((struct backup_ctx *)ctx)->want_db;
}

static char *dump_detail(void *ctx)
{
	const struct backup_ctx *c = ctx;
	char sz[32];
	return xasprintf("%s on %s (%s, revision %s), pg_dump %s --format=%s --jobs=%d%s%s",
			 c->info.name, db_host_desc(c->db),
			 util_human_bytes((uint64_t)c->info.size_bytes, sz, sizeof sz),
			 c->rev.revision ? c->rev.revision : "unknown", c->pg_dump.version,
			 c->o->format == DUMP_CUSTOM ? "custom" : "directory", c->jobs,
			 c->o->schema_only ? " --schema-only" : "", c->o->data_only ? " --data-only" : "");
}

/* The settings of this session that shape COPY's text and that pg_dump
 * leaves as they are (its own session starts from the same defaults: the
 * same URL, role, database and environment), for the drill's content
 * check. */
static const char *const session_settings[] = {"TimeZone", "bytea_output", "lc_monetary"};

static int record_session(struct backup_ctx *c)
{
	struct strv *out = &c->r->manifest.dump.session;
	for (size_t i = 0; i < sizeof session_settings / sizeof *session_settings; i++) {
		const char *params[] = {session_settings[i]};
		db_result *r = db_query(c->db, "SELECT current_setting($1)", 1, params, c->e);
		if (!r)
			return -1;
		char *kv = xasprintf("%s=%s", session_settings[i], db_result_value(r, 0, 0));
		strv_push(out, kv);
		free(kv);
		db_result_free(r);
	}
	return 0;
}

static int step_dump(void *ctx, struct step_run *sr, struct err *e)
{
	struct backup_ctx *c = ctx;
	(void)e;
	if (make_staging(c) < 0)
		return -1;
	char *snapshot = db_begin_snapshot(c->db, c->e);
	if (!snapshot)
		return -1;
	c->r->manifest.snapshot = xstrdup(snapshot);
	char *dbdir = xasprintf("%s/db", c->staging);
	mkdir(dbdir, 0700);
	char *out = xasprintf("%s/%s", c->staging, dump_member_path(c->o->format));
	struct proc *pr = spawn_pg_dump(c, snapshot, out);
	free(snapshot);
	free(out);
	free(dbdir);
	if (!pr) {
		db_rollback(c->db);
		return -1;
	}
	struct db_table_counts tc = {0};
	int rc = record_session(c);
	if (rc == 0)
		rc = count_rows(c, &tc);
	/* pg_dump holds its own copy of the snapshot once started; still, keep
	 * ours open until it is done so the snapshot stays importable, and the
	 * counts after the dump are of the same snapshot. */
	int wrc = dump_wait(pr, "pg_dump", rc < 0 ? NULL : c->e);
	if (rc == 0 && wrc == 0)
		rc = record_counts(c, &tc);
	if (rc == 0 && wrc == 0)
		rc = dbprops_read(c->db, c->info.name, &c->r->manifest.db.props, c->e);
	db_rollback(c->db);
	db_table_counts_done(&tc);
	if (rc < 0 || wrc < 0)
		return -1;
	step_note(sr, "%zu tables, %lld rows", c->r->manifest.ntables,
		  (long long)manifest_total_rows(&c->r->manifest));
	return STEP_DONE;
}

static bool wants_globals(void *ctx)
{
	return ((struct backup_ctx *)ctx)->want_globals;
}

static char *globals_detail(void *ctx)
{
	(void)ctx;
	return xstrdup("pg_dumpall --roles-only --no-role-passwords");
}

static int step_globals(void *ctx, struct step_run *sr, struct err *e)
{
	struct backup_ctx *c = ctx;
	(void)sr, (void)e;
	struct pg_tool dumpall;
	int major = db_server_version_num(c->db) / 10000;
	if (dump_find_tool("pg_dumpall", major, &dumpall, c->e) < 0)
		return -1;
	struct strv argv = {0};
	strv_push(&argv, dumpall.path);
	strv_push(&argv, "--no-password");
	strv_push(&argv, "--roles-only");
	strv_push(&argv, "--no-role-passwords");
	strv_push(&argv, "--dbname");
	strv_push(&argv, "{CONNINFO}");
	char *out = xasprintf("%s/db/globals.sql", c->staging);
	struct dump_run_opts ro = {.events = c->ev, .cancel = c->o->cancel, .step = "globals"};
	int rc = dump_run_pg_program(&argv, c->conninfo, out, &ro, c->e);
	strv_done(&argv);
	free(out);
	pg_tool_done(&dumpall);
	if (rc < 0)
		return -1;
	c->r->manifest.dump.globals = xstrdup("db/globals.sql");
	return STEP_DONE;
}

/* --- retention ---------------------------------------------------------- */

static bool wants_prune(void *ctx)
{
	const struct backup_ctx *c = ctx;
	return !c->o->no_prune && !c->o->out_dir;
}

static char *prune_detail(void *ctx)
{
	const struct profile_keep *k = &((struct backup_ctx *)ctx)->p->backup.keep;
	return xasprintf("keep last %d, daily %d, weekly %d, monthly %d, manual %d days", k->last,
			 k->daily, k->weekly, k->monthly, k->manual_days);
}

/* A failing retention does not fail the backup: it is a warning. */
static int step_prune(void *ctx, struct step_run *sr, struct err *e)
{
	struct backup_ctx *c = ctx;
	(void)e;
	struct err pe = {0};
	if (prune_run(c->p, c->out_dir, false, &c->r->pruned, &pe) < 0) {
		c->r->prune_warning = xstrdup(pe.msg);
		step_note(sr, "%s", pe.msg);
		return STEP_SKIPPED;
	}
	size_t deleted = 0;
	for (size_t i = 0; i < c->r->pruned.n; i++)
		deleted += !c->r->pruned.v[i].keep;
	step_note(sr, "%zu deleted", deleted);
	return STEP_DONE;
}

static bool wants_offsite(void *ctx)
{
	const struct backup_ctx *c = ctx;
	return (c->o->offsite || c->p->backup.offsite) && !c->o->out_dir;
}

/* Targets exist (a push's own checks run when it runs). */
static int offsite_check(void *ctx, struct err *e)
{
	const struct profile *p = ((struct backup_ctx *)ctx)->p;
	return p->noffsite > 0 || offsite_pick(p, NULL, e) ? 0 : -1;
}

static char *offsite_detail(void *ctx)
{
	const struct profile *p = ((struct backup_ctx *)ctx)->p;
	struct strv names = {0};
	for (size_t i = 0; i < p->noffsite; i++)
		strv_push(&names, p->offsite[i].name);
	char *list = strv_join(&names, ", ");
	char *d = xasprintf("to %s%s", list, p->has_encryption ? ", encrypted with age" : "");
	strv_done(&names);
	free(list);
	return d;
}

/* The new bundle to every offsite target, as a sub-flow. */
static int step_offsite(void *ctx, struct step_run *sr, struct err *e)
{
	struct backup_ctx *c = ctx;
	struct step_child child;
	struct offsite_flow_opts oo = {
		.profile = c->p, .accept_new_host_key = c->o->accept_new_host_key,
		.confirm_host_key = c->o->confirm_host_key, .hostkey_ud = c->o->hostkey_ud,
		.events = step_child_sink(&child, step_events(sr), "offsite"), .cancel = step_cancel(sr)};
	if (offsite_push_run(&oo, c->final_path, &c->r->offsite, e) < 0)
		return err_hint(e, "the bundle %s is written; `ferry offsite push %s` copies it "
				"(an interrupted upload resumes)", c->final_path, c->final_path);
	step_note(sr, "%zu target%s", c->r->offsite.ncopies, c->r->offsite.ncopies == 1 ? "" : "s");
	return STEP_DONE;
}

/* encryption.local: the bundle itself is kept only encrypted. */
static bool wants_local_encryption(void *ctx)
{
	const struct profile *p = ((struct backup_ctx *)ctx)->p;
	return p->encryption.local && p->has_encryption;
}

static char *encrypt_local_detail(void *ctx)
{
	const struct profile *p = ((struct backup_ctx *)ctx)->p;
	return xasprintf("age, to %zu recipient%s; the plain bundle is removed", p->encryption.recipients.n,
			 p->encryption.recipients.n == 1 ? "" : "s");
}

/* Encrypt the written bundle to <bundle>.age and remove the plain one (also
 * when age fails: with encryption.local no plain bundle is kept). */
static int step_encrypt_local(void *ctx, struct step_run *sr, struct err *e)
{
	struct backup_ctx *c = ctx;
	char *enc = xasprintf("%s%s", c->final_path, AGE_SUFFIX);
	int rc = age_encrypt_file(&c->p->encryption.recipients, c->final_path, enc, step_cancel(sr), e);
	unlink(c->final_path);
	if (rc < 0) {
		free(enc);
		return err_prefix(e, "encrypting the bundle (encryption.local)");
	}
	free(c->final_path);
	c->final_path = enc;
	free(c->r->path);
	c->r->path = xstrdup(enc);
	struct stat st;
	if (stat(enc, &st) == 0)
		c->r->size = (uint64_t)st.st_size;
	step_note(sr, "%s", enc);
	return STEP_DONE;
}

/* --- the flow ----------------------------------------------------------- */

static const struct step backup_steps[] = {
	{.id = "hooks-pre_backup", .title = "run pre_backup hooks", .applies = has_pre_hooks,
	 .detail = pre_hooks_detail, .run = step_pre_hooks},
	{.id = "status-command", .title = "record migrations.status_command",
	 .applies = has_status_command, .detail = status_command_detail, .run = step_status_command},
	{.id = "dump", .title = "dump the database in one snapshot", .applies = wants_db,
	 .detail = dump_detail, .run = step_dump},
	{.id = "globals", .title = "dump roles (no passwords)", .applies = wants_globals,
	 .detail = globals_detail, .run = step_globals},
	{.id = "hash", .title = "hash every member (SHA-256)", .detail = backup_hash_detail, .run = backup_step_hash},
	{.id = "write", .title = "write the bundle", .check = check_space, .detail = backup_write_detail,
	 .run = backup_step_write},
	{.id = "encrypt-local", .title = "encrypt the bundle (encryption.local)",
	 .applies = wants_local_encryption, .detail = encrypt_local_detail, .run = step_encrypt_local},
	{.id = "hooks-post_backup", .title = "run post_backup hooks", .applies = has_post_hooks,
	 .detail = post_hooks_detail, .run = step_post_hooks},
	{.id = "prune", .title = "apply the retention policy", .applies = wants_prune,
	 .detail = prune_detail, .run = step_prune},
	{.id = "offsite", .title = "copy the bundle to the offsite targets", .applies = wants_offsite,
	 .check = offsite_check, .detail = offsite_detail, .run = step_offsite},
};

static int backup_lock(void *ctx, const struct event_sink *ev, struct err *e)
{
	return flow_lock_profile(((struct backup_ctx *)ctx)->p, "backup", ev, e);
}

static void backup_unlock(void *ctx)
{
	flow_unlock_profile(((struct backup_ctx *)ctx)->p);
}

static const struct flow_def backup_flow = {
	.name = "backup",
	.lock = backup_lock,
	.unlock = backup_unlock,
	.steps = backup_steps,
	.nsteps = sizeof backup_steps / sizeof backup_steps[0],
	.prepare = prepare,
	.title = plan_title,
	.preflight_note = preflight_note,
};

static void ctx_done(struct backup_ctx *c)
{
	if (c->staging)
		fsx_rm_rf(c->staging);
	free(c->staging);
	items_free(c);
	db_close(c->db);
	db_info_done(&c->info);
	pg_tool_done(&c->pg_dump);
	pg_tool_done(&c->pg_restore);
	revision_done(&c->rev);
	revision_command_done(&c->rev_cmd);
	free(c->out_dir);
	free(c->conninfo);
	free(c->type);
	free(c->final_path);
}

int backup_run(const struct profile *p, const struct backup_opts *o,
	       struct backup_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	struct backup_ctx c = {.p = p, .o = o, .ev = o->events, .r = r, .e = e};
	c.started = util_now();
	c.started_wall = time(NULL);
	struct flow_run_opts ro = {.events = o->events, .cancel = o->cancel, .yes = true};
	int rc = flow_run(&backup_flow, &c, &ro, &r->report, e);
	if (rc < 0 && c.final_path && !r->path) {
		char *part = xasprintf("%s.part", c.final_path);
		unlink(part);
		free(part);
	}
	r->duration_s = util_now() - c.started;
	ctx_done(&c);
	return rc;
}

int backup_plan(const struct profile *p, const struct backup_opts *o,
		struct plan *plan, struct err *e)
{
	struct backup_result r = {0};
	struct backup_ctx c = {.p = p, .o = o, .r = &r, .e = e};
	c.started_wall = time(NULL);
	int rc = flow_plan(&backup_flow, &c, plan, e);
	ctx_done(&c);
	backup_result_done(&r);
	return rc;
}

void backup_result_done(struct backup_result *r)
{
	free(r->path);
	manifest_done(&r->manifest);
	prune_report_done(&r->pruned);
	free(r->prune_warning);
	offsite_push_result_done(&r->offsite);
	flow_report_done(&r->report);
	memset(r, 0, sizeof *r);
}
