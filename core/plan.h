/* plan — a flow's steps, shown before anything runs (and by --dry-run).
 * A plan owns its strings; plan_done frees them. */
#ifndef FERRY_PLAN_H
#define FERRY_PLAN_H

#include <stddef.h>
#include <stdio.h>

struct plan_step {
	char *id;       /* stable id, also the event step id */
	char *title;    /* what the step does, one line */
	char *detail;   /* hosts, paths, sizes; may be NULL */
};

struct plan {
	char *title;    /* "back up production to /srv/backups" */
	struct plan_step *steps;
	size_t n;
};

void plan_init(struct plan *p, const char *title);
void plan_add(struct plan *p, const char *id, const char *title, const char *detail_fmt, ...)
	__attribute__((format(printf, 4, 5)));
void plan_done(struct plan *p);

/* Numbered text: "1. title\n   detail\n". */
void plan_print(const struct plan *p, FILE *out);
/* {"plan": title, "steps": [{"id","title","detail"}]}; caller frees. */
char *plan_to_json(const struct plan *p);

#endif
