/* s3_uploads — multipart uploads that ferry started and will not resume,
 * found with ListMultipartUploads under the target's prefix and aborted,
 * so no parts are left to be stored (and paid for) forever.
 *
 * An upload is ferry's when its key is a bundle's name directly under the
 * prefix. It is abandoned when this machine has no checkpoint naming its
 * upload id (a failed put removes it; the next put of that file would
 * start anew), or when it was initiated more than older_than_s ago (a
 * killed put never run again). A checkpoint of an aborted upload goes too. */
#include "s3_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsx.h"
#include "util.h"

/* "2026-12-02T04:05:06.000Z" as seconds since the epoch; 0 when unreadable. */
static int64_t iso_time(const char *s)
{
	struct tm tm = {0};
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

/* Whether the checkpoint of name on this machine names upload id. */
static bool checkpoint_has(const struct s3_store *st, const char *name, const char *id)
{
	char *path = xasprintf("%s/%s.s3upload", st->state_dir, name);
	size_t len = 0;
	struct err ignore = {0};
	char *text = fsx_read_file(path, 1u << 20, &len, &ignore);
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	const char *cid = json_string_value(json_object_get(o, "upload_id"));
	bool has = cid && strcmp(cid, id) == 0;
	json_decref(o);
	free(text);
	free(path);
	return has;
}

/* AbortMultipartUpload of key/id, and the checkpoint of name. */
static int abort_one(storage *s, const char *key, const char *name, const char *id, struct err *e)
{
	const struct s3_store *st = s->priv;
	char *eid = s3_encode(id, false);
	char *query = xasprintf("uploadId=%s", eid);
	struct s3_call c = {.method = "DELETE", .key = key, .query = query};
	struct http_response rs;
	int rc = s3_request(s, &c, &rs, e);
	http_response_done(&rs);
	free(query);
	free(eid);
	if (rc >= 0 && checkpoint_has(st, name, id)) {
		char *path = xasprintf("%s/%s.s3upload", st->state_dir, name);
		unlink(path);
		free(path);
	}
	return rc < 0 ? -1 : 0;    /* 1: gone already */
}

/* One <Upload> of the listing: aborted when it is ferry's and abandoned. */
static int consider(storage *s, const char *upload, int64_t older_than_s,
		    struct storage_uploads_result *r, struct err *e)
{
	const struct s3_store *st = s->priv;
	char *key = s3_xml_tag(upload, "Key", NULL);
	char *id = s3_xml_tag(upload, "UploadId", NULL);
	char *initiated = s3_xml_tag(upload, "Initiated", NULL);
	size_t plen = strlen(st->prefix);
	const char *name = key && strncmp(key, st->prefix, plen) == 0 ? key + plen : NULL;
	int rc = 0;
	if (name && id && storage_name_ok(name) && strstr(name, ".ferry.tar.")) {
		r->found++;
		int64_t age = (int64_t)time(NULL) - iso_time(initiated);
		if (!checkpoint_has(st, name, id) || age > older_than_s) {
			rc = abort_one(s, key, name, id, e);
			r->aborted += rc == 0;
		}
	}
	free(key), free(id), free(initiated);
	return rc;
}

int s3_abort_stale_uploads(storage *s, int64_t older_than_s, struct storage_uploads_result *r,
			   struct err *e)
{
	const struct s3_store *st = s->priv;
	char *eprefix = s3_encode(st->prefix, false);
	char *query = xasprintf("prefix=%s&uploads=", eprefix);
	struct s3_call c = {.method = "GET", .key = NULL, .query = query};
	struct http_response rs;
	int rc = s3_request(s, &c, &rs, e);
	const char *body = rs.body.data ? rs.body.data : "";
	if (rc == 0 && !strstr(body, "<ListMultipartUploadsResult"))
		r->unsupported = true;     /* the server answered something else (a plain listing) */
	else if (rc == 0) {
		const char *at = body;
		char *upload;
		while (rc == 0 && (upload = s3_xml_tag(body, "Upload", &at))) {
			rc = consider(s, upload, older_than_s, r, e);
			free(upload);
		}
	} else if (rc == 1)
		rc = err_set(e, ERR_OFFSITE, "%s: no such bucket", s->desc);
	http_response_done(&rs);
	free(query);
	free(eprefix);
	return rc;
}
