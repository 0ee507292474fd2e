/* restore_stream — the streaming restore: one verifying pass over the
 * bundle (verify_pass, every check of core/trust.h on each member header
 * before its content is used) loads the shadow database as the members go
 * by, instead of unpacking the whole dump first.
 *
 *   roles file   applied when it has come and its hash matched
 *   toc.dat      staged (it is small); once its hash matched: the shadow is
 *                created and the dump's pre-data restored
 *   NNNN.dat*    a table's data: a large one streams through a FIFO into a
 *                pg_restore of that entry alone (nothing of it on disk); small
 *                ones are staged and loaded in batches (one pg_restore -L
 *                each) once BATCH_MAX_BYTES gathered; at most jobs loaders
 *                at a time, their staged files removed as each ends
 *   the rest     (large objects, files a foreign dump adds) staged, loaded
 *                with the sequence values once the pass is complete
 *   post-data    indexes, constraints, triggers: pg_restore -j jobs, after
 *                the pass verified every member, SHA256SUMS and the signature
 *
 * A member whose hash does not match stops the pass at its end: loaders
 * are stopped, the shadow is dropped by the flow (restore.c), the live
 * database was never touched. A load that fails first (damaged bytes can
 * make pg_restore stop before the member's hash is known) is told only
 * once the pass is complete and every member matched; until then the pass
 * only hashes, so damage is always reported as damage (exit 4). The swap comes after this step and the gate.
 * Staging is bounded: toc.dat, the batch being gathered and those loading
 * (jobs × BATCH_MAX_BYTES at most), and the large objects. */
#include "flow/restore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "fault.h"
#include "flow/verify.h"
#include "fsx.h"
#include "proc.h"
#include "util.h"

#define STREAM_MIN_BYTES (4u << 20)    /* a data file this large streams through a FIFO */
#define BATCH_MAX_BYTES (16u << 20)    /* small data files loaded together */
#define BATCH_MAX_FILES 256
#define FIFO_PIPE_BYTES (1 << 20)

enum member_kind { MK_NONE, MK_TOC, MK_FIFO, MK_STAGED, MK_KEPT };

/* One pg_restore at work on the shadow. */
struct loader {
	struct proc *proc;      /* NULL: a free slot */
	char *what;             /* for messages */
	struct strv files;      /* staged files removed when it ends */
	uint64_t bytes;         /* their size */
	size_t tables;          /* table data entries it loads */
};

struct stream {
	struct restore_ctx *c;
	struct err *e;
	char *dump_dir;         /* <work>/<dump.path> */
	char *dump_prefix;      /* "<dump.path>/" */
	char *conninfo;         /* the shadow's, with the load's settings */
	bool prelude_done;
	struct toc toc;         /* listed from the streamed toc.dat */
	bool *loaded;           /* per toc entry: its data is in or on its way */
	struct loader *slots;
	int nslots;
	int list_seq;           /* list file names */
	/* the member streaming now */
	enum member_kind kind;
	int fd;
	char *path;
	/* the batch being gathered */
	struct strv batch_files;
	struct sbuf batch_list;
	uint64_t batch_bytes;
	size_t batch_tables;
	/* what is on disk, and progress */
	uint64_t staged, staged_peak;
	uint64_t read_bytes, total_bytes;
	size_t tables_done, tables_total;
	size_t idx_done, idx_total;   /* post-data indexes and constraints */
	db_conn *watch;               /* the shadow, to count them while they build */
	bool broken;                  /* a load failed: the pass only hashes on */
	struct err load_err;          /* that failure, told once the pass is complete */
	double last_progress, last_watch;
};

bool restore_stream_applies(const struct restore_ctx *c)
{
	const struct manifest *m = &c->r->manifest;
	if (!c->want_db || c->mode == RESTORE_TABLES || c->o->schema_only || !m->dump.path ||
	    !m->dump.format || strcmp(m->dump.format, "directory") != 0)
		return false;
	/* The bundle's order must give the roles, then the table of contents,
	 * before any data (ferry writes it so; older bundles may hold the
	 * roles file after the dump: they take the unpacking path). */
	char *toc = xasprintf("%s/toc.dat", m->dump.path);
	char *prefix = xasprintf("%s/", m->dump.path);
	bool toc_seen = false, globals_seen = !m->dump.globals, ok = true;
	for (size_t i = 0; ok && i < m->nmembers; i++) {
		const char *name = m->members[i].name;
		if (strcmp(name, toc) == 0)
			toc_seen = true;
		else if (m->dump.globals && strcmp(name, m->dump.globals) == 0)
			globals_seen = true, ok = !toc_seen;
		else if (str_starts(name, prefix))
			ok = toc_seen && globals_seen;
	}
	free(toc), free(prefix);
	return ok && toc_seen;
}

