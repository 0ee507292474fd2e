/* storage — a place where bundles live, behind one interface: a local
 * directory, a directory on an SSH server (SFTP), an S3 bucket.
 * Flows list, stat, put, get and remove entries without knowing which.
 *
 * An entry is a file directly in the storage's directory (or under its
 * prefix), named by its base name: no '/', not "." or "..". Entries whose
 * name ends in ".part" are transfers in progress: never listed, never
 * valid names for put/get/stat/remove.
 *
 * put and get are atomic: the bytes go to "<name>.part" first, are checked
 * (SHA-256 on both ends where the driver can: the sftp driver hashes the
 * remote file on the server), and only then renamed to the final name. A
 * failed or cancelled put leaves nothing under the final name (an earlier
 * entry of that name stays as it was); where the driver can resume
 * (local, sftp) the next put of the same file continues after the bytes
 * of the .part that hash the same on both sides.
 *
 * Errors: -1 with e filled, messages naming the entry and the storage's
 * description; the kind is the driver's (ERR_SSH for a remote failure,
 * ERR_FAILED / ERR_SPACE for a local one, ERR_VERIFY when a hash does not
 * match, ERR_INTERRUPTED when the cancel flag stopped a transfer).
 *
 * Ownership: storage_open_* return a heap object freed with
 * storage_close (NULL-safe). A storage borrows what it is opened on (the
 * sshc connection must outlive it). Lists and results are the caller's,
 * freed with their _done. A storage is used from one thread at a time. */
#ifndef FERRY_STORAGE_H
#define FERRY_STORAGE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "event.h"
#include "profile/profile.h"
#include "ssh/ssh.h"

typedef struct storage storage;

/* A local directory ("/var/backups/shop"). It need not exist yet: put
 * creates it (0700); list of a missing directory is empty. */
storage *storage_open_local(const char *dir, struct err *e);

/* A directory on the server behind c, over SFTP (list, stat, remove, get)
 * and sshc_upload (put). dir: absolute, or relative to the remote user's
 * home. c is borrowed and must outlive the storage. */
storage *storage_open_sftp(sshc_conn *c, const char *dir, struct err *e);

/* A bucket (under a prefix) of an S3-compatible service, the offsite
 * target t (copied). Credentials come from the environment or the aws
 * credentials file (ERR_OFFSITE when there are none). state_dir holds the
 * checkpoints of multipart uploads in progress ("<state_dir>/<name>.s3upload"),
 * so an interrupted or killed put resumes after the parts that finished. */
storage *storage_open_s3(const struct profile_offsite *t, const char *state_dir, struct err *e);

/* Close and free; NULL-safe. */
void storage_close(storage *s);

/* For messages: "/var/backups/shop", "sftp://user@host:port/srv/backups".
 * Belongs to s. */
const char *storage_describe(const storage *s);

/* The driver's name: "local", "sftp", "s3". */
const char *storage_driver_name(const storage *s);

/* Where the entry name lives, for messages and for the front end's result
 * ("/srv/backups/x.ferry.tar.zst" on the server for sftp); caller frees. */
char *storage_entry_path(const storage *s, const char *name);

struct storage_entry {
	char *name;                /* base name */
	uint64_t size;             /* bytes */
	int64_t mtime;             /* seconds since the epoch; 0 = unknown */
};

struct storage_list {
	struct storage_entry *v;   /* sorted by name */
	size_t n;
};
void storage_list_done(struct storage_list *l);

/* The entries of the storage, sorted by name: regular files only, no
 * ".part" and no hidden (".name") files; only those whose name ends with
 * suffix when suffix is not NULL (".ferry.tar.zst"). A missing directory
 * gives an empty list. Returns 0 or -1. */
int storage_list(storage *s, const char *suffix, struct storage_list *out, struct err *e);

/* One entry: 0 with *out filled (out->name is the caller's: free it, or
 * pass out to storage_entry_done), 1 when there is no such entry, -1. */
int storage_stat(storage *s, const char *name, struct storage_entry *out, struct err *e);
void storage_entry_done(struct storage_entry *en);

struct storage_put_opts {
	const char *name;                  /* the entry's name; NULL = local file's base name */
	const struct event_sink *events;   /* progress (bytes of the file), logs */
	const char *step;                  /* step id for progress; NULL = "put" */
	volatile sig_atomic_t *cancel;
};

struct storage_put_result {
	uint64_t bytes;            /* size of the file */
	uint64_t resumed_from;     /* bytes of an earlier .part kept (0 = none) */
	uint64_t sent;             /* bytes transferred this time */
	char sha256[65];           /* hex of the file, checked at the destination */
	double seconds;            /* wall time of the whole put */
	unsigned parts;            /* s3 multipart: parts of the file (0 = one request) */
	unsigned parts_resumed;    /* ... finished by an earlier run, not sent again */
	unsigned parts_sent;       /* ... sent by this run */
};

/* Copy the local file local_path into the storage, atomically (see above).
 * An existing entry of the same name is replaced once the new copy is
 * verified. r (may be NULL) is filled also on failure (bytes sent so far),
 * so a caller can tell an interrupted transfer that will resume. */
int storage_put(storage *s, const char *local_path, const struct storage_put_opts *o,
		struct storage_put_result *r, struct err *e);

struct storage_get_opts {
	const char *sha256;                /* expected hex; NULL = not checked */
	const struct event_sink *events;   /* progress (bytes of the entry) */
	const char *step;                  /* step id for progress; NULL = "get" */
	volatile sig_atomic_t *cancel;
};

struct storage_get_result {
	uint64_t bytes;
	char sha256[65];           /* hex of what arrived */
	char stored_sha256[65];    /* the hash the entry was stored with and that
				    * was checked (s3 metadata); "" = none */
	double seconds;
};

/* Copy the entry name to local_path, atomically: into "<local_path>.part"
 * (0600, created with its directory), synced, its SHA-256 compared with
 * o->sha256 when given (a mismatch removes the .part: ERR_VERIFY), then
 * renamed over local_path. Returns 0, 1 when there is no such entry, -1.
 * Nothing is left under local_path or its .part after a failure. */
int storage_get(storage *s, const char *name, const char *local_path,
		const struct storage_get_opts *o, struct storage_get_result *r, struct err *e);

/* Remove the entry name: 0, 1 when there was none, -1. */
int storage_remove(storage *s, const char *name, struct err *e);

struct storage_uploads_result {
	unsigned found;            /* ferry's multipart uploads in progress under the prefix */
	unsigned aborted;          /* ... aborted now */
	bool unsupported;          /* the server does not list uploads (nothing done) */
};

/* Abort the multipart uploads ferry started there and will not resume
 * (s3 only; 0 and nothing found for the other drivers): those whose
 * checkpoint on this machine is gone or names another upload, and those
 * initiated more than older_than_s ago (their checkpoint goes too). r is
 * filled. Returns 0 or -1 (the listing or an abort refused). */
int storage_abort_stale_uploads(storage *s, int64_t older_than_s, struct storage_uploads_result *r,
				struct err *e);

/* Whether name is acceptable as an entry name (see above). */
bool storage_name_ok(const char *name);

#endif
