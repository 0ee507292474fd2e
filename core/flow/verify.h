/* verify — re-hash every member of a bundle against its manifest and
 * SHA256SUMS (and --deep: restore it into a scratch database). */
#ifndef FERRY_FLOW_VERIFY_H
#define FERRY_FLOW_VERIFY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "err.h"
#include "event.h"
#include "plan.h"
#include "profile/profile.h"
#include "step.h"
#include "bundle/bundle.h"
#include "manifest.h"

struct verify_opts {
	bool deep;                    /* also restore into a scratch database */
	const struct profile *profile;/* where --deep restores (required for it) */
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
	/* Unpack members in the same pass (bundle_extract_routes; none = only
	 * check). On failure the destinations may hold a partial tree; the
	 * caller removes it. */
	const struct bundle_route *extract;
	size_t nextract;
	/* signing.public_key: the manifest's signature must verify with it
	 * (a bundle without one is refused); NULL = a signature is not
	 * required (one that is there is not checked). */
	const char *public_key;
	/* A consumer of the verified stream (restore's streaming load), called
	 * for every member after the manifest, once the checks of core/trust.h
	 * passed: header before its content (0, or BUNDLE_STREAM_CONTENT to
	 * get it through content); member once its hash matched the manifest
	 * (content: the whole text of the roles file, else NULL). The
	 * signature, when public_key is set, is checked before any of these
	 * is called. */
	int (*stream_header)(void *ud, const struct bundle_entry *ent, struct err *e);
	bundle_content_fn stream_content;
	int (*stream_member)(void *ud, const struct bundle_member *m, const char *content,
			     struct err *e);
	void *stream_ud;
};

struct verify_result {
	struct manifest manifest;
	size_t members_checked;
	uint64_t bytes_checked;
	bool deep_done;
	bool has_signature;           /* the bundle carries manifest.json.sig */
	bool signature_ok;            /* ... and it verified with public_key */
	double duration_s;
};
void verify_result_done(struct verify_result *r);

/* Re-hash every member against the manifest and SHA256SUMS, and check the
 * manifest's signature when o->public_key is set; ERR_VERIFY naming the
 * first member that differs, or the signature that is missing or wrong. Records the outcome beside the
 * bundle (<bundle>.verified) for `ferry list`. Steps: preflight, verify,
 * deep (with o->deep). */
int verify_run(const char *bundle_path, const struct verify_opts *o,
	       struct verify_result *r, struct err *e);
/* The plan of verify_run (checks that the bundle is there). */
int verify_plan(const char *bundle_path, const struct verify_opts *o, struct plan *plan,
		struct err *e);
/* The verifying pass alone, no step events and no .verified record: what a
 * flow's own verify step runs (restore, migrate). Unpacks o->extract. */
int verify_pass(const char *bundle_path, const struct verify_opts *o, struct verify_result *r,
		struct err *e);

#endif
