/* http — health checks over libcurl: one GET, or retries until healthy. */
#include "http.h"
#include "util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef FERRY_VERSION
#define FERRY_VERSION "dev"
#endif

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

/* atexit cannot take a function returning a value in every libc: wrap it. */
static void curl_cleanup(void)
{
	curl_global_cleanup();
}

/* curl_global_init once per process, undone at exit. */
static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (curl_init_rc == CURLE_OK)
		atexit(curl_cleanup);
}

/* The body is not needed: read and drop it. */
static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr, (void)ud;
	return size * nmemb;
}

/* Options of one GET as the check describes it. */
static void setup_request(CURL *curl, const struct profile_health *h, char *errbuf)
{
	curl_easy_setopt(curl, CURLOPT_URL, h->url);
	curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)h->timeout_s);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)h->timeout_s);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, h->follow_redirects ? 1L : 0L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION " (health check)");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
}

/* One request: status (0 when none) and curl's error text into out. */
static int perform(const struct profile_health *h, struct http_result *out, struct err *e)
{
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return err_set(e, ERR_HEALTH, "health check %s: cannot initialise libcurl: %s",
			       h->name, curl_easy_strerror(curl_init_rc));
	CURL *curl = curl_easy_init();
	if (!curl)
		return err_set(e, ERR_HEALTH, "health check %s: cannot initialise libcurl", h->name);
	char errbuf[CURL_ERROR_SIZE] = "";
	setup_request(curl, h, errbuf);
	double t0 = (util_now()* 1000.0);
	CURLcode rc = curl_easy_perform(curl);
	out->elapsed_ms = (util_now()* 1000.0) - t0;
	if (rc == CURLE_OK) {
		long code = 0;
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
		out->status = (int)code;
	} else {
		snprintf(out->error, sizeof out->error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	curl_easy_cleanup(curl);
	return 0;
}

const char *http_result_describe(const struct profile_health *h, const struct http_result *r,
				 char *buf, size_t len)
{
	if (r->status == 0)
		snprintf(buf, len, "%s", r->error[0] ? r->error : "no answer");
	else if (r->status == h->expect)
		snprintf(buf, len, "%d", r->status);
	else if (r->status >= 300 && r->status < 400 && !h->follow_redirects)
		snprintf(buf, len, "%d (a redirect, expected %d; set follow_redirects to follow it)",
			 r->status, h->expect);
	else
		snprintf(buf, len, "%d (expected %d)", r->status, h->expect);
	return buf;
}

int http_check(const struct profile_health *h, struct http_result *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (perform(h, out, e) < 0)
		return -1;
	if (out->status != 0 && out->status == h->expect)
		return 0;
	char what[400];
	http_result_describe(h, out, what, sizeof what);
	err_set(e, ERR_HEALTH, "health check %s failed: %s: %s", h->name, h->url, what);
	return err_hint(e, "check that the service runs and answers %d at that URL", h->expect);
}

/* Sleep seconds in 100 ms slices; false when cancelled meanwhile. */
static bool sleep_unless_cancelled(int seconds, volatile sig_atomic_t *cancel)
{
	for (int i = 0; i < seconds * 10; i++) {
		if (cancel && *cancel)
			return false;
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return !(cancel && *cancel);
}

/* The final error after every attempt failed. */
static int exhausted(const struct profile_health *h, const struct http_result *last, int attempts,
		     struct err *e)
{
	char what[400];
	http_result_describe(h, last, what, sizeof what);
	err_set(e, ERR_HEALTH, "health check %s failed after %d attempt%s: %s: last %s %s", h->name,
		attempts, attempts == 1 ? "" : "s", h->url, last->status ? "status" : "error", what);
	return err_hint(e, "check the service's logs; the check allows %d attempts %d s apart, "
			"%d s each (health[].retries, interval_s, timeout_s)",
			h->retries, h->interval_s, h->timeout_s);
}

int http_wait_healthy(const struct profile_health *h, const struct event_sink *ev,
		      volatile sig_atomic_t *cancel, struct err *e)
{
	int attempts = h->retries > 0 ? h->retries : 1;
	struct http_result r = {0};
	for (int i = 1; i <= attempts; i++) {
		if (cancel && *cancel)
			return err_set(e, ERR_INTERRUPTED, "health check %s interrupted", h->name);
		struct err one = {0};
		if (http_check(h, &r, &one) == 0) {
			event_log(ev, EV_INFO, "health %s: %d in %.0f ms (attempt %d/%d)", h->name,
				  r.status, r.elapsed_ms, i, attempts);
			return 0;
		}
		if (r.status == 0 && !r.error[0]) {   /* libcurl itself failed */
			*e = one;
			return -1;
		}
		char what[400];
		event_log(ev, i < attempts ? EV_INFO : EV_WARN, "health %s: attempt %d/%d: %s", h->name,
			  i, attempts, http_result_describe(h, &r, what, sizeof what));
		if (i < attempts && !sleep_unless_cancelled(h->interval_s, cancel))
			return err_set(e, ERR_INTERRUPTED, "health check %s interrupted", h->name);
	}
	return exhausted(h, &r, attempts, e);
}

/* --- JSON POST ------------------------------------------------------------------- */

/* scheme://host of a URL, for messages: the path of a webhook is its key. */
static void url_origin(const char *url, char *out, size_t len)
{
	const char *host = strstr(url, "://");
	host = host ? host + 3 : url;
	snprintf(out, len, "%.*s", (int)(host - url + (ptrdiff_t)strcspn(host, "/?#")), url);
}

/* The request's headers: JSON, then the caller's. Caller frees the list. */
static struct curl_slist *post_headers(const struct http_post *req)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	for (size_t i = 0; req->headers && i < req->headers->n; i++)
		h = curl_slist_append(h, req->headers->v[i]);
	return h;
}

/* One POST: the answer's status (0 when none) and curl's error. */
static int post_once(const struct http_post *req, struct curl_slist *headers, int *status, char *errbuf,
		     struct err *e)
{
	CURL *curl = curl_easy_init();
	if (!curl)
		return err_set(e, ERR_FAILED, "%s: cannot initialise libcurl", req->what);
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)req->timeout_s);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)req->timeout_s);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION " (notify)");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode rc = curl_easy_perform(curl);
	long code = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	else if (!errbuf[0])
		snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
	*status = (int)code;
	curl_easy_cleanup(curl);
	return 0;
}

