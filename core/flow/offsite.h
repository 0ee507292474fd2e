/* flow_offsite — the offsite flows as step tables (core/step.h), plan ==
 * run:
 *
 *   push   preflight, encrypt (when the profile has encryption), then one
 *          step "upload-<target>" per target: the bundle's copy to that
 *          target, resumable and verified (s3: multipart from a checkpoint,
 *          x-amz-meta-sha256; sftp: remote .part hashed on the server)
 *   pull   preflight, connect, fetch: the object into backup.dir as .part,
 *          decrypted, verified (hashes, signature), renamed (offsite_pull)
 *   prune  preflight, one step "prune-<target>" per target: the target's
 *          keep applied to its bundles (nothing deleted with dry_run), then
 *          the multipart uploads ferry started there and will not resume
 *          aborted (storage_abort_stale_uploads: older than a day, or whose
 *          checkpoint is gone)
 *
 * The checks (also of the plans): the targets named exist, the bundle to
 * push opens, an encrypted object comes with an identity, age is
 * installed when needed. Errors: ERR_USAGE, ERR_OFFSITE (S3 refused or
 * unreachable: an upload that fails so is aborted), ERR_SSH (SFTP),
 * ERR_VERIFY (a copy that does not match), ERR_INTERRUPTED (the same push
 * resumes).
 *
 * Ownership: options are borrowed; results are the caller's, freed with
 * their _done (also after a failure). */
#ifndef FERRY_FLOW_OFFSITE_H
#define FERRY_FLOW_OFFSITE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "event.h"
#include "flow/list.h"
#include "flow/prune.h"
#include "offsite/offsite.h"
#include "plan.h"
#include "profile/profile.h"
#include "step.h"

struct offsite_flow_opts {
	const struct profile *profile;
	const char *target;            /* --to / --from NAME; NULL = every target (push,
					* prune) or the only one (pull) */
	bool accept_new_host_key;
	int (*confirm_host_key)(void *ud, const char *host, int port, const char *fingerprint,
				const char *type);
	void *hostkey_ud;
	const char *dest_dir;          /* pull: where the bundle goes; NULL = backup.dir */
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
};

/* ---- push ------------------------------------------------------------------ */

struct offsite_copy {
	char *target;              /* its name */
	char *where;               /* "s3://bucket/prefix/x.ferry.tar.zst.age" */
	uint64_t bytes, sent, resumed_from;
	unsigned parts, parts_resumed, parts_sent;
	char sha256[65];           /* of the object */
	double seconds, mb_per_s;
};

struct offsite_push_result {
	char *bundle;
	char *object;              /* the name on the targets */
	bool encrypted;
	struct offsite_copy *copies;
	size_t ncopies;            /* the targets done (in order) */
	struct flow_report report;
};
void offsite_push_result_done(struct offsite_push_result *r);

int offsite_push_plan(const struct offsite_flow_opts *o, const char *bundle, struct plan *plan,
		      struct err *e);
int offsite_push_run(const struct offsite_flow_opts *o, const char *bundle,
		     struct offsite_push_result *r, struct err *e);

/* ---- pull ------------------------------------------------------------------ */

struct offsite_pull_flow_result {
	char *target;
	char *object;
	struct offsite_pull_result pull;
	struct flow_report report;
};
void offsite_pull_flow_result_done(struct offsite_pull_flow_result *r);

/* name: a bundle name or an object name (".age" is tried when the profile
 * encrypts), or NULL: the newest full bundle of the profile on the target
 * (newest first; one whose local copy or fetched manifest says it is not
 * full is passed over); identity decrypts. */
int offsite_pull_plan(const struct offsite_flow_opts *o, const char *name, const char *identity,
		      struct plan *plan, struct err *e);
int offsite_pull_run(const struct offsite_flow_opts *o, const char *name, const char *identity,
		     struct offsite_pull_flow_result *r, struct err *e);

/* ---- prune and list ----------------------------------------------------------- */

struct offsite_prune_target {
	char *target;
	struct prune_report decisions;
	unsigned uploads_aborted;  /* abandoned multipart uploads aborted (s3) */
};
struct offsite_prune_result {
	struct offsite_prune_target *v;
	size_t n;
	struct flow_report report;
};
void offsite_prune_result_done(struct offsite_prune_result *r);

int offsite_prune_run(const struct offsite_flow_opts *o, bool dry_run,
		      struct offsite_prune_result *r, struct err *e);

/* The bundles of every target (or o->target), one list per target in the
 * profile's order; names[i] is the target of lists[i]. A target that cannot
 * be reached fails the whole call. */
struct offsite_listing {
	const struct profile_offsite *t;
	struct bundle_list list;
	char *error;               /* set instead of list when allow_errors */
};
int offsite_list_targets(const struct offsite_flow_opts *o, bool allow_errors,
			 struct offsite_listing **out, size_t *n, struct err *e);
void offsite_listings_free(struct offsite_listing *v, size_t n);

#endif
