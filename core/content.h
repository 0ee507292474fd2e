/* content — the drill's content check: what a restored database holds,
 * byte for byte, against what the dump holds.
 *
 * For every TABLE DATA entry of a directory-format dump, the restored
 * table is read with `COPY … TO STDOUT` under the session settings pg_dump
 * dumped it with (DateStyle ISO, IntervalStyle postgres, extra_float_digits
 * 3, synchronize_seqscans off, search_path '', the dump's client_encoding,
 * standard_conforming_strings on, row_security off, and the manifest's
 * dump.session: TimeZone, bytea_output, lc_monetary), with the column list
 * of the dump's own COPY statement, and compared in step with the entry's
 * data file (NNNN.dat, or .dat.gz/.lz4/.zst, up to its "\." end marker):
 * both sides are hashed with SHA-256, and the first line that differs is
 * named. Large objects: the restored ones are the dump's (blobs*.toc), each
 * with the same SHA-256.
 *
 * The column lists come from pg_restore itself: the dump's TOC is listed
 * as a script (`pg_restore --data-only`) against empty data files, which
 * prints each entry's COPY statement and nothing of the data. A statement
 * is used only when it is exactly `COPY <name> (<columns>) FROM stdin;`.
 *
 * Everything runs in one READ ONLY transaction on the restored database;
 * nothing there is changed. Results are the caller's, freed with
 * content_result_done. */
#ifndef FERRY_CONTENT_H
#define FERRY_CONTENT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "err.h"
#include "event.h"
#include "hash.h"
#include "manifest.h"
#include "toc.h"

struct content_table {
	char *schema, *table;        /* as the manifest names it (else the TOC) */
	int dump_id;                 /* its TOC entry: the data file NNNN.dat */
	int64_t lines;               /* rows read from the restored table */
	uint64_t bytes;              /* of COPY text, restored side */
	char dump_sha256[HASH_HEX_SIZE], db_sha256[HASH_HEX_SIZE];
	bool match;
	int64_t first_diff_line;     /* 1-based; 0 when they match */
	const char *diff;            /* why that line differs (static text), or NULL */
};

struct content_lo {
	unsigned oid;
	uint64_t bytes;
	char sha256[HASH_HEX_SIZE];  /* of the dump's copy */
	bool match;
};

struct content_result {
	struct content_table *tables;
	size_t ntables;
	struct content_lo *los;
	size_t nlos;
	size_t db_los;               /* large objects in the restored database */
	uint64_t bytes;              /* COPY text and large objects compared */
	char *encoding;              /* the dump's client_encoding */
	double seconds;
};
void content_result_done(struct content_result *r);

struct content_opts {
	const char *pg_restore;      /* the pg_restore that lists the TOC */
	const char *dump_dir;        /* the unpacked directory-format dump */
	const struct toc *toc;       /* its table of contents */
	const struct manifest *m;
	const char *tmpdir;          /* an existing private directory for the listing */
	const struct event_sink *ev;
	const char *step;            /* the step id of progress events */
	volatile sig_atomic_t *cancel;
};

/* The check on db (the restored database). 0 when every table and large
 * object matches; -1 with e filled otherwise: ERR_VERIFY naming the first
 * table that differs and its first differing line (r lists them all), or
 * the error that stopped the check. r is filled either way. */
int content_check(db_conn *db, const struct content_opts *o, struct content_result *r,
		  struct err *e);

/* --- pieces, for the check and its tests --------------------------------- */

/* The table and columns of a dump's COPY statement: "COPY public.t (a, b)
 * FROM stdin;" → "public.t (a, b)" (caller frees). NULL when the statement
 * is anything else (another clause, a second statement, an unbalanced
 * quote). */
char *content_copy_target(const char *stmt);

/* The COPY statements of the TABLE DATA entries in a `pg_restore
 * --data-only` script, in order, into out; its client_encoding (caller
 * frees) into *encoding when the script sets one. */
void content_parse_script(const char *script, struct strv *out, char **encoding);

/* The session settings as (name, value) pairs, NULL-terminated pairs in
 * out[] (at most CONTENT_MAX_SETTINGS pairs): pg_dump's fixed ones, the
 * encoding, then the manifest's dump.session. The strings are borrowed
 * from m and encoding. */
#define CONTENT_MAX_SETTINGS 16
size_t content_session(const struct manifest *m, const char *encoding,
		       const char *out[][2]);

/* content_lo.c: the large objects of the dump against db's. */
int content_check_large_objects(db_conn *db, const struct content_opts *o,
				struct content_result *r, struct err *e);

#endif
