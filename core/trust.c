/* trust — see trust.h. */
#include "trust.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define UNTRUSTED_HINT "this bundle was not made by ferry or was altered after it was written: do not restore it"

static int refuse_member(const char *bundle, const char *name, const char *why, struct err *e)
{
	err_set(e, ERR_VERIFY, "bundle %s: member %s %s", bundle, name, why);
	return err_hint(e, UNTRUSTED_HINT);
}

static int refuse_key(const char *bundle, const char *key, const char *value, const char *why,
		      struct err *e)
{
	err_set(e, ERR_VERIFY, "bundle %s: manifest %s \"%s\" %s", bundle, key, value, why);
	return err_hint(e, UNTRUSTED_HINT);
}

/* Whether path is dir itself or below it. */
static bool within(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The app path (of files.paths) that rel lies in, or NULL. */
static const char *app_path_of(const struct manifest *m, const char *rel)
{
	for (size_t i = 0; i < m->files.paths.n; i++)
		if (within(rel, m->files.paths.v[i]))
			return m->files.paths.v[i];
	return NULL;
}

/* Whether rel is a directory above some app path ("a" above "a/b"). */
static bool above_app_path(const struct manifest *m, const char *rel)
{
	for (size_t i = 0; i < m->files.paths.n; i++)
		if (within(m->files.paths.v[i], rel) && strcmp(m->files.paths.v[i], rel) != 0)
			return true;
	return false;
}

static bool clean_under_db(const char *path)
{
	return path && bundle_name_ok(path) && strncmp(path, "db/", 3) == 0;
}

static int check_paths(const struct manifest *m, const char *bundle, struct err *e)
{
	for (size_t i = 0; i < m->files.paths.n; i++) {
		const char *p = m->files.paths.v[i];
		if (!bundle_name_ok(p))
			return refuse_key(bundle, "files.paths", p,
					  "is not a clean relative path (absolute, \"..\", \".\" or empty parts)", e);
		for (size_t j = 0; j < m->files.paths.n; j++)
			if (j != i && within(p, m->files.paths.v[j]))
				return refuse_key(bundle, "files.paths", p,
						  strcmp(p, m->files.paths.v[j]) == 0 ? "is listed twice"
										      : "lies inside another listed path", e);
	}
	return 0;
}

/* Where a listed member may be: under db/, or under files/<app path>. */
static bool member_name_allowed(const struct manifest *m, const char *name)
{
	if (!bundle_name_ok(name))
		return false;
	if (strncmp(name, "db/", 3) == 0)
		return true;
	return strncmp(name, "files/", 6) == 0 && app_path_of(m, name + 6);
}

int trust_check_manifest(const struct manifest *m, const char *bundle, struct err *e)
{
	if (m->has_db && !clean_under_db(m->dump.path))
		return refuse_key(bundle, "dump.path", m->dump.path ? m->dump.path : "", "is not a path under db/", e);
	if (m->dump.globals && !clean_under_db(m->dump.globals))
		return refuse_key(bundle, "dump.globals", m->dump.globals, "is not a path under db/", e);
	if (check_paths(m, bundle, e) < 0)
		return -1;
	for (size_t i = 0; i < m->nmembers; i++)
		if (!member_name_allowed(m, m->members[i].name))
			return refuse_key(bundle, "members", m->members[i].name,
					  "is outside db/ and the app paths the manifest lists", e);
	if (m->member_index.n != m->nmembers)
		return refuse_key(bundle, "members", "", "list a member twice", e);
	return 0;
}

/* The lexical target of a symlink at rel (a path under files/) pointing to
 * target: NULL when it climbs above the top. Caller frees. */
static char *resolve_link(const char *rel, const char *target)
{
	struct strv parts = {0};
	char *joined = xasprintf("%s/../%s", rel, target);   /* from the link's directory */
	char *save = NULL;
	bool escaped = false;
	for (char *c = strtok_r(joined, "/", &save); c && !escaped; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			if (parts.n == 0)
				escaped = true;
			else
				free(parts.v[--parts.n]);
			continue;
		}
		strv_push(&parts, c);
	}
	free(joined);
	struct sbuf out = {0};
	for (size_t i = 0; !escaped && i < parts.n; i++)
		sbuf_addf(&out, "%s%s", i ? "/" : "", parts.v[i]);
	strv_done(&parts);
	if (escaped) {
		sbuf_done(&out);
		return NULL;
	}
	return out.len ? sbuf_take(&out) : xstrdup("");
}

