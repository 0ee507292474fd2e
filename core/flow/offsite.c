/* flow_offsite — push, pull and prune over a profile's offsite targets as
 * step tables (see flow/offsite.h). A push or prune has one step per
 * target; the table is built in the context, the steps run in its order,
 * and a cursor tells each step's check and run which target is theirs. */
#include "flow/offsite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/age.h"
#include "manifest.h"
#include "proc.h"
#include "util.h"

struct off_ctx {
	const struct offsite_flow_opts *o;
	const struct profile *p;
	const char *arg;                 /* the bundle (push), the name (pull) */
	const char *identity;
	bool dry_run;
	const struct profile_offsite **targets;
	size_t ntargets;
	size_t check_at, run_at;         /* the cursors */
	struct step *steps;
	struct strv ids, titles;
	struct flow_def def;
	char *upload;                    /* push: the file sent (the bundle or its .age copy) */
	char *object;
	struct offsite_push_result *push;
	struct offsite_pull_flow_result *pull;
	struct offsite_prune_result *prune;
	struct offsite_target conn;      /* pull */
	struct strv candidates;          /* pull of the newest full bundle: objects, newest first */
};

/* The targets the flow works on: o->target, or every one. */
static int pick_targets(struct off_ctx *c, bool only_one, struct err *e)
{
	const struct profile *p = c->p;
	free(c->targets);
	c->targets = NULL;
	c->ntargets = 0;
	if (c->o->target || only_one) {
		const struct profile_offsite *t = offsite_pick(p, c->o->target, e);
		if (!t)
			return -1;
		c->targets = xcalloc(1, sizeof *c->targets);
		c->targets[c->ntargets++] = t;
		return 0;
	}
	if (p->noffsite == 0)
		return offsite_pick(p, NULL, e) ? 0 : -1;
	c->targets = xcalloc(p->noffsite, sizeof *c->targets);
	for (size_t i = 0; i < p->noffsite; i++)
		c->targets[c->ntargets++] = &p->offsite[i];
	return 0;
}

/* A step per target: "<prefix>-<name>". */
static void add_target_steps(struct off_ctx *c, size_t first, const char *prefix,
			     const char *title_fmt, const struct step *proto)
{
	for (size_t i = 0; i < c->ntargets; i++) {
		char *id = xasprintf("%s-%s", prefix, c->targets[i]->name);
		char *title = xasprintf(title_fmt, c->targets[i]->name);
		strv_push(&c->ids, id);
		strv_push(&c->titles, title);
		free(id);
		free(title);
		c->steps[first + i] = *proto;
	}
	for (size_t i = 0; i < c->ntargets; i++) {
		c->steps[first + i].id = c->ids.v[c->ids.n - c->ntargets + i];
		c->steps[first + i].title = c->titles.v[c->titles.n - c->ntargets + i];
	}
}

static const struct offsite_open_opts *open_opts(const struct off_ctx *c,
						 struct offsite_open_opts *oo,
						 const struct event_sink *ev)
{
	*oo = (struct offsite_open_opts){.accept_new_host_key = c->o->accept_new_host_key,
					 .confirm_host_key = c->o->confirm_host_key,
					 .hostkey_ud = c->o->hostkey_ud, .events = ev};
	return oo;
}

/* "s3://bucket/prefix/" or "sftp://user@host:port/dir/", for details. */
static char *target_where(const struct profile_offsite *t)
{
	if (strcmp(t->type, "s3") == 0)
		return xasprintf("s3://%s/%s (%s)", t->bucket, t->prefix, t->endpoint);
	return xasprintf("sftp://%s%s%s:%d/%s", t->user ? t->user : "", t->user ? "@" : "", t->host,
			 t->port, t->dir);
}

static void ctx_done(struct off_ctx *c)
{
	offsite_close(&c->conn);
	free(c->targets);
	free(c->steps);
	strv_done(&c->ids);
	strv_done(&c->titles);
	free(c->upload);
	free(c->object);
	strv_done(&c->candidates);
}

/* ---- push ------------------------------------------------------------------ */

static bool push_encrypts(void *ctx)
{
	const struct off_ctx *c = ctx;
	return c->p->has_encryption && !str_ends(c->arg, AGE_SUFFIX);
}

/* age is installed. */
static int encrypt_check(void *ctx, struct err *e)
{
	(void)ctx;
	char *age = proc_which("age");
	if (age) {
		free(age);
		return 0;
	}
	err_set(e, ERR_TOOL, "the age program is not installed (encryption.recipients is set)");
	return err_hint(e, "apt-get install age");
}

