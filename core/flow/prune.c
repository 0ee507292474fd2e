/* prune — retention over a backup directory's bundles. */
#include "flow/prune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsx.h"
#include "util.h"

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
	if (list_bundles(dir ? dir : p->backup.dir, p->name, &l, e) < 0)
		return -1;
	prune_select(&l, &p->backup.keep, time(NULL), out);
	int rc = 0;
	for (size_t i = 0; i < out->n && !dry_run && rc == 0; i++)
		if (!out->v[i].keep)
			rc = delete_bundle(dir ? dir : p->backup.dir, out->v[i].file, e);
	list_done(&l);
	return rc;
}
