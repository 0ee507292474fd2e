/* drill_checks — the drill's last steps: the profile's application checks
 * on the scratch database, and the record (the scratch database dropped or
 * kept, the outcome in the drill log and the bundle's .verified record). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "restore_db.h"
#include "util.h"

#include "flow/drill_int.h"
#include "flow/drill_log.h"
#include "flow/verified.h"

/* --- application checks ------------------------------------------------------------- */

bool drill_wants_checks(void *ctx)
{
	return ((struct drill_ctx *)ctx)->p->drill.nchecks > 0;
}

char *drill_checks_detail(void *ctx)
{
	const struct profile *p = ((struct drill_ctx *)ctx)->p;
	struct strv names = {0};
	for (size_t i = 0; i < p->drill.nchecks; i++)
		strv_push(&names, p->drill.checks[i].name);
	char *list = strv_join(&names, ", ");
	char *d = xasprintf("%zu check%s (%s), read only", names.n, names.n == 1 ? "" : "s", list);
	free(list);
	strv_done(&names);
	return d;
}

/* A parameter's value: "{bundle_created}" is the bundle's creation time. */
static char *param_value(const struct drill_ctx *c, const char *raw)
{
	static const char mark[] = "{bundle_created}";
	const char *created = c->rr.manifest.created_at ? c->rr.manifest.created_at : "";
	struct sbuf b = {0};
	const char *at;
	while ((at = strstr(raw, mark))) {
		sbuf_add(&b, raw, (size_t)(at - raw));
		sbuf_adds(&b, created);
		raw = at + sizeof mark - 1;
	}
	sbuf_adds(&b, raw);
	return sbuf_take(&b);
}

/* What a query gave: its single value, else its row count. */
static char *answer_of(const db_result *res)
{
	if (db_result_rows(res) == 1 && db_result_cols(res) == 1) {
		const char *v = db_result_value(res, 0, 0);
		return xstrdup(v ? v : "null");
	}
	return xasprintf("%d", db_result_rows(res));
}

/* One check, inside its own savepoint so a failing query leaves the
 * transaction usable for the next. */
static void run_check(db_conn *db, const struct drill_ctx *c, const struct profile_drill_check *k,
		      struct drill_check *out)
{
	*out = (struct drill_check){.name = xstrdup(k->name), .expect = xstrdup(k->expect)};
	const char **params = xcalloc(k->params.n + 1, sizeof *params);
	for (size_t i = 0; i < k->params.n; i++)
		params[i] = param_value(c, k->params.v[i]);
	struct err qe = {0};
	db_exec(db, "SAVEPOINT ferry_check", NULL);
	db_result *res = db_query(db, k->sql, (int)k->params.n, params, &qe);
	if (res) {
		out->got = answer_of(res);
		out->ok = strcmp(out->got, k->expect) == 0;
		db_exec(db, "RELEASE SAVEPOINT ferry_check", NULL);
	} else {
		out->error = xstrdup(qe.msg);
		db_exec(db, "ROLLBACK TO SAVEPOINT ferry_check", NULL);
	}
	db_result_free(res);
	for (size_t i = 0; i < k->params.n; i++)
		free((char *)params[i]);
	free(params);
}

/* ERR_VERIFY naming the first check that failed. */
static int checks_failed(const struct drill_result *r, size_t bad, struct err *e)
{
	const struct drill_check *k = NULL;
	for (size_t i = 0; i < r->nchecks && !k; i++)
		k = r->checks[i].ok ? NULL : &r->checks[i];
	char more[64] = "";
	if (bad > 1)
		snprintf(more, sizeof more, " (and %zu more)", bad - 1);
	if (k->error)
		err_set(e, ERR_VERIFY, "application check \"%s\" failed: %s%s", k->name, k->error, more);
	else
		err_set(e, ERR_VERIFY, "application check \"%s\" failed: expected %s, got %s%s", k->name,
			k->expect, k->got, more);
	return err_hint(e, "the restored database is not what the application needs (drill.checks in "
			"the profile); the drill log has every check's answer");
}

