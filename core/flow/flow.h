/* flow — what the flows share: the operator's answers (confirmation, an
 * unknown host key), compression names, app paths, the profile's shell
 * commands, JSON logs and reports. */
#ifndef FERRY_FLOW_FLOW_H
#define FERRY_FLOW_FLOW_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "err.h"
#include "event.h"
#include "fsx.h"
#include "util.h"
#include "profile/profile.h"
#include "step.h"

#include "bundle/bundle.h"

/* Asks the operator to confirm a destructive plan, e.g. by typing the
 * database name (core/step.h). */
typedef step_confirm_fn flow_confirm_fn;

/* Asked when the target's SSH host key is unknown; non-zero = accept. */
typedef int (*flow_hostkey_fn)(void *ud, const char *host, int port, const char *fingerprint,
			       const char *type);

/* "zstd" / "gzip" / "none" ↔ enum; the bundle file name's ending. */
int flow_compression_parse(const char *name, enum bundle_compression *out);
const char *flow_compression_name(enum bundle_compression c);
const char *flow_bundle_extension(enum bundle_compression c);

/* Whether app.root/rel exists (a file, directory or link). */
bool flow_app_path_exists(const struct profile *p, const char *rel);
/* Whether any of the profile's app paths exists. */
bool flow_any_app_path_exists(const struct profile *p);

/* Write text (a summary, a report) atomically, mode 0600. */
int flow_write_text(const char *path, const char *text, struct err *e);
/* Write a JSON value atomically (indented, mode 0600). */
int flow_json_write(const char *path, const json_t *v, struct err *e);
/* Append rec to the JSON array in path (a missing or damaged file starts a
 * new array), atomically. rec stays the caller's. */
int flow_json_log_append(const char *path, json_t *rec, struct err *e);

/* The outcome of each step of a run, one line each ("✔ dump: 3 tables",
 * "⚠ health: no health URLs", "✖ restart: ..."), joined with sep; the
 * preflight is left out. Caller frees. */
char *flow_report_text(const struct flow_report *rep, const char *sep);

/* Run each command with /bin/sh -c in app.root (else the profile's dir),
 * with env ("K=V", NULL-terminated) added; output lines become log
 * events. Stops at the first failure: ERR_FAILED naming the command. */
int flow_run_commands(const struct strv *cmds, const struct profile *p, const char *const *env,
		      const struct event_sink *ev, volatile sig_atomic_t *cancel, struct err *e);

/* Say that a lock of a killed run was taken over (old: its text, or NULL
 * when there was none); frees old. */
void flow_note_takeover(const struct event_sink *ev, char *old);

/* The profile lock (core/lock.h) for a run of flow, then what a killed run
 * left is finished or undone (core/recover.h); a lock taken over from a
 * killed holder is said on ev. flow_unlock_profile releases it. */
int flow_lock_profile(const struct profile *p, const char *flow, const struct event_sink *ev,
		      struct err *e);
void flow_unlock_profile(const struct profile *p);

/* A private work directory parent/<name>-<pid>-XXXXXX (0700): the pid lets
 * a later run tell a killed run's leftover from a running one's. */
char *flow_private_dir(const char *parent, const char *name, struct err *e);
/* Remove the work directories (.ferry-staging-, .ferry-restore-,
 * .ferry-restore-files-) in dir whose run is gone; each said on ev. */
void flow_sweep_leftovers(const char *dir, const struct event_sink *ev);

#endif
