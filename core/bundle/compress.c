/* bundle/compress — the writer's compression: level defaults and ranges,
 * and the libarchive filter with its options. */
#include "bundle/bundle_int.h"

#include <stdio.h>
#include <unistd.h>

/* Default level for 0, and the range check. */
int bundle_resolve_level(const struct bundle_write_opts *o, int *level, struct err *e)
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
			return err_hint(e, "use 1..9 (ferry backs up at level 1 unless backup.level or --level says otherwise)");
		}
		return 0;
	case BUNDLE_NONE:
		return 0;
	}
	return err_set(e, ERR_USAGE, "unknown bundle compression %d", (int)o->compression);
}

/* Set a numeric option of filter. */
static int set_int_option(struct archive *a, const char *filter, const char *key, long value)
{
	char v[32];
	snprintf(v, sizeof v, "%ld", value);
	return archive_write_set_filter_option(a, filter, key, v);
}

/* zstd with its level and threads; threads are optional (older libarchive). */
static int add_zstd(struct archive *a, int level, int threads, struct err *e)
{
	if (archive_write_add_filter_zstd(a) != ARCHIVE_OK)
		return err_set(e, ERR_TOOL, "libarchive %s cannot write zstd: %s",
			       archive_version_details(), archive_error_string(a));
	if (set_int_option(a, "zstd", "compression-level", level) != ARCHIVE_OK) {
		err_set(e, ERR_USAGE, "zstd compression level %d is not supported by %s", level,
			archive_version_details());
		return err_hint(e, "use a level between 1 and 19");
	}
	long n = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);
	if (n > 1)
		(void)set_int_option(a, "zstd", "threads", n);
	return 0;
}

/* The filter o asks for, at level. */
int bundle_add_filter(struct archive *a, const struct bundle_write_opts *o, int level,
		      struct err *e)
{
	switch (o->compression) {
	case BUNDLE_ZSTD:
		return add_zstd(a, level, o->threads, e);
	case BUNDLE_GZIP:
		if (archive_write_add_filter_gzip(a) < ARCHIVE_WARN ||
		    set_int_option(a, "gzip", "compression-level", level) != ARCHIVE_OK)
			return err_set(e, ERR_TOOL, "libarchive cannot write gzip level %d: %s", level,
				       archive_error_string(a));
		return 0;
	case BUNDLE_NONE:
		archive_write_add_filter_none(a);
		return 0;
	}
	return err_set(e, ERR_USAGE, "unknown bundle compression %d", (int)o->compression);
}
