/* flow_migrate — move the application to a new server over SSH, and prove
 * it worked. A table of steps (core/step.h):
 *
 *  preflight  SSH (host key checked), the target's OS/arch, free disk,
 *             pg_restore not older than pg_dump here, a ferry there
 *  ferry      this binary copied there when it has none (and the platform fits)
 *  lock       the target's lock
 *  (confirm)  when the target already has the database: type its name
 *  backup     a bundle here (type migrate, roles included)
 *  copy       resumable, hash-checked upload into the target's backup dir
 *  restore    `ferry restore` there with the target's settings on stdin;
 *             its events are re-emitted here, live
 *  registry   the connection registry: new primary, old fallback, notice
 *  services   the target's restart commands
 *  checks     health URLs; schema revision and per-table rows, both sides
 *  log        migration_log.json and a summary file in log_dir, whatever happened
 *
 * Finished steps are recorded in <log_dir>/.ferry-migrate-<target>.json, so
 * a re-run skips them and the copy resumes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flow/backup.h"
#include "flow/verify.h"
#include "flow/migrate.h"
#include "flow/counts.h"
#include "flow/flow.h"
#include "flow/migrate_target.h"
#include "fsx.h"
#include "http.h"
#include "lock.h"
#include "registry.h"
#include "remote.h"
#include "ssh/ssh.h"
#include "step.h"
#include "util.h"

struct migrate_ctx {
	const struct profile *from, *to;
	const struct migrate_opts *o;
	struct migrate_result *r;
	struct err *e;
	const struct event_sink *ev;
	double started;
	time_t started_wall;

	sshc_conn *ssh;
	char *remote_uname;
	char *remote_ferry;       /* NULL until there is one */
	char *old_remote_version; /* an older ferry found there */
	char *target_json;        /* the target profile, as written, for the remote ferry */
	int64_t source_bytes;     /* the database here, for the space estimate */
	bool locked;
	struct manifest manifest; /* of the bundle */
	char *state_path;
	char *confirm_note;       /* what the target holds, when asked to replace it */
};

/* --- the target profile as text ------------------------------------------- */

/* {"<to>": {...}} exactly as written in the profiles file: the remote
 * ferry expands ${VAR} from its own environment and env file. */
static int target_profile_json(struct migrate_ctx *c)
{
	json_error_t jerr;
	json_t *all = json_load_file(c->to->file, 0, &jerr);
	json_t *mine = json_object_get(all, c->to->name);
	if (!json_is_object(mine)) {
		json_decref(all);
		return err_set(c->e, ERR_PROFILE, "cannot read profile %s from %s again", c->to->name,
			       c->to->file);
	}
	json_t *wrap = json_object();
	json_object_set(wrap, c->to->name, mine);
	c->target_json = json_dumps(wrap, JSON_COMPACT);
	json_decref(wrap);
	json_decref(all);
	return c->target_json ? 0 : err_set(c->e, ERR_FAILED, "cannot encode profile %s", c->to->name);
}

static struct remote_ferry remote_of(const struct migrate_ctx *c)
{
	return (struct remote_ferry){.ssh = c->ssh, .path = c->remote_ferry,
				     .profiles_json = c->target_json, .profile = c->to->name};
}

/* --- preflight -------------------------------------------------------------- */

static int connect_target(struct migrate_ctx *c)
{
	if (!c->to->has_ssh) {
		err_set(c->e, ERR_PROFILE, "profile %s has no ssh section: ferry migrate reaches the new "
			"server over SSH", c->to->name);
		return err_hint(c->e, "add \"ssh\": {\"host\": ..., \"user\": ...} to profile %s", c->to->name);
	}
	struct sshc_connect_opts so = {
		.accept_new_host_key = c->o->accept_new_host_key,
		.confirm_new_key = c->o->confirm_host_key,
		.confirm_ud = c->o->hostkey_ud,
		.events = c->ev,
	};
	c->ssh = sshc_connect(c->to, &so, c->e);
	return c->ssh ? 0 : -1;
}

static void read_source_size(struct migrate_ctx *c)
{
	struct err ignored = {0};
	db_conn *db = db_connect(c->from->database.url, &ignored);
	struct db_info info = {0};
	if (db && db_get_info(db, &info, &ignored) == 0)
		c->source_bytes = info.size_bytes;
	db_info_done(&info);
	db_close(db);
}

