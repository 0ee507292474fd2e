/* toc — a dump's table of contents, as `pg_restore --list` prints it.
 *
 * Read from a bundle without unpacking it: the directory format's toc.dat
 * member alone (ferry writes it right after the manifest), or the head of
 * a custom-format dump, is enough for pg_restore to list every entry.
 *
 * Each entry has its dump id, the catalog id pg_dump gave it (for TABLE
 * DATA the table's own oid, which the catalog of the dumped snapshot
 * turns into its schema and name), its kind ("TABLE", "TABLE DATA",
 * "EXTENSION", ...) and the rest of the line (namespace, tag, owner) as
 * printed. A struct toc owns its strings; toc_done frees them. */
#ifndef FERRY_TOC_H
#define FERRY_TOC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "manifest.h"
#include "util.h"

struct toc_entry {
	int dump_id;
	unsigned tableoid, oid;   /* catalog id */
	char *desc;               /* "TABLE DATA", "EXTENSION", ... */
	char *rest;               /* "public tenk1 postgres" */
};

struct toc {
	struct toc_entry *v;
	size_t n;
};
void toc_done(struct toc *t);

/* Parse `pg_restore --list` output (comment lines start with ';'). */
void toc_parse(const char *list, struct toc *out);

/* The extension names the dump creates (EXTENSION entries). */
void toc_extensions(const struct toc *t, struct strv *out);

/* The roles that own the dump's objects (each once, in TOC order). */
void toc_owners(const struct toc *t, struct strv *out);

/* The oids of the relations whose rows the dump holds (TABLE DATA and
 * MATERIALIZED VIEW DATA entries); caller frees *oids. */
void toc_data_oids(const struct toc *t, unsigned **oids, size_t *n);
/* The large objects it holds. */
size_t toc_large_objects(const struct toc *t);

/* `pg_restore --list` of a dump on disk (a directory or a custom file);
 * the listing goes through list_path (a file name in a private directory,
 * removed afterwards). */
int toc_read_dump(const char *pg_restore, const char *dump, const char *list_path,
		  volatile sig_atomic_t *cancel, struct toc *out, struct err *e);

/* The list of the bundle's dump: its TOC member is unpacked into tmpdir
 * (an existing private directory) and listed with pg_restore, then
 * removed. The bundle is not verified here: that is the verify step's. */
int toc_read_bundle(const char *bundle, const struct manifest *m, const char *pg_restore,
		    const char *tmpdir, volatile sig_atomic_t *cancel, struct toc *out, struct err *e);

#endif
