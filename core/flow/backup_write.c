/* backup_write — the backup's last two steps: every member hashed, then
 * the bundle written (manifest.json first, SHA256SUMS last) as .part and
 * renamed when complete. */
#include "flow/backup_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/sign.h"
#include "flow/flow.h"
#include "fsx.h"
#include "hash.h"
#include "manifest.h"
#include "util.h"

/* --- hashing and writing ------------------------------------------------ */

/* Move the item named member to just after the one named after (when
 * both are there and it is further down). */
static void move_after(struct backup_ctx *c, const char *member, const char *after)
{
	size_t at = 0, dir = 0;
	bool found = false, found_dir = false;
	for (size_t i = 0; i < c->nitems; i++) {
		if (strcmp(c->items[i].member, member) == 0)
			at = i, found = true;
		if (strcmp(c->items[i].member, after) == 0)
			dir = i, found_dir = true;
	}
	if (!found || !found_dir || at <= dir + 1)
		return;
	struct item moved = c->items[at];
	memmove(&c->items[dir + 2], &c->items[dir + 1], (at - dir - 1) * sizeof *c->items);
	c->items[dir + 1] = moved;
}

/* The roles file goes first under db/, and the directory dump's toc.dat
 * right after its directory entry, so a reader has the roles and the
 * table of contents before any table's data: restore's checks read the
 * TOC without unpacking the rest, and the streaming restore creates the
 * roles and the pre-data while the data still streams. */
static void toc_first(struct backup_ctx *c)
{
	move_after(c, "db/globals.sql", "db");
	move_after(c, "db/dump/toc.dat", "db/dump");
}

static int collect_staging(struct backup_ctx *c)
{
	if (!c->want_db)
		return 0;
	/* Staged db/ items go before the app files. */
	struct item *app = c->items;
	size_t napp = c->nitems;
	c->items = NULL;
	c->nitems = 0;
	c->walk_prefix = "";
	uint64_t files_bytes = c->files_bytes;
	int rc = bundle_walk(c->staging, "db", NULL, backup_walk_collect, c, c->e);
	c->files_bytes = files_bytes;
	toc_first(c);
	for (size_t i = 0; i < napp; i++)
		backup_item_add(c, &app[i]);
	free(app);
	return rc;
}

char *backup_hash_detail(void *ctx)
{
	const struct backup_ctx *c = ctx;
	char fz[32];
	if (!c->want_files)
		return xstrdup("the dump's files");
	char *paths = strv_join(&c->p->app.paths, ", ");
	char *excl = strv_join(&c->p->app.exclude, ", ");
	char *d = xasprintf("%sapp files %s: %s (%s)%s%s", c->want_db ? "the dump and the " : "",
			    c->p->app.root, paths, util_human_bytes(c->files_bytes, fz, sizeof fz),
			    *excl ? ", excluding " : "", excl);
	free(paths);
	free(excl);
	return d;
}

int backup_step_hash(void *ctx, struct step_run *sr, struct err *e)
{
	struct backup_ctx *c = ctx;
	(void)e;
	if (collect_staging(c) < 0)
		return -1;
	uint64_t total = 0, done = 0;
	for (size_t i = 0; i < c->nitems; i++)
		if (c->items[i].kind == BUNDLE_REG)
			total += c->items[i].size;
	for (size_t i = 0; i < c->nitems; i++) {
		struct item *it = &c->items[i];
		if (it->kind != BUNDLE_REG)
			continue;
		if (backup_check_cancel(c) < 0)
			return -1;
		uint64_t bytes;
		if (hash_file_cancellable(it->src, it->sha256, &bytes, c->o->cancel, c->e) < 0)
			return -1;
		it->size = bytes;
		manifest_add_member(&c->r->manifest, it->member, it->size, it->sha256);
		done += bytes;
		event_progress(c->ev, "hash", done, total);
	}
	step_note(sr, "%zu members", c->r->manifest.nmembers);
	return STEP_DONE;
}