static int prepare(void *ctx, struct err *e)
{
	struct migrate_ctx *c = ctx;
	if (target_profile_json(c) < 0 || connect_target(c) < 0)
		return -1;
	c->remote_uname = migrate_target_uname(c->ssh, e);
	if (!c->remote_uname)
		return -1;
	event_log(c->ev, EV_INFO, "target: %s (%s)", sshc_target(c->ssh), c->remote_uname);
	c->remote_ferry = migrate_target_find_ferry(c->ssh, c->to, &c->old_remote_version);
	if (c->remote_ferry)
		event_log(c->ev, EV_INFO, "ferry on the target: %s", c->remote_ferry);
	else if (c->old_remote_version)
		event_log(c->ev, EV_WARN, "ferry %s on the target is older than %s", c->old_remote_version,
			  FERRY_VERSION);
	read_source_size(c);
	return 0;
}

/* Room there for the bundle and its restore. need 0 = only report it. */
static int check_target_space(struct migrate_ctx *c, uint64_t need, struct err *e)
{
	uint64_t avail;
	if (migrate_target_free_space(c->ssh, c->to->backup.dir, &avail, e) < 0)
		return -1;
	char a[32], n[32];
	event_log(c->ev, EV_INFO, "target free space in %s: %s", c->to->backup.dir,
		  util_human_bytes(avail, a, sizeof a));
	if (!need || avail >= need)
		return 0;
	err_set(e, ERR_SPACE, "not enough space on %s in %s: need about %s (bundle and restore), %s free",
		sshc_target(c->ssh), c->to->backup.dir, util_human_bytes(need, n, sizeof n), a);
	return err_hint(e, "free space on the new server, or point its backup.dir at a larger disk");
}

/* pg_restore there, and room for at least the database's size. */
static int check_target(void *ctx, struct err *e)
{
	struct migrate_ctx *c = ctx;
	if (migrate_target_check_pg_restore(c->ssh, e) < 0)
		return -1;
	return check_target_space(c, (uint64_t)c->source_bytes, e);
}

static char *plan_title(void *ctx)
{
	const struct migrate_ctx *c = ctx;
	return xasprintf("migrate %s to %s (%s)", c->from->name, c->to->name, sshc_target(c->ssh));
}

static char *preflight_note(void *ctx)
{
	const struct migrate_ctx *c = ctx;
	return xasprintf("%s ready (%s)", sshc_target(c->ssh), c->remote_uname);
}

/* --- ferry there -------------------------------------------------------------- */

static bool needs_ferry(void *ctx)
{
	return ((struct migrate_ctx *)ctx)->remote_ferry == NULL;
}

/* This binary can only be copied to the same OS and architecture. */
static int check_ferry_copy(void *ctx, struct err *e)
{
	const struct migrate_ctx *c = ctx;
	if (migrate_target_can_run_here(c->remote_uname))
		return 0;
	err_set(e, ERR_TOOL, "ferry %s is missing on %s, and this binary cannot run there (%s)",
		FERRY_VERSION, sshc_target(c->ssh), c->remote_uname);
	return err_hint(e, "install ferry there: git clone ...; make deps && make && make install");
}

static char *ferry_detail(void *ctx)
{
	const struct migrate_ctx *c = ctx;
	char *path = migrate_target_ferry_path(c->to);
	char *d = xasprintf("to %s:%s (ldd checks its libraries there)", sshc_target(c->ssh), path);
	free(path);
	return d;
}

static int confirm_copy(struct migrate_ctx *c, struct err *e)
{
	if (c->o->yes)
		return 0;
	struct plan plan;
	plan_init(&plan, "copy ferry to the new server");
	char *d = ferry_detail(c);
	plan_add(&plan, "ferry", "copy this ferry binary", "%s", d);
	free(d);
	int rc = c->o->confirm ? c->o->confirm(c->o->confirm_ud, &plan, "copy", e)
			       : err_set(e, ERR_REFUSED, "ferry is missing on %s", sshc_target(c->ssh));
	plan_done(&plan);
	if (rc < 0 && !e->hint[0])
		err_hint(e, "install ferry there, or re-run with --yes to copy this binary");
	return rc;
}

static int step_ferry(void *ctx, struct step_run *sr, struct err *e)
{
	struct migrate_ctx *c = ctx;
	if (confirm_copy(c, e) < 0 ||
	    migrate_target_copy_ferry(c->ssh, c->to, c->ev, c->o->cancel, e) < 0)
		return -1;
	c->remote_ferry = migrate_target_ferry_path(c->to);
	step_note(sr, "%s", c->remote_ferry);
	return STEP_DONE;
}