static char *encrypt_detail(void *ctx)
{
	const struct off_ctx *c = ctx;
	char *dir = offsite_state_dir(c->p);
	char *d = xasprintf("age, %zu recipient(s) -> %s/%s (kept until every target has it)",
			    c->p->encryption.recipients.n, dir, c->object);
	free(dir);
	return d;
}

static int encrypt_run(void *ctx, struct step_run *sr, struct err *e)
{
	struct off_ctx *c = ctx;
	if (offsite_prepare(c->p, c->arg, &c->upload, step_cancel(sr), e) < 0)
		return -1;
	c->push->encrypted = true;
	step_note(sr, "%s", c->upload);
	return STEP_DONE;
}

/* The bundle opens and is a regular file. */
static int upload_check(void *ctx, struct err *e)
{
	const struct off_ctx *c = ctx;
	struct stat st;
	if (stat(c->arg, &st) != 0) {
		err_set(e, ERR_USAGE, "cannot open bundle %s: %s", c->arg, strerror(errno));
		return err_hint(e, "give a bundle path, or a name from `ferry list`");
	}
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_USAGE, "%s is not a regular file", c->arg);
	return 0;
}

static char *upload_detail(void *ctx)
{
	struct off_ctx *c = ctx;
	const struct profile_offsite *t = c->targets[c->check_at < c->ntargets ? c->check_at : 0];
	c->check_at++;
	char *where = target_where(t);
	const char *how = strcmp(t->type, "s3") == 0 ? "multipart, resumable, x-amz-meta-sha256"
						     : "resumable, sha256 checked on the server";
	char *d = xasprintf("%s -> %s%s (%s)", c->object, where, c->object, how);
	free(where);
	return d;
}

/* The copy's numbers from a put. */
static void record_copy(struct off_ctx *c, const struct offsite_target *ot,
			const struct storage_put_result *pr)
{
	struct offsite_push_result *r = c->push;
	r->copies = xrealloc(r->copies, (r->ncopies + 1) * sizeof *r->copies);
	struct offsite_copy *cp = &r->copies[r->ncopies++];
	*cp = (struct offsite_copy){.target = xstrdup(ot->t->name),
				    .where = storage_entry_path(ot->store, c->object),
				    .bytes = pr->bytes, .sent = pr->sent,
				    .resumed_from = pr->resumed_from, .parts = pr->parts,
				    .parts_resumed = pr->parts_resumed, .parts_sent = pr->parts_sent,
				    .seconds = pr->seconds,
				    .mb_per_s = pr->seconds > 0 ? (double)pr->sent / pr->seconds / 1e6 : 0};
	memcpy(cp->sha256, pr->sha256, sizeof cp->sha256);
}

static int upload_run(void *ctx, struct step_run *sr, struct err *e)
{
	struct off_ctx *c = ctx;
	const struct profile_offsite *t = c->targets[c->run_at++];
	if (!c->upload)
		c->upload = xstrdup(c->arg);
	struct offsite_open_opts oo;
	struct offsite_target ot;
	if (offsite_open(c->p, t, open_opts(c, &oo, step_events(sr)), &ot, e) < 0) {
		offsite_close(&ot);
		return -1;
	}
	char *step = xasprintf("upload-%s", t->name);
	struct storage_put_opts po = {.name = c->object, .events = step_events(sr), .step = step,
				      .cancel = step_cancel(sr)};
	struct storage_put_result pr;
	int rc = storage_put(ot.store, c->upload, &po, &pr, e);
	if (rc == 0) {
		record_copy(c, &ot, &pr);
		const struct offsite_copy *cp = &c->push->copies[c->push->ncopies - 1];
		if (pr.parts)
			step_note(sr, "%s, %u parts (%u sent, %u from an earlier run), %.0f MB/s", cp->where,
				  pr.parts, pr.parts_sent, pr.parts_resumed, cp->mb_per_s);
		else
			step_note(sr, "%s, verified, %.0f MB/s", cp->where, cp->mb_per_s);
	} else {
		err_prefix(e, "offsite target %s", t->name);
	}
	free(step);
	offsite_close(&ot);
	return rc < 0 ? -1 : STEP_DONE;
}

