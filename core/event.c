/* event — helpers to emit events and to encode them as JSON lines. */
#include "event.h"
#include "text.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static const char *const type_names[EV_TYPE_COUNT] = {
	[EV_STEP_START] = "step_start",
	[EV_STEP_DONE] = "step_done",
	[EV_STEP_FAIL] = "step_fail",
	[EV_STEP_SKIP] = "step_skip",
	[EV_PROGRESS] = "progress",
	[EV_LOG] = "log",
};

/* Every event's text is cleaned on its way (core/text.h): much of it comes
 * from pg_dump, servers, remote ferries and bundles. */
void event_emit(const struct event_sink *sink, const struct event *ev)
{
	if (!sink || !sink->fn)
		return;
	if (!ev->text || !text_needs_clean(ev->text, true)) {
		sink->fn(sink->ud, ev);
		return;
	}
	struct event clean = *ev;
	char *text = text_clean(xstrdup(ev->text), true);
	clean.text = text;
	sink->fn(sink->ud, &clean);
	free(text);
}

static void emit_step(const struct event_sink *s, enum event_type type,
		      const char *step, const char *text)
{
	struct event ev = {.type = type, .step = step, .text = text};
	if (type == EV_STEP_FAIL)
		ev.level = EV_ERROR;
	event_emit(s, &ev);
}

void event_step_start(const struct event_sink *s, const char *step, const char *title)
{
	emit_step(s, EV_STEP_START, step, title);
}

void event_step_done(const struct event_sink *s, const char *step, const char *note)
{
	emit_step(s, EV_STEP_DONE, step, note);
}

void event_step_fail(const struct event_sink *s, const char *step, const char *why)
{
	emit_step(s, EV_STEP_FAIL, step, why);
}

void event_step_skip(const struct event_sink *s, const char *step, const char *why)
{
	emit_step(s, EV_STEP_SKIP, step, why);
}

void event_progress(const struct event_sink *s, const char *step, uint64_t done, uint64_t total)
{
	struct event ev = {.type = EV_PROGRESS, .step = step, .done = done, .total = total};
	event_emit(s, &ev);
}

void event_progress_of(const struct event_sink *s, const char *step, uint64_t done, uint64_t total,
		       const char *unit)
{
	struct event ev = {.type = EV_PROGRESS, .step = step, .done = done, .total = total, .unit = unit};
	event_emit(s, &ev);
}

void event_log(const struct event_sink *s, enum event_level level, const char *fmt, ...)
{
	if (!s || !s->fn)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	struct event ev = {.type = EV_LOG, .text = line, .level = level};
	event_emit(s, &ev);
}

const char *event_type_name(enum event_type t)
{
	return (int)t >= 0 && t < EV_TYPE_COUNT ? type_names[t] : "unknown";
}

const char *event_level_name(enum event_level l)
{
	switch (l) {
	case EV_WARN: return "warn";
	case EV_ERROR: return "error";
	default: return "info";
	}
}

char *event_to_json(const struct event *ev)
{
	json_t *o = json_object();
	json_object_set_new(o, "event", json_string(event_type_name(ev->type)));
	if (ev->step)
		json_object_set_new(o, "step", json_string(ev->step));
	if (ev->text)
		json_object_set_new(o, "text", json_string(ev->text));
	if (ev->type == EV_LOG || ev->type == EV_STEP_FAIL)
		json_object_set_new(o, "level", json_string(event_level_name(ev->level)));
	if (ev->type == EV_PROGRESS) {
		json_object_set_new(o, "done", json_integer((json_int_t)ev->done));
		json_object_set_new(o, "total", json_integer((json_int_t)ev->total));
		json_object_set_new(o, "unit", json_string(ev->unit ? ev->unit : "bytes"));
	}
	if (ev->origin)
		json_object_set_new(o, "origin", json_string(ev->origin));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		abort();
	char *copy = xstrdup(s);
	free(s);
	return copy;
}
