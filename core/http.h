/* http — HTTP health checks and webhook POSTs (the only module that
 * includes curl).
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

#include "err.h"
#include "event.h"
#include "profile/profile.h"

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

#endif
