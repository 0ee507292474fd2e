/* s3_req — the S3 driver's requests: credentials as the aws client finds
 * them, URLs, AWS SigV4-signed requests through core/http, and the few XML
 * elements S3 answers with. */
#include "s3_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsx.h"
#include "hash.h"
#include "util.h"

/* ---- credentials ---------------------------------------------------------- */

/* "key = value" of [section] in an ini text; caller frees; NULL when absent. */
static char *ini_value(const char *text, const char *section, const char *key)
{
	char *copy = xstrdup(text), *save = NULL, *found = NULL;
	bool in = false;
	for (char *line = strtok_r(copy, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		while (isspace((unsigned char)*line))
			line++;
		char *end = line + strlen(line);
		while (end > line && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*line == '[') {
			char *close = strchr(line, ']');
			if (close) {
				*close = '\0';
				char *name = line + 1;
				while (isspace((unsigned char)*name))
					name++;
				in = strcmp(name, section) == 0;
			}
			continue;
		}
		char *eq = strchr(line, '=');
		if (!in || !eq || *line == '#' || *line == ';')
			continue;
		char *k_end = eq;
		while (k_end > line && isspace((unsigned char)k_end[-1]))
			k_end--;
		if ((size_t)(k_end - line) != strlen(key) || strncmp(line, key, strlen(key)) != 0)
			continue;
		char *v = eq + 1;
		while (isspace((unsigned char)*v))
			v++;
		found = xstrdup(v);
	}
	free(copy);
	return found;
}

/* The credentials file's values for the profile's section. */
static int credentials_file(struct s3_store *st, char **id, char **secret, char **token,
			    struct err *e)
{
	const char *file_env = getenv("AWS_SHARED_CREDENTIALS_FILE");
	const char *home = getenv("HOME");
	char *path = file_env && *file_env ? xstrdup(file_env)
		     : xasprintf("%s/.aws/credentials", home && *home ? home : "/");
	const char *section = getenv("AWS_PROFILE");
	section = section && *section ? section : "default";
	size_t len = 0;
	struct err ignore = {0};
	int rc = 0;
	char *text = fsx_read_file(path, 1u << 20, &len, &ignore);
	if (text) {
		*id = ini_value(text, section, "aws_access_key_id");
		*secret = ini_value(text, section, "aws_secret_access_key");
		*token = ini_value(text, section, "aws_session_token");
	}
	if (!*id || !*secret) {
		rc = err_set(e, ERR_OFFSITE, "no S3 credentials for s3://%s: AWS_ACCESS_KEY_ID and "
			     "AWS_SECRET_ACCESS_KEY are not set and %s has no [%s] with both keys",
			     st->bucket, path, section);
		err_hint(e, "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or write them to "
			 "~/.aws/credentials (aws configure); AWS_PROFILE picks the section");
	}
	free(text);
	free(path);
	return rc;
}

int s3_credentials(struct s3_store *st, struct err *e)
{
	const char *id_env = getenv("AWS_ACCESS_KEY_ID");
	const char *secret_env = getenv("AWS_SECRET_ACCESS_KEY");
	char *id = NULL, *secret = NULL, *token = NULL;
	if (id_env && *id_env && secret_env && *secret_env) {
		id = xstrdup(id_env);
		secret = xstrdup(secret_env);
		const char *t = getenv("AWS_SESSION_TOKEN");
		token = t && *t ? xstrdup(t) : NULL;
	} else if (credentials_file(st, &id, &secret, &token, e) < 0) {
		free(id);
		free(secret);
		free(token);
		return -1;
	}
	st->user_pwd = xasprintf("%s:%s", id, secret);
	st->session_token = token;
	free(id);
	free(secret);
	return 0;
}

/* ---- URLs ----------------------------------------------------------------- */

char *s3_encode(const char *s, bool keep_slash)
{
	struct sbuf b = {0};
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p) || (keep_slash && *p == '/'))
			sbuf_addc(&b, (char)*p);
		else
			sbuf_addf(&b, "%%%02X", *p);
	}
	return b.data ? sbuf_take(&b) : xstrdup("");
}

char *s3_key(const struct s3_store *st, const char *name)
{
	return xasprintf("%s%s", st->prefix, name);
}

char *s3_url(const struct s3_store *st, const char *key, const char *query)
{
	char *ekey = key ? s3_encode(key, true) : xstrdup("");
	const char *q = query && *query ? "?" : "";
	char *url;
	if (st->path_style) {
		url = xasprintf("%s/%s%s%s%s%s", st->endpoint, st->bucket, key ? "/" : "", ekey, q,
				query ? query : "");
	} else {
		const char *sep = strstr(st->endpoint, "://");
		const char *host = sep ? sep + 3 : st->endpoint;
		url = xasprintf("%.*s%s.%s/%s%s%s", (int)(host - st->endpoint), st->endpoint,
				st->bucket, host, ekey, q, query ? query : "");
	}
	free(ekey);
	return url;
}

