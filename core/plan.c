/* plan — building and printing a flow's steps. */
#include "plan.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void plan_init(struct plan *p, const char *title)
{
	memset(p, 0, sizeof *p);
	p->title = xstrdup(title);
}

void plan_add(struct plan *p, const char *id, const char *title, const char *detail_fmt, ...)
{
	p->steps = xrealloc(p->steps, (p->n + 1) * sizeof *p->steps);
	struct plan_step *s = &p->steps[p->n++];
	s->id = xstrdup(id);
	s->title = xstrdup(title);
	s->detail = NULL;
	if (detail_fmt) {
		va_list ap;
		va_start(ap, detail_fmt);
		if (vasprintf(&s->detail, detail_fmt, ap) < 0)
			abort();
		va_end(ap);
	}
}

void plan_done(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->steps[i].id);
		free(p->steps[i].title);
		free(p->steps[i].detail);
	}
	free(p->steps);
	free(p->title);
	memset(p, 0, sizeof *p);
}

void plan_print(const struct plan *p, FILE *out)
{
	fprintf(out, "plan: %s\n", p->title);
	for (size_t i = 0; i < p->n; i++) {
		fprintf(out, "%2zu. %s\n", i + 1, p->steps[i].title);
		if (p->steps[i].detail && *p->steps[i].detail)
			fprintf(out, "    %s\n", p->steps[i].detail);
	}
}

char *plan_to_json(const struct plan *p)
{
	json_t *steps = json_array();
	for (size_t i = 0; i < p->n; i++) {
		json_t *s = json_pack("{s:s, s:s}", "id", p->steps[i].id, "title", p->steps[i].title);
		if (p->steps[i].detail)
			json_object_set_new(s, "detail", json_string(p->steps[i].detail));
		json_array_append_new(steps, s);
	}
	json_t *o = json_pack("{s:s, s:o}", "plan", p->title, "steps", steps);
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
	json_decref(o);
	if (!text)
		abort();
	char *copy = xstrdup(text);
	free(text);
	return copy;
}