/* A symlink may point anywhere inside the app root (a deploy's "current ->
 * releases/…" or "log -> ../../shared/log" are common), never above it and
 * never to an absolute path; nothing is ever written through it. */
static int check_symlink(const char *bundle, const char *name, const char *link, struct err *e)
{
	if (!link || !*link || link[0] == '/')
		return refuse_member(bundle, name, "is a symlink to an absolute path", e);
	char *to = resolve_link(name + 6, link);
	bool inside = to != NULL;
	free(to);
	return inside ? 0 : refuse_member(bundle, name, "is a symlink that leads outside the app root", e);
}

/* Refuse a member below a symlink member: writing it would go through the link. */
static int check_not_below_symlink(const char *bundle, const char *name, const struct strset *symlinks,
				   struct err *e)
{
	char *prefix = xstrdup(name);
	for (char *slash = strrchr(prefix, '/'); slash; slash = strrchr(prefix, '/')) {
		*slash = '\0';
		if (strset_get(symlinks, prefix, NULL)) {
			free(prefix);
			return refuse_member(bundle, name, "lies below a symlink member", e);
		}
	}
	free(prefix);
	return 0;
}

static int check_files_member(const struct manifest *m, const char *bundle, const struct bundle_entry *ent,
			      struct strset *symlinks, struct err *e)
{
	const char *rel = ent->name + 6;
	const char *app = app_path_of(m, rel);
	if (!app && !(ent->type == BUNDLE_DIR && above_app_path(m, rel)))
		return refuse_member(bundle, ent->name, "is outside the app paths the manifest lists", e);
	if (check_not_below_symlink(bundle, ent->name, symlinks, e) < 0)
		return -1;
	if (ent->type == BUNDLE_SYMLINK) {
		if (!app)
			return refuse_member(bundle, ent->name, "is a symlink above an app path", e);
		if (check_symlink(bundle, ent->name, ent->link, e) < 0)
			return -1;
		strset_add(symlinks, ent->name, 0);
	}
	return 0;
}

static int check_size(const struct manifest *m, const char *bundle, const struct bundle_entry *ent,
		      struct err *e)
{
	const struct manifest_member *mm = manifest_find_member(m, ent->name);
	if (!mm)
		return refuse_member(bundle, ent->name, "is not in the manifest", e);
	if (mm->size != ent->size) {
		char *why = xasprintf("is %llu bytes by its tar header, %llu by the manifest",
				      (unsigned long long)ent->size, (unsigned long long)mm->size);
		int rc = refuse_member(bundle, ent->name, why, e);
		free(why);
		return rc;
	}
	return 0;
}

int trust_check_member(const struct manifest *m, const char *bundle, const struct bundle_entry *ent,
		       struct strset *symlinks, struct err *e)
{
	const char *name = ent->name;
	if (strcmp(name, MANIFEST_NAME) == 0 || strcmp(name, SHA256SUMS_NAME) == 0 ||
	    strcmp(name, BUNDLE_MANIFEST_SIG) == 0)
		return ent->type == BUNDLE_REG ? 0 : refuse_member(bundle, name, "is not a regular file", e);
	if (strcmp(name, "db") == 0 || strcmp(name, "files") == 0)
		return ent->type == BUNDLE_DIR ? 0 : refuse_member(bundle, name, "is not a directory", e);
	int rc = 0;
	if (strncmp(name, "db/", 3) == 0) {
		if (ent->type == BUNDLE_SYMLINK)
			return refuse_member(bundle, name, "is a symlink in db/ (a dump holds none)", e);
	} else if (strncmp(name, "files/", 6) == 0) {
		rc = check_files_member(m, bundle, ent, symlinks, e);
	} else {
		return refuse_member(bundle, name, "is outside db/ and files/", e);
	}
	if (rc == 0 && ent->type == BUNDLE_REG)
		rc = check_size(m, bundle, ent, e);
	return rc;
}
