/* alerts — the drill and notify sections of a profile: how a restore drill
 * checks the application (drill.checks), how old the newest drill may be,
 * when the scheduled one runs; and who is told when a scheduled run fails
 * or warns (notify: a command, a webhook). */
#include "profile_int.h"
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const drill_keys[] = {"checks", "max_age_days", "schedule", NULL};
static const char *const check_keys[] = {"name", "sql", "expect", "params", NULL};
static const char *const notify_keys[] = {"on", "command", "webhook", "timeout_s", NULL};
static const char *const webhook_keys[] = {"url", "headers", NULL};
static const char *const notify_on[] = {"failure", "warning", "success", NULL};

#define DEFAULT_DRILL_MAX_AGE_DAYS 8
#define DEFAULT_NOTIFY_TIMEOUT_S 30

/* ---- drill.schedule ------------------------------------------------------ */

static const char *const weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

/* "HH:MM" into hour and minute; -1 when it is not a time of day. */
static int parse_clock(const char *s, int *hour, int *minute)
{
	int h, m, used = 0;
	if (sscanf(s, "%2d:%2d%n", &h, &m, &used) != 2 || s[used] != '\0' || !isdigit((unsigned char)s[0]) ||
	    strlen(s) != 5 || h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	*hour = h;
	*minute = m;
	return 0;
}

/* The day word of a schedule: a weekday, "daily" or "monthly". */
static int parse_day(const char *word, size_t n, struct profile_when *w)
{
	if (n == 5 && strncmp(word, "daily", 5) == 0)
		return 0;
	if (n == 7 && strncmp(word, "monthly", 7) == 0) {
		w->monthly = true;
		return 0;
	}
	if (n == 6 && strncmp(word, "weekly", 6) == 0) {
		w->weekday = 0;
		return 0;
	}
	for (int d = 0; d < 7; d++)
		if (n == 3 && strncasecmp(word, weekdays[d], 3) == 0) {
			w->weekday = d;
			return 0;
		}
	return -1;
}

int profile_when_parse(const char *s, struct profile_when *out)
{
	struct profile_when w = {.weekday = -1, .hour = 5, .minute = 0};
	if (!s)
		return -1;
	if (strcmp(s, "off") == 0) {
		w.off = true;
		*out = w;
		return 0;
	}
	const char *space = strchr(s, ' ');
	size_t n = space ? (size_t)(space - s) : strlen(s);
	if (parse_day(s, n, &w) < 0 || (space && parse_clock(space + 1, &w.hour, &w.minute) < 0))
		return -1;
	*out = w;
	return 0;
}

/* drill.schedule must be a form profile_when_parse reads. */
static int check_schedule(struct profile_ctx *c, const char *parent, const char *value)
{
	struct profile_when w;
	if (!value || profile_when_parse(value, &w) == 0)
		return 0;
	char kp[KP_MAX];
	profile_keypath(kp, parent, "schedule");
	profile_fail(c, kp, "expected \"weekly\", \"daily\", \"monthly\", \"off\" or \"<day> HH:MM\", got %s",
		     profile_quote(value).s);
	return err_hint(c->e, "e.g. \"Sun 05:00\", \"daily 04:30\", \"monthly 06:00\"; the day is Mon..Sun");
}

/* ---- drill.checks ---------------------------------------------------------- */

/* expect as text: a string as it is, an integer in decimal, true/false as
 * PostgreSQL prints booleans ("t", "f"). */
static int expect_text(struct profile_ctx *c, const char *parent, json_t *obj, char **out)
{
	char kp[KP_MAX];
	json_t *v = profile_member(obj, parent, "expect", kp);
	if (!v)
		return profile_fail_missing(c, kp);
	if (json_is_string(v))
		return profile_string_value(c, kp, v, OPTIONAL, out);
	if (json_is_integer(v)) {
		*out = xasprintf("%lld", (long long)json_integer_value(v));
		return 0;
	}
	if (json_is_boolean(v)) {
		*out = xstrdup(json_is_true(v) ? "t" : "f");
		return 0;
	}
	return profile_fail(c, kp, "expected a string, an integer, true or false, got %s",
			    profile_describe(v).s);
}

/* One check: name, sql, expect, params. */
static int load_check(struct profile_ctx *c, const char *kp, json_t *obj, struct profile_drill_check *k)
{
	if (!json_is_object(obj))
		return profile_fail(c, kp, "expected an object {\"name\", \"sql\", \"expect\"}, got %s",
				    profile_describe(obj).s);
	if (profile_check_keys(c, obj, kp, check_keys) < 0 ||
	    profile_read_string(c, obj, kp, "name", REQUIRED | NONEMPTY, &k->name) < 0 ||
	    profile_read_string(c, obj, kp, "sql", REQUIRED | NONEMPTY, &k->sql) < 0 ||
	    expect_text(c, kp, obj, &k->expect) < 0)
		return -1;
	return profile_read_strv(c, obj, kp, "params", &k->params);
}

/* drill.checks: an array of checks with distinct names. */
static int load_checks(struct profile_ctx *c, json_t *drill, const char *parent)
{
	char kp[KP_MAX];
	json_t *arr = profile_member(drill, parent, "checks", kp);
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return profile_fail(c, kp, "expected an array of {\"name\", \"sql\", \"expect\"}, got %s",
				    profile_describe(arr).s);
	struct profile *p = c->p;
	p->drill.checks = xcalloc(json_array_size(arr) + 1, sizeof *p->drill.checks);
	size_t i;
	json_t *item;
	json_array_foreach(arr, i, item) {
		char ikp[KP_MAX];
		profile_keypath_index(ikp, kp, i);
		p->drill.nchecks = i + 1;
		if (load_check(c, ikp, item, &p->drill.checks[i]) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->drill.checks[j].name, p->drill.checks[i].name) == 0)
				return profile_fail(c, ikp, "a second check named %s",
						    profile_quote(p->drill.checks[i].name).s);
	}
	return 0;
}

