/* bundle — write, read, scan and extract the one-file backup (libarchive). */
#include "bundle.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK_BYTES (64 * 1024)              /* libarchive's output block */
#define PROGRESS_INTERVAL_MS 100
#define CORRUPT_HINT "the bundle file is truncated or corrupt: use another copy of it"
#define UNSAFE_HINT "this bundle was not made by ferry or was tampered with: do not restore it"

/* ---- small helpers ------------------------------------------------------ */

/* The directory part of a path ("." when there is none); caller frees. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* true when name is a relative path of normal components. */
static bool name_ok(const char *name)
{
	if (!name || !*name || name[0] == '/')
		return false;
	for (const char *p = name;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

/* true when some component of name is "..". */
static bool has_dotdot(const char *name)
{
	for (const char *p = name;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return true;
		if (!slash)
			return false;
		p = slash + 1;
	}
}

static bool is_space_errno(int errnum)
{
	return errnum == ENOSPC || errnum == EDQUOT;
}

static int64_t ms_since(const struct timespec *then)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - then->tv_sec) * 1000 + (now.tv_nsec - then->tv_nsec) / 1000000;
}

static void member_clear(struct bundle_member *m)
{
	free(m->name);
	free(m->link);
	*m = (struct bundle_member){0};
}

/* ---- writer ------------------------------------------------------------- */

struct bundle_writer {
	struct archive *a;
	int fd;
	bool created;            /* the .part is ours to remove */
	bool failed;             /* an add failed: no more adds, no commit */
	bool broken;             /* libarchive failed or a member is cut short */
	char *final_path;
	char *part_path;
	unsigned char *buf;      /* BUNDLE_BUFSIZE */
	struct bundle_member *members;
	size_t n, cap;
	uint64_t bytes_in;
	void (*progress)(void *ud, uint64_t bytes_in_done);
	void *progress_ud;
	struct timespec last_progress;
	volatile sig_atomic_t *cancel;
};

/* Fill e for a failed write to the .part: ERR_SPACE when the disk is full. */
static int write_errno(bundle_writer *bw, int errnum, const char *detail, const char *member,
		       struct err *e)
{
	bw->failed = bw->broken = true;
	if (is_space_errno(errnum)) {
		char *dir = dir_of(bw->final_path);
		err_set(e, ERR_SPACE, "no space left writing %s", bw->part_path);
		err_hint(e, "free space in %s or choose another --out", dir);
		free(dir);
		return -1;
	}
	if (errnum > 0)
		detail = strerror(errnum);
	if (member)
		return err_set(e, ERR_FAILED, "cannot write %s (member %s): %s", bw->part_path, member,
			       detail ? detail : "unknown error");
	return err_set(e, ERR_FAILED, "cannot write %s: %s", bw->part_path,
		       detail ? detail : "unknown error");
}

static int archive_write_err(bundle_writer *bw, const char *member, struct err *e)
{
	return write_errno(bw, archive_errno(bw->a), archive_error_string(bw->a), member, e);
}

static void maybe_progress(bundle_writer *bw, bool force)
{
	if (!bw->progress || (!force && ms_since(&bw->last_progress) < PROGRESS_INTERVAL_MS))
		return;
	clock_gettime(CLOCK_MONOTONIC, &bw->last_progress);
	bw->progress(bw->progress_ud, bw->bytes_in);
}

/* Default level for 0, and the range check. */
static int resolve_level(const struct bundle_write_opts *o, int *level, struct err *e)
{
	*level = o->level;
	switch (o->compression) {
	case BUNDLE_ZSTD:
		if (*level == 0)
			*level = 1;
		if (*level < -7 || *level > 22) {
			err_set(e, ERR_USAGE, "zstd compression level %d is out of range", o->level);
			return err_hint(e, "use 1..19 (1 is the default; negative levels -7..-1 are faster)");
		}
		return 0;
	case BUNDLE_GZIP:
		if (*level == 0)
			*level = 6;
		if (*level < 1 || *level > 9) {
			err_set(e, ERR_USAGE, "gzip compression level %d is out of range", o->level);
			return err_hint(e, "use 1..9 (6 is the default)");
		}
		return 0;
	case BUNDLE_NONE:
		return 0;
	}
	return err_set(e, ERR_USAGE, "unknown bundle compression %d", (int)o->compression);
}

static int set_int_option(struct archive *a, const char *filter, const char *key, long value)
{
	char v[32];
	snprintf(v, sizeof v, "%ld", value);
	return archive_write_set_filter_option(a, filter, key, v);
}

/* zstd with its level and threads; threads are optional (older libarchive). */
static int add_zstd(bundle_writer *bw, int level, int threads, struct err *e)
{
	if (archive_write_add_filter_zstd(bw->a) != ARCHIVE_OK)
		return err_set(e, ERR_TOOL, "libarchive %s cannot write zstd: %s",
			       archive_version_details(), archive_error_string(bw->a));
	if (set_int_option(bw->a, "zstd", "compression-level", level) != ARCHIVE_OK) {
		err_set(e, ERR_USAGE, "zstd compression level %d is not supported by %s", level,
			archive_version_details());
		return err_hint(e, "use a level between 1 and 19");
	}
	long n = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);
	if (n > 1)
		(void)set_int_option(bw->a, "zstd", "threads", n);
	return 0;
}

static int add_filter(bundle_writer *bw, const struct bundle_write_opts *o, int level,
		      struct err *e)
{
	switch (o->compression) {
	case BUNDLE_ZSTD:
		return add_zstd(bw, level, o->threads, e);
	case BUNDLE_GZIP:
		if (archive_write_add_filter_gzip(bw->a) < ARCHIVE_WARN ||
		    set_int_option(bw->a, "gzip", "compression-level", level) != ARCHIVE_OK)
			return err_set(e, ERR_TOOL, "libarchive cannot write gzip level %d: %s", level,
				       archive_error_string(bw->a));
		return 0;
	case BUNDLE_NONE:
		archive_write_add_filter_none(bw->a);
		return 0;
	}
	return err_set(e, ERR_USAGE, "unknown bundle compression %d", (int)o->compression);
}

