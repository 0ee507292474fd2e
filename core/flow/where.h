/* where — which bundle exists where: the local bundles of backup.dir and
 * the copies on every offsite target, side by side (`ferry list
 * --offsite`, the restore wizard's list). A row is one bundle (named
 * without ".age"); copies[i] is what target targets[i] holds of it.
 *
 * A target that cannot be reached does not fail the listing: its
 * targets[i].error says why and no row has a copy there.
 *
 * Ownership: where_table_done frees everything the table holds. */
#ifndef FERRY_FLOW_WHERE_H
#define FERRY_FLOW_WHERE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "flow/offsite.h"

struct where_copy {
	bool present;
	char *object;              /* its name on the target (".age" when encrypted) */
	uint64_t size;
};

struct where_row {
	char *bundle;              /* the bundle's name, without ".age" */
	char *profile, *type;
	time_t created;            /* from the name (UTC) */
	char *local_path;          /* NULL = not in backup.dir */
	uint64_t local_size;
	struct where_copy *copies; /* one per target, in targets' order */
};

struct where_table {
	struct where_row *v;       /* newest first */
	size_t n;
	struct offsite_listing *targets;
	size_t ntargets;
};
void where_table_done(struct where_table *t);

/* The bundles of o->profile (every profile's when all) in backup.dir and on
 * its offsite targets (o->target only, when set). -1 only when the local
 * directory cannot be read or a target name is unknown. */
int where_list(const struct offsite_flow_opts *o, bool all, struct where_table *out, struct err *e);

/* The row of bundle (a bundle or object name), or NULL. */
const struct where_row *where_find(const struct where_table *t, const char *bundle);

#endif
