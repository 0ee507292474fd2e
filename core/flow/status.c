/* flow_status — `ferry status`: every check of one profile into a report. */
#include "fsx.h"
#include "flow/drill_log.h"
#include "flow/list.h"
#include "flow/status.h"
#include "flow/status_int.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "http.h"
#include "migrate_db.h"
#include "proc.h"
#include "revision.h"
#include "step.h"
#include "util.h"
#include "recover.h"

#define DEFAULT_BACKUP_MAX_AGE_S (2 * 86400)
#define DEFAULT_SSH_TIMEOUT_S 5
#define DEFAULT_SERVICE_TIMEOUT_S 30

/* --- the report ------------------------------------------------------------ */

void status_add_check(struct status_ctx *c, const char *name, const char *subject,
		      enum status_state state, enum err_kind kind, const char *fmt, ...)
{
	struct status_report *r = c->r;
	r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
	struct status_check *ch = &r->v[r->n++];
	char detail[ERR_MSG_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	*ch = (struct status_check){.name = xstrdup(name), .subject = xstrdup(subject),
				    .state = state, .kind = state == STATUS_FAIL ? kind : ERR_OK,
				    .detail = xstrdup(detail)};
	if (c->o->on_check)
		c->o->on_check(c->o->ud, ch);
}

/* Free the facts' strings. */
static void facts_done(struct status_facts *f)
{
	free(f->db_name), free(f->db_host), free(f->server_version);
	free(f->schema_revision), free(f->revision_source);
	strv_done(&f->revisions);
	free(f->backup_dir);
	free(f->last.file), free(f->last.path), free(f->last.type), free(f->last.revision);
	free(f->last.verified);
	free(f->drill.bundle), free(f->drill.error);
	free(f->ssh_host), free(f->ssh_banner);
}

void status_report_done(struct status_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].name);
		free(r->v[i].subject);
		free(r->v[i].detail);
	}
	free(r->v);
	for (size_t i = 0; i < r->nhealth; i++)
		free(r->health[i].url);
	free(r->health);
	status_offsite_facts_done(r);
	facts_done(&r->facts);
	free(r->profile);
	memset(r, 0, sizeof *r);
}

enum status_state status_overall(const struct status_report *r)
{
	enum status_state worst = STATUS_OK;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].state > worst)
			worst = r->v[i].state;
	return worst;
}

enum err_kind status_fail_kind(const struct status_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].state == STATUS_FAIL)
			return r->v[i].kind != ERR_OK ? r->v[i].kind : ERR_FAILED;
	return ERR_OK;
}

const char *status_state_name(enum status_state s)
{
	return s == STATUS_OK ? "ok" : s == STATUS_WARN ? "warn" : "fail";
}

const char *status_human_age(int64_t seconds, char *buf, size_t len)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 120)
		snprintf(buf, len, "%lld s", (long long)seconds);
	else if (seconds < 2 * 3600)
		snprintf(buf, len, "%lld min", (long long)(seconds / 60));
	else if (seconds < 2 * 86400)
		snprintf(buf, len, "%lld h", (long long)(seconds / 3600));
	else
		snprintf(buf, len, "%lld d", (long long)(seconds / 86400));
	return buf;
}

/* Monotonic milliseconds. */
static double now_ms(void)
{
	return util_now() * 1000.0;
}

/* --- database ------------------------------------------------------------- */

/* "host:port" of a db_host_desc "host:port/dbname". */
static char *host_part(const char *desc)
{
	const char *slash = strrchr(desc, '/');
	return slash && slash != desc ? xstrndup(desc, (size_t)(slash - desc)) : xstrdup(desc);
}

/* A one-value query as a number; -1 with e filled on error. */
static int query_int(db_conn *db, const char *sql, int64_t *out, struct err *e)
{
	char *v = db_query_value(db, sql, e);
	if (!v)
		return -1;
	*out = strtoll(v, NULL, 10);
	free(v);
	return 0;
}