static int push_prepare(void *ctx, struct err *e)
{
	struct off_ctx *c = ctx;
	c->check_at = c->run_at = 0;
	if (c->steps)
		return 0;
	if (pick_targets(c, false, e) < 0)
		return -1;
	free(c->object);
	c->object = offsite_object_name(c->p, c->arg);
	c->steps = xcalloc(c->ntargets + 1, sizeof *c->steps);
	c->steps[0] = (struct step){.id = "encrypt", .title = "encrypt the bundle for the recipients",
				    .applies = push_encrypts, .check = encrypt_check,
				    .detail = encrypt_detail, .run = encrypt_run};
	static const struct step upload = {.check = upload_check, .detail = upload_detail,
					   .run = upload_run};
	add_target_steps(c, 1, "upload", "copy the bundle to offsite target %s", &upload);
	c->def.steps = c->steps;
	c->def.nsteps = c->ntargets + 1;
	return 0;
}

static char *push_title(void *ctx)
{
	const struct off_ctx *c = ctx;
	return xasprintf("copy %s offsite (%zu target%s)", c->arg, c->ntargets, c->ntargets == 1 ? "" : "s");
}

/* A context over o for arg. */
static void ctx_init(struct off_ctx *c, const struct offsite_flow_opts *o, const char *arg,
		     const char *name, int (*prepare)(void *, struct err *), char *(*title)(void *))
{
	memset(c, 0, sizeof *c);
	c->o = o;
	c->p = o->profile;
	c->arg = arg;
	c->def = (struct flow_def){.name = name, .prepare = prepare, .title = title};
}

void offsite_push_result_done(struct offsite_push_result *r)
{
	if (!r)
		return;
	free(r->bundle);
	free(r->object);
	for (size_t i = 0; i < r->ncopies; i++) {
		free(r->copies[i].target);
		free(r->copies[i].where);
	}
	free(r->copies);
	flow_report_done(&r->report);
	memset(r, 0, sizeof *r);
}

int offsite_push_plan(const struct offsite_flow_opts *o, const char *bundle, struct plan *plan,
		      struct err *e)
{
	struct offsite_push_result r = {0};
	struct off_ctx c;
	ctx_init(&c, o, bundle, "offsite-push", push_prepare, push_title);
	c.push = &r;
	int rc = flow_plan(&c.def, &c, plan, e);
	ctx_done(&c);
	offsite_push_result_done(&r);
	return rc;
}

int offsite_push_run(const struct offsite_flow_opts *o, const char *bundle,
		     struct offsite_push_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	struct off_ctx c;
	ctx_init(&c, o, bundle, "offsite-push", push_prepare, push_title);
	c.push = r;
	struct flow_run_opts fo = {.events = o->events, .cancel = o->cancel, .yes = true};
	int rc = flow_run(&c.def, &c, &fo, &r->report, e);
	r->bundle = xstrdup(bundle);
	r->object = xstrdup(c.object);
	/* Every target has the encrypted copy: it is not needed any more. */
	if (rc == 0 && r->encrypted)
		offsite_prepared_done(c.p, c.upload);
	ctx_done(&c);
	return rc;
}

/* ---- pull ------------------------------------------------------------------ */

static char *connect_detail(void *ctx)
{
	const struct off_ctx *c = ctx;
	return target_where(c->targets[0]);
}

/* Whether the local copy of a bundle named like object says it is not a
 * full bundle (no local copy: not known). */
static bool local_copy_not_full(const struct bundle_list *local, const char *object)
{
	char *plain = offsite_bundle_name(object);
	bool not_full = false;
	for (size_t i = 0; i < local->n; i++)
		if (strcmp(local->v[i].name, plain) == 0 && local->v[i].scope)
			not_full = strcmp(local->v[i].scope, MANIFEST_SCOPE_FULL) != 0;
	free(plain);
	return not_full;
}

/* No name: the profile's bundles on the target, newest first. */
static int find_candidates(struct off_ctx *c, struct step_run *sr, struct err *e)
{
	struct bundle_list there, local;
	if (offsite_list(&c->conn, &there, e) < 0)
		return -1;
	list_bundles(c->p->backup.dir, c->p->name, &local, NULL);
	for (size_t i = 0; i < there.n; i++)
		if (strcmp(there.v[i].profile, c->p->name) == 0 && !local_copy_not_full(&local, there.v[i].path))
			strv_push(&c->candidates, there.v[i].path);
	list_done(&there);
	list_done(&local);
	if (c->candidates.n == 0) {
		err_set(e, ERR_USAGE, "no full bundle of profile %s on offsite target %s", c->p->name,
			c->targets[0]->name);
		return err_hint(e, "copy one there with `ferry offsite push --to %s`", c->targets[0]->name);
	}
	c->object = xstrdup(c->candidates.v[0]);
	step_note(sr, "%zu bundle%s of profile %s there, the newest first: %s", c->candidates.n,
		  c->candidates.n == 1 ? "" : "s", c->p->name, c->object);
	return STEP_DONE;
}