/* --- lock ----------------------------------------------------------------------- */

static char *lock_detail(void *ctx)
{
	const struct migrate_ctx *c = ctx;
	return xasprintf("%s:%s/%s", sshc_target(c->ssh), c->to->backup.dir, LOCK_FILE);
}

static int step_lock(void *ctx, struct step_run *sr, struct err *e)
{
	struct migrate_ctx *c = ctx;
	char *old = NULL;
	if (lock_acquire(c->ssh, c->to->backup.dir, "migrate", c->o->break_lock, &old, e) < 0)
		return -1;
	c->locked = true;
	flow_note_takeover(step_events(sr), old);
	step_note(sr, "%s locked", sshc_target(c->ssh));
	return STEP_DONE;
}

/* --- confirmation ---------------------------------------------------------------- */

/* A database that already exists on the target is replaced by the restore
 * there (kept as <db>_prev_<time>, after a safety backup on the target):
 * that is asked like a restore here is. A new server asks nothing. */
static char *confirm_word(void *ctx)
{
	struct migrate_ctx *c = ctx;
	struct remote_ferry rf = remote_of(c);
	struct remote_run_opts ro = {.cancel = c->o->cancel};
	struct err probe = {0};
	json_t *res = NULL;
	struct counts_result counts = {0};
	if (remote_ferry_run(&rf, "counts --json", &ro, &res, &probe) < 0 || !res ||
	    remote_counts_parse(res, &counts, &probe) < 0) {
		json_decref(res);
		counts_result_done(&counts);
		return NULL;   /* no database there yet: the restore's preflight says more */
	}
	long long rows = 0;
	for (size_t i = 0; i < counts.tables.n; i++)
		rows += counts.tables.v[i].rows;
	char *db = profile_db_name(c->to);
	free(c->confirm_note);
	c->confirm_note = xasprintf("%s on %s already has %zu tables, %lld rows", db, sshc_host(c->ssh),
				    counts.tables.n, rows);
	json_decref(res);
	counts_result_done(&counts);
	return db;
}

/* --- backup and copy -------------------------------------------------------- */

static char *backup_detail(void *ctx)
{
	const struct migrate_ctx *c = ctx;
	char *db = profile_redact_url(c->from->database.url);
	char *d = xasprintf("%s%s%s into %s", db, c->from->has_app ? " + files of " : "",
			    c->from->has_app ? c->from->app.root : "", c->from->backup.dir);
	free(db);
	return d;
}

/* The bundle an earlier run made is still there and sound. */
static bool backup_still_done(void *ctx, struct step_run *sr)
{
	struct migrate_ctx *c = ctx;
	const char *prev = json_string_value(json_object_get(step_resume_data(sr), "bundle"));
	if (!prev || access(prev, R_OK) != 0)
		return false;
	struct verify_opts vo = {.cancel = c->o->cancel};
	struct verify_result vr;
	struct err ignored = {0};
	bool ok = verify_run(prev, &vo, &vr, &ignored) == 0;
	if (ok) {
		c->manifest = vr.manifest;
		memset(&vr.manifest, 0, sizeof vr.manifest);
		c->r->bundle = xstrdup(prev);
		strv_push(&c->r->skipped, "backup");
	}
	verify_result_done(&vr);
	return ok;
}

static int step_backup(void *ctx, struct step_run *sr, struct err *e)
{
	struct migrate_ctx *c = ctx;
	struct step_child child;
	struct backup_opts bo = {.type = "migrate", .globals = true, .no_prune = true,
				 .events = step_child_sink(&child, c->ev, "backup"), .cancel = c->o->cancel};
	struct backup_result br;
	int rc = backup_run(c->from, &bo, &br, e);
	if (rc == 0) {
		c->r->bundle = xstrdup(br.path);
		c->manifest = br.manifest;
		memset(&br.manifest, 0, sizeof br.manifest);
		json_object_set_new(step_resume_data(sr), "bundle", json_string(br.path));
		step_note(sr, "%s", br.path);
	}
	backup_result_done(&br);
	return rc < 0 ? -1 : STEP_DONE;
}

