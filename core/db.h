/* db — the only module that talks libpq.
 *
 * A db_conn is one PostgreSQL connection; db_result one query result.
 * Both are opaque, created by db_connect / db_query and freed by
 * db_close / db_result_free (NULL-safe). Strings returned by db_result_value
 * belong to the result. Connection strings are libpq URIs or key=value
 * strings; passwords come from the string itself, PGPASSWORD or ~/.pgpass. */
#ifndef FERRY_DB_H
#define FERRY_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "util.h"

typedef struct db_conn db_conn;
typedef struct db_result db_result;

/* Connect; on failure ERR_DB naming host, port and database, with a hint
 * that tells "unreachable" from "authentication failed". */
db_conn *db_connect(const char *conninfo, struct err *e);
void db_close(db_conn *c);

/* Run SQL (no result rows wanted). ERR_DB with the server's message. */
int db_exec(db_conn *c, const char *sql, struct err *e);
/* Run a query with text parameters bound as $1..$n (never spliced). */
db_result *db_query(db_conn *c, const char *sql, int nparams,
		    const char *const *params, struct err *e);
void db_result_free(db_result *r);
int db_result_rows(const db_result *r);
int db_result_cols(const db_result *r);
const char *db_result_name(const db_result *r, int col);
const char *db_result_value(const db_result *r, int row, int col); /* NULL = SQL NULL */
/* Rows affected by INSERT/UPDATE/DELETE, as reported by the server. */
long long db_result_affected(const db_result *r);

/* The single value of a one-row one-column query, as a new string
 * (NULL with e filled on error; an SQL NULL gives ""). */
char *db_query_value(db_conn *c, const char *sql, struct err *e);

/* COPY streams. db_copy_out starts `COPY ... TO STDOUT`; db_copy_read
 * then hands over one chunk at a time (a row, as libpq gives it): its
 * length and *buf (free with db_copy_free), 0 at the end, -1 on error.
 * db_copy_in starts `COPY ... FROM STDIN`; db_copy_write sends bytes;
 * db_copy_end finishes it (error != NULL aborts it with that message). */
int db_copy_out(db_conn *c, const char *sql, struct err *e);
long db_copy_read(db_conn *c, char **buf, struct err *e);
void db_copy_free(char *buf);
int db_copy_in(db_conn *c, const char *sql, struct err *e);
int db_copy_write(db_conn *c, const char *buf, size_t len, struct err *e);
int db_copy_end(db_conn *c, const char *error, struct err *e);

/* Server facts. */
int db_server_version_num(const db_conn *c);         /* e.g. 150020 */
const char *db_name(const db_conn *c);
const char *db_host_desc(const db_conn *c);           /* "host:port" or socket */

struct db_info {
	char *name, *owner, *encoding, *collate, *ctype;
	char *server_version;     /* "15.20" */
	int64_t size_bytes;       /* pg_database_size */
};
int db_get_info(db_conn *c, struct db_info *info, struct err *e);
void db_info_done(struct db_info *info);

/* Open a REPEATABLE READ, READ ONLY transaction and export its snapshot;
 * the id is valid while the transaction is open. Caller frees the id. */
char *db_begin_snapshot(db_conn *c, struct err *e);
int db_commit(db_conn *c, struct err *e);
int db_rollback(db_conn *c);

/* Row count of one table, a schema-qualified name. */
struct db_table_count {
	char *schema;
	char *table;
	int64_t rows;
	unsigned oid;             /* pg_class oid (0 when not known) */
	bool matview;             /* a materialized view */
};
struct db_table_counts {
	struct db_table_count *v;
	size_t n;
};
/* Exact row counts of every ordinary table and partition, and every
 * populated materialized view, outside the system schemas, ordered by
 * schema and name. When schemas/tables are non-empty only those are
 * counted (plain names; patterns are pg_dump's business: a backup counts
 * what its dump holds with db_count_oids). */
int db_count_rows(db_conn *c, const struct strv *schemas, const struct strv *tables,
		  const struct strv *exclude_tables, struct db_table_counts *out,
		  struct err *e);
void db_table_counts_done(struct db_table_counts *tc);
/* Counts of the relations with these oids (those that exist), ordered by
 * schema and name: what a dump's TABLE DATA entries name. */
int db_count_oids(db_conn *c, const unsigned *oids, size_t n, struct db_table_counts *out,
		  struct err *e);
/* Append one count (copies the names). */
void db_table_counts_add(struct db_table_counts *tc, const char *schema, const char *table,
			 int64_t rows);

/* Connection parameters split for a child process: the connection string
 * without its password, and the password (NULL when none) to hand over in
 * the child's PGPASSWORD. Returns -1 on a malformed string. Caller frees. */
int db_conninfo_split(const char *conninfo, char **without_password,
		      char **password, struct err *e);

/* A copy of conninfo pointing at another database name. Caller frees. */
char *db_conninfo_with_dbname(const char *conninfo, const char *dbname, struct err *e);

/* conninfo with server options added to its own ("-c name=value ..."),
 * as a key=value string. */
char *db_conninfo_with_options(const char *conninfo, const char *options, struct err *e);
/* The database name a conninfo names (default: $PGDATABASE, the user name,
 * $PGUSER, "postgres"). Caller frees. */
char *db_conninfo_dbname(const char *conninfo, struct err *e);

/* What a connection string itself says, as libpq reads it (no defaults,
 * no environment); NULL = not given or empty. */
struct db_conninfo_parts {
	char *host, *port, *dbname, *user, *password;
};
/* Read conninfo (a libpq URI or key=value string) into out; -1 with e
 * filled (ERR_PROFILE with libpq's reason) when libpq cannot read it, out
 * then all NULL. The strings are out's: db_conninfo_parts_done frees them. */
int db_conninfo_parts(const char *conninfo, struct db_conninfo_parts *out, struct err *e);
void db_conninfo_parts_done(struct db_conninfo_parts *parts);

/* conninfo for messages and screens: every password (URI user info and
 * ?password=, key=value password=) written as "***", the rest unchanged. In
 * a URI everything after the user name up to the last '@' of the authority
 * is masked, so a password with an unencoded '@' does not show in part.
 * NULL for NULL; caller frees. */
char *db_conninfo_redact(const char *conninfo);

/* Quote an identifier / literal for SQL text. Caller frees. */
char *db_quote_ident(const char *s);
char *db_quote_literal(const char *s);

#endif
