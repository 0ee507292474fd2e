/* http — HTTP over libcurl (the only module that includes curl): health
 * checks, webhook POSTs, and the requests of an HTTP API (the S3 storage
 * driver).
 *
 * A check is one GET of the profile's health URL with its timeout; the
 * answer's status is compared with the expected one. Redirects are followed
 * only when the check says so: otherwise a 3xx is the answer compared.
 * A POST sends a JSON body with TLS verification on, no redirects, and
 * retries on no answer, 408, 429 and 5xx. libcurl is initialised once,
 * lazily, on the first request. */
#ifndef FERRY_HTTP_H
#define FERRY_HTTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "event.h"
#include "hash.h"
#include "profile/profile.h"
#include "util.h"

struct http_result {
	int status;          /* HTTP status of the (last) answer; 0 = no answer */
	double elapsed_ms;   /* the whole request */
	char error[256];     /* curl's reason when there was no answer, else "" */
};

/* One GET of h->url with h->timeout_s. Fills out in every case; returns 0
 * when the status equals h->expect, else -1 with ERR_HEALTH naming the
 * check, the URL and the status or curl's error. */
int http_check(const struct profile_health *h, struct http_result *out, struct err *e);

/* Repeat http_check every h->interval_s until it passes or h->retries
 * attempts failed, logging each attempt to ev (may be NULL). ERR_HEALTH
 * naming the check, the URL and the last status or error;
 * ERR_INTERRUPTED when *cancel becomes non-zero (cancel may be NULL). */
int http_wait_healthy(const struct profile_health *h, const struct event_sink *ev,
		      volatile sig_atomic_t *cancel, struct err *e);

/* A JSON POST. */
struct http_post {
	const char *url;
	const struct strv *headers;   /* "Name: value" lines (may be NULL) */
	const char *body;             /* sent as application/json */
	int timeout_s;                /* each attempt, connecting included */
	int attempts;                 /* 1 + the retries; 1, 2, 4 ... s apart */
	const char *what;             /* "webhook": the name in messages */
};

/* POST req->body; *status (may be NULL) is the last answer's status (0 =
 * none). 0 on a 2xx answer; else -1 with ERR_FAILED naming what, the URL's
 * host and the status or curl's error (ERR_INTERRUPTED when *cancel is set
 * between attempts). Each failed attempt is logged to ev. */
int http_post_json(const struct http_post *req, const struct event_sink *ev, volatile sig_atomic_t *cancel,
		   int *status, struct err *e);

/* "200", "503 (expected 200)" or curl's error for a result, into buf. */
const char *http_result_describe(const struct profile_health *h, const struct http_result *r,
				 char *buf, size_t len);

/* ---- API requests ---------------------------------------------------------
 * One request, answered or not; the status is the caller's to judge. A
 * request is signed by libcurl when aws_sigv4 is set (CURLOPT_AWS_SIGV4
 * with user_pwd "KEY:SECRET"); the caller sets x-amz-content-sha256 and
 * gives the query already sorted with an explicit '=' on every parameter
 * (libcurl 7.88 signs the query as written and does not hash the body).
 * Safe to use from several threads at once (one handle per request). */

struct http_request {
	const char *method;            /* GET PUT POST DELETE HEAD */
	const char *url;
	const char *const *headers;    /* "Name: value", NULL-terminated; NULL = none */
	const char *aws_sigv4;         /* "aws:amz:REGION:s3", or NULL */
	const char *user_pwd;          /* "KEY:SECRET" for aws_sigv4 */
	/* The body: body_len bytes of body, or with body_from_fd body_len
	 * bytes of the file body_fd from body_offset (read with pread). */
	const void *body;
	bool body_from_fd;
	int body_fd;
	uint64_t body_offset;
	uint64_t body_len;
	/* The answer's body: with to_fd into out_fd (hashed into out_hash when
	 * not NULL), else into the response, up to max_body bytes (0 = 1 MiB). */
	bool to_fd;
	int out_fd;
	struct hash_ctx *out_hash;
	size_t max_body;
	/* Bytes of the body sent or of the answer received since the last call. */
	void (*on_bytes)(void *ud, uint64_t n);
	void *ud;
	volatile sig_atomic_t *cancel;
	int connect_timeout_s;         /* 0 = 10 */
	int stall_timeout_s;           /* no byte moved for this long: fail; 0 = 60 */
	int timeout_s;                 /* the whole request at most; 0 = no limit */
};

struct http_response {
	int status;                    /* 0 = no answer */
	struct sbuf body;              /* unless out_fd */
	struct strv headers;           /* "name: value", names lowercase */
	char error[256];               /* curl's reason when there was no answer */
	uint64_t received;             /* body bytes received */
};

/* Send rq. 0 when an answer came (any status: the caller judges it); -1
 * with e filled when none did: ERR_FAILED naming the URL and curl's reason,
 * ERR_INTERRUPTED when *cancel was set. rs is filled either way; free it
 * with http_response_done. */
int http_request(const struct http_request *rq, struct http_response *rs, struct err *e);
/* The value of a header of the answer (name lowercase), or NULL. */
const char *http_response_header(const struct http_response *rs, const char *name);
void http_response_done(struct http_response *rs);

#endif
