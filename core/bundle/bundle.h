/* bundle — the one-file backup: a pax tar, compressed with zstd (or gzip,
 * or not at all), that GNU tar opens (`tar --zstd -xf`). core/bundle/ is
 * the only folder that includes libarchive (its private header is
 * bundle_int.h).
 *
 * Layout (kept by the caller, checked by bundle_scan / bundle_extract):
 *   manifest.json   first
 *   db/...          the dump
 *   files/...       the app files
 *   SHA256SUMS      last, in `sha256sum -c` format, one line per regular
 *                   member before it (bundle_writer_add_sha256sums)
 *
 * Writing: the caller hashes the files in a pre-pass (the manifest lists
 * every member's size and SHA-256, and it comes first), then adds members;
 * the writer hashes again while streaming and fails when a file no longer
 * matches. Output goes to "<final>.part", renamed on commit, so a failed or
 * interrupted run never leaves a file that looks like a bundle.
 *
 * Member names are relative paths with '/' separators: no leading '/', no
 * "." or ".." component, no empty component, no trailing '/'.
 *
 * Errors: -1 with e filled. ERR_SPACE when the disk is full, ERR_VERIFY when
 * a bundle is damaged, not a bundle, or holds an unsafe member, ERR_FAILED
 * otherwise. Messages name the bundle, the member and the source file. */
#ifndef FERRY_BUNDLE_H
#define FERRY_BUNDLE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "hash.h"
#include "util.h"

#define BUNDLE_MANIFEST "manifest.json"
#define BUNDLE_SHA256SUMS "SHA256SUMS"
#define BUNDLE_MANIFEST_SIG "manifest.json.sig"   /* its signature (crypto/sign.h) */
/* manifest.json / SHA256SUMS up to this size reach the scan callback whole. */
#define BUNDLE_SMALL_MAX (64u * 1024 * 1024)
#define BUNDLE_BUFSIZE (1024 * 1024)          /* the one streaming buffer */

enum bundle_compression {
	BUNDLE_ZSTD = 0,   /* the default */
	BUNDLE_GZIP,
	BUNDLE_NONE,
};

enum bundle_type {
	BUNDLE_REG = 0,
	BUNDLE_DIR,
	BUNDLE_SYMLINK,
	BUNDLE_OTHER,      /* anything else a foreign tar may hold */
};

/* One member as written or read. Strings are owned by whoever returned the
 * struct (writer, scan, extract) and stay valid as that function documents. */
struct bundle_member {
	char *name;
	enum bundle_type type;
	uint64_t size;               /* content bytes; 0 unless BUNDLE_REG */
	char sha256[HASH_HEX_SIZE];  /* lowercase hex; "" unless BUNDLE_REG */
	unsigned mode;               /* permission bits (07777) */
	int64_t mtime;               /* seconds since the epoch */
	char *link;                  /* symlink target, else NULL */
};

/* true when name is a relative path of normal components (no leading '/',
 * no "." or ".." component, no empty component): the only names a bundle
 * holds. */
bool bundle_name_ok(const char *name);

/* ---- writer ----------------------------------------------------------- */

struct bundle_write_opts {
	enum bundle_compression compression;
	int level;      /* 0 = default (zstd 1, gzip 6); zstd 1..19 (20..22 use
	                   much memory; negative = zstd fast levels -7..-1);
	                   gzip 1..9; ignored for BUNDLE_NONE */
	int threads;    /* zstd worker threads; 0 = one per online CPU, 1 = none
	                   (compress in the calling thread). When the
	                   linked libarchive lacks the option, zstd runs
	                   single-threaded (no error). Ignored for gzip/none. */
	/* Content bytes added so far (not compressed bytes); called at most
	   about 10 times a second, and once more with the total at commit. */
	void (*progress)(void *ud, uint64_t bytes_in_done);
	void *progress_ud;
	/* When set (*cancel != 0), adding a file stops between two reads with
	   ERR_INTERRUPTED: a very large member does not delay Ctrl-C. */
	volatile sig_atomic_t *cancel;
};

typedef struct bundle_writer bundle_writer;

/* Create "<final_path>.part" (mode 0600; a stale .part from an earlier run
 * is replaced) and start the archive. opts NULL = zstd, level 1, all CPUs.
 * A bad level is ERR_USAGE. Returns NULL with e filled on failure. */
bundle_writer *bundle_writer_open(const char *final_path, const struct bundle_write_opts *opts,
				  struct err *e);

/* Add a regular member from memory (mode 0644, mtime now). */
int bundle_writer_add_buffer(bundle_writer *bw, const char *name, const void *data, size_t len,
			     struct err *e);

/* Add a regular file, streamed through one BUNDLE_BUFSIZE buffer (memory
 * stays flat whatever its size); mode, mtime, uid and gid come from the
 * source. src_path must be a regular file (a symlink is refused: use
 * bundle_writer_add_symlink). A file that shrinks while it is read fails.
 * When expected_sha256 is not NULL, the content must also hash to it and
 * not have grown: "<src_path> changed while being backed up (...)".
 * Without it, the bytes up to the size found at open are stored. */
