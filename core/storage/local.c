/* storage/local — bundles in a directory of this machine. put copies into
 * "<name>.part" (resuming after a prefix that hashes the same), syncs it,
 * reads it back to compare its SHA-256 with the source's, then renames. */
#include "storage_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsx.h"
#include "hash.h"
#include "util.h"

#define COPY_CHUNK (1024 * 1024)

struct local {
	char *dir;
};

/* dir/name; caller frees. */
static char *entry_file(const storage *s, const char *name)
{
	const struct local *l = s->priv;
	return xasprintf("%s/%s", l->dir, name);
}

/* Every regular file in the directory (a missing one is empty). */
static int local_list(storage *s, struct storage_list *out, struct err *e)
{
	const struct local *l = s->priv;
	DIR *d = opendir(l->dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return err_set(e, ERR_FAILED, "cannot list %s: %s", l->dir, strerror(errno));
	}
	const struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && S_ISREG(st.st_mode))
			storage_list_add(out, de->d_name, (uint64_t)st.st_size, (int64_t)st.st_mtime);
	}
	closedir(d);
	return 0;
}

/* stat dir/name: 0, 1 when missing, -1 when it is no regular file. */
static int local_stat(storage *s, const char *name, struct storage_entry *out, struct err *e)
{
	char *path = entry_file(s, name);
	struct stat st;
	int rc = 0;
	if (stat(path, &st) != 0)
		rc = errno == ENOENT ? 1 : err_set(e, ERR_FAILED, "cannot look at %s: %s", path,
						   strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = err_set(e, ERR_FAILED, "%s is not a regular file", path);
	else
		*out = (struct storage_entry){.name = xstrdup(name), .size = (uint64_t)st.st_size,
					      .mtime = (int64_t)st.st_mtime};
	free(path);
	return rc;
}

/* A copy in progress: source, .part, and the source's running hash. */
struct copy {
	const char *src_path, *part;
	int src, dst;
	uint64_t size;
	uint64_t off;              /* next byte to copy */
	struct hash_ctx full;      /* of the source, [0, off) */
	char *buf;
	const struct storage_put_opts *o;
	const char *step;
};

/* Read exactly n bytes of fd at off; -1 with e naming path. */
static int read_full(int fd, const char *path, char *buf, size_t n, uint64_t off, struct err *e)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(e, ERR_FAILED, "cannot read %s: %s", path, strerror(errno));
		if (r == 0)
			return err_set(e, ERR_FAILED, "%s shrank while it was being copied", path);
		got += (size_t)r;
	}
	return 0;
}

/* Write all of buf to fd at off; ERR_SPACE when the disk is full. */
static int write_full(int fd, const char *path, const char *buf, size_t n, uint64_t off,
		      struct err *e)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = pwrite(fd, buf + done, n - done, (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_set(e, errno == ENOSPC ? ERR_SPACE : ERR_FAILED, "cannot write %s: %s",
				       path, strerror(errno));
		done += (size_t)w;
	}
	return 0;
}

/* -1 (ERR_INTERRUPTED) once the cancel flag is up. */
static int cancelled(const struct copy *c, struct err *e)
{
	if (c->o->cancel && *c->o->cancel)
		return err_set(e, ERR_INTERRUPTED, "interrupted: copy of %s stopped", c->src_path);
	return 0;
}

/* Whether the first n bytes of the .part are those of the source; the
 * source's bytes go into the full hash on the way. */
static int same_prefix(struct copy *c, uint64_t n, bool *same, struct err *e)
{
	struct hash_ctx part = {0};
	char a[HASH_HEX_SIZE], b[HASH_HEX_SIZE];
	struct hash_ctx src = {0};
	int rc = hash_init(&part, e) == 0 && hash_init(&src, e) == 0 ? 0 : -1;
	for (uint64_t off = 0; rc == 0 && off < n;) {
		size_t k = n - off > COPY_CHUNK ? COPY_CHUNK : (size_t)(n - off);
		rc = cancelled(c, e);
		if (rc == 0)
			rc = read_full(c->src, c->src_path, c->buf, k, off, e);
		if (rc == 0) {
			hash_update(&src, c->buf, k);
			hash_update(&c->full, c->buf, k);
			rc = read_full(c->dst, c->part, c->buf, k, off, e);
		}
		if (rc == 0)
			hash_update(&part, c->buf, k);
		off += k;
	}
	if (rc == 0) {
		hash_final(&src, a);
		hash_final(&part, b);
		*same = strcmp(a, b) == 0;
	}
	hash_done(&src);
	hash_done(&part);
	return rc;
}

