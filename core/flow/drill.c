/* flow_drill — a restore drill as a table of steps (see drill.h): the
 * bundle verified, restored into a scratch database by the restore's own
 * code (restore_shadow.c), its row counts gated, its content compared with
 * the dump byte for byte, the application checked; the time measured, the
 * scratch database dropped, the outcome recorded. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "dbname.h"
#include "fault.h"
#include "fsx.h"
#include "journal.h"
#include "restore_db.h"
#include "util.h"

#include "flow/drill.h"
#include "flow/drill_int.h"
#include "flow/drill_log.h"
#include "flow/list.h"
#include "flow/offsite.h"
#include "flow/verified.h"
#include "flow/verify.h"

/* --- preflight ---------------------------------------------------------------------- */

char *drill_newest_full_bundle(const struct profile *p, struct err *e)
{
	struct bundle_list l;
	if (list_bundles(p->backup.dir, p->name, &l, e) < 0)
		return NULL;
	char *path = NULL;
	for (size_t i = 0; i < l.n && !path; i++)
		if (l.v[i].scope && strcmp(l.v[i].scope, MANIFEST_SCOPE_FULL) == 0)
			path = xstrdup(l.v[i].path);
	list_done(&l);
	if (!path) {
		err_set(e, ERR_USAGE, "no full bundle of profile %s in %s to drill", p->name, p->backup.dir);
		err_hint(e, "make one with `ferry backup --profile %s`, or name a bundle", p->name);
	}
	return path;
}

/* The bundle, its manifest read from its first member (the verify step
 * checks it against SHA256SUMS with everything else). */
static int pick_bundle(struct drill_ctx *c)
{
	struct drill_result *r = c->r;
	r->bundle = c->o->bundle ? xstrdup(c->o->bundle) : drill_newest_full_bundle(c->p, c->e);
	if (!r->bundle)
		return -1;
	struct stat st;
	if (stat(r->bundle, &st) < 0) {
		err_set(c->e, ERR_USAGE, "cannot open bundle %s: %s", r->bundle, strerror(errno));
		return err_hint(c->e, "give a bundle path, or a name from `ferry list`");
	}
	r->bundle_bytes = (uint64_t)st.st_size;
	c->rc.bundle = r->bundle;
	char *text = NULL;
	int rc = bundle_read_first(r->bundle, MANIFEST_NAME, BUNDLE_SMALL_MAX, &text, c->e);
	if (rc == 0)
		rc = manifest_parse(text, &c->rr.manifest, c->e);
	free(text);
	if (rc < 0)
		return -1;
	const struct manifest *m = &c->rr.manifest;
	if (!m->has_db || !m->dump.path) {
		err_set(c->e, ERR_USAGE, "%s holds no database dump: there is nothing to drill", r->bundle);
		return err_hint(c->e, "drill a bundle with the database (`ferry list` shows the scope)");
	}
	c->content_possible = !m->dump.format || strcmp(m->dump.format, "directory") == 0;
	return 0;
}

/* The scratch database: an existing one (--check-only), or a new name. */
static int pick_scratch(struct drill_ctx *c)
{
	struct restore_ctx *rc = &c->rc;
	if (c->o->check_only) {
		int exists = restore_db_exists(rc->admin, c->o->check_only, c->e);
		if (exists < 0)
			return -1;
		if (!exists) {
			err_set(c->e, ERR_USAGE, "database %s does not exist on the server of profile %s",
				c->o->check_only, c->server->name);
			return err_hint(c->e, "--check-only takes a database a `ferry drill --keep` left");
		}
		rc->shadow = xstrdup(c->o->check_only);
	} else {
		rc->shadow = dbname_unique(rc->dbname, "drill", rc->stamp, restore_db_exists_fn, rc->admin,
					   c->e);
		if (!rc->shadow)
			return -1;
	}
	c->r->scratch = xstrdup(rc->shadow);
	rc->shadow_conninfo = db_conninfo_with_dbname(c->server->database.url, rc->shadow, c->e);
	return rc->shadow_conninfo ? 0 : -1;
}

