/* flow_migrate — move the application to a new server over SSH, and prove
 * it worked.
 *
 *  preflight  SSH (host key checked), remote OS/arch/disk, pg_restore there
 *             not older than pg_dump here, ferry there (copied when missing
 *             and the arch and libraries fit); the target locked
 *  backup     a bundle here (type migrate, roles included)
 *  copy       resumable, hash-checked upload into the target's backup dir
 *  restore    `ferry restore` there with the target's settings on stdin;
 *             its JSON-line events are re-emitted here, live
 *  registry   the connection registry: new primary, old fallback, notice
 *  services   the target's restart commands
 *  checks     health URLs; schema revision and per-table rows, both sides
 *  log        migration_log.json and a summary file in log_dir
 *
 * Finished steps are recorded in <log_dir>/.ferry-migrate-<target>.json, so
 * a re-run skips them and the copy resumes. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "fsx.h"
#include "flow.h"
#include "flow_util.h"
#include "http.h"
#include "lock.h"
#include "registry.h"
#include "ssh/ssh.h"

struct migrate_ctx {
	const struct profile *from, *to;
	const struct migrate_opts *o;
	struct migrate_result *r;
	struct err *e;
	const struct event_sink *ev;
	char step[32];
	double started;
	time_t started_wall;

	sshc_conn *ssh;
	char *remote_ferry;
	char *target_json;        /* the target profile, as written, for the remote ferry */
	bool locked;
	struct manifest manifest; /* of the bundle */
	char *state_path;
	json_t *state;            /* {"bundle": ..., "done": [...]} */
	char remote_stderr[2048];
	struct strv report;       /* lines for the summary */
};

/* --- steps bookkeeping ------------------------------------------------------ */

static void step_start(struct migrate_ctx *c, const char *id, const char *title)
{
	snprintf(c->step, sizeof c->step, "%s", id);
	event_step_start(c->ev, id, title);
}

static bool step_was_done(const struct migrate_ctx *c, const char *id)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(c->state, "done"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
			return true;
	return false;
}

static void save_state(const struct migrate_ctx *c)
{
	if (fsx_mkdir_p(c->from->log_dir, 0700, NULL) == 0)
		flow_json_write(c->state_path, c->state, NULL);
}

static void step_done(struct migrate_ctx *c, const char *note)
{
	event_step_done(c->ev, c->step, note);
	json_array_append_new(json_object_get(c->state, "done"), json_string(c->step));
	save_state(c);
	char *line = xasprintf("✔ %s%s%s", c->step, note ? ": " : "", note ? note : "");
	strv_push(&c->report, line);
	free(line);
	c->step[0] = '\0';
}

/* Skip a step an earlier run finished; true when skipped. */
static bool skip_if_done(struct migrate_ctx *c, const char *id)
{
	if (!step_was_done(c, id))
		return false;
	event_step_skip(c->ev, id, "done by an earlier run");
	strv_push(&c->r->skipped, id);
	return true;
}

static int check_cancel(struct migrate_ctx *c)
{
	if (!c->o->cancel || !*c->o->cancel)
		return 0;
	return err_set(c->e, ERR_INTERRUPTED, "migration interrupted");
}

static void load_state(struct migrate_ctx *c)
{
	c->state_path = xasprintf("%s/.ferry-migrate-%s.json", c->from->log_dir, c->to->name);
	c->state = json_load_file(c->state_path, 0, NULL);
	if (!json_is_object(c->state) || !json_is_array(json_object_get(c->state, "done"))) {
		json_decref(c->state);
		c->state = json_pack("{s:[]}", "done");
	}
}

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

/* First line of a remote command's output, trimmed; NULL on failure. */
static char *remote_line(struct migrate_ctx *c, const char *cmd, struct err *e)
{
	struct sshc_buf out = {0};
	int rc = sshc_run(c->ssh, cmd, &out, e);
	char *line = NULL;
	if (rc == 0) {
		line = xstrndup(out.data ? out.data : "", out.len);
		line[strcspn(line, "\n")] = '\0';
	}
	sshc_buf_done(&out);
	return line;
}