/* drill: checks, max_age_days, schedule. */
int profile_load_drill(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *d;
	struct profile *p = c->p;
	p->drill.max_age_days = DEFAULT_DRILL_MAX_AGE_DAYS;
	p->drill.schedule = xstrdup("weekly");
	if (profile_read_section(c, prof, name, "drill", drill_keys, &d, kp) < 0)
		return -1;
	if (!d)
		return 0;
	if (load_checks(c, d, kp) < 0 ||
	    profile_read_int(c, d, kp, "max_age_days", 1, 3650, NULL, &p->drill.max_age_days) < 0 ||
	    profile_read_string(c, d, kp, "schedule", NONEMPTY, &p->drill.schedule) < 0)
		return -1;
	return check_schedule(c, kp, p->drill.schedule);
}

/* ---- notify ---------------------------------------------------------------- */

/* notify.on: failure, warning, success. */
static int load_on(struct profile_ctx *c, json_t *n, const char *parent)
{
	struct strv *on = &c->p->notify.on;
	char kp[KP_MAX];
	if (!profile_member(n, parent, "on", kp)) {
		strv_push(on, "failure");
		strv_push(on, "warning");
		return 0;
	}
	if (profile_read_strv(c, n, parent, "on", on) < 0)
		return -1;
	for (size_t i = 0; i < on->n; i++)
		if (!profile_list_has(notify_on, on->v[i])) {
			char ikp[KP_MAX];
			profile_keypath_index(ikp, kp, i);
			return profile_fail_enum(c, ikp, notify_on, profile_quote(on->v[i]).s);
		}
	return 0;
}

/* A header name is an HTTP token; neither name nor value may break a line. */
static bool header_ok(const char *name, const char *value)
{
	if (!*name)
		return false;
	for (const char *q = name; *q; q++)
		if (!(isalnum((unsigned char)*q) || strchr("!#$%&'*+-.^_`|~", *q)))
			return false;
	return strpbrk(value, "\r\n") == NULL;
}

/* notify.webhook.headers: {"Name": "value"}, values expanded. */
static int load_headers(struct profile_ctx *c, json_t *w, const char *parent)
{
	json_t *h;
	if (profile_read_object(c, w, parent, "headers", &h) < 0)
		return -1;
	if (!h)
		return 0;
	char kp[KP_MAX];
	profile_keypath(kp, parent, "headers");
	const char *key;
	json_t *v;
	json_object_foreach(h, key, v) {
		char hkp[KP_MAX];
		char *value = NULL;
		profile_keypath(hkp, kp, key);
		if (profile_string_value(c, hkp, v, OPTIONAL, &value) < 0)
			return -1;
		if (!header_ok(key, value)) {
			free(value);
			return profile_fail(c, hkp, "not a valid HTTP header (a name of letters, digits and "
					    "-, a value without line breaks)");
		}
		char *line = xasprintf("%s: %s", key, value);
		strv_push(&c->p->notify.webhook_headers, line);
		free(line);
		free(value);
	}
	return 0;
}

