/* flow_verify — re-hash every member of a bundle against its manifest and
 * SHA256SUMS in one streaming pass; --deep also restores the dump into a
 * scratch database and compares row counts with the manifest. A table of
 * steps (core/step.h): preflight → verify → deep. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "fault.h"
#include "fsx.h"
#include "bundle/bundle.h"
#include "crypto/sign.h"
#include "db.h"
#include "flow/verified.h"
#include "flow/verify.h"
#include "restore_db.h"
#include "step.h"
#include "globals.h"
#include "trust.h"

struct verify_ctx {
	const char *path;
	struct verify_result *r;
	struct err *e;
	const struct event_sink *ev;
	const struct verify_opts *o;
	bool have_manifest;
	size_t next;                 /* manifest member expected next */
	bool *seen;                  /* per manifest member */
	char manifest_sha[65];
	char *manifest_text;         /* for the signature check */
	char *sig;                   /* manifest.json.sig, when there is one */
	char sig_sha[65];
	bool sig_checked;            /* check_signature ran (early, see on_header) */
	char *sums;                  /* SHA256SUMS text */
	struct strset symlinks;      /* symlink members seen (trust_check_member) */
};

static int take_manifest(struct verify_ctx *c, const struct bundle_member *m, const char *content)
{
	if (strcmp(m->name, MANIFEST_NAME) != 0) {
		err_set(c->e, ERR_VERIFY, "%s: the first member is \"%s\", not manifest.json",
			c->path, m->name);
		return err_hint(c->e, "this is not a ferry bundle, or it was repacked");
	}
	if (!content) {
		err_set(c->e, ERR_VERIFY, "%s: manifest.json is %llu bytes, more than the %u MiB a manifest may have",
			c->path, (unsigned long long)m->size, BUNDLE_SMALL_MAX >> 20);
		return err_hint(c->e, "split the app files over several profiles, or exclude what need not be backed up");
	}
	if (manifest_parse(content, &c->r->manifest, c->e) < 0)
		return err_prefix(c->e, "%s", c->path);
	if (trust_check_manifest(&c->r->manifest, c->path, c->e) < 0)
		return -1;
	c->have_manifest = true;
	c->manifest_text = xstrdup(content);
	snprintf(c->manifest_sha, sizeof c->manifest_sha, "%s", m->sha256);
	c->seen = xcalloc(c->r->manifest.nmembers + 1, sizeof *c->seen);
	return 0;
}

static const struct manifest_member *expected_member(struct verify_ctx *c, const char *name,
						     size_t *index)
{
	const struct manifest *mf = &c->r->manifest;
	if (c->next < mf->nmembers && strcmp(mf->members[c->next].name, name) == 0) {
		*index = c->next++;
		return &mf->members[*index];
	}
	const struct manifest_member *mm = manifest_find_member(mf, name);
	if (mm)
		*index = (size_t)(mm - mf->members);
	return mm;
}

/* With a public key configured: the manifest's signature is there and verifies. */
static int check_signature(struct verify_ctx *c)
{
	const char *pub = c->o->public_key;
	if (!pub)
		return 0;
	if (!c->sig) {
		err_set(c->e, ERR_VERIFY, "%s is not signed (no %s), and signing.public_key %s is "
			"configured: refused", c->path, SIGN_MEMBER, pub);
		return err_hint(c->e, "a bundle whose hashes were recomputed after it was written "
				"looks like this; restore a signed copy");
	}
	char *what = xasprintf("the manifest of %s", c->path);
	int rc = sign_verify(pub, c->manifest_text, strlen(c->manifest_text), c->sig, what, c->e);
	free(what);
	c->r->signature_ok = rc == 0;
	return rc;
}

/* Before a member's content is read (or written): what may be in a bundle
 * (core/trust.h); the roles file's content is asked for whole. */