static int check_remote_arch(struct migrate_ctx *c, char **remote_uname)
{
	*remote_uname = remote_line(c, "uname -sm", c->e);
	if (!*remote_uname)
		return -1;
	event_log(c->ev, EV_INFO, "target: %s (%s)", sshc_target(c->ssh), *remote_uname);
	return 0;
}

static int check_remote_disk(struct migrate_ctx *c)
{
	char *q = sshc_quote(c->to->backup.dir);
	char *cmd = xasprintf("mkdir -p %s && df -Pk %s | tail -n 1", q, q);
	char *line = remote_line(c, cmd, c->e);
	free(cmd), free(q);
	if (!line)
		return -1;
	unsigned long long kb = 0;
	sscanf(line, "%*s %*s %*s %llu", &kb);
	free(line);
	uint64_t avail = kb * 1024;
	uint64_t need = c->manifest.nmembers ? manifest_total_bytes(&c->manifest) * 2 : 0;
	char a[32], n[32];
	event_log(c->ev, EV_INFO, "target free space in %s: %s", c->to->backup.dir,
		  util_human_bytes(avail, a, sizeof a));
	if (need && avail < need) {
		err_set(c->e, ERR_SPACE, "not enough space on %s in %s: need about %s (bundle and restore), %s free",
			sshc_target(c->ssh), c->to->backup.dir, util_human_bytes(need, n, sizeof n), a);
		return err_hint(c->e, "free space on the new server, or point its backup.dir at a larger disk");
	}
	return 0;
}

static int highest_major(const char *text)
{
	int best = 0;
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		int major, minor;
		if (dump_parse_version(p, &major, &minor) == 0 && major > best)
			best = major;
	}
	return best;
}

/* The target's newest pg_restore must not be older than our pg_dump. */
static int check_remote_pg_restore(struct migrate_ctx *c)
{
	struct pg_tool here;
	if (dump_find_tool("pg_dump", 0, &here, c->e) < 0)
		return -1;
	struct sshc_buf out = {0};
	int status = 0;
	struct sshc_exec_opts o = {.capture_stdout = &out, .timeout_s = 60};
	int rc = sshc_exec(c->ssh, "for t in /usr/lib/postgresql/*/bin/pg_restore $(command -v pg_restore); do "
			   "\"$t\" --version 2>/dev/null; done", &o, &status, c->e);
	int remote = rc == 0 && out.data ? highest_major(out.data) : 0;
	sshc_buf_done(&out);
	if (rc == 0 && remote == 0) {
		err_set(c->e, ERR_TOOL, "no pg_restore on %s", sshc_target(c->ssh));
		rc = err_hint(c->e, "install postgresql-client-%d there (apt-get install postgresql-client-%d)",
			      here.major, here.major);
	} else if (rc == 0 && remote < here.major) {
		err_set(c->e, ERR_TOOL, "pg_restore %d on %s is older than pg_dump %s here", remote,
			sshc_target(c->ssh), here.version);
		rc = err_hint(c->e, "install postgresql-client-%d on the new server", here.major);
	}
	pg_tool_done(&here);
	return rc;
}