/* Create the .part, replacing a stale one. */
static int create_part(bundle_writer *bw, struct err *e)
{
	if (unlink(bw->part_path) < 0 && errno != ENOENT) {
		err_set(e, ERR_FAILED, "cannot replace stale %s: %s", bw->part_path, strerror(errno));
		return err_hint(e, "remove it by hand or choose another --out");
	}
	bw->fd = open(bw->part_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (bw->fd < 0) {
		int errnum = errno;
		if (is_space_errno(errnum))
			return write_errno(bw, errnum, NULL, NULL, e);
		char *dir = dir_of(bw->final_path);
		err_set(e, ERR_FAILED, "cannot create %s: %s", bw->part_path, strerror(errnum));
		err_hint(e, "check that %s exists and is writable, or choose another --out", dir);
		free(dir);
		return -1;
	}
	bw->created = true;
	if (fchmod(bw->fd, 0600) < 0)
		return err_set(e, ERR_FAILED, "cannot chmod %s: %s", bw->part_path, strerror(errno));
	return 0;
}

static int start_archive(bundle_writer *bw, const struct bundle_write_opts *o, int level,
			 struct err *e)
{
	bw->a = archive_write_new();
	if (!bw->a) {
		fprintf(stderr, "ferry: out of memory creating an archive writer\n");
		abort();
	}
	if (archive_write_set_format_pax_restricted(bw->a) != ARCHIVE_OK)
		return err_set(e, ERR_TOOL, "libarchive cannot write pax tar: %s",
			       archive_error_string(bw->a));
	if (add_filter(bw, o, level, e) < 0)
		return -1;
	/* No padding after the compressed stream: zstd and gzip reject it. */
	archive_write_set_bytes_per_block(bw->a, BLOCK_BYTES);
	archive_write_set_bytes_in_last_block(bw->a, 1);
	if (archive_write_open_fd(bw->a, bw->fd) != ARCHIVE_OK)
		return archive_write_err(bw, NULL, e);
	return 0;
}

bundle_writer *bundle_writer_open(const char *final_path, const struct bundle_write_opts *opts,
				  struct err *e)
{
	static const struct bundle_write_opts defaults = {.compression = BUNDLE_ZSTD};
	if (!opts)
		opts = &defaults;
	int level;
	if (resolve_level(opts, &level, e) < 0)
		return NULL;
	bundle_writer *bw = xcalloc(1, sizeof *bw);
	bw->fd = -1;
	bw->final_path = xstrdup(final_path);
	bw->part_path = xasprintf("%s.part", final_path);
	bw->progress = opts->progress;
	bw->progress_ud = opts->progress_ud;
	bw->cancel = opts->cancel;
	clock_gettime(CLOCK_MONOTONIC, &bw->last_progress);
	if (create_part(bw, e) < 0 || start_archive(bw, opts, level, e) < 0) {
		bundle_writer_abort(bw);
		return NULL;
	}
	bw->buf = xmalloc(BUNDLE_BUFSIZE);
	return bw;
}

/* Refuse work on a failed writer and bad member names. */
static int check_add(bundle_writer *bw, const char *name, struct err *e)
{
	if (bw->failed)
		return err_set(e, ERR_FAILED, "bundle %s: cannot add %s after an earlier failure",
			       bw->part_path, name ? name : "(null)");
	if (!name_ok(name)) {
		err_set(e, ERR_FAILED, "bad bundle member name \"%s\"", name ? name : "(null)");
		return err_hint(e, "member names are relative paths without \".\" or \"..\"");
	}
	return 0;
}

static struct bundle_member *member_push(bundle_writer *bw, const char *name,
					 enum bundle_type type, unsigned mode, int64_t mtime)
{
	if (bw->n == bw->cap) {
		bw->cap = bw->cap ? bw->cap * 2 : 64;
		bw->members = xrealloc(bw->members, bw->cap * sizeof *bw->members);
	}
	struct bundle_member *m = &bw->members[bw->n++];
	*m = (struct bundle_member){.name = xstrdup(name), .type = type, .mode = mode & 07777,
				    .mtime = mtime};
	return m;
}

static struct archive_entry *new_entry(const char *name, mode_t type, unsigned mode, int64_t size,
				       int64_t mtime)
{
	struct archive_entry *ent = archive_entry_new();
	if (!ent) {
		fprintf(stderr, "ferry: out of memory creating an archive entry\n");
		abort();
	}
	archive_entry_set_pathname(ent, name);
	archive_entry_set_filetype(ent, type);
	archive_entry_set_perm(ent, mode & 07777);
	archive_entry_set_size(ent, size);
	archive_entry_set_mtime(ent, (time_t)mtime, 0);
	archive_entry_set_uid(ent, geteuid());
	archive_entry_set_gid(ent, getegid());
	return ent;
}

/* Write a header and free the entry. */
static int write_header(bundle_writer *bw, struct archive_entry *ent, const char *name,
			struct err *e)
{
	int r = archive_write_header(bw->a, ent);
	archive_entry_free(ent);
	if (r < ARCHIVE_WARN)
		return archive_write_err(bw, name, e);
	return 0;
}

static int write_data(bundle_writer *bw, const void *data, size_t n, const char *name,
		      struct err *e)
{
	const char *p = data;
	while (n > 0) {
		la_ssize_t w = archive_write_data(bw->a, p, n);
		if (w < 0)
			return archive_write_err(bw, name, e);
		if (w == 0)
			return write_errno(bw, 0, "more data than the member's size", name, e);
		p += w;
		n -= (size_t)w;
		bw->bytes_in += (uint64_t)w;
	}
	maybe_progress(bw, false);
	return 0;
}

int bundle_writer_add_buffer(bundle_writer *bw, const char *name, const void *data, size_t len,
			     struct err *e)
{
	char hex[HASH_HEX_SIZE];
	if (check_add(bw, name, e) < 0 || hash_buffer(data, len, hex, e) < 0)
		return -1;
	int64_t now = (int64_t)time(NULL);
	struct archive_entry *ent = new_entry(name, AE_IFREG, 0644, (int64_t)len, now);
	if (write_header(bw, ent, name, e) < 0 || write_data(bw, data, len, name, e) < 0)
		return -1;
	struct bundle_member *m = member_push(bw, name, BUNDLE_REG, 0644, now);
	m->size = len;
	memcpy(m->sha256, hex, sizeof hex);
	return 0;
}

/* Open a regular file for reading, refusing symlinks and special files. */
static int open_source(const char *src, struct stat *st, struct err *e)
{
	int fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ELOOP)
		return err_set(e, ERR_FAILED, "cannot back up %s: it is a symlink, not a regular file",
			       src);
	if (fd < 0)
		return err_set(e, ERR_FAILED, "cannot open %s: %s", src, strerror(errno));
	if (fstat(fd, st) < 0) {
		int errnum = errno;
		close(fd);
		return err_set(e, ERR_FAILED, "cannot stat %s: %s", src, strerror(errnum));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return err_set(e, ERR_FAILED, "cannot back up %s: not a regular file", src);
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
}

static int changed_error(const char *src, const char *how, struct err *e)
{
	err_set(e, ERR_FAILED, "%s changed while being backed up (%s)", src, how);
	return err_hint(e, "stop whatever writes to it or exclude it, then run the backup again");
}

/* Copy exactly size bytes of fd into the current member, hashing them. */
static int stream_file(bundle_writer *bw, int fd, const char *src, const char *name,
		       uint64_t size, char hex[HASH_HEX_SIZE], struct err *e)
{
	struct hash_ctx h = {0};
	if (hash_init(&h, e) < 0) {
		hash_done(&h);
		bw->failed = bw->broken = true;
		return -1;
	}
	uint64_t done = 0;
	int rc = 0;
	while (rc == 0 && done < size) {
		if (bw->cancel && *bw->cancel) {
			rc = err_set(e, ERR_INTERRUPTED, "interrupted while adding %s", src);
			break;
		}
		size_t want = size - done < BUNDLE_BUFSIZE ? (size_t)(size - done) : BUNDLE_BUFSIZE;
		ssize_t got = read(fd, bw->buf, want);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = err_set(e, ERR_FAILED, "cannot read %s: %s", src, strerror(errno));
		} else if (got == 0) {
			char how[96];
			snprintf(how, sizeof how, "it shrank to %llu of %llu bytes",
				 (unsigned long long)done, (unsigned long long)size);
			rc = changed_error(src, how, e);
		} else {
			hash_update(&h, bw->buf, (size_t)got);
			rc = write_data(bw, bw->buf, (size_t)got, name, e);
			done += (uint64_t)got;
		}
	}
	if (rc == 0)
		hash_final(&h, hex);
	else
		bw->failed = bw->broken = true;
	hash_done(&h);
	return rc;
}

