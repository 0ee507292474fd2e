/* list — the bundles in a backup directory, newest first, with what their
 * names say, whether `ferry verify` passed and when a drill last restored it. A struct bundle_list owns
 * its strings; list_done frees them. */
#ifndef FERRY_FLOW_LIST_H
#define FERRY_FLOW_LIST_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "err.h"

struct bundle_info {
	char *path;
	char *name;
	char *profile;
	char *type;
	char *revision;
	time_t created;               /* from the name (UTC) */
	uint64_t size;
	char *verified;               /* "ok <date>", "FAILED <date>", or NULL (flow/verified.h) */
	char *drilled;                /* the last drill: "<date> ok", "<date> FAILED ...", or NULL */
	char *scope;                  /* from its manifest: full, partial, ...; NULL = unreadable */
};

struct bundle_list {
	struct bundle_info *v;        /* newest first */
	size_t n;
};
void list_done(struct bundle_list *l);

/* Bundles in dir (any profile when profile_name is NULL), newest first.
 * A missing dir is an empty list. */
int list_bundles(const char *dir, const char *profile_name, struct bundle_list *out,
		 struct err *e);

/* What `ferry list` shows of a bundle's checks: "not verified",
 * "verified 2026-11-21", "verify FAILED 2026-11-21", "drilled 2026-11-22",
 * "drill FAILED 2026-11-22" (the drill, when there was one, says more). */
void list_check_state(const struct bundle_info *b, char *out, size_t len);
/* Sort newest first (by the time in the name, then by name). */
void list_sort(struct bundle_list *l);
/* Append b (taken over: b is reset). */
void list_add(struct bundle_list *l, struct bundle_info *b);

/* Parse "<profile>_<YYYYMMDD>_<HHMMSS>_<type>_<rev>.ferry.tar.*". */
int list_parse_name(const char *name, struct bundle_info *out);

#endif