/* Revision from the known migration tables, and pending migrations. */
static void check_schema(struct status_ctx *c, db_conn *db)
{
	struct status_facts *f = &c->r->facts;
	struct err e = {0};
	struct revision rv;
	if (revision_read(db, &rv, &e) < 0) {
		status_add_check(c, "schema", NULL, STATUS_FAIL, ERR_DB, "cannot read the schema revision: %s", e.msg);
		return;
	}
	char rev[300];
	char *described = revision_describe(&rv);
	snprintf(rev, sizeof rev, "%s", described);
	free(described);
	f->schema_revision = rv.revision;
	f->revision_source = rv.source;
	f->revisions = rv.apps;
	memset(&rv, 0, sizeof rv);
	if (!c->p->migrations.dir) {
		status_add_check(c, "schema", NULL, STATUS_OK, ERR_OK, "%s", rev);
		return;
	}
	if (migrate_db_pending(c->p, &f->pending_migrations, &e) < 0) {
		status_add_check(c, "schema", NULL, STATUS_WARN, ERR_OK, "%s; pending migrations unknown: %s", rev, e.msg);
		return;
	}
	f->has_pending = true;
	size_t n = f->pending_migrations;
	if (n == 0)
		status_add_check(c, "schema", NULL, STATUS_OK, ERR_OK, "%s, no pending migrations", rev);
	else
		status_add_check(c, "schema", NULL, STATUS_WARN, ERR_OK, "%s, %zu pending migration%s "
			  "(`ferry db migrate` applies them)", rev, n, n == 1 ? "" : "s");
}

/* Database size and the number of tables outside the system schemas. */
static void check_size(struct status_ctx *c, db_conn *db)
{
	struct status_facts *f = &c->r->facts;
	struct err e = {0};
	if (query_int(db, "SELECT count(*) FROM pg_catalog.pg_tables "
		      "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')", &f->tables, &e) < 0) {
		status_add_check(c, "size", NULL, STATUS_FAIL, ERR_DB, "cannot count tables: %s", e.msg);
		return;
	}
	char sz[32];
	status_add_check(c, "size", NULL, STATUS_OK, ERR_OK, "%s in %lld table%s",
		  util_human_bytes((uint64_t)f->size_bytes, sz, sizeof sz), (long long)f->tables,
		  f->tables == 1 ? "" : "s");
}

static const char connections_sql[] =
	"SELECT count(*) FILTER (WHERE datname = current_database()), "
	"count(*) FILTER (WHERE backend_type = 'client backend'), "
	"current_setting('max_connections') FROM pg_stat_activity";

/* Sessions on this database; warn when the server nears max_connections. */
static void check_connections(struct status_ctx *c, db_conn *db)
{
	struct status_facts *f = &c->r->facts;
	struct err e = {0};
	db_result *res = db_query(db, connections_sql, 0, NULL, &e);
	if (!res) {
		status_add_check(c, "connections", NULL, STATUS_FAIL, ERR_DB, "cannot count connections: %s", e.msg);
		return;
	}
	f->connections = strtoll(db_result_value(res, 0, 0), NULL, 10);
	int64_t clients = strtoll(db_result_value(res, 0, 1), NULL, 10);
	f->max_connections = strtoll(db_result_value(res, 0, 2), NULL, 10);
	db_result_free(res);
	bool crowded = f->max_connections > 0 && clients * 10 >= f->max_connections * 8;
	status_add_check(c, "connections", NULL, crowded ? STATUS_WARN : STATUS_OK, ERR_OK,
		  "%lld to %s; %lld of max_connections %lld in use on the server%s",
		  (long long)f->connections, f->db_name, (long long)clients,
		  (long long)f->max_connections, crowded ? " (80% or more)" : "");
}