static char *copy_detail(void *ctx)
{
	const struct migrate_ctx *c = ctx;
	return xasprintf("to %s:%s (resumable, SHA-256 checked)", sshc_target(c->ssh), c->to->backup.dir);
}

static void name_remote_bundle(struct migrate_ctx *c)
{
	if (c->r->remote_bundle)
		return;
	const char *base = strrchr(c->r->bundle, '/');
	c->r->remote_bundle = xasprintf("%s/%s", c->to->backup.dir, base ? base + 1 : c->r->bundle);
}

static bool copy_still_done(void *ctx, struct step_run *sr)
{
	(void)sr;
	name_remote_bundle(ctx);
	return true;
}

static int step_copy(void *ctx, struct step_run *sr, struct err *e)
{
	struct migrate_ctx *c = ctx;
	name_remote_bundle(c);
	if (check_target_space(c, manifest_total_bytes(&c->manifest) * 2, e) < 0)
		return -1;
	struct sshc_upload_opts uo = {.events = c->ev, .step = "copy", .cancel = c->o->cancel};
	struct sshc_upload_result ur;
	if (sshc_upload(c->ssh, c->r->bundle, c->r->remote_bundle, &uo, &ur, e) < 0)
		return -1;
	char sz[32];
	step_note(sr, "%s, %s in %.1f s%s", c->r->remote_bundle, util_human_bytes(ur.bytes, sz, sizeof sz),
		  ur.seconds, ur.resumed_from ? " (resumed)" : "");
	return STEP_DONE;
}

/* --- remote restore --------------------------------------------------------- */

static char *restore_detail(void *ctx)
{
	const struct migrate_ctx *c = ctx;
	char *tdb = profile_redact_url(c->to->database.url);
	char *d = xasprintf("ferry restore there into %s (verify, safety backup, shadow, row-count gate, swap)",
			    tdb);
	free(tdb);
	return d;
}

static int step_restore(void *ctx, struct step_run *sr, struct err *e)
{
	struct migrate_ctx *c = ctx;
	struct remote_ferry rf = remote_of(c);
	struct remote_run_opts ro = {.events = c->ev, .step_prefix = "restore", .cancel = c->o->cancel};
	char *qb = sshc_quote(c->r->remote_bundle);
	char *args = xasprintf("restore %s --yes --json", qb);
	json_t *res = NULL;
	struct remote_restore rr = {0};
	int rc = remote_ferry_run(&rf, args, &ro, &res, e);
	free(args), free(qb);
	if (rc == 0 && !res)
		rc = err_set(e, ERR_FAILED, "`ferry restore` on %s printed no result", sshc_host(c->ssh));
	if (rc == 0)
		rc = remote_restore_parse(res, &rr, e);
	json_decref(res);
	if (rc < 0)
		return err_prefix(e, "remote restore");
	step_note(sr, "%lld rows checked on %s", rr.total_rows, sshc_host(c->ssh));
	remote_restore_done(&rr);
	return STEP_DONE;
}

/* --- registry, services ----------------------------------------------------- */

static const char *registry_file(const struct migrate_ctx *c)
{
	if (c->to->has_registry && c->to->registry.file)
		return c->to->registry.file;
	if (c->from->has_registry && c->from->registry.file)
		return c->from->registry.file;
	return NULL;
}

static bool has_registry(void *ctx)
{
	return registry_file(ctx) != NULL;
}

static char *registry_detail(void *ctx)
{
	return xstrdup(registry_file(ctx));
}

static int step_registry(void *ctx, struct step_run *sr, struct err *e)
{
	struct migrate_ctx *c = ctx;
	const char *path = registry_file(c);
	const char *primary = c->to->registry.primary_url ? c->to->registry.primary_url : c->to->database.url;
	char *safe_primary = profile_redact_url(primary);
	struct registry_update u = {
		.primary_url = safe_primary,
		.fallback_url = c->to->registry.fallback_url ? c->to->registry.fallback_url
							    : c->from->registry.primary_url,
		.grace_period = c->to->registry.grace_period,
		.from = c->from->name, .to = c->to->name, .now = time(NULL),
	};
	int rc = registry_rewrite(path, &u, e);
	free(safe_primary);
	if (rc < 0)
		return -1;
	c->r->registry_file = xstrdup(path);
	step_note(sr, "%s", path);
	return STEP_DONE;
}

static bool has_services(void *ctx)
{
	return ((struct migrate_ctx *)ctx)->to->services.restart.n > 0;
}

