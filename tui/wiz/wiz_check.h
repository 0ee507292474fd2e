/* wiz_check — checks of answers that several wizards share: each fills
 * why (n bytes) and returns -1 when the value will not do, else 0. */
#ifndef FERRY_WIZ_CHECK_H
#define FERRY_WIZ_CHECK_H

#include <stddef.h>

#include "wiz/wiz.h"

/* An absolute path whose nearest existing part is a writable directory. */
int wiz_check_abs_dir(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n);
/* Something must be typed. */
int wiz_check_nonempty(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n);
/* A name for a new profile (wiz = the struct wiz): letters, digits, - _ .,
 * at most 64, not taken; the signature of a dialog's check. */
int wiz_check_profile_name(const char *text, const void *wiz, char *why, size_t n);

#endif