/* --- progress ------------------------------------------------------------- */

/* One line for the whole way: bytes read and hashed, tables loaded,
 * indexes built. done/total weigh post-data as half the data's bytes
 * (building an index reads its table once and sorts it), spread evenly
 * over its entries, so the ETA a front end derives covers it too. */
static void progress(struct stream *s, bool force)
{
	double now = util_now();
	if (!force && now - s->last_progress < 0.25)
		return;
	s->last_progress = now;
	uint64_t post = s->idx_total ? s->total_bytes / 2 : 0;
	uint64_t read = s->read_bytes < s->total_bytes ? s->read_bytes : s->total_bytes;
	uint64_t done = read + (s->idx_total ? post * s->idx_done / s->idx_total : 0);
	char a[32], b[32], line[256];
	snprintf(line, sizeof line, "%s of %s read and hashed, %zu/%zu tables loaded, %zu/%zu indexes built",
		 util_human_bytes(s->read_bytes, a, sizeof a), util_human_bytes(s->total_bytes, b, sizeof b),
		 s->tables_done, s->tables_total, s->idx_done, s->idx_total);
	struct event ev = {.type = EV_PROGRESS, .step = "verify", .text = line, .done = done,
			   .total = s->total_bytes + post};
	event_emit(s->c->ev, &ev);
}

/* While post-data runs (pg_restore's tick): the indexes the shadow has. */
static void watch_indexes(void *ud)
{
	struct stream *s = ud;
	double now = util_now();
	if (now - s->last_watch < 1.0)
		return;
	s->last_watch = now;
	struct err ignored = {0};
	if (!s->watch)
		s->watch = db_connect(s->c->shadow_conninfo, &ignored);
	char *v = s->watch ? db_query_value(s->watch, "SELECT count(*) FROM pg_index i JOIN pg_class c "
					    "ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
					    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
					    "AND n.nspname NOT LIKE 'pg\\_toast%'", &ignored) : NULL;
	if (v) {
		size_t n = (size_t)strtoull(v, NULL, 10);
		s->idx_done = n < s->idx_total ? n : s->idx_total;
	}
	free(v);
	progress(s, false);
}

/* --- loaders -------------------------------------------------------------- */

static void count_staged(struct stream *s, int64_t delta)
{
	s->staged = (uint64_t)((int64_t)s->staged + delta);
	if (s->staged > s->staged_peak)
		s->staged_peak = s->staged;
}

/* A list file for pg_restore -L holding text; its path (caller frees). */
static char *write_list(struct stream *s, const char *text, struct err *e)
{
	char *path = xasprintf("%s/load-%d.list", s->c->work, ++s->list_seq);
	if (fsx_write_atomic(path, text, strlen(text), 0600, e) < 0) {
		free(path);
		return NULL;
	}
	return path;
}

/* pg_restore of the entries of list (NULL: all of the section) into the shadow. */
static struct proc *spawn_restore(struct stream *s, const char *list, const char *section, int jobs,
				  void (*on_tick)(void *), struct err *e)
{
	struct restore_ctx *c = s->c;
	struct strv argv = {0};
	strv_push(&argv, c->pg_restore.path);
	strv_push(&argv, "--no-password");
	strv_push(&argv, "--exit-on-error");
	if (jobs > 1) {
		char *j = xasprintf("--jobs=%d", jobs);
		strv_push(&argv, j);
		free(j);
	}
	if (section) {
		char *sec = xasprintf("--section=%s", section);
		strv_push(&argv, sec);
		free(sec);
	}
	if (list) {
		char *use = xasprintf("--use-list=%s", list);
		strv_push(&argv, use);
		free(use);
	}
	strv_push(&argv, "--dbname");
	strv_push(&argv, "{CONNINFO}");
	strv_push(&argv, s->dump_dir);
	struct dump_run_opts ro = {.events = c->ev, .cancel = c->o->cancel, .step = "verify"};
	struct proc *p = dump_spawn_pg_program(&argv, s->conninfo, NULL, &ro, on_tick, s, e);
	strv_done(&argv);
	return p;
}

