/* s3_int — what the files of the S3 driver share (s3.c: the driver;
 * s3_req.c: credentials, signed requests, S3's XML and errors;
 * s3_multipart.c: the resumable multipart upload). Private to
 * core/storage/. */
#ifndef FERRY_S3_INT_H
#define FERRY_S3_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "storage_int.h"

struct s3_store {
	char *endpoint;            /* "http://127.0.0.1:9000", no trailing '/' */
	char *region;
	char *bucket;
	char *prefix;
	bool path_style;
	uint64_t part_size;        /* bytes */
	int parallel;
	char *state_dir;           /* local checkpoints of uploads in progress */
	char *sigv4;               /* "aws:amz:REGION:s3" */
	char *user_pwd;            /* "KEY:SECRET" */
	char *session_token;       /* NULL = none */
};

/* Credentials as the aws client finds them: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN), else the AWS_PROFILE section
 * ("default") of AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials. */
int s3_credentials(struct s3_store *st, struct err *e);

/* The URL of key (already under the prefix) with a sorted query ("" =
 * none); NULL key = the bucket. Caller frees. */
char *s3_url(const struct s3_store *st, const char *key, const char *query);
/* s3 percent-encoding of a key or a query value ('/' kept when keep_slash). */
char *s3_encode(const char *s, bool keep_slash);

struct s3_call {
	const char *method;
	const char *key;           /* NULL = the bucket */
	const char *query;         /* sorted, every parameter with '=' ; NULL = "" */
	const char *const *headers;/* extra "Name: value" lines */
	const void *body;          /* memory body (hashed here) */
	size_t body_len;
	/* or a file range, with its SHA-256 hex */
	bool body_from_fd;
	int body_fd;
	uint64_t body_offset;
	uint64_t fd_len;
	const char *body_sha256;
	/* the answer into a file (hashed) */
	bool to_fd;
	int out_fd;
	struct hash_ctx *out_hash;
	void (*on_bytes)(void *ud, uint64_t n);
	void *ud;
	volatile sig_atomic_t *cancel;
};

/* One signed request. 0 with rs filled when S3 answered 2xx; 1 when it
 * answered 404 (rs filled); -1 with e filled otherwise: ERR_OFFSITE with
 * S3's code and message (and a hint for credentials and permissions),
 * ERR_INTERRUPTED. rs is the caller's to free (also after -1). */
int s3_request(storage *s, const struct s3_call *c, struct http_response *rs, struct err *e);

/* The text of the first <tag>...</tag> at or after *from (advanced past it;
 * from may be NULL), entities decoded; NULL when none. Caller frees. */
char *s3_xml_tag(const char *xml, const char *tag, const char **from);

/* The object key of an entry name. Caller frees. */
char *s3_key(const struct s3_store *st, const char *name);

/* s3_multipart.c: the resumable multipart upload of local_path to key. */
int s3_multipart_put(storage *s, const char *local_path, const char *name,
		     const struct storage_put_opts *o, struct storage_put_result *r, struct err *e);

/* s3_uploads.c: storage_abort_stale_uploads of the S3 driver. */
int s3_abort_stale_uploads(storage *s, int64_t older_than_s, struct storage_uploads_result *r,
			   struct err *e);

#endif
