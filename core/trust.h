/* trust — what a bundle may hold. A bundle is untrusted input: it may come
 * from another machine, an offsite copy or a hostile hand, with every hash
 * recomputed. verify and every restore run the same checks in the same
 * pass, before a byte of a member is written:
 *
 *   the manifest   dump.path and dump.globals are clean paths under db/;
 *                  files.paths are clean relative paths, none inside
 *                  another; every member it lists is under db/ or under
 *                  files/<one of files.paths>, once;
 *   each member    manifest.json, its signature and SHA256SUMS are regular files; under
 *                  db/ only regular files and directories; under files/
 *                  only within a listed path (or a directory above one), a
 *                  symlink only to a relative target inside the app root,
 *                  nothing below a symlink member; a regular member's size
 *                  in the tar header equals the manifest's.
 *
 * (bundle/ adds what any tar may get wrong: absolute names, "..", hard
 * links, devices; and never writes setuid/setgid/sticky bits.)
 * Refusals are ERR_VERIFY naming the bundle and the member or key. */
#ifndef FERRY_TRUST_H
#define FERRY_TRUST_H

#include "bundle/bundle.h"
#include "err.h"
#include "manifest.h"
#include "strset.h"

/* The manifest's paths and member list, as above. */
int trust_check_manifest(const struct manifest *m, const char *bundle, struct err *e);

/* One member's header against the manifest. symlinks collects the symlink
 * members seen so far (the caller's, zero-initialised, strset_done after). */
int trust_check_member(const struct manifest *m, const char *bundle, const struct bundle_entry *ent,
		       struct strset *symlinks, struct err *e);

#endif