/* Reap slot i's loader: its error, its staged files removed. */
static int reap(struct stream *s, int i, struct err *e)
{
	struct loader *l = &s->slots[i];
	int rc = dump_wait(l->proc, "pg_restore", e);
	l->proc = NULL;
	if (rc < 0 && e->kind != ERR_INTERRUPTED)
		err_prefix(e, "loading %s", l->what);
	for (size_t k = 0; k < l->files.n; k++)
		unlink(l->files.v[k]);
	count_staged(s, -(int64_t)l->bytes);
	s->tables_done += rc == 0 ? l->tables : 0;
	strv_done(&l->files);
	free(l->what);
	*l = (struct loader){0};
	return rc;
}

/* Reap the loaders that have ended (all of them when wait_all). */
static int reap_ended(struct stream *s, bool wait_all, struct err *e)
{
	for (int i = 0; i < s->nslots; i++)
		if (s->slots[i].proc && (wait_all || proc_ended(s->slots[i].proc)) && reap(s, i, e) < 0)
			return -1;
	return 0;
}

static int check_cancel(struct stream *s, struct err *e)
{
	if (s->c->o->cancel && *s->c->o->cancel)
		return err_set(e, ERR_INTERRUPTED, "restore of %s interrupted", s->c->bundle);
	return 0;
}

/* A free slot, waiting for a loader to end when all are busy. */
static int free_slot(struct stream *s, struct err *e)
{
	for (;;) {
		if (reap_ended(s, false, e) < 0 || check_cancel(s, e) < 0)
			return -1;
		for (int i = 0; i < s->nslots; i++)
			if (!s->slots[i].proc)
				return i;
		poll(NULL, 0, 5);
	}
}

/* Start the gathered batch's pg_restore. */
static int flush_batch(struct stream *s, struct err *e)
{
	if (!s->batch_files.n)
		return 0;
	int i = free_slot(s, e);
	char *list = i < 0 ? NULL : write_list(s, s->batch_list.data, e);
	struct proc *p = list ? spawn_restore(s, list, NULL, 1, NULL, e) : NULL;
	free(list);
	if (!p)
		return -1;
	s->slots[i] = (struct loader){.proc = p, .files = s->batch_files, .bytes = s->batch_bytes,
				      .tables = s->batch_tables,
				      .what = xasprintf("%zu small tables", s->batch_tables)};
	s->batch_files = (struct strv){0};
	sbuf_done(&s->batch_list);
	s->batch_bytes = 0;
	s->batch_tables = 0;
	return 0;
}

/* --- members ------------------------------------------------------------ */

/* The toc entry whose data file is rel ("1234.dat", "1234.dat.gz"), or -1. */
static long data_entry(const struct stream *s, const char *rel)
{
	char *end = NULL;
	long id = strtol(rel, &end, 10);
	if (end == rel || !str_starts(end, ".dat"))
		return -1;
	for (size_t i = 0; i < s->toc.n; i++)
		if (s->toc.v[i].dump_id == id)
			return strcmp(s->toc.v[i].desc, "TABLE DATA") == 0 && !s->loaded[i] ? (long)i : -1;
	return -1;
}

static const char *entry_what(const struct toc_entry *te, char *buf, size_t len)
{
	char sch[128] = "", name[128] = "";
	sscanf(te->rest, "%127s %127s", sch, name);
	snprintf(buf, len, "%s.%s", sch, name);
	return buf;
}

/* Open the FIFO once its pg_restore opened the other end. */
static int open_fifo(struct stream *s, struct loader *l, const char *path, struct err *e)
{
	for (;;) {
		s->fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (s->fd >= 0)
			break;
		if (errno != ENXIO)
			return err_set(e, ERR_FAILED, "cannot open %s: %s", path, strerror(errno));
		if (proc_ended(l->proc)) {
			int i = (int)(l - s->slots);
			if (reap(s, i, e) < 0)
				return -1;
			return err_set(e, ERR_FAILED, "pg_restore ended before it read %s", path);
		}
		if (check_cancel(s, e) < 0)
			return -1;
		poll(NULL, 0, 2);
	}
	fcntl(s->fd, F_SETPIPE_SZ, FIFO_PIPE_BYTES);   /* fewer wake-ups; a smaller pipe works too */
	return 0;
}

