/* where — local bundles and offsite copies merged by bundle name (see where.h). */
#include "flow/where.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The row of name, made (empty, every copy absent) when there is none yet. */
static struct where_row *row_of(struct where_table *t, const struct bundle_info *b, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].bundle, name) == 0)
			return &t->v[i];
	t->v = xrealloc(t->v, (t->n + 1) * sizeof *t->v);
	struct where_row *r = &t->v[t->n++];
	*r = (struct where_row){.bundle = xstrdup(name), .profile = xstrdup(b->profile),
				.type = xstrdup(b->type), .created = b->created,
				.copies = xcalloc(t->ntargets ? t->ntargets : 1, sizeof *r->copies)};
	return r;
}

/* Newest first, then by name (as list_sort orders bundles). */
static int row_cmp(const void *a, const void *b)
{
	const struct where_row *x = a, *y = b;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return strcmp(y->bundle, x->bundle);
}

/* Add target i's bundles (of profile, unless NULL) to the rows. */
static void add_target(struct where_table *t, size_t i, const char *profile)
{
	const struct bundle_list *l = &t->targets[i].list;
	for (size_t k = 0; k < l->n; k++) {
		const struct bundle_info *b = &l->v[k];
		if (profile && strcmp(b->profile, profile) != 0)
			continue;
		char *name = offsite_bundle_name(b->name);
		struct where_row *r = row_of(t, b, name);
		free(name);
		if (r->copies[i].present)   /* both x and x.age there: the first listed wins */
			continue;
		r->copies[i] = (struct where_copy){.present = true, .object = xstrdup(b->path),
						   .size = b->size};
	}
}

int where_list(const struct offsite_flow_opts *o, bool all, struct where_table *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	const char *profile = all ? NULL : o->profile->name;
	if (o->profile->noffsite > 0 &&
	    offsite_list_targets(o, true, &out->targets, &out->ntargets, e) < 0)
		return -1;
	struct bundle_list local;
	if (list_bundles(o->profile->backup.dir, profile, &local, e) < 0) {
		where_table_done(out);
		return -1;
	}
	for (size_t k = 0; k < local.n; k++) {
		char *name = offsite_bundle_name(local.v[k].name);
		struct where_row *r = row_of(out, &local.v[k], name);
		free(name);
		if (!r->local_path) {
			r->local_path = xstrdup(local.v[k].path);
			r->local_size = local.v[k].size;
		}
	}
	list_done(&local);
	for (size_t i = 0; i < out->ntargets; i++)
		add_target(out, i, profile);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, row_cmp);
	return 0;
}

const struct where_row *where_find(const struct where_table *t, const char *bundle)
{
	char *name = offsite_bundle_name(bundle);
	const struct where_row *found = NULL;
	for (size_t i = 0; i < t->n && !found; i++)
		if (strcmp(t->v[i].bundle, name) == 0)
			found = &t->v[i];
	free(name);
	return found;
}

void where_table_done(struct where_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct where_row *r = &t->v[i];
		for (size_t k = 0; k < t->ntargets; k++)
			free(r->copies[k].object);
		free(r->copies);
		free(r->bundle), free(r->profile), free(r->type), free(r->local_path);
	}
	free(t->v);
	offsite_listings_free(t->targets, t->ntargets);
	memset(t, 0, sizeof *t);
}
