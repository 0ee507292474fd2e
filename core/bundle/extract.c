/* bundle/extract — the routed extraction: the verifying pass of scan.c,
 * with each member written under the first route that takes it, through
 * libarchive's disk writer and its safety checks. */
#include "bundle/bundle_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"


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
	pr->keep_owner = r->keep_owner;
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
	bool owner = false;
	for (size_t i = 0; i < nroutes; i++)
		owner = owner || routes[i].keep_owner;
	archive_write_disk_set_options(p->disk, ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
						(owner ? ARCHIVE_EXTRACT_OWNER : 0));
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

/* One verifying pass, extracting through o's routes when it has some. */
int bundle_pass(const char *path, const struct bundle_pass_opts *o, struct err *e)
{
	struct bundle_pass p = {.path = path, .fn = o->member, .header = o->header,
				.content = o->content, .ud = o->ud, .cancel = o->cancel};
	int rc = o->nroutes ? open_disk(&p, o->routes, o->nroutes, e) : 0;
	if (rc == 0)
		rc = bundle_pass_run(&p, e);
	bundle_pass_done(&p);
	close_disk(&p);
	return rc;
}

/* Extract through several routes in one verifying pass. */
int bundle_extract_routes(const char *path, const struct bundle_route *routes, size_t nroutes,
			  bundle_member_fn fn, void *ud, volatile sig_atomic_t *cancel, struct err *e)
{
	if (nroutes == 0)
		return err_set(e, ERR_FAILED, "bundle_extract: no route");
	struct bundle_pass_opts o = {.member = fn, .ud = ud, .cancel = cancel, .routes = routes,
				     .nroutes = nroutes};
	return bundle_pass(path, &o, e);
}

/* Extract through a single route. */
int bundle_extract(const char *path, const char *dest_dir, const char *prefix, bool strip_prefix,
		   bundle_member_fn fn, void *ud, volatile sig_atomic_t *cancel, struct err *e)
{
	struct bundle_route r = {.prefix = prefix, .dest_dir = dest_dir, .strip_prefix = strip_prefix};
	return bundle_extract_routes(path, &r, 1, fn, ud, cancel, e);
}
