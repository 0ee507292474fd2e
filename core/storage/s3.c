/* storage/s3 — bundles as objects in an S3 bucket (under a prefix), over
 * AWS SigV4-signed HTTP requests (s3_req.c). list is ListObjectsV2, stat
 * HeadObject, get GetObject (hashed as it arrives and compared with the
 * sha256 the object carries as metadata), remove DeleteObject; put is one
 * PutObject up to a part's size, else a resumable multipart upload
 * (s3_multipart.c). Every object ferry writes carries x-amz-meta-sha256,
 * the SHA-256 of its bytes. */
#include "s3_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fsx.h"
#include "hash.h"
#include "util.h"

/* "2026-12-02T01:32:23.000Z" as seconds since the epoch; 0 when unreadable. */
static int64_t parse_iso_time(const char *s)
{
	struct tm tm = {0};
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

/* "Tue, 01 Dec 2026 10:00:00 GMT" (Last-Modified) as seconds; 0 when unreadable. */
static int64_t parse_http_time(const char *s)
{
	struct tm tm = {0};
	if (!s || !strptime(s, "%a, %d %b %Y %H:%M:%S", &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

/* One page of ListObjectsV2's <Contents>: the objects directly under the prefix. */
static void take_contents(const struct s3_store *st, const char *xml, struct storage_list *out)
{
	const char *at = xml;
	char *item;
	while ((item = s3_xml_tag(xml, "Contents", &at))) {
		char *key = s3_xml_tag(item, "Key", NULL);
		char *size = s3_xml_tag(item, "Size", NULL);
		char *when = s3_xml_tag(item, "LastModified", NULL);
		size_t plen = strlen(st->prefix);
		if (key && str_starts(key, st->prefix) && key[plen] && !strchr(key + plen, '/'))
			storage_list_add(out, key + plen, size ? strtoull(size, NULL, 10) : 0,
					 parse_iso_time(when));
		free(key);
		free(size);
		free(when);
		free(item);
	}
}

/* Every object under the prefix, page by page. */
static int s3_list(storage *s, struct storage_list *out, struct err *e)
{
	const struct s3_store *st = s->priv;
	char *token = NULL;
	char *eprefix = s3_encode(st->prefix, false);
	int rc = 0;
	do {
		char *etoken = token ? s3_encode(token, false) : NULL;
		/* sorted, every parameter with its '=' (libcurl 7.88 signs it as written) */
		char *query = etoken ? xasprintf("continuation-token=%s&list-type=2&prefix=%s", etoken, eprefix)
				     : xasprintf("list-type=2&prefix=%s", eprefix);
		struct http_response rs;
		struct s3_call c = {.method = "GET", .query = query};
		rc = s3_request(s, &c, &rs, e);
		if (rc == 1)
			rc = err_set(e, ERR_OFFSITE, "%s: no such bucket", s->desc);
		free(token);
		token = NULL;
		if (rc == 0) {
			const char *xml = rs.body.data ? rs.body.data : "";
			take_contents(st, xml, out);
			char *trunc = s3_xml_tag(xml, "IsTruncated", NULL);
			if (trunc && strcmp(trunc, "true") == 0)
				token = s3_xml_tag(xml, "NextContinuationToken", NULL);
			free(trunc);
		}
		http_response_done(&rs);
		free(query);
		free(etoken);
	} while (rc == 0 && token);
	free(token);
	free(eprefix);
	return rc;
}

/* HeadObject: 0 with size and time, 1 when missing, -1. */
static int s3_stat(storage *s, const char *name, struct storage_entry *out, struct err *e)
{
	char *key = s3_key(s->priv, name);
	struct http_response rs;
	struct s3_call c = {.method = "HEAD", .key = key};
	int rc = s3_request(s, &c, &rs, e);
	if (rc == 0) {
		const char *len = http_response_header(&rs, "content-length");
		*out = (struct storage_entry){.name = xstrdup(name),
					      .size = len ? strtoull(len, NULL, 10) : 0,
					      .mtime = parse_http_time(http_response_header(&rs, "last-modified"))};
	}
	http_response_done(&rs);
	free(key);
	return rc;
}

/* Progress of a single-request put or a get. */
struct simple_progress {
	const struct event_sink *ev;
	const char *step;
	uint64_t done, total;
};

static void simple_bytes(void *ud, uint64_t n)
{
	struct simple_progress *p = ud;
	p->done += n;
	event_progress(p->ev, p->step, p->done, p->total);
}

/* A file that fits in one part: one PutObject with its hash as metadata. */
static int put_single(storage *s, const char *local_path, const char *name,
		      const struct storage_put_opts *o, struct storage_put_result *r, struct err *e)
{
	double t0 = util_now();
	uint64_t size = 0;
	if (hash_file_cancellable(local_path, r->sha256, &size, o->cancel, e) < 0)
		return -1;
	r->bytes = size;
	FILE *f = fopen(local_path, "rb");
	if (!f)
		return err_set(e, ERR_FAILED, "cannot open %s", local_path);
	char *key = s3_key(s->priv, name);
	char *meta = xasprintf("x-amz-meta-sha256: %s", r->sha256);
	const char *hdr[] = {meta, "Content-Type: application/octet-stream", NULL};
	struct simple_progress pg = {.ev = o->events, .step = o->step ? o->step : "put", .total = size};
	struct s3_call c = {.method = "PUT", .key = key, .headers = hdr, .body_from_fd = true,
			    .body_fd = fileno(f), .fd_len = size, .body_sha256 = r->sha256,
			    .on_bytes = simple_bytes, .ud = &pg, .cancel = o->cancel};
	struct http_response rs;
	int rc = s3_request(s, &c, &rs, e);
	if (rc == 1)
		rc = err_set(e, ERR_OFFSITE, "%s: no such bucket", s->desc);
	r->sent = pg.done;
	http_response_done(&rs);
	fclose(f);
	free(meta);
	free(key);
	r->seconds = util_now() - t0;
	return rc;
}

/* put: one request, or the multipart upload. */
static int s3_put(storage *s, const char *local_path, const char *name,
		  const struct storage_put_opts *o, struct storage_put_result *r, struct err *e)
{
	const struct s3_store *st = s->priv;
	struct stat sb;
	if (stat(local_path, &sb) != 0)
		return err_set(e, ERR_FAILED, "cannot open %s", local_path);
	if ((uint64_t)sb.st_size <= st->part_size)
		return put_single(s, local_path, name, o, r, e);
	return s3_multipart_put(s, local_path, name, o, r, e);
}

/* GetObject into fd, hashed; compared with the object's sha256 metadata. */
static int s3_get(storage *s, const char *name, int fd, const struct storage_get_opts *o,
		  struct storage_get_result *r, struct err *e)
{
	double t0 = util_now();
	char *key = s3_key(s->priv, name);
	struct hash_ctx h = {0};
	if (hash_init(&h, e) < 0) {
		free(key);
		return -1;
	}
	struct simple_progress pg = {.ev = o->events, .step = o->step ? o->step : "get"};
	struct storage_entry en = {0};
	if (o->events && s3_stat(s, name, &en, e) == 0)
		pg.total = en.size;
	storage_entry_done(&en);
	struct s3_call c = {.method = "GET", .key = key, .to_fd = true, .out_fd = fd, .out_hash = &h,
			    .on_bytes = simple_bytes, .ud = &pg, .cancel = o->cancel};
	struct http_response rs;
	int rc = s3_request(s, &c, &rs, e);
	hash_final(&h, r->sha256);
	hash_done(&h);
	r->bytes = rs.received;
	r->seconds = util_now() - t0;
	const char *stored = rc == 0 ? http_response_header(&rs, "x-amz-meta-sha256") : NULL;
	if (stored && strcmp(stored, r->sha256) != 0) {
		err_set(e, ERR_VERIFY, "%s in %s does not match the sha256 it was stored with: "
			"%s arrived, %s was stored; the copy was removed", name, s->desc, r->sha256, stored);
		err_hint(e, "the stored object is damaged: use another copy (`ferry offsite list`)");
		rc = -1;
	}
	snprintf(r->stored_sha256, sizeof r->stored_sha256, "%s", stored ? stored : "");
	http_response_done(&rs);
	free(key);
	return rc;
}

/* DeleteObject: 0, 1 when there was none, -1. */
static int s3_remove(storage *s, const char *name, struct err *e)
{
	struct storage_entry en;
	int rc = s3_stat(s, name, &en, e);
	storage_entry_done(&en);
	if (rc != 0)
		return rc;
	char *key = s3_key(s->priv, name);
	struct http_response rs;
	struct s3_call c = {.method = "DELETE", .key = key};
	rc = s3_request(s, &c, &rs, e);
	http_response_done(&rs);
	free(key);
	return rc < 0 ? -1 : 0;
}

/* "s3://bucket/prefix/name". */
static char *s3_path(const storage *s, const char *name)
{
	const struct s3_store *st = s->priv;
	return xasprintf("s3://%s/%s%s", st->bucket, st->prefix, name);
}

static void s3_close(storage *s)
{
	struct s3_store *st = s->priv;
	free(st->endpoint);
	free(st->region);
	free(st->bucket);
	free(st->prefix);
	free(st->state_dir);
	free(st->sigv4);
	if (st->user_pwd) {
		memset(st->user_pwd, 0, strlen(st->user_pwd));
		free(st->user_pwd);
	}
	free(st->session_token);
	free(st);
}

static const struct storage_driver s3_driver = {
	.name = "s3",
	.list = s3_list,
	.stat = s3_stat,
	.put = s3_put,
	.get = s3_get,
	.remove = s3_remove,
	.path = s3_path,
	.abort_stale = s3_abort_stale_uploads,
	.close = s3_close,
};

/* An S3 target (see storage.h). */
storage *storage_open_s3(const struct profile_offsite *t, const char *state_dir, struct err *e)
{
	struct s3_store *st = xcalloc(1, sizeof *st);
	st->endpoint = xstrdup(t->endpoint);
	size_t n = strlen(st->endpoint);
	while (n > 0 && st->endpoint[n - 1] == '/')
		st->endpoint[--n] = '\0';
	st->region = xstrdup(t->region);
	st->bucket = xstrdup(t->bucket);
	st->prefix = xstrdup(t->prefix ? t->prefix : "");
	st->path_style = t->path_style;
	st->part_size = (uint64_t)(t->part_size_mib > 0 ? t->part_size_mib : 16) << 20;
	st->parallel = t->parallel > 0 ? t->parallel : 4;
	st->state_dir = xstrdup(state_dir);
	st->sigv4 = xasprintf("aws:amz:%s:s3", st->region);
	char *desc = xasprintf("s3://%s/%s (%s)", st->bucket, st->prefix, st->endpoint);
	storage *s = storage_new(&s3_driver, desc, st);
	if (s3_credentials(st, e) < 0) {
		storage_close(s);
		return NULL;
	}
	return s;
}