/* Connect, and find the object: the name as given, or with ".age" (no
 * name: the newest bundles of the profile). */
static int connect_run(void *ctx, struct step_run *sr, struct err *e)
{
	struct off_ctx *c = ctx;
	struct offsite_open_opts oo;
	if (offsite_open(c->p, c->targets[0], open_opts(c, &oo, step_events(sr)), &c->conn, e) < 0)
		return -1;
	if (!c->arg)
		return find_candidates(c, sr, e);
	const char *base = strrchr(c->arg, '/') ? strrchr(c->arg, '/') + 1 : c->arg;
	char *with_age = str_ends(base, AGE_SUFFIX) ? xstrdup(base) : xasprintf("%s%s", base, AGE_SUFFIX);
	const char *tries[] = {c->p->has_encryption ? with_age : base,
			       c->p->has_encryption ? base : with_age};
	int rc = 1;
	for (size_t i = 0; i < 2 && rc == 1; i++) {
		struct storage_entry en;
		rc = storage_stat(c->conn.store, tries[i], &en, e);
		if (rc == 0) {
			free(c->object);
			c->object = xstrdup(tries[i]);
		}
		storage_entry_done(&en);
	}
	free(with_age);
	if (rc == 1) {
		err_set(e, ERR_USAGE, "no bundle %s on offsite target %s", base, c->targets[0]->name);
		return err_hint(e, "see `ferry offsite list --from %s`", c->targets[0]->name);
	}
	if (rc < 0)
		return -1;
	char *where = storage_entry_path(c->conn.store, c->object);
	step_note(sr, "%s", where);
	free(where);
	return STEP_DONE;
}

/* An encrypted name needs an identity, and age. */
static int fetch_check(void *ctx, struct err *e)
{
	const struct off_ctx *c = ctx;
	if ((c->p->has_encryption || (c->arg && str_ends(c->arg, AGE_SUFFIX))) && !c->identity) {
		err_set(e, ERR_USAGE, "offsite copies of profile \"%s\" are encrypted: give the identity "
			"that decrypts them", c->p->name);
		return err_hint(e, "--identity FILE: the age key or ssh private key of one of "
				"encryption.recipients");
	}
	return c->identity ? encrypt_check(ctx, e) : 0;
}

static char *fetch_detail(void *ctx)
{
	const struct off_ctx *c = ctx;
	return xasprintf("into %s as .part%s, every member's hash%s checked, then renamed",
			 c->o->dest_dir ? c->o->dest_dir : c->p->backup.dir, c->identity ? ", decrypted with the identity" : "",
			 c->p->signing.public_key ? " and the signature" : "");
}

static int fetch_run(void *ctx, struct step_run *sr, struct err *e)
{
	struct off_ctx *c = ctx;
	struct offsite_pull_opts po = {.identity = c->identity, .events = step_events(sr),
				       .step = "fetch", .dir = c->o->dest_dir, .cancel = step_cancel(sr)};
	if (offsite_pull(c->p, &c->conn, c->object, &po, &c->pull->pull, e) < 0)
		return -1;
	/* No name: the next one until a full bundle came. */
	for (size_t i = 1; !c->arg && strcmp(c->pull->pull.scope, MANIFEST_SCOPE_FULL) != 0; i++) {
		event_log(step_events(sr), EV_INFO, "%s is a %s bundle, not a full one: the next", c->object,
			  c->pull->pull.scope);
		unlink(c->pull->pull.path);
		offsite_pull_result_done(&c->pull->pull);
		if (i == c->candidates.n) {
			err_set(e, ERR_USAGE, "no full bundle of profile %s on offsite target %s", c->p->name,
				c->targets[0]->name);
			return err_hint(e, "name the bundle, or copy a full one there with `ferry offsite push`");
		}
		free(c->object);
		c->object = xstrdup(c->candidates.v[i]);
		if (offsite_pull(c->p, &c->conn, c->object, &po, &c->pull->pull, e) < 0)
			return -1;
	}
	const struct offsite_pull_result *r = &c->pull->pull;
	step_note(sr, "%s: %zu members%s%s%s", r->path, r->members,
		  r->stored_hash_checked ? ", stored sha256 matches" : "",
		  r->decrypted ? ", decrypted" : "", r->signature_ok ? ", signature verified" : "");
	return STEP_DONE;
}