/* Connect, time it, and read the server facts; the other database checks follow. */
static void check_database(struct status_ctx *c)
{
	struct status_facts *f = &c->r->facts;
	struct err e = {0};
	double t0 = now_ms();
	db_conn *db = db_connect(c->p->database.url, &e);
	struct db_info info = {0};
	if (db && db_get_info(db, &info, &e) < 0) {
		db_close(db);
		db = NULL;
	}
	if (!db) {
		status_add_check(c, "database", NULL, STATUS_FAIL, ERR_DB, "%s", e.msg);
		return;
	}
	f->has_db = true;
	f->latency_ms = now_ms() - t0;
	f->db_name = xstrdup(info.name);
	f->db_host = host_part(db_host_desc(db));
	f->server_version = xstrdup(info.server_version);
	f->size_bytes = info.size_bytes;
	db_info_done(&info);
	status_add_check(c, "database", NULL, STATUS_OK, ERR_OK, "reachable in %.0f ms (%s on %s, PostgreSQL %s)",
		  f->latency_ms, f->db_name, f->db_host, f->server_version);
	check_schema(c, db);
	check_size(c, db);
	check_connections(c, db);
	db_close(db);
}

/* --- backups and space ---------------------------------------------------- */

/* Copy the newest bundle's facts. */
static void keep_last(struct status_facts *f, const struct bundle_info *b)
{
	f->has_last_backup = true;
	f->last.file = xstrdup(b->name);
	f->last.path = xstrdup(b->path);
	f->last.type = xstrdup(b->type);
	f->last.revision = xstrdup(b->revision);
	f->last.verified = xstrdup(b->verified);
	f->last.created = b->created;
	f->last.age_s = (int64_t)difftime(time(NULL), b->created);
	if (f->last.age_s < 0)
		f->last.age_s = 0;
	f->last.size = b->size;
}

/* The newest bundle: its age and whether it was verified. */
static void check_backup(struct status_ctx *c)
{
	struct status_facts *f = &c->r->facts;
	f->has_backup_dir = true;
	f->backup_dir = xstrdup(c->p->backup.dir);
	struct bundle_list l;
	struct err e = {0};
	if (list_bundles(f->backup_dir, c->p->name, &l, &e) < 0) {
		status_add_check(c, "backup", NULL, STATUS_WARN, ERR_OK, "cannot list %s: %s", f->backup_dir, e.msg);
		return;
	}
	f->bundles = l.n;
	if (l.n == 0) {
		status_add_check(c, "backup", NULL, STATUS_WARN, ERR_OK, "no bundle of profile %s in %s "
			  "(`ferry backup` makes one)", c->p->name, f->backup_dir);
		list_done(&l);
		return;
	}
	keep_last(f, &l.v[0]);
	list_done(&l);
	int max_age = c->o->backup_max_age_s > 0 ? c->o->backup_max_age_s : DEFAULT_BACKUP_MAX_AGE_S;
	const char *v = f->last.verified;
	bool failed = v && !str_starts(v, "ok");
	bool old = f->last.age_s > max_age;
	char age[32], limit[32], when[96];
	status_human_age(f->last.age_s, age, sizeof age);
	status_human_age(max_age, limit, sizeof limit);
	if (old)
		snprintf(when, sizeof when, "%s ago, older than %s", age, limit);
	else
		snprintf(when, sizeof when, "%s ago", age);
	const char *verdict = failed ? "its verification FAILED (`ferry verify` it, back up again)"
			    : v ? "verified" : "not verified";
	status_add_check(c, "backup", NULL, failed ? STATUS_FAIL : old ? STATUS_WARN : STATUS_OK, ERR_VERIFY,
		  "last %s, %s, %s", f->last.file, when, verdict);
}

