/* bundle/write — the writer: members go to "<final>.part" through
 * libarchive, hashed while they stream; commit renames, abort removes. */
#include "bundle/bundle_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define PROGRESS_INTERVAL_MS 100

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

/* Milliseconds since then (monotonic clock). */
static int64_t ms_since(const struct timespec *then)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - then->tv_sec) * 1000 + (now.tv_nsec - then->tv_nsec) / 1000000;
}

/* Free a member's strings. */
static void member_clear(struct bundle_member *m)
{
	free(m->name);
	free(m->link);
	*m = (struct bundle_member){0};
}

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
	if (bundle_is_space_errno(errnum)) {
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

/* Fill e from libarchive's last write error. */
static int archive_write_err(bundle_writer *bw, const char *member, struct err *e)
{
	return write_errno(bw, archive_errno(bw->a), archive_error_string(bw->a), member, e);
}

/* Report progress at most every PROGRESS_INTERVAL_MS (always when forced). */
static void maybe_progress(bundle_writer *bw, bool force)
{
	if (!bw->progress || (!force && ms_since(&bw->last_progress) < PROGRESS_INTERVAL_MS))
		return;
	clock_gettime(CLOCK_MONOTONIC, &bw->last_progress);
	bw->progress(bw->progress_ud, bw->bytes_in);
}

/* Default level for 0, and the range check. */

static int create_part(bundle_writer *bw, struct err *e)
{
	if (unlink(bw->part_path) < 0 && errno != ENOENT) {
		err_set(e, ERR_FAILED, "cannot replace stale %s: %s", bw->part_path, strerror(errno));
		return err_hint(e, "remove it by hand or choose another --out");
	}
	bw->fd = open(bw->part_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (bw->fd < 0) {
		int errnum = errno;
		if (bundle_is_space_errno(errnum))
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

/* Start the pax writer with its filter on the .part. */
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
	if (bundle_add_filter(bw->a, o, level, e) < 0)
		return -1;
	/* No padding after the compressed stream: zstd and gzip reject it. */
	archive_write_set_bytes_per_block(bw->a, BUNDLE_BLOCK_BYTES);
	archive_write_set_bytes_in_last_block(bw->a, 1);
	if (archive_write_open_fd(bw->a, bw->fd) != ARCHIVE_OK)
		return archive_write_err(bw, NULL, e);
	return 0;
}

/* Open a writer on "<final_path>.part". */
bundle_writer *bundle_writer_open(const char *final_path, const struct bundle_write_opts *opts,
				  struct err *e)
{
	static const struct bundle_write_opts defaults = {.compression = BUNDLE_ZSTD};
	if (!opts)
		opts = &defaults;
	int level;
	if (bundle_resolve_level(opts, &level, e) < 0)
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
	if (!bundle_name_ok(name)) {
		err_set(e, ERR_FAILED, "bad bundle member name \"%s\"", name ? name : "(null)");
		return err_hint(e, "member names are relative paths without \".\" or \"..\"");
	}
	return 0;
}

/* Record an added member. */
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

/* A libarchive entry owned by the caller (uid/gid ours). */
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

/* Write all of data into the current member. */
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

/* Add a regular member from memory. */
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

/* The source changed under the backup. */
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

/* Add a regular file, streamed and hashed. */
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

/* Add a directory member. */
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

/* Add a symlink member. */
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

/* Add SHA256SUMS for the members so far. */
int bundle_writer_add_sha256sums(bundle_writer *bw, struct err *e)
{
	char *text = bundle_sha256sums_text(bw->members, bw->n);
	int rc = bundle_writer_add_buffer(bw, BUNDLE_SHA256SUMS, text, strlen(text), e);
	free(text);
	return rc;
}

/* Members added so far. */
size_t bundle_writer_count(const bundle_writer *bw)
{
	return bw ? bw->n : 0;
}

/* Member i, or NULL. */
const struct bundle_member *bundle_writer_member(const bundle_writer *bw, size_t i)
{
	return bw && i < bw->n ? &bw->members[i] : NULL;
}

/* Free the writer and its members. */
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

/* fsync and close the .part. */
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

/* fsync the directory of path (after the rename). */
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

/* Finish, sync, rename into place, free. */
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

/* Stop, remove the .part, free. */
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
