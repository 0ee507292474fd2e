/* flow_reset — `ferry reset`: the database made again, empty, for
 * development and staging. A table of steps (core/step.h): preflight (not
 * a template database; its owner, encoding and locale) → (confirm) →
 * safety backup → recreate → migrations → seeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "db.h"
#include "dbname.h"
#include "flow/backup.h"
#include "flow/reset.h"
#include "migrate_db.h"
#include "step.h"
#include "util.h"
#include "flow/flow.h"

/* What a database is made of, to make it again. */
struct db_shape {
	char *owner, *encoding, *collate, *ctype;
	char provider;                /* 'c' libc, 'i' icu, 'b' builtin */
	char *locale;                 /* the ICU or builtin locale */
};

struct reset_ctx {
	const struct profile *p;
	const struct reset_opts *o;
	struct reset_result *r;
	struct err *e;
	db_conn *admin;
	struct db_shape shape;
};

void reset_result_done(struct reset_result *r)
{
	free(r->database);
	free(r->safety_bundle);
	flow_report_done(&r->report);
	memset(r, 0, sizeof *r);
}

/* Free a shape's strings. */
static void shape_done(struct db_shape *s)
{
	free(s->owner), free(s->encoding), free(s->collate), free(s->ctype), free(s->locale);
	memset(s, 0, sizeof *s);
}

/* The query reading a database's shape on this server version. */
static const char *shape_sql(int version)
{
	if (version >= 170000)
		return "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, "
		       "datctype, datlocprovider::text, datlocale FROM pg_database WHERE datname = $1";
	if (version >= 150000)
		return "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, "
		       "datctype, datlocprovider::text, daticulocale FROM pg_database WHERE datname = $1";
	return "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, "
	       "datctype, 'c', NULL FROM pg_database WHERE datname = $1";
}

/* " KEYWORD 'value'" when value is set, else "". Caller frees. */
static char *clause(const char *keyword, const char *value)
{
	if (!value || !*value)
		return xstrdup("");
	char *q = db_quote_literal(value);
	char *out = xasprintf(" %s %s", keyword, q);
	free(q);
	return out;
}

/* CREATE DATABASE name like the shape (or plain when there is none). */
static char *create_sql(const char *name, const struct db_shape *s, bool like)
{
	char *qname = db_quote_ident(name);
	if (!like) {
		char *sql = xasprintf("CREATE DATABASE %s", qname);
		free(qname);
		return sql;
	}
	char *enc = clause("ENCODING", s->encoding), *col = clause("LC_COLLATE", s->collate);
	char *ctype = clause("LC_CTYPE", s->ctype);
	char *loc = clause(s->provider == 'i' ? "LOCALE_PROVIDER icu ICU_LOCALE"
			   : "LOCALE_PROVIDER builtin BUILTIN_LOCALE", s->provider == 'c' ? NULL : s->locale);
	char *owner = s->owner ? db_quote_ident(s->owner) : NULL;
	char *sql = xasprintf("CREATE DATABASE %s TEMPLATE template0%s%s%s%s%s%s", qname, enc, col,
			      ctype, loc, owner ? " OWNER " : "", owner ? owner : "");
	free(qname), free(enc), free(col), free(ctype), free(loc), free(owner);
	return sql;
}

/* Terminate the database's other sessions and drop it. */
static int drop_database(db_conn *admin, const char *name, struct err *e)
{
	const char *params[] = {name};
	db_result *res = db_query(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
				  "WHERE datname = $1 AND pid <> pg_backend_pid()", 1, params, e);
	if (!res)
		return -1;
	db_result_free(res);
	char *q = db_quote_ident(name);
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s%s", q,
			      db_server_version_num(admin) >= 130000 ? " WITH (FORCE)" : "");
	int rc = db_exec(admin, sql, e);
	free(q);
	free(sql);
	return rc;
}

/* A connection to a maintenance database other than the one being reset. */
static db_conn *connect_maintenance(const char *url, const char *dbname, struct err *e)
{
	static const char *const maintenance[] = {"postgres", "template1"};
	db_conn *db = NULL;
	for (size_t i = 0; i < 2 && !db; i++) {
		if (strcmp(maintenance[i], dbname) == 0)
			continue;
		char *ci = db_conninfo_with_dbname(url, maintenance[i], e);
		if (!ci)
			return NULL;
		db = db_connect(ci, e);
		free(ci);
	}
	return db;
}