/* The newest drill in the log: its age, outcome and restore time. */
static void check_drill(struct status_ctx *c)
{
	struct status_facts *f = &c->r->facts;
	f->drill_max_age_days = c->p->drill.max_age_days > 0 ? c->p->drill.max_age_days : 8;
	struct drill_log_entry en;
	if (drill_log_newest(c->p, &en) <= 0) {
		status_add_check(c, "drill", NULL, STATUS_WARN, ERR_OK, "no restore drill of profile %s yet "
			  "(`ferry drill` restores the newest bundle and checks it)", c->p->name);
		return;
	}
	f->has_drill = true;
	f->drill.ok = en.ok;
	f->drill.at = en.at;
	f->drill.age_s = en.at ? (int64_t)difftime(time(NULL), en.at) : 0;
	f->drill.restore_s = en.restore_s;
	f->drill.bundle = en.bundle;
	f->drill.error = en.error;
	int64_t max_age = (int64_t)f->drill_max_age_days * 86400;
	char age[32], limit[32];
	status_human_age(f->drill.age_s, age, sizeof age);
	status_human_age(max_age, limit, sizeof limit);
	const char *bundle = en.bundle ? en.bundle : "?";
	if (!en.ok)
		status_add_check(c, "drill", NULL, STATUS_FAIL, ERR_VERIFY, "last drill %s ago FAILED (%s): %s", age,
			  bundle, en.error ? en.error : "see drill_log.json");
	else
		status_add_check(c, "drill", NULL, f->drill.age_s > max_age ? STATUS_WARN : STATUS_OK, ERR_OK,
			  "last drill %s ago%s%s%s: %s restored and checked in %.1f s", age,
			  f->drill.age_s > max_age ? ", older than " : "",
			  f->drill.age_s > max_age ? limit : "", f->drill.age_s > max_age ? " (drill.max_age_days)" : "",
			  bundle, en.restore_s);
}

/* The nearest existing directory at or above path. */
static char *existing_dir(const char *path)
{
	char *d = xstrdup(path);
	struct stat st;
	while (stat(d, &st) < 0 || !S_ISDIR(st.st_mode)) {
		char *slash = strrchr(d, '/');
		if (!slash || slash == d) {
			free(d);
			return xstrdup("/");
		}
		*slash = '\0';
	}
	return d;
}

/* Why free space is short, or NULL when it is not. */
static const char *space_shortage(const struct status_facts *f, char *buf, size_t len)
{
	char sz[32];
	if (f->total_bytes > 0 && f->free_bytes < f->total_bytes / 10)
		return "less than 10% free";
	if (f->has_last_backup && f->free_bytes < 2 * f->last.size) {
		snprintf(buf, len, "less than twice the last bundle (%s)",
			 util_human_bytes(f->last.size, sz, sizeof sz));
		return buf;
	}
	return NULL;
}

/* Free space where bundles go: warn under 10% or under twice the last bundle. */
static void check_space(struct status_ctx *c)
{
	struct status_facts *f = &c->r->facts;
	char *dir = existing_dir(c->p->backup.dir);
	struct err e = {0};
	struct statvfs sv;
	if (fsx_free_space(dir, &f->free_bytes, &e) < 0 || statvfs(dir, &sv) < 0) {
		status_add_check(c, "space", NULL, STATUS_WARN, ERR_OK, "%s", e.msg[0] ? e.msg : strerror(errno));
		free(dir);
		return;
	}
	f->has_space = true;
	f->total_bytes = (uint64_t)sv.f_blocks * (uint64_t)sv.f_frsize;
	char why[128], fr[32], tot[32];
	const char *short_of = space_shortage(f, why, sizeof why);
	unsigned pct = f->total_bytes ? (unsigned)(f->free_bytes * 100 / f->total_bytes) : 0;
	status_add_check(c, "space", NULL, short_of ? STATUS_WARN : STATUS_OK, ERR_OK,
		  "%s free of %s (%u%%) in %s%s%s", util_human_bytes(f->free_bytes, fr, sizeof fr),
		  util_human_bytes(f->total_bytes, tot, sizeof tot), pct > 100 ? 100 : pct, dir,
		  short_of ? ": " : "", short_of ? short_of : "");
	free(dir);
}

/* --- health, ssh, services ------------------------------------------------ */