/* What the load needs: the restore's context, filled as a restore into a
 * new database fills it. */
static int prepare(void *ctx, struct err *e)
{
	struct drill_ctx *c = ctx;
	(void)e;
	if (pick_bundle(c) < 0)
		return -1;
	struct restore_ctx *rc = &c->rc;
	const struct manifest *m = &c->rr.manifest;
	rc->want_db = true;
	rc->mode = RESTORE_NEW;
	rc->schema_only = strcmp(manifest_scope(m), MANIFEST_SCOPE_SCHEMA_ONLY) == 0;
	rc->dbname = m->db.name ? xstrdup(m->db.name) : profile_db_name(c->p);
	if (!rc->dbname)
		rc->dbname = xstrdup(c->p->name);
	rc->stamp = util_stamp(time(NULL));
	rc->shadow_suffix = rc->stamp;
	rc->jobs = c->o->jobs > 0 ? c->o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	rc->admin = restore_db_connect_admin(c->server->database.url, &rc->admin_conninfo, c->e);
	if (!rc->admin || restore_find_pg_restore(rc) < 0 || restore_read_toc(rc) < 0)
		return -1;
	return pick_scratch(c);
}

static char *plan_title(void *ctx)
{
	const struct drill_ctx *c = ctx;
	return xasprintf("drill %s on the server of profile %s", c->r->bundle ? c->r->bundle : "?",
			 c->server->name);
}

static char *preflight_note(void *ctx)
{
	const struct drill_ctx *c = ctx;
	const struct manifest *m = &c->rr.manifest;
	return xasprintf("bundle created %s, revision %s, %zu tables, %lld rows",
			 m->created_at ? m->created_at : "?", m->schema_revision ? m->schema_revision : "unknown",
			 m->ntables, (long long)manifest_total_rows(m));
}

/* --- verify ----------------------------------------------------------------------------- */

/* Room to unpack the dump next to the backups. */
static int check_space(void *ctx, struct err *e)
{
	struct drill_ctx *c = ctx;
	uint64_t need = 0, avail;
	const struct manifest *m = &c->rr.manifest;
	for (size_t i = 0; i < m->nmembers; i++)
		if (str_starts(m->members[i].name, "db/"))
			need += m->members[i].size;
	if (fsx_free_space(c->p->backup.dir, &avail, e) < 0)
		return -1;
	if (avail >= need)
		return 0;
	char n[32], a[32];
	err_set(e, ERR_SPACE, "not enough space in %s to unpack the dump: need %s, %s free", c->p->backup.dir,
		util_human_bytes(need, n, sizeof n), util_human_bytes(avail, a, sizeof a));
	return err_hint(e, "free space there, or point backup.dir at a larger disk");
}

static char *verify_detail(void *ctx)
{
	const struct drill_ctx *c = ctx;
	return xasprintf("%zu members%s, unpacking the dump", c->rr.manifest.nmembers,
			 c->p->signing.public_key ? " and the manifest's signature" : "");
}

/* The bundle is what it says it is, before anything is loaded: its
 * manifest's signature when the profile has signing.public_key (a bundle
 * without one is refused then), every member's SHA-256 against the
 * manifest and SHA256SUMS, the dump unpacked into work in the same pass.
 * The result's "signature" says which: "verified" or "unsigned". */
static int drill_verify_bundle(struct drill_ctx *c, const char *work, struct err *e)
{
	struct bundle_route route = {.prefix = "db/", .dest_dir = work};
	struct verify_opts vo = {.events = c->ev, .cancel = c->o->cancel, .extract = &route, .nextract = 1,
				 .public_key = c->p->signing.public_key};
	struct verify_result vr;
	int rc = verify_pass(c->r->bundle, &vo, &vr, e);
	c->r->signature = rc == 0 && vr.signature_ok ? "verified" : "unsigned";
	if (rc == 0 || e->kind == ERR_VERIFY)
		verified_write_verify(c->r->bundle, rc == 0, e->msg);
	if (rc == 0) {
		manifest_done(&c->rr.manifest);
		c->rr.manifest = vr.manifest;   /* moved: the verified one */
		memset(&vr.manifest, 0, sizeof vr.manifest);
	}
	verify_result_done(&vr);
	return rc;
}