/* Read the database's shape; r->existed false when there is no such database. */
static int read_shape(struct reset_ctx *c, struct err *e)
{
	const char *params[] = {c->r->database};
	db_result *res = db_query(c->admin, shape_sql(db_server_version_num(c->admin)), 1, params, e);
	if (!res)
		return -1;
	c->r->existed = db_result_rows(res) > 0;
	if (c->r->existed) {
		c->shape.owner = xstrdup(db_result_value(res, 0, 0));
		c->shape.encoding = xstrdup(db_result_value(res, 0, 1));
		c->shape.collate = xstrdup(db_result_value(res, 0, 2));
		c->shape.ctype = xstrdup(db_result_value(res, 0, 3));
		const char *prov = db_result_value(res, 0, 4);
		c->shape.provider = prov && *prov ? prov[0] : 'c';
		c->shape.locale = xstrdup(db_result_value(res, 0, 5));
	}
	db_result_free(res);
	return 0;
}

/* Refuse the template databases; connect to a maintenance database. */
static int prepare(void *ctx, struct err *e)
{
	struct reset_ctx *c = ctx;
	c->r->database = db_conninfo_dbname(c->p->database.url, e);
	if (!c->r->database)
		return -1;
	const char *name = c->r->database;
	if (strcmp(name, "template0") == 0 || strcmp(name, "template1") == 0)
		return err_set(e, ERR_REFUSED, "reset refuses to drop the template database %s", name);
	c->admin = connect_maintenance(c->p->database.url, name, e);
	return c->admin ? read_shape(c, e) : -1;
}

static char *plan_title(void *ctx)
{
	const struct reset_ctx *c = ctx;
	char *url = profile_redact_url(c->p->database.url);
	char *t = xasprintf("reset %s (%s)", c->r->database, url);
	free(url);
	return t;
}

static char *confirm_word(void *ctx)
{
	return xstrdup(((struct reset_ctx *)ctx)->r->database);
}

/* --- steps --------------------------------------------------------------- */

static bool existed(void *ctx)
{
	return ((struct reset_ctx *)ctx)->r->existed;
}

static char *safety_detail(void *ctx)
{
	return xasprintf("type pre-reset, into %s", ((struct reset_ctx *)ctx)->p->backup.dir);
}

static int step_safety(void *ctx, struct step_run *sr, struct err *e)
{
	struct reset_ctx *c = ctx;
	struct backup_opts bo = {.type = "pre-reset", .db_only = true, .no_prune = true,
				 .skip_missing_paths = true, .cancel = step_cancel(sr)};
	struct backup_result br;
	int rc = backup_run(c->p, &bo, &br, e);
	if (rc == 0) {
		c->r->safety_bundle = xstrdup(br.path);
		step_note(sr, "%s", br.path);
	} else {
		err_prefix(e, "safety backup");
		err_hint(e, "nothing was changed");
	}
	backup_result_done(&br);
	return rc;
}

/* Make the new database under a scratch name, drop the old, rename the new:
 * a failure before the drop leaves the old database as it was. */
static int swap_in_new(struct reset_ctx *c, struct err *e)
{
	const char *name = c->r->database;
	char pid[24];
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	char *scratch = dbname_derive(name, "ferry_reset", pid);
	char *sql = create_sql(scratch, &c->shape, true);
	int rc = drop_database(c->admin, scratch, e);
	if (rc == 0)
		rc = db_exec(c->admin, sql, e);
	free(sql);
	if (rc == 0 && drop_database(c->admin, name, e) < 0) {
		drop_database(c->admin, scratch, NULL);
		rc = err_hint(e, "the database %s was left as it was", name);
	} else if (rc == 0) {
		char *qs = db_quote_ident(scratch), *qn = db_quote_ident(name);
		sql = xasprintf("ALTER DATABASE %s RENAME TO %s", qs, qn);
		rc = db_exec(c->admin, sql, e);
		if (rc < 0)
			err_hint(e, "the new database is %s: rename it by hand (%s), or restore %s",
				 scratch, sql, c->r->safety_bundle ? c->r->safety_bundle : "the safety bundle");
		free(qs), free(qn), free(sql);
	}
	free(scratch);
	return rc;
}

static char *recreate_detail(void *ctx)
{
	const struct reset_ctx *c = ctx;
	return c->r->existed ? xasprintf("%s: same owner, encoding and locale; its sessions are ended",
					 c->r->database)
			     : xasprintf("%s does not exist yet: created", c->r->database);
}

static int step_recreate(void *ctx, struct step_run *sr, struct err *e)
{
	struct reset_ctx *c = ctx;
	int rc;
	if (c->r->existed) {
		rc = swap_in_new(c, e);
	} else {
		char *sql = create_sql(c->r->database, &c->shape, false);
		rc = db_exec(c->admin, sql, e);
		free(sql);
	}
	db_close(c->admin);
	c->admin = NULL;
	if (rc == 0)
		step_note(sr, "%s", c->r->database);
	return rc;
}

