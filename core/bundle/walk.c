/* bundle/walk — the tree walk that feeds a backup: depth first, sorted,
 * symlinks reported and not followed, excludes applied. */
#include "bundle/bundle_int.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

struct walk {
	const char *root;
	const struct strv *exclude;
	bundle_walk_fn fn;
	void *ud;
};

/* true when rel matches an exclude pattern (or its base name does). */
static bool excluded(const struct strv *ex, const char *rel)
{
	if (!ex)
		return false;
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	for (size_t i = 0; i < ex->n; i++) {
		const char *pat = ex->v[i];
		if (fnmatch(pat, rel, 0) == 0)
			return true;
		if (!strchr(pat, '/') && fnmatch(pat, base, 0) == 0)
			return true;
	}
	return false;
}

/* scandir order: by byte value. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* scandir filter: skip "." and "..". */
static int not_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

/* readlink into a fresh string; NULL with errno set on failure. */
static char *read_link(const char *path, size_t size_hint)
{
	size_t cap = size_hint + 2 > 64 ? size_hint + 2 : 64;
	for (;;) {
		char *buf = xmalloc(cap);
		ssize_t n = readlink(path, buf, cap);
		if (n < 0) {
			int errnum = errno;
			free(buf);
			errno = errnum;
			return NULL;
		}
		if ((size_t)n < cap) {
			buf[n] = '\0';
			return buf;
		}
		free(buf);
		cap *= 2;
	}
}

static int walk_path(struct walk *w, const char *rel, struct err *e);

/* Walk the entries of directory full, sorted. */
static int walk_children(struct walk *w, const char *rel, const char *full, struct err *e)
{
	struct dirent **list = NULL;
	int n = scandir(full, &list, not_dots, by_name);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;   /* removed while we walked */
		err_set(e, ERR_FAILED, "cannot read directory %s: %s", full, strerror(errno));
		return err_hint(e, "run ferry as a user that can read it, or exclude it");
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (rc == 0) {
			char *child = *rel ? xasprintf("%s/%s", rel, list[i]->d_name)
					   : xstrdup(list[i]->d_name);
			rc = walk_path(w, child, e);
			free(child);
		}
		free(list[i]);
	}
	free(list);
	return rc;
}

/* Report rel (unless excluded or special) and descend into directories. */
static int walk_report(struct walk *w, const char *rel, const char *full, const struct stat *st,
		       struct err *e)
{
	struct bundle_walk_entry ent = {.path = rel, .full_path = full, .mode = st->st_mode & 07777,
					.mtime = st->st_mtime};
	char *link = NULL;
	if (S_ISREG(st->st_mode)) {
		ent.type = BUNDLE_REG;
		ent.size = (uint64_t)st->st_size;
	} else if (S_ISDIR(st->st_mode)) {
		ent.type = BUNDLE_DIR;
	} else if (S_ISLNK(st->st_mode)) {
		ent.type = BUNDLE_SYMLINK;
		link = read_link(full, (size_t)st->st_size);
		if (!link)
			return errno == ENOENT ? 0
					       : err_set(e, ERR_FAILED, "cannot read symlink %s: %s",
							 full, strerror(errno));
		ent.link = link;
	} else {
		return 0;   /* sockets, devices, fifos */
	}
	int rc = w->fn(w->ud, &ent, e);
	free(link);
	if (rc == 0 && ent.type == BUNDLE_DIR)
		rc = walk_children(w, rel, full, e);
	return rc < 0 ? -1 : 0;
}

/* Walk rel unless excluded; an entry that vanished is skipped. */
static int walk_path(struct walk *w, const char *rel, struct err *e)
{
	if (excluded(w->exclude, rel))
		return 0;
	char *full = xasprintf("%s/%s", w->root, rel);
	struct stat st;
	int rc = 0;
	if (lstat(full, &st) < 0) {
		if (errno != ENOENT)
			rc = err_set(e, ERR_FAILED, "cannot stat %s: %s", full, strerror(errno));
	} else {
		rc = walk_report(w, rel, full, &st, e);
	}
	free(full);
	return rc;
}

/* Walk root/rel_path, reporting entries to fn. */
int bundle_walk(const char *root, const char *rel_path, const struct strv *exclude_globs,
		bundle_walk_fn fn, void *ud, struct err *e)
{
	struct walk w = {.root = root, .exclude = exclude_globs, .fn = fn, .ud = ud};
	char *rel = bundle_clean_rel(rel_path ? rel_path : "");
	int rc;
	struct stat st;
	if (!*rel || strcmp(rel, ".") == 0) {
		if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
			err_set(e, ERR_FAILED, "app root %s is not a directory", root);
			rc = err_hint(e, "fix app.root in the profile or create it");
		} else {
			rc = walk_children(&w, "", root, e);
		}
	} else if (!bundle_name_ok(rel)) {
		err_set(e, ERR_FAILED, "app path %s must be relative to %s, without \"..\"", rel, root);
		rc = err_hint(e, "fix app.paths in the profile");
	} else {
		char *full = xasprintf("%s/%s", root, rel);
		if (lstat(full, &st) < 0) {
			err_set(e, ERR_FAILED, "app path %s does not exist", full);
			rc = err_hint(e, "fix app.paths in the profile or create it");
		} else {
			rc = walk_path(&w, rel, e);
		}
		free(full);
	}
	free(rel);
	return rc;
}
