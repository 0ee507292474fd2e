/* status_offsite — the "offsite" checks of `ferry status`: each target of
 * the profile listed (so it answers, with the credentials or host key it
 * needs), and the age of its newest copy of the profile's bundles against
 * offsite_max_age. Never asks: an unknown SFTP host key fails the check. */
#include "flow/status_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow/offsite.h"
#include "util.h"

/* Room for one more fact, zeroed. */
static struct status_offsite_fact *new_fact(struct status_report *r, const struct profile_offsite *t,
					    long long max_age_s)
{
	r->offsite = xrealloc(r->offsite, (r->noffsite + 1) * sizeof *r->offsite);
	struct status_offsite_fact *f = &r->offsite[r->noffsite++];
	*f = (struct status_offsite_fact){.target = xstrdup(t->name), .type = xstrdup(t->type),
					  .age_s = -1, .max_age_s = max_age_s};
	return f;
}

/* The newest bundle of profile in l (newest first), or NULL; counts them. */
static const struct bundle_info *newest_of(const struct bundle_list *l, const char *profile, size_t *n)
{
	const struct bundle_info *newest = NULL;
	*n = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].profile, profile) != 0)
			continue;
		if (!newest)
			newest = &l->v[i];
		(*n)++;
	}
	return newest;
}

/* One target's check from its listing. */
static void check_one(struct status_ctx *c, const struct offsite_listing *li)
{
	const struct profile_offsite *t = li->t;
	struct status_offsite_fact *f = new_fact(c->r, t, c->p->offsite_max_age_s);
	if (li->error) {
		f->error = xstrdup(li->error);
		status_add_check(c, "offsite", t->name, STATUS_FAIL,
				 strcmp(t->type, "sftp") == 0 ? ERR_SSH : ERR_OFFSITE,
				 "%s (%s) unreachable: %s", t->name, t->type, li->error);
		return;
	}
	f->reachable = true;
	const struct bundle_info *b = newest_of(&li->list, c->p->name, &f->copies);
	if (!b) {
		status_add_check(c, "offsite", t->name, STATUS_WARN, ERR_OK,
				 "%s (%s) answers but holds no copy of a %s bundle "
				 "(`ferry offsite push NAME --to %s` copies one)",
				 t->name, t->type, c->p->name, t->name);
		return;
	}
	f->newest = xstrdup(b->path);
	f->size = b->size;
	f->age_s = (int64_t)difftime(time(NULL), b->created);
	if (f->age_s < 0)
		f->age_s = 0;
	char age[32], limit[32], sz[32];
	status_human_age(f->age_s, age, sizeof age);
	status_human_age(f->max_age_s, limit, sizeof limit);
	bool old = f->age_s > f->max_age_s;
	status_add_check(c, "offsite", t->name, old ? STATUS_WARN : STATUS_OK, ERR_OK,
			 "%s (%s): newest copy %s, %s ago%s%s, %s; %zu cop%s", t->name, t->type,
			 b->path, age, old ? ", older than offsite_max_age " : "", old ? limit : "",
			 util_human_bytes(f->size, sz, sizeof sz), f->copies, f->copies == 1 ? "y" : "ies");
}

void status_check_offsite(struct status_ctx *c)
{
	struct offsite_flow_opts o = {.profile = c->p, .events = NULL, .cancel = c->o->cancel};
	struct offsite_listing *v = NULL;
	size_t n = 0;
	struct err e = {0};
	if (offsite_list_targets(&o, true, &v, &n, &e) < 0) {
		status_add_check(c, "offsite", NULL, STATUS_FAIL, e.kind ? e.kind : ERR_OFFSITE,
				 "cannot list the offsite targets: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < n; i++)
		check_one(c, &v[i]);
	offsite_listings_free(v, n);
}

void status_offsite_fields(json_t *o, const struct status_report *r, const char *target)
{
	for (size_t i = 0; target && i < r->noffsite; i++) {
		const struct status_offsite_fact *f = &r->offsite[i];
		if (strcmp(f->target, target) != 0)
			continue;
		json_object_set_new(o, "type", json_string(f->type));
		json_object_set_new(o, "reachable", json_boolean(f->reachable));
		json_object_set_new(o, "copies", json_integer((json_int_t)f->copies));
		json_object_set_new(o, "newest", f->newest ? json_string(f->newest) : json_null());
		json_object_set_new(o, "age_s", f->newest ? json_integer(f->age_s) : json_null());
		json_object_set_new(o, "size_bytes", f->newest ? json_integer((json_int_t)f->size) : json_null());
		json_object_set_new(o, "max_age_s", json_integer(f->max_age_s));
		if (f->error)
			json_object_set_new(o, "error_detail", json_string(f->error));
		return;
	}
}

void status_offsite_facts_done(struct status_report *r)
{
	for (size_t i = 0; i < r->noffsite; i++) {
		struct status_offsite_fact *f = &r->offsite[i];
		free(f->target), free(f->type), free(f->error), free(f->newest);
	}
	free(r->offsite);
	r->offsite = NULL;
	r->noffsite = 0;
}