int bundle_writer_add_file(bundle_writer *bw, const char *name, const char *src_path,
			   const char *expected_sha256, struct err *e);

/* A directory member (no content); a symlink member (mode 0777, mtime now). */
int bundle_writer_add_dir_entry(bundle_writer *bw, const char *name, unsigned mode, int64_t mtime,
				struct err *e);
int bundle_writer_add_symlink(bundle_writer *bw, const char *name, const char *target,
			      struct err *e);

/* Add SHA256SUMS built from the members added so far; call it last. */
int bundle_writer_add_sha256sums(bundle_writer *bw, struct err *e);

/* Members added so far, in order. Pointers stay valid until commit/abort. */
size_t bundle_writer_count(const bundle_writer *bw);
const struct bundle_member *bundle_writer_member(const bundle_writer *bw, size_t i);

/* Finish the archive, fsync it, rename .part to final_path (replacing an
 * existing file), fsync the directory. Always frees bw; on failure before
 * the rename the .part is removed (after it, the bundle stays in place).
 *
 * An add_* error found before anything was written (bad name, missing or
 * non-regular source) leaves the writer usable; any later one (write
 * error, full disk, a changed file) makes it refuse further adds and the
 * commit: call bundle_writer_abort. */
int bundle_writer_commit(bundle_writer *bw, struct err *e);

/* Stop, remove the .part, free. NULL-safe. */
void bundle_writer_abort(bundle_writer *bw);

/* SHA256SUMS text for the regular members among members[0..n): lines
 * "<hex>  <name>\n", names escaped the way `sha256sum -c` reads them.
 * Caller frees. */
char *bundle_sha256sums_text(const struct bundle_member *members, size_t n);

/* ---- tree walk -------------------------------------------------------- */

struct bundle_walk_entry {
	const char *path;        /* relative to root, e.g. "uploads/a.png" */
	const char *full_path;   /* root + "/" + path */
	enum bundle_type type;   /* BUNDLE_REG, BUNDLE_DIR or BUNDLE_SYMLINK */
	uint64_t size;           /* regular files */
	unsigned mode;           /* permission bits */
	int64_t mtime;
	const char *link;        /* symlink target, else NULL */
};

/* Strings valid during the call only. Return 0 to go on, -1 (e filled) to
 * stop the walk, which then returns -1. */
typedef int (*bundle_walk_fn)(void *ud, const struct bundle_walk_entry *ent, struct err *e);

/* Walk root/rel_path (rel_path NULL or "" = root itself, not reported):
 * rel_path first, then everything below it, depth first, each directory's
 * entries sorted by byte value (deterministic). Symlinks are reported, not
 * followed; sockets, devices and fifos are skipped, as are entries that
 * vanish during the walk. exclude_globs (may be NULL) are fnmatch patterns
 * without FNM_PATHNAME matched against the path relative to root, so
 * '*' also matches '/' ("logs*.tmp" matches "logs/a/b.tmp"); a pattern
 * without '/' also matches the entry's own name anywhere ("node_modules",
 * "*.tmp"). An excluded directory is skipped with everything below it.
 * A missing rel_path: "app path <root>/<rel> does not exist" (ERR_FAILED). */
int bundle_walk(const char *root, const char *rel_path, const struct strv *exclude_globs,
		bundle_walk_fn fn, void *ud, struct err *e);

/* ---- reader ----------------------------------------------------------- */

struct bundle_entry {
	const char *name;       /* leading "./" and trailing '/' removed; valid
	                           until the next call */
	enum bundle_type type;
	uint64_t size;
	unsigned mode;
	int64_t mtime;
	const char *link;       /* symlink (or hard link) target, else NULL */
	bool hardlink;          /* a hard link member (ferry never writes one) */
};

typedef struct bundle_reader bundle_reader;

/* Open a bundle; zstd, gzip or no compression is detected from the data.
 * "cannot open bundle <path>: <reason>" (ERR_FAILED) when it cannot be
 * read, "<path> is not a ferry bundle (<reason>)" (ERR_VERIFY) when it is
 * not a tar. */
bundle_reader *bundle_reader_open(const char *path, struct err *e);

/* Next member: 1 and ent filled, 0 at the end, -1 on error (a damaged or
 * truncated bundle is ERR_VERIFY naming the bundle and the member). */
int bundle_reader_next(bundle_reader *br, struct bundle_entry *ent, struct err *e);

/* Once *cancel is set, bundle_reader_read fails with ERR_INTERRUPTED. */
void bundle_reader_set_cancel(bundle_reader *br, volatile sig_atomic_t *cancel);

/* Read content of the current member: bytes read, 0 at its end, -1 on error. */
ssize_t bundle_reader_read(bundle_reader *br, void *buf, size_t n, struct err *e);

void bundle_reader_free(bundle_reader *br);

/* The first member's whole content when it is named name and not larger
 * than max bytes (the manifest, read without the rest of the bundle);
 * caller frees *text. ERR_VERIFY when the first member is another one. */