static int on_header(void *ud, const struct bundle_entry *ent, struct err *e)
{
	struct verify_ctx *c = ud;
	(void)e;
	if (!c->have_manifest)
		return strcmp(ent->name, MANIFEST_NAME) == 0 ? BUNDLE_KEEP_CONTENT : 0;
	if (trust_check_member(&c->r->manifest, c->path, ent, &c->symlinks, c->e) < 0)
		return -1;
	/* The signature is the member right after the manifest: once another
	 * one comes, it is checked (or found missing) before anything reads
	 * further. */
	if (!c->sig_checked && strcmp(ent->name, SIGN_MEMBER) != 0) {
		if (check_signature(c) < 0)
			return -1;
		c->sig_checked = true;
	}
	const char *globals = c->r->manifest.dump.globals;
	if (globals && strcmp(ent->name, globals) == 0)
		return BUNDLE_KEEP_CONTENT;
	return c->o->stream_header ? c->o->stream_header(c->o->stream_ud, ent, e) : 0;
}

/* The roles file is checked as restore will read it (core/globals.h). */
static int check_globals(struct verify_ctx *c, const struct bundle_member *m, const char *content)
{
	if (!content) {
		err_set(c->e, ERR_VERIFY, "%s: %s is larger than %u MiB", c->path, m->name, BUNDLE_SMALL_MAX >> 20);
		return err_hint(c->e, "this bundle was altered after it was written: do not restore it");
	}
	struct globals_script script;
	char *what = xasprintf("%s: %s", c->path, m->name);
	int rc = globals_parse(content, what, &script, c->e);
	if (rc == 0)
		globals_script_done(&script);
	free(what);
	return rc;
}

static int check_member(struct verify_ctx *c, const struct bundle_member *m)
{
	size_t i;
	const struct manifest_member *want = expected_member(c, m->name, &i);
	if (!want) {
		err_set(c->e, ERR_VERIFY, "%s: member %s is not in the manifest", c->path, m->name);
		return err_hint(c->e, "the bundle was altered after it was written");
	}
	if (c->seen[i])
		return err_set(c->e, ERR_VERIFY, "%s: member %s appears twice", c->path, m->name);
	c->seen[i] = true;
	if (want->size != m->size || strcmp(want->sha256, m->sha256) != 0) {
		err_set(c->e, ERR_VERIFY,
			"%s: member %s is corrupted: SHA-256 %.12s…, size %llu; the manifest says %.12s…, size %llu",
			c->path, m->name, m->sha256, (unsigned long long)m->size, want->sha256,
			(unsigned long long)want->size);
		return err_hint(c->e, "restore from another bundle (`ferry list`)");
	}
	c->r->members_checked++;
	c->r->bytes_checked += m->size;
	return 0;
}

static int on_member(void *ud, const struct bundle_member *m, const char *content, struct err *e)
{
	struct verify_ctx *c = ud;
	(void)e;
	if (c->o->cancel && *c->o->cancel)   /* checked between members */
		return err_set(c->e, ERR_INTERRUPTED, "verify of %s interrupted", c->path);
	if (!c->have_manifest)
		return take_manifest(c, m, content);
	if (m->type != BUNDLE_REG)
		return 0;
	if (strcmp(m->name, SHA256SUMS_NAME) == 0) {
		if (!content)
			return err_set(c->e, ERR_VERIFY, "%s: SHA256SUMS is unreadable", c->path);
		free(c->sums);
		c->sums = xstrdup(content);
		return 0;
	}
	if (c->sums)
		return err_set(c->e, ERR_VERIFY, "%s: member %s follows SHA256SUMS", c->path, m->name);
	if (strcmp(m->name, SIGN_MEMBER) == 0 && !c->sig && c->next == 0 && content) {
		c->sig = xstrdup(content);
		snprintf(c->sig_sha, sizeof c->sig_sha, "%s", m->sha256);
		c->r->has_signature = true;
		return 0;
	}
	const char *globals = c->r->manifest.dump.globals;
	bool is_globals = globals && strcmp(m->name, globals) == 0;
	if (is_globals && check_globals(c, m, content) < 0)
		return -1;
	if (check_member(c, m) < 0)
		return -1;
	return c->o->stream_member ? c->o->stream_member(c->o->stream_ud, m, is_globals ? content : NULL, e)
				   : 0;
}