static const struct step pull_steps[] = {
	{.id = "connect", .title = "connect to the offsite target and find the bundle",
	 .detail = connect_detail, .run = connect_run},
	{.id = "fetch", .title = "fetch, decrypt and verify the bundle", .check = fetch_check,
	 .detail = fetch_detail, .run = fetch_run},
};

static int pull_prepare(void *ctx, struct err *e)
{
	struct off_ctx *c = ctx;
	return pick_targets(c, true, e);
}

static char *pull_title(void *ctx)
{
	const struct off_ctx *c = ctx;
	return xasprintf("fetch %s from offsite target %s", c->arg ? c->arg : "the newest full bundle",
			 c->targets[0]->name);
}

void offsite_pull_flow_result_done(struct offsite_pull_flow_result *r)
{
	if (!r)
		return;
	free(r->target);
	free(r->object);
	offsite_pull_result_done(&r->pull);
	flow_report_done(&r->report);
	memset(r, 0, sizeof *r);
}

/* A pull context. */
static void pull_init(struct off_ctx *c, const struct offsite_flow_opts *o, const char *name,
		      const char *identity, struct offsite_pull_flow_result *r)
{
	ctx_init(c, o, name, "offsite-pull", pull_prepare, pull_title);
	c->identity = identity;
	c->pull = r;
	c->def.steps = pull_steps;
	c->def.nsteps = sizeof pull_steps / sizeof pull_steps[0];
}

int offsite_pull_plan(const struct offsite_flow_opts *o, const char *name, const char *identity,
		      struct plan *plan, struct err *e)
{
	struct offsite_pull_flow_result r = {0};
	struct off_ctx c;
	pull_init(&c, o, name, identity, &r);
	int rc = flow_plan(&c.def, &c, plan, e);
	ctx_done(&c);
	offsite_pull_flow_result_done(&r);
	return rc;
}

int offsite_pull_run(const struct offsite_flow_opts *o, const char *name, const char *identity,
		     struct offsite_pull_flow_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	struct off_ctx c;
	pull_init(&c, o, name, identity, r);
	struct flow_run_opts fo = {.events = o->events, .cancel = o->cancel, .yes = true};
	int rc = flow_run(&c.def, &c, &fo, &r->report, e);
	r->target = c.ntargets ? xstrdup(c.targets[0]->name) : NULL;
	r->object = xstrdup(c.object);
	ctx_done(&c);
	return rc;
}

/* ---- prune ----------------------------------------------------------------- */

static char *prune_detail(void *ctx)
{
	struct off_ctx *c = ctx;
	const struct profile_offsite *t = c->targets[c->check_at < c->ntargets ? c->check_at : 0];
	c->check_at++;
	const struct profile_keep *k = &t->keep;
	return xasprintf("keep last %d, daily %d, weekly %d, monthly %d, manual %d days%s", k->last,
			 k->daily, k->weekly, k->monthly, k->manual_days,
			 c->dry_run ? " (dry run: nothing is deleted)" : "");
}

/* Abort the uploads ferry started on ot and will not resume (older than a
 * day, or without their checkpoint); say so when the server cannot list them. */
static int abort_stale_uploads(struct offsite_target *ot, const struct event_sink *ev,
			       struct storage_uploads_result *up, struct err *e)
{
	if (storage_abort_stale_uploads(ot->store, 86400, up, e) < 0)
		return -1;
	if (up->unsupported)
		event_log(ev, EV_WARN, "%s does not list multipart uploads (ListMultipartUploads): "
			  "abandoned ones, if any, are not aborted", storage_describe(ot->store));
	else if (up->aborted)
		event_log(ev, EV_INFO, "%s: %u abandoned multipart upload%s aborted", storage_describe(ot->store),
			  up->aborted, up->aborted == 1 ? "" : "s");
	return 0;
}