/* After size bytes: more data means the file grew since its stat. */
static bool source_grew(int fd)
{
	char c;
	ssize_t got;
	do
		got = read(fd, &c, 1);
	while (got < 0 && errno == EINTR);
	return got > 0;
}

int bundle_writer_add_file(bundle_writer *bw, const char *name, const char *src_path,
			   const char *expected_sha256, struct err *e)
{
	if (check_add(bw, name, e) < 0)
		return -1;
	if (expected_sha256 && !hash_is_hex(expected_sha256))
		return err_set(e, ERR_FAILED, "bad expected sha-256 \"%s\" for %s", expected_sha256,
			       src_path);
	struct stat st;
	int fd = open_source(src_path, &st, e);
	if (fd < 0)
		return -1;
	struct archive_entry *ent = new_entry(name, AE_IFREG, st.st_mode, st.st_size, st.st_mtime);
	archive_entry_set_uid(ent, st.st_uid);
	archive_entry_set_gid(ent, st.st_gid);
	char hex[HASH_HEX_SIZE] = "";
	int rc = write_header(bw, ent, name, e);
	if (rc == 0)
		rc = stream_file(bw, fd, src_path, name, (uint64_t)st.st_size, hex, e);
	if (rc == 0 && expected_sha256 && source_grew(fd))
		rc = changed_error(src_path, "it grew past the size it had when the backup began", e);
	if (rc == 0 && expected_sha256 && strcmp(hex, expected_sha256) != 0) {
		char how[200];
		snprintf(how, sizeof how, "sha-256 is now %s, expected %s", hex, expected_sha256);
		rc = changed_error(src_path, how, e);
	}
	close(fd);
	if (rc < 0) {
		bw->failed = true;
		return -1;
	}
	struct bundle_member *m = member_push(bw, name, BUNDLE_REG, st.st_mode, st.st_mtime);
	m->size = (uint64_t)st.st_size;
	memcpy(m->sha256, hex, sizeof hex);
	return 0;
}

int bundle_writer_add_dir_entry(bundle_writer *bw, const char *name, unsigned mode, int64_t mtime,
				struct err *e)
{
	if (check_add(bw, name, e) < 0)
		return -1;
	if (write_header(bw, new_entry(name, AE_IFDIR, mode, 0, mtime), name, e) < 0)
		return -1;
	member_push(bw, name, BUNDLE_DIR, mode, mtime);
	return 0;
}

int bundle_writer_add_symlink(bundle_writer *bw, const char *name, const char *target,
			      struct err *e)
{
	if (check_add(bw, name, e) < 0)
		return -1;
	if (!target || !*target)
		return err_set(e, ERR_FAILED, "symlink %s has an empty target", name);
	int64_t now = (int64_t)time(NULL);
	struct archive_entry *ent = new_entry(name, AE_IFLNK, 0777, 0, now);
	archive_entry_set_symlink(ent, target);
	if (write_header(bw, ent, name, e) < 0)
		return -1;
	member_push(bw, name, BUNDLE_SYMLINK, 0777, now)->link = xstrdup(target);
	return 0;
}

int bundle_writer_add_sha256sums(bundle_writer *bw, struct err *e)
{
	char *text = bundle_sha256sums_text(bw->members, bw->n);
	int rc = bundle_writer_add_buffer(bw, BUNDLE_SHA256SUMS, text, strlen(text), e);
	free(text);
	return rc;
}

size_t bundle_writer_count(const bundle_writer *bw)
{
	return bw ? bw->n : 0;
}

const struct bundle_member *bundle_writer_member(const bundle_writer *bw, size_t i)
{
	return bw && i < bw->n ? &bw->members[i] : NULL;
}

