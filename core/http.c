/* http — health checks over libcurl (one GET, or retries until healthy),
 * and the requests of an HTTP API. */
#include "http.h"
#include "util.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <unistd.h>
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

/* ---- API requests -------------------------------------------------------- */

struct transfer {
	CURL *curl;
	const struct http_request *rq;
	struct http_response *rs;
	uint64_t sent;             /* body bytes handed to curl */
	bool write_failed;
	char write_error[128];
};

/* The body, from memory or the file, as curl asks for it. */
static size_t read_body(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct transfer *t = ud;
	const struct http_request *rq = t->rq;
	size_t want = size * nmemb;
	uint64_t left = rq->body_len - t->sent;
	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (rq->body_from_fd) {
		ssize_t n = pread(rq->body_fd, buf, want, (off_t)(rq->body_offset + t->sent));
		if (n <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)n;
	} else {
		memcpy(buf, (const char *)rq->body + t->sent, want);
	}
	t->sent += want;
	if (rq->on_bytes)
		rq->on_bytes(rq->ud, want);
	return want;
}

/* The answer's body: to the file (hashed) or into memory (capped). */
static size_t write_answer(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct transfer *t = ud;
	const struct http_request *rq = t->rq;
	size_t n = size * nmemb;
	long code = 0;
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
	if (rq->to_fd && code >= 200 && code < 300) {
		for (size_t done = 0; done < n;) {
			ssize_t w = write(rq->out_fd, ptr + done, n - done);
			if (w < 0) {
				t->write_failed = true;
				snprintf(t->write_error, sizeof t->write_error, "%s", strerror(errno));
				return 0;
			}
			done += (size_t)w;
		}
		if (rq->out_hash)
			hash_update(rq->out_hash, ptr, n);
	} else {
		size_t cap = rq->max_body ? rq->max_body : 1u << 20;
		if (t->rs->body.len + n > cap)
			return 0;
		sbuf_add(&t->rs->body, ptr, n);
	}
	t->rs->received += n;
	if (rq->on_bytes && rq->to_fd && code >= 200 && code < 300)
		rq->on_bytes(rq->ud, n);
	return n;
}

/* Each answer header as "name: value", the name lowercased. */
static size_t take_header(char *buf, size_t size, size_t nitems, void *ud)
{
	struct transfer *t = ud;
	size_t n = size * nitems;
	char *line = xstrndup(buf, n);
	line[strcspn(line, "\r\n")] = '\0';
	char *colon = strchr(line, ':');
	if (str_starts(line, "HTTP/"))
		strv_done(&t->rs->headers);   /* a new answer (after a 100 Continue) */
	else if (colon) {
		for (char *s = line; s < colon; s++)
			*s = (char)tolower((unsigned char)*s);
		strv_push(&t->rs->headers, line);
	}
	free(line);
	return n;
}

/* Stop the transfer once the cancel flag is set. */
static int transfer_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	const struct transfer *t = ud;
	return t->rq->cancel && *t->rq->cancel ? 1 : 0;
}

/* The handle's options for rq. */
static struct curl_slist *setup_api_request(CURL *curl, struct transfer *t, char *errbuf)
{
	const struct http_request *rq = t->rq;
	curl_easy_setopt(curl, CURLOPT_URL, rq->url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)(rq->connect_timeout_s ? rq->connect_timeout_s : 10));
	if (rq->timeout_s > 0)
		curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)rq->timeout_s);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (long)(rq->stall_timeout_s ? rq->stall_timeout_s : 60));
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	if (strcmp(rq->method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	else if (strcmp(rq->method, "PUT") == 0)
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	else if (strcmp(rq->method, "POST") == 0)
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
	else if (strcmp(rq->method, "GET") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
	if (strcmp(rq->method, "PUT") == 0 || strcmp(rq->method, "POST") == 0) {
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
		curl_easy_setopt(curl, CURLOPT_READDATA, t);
		if (strcmp(rq->method, "PUT") == 0)
			curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
		else
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_answer);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, take_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, transfer_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, t);
	if (rq->aws_sigv4) {
		curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, rq->aws_sigv4);
		curl_easy_setopt(curl, CURLOPT_USERPWD, rq->user_pwd);
	}
	/* Only headers that are sent: libcurl 7.88 signs a header removed with
	 * "Name:" as an empty one (so no "Expect:", and a POST sets its
	 * Content-Type). */
	struct curl_slist *hl = NULL;
	for (size_t i = 0; rq->headers && rq->headers[i]; i++)
		hl = curl_slist_append(hl, rq->headers[i]);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
	return hl;
}

