/* http — HTTP health checks (the only module that includes curl).
 *
 * A check is one GET of the profile's health URL with its timeout; the
 * answer's status is compared with the expected one. Redirects are followed
 * only when the check says so: otherwise a 3xx is the answer compared.
 * libcurl is initialised once, lazily, on the first check. */
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

/* "200", "503 (expected 200)" or curl's error for a result, into buf. */
const char *http_result_describe(const struct profile_health *h, const struct http_result *r,
				 char *buf, size_t len);

#endif
