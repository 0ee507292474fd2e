/* bundle/stream — one file read as a stream of bytes, decompressed on the
 * fly when its name says it is compressed (a dump's "NNNN.dat.gz", ".lz4",
 * ".zst"): libarchive's raw format over its filters. Plain files are read
 * as they are. */
#include "bundle/bundle_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bundle_stream {
	char *path;
	FILE *plain;              /* a plain file, else NULL */
	struct archive *a;        /* a compressed one */
	bool at_end;
};

/* Whether the name ends in a suffix of a compression libarchive reads. */
static bool compressed_name(const char *path)
{
	return str_ends(path, ".gz") || str_ends(path, ".lz4") || str_ends(path, ".zst");
}

/* The raw format over every filter, positioned at the file's data. */
static int open_compressed(bundle_stream *s, struct err *e)
{
	s->a = archive_read_new();
	archive_read_support_filter_all(s->a);
	archive_read_support_format_raw(s->a);
	if (archive_read_open_filename(s->a, s->path, BUNDLE_BLOCK_BYTES) != ARCHIVE_OK)
		return err_set(e, ERR_FAILED, "cannot open %s: %s", s->path, archive_error_string(s->a));
	struct archive_entry *ent;
	int rc = archive_read_next_header(s->a, &ent);
	if (rc == ARCHIVE_EOF) {
		s->at_end = true;
		return 0;
	}
	if (rc != ARCHIVE_OK)
		return err_set(e, ERR_VERIFY, "cannot read %s: %s", s->path, archive_error_string(s->a));
	return 0;
}

bundle_stream *bundle_stream_open(const char *path, struct err *e)
{
	bundle_stream *s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	int rc = 0;
	if (compressed_name(path)) {
		rc = open_compressed(s, e);
	} else if (!(s->plain = fopen(path, "rb"))) {
		rc = err_set(e, ERR_FAILED, "cannot open %s: %s", path, strerror(errno));
	}
	if (rc < 0) {
		bundle_stream_free(s);
		return NULL;
	}
	return s;
}

ssize_t bundle_stream_read(bundle_stream *s, void *buf, size_t n, struct err *e)
{
	if (s->at_end)
		return 0;
	if (s->plain) {
		size_t got = fread(buf, 1, n, s->plain);
		if (got == 0 && ferror(s->plain))
			return err_set(e, ERR_FAILED, "cannot read %s: %s", s->path, strerror(errno));
		return (ssize_t)got;
	}
	la_ssize_t got = archive_read_data(s->a, buf, n);
	if (got < 0)
		return err_set(e, ERR_VERIFY, "cannot read %s: %s", s->path, archive_error_string(s->a));
	return (ssize_t)got;
}

void bundle_stream_free(bundle_stream *s)
{
	if (!s)
		return;
	if (s->plain)
		fclose(s->plain);
	if (s->a)
		archive_read_free(s->a);
	free(s->path);
	free(s);
}