/* One GET of each health URL (no retries: status reports the present). */
static void check_health(struct status_ctx *c)
{
	const struct profile *p = c->p;
	struct status_report *r = c->r;
	for (size_t i = 0; i < p->nhealth; i++) {
		const struct profile_health *h = &p->health[i];
		struct http_result hr;
		struct err e = {0};
		int rc = http_check(h, &hr, &e);
		r->health = xrealloc(r->health, (r->nhealth + 1) * sizeof *r->health);
		r->health[r->nhealth++] = (struct status_health_fact){
			.url = xstrdup(h->url), .http_status = hr.status, .elapsed_ms = hr.elapsed_ms};
		char what[400];
		http_result_describe(h, &hr, what, sizeof what);
		if (rc == 0)
			status_add_check(c, "health", h->name, STATUS_OK, ERR_OK, "%s: %s in %.0f ms (%s)",
				  h->name, what, hr.elapsed_ms, h->url);
		else
			status_add_check(c, "health", h->name, STATUS_FAIL, ERR_HEALTH, "%s: %s (%s)", h->name,
				  hr.status || hr.error[0] ? what : e.msg, h->url);
	}
}

/* Wait until fd is ready for events or timeout_ms pass: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;
	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	return n;
}

/* A non-blocking connect to one address within timeout_ms; fd or -1 with why. */
static int connect_one(const struct addrinfo *ai, int timeout_ms, char *why, size_t len)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		snprintf(why, len, "socket: %s", strerror(errno));
		return -1;
	}
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		soerr = errno;
	else if (wait_fd(fd, POLLOUT, timeout_ms) == 0)
		soerr = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr == 0)
		return fd;
	snprintf(why, len, "%s", strerror(soerr));
	close(fd);
	return -1;
}

/* TCP connect to host:port; the socket or -1 with why filled. */
static int tcp_connect(const char *host, int port, int timeout_ms, char *why, size_t len)
{
	char service[16];
	snprintf(service, sizeof service, "%d", port);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		snprintf(why, len, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	int fd = -1;
	for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, timeout_ms, why, len);
	freeaddrinfo(res);
	return fd;
}

