/* conninfo — connection strings in profiles: no literal passwords, the
 * database name, passwords masked for display. */
#include "profile_int.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SPANS_MAX 8

static const char *const PASSWORD_HINT =
	"remove it; libpq reads PGPASSWORD, ~/.pgpass (PGPASSFILE) or the env file"
	" \xe2\x80\x94 write ${DB_PASSWORD} to take it from there";

/* ---- connection strings ------------------------------------------------- */

struct span {
	size_t start, len;
};

static bool is_uri(const char *s)
{
	return str_starts(s, "postgresql://") || str_starts(s, "postgres://");
}

/* End of the text from s on that is not inside ${...} and not one of stops. */
static size_t scan_until(const char *s, size_t i, const char *stops)
{
	while (s[i] && !strchr(stops, s[i])) {
		if (s[i] == '$' && s[i + 1] == '{') {
			const char *close = strchr(s + i, '}');
			if (close) {
				i = (size_t)(close - s) + 1;
				continue;
			}
		}
		i++;
	}
	return i;
}

/* Where a URI's authority (user:pass@host:port) starts and ends. */
static void uri_authority(const char *s, size_t *start, size_t *end)
{
	*start = (size_t)(strstr(s, "://") - s) + 3;
	*end = scan_until(s, *start, "/?#");
}

/* The password in user:pass@, when there is a ':' in the user info. */
static bool uri_userinfo_password(const char *s, struct span *sp)
{
	size_t a, b;
	uri_authority(s, &a, &b);
	size_t at = b;
	for (size_t i = a; i < b; i++)
		if (s[i] == '@')
			at = i;
	if (at == b)
		return false;
	size_t colon = scan_until(s, a, ":");
	if (colon >= at)
		return false;
	sp->start = colon + 1;
	sp->len = at - colon - 1;
	return true;
}

/* The values of key=... in a URI's query string, at most max. */
static size_t uri_query_params(const char *s, const char *key, struct span *out, size_t max)
{
	size_t a, b, n = 0;
	uri_authority(s, &a, &b);
	const char *q = strchr(s + b, '?');
	if (!q)
		return 0;
	size_t i = (size_t)(q - s) + 1;
	size_t klen = strlen(key);
	while (s[i] && s[i] != '#' && n < max) {
		size_t end = i + strcspn(s + i, "&#");
		if ((size_t)(end - i) > klen && strncmp(s + i, key, klen) == 0 && s[i + klen] == '=') {
			out[n].start = i + klen + 1;
			out[n].len = end - out[n].start;
			n++;
		}
		i = s[end] == '&' ? end + 1 : end;
	}
	return n;
}

struct kv_pair {
	struct span key, value;   /* value includes its quotes, if any */
};

static size_t skip_space(const char *s, size_t i)
{
	while (s[i] && isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* The next key=value pair of a libpq key=value string; false at the end. */
static bool kv_next(const char *s, size_t *pos, struct kv_pair *kv)
{
	size_t i = skip_space(s, *pos);
	if (!s[i])
		return false;
	kv->key.start = i;
	while (s[i] && s[i] != '=' && !isspace((unsigned char)s[i]))
		i++;
	kv->key.len = i - kv->key.start;
	i = skip_space(s, i);
	if (s[i] == '=')
		i = skip_space(s, i + 1);
	kv->value.start = i;
	if (s[i] == '\'') {
		for (i++; s[i] && s[i] != '\''; i++)
			if (s[i] == '\\' && s[i + 1])
				i++;
		if (s[i])
			i++;
	} else {
		for (; s[i] && !isspace((unsigned char)s[i]); i++)
			if (s[i] == '\\' && s[i + 1])
				i++;
	}
	kv->value.len = i - kv->value.start;
	*pos = i;
	return true;
}

static bool span_is(const char *s, struct span sp, const char *word)
{
	return sp.len == strlen(word) && strncmp(s + sp.start, word, sp.len) == 0;
}

/* A key=value value without its quotes and backslash escapes. */
static char *kv_unquote(const char *s, struct span sp)
{
	const char *v = s + sp.start;
	size_t n = sp.len;
	if (n >= 1 && v[0] == '\'') {
		v++;
		n -= (n >= 2 && v[n - 2] == '\'') ? 2 : 1;
	}
	struct sbuf b = {0};
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n)
			i++;
		sbuf_addc(&b, v[i]);
	}
	return sbuf_take(&b);
}

