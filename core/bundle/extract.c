/* bundle/extract — the routed extraction: the verifying pass of scan.c,
 * with each member written under the first route that takes it, through
 * libarchive's disk writer and its safety checks. */
#include "bundle/bundle_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/* Fill e for a failed write to disk: full disk, refused path, or other. */
static int disk_error(struct bundle_pass *p, const char *member, struct err *e)
{
	int errnum = archive_errno(p->disk);
	const char *why = archive_error_string(p->disk);
	if (bundle_is_space_errno(errnum)) {
		err_set(e, ERR_SPACE, "no space left extracting member %s to %s", member, p->dest);
		return err_hint(e, "free space in %s", p->dest);
	}
	/* libarchive refuses unsafe paths with its own (non-positive) codes. */
	if (errnum <= 0) {
		err_set(e, ERR_VERIFY, "refusing member %s of bundle %s: %s", member, p->path,
			why ? why : "unsafe path");
		return err_hint(e, BUNDLE_UNSAFE_HINT);
	}
	return err_set(e, ERR_FAILED, "cannot extract member %s of bundle %s to %s: %s (%s)", member,
		       p->path, p->dest, why ? why : "write failed", strerror(errnum));
}

/* Write all of data into the current member on disk. */
int bundle_disk_write(struct bundle_pass *p, const char *member, const void *data, size_t n,
		      struct err *e)
{
	const char *c = data;
	while (n > 0) {
		la_ssize_t w = archive_write_data(p->disk, c, n);
		if (w <= 0)
			return disk_error(p, member, e);
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ERR_VERIFY: the member is refused, and why. */
static int unsafe_member(struct bundle_pass *p, const char *name, const char *why, struct err *e)
{
	err_set(e, ERR_VERIFY, "bundle %s: member %s %s; refusing to extract it", p->path, name, why);
	return err_hint(e, BUNDLE_UNSAFE_HINT);
}

/* Refuse what no ferry bundle holds: absolute paths, "..", odd types. */
int bundle_disk_check_safe(struct bundle_pass *p, const struct bundle_entry *ent, struct err *e)
{
	const char *raw = archive_entry_pathname(bundle_reader_entry(p->br));
	if (!raw || !*raw || !*ent->name)
		return unsafe_member(p, "(empty)", "has an empty or unreadable name", e);
	if (raw[0] == '/')
		return unsafe_member(p, raw, "has an absolute path", e);
	if (bundle_name_has_dotdot(raw))
		return unsafe_member(p, raw, "points outside the destination (\"..\")", e);
	if (ent->hardlink)
		return unsafe_member(p, raw, "is a hard link", e);
	if (ent->type == BUNDLE_OTHER)
		return unsafe_member(p, raw, "is a device, fifo or other special file", e);
	return 0;
}

/* Where the member goes under its route's dest when it is extracted (the
 * first route whose prefix matches), else NULL. */
static char *route_target(const struct bundle_pass_route *r, const char *name)
{
	const char *rest = name;
	if (r->prefix) {
		size_t len = strlen(r->prefix);
		if (strncmp(name, r->prefix, len) != 0 || (name[len] != '/' && name[len] != '\0'))
			return NULL;
		if (r->strip)
			rest = name[len] ? name + len + 1 : "";
	}
	return *rest ? xasprintf("%s/%s", r->dest, rest) : NULL;
}

/* The first route that takes the member: its path there, else NULL. */
char *bundle_disk_target(struct bundle_pass *p, const char *name)
{
	for (size_t i = 0; p->disk && i < p->nroutes; i++) {
		char *target = route_target(&p->routes[i], name);
		if (target) {
			p->dest = p->routes[i].dest;
			return target;
		}
	}
	return NULL;
}

/* Start writing the member to disk at target. */
int bundle_disk_header(struct bundle_pass *p, const char *name, const char *target,
		       struct err *e)
{
	struct archive_entry *ent = archive_entry_clone(bundle_reader_entry(p->br));
	if (!ent) {
		fprintf(stderr, "ferry: out of memory cloning an archive entry\n");
		abort();
	}
	archive_entry_set_pathname(ent, target);
	int r = archive_write_header(p->disk, ent);
	archive_entry_free(ent);
	return r < ARCHIVE_WARN ? disk_error(p, name, e) : 0;
}

/* Finish the current member on disk (its times and mode). */
int bundle_disk_finish_entry(struct bundle_pass *p, const char *member, struct err *e)
{
	return archive_write_finish_entry(p->disk) < ARCHIVE_WARN ? disk_error(p, member, e) : 0;
}

/* Finish the extraction: the directories' times, set last. */
int bundle_disk_close(struct bundle_pass *p, struct err *e)
{
	if (archive_write_close(p->disk) != ARCHIVE_OK)
		return disk_error(p, "(final directory times)", e);
	return 0;
}

/* One route's destination, which must be an existing directory. */
static int add_route(struct bundle_pass *p, const struct bundle_route *r, struct err *e)
{
	struct bundle_pass_route *pr = &p->routes[p->nroutes];
	pr->dest = realpath(r->dest_dir, NULL);
	struct stat st;
	if (!pr->dest || stat(pr->dest, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(pr->dest);
		pr->dest = NULL;
		err_set(e, ERR_FAILED, "extract destination %s is not a directory", r->dest_dir);
		return err_hint(e, "create it first");
	}
	pr->prefix = r->prefix && *r->prefix ? bundle_clean_rel(r->prefix) : NULL;
	pr->strip = r->strip_prefix;
	p->nroutes++;
	return 0;
}

/* The disk writer with libarchive's safety checks. */
static int open_disk(struct bundle_pass *p, const struct bundle_route *routes, size_t nroutes,
		     struct err *e)
{
	if (nroutes == 0 || nroutes > BUNDLE_MAX_ROUTES)
		return err_set(e, ERR_FAILED, "bundle_extract: %zu routes (1..%d)", nroutes,
			       BUNDLE_MAX_ROUTES);
	for (size_t i = 0; i < nroutes; i++)
		if (add_route(p, &routes[i], e) < 0)
			return -1;
	p->dest = p->routes[0].dest;
	p->disk = archive_write_disk_new();
	if (!p->disk) {
		fprintf(stderr, "ferry: out of memory creating a disk writer\n");
		abort();
	}
	/* Member paths are checked here (absolute, "..") before dest is put in
	 * front of them, which is why SECURE_NOABSOLUTEPATHS cannot be used:
	 * the prefixed path is absolute. dest has no symlinks (realpath), so
	 * SECURE_SYMLINKS only ever sees those the bundle itself creates. */
	archive_write_disk_set_options(p->disk, ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM);
	return 0;
}

/* Free the disk writer and the routes. */
static void close_disk(struct bundle_pass *p)
{
	if (p->disk)
		archive_write_free(p->disk);
	for (size_t i = 0; i < p->nroutes; i++) {
		free(p->routes[i].dest);
		free(p->routes[i].prefix);
	}
}

/* Extract through several routes in one verifying pass. */
int bundle_extract_routes(const char *path, const struct bundle_route *routes, size_t nroutes,
			  bundle_member_fn fn, void *ud, volatile sig_atomic_t *cancel, struct err *e)
{
	struct bundle_pass p = {.path = path, .fn = fn, .ud = ud, .cancel = cancel};
	int rc = open_disk(&p, routes, nroutes, e);
	if (rc == 0)
		rc = bundle_pass_run(&p, e);
	bundle_pass_done(&p);
	close_disk(&p);
	return rc;
}

/* Extract through a single route. */
int bundle_extract(const char *path, const char *dest_dir, const char *prefix, bool strip_prefix,
		   bundle_member_fn fn, void *ud, volatile sig_atomic_t *cancel, struct err *e)
{
	struct bundle_route r = {.prefix = prefix, .dest_dir = dest_dir, .strip_prefix = strip_prefix};
	return bundle_extract_routes(path, &r, 1, fn, ud, cancel, e);
}