/* The server's first line ("SSH-2.0-..."), or NULL when none came in time. */
static char *read_banner(int fd, int timeout_ms)
{
	char buf[256];
	if (wait_fd(fd, POLLIN, timeout_ms) <= 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return xstrdup(buf);
}

/* The profile's SSH host answers on its port with an SSH banner. */
static void check_ssh(struct status_ctx *c)
{
	const struct profile *p = c->p;
	if (!p->has_ssh || !p->ssh.host)
		return;
	struct status_facts *f = &c->r->facts;
	int timeout_ms = 1000 * (c->o->ssh_timeout_s > 0 ? c->o->ssh_timeout_s : DEFAULT_SSH_TIMEOUT_S);
	f->ssh_host = xstrdup(p->ssh.host);
	f->ssh_port = p->ssh.port;
	char why[256] = "";
	double t0 = now_ms();
	int fd = tcp_connect(p->ssh.host, p->ssh.port, timeout_ms, why, sizeof why);
	if (fd < 0) {
		status_add_check(c, "ssh", p->ssh.host, STATUS_FAIL, ERR_SSH, "%s:%d unreachable: %s",
			  p->ssh.host, p->ssh.port, why);
		return;
	}
	f->has_ssh = true;
	f->ssh_ms = now_ms() - t0;
	f->ssh_banner = read_banner(fd, timeout_ms);
	close(fd);
	bool is_ssh = f->ssh_banner && str_starts(f->ssh_banner, "SSH-");
	status_add_check(c, "ssh", p->ssh.host, is_ssh ? STATUS_OK : STATUS_WARN, ERR_OK,
		  "%s:%d reachable in %.0f ms%s%s", p->ssh.host, p->ssh.port, f->ssh_ms,
		  is_ssh ? ", " : " but no SSH banner came", is_ssh ? f->ssh_banner : "");
}

struct last_output {
	char line[256];
};

/* Keep the last non-empty output line of a status command. */
static void keep_last_line(void *ud, const char *line, bool is_stderr)
{
	struct last_output *lo = ud;
	(void)is_stderr;
	if (*line)
		snprintf(lo->line, sizeof lo->line, "%s", line);
}

/* Where the profile's commands run: app.root when it exists, else the profile's dir. */
static const char *command_dir(const struct profile *p)
{
	struct stat st;
	if (p->has_app && p->app.root && stat(p->app.root, &st) == 0 && S_ISDIR(st.st_mode))
		return p->app.root;
	return p->dir;
}

/* Each services.status command: ok when it exits 0. */
static void check_services(struct status_ctx *c)
{
	const struct strv *cmds = &c->p->services.status;
	for (size_t i = 0; i < cmds->n; i++) {
		struct last_output lo = {""};
		struct proc_opts po = {
			.cwd = command_dir(c->p), .stdout_lines = true, .on_line = keep_last_line,
			.ud = &lo, .cancel = c->o->cancel,
			.timeout_s = c->o->service_timeout_s > 0 ? c->o->service_timeout_s
								 : DEFAULT_SERVICE_TIMEOUT_S};
		struct err e = {0};
		if (proc_run_shell(cmds->v[i], &po, &e) == 0)
			status_add_check(c, "service", cmds->v[i], STATUS_OK, ERR_OK, "`%s`: %s", cmds->v[i],
				  lo.line[0] ? lo.line : "exit 0");
		else
			status_add_check(c, "service", cmds->v[i], STATUS_FAIL, e.kind, "%s", e.msg);
	}
}

/* A killed run's journal: fail with the command that deals with it. */
static void check_journal(struct status_ctx *c)
{
	char *what = NULL;
	if (recover_pending(c->p, &what))
		status_add_check(c, "journal", NULL, STATUS_FAIL, ERR_FAILED,
			  "%s: run `ferry recover --profile %s` (any backup or restore of it also does)",
			  what, c->p->name);
	else
		status_add_check(c, "journal", NULL, STATUS_OK, ERR_OK, "no interrupted run");
	free(what);
}

/* --- the run ---------------------------------------------------------------- */

/* Each check is a step; what it finds (ok, warn, fail) goes into the
 * report and never stops the checks after it. */
#define CHECK_STEP(name, fn)                                                        \
	static int step_##name(void *ctx, struct step_run *sr, struct err *e)       \
	{                                                                           \
		struct status_ctx *c = ctx;                                         \
		size_t before = c->r->n;                                            \
		(void)e;                                                            \
		fn(c);                                                              \
		if (c->r->n > before)                                               \
			step_note(sr, "%s", c->r->v[c->r->n - 1].detail);           \
		return STEP_DONE;                                                   \
	}
CHECK_STEP(database, check_database)
CHECK_STEP(backup, check_backup)
CHECK_STEP(drill, check_drill)
CHECK_STEP(space, check_space)
CHECK_STEP(health, check_health)
CHECK_STEP(ssh, check_ssh)
CHECK_STEP(services, check_services)
CHECK_STEP(journal, check_journal)
CHECK_STEP(offsite, status_check_offsite)

static bool has_health(void *ctx)
{
	return ((struct status_ctx *)ctx)->p->nhealth > 0;
}

static bool has_ssh(void *ctx)
{
	return ((struct status_ctx *)ctx)->p->has_ssh;
}

static bool has_offsite(void *ctx)
{
	return ((struct status_ctx *)ctx)->p->noffsite > 0;
}

static bool has_services(void *ctx)
{
	return ((struct status_ctx *)ctx)->p->services.status.n > 0;
}

static char *plan_title(void *ctx)
{
	return xasprintf("check %s", ((struct status_ctx *)ctx)->p->name);
}

static const struct step status_steps[] = {
	{.id = "database", .title = "database, schema, size and connections", .run = step_database},
	{.id = "backup", .title = "the newest backup", .run = step_backup},
	{.id = "drill", .title = "the newest restore drill", .run = step_drill},
	{.id = "space", .title = "free space where bundles go", .run = step_space},
	{.id = "journal", .title = "no interrupted run left to recover", .run = step_journal},
	{.id = "health", .title = "health URLs", .applies = has_health, .run = step_health},
	{.id = "ssh", .title = "the ssh host answers", .applies = has_ssh, .run = step_ssh},
	{.id = "offsite", .title = "offsite targets answer and hold a recent copy",
	 .applies = has_offsite, .run = step_offsite},
	{.id = "services", .title = "services.status commands", .applies = has_services,
	 .run = step_services},
};

static const struct flow_def status_flow = {
	.name = "status",
	.steps = status_steps,
	.nsteps = sizeof status_steps / sizeof status_steps[0],
	.title = plan_title,
};

int status_run(const struct profile *p, const struct status_opts *o, struct status_report *r,
	       struct err *e)
{
	static const struct status_opts none = {0};
	memset(r, 0, sizeof *r);
	r->profile = xstrdup(p->name);
	struct status_ctx c = {.p = p, .o = o ? o : &none, .r = r};
	double t0 = util_now();
	struct flow_run_opts ro = {.events = c.o->events, .cancel = c.o->cancel, .yes = true};
	int rc = flow_run(&status_flow, &c, &ro, NULL, e);
	r->duration_s = util_now() - t0;
	return rc;
}

int status_plan(const struct profile *p, const struct status_opts *o, struct plan *plan,
		struct err *e)
{
	static const struct status_opts none = {0};
	struct status_report r = {0};
	struct status_ctx c = {.p = p, .o = o ? o : &none, .r = &r};
	int rc = flow_plan(&status_flow, &c, plan, e);
	status_report_done(&r);
	return rc;
}

/* --- JSON ------------------------------------------------------------------- */

/* A string or null. */
static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The newest bundle as an object. */
static json_t *last_backup_json(const struct status_facts *f)
{
	if (!f->has_last_backup)
		return json_null();
	char *created = util_iso_time(f->last.created);
	const char *v = f->last.verified;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o}",
		"file", f->last.file, "path", f->last.path, "type", f->last.type,
		"revision", f->last.revision, "created", created, "age_s", (json_int_t)f->last.age_s,
		"size_bytes", (json_int_t)f->last.size,
		"verified", v ? json_boolean(str_starts(v, "ok")) : json_null(),
		"verified_detail", str_or_null(v));
	free(created);
	return o;
}