static int prune_target_run(void *ctx, struct step_run *sr, struct err *e)
{
	struct off_ctx *c = ctx;
	const struct profile_offsite *t = c->targets[c->run_at++];
	struct offsite_open_opts oo;
	struct offsite_target ot;
	struct bundle_list l = {0};
	int rc = offsite_open(c->p, t, open_opts(c, &oo, step_events(sr)), &ot, e);
	if (rc == 0)
		rc = offsite_list(&ot, &l, e);
	struct offsite_prune_result *r = c->prune;
	r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
	struct offsite_prune_target *pt = &r->v[r->n++];
	*pt = (struct offsite_prune_target){.target = xstrdup(t->name)};
	size_t deleted = 0;
	if (rc == 0) {
		prune_select(&l, &t->keep, time(NULL), &pt->decisions);
		for (size_t i = 0; rc == 0 && i < pt->decisions.n; i++) {
			if (pt->decisions.v[i].keep || c->dry_run)
				continue;
			rc = storage_remove(ot.store, pt->decisions.v[i].file, e) < 0 ? -1 : 0;
			deleted += rc == 0;
		}
	}
	struct storage_uploads_result up = {0};
	if (rc == 0 && !c->dry_run)
		rc = abort_stale_uploads(&ot, step_events(sr), &up, e);
	list_done(&l);
	offsite_close(&ot);
	if (rc < 0)
		return err_prefix(e, "offsite target %s", t->name);
	step_note(sr, "%zu bundles, %zu %s%s", pt->decisions.n, c->dry_run ? (size_t)0 : deleted,
		  c->dry_run ? "deleted (dry run)" : "deleted",
		  up.aborted ? "; abandoned multipart uploads aborted" : "");
	pt->uploads_aborted = up.aborted;
	return STEP_DONE;
}

static int prune_prepare(void *ctx, struct err *e)
{
	struct off_ctx *c = ctx;
	c->check_at = c->run_at = 0;
	if (c->steps)
		return 0;
	if (pick_targets(c, false, e) < 0)
		return -1;
	c->steps = xcalloc(c->ntargets, sizeof *c->steps);
	static const struct step proto = {.detail = prune_detail, .run = prune_target_run};
	add_target_steps(c, 0, "prune", "apply offsite target %s's keep", &proto);
	c->def.steps = c->steps;
	c->def.nsteps = c->ntargets;
	return 0;
}

static char *prune_title(void *ctx)
{
	const struct off_ctx *c = ctx;
	return xasprintf("offsite retention of profile %s%s", c->p->name, c->dry_run ? " (dry run)" : "");
}

void offsite_prune_result_done(struct offsite_prune_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].target);
		prune_report_done(&r->v[i].decisions);
	}
	free(r->v);
	flow_report_done(&r->report);
	memset(r, 0, sizeof *r);
}

int offsite_prune_run(const struct offsite_flow_opts *o, bool dry_run,
		      struct offsite_prune_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	struct off_ctx c;
	ctx_init(&c, o, NULL, "offsite-prune", prune_prepare, prune_title);
	c.dry_run = dry_run;
	c.prune = r;
	struct flow_run_opts fo = {.events = o->events, .cancel = o->cancel, .yes = true};
	int rc = flow_run(&c.def, &c, &fo, &r->report, e);
	ctx_done(&c);
	return rc;
}

/* ---- list -------------------------------------------------------------------- */

int offsite_list_targets(const struct offsite_flow_opts *o, bool allow_errors,
			 struct offsite_listing **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	struct off_ctx c;
	ctx_init(&c, o, NULL, "offsite-list", NULL, NULL);
	int rc = pick_targets(&c, false, e);
	if (rc == 0)
		*out = xcalloc(c.ntargets, sizeof **out);
	for (size_t i = 0; rc == 0 && i < c.ntargets; i++) {
		struct offsite_listing *li = &(*out)[(*n)++];
		li->t = c.targets[i];
		struct offsite_open_opts oo;
		struct offsite_target ot;
		struct err one = {0};
		int r = offsite_open(c.p, li->t, open_opts(&c, &oo, o->events), &ot, &one);
		if (r == 0)
			r = offsite_list(&ot, &li->list, &one);
		offsite_close(&ot);
		if (r < 0 && allow_errors)
			li->error = xstrdup(one.msg);
		else if (r < 0) {
			*e = one;
			err_prefix(e, "offsite target %s", li->t->name);
			rc = -1;
		}
	}
	ctx_done(&c);
	return rc;
}

void offsite_listings_free(struct offsite_listing *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		list_done(&v[i].list);
		free(v[i].error);
	}
	free(v);
}
