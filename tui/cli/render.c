/* render — the command line's view of core events: a progress bar on a terminal,
 * a plain line every few seconds otherwise, JSON lines with --json. */
#include <langinfo.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/render.h"
#include "util.h"

#define PLAIN_PROGRESS_EVERY_S 5.0
#define BAR_REDRAW_EVERY_S 0.1
#define BAR_WIDTH 24

struct render {
	bool json;
	bool tty;
	bool color;
	bool utf8;
	char *step_title;        /* title of the running step */
	char *step_id;           /* its id */
	double step_started;     /* monotonic seconds */
	double last_progress;    /* when progress was last shown */
	bool bar_visible;        /* a bar line is on screen without newline */
	char *failed_line;       /* a step's failure, held back (see flush_failed) */
	char *failed_text;       /* its message */
};

/* A renderer for the terminal (or pipe) stderr is. */
struct render *render_new(const struct cli *c)
{
	struct render *r = xcalloc(1, sizeof *r);
	r->json = c->json;
	r->tty = isatty(STDERR_FILENO);
	r->color = c->color;
	const char *cs = nl_langinfo(CODESET);
	r->utf8 = cs && strcmp(cs, "UTF-8") == 0;
	return r;
}

/* Free the renderer. */
void render_free(struct render *r)
{
	if (!r)
		return;
	free(r->step_title);
	free(r->step_id);
	free(r->failed_line);
	free(r->failed_text);
	free(r);
}

static void clear_bar(struct render *r);

/* A held-back failure line, printed with its message (with_text) or
 * without it (the command's error says it next). */
static void flush_failed(struct render *r, bool with_text)
{
	if (!r->failed_line)
		return;
	if (with_text && r->failed_text && *r->failed_text)
		fprintf(stderr, "%s: %s\n", r->failed_line, r->failed_text);
	else
		fprintf(stderr, "%s\n", r->failed_line);
	free(r->failed_line);
	free(r->failed_text);
	r->failed_line = r->failed_text = NULL;
}

void render_finish(struct render *r, const struct err *e)
{
	if (!r)
		return;
	clear_bar(r);
	bool repeated = e && r->failed_text && strcmp(r->failed_text, e->msg) == 0;
	flush_failed(r, !repeated);
	fflush(stderr);
}

/* Remove the progress bar from its line. */
static void clear_bar(struct render *r)
{
	if (r->bar_visible) {
		fputs("\r\033[K", stderr);
		r->bar_visible = false;
	}
}

/* The mark of a step event: done, failed, skipped, started. */
static const char *mark(const struct render *r, enum event_type t)
{
	switch (t) {
	case EV_STEP_DONE: return r->utf8 ? "✔" : "[ok]";
	case EV_STEP_FAIL: return r->utf8 ? "✖" : "[FAIL]";
	case EV_STEP_SKIP: return r->utf8 ? "⚠" : "[skip]";
	default: return r->utf8 ? "▸" : "-";
	}
}

/* Its colour on a terminal. */
static const char *colour(const struct render *r, enum event_type t)
{
	if (!r->color)
		return "";
	switch (t) {
	case EV_STEP_DONE: return "\033[32m";
	case EV_STEP_FAIL: return "\033[31m";
	case EV_STEP_SKIP: return "\033[33m";
	default: return "\033[1m";
	}
}

/* A step started or ended: one line. */
static void show_step(struct render *r, const struct event *ev)
{
	clear_bar(r);
	const char *off = r->color ? "\033[0m" : "";
	if (ev->type == EV_STEP_START) {
		free(r->step_title);
		free(r->step_id);
		r->step_title = xstrdup(ev->text ? ev->text : ev->step);
		r->step_id = xstrdup(ev->step);
		r->step_started = util_now();
		r->last_progress = r->step_started;
		fprintf(stderr, "%s%s%s %s\n", colour(r, ev->type), mark(r, ev->type), off,
			r->step_title);
		return;
	}
	/* A step skipped (or failed) without being started is named by its id. */
	bool current = r->step_id && ev->step && strcmp(r->step_id, ev->step) == 0;
	const char *title = current && r->step_title ? r->step_title : (ev->step ? ev->step : "");
	if (ev->type == EV_STEP_FAIL) {
		/* Held back: when the command fails with this message, its error
		 * line says it, and once is enough. */
		r->failed_line = xasprintf("%s%s%s %s", colour(r, ev->type), mark(r, ev->type), off, title);
		r->failed_text = xstrdup(ev->text);
		return;
	}
	fprintf(stderr, "%s%s%s %s", colour(r, ev->type), mark(r, ev->type), off, title);
	if (ev->text && *ev->text)
		fprintf(stderr, ": %s", ev->text);
	if (ev->type == EV_STEP_DONE && current)
		fprintf(stderr, " (%.1f s)", util_now() - r->step_started);
	fputc('\n', stderr);
}