/* The drill's work directory in backup.dir, journaled (a killed drill's
 * is removed by the next one). */
static int make_work_dir(struct drill_ctx *c, struct err *e)
{
	char *work = xasprintf("%s/.ferry-drill-XXXXXX", c->p->backup.dir);
	if (fsx_mkdir_p(c->p->backup.dir, 0700, e) < 0 || !mkdtemp(work)) {
		if (e->kind == ERR_OK)
			err_set(e, ERR_FAILED, "cannot create a work directory in %s: %s", c->p->backup.dir,
				strerror(errno));
		free(work);
		return -1;
	}
	c->rc.work = work;
	return journal_make(c->journal, "dir", work, e);
}

static int step_verify(void *ctx, struct step_run *sr, struct err *e)
{
	struct drill_ctx *c = ctx;
	if (!c->rc.work && make_work_dir(c, e) < 0)   /* a --from drill's holds the fetched bundle */
		return -1;
	if (drill_verify_bundle(c, c->rc.work, e) < 0)
		return -1;
	step_note(sr, "%zu members%s", c->rr.manifest.nmembers,
		  strcmp(c->r->signature, "verified") == 0 ? ", signature verified" : "");
	return STEP_DONE;
}

/* --- load ------------------------------------------------------------------------------ */

static bool wants_load(void *ctx)
{
	return !((struct drill_ctx *)ctx)->o->check_only;
}

static int load_check(void *ctx, struct err *e)
{
	return restore_shadow_check(&((struct drill_ctx *)ctx)->rc, e);
}

static char *load_detail(void *ctx)
{
	const struct drill_ctx *c = ctx;
	return xasprintf("%s on the server of profile %s (pg_restore --jobs=%d), dropped afterwards%s",
			 c->rc.shadow, c->server->name, c->rc.jobs, c->o->keep ? " unless --keep" : "");
}

/* Whether the earlier run that journaled leftovers still runs (a drill
 * at the same time): its things are not leftovers then. */
static bool earlier_still_runs(const json_t *rec)
{
	const char *host = json_string_value(json_object_get(rec, "host"));
	json_int_t pid = json_integer_value(json_object_get(rec, "pid"));
	char *here = util_hostname();
	bool same_host = host && strcmp(host, here) == 0;
	free(here);
	return same_host && pid > 0 && pid != getpid() && kill((pid_t)pid, 0) == 0;
}

/* What a killed or --keep drill left, by its journal: dropped now. */
static int drop_leftovers(struct drill_ctx *c, struct err *e)
{
	const json_t *rec = journal_earlier(c->journal);
	if (!rec || earlier_still_runs(rec))
		return 0;
	struct strv dbs = {0}, dirs = {0};
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(rec, "created"), i, v) {
		const char *kind = json_string_value(json_object_get(v, "kind"));
		const char *name = json_string_value(json_object_get(v, "name"));
		if (kind && name)
			strv_push(strcmp(kind, "database") == 0 ? &dbs : &dirs, name);
	}
	int rc = 0;
	for (i = 0; rc == 0 && i < dbs.n; i++) {
		event_log(c->ev, EV_INFO, "dropping %s, left by an earlier drill", dbs.v[i]);
		rc = restore_db_drop(c->rc.admin, dbs.v[i], e);
		if (rc == 0)
			rc = journal_forget(c->journal, "database", dbs.v[i], e);
	}
	for (i = 0; rc == 0 && i < dirs.n; i++) {
		fsx_rm_rf(dirs.v[i]);
		rc = journal_forget(c->journal, "dir", dirs.v[i], e);
	}
	strv_done(&dbs), strv_done(&dirs);
	return rc;
}

