/* dbname — the names ferry gives the databases it makes next to one
 * (the shadow of a restore, the previous database kept after a swap, the
 * rolled-back one, a reset's scratch database).
 *
 * PostgreSQL cuts identifiers to 63 bytes (NAMEDATALEN - 1): "<db>_ferry_shadow"
 * for a 63-byte <db> would become <db> itself. So a derived name that
 * would be longer has its base cut (at a UTF-8 character boundary) and an
 * 8-digit hash of the whole base added: it fits, it never equals the base,
 * and two long bases that share a beginning get different names.
 *
 *   dbname_derive("shop", "prev", "20261121_195000")  → "shop_prev_20261121_195000"
 *   a 63-byte base                                     → "<first 30 bytes>_1a2b3c4d_prev_20261121_195000"
 *
 * Three bytes stay free when a base is cut, for dbname_unique's counter, so
 * "…_prev_<stamp>" and "…_prev_<stamp>_2" share one prefix.
 *
 * All strings returned are the caller's to free. */
#ifndef FERRY_DBNAME_H
#define FERRY_DBNAME_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define DBNAME_MAX 63

/* "<base>_<kind>[_<suffix>]", fitted into DBNAME_MAX bytes (see above). */
char *dbname_derive(const char *base, const char *kind, const char *suffix);

/* The part of every name dbname_derive(base, kind, S) gives before S, for a
 * suffix S of suffix_len bytes: to find the names of one kind. */
char *dbname_prefix(const char *base, const char *kind, size_t suffix_len);

/* Whether a name exists; -1 (e filled) when it cannot be told. */
typedef int (*dbname_exists_fn)(void *ud, const char *name, struct err *e);

/* dbname_derive, then distinct from every existing database: "<suffix>_2",
 * "_3", ... are tried while the name is taken. NULL with e filled when
 * exists() fails or no free name is found. */
char *dbname_unique(const char *base, const char *kind, const char *suffix, dbname_exists_fn exists,
		    void *ud, struct err *e);

#endif
