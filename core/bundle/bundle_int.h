/* bundle_int — what the files of core/bundle/ share; nothing outside the
 * folder includes it.
 *
 *   name.c     member-name checks and cleaning
 *   write.c    the writer (.part, streaming hash, commit/abort)
 *   compress.c the writer's compression filter and level
 *   sums.c     SHA256SUMS: text, parsing, the member check
 *   walk.c     the tree walk
 *   read.c     the reader
 *   scan.c     the verifying pass (bundle_scan), shared by extraction
 *   ring.c     a large member's content on two threads
 *   extract.c  the routed extraction (the disk writer)
 *   stream.c   one (maybe compressed) file as a stream of bytes
 *
 * Strings returned are the caller's to free unless a comment says so. */
#ifndef FERRY_BUNDLE_INT_H
#define FERRY_BUNDLE_INT_H

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>

#include "bundle/bundle.h"

#define BUNDLE_BLOCK_BYTES (64 * 1024)       /* libarchive's block, read and write */
#define BUNDLE_CORRUPT_HINT "the bundle file is truncated or corrupt: use another copy of it"
#define BUNDLE_UNSAFE_HINT \
	"this bundle was not made by ferry or was tampered with: do not restore it"

/* true when errnum means the disk is full. */
static inline bool bundle_is_space_errno(int errnum)
{
	return errnum == ENOSPC || errnum == EDQUOT;
}

/* ---- name.c ------------------------------------------------------------- */

/* true when some component of name is "..". */
bool bundle_name_has_dotdot(const char *name);

/* rel without leading "./" and trailing slashes. */
char *bundle_clean_rel(const char *rel);

/* ---- compress.c --------------------------------------------------------- */

/* The level opts asks for, with 0 made the default; ERR_USAGE when out of
 * range for its compression. */
int bundle_resolve_level(const struct bundle_write_opts *o, int *level, struct err *e);

/* Add the compression filter of o at level to the archive writer a. */
int bundle_add_filter(struct archive *a, const struct bundle_write_opts *o, int level,
		      struct err *e);

/* ---- sums.c ------------------------------------------------------------- */

/* A name and its digest, from SHA256SUMS or from hashing a member. */
struct bundle_sum {
	char *name;
	char hex[HASH_HEX_SIZE];
};

struct bundle_sums {
	struct bundle_sum *v;
	size_t n, cap;
};

/* Append (name, hex); the list takes name_owned. */
void bundle_sums_push(struct bundle_sums *s, char *name_owned, const char *hex);

/* Free the names and the array; s is empty after. */
void bundle_sums_done(struct bundle_sums *s);

/* Check the members hashed in one pass (seen; sorted here) against the
 * SHA256SUMS content sums_text (NULL: the bundle had none): every member
 * matches its line and every line names a member. ERR_VERIFY naming the
 * bundle and the first offending member otherwise. */
int bundle_sums_check(const char *bundle, const char *sums_text, struct bundle_sums *seen,
		      struct err *e);

/* ---- read.c ------------------------------------------------------------- */

/* libarchive's entry for the member bundle_reader_next returned last; owned
 * by the reader, valid until the next call. */
struct archive_entry *bundle_reader_entry(bundle_reader *br);

/* ---- scan.c, ring.c, extract.c: one pass over a bundle ------------------ */

/* A destination of the extraction. */
struct bundle_pass_route {
	char *dest;      /* realpath of the route's dest_dir */
	char *prefix;    /* without trailing '/', or NULL = every member */
	bool strip;
	bool keep_owner;
};

/* One pass over a bundle: hash members, optionally extract, check SHA256SUMS. */
struct bundle_pass {
	const char *path;
	bundle_reader *br;
	bundle_member_fn fn;
	bundle_header_fn header;
	bundle_content_fn content;
	bool streaming;          /* the current member's content goes to content */
	void *ud;
	volatile sig_atomic_t *cancel;
	unsigned char *buf;      /* BUNDLE_BUFSIZE */
	struct bundle_sums seen; /* regular members hashed, for the SHA256SUMS check */
	char *sums_text;         /* the SHA256SUMS content, once read */
	/* extract only (extract.c) */
	struct archive *disk;
	struct bundle_pass_route routes[BUNDLE_MAX_ROUTES];
	size_t nroutes;
	const char *dest;        /* the current member's route's dest, for messages */
	bool keep_owner;         /* the current member's route keeps the bundle's uid/gid */
};

/* scan.c: read the whole bundle, member by member, then check SHA256SUMS.
 * pass_done frees what the pass allocated (not the disk side). */
int bundle_pass_run(struct bundle_pass *p, struct err *e);
void bundle_pass_done(struct bundle_pass *p);

/* ring.c: members this large have their content hashed (and written) in a
 * second thread while the calling one decompresses. */
#define BUNDLE_RING_MIN_SIZE (8u << 20)

/* The current member's content through the ring: hashed into h, written to
 * disk when to_disk; m->size is set to the bytes read. */
int bundle_ring_content(struct bundle_pass *p, struct bundle_member *m, struct hash_ctx *h,
			bool to_disk, struct err *e);

/* extract.c: the disk side of a pass; every function needs p->disk. */

/* Refuse what no ferry bundle holds: absolute paths, "..", odd types. */
int bundle_disk_check_safe(struct bundle_pass *p, const struct bundle_entry *ent,
			   struct err *e);

/* Where the member goes (the first route whose prefix matches), else NULL;
 * sets p->dest to that route's dest. */
char *bundle_disk_target(struct bundle_pass *p, const char *name);

/* Start writing the current member (name in the bundle) at target. */
int bundle_disk_header(struct bundle_pass *p, const char *name, const char *target,
		       struct err *e);

/* Write content of the current member; finish it; finish the extraction
 * (directory times). */
int bundle_disk_write(struct bundle_pass *p, const char *member, const void *data, size_t n,
		      struct err *e);
int bundle_disk_finish_entry(struct bundle_pass *p, const char *member, struct err *e);
int bundle_disk_close(struct bundle_pass *p, struct err *e);

#endif