/* The scratch database's size on the server. */
static void measure_database(struct drill_ctx *c)
{
	const char *params[] = {c->rc.shadow};
	struct err ignored = {0};
	db_result *r = db_query(c->rc.admin, "SELECT pg_database_size($1)", 1, params, &ignored);
	if (r && db_result_rows(r) == 1)
		c->r->database_bytes = strtoull(db_result_value(r, 0, 0), NULL, 10);
	db_result_free(r);
}

static int step_load(void *ctx, struct step_run *sr, struct err *e)
{
	struct drill_ctx *c = ctx;
	if (drop_leftovers(c, e) < 0 || restore_shadow_step(&c->rc, sr, e) < 0)
		return -1;
	free(c->r->scratch);
	c->r->scratch = xstrdup(c->rc.shadow);   /* another name when the first was taken */
	if (fault_point("drill.loaded") < 0)
		return err_set(e, ERR_FAILED, "injected fault after loading the scratch database");
	measure_database(c);
	return STEP_DONE;
}

/* --- gate -------------------------------------------------------------------------------- */

static bool wants_rows(void *ctx)
{
	return restore_shadow_gate_applies(&((struct drill_ctx *)ctx)->rc);
}

static char *gate_detail(void *ctx)
{
	return restore_shadow_gate_detail(&((struct drill_ctx *)ctx)->rc);
}

static int step_gate(void *ctx, struct step_run *sr, struct err *e)
{
	struct drill_ctx *c = ctx;
	if (c->o->check_only)
		measure_database(c);
	int rc = restore_shadow_gate_step(&c->rc, sr, e);
	c->r->tables = c->rr.ntables;
	c->r->rows = c->rr.total_rows;
	if (rc < 0)
		err_hint(e, "the dump does not hold what the manifest recorded; use another bundle");
	return rc;
}

/* --- content ----------------------------------------------------------------------------- */

static char *content_detail(void *ctx)
{
	const struct drill_ctx *c = ctx;
	if (!c->content_possible)
		return xstrdup("skipped: a custom-format dump (the check reads directory-format data files)");
	size_t n = 0;
	for (size_t i = 0; i < c->rc.toc.n; i++)
		n += strcmp(c->rc.toc.v[i].desc, "TABLE DATA") == 0;
	return xasprintf("%zu tables' COPY text and %zu large objects against the dump, SHA-256", n,
			 toc_large_objects(&c->rc.toc));
}

static int step_content(void *ctx, struct step_run *sr, struct err *e)
{
	struct drill_ctx *c = ctx;
	struct drill_result *r = c->r;
	if (!c->content_possible) {
		r->content_note = xstrdup("not checked: a custom-format dump");
		step_note(sr, "%s", r->content_note);
		return STEP_SKIPPED;
	}
	db_conn *db = db_connect(c->rc.shadow_conninfo, e);
	if (!db)
		return -1;
	char *dump_dir = xasprintf("%s/%s", c->rc.work, c->rr.manifest.dump.path);
	struct content_opts co = {.pg_restore = c->rc.pg_restore.path, .dump_dir = dump_dir,
				  .toc = &c->rc.toc, .m = &c->rr.manifest, .tmpdir = c->rc.work,
				  .ev = c->ev, .step = "content", .cancel = c->o->cancel};
	int rc = content_check(db, &co, &r->content, e);
	db_close(db);
	free(dump_dir);
	r->content_checked = rc == 0 || e->kind == ERR_VERIFY;
	r->content_s = r->content.seconds;
	if (rc < 0)
		return -1;
	char sz[32];
	step_note(sr, "%zu tables and %zu large objects as the dump holds them (%s)", r->content.ntables,
		  r->content.nlos, util_human_bytes(r->content.bytes, sz, sizeof sz));
	return STEP_DONE;
}