static char *services_detail(void *ctx)
{
	return xasprintf("%zu command(s)", ((struct migrate_ctx *)ctx)->to->services.restart.n);
}

struct remote_log {
	struct migrate_ctx *c;
	struct sshc_lines lines;
};

static void service_line(void *ud, const char *line)
{
	struct remote_log *rl = ud;
	event_log(rl->c->ev, EV_INFO, "[%s] %s", sshc_host(rl->c->ssh), line);
}

static int run_service_command(struct migrate_ctx *c, const char *root, const char *command,
			       struct err *e)
{
	event_log(c->ev, EV_INFO, "[%s] $ %s", sshc_host(c->ssh), command);
	char *cmd = xasprintf("cd %s 2>/dev/null; %s", root, command);
	struct remote_log rl = {.c = c, .lines = {.on_line = service_line}};
	rl.lines.ud = &rl;
	struct sshc_exec_info info = {0};
	struct sshc_exec_opts o = {.on_stdout = sshc_lines_feed, .on_stderr = sshc_lines_feed,
				   .ud = &rl.lines, .cancel = c->o->cancel, .timeout_s = 600,
				   .info = &info};
	int status = 0;
	int rc = sshc_exec(c->ssh, cmd, &o, &status, e);
	sshc_lines_flush(&rl.lines);
	if (rc == 0 && status != 0)
		rc = err_set(e, ERR_FAILED, "restart command `%s` on %s exited with status %d",
			     command, sshc_target(c->ssh), status);
	free(cmd);
	return rc;
}

static int step_services(void *ctx, struct step_run *sr, struct err *e)
{
	struct migrate_ctx *c = ctx;
	(void)sr;
	const struct strv *cmds = &c->to->services.restart;
	char *root = sshc_quote(c->to->has_app ? c->to->app.root : "/");
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < cmds->n; i++)
		rc = run_service_command(c, root, cmds->v[i], e);
	free(root);
	return rc < 0 ? -1 : STEP_DONE;
}

/* --- checks ------------------------------------------------------------------- */

static int compare_counts(struct migrate_ctx *c, const struct counts_result *there, struct err *e)
{
	const char *rev = there->schema_revision;
	const char *want = c->manifest.schema_revision ? c->manifest.schema_revision : "unknown";
	if (strcmp(rev ? rev : "unknown", want) != 0)
		return err_set(e, ERR_VERIFY, "schema revision differs: here %s, on %s %s", want,
			       sshc_host(c->ssh), rev ? rev : "unknown");
	size_t bad = 0;
	for (size_t i = 0; i < c->manifest.ntables; i++) {
		const struct manifest_table *t = &c->manifest.tables[i];
		long long got = -1;
		for (size_t j = 0; j < there->tables.n; j++)
			if (strcmp(there->tables.v[j].schema, t->schema) == 0 &&
			    strcmp(there->tables.v[j].table, t->table) == 0)
				got = there->tables.v[j].rows;
		if (got == t->rows)
			continue;
		if (!bad++)
			err_set(e, ERR_VERIFY, "%s.%s: %lld rows here (snapshot), %lld on %s", t->schema,
				t->table, (long long)t->rows, got, sshc_host(c->ssh));
	}
	return bad ? -1 : 0;
}

static char *checks_detail(void *ctx)
{
	return xasprintf("%zu health URL(s)", ((struct migrate_ctx *)ctx)->to->nhealth);
}

static int step_checks(void *ctx, struct step_run *sr, struct err *e)
{
	struct migrate_ctx *c = ctx;
	for (size_t i = 0; i < c->to->nhealth; i++)
		if (http_wait_healthy(&c->to->health[i], c->ev, c->o->cancel, e) < 0)
			return -1;
	struct remote_ferry rf = remote_of(c);
	struct remote_run_opts ro = {.cancel = c->o->cancel};
	json_t *res = NULL;
	struct counts_result there = {0};
	int rc = remote_ferry_run(&rf, "counts --json", &ro, &res, e);
	if (rc == 0 && !res)
		rc = err_set(e, ERR_FAILED, "`ferry counts` on %s printed no result", sshc_host(c->ssh));
	if (rc == 0)
		rc = remote_counts_parse(res, &there, e);
	if (rc == 0)
		rc = compare_counts(c, &there, e);
	json_decref(res);
	counts_result_done(&there);
	if (rc < 0)
		return -1;
	step_note(sr, "%zu health check(s) ok; revision %s and %zu tables equal on both sides",
		  c->to->nhealth, c->manifest.schema_revision ? c->manifest.schema_revision : "unknown",
		  c->manifest.ntables);
	return STEP_DONE;
}

