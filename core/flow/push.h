/* flow_push — `ferry push BUNDLE --target NAME` as a flow over the step
 * runner (core/step.h): copy a local bundle into the target profile's
 * backup.dir on its SSH host, through the sftp storage driver — resumable
 * (an interrupted push continues after the bytes of the remote .part that
 * hash the same on both sides), the whole remote file hashed on the server
 * and compared with the local SHA-256 before it is renamed into place.
 *
 * Steps (plan and run alike): preflight, connect, upload. Events: step
 * start / done / fail for each, progress of "upload" in bytes of the
 * file, log lines of the connection and the upload (host key recorded,
 * "resuming after N bytes", ...).
 *
 * The checks made before anything connects (also by push_plan):
 * backup.dir of the target is absolute (ERR_PROFILE), the target has an
 * ssh section (ERR_PROFILE), the bundle opens and is a regular file
 * (ERR_FAILED "cannot open PATH: reason").
 *
 * Errors of the run: ERR_SSH (connect, host key, login, remote side),
 * ERR_VERIFY (the remote copy did not match; the .part was removed),
 * ERR_INTERRUPTED (run the same push again to resume); after bytes were
 * sent, a connection failure or an interrupt carries the hint that the
 * same push resumes.
 *
 * Ownership: the options are borrowed for the call; a struct push_result
 * is the caller's, freed with push_result_done (also after a failure). */
#ifndef FERRY_FLOW_PUSH_H
#define FERRY_FLOW_PUSH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "event.h"
#include "plan.h"
#include "profile/profile.h"
#include "step.h"

struct push_opts {
	const struct profile *target;      /* where to: its ssh section and backup.dir */
	const char *bundle;                /* the local file to copy */
	bool accept_new_host_key;          /* record an unknown host key and go on */
	/* Asked when the host key is unknown and accept_new_host_key is
	 * false; non-zero = accept (it is recorded). NULL = refuse. */
	int (*confirm_host_key)(void *ud, const char *host, int port, const char *fingerprint,
				const char *type);
	void *hostkey_ud;
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
};

struct push_result {
	char *file;                /* the bundle, absolute when it resolves */
	char *host;                /* "user@host:port" of the connection (NULL before it) */
	char *remote;              /* the copy's path on the server */
	char *storage;             /* "sftp://user@host:port/dir" */
	uint64_t bytes;            /* size of the bundle */
	uint64_t resumed_from;     /* bytes of an earlier .part kept */
	uint64_t sent;             /* bytes sent this time (also when it failed) */
	char sha256[65];           /* checked on both sides; "" unless it verified */
	double seconds;            /* wall time of the upload */
	double mb_per_s;           /* sent / seconds / 10^6 */
	struct flow_report report; /* per step: state, note, time */
};
void push_result_done(struct push_result *r);

/* The plan: preflight, connect (user@host:port), upload (file → remote).
 * Makes the checks above; connects to nothing. plan_done frees it. */
int push_plan(const struct push_opts *o, struct plan *plan, struct err *e);

/* Run it: the checks, connect, upload. r (may be NULL) is filled either
 * way. Returns 0 or -1 with e filled. */
int push_run(const struct push_opts *o, struct push_result *r, struct err *e);

#endif