/* --- the flow ---------------------------------------------------------------------------- */

static const struct step drill_steps[] = {
	{.id = "verify", .title = "verify the bundle", .check = check_space, .detail = verify_detail,
	 .run = step_verify},
	{.id = "load", .title = "restore into a scratch database", .applies = wants_load,
	 .check = load_check, .detail = load_detail, .run = step_load},
	{.id = "gate", .title = "check every table's row count against the manifest",
	 .applies = wants_rows, .detail = gate_detail, .run = step_gate},
	{.id = "content", .title = "compare every table's content with the dump, byte for byte",
	 .applies = wants_rows, .detail = content_detail, .run = step_content},
	{.id = "checks", .title = "run the profile's application checks", .applies = drill_wants_checks,
	 .detail = drill_checks_detail, .run = drill_step_checks},
};

static const struct step drill_record = {
	.id = "record", .title = "drop the scratch database, record the outcome",
	.detail = drill_record_detail, .run = drill_step_record};

static const struct flow_def drill_flow = {
	.name = "drill",
	.steps = drill_steps,
	.nsteps = sizeof drill_steps / sizeof drill_steps[0],
	.prepare = prepare,
	.title = plan_title,
	.preflight_note = preflight_note,
	.finally = &drill_record,
};

/* The scratch database is dropped when it is still there (a failure before
 * the record step), the work directory removed. */
static void ctx_done(struct drill_ctx *c)
{
	struct restore_ctx *rc = &c->rc;
	drill_drop_scratch(c);
	if (rc->work) {
		fsx_rm_rf(rc->work);
		journal_forget(c->journal, "dir", rc->work, NULL);
	}
	journal_close(c->journal);
	free(rc->work);
	db_close(rc->admin);
	pg_tool_done(&rc->pg_restore);
	toc_done(&rc->toc);
	free(rc->dbname), free(rc->shadow), free(rc->stamp), free(rc->admin_conninfo);
	free(rc->shadow_conninfo);
	free(c->fetched_path);
	c->r->manifest = c->rr.manifest;   /* moved */
	memset(&c->rr.manifest, 0, sizeof c->rr.manifest);
	restore_result_done(&c->rr);
}

/* The context over p's bundle and the server's PostgreSQL. */
static void ctx_init(struct drill_ctx *c, const struct profile *p, const struct drill_opts *o,
		     struct drill_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	*c = (struct drill_ctx){.p = p, .server = o->server ? o->server : p, .o = o, .r = r, .e = e,
				.ev = o->events};
	c->ro = (struct restore_opts){.jobs = o->jobs, .events = o->events, .cancel = o->cancel, .yes = true};
	c->rc = (struct restore_ctx){.p = c->server, .o = &c->ro, .r = &c->rr, .e = e, .ev = o->events,
				     .shadow_kind = "drill"};
	r->server = xstrdup(c->server->name);
	r->signature = "unsigned";
}

/* --from: the bundle fetched from the offsite target into the drill's
 * work directory, verified as a restore --from verifies it; the drill then
 * takes that copy (*fetched: o with the copy as bundle, c->o points to it). */
static int fetch_from_offsite(struct drill_ctx *c, struct drill_opts *fetched)
{
	const struct drill_opts *o = c->o;
	if (make_work_dir(c, c->e) < 0)
		return -1;
	struct offsite_flow_opts fo = {.profile = c->p, .target = o->from,
				       .accept_new_host_key = o->accept_new_host_key,
				       .confirm_host_key = o->confirm_host_key, .hostkey_ud = o->hostkey_ud,
				       .dest_dir = c->rc.work, .events = o->events, .cancel = o->cancel};
	struct offsite_pull_flow_result pr;
	int rc = offsite_pull_run(&fo, o->bundle, o->identity, &pr, c->e);
	c->r->from = xstrdup(pr.target ? pr.target : o->from);
	c->r->from_object = xstrdup(pr.object);
	c->r->fetch_s = pr.report.seconds;
	if (rc == 0) {
		*fetched = *o;
		fetched->bundle = c->fetched_path = xstrdup(pr.pull.path);
		c->o = fetched;
	}
	offsite_pull_flow_result_done(&pr);
	return rc;
}