/* A large table's data: a FIFO read by a pg_restore of that entry alone. */
static int start_fifo(struct stream *s, size_t entry, struct err *e)
{
	int i = free_slot(s, e);
	if (i < 0)
		return -1;
	if (mkfifo(s->path, 0600) < 0)
		return err_set(e, ERR_FAILED, "cannot create %s: %s", s->path, strerror(errno));
	const struct toc_entry *te = &s->toc.v[entry];
	char line[64], what[300];
	snprintf(line, sizeof line, "%d;\n", te->dump_id);
	char *list = write_list(s, line, e);
	struct proc *p = list ? spawn_restore(s, list, NULL, 1, NULL, e) : NULL;
	free(list);
	if (!p) {
		unlink(s->path);
		return -1;
	}
	struct loader *l = &s->slots[i];
	*l = (struct loader){.proc = p, .tables = 1,
			     .what = xstrdup(entry_what(te, what, sizeof what))};
	strv_push(&l->files, s->path);
	s->loaded[entry] = true;
	s->kind = MK_FIFO;
	return open_fifo(s, l, s->path, e);
}

static int open_staged(struct stream *s, uint64_t size, struct err *e)
{
	s->fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s->fd < 0)
		return err_set(e, ERR_FAILED, "cannot create %s: %s", s->path, strerror(errno));
	count_staged(s, (int64_t)size);
	return 0;
}

static int load_header(struct stream *s, const struct bundle_entry *ent, struct err *e)
{
	s->kind = MK_NONE;
	if (reap_ended(s, false, e) < 0)
		return -1;
	if (ent->type != BUNDLE_REG || !str_starts(ent->name, s->dump_prefix))
		return 0;
	const char *rel = ent->name + strlen(s->dump_prefix);
	free(s->path);
	s->path = xasprintf("%s/%s", s->dump_dir, rel);
	if (strchr(rel, '/'))
		return err_set(e, ERR_VERIFY, "bundle %s: %s is below the dump's directory", s->c->bundle,
			       ent->name);
	if (strcmp(rel, "toc.dat") == 0) {
		s->kind = MK_TOC;
		return open_staged(s, ent->size, e) < 0 ? -1 : BUNDLE_STREAM_CONTENT;
	}
	/* A bundle repacked in another order: what comes before the table of
	 * contents is staged and loaded once the pass is complete. */
	long entry = s->prelude_done ? data_entry(s, rel) : -1;
	if (entry >= 0 && ent->size >= STREAM_MIN_BYTES)
		return start_fifo(s, (size_t)entry, e) < 0 ? -1 : BUNDLE_STREAM_CONTENT;
	if (entry >= 0) {
		s->kind = MK_STAGED;
		s->loaded[entry] = true;
		char line[64];
		snprintf(line, sizeof line, "%d;\n", s->toc.v[entry].dump_id);
		sbuf_add(&s->batch_list, line, strlen(line));
		strv_push(&s->batch_files, s->path);
		s->batch_bytes += ent->size;
		s->batch_tables++;
	} else {
		s->kind = MK_KEPT;
	}
	return open_staged(s, ent->size, e) < 0 ? -1 : BUNDLE_STREAM_CONTENT;
}

/* All of data into the member's file or FIFO (possibly from the bundle's
 * second thread: only the member's own fields are touched here). */
static int load_content(struct stream *s, const void *data, size_t n, struct err *e)
{
	const char *p = data;
	s->read_bytes += n;
	progress(s, false);
	while (n > 0) {
		ssize_t w = write(s->fd, p, n);
		if (w > 0) {
			p += w, n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = {.fd = s->fd, .events = POLLOUT};
			poll(&pf, 1, 100);
			if (check_cancel(s, e) < 0)
				return -1;
			continue;
		}
		if (errno == EPIPE)
			return err_set(e, ERR_FAILED, "pg_restore stopped reading %s", s->path);
		if (errno == ENOSPC || errno == EDQUOT) {
			err_set(e, ERR_SPACE, "no space left staging %s", s->path);
			return err_hint(e, "free space in %s", s->c->p->backup.dir);
		}
		return err_set(e, ERR_FAILED, "cannot write %s: %s", s->path, strerror(errno));
	}
	return 0;
}