static int version_cmp(const char *a, const char *b)
{
	int x[3] = {0}, y[3] = {0};
	sscanf(a, "%d.%d.%d", &x[0], &x[1], &x[2]);
	sscanf(b, "%d.%d.%d", &y[0], &y[1], &y[2]);
	for (int i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

/* The remote ferry's version, or NULL when it does not run. */
static char *remote_ferry_version(struct migrate_ctx *c, const char *path)
{
	char *q = sshc_quote(path);
	char *cmd = xasprintf("%s --version", q);
	struct err ignored = {0};
	char *line = remote_line(c, cmd, &ignored);
	free(cmd), free(q);
	if (!line || !str_starts(line, "ferry ")) {
		free(line);
		return NULL;
	}
	char *v = xstrdup(line + strlen("ferry "));
	free(line);
	return v;
}

static int check_remote_libraries(struct migrate_ctx *c, const char *path)
{
	char *q = sshc_quote(path);
	char *cmd = xasprintf("chmod 755 %s && ldd %s | grep 'not found' || true", q, q);
	struct sshc_buf out = {0};
	int rc = sshc_run(c->ssh, cmd, &out, c->e);
	free(cmd), free(q);
	if (rc == 0 && out.len > 0) {
		char *missing = xstrndup(out.data, out.len);
		err_set(c->e, ERR_TOOL, "ferry copied to %s lacks shared libraries: %s", sshc_target(c->ssh),
			missing);
		err_hint(c->e, "install them there: apt-get install libpq5 libssh-4 libarchive13 libjansson4 "
			 "libcurl4 libncursesw6 (or build ferry there: make && make install)");
		free(missing);
		rc = -1;
	}
	sshc_buf_done(&out);
	return rc;
}

static int confirm_copy(struct migrate_ctx *c, const char *remote_path)
{
	if (c->o->yes)
		return 0;
	struct plan plan;
	plan_init(&plan, "copy ferry to the new server");
	plan_add(&plan, "copy-ferry", "copy this ferry binary", "to %s:%s", sshc_target(c->ssh), remote_path);
	int rc = c->o->confirm ? c->o->confirm(c->o->confirm_ud, &plan, "copy", c->e)
			       : err_set(c->e, ERR_REFUSED, "ferry is missing on %s", sshc_target(c->ssh));
	plan_done(&plan);
	if (rc < 0 && !c->e->hint[0])
		err_hint(c->e, "install ferry there, or re-run with --yes to copy this binary");
	return rc;
}

/* Copy this binary when the target has no (recent enough) ferry. */
static int provide_ferry(struct migrate_ctx *c, const char *remote_uname)
{
	struct utsname u;
	uname(&u);
	char *here = xasprintf("%s %s", u.sysname, u.machine);
	bool same = strcmp(here, remote_uname) == 0;
	free(here);
	if (!same) {
		err_set(c->e, ERR_TOOL, "ferry %s is missing on %s, and this binary is for %s %s, not %s",
			FERRY_VERSION, sshc_target(c->ssh), u.sysname, u.machine, remote_uname);
		return err_hint(c->e, "install ferry there: git clone ...; make deps && make && make install");
	}
	char *path = xasprintf("%s/.ferry-bin/ferry-%s", c->to->backup.dir, FERRY_VERSION);
	int rc = confirm_copy(c, path);
	struct sshc_upload_opts uo = {.events = c->ev, .step = "preflight", .cancel = c->o->cancel};
	struct sshc_upload_result ur;
	if (rc == 0)
		rc = sshc_upload(c->ssh, "/proc/self/exe", path, &uo, &ur, c->e);
	if (rc == 0)
		rc = check_remote_libraries(c, path);
	if (rc == 0) {
		event_log(c->ev, EV_INFO, "copied ferry %s to %s", FERRY_VERSION, path);
		free(c->remote_ferry);
		c->remote_ferry = path;
	} else {
		free(path);
	}
	return rc;
}

static int check_remote_ferry(struct migrate_ctx *c, const char *remote_uname)
{
	c->remote_ferry = xstrdup(c->to->ssh.ferry_path ? c->to->ssh.ferry_path : "ferry");
	char *v = remote_ferry_version(c, c->remote_ferry);
	if (!v) {
		char *copied = xasprintf("%s/.ferry-bin/ferry-%s", c->to->backup.dir, FERRY_VERSION);
		v = remote_ferry_version(c, copied);
		if (v) {
			free(c->remote_ferry);
			c->remote_ferry = copied;
		} else {
			free(copied);
		}
	}
	if (v && version_cmp(v, FERRY_VERSION) >= 0) {
		event_log(c->ev, EV_INFO, "ferry %s on the target (%s)", v, c->remote_ferry);
		free(v);
		return 0;
	}
	if (v)
		event_log(c->ev, EV_WARN, "ferry %s on the target is older than %s", v, FERRY_VERSION);
	free(v);
	return provide_ferry(c, remote_uname);
}

static int preflight(struct migrate_ctx *c)
{
	step_start(c, "preflight", "check both ends and lock the target");
	char *remote_uname = NULL;
	int rc = target_profile_json(c);
	if (rc == 0)
		rc = connect_target(c);
	if (rc == 0)
		rc = check_remote_arch(c, &remote_uname);
	if (rc == 0)
		rc = check_remote_disk(c);
	if (rc == 0)
		rc = check_remote_pg_restore(c);
	if (rc == 0)
		rc = check_remote_ferry(c, remote_uname);
	if (rc == 0)
		rc = lock_acquire(c->ssh, c->to->backup.dir, "migrate", c->o->break_lock, c->e);
	free(remote_uname);
	if (rc < 0)
		return -1;
	c->locked = true;
	char note[256];
	snprintf(note, sizeof note, "%s ready, locked", sshc_target(c->ssh));
	event_step_done(c->ev, "preflight", note);
	c->step[0] = '\0';
	return 0;
}

/* --- backup and copy -------------------------------------------------------- */

static int reuse_bundle(struct migrate_ctx *c, const char *path)
{
	struct verify_opts vo = {.cancel = c->o->cancel};
	struct verify_result vr;
	int rc = verify_run(path, &vo, &vr, c->e);
	if (rc == 0) {
		c->manifest = vr.manifest;
		memset(&vr.manifest, 0, sizeof vr.manifest);
		c->r->bundle = xstrdup(path);
	}
	verify_result_done(&vr);
	return rc;
}

static int backup_here(struct migrate_ctx *c)
{
	const char *prev = json_string_value(json_object_get(c->state, "bundle"));
	if (step_was_done(c, "backup") && prev && access(prev, R_OK) == 0 && reuse_bundle(c, prev) == 0) {
		skip_if_done(c, "backup");
		return check_remote_disk(c);
	}
	json_object_set_new(c->state, "done", json_array());
	step_start(c, "backup", "back up here");
	struct backup_opts bo = {.type = "migrate", .globals = true, .no_prune = true,
				 .events = c->ev, .cancel = c->o->cancel};
	struct backup_result br;
	int rc = backup_run(c->from, &bo, &br, c->e);
	if (rc == 0) {
		c->r->bundle = xstrdup(br.path);
		c->manifest = br.manifest;
		memset(&br.manifest, 0, sizeof br.manifest);
		json_object_set_new(c->state, "bundle", json_string(br.path));
	}
	backup_result_done(&br);
	if (rc < 0)
		return -1;
	step_done(c, c->r->bundle);
	return check_remote_disk(c);
}

static int copy_bundle(struct migrate_ctx *c)
{
	const char *base = strrchr(c->r->bundle, '/');
	c->r->remote_bundle = xasprintf("%s/%s", c->to->backup.dir, base ? base + 1 : c->r->bundle);
	if (skip_if_done(c, "copy"))
		return 0;
	step_start(c, "copy", "copy the bundle to the new server");
	struct sshc_upload_opts uo = {.events = c->ev, .step = "copy", .cancel = c->o->cancel};
	struct sshc_upload_result ur;
	if (sshc_upload(c->ssh, c->r->bundle, c->r->remote_bundle, &uo, &ur, c->e) < 0)
		return -1;
	char note[256], sz[32];
	snprintf(note, sizeof note, "%s, %s in %.1f s%s", c->r->remote_bundle,
		 util_human_bytes(ur.bytes, sz, sizeof sz), ur.seconds,
		 ur.resumed_from ? " (resumed)" : "");
	step_done(c, note);
	return 0;
}

/* --- remote restore --------------------------------------------------------- */

struct remote_events {
	struct migrate_ctx *c;
	struct sshc_lines lines;
	json_t *result;
};

static enum event_type event_type_from(const char *name)
{
	for (int t = 0; t < EV_TYPE_COUNT; t++)
		if (strcmp(event_type_name((enum event_type)t), name) == 0)
			return (enum event_type)t;
	return EV_LOG;
}

/* One JSON line from the remote ferry: an event to re-emit, or the result. */
static void remote_line_in(void *ud, const char *line)
{
	struct remote_events *re = ud;
	json_t *o = json_loads(line, 0, NULL);
	if (!json_is_object(o)) {
		if (*line)
			event_log(re->c->ev, EV_INFO, "[%s] %s", sshc_host(re->c->ssh), line);
		json_decref(o);
		return;
	}
	const char *name = json_string_value(json_object_get(o, "event"));
	if (!name) {
		json_decref(re->result);
		re->result = o;
		return;
	}
	const char *level = json_string_value(json_object_get(o, "level"));
	const char *step = json_string_value(json_object_get(o, "step"));
	char *remote_step = step ? xasprintf("restore/%s", step) : NULL;
	struct event ev = {
		.type = event_type_from(name),
		.step = remote_step,
		.text = json_string_value(json_object_get(o, "text")),
		.level = level && strcmp(level, "error") == 0 ? EV_ERROR :
			 level && strcmp(level, "warn") == 0 ? EV_WARN : EV_INFO,
		.done = (uint64_t)json_integer_value(json_object_get(o, "done")),
		.total = (uint64_t)json_integer_value(json_object_get(o, "total")),
		.unit = json_string_value(json_object_get(o, "unit")),
		.origin = sshc_host(re->c->ssh),
	};
	event_emit(re->c->ev, &ev);
	free(remote_step);
	json_decref(o);
}

static char *remote_command(struct migrate_ctx *c, const char *args)
{
	char *qf = sshc_quote(c->remote_ferry);
	char *qn = sshc_quote(c->to->name);
	char *cmd = xasprintf("%s %s --profiles - --profile %s", qf, args, qn);
	free(qf), free(qn);
	return cmd;
}

static int run_remote_ferry(struct migrate_ctx *c, const char *args, struct remote_events *re)
{
	char *cmd = remote_command(c, args);
	re->c = c;
	re->lines.on_line = remote_line_in;
	re->lines.ud = re;
	struct sshc_exec_info info = {0};
	struct sshc_exec_opts o = {
		.stdin_buf = c->target_json, .stdin_len = strlen(c->target_json),
		.on_stdout = sshc_lines_feed, .ud = &re->lines,
		.cancel = c->o->cancel, .info = &info,
	};
	int status = 0;
	int rc = sshc_exec(c->ssh, cmd, &o, &status, c->e);
	sshc_lines_flush(&re->lines);
	free(cmd);
	snprintf(c->remote_stderr, sizeof c->remote_stderr, "%s", info.stderr_tail);
	if (rc == 0 && status != 0) {
		const char *msg = json_string_value(json_object_get(re->result, "message"));
		err_set(c->e, ERR_FAILED, "`ferry %s` on %s failed (exit %d): %s", args, sshc_target(c->ssh),
			status, msg ? msg : info.stderr_tail);
		rc = err_hint(c->e, "the remote said: %s", info.stderr_tail[0] ? info.stderr_tail : "(nothing)");
	}
	return rc;
}

/* Rows in the target's database, or -1 when it does not exist there (or
 * cannot be counted: the restore's own preflight says why later). */
static long long target_rows(struct migrate_ctx *c, size_t *ntables)
{
	struct remote_events re = {0};
	struct err probe = {0};
	struct err *saved = c->e;
	c->e = &probe;
	int rc = run_remote_ferry(c, "counts --json", &re);
	c->e = saved;
	json_t *tables = re.result ? json_object_get(re.result, "tables") : NULL;
	long long rows = rc == 0 && json_is_array(tables) ?
		json_integer_value(json_object_get(re.result, "total_rows")) : -1;
	*ntables = json_is_array(tables) ? json_array_size(tables) : 0;
	json_decref(re.result);
	return rows;
}

/* A database that already exists on the target is replaced by the restore
 * there (kept as <db>_prev_<time>, after a safety backup on the target):
 * that is asked like a restore here is, unless --yes. A new server (no
 * database yet) asks nothing. */
static int confirm_replace_target(struct migrate_ctx *c)
{
	if (c->o->yes || step_was_done(c, "restore"))
		return 0;
	size_t ntables = 0;
	long long rows = target_rows(c, &ntables);
	if (rows < 0)
		return 0;
	char *db = profile_db_name(c->to);
	snprintf(c->step, sizeof c->step, "%s", "confirm");
	event_step_start(c->ev, "confirm", "confirm replacing the database on the new server");
	struct plan plan;
	plan_init(&plan, "replace the database on the new server");
	plan_add(&plan, "replace", "replace the existing database there",
		 "%s on %s already has %zu tables, %lld rows; a safety backup is made there and "
		 "the old database is kept as %s_prev_<time>", db, sshc_host(c->ssh), ntables, rows, db);
	int rc = c->o->confirm ? c->o->confirm(c->o->confirm_ud, &plan, db, c->e)
			       : err_set(c->e, ERR_REFUSED, "database %s already exists on %s", db,
					 sshc_host(c->ssh));
	if (rc < 0) {
		err_prefix(c->e, "%s on %s already has %zu tables, %lld rows", db, sshc_host(c->ssh), ntables, rows);
		if (!c->e->hint[0])
			err_hint(c->e, "re-run with --yes to replace it (the old one is kept as %s_prev_<time> there)", db);
	} else {
		event_step_done(c->ev, "confirm", "confirmed");
		c->step[0] = '\0';
	}
	free(db);
	plan_done(&plan);
	return rc;
}

static int restore_there(struct migrate_ctx *c)
{
	if (skip_if_done(c, "restore"))
		return 0;
	step_start(c, "restore", "restore on the new server");
	char *qb = sshc_quote(c->r->remote_bundle);
	char *args = xasprintf("restore %s --yes --json", qb);
	struct remote_events re = {0};
	int rc = run_remote_ferry(c, args, &re);
	free(args), free(qb);
	if (rc < 0) {
		json_decref(re.result);
		return err_prefix(c->e, "remote restore");
	}
	long long rows = json_integer_value(json_object_get(re.result, "total_rows"));
	char note[128];
	snprintf(note, sizeof note, "%lld rows checked on %s", rows, sshc_host(c->ssh));
	json_decref(re.result);
	step_done(c, note);
	return 0;
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

static int rewrite_registry(struct migrate_ctx *c)
{
	const char *path = registry_file(c);
	if (!path) {
		event_step_skip(c->ev, "registry", "no registry.file in the profiles");
		return 0;
	}
	if (skip_if_done(c, "registry"))
		return 0;
	step_start(c, "registry", "rewrite the connection registry");
	const char *primary = c->to->registry.primary_url ? c->to->registry.primary_url : c->to->database.url;
	char *safe_primary = profile_redact_url(primary);
	struct registry_update u = {
		.primary_url = safe_primary,
		.fallback_url = c->to->registry.fallback_url ? c->to->registry.fallback_url
							    : c->from->registry.primary_url,
		.grace_period = c->to->registry.grace_period,
		.from = c->from->name, .to = c->to->name, .now = time(NULL),
	};
	int rc = registry_rewrite(path, &u, c->e);
	free(safe_primary);
	if (rc < 0)
		return -1;
	c->r->registry_file = xstrdup(path);
	step_done(c, path);
	return 0;
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

static int restart_services(struct migrate_ctx *c)
{
	const struct strv *cmds = &c->to->services.restart;
	if (cmds->n == 0) {
		event_step_skip(c->ev, "services", "no services.restart in the target profile");
		return 0;
	}
	step_start(c, "services", "restart services on the new server");
	char *root = sshc_quote(c->to->has_app ? c->to->app.root : "/");
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < cmds->n; i++) {
		event_log(c->ev, EV_INFO, "[%s] $ %s", sshc_host(c->ssh), cmds->v[i]);
		char *cmd = xasprintf("cd %s 2>/dev/null; %s", root, cmds->v[i]);
		struct remote_log rl = {.c = c, .lines = {.on_line = service_line}};
		rl.lines.ud = &rl;
		struct sshc_exec_info info = {0};
		struct sshc_exec_opts o = {.on_stdout = sshc_lines_feed, .on_stderr = sshc_lines_feed,
					   .ud = &rl.lines, .cancel = c->o->cancel, .timeout_s = 600,
					   .info = &info};
		int status = 0;
		rc = sshc_exec(c->ssh, cmd, &o, &status, c->e);
		sshc_lines_flush(&rl.lines);
		if (rc == 0 && status != 0)
			rc = err_set(c->e, ERR_FAILED, "restart command `%s` on %s exited with status %d",
				     cmds->v[i], sshc_target(c->ssh), status);
		free(cmd);
	}
	free(root);
	if (rc < 0)
		return -1;
	step_done(c, NULL);
	return 0;
}

/* --- checks ------------------------------------------------------------------- */

static int compare_counts(struct migrate_ctx *c, json_t *remote)
{
	const char *rev = json_string_value(json_object_get(remote, "schema_revision"));
	const char *want = c->manifest.schema_revision ? c->manifest.schema_revision : "unknown";
	if (strcmp(rev ? rev : "unknown", want) != 0)
		return err_set(c->e, ERR_VERIFY, "schema revision differs: here %s, on %s %s", want,
			       sshc_host(c->ssh), rev ? rev : "unknown");
	size_t bad = 0;
	json_t *tables = json_object_get(remote, "tables");
	for (size_t i = 0; i < c->manifest.ntables; i++) {
		const struct manifest_table *t = &c->manifest.tables[i];
		long long got = -1;
		size_t j;
		json_t *row;
		json_array_foreach(tables, j, row)
			if (strcmp(json_string_value(json_object_get(row, "schema")), t->schema) == 0 &&
			    strcmp(json_string_value(json_object_get(row, "table")), t->table) == 0)
				got = json_integer_value(json_object_get(row, "rows"));
		if (got == t->rows)
			continue;
		if (!bad++)
			err_set(c->e, ERR_VERIFY, "%s.%s: %lld rows here (snapshot), %lld on %s", t->schema,
				t->table, (long long)t->rows, got, sshc_host(c->ssh));
	}
	return bad ? -1 : 0;
}

static int check_health(struct migrate_ctx *c)
{
	for (size_t i = 0; i < c->to->nhealth; i++)
		if (http_wait_healthy(&c->to->health[i], c->ev, c->o->cancel, c->e) < 0)
			return -1;
	return 0;
}

static int post_checks(struct migrate_ctx *c)
{
	step_start(c, "checks", "health, schema revision and row counts on both sides");
	if (check_health(c) < 0)
		return -1;
	struct remote_events re = {0};
	int rc = run_remote_ferry(c, "counts --json", &re);
	if (rc == 0 && !re.result)
		rc = err_set(c->e, ERR_FAILED, "`ferry counts` on %s printed no result", sshc_host(c->ssh));
	if (rc == 0)
		rc = compare_counts(c, re.result);
	json_decref(re.result);
	if (rc < 0)
		return -1;
	char note[160];
	snprintf(note, sizeof note, "%zu health check(s) ok; revision %s and %zu tables equal on both sides",
		 c->to->nhealth, c->manifest.schema_revision ? c->manifest.schema_revision : "unknown",
		 c->manifest.ntables);
	step_done(c, note);
	return 0;
}

/* --- the log ------------------------------------------------------------------ */

static char *summary_text(const struct migrate_ctx *c, const char *status, const char *error)
{
	char *when = util_iso_time(c->started_wall);
	char *lines = strv_join(&c->report, "\n  ");
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

static void write_log(struct migrate_ctx *c, const char *status, const char *error)
{
	if (fsx_mkdir_p(c->from->log_dir, 0700, NULL) < 0)
		return;
	char *stamp = util_stamp(c->started_wall);
	c->r->log_file = xasprintf("%s/migration_log.json", c->from->log_dir);
	c->r->summary_file = xasprintf("%s/migration_%s_%s.txt", c->from->log_dir, c->to->name, stamp);
	free(stamp);
	json_t *rec = log_record(c, status, error);
	flow_json_log_append(c->r->log_file, rec, NULL);
	json_decref(rec);
	c->r->summary = summary_text(c, status, error);
	flow_write_text(c->r->summary_file, c->r->summary, NULL);
}

/* --- the flow ------------------------------------------------------------------ */

/* What each side looks like when step failed, and how to go on. */
static void failure_hint(struct migrate_ctx *c, const char *step)
{
	const char *state;
	if (!strcmp(step, "preflight") || !strcmp(step, "backup"))
		state = "nothing changed on either side";
	else if (!strcmp(step, "copy"))
		state = "this server is unchanged; the copy resumes where it stopped";
	else if (!strcmp(step, "restore"))
		state = "this server is unchanged; the target database was not swapped";
	else
		state = "the target holds the restored data; this server is unchanged";
	char *old = xstrdup(c->e->hint);
	err_hint(c->e, "%s%s%s. Fix the cause, then `ferry migrate --target %s` continues%s", old,
		 old[0] ? ". " : "", state, c->to->name,
		 strcmp(step, "registry") && strcmp(step, "services") && strcmp(step, "checks") ? "" :
		 "; on the target `ferry rollback` undoes the restore");
	free(old);
}

static int migrate_steps(struct migrate_ctx *c)
{
	if (preflight(c) < 0 || confirm_replace_target(c) < 0 || check_cancel(c) < 0)
		return -1;
	if (backup_here(c) < 0 || check_cancel(c) < 0)
		return -1;
	if (copy_bundle(c) < 0 || check_cancel(c) < 0)
		return -1;
	if (restore_there(c) < 0 || rewrite_registry(c) < 0 || restart_services(c) < 0)
		return -1;
	return post_checks(c);
}

int migrate_run(const struct profile *from, const struct profile *to, const struct migrate_opts *o,
		struct migrate_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	struct migrate_ctx c = {.from = from, .to = to, .o = o, .r = r, .e = e, .ev = o->events};
	c.started = util_now();
	c.started_wall = time(NULL);
	load_state(&c);
	int rc = migrate_steps(&c);
	if (rc < 0) {
		const char *failed = c.step[0] ? c.step : "preflight";
		event_step_fail(c.ev, failed, e->msg);
		if (e->kind != ERR_LOCK)
			failure_hint(&c, failed);
		char *line = xasprintf("✖ %s: %s", failed, e->msg);
		strv_push(&c.report, line);
		free(line);
	}
	step_start(&c, "log", "write the migration log");
	write_log(&c, rc == 0 ? "success" : "failed", rc == 0 ? NULL : e->msg);
	event_step_done(c.ev, "log", r->log_file);
	if (rc == 0)
		unlink(c.state_path);
	if (c.locked)
		lock_release(c.ssh, to->backup.dir);
	sshc_free(c.ssh);
	free(c.remote_ferry);
	if (c.target_json)
		free(c.target_json);
	manifest_done(&c.manifest);
	json_decref(c.state);
	free(c.state_path);
	strv_done(&c.report);
	r->duration_s = util_now() - c.started;
	return rc;
}

int migrate_plan(const struct profile *from, const struct profile *to, const struct migrate_opts *o,
		 struct plan *plan, struct err *e)
{
	(void)o;
	if (!to->has_ssh) {
		err_set(e, ERR_PROFILE, "profile %s has no ssh section", to->name);
		return err_hint(e, "ferry migrate reaches the new server over SSH: add \"ssh\" to %s", to->name);
	}
	char *title = xasprintf("migrate %s to %s (%s@%s)", from->name, to->name,
				to->ssh.user ? to->ssh.user : "?", to->ssh.host);
	plan_init(plan, title);
	free(title);
	char *db = profile_redact_url(from->database.url);
	char *tdb = profile_redact_url(to->database.url);
	plan_add(plan, "preflight", "check both ends and lock the target",
		 "ssh %s@%s:%d (host key from %s); OS, disk, pg_restore and ferry there", to->ssh.user ? to->ssh.user : "?",
		 to->ssh.host, to->ssh.port, to->ssh.known_hosts);
	plan_add(plan, "backup", "back up here", "%s%s%s into %s", db, from->has_app ? " + files of " : "",
		 from->has_app ? from->app.root : "", from->backup.dir);
	plan_add(plan, "copy", "copy the bundle to the new server", "to %s:%s (resumable, SHA-256 checked)",
		 to->ssh.host, to->backup.dir);
	plan_add(plan, "restore", "restore on the new server", "ferry restore there into %s "
		 "(verify, safety backup, shadow, row-count gate, swap)", tdb);
	const char *reg = to->has_registry && to->registry.file ? to->registry.file :
			  from->has_registry ? from->registry.file : NULL;
	if (reg)
		plan_add(plan, "registry", "rewrite the connection registry", "%s", reg);
	if (to->services.restart.n)
		plan_add(plan, "services", "restart services on the new server", "%zu command(s)",
			 to->services.restart.n);
	plan_add(plan, "checks", "health, schema revision and row counts on both sides", "%zu health URL(s)",
		 to->nhealth);
	plan_add(plan, "log", "write the migration log", "%s/migration_log.json", from->log_dir);
	free(db);
	free(tdb);
	return 0;
}

void migrate_result_done(struct migrate_result *r)
{
	free(r->bundle), free(r->remote_bundle), free(r->registry_file);
	free(r->log_file), free(r->summary_file), free(r->summary);
	strv_done(&r->skipped);
	memset(r, 0, sizeof *r);
}