/* notify.webhook: url (http or https), headers. */
static int load_webhook(struct profile_ctx *c, json_t *n, const char *parent)
{
	char kp[KP_MAX], ukp[KP_MAX];
	json_t *w;
	if (profile_read_section(c, n, parent, "webhook", webhook_keys, &w, kp) < 0)
		return -1;
	if (!w)
		return 0;
	char **url = &c->p->notify.webhook_url;
	if (profile_read_string(c, w, kp, "url", REQUIRED | NONEMPTY, url) < 0)
		return -1;
	profile_keypath(ukp, kp, "url");
	if (!str_starts(*url, "http://") && !str_starts(*url, "https://"))
		return profile_fail(c, ukp, "expected an http:// or https:// URL, got %s", profile_quote(*url).s);
	return load_headers(c, w, kp);
}

/* notify: on, command, webhook, timeout_s; a command or a webhook at least. */
int profile_load_notify(struct profile_ctx *c, json_t *prof, const char *name)
{
	char kp[KP_MAX];
	json_t *n;
	struct profile *p = c->p;
	p->notify.timeout_s = DEFAULT_NOTIFY_TIMEOUT_S;
	if (profile_read_section(c, prof, name, "notify", notify_keys, &n, kp) < 0)
		return -1;
	if (!n)
		return 0;
	p->has_notify = true;
	if (load_on(c, n, kp) < 0 ||
	    profile_read_string(c, n, kp, "command", NONEMPTY, &p->notify.command) < 0 ||
	    load_webhook(c, n, kp) < 0 ||
	    profile_read_int(c, n, kp, "timeout_s", 1, 3600, NULL, &p->notify.timeout_s) < 0)
		return -1;
	if (p->notify.command || p->notify.webhook_url)
		return 0;
	profile_fail(c, kp, "needs a command or a webhook");
	return err_hint(c->e, "\"notify\": {\"command\": \"mail -s ferry root\"} or "
			"{\"webhook\": {\"url\": \"https://hooks.example.com/...\"}}");
}

/* ---- freeing and copying ----------------------------------------------------- */

void profile_alerts_done(struct profile *p)
{
	for (size_t i = 0; i < p->drill.nchecks; i++) {
		free(p->drill.checks[i].name);
		free(p->drill.checks[i].sql);
		free(p->drill.checks[i].expect);
		strv_done(&p->drill.checks[i].params);
	}
	free(p->drill.checks);
	free(p->drill.schedule);
	strv_done(&p->notify.on);
	free(p->notify.command);
	free(p->notify.webhook_url);
	strv_done(&p->notify.webhook_headers);
}

/* dst = a copy of src's strings. */
static void copy_strv(struct strv *dst, const struct strv *src)
{
	*dst = (struct strv){0};
	for (size_t i = 0; i < src->n; i++)
		strv_push(dst, src->v[i]);
}

void profile_alerts_clone(struct profile *c, const struct profile *p)
{
	c->drill.checks = p->drill.nchecks ? xcalloc(p->drill.nchecks, sizeof *c->drill.checks) : NULL;
	for (size_t i = 0; i < p->drill.nchecks; i++) {
		const struct profile_drill_check *k = &p->drill.checks[i];
		c->drill.checks[i] = (struct profile_drill_check){
			.name = xstrdup(k->name), .sql = xstrdup(k->sql), .expect = xstrdup(k->expect)};
		copy_strv(&c->drill.checks[i].params, &k->params);
	}
	c->drill.schedule = xstrdup(p->drill.schedule);
	copy_strv(&c->notify.on, &p->notify.on);
	c->notify.command = xstrdup(p->notify.command);
	c->notify.webhook_url = xstrdup(p->notify.webhook_url);
	copy_strv(&c->notify.webhook_headers, &p->notify.webhook_headers);
}