/* A streamed member's bytes, to the stream's consumer. */
static int on_content(void *ud, const void *data, size_t n, struct err *e)
{
	const struct verify_ctx *c = ud;
	return c->o->stream_content(c->o->stream_ud, data, n, e);
}

/* Each "<hex>  <name>" line must match what was hashed. */
static int check_sums(struct verify_ctx *c)
{
	if (!c->sums) {
		err_set(c->e, ERR_VERIFY, "%s: SHA256SUMS is missing (the bundle is truncated)", c->path);
		return err_hint(c->e, "the copy may be incomplete; copy it again or use another bundle");
	}
	size_t lines = 0;
	char *save = NULL;
	for (char *line = strtok_r(c->sums, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strlen(line) < 67 || line[64] != ' ' || line[65] != ' ')
			return err_set(c->e, ERR_VERIFY, "%s: SHA256SUMS line %zu is malformed", c->path,
				       lines + 1);
		line[64] = '\0';
		const char *name = line + 66;
		const char *want = line;
		const char *got = NULL;
		if (strcmp(name, MANIFEST_NAME) == 0) {
			got = c->manifest_sha;
		} else if (c->sig && strcmp(name, SIGN_MEMBER) == 0) {
			got = c->sig_sha;
		} else {
			const struct manifest_member *mm = manifest_find_member(&c->r->manifest, name);
			got = mm ? mm->sha256 : NULL;
		}
		if (!got || strcmp(got, want) != 0)
			return err_set(c->e, ERR_VERIFY, "%s: SHA256SUMS disagrees with the bundle for %s",
				       c->path, name);
		lines++;
	}
	size_t want = c->r->manifest.nmembers + 1 + (c->sig ? 1 : 0);
	if (lines != want)
		return err_set(c->e, ERR_VERIFY, "%s: SHA256SUMS lists %zu members, the bundle has %zu",
			       c->path, lines, want);
	return 0;
}

static int check_all_seen(struct verify_ctx *c)
{
	for (size_t i = 0; i < c->r->manifest.nmembers; i++)
		if (!c->seen[i]) {
			err_set(c->e, ERR_VERIFY, "%s: member %s is missing", c->path,
				c->r->manifest.members[i].name);
			return err_hint(c->e, "the bundle is incomplete; use another bundle");
		}
	return 0;
}

static int check_bundle_file(const char *path, struct err *e)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return 0;
	err_set(e, ERR_USAGE, "cannot open bundle %s: %s", path, strerror(errno));
	return err_hint(e, "give a bundle path, or a name from `ferry list`");
}

int verify_pass(const char *bundle_path, const struct verify_opts *o, struct verify_result *r,
		struct err *e)
{
	memset(r, 0, sizeof *r);
	struct verify_ctx c = {.path = bundle_path, .r = r, .e = e, .ev = o->events, .o = o};
	int rc = check_bundle_file(bundle_path, e);
	fault_point("verify.pass");
	struct bundle_pass_opts po = {.header = on_header, .member = on_member,
				      .content = o->stream_content ? on_content : NULL, .ud = &c,
				      .cancel = o->cancel, .routes = o->extract, .nroutes = o->nextract};
	if (rc == 0)
		rc = bundle_pass(bundle_path, &po, e);
	if (rc == 0 && !c.have_manifest)
		rc = err_set(e, ERR_VERIFY, "%s: empty bundle (no manifest.json)", bundle_path);
	if (rc == 0 && (check_all_seen(&c) < 0 || check_sums(&c) < 0 ||
			(!c.sig_checked && check_signature(&c) < 0)))
		rc = -1;
	free(c.seen);
	free(c.sums);
	strset_done(&c.symlinks);
	free(c.sig);
	free(c.manifest_text);
	return rc;
}

