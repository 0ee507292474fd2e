/* dbprops — what a database is besides its objects: its settings (ALTER
 * DATABASE ... SET, and per role in it), who may connect (its ACL), its
 * comment and connection limit. A backup records them in the manifest; a
 * restore gives them to the shadow before the swap, so the database that
 * takes the live one's place behaves as the one that was backed up (or,
 * asked to keep the target's, as the one it replaces). */
#ifndef FERRY_DBPROPS_H
#define FERRY_DBPROPS_H

#include "db.h"
#include "err.h"
#include "event.h"
#include "manifest.h"

/* Read database name's properties through db (any database of the server). */
int dbprops_read(db_conn *db, const char *name, struct manifest_db_properties *out, struct err *e);

/* Give database target the properties p (through admin, on target's
 * server): settings replaced, the ACL made p's (REVOKE ALL then the grants;
 * grants to roles that do not exist here are logged and left out),
 * comment and connection limit set. Nothing when p was not recorded. */
int dbprops_apply(db_conn *admin, const char *target, const struct manifest_db_properties *p,
		  const struct event_sink *ev, struct err *e);

#endif
