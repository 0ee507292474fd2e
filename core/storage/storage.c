/* storage — the parts every driver shares: names, lists, and the local
 * end of get (a .part, synced, hash-checked, renamed). */
#include "storage_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fsx.h"
#include "util.h"

#define PART_SUFFIX ".part"

/* A storage of drv (see storage_int.h). */
storage *storage_new(const struct storage_driver *drv, char *desc, void *priv)
{
	storage *s = xcalloc(1, sizeof *s);
	s->drv = drv;
	s->desc = desc;
	s->priv = priv;
	return s;
}

/* Close and free; NULL-safe. */
void storage_close(storage *s)
{
	if (!s)
		return;
	s->drv->close(s);
	free(s->desc);
	free(s);
}

/* "/var/backups/shop", "sftp://user@host:port/dir". */
const char *storage_describe(const storage *s)
{
	return s->desc;
}

/* "local", "sftp". */
const char *storage_driver_name(const storage *s)
{
	return s->drv->name;
}

/* Where the entry lives; caller frees. */
char *storage_entry_path(const storage *s, const char *name)
{
	return s->drv->path(s, name);
}

/* A base name, not hidden-special, not a transfer in progress. */
bool storage_name_ok(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 && !str_ends(name, PART_SUFFIX);
}

/* The error for a name storage_name_ok refuses. */
static int bad_name(const storage *s, const char *name, struct err *e)
{
	err_set(e, ERR_USAGE, "\"%s\" cannot name an entry of %s", name ? name : "", s->desc);
	return err_hint(e, "use a plain file name: no '/', not ending in \".part\"");
}

/* Free an entry's name and reset it; NULL-safe. */
void storage_entry_done(struct storage_entry *en)
{
	if (!en)
		return;
	free(en->name);
	memset(en, 0, sizeof *en);
}

/* Free a list's entries and reset it; NULL-safe. */
void storage_list_done(struct storage_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Append an entry (name copied). */
void storage_list_add(struct storage_list *l, const char *name, uint64_t size, int64_t mtime)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = (struct storage_entry){.name = xstrdup(name), .size = size, .mtime = mtime};
}

/* qsort: entries by name. */
static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct storage_entry *)a)->name, ((const struct storage_entry *)b)->name);
}

/* Whether a driver's entry belongs in a listing for suffix. */
static bool listed(const char *name, const char *suffix)
{
	return name[0] != '.' && storage_name_ok(name) && (!suffix || str_ends(name, suffix));
}

/* The entries, filtered and sorted (see storage.h). */
int storage_list(storage *s, const char *suffix, struct storage_list *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	struct storage_list all = {0};
	if (s->drv->list(s, &all, e) != 0) {
		storage_list_done(&all);
		return -1;
	}
	for (size_t i = 0; i < all.n; i++) {
		if (!listed(all.v[i].name, suffix))
			continue;
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n++] = all.v[i];
		all.v[i].name = NULL;
	}
	storage_list_done(&all);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, by_name);
	return 0;
}

/* One entry: 0, 1 when missing, -1 (see storage.h). */
int storage_stat(storage *s, const char *name, struct storage_entry *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (!storage_name_ok(name))
		return bad_name(s, name, e);
	return s->drv->stat(s, name, out, e);
}

/* Copy a local file in, atomically (see storage.h). */
int storage_put(storage *s, const char *local_path, const struct storage_put_opts *o,
		struct storage_put_result *r, struct err *e)
{
	static const struct storage_put_opts defaults = {0};
	struct storage_put_result r_local = {0};
	o = o ? o : &defaults;
	r = r ? r : &r_local;
	memset(r, 0, sizeof *r);
	const char *base = strrchr(local_path, '/');
	const char *name = o->name ? o->name : base ? base + 1 : local_path;
	if (!storage_name_ok(name))
		return bad_name(s, name, e);
	return s->drv->put(s, local_path, name, o, r, e);
}

/* The driver's bytes into the open .part, synced; its hash checked. */
static int get_into(storage *s, const char *name, int fd, const char *part,
		    const struct storage_get_opts *o, struct storage_get_result *r, struct err *e)
{
	int rc = s->drv->get(s, name, fd, o, r, e);
	if (rc != 0)
		return rc;
	if (fsync(fd) != 0)
		return err_set(e, errno == ENOSPC ? ERR_SPACE : ERR_FAILED, "cannot write %s: %s",
			       part, strerror(errno));
	if (o->sha256 && strcasecmp(o->sha256, r->sha256) != 0) {
		err_set(e, ERR_VERIFY, "the copy of %s from %s does not match: sha256 %s, expected %s; "
			"it was removed", name, s->desc, r->sha256, o->sha256);
		return err_hint(e, "fetch it again; if it fails the same way, the stored copy is damaged");
	}
	return 0;
}

/* Copy an entry out, atomically (see storage.h). */
int storage_get(storage *s, const char *name, const char *local_path,
		const struct storage_get_opts *o, struct storage_get_result *r, struct err *e)
{
	static const struct storage_get_opts defaults = {0};
	struct storage_get_result r_local = {0};
	o = o ? o : &defaults;
	r = r ? r : &r_local;
	memset(r, 0, sizeof *r);
	if (!storage_name_ok(name))
		return bad_name(s, name, e);
	char *dir = xstrdup(local_path);
	char *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		rc = fsx_mkdir_p(dir, 0700, e);
	}
	free(dir);
	if (rc != 0)
		return -1;
	char *part = xasprintf("%s%s", local_path, PART_SUFFIX);
	int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = err_set(e, ERR_FAILED, "cannot create %s: %s", part, strerror(errno));
		free(part);
		return rc;
	}
	rc = get_into(s, name, fd, part, o, r, e);
	if (close(fd) != 0 && rc == 0)
		rc = err_set(e, ERR_FAILED, "cannot write %s: %s", part, strerror(errno));
	if (rc == 0 && rename(part, local_path) != 0)
		rc = err_set(e, ERR_FAILED, "cannot rename %s to %s: %s", part, local_path,
			     strerror(errno));
	if (rc == 0)
		fsx_sync_parent(local_path);
	else
		unlink(part);
	free(part);
	return rc;
}

/* Remove an entry: 0, 1 when missing, -1. */
int storage_remove(storage *s, const char *name, struct err *e)
{
	if (!storage_name_ok(name))
		return bad_name(s, name, e);
	return s->drv->remove(s, name, e);
}

int storage_abort_stale_uploads(storage *s, int64_t older_than_s, struct storage_uploads_result *r,
				struct err *e)
{
	memset(r, 0, sizeof *r);
	return s->drv->abort_stale ? s->drv->abort_stale(s, older_than_s, r, e) : 0;
}
