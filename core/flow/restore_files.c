/* restore_files — the restore's files step: each app path the bundle
 * carries, unpacked and checked by verify into a staging dir under app.root,
 * is moved into place (journaled, so a kill is finished by the next run); the
 * old one is kept as <path>.prev-<ts>, and only --keep-previous of those. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fault.h"
#include "fsx.h"
#include "journal.h"
#include "util.h"

#include "flow/restore_int.h"

struct bundle_route restore_files_route(const struct restore_ctx *c)
{
	return (struct bundle_route){.prefix = "files/", .dest_dir = c->files_staging,
				     .strip_prefix = true, .keep_owner = c->p->app.keep_ownership};
}

bool restore_wants_files(void *ctx)
{
	return ((struct restore_ctx *)ctx)->want_files;
}

char *restore_files_detail(void *ctx)
{
	const struct restore_ctx *c = ctx;
	char *paths = strv_join(&c->r->manifest.files.paths, ", ");
	char *d = xasprintf("%s under %s; old ones kept as <path>.prev-%s", paths, c->p->app.root,
			    c->stamp);
	free(paths);
	return d;
}

static void undo_moves(struct restore_ctx *c, const char *staging)
{
	for (size_t i = c->nmoved; i-- > 0;) {
		const struct moved_path *mv = &c->moved[i];
		char *back = xasprintf("%s/%s", staging, mv->path);
		rename(mv->path, back);
		if (mv->previous)
			rename(mv->previous, mv->path);
		free(back);
	}
}

static int move_into_place(struct restore_ctx *c, const char *staging, const char *rel)
{
	char *src = xasprintf("%s/%s", staging, rel);
	char *dst = xasprintf("%s/%s", c->p->app.root, rel);
	char *prev = xasprintf("%s.prev-%s", dst, c->stamp);
	struct stat st;
	int rc = 0;
	bool had_old = lstat(dst, &st) == 0;
	if (lstat(src, &st) < 0)
		goto out;   /* the bundle carried nothing under this path */
	char *parent = xstrdup(dst);
	*strrchr(parent, '/') = '\0';
	rc = fsx_mkdir_p(parent, 0755, c->e);
	free(parent);
	if (rc == 0 && had_old && rename(dst, prev) < 0)
		rc = err_set(c->e, ERR_FAILED, "cannot move %s aside: %s", dst, strerror(errno));
	if (rc == 0 && rename(src, dst) < 0) {
		rc = err_set(c->e, ERR_FAILED, "cannot move the restored %s into place: %s", dst, strerror(errno));
		if (had_old)
			rename(prev, dst);
	}
	if (rc == 0) {
		c->moved = xrealloc(c->moved, (c->nmoved + 1) * sizeof *c->moved);
		c->moved[c->nmoved++] = (struct moved_path){xstrdup(dst), had_old ? xstrdup(prev) : NULL};
	}
out:
	free(src), free(dst), free(prev);
	return rc;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* <path>.prev-<stamp> sets beyond the keep newest are removed (stamps sort
 * by time); the one this run made is the newest. */
static void prune_previous_paths(struct restore_ctx *c, const char *rel)
{
	char *dst = xasprintf("%s/%s", c->p->app.root, rel);
	char *parent = xstrdup(dst);
	char *slash = strrchr(parent, '/');
	*slash = '\0';
	char *prefix = xasprintf("%s.prev-", slash + 1);
	struct strv found = {0};
	DIR *d = opendir(parent);
	for (struct dirent *de = d ? readdir(d) : NULL; de; de = readdir(d))
		if (str_starts(de->d_name, prefix))
			strv_push(&found, de->d_name);
	if (d)
		closedir(d);
	qsort(found.v, found.n, sizeof *found.v, compare_names);
	int keep = c->o->keep_previous > 0 ? c->o->keep_previous : 1;
	for (size_t i = 0; i + (size_t)keep < found.n; i++) {
		char *old = xasprintf("%s/%s", parent, found.v[i]);
		fsx_rm_rf(old);
		event_log(c->ev, EV_INFO, "removed %s (keeping %d previous)", old, keep);
		free(old);
	}
	strv_done(&found);
	free(prefix), free(parent), free(dst);
}

int restore_step_files(void *ctx, struct step_run *sr, struct err *e)
{
	struct restore_ctx *c = ctx;
	(void)e;
	const char *staging = c->files_staging;   /* unpacked and checked by verify */
	int rc = 0;
	const struct strv *paths = &c->r->manifest.files.paths;
	/* A kill from here on is finished by the next run (core/recover.h). */
	json_t *jpaths = json_array();
	for (size_t i = 0; i < paths->n; i++)
		json_array_append_new(jpaths, json_string(paths->v[i]));
	int step = journal_begin(c->journal, json_pack("{s:s, s:s, s:s, s:s, s:o}", "op", "files", "root",
						       c->p->app.root, "staging", staging, "stamp", c->stamp,
						       "paths", jpaths), e);
	if (step < 0)
		return -1;
	fault_point("restore.files.begun");
	for (size_t i = 0; rc == 0 && i < paths->n; i++)
		rc = move_into_place(c, staging, paths->v[i]);
	if (rc < 0)
		undo_moves(c, staging);
	journal_done(c->journal, step, NULL);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < c->nmoved; i++)
		if (c->moved[i].previous)
			strv_push(&c->r->previous_paths, c->moved[i].previous);
	for (size_t i = 0; i < paths->n; i++)
		prune_previous_paths(c, paths->v[i]);
	step_note(sr, "%zu path(s)", c->nmoved);
	return STEP_DONE;
}