/* The newest drill as an object. */
static json_t *last_drill_json(const struct status_facts *f)
{
	if (!f->has_drill)
		return json_null();
	char *at = util_iso_time(f->drill.at);
	json_t *o = json_pack("{s:s, s:I, s:b, s:f, s:o, s:o}", "at", at, "age_s", (json_int_t)f->drill.age_s,
			      "ok", f->drill.ok, "restore_s", f->drill.restore_s, "bundle", str_or_null(f->drill.bundle),
			      "error", str_or_null(f->drill.error));
	free(at);
	return o;
}

/* Numbers of the database check. */
static void db_fields(json_t *o, const struct status_facts *f)
{
	if (!f->has_db)
		return;
	json_object_set_new(o, "latency_ms", json_integer((json_int_t)(f->latency_ms + 0.5)));
	json_object_set_new(o, "database", json_string(f->db_name));
	json_object_set_new(o, "host", json_string(f->db_host));
	json_object_set_new(o, "server_version", json_string(f->server_version));
}

/* Numbers of the schema check. */
static void schema_fields(json_t *o, const struct status_facts *f)
{
	json_object_set_new(o, "schema_revision", str_or_null(f->schema_revision));
	json_object_set_new(o, "revision_source", str_or_null(f->revision_source));
	json_object_set_new(o, "revisions", f->revisions.n ? revision_apps_to_json(&f->revisions) : json_null());
	json_object_set_new(o, "pending_migrations", f->has_pending ?
			    json_integer((json_int_t)f->pending_migrations) : json_null());
}

