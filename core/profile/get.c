/* get — typed getters: one JSON member each, its type and range checked,
 * its strings expanded; errors name the file and the key path. */
#include "profile_int.h"
#include "util.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Entries of a NULL-terminated list. */
static size_t list_len(const char *const *list)
{
	size_t n = 0;
	while (list[n])
		n++;
	return n;
}

/* ---- typed getters ------------------------------------------------------ */

/* The member key of obj (NULL when absent); kp receives its key path. */
json_t *profile_member(json_t *obj, const char *parent, const char *key, char *kp)
{
	profile_keypath(kp, parent, key);
	return json_object_get(obj, key);
}

/* Every key of obj is in valid, else "unknown key" with a did-you-mean. */
int profile_check_keys(struct profile_ctx *c, json_t *obj, const char *parent,
		      const char *const *valid)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		if (profile_list_has(valid, key))
			continue;
		char kp[KP_MAX];
		profile_keypath(kp, parent, key);
		profile_fail(c, kp, "unknown key");
		const char *guess = profile_did_you_mean(valid, list_len(valid), key);
		if (guess)
			return err_hint(c->e, "did you mean \"%s\"?", guess);
		char *all = profile_join_list(valid);
		err_hint(c->e, "valid keys: %s", all);
		free(all);
		return -1;
	}
	return 0;
}

/* "missing" at kp; returns -1. */
int profile_fail_missing(struct profile_ctx *c, const char *kp)
{
	return profile_fail(c, kp, "missing");
}

/* A string value, expanded; *out is replaced (old value freed) when present. */
int profile_string_value(struct profile_ctx *c, const char *kp, const json_t *v, int flags, char **out)
{
	if (!json_is_string(v))
		return profile_fail(c, kp, "expected a string, got %s", profile_describe(v).s);
	const char *raw = json_string_value(v);
	if ((flags & NONEMPTY) && !*raw)
		return profile_fail(c, kp, "expected a non-empty string, got \"\"");
	char *s;
	if (profile_expand(c, kp, raw, &s) < 0)
		return -1;
	if ((flags & NONEMPTY) && !*s) {
		free(s);
		return profile_fail(c, kp, "%s expands to an empty string", profile_quote(raw).s);
	}
	free(*out);
	*out = s;
	return 0;
}

/* A string member, expanded; absent is fine unless REQUIRED. */
int profile_read_string(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
		       int flags, char **out)
{
	char kp[KP_MAX];
	json_t *v = profile_member(obj, parent, key, kp);
	if (!v)
		return (flags & REQUIRED) ? profile_fail_missing(c, kp) : 0;
	return profile_string_value(c, kp, v, flags, out);
}

/* A path: expanded, ~ expanded, absolute against base, cleaned. */
int profile_read_path(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
		     const char *base, char **out)
{
	char *s = NULL;
	if (profile_read_string(c, obj, parent, key, NONEMPTY, &s) < 0)
		return -1;
	if (s) {
		free(*out);
		*out = profile_path_resolve(base, s);
		free(s);
	}
	return 0;
}

/* A true/false member; absent leaves *out. */
int profile_read_bool(struct profile_ctx *c, json_t *obj, const char *parent, const char *key, bool *out)
{
	char kp[KP_MAX];
	json_t *v = profile_member(obj, parent, key, kp);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return profile_fail(c, kp, "expected true or false, got %s", profile_describe(v).s);
	*out = json_is_true(v);
	return 0;
}

/* An integer in [min, max]; max == INT_MAX reads "an integer >= min",
 * INT_MIN..INT_MAX just "an integer".
 * what, when not NULL, is appended to the range ("1-19 for zstd"). */
int profile_read_int(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
		    long min, long max, const char *what, int *out)
{
	char kp[KP_MAX];
	json_t *v = profile_member(obj, parent, key, kp);
	if (!v)
		return 0;
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
	if (!json_is_integer(v) || n < min || n > max) {
		char range[64] = "";
		if (min == INT_MIN && max == INT_MAX)
			range[0] = '\0';
		else if (max == INT_MAX)
			snprintf(range, sizeof range, " >= %ld", min);
		else
			snprintf(range, sizeof range, " %ld-%ld", min, max);
		return profile_fail(c, kp, "expected an integer%s%s%s, got %s", range,
			    what ? " " : "", what ? what : "", profile_describe(v).s);
	}
	*out = (int)n;
	return 0;
}

/* "expected one of a, b, got X" at kp; returns -1. */
int profile_fail_enum(struct profile_ctx *c, const char *kp, const char *const *choices,
		     const char *got)
{
	char *all = profile_join_list(choices);
	profile_fail(c, kp, "expected one of %s, got %s", all, got);
	free(all);
	return -1;
}

/* A string value, expanded, that must be one of choices. */
static int enum_value(struct profile_ctx *c, const char *kp, const json_t *v,
		      const char *const *choices, char **out)
{
	if (!json_is_string(v))
		return profile_fail_enum(c, kp, choices, profile_describe(v).s);
	char *s;
	if (profile_expand(c, kp, json_string_value(v), &s) < 0)
		return -1;
	if (!profile_list_has(choices, s)) {
		profile_fail_enum(c, kp, choices, profile_quote(s).s);
		free(s);
		return -1;
	}
	free(*out);
	*out = s;
	return 0;
}

/* An enumerated string member; absent leaves *out. */
int profile_read_enum(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
		     const char *const *choices, char **out)
{
	char kp[KP_MAX];
	json_t *v = profile_member(obj, parent, key, kp);
	return v ? enum_value(c, kp, v, choices, out) : 0;
}

/* An array of strings, each expanded, appended to out. */
int profile_read_strv(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
		     struct strv *out)
{
	char kp[KP_MAX];
	json_t *v = profile_member(obj, parent, key, kp);
	if (!v)
		return 0;
	if (!json_is_array(v))
		return profile_fail(c, kp, "expected an array of strings, got %s", profile_describe(v).s);
	size_t i;
	json_t *item;
	json_array_foreach(v, i, item) {
		char ikp[KP_MAX];
		char *s = NULL;
		profile_keypath_index(ikp, kp, i);
		if (profile_string_value(c, ikp, item, NONEMPTY, &s) < 0)
			return -1;
		strv_push(out, s);
		free(s);
	}
	return 0;
}

/* An object member, or NULL in *out when absent. */
int profile_read_object(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
		       json_t **out)
{
	char kp[KP_MAX];
	json_t *v = profile_member(obj, parent, key, kp);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_object(v))
		return profile_fail(c, kp, "expected an object, got %s", profile_describe(v).s);
	*out = v;
	return 0;
}

/* The section object at parent.key, its keys checked; *out NULL when absent. */
int profile_read_section(struct profile_ctx *c, json_t *obj, const char *parent, const char *key,
			const char *const *valid, json_t **out, char *kp)
{
	profile_keypath(kp, parent, key);
	if (profile_read_object(c, obj, parent, key, out) < 0)
		return -1;
	return *out ? profile_check_keys(c, *out, kp, valid) : 0;
}
