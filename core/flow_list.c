/* flow_list — bundles in a backup directory, and the retention policy
 * that decides which of them to keep. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flow.h"
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

int flow_parse_bundle_name(const char *name, struct bundle_info *out)
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
}

void flow_bundle_list_done(struct bundle_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		bundle_info_done(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static char *read_verified(const char *path)
{
	char *side = xasprintf("%s.verified", path);
	FILE *f = fopen(side, "r");
	free(side);
	if (!f)
		return NULL;
	char line[256] = "";
	char *got = fgets(line, sizeof line, f);
	fclose(f);
	if (!got)
		return NULL;
	line[strcspn(line, "\n")] = '\0';
	return xstrdup(line);
}

static int newest_first(const void *a, const void *b)
{
	const struct bundle_info *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? 1 : -1;
	return strcmp(y->name, x->name);
}

int flow_list_bundles(const char *dir, const char *profile_name, struct bundle_list *out,
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
		if (flow_parse_bundle_name(de->d_name, &b) < 0)
			continue;
		if (str_ends(de->d_name, ".verified") ||
		    (profile_name && strcmp(b.profile, profile_name) != 0)) {
			bundle_info_done(&b);
			continue;
		}
		b.path = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		b.size = stat(b.path, &st) == 0 ? (uint64_t)st.st_size : 0;
		b.verified = read_verified(b.path);
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n++] = b;
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, newest_first);
	return 0;
}

/* --- retention ----------------------------------------------------------- */

/* Bundles made by hand or as a safety copy before a dangerous step. */
static bool is_manual(const char *type)
{
	return strcmp(type, "manual") == 0 || str_starts(type, "pre-");
}

static void period_key(time_t t, const char *fmt, char *out, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, fmt, &tm);
}

/* Keep the newest bundle of each of the newest `count` periods. */
static void keep_periods(const struct bundle_list *l, const char *fmt, const char *label,
			 int count, char **rules)
{
	char last[32] = "";
	int periods = 0;
	for (size_t i = 0; i < l->n && periods < count; i++) {
		if (is_manual(l->v[i].type))
			continue;
		char key[32];
		period_key(l->v[i].created, fmt, key, sizeof key);
		if (strcmp(key, last) == 0)
			continue;
		snprintf(last, sizeof last, "%s", key);
		periods++;
		if (!rules[i])
			rules[i] = xasprintf("%s %s", label, key);
	}
}

void prune_select(const struct bundle_list *l, const struct profile_keep *keep, time_t now,
		  struct prune_report *out)
{
	memset(out, 0, sizeof *out);
	char **rules = xcalloc(l->n + 1, sizeof *rules);
	for (size_t i = 0; i < l->n && (int)i < keep->last; i++)
		rules[i] = xasprintf("last %d", keep->last);
	keep_periods(l, "%Y-%m-%d", "daily", keep->daily, rules);
	keep_periods(l, "%G-W%V", "weekly", keep->weekly, rules);
	keep_periods(l, "%Y-%m", "monthly", keep->monthly, rules);
	for (size_t i = 0; i < l->n; i++) {
		double age_days = difftime(now, l->v[i].created) / 86400.0;
		if (!rules[i] && is_manual(l->v[i].type) && age_days < keep->manual_days)
			rules[i] = xasprintf("%s < %d days", l->v[i].type, keep->manual_days);
	}
	out->v = xcalloc(l->n + 1, sizeof *out->v);
	for (size_t i = 0; i < l->n; i++) {
		struct prune_decision *d = &out->v[out->n++];
		d->file = xstrdup(l->v[i].name);
		d->keep = rules[i] != NULL;
		d->rule = rules[i] ? rules[i] : xstrdup(is_manual(l->v[i].type) ?
			"manual, older than the manual retention" : "outside last/daily/weekly/monthly");
	}
	free(rules);
}

void prune_report_done(struct prune_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].file);
		free(r->v[i].rule);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static int delete_bundle(const char *dir, const char *file, struct err *e)
{
	char *path = xasprintf("%s/%s", dir, file);
	char *side = xasprintf("%s.verified", path);
	int rc = unlink(path);
	if (rc < 0)
		err_set(e, ERR_FAILED, "cannot delete %s: %m", path);
	unlink(side);
	free(path);
	free(side);
	return rc < 0 ? -1 : 0;
}

int prune_run(const struct profile *p, const char *dir, bool dry_run,
	      struct prune_report *out, struct err *e)
{
	struct bundle_list l;
	if (flow_list_bundles(dir ? dir : p->backup.dir, p->name, &l, e) < 0)
		return -1;
	prune_select(&l, &p->backup.keep, time(NULL), out);
	int rc = 0;
	for (size_t i = 0; i < out->n && !dry_run && rc == 0; i++)
		if (!out->v[i].keep)
			rc = delete_bundle(dir ? dir : p->backup.dir, out->v[i].file, e);
	flow_bundle_list_done(&l);
	return rc;
}