/* Keep an earlier .part when its bytes are a prefix of the source; else
 * start over. Sets c->off (and the full hash up to it). */
static int resume_point(struct copy *c, struct err *e)
{
	struct stat st;
	if (fstat(c->dst, &st) != 0 || st.st_size == 0)
		return 0;
	uint64_t have = (uint64_t)st.st_size;
	const struct event_sink *ev = c->o->events;
	if (have > c->size) {
		event_log(ev, EV_WARN, "the partial copy %s is larger than %s; starting over", c->part,
			  c->src_path);
		return ftruncate(c->dst, 0) == 0 ? 0 : err_set(e, ERR_FAILED, "cannot truncate %s: %s",
								c->part, strerror(errno));
	}
	event_log(ev, EV_INFO, "found %llu bytes of an earlier copy in %s; checking them",
		  (unsigned long long)have, c->part);
	bool same = false;
	if (same_prefix(c, have, &same, e) != 0)
		return -1;
	if (same) {
		c->off = have;
		event_log(ev, EV_INFO, "resuming after %llu bytes", (unsigned long long)have);
		return 0;
	}
	event_log(ev, EV_WARN, "the partial copy %s differs from %s; starting over", c->part,
		  c->src_path);
	hash_done(&c->full);
	if (hash_init(&c->full, e) != 0)
		return -1;
	return ftruncate(c->dst, 0) == 0 ? 0 : err_set(e, ERR_FAILED, "cannot truncate %s: %s",
							c->part, strerror(errno));
}

/* Copy [c->off, size), hashing the source. */
static int copy_rest(struct copy *c, struct storage_put_result *r, struct err *e)
{
	event_progress(c->o->events, c->step, c->off, c->size);
	while (c->off < c->size) {
		size_t k = c->size - c->off > COPY_CHUNK ? COPY_CHUNK : (size_t)(c->size - c->off);
		if (cancelled(c, e) != 0 || read_full(c->src, c->src_path, c->buf, k, c->off, e) != 0 ||
		    write_full(c->dst, c->part, c->buf, k, c->off, e) != 0)
			return -1;
		hash_update(&c->full, c->buf, k);
		c->off += k;
		r->sent += k;
		event_progress(c->o->events, c->step, c->off, c->size);
	}
	if (fsync(c->dst) != 0)
		return err_set(e, errno == ENOSPC ? ERR_SPACE : ERR_FAILED, "cannot write %s: %s",
			       c->part, strerror(errno));
	return 0;
}

/* Read the synced .part back and compare its hash with the source's. */
static int verify_part(struct copy *c, struct storage_put_result *r, struct err *e)
{
	hash_final(&c->full, r->sha256);
	char there[HASH_HEX_SIZE];
	uint64_t n = 0;
	if (hash_file_cancellable(c->part, there, &n, c->o->cancel, e) != 0)
		return -1;
	if (n == c->size && strcmp(there, r->sha256) == 0)
		return 0;
	unlink(c->part);
	err_set(e, ERR_VERIFY, "the copy %s does not match %s: sha256 %s there, %s here; the partial "
		"file was removed", c->part, c->src_path, there, r->sha256);
	return err_hint(e, "copy it again; if it fails the same way, check the disk");
}

/* Open the source (a regular file) and the .part (created 0600). */
static int copy_open(struct copy *c, struct err *e)
{
	c->src = open(c->src_path, O_RDONLY | O_CLOEXEC);
	if (c->src < 0)
		return err_set(e, ERR_FAILED, "cannot open %s: %s", c->src_path, strerror(errno));
	struct stat st;
	if (fstat(c->src, &st) != 0 || !S_ISREG(st.st_mode))
		return err_set(e, ERR_FAILED, "%s is not a regular file", c->src_path);
	c->size = (uint64_t)st.st_size;
	c->dst = open(c->part, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->dst < 0)
		return err_set(e, ERR_FAILED, "cannot create %s: %s", c->part, strerror(errno));
	return 0;
}