int http_request(const struct http_request *rq, struct http_response *rs, struct err *e)
{
	memset(rs, 0, sizeof *rs);
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return err_set(e, ERR_FAILED, "cannot initialise libcurl: %s",
			       curl_easy_strerror(curl_init_rc));
	CURL *curl = curl_easy_init();
	if (!curl)
		return err_set(e, ERR_FAILED, "cannot initialise libcurl");
	struct transfer t = {.curl = curl, .rq = rq, .rs = rs};
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl = setup_api_request(curl, &t, errbuf);
	CURLcode rc = curl_easy_perform(curl);
	long code = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(curl);
	curl_slist_free_all(hl);
	if (rc == CURLE_OK) {
		rs->status = (int)code;
		return 0;
	}
	snprintf(rs->error, sizeof rs->error, "%s",
		 t.write_failed ? t.write_error : errbuf[0] ? errbuf : curl_easy_strerror(rc));
	if (rq->cancel && *rq->cancel)
		return err_set(e, ERR_INTERRUPTED, "%s %s interrupted", rq->method, rq->url);
	if (t.write_failed)
		return err_set(e, ERR_FAILED, "%s %s: cannot write what arrived: %s", rq->method,
			       rq->url, t.write_error);
	return err_set(e, ERR_FAILED, "%s %s: %s", rq->method, rq->url, rs->error);
}

const char *http_response_header(const struct http_response *rs, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < rs->headers.n; i++) {
		const char *h = rs->headers.v[i];
		if (strncmp(h, name, n) == 0 && h[n] == ':') {
			h += n + 1;
			while (*h == ' ' || *h == '\t')
				h++;
			return h;
		}
	}
	return NULL;
}

void http_response_done(struct http_response *rs)
{
	if (!rs)
		return;
	sbuf_done(&rs->body);
	strv_done(&rs->headers);
	memset(rs, 0, sizeof *rs);
}

/* --- JSON POST ------------------------------------------------------------------- */

/* scheme://host of a URL, for messages: the path of a webhook is its key. */
static void url_origin(const char *url, char *out, size_t len)
{
	const char *host = strstr(url, "://");
	host = host ? host + 3 : url;
	snprintf(out, len, "%.*s", (int)(host - url + (ptrdiff_t)strcspn(host, "/?#")), url);
}

/* No answer, a timeout, rate limiting or a server error: worth another try. */
static bool worth_retrying(int status)
{
	return status == 0 || status == 408 || status == 429 || status >= 500;
}

/* One POST through http_request: the answer's status (0 = none) and why. */
static int post_once(const struct http_post *req, const char *const *headers, volatile sig_atomic_t *cancel,
		     int *status, char *why, size_t len, struct err *e)
{
	struct http_request rq = {.method = "POST", .url = req->url, .headers = headers, .body = req->body,
				  .body_len = strlen(req->body), .cancel = cancel,
				  .connect_timeout_s = req->timeout_s, .stall_timeout_s = req->timeout_s,
				  .timeout_s = req->timeout_s};
	struct http_response rs;
	struct err re = {0};
	int rc = http_request(&rq, &rs, &re);
	*status = rs.status;
	if (rs.status)
		snprintf(why, len, "answered %d", rs.status);
	else
		snprintf(why, len, "%s", rs.error[0] ? rs.error : re.msg);
	http_response_done(&rs);
	if (rc < 0 && re.kind == ERR_INTERRUPTED) {
		*e = re;
		return -1;
	}
	return 0;
}

int http_post_json(const struct http_post *req, const struct event_sink *ev, volatile sig_atomic_t *cancel,
		   int *status, struct err *e)
{
	char origin[256], why[ERR_MSG_MAX + 32] = "";
	url_origin(req->url, origin, sizeof origin);
	size_t nh = req->headers ? req->headers->n : 0;
	const char **headers = xcalloc(nh + 2, sizeof *headers);
	headers[0] = "Content-Type: application/json";
	for (size_t i = 0; i < nh; i++)
		headers[i + 1] = req->headers->v[i];
	int attempts = req->attempts > 0 ? req->attempts : 1, got = 0, rc = 1;
	for (int i = 1, wait_s = 1; rc > 0 && i <= attempts; i++, wait_s *= 2) {
		if (post_once(req, headers, cancel, &got, why, sizeof why, e) < 0) {
			rc = -1;
		} else if (got >= 200 && got < 300) {
			rc = 0;
		} else {
			event_log(ev, EV_WARN, "%s %s: attempt %d/%d: %s", req->what, origin, i, attempts, why);
			if (!worth_retrying(got) || i == attempts)
				break;
			if (!sleep_unless_cancelled(wait_s, cancel))
				rc = err_set(e, ERR_INTERRUPTED, "%s interrupted", req->what);
		}
	}
	free(headers);
	if (status)
		*status = got;
	if (rc <= 0)
		return rc;
	err_set(e, ERR_FAILED, "%s %s: %s", req->what, origin, why);
	return err_hint(e, "check notify.webhook.url and its headers (`ferry notify --test` sends a test alert)");
}
