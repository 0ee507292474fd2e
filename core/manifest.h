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
};

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
	} db;
	struct {
		char *format;    /* "directory" or "custom" */
		char *path;      /* member path: "db/dump" (dir) or "db/dump.custom" */
		int jobs;
		bool schema_only, data_only;
		struct strv schemas, tables, exclude_tables;
		char *globals;   /* "db/globals.sql" or NULL */
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

#endif
