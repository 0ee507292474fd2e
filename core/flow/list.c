/* list — the bundles in a backup directory, newest first. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flow/list.h"
#include "flow/verified.h"
#include "bundle/bundle.h"
#include "manifest.h"
#include "util.h"

#define BUNDLE_MARK ".ferry.tar"

static bool is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Position of "_YYYYMMDD_HHMMSS_" in name, or NULL. */
static const char *find_stamp(const char *name)
{
	for (const char *p = strchr(name, '_'); p; p = strchr(p + 1, '_'))
		if (strlen(p) >= 17 && is_digits(p + 1, 8) && p[9] == '_' &&
		    is_digits(p + 10, 6) && p[16] == '_')
			return p;
	return NULL;
}

static time_t stamp_time(const char *p)
{
	struct tm tm = {0};
	if (sscanf(p, "_%4d%2d%2d_%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

int list_parse_name(const char *name, struct bundle_info *out)
{
	memset(out, 0, sizeof *out);
	const char *mark = strstr(name, BUNDLE_MARK);
	const char *stamp = find_stamp(name);
	if (!mark || !stamp || stamp > mark || str_ends(name, ".part"))
		return -1;
	const char *type = stamp + 17;
	const char *type_end = memchr(type, '_', (size_t)(mark - type));
	if (!type_end)
		return -1;
	out->name = xstrdup(name);
	out->profile = xstrndup(name, (size_t)(stamp - name));
	out->type = xstrndup(type, (size_t)(type_end - type));
	out->revision = xstrndup(type_end + 1, (size_t)(mark - type_end - 1));
	out->created = stamp_time(stamp);
	return 0;
}

static void bundle_info_done(struct bundle_info *b)
{
	free(b->path);
	free(b->name);
	free(b->profile);
	free(b->type);
	free(b->revision);
	free(b->verified);
	free(b->drilled);
	free(b->scope);
}

void list_done(struct bundle_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		bundle_info_done(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* The bundle's scope, from the manifest it starts with. */
static char *read_scope(const char *path)
{
	struct err ignored = {0};
	char *text = NULL;
	struct manifest m;
	memset(&m, 0, sizeof m);
	char *scope = NULL;
	if (bundle_read_first(path, MANIFEST_NAME, BUNDLE_SMALL_MAX, &text, &ignored) == 0 &&
	    manifest_parse(text, &m, &ignored) == 0)
		scope = xstrdup(m.has_db ? manifest_scope(&m) : "files only");
	manifest_done(&m);
	free(text);
	return scope;
}

static int newest_first(const void *a, const void *b)
{
	const struct bundle_info *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? 1 : -1;
	return strcmp(y->name, x->name);
}

int list_bundles(const char *dir, const char *profile_name, struct bundle_list *out,
		    struct err *e)
{
	(void)e;
	memset(out, 0, sizeof *out);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	const struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		struct bundle_info b;
		if (list_parse_name(de->d_name, &b) < 0)
			continue;
		if (str_ends(de->d_name, ".verified") ||
		    (profile_name && strcmp(b.profile, profile_name) != 0)) {
			bundle_info_done(&b);
			continue;
		}
		b.path = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		b.size = stat(b.path, &st) == 0 ? (uint64_t)st.st_size : 0;
		struct verified_record vr;
		verified_read(b.path, &vr);
		b.verified = vr.verify;
		b.drilled = vr.drill;
		b.scope = read_scope(b.path);
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n++] = b;
	}
	closedir(d);
	list_sort(out);
	return 0;
}

void list_sort(struct bundle_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, newest_first);
}

void list_add(struct bundle_list *l, struct bundle_info *b)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = *b;
	memset(b, 0, sizeof *b);
}

/* --- retention ----------------------------------------------------------- */


/* The date of a record's time ("2026-11-21T19:50:00Z" → "2026-11-21"). */
static void date_of(const char *s, char *out, size_t len)
{
	const char *t = s;
	while (*t && !(t[0] >= '0' && t[0] <= '9'))
		t++;
	snprintf(out, len, "%.10s", t);
}

void list_check_state(const struct bundle_info *b, char *out, size_t len)
{
	char date[16];
	if (b->drilled) {
		date_of(b->drilled, date, sizeof date);
		snprintf(out, len, "%s %s", verified_ok(b->drilled) ? "drilled" : "drill FAILED", date);
	} else if (b->verified) {
		date_of(b->verified, date, sizeof date);
		snprintf(out, len, "%s %s", verified_ok(b->verified) ? "verified" : "verify FAILED", date);
	} else {
		snprintf(out, len, "not verified");
	}
}
