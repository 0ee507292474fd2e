/* bundle/read — the reader: open a bundle (zstd, gzip or none, found
 * from the data), step through its members, read their content. */
#include "bundle/bundle_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

struct bundle_reader {
	struct archive *a;
	int fd;
	char *path;
	struct archive_entry *cur;
	bool pending;    /* cur was read by open and not returned yet */
	char *name;      /* the current member's name, trailing '/' removed */
	volatile sig_atomic_t *cancel;
};

/* libarchive's word for a stream that ends early ("Truncated zstd input",
 * "Truncated tar archive", "Truncated input file"): ERR_VERIFY saying the
 * bundle is incomplete and how long it is. 0 when why is not that. */
static int truncated(bundle_reader *br, const char *why, struct err *e)
{
	struct stat st;
	if (!why || !strstr(why, "runcated") || fstat(br->fd, &st) < 0)
		return 0;
	err_set(e, ERR_VERIFY, "bundle %s ends after %lld bytes%s%s: the bundle is incomplete (%s)",
		br->path, (long long)st.st_size, br->name ? ", in member " : "",
		br->name ? br->name : "", why);
	return err_hint(e, "was the copy interrupted? copy the bundle again, or use another one "
			"(`ferry list`); nothing was changed");
}

/* A damaged stream: ERR_VERIFY naming the bundle and where. */
static int damaged(bundle_reader *br, const char *where, struct err *e)
{
	const char *why = archive_error_string(br->a);
	if (truncated(br, why, e) < 0)
		return -1;
	if (br->name)
		err_set(e, ERR_VERIFY, "bundle %s is damaged %s member %s: %s", br->path, where,
			br->name, why ? why : "read error");
	else
		err_set(e, ERR_VERIFY, "bundle %s is damaged at its start: %s", br->path,
			why ? why : "read error");
	return err_hint(e, BUNDLE_CORRUPT_HINT);
}

/* ERR_VERIFY: the file is not a tar ferry can read. */
static int not_a_bundle(bundle_reader *br, const char *why, struct err *e)
{
	if (truncated(br, why, e) < 0)
		return -1;
	err_set(e, ERR_VERIFY, "%s is not a ferry bundle (%s)", br->path, why ? why : "unreadable");
	return err_hint(e, "give the path of a bundle made by ferry backup");
}

/* Open the bundle file, refusing a directory. */
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

/* Start libarchive on the fd and read the first header. */
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
	if (archive_read_open_fd(br->a, br->fd, BUNDLE_BLOCK_BYTES) != ARCHIVE_OK)
		return not_a_bundle(br, archive_error_string(br->a), e);
	int r = archive_read_next_header(br->a, &br->cur);
	if (r == ARCHIVE_EOF)
		return not_a_bundle(br, "no members", e);
	if (r < ARCHIVE_WARN || r == ARCHIVE_RETRY)
		return not_a_bundle(br, archive_error_string(br->a), e);
	br->pending = true;
	return 0;
}

/* Open a bundle and read its first header. */
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

/* The member type of a libarchive entry (a hard link is BUNDLE_OTHER). */
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

/* Fill ent from the current libarchive entry. */
static void fill_entry(bundle_reader *br, struct bundle_entry *ent)
{
	struct archive_entry *cur = br->cur;
	const char *raw = archive_entry_pathname(cur);
	free(br->name);
	br->name = bundle_clean_rel(raw ? raw : "");
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

/* The next member (the first one was read by open). */
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

/* The libarchive entry of the current member (for extraction). */
struct archive_entry *bundle_reader_entry(bundle_reader *br)
{
	return br->cur;
}

/* Watch *cancel while reading content. */
void bundle_reader_set_cancel(bundle_reader *br, volatile sig_atomic_t *cancel)
{
	br->cancel = cancel;
}

/* Content of the current member, up to n bytes. */
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

/* Close and free; NULL-safe. */
int bundle_read_first(const char *path, const char *name, size_t max, char **text, struct err *e)
{
	*text = NULL;
	bundle_reader *br = bundle_reader_open(path, e);
	if (!br)
		return -1;
	struct bundle_entry ent;
	int rc = bundle_reader_next(br, &ent, e);
	if (rc == 0 || (rc == 1 && strcmp(ent.name, name) != 0)) {
		err_set(e, ERR_VERIFY, "%s: %s is not the first member", path, name);
		rc = err_hint(e, "this is not a ferry bundle, or it was repacked; nothing was changed");
	} else if (rc == 1 && ent.size > max) {
		rc = err_set(e, ERR_VERIFY, "%s: %s is %llu bytes, more than the %zu MiB a manifest may be",
			     path, name, (unsigned long long)ent.size, max >> 20);
	}
	struct sbuf b = {0};
	char buf[65536];
	ssize_t got = 0;
	while (rc == 1 && b.len <= max && (got = bundle_reader_read(br, buf, sizeof buf, e)) > 0)
		sbuf_add(&b, buf, (size_t)got);
	bundle_reader_free(br);
	if (rc == 1 && got >= 0) {
		*text = sbuf_take(&b);
		return 0;
	}
	sbuf_done(&b);
	return -1;
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