/* No answer, a timeout, rate limiting or a server error: worth another try. */
static bool worth_retrying(int status)
{
	return status == 0 || status == 408 || status == 429 || status >= 500;
}

int http_post_json(const struct http_post *req, const struct event_sink *ev, volatile sig_atomic_t *cancel,
		   int *status, struct err *e)
{
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return err_set(e, ERR_FAILED, "%s: cannot initialise libcurl: %s", req->what,
			       curl_easy_strerror(curl_init_rc));
	char origin[256], errbuf[CURL_ERROR_SIZE] = "", what[CURL_ERROR_SIZE + 32] = "";
	url_origin(req->url, origin, sizeof origin);
	struct curl_slist *headers = post_headers(req);
	int attempts = req->attempts > 0 ? req->attempts : 1, got = 0, rc = 1;
	for (int i = 1, wait_s = 1; rc > 0 && i <= attempts; i++, wait_s *= 2) {
		errbuf[0] = '\0';
		if (post_once(req, headers, &got, errbuf, e) < 0) {
			rc = -1;
		} else if (got >= 200 && got < 300) {
			rc = 0;
		} else {
			if (got)
				snprintf(what, sizeof what, "answered %d", got);
			else
				snprintf(what, sizeof what, "%s", errbuf);
			event_log(ev, EV_WARN, "%s %s: attempt %d/%d: %s", req->what, origin, i, attempts, what);
			if (!worth_retrying(got) || i == attempts)
				break;
			if (!sleep_unless_cancelled(wait_s, cancel))
				rc = err_set(e, ERR_INTERRUPTED, "%s interrupted", req->what);
		}
	}
	curl_slist_free_all(headers);
	if (status)
		*status = got;
	if (rc <= 0)
		return rc;
	err_set(e, ERR_FAILED, "%s %s: %s", req->what, origin, what);
	return err_hint(e, "check notify.webhook.url and its headers (`ferry notify --test` sends a test alert)");
}