/* --- the log ------------------------------------------------------------------ */

static char *summary_text(const struct migrate_ctx *c, const struct flow_report *rep,
			  const char *status, const char *error)
{
	char *when = util_iso_time(c->started_wall);
	char *lines = flow_report_text(rep, "\n  ");
	char *text = xasprintf("ferry migration %s → %s: %s\n"
			       "  started %s, %.1f s\n  from %s (profile %s)\n  to %s (profile %s)\n"
			       "  bundle %s\n  on the target %s\n  %s\n%s%s%s",
			       c->from->name, c->to->name, status, when, util_now() - c->started,
			       c->r->bundle ? c->r->bundle : "-", c->from->name,
			       c->ssh ? sshc_target(c->ssh) : "-", c->to->name,
			       c->r->bundle ? c->r->bundle : "-",
			       c->r->remote_bundle ? c->r->remote_bundle : "-", lines,
			       error ? "  error: " : "", error ? error : "", error ? "\n" : "");
	free(when);
	free(lines);
	return text;
}

static json_t *log_record(const struct migrate_ctx *c, const char *status, const char *error)
{
	json_t *tables = json_object();
	for (size_t i = 0; i < c->manifest.ntables; i++) {
		char *k = xasprintf("%s.%s", c->manifest.tables[i].schema, c->manifest.tables[i].table);
		json_object_set_new(tables, k, json_integer(c->manifest.tables[i].rows));
		free(k);
	}
	char *when = util_iso_time(c->started_wall);
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:f}",
		"status", status, "started_at", when, "from", c->from->name, "to", c->to->name,
		"target", c->ssh ? sshc_target(c->ssh) : "",
		"bundle", c->r->bundle ? json_string(c->r->bundle) : json_null(),
		"schema_revision", c->manifest.schema_revision ? json_string(c->manifest.schema_revision)
							       : json_null(),
		"tables", tables, "error", error ? json_string(error) : json_null(),
		"duration_s", util_now() - c->started);
	free(when);
	return rec;
}

static char *log_detail(void *ctx)
{
	return xasprintf("%s/migration_log.json", ((struct migrate_ctx *)ctx)->from->log_dir);
}

static int step_log(void *ctx, struct step_run *sr, struct err *e)
{
	struct migrate_ctx *c = ctx;
	const struct err *failure = step_failure(sr);
	const char *status = failure ? "failed" : "success";
	const char *error = failure ? failure->msg : NULL;
	if (fsx_mkdir_p(c->from->log_dir, 0700, e) < 0)
		return -1;
	char *stamp = util_stamp(c->started_wall);
	c->r->log_file = xasprintf("%s/migration_log.json", c->from->log_dir);
	c->r->summary_file = xasprintf("%s/migration_%s_%s.txt", c->from->log_dir, c->to->name, stamp);
	free(stamp);
	json_t *rec = log_record(c, status, error);
	flow_json_log_append(c->r->log_file, rec, NULL);
	json_decref(rec);
	c->r->summary = summary_text(c, step_report(sr), status, error);
	flow_write_text(c->r->summary_file, c->r->summary, NULL);
	step_note(sr, "%s", c->r->log_file);
	return STEP_DONE;
}

/* --- the flow ------------------------------------------------------------------ */

/* What each side looks like when step failed, and how to go on. */
static void failed(void *ctx, const char *step, struct err *e)
{
	struct migrate_ctx *c = ctx;
	if (e->kind == ERR_LOCK)
		return;
	if (e->kind == ERR_REFUSED && c->confirm_note) {
		err_prefix(e, "%s", c->confirm_note);
		char *db = profile_db_name(c->to);
		err_hint(e, "re-run with --yes to replace it (the old one is kept as %s_prev_<time> there)", db);
		free(db);
		return;
	}
	const char *state;
	if (!strcmp(step, STEP_PREFLIGHT) || !strcmp(step, "ferry") || !strcmp(step, "lock") ||
	    !strcmp(step, "backup"))
		state = "nothing changed on either side";
	else if (!strcmp(step, "copy"))
		state = "this server is unchanged; the copy resumes where it stopped";
	else if (!strcmp(step, "restore"))
		state = "this server is unchanged; the target database was not swapped";
	else
		state = "the target holds the restored data; this server is unchanged";
	char *old = xstrdup(e->hint);
	err_hint(e, "%s%s%s. Fix the cause, then `ferry migrate --target %s` continues%s", old,
		 old[0] ? ". " : "", state, c->to->name,
		 strcmp(step, "registry") && strcmp(step, "services") && strcmp(step, "checks") ? "" :
		 "; on the target `ferry rollback` undoes the restore");
	free(old);
}