/* The table of contents is in and matched its hash: the shadow and its
 * pre-data. */
static int prelude(struct stream *s, struct err *e)
{
	struct restore_ctx *c = s->c;
	char *list_path = xasprintf("%s/toc.txt", c->work);
	int rc = toc_read_dump(c->pg_restore.path, s->dump_dir, list_path, c->o->cancel, &s->toc, e);
	free(list_path);
	if (rc < 0 || restore_shadow_choose(c, e) < 0 || restore_shadow_create(c, e) < 0)
		return -1;
	if (fault_point("restore.shadow.created") < 0)
		return err_set(e, ERR_FAILED, "injected fault before loading the shadow");
	s->conninfo = restore_shadow_load_conninfo(c);
	if (!s->conninfo)
		return -1;
	s->loaded = xcalloc(s->toc.n + 1, sizeof *s->loaded);
	for (size_t i = 0; i < s->toc.n; i++) {
		const char *d = s->toc.v[i].desc;
		s->tables_total += strcmp(d, "TABLE DATA") == 0;
		s->idx_total += strcmp(d, "INDEX") == 0 || strcmp(d, "CONSTRAINT") == 0;
	}
	event_log(c->ev, EV_INFO, "the table of contents is in: pre-data into %s while the rest streams",
		  c->shadow);
	struct proc *p = spawn_restore(s, NULL, "pre-data", 1, NULL, e);
	if (!p || dump_wait(p, "pg_restore", e) < 0)
		return -1;
	s->prelude_done = true;
	return 0;
}

static int load_member(struct stream *s, const struct bundle_member *m, const char *content,
		       struct err *e)
{
	if (s->kind == MK_NONE)
		s->read_bytes += m->size;   /* streamed members were counted as they went */
	if (content)   /* the roles file: before the dump in bundle order */
		return restore_shadow_apply_globals(s->c, content);
	enum member_kind kind = s->kind;
	s->kind = MK_NONE;
	if (kind == MK_NONE)
		return 0;
	close(s->fd);
	s->fd = -1;
	int rc = 0;
	if (kind == MK_TOC)
		rc = prelude(s, e);
	else if (kind == MK_STAGED && (s->batch_bytes >= BATCH_MAX_BYTES ||
				       s->batch_files.n >= BATCH_MAX_FILES))
		rc = flush_batch(s, e);
	if (rc == 0)
		rc = fault_point("restore.stream.member");
	progress(s, false);
	return rc < 0 ? -1 : 0;
}

/* A load's failure waits for the pass: damaged bytes that made pg_restore
 * fail must be told as the member that does not match its hash (exit 4),
 * not as the error they caused. From the first failure on, the pass only
 * hashes; that failure is told once every member matched. A cancel is not
 * deferred. */
static int defer(struct stream *s, struct err *e)
{
	if (e->kind == ERR_INTERRUPTED)
		return -1;
	if (!s->broken) {
		s->load_err = *e;
		s->broken = true;
	}
	*e = (struct err){0};
	return 0;
}

static int on_header(void *ud, const struct bundle_entry *ent, struct err *e)
{
	struct stream *s = ud;
	if (s->broken)
		return 0;
	int rc = load_header(s, ent, e);
	if (rc >= 0)
		return rc;
	if (e->kind == ERR_VERIFY)
		return -1;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->kind = MK_NONE;
	return defer(s, e);
}

static int on_content(void *ud, const void *data, size_t n, struct err *e)
{
	struct stream *s = ud;
	if (s->broken || s->fd < 0)
		return 0;
	if (load_content(s, data, n, e) == 0)
		return 0;
	/* The fd stays open (only this thread writes to it): on_member closes it. */
	return defer(s, e);
}

static int on_member(void *ud, const struct bundle_member *m, const char *content, struct err *e)
{
	struct stream *s = ud;
	if (s->broken) {
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		s->kind = MK_NONE;
		return 0;
	}
	return load_member(s, m, content, e) < 0 ? defer(s, e) : 0;
}

/* --- the step ----------------------------------------------------------- */

/* Every entry of the data section not loaded yet (sequence values, large
 * objects), then post-data with jobs. */