/* "12 MiB of 40 MiB, 8 MiB/s, ETA 3 s". */
static void progress_text(const struct render *r, const struct event *ev,
			  char *out, size_t len)
{
	char a[32], b[32], rate[32];
	double elapsed = util_now() - r->step_started;
	double per_s = elapsed > 0 ? (double)ev->done / elapsed : 0;
	bool bytes = !ev->unit || strcmp(ev->unit, "bytes") == 0;
	/* More done than announced: the total shown is what was done. */
	uint64_t total = ev->total && ev->done > ev->total ? ev->done : ev->total;
	if (bytes) {
		util_human_bytes(ev->done, a, sizeof a);
		util_human_bytes(total, b, sizeof b);
		util_human_bytes((uint64_t)per_s, rate, sizeof rate);
	} else {
		snprintf(a, sizeof a, "%llu", (unsigned long long)ev->done);
		snprintf(b, sizeof b, "%llu %s", (unsigned long long)total, ev->unit);
		snprintf(rate, sizeof rate, "%.0f", per_s);
	}
	if (ev->text && *ev->text) {   /* a flow's own line; done/total only drive the ETA */
		double eta = total > 0 && per_s > 0 ? (double)(total - ev->done) / per_s : -1;
		snprintf(out, len, "%s", ev->text);
		if (eta >= 0)
			snprintf(out + strlen(out), len - strlen(out), ", ETA %.0f s", eta);
	} else if (total > 0 && per_s > 0) {
		double eta = (double)(total - ev->done) / per_s;
		snprintf(out, len, "%s of %s, %s/s, ETA %.0f s", a, b, rate, eta);
	} else {
		snprintf(out, len, "%s, %s/s", a, rate);
	}
}

/* Progress: the bar redrawn, or a plain line now and then. */
static void show_progress(struct render *r, const struct event *ev)
{
	double t = util_now();
	double every = r->tty ? BAR_REDRAW_EVERY_S : PLAIN_PROGRESS_EVERY_S;
	if (t - r->last_progress < every && !(ev->total && ev->done >= ev->total))
		return;
	r->last_progress = t;
	char text[320];
	progress_text(r, ev, text, sizeof text);
	int pct = ev->total ? (int)(100.0 * (double)ev->done / (double)ev->total) : -1;
	if (pct > 100)
		pct = 100;
	if (!r->tty) {
		fprintf(stderr, "  %s: %s%s%d%%\n", ev->step ? ev->step : "progress", text,
			pct >= 0 ? ", " : "", pct >= 0 ? pct : 0);
		return;
	}
	char bar[BAR_WIDTH * 3 + 1];
	size_t pos = 0;
	int filled = pct >= 0 ? pct * BAR_WIDTH / 100 : 0;
	for (int i = 0; i < BAR_WIDTH; i++) {
		const char *cell = i < filled ? (r->utf8 ? "█" : "#") : (r->utf8 ? "░" : ".");
		size_t l = strlen(cell);
		memcpy(bar + pos, cell, l);
		pos += l;
	}
	bar[pos] = '\0';
	fprintf(stderr, "\r\033[K  %s %3d%% %s", bar, pct >= 0 ? pct : 0, text);
	r->bar_visible = true;
}

/* A log line (with its origin, a remote ferry). */
static void show_log(struct render *r, const struct event *ev)
{
	clear_bar(r);
	const char *prefix = ev->level == EV_ERROR ? "error: " : ev->level == EV_WARN ? "warning: " : "";
	if (ev->origin)
		fprintf(stderr, "  [%s] %s%s\n", ev->origin, prefix, ev->text ? ev->text : "");
	else
		fprintf(stderr, "  %s%s\n", prefix, ev->text ? ev->text : "");
}

/* The sink: JSON lines, or the text view. */
static void render_event(void *ud, const struct event *ev)
{
	struct render *r = ud;
	flush_failed(r, true);
	if (r->json) {
		if (ev->type == EV_PROGRESS) {
			double t = util_now();
			if (t - r->last_progress < 1.0 && !(ev->total && ev->done >= ev->total))
				return;
			r->last_progress = t;
		}
		char *line = event_to_json(ev);
		fprintf(stdout, "%s\n", line);
		fflush(stdout);
		free(line);
		return;
	}
	switch (ev->type) {
	case EV_PROGRESS: show_progress(r, ev); break;
	case EV_LOG: show_log(r, ev); break;
	default: show_step(r, ev); break;
	}
	fflush(stderr);
}

/* The sink for flows. */
struct event_sink render_sink(struct render *r)
{
	return (struct event_sink){.fn = render_event, .ud = r};
}
