/* offsite — bundles copied off the server, to a profile's offsite
 * targets (S3 buckets, SFTP directories), and back: what the offsite
 * flows (core/flow/offsite.h), backup --offsite, restore --from and a
 * drill are made of.
 *
 * On a target a bundle is one object named like the bundle, with ".age"
 * added when the profile has encryption.recipients: the copy is encrypted
 * by the age program before it leaves (x.ferry.tar.zst.age, which
 * `age -d -i KEY x.ferry.tar.zst.age | tar --zstd -t` lists). The
 * encrypted copy is written once into <backup.dir>/.offsite/ and kept
 * until every target has it, so an interrupted upload resumes with the
 * very same bytes (age output differs on every run).
 *
 * A pull fetches the object into backup.dir as "<object>.part", decrypts
 * it (with the identity given) to "<bundle>.part", verifies every member's
 * hash and, with signing.public_key, the manifest's signature, and only
 * then renames it to the bundle's name: nothing unverified ever carries a
 * bundle's name.
 *
 * Ownership: storages from offsite_open are closed with offsite_close;
 * results are freed with their _done. */
#ifndef FERRY_OFFSITE_H
#define FERRY_OFFSITE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "event.h"
#include "flow/list.h"
#include "profile/profile.h"
#include "ssh/ssh.h"
#include "storage/storage.h"

/* An open target: its storage, and the SSH connection of an SFTP one. */
struct offsite_target {
	const struct profile_offsite *t;
	storage *store;
	sshc_conn *conn;             /* sftp only */
};

struct offsite_open_opts {
	bool accept_new_host_key;    /* sftp: record an unknown host key */
	int (*confirm_host_key)(void *ud, const char *host, int port, const char *fingerprint,
				const char *type);
	void *hostkey_ud;
	const struct event_sink *events;
};

/* Where a profile keeps its offsite state: "<backup.dir>/.offsite". Caller frees. */
char *offsite_state_dir(const struct profile *p);

/* Open target t of p: S3 (credentials checked to exist) or SFTP (connects;
 * host key rules of `ssh`). -1 with e filled (ERR_OFFSITE, ERR_SSH). */
int offsite_open(const struct profile *p, const struct profile_offsite *t,
		 const struct offsite_open_opts *o, struct offsite_target *out, struct err *e);
void offsite_close(struct offsite_target *ot);

/* The target's name, or the only target when name is NULL; NULL with e
 * filled (ERR_USAGE naming the targets there are). */
const struct profile_offsite *offsite_pick(const struct profile *p, const char *name, struct err *e);

/* The object name of a bundle on the targets: its base name, + ".age"
 * when p encrypts (and it is not encrypted already). Caller frees. */
char *offsite_object_name(const struct profile *p, const char *bundle_path);
/* The bundle name of an object: without ".age". Caller frees. */
char *offsite_bundle_name(const char *object);

/* The file to upload for bundle_path: the bundle itself, or its encrypted
 * copy in the state dir (made now unless a complete one from an earlier
 * run is newer than the bundle). *upload is the caller's. */
int offsite_prepare(const struct profile *p, const char *bundle_path, char **upload,
		    volatile sig_atomic_t *cancel, struct err *e);
/* Remove the encrypted copy once every target has it (no-op when plain). */
void offsite_prepared_done(const struct profile *p, const char *upload);

/* The bundles on a target, newest first (names parsed as list_bundles
 * does; path = the object's name, size = the object's). */
int offsite_list(struct offsite_target *ot, struct bundle_list *out, struct err *e);

struct offsite_pull_opts {
	const char *identity;        /* decrypts .age objects; NULL = none given */
	const struct event_sink *events;
	const char *step;            /* progress step id of the download; NULL = "download" */
	const char *dir;             /* where the bundle goes; NULL = backup.dir (a drill: its work dir) */
	volatile sig_atomic_t *cancel;
};

struct offsite_pull_result {
	char *path;                  /* the verified bundle in backup.dir */
	uint64_t bytes;              /* of the object */
	char sha256[65];             /* of the object as it arrived */
	bool stored_hash_checked;    /* compared with the hash it was stored with */
	bool decrypted;
	bool signature_ok;
	char *scope;                 /* the manifest's: "full", "partial", ... or "files only" */
	size_t members;
	double seconds;
};
void offsite_pull_result_done(struct offsite_pull_result *r);

/* Fetch object from the target, decrypt, verify (hashes and signature),
 * and put it into p's backup.dir under its bundle name (see above). The
 * verification refuses with ERR_VERIFY (nothing left behind); an encrypted
 * object without an identity is ERR_USAGE before anything is fetched. */
int offsite_pull(const struct profile *p, struct offsite_target *ot, const char *object,
		 const struct offsite_pull_opts *o, struct offsite_pull_result *r, struct err *e);

/* Decrypt a local age-encrypted bundle (encryption.local) with o->identity
 * into <dir>/<bundle>.part, verify it and rename it to <dir>/<bundle> — a
 * pull without the download; the input is left as it was. */
int offsite_open_local(const struct profile *p, const char *file, const char *dir,
		       const struct offsite_pull_opts *o, struct offsite_pull_result *r, struct err *e);

#endif