int bundle_read_first(const char *path, const char *name, size_t max, char **text, struct err *e);

/* ---- one file as a stream ---------------------------------------------- */

/* A file on disk read as bytes, decompressed on the fly when its name ends
 * in .gz, .lz4 or .zst (a dump's data file "NNNN.dat.gz"); other files are
 * read as they are. NULL with e filled (ERR_FAILED naming the file). */
typedef struct bundle_stream bundle_stream;
bundle_stream *bundle_stream_open(const char *path, struct err *e);
/* Bytes read into buf, 0 at the end, -1 with e filled. */
ssize_t bundle_stream_read(bundle_stream *s, void *buf, size_t n, struct err *e);
void bundle_stream_free(bundle_stream *s);

/* ---- scan and extract ------------------------------------------------- */

/* Called once per member, in bundle order, after its content was hashed.
 * small_content is the whole NUL-terminated content of manifest.json and
 * SHA256SUMS when at most BUNDLE_SMALL_MAX bytes, else NULL. m and
 * small_content are valid during the call only. Return 0 to go on, -1 (e
 * filled, e.g. ERR_INTERRUPTED) to stop. */
typedef int (*bundle_member_fn)(void *ud, const struct bundle_member *m, const char *small_content,
				struct err *e);

/* One streaming pass over the bundle hashing every member (fn may be NULL).
 * The bundle must end with SHA256SUMS; every regular member must match its
 * line there and every line must name a member (ERR_VERIFY naming the
 * member otherwise, after fn has seen every member). Checking the manifest
 * is the caller's part. cancel (may be NULL): once *cancel is set, the
 * pass stops within one buffer with ERR_INTERRUPTED, even mid-member. */
int bundle_scan(const char *path, bundle_member_fn fn, void *ud, volatile sig_atomic_t *cancel,
		struct err *e);

/* Extract the members under prefix ("db/", "files/"; NULL = all) into the
 * existing directory dest_dir, without the prefix when strip_prefix. Every
 * member, extracted or not, is hashed and checked as bundle_scan does.
 * Refused anywhere in the bundle, extracted or only scanned (ERR_VERIFY,
 * naming the member): absolute paths, ".." components, hard links, devices,
 * fifos; and writing through a symlink. setuid, setgid and sticky bits are
 * never written; ownership is the extracting user's (a route's keep_owner keeps the bundle's). Extracted files are hashed while written and checked against
 * their SHA256SUMS lines at the end: on any error dest_dir may hold a
 * partial tree, which the caller removes. fn (may be NULL) is called for
 * every member, as by bundle_scan, with its name in the bundle. */
int bundle_extract(const char *path, const char *dest_dir, const char *prefix, bool strip_prefix,
		   bundle_member_fn fn, void *ud, volatile sig_atomic_t *cancel, struct err *e);

/* Several destinations in the one pass: each member goes to the first
 * route whose prefix matches (NULL = any), or is only hashed. At most
 * BUNDLE_MAX_ROUTES; every dest_dir must exist. Otherwise as above. */
#define BUNDLE_MAX_ROUTES 4
struct bundle_route {
	const char *prefix;
	const char *dest_dir;
	bool strip_prefix;
	bool keep_owner;   /* the members keep the bundle's numeric uid/gid (else the extracting user's) */
};
int bundle_extract_routes(const char *path, const struct bundle_route *routes, size_t nroutes,
			  bundle_member_fn fn, void *ud, volatile sig_atomic_t *cancel, struct err *e);

/* Called with each member's header before a byte of its content is read or
 * written (after the checks above): -1 (e filled) refuses the bundle, 0
 * goes on, BUNDLE_KEEP_CONTENT goes on and hands the member callback its
 * whole content (up to BUNDLE_SMALL_MAX; NULL beyond). ent is valid during
 * the call only. */
#define BUNDLE_KEEP_CONTENT 1
/* BUNDLE_STREAM_CONTENT goes on and hands the content callback every
 * chunk of the member's content as it is read and hashed (in bundle
 * order, possibly from a second thread for a large member: the callback
 * must not touch what the other callbacks use meanwhile); the member
 * callback follows as usual, with the hash. */
#define BUNDLE_STREAM_CONTENT 2
typedef int (*bundle_header_fn)(void *ud, const struct bundle_entry *ent, struct err *e);
/* A chunk of a streamed member's content: 0 to go on, -1 (e filled) stops. */
typedef int (*bundle_content_fn)(void *ud, const void *data, size_t n, struct err *e);

/* The pass with every hook: scan (no routes) or extract (routes). */
struct bundle_pass_opts {
	bundle_header_fn header;      /* may be NULL */
	bundle_member_fn member;      /* may be NULL */
	bundle_content_fn content;    /* for BUNDLE_STREAM_CONTENT members */
	void *ud;                     /* for all three */
	volatile sig_atomic_t *cancel;
	const struct bundle_route *routes;
	size_t nroutes;               /* 0 = hash only */
};
int bundle_pass(const char *path, const struct bundle_pass_opts *o, struct err *e);

#endif