static int finish(struct stream *s, struct err *e)
{
	struct restore_ctx *c = s->c;
	if (flush_batch(s, e) < 0 || reap_ended(s, true, e) < 0)
		return -1;
	progress(s, true);
	struct sbuf rest = {0};
	sbuf_add(&rest, "", 0);
	for (size_t i = 0; i < s->toc.n; i++)
		if (!s->loaded[i])
			sbuf_addf(&rest, "%d;\n", s->toc.v[i].dump_id);
	char *list = write_list(s, rest.data, e);
	sbuf_done(&rest);
	struct proc *p = list ? spawn_restore(s, list, "data", c->jobs, NULL, e) : NULL;
	free(list);
	if (!p || dump_wait(p, "pg_restore", e) < 0)
		return -1;
	event_log(c->ev, EV_INFO, "every member verified: indexes, constraints and triggers (%d jobs)",
		  c->jobs);
	p = spawn_restore(s, NULL, "post-data", c->jobs, watch_indexes, e);
	if (!p || dump_wait(p, "pg_restore", e) < 0)
		return -1;
	s->idx_done = s->idx_total;
	progress(s, true);
	return restore_shadow_props(c, e);
}

static void stream_done(struct stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	for (int i = 0; i < s->nslots; i++) {
		proc_free(s->slots[i].proc);   /* stops one still running */
		strv_done(&s->slots[i].files);
		free(s->slots[i].what);
	}
	free(s->slots);
	toc_done(&s->toc);
	free(s->loaded);
	strv_done(&s->batch_files);
	sbuf_done(&s->batch_list);
	db_close(s->watch);
	free(s->path), free(s->dump_dir), free(s->dump_prefix), free(s->conninfo);
}

int restore_stream_step(void *ctx, struct step_run *sr, struct err *e)
{
	struct restore_ctx *c = ctx;
	const struct manifest *m = &c->r->manifest;
	struct stream s = {.c = c, .e = e, .fd = -1, .nslots = c->jobs > 0 ? c->jobs : 1,
			   .total_bytes = manifest_total_bytes(m)};
	s.slots = xcalloc((size_t)s.nslots, sizeof *s.slots);
	s.dump_dir = xasprintf("%s/%s", c->work, m->dump.path);
	s.dump_prefix = xasprintf("%s/", m->dump.path);
	struct verify_opts vo = {.events = c->ev, .cancel = c->o->cancel,
				 .public_key = c->p->signing.public_key,
				 .stream_header = on_header, .stream_content = on_content,
				 .stream_member = on_member, .stream_ud = &s};
	struct bundle_route route = restore_files_route(c);
	if (c->want_files) {
		vo.extract = &route;
		vo.nextract = 1;
	}
	int rc = fsx_mkdir_p(s.dump_dir, 0700, e);
	struct verify_result vr;
	memset(&vr, 0, sizeof vr);
	if (rc == 0) {
		event_log(c->ev, EV_INFO, "checking the hashes while loading the shadow database");
		rc = verify_pass(c->bundle, &vo, &vr, e);
	}
	if (rc == 0 && s.broken) {
		/* The loader that failed says best why. */
		struct err why = {0};
		*e = reap_ended(&s, true, &why) < 0 ? why : s.load_err;
		rc = -1;
	}
	if (rc == 0 && !s.prelude_done)
		rc = err_set(e, ERR_VERIFY, "bundle %s: no %stoc.dat", c->bundle, s.dump_prefix);
	if (rc == 0) {
		manifest_done(&c->r->manifest);
		c->r->manifest = vr.manifest;   /* moved: the verified one */
		memset(&vr.manifest, 0, sizeof vr.manifest);
		rc = finish(&s, e);
	}
	c->r->staging_peak_bytes = s.staged_peak;
	if (rc < 0 && e->kind != ERR_INTERRUPTED && e->kind != ERR_VERIFY)
		err_hint(e, "the shadow database is dropped; the live database was not touched");
	if (rc == 0) {
		char sz[32];
		step_note(sr, "%zu members%s, %s; %zu tables; peak staging %s", vr.members_checked,
			  vr.signature_ok ? ", signature verified" : "", c->shadow, s.tables_done,
			  util_human_bytes(s.staged_peak, sz, sizeof sz));
	}
	verify_result_done(&vr);
	stream_done(&s);
	return rc < 0 ? -1 : STEP_DONE;
}