static void writer_free(bundle_writer *bw)
{
	for (size_t i = 0; i < bw->n; i++)
		member_clear(&bw->members[i]);
	free(bw->members);
	free(bw->buf);
	free(bw->final_path);
	free(bw->part_path);
	free(bw);
}

/* Write the trailer and flush the compressor. */
static int finish_archive(bundle_writer *bw, struct err *e)
{
	int r = archive_write_close(bw->a);
	if (r != ARCHIVE_OK)
		return archive_write_err(bw, NULL, e);
	archive_write_free(bw->a);
	bw->a = NULL;
	return 0;
}

static int sync_close(bundle_writer *bw, struct err *e)
{
	if (fsync(bw->fd) < 0)
		return write_errno(bw, errno, NULL, NULL, e);
	int r = close(bw->fd);
	bw->fd = -1;
	if (r < 0)
		return write_errno(bw, errno, NULL, NULL, e);
	return 0;
}

static int sync_dir(const char *path, struct err *e)
{
	char *dir = dir_of(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;
	if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL && errno != EROFS)) {
		err_set(e, ERR_FAILED, "bundle %s written, but cannot sync directory %s: %s", path,
			dir, strerror(errno));
		rc = err_hint(e, "check the file system; the bundle may not survive a power loss");
	}
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

int bundle_writer_commit(bundle_writer *bw, struct err *e)
{
	if (!bw)
		return err_set(e, ERR_FAILED, "no bundle to commit");
	if (bw->failed) {
		err_set(e, ERR_FAILED, "bundle %s is incomplete after an earlier failure", bw->part_path);
		bundle_writer_abort(bw);
		return -1;
	}
	if (finish_archive(bw, e) < 0 || sync_close(bw, e) < 0) {
		bundle_writer_abort(bw);
		return -1;
	}
	if (rename(bw->part_path, bw->final_path) < 0) {
		err_set(e, ERR_FAILED, "cannot rename %s to %s: %s", bw->part_path, bw->final_path,
			strerror(errno));
		bundle_writer_abort(bw);
		return -1;
	}
	maybe_progress(bw, true);
	int rc = sync_dir(bw->final_path, e);
	writer_free(bw);
	return rc;
}

void bundle_writer_abort(bundle_writer *bw)
{
	if (!bw)
		return;
	/* A healthy archive is simply freed (its close writes the trailer:
	 * cheap). A broken one is failed first, so closing it does not pad a
	 * half-written member with zeros, and closed explicitly, because
	 * libarchive 3.6.2's free skips the close of a failed archive and
	 * leaks its output block. */
	if (bw->a && bw->broken) {
		archive_write_fail(bw->a);
		(void)archive_write_close(bw->a);
	}
	if (bw->a)
		archive_write_free(bw->a);
	if (bw->fd >= 0)
		close(bw->fd);
	if (bw->created)
		unlink(bw->part_path);
	writer_free(bw);
}

/* ---- SHA256SUMS --------------------------------------------------------- */

/* sha256sum escapes a name holding '\\' or '\n' and marks the line with '\\'. */
static bool needs_escape(const char *name)
{
	return strpbrk(name, "\\\n") != NULL;
}

char *bundle_sha256sums_text(const struct bundle_member *members, size_t n)
{
	struct sbuf s = {0};
	sbuf_add(&s, "", 0);
	for (size_t i = 0; i < n; i++) {
		const struct bundle_member *m = &members[i];
		if (m->type != BUNDLE_REG)
			continue;
		bool esc = needs_escape(m->name);
		if (esc)
			sbuf_addc(&s, '\\');
		sbuf_add(&s, m->sha256, strlen(m->sha256));
		sbuf_add(&s, "  ", 2);
		for (const char *p = m->name; *p; p++) {
			if (esc && *p == '\\')
				sbuf_add(&s, "\\\\", 2);
			else if (esc && *p == '\n')
				sbuf_add(&s, "\\n", 2);
			else
				sbuf_addc(&s, *p);
		}
		sbuf_addc(&s, '\n');
	}
	return s.data;
}

/* A name and its digest, from SHA256SUMS or from hashing a member. */
struct sum {
	char *name;
	char hex[HASH_HEX_SIZE];
};

struct sums {
	struct sum *v;
	size_t n, cap;
};

static void sums_push(struct sums *s, char *name_owned, const char *hex)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n].name = name_owned;
	snprintf(s->v[s->n].hex, sizeof s->v[s->n].hex, "%s", hex);
	s->n++;
}

static void sums_done(struct sums *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	*s = (struct sums){0};
}

static int sum_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sum *)a)->name, ((const struct sum *)b)->name);
}

/* Undo sha256sum's escaping of [p, p+len); NULL when malformed. */
static char *unescape_name(const char *p, size_t len)
{
	struct sbuf s = {0};
	sbuf_add(&s, "", 0);
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\\') {
			sbuf_addc(&s, p[i]);
			continue;
		}
		char next = i + 1 < len ? p[++i] : '\0';
		if (next != '\\' && next != 'n') {
			sbuf_done(&s);
			return NULL;
		}
		sbuf_addc(&s, next == 'n' ? '\n' : '\\');
	}
	return s.data;
}

/* Parse one line "<hex>  <name>" (or " *<name>", or '\\'-escaped). */
static bool parse_sum_line(const char *line, size_t len, struct sums *out)
{
	bool esc = len > 0 && line[0] == '\\';
	if (esc) {
		line++;
		len--;
	}
	if (len < HASH_HEX_LEN + 3 || line[HASH_HEX_LEN] != ' ' ||
	    (line[HASH_HEX_LEN + 1] != ' ' && line[HASH_HEX_LEN + 1] != '*'))
		return false;
	char hex[HASH_HEX_SIZE];
	memcpy(hex, line, HASH_HEX_LEN);
	hex[HASH_HEX_LEN] = '\0';
	if (!hash_is_hex(hex))
		return false;
	const char *name = line + HASH_HEX_LEN + 2;
	size_t nlen = len - HASH_HEX_LEN - 2;
	char *owned = esc ? unescape_name(name, nlen) : xstrndup(name, nlen);
	if (!owned)
		return false;
	sums_push(out, owned, hex);
	return true;
}

