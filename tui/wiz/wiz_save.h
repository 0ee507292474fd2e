/* wiz_save — "Save as profile" on the summary: a copy of the chosen
 * profile's JSON object (for a migrate, the new server's) with the
 * wizard's answers applied, added to the profiles file under a new name.
 * The file is replaced atomically, then loaded again; a file that no
 * longer loads is put back. */
#ifndef FERRY_WIZ_SAVE_H
#define FERRY_WIZ_SAVE_H

#include <stddef.h>

#include "wiz/wiz.h"

/* Save the copy as name; msg (n bytes) says what happened: "saved ..." or
 * "not saved: why". 0 or -1. */
int wiz_save_profile(struct wiz *w, const char *name, char *msg, size_t n);
/* The profile Save copies: the flow's save_base, else the chosen one. */
const char *wiz_save_base(const struct wiz *w);

#endif