static const struct step migrate_steps[] = {
	{.id = "ferry", .title = "copy this ferry to the new server", .applies = needs_ferry,
	 .check = check_ferry_copy, .detail = ferry_detail, .run = step_ferry},
	{.id = "lock", .title = "lock the new server", .check = check_target, .detail = lock_detail,
	 .run = step_lock},
	{.id = "backup", .title = "back up here", .detail = backup_detail, .run = step_backup,
	 .asks = true, .resumable = true, .still_done = backup_still_done},
	{.id = "copy", .title = "copy the bundle to the new server", .detail = copy_detail,
	 .run = step_copy, .resumable = true, .still_done = copy_still_done},
	{.id = "restore", .title = "restore on the new server", .detail = restore_detail,
	 .run = step_restore, .destructive = true, .resumable = true},
	{.id = "registry", .title = "rewrite the connection registry", .applies = has_registry,
	 .detail = registry_detail, .run = step_registry, .resumable = true},
	{.id = "services", .title = "restart services on the new server", .applies = has_services,
	 .detail = services_detail, .run = step_services},
	{.id = "checks", .title = "health, schema revision and row counts on both sides",
	 .detail = checks_detail, .run = step_checks},
};

static const struct step migrate_log_step = {.id = "log", .title = "write the migration log",
					     .detail = log_detail, .run = step_log};

static const struct flow_def migrate_flow = {
	.name = "migrate",
	.steps = migrate_steps,
	.nsteps = sizeof migrate_steps / sizeof migrate_steps[0],
	.prepare = prepare,
	.title = plan_title,
	.preflight_note = preflight_note,
	.confirm_word = confirm_word,
	.failed = failed,
	.finally = &migrate_log_step,
};

static void ctx_done(struct migrate_ctx *c)
{
	if (c->locked)
		lock_release(c->ssh, c->to->backup.dir);
	sshc_free(c->ssh);
	free(c->remote_uname);
	free(c->remote_ferry);
	free(c->old_remote_version);
	free(c->target_json);
	manifest_done(&c->manifest);
	free(c->state_path);
	free(c->confirm_note);
}

int migrate_run(const struct profile *from, const struct profile *to, const struct migrate_opts *o,
		struct migrate_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	struct migrate_ctx c = {.from = from, .to = to, .o = o, .r = r, .e = e, .ev = o->events};
	c.started = util_now();
	c.started_wall = time(NULL);
	c.state_path = xasprintf("%s/.ferry-migrate-%s.json", from->log_dir, to->name);
	fsx_mkdir_p(from->log_dir, 0700, NULL);
	struct flow_run_opts ro = {.events = o->events, .cancel = o->cancel, .yes = o->yes,
				   .confirm = o->confirm, .confirm_ud = o->confirm_ud,
				   .resume_path = c.state_path};
	struct flow_report rep = {0};
	int rc = flow_run(&migrate_flow, &c, &ro, &rep, e);
	ctx_done(&c);
	r->duration_s = rep.seconds;   /* the confirmation's time left out */
	flow_report_done(&rep);
	return rc;
}

int migrate_plan(const struct profile *from, const struct profile *to, const struct migrate_opts *o,
		 struct plan *plan, struct err *e)
{
	struct migrate_result r = {0};
	struct migrate_ctx c = {.from = from, .to = to, .o = o, .r = &r, .e = e, .ev = o->events};
	int rc = flow_plan(&migrate_flow, &c, plan, e);
	ctx_done(&c);
	migrate_result_done(&r);
	return rc;
}

void migrate_result_done(struct migrate_result *r)
{
	free(r->bundle), free(r->remote_bundle), free(r->registry_file);
	free(r->log_file), free(r->summary_file), free(r->summary);
	strv_done(&r->skipped);
	memset(r, 0, sizeof *r);
}
