/* manifest — the bundle's manifest.json: what is in the bundle and how to
 * check it (versions, schema revision, per-table row counts, every member
 * with its size and SHA-256).
 *
 * A struct manifest owns all its strings and arrays; manifest_done frees
 * them. manifest_parse fills a zeroed struct. */
#ifndef FERRY_MANIFEST_H
#define FERRY_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "strset.h"
#include "util.h"

#define MANIFEST_FORMAT "ferry-bundle"
#define MANIFEST_FORMAT_VERSION 1
#define MANIFEST_NAME "manifest.json"
#define SHA256SUMS_NAME "SHA256SUMS"

struct manifest_member {
	char *name;
	uint64_t size;
	char sha256[65];
};

struct manifest_table {
	char *schema;
	char *table;
	int64_t rows;
	bool matview;            /* a materialized view's rows (refreshed by a restore) */
	unsigned oid;            /* in the database backed up: its TABLE DATA entry's id; 0 = unknown */
};

/* A setting of the database (ALTER DATABASE ... SET), for every role when
 * role is NULL, else for that role in it (ALTER ROLE ... IN DATABASE). */
struct manifest_setting {
	char *role;
	char *setting;           /* "search_path=app, public" */
};

/* What a database is besides its objects, as pg_dump --create knows it. */
struct manifest_db_properties {
	bool recorded;           /* false in bundles of older ferries */
	char *comment;           /* NULL = none */
	int connection_limit;    /* -1 = none */
	char *acl;               /* datacl as text ("{=Tc/owner,...}"); NULL = the default */
	struct manifest_setting *settings;
	size_t nsettings;
};

/* What the bundle's dump holds. */
#define MANIFEST_SCOPE_FULL "full"               /* every schema and table, schema and rows */
#define MANIFEST_SCOPE_SCHEMA_ONLY "schema-only" /* the definitions, no rows */
#define MANIFEST_SCOPE_DATA_ONLY "data-only"     /* rows of every table, no definitions */
#define MANIFEST_SCOPE_PARTIAL "partial"         /* some schemas or tables (--schema, --table, --exclude-table) */

struct manifest {
	int format_version;
	char *ferry_version;
	char *created_at;        /* UTC, ISO-8601 */
	char *host;
	char *profile;
	char *type;              /* manual, daily, weekly, monthly, pre-restore, ... */
	char *schema_revision;   /* "unknown" when none was found */
	char *revision_source;   /* table it came from (also when it was empty), or NULL */
	struct strv revisions;   /* django: "app.migration", the latest of each app */
	char *revision_command;  /* migrations.status_command when it ran, else NULL */
	char *revision_command_output;   /* its first line, cleaned; NULL = none */
	char *revision_command_error;    /* why it gave none; NULL = it ran */
	char *snapshot;

	bool has_db;
	struct {
		char *name, *owner, *encoding, *collate, *ctype;
		char *server_version, *pg_dump_version;
		int64_t size_bytes;
		struct manifest_db_properties props;
	} db;
	char *scope;             /* MANIFEST_SCOPE_*; older bundles: see manifest_scope() */
	int64_t large_objects;   /* large objects the dump holds */
	struct {
		char *format;    /* "directory" or "custom" */
		char *path;      /* member path: "db/dump" (dir) or "db/dump.custom" */
		int jobs;
		bool schema_only, data_only;
		struct strv schemas, tables, exclude_tables;
		char *globals;   /* "db/globals.sql" or NULL */
		/* The settings of pg_dump's session that shape the text of its
		 * COPY data besides those pg_dump sets itself ("TimeZone=UTC",
		 * "bytea_output=hex", "lc_monetary=C"): a drill reads the restored
		 * tables under the same ones. Empty in bundles of older ferries. */
		struct strv session;
	} dump;

	bool has_files;
	struct {
		char *root;
		struct strv paths, exclude;
	} files;

	struct manifest_table *tables;
	size_t ntables;
	struct manifest_member *members;   /* every member but manifest.json and SHA256SUMS */
	size_t nmembers;
	struct strset member_index;        /* name → index into members (the first of a name) */
	double duration_s;                 /* dump + hashing, before compression */
};

/* Pretty JSON text; caller frees. */
char *manifest_to_json(const struct manifest *m);
/* Parse manifest.json; ERR_VERIFY with the reason when it is not one. */
int manifest_parse(const char *json, struct manifest *m, struct err *e);
void manifest_done(struct manifest *m);

void manifest_add_member(struct manifest *m, const char *name, uint64_t size, const char *sha256);
void manifest_add_table(struct manifest *m, const char *schema, const char *table, int64_t rows);
const struct manifest_member *manifest_find_member(const struct manifest *m, const char *name);
int64_t manifest_total_rows(const struct manifest *m);
uint64_t manifest_total_bytes(const struct manifest *m);
/* The scope, derived from the dump options for bundles that do not record it. */
const char *manifest_scope(const struct manifest *m);
/* Whether the bundle holds every table's rows and every definition. */
bool manifest_is_full(const struct manifest *m);
void manifest_props_add_setting(struct manifest_db_properties *p, const char *role,
				const char *setting);
void manifest_props_done(struct manifest_db_properties *p);

#endif