/* Whether path is the very file final (putting a file onto itself). */
static bool same_file(const char *path, const char *final)
{
	struct stat a, b;
	return stat(path, &a) == 0 && stat(final, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* The copy into .part, verified, renamed over final. */
static int copy_in(struct copy *c, const char *final, struct storage_put_result *r,
		   struct err *e)
{
	int rc = copy_open(c, e);
	if (rc == 0)
		rc = hash_init(&c->full, e);
	r->bytes = c->size;
	if (rc == 0)
		rc = resume_point(c, e);
	r->resumed_from = c->off;
	if (rc == 0)
		rc = copy_rest(c, r, e);
	if (rc == 0)
		rc = verify_part(c, r, e);
	if (rc == 0 && rename(c->part, final) != 0)
		rc = err_set(e, ERR_FAILED, "cannot rename %s to %s: %s", c->part, final,
			     strerror(errno));
	if (rc == 0)
		fsx_sync_parent(final);
	return rc;
}

/* Put local_path into the directory as name (see storage.h). */
static int local_put(storage *s, const char *local_path, const char *name,
		     const struct storage_put_opts *o, struct storage_put_result *r, struct err *e)
{
	const struct local *l = s->priv;
	double start = util_now();
	char *final = entry_file(s, name);
	int rc;
	if (same_file(local_path, final)) {
		uint64_t n = 0;
		rc = hash_file_cancellable(local_path, r->sha256, &n, o->cancel, e);
		r->bytes = n;
	} else if (fsx_mkdir_p(l->dir, 0700, e) != 0) {
		rc = -1;
	} else {
		struct copy c = {.src_path = local_path, .src = -1, .dst = -1, .o = o,
				 .step = o->step ? o->step : "put", .buf = xmalloc(COPY_CHUNK)};
		c.part = xasprintf("%s.part", final);
		rc = copy_in(&c, final, r, e);
		if (c.src >= 0)
			close(c.src);
		if (c.dst >= 0)
			close(c.dst);
		hash_done(&c.full);
		free((char *)c.part);
		free(c.buf);
	}
	r->seconds = util_now() - start;
	free(final);
	return rc;
}

/* Copy src (size bytes) into fd, hashing it into r->sha256. */
static int copy_out(int src, const char *path, uint64_t size, int fd,
		    const struct storage_get_opts *o, struct storage_get_result *r, struct err *e)
{
	struct hash_ctx h = {0};
	int rc = hash_init(&h, e);
	const char *step = o->step ? o->step : "get";
	char *buf = xmalloc(COPY_CHUNK);
	for (uint64_t off = 0; rc == 0 && off < size;) {
		size_t k = size - off > COPY_CHUNK ? COPY_CHUNK : (size_t)(size - off);
		if (o->cancel && *o->cancel) {
			rc = err_set(e, ERR_INTERRUPTED, "interrupted: copy of %s stopped", path);
			break;
		}
		if (read_full(src, path, buf, k, off, e) != 0 ||
		    write_full(fd, "the copy", buf, k, off, e) != 0) {
			rc = -1;
			break;
		}
		hash_update(&h, buf, k);
		off += k;
		r->bytes = off;
		event_progress(o->events, step, off, size);
	}
	if (rc == 0)
		hash_final(&h, r->sha256);
	hash_done(&h);
	free(buf);
	return rc;
}

/* The entry's bytes into fd, hashed. */
static int local_get(storage *s, const char *name, int fd, const struct storage_get_opts *o,
		     struct storage_get_result *r, struct err *e)
{
	double start = util_now();
	char *path = entry_file(s, name);
	int rc;
	int src = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (src < 0)
		rc = errno == ENOENT ? 1 : err_set(e, ERR_FAILED, "cannot open %s: %s", path,
						   strerror(errno));
	else if (fstat(src, &st) != 0 || !S_ISREG(st.st_mode))
		rc = err_set(e, ERR_FAILED, "%s is not a regular file", path);
	else
		rc = copy_out(src, path, (uint64_t)st.st_size, fd, o, r, e);
	if (src >= 0)
		close(src);
	free(path);
	r->seconds = util_now() - start;
	return rc;
}

/* unlink dir/name: 0, 1 when missing, -1. */
static int local_remove(storage *s, const char *name, struct err *e)
{
	char *path = entry_file(s, name);
	int rc = 0;
	if (unlink(path) != 0)
		rc = errno == ENOENT ? 1 : err_set(e, ERR_FAILED, "cannot remove %s: %s", path,
						   strerror(errno));
	free(path);
	return rc;
}

/* Free the driver's state. */
static void local_close(storage *s)
{
	struct local *l = s->priv;
	free(l->dir);
	free(l);
}

static const struct storage_driver local_driver = {
	.name = "local",
	.list = local_list,
	.stat = local_stat,
	.put = local_put,
	.get = local_get,
	.remove = local_remove,
	.path = entry_file,
	.close = local_close,
};

/* A directory of this machine (see storage.h). */
storage *storage_open_local(const char *dir, struct err *e)
{
	if (!dir || !*dir) {
		err_set(e, ERR_USAGE, "no directory given for the local storage");
		err_hint(e, "set backup.dir in the profile");
		return NULL;
	}
	struct local *l = xcalloc(1, sizeof *l);
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	l->dir = xstrndup(dir, n);
	return storage_new(&local_driver, xstrdup(l->dir), l);
}