/* --- the flow ------------------------------------------------------------- */

struct verify_flow_ctx {
	const char *path;
	const struct verify_opts *o;
	struct verify_result *r;
};

static int verify_prepare(void *ctx, struct err *e)
{
	struct verify_flow_ctx *c = ctx;
	if (c->o->deep && !c->o->profile)
		return err_set(e, ERR_USAGE, "verify --deep needs a profile: the server to restore on");
	return check_bundle_file(c->path, e);
}

static char *verify_title(void *ctx)
{
	return xasprintf("verify %s", ((struct verify_flow_ctx *)ctx)->path);
}

static char *verify_detail(void *ctx)
{
	struct stat st;
	char sz[32];
	const char *path = ((struct verify_flow_ctx *)ctx)->path;
	return stat(path, &st) == 0 ? xasprintf("%s, %s", path, util_human_bytes((uint64_t)st.st_size, sz,
										 sizeof sz))
				    : NULL;
}

static int step_verify(void *ctx, struct step_run *sr, struct err *e)
{
	struct verify_flow_ctx *c = ctx;
	struct verify_opts o = *c->o;
	o.nextract = 0;
	if (verify_pass(c->path, &o, c->r, e) < 0)
		return -1;
	step_note(sr, "%zu members%s", c->r->members_checked,
		  c->r->signature_ok ? ", signature verified" : "");
	return STEP_DONE;
}

static bool wants_deep(void *ctx)
{
	return ((struct verify_flow_ctx *)ctx)->o->deep;
}

static char *deep_detail(void *ctx)
{
	const struct verify_flow_ctx *c = ctx;
	return xasprintf("a scratch database on the server of profile %s, dropped afterwards",
			 c->o->profile ? c->o->profile->name : "?");
}

static int step_deep(void *ctx, struct step_run *sr, struct err *e)
{
	struct verify_flow_ctx *c = ctx;
	if (restore_db_deep_check(c->path, &c->r->manifest, c->o->profile, step_events(sr),
				  step_cancel(sr), e) < 0)
		return -1;
	c->r->deep_done = true;
	step_note(sr, "%zu tables, %lld rows match", c->r->manifest.ntables,
		  (long long)manifest_total_rows(&c->r->manifest));
	return STEP_DONE;
}

static const struct step verify_steps[] = {
	{.id = "verify", .title = "verify the bundle: every member's SHA-256", .detail = verify_detail,
	 .run = step_verify},
	{.id = "deep", .title = "restore into a scratch database and compare row counts",
	 .applies = wants_deep, .detail = deep_detail, .run = step_deep},
};

static const struct flow_def verify_flow = {
	.name = "verify",
	.steps = verify_steps,
	.nsteps = sizeof verify_steps / sizeof verify_steps[0],
	.prepare = verify_prepare,
	.title = verify_title,
};

int verify_run(const char *bundle_path, const struct verify_opts *o,
	       struct verify_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	double started = util_now();
	struct verify_flow_ctx c = {.path = bundle_path, .o = o, .r = r};
	struct flow_run_opts ro = {.events = o->events, .cancel = o->cancel, .yes = true};
	int rc = flow_run(&verify_flow, &c, &ro, NULL, e);
	if (rc == 0 || e->kind == ERR_VERIFY)
		verified_write_verify(bundle_path, rc == 0, e->msg);
	r->duration_s = util_now() - started;
	return rc;
}

int verify_plan(const char *bundle_path, const struct verify_opts *o, struct plan *plan,
		struct err *e)
{
	struct verify_result r = {0};
	struct verify_flow_ctx c = {.path = bundle_path, .o = o, .r = &r};
	int rc = flow_plan(&verify_flow, &c, plan, e);
	verify_result_done(&r);
	return rc;
}

void verify_result_done(struct verify_result *r)
{
	manifest_done(&r->manifest);
	memset(r, 0, sizeof *r);
}