static int parse_sums(const char *bundle, const char *text, struct sums *out, struct err *e)
{
	size_t lineno = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		lineno++;
		if (len > 0 && !parse_sum_line(p, len, out)) {
			err_set(e, ERR_VERIFY, "bundle %s: line %zu of %s is malformed", bundle, lineno,
				BUNDLE_SHA256SUMS);
			return err_hint(e, CORRUPT_HINT);
		}
		p += len + (nl ? 1 : 0);
	}
	qsort(out->v, out->n, sizeof *out->v, sum_cmp);
	return 0;
}

/* ---- tree walk ---------------------------------------------------------- */

struct walk {
	const char *root;
	const struct strv *exclude;
	bundle_walk_fn fn;
	void *ud;
};

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

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

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

/* rel_path without trailing slashes and leading "./"; caller frees. */
static char *clean_rel(const char *rel)
{
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	size_t len = strlen(rel);
	while (len > 0 && rel[len - 1] == '/')
		len--;
	return xstrndup(rel, len);
}

int bundle_walk(const char *root, const char *rel_path, const struct strv *exclude_globs,
		bundle_walk_fn fn, void *ud, struct err *e)
{
	struct walk w = {.root = root, .exclude = exclude_globs, .fn = fn, .ud = ud};
	char *rel = clean_rel(rel_path ? rel_path : "");
	int rc;
	struct stat st;
	if (!*rel || strcmp(rel, ".") == 0) {
		if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
			err_set(e, ERR_FAILED, "app root %s is not a directory", root);
			rc = err_hint(e, "fix app.root in the profile or create it");
		} else {
			rc = walk_children(&w, "", root, e);
		}
	} else if (!name_ok(rel)) {
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

/* ---- reader ------------------------------------------------------------- */

struct bundle_reader {
	struct archive *a;
	int fd;
	char *path;
	struct archive_entry *cur;
	bool pending;    /* cur was read by open and not returned yet */
	char *name;      /* the current member's name, trailing '/' removed */
	volatile sig_atomic_t *cancel;
};

/* A damaged stream: ERR_VERIFY naming the bundle and where. */
static int damaged(bundle_reader *br, const char *where, struct err *e)
{
	const char *why = archive_error_string(br->a);
	if (br->name)
		err_set(e, ERR_VERIFY, "bundle %s is damaged %s member %s: %s", br->path, where,
			br->name, why ? why : "read error");
	else
		err_set(e, ERR_VERIFY, "bundle %s is damaged at its start: %s", br->path,
			why ? why : "read error");
	return err_hint(e, CORRUPT_HINT);
}

static int not_a_bundle(bundle_reader *br, const char *why, struct err *e)
{
	err_set(e, ERR_VERIFY, "%s is not a ferry bundle (%s)", br->path, why ? why : "unreadable");
	return err_hint(e, "give the path of a bundle made by ferry backup");
}

static int open_fd(bundle_reader *br, struct err *e)
{
	br->fd = open(br->path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int errnum = errno;
	if (br->fd >= 0 && fstat(br->fd, &st) == 0 && S_ISDIR(st.st_mode))
		errnum = EISDIR;
	else if (br->fd >= 0)
		return 0;
	err_set(e, ERR_FAILED, "cannot open bundle %s: %s", br->path, strerror(errnum));
	return err_hint(e, "check the path (ferry list shows the bundles)");
}

static int open_archive(bundle_reader *br, struct err *e)
{
	br->a = archive_read_new();
	if (!br->a) {
		fprintf(stderr, "ferry: out of memory creating an archive reader\n");
		abort();
	}
	archive_read_support_filter_zstd(br->a);
	archive_read_support_filter_gzip(br->a);
	archive_read_support_format_tar(br->a);
	if (archive_read_open_fd(br->a, br->fd, BLOCK_BYTES) != ARCHIVE_OK)
		return not_a_bundle(br, archive_error_string(br->a), e);
	int r = archive_read_next_header(br->a, &br->cur);
	if (r == ARCHIVE_EOF)
		return not_a_bundle(br, "no members", e);
	if (r < ARCHIVE_WARN || r == ARCHIVE_RETRY)
		return not_a_bundle(br, archive_error_string(br->a), e);
	br->pending = true;
	return 0;
}

bundle_reader *bundle_reader_open(const char *path, struct err *e)
{
	bundle_reader *br = xcalloc(1, sizeof *br);
	br->fd = -1;
	br->path = xstrdup(path);
	if (open_fd(br, e) < 0 || open_archive(br, e) < 0) {
		bundle_reader_free(br);
		return NULL;
	}
	return br;
}

static enum bundle_type entry_type(struct archive_entry *ent)
{
	if (archive_entry_hardlink(ent))
		return BUNDLE_OTHER;
	switch (archive_entry_filetype(ent)) {
	case AE_IFREG:
		return BUNDLE_REG;
	case AE_IFDIR:
		return BUNDLE_DIR;
	case AE_IFLNK:
		return BUNDLE_SYMLINK;
	default:
		return BUNDLE_OTHER;
	}
}

static void fill_entry(bundle_reader *br, struct bundle_entry *ent)
{
	struct archive_entry *cur = br->cur;
	const char *raw = archive_entry_pathname(cur);
	free(br->name);
	br->name = clean_rel(raw ? raw : "");
	const char *hard = archive_entry_hardlink(cur);
	*ent = (struct bundle_entry){
		.name = br->name,
		.type = entry_type(cur),
		.size = archive_entry_size_is_set(cur) && archive_entry_size(cur) > 0
				? (uint64_t)archive_entry_size(cur) : 0,
		.mode = archive_entry_perm(cur) & 07777,
		.mtime = (int64_t)archive_entry_mtime(cur),
		.link = hard ? hard : archive_entry_symlink(cur),
		.hardlink = hard != NULL,
	};
}

int bundle_reader_next(bundle_reader *br, struct bundle_entry *ent, struct err *e)
{
	if (!br->pending) {
		int r = archive_read_next_header(br->a, &br->cur);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN || r == ARCHIVE_RETRY)
			return damaged(br, "after", e);
	}
	br->pending = false;
	fill_entry(br, ent);
	return 1;
}

void bundle_reader_set_cancel(bundle_reader *br, volatile sig_atomic_t *cancel)
{
	br->cancel = cancel;
}

ssize_t bundle_reader_read(bundle_reader *br, void *buf, size_t n, struct err *e)
{
	if (br->cancel && *br->cancel)
		return err_set(e, ERR_INTERRUPTED, "interrupted while reading %s from %s",
			       br->name ? br->name : "the first member", br->path);
	la_ssize_t got = archive_read_data(br->a, buf, n);
	if (got < 0)
		return damaged(br, "in", e);
	return (ssize_t)got;
}

void bundle_reader_free(bundle_reader *br)
{
	if (!br)
		return;
	if (br->a)
		archive_read_free(br->a);
	if (br->fd >= 0)
		close(br->fd);
	free(br->name);
	free(br->path);
	free(br);
}

/* ---- scan and extract --------------------------------------------------- */

/* One pass over a bundle: hash members, optionally extract, check SHA256SUMS. */
struct pass {
	const char *path;
	bundle_reader *br;
	bundle_member_fn fn;
	void *ud;
	volatile sig_atomic_t *cancel;
	unsigned char *buf;
	struct sums seen;        /* regular members hashed, for the SHA256SUMS check */
	char *sums_text;         /* the SHA256SUMS content, once read */
	/* extract only */
	struct archive *disk;
	struct pass_route {
		char *dest;      /* realpath of the route's dest_dir */
		char *prefix;    /* without trailing '/', or NULL = every member */
		bool strip;
	} routes[BUNDLE_MAX_ROUTES];
	size_t nroutes;
	const char *dest;        /* the current member's route's dest, for messages */
};

static bool is_small_name(const char *name)
{
	return strcmp(name, BUNDLE_MANIFEST) == 0 || strcmp(name, BUNDLE_SHA256SUMS) == 0;
}

static int disk_error(struct pass *p, const char *member, struct err *e)
{
	int errnum = archive_errno(p->disk);
	const char *why = archive_error_string(p->disk);
	if (is_space_errno(errnum)) {
		err_set(e, ERR_SPACE, "no space left extracting member %s to %s", member, p->dest);
		return err_hint(e, "free space in %s", p->dest);
	}
	/* libarchive refuses unsafe paths with its own (non-positive) codes. */
	if (errnum <= 0) {
		err_set(e, ERR_VERIFY, "refusing member %s of bundle %s: %s", member, p->path,
			why ? why : "unsafe path");
		return err_hint(e, UNSAFE_HINT);
	}
	return err_set(e, ERR_FAILED, "cannot extract member %s of bundle %s to %s: %s (%s)", member,
		       p->path, p->dest, why ? why : "write failed", strerror(errnum));
}

static int disk_write(struct pass *p, const char *member, const void *data, size_t n,
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

/* --- large members: decompress here, hash and write in a second thread ---
 *
 * Decompressing, hashing and writing one stream take about the same time
 * each; on two cores a large member goes faster when the reading thread
 * only decompresses and a worker hashes and writes. The buffers go round a
 * small ring, so memory stays at RING_SLOTS buffers whatever the size. */

#define RING_SLOTS 3
#define RING_MIN_SIZE (8u << 20)   /* members smaller than this stay on one thread */

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t filled, drained;
	unsigned char *buf[RING_SLOTS];
	size_t len[RING_SLOTS];
	size_t head, count;      /* next slot to fill; slots full */
	bool eof;                /* the reader is done (or stopped) */
	bool failed;             /* the worker hit an error: stop reading */
	/* worker side */
	struct pass *p;
	const char *member;
	bool to_disk;
	struct hash_ctx *h;
	uint64_t total;
	struct err err;
};

/* The worker: hash and write each full slot, in order. */
static void *ring_worker(void *arg)
{
	struct ring *r = arg;
	size_t tail = 0;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (r->count == 0 && !r->eof)
			pthread_cond_wait(&r->filled, &r->mu);
		bool done = r->count == 0;
		pthread_mutex_unlock(&r->mu);
		if (done)
			return NULL;
		hash_update(r->h, r->buf[tail], r->len[tail]);
		r->total += r->len[tail];
		int rc = r->to_disk ? disk_write(r->p, r->member, r->buf[tail], r->len[tail], &r->err) : 0;
		pthread_mutex_lock(&r->mu);
		r->count--;
		r->failed = rc < 0;
		pthread_cond_signal(&r->drained);
		pthread_mutex_unlock(&r->mu);
		if (rc < 0)
			return NULL;
		tail = (tail + 1) % RING_SLOTS;
	}
}