int drill_step_checks(void *ctx, struct step_run *sr, struct err *e)
{
	struct drill_ctx *c = ctx;
	struct drill_result *r = c->r;
	double t0 = util_now();
	db_conn *db = db_connect(c->rc.shadow_conninfo, e);
	if (!db || db_exec(db, "BEGIN READ ONLY", e) < 0) {
		db_close(db);
		return -1;
	}
	const struct profile *p = c->p;
	r->checks = xcalloc(p->drill.nchecks, sizeof *r->checks);
	size_t bad = 0;
	for (size_t i = 0; i < p->drill.nchecks; i++) {
		struct drill_check *k = &r->checks[r->nchecks++];
		run_check(db, c, &p->drill.checks[i], k);
		bad += !k->ok;
		event_log(c->ev, k->ok ? EV_INFO : EV_ERROR, "check %s: %s (expected %s)", k->name,
			  k->error ? k->error : k->got, k->expect);
	}
	db_exec(db, "ROLLBACK", NULL);
	db_close(db);
	r->checks_s = util_now() - t0;
	if (bad)
		return checks_failed(r, bad, e);
	step_note(sr, "%zu check%s passed", r->nchecks, r->nchecks == 1 ? "" : "s");
	return STEP_DONE;
}

/* --- the record ------------------------------------------------------------------------ */

void drill_drop_scratch(struct drill_ctx *c)
{
	struct restore_ctx *rc = &c->rc;
	if (!rc->shadow_created || c->r->kept || !rc->admin)
		return;
	struct err ignored = {0};
	if (restore_db_drop(rc->admin, rc->shadow, &ignored) == 0) {
		journal_forget(c->journal, "database", rc->shadow, NULL);
		rc->shadow_created = false;
	} else {
		event_log(c->ev, EV_WARN, "cannot drop %s: %s (the next drill drops it)", rc->shadow, ignored.msg);
	}
}

char *drill_record_detail(void *ctx)
{
	const struct drill_ctx *c = ctx;
	return xasprintf("%s %s; the outcome into %s/drill_log.json and the bundle's .verified record",
			 c->o->check_only ? "leave" : c->o->keep ? "keep" : "drop",
			 c->o->check_only ? c->o->check_only : "the scratch database", c->p->log_dir);
}

/* The seconds of the run's steps named. */
static double seconds_of(const struct flow_report *rep, const char *const *ids)
{
	double s = 0;
	for (size_t i = 0; i < rep->n; i++)
		for (const char *const *id = ids; *id; id++)
			if (strcmp(rep->steps[i].id, *id) == 0)
				s += rep->steps[i].seconds;
	return s;
}

/* Keep the scratch database (asked, and not interrupted) with a way to
 * reach it, or drop it. */
static void keep_or_drop(struct drill_ctx *c, const struct err *failure)
{
	bool interrupted = failure && failure->kind == ERR_INTERRUPTED;
	if (c->o->keep && c->rc.shadow_created && !interrupted) {
		c->r->kept = true;
		char *ci = db_conninfo_with_dbname(c->server->database.url, c->rc.shadow, NULL);
		c->r->connect = ci ? profile_redact_url(ci) : NULL;
		free(ci);
		return;
	}
	drill_drop_scratch(c);
}

int drill_step_record(void *ctx, struct step_run *sr, struct err *e)
{
	struct drill_ctx *c = ctx;
	struct drill_result *r = c->r;
	const struct err *failure = step_failure(sr);
	r->ok = failure == NULL;
	if (failure)
		r->error = *failure;
	bool made = c->rc.shadow_created;
	keep_or_drop(c, failure);
	static const char *const restore_steps[] = {"verify", "load", "gate", NULL};
	/* From offsite, a real restore would fetch it first too. */
	r->restore_s = seconds_of(step_report(sr), restore_steps) + r->fetch_s;
	r->duration_s = util_now() - c->started;
	r->bundle_created = xstrdup(c->rr.manifest.created_at);
	json_t *rec = drill_result_json(c->p, r);
	int rc = drill_log_append(c->p, rec, &r->log_path, e);
	json_decref(rec);
	if (r->bundle && failure && strcmp(step_failed(sr), "preflight") != 0)
		verified_write_drill(r->bundle, false, failure->msg);
	else if (r->bundle && !failure)
		verified_write_drill(r->bundle, true, NULL);
	if (rc < 0)
		return -1;
	const char *what = r->kept ? "kept" : c->o->check_only ? "left" : made ? "dropped" : "no scratch database made";
	step_note(sr, "%s%s%s; %s", what, r->kept || c->o->check_only || made ? " " : "",
		  r->kept || c->o->check_only || made ? r->scratch : "", r->log_path);
	return STEP_DONE;
}
