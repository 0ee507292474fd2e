/* render — the command line's view of core events: on a terminal a
 * progress bar and a mark per step on stderr, without one a plain line
 * every few seconds, with --json one JSON line per event on stdout
 * (progress at most once a second).
 *
 * Ownership: render_new returns a renderer the caller frees with
 * render_free (NULL is fine); its sink is valid until then. */
#ifndef FERRY_RENDER_H
#define FERRY_RENDER_H

#include "cli/cli.h"
#include "event.h"

struct render;

struct render *render_new(const struct cli *c);
void render_free(struct render *r);
/* The command ended (e: its error, NULL on success): a step failure
 * still held back is printed, without its message when e says the same
 * (the error is printed once, by the caller). NULL r is fine. */
void render_finish(struct render *r, const struct err *e);
/* The event sink that renders to r. */
struct event_sink render_sink(struct render *r);

#endif