/* ---- XML -------------------------------------------------------------------- */

/* &amp; &lt; &gt; &quot; &apos; decoded; caller frees. */
static char *xml_unescape(const char *s, size_t n)
{
	static const struct { const char *ent; char c; } ents[] = {
		{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
	struct sbuf b = {0};
	for (size_t i = 0; i < n;) {
		bool done = false;
		for (size_t k = 0; s[i] == '&' && k < sizeof ents / sizeof ents[0]; k++) {
			size_t el = strlen(ents[k].ent);
			if (i + el <= n && strncmp(s + i, ents[k].ent, el) == 0) {
				sbuf_addc(&b, ents[k].c);
				i += el;
				done = true;
				break;
			}
		}
		if (!done)
			sbuf_addc(&b, s[i++]);
	}
	return b.data ? sbuf_take(&b) : xstrdup("");
}

char *s3_xml_tag(const char *xml, const char *tag, const char **from)
{
	char *open = xasprintf("<%s>", tag), *close = xasprintf("</%s>", tag);
	const char *start = strstr(from && *from ? *from : xml, open);
	char *out = NULL;
	if (start) {
		start += strlen(open);
		const char *end = strstr(start, close);
		if (end) {
			out = xml_unescape(start, (size_t)(end - start));
			if (from)
				*from = end + strlen(close);
		}
	}
	free(open);
	free(close);
	return out;
}

/* ---- requests --------------------------------------------------------------- */

/* What to do about S3's error code. */
static const char *error_hint(int status, const char *code)
{
	if (code && (strcmp(code, "SignatureDoesNotMatch") == 0 || strcmp(code, "InvalidAccessKeyId") == 0))
		return "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or ~/.aws/credentials, "
		       "AWS_PROFILE) for this target";
	if (code && strcmp(code, "NoSuchBucket") == 0)
		return "check the target's bucket (and endpoint, region, path_style) in the profile";
	if (status == 403)
		return "the credentials may not use this bucket: check its policy";
	return "check the target's endpoint and that the service runs";
}

/* The error of a non-2xx answer: status, S3's code and message. */
static int answer_error(storage *s, const struct s3_call *c, const struct http_response *rs,
			struct err *e)
{
	const char *body = rs->body.data ? rs->body.data : "";
	char *code = s3_xml_tag(body, "Code", NULL);
	char *msg = s3_xml_tag(body, "Message", NULL);
	err_set(e, ERR_OFFSITE, "%s: %s %s%s: %d%s%s%s%s", s->desc, c->method, c->key ? c->key : "/",
		c->query && *c->query ? " (?query)" : "", rs->status, code ? " " : "", code ? code : "",
		msg ? ": " : "", msg ? msg : "");
	err_hint(e, "%s", error_hint(rs->status, code));
	free(code);
	free(msg);
	return -1;
}

int s3_request(storage *s, const struct s3_call *c, struct http_response *rs, struct err *e)
{
	const struct s3_store *st = s->priv;
	char sha[HASH_HEX_SIZE];
	if (c->body_from_fd)
		snprintf(sha, sizeof sha, "%s", c->body_sha256);
	else if (hash_buffer(c->body ? c->body : "", c->body_len, sha, e) < 0)
		return -1;
	struct strv hdr = {0};
	char *line = xasprintf("x-amz-content-sha256: %s", sha);
	strv_push(&hdr, line);
	free(line);
	if (st->session_token) {
		line = xasprintf("x-amz-security-token: %s", st->session_token);
		strv_push(&hdr, line);
		free(line);
	}
	for (size_t i = 0; c->headers && c->headers[i]; i++)
		strv_push(&hdr, c->headers[i]);
	char *url = s3_url(st, c->key, c->query);
	struct http_request rq = {
		.method = c->method, .url = url, .headers = (const char *const *)hdr.v,
		.aws_sigv4 = st->sigv4, .user_pwd = st->user_pwd,
		.body = c->body, .body_len = c->body_from_fd ? c->fd_len : c->body_len,
		.body_from_fd = c->body_from_fd, .body_fd = c->body_fd, .body_offset = c->body_offset,
		.to_fd = c->to_fd, .out_fd = c->out_fd, .out_hash = c->out_hash,
		.on_bytes = c->on_bytes, .ud = c->ud, .cancel = c->cancel,
	};
	int rc = http_request(&rq, rs, e);
	free(url);
	strv_done(&hdr);
	if (rc < 0) {
		if (e->kind != ERR_INTERRUPTED) {
			e->kind = ERR_OFFSITE;
			err_prefix(e, "%s", s->desc);
			err_hint(e, "check the target's endpoint and that the service runs");
		}
		return -1;
	}
	if (rs->status >= 200 && rs->status < 300)
		return 0;
	if (rs->status == 404)
		return 1;
	return answer_error(s, c, rs, e);
}
