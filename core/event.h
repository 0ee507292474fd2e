/* event — progress and log events from core to whichever front end listens.
 *
 * A flow emits events through a sink; the CLI renders them as a bar, plain
 * lines or JSON lines, the wizard as its run page, and a remote ferry as JSON
 * lines over SSH that the local side parses back into events.
 * Strings in an event are borrowed for the duration of the callback. */
#ifndef FERRY_EVENT_H
#define FERRY_EVENT_H

#include <stdint.h>

enum event_type {
	EV_STEP_START,
	EV_STEP_DONE,
	EV_STEP_FAIL,
	EV_STEP_SKIP,
	EV_PROGRESS,
	EV_LOG,
	EV_TYPE_COUNT
};

enum event_level { EV_INFO, EV_WARN, EV_ERROR };

struct event {
	enum event_type type;
	const char *step;     /* step id, e.g. "dump" (may be NULL for logs) */
	const char *text;     /* step title, log line or failure message */
	enum event_level level;
	uint64_t done;        /* progress: units done */
	uint64_t total;       /* progress: units expected, 0 = unknown */
	const char *unit;     /* "bytes", "rows", "tables"; NULL = bytes */
	const char *origin;   /* NULL = here, else the remote host */
};

typedef void (*event_fn)(void *ud, const struct event *ev);

struct event_sink {
	event_fn fn;
	void *ud;
};

/* Deliver ev to the sink; a NULL sink or function drops it. */
void event_emit(const struct event_sink *sink, const struct event *ev);

void event_step_start(const struct event_sink *s, const char *step, const char *title);
void event_step_done(const struct event_sink *s, const char *step, const char *note);
void event_step_fail(const struct event_sink *s, const char *step, const char *why);
void event_step_skip(const struct event_sink *s, const char *step, const char *why);
void event_progress(const struct event_sink *s, const char *step, uint64_t done, uint64_t total);
/* Progress counted in another unit ("tables", "rows"). */
void event_progress_of(const struct event_sink *s, const char *step, uint64_t done, uint64_t total,
		       const char *unit);
void event_log(const struct event_sink *s, enum event_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Stable names: "step_start", "progress", ... and "info", "warn", "error". */
const char *event_type_name(enum event_type t);
const char *event_level_name(enum event_level l);

/* One JSON line (no newline) describing ev; caller frees. */
char *event_to_json(const struct event *ev);

#endif