/* Every password value in a conninfo: URI user info and ?password=, or
 * key=value password=. */
static size_t password_spans(const char *s, struct span *out, size_t max)
{
	size_t n = 0;
	if (is_uri(s)) {
		if (uri_userinfo_password(s, &out[0]))
			n++;
		return n + uri_query_params(s, "password", out + n, max - n);
	}
	size_t pos = 0;
	struct kv_pair kv;
	while (n < max && kv_next(s, &pos, &kv))
		if (span_is(s, kv.key, "password"))
			out[n++] = kv.value;
	return n;
}

static char *percent_decode(const char *s, size_t n)
{
	struct sbuf b = {0};
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = {s[i + 1], s[i + 2], '\0'};
			sbuf_addc(&b, (char)strtol(hex, NULL, 16));
			i += 2;
		} else {
			sbuf_addc(&b, s[i]);
		}
	}
	return sbuf_take(&b);
}

static char *uri_db_name(const char *s)
{
	size_t a, b;
	uri_authority(s, &a, &b);
	if (s[b] == '/') {
		size_t end = b + 1 + strcspn(s + b + 1, "?#");
		if (end > b + 1)
			return percent_decode(s + b + 1, end - b - 1);
	}
	struct span sp;
	if (uri_query_params(s, "dbname", &sp, 1) == 1 && sp.len > 0)
		return percent_decode(s + sp.start, sp.len);
	return NULL;
}

static char *kv_db_name(const char *s)
{
	size_t pos = 0;
	struct kv_pair kv;
	char *name = NULL;
	while (kv_next(s, &pos, &kv)) {
		if (span_is(s, kv.key, "dbname")) {
			free(name);
			name = kv_unquote(s, kv.value);
		}
	}
	if (name && !*name) {
		free(name);
		name = NULL;
	}
	return name;
}

/* ---- literal passwords -------------------------------------------------- */

/* A password in a raw (unexpanded) conninfo must be a whole ${VAR}. */
int profile_check_no_literal_password(struct profile_ctx *c, const char *kp, const char *raw)
{
	struct span spans[SPANS_MAX];
	size_t n = password_spans(raw, spans, SPANS_MAX);
	for (size_t i = 0; i < n; i++) {
		char *value = is_uri(raw) ? xstrndup(raw + spans[i].start, spans[i].len)
					  : kv_unquote(raw, spans[i]);
		bool literal = *value && !profile_is_whole_var(value, strlen(value));
		free(value);
		if (literal) {
			profile_fail(c, kp, "contains a literal password");
			return err_hint(c->e, "%s", PASSWORD_HINT);
		}
	}
	return 0;
}

/* A connection string: type-checked, checked for a literal password, expanded. */
int profile_get_conninfo(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
			char **out)
{
	char kp[KP_MAX];
	json_t *v = profile_member(obj, parent, key, kp);
	if (!v)
		return 0;
	if (json_is_string(v) && profile_check_no_literal_password(c, kp, json_string_value(v)) < 0)
		return -1;
	return profile_string_value(c, kp, v, NONEMPTY, out);
}

/* ---- database name ------------------------------------------------------ */

char *profile_db_name(const struct profile *p)
{
	if (!p || !p->database.url)
		return NULL;
	const char *url = p->database.url;
	return is_uri(url) ? uri_db_name(url) : kv_db_name(url);
}

/* ---- redaction ---------------------------------------------------------- */

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

char *profile_redact_url(const char *url)
{
	if (!url)
		return NULL;
	struct span spans[SPANS_MAX];
	size_t n = password_spans(url, spans, SPANS_MAX);
	qsort(spans, n, sizeof *spans, span_cmp);
	struct sbuf b = {0};
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		if (spans[i].len == 0 || spans[i].start < at)
			continue;
		sbuf_add(&b, url + at, spans[i].start - at);
		sbuf_adds(&b, "***");
		at = spans[i].start + spans[i].len;
	}
	sbuf_adds(&b, url + at);
	return sbuf_take(&b);
}