/* The reader: decompress into free slots until the member ends. */
static int ring_fill(struct ring *r, struct err *e)
{
	int rc = 0;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (r->count == RING_SLOTS && !r->failed)
			pthread_cond_wait(&r->drained, &r->mu);
		bool stop = r->failed;
		size_t slot = r->head;
		pthread_mutex_unlock(&r->mu);
		if (stop)
			break;
		ssize_t got = bundle_reader_read(r->p->br, r->buf[slot], BUNDLE_BUFSIZE, e);
		if (got <= 0) {
			rc = got < 0 ? -1 : 0;
			break;
		}
		pthread_mutex_lock(&r->mu);
		r->len[slot] = (size_t)got;
		r->head = (slot + 1) % RING_SLOTS;
		r->count++;
		pthread_cond_signal(&r->filled);
		pthread_mutex_unlock(&r->mu);
	}
	pthread_mutex_lock(&r->mu);
	r->eof = true;
	pthread_cond_signal(&r->filled);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

/* A large member's content through the ring; as pass_content otherwise. */
static int pass_content_ring(struct pass *p, struct bundle_member *m, struct hash_ctx *h, bool to_disk,
			     struct err *e)
{
	struct ring r = {.p = p, .member = m->name, .to_disk = to_disk, .h = h};
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.filled, NULL);
	pthread_cond_init(&r.drained, NULL);
	r.buf[0] = p->buf;
	for (size_t i = 1; i < RING_SLOTS; i++)
		r.buf[i] = xmalloc(BUNDLE_BUFSIZE);
	pthread_t th;
	int rc;
	if (pthread_create(&th, NULL, ring_worker, &r) != 0) {
		rc = err_set(e, ERR_FAILED, "cannot start a thread to unpack %s", m->name);
	} else {
		rc = ring_fill(&r, e);
		pthread_join(th, NULL);
		if (rc == 0 && r.failed) {
			*e = r.err;
			rc = -1;
		}
	}
	m->size = r.total;
	for (size_t i = 1; i < RING_SLOTS; i++)
		free(r.buf[i]);
	pthread_cond_destroy(&r.drained);
	pthread_cond_destroy(&r.filled);
	pthread_mutex_destroy(&r.mu);
	return rc;
}

