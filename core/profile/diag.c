/* diag — how profile errors read: values as messages show them, key
 * paths, did-you-mean, "<file>: <keypath>: <problem>". */
#include "profile_int.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values in messages ------------------------------------------------- */

/* A JSON value as messages show it: strings quoted, numbers plain, the rest
 * named ("an object", "an array", true, false, null). */
struct profile_desc profile_describe(const json_t *v)
{
	struct profile_desc d;
	switch (json_typeof(v)) {
	case JSON_OBJECT: snprintf(d.s, sizeof d.s, "an object"); break;
	case JSON_ARRAY: snprintf(d.s, sizeof d.s, "an array"); break;
	case JSON_TRUE: snprintf(d.s, sizeof d.s, "true"); break;
	case JSON_FALSE: snprintf(d.s, sizeof d.s, "false"); break;
	case JSON_NULL: snprintf(d.s, sizeof d.s, "null"); break;
	default: {
		char *text = json_dumps(v, JSON_ENCODE_ANY);
		snprintf(d.s, sizeof d.s, "%s", text ? text : "?");
		free(text);
	}
	}
	return d;
}

/* A C string in double quotes, escaped as JSON would. */
struct profile_desc profile_quote(const char *s)
{
	json_t *j = json_string(s);
	struct profile_desc d;
	if (j)
		d = profile_describe(j);
	else
		snprintf(d.s, sizeof d.s, "\"%s\"", s);
	json_decref(j);
	return d;
}

/* "a, b, c" from a NULL-terminated list. */
char *profile_join_list(const char *const *list)
{
	struct sbuf b = {0};
	for (size_t i = 0; list[i]; i++) {
		if (i)
			sbuf_adds(&b, ", ");
		sbuf_adds(&b, list[i]);
	}
	return sbuf_take(&b);
}

/* Whether the NULL-terminated list holds s. */
bool profile_list_has(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* The candidate closest to word: edit distance <= 2, else a prefix match
 * either way; NULL when none is close. */
const char *profile_did_you_mean(const char *const *cands, size_t n, const char *word)
{
	const char *best = NULL;
	size_t best_d = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d = util_edit_distance(cands[i], word);
		if (d < best_d) {
			best = cands[i];
			best_d = d;
		}
	}
	if (best || !*word)
		return best;
	for (size_t i = 0; i < n; i++)
		if (str_starts(cands[i], word) || str_starts(word, cands[i]))
			return cands[i];
	return NULL;
}

/* ---- errors and key paths ---------------------------------------------- */

/* "<file>: <keypath>: <problem>" as an ERR_PROFILE; returns -1. */
int profile_fail(struct profile_ctx *c, const char *kp, const char *fmt, ...)
{
	char problem[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(problem, sizeof problem, fmt, ap);
	va_end(ap);
	return err_set(c->e, ERR_PROFILE, "%s: %s: %s", c->path, kp, problem);
}

/* A key path too long for the buffer ends in "..." (messages only). */
static void keypath_mark_cut(char *out, int written)
{
	if (written >= KP_MAX)
		memcpy(out + KP_MAX - 4, "...", 4);
}

/* "parent.key" into out (KP_MAX bytes). */
void profile_keypath(char *out, const char *parent, const char *key)
{
	keypath_mark_cut(out, snprintf(out, KP_MAX, "%s.%s", parent, key));
}

/* "parent[i]" into out (KP_MAX bytes). */
void profile_keypath_index(char *out, const char *parent, size_t i)
{
	keypath_mark_cut(out, snprintf(out, KP_MAX, "%s[%zu]", parent, i));
}