static void fill_manifest(struct backup_ctx *c)
{
	struct manifest *m = &c->r->manifest;
	m->format_version = MANIFEST_FORMAT_VERSION;
	m->ferry_version = xstrdup(FERRY_VERSION);
	m->created_at = util_iso_time(c->started_wall);
	m->host = util_hostname();
	m->profile = xstrdup(c->p->name);
	m->type = xstrdup(c->type);
	m->schema_revision = xstrdup(c->rev.revision ? c->rev.revision : "unknown");
	m->revision_source = xstrdup(c->rev.source);
	for (size_t i = 0; i < c->rev.apps.n; i++)
		strv_push(&m->revisions, c->rev.apps.v[i]);
	m->revision_command = xstrdup(c->rev_cmd.command);
	m->revision_command_output = xstrdup(c->rev_cmd.output);
	m->revision_command_error = xstrdup(c->rev_cmd.error);
	if (c->want_db) {
		m->has_db = true;
		m->db.name = xstrdup(c->info.name);
		m->db.owner = xstrdup(c->info.owner);
		m->db.encoding = xstrdup(c->info.encoding);
		m->db.collate = xstrdup(c->info.collate);
		m->db.ctype = xstrdup(c->info.ctype);
		m->db.server_version = xstrdup(c->info.server_version);
		m->db.pg_dump_version = xstrdup(c->pg_dump.version);
		m->db.size_bytes = c->info.size_bytes;
		m->dump.format = xstrdup(c->o->format == DUMP_CUSTOM ? "custom" : "directory");
		m->dump.path = xstrdup(dump_member_path(c->o->format));
		m->dump.jobs = c->o->format == DUMP_DIRECTORY ? c->jobs : 1;
		m->dump.schema_only = c->o->schema_only;
		m->dump.data_only = c->o->data_only;
		for (size_t i = 0; c->o->schemas && i < c->o->schemas->n; i++)
			strv_push(&m->dump.schemas, c->o->schemas->v[i]);
		for (size_t i = 0; c->o->tables && i < c->o->tables->n; i++)
			strv_push(&m->dump.tables, c->o->tables->v[i]);
		for (size_t i = 0; c->o->exclude_tables && i < c->o->exclude_tables->n; i++)
			strv_push(&m->dump.exclude_tables, c->o->exclude_tables->v[i]);
		m->scope = xstrdup(manifest_scope(m));
	}
	if (c->want_files) {
		m->has_files = true;
		m->files.root = xstrdup(c->p->app.root);
		for (size_t i = 0; i < c->p->app.paths.n; i++)
			strv_push(&m->files.paths, c->p->app.paths.v[i]);
		for (size_t i = 0; i < c->p->app.exclude.n; i++)
			strv_push(&m->files.exclude, c->p->app.exclude.v[i]);
	}
	m->duration_s = util_now() - c->started;
}

/* The write's progress: of the bytes handed to the writer (write_total),
 * never more than them. */
static void write_progress(void *ud, uint64_t done)
{
	struct backup_ctx *c = ud;
	if (done > c->write_total)
		c->write_total = done;
	event_progress(c->ev, "write", done, c->write_total);
}

/* What the writer is handed: every member's bytes, manifest.json, and
 * SHA256SUMS (a line "<64 hex>  <name>" per file, these two included). */
static uint64_t write_total(const struct manifest *m, size_t manifest_len)
{
	uint64_t total = manifest_total_bytes(m) + manifest_len;
	uint64_t sums = 64 + 2 + strlen(MANIFEST_NAME) + 1;
	for (size_t i = 0; i < m->nmembers; i++)
		sums += 64 + 2 + strlen(m->members[i].name) + 1;
	return total + sums;
}

static int write_item(struct backup_ctx *c, bundle_writer *bw, const struct item *it)
{
	if (backup_check_cancel(c) < 0)
		return -1;
	switch (it->kind) {
	case BUNDLE_DIR:
		return bundle_writer_add_dir_entry(bw, it->member, it->mode, it->mtime, c->e);
	case BUNDLE_SYMLINK:
		return bundle_writer_add_symlink(bw, it->member, it->link_target, c->e);
	default:
		return bundle_writer_add_file(bw, it->member, it->src, it->sha256, c->e);
	}
}

/* The manifest's signature (signing.key), the member right after it. */
static int add_signature(struct backup_ctx *c, bundle_writer *bw, const char *manifest)
{
	char *sig = NULL;
	if (sign_data(c->p->signing.key, manifest, strlen(manifest), &sig, c->e) < 0)
		return err_prefix(c->e, "signing the manifest");
	int rc = bundle_writer_add_buffer(bw, SIGN_MEMBER, sig, strlen(sig), c->e);
	free(sig);
	return rc;
}

/* verify and restore read manifest.json and SHA256SUMS up to
 * BUNDLE_SMALL_MAX each: a backup never writes a bundle they would refuse. */