/* Read the current member's content: hash it, keep it when asked (up to
 * BUNDLE_SMALL_MAX; *keep_ok false beyond), write it to disk when asked. */
static int pass_content(struct pass *p, struct bundle_member *m, struct sbuf *keep, bool *keep_ok,
			bool to_disk, struct err *e)
{
	struct hash_ctx h = {0};
	int rc = hash_init(&h, e);
	uint64_t total = 0;
	if (rc == 0 && !keep && m->size >= RING_MIN_SIZE) {
		rc = pass_content_ring(p, m, &h, to_disk, e);
		if (rc == 0)
			hash_final(&h, m->sha256);
		hash_done(&h);
		return rc;
	}
	while (rc == 0) {
		ssize_t got = bundle_reader_read(p->br, p->buf, BUNDLE_BUFSIZE, e);
		if (got <= 0) {
			rc = got < 0 ? -1 : 0;
			break;
		}
		hash_update(&h, p->buf, (size_t)got);
		total += (uint64_t)got;
		if (keep && *keep_ok && total <= BUNDLE_SMALL_MAX)
			sbuf_add(keep, p->buf, (size_t)got);
		else if (keep)
			*keep_ok = false;
		if (to_disk)
			rc = disk_write(p, m->name, p->buf, (size_t)got, e);
	}
	if (rc == 0) {
		hash_final(&h, m->sha256);
		m->size = total;
	}
	hash_done(&h);
	return rc;
}

static int unsafe_member(struct pass *p, const char *name, const char *why, struct err *e)
{
	err_set(e, ERR_VERIFY, "bundle %s: member %s %s; refusing to extract it", p->path, name, why);
	return err_hint(e, UNSAFE_HINT);
}

/* Refuse what no ferry bundle holds: absolute paths, "..", odd types. */
static int check_safe(struct pass *p, const struct bundle_entry *ent, struct err *e)
{
	const char *raw = archive_entry_pathname(p->br->cur);
	if (!raw || !*raw || !*ent->name)
		return unsafe_member(p, "(empty)", "has an empty or unreadable name", e);
	if (raw[0] == '/')
		return unsafe_member(p, raw, "has an absolute path", e);
	if (has_dotdot(raw))
		return unsafe_member(p, raw, "points outside the destination (\"..\")", e);
	if (ent->hardlink)
		return unsafe_member(p, raw, "is a hard link", e);
	if (ent->type == BUNDLE_OTHER)
		return unsafe_member(p, raw, "is a device, fifo or other special file", e);
	return 0;
}

/* Where the member goes under its route's dest when it is extracted (the
 * first route whose prefix matches), else NULL. */
static char *route_target(const struct pass_route *r, const char *name)
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

static char *extract_target(struct pass *p, const char *name)
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
static int disk_header(struct pass *p, const char *name, const char *target, struct err *e)
{
	struct archive_entry *ent = archive_entry_clone(p->br->cur);
	if (!ent) {
		fprintf(stderr, "ferry: out of memory cloning an archive entry\n");
		abort();
	}
	archive_entry_set_pathname(ent, target);
	int r = archive_write_header(p->disk, ent);
	archive_entry_free(ent);
	return r < ARCHIVE_WARN ? disk_error(p, name, e) : 0;
}

static int deliver(struct pass *p, const struct bundle_member *m, const struct sbuf *keep,
		   bool keep_ok, struct err *e)
{
	if (!p->fn)
		return 0;
	const char *small = NULL;
	if (keep && keep_ok)
		small = keep->data ? keep->data : "";
	return p->fn(p->ud, m, small, e) < 0 ? -1 : 0;
}

/* Handle one member: check, hash (and extract), record, call back. */
static int pass_member(struct pass *p, const struct bundle_entry *ent, struct err *e)
{
	if (p->sums_text) {
		err_set(e, ERR_VERIFY, "bundle %s: member %s follows %s, which must be last", p->path,
			ent->name, BUNDLE_SHA256SUMS);
		return err_hint(e, UNSAFE_HINT);
	}
	if (p->disk && check_safe(p, ent, e) < 0)
		return -1;
	bool is_sums = strcmp(ent->name, BUNDLE_SHA256SUMS) == 0;
	/* Members outside the prefix are not written but still hashed: one
	 * extracting pass is also a whole verification. */
	char *target = extract_target(p, ent->name);
	struct bundle_member m = {.name = (char *)ent->name, .type = ent->type, .mode = ent->mode, .size = ent->size,
				  .mtime = ent->mtime, .link = (char *)ent->link};
	struct sbuf keep = {0};
	bool keep_ok = true;
	bool small = ent->type == BUNDLE_REG && is_small_name(ent->name);
	int rc = target ? disk_header(p, ent->name, target, e) : 0;
	if (rc == 0 && ent->type == BUNDLE_REG)
		rc = pass_content(p, &m, small ? &keep : NULL, &keep_ok, target != NULL, e);
	if (rc == 0 && target && archive_write_finish_entry(p->disk) < ARCHIVE_WARN)
		rc = disk_error(p, ent->name, e);
	if (rc == 0 && is_sums && !keep_ok) {
		err_set(e, ERR_VERIFY, "bundle %s: %s is larger than %u MiB", p->path,
			BUNDLE_SHA256SUMS, BUNDLE_SMALL_MAX >> 20);
		rc = err_hint(e, CORRUPT_HINT);
	}
	if (rc == 0 && ent->type == BUNDLE_REG && !is_sums)
		sums_push(&p->seen, xstrdup(ent->name), m.sha256);
	if (rc == 0)
		rc = deliver(p, &m, small ? &keep : NULL, keep_ok, e);
	if (rc == 0 && is_sums)
		p->sums_text = keep.data ? keep.data : xstrdup("");
	else
		sbuf_done(&keep);
	free(target);
	return rc;
}

