/* registry — rewrite the connection registry after a migration. */
#include "registry.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "fsx.h"

long long registry_duration_s(const char *iso)
{
	if (!iso || iso[0] != 'P' || !iso[1])
		return -1;
	long long total = 0;
	bool in_time = false;
	for (const char *p = iso + 1; *p;) {
		if (*p == 'T') {
			in_time = true;
			p++;
			continue;
		}
		char *end;
		long long n = strtoll(p, &end, 10);
		if (end == p)
			return -1;
		switch (*end) {
		case 'W': total += n * 7 * 86400; break;
		case 'D': total += n * 86400; break;
		case 'H': total += n * 3600; break;
		case 'M': total += in_time ? n * 60 : n * 30 * 86400; break;
		case 'S': total += n; break;
		default: return -1;
		}
		p = end + 1;
	}
	return total;
}

static json_t *load_or_new(const char *path, struct err *e)
{
	if (access(path, F_OK) != 0)
		return json_object();
	json_error_t jerr;
	json_t *o = json_load_file(path, 0, &jerr);
	if (!json_is_object(o)) {
		json_decref(o);
		err_set(e, ERR_FAILED, "%s:%d:%d: the connection registry is not a JSON object (%s)", path,
			jerr.line, jerr.column, jerr.text);
		err_hint(e, "fix or remove the file; ferry rewrites it after a migration");
		return NULL;
	}
	return o;
}

static void apply(json_t *o, const struct registry_update *u)
{
	const char *old = json_string_value(json_object_get(o, "primary_url"));
	char *fallback = xstrdup(u->fallback_url ? u->fallback_url : old);
	const char *grace = u->grace_period ? u->grace_period : "P7D";
	long long secs = registry_duration_s(grace);
	char *now = util_iso_time(u->now);
	char *until = util_iso_time(u->now + (secs > 0 ? secs : 0));
	json_object_set_new(o, "primary_url", json_string(u->primary_url));
	json_object_set_new(o, "fallback_url", fallback ? json_string(fallback) : json_null());
	json_object_set_new(o, "grace_period", json_string(grace));
	json_object_set_new(o, "fallback_until", json_string(until));
	json_object_set_new(o, "updated_at", json_string(now));
	char *msg = xasprintf("the database moved from %s to %s; use primary_url (the fallback "
			      "answers until %s)", u->from ? u->from : "?", u->to ? u->to : "?", until);
	json_object_set_new(o, "migration_notice", json_pack("{s:s, s:s, s:s, s:s}", "message", msg,
		"from", u->from ? u->from : "", "to", u->to ? u->to : "", "at", now));
	free(msg), free(now), free(until), free(fallback);
}

int registry_rewrite(const char *path, const struct registry_update *u, struct err *e)
{
	json_t *o = load_or_new(path, e);
	if (!o)
		return -1;
	apply(o, u);
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	int rc = slash ? fsx_mkdir_p(dir, 0755, e) : 0;
	free(dir);
	char *text = rc == 0 ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (rc == 0 && (!text || fsx_write_atomic(path, text, strlen(text), 0644, e) < 0))
		rc = err_prefix(e, "cannot write the connection registry %s", path);
	free(text);
	json_decref(o);
	return rc;
}