/* Numbers of the size, connections, backup, space and ssh checks. */
static void other_fields(json_t *o, const char *name, const struct status_facts *f)
{
	if (strcmp(name, "size") == 0) {
		json_object_set_new(o, "size_bytes", json_integer(f->size_bytes));
		json_object_set_new(o, "tables", json_integer(f->tables));
	} else if (strcmp(name, "connections") == 0) {
		json_object_set_new(o, "connections", json_integer(f->connections));
		json_object_set_new(o, "max_connections", json_integer(f->max_connections));
	} else if (strcmp(name, "backup") == 0) {
		json_object_set_new(o, "dir", json_string(f->backup_dir));
		json_object_set_new(o, "bundles", json_integer((json_int_t)f->bundles));
		json_object_set_new(o, "last_backup", last_backup_json(f));
	} else if (strcmp(name, "drill") == 0) {
		json_object_set_new(o, "max_age_days", json_integer(f->drill_max_age_days));
		json_object_set_new(o, "last_drill", last_drill_json(f));
	} else if (strcmp(name, "space") == 0 && f->has_space) {
		json_object_set_new(o, "free_bytes", json_integer((json_int_t)f->free_bytes));
		json_object_set_new(o, "total_bytes", json_integer((json_int_t)f->total_bytes));
	} else if (strcmp(name, "ssh") == 0 && f->ssh_host) {
		json_object_set_new(o, "host", json_string(f->ssh_host));
		json_object_set_new(o, "port", json_integer(f->ssh_port));
		if (f->has_ssh)
			json_object_set_new(o, "connect_ms", json_integer((json_int_t)(f->ssh_ms + 0.5)));
		json_object_set_new(o, "banner", str_or_null(f->ssh_banner));
	}
}

/* Numbers of one health check. */
static void health_fields(json_t *o, const struct status_health_fact *h)
{
	json_object_set_new(o, "url", json_string(h->url));
	json_object_set_new(o, "http_status", h->http_status ? json_integer(h->http_status) : json_null());
	json_object_set_new(o, "elapsed_ms", json_integer((json_int_t)(h->elapsed_ms + 0.5)));
}

/* One check as an object with its numbers. */
static json_t *check_json(const struct status_report *r, const struct status_check *ch, size_t *health_i)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "name", ch->name, "state",
			      status_state_name(ch->state), "detail", ch->detail);
	if (ch->subject)
		json_object_set_new(o, strcmp(ch->name, "service") == 0 ? "command"
				       : strcmp(ch->name, "offsite") == 0 ? "target" : "check",
				    json_string(ch->subject));
	if (ch->state == STATUS_FAIL)
		json_object_set_new(o, "error", json_string(err_kind_name(ch->kind)));
	if (strcmp(ch->name, "database") == 0)
		db_fields(o, &r->facts);
	else if (strcmp(ch->name, "schema") == 0)
		schema_fields(o, &r->facts);
	else if (strcmp(ch->name, "health") == 0 && *health_i < r->nhealth)
		health_fields(o, &r->health[(*health_i)++]);
	else if (strcmp(ch->name, "offsite") == 0)
		status_offsite_fields(o, r, ch->subject);
	else
		other_fields(o, ch->name, &r->facts);
	return o;
}

char *status_to_json(const struct status_report *r)
{
	json_t *checks = json_array();
	size_t health_i = 0;
	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(checks, check_json(r, &r->v[i], &health_i));
	enum err_kind kind = status_fail_kind(r);
	json_t *o = json_pack("{s:s, s:o, s:i, s:f, s:o}", "status", status_state_name(status_overall(r)),
			      "profile", str_or_null(r->profile), "exit_code", err_exit_code(kind),
			      "duration_s", r->duration_s, "checks", checks);
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	json_decref(o);
	return text;
}