static int pass_mismatch(const struct pass *p, const struct sum *got, const struct sum *want,
			 size_t more, struct err *e)
{
	char extra[64] = "";
	if (more)
		snprintf(extra, sizeof extra, " (and %zu more)", more);
	if (!want)
		err_set(e, ERR_VERIFY, "bundle %s: member %s is not listed in %s%s", p->path,
			got->name, BUNDLE_SHA256SUMS, extra);
	else if (!got)
		err_set(e, ERR_VERIFY, "bundle %s: member %s listed in %s is missing%s", p->path,
			want->name, BUNDLE_SHA256SUMS, extra);
	else
		err_set(e, ERR_VERIFY, "bundle %s: member %s does not match %s (sha-256 %s, expected %s)%s",
			p->path, got->name, BUNDLE_SHA256SUMS, got->hex, want->hex, extra);
	return err_hint(e, CORRUPT_HINT);
}

/* Whether a SHA256SUMS line concerns this pass (extract: under prefix). */
/* Every hashed member matches its line; every line of ours was seen. */
static int check_sums(struct pass *p, struct err *e)
{
	if (!p->sums_text) {
		err_set(e, ERR_VERIFY, "bundle %s has no %s at its end", p->path, BUNDLE_SHA256SUMS);
		return err_hint(e, CORRUPT_HINT);
	}
	struct sums want = {0};
	if (parse_sums(p->path, p->sums_text, &want, e) < 0) {
		sums_done(&want);
		return -1;
	}
	qsort(p->seen.v, p->seen.n, sizeof *p->seen.v, sum_cmp);
	const struct sum *bad_got = NULL, *bad_want = NULL;
	size_t bad = 0;
	for (size_t i = 0; i < p->seen.n; i++) {
		const struct sum *got = &p->seen.v[i];
		const struct sum *w = bsearch(got, want.v, want.n, sizeof *want.v, sum_cmp);
		if (!w || strcmp(w->hex, got->hex) != 0) {
			if (bad++ == 0) {
				bad_got = got;
				bad_want = w;
			}
		}
	}
	for (size_t i = 0; i < want.n; i++) {
		const struct sum *w = &want.v[i];
		if (!bsearch(w, p->seen.v, p->seen.n, sizeof *p->seen.v, sum_cmp) && bad++ == 0)
			bad_want = w;
	}
	int rc = bad ? pass_mismatch(p, bad_got, bad_want, bad - 1, e) : 0;
	sums_done(&want);
	return rc;
}

static int pass_run(struct pass *p, struct err *e)
{
	p->br = bundle_reader_open(p->path, e);
	if (!p->br)
		return -1;
	bundle_reader_set_cancel(p->br, p->cancel);
	p->buf = xmalloc(BUNDLE_BUFSIZE);
	struct bundle_entry ent;
	int r;
	while ((r = bundle_reader_next(p->br, &ent, e)) == 1)
		if (pass_member(p, &ent, e) < 0)
			return -1;
	if (r < 0)
		return -1;
	if (p->disk && archive_write_close(p->disk) != ARCHIVE_OK)
		return disk_error(p, "(final directory times)", e);
	return check_sums(p, e);
}

static void pass_done(struct pass *p)
{
	bundle_reader_free(p->br);
	if (p->disk)
		archive_write_free(p->disk);
	sums_done(&p->seen);
	free(p->sums_text);
	free(p->buf);
	for (size_t i = 0; i < p->nroutes; i++) {
		free(p->routes[i].dest);
		free(p->routes[i].prefix);
	}
}

int bundle_scan(const char *path, bundle_member_fn fn, void *ud, volatile sig_atomic_t *cancel,
		struct err *e)
{
	struct pass p = {.path = path, .fn = fn, .ud = ud, .cancel = cancel};
	int rc = pass_run(&p, e);
	pass_done(&p);
	return rc;
}

/* One route's destination, which must be an existing directory. */
static int add_route(struct pass *p, const struct bundle_route *r, struct err *e)
{
	struct pass_route *pr = &p->routes[p->nroutes];
	pr->dest = realpath(r->dest_dir, NULL);
	struct stat st;
	if (!pr->dest || stat(pr->dest, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(pr->dest);
		pr->dest = NULL;
		err_set(e, ERR_FAILED, "extract destination %s is not a directory", r->dest_dir);
		return err_hint(e, "create it first");
	}
	pr->prefix = r->prefix && *r->prefix ? clean_rel(r->prefix) : NULL;
	pr->strip = r->strip_prefix;
	p->nroutes++;
	return 0;
}

/* The disk writer with libarchive's safety checks. */
static int open_disk(struct pass *p, const struct bundle_route *routes, size_t nroutes, struct err *e)
{
	if (nroutes == 0 || nroutes > BUNDLE_MAX_ROUTES)
		return err_set(e, ERR_FAILED, "bundle_extract: %zu routes (1..%d)", nroutes, BUNDLE_MAX_ROUTES);
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

int bundle_extract_routes(const char *path, const struct bundle_route *routes, size_t nroutes,
			  bundle_member_fn fn, void *ud, volatile sig_atomic_t *cancel, struct err *e)
{
	struct pass p = {.path = path, .fn = fn, .ud = ud, .cancel = cancel};
	int rc = open_disk(&p, routes, nroutes, e);
	if (rc == 0)
		rc = pass_run(&p, e);
	pass_done(&p);
	return rc;
}

int bundle_extract(const char *path, const char *dest_dir, const char *prefix, bool strip_prefix,
		   bundle_member_fn fn, void *ud, volatile sig_atomic_t *cancel, struct err *e)
{
	struct bundle_route r = {.prefix = prefix, .dest_dir = dest_dir, .strip_prefix = strip_prefix};
	return bundle_extract_routes(path, &r, 1, fn, ud, cancel, e);
}