/* A fetch that failed is a failed drill: in the drill log like any other. */
static void record_fetch_failure(struct drill_ctx *c)
{
	struct drill_result *r = c->r;
	r->ok = false;
	r->error = *c->e;
	r->duration_s = util_now() - c->started;
	json_t *rec = drill_result_json(c->p, r);
	struct err ignored = {0};
	drill_log_append(c->p, rec, &r->log_path, &ignored);
	json_decref(rec);
}

int drill_run(const struct profile *p, const struct drill_opts *o, struct drill_result *r,
	      struct err *e)
{
	struct drill_ctx c;
	ctx_init(&c, p, o, r, e);
	r->started_at = util_iso_time(time(NULL));
	c.started = util_now();
	char *jname = xasprintf("%s-drill-%s", p->name, c.server->name);
	c.journal = journal_open(p->backup.dir, jname, "drill", e);
	free(jname);
	if (!c.journal) {
		ctx_done(&c);
		return -1;
	}
	c.rc.journal = c.journal;
	struct drill_opts fetched;
	if (o->from && fetch_from_offsite(&c, &fetched) < 0) {
		record_fetch_failure(&c);
		ctx_done(&c);
		return -1;
	}
	struct flow_run_opts ro = {.events = o->events, .cancel = o->cancel, .yes = true};
	int rc = flow_run(&drill_flow, &c, &ro, &r->report, e);
	ctx_done(&c);
	r->duration_s = r->report.seconds + r->fetch_s;
	return rc;
}

/* --from's plan: the fetch's, then the drill's steps (their details need
 * the bundle: they follow the fetch). */
static int plan_from_offsite(const struct profile *p, const struct drill_opts *o, struct plan *plan,
			     struct err *e)
{
	struct offsite_flow_opts fo = {.profile = p, .target = o->from, .dest_dir = "the drill's work directory"};
	if (offsite_pull_plan(&fo, o->bundle, o->identity, plan, e) < 0)
		return -1;
	char *title = xasprintf("drill %s from offsite target %s", o->bundle ? o->bundle : "the newest full bundle",
				o->from);
	free(plan->title);
	plan->title = title;
	for (size_t i = 0; i < sizeof drill_steps / sizeof drill_steps[0]; i++)
		if (strcmp(drill_steps[i].id, "load") != 0 || !o->check_only)
			plan_add(plan, drill_steps[i].id, drill_steps[i].title, "on the fetched copy");
	plan_add(plan, drill_record.id, drill_record.title, "the copy removed with the work directory");
	return 0;
}

int drill_plan(const struct profile *p, const struct drill_opts *o, struct plan *plan, struct err *e)
{
	if (o->from)
		return plan_from_offsite(p, o, plan, e);
	struct drill_result r;
	struct drill_ctx c;
	ctx_init(&c, p, o, &r, e);
	int rc = flow_plan(&drill_flow, &c, plan, e);
	ctx_done(&c);
	drill_result_done(&r);
	return rc;
}

void drill_result_done(struct drill_result *r)
{
	free(r->bundle);
	manifest_done(&r->manifest);
	free(r->server), free(r->scratch), free(r->connect), free(r->started_at), free(r->bundle_created);
	free(r->content_note);
	free(r->from), free(r->from_object);
	content_result_done(&r->content);
	for (size_t i = 0; i < r->nchecks; i++) {
		free(r->checks[i].name), free(r->checks[i].expect);
		free(r->checks[i].got), free(r->checks[i].error);
	}
	free(r->checks);
	flow_report_done(&r->report);
	free(r->log_path);
	memset(r, 0, sizeof *r);
}
