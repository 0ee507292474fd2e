/* prune — retention: which bundles of a profile are kept, by the rules of
 * backup.keep, and deleting the others (with their .verified records). */
#ifndef FERRY_FLOW_PRUNE_H
#define FERRY_FLOW_PRUNE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "err.h"
#include "profile/profile.h"
#include "flow/list.h"

struct prune_decision {
	char *file;                   /* bundle file name */
	bool keep;
	char *rule;                   /* "last 10", "daily 2026-11-20", "manual < 30 days", ... */
};

struct prune_report {
	struct prune_decision *v;
	size_t n;
};
void prune_report_done(struct prune_report *r);

void prune_report_done(struct prune_report *r);

/* The retention decision for bundles (newest first) at time now. */
void prune_select(const struct bundle_list *l, const struct profile_keep *keep, time_t now,
		  struct prune_report *out);

/* Apply retention in dir for the profile; with dry_run delete nothing. */
int prune_run(const struct profile *p, const char *dir, bool dry_run,
	      struct prune_report *out, struct err *e);

#endif