static bool has_migrations(const struct reset_ctx *c)
{
	return c->p->migrations.dir || c->p->migrations.command;
}

static char *migrate_detail(void *ctx)
{
	const struct reset_ctx *c = ctx;
	return xstrdup(has_migrations(c) ? (c->p->migrations.command ? c->p->migrations.command
								      : c->p->migrations.dir)
					  : "the profile has no migrations");
}

static int step_migrate(void *ctx, struct step_run *sr, struct err *e)
{
	struct reset_ctx *c = ctx;
	if (!has_migrations(c)) {
		step_note(sr, "the profile has no migrations");
		return STEP_SKIPPED;
	}
	if (migrate_db_up(c->p, NULL, step_events(sr), step_cancel(sr), e) < 0)
		return -1;
	c->r->migrated = true;
	return STEP_DONE;
}

static char *seed_detail(void *ctx)
{
	const struct reset_ctx *c = ctx;
	if (c->o->no_seed)
		return xstrdup("skipped (--no-seed)");
	return c->p->seeds.n ? xasprintf("%zu file(s)", c->p->seeds.n) : xstrdup("the profile has no seeds");
}

static int step_seed(void *ctx, struct step_run *sr, struct err *e)
{
	struct reset_ctx *c = ctx;
	if (c->o->no_seed || c->p->seeds.n == 0) {
		step_note(sr, "%s", c->o->no_seed ? "--no-seed" : "the profile has no seeds");
		return STEP_SKIPPED;
	}
	return admin_run_sql_files(c->p, &c->p->seeds, step_events(sr), step_cancel(sr), &c->r->seeded,
				   e) < 0 ? -1 : STEP_DONE;
}

/* A failure after the safety backup says where the database as it was is. */
static void failed(void *ctx, const char *step, struct err *e)
{
	const struct reset_ctx *c = ctx;
	(void)step;
	if (!c->r->safety_bundle || e->kind == ERR_REFUSED)
		return;
	char *old = xstrdup(e->hint);
	if (old[0])
		err_hint(e, "%s; the database as it was is in %s", old, c->r->safety_bundle);
	else
		err_hint(e, "the database as it was is in %s (`ferry restore` it)", c->r->safety_bundle);
	free(old);
}

static const struct step reset_steps[] = {
	{.id = "safety", .title = "safety backup of the database as it is now", .applies = existed,
	 .detail = safety_detail, .run = step_safety, .asks = true},
	{.id = "recreate", .title = "drop and create the database again", .detail = recreate_detail,
	 .run = step_recreate, .destructive = true},
	{.id = "migrate", .title = "apply the schema migrations", .detail = migrate_detail,
	 .run = step_migrate},
	{.id = "seed", .title = "load the seed files", .detail = seed_detail, .run = step_seed},
};

static int reset_lock(void *ctx, const struct event_sink *ev, struct err *e)
{
	return flow_lock_profile(((struct reset_ctx *)ctx)->p, "reset", ev, e);
}

static void reset_unlock(void *ctx)
{
	flow_unlock_profile(((struct reset_ctx *)ctx)->p);
}

static const struct flow_def reset_flow = {
	.name = "reset",
	.lock = reset_lock,
	.unlock = reset_unlock,
	.steps = reset_steps,
	.nsteps = sizeof reset_steps / sizeof reset_steps[0],
	.prepare = prepare,
	.title = plan_title,
	.confirm_word = confirm_word,
	.failed = failed,
};

int reset_run(const struct profile *p, const struct reset_opts *o, struct reset_result *r,
	      struct err *e)
{
	memset(r, 0, sizeof *r);
	struct reset_ctx c = {.p = p, .o = o, .r = r, .e = e};
	struct flow_run_opts ro = {.events = o->events, .cancel = o->cancel, .yes = o->yes,
				   .confirm = o->confirm, .confirm_ud = o->confirm_ud};
	int rc = flow_run(&reset_flow, &c, &ro, &r->report, e);
	db_close(c.admin);
	shape_done(&c.shape);
	r->duration_s = r->report.seconds;
	return rc;
}

int reset_plan(const struct profile *p, const struct reset_opts *o, struct plan *plan, struct err *e)
{
	struct reset_result r = {0};
	struct reset_ctx c = {.p = p, .o = o, .r = &r, .e = e};
	int rc = flow_plan(&reset_flow, &c, plan, e);
	db_close(c.admin);
	shape_done(&c.shape);
	reset_result_done(&r);
	return rc;
}