static int check_small_members(struct backup_ctx *c, size_t manifest_len)
{
	uint64_t sums = 64 + 2 + strlen(MANIFEST_NAME) + 1;
	for (size_t i = 0; i < c->r->manifest.nmembers; i++)
		sums += 64 + 2 + strlen(c->r->manifest.members[i].name) + 1;
	if (manifest_len <= BUNDLE_SMALL_MAX && sums <= BUNDLE_SMALL_MAX)
		return 0;
	err_set(c->e, ERR_FAILED, "%zu members make a %s of %llu bytes, more than the %u MiB verify and restore read",
		c->r->manifest.nmembers, manifest_len > BUNDLE_SMALL_MAX ? MANIFEST_NAME : "SHA256SUMS",
		(unsigned long long)(manifest_len > BUNDLE_SMALL_MAX ? manifest_len : sums), BUNDLE_SMALL_MAX >> 20);
	return err_hint(c->e, "split the app files over several profiles, or exclude what need not be backed up");
}

static int write_members(struct backup_ctx *c, bundle_writer *bw)
{
	char *manifest = manifest_to_json(&c->r->manifest);
	c->write_total = write_total(&c->r->manifest, strlen(manifest));
	int rc = check_small_members(c, strlen(manifest));
	if (rc == 0)
		rc = bundle_writer_add_buffer(bw, MANIFEST_NAME, manifest, strlen(manifest), c->e);
	if (rc == 0 && c->p->signing.key)
		rc = add_signature(c, bw, manifest);
	free(manifest);
	for (size_t i = 0; rc == 0 && i < c->nitems; i++)
		rc = write_item(c, bw, &c->items[i]);
	if (rc < 0)
		return -1;
	return bundle_writer_add_sha256sums(bw, c->e);
}

/* Names carry the second the backup started; a second backup of the same
 * profile and type within that second (a safety bundle right after a manual
 * one) takes the next free second rather than failing or overwriting. */
static int choose_free_name(struct backup_ctx *c)
{
	for (int tries = 0; tries < 60; tries++) {
		char *name = backup_bundle_file_name(c);
		free(c->final_path);
		c->final_path = xasprintf("%s/%s", c->out_dir, name);
		free(name);
		char *part = xasprintf("%s.part", c->final_path);
		int taken = access(c->final_path, F_OK) == 0 || access(part, F_OK) == 0;
		free(part);
		if (!taken)
			return 0;
		c->started_wall++;
	}
	err_set(c->e, ERR_FAILED, "bundle %s already exists", c->final_path);
	free(c->final_path);
	c->final_path = NULL; /* never remove a .part this run did not write */
	return err_hint(c->e, "remove old bundles with ferry prune, or wait a minute");
}

char *backup_write_detail(void *ctx)
{
	const struct backup_ctx *c = ctx;
	char sz[32];
	char *name = backup_bundle_file_name(c);
	char *d = xasprintf("%s/%s, %s level %d, about %s needed", c->out_dir, name,
			    flow_compression_name(c->compression), c->level,
			    util_human_bytes(backup_estimate_need(c), sz, sizeof sz));
	free(name);
	return d;
}

int backup_step_write(void *ctx, struct step_run *sr, struct err *e)
{
	struct backup_ctx *c = ctx;
	(void)e;
	fill_manifest(c);
	if (fsx_mkdir_p(c->out_dir, 0700, c->e) < 0 || choose_free_name(c) < 0)
		return -1;
	struct bundle_write_opts wo = {
		.compression = c->compression,
		.level = c->level,
		.threads = 0,
		.progress = write_progress,
		.progress_ud = c,
		.cancel = c->o->cancel,
	};
	bundle_writer *bw = bundle_writer_open(c->final_path, &wo, c->e);
	if (!bw)
		return -1;
	if (write_members(c, bw) < 0) {
		bundle_writer_abort(bw);
		return -1;
	}
	if (bundle_writer_commit(bw, c->e) < 0)
		return -1;
	struct stat st;
	c->r->size = stat(c->final_path, &st) == 0 ? (uint64_t)st.st_size : 0;
	c->r->path = xstrdup(c->final_path);
	if (c->staging) {
		fsx_rm_rf(c->staging);
		free(c->staging);
		c->staging = NULL;
	}
	char sz[32];
	step_note(sr, "%s (%s)", c->final_path, util_human_bytes(c->r->size, sz, sizeof sz));
	return STEP_DONE;
}

