/* content_lo — the content check of large objects: each one the dump holds
 * (its blobs*.toc files list "OID blob_OID.dat") is in the restored
 * database with the same SHA-256, and there are no others. */
#include "content.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/bundle.h"
#include "fsx.h"
#include "util.h"

#define LO_CHUNK (1024 * 1024)

/* SHA-256 and size of a file of the dump. */
static int hash_dump_file(const char *path, char hex[HASH_HEX_SIZE], uint64_t *bytes, struct err *e)
{
	bundle_stream *s = bundle_stream_open(path, e);
	struct hash_ctx h = {0};
	int rc = s && hash_init(&h, e) == 0 ? 0 : -1;
	char *buf = xmalloc(BUNDLE_BUFSIZE);
	ssize_t n = 0;
	*bytes = 0;
	while (rc == 0 && (n = bundle_stream_read(s, buf, BUNDLE_BUFSIZE, e)) > 0) {
		hash_update(&h, buf, (size_t)n);
		*bytes += (uint64_t)n;
	}
	if (rc == 0 && n == 0)
		hash_final(&h, hex);
	else
		rc = -1;
	hash_done(&h);
	free(buf);
	bundle_stream_free(s);
	return rc;
}

static int hex_value(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode hex text into out (as many bytes as it holds); -1 when it is not hex. */
static long unhex(const char *hex, unsigned char *out)
{
	size_t n = strlen(hex);
	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (unsigned char)(hi * 16 + lo);
	}
	return (long)(n / 2);
}

/* SHA-256 of large object oid in db, read a chunk at a time; 0 and *found
 * false when it is not there. */
static int hash_db_object(db_conn *db, unsigned oid, char hex[HASH_HEX_SIZE], bool *found, struct err *e)
{
	char id[16];
	snprintf(id, sizeof id, "%u", oid);
	const char *p1[] = {id};
	db_result *r = db_query(db, "SELECT 1 FROM pg_catalog.pg_largeobject_metadata WHERE oid = $1::oid", 1,
				p1, e);
	if (!r)
		return -1;
	*found = db_result_rows(r) == 1;
	db_result_free(r);
	if (!*found)
		return 0;
	struct hash_ctx h = {0};
	if (hash_init(&h, e) < 0)
		return -1;
	unsigned char *buf = xmalloc(LO_CHUNK);
	int rc = 0;
	for (long long off = 0;; off += LO_CHUNK) {
		char offs[32], lens[16];
		snprintf(offs, sizeof offs, "%lld", off);
		snprintf(lens, sizeof lens, "%d", LO_CHUNK);
		const char *params[] = {id, offs, lens};
		r = db_query(db, "SELECT encode(pg_catalog.lo_get($1::oid, $2::bigint, $3::int), 'hex')", 3,
			     params, e);
		long n = r ? unhex(db_result_value(r, 0, 0), buf) : -1;
		db_result_free(r);
		if (n < 0) {
			rc = r ? err_set(e, ERR_VERIFY, "large object %u: lo_get did not give hex", oid) : -1;
			break;
		}
		hash_update(&h, buf, (size_t)n);
		if (n < LO_CHUNK)
			break;
	}
	if (rc == 0)
		hash_final(&h, hex);
	hash_done(&h);
	free(buf);
	return rc;
}

/* One large object of the dump against the restored one. */
static int check_object(db_conn *db, const struct content_opts *o, unsigned oid, const char *file,
			struct content_result *r, struct err *e)
{
	struct content_lo *lo = &r->los[r->nlos++];
	lo->oid = oid;
	char *path = xasprintf("%s/%s", o->dump_dir, file);
	if (!fsx_exists(path)) {   /* written compressed: the list names the plain name */
		char *gz = xasprintf("%s.gz", path);
		free(path);
		path = gz;
	}
	char db_hex[HASH_HEX_SIZE] = "";
	bool found = false;
	int rc = hash_dump_file(path, lo->sha256, &lo->bytes, e);
	if (rc == 0)
		rc = hash_db_object(db, oid, db_hex, &found, e);
	free(path);
	if (rc < 0)
		return -1;
	lo->match = found && strcmp(db_hex, lo->sha256) == 0;
	r->bytes += lo->bytes;
	if (!lo->match)
		event_log(o->ev, EV_ERROR, "large object %u: %s", oid,
			  found ? "its SHA-256 differs from the dump's" : "missing in the restored database");
	return 0;
}

/* The objects one blobs*.toc lists ("OID FILE" lines). */
static int check_listed(db_conn *db, const struct content_opts *o, const char *toc_path,
			struct content_result *r, struct err *e)
{
	char *text = fsx_read_file(toc_path, 0, NULL, e);
	if (!text)
		return -1;
	int rc = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); rc == 0 && line; line = strtok_r(NULL, "\n", &save)) {
		unsigned oid;
		char file[256];
		if (sscanf(line, "%u %255s", &oid, &file[0]) != 2 || strchr(file, '/')) {
			rc = err_set(e, ERR_VERIFY, "%s: a line that is not \"OID FILE\": %.60s", toc_path, line);
			break;
		}
		r->los = xrealloc(r->los, (r->nlos + 1) * sizeof *r->los);
		rc = check_object(db, o, oid, file, r, e);
		if (rc == 0 && o->cancel && *o->cancel)
			rc = err_set(e, ERR_INTERRUPTED, "content check interrupted");
	}
	free(text);
	return rc;
}

/* blobs.toc (pg_dump up to 16) and blobs_NNN.toc (17 and later). */
static bool is_blobs_toc(const char *name)
{
	return strcmp(name, "blobs.toc") == 0 || (str_starts(name, "blobs_") && str_ends(name, ".toc"));
}

int content_check_large_objects(db_conn *db, const struct content_opts *o, struct content_result *r,
				struct err *e)
{
	char *count = db_query_value(db, "SELECT count(*) FROM pg_catalog.pg_largeobject_metadata", e);
	if (!count)
		return -1;
	r->db_los = (size_t)strtoull(count, NULL, 10);
	free(count);
	DIR *d = opendir(o->dump_dir);
	if (!d)
		return err_set(e, ERR_FAILED, "cannot read %s: %m", o->dump_dir);
	struct strv tocs = {0};
	const struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (is_blobs_toc(de->d_name))
			strv_push(&tocs, de->d_name);
	closedir(d);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < tocs.n; i++) {
		char *path = xasprintf("%s/%s", o->dump_dir, tocs.v[i]);
		rc = check_listed(db, o, path, r, e);
		free(path);
	}
	strv_done(&tocs);
	return rc;
}
