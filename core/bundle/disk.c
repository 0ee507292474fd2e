/* bundle/disk — the disk side of an extraction: the safety checks of each
 * member, where it goes (its route), and libarchive's disk writer. */
#include "bundle/bundle_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
			p->keep_owner = p->routes[i].keep_owner;
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
	/* A bundle never gives a file setuid, setgid or sticky bits. */
	archive_entry_set_perm(ent, archive_entry_perm(ent) & 0777);
	/* Owned by the extracting user unless the route keeps the bundle's
	 * numeric uid/gid (app.keep_ownership). */
	archive_entry_set_uname(ent, NULL);
	archive_entry_set_gname(ent, NULL);
	if (!p->keep_owner) {
		archive_entry_set_uid(ent, geteuid());
		archive_entry_set_gid(ent, getegid());
	}
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

